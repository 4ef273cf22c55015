/* monitor/misc.c: HLT, RDTSC, MSRs, BOUND and the BCD adjustments invalid in 64-bit mode. */
#include <x86intrin.h>

#include "monitor/internal.h"

int monitor_hlt(struct vcpu *v, const struct translator_callout *co)
{
	v->eip = co->next_eip;
	/* No device raises interrupts yet (the PIC arrives with the CPU issue),
	 * so a HLT can never end: say so rather than hang. */
	monitor_stop(v, 2, "guest halted at eip 0x%08x with %s and no interrupt source; "
		     "it would never wake up", co->eip,
		     v->vif ? "interrupts enabled" : "interrupts disabled");
	return EXIT_STOP;
}

int monitor_rdtsc(struct vcpu *v, const struct translator_callout *co)
{
	/* CR4.TSD only restricts CPL > 0. */
	(void)co;
	uint64_t t = __rdtsc() - v->tsc_offset;
	v->regs[R_EAX] = (uint32_t)t;
	v->regs[R_EDX] = (uint32_t)(t >> 32);
	return 0;
}

int monitor_msr(struct vcpu *v, const struct translator_callout *co)
{
	/* MSR is not advertised in CPUID; a CPU without it would #UD, but every
	 * P6 has MSRs, and the SDM's rule for an MSR it does not implement is
	 * #GP(0).  XXX: TSC, SYSENTER_*, APIC_BASE, PAT, MTRRs arrive with the
	 * CPU issue. */
	v->eip = co->eip;
	monitor_raise(v, VEC_GP, 0);
	return EXIT_FAULT;
}

int monitor_bound(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	int size = in->zi.operand_width / 8;
	uint32_t lin = op_linear(v, &in->ops[1]);
	int32_t lo = 0, hi = 0, idx = (int32_t)op_reg_read(v, in->ops[0].reg.value);
	v->eip = co->eip;
	if (monitor_read_lin(v, lin, &lo, (size_t)size) < 0 ||
	    monitor_read_lin(v, lin + (uint32_t)size, &hi, (size_t)size) < 0)
		return EXIT_STOP;
	if (size == 2) {
		lo = (int16_t)lo;
		hi = (int16_t)hi;
		idx = (int16_t)idx;
	}
	if (idx < lo || idx > hi) {
		monitor_raise(v, VEC_BR, -1);
		return EXIT_FAULT;
	}
	v->eip = co->next_eip;
	return EXIT_CALLOUT;
}

static uint32_t parity_flag(uint8_t b)
{
	return __builtin_parity(b) ? 0 : EFL_PF;
}

static uint32_t szp(uint8_t b)
{
	return (b & 0x80 ? EFL_SF : 0) | (b == 0 ? EFL_ZF : 0) | parity_flag(b);
}

/* DAA, DAS, AAA, AAS, AAM, AAD as the SDM's pseudo-code defines them; OF
 * and (for AAA/AAS) SF/ZF/PF are undefined there and computed as QEMU and
 * current Intel parts leave them: cleared. */
int monitor_bcd(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	uint32_t f = v->aflags;
	uint8_t al = (uint8_t)v->regs[R_EAX], ah = (uint8_t)(v->regs[R_EAX] >> 8);
	bool cf = f & EFL_CF, af = f & EFL_AF;
	uint32_t out = f & EFL_DF;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_DAA: {
		uint8_t old = al;
		bool ncf = false, naf = false;
		if ((al & 0xf) > 9 || af) {
			ncf = cf || al > 0xf9;
			al += 6;
			naf = true;
		}
		if (old > 0x99 || cf) {
			al += 0x60;
			ncf = true;
		}
		out |= szp(al) | (ncf ? EFL_CF : 0) | (naf ? EFL_AF : 0);
		break;
	}
	case ZYDIS_MNEMONIC_DAS: {
		uint8_t old = al;
		bool ncf = false, naf = false;
		if ((al & 0xf) > 9 || af) {
			ncf = cf || al < 6;
			al -= 6;
			naf = true;
		}
		if (old > 0x99 || cf) {
			al -= 0x60;
			ncf = true;
		}
		out |= szp(al) | (ncf ? EFL_CF : 0) | (naf ? EFL_AF : 0);
		break;
	}
	case ZYDIS_MNEMONIC_AAA:
	case ZYDIS_MNEMONIC_AAS: {
		bool adj = (al & 0xf) > 9 || af;
		if (adj) {
			uint16_t ax = (uint16_t)(al | ah << 8);
			ax = in->zi.mnemonic == ZYDIS_MNEMONIC_AAA ? (uint16_t)(ax + 0x106)
								   : (uint16_t)(ax - 6);
			if (in->zi.mnemonic == ZYDIS_MNEMONIC_AAS)
				ax = (uint16_t)((ax & 0xff) | ((uint16_t)(ah - 1) << 8));
			al = (uint8_t)ax;
			ah = (uint8_t)(ax >> 8);
			out |= EFL_AF | EFL_CF;
		}
		al &= 0xf;
		break;
	}
	case ZYDIS_MNEMONIC_AAM: {
		uint8_t base = (uint8_t)in->ops[0].imm.value.u;
		if (base == 0) {
			v->eip = co->eip;
			monitor_raise(v, VEC_DE, -1);
			return EXIT_FAULT;
		}
		ah = al / base;
		al = al % base;
		out |= szp(al);
		break;
	}
	default: {	/* AAD */
		uint8_t base = (uint8_t)in->ops[0].imm.value.u;
		al = (uint8_t)(al + ah * base);
		ah = 0;
		out |= szp(al);
		break;
	}
	}
	v->regs[R_EAX] = (v->regs[R_EAX] & 0xffff0000u) | al | (uint32_t)ah << 8;
	v->aflags = out;
	return 0;
}
