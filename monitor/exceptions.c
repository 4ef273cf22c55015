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

static bool push32(struct vcpu *v, uint32_t val)
{
	uint32_t esp = v->regs[R_ESP] - 4;
	if (monitor_write_lin(v, v->seg[S_SS].base + esp, &val, 4) < 0)
		return false;
	v->regs[R_ESP] = esp;
	return true;
}

/* Sets a segment's hidden cache from a descriptor. */
static void seg_cache(struct vcpu *v, int s, uint16_t sel, uint64_t d)
{
	uint32_t lo = (uint32_t)d, hi = (uint32_t)(d >> 32);
	uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
	if (hi & (1u << 23))
		limit = (limit << 12) | 0xfff;
	v->seg[s] = (struct vcpu_segment){
		.sel = sel,
		.base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u),
		.limit = limit,
		.attr = (uint16_t)((hi >> 8) & 0xf0ff),
	};
	v->seg_base[s] = v->seg[s].base;
}

/*
 * Checks a code segment selector for a same-privilege transfer at CPL 0
 * (SDM vol. 3, 5.8 and 6.12.1) and loads CS.  Returns the fault vector
 * (with *err) or -1 on success.
 */
static int load_cs(struct vcpu *v, uint16_t sel, int ext, int *err)
{
	uint64_t d;
	*err = (sel & 0xfffc) | ext;
	if ((sel & 0xfffc) == 0) {
		*err = ext;
		return VEC_GP;
	}
	if (desc_read(v, sel, &d) < 0)
		return VEC_GP;
	uint32_t hi = (uint32_t)(d >> 32);
	bool code = (hi & 0x1800) == 0x1800;	/* S=1, type bit 3 = code */
	unsigned dpl = (hi >> 13) & 3;
	if (!code || dpl > v->cpl || ((sel & 3) > v->cpl))
		return VEC_GP;
	if (!(hi & 0x8000))
		return VEC_NP;
	if (!(hi & (1u << 22))) {
		monitor_stop(v, 2, "guest loaded a 16-bit code segment (selector 0x%04x at eip "
			     "0x%08x); 16-bit code is not virtualized yet", sel, v->eip);
		return -2;
	}
	if (dpl < v->cpl) {
		monitor_stop(v, 2, "privilege change to ring %u is not virtualized yet", dpl);
		return -2;
	}
	seg_cache(v, S_CS, (uint16_t)((sel & ~3) | v->cpl), d);
	return -1;
}

int monitor_load_cs(struct vcpu *v, uint16_t sel, uint32_t eip)
{
	int err;
	int vec = load_cs(v, sel, 0, &err);
	if (vec == -2)
		return -1;
	if (vec >= 0) {
		monitor_raise(v, vec, err);
		return -1;
	}
	v->eip = eip;
	return 0;
}

void monitor_seg_cache(struct vcpu *v, int s, uint16_t sel, uint64_t d)
{
	seg_cache(v, s, sel, d);
}

/* One attempt to deliver; returns -1 on success or the vector of a fault
 * met on the way (with *nerr). */
static int deliver_once(struct vcpu *v, int vec, int error, uint32_t ret_eip, bool soft,
			int *nerr)
{
	int ext = soft ? 0 : 1;
	uint32_t idx = (uint32_t)vec * 8;
	*nerr = (int)(idx | 2 | (uint32_t)ext);
	if (idx + 7 > v->idtr.limit)
		return VEC_GP;
	uint64_t gate;
	if (monitor_read_lin(v, v->idtr.base + idx, &gate, 8) < 0)
		return -2;
	uint32_t lo = (uint32_t)gate, hi = (uint32_t)(gate >> 32);
	unsigned type = (hi >> 8) & 0x1f, dpl = (hi >> 13) & 3;
	if (type != 0x0e && type != 0x0f && type != 0x05 && type != 0x06 && type != 0x07)
		return VEC_GP;
	if (soft && dpl < v->cpl)
		return VEC_GP;
	if (!(hi & 0x8000))
		return VEC_NP;
	if (type != 0x0e && type != 0x0f) {
		monitor_stop(v, 2, "vector %d goes through a %s, which is not virtualized yet", vec,
			     type == 0x05 ? "task gate" : "16-bit gate");
		return -2;
	}
	uint32_t eflags = vcpu_get_eflags(v);
	uint16_t old_cs = v->seg[S_CS].sel;
	struct vcpu_segment saved = v->seg[S_CS];
	uint32_t saved_esp = v->regs[R_ESP];
	int r = load_cs(v, (uint16_t)(lo >> 16), ext, nerr);
	if (r != -1)
		return r;
	if (!push32(v, eflags) || !push32(v, old_cs) || !push32(v, ret_eip) ||
	    (error >= 0 && !push32(v, (uint32_t)error))) {
		v->seg[S_CS] = saved;
		v->seg_base[S_CS] = saved.base;
		v->regs[R_ESP] = saved_esp;
		return -2;
	}
	v->eip = (lo & 0xffff) | (hi & 0xffff0000u);
	/* SDM vol. 3, 6.12.1: TF, VM, RF and NT are cleared; an interrupt gate
	 * also clears IF, a trap gate leaves it. */
	v->vflags &= ~(EFL_TF | EFL_VM | EFL_RF | EFL_NT);
	if (type == 0x0e)
		v->vif = 0;
	v->halted = false;
	return -1;
}

void monitor_deliver(struct vcpu *v, int vec, int error, uint32_t ret_eip, bool soft)
{
	for (;;) {
		int nerr;
		int nvec = deliver_once(v, vec, error, ret_eip, soft, &nerr);
		if (nvec == -1 || nvec == -2 || v->stopping)
			return;
		if (vec == VEC_DF) {
			fprintf(stderr, "bt: triple fault: vector %d while delivering a double fault "
				"(the guest's IDT/GDT is unusable); guest state:\n", nvec);
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
		soft = false;
		ret_eip = v->eip;
	}
}

void monitor_deliver_pending(struct vcpu *v)
{
	if (!v->exc_pending)
		return;
	v->exc_pending = false;
	monitor_deliver(v, v->exc_vector, v->exc_has_error ? (int)v->exc_error : -1, v->eip, false);
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

static bool pop(struct vcpu *v, int size, uint32_t *val)
{
	uint32_t x = 0;
	if (monitor_read_lin(v, v->seg[S_SS].base + v->regs[R_ESP], &x, (size_t)size) < 0)
		return false;
	v->regs[R_ESP] += (uint32_t)size;
	*val = x;
	return true;
}

int monitor_iret(struct vcpu *v, const struct translator_callout *co)
{
	/* IRET at CPL 0 to CPL 0 (SDM vol. 2, IRET, "protected mode return"). */
	int size = co->in.zi.operand_width / 8;
	uint32_t eip, cs, fl, esp0 = v->regs[R_ESP];
	if (vcpu_get_eflags(v) & EFL_NT) {
		monitor_stop(v, 2, "IRET with NT=1 (task return) is not virtualized yet");
		return EXIT_STOP;
	}
	if (!pop(v, size, &eip) || !pop(v, size, &cs) || !pop(v, size, &fl))
		return EXIT_STOP;
	if (size == 2)
		fl = (vcpu_get_eflags(v) & 0xffff0000u) | (fl & 0xffff);
	if ((cs & 3) > v->cpl) {
		v->regs[R_ESP] = esp0;
		monitor_stop(v, 2, "IRET to ring %u is not virtualized yet (eip 0x%08x)", cs & 3,
			     co->eip);
		return EXIT_STOP;
	}
	if (fl & EFL_VM) {
		v->regs[R_ESP] = esp0;
		monitor_stop(v, 2, "IRET to virtual-8086 mode is not virtualized yet");
		return EXIT_STOP;
	}
	if (monitor_load_cs(v, (uint16_t)cs, eip) < 0) {
		v->regs[R_ESP] = esp0;
		return EXIT_FAULT;
	}
	vcpu_set_eflags(v, (fl & ~(EFL_VIP | EFL_VIF)) | EFL_FIX1);
	return EXIT_CALLOUT;
}

int monitor_int(struct vcpu *v, const struct translator_callout *co)
{
	switch (co->in.zi.mnemonic) {
	case ZYDIS_MNEMONIC_INT:
		monitor_deliver(v, (int)(co->in.ops[0].imm.value.u & 0xff), -1, co->next_eip, true);
		break;
	case ZYDIS_MNEMONIC_INT3:
		monitor_deliver(v, VEC_BP, -1, co->next_eip, true);
		break;
	case ZYDIS_MNEMONIC_INTO:
		if (!(v->aflags & EFL_OF))
			return 0;
		monitor_deliver(v, VEC_OF, -1, co->next_eip, true);
		break;
	default:	/* INT1/ICEBP: a #DB without the gate DPL check */
		monitor_deliver(v, VEC_DB, -1, co->next_eip, false);
		break;
	}
	return EXIT_CALLOUT;
}
