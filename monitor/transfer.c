/*
 * monitor/transfer.c: far JMP, CALL and RET (SDM vol. 2, JMP/CALL/RET,
 * "protected mode"; vol. 3, 5.8): to code segments at the same level,
 * through call gates (CALL to an inner level switches to the TSS stack and
 * copies parameters), and to TSSs and task gates (task switches).
 */
#include "monitor/internal.h"

/* The far pointer operand: ptr16:32 immediate or m16:32 in memory. */
static int far_pointer(struct vcpu *v, const struct translator_insn *in, uint32_t *sel,
		       uint32_t *off)
{
	const ZydisDecodedOperand *op = &in->ops[0];
	if (op->type == ZYDIS_OPERAND_TYPE_POINTER) {
		*sel = op->ptr.segment;
		*off = op->ptr.offset;
		return 0;
	}
	int size = in->zi.operand_width / 8;
	uint32_t lin = op_linear(v, op);
	*off = 0;
	*sel = 0;
	if (monitor_read_lin(v, lin, off, (size_t)size) < 0 ||
	    monitor_read_lin(v, lin + (uint32_t)size, sel, 2) < 0)
		return -1;
	return 0;
}

static int raise(struct vcpu *v, int vec, uint32_t err)
{
	monitor_raise(v, vec, (int)err);
	return EXIT_FAULT;
}

/* Starts a task switch for JMP/CALL to a TSS or task gate; returns the
 * callout result. */
static int to_task(struct vcpu *v, uint16_t tss, enum task_source src, uint32_t next)
{
	int err;
	int r = monitor_task_switch(v, tss, src, next, -1, 0, &err);
	if (r == -2)
		return EXIT_STOP;
	if (r >= 0)
		return raise(v, r, (uint32_t)err);
	return EXIT_CALLOUT;
}

/* Checks the code segment a call gate points at; -1 or a fault vector. */
static int gate_target(struct vcpu *v, uint16_t cs, uint64_t *d, int *err)
{
	*err = cs & 0xfffc;
	if ((cs & 0xfffc) == 0) {
		*err = 0;
		return VEC_GP;
	}
	int r = desc_read(v, cs, d);
	if (r == -2)
		return -2;
	struct desc x = desc_decode(*d);
	if (r < 0 || !DESC_CODE(x) || x.dpl > v->cpl)
		return VEC_GP;
	if (!x.p)
		return VEC_NP;
	if (!x.db) {
		monitor_stop(v, 2, "call gate to 16-bit code is not virtualized yet");
		return -2;
	}
	return -1;
}

/* Common part of JMP and CALL: reads the descriptor and sorts it out. */
struct far_target {
	uint16_t sel;
	uint32_t off;
	uint64_t d;
	struct desc x;
};

static int far_lookup(struct vcpu *v, const struct translator_callout *co, struct far_target *t)
{
	uint32_t sel, off;
	if (far_pointer(v, &co->in, &sel, &off) < 0)
		return EXIT_STOP;
	t->sel = (uint16_t)sel;
	t->off = co->in.zi.operand_width == 16 ? off & 0xffff : off;
	if ((sel & 0xfffc) == 0)
		return raise(v, VEC_GP, 0);
	int r = desc_read(v, t->sel, &t->d);
	if (r == -2)
		return EXIT_STOP;
	if (r < 0)
		return raise(v, VEC_GP, sel & 0xfffc);
	t->x = desc_decode(t->d);
	return 0;
}

int monitor_farjmp(struct vcpu *v, const struct translator_callout *co)
{
	struct far_target t;
	v->eip = co->eip;
	int r = far_lookup(v, co, &t);
	if (r)
		return r;
	unsigned rpl = t.sel & 3;
	if (t.x.s) {
		if (monitor_load_cs(v, t.sel, t.off) < 0)
			return v->stopping ? EXIT_STOP : EXIT_FAULT;
		return EXIT_CALLOUT;
	}
	switch (t.x.type) {
	case SYS_CALL32: {
		if (t.x.dpl < v->cpl || t.x.dpl < rpl)
			return raise(v, VEC_GP, t.sel & 0xfffc);
		if (!t.x.p)
			return raise(v, VEC_NP, t.sel & 0xfffc);
		uint64_t cd;
		int err;
		r = gate_target(v, t.x.gsel, &cd, &err);
		if (r == -2)
			return EXIT_STOP;
		struct desc c = desc_decode(cd);
		/* JMP never changes CPL: a non-conforming target must be at CPL. */
		if (r == -1 && !DESC_CONFORMING(c) && c.dpl != v->cpl) {
			r = VEC_GP;
			err = t.x.gsel & 0xfffc;
		}
		if (r >= 0)
			return raise(v, r, (uint32_t)err);
		if (t.x.goff > c.limit)
			return raise(v, VEC_GP, 0);
		desc_set_accessed(v, t.x.gsel, cd);
		monitor_seg_cache(v, S_CS, (uint16_t)((t.x.gsel & ~3) | v->cpl), cd);
		v->eip = t.x.goff;
		return EXIT_CALLOUT;
	}
	case SYS_TASK:
	case SYS_TSS32_AVAIL: case SYS_TSS32_BUSY: case SYS_TSS16_AVAIL: case SYS_TSS16_BUSY:
		if (t.x.dpl < v->cpl || t.x.dpl < rpl)
			return raise(v, VEC_GP, t.sel & 0xfffc);
		if (!t.x.p)
			return raise(v, VEC_NP, t.sel & 0xfffc);
		return to_task(v, t.x.type == SYS_TASK ? t.x.gsel : t.sel, TASK_JMP, co->next_eip);
	case SYS_CALL16:
		monitor_stop(v, 2, "16-bit call gates are not virtualized yet");
		return EXIT_STOP;
	default:
		return raise(v, VEC_GP, t.sel & 0xfffc);
	}
}

static bool push_at(struct vcpu *v, const struct vcpu_segment *ss, uint32_t *esp, uint32_t val,
		    int size)
{
	*esp -= (uint32_t)size;
	return monitor_write_lin(v, ss->base + *esp, &val, (size_t)size) == 0;
}

int monitor_farcall(struct vcpu *v, const struct translator_callout *co)
{
	struct far_target t;
	v->eip = co->eip;
	int r = far_lookup(v, co, &t);
	if (r)
		return r;
	int size = co->in.zi.operand_width / 8;
	unsigned rpl = t.sel & 3;
	uint32_t esp = v->regs[R_ESP];
	uint16_t old_cs = v->seg[S_CS].sel;
	if (t.x.s) {
		/* Same level: check the target, then the stack, then commit. */
		if (!seg_in_limit(&v->seg[S_SS], esp - 2u * (uint32_t)size, 2u * (uint32_t)size))
			return raise(v, VEC_SS, 0);
		struct vcpu_segment save = v->seg[S_CS];
		uint32_t save_eip = v->eip;
		if (monitor_load_cs(v, t.sel, t.off) < 0)
			return v->stopping ? EXIT_STOP : EXIT_FAULT;
		if (!push_at(v, &v->seg[S_SS], &esp, old_cs, size) ||
		    !push_at(v, &v->seg[S_SS], &esp, co->next_eip, size)) {
			v->seg[S_CS] = save;
			v->eip = save_eip;
			return EXIT_STOP;
		}
		v->regs[R_ESP] = esp;
		return EXIT_CALLOUT;
	}
	switch (t.x.type) {
	case SYS_CALL32: {
		if (t.x.dpl < v->cpl || t.x.dpl < rpl)
			return raise(v, VEC_GP, t.sel & 0xfffc);
		if (!t.x.p)
			return raise(v, VEC_NP, t.sel & 0xfffc);
		uint64_t cd;
		int err;
		r = gate_target(v, t.x.gsel, &cd, &err);
		if (r == -2)
			return EXIT_STOP;
		if (r >= 0)
			return raise(v, r, (uint32_t)err);
		struct desc c = desc_decode(cd);
		if (t.x.goff > c.limit)
			return raise(v, VEC_GP, 0);
		unsigned ncpl = DESC_CONFORMING(c) ? v->cpl : c.dpl;
		if (ncpl < v->cpl) {
			/* Inner level: new stack from the TSS, then old SS:ESP, the
			 * gate's parameter count of dwords, CS:EIP (5.8.5). */
			uint16_t nss;
			uint32_t nesp;
			uint64_t ssd;
			r = monitor_tss_stack(v, ncpl, 0, &nss, &nesp, &ssd, &err);
			if (r == -2)
				return EXIT_STOP;
			if (r >= 0)
				return raise(v, r, (uint32_t)err);
			struct desc sx = desc_decode(ssd);
			struct vcpu_segment ss = { .sel = nss, .base = sx.base, .limit = sx.limit,
						   .attr = (uint16_t)((ssd >> 40) & 0xf0ff) };
			uint32_t nparams = t.x.gparams, frame = 4u * (4 + nparams);
			if (!seg_in_limit(&ss, nesp - frame, frame))
				return raise(v, VEC_SS, nss & 0xfffc);
			uint32_t params[32];
			for (uint32_t i = 0; i < nparams; i++)
				if (monitor_read_lin(v, v->seg[S_SS].base + esp + 4 * i, &params[i], 4) < 0)
					return EXIT_STOP;
			uint32_t sp = nesp;
			if (!push_at(v, &ss, &sp, v->seg[S_SS].sel, 4) ||
			    !push_at(v, &ss, &sp, esp, 4))
				return EXIT_STOP;
			for (uint32_t i = nparams; i-- > 0;)
				if (!push_at(v, &ss, &sp, params[i], 4))
					return EXIT_STOP;
			if (!push_at(v, &ss, &sp, old_cs, 4) || !push_at(v, &ss, &sp, co->next_eip, 4))
				return EXIT_STOP;
			desc_set_accessed(v, nss, ssd);
			v->seg[S_SS] = ss;
			v->seg_base[S_SS] = ss.base;
			v->regs[R_ESP] = sp;
			v->cpl = ncpl;
		} else {
			if (!seg_in_limit(&v->seg[S_SS], esp - 8, 8))
				return raise(v, VEC_SS, 0);
			if (!push_at(v, &v->seg[S_SS], &esp, old_cs, 4) ||
			    !push_at(v, &v->seg[S_SS], &esp, co->next_eip, 4))
				return EXIT_STOP;
			v->regs[R_ESP] = esp;
		}
		desc_set_accessed(v, t.x.gsel, cd);
		monitor_seg_cache(v, S_CS, (uint16_t)((t.x.gsel & ~3) | ncpl), cd);
		v->eip = t.x.goff;
		return EXIT_CALLOUT;
	}
	case SYS_TASK:
	case SYS_TSS32_AVAIL: case SYS_TSS32_BUSY: case SYS_TSS16_AVAIL: case SYS_TSS16_BUSY:
		if (t.x.dpl < v->cpl || t.x.dpl < rpl)
			return raise(v, VEC_GP, t.sel & 0xfffc);
		if (!t.x.p)
			return raise(v, VEC_NP, t.sel & 0xfffc);
		return to_task(v, t.x.type == SYS_TASK ? t.x.gsel : t.sel, TASK_CALL, co->next_eip);
	case SYS_CALL16:
		monitor_stop(v, 2, "16-bit call gates are not virtualized yet");
		return EXIT_STOP;
	default:
		return raise(v, VEC_GP, t.sel & 0xfffc);
	}
}

int monitor_farret(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	int size = in->zi.operand_width / 8;
	uint32_t imm = in->zi.operand_count_visible ? (uint32_t)in->ops[0].imm.value.u & 0xffff : 0;
	uint32_t esp = v->regs[R_ESP], eip = 0, cs = 0;
	v->eip = co->eip;
	if (monitor_read_lin(v, v->seg[S_SS].base + esp, &eip, (size_t)size) < 0 ||
	    monitor_read_lin(v, v->seg[S_SS].base + esp + (uint32_t)size, &cs, 2) < 0)
		return EXIT_STOP;
	esp += 2u * (uint32_t)size;
	unsigned rpl = cs & 3;
	if ((cs & 0xfffc) == 0)
		return raise(v, VEC_GP, 0);
	uint64_t d;
	int r = desc_read(v, (uint16_t)cs, &d);
	if (r == -2)
		return EXIT_STOP;
	struct desc x = desc_decode(d);
	if (r < 0 || !DESC_CODE(x) || rpl < v->cpl ||
	    (DESC_CONFORMING(x) ? x.dpl > rpl : x.dpl != rpl))
		return raise(v, VEC_GP, cs & 0xfffc);
	if (!x.p)
		return raise(v, VEC_NP, cs & 0xfffc);
	if (!x.db) {
		monitor_stop(v, 2, "far return to 16-bit code is not virtualized yet");
		return EXIT_STOP;
	}
	if (size == 2)
		eip &= 0xffff;
	if (eip > x.limit)
		return raise(v, VEC_GP, 0);
	if (rpl == v->cpl) {
		desc_set_accessed(v, (uint16_t)cs, d);
		monitor_seg_cache(v, S_CS, (uint16_t)cs, d);
		v->eip = eip;
		v->regs[R_ESP] = esp + imm;
		return EXIT_CALLOUT;
	}
	/* Return to an outer level: skip the parameters, pop SS:ESP. */
	uint32_t nesp = 0, ss = 0;
	esp += imm;
	if (monitor_read_lin(v, v->seg[S_SS].base + esp, &nesp, (size_t)size) < 0 ||
	    monitor_read_lin(v, v->seg[S_SS].base + esp + (uint32_t)size, &ss, 2) < 0)
		return EXIT_STOP;
	if ((ss & 0xfffc) == 0)
		return raise(v, VEC_GP, 0);
	uint64_t ssd;
	r = desc_read(v, (uint16_t)ss, &ssd);
	if (r == -2)
		return EXIT_STOP;
	struct desc sx = desc_decode(ssd);
	if (r < 0 || (ss & 3) != rpl || sx.dpl != rpl || !DESC_WRITABLE(sx))
		return raise(v, VEC_GP, ss & 0xfffc);
	if (!sx.p)
		return raise(v, VEC_SS, ss & 0xfffc);
	desc_set_accessed(v, (uint16_t)cs, d);
	monitor_seg_cache(v, S_CS, (uint16_t)cs, d);
	desc_set_accessed(v, (uint16_t)ss, ssd);
	monitor_seg_cache(v, S_SS, (uint16_t)ss, ssd);
	v->eip = eip;
	v->regs[R_ESP] = nesp + imm;
	v->cpl = rpl;
	monitor_null_inaccessible(v);
	return EXIT_CALLOUT;
}

/*
 * SYSENTER and SYSEXIT (SDM vol. 2): fast transfers to and from CPL 0 with
 * flat segments derived from IA32_SYSENTER_CS, not read from the GDT.
 * SEP is not advertised yet (ring 3 runs in stubs from the next issue on),
 * but the instructions behave as on any P6 that has them.
 */
static void flat_seg(struct vcpu *v, int s, uint16_t sel, bool code, unsigned dpl)
{
	v->seg[s] = (struct vcpu_segment){
		.sel = sel, .base = 0, .limit = 0xffffffffu,
		.attr = (uint16_t)(0xc000 | 0x80 | (dpl << 5) | 0x10 | (code ? 0xb : 0x3)),
	};
	v->seg_base[s] = 0;
}

int monitor_sysenter(struct vcpu *v, const struct translator_callout *co)
{
	uint16_t cs = (uint16_t)v->sysenter_cs;
	v->eip = co->eip;
	if ((cs & 0xfffc) == 0) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	if (co->in.zi.mnemonic == ZYDIS_MNEMONIC_SYSENTER) {
		v->vflags &= ~(EFL_VM | EFL_RF);
		v->vif = 0;
		flat_seg(v, S_CS, cs & 0xfffc, true, 0);
		flat_seg(v, S_SS, (cs & 0xfffc) + 8, false, 0);
		v->cpl = 0;
		v->regs[R_ESP] = v->sysenter_esp;
		v->eip = v->sysenter_eip;
		return EXIT_CALLOUT;
	}
	if (v->cpl != 0) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	flat_seg(v, S_CS, (uint16_t)((cs + 16) | 3), true, 3);
	flat_seg(v, S_SS, (uint16_t)((cs + 24) | 3), false, 3);
	v->cpl = 3;
	v->regs[R_ESP] = v->regs[R_ECX];
	v->eip = v->regs[R_EDX];
	return EXIT_CALLOUT;
}
