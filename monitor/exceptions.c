/* monitor/exceptions.c: exceptions and interrupts through the guest IDT, IRET, INT n. */
#include <signal.h>

#include "monitor/internal.h"

void monitor_raise(struct vcpu *v, int vector, int error)
{
	v->exc_pending = true;
	v->exc_vector = (uint8_t)vector;
	v->exc_has_error = error >= 0;
	v->exc_error = error >= 0 ? (uint32_t)error : 0;
}

/* SDM vol. 3, 6.15, Table 6-4: contributory exceptions. */
static bool contributory(int vec)
{
	return vec == VEC_DE || vec == VEC_TS || vec == VEC_NP || vec == VEC_SS || vec == VEC_GP;
}

/* Table 6-5: does a fault while delivering `first` make a double fault? */
static bool makes_df(int first, int second)
{
	if (contributory(first))
		return contributory(second);
	if (first == VEC_PF)
		return contributory(second) || second == VEC_PF;
	return false;
}

/* Sets a segment's hidden cache from a descriptor. */
static void seg_cache(struct vcpu *v, int s, uint16_t sel, uint64_t d)
{
	struct desc x = desc_decode(d);
	v->seg[s] = (struct vcpu_segment){
		.sel = sel,
		.base = x.base,
		.limit = x.limit,
		.attr = (uint16_t)((d >> 40) & 0xf0ff),
	};
	v->seg_base[s] = x.base;
}

void monitor_seg_cache(struct vcpu *v, int s, uint16_t sel, uint64_t d)
{
	seg_cache(v, s, sel, d);
}

void desc_set_accessed(struct vcpu *v, uint16_t sel, uint64_t d)
{
	if (d & (1ull << 40))
		return;
	uint32_t base = (sel & 4) ? v->ldtr.base : v->gdtr.base;
	uint8_t b = (uint8_t)(d >> 40) | 1;
	monitor_write_lin(v, base + (sel & 0xfff8u) + 5, &b, 1);
}

void desc_set_busy(struct vcpu *v, uint16_t sel, bool busy)
{
	uint8_t b;
	uint32_t a = v->gdtr.base + (sel & 0xfff8u) + 5;
	if (monitor_read_lin(v, a, &b, 1) < 0)
		return;
	b = busy ? (b | 2) : (b & ~2);
	monitor_write_lin(v, a, &b, 1);
}

/*
 * Checks a code segment selector for a transfer that may raise the
 * privilege level (gates: SDM vol. 3, 5.8.6 and 6.12.1) and returns its
 * descriptor in *x.  Returns -1 on success or the fault vector with *err.
 */
static int check_gate_cs(struct vcpu *v, uint16_t sel, int ext, struct desc *x, int *err)
{
	uint64_t d;
	*err = (sel & 0xfffc) | ext;
	if ((sel & 0xfffc) == 0) {
		*err = ext;
		return VEC_GP;
	}
	int r = desc_read(v, sel, &d);
	if (r == -2)
		return -2;
	if (r < 0)
		return VEC_GP;
	*x = desc_decode(d);
	if (!DESC_CODE(*x) || x->dpl > v->cpl)
		return VEC_GP;
	if (!x->p)
		return VEC_NP;
	if (!x->db) {
		monitor_stop(v, 2, "guest entered a 16-bit code segment (selector 0x%04x at eip "
			     "0x%08x); 16-bit code is not virtualized yet", sel, v->eip);
		return -2;
	}
	desc_set_accessed(v, sel, d);
	return -1;
}

int monitor_load_cs(struct vcpu *v, uint16_t sel, uint32_t eip)
{
	/* JMP/CALL/RET to a code segment at the same privilege (SDM vol. 3,
	 * 5.8.1): conforming with DPL <= CPL, non-conforming with RPL <= CPL
	 * and DPL == CPL; CPL does not change. */
	uint64_t d;
	int err = sel & 0xfffc;
	if ((sel & 0xfffc) == 0) {
		monitor_raise(v, VEC_GP, 0);
		return -1;
	}
	int r = desc_read(v, sel, &d);
	if (r == -2)
		return -1;
	struct desc x = desc_decode(d);
	if (r < 0 || !DESC_CODE(x) ||
	    (DESC_CONFORMING(x) ? x.dpl > v->cpl : ((sel & 3) > v->cpl || x.dpl != v->cpl))) {
		monitor_raise(v, VEC_GP, err);
		return -1;
	}
	if (!x.p) {
		monitor_raise(v, VEC_NP, err);
		return -1;
	}
	if (!x.db) {
		monitor_stop(v, 2, "guest entered a 16-bit code segment (selector 0x%04x at eip "
			     "0x%08x); 16-bit code is not virtualized yet", sel, v->eip);
		return -1;
	}
	if (eip > x.limit) {
		monitor_raise(v, VEC_GP, 0);
		return -1;
	}
	desc_set_accessed(v, sel, d);
	seg_cache(v, S_CS, (uint16_t)((sel & ~3) | v->cpl), d);
	v->eip = eip;
	return 0;
}

/*
 * The new stack of a transfer to an inner privilege level: SSn:ESPn of the
 * current 32-bit TSS, checked as SDM vol. 3, 6.12.1 and 7.x describe (#TS
 * for a bad selector or descriptor, #SS if not present).
 */
int monitor_tss_stack(struct vcpu *v, unsigned dpl, int ext, uint16_t *ss, uint32_t *esp,
		      uint64_t *ssd, int *err)
{
	unsigned ttype = (v->tr.attr & 0xf);
	*err = (v->tr.sel & 0xfffc) | ext;
	if (ttype != SYS_TSS32_BUSY) {
		if (ttype == SYS_TSS16_BUSY) {
			monitor_stop(v, 2, "stack switch through a 16-bit TSS is not virtualized yet");
			return -2;
		}
		return VEC_TS;
	}
	uint32_t off = 4 + 8 * dpl;
	if (off + 5 > v->tr.limit)
		return VEC_TS;
	uint32_t sel = 0;
	if (monitor_read_lin(v, v->tr.base + off, esp, 4) < 0 ||
	    monitor_read_lin(v, v->tr.base + off + 4, &sel, 2) < 0)
		return -2;
	*ss = (uint16_t)sel;
	*err = (sel & 0xfffc) | ext;
	if ((sel & 0xfffc) == 0) {
		*err = ext;
		return VEC_TS;
	}
	int r = desc_read(v, *ss, ssd);
	if (r == -2)
		return -2;
	struct desc x = desc_decode(*ssd);
	if (r < 0 || (sel & 3) != dpl || x.dpl != dpl || !DESC_WRITABLE(x))
		return VEC_TS;
	if (!x.p)
		return VEC_SS;
	if (!x.db) {
		monitor_stop(v, 2, "16-bit stack segment 0x%04x is not virtualized yet", sel);
		return -2;
	}
	return -1;
}

/* Exceptions that are faults (restartable; RF pushed as 1). */
static bool is_fault(int vec)
{
	switch (vec) {
	case VEC_DE: case VEC_BR: case VEC_UD: case VEC_NM: case VEC_TS: case VEC_NP:
	case VEC_SS: case VEC_GP: case VEC_PF: case VEC_MF: case VEC_AC: case 19:
		return true;
	default:
		return false;
	}
}

/* One attempt to deliver; returns -1 on success, -2 if the VM stopped, or
 * the vector of a fault met on the way (with *nerr). */
static int deliver_once(struct vcpu *v, int vec, int error, uint32_t ret_eip,
			enum deliver_kind kind, int *nerr)
{
	int ext = kind == DELIVER_SOFT ? 0 : 1;
	uint32_t idx = (uint32_t)vec * 8;
	*nerr = (int)(idx | 2 | (uint32_t)ext);
	if (idx + 7 > v->idtr.limit)
		return VEC_GP;
	uint64_t gd;
	if (monitor_read_lin(v, v->idtr.base + idx, &gd, 8) < 0)
		return -2;
	struct desc g = desc_decode(gd);
	if (g.s || (g.type != SYS_TASK && g.type != SYS_INTR16 && g.type != SYS_TRAP16 &&
		    g.type != SYS_INTR32 && g.type != SYS_TRAP32))
		return VEC_GP;
	if (kind == DELIVER_SOFT && g.dpl < v->cpl)
		return VEC_GP;
	if (!g.p)
		return VEC_NP;
	if (vcpu_get_eflags(v) & EFL_VM) {
		monitor_stop(v, 2, "interrupt from virtual-8086 mode is not virtualized yet");
		return -2;
	}
	if (g.type == SYS_TASK) {
		int r = monitor_task_switch(v, g.gsel, TASK_INT, ret_eip, error, ext, nerr);
		if (r == -1)
			v->delivered = true;
		return r;
	}
	if (g.type == SYS_INTR16 || g.type == SYS_TRAP16) {
		monitor_stop(v, 2, "vector %d goes through a 16-bit gate, which is not "
			     "virtualized yet", vec);
		return -2;
	}

	struct desc cs;
	int r = check_gate_cs(v, g.gsel, ext, &cs, nerr);
	if (r != -1)
		return r;
	uint32_t eflags = vcpu_get_eflags(v);
	if (kind == DELIVER_FAULT)
		eflags |= EFL_RF;
	else if (kind == DELIVER_SOFT)
		eflags &= ~EFL_RF;
	unsigned ncpl = DESC_CONFORMING(cs) ? v->cpl : cs.dpl;

	uint32_t frame[7];
	int n = 0;
	struct vcpu_segment nss = v->seg[S_SS];
	uint16_t nss_sel = nss.sel;
	uint32_t esp = v->regs[R_ESP];
	uint64_t ssd = 0;
	bool inner = ncpl < v->cpl;
	if (inner) {
		uint32_t nesp;
		r = monitor_tss_stack(v, ncpl, ext, &nss_sel, &nesp, &ssd, nerr);
		if (r != -1)
			return r;
		struct desc sx = desc_decode(ssd);
		nss = (struct vcpu_segment){ .sel = nss_sel, .base = sx.base, .limit = sx.limit,
					     .attr = (uint16_t)((ssd >> 40) & 0xf0ff) };
		frame[n++] = v->seg[S_SS].sel;
		frame[n++] = v->regs[R_ESP];
		esp = nesp;
	}
	frame[n++] = eflags;
	frame[n++] = v->seg[S_CS].sel;
	frame[n++] = ret_eip;
	if (error >= 0)
		frame[n++] = (uint32_t)error;
	uint32_t nesp = esp - 4u * (uint32_t)n;
	if (!seg_in_limit(&nss, nesp, 4u * (uint32_t)n)) {
		*nerr = inner ? (int)((nss_sel & 0xfffc) | (uint32_t)ext) : ext;
		return VEC_SS;
	}
	if (g.goff > cs.limit) {
		*nerr = ext;
		return VEC_GP;
	}
	for (int i = 0; i < n; i++)
		if (monitor_write_lin(v, nss.base + esp - 4u * (uint32_t)(i + 1), &frame[i], 4) < 0)
			return -2;
	if (inner) {
		desc_set_accessed(v, nss_sel, ssd);
		v->seg[S_SS] = nss;
		v->seg_base[S_SS] = nss.base;
		v->cpl = ncpl;
	}
	v->regs[R_ESP] = nesp;
	seg_cache(v, S_CS, (uint16_t)((g.gsel & ~3) | ncpl), cs.raw);
	v->eip = g.goff;
	/* SDM vol. 3, 6.12.1: TF, VM, RF and NT are cleared; an interrupt gate
	 * also clears IF, a trap gate leaves it. */
	v->vflags &= ~(EFL_TF | EFL_VM | EFL_RF | EFL_NT);
	if (g.type == SYS_INTR32)
		v->vif = 0;
	v->halted = false;
	v->delivered = true;
	return -1;
}

void monitor_deliver(struct vcpu *v, int vec, int error, uint32_t ret_eip,
		     enum deliver_kind kind)
{
	for (;;) {
		int nerr;
		int nvec = deliver_once(v, vec, error, ret_eip, kind, &nerr);
		if (nvec == -1 || nvec == -2 || v->stopping)
			return;
		if (vec == VEC_DF) {
			fprintf(stderr, "bt: triple fault: vector %d while delivering a double fault "
				"(the guest's IDT/GDT/TSS is unusable); guest state:\n", nvec);
			monitor_dump_state(v, stderr);
			monitor_stop(v, 3, NULL);
			return;
		}
		if (makes_df(vec, nvec)) {
			vec = VEC_DF;
			error = 0;
		} else {
			vec = nvec;
			error = nerr;
		}
		kind = DELIVER_FAULT;
		ret_eip = v->eip;
	}
}

void monitor_deliver_pending(struct vcpu *v)
{
	if (!v->exc_pending)
		return;
	v->exc_pending = false;
	int vec = v->exc_vector;
	monitor_deliver(v, vec, v->exc_has_error ? (int)v->exc_error : -1, v->eip,
			is_fault(vec) || vec == VEC_DB ? DELIVER_FAULT : DELIVER_EXT);
}

void monitor_host_fault(struct vcpu *v)
{
	switch (v->fault_sig) {
	case SIGFPE:
		monitor_raise(v, VEC_DE, -1);	/* DIV/IDIV: divide error or quotient overflow */
		break;
	case SIGILL:
		monitor_raise(v, VEC_UD, -1);
		break;
	case SIGTRAP:
		monitor_raise(v, VEC_DB, -1);
		break;
	default:
		if (v->fault_addr < KVIEW_SIZE &&
		    monitor_paging_fault(v, (uint32_t)v->fault_addr, v->fault_err & 2))
			break;
		if (v->fault_addr >= KVIEW_SIZE)
			monitor_stop(v, 2, "guest access at eip 0x%08x wraps around 4 GiB; "
				     "not emulated yet", v->eip);
		else if (v->fault_addr < v->vm->mem.min_addr)
			monitor_stop(v, 2, "guest access to 0x%08llx at eip 0x%08x is below "
				     "vm.mmap_min_addr; not emulated yet", (unsigned long long)v->fault_addr,
				     v->eip);
		else
			monitor_stop(v, 2, "guest %s at 0x%08llx (eip 0x%08x) is outside guest RAM",
				     (v->fault_err & 2) ? "write" : "read",
				     (unsigned long long)v->fault_addr, v->eip);
		break;
	}
	v->fault_sig = 0;
}

static bool pop_at(struct vcpu *v, uint32_t *esp, int size, uint32_t *val)
{
	uint32_t x = 0;
	if (monitor_read_lin(v, v->seg[S_SS].base + *esp, &x, (size_t)size) < 0)
		return false;
	*esp += (uint32_t)size;
	*val = x;
	return true;
}

/*
 * Writes EFLAGS as POPF and IRET do at the current CPL (SDM vol. 2, POPF and
 * IRET): IOPL only at CPL 0, IF only at CPL <= IOPL; VM, VIF and VIP are
 * not written here; a 16-bit image leaves the upper half alone.
 */
void monitor_write_eflags(struct vcpu *v, uint32_t val, int size)
{
	uint32_t old = vcpu_get_eflags(v);
	uint32_t mask = EFL_ARITH | EFL_TF | EFL_NT | EFL_RF | EFL_AC | EFL_ID;
	unsigned iopl = (old >> 12) & 3;
	if (v->cpl == 0)
		mask |= EFL_IOPL;
	if (v->cpl <= iopl)
		mask |= EFL_IF;
	if (size == 2)
		mask &= 0xffff;
	vcpu_set_eflags(v, ((old & ~mask) | (val & mask)) | EFL_FIX1);
}

void monitor_null_inaccessible(struct vcpu *v)
{
	static const int segs[] = { S_ES, S_DS, S_FS, S_GS };
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		struct vcpu_segment *s = &v->seg[segs[i]];
		unsigned dpl = (s->attr >> 5) & 3;
		bool conforming_code = (s->attr & 0x1c) == 0x1c;
		if ((s->sel & 0xfffc) == 0 || conforming_code || dpl >= v->cpl)
			continue;
		*s = (struct vcpu_segment){ .sel = 0 };
		v->seg_base[segs[i]] = 0;
	}
}

int monitor_iret(struct vcpu *v, const struct translator_callout *co)
{
	/* IRET in protected mode (SDM vol. 2, IRET). */
	int size = co->in.zi.operand_width / 8;
	uint32_t eip, cs, fl, esp = v->regs[R_ESP];
	v->eip = co->eip;
	if (vcpu_get_eflags(v) & EFL_NT) {
		/* Return from a nested task through the back link (7.4). */
		uint32_t link = 0;
		int err;
		if (monitor_read_lin(v, v->tr.base, &link, 2) < 0)
			return EXIT_STOP;
		int r = monitor_task_switch(v, (uint16_t)link, TASK_IRET, co->next_eip, -1, 0, &err);
		if (r == -2)
			return EXIT_STOP;
		if (r >= 0) {
			monitor_raise(v, r, err);
			return EXIT_FAULT;
		}
		return EXIT_CALLOUT;
	}
	if (!pop_at(v, &esp, size, &eip) || !pop_at(v, &esp, size, &cs) ||
	    !pop_at(v, &esp, size, &fl))
		return EXIT_STOP;
	cs &= 0xffff;
	if (size == 2)
		fl = (vcpu_get_eflags(v) & 0xffff0000u) | (fl & 0xffff);
	if ((fl & EFL_VM) && v->cpl == 0) {
		monitor_stop(v, 2, "IRET to virtual-8086 mode is not virtualized yet");
		return EXIT_STOP;
	}
	unsigned rpl = cs & 3;
	uint64_t d;
	if ((cs & 0xfffc) == 0) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	int r = desc_read(v, (uint16_t)cs, &d);
	if (r == -2)
		return EXIT_STOP;
	struct desc x = desc_decode(d);
	if (r < 0 || !DESC_CODE(x) || rpl < v->cpl ||
	    (DESC_CONFORMING(x) ? x.dpl > rpl : x.dpl != rpl)) {
		monitor_raise(v, VEC_GP, (int)(cs & 0xfffc));
		return EXIT_FAULT;
	}
	if (!x.p) {
		monitor_raise(v, VEC_NP, (int)(cs & 0xfffc));
		return EXIT_FAULT;
	}
	if (!x.db) {
		monitor_stop(v, 2, "IRET to a 16-bit code segment is not virtualized yet");
		return EXIT_STOP;
	}
	struct vcpu_segment nss = v->seg[S_SS];
	uint64_t ssd = 0;
	uint32_t nesp = esp, ss = 0;
	if (rpl > v->cpl) {
		/* Return to an outer level: SS:ESP come off the stack too. */
		if (!pop_at(v, &esp, size, &nesp) || !pop_at(v, &esp, size, &ss))
			return EXIT_STOP;
		ss &= 0xffff;
		if ((ss & 0xfffc) == 0) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		r = desc_read(v, (uint16_t)ss, &ssd);
		if (r == -2)
			return EXIT_STOP;
		struct desc sx = desc_decode(ssd);
		if (r < 0 || (ss & 3) != rpl || sx.dpl != rpl || !DESC_WRITABLE(sx)) {
			monitor_raise(v, VEC_GP, (int)(ss & 0xfffc));
			return EXIT_FAULT;
		}
		if (!sx.p) {
			monitor_raise(v, VEC_SS, (int)(ss & 0xfffc));
			return EXIT_FAULT;
		}
		nss = (struct vcpu_segment){ .sel = (uint16_t)ss, .base = sx.base,
					     .limit = sx.limit,
					     .attr = (uint16_t)((ssd >> 40) & 0xf0ff) };
	}
	if (eip > x.limit) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	/* Committed: nothing below faults. */
	monitor_write_eflags(v, fl, size);
	if (v->cpl == 0) {
		v->vflags = (v->vflags & ~(EFL_VIF | EFL_VIP)) | (fl & (EFL_VIF | EFL_VIP));
		if (size == 2)
			v->vflags &= ~(EFL_VIF | EFL_VIP);
	}
	desc_set_accessed(v, (uint16_t)cs, d);
	seg_cache(v, S_CS, (uint16_t)cs, d);
	v->eip = eip;
	if (rpl > v->cpl) {
		desc_set_accessed(v, (uint16_t)ss, ssd);
		v->seg[S_SS] = nss;
		v->seg_base[S_SS] = nss.base;
		v->regs[R_ESP] = size == 2 ? (v->regs[R_ESP] & 0xffff0000u) | (nesp & 0xffff) : nesp;
		v->cpl = rpl;
		monitor_null_inaccessible(v);
	} else {
		v->regs[R_ESP] = esp;
	}
	return EXIT_CALLOUT;
}

int monitor_int(struct vcpu *v, const struct translator_callout *co)
{
	switch (co->in.zi.mnemonic) {
	case ZYDIS_MNEMONIC_INT:
		monitor_deliver(v, (int)(co->in.ops[0].imm.value.u & 0xff), -1, co->next_eip,
				DELIVER_SOFT);
		break;
	case ZYDIS_MNEMONIC_INT3:
		monitor_deliver(v, VEC_BP, -1, co->next_eip, DELIVER_SOFT);
		break;
	case ZYDIS_MNEMONIC_INTO:
		if (!(v->aflags & EFL_OF))
			return 0;
		monitor_deliver(v, VEC_OF, -1, co->next_eip, DELIVER_SOFT);
		break;
	default:	/* INT1/ICEBP: a #DB trap without the gate DPL check */
		monitor_deliver(v, VEC_DB, -1, co->next_eip, DELIVER_EXT);
		break;
	}
	return v->stopping ? EXIT_STOP : EXIT_CALLOUT;
}
