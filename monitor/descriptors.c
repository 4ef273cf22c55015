/* monitor/descriptors.c: GDT/IDT/LDT registers, segment loads and reads, LAR/LSL/VERR/VERW/ARPL. */
#include "monitor/internal.h"

int desc_read(struct vcpu *v, uint16_t sel, uint64_t *d)
{
	const struct vcpu_dtr *t;
	struct vcpu_dtr ldt;
	if (sel & 4) {
		ldt = (struct vcpu_dtr){ v->ldtr.base, (uint16_t)v->ldtr.limit };
		if ((v->ldtr.sel & 0xfffc) == 0)
			return -1;
		t = &ldt;
	} else {
		t = &v->gdtr;
	}
	uint32_t off = sel & 0xfff8u;
	if (off + 7 > t->limit)
		return -1;
	return monitor_read_lin(v, t->base + off, d, 8) < 0 ? -2 : 0;
}

/*
 * MOV/POP/Lxx to a data or stack segment register at CPL 0 (SDM vol. 2,
 * MOV "protected mode"; vol. 3, 5.5-5.7).  XXX: the descriptor's accessed
 * bit is not set in guest memory; limits are recorded but not enforced by
 * translated code.
 */
int seg_load(struct vcpu *v, int s, uint16_t sel)
{
	uint64_t d;
	unsigned rpl = sel & 3;
	if ((sel & 0xfffc) == 0) {
		if (s == S_SS) {
			monitor_raise(v, VEC_GP, 0);
			return -1;
		}
		v->seg[s] = (struct vcpu_segment){ .sel = sel };
		v->seg_base[s] = 0;
		return 0;
	}
	int r = desc_read(v, sel, &d);
	if (r == -2)
		return -1;
	if (r < 0) {
		monitor_raise(v, VEC_GP, sel & 0xfffc);
		return -1;
	}
	uint32_t hi = (uint32_t)(d >> 32);
	unsigned type = (hi >> 8) & 0xf, dpl = (hi >> 13) & 3;
	bool sbit = hi & 0x1000, code = type & 8, writable = !code && (type & 2),
	     readable = !code || (type & 2), conforming = code && (type & 4);
	if (s == S_SS) {
		if (rpl != v->cpl || !sbit || !writable || dpl != v->cpl) {
			monitor_raise(v, VEC_GP, sel & 0xfffc);
			return -1;
		}
		if (!(hi & 0x8000)) {
			monitor_raise(v, VEC_SS, sel & 0xfffc);
			return -1;
		}
		if (!(hi & (1u << 22))) {
			monitor_stop(v, 2, "16-bit stack segment 0x%04x is not virtualized yet", sel);
			return -1;
		}
	} else {
		if (!sbit || !readable || (!conforming && (rpl > dpl || v->cpl > dpl))) {
			monitor_raise(v, VEC_GP, sel & 0xfffc);
			return -1;
		}
		if (!(hi & 0x8000)) {
			monitor_raise(v, VEC_NP, sel & 0xfffc);
			return -1;
		}
	}
	desc_set_accessed(v, sel, d);
	monitor_seg_cache(v, s, sel, d);
	return 0;
}

int monitor_dtr(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	const ZydisDecodedOperand *m = &in->ops[0];
	uint32_t lin = op_linear(v, m);
	struct vcpu_dtr *t = (in->zi.mnemonic == ZYDIS_MNEMONIC_LGDT ||
			      in->zi.mnemonic == ZYDIS_MNEMONIC_SGDT) ? &v->gdtr : &v->idtr;
	uint8_t b[6];
	if (in->zi.mnemonic == ZYDIS_MNEMONIC_LGDT || in->zi.mnemonic == ZYDIS_MNEMONIC_LIDT) {
		if (monitor_read_lin(v, lin, b, 6) < 0)
			return EXIT_STOP;
		t->limit = (uint16_t)(b[0] | b[1] << 8);
		t->base = (uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 |
			  (uint32_t)b[5] << 24;
		/* With a 16-bit operand size only 24 bits of base are loaded. */
		if (in->zi.operand_width == 16)
			t->base &= 0x00ffffffu;
		return 0;
	}
	b[0] = (uint8_t)t->limit;
	b[1] = (uint8_t)(t->limit >> 8);
	for (int i = 0; i < 4; i++)
		b[2 + i] = (uint8_t)(t->base >> (8 * i));
	return monitor_write_lin(v, lin, b, 6) < 0 ? EXIT_STOP : 0;
}

/* MOV SS and POP SS hold off interrupts and debug traps until after the
 * next instruction, so a stack switch with MOV SS; MOV ESP is atomic
 * (SDM vol. 3, 6.8.3).  LSS does not need it and does not get it. */
static void ss_shadow(struct vcpu *v)
{
	v->shadow = true;
	v->shadow_ss = true;
}

int monitor_segload(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	uint32_t sel, off = 0;
	int s;
	v->eip = co->eip;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
		s = translator_seg_index(in->ops[0].reg.value);
		if (s == S_CS) {
			monitor_raise(v, VEC_UD, -1);	/* MOV CS is #UD */
			return EXIT_FAULT;
		}
		if (op_read(v, &in->ops[1], 2, &sel) < 0)
			return monitor_op_fail(v);
		break;
	case ZYDIS_MNEMONIC_POP: {
		s = translator_seg_index(in->ops[0].reg.value);
		int size = in->zi.operand_width / 8;
		if (monitor_read_lin(v, v->seg[S_SS].base + v->regs[R_ESP], &sel, 2) < 0)
			return EXIT_STOP;
		sel &= 0xffff;
		if (seg_load(v, s, (uint16_t)sel) < 0)
			return EXIT_FAULT;
		v->regs[R_ESP] += (uint32_t)size;
		v->eip = co->next_eip;
		if (s == S_SS)
			ss_shadow(v);
		return EXIT_CALLOUT;
	}
	default: {	/* LDS LES LFS LGS LSS r, m16:32 */
		switch (in->zi.mnemonic) {
		case ZYDIS_MNEMONIC_LDS: s = S_DS; break;
		case ZYDIS_MNEMONIC_LES: s = S_ES; break;
		case ZYDIS_MNEMONIC_LFS: s = S_FS; break;
		case ZYDIS_MNEMONIC_LGS: s = S_GS; break;
		default: s = S_SS; break;
		}
		int size = in->zi.operand_width / 8;
		uint32_t lin = op_linear(v, &in->ops[1]);
		sel = 0;
		if (monitor_read_lin(v, lin, &off, (size_t)size) < 0 ||
		    monitor_read_lin(v, lin + (uint32_t)size, &sel, 2) < 0)
			return EXIT_STOP;
		if (seg_load(v, s, (uint16_t)sel) < 0)
			return EXIT_FAULT;
		op_reg_write(v, in->ops[0].reg.value, off);
		v->eip = co->next_eip;
		return EXIT_CALLOUT;
	}
	}
	if (seg_load(v, s, (uint16_t)sel) < 0)
		return EXIT_FAULT;
	v->eip = co->next_eip;
	if (s == S_SS)
		ss_shadow(v);
	return EXIT_CALLOUT;
}

int monitor_segread(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	if (in->zi.mnemonic == ZYDIS_MNEMONIC_PUSH) {
		/* A 32-bit push of a segment register writes the zero-extended
		 * selector (one of the two behaviours the SDM allows; QEMU's). */
		uint32_t sel = v->seg[translator_seg_index(in->ops[0].reg.value)].sel;
		int size = in->zi.operand_width / 8;
		uint32_t esp = v->regs[R_ESP] - (uint32_t)size;
		v->eip = co->eip;
		if (monitor_write_lin(v, v->seg[S_SS].base + esp, &sel, (size_t)size) < 0)
			return EXIT_STOP;
		v->regs[R_ESP] = esp;
		return 0;
	}
	/* MOV r/m16, Sreg: to a 32-bit register the selector is zero-extended
	 * (P6 and later), to memory it is a 16-bit store. */
	uint32_t sel = v->seg[translator_seg_index(in->ops[1].reg.value)].sel;
	const ZydisDecodedOperand *dst = &in->ops[0];
	int size = dst->type == ZYDIS_OPERAND_TYPE_MEMORY ? 2 : dst->size / 8;
	v->eip = co->eip;
	return op_write(v, dst, size, sel) < 0 ? monitor_op_fail(v) : 0;
}

static void set_zf(struct vcpu *v, bool zf)
{
	v->aflags = (v->aflags & ~EFL_ZF) | (zf ? EFL_ZF : 0);
}

/*
 * LAR, LSL, VERR, VERW (SDM vol. 2): look a selector up without loading it
 * and without faulting on it; ZF says whether it passed.  System types LAR
 * accepts: TSSs, LDT, call and task gates; LSL: TSSs and LDT only.  Every
 * type but conforming code needs DPL >= CPL and DPL >= RPL.
 */
static int access_check(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	ZydisMnemonic m = in->zi.mnemonic;
	bool verify = m == ZYDIS_MNEMONIC_VERR || m == ZYDIS_MNEMONIC_VERW;
	uint32_t sel;
	if (op_read(v, &in->ops[verify ? 0 : 1], 2, &sel) < 0)
		return monitor_op_fail(v);
	sel &= 0xffff;
	uint64_t d;
	bool ok = (sel & 0xfffc) != 0;
	int r = ok ? desc_read(v, (uint16_t)sel, &d) : -1;
	if (r == -2)
		return EXIT_STOP;
	ok = r == 0;
	struct desc x = desc_decode(ok ? d : 0);
	if (ok && !(DESC_CONFORMING(x) && (m == ZYDIS_MNEMONIC_LAR || m == ZYDIS_MNEMONIC_LSL ||
					   m == ZYDIS_MNEMONIC_VERR)))
		ok = x.dpl >= v->cpl && x.dpl >= (sel & 3);
	if (ok && !x.s) {
		static const bool lar_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1,
						 [9] = 1, [11] = 1, [12] = 1 };
		static const bool lsl_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [9] = 1, [11] = 1 };
		ok = m == ZYDIS_MNEMONIC_LAR ? lar_ok[x.type] : m == ZYDIS_MNEMONIC_LSL && lsl_ok[x.type];
	}
	if (ok && m == ZYDIS_MNEMONIC_VERR)
		ok = DESC_READABLE(x);
	if (ok && m == ZYDIS_MNEMONIC_VERW)
		ok = DESC_WRITABLE(x);
	if (ok && !verify) {
		const ZydisDecodedOperand *dst = &in->ops[0];
		uint32_t val = m == ZYDIS_MNEMONIC_LAR ? (uint32_t)(d >> 32) & 0x00f0ff00u : x.limit;
		if (dst->size == 16)
			val &= m == ZYDIS_MNEMONIC_LAR ? 0xff00u : 0xffffu;
		op_reg_write(v, dst->reg.value, val);
	}
	set_zf(v, ok);
	return 0;
}

int monitor_sysdesc(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	v->eip = co->eip;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_SLDT:
	case ZYDIS_MNEMONIC_STR: {
		const ZydisDecodedOperand *dst = &in->ops[0];
		uint16_t sel = in->zi.mnemonic == ZYDIS_MNEMONIC_SLDT ? v->ldtr.sel : v->tr.sel;
		int size = dst->type == ZYDIS_OPERAND_TYPE_MEMORY ? 2 : dst->size / 8;
		return op_write(v, dst, size, sel) < 0 ? monitor_op_fail(v) : 0;
	}
	case ZYDIS_MNEMONIC_LLDT:
	case ZYDIS_MNEMONIC_LTR: {
		uint32_t sel;
		uint64_t d;
		if (op_read(v, &in->ops[0], 2, &sel) < 0)
			return monitor_op_fail(v);
		bool ldt = in->zi.mnemonic == ZYDIS_MNEMONIC_LLDT;
		if (ldt && (sel & 0xfffc) == 0) {
			v->ldtr = (struct vcpu_segment){ .sel = (uint16_t)sel };
			return 0;
		}
		int r = (sel & 4) ? -1 : desc_read(v, (uint16_t)sel, &d);
		if (r == -2)
			return EXIT_STOP;
		uint32_t hi = (uint32_t)(d >> 32);
		unsigned type = (hi >> 8) & 0x1f;
		if (r < 0 || (ldt ? type != 0x02 : (type != 0x09 && type != 0x01))) {
			monitor_raise(v, VEC_GP, (int)(sel & 0xfffc));
			return EXIT_FAULT;
		}
		if (!(hi & 0x8000)) {
			monitor_raise(v, VEC_NP, (int)(sel & 0xfffc));
			return EXIT_FAULT;
		}
		struct vcpu_segment save = v->seg[S_DS];
		uint32_t save_base = v->seg_base[S_DS];
		monitor_seg_cache(v, S_DS, (uint16_t)sel, d);	/* decode through a scratch slot */
		struct vcpu_segment got = v->seg[S_DS];
		v->seg[S_DS] = save;
		v->seg_base[S_DS] = save_base;
		if (ldt) {
			v->ldtr = got;
		} else {
			/* LTR marks the TSS busy in the GDT (SDM vol. 2, LTR). */
			uint32_t nhi = hi | 0x200;
			if (monitor_write_lin(v, v->gdtr.base + (sel & 0xfff8) + 4, &nhi, 4) < 0)
				return EXIT_STOP;
			got.attr |= 0x2;
			v->tr = got;
		}
		return 0;
	}
	case ZYDIS_MNEMONIC_ARPL: {
		/* ARPL r/m16, r16: raise the RPL of the destination to the
		 * source's (SDM vol. 2, ARPL); only ZF changes. */
		uint32_t dst, src;
		if (op_read(v, &in->ops[0], 2, &dst) < 0 || op_read(v, &in->ops[1], 2, &src) < 0)
			return monitor_op_fail(v);
		bool adjust = (dst & 3) < (src & 3);
		if (adjust && op_write(v, &in->ops[0], 2, (dst & ~3u) | (src & 3)) < 0)
			return monitor_op_fail(v);
		set_zf(v, adjust);
		return 0;
	}
	default:
		return access_check(v, co);
	}
}
