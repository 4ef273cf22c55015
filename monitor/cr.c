/* monitor/cr.c: control and debug registers, and the cache/TLB instructions. */
#include "monitor/internal.h"

/* CR4 bits the virtual CPU implements (SDM vol. 3, 2.5); others are #GP. */
#define CR4_KNOWN (0x1u /*VME*/ | 0x2u /*PVI*/ | 0x4u /*TSD*/ | 0x8u /*DE*/ | 0x10u /*PSE*/ | 0x20u /*PAE*/ | \
		   0x80u /*PGE*/ | 0x100u /*PCE*/ | 0x200u /*OSFXSR*/ | 0x400u /*OSXMMEXCPT*/)

static int write_cr0(struct vcpu *v, uint32_t val)
{
	/* SDM vol. 3, 2.5: PG without PE, or NW without CD, is #GP(0). */
	if (((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD))) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	if (!(val & CR0_PE)) {
		monitor_stop(v, 2, "guest left protected mode (CR0.PE=0 at eip 0x%08x); "
			     "real mode is not virtualized yet", v->eip);
		return EXIT_STOP;
	}
	uint32_t old = v->cr0;
	/* Turning on PAE paging loads the PDPTE registers (SDM vol. 3, 4.4.1). */
	if ((val & CR0_PG) && !(old & CR0_PG) && (v->cr4 & CR4_PAE) && !monitor_load_pdptes(v, v->cr3)) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	v->cr0 = val | CR0_ET;	/* ET is hardwired to 1 since the Pentium */
	/* Turning paging on or off, or changing WP, changes every translation
	 * (SDM vol. 3, 4.10.4.1). */
	if ((old ^ v->cr0) & (CR0_PG | CR0_WP))
		monitor_paging_changed(v, false, true);
	return 0;
}

int monitor_movcr(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	v->eip = co->eip;
	bool to_cr = ZydisRegisterGetClass(in->ops[0].reg.value) == ZYDIS_REGCLASS_CONTROL;
	ZydisRegister cr = to_cr ? in->ops[0].reg.value : in->ops[1].reg.value;
	ZydisRegister gpr = to_cr ? in->ops[1].reg.value : in->ops[0].reg.value;
	int n = ZydisRegisterGetId(cr);
	if (!to_cr) {
		uint32_t val;
		switch (n) {
		case 0: val = v->cr0; break;
		case 2: val = v->cr2; break;
		case 3: val = v->cr3; break;
		case 4: val = v->cr4; break;
		default: monitor_raise(v, VEC_UD, -1); return EXIT_FAULT;
		}
		op_reg_write(v, gpr, val);
		v->eip = co->next_eip;
		return EXIT_CALLOUT;
	}
	uint32_t val = op_reg_read(v, gpr);
	int r = 0;
	switch (n) {
	case 0: r = write_cr0(v, val); break;
	case 2: v->cr2 = val; break;
	case 3:
		/* Page-directory base, PWT, PCD (PAE: the 32-byte aligned PDPT
		 * base, whose entries are loaded into the PDPTE registers, #GP(0)
		 * with CR3 unchanged if one sets a reserved bit: SDM vol. 3,
		 * 4.4.1).  The write flushes non-global translations. */
		if ((v->cr4 & CR4_PAE) && (v->cr0 & CR0_PG) && !monitor_load_pdptes(v, val)) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		v->cr3 = (v->cr4 & CR4_PAE) ? val & 0xffffffe0u : val & 0xfffff018u;
		monitor_paging_changed(v, true, false);
		break;
	case 4:
		if (val & ~CR4_KNOWN) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		if ((val & CR4_PAE) && !(v->cr4 & CR4_PAE) && (v->cr0 & CR0_PG) &&
		    !monitor_load_pdptes(v, v->cr3)) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		if ((val ^ v->cr4) & (CR4_PSE | CR4_PAE)) {
			v->cr4 = val;
			monitor_paging_changed(v, false, true);
		} else if ((val ^ v->cr4) & CR4_PGE) {
			/* Only PGE: every TLB entry goes, global ones too (SDM vol. 3,
			 * 4.10.4.1), which is how Linux flushes its global kernel
			 * mappings; what the entries mean is unchanged. */
			v->cr4 = val;
			monitor_paging_flush_global(v);
		}
		v->cr4 = val;
		break;
	default: monitor_raise(v, VEC_UD, -1); return EXIT_FAULT;
	}
	if (r)
		return r;
	v->eip = co->next_eip;
	return EXIT_CALLOUT;
}

int monitor_movdr(struct vcpu *v, const struct translator_callout *co)
{
	/* Breakpoints are checked by the dispatcher (monitor/debug.c). */
	const struct translator_insn *in = &co->in;
	bool to_dr = ZydisRegisterGetClass(in->ops[0].reg.value) == ZYDIS_REGCLASS_DEBUG;
	ZydisRegister dr = to_dr ? in->ops[0].reg.value : in->ops[1].reg.value;
	ZydisRegister gpr = to_dr ? in->ops[1].reg.value : in->ops[0].reg.value;
	int n = ZydisRegisterGetId(dr);
	v->eip = co->eip;
	int r = monitor_debug_general_detect(v);
	if (r)
		return r;
	/* DR4/DR5 alias DR6/DR7 unless CR4.DE (SDM vol. 3, 18.2.2). */
	if (n == 4 || n == 5) {
		if (v->cr4 & CR4_DE) {
			monitor_raise(v, VEC_UD, -1);
			return EXIT_FAULT;
		}
		n += 2;
	}
	if (to_dr)
		v->dr[n] = n == 6 ? (op_reg_read(v, gpr) | 0xffff0ff0u) & ~0x1000u
			 : n == 7 ? (op_reg_read(v, gpr) | 0x400u) & ~0xd800u
				  : op_reg_read(v, gpr);
	else
		op_reg_write(v, gpr, v->dr[n]);
	/* A new DR7 may arm or disarm breakpoints: leave, so the dispatcher
	 * picks the translation mode again. */
	v->eip = co->next_eip;
	return to_dr && n == 7 ? EXIT_CALLOUT : 0;
}

int monitor_cache(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	v->eip = co->eip;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_CLTS:
		v->cr0 &= ~CR0_TS;
		break;
	case ZYDIS_MNEMONIC_LMSW: {
		/* LMSW loads PE, MP, EM, TS and cannot clear PE (SDM vol. 2, LMSW). */
		uint32_t val;
		if (op_read(v, &in->ops[0], 2, &val) < 0)
			return monitor_op_fail(v);
		v->cr0 = (v->cr0 & ~0xeu) | (val & 0xf) | (v->cr0 & CR0_PE);
		break;
	}
	case ZYDIS_MNEMONIC_SMSW: {
		const ZydisDecodedOperand *dst = &in->ops[0];
		int size = dst->type == ZYDIS_OPERAND_TYPE_MEMORY ? 2 : dst->size / 8;
		if (op_write(v, dst, size, v->cr0) < 0)
			return monitor_op_fail(v);
		break;
	}
	case ZYDIS_MNEMONIC_INVLPG:
		monitor_invlpg(v, op_linear(v, &in->ops[0]));
		break;
	default:
		/* INVD, WBINVD: the host keeps caches coherent. */
		break;
	}
	v->eip = co->next_eip;
	return EXIT_CALLOUT;
}
