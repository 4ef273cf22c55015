/*
 * monitor/privilege.c: what changes outside ring 0 — privileged instructions
 * (#GP(0) at CPL > 0, SDM vol. 3, 5.9), IOPL-sensitive CLI/STI/POPF, and
 * I/O permission through IOPL and the TSS bitmap (SDM vol. 1, 19.5).
 */
#include "monitor/internal.h"

int monitor_need_cpl0(struct vcpu *v, const struct translator_callout *co)
{
	if (v->cpl == 0)
		return 0;
	v->eip = co->eip;
	monitor_raise(v, VEC_GP, 0);
	return EXIT_FAULT;
}

static unsigned iopl(const struct vcpu *v)
{
	return (v->vflags >> 12) & 3;
}

int monitor_iflags(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	v->eip = co->eip;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_STI: {
		/* XXX: CR4.PVI (VIF at CPL 3) is not advertised. */
		if (v->cpl > iopl(v)) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		bool sti = in->zi.mnemonic == ZYDIS_MNEMONIC_STI;
		if (sti && !v->vif)
			v->shadow = true;
		v->vif = sti;
		break;
	}
	default: {	/* POPF, POPFD */
		int size = in->zi.operand_width / 8;
		uint32_t val = 0;
		if (!seg_in_limit(&v->seg[S_SS], v->regs[R_ESP], (uint32_t)size)) {
			monitor_raise(v, VEC_SS, 0);
			return EXIT_FAULT;
		}
		if (monitor_read_lin(v, v->seg[S_SS].base + v->regs[R_ESP], &val, (size_t)size) < 0)
			return EXIT_STOP;
		/* POPF never sets RF (SDM vol. 2, POPF). */
		monitor_write_eflags(v, val & ~EFL_RF, size);
		v->vflags &= ~EFL_RF;
		v->regs[R_ESP] += (uint32_t)size;
		break;
	}
	}
	v->eip = co->next_eip;
	return EXIT_CALLOUT;
}

bool monitor_io_allowed(struct vcpu *v, uint16_t port, int size)
{
	if (v->cpl <= iopl(v))
		return true;
	/* The bitmap starts at the 16-bit offset at 0x66 of a 32-bit TSS; a
	 * bit set, or a bit beyond the TSS limit, denies the port. */
	unsigned type = v->tr.attr & 0xf;
	if ((type != 9 && type != 11) || v->tr.limit < 0x67)
		return false;
	uint16_t base = 0;
	if (monitor_read_lin(v, v->tr.base + 0x66, &base, 2) < 0)
		return false;
	uint32_t off = (uint32_t)base + port / 8;
	if (off + 1 > v->tr.limit)
		return false;
	uint16_t bits = 0;
	if (monitor_read_lin(v, v->tr.base + off, &bits, 2) < 0)
		return false;
	uint32_t mask = ((1u << size) - 1) << (port & 7);
	return (bits & mask) == 0;
}
