/* monitor/misc.c: HLT, RDTSC, MSRs, BOUND and the BCD adjustments invalid in 64-bit mode. */
#include <x86intrin.h>

#include "monitor/internal.h"

int monitor_hlt(struct vcpu *v, const struct translator_callout *co)
{
	/* HLT resumes at the next instruction once an interrupt (or NMI, or
	 * reset) arrives (SDM vol. 2, HLT); monitor_service sleeps until then. */
	v->eip = co->next_eip;
	v->halted = true;
	return EXIT_CALLOUT;
}

static uint64_t guest_tsc(const struct vcpu *v)
{
	return __rdtsc() - v->tsc_offset;
}

int monitor_rdtsc(struct vcpu *v, const struct translator_callout *co)
{
	/* CR4.TSD only restricts CPL > 0 (checked before the callout). */
	uint64_t t = guest_tsc(v);
	v->regs[R_EAX] = (uint32_t)t;
	v->regs[R_EDX] = (uint32_t)(t >> 32);
	if (co->in.zi.mnemonic == ZYDIS_MNEMONIC_RDTSCP)
		v->regs[R_ECX] = v->tsc_aux;
	return 0;
}

/* MSR numbers (SDM vol. 4, chapter 2). */
enum {
	MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1b, MSR_UCODE_REV = 0x8b,
	MSR_MTRRCAP = 0xfe, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
	MSR_SYSENTER_EIP = 0x176, MSR_MTRR_PHYS0 = 0x200, MSR_MTRR_FIX64K = 0x250,
	MSR_MTRR_FIX16K0 = 0x258, MSR_MTRR_FIX16K1 = 0x259, MSR_MTRR_FIX4K0 = 0x268,
	MSR_MISC_ENABLE = 0x1a0, MSR_PAT = 0x277, MSR_MTRR_DEFTYPE = 0x2ff, MSR_EFER = 0xc0000080, MSR_TSC_AUX = 0xc0000103,
};

/* IA32_MISC_ENABLE (SDM vol. 4, Table 2-2): fast strings (bit 0, the one
 * bit the guest may change), branch trace storage and PEBS unavailable
 * (bits 11, 12).  Linux reads it on every family 6 model >= 0xd part. */
#define MISC_ENABLE_VALUE 0x1801u
#define MISC_ENABLE_WRITABLE 0x1u

/* MTRRcap: 8 variable ranges, fixed ranges, write-combining (bits 0-7, 8, 10). */
#define MTRRCAP_VALUE 0x508u
/* The local APIC's base with the BSP flag; EN (bit 11) clear: no APIC is
 * advertised, so the guest must not find one enabled. */
#define APIC_BASE_VALUE 0xfee00100u

/* The MTRR MSR slot of idx, or -1 (kept so the guest reads what it wrote;
 * caching is the host's business). */
static int mtrr_slot(uint32_t idx)
{
	if (idx >= MSR_MTRR_PHYS0 && idx < MSR_MTRR_PHYS0 + 16)
		return (int)(idx - MSR_MTRR_PHYS0);
	switch (idx) {
	case MSR_MTRR_FIX64K: return 16;
	case MSR_MTRR_FIX16K0: return 17;
	case MSR_MTRR_FIX16K1: return 18;
	case MSR_MTRR_DEFTYPE: return 27;
	default:
		if (idx >= MSR_MTRR_FIX4K0 && idx < MSR_MTRR_FIX4K0 + 8)
			return 19 + (int)(idx - MSR_MTRR_FIX4K0);
		return -1;
	}
}

static bool pat_valid(uint64_t val)
{
	/* Each entry: UC, WC, WT, WP, WB or UC- (0, 1, 4, 5, 6, 7). */
	for (int i = 0; i < 8; i++) {
		unsigned t = (val >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static bool rdmsr(struct vcpu *v, uint32_t idx, uint64_t *val)
{
	int slot = mtrr_slot(idx);
	if (slot >= 0) {
		*val = v->mtrr[slot];
		return true;
	}
	switch (idx) {
	case MSR_TSC: *val = guest_tsc(v); return true;
	case MSR_PLATFORM_ID: *val = 0; return true;
	case MSR_MISC_ENABLE: *val = MISC_ENABLE_VALUE ^ v->misc_enable_flipped; return true;
	case MSR_APIC_BASE: *val = APIC_BASE_VALUE; return true;
	case MSR_UCODE_REV: *val = 0; return true;
	case MSR_MTRRCAP: *val = MTRRCAP_VALUE; return true;
	case MSR_SYSENTER_CS: *val = v->sysenter_cs; return true;
	case MSR_SYSENTER_ESP: *val = v->sysenter_esp; return true;
	case MSR_SYSENTER_EIP: *val = v->sysenter_eip; return true;
	case MSR_PAT: *val = v->pat; return true;
	case MSR_TSC_AUX: *val = v->tsc_aux; return true;
	case MSR_EFER: *val = v->efer; return true;
	default: return false;
	}
}

static bool wrmsr(struct vcpu *v, uint32_t idx, uint64_t val)
{
	int slot = mtrr_slot(idx);
	if (slot >= 0) {
		v->mtrr[slot] = val;
		return true;
	}
	switch (idx) {
	case MSR_TSC: v->tsc_offset = __rdtsc() - val; return true;
	case MSR_UCODE_REV: return true;	/* writing 0 before reading it is the protocol */
	case MSR_MISC_ENABLE:
		if ((val ^ MISC_ENABLE_VALUE) & ~(uint64_t)MISC_ENABLE_WRITABLE)
			return false;
		v->misc_enable_flipped = val ^ MISC_ENABLE_VALUE;
		return true;
	case MSR_APIC_BASE: return val == APIC_BASE_VALUE;
	case MSR_SYSENTER_CS: v->sysenter_cs = (uint32_t)val; return true;
	case MSR_SYSENTER_ESP: v->sysenter_esp = (uint32_t)val; return true;
	case MSR_SYSENTER_EIP: v->sysenter_eip = (uint32_t)val; return true;
	case MSR_PAT:
		if (!pat_valid(val))
			return false;
		v->pat = val;
		return true;
	case MSR_TSC_AUX:
		if (val >> 32)
			return false;
		v->tsc_aux = (uint32_t)val;
		return true;
	case MSR_EFER:
		/* Only NXE exists on this 32-bit CPU (SDM vol. 4, IA32_EFER); the
		 * other bits are reserved.  NXE changes what a PTE's bit 63
		 * means, so translations are rebuilt. */
		if (val & ~EFER_NXE)
			return false;
		if ((v->efer ^ val) & EFER_NXE) {
			v->efer = val;
			monitor_paging_changed(v, false, true);
		}
		v->efer = val;
		return true;
	default:
		return false;
	}
}

int monitor_msr(struct vcpu *v, const struct translator_callout *co)
{
	/* RDMSR/WRMSR of an MSR the virtual CPU does not have, or a reserved
	 * value, is #GP(0) (SDM vol. 2, RDMSR/WRMSR). */
	uint32_t idx = v->regs[R_ECX];
	v->eip = co->eip;
	if (co->in.zi.mnemonic == ZYDIS_MNEMONIC_RDMSR) {
		uint64_t val;
		if (!rdmsr(v, idx, &val)) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		v->regs[R_EAX] = (uint32_t)val;
		v->regs[R_EDX] = (uint32_t)(val >> 32);
		return 0;
	}
	uint64_t val = (uint64_t)v->regs[R_EDX] << 32 | v->regs[R_EAX];
	if (!wrmsr(v, idx, val)) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	return 0;
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
