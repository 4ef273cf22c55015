/*
 * monitor/task.c: hardware task switching (SDM vol. 3, 7.3), started by JMP
 * or CALL to a TSS or task gate, by an interrupt or exception through a task
 * gate, and by IRET with NT set.  Linux uses it for one thing: the double
 * fault handler sits behind a task gate so that it gets a known-good stack.
 *
 * 32-bit TSSs only; a 16-bit TSS stops bt with a message.  XXX: the TSS's
 * debug trap bit (T, offset 0x64) does not raise #DB in the new task.
 */
#include "monitor/internal.h"

/* 32-bit TSS offsets (SDM vol. 3, Figure 7-2). */
enum { TSS_LINK = 0x00, TSS_CR3 = 0x1c, TSS_EIP = 0x20, TSS_EFLAGS = 0x24,
       TSS_REGS = 0x28, TSS_SEGS = 0x48, TSS_LDT = 0x60, TSS_MIN_LIMIT = 0x67 };

/* Segment register order in the TSS: ES CS SS DS FS GS, as S_*. */

static int fail(int *err, int vec, uint32_t code)
{
	*err = (int)code;
	return vec;
}

/*
 * Loads one segment register of the new task (SDM vol. 3, Table 7-1:
 * #TS for bad selectors and types, #NP / #SS when not present).  `cpl` is
 * the new task's CPL (its CS.RPL).
 */
static int load_task_seg(struct vcpu *v, int s, uint16_t sel, unsigned cpl, int ext, int *err)
{
	uint64_t d;
	uint32_t e = (sel & 0xfffc) | (uint32_t)ext;
	if ((sel & 0xfffc) == 0) {
		if (s == S_CS || s == S_SS)
			return fail(err, VEC_TS, (uint32_t)ext);
		v->seg[s] = (struct vcpu_segment){ .sel = sel };
		v->seg_base[s] = 0;
		return -1;
	}
	int r = desc_read(v, sel, &d);
	if (r == -2)
		return -2;
	if (r < 0)
		return fail(err, VEC_TS, e);
	struct desc x = desc_decode(d);
	unsigned rpl = sel & 3;
	switch (s) {
	case S_CS:
		if (!DESC_CODE(x) || (DESC_CONFORMING(x) ? x.dpl > rpl : x.dpl != rpl))
			return fail(err, VEC_TS, e);
		if (!x.p)
			return fail(err, VEC_NP, e);
		if (!x.db) {
			monitor_stop(v, 2, "task switch to 16-bit code is not virtualized yet");
			return -2;
		}
		break;
	case S_SS:
		if (!DESC_WRITABLE(x) || rpl != cpl || x.dpl != cpl)
			return fail(err, VEC_TS, e);
		if (!x.p)
			return fail(err, VEC_SS, e);
		break;
	default:
		if (!DESC_READABLE(x) ||
		    (!DESC_CONFORMING(x) && (x.dpl < cpl || x.dpl < rpl)))
			return fail(err, VEC_TS, e);
		if (!x.p)
			return fail(err, VEC_NP, e);
		break;
	}
	desc_set_accessed(v, sel, d);
	monitor_seg_cache(v, s, sel, d);
	return -1;
}

int monitor_task_switch(struct vcpu *v, uint16_t sel, enum task_source src,
			uint32_t ret_eip, int error, int ext, int *err)
{
	uint64_t nd;
	uint32_t e = (sel & 0xfffc) | (uint32_t)ext;
	/* The new TSS descriptor: in the GDT, a TSS, present, big enough. */
	int r = (sel & 4) ? -1 : desc_read(v, sel, &nd);
	if (r == -2)
		return -2;
	if (r < 0)
		return fail(err, src == TASK_IRET ? VEC_TS : VEC_GP, e);
	struct desc n = desc_decode(nd);
	bool tss = !n.s && (n.type == SYS_TSS32_AVAIL || n.type == SYS_TSS32_BUSY ||
			    n.type == SYS_TSS16_AVAIL || n.type == SYS_TSS16_BUSY);
	if (!tss)
		return fail(err, src == TASK_IRET ? VEC_TS : VEC_GP, e);
	bool busy = n.type & 2;
	if (src == TASK_IRET ? !busy : busy)
		return fail(err, src == TASK_IRET ? VEC_TS : VEC_GP, e);
	if (!n.p)
		return fail(err, VEC_NP, e);
	if (n.limit < TSS_MIN_LIMIT)
		return fail(err, VEC_TS, e);
	if (n.type == SYS_TSS16_AVAIL || n.type == SYS_TSS16_BUSY ||
	    (v->tr.attr & 0xf) != SYS_TSS32_BUSY) {
		monitor_stop(v, 2, "task switch %s a 16-bit or invalid TSS is not virtualized yet",
			     (v->tr.attr & 0xf) != SYS_TSS32_BUSY ? "from" : "to");
		return -2;
	}
	if (v->tr.limit < TSS_MIN_LIMIT)
		return fail(err, VEC_TS, (v->tr.sel & 0xfffc) | (uint32_t)ext);

	/* Read the new task's state before touching anything. */
	uint32_t nstate[TSS_LDT / 4 + 1];
	if (monitor_read_lin(v, n.base, nstate, sizeof(nstate)) < 0)
		return -2;

	/* Save the current task (7.3 steps 6-8). */
	uint32_t fl = vcpu_get_eflags(v);
	if (src == TASK_IRET)
		fl &= ~EFL_NT;
	uint32_t old = v->tr.base;
	if (monitor_write_lin(v, old + TSS_EIP, &ret_eip, 4) < 0 ||
	    monitor_write_lin(v, old + TSS_EFLAGS, &fl, 4) < 0 ||
	    monitor_write_lin(v, old + TSS_REGS, v->regs, 32) < 0)
		return -2;
	for (int s = 0; s < S_NSEG; s++) {
		uint32_t sv = v->seg[s].sel;
		if (monitor_write_lin(v, old + TSS_SEGS + 4u * (uint32_t)s, &sv, 4) < 0)
			return -2;
	}
	if (src == TASK_JMP || src == TASK_IRET)
		desc_set_busy(v, v->tr.sel, false);
	uint32_t nfl = nstate[TSS_EFLAGS / 4];
	if (src == TASK_CALL || src == TASK_INT) {
		uint32_t link = v->tr.sel;
		if (monitor_write_lin(v, n.base + TSS_LINK, &link, 2) < 0)
			return -2;
		nfl |= EFL_NT;
	}
	if (src != TASK_IRET)
		desc_set_busy(v, sel, true);

	/* Switch: TR, CR0.TS, then the new task's registers (steps 10-12).
	 * From here on faults belong to the new task. */
	uint64_t trd = nd | (2ull << 40);	/* busy */
	v->tr = (struct vcpu_segment){ .sel = sel, .base = n.base, .limit = n.limit,
				       .attr = (uint16_t)((trd >> 40) & 0xf0ff) };
	v->cr0 |= CR0_TS;
	if (v->cr0 & CR0_PG) {
		/* The new task's address space, as MOV to CR3 would load it.
		 * XXX: a PAE PDPTE with reserved bits is not refused here. */
		uint32_t ncr3 = nstate[TSS_CR3 / 4];
		if (v->cr4 & CR4_PAE)
			monitor_load_pdptes(v, ncr3);
		v->cr3 = (v->cr4 & CR4_PAE) ? ncr3 & 0xffffffe0u : ncr3 & 0xfffff018u;
		monitor_paging_changed(v, true, false);
	}
	v->eip = nstate[TSS_EIP / 4];
	vcpu_set_eflags(v, (nfl & ~EFL_VM) | EFL_FIX1);
	if (nfl & EFL_VM) {
		monitor_stop(v, 2, "task switch into virtual-8086 mode is not virtualized yet");
		return -2;
	}
	for (int i = 0; i < 8; i++)
		v->regs[i] = nstate[TSS_REGS / 4 + i];
	uint16_t nsel[S_NSEG];
	for (int s = 0; s < S_NSEG; s++) {
		nsel[s] = (uint16_t)nstate[TSS_SEGS / 4 + s];
		/* Until loaded, the registers hold the selectors with empty
		 * caches, as a fault in the middle leaves them. */
		v->seg[s] = (struct vcpu_segment){ .sel = nsel[s] };
		v->seg_base[s] = 0;
	}
	unsigned cpl = nsel[S_CS] & 3;
	v->cpl = cpl;

	uint16_t ldt = (uint16_t)nstate[TSS_LDT / 4];
	v->ldtr = (struct vcpu_segment){ .sel = ldt };
	if (ldt & 0xfffc) {
		uint64_t ld;
		r = (ldt & 4) ? -1 : desc_read(v, ldt, &ld);
		if (r == -2)
			return -2;
		struct desc lx = desc_decode(ld);
		if (r < 0 || lx.s || lx.type != SYS_LDT)
			return fail(err, VEC_TS, (ldt & 0xfffc) | (uint32_t)ext);
		if (!lx.p)
			return fail(err, VEC_TS, (ldt & 0xfffc) | (uint32_t)ext);
		v->ldtr = (struct vcpu_segment){ .sel = ldt, .base = lx.base, .limit = lx.limit,
						 .attr = (uint16_t)((ld >> 40) & 0xf0ff) };
	}
	static const int order[S_NSEG] = { S_CS, S_SS, S_DS, S_ES, S_FS, S_GS };
	for (int i = 0; i < S_NSEG; i++) {
		r = load_task_seg(v, order[i], nsel[order[i]], cpl, ext, err);
		if (r != -1)
			return r;
	}
	if (v->eip > v->seg[S_CS].limit)
		return fail(err, VEC_GP, 0);

	/* An exception's error code goes on the new task's stack (7.3 step 14). */
	if (error >= 0) {
		uint32_t esp = v->regs[R_ESP] - 4, ev = (uint32_t)error;
		if (!seg_in_limit(&v->seg[S_SS], esp, 4))
			return fail(err, VEC_SS, (uint32_t)ext);
		if (monitor_write_lin(v, v->seg[S_SS].base + esp, &ev, 4) < 0)
			return -2;
		v->regs[R_ESP] = esp;
	}
	v->halted = false;
	return -1;
}
