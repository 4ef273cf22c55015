/*
 * monitor/debug.c: debug exceptions — TF single-stepping and the DR0-DR3
 * breakpoints (SDM vol. 3, 18.2-18.3).
 *
 * Translated code knows nothing of either.  When TF is set or DR7 enables a
 * breakpoint, the dispatcher runs the guest one instruction per unit
 * (TMODE_SINGLE) and calls in here before and after each: before, for
 * instruction breakpoints (faults, suppressed by RF); after, for the
 * single-step trap and data breakpoints (traps).  Data accesses are worked
 * out from the decoded instruction and the registers before it ran: the
 * explicit memory operands and the stack slots that PUSH/POP/CALL/RET touch.
 * XXX: accesses the decoder does not describe as operands (descriptor-table
 * and TSS reads, IDT reads during delivery, the second and later elements of
 * REP strings) do not trigger data breakpoints; nor do I/O breakpoints
 * (DR7 R/W=10 with CR4.DE), which no virtual CPUID feature promises.
 */
#include "monitor/internal.h"

#define DR6_BS 0x4000u
#define DR6_BD 0x2000u
#define DR7_GD 0x2000u

bool monitor_debug_armed(const struct vcpu *v)
{
	return (v->dr[7] & 0xffu) != 0;
}

static bool bp_enabled(const struct vcpu *v, int i)
{
	return (v->dr[7] >> (2 * i)) & 3u;
}

static unsigned bp_rw(const struct vcpu *v, int i)
{
	return (v->dr[7] >> (16 + 4 * i)) & 3u;
}

/* LEN encodings 00, 01, 11 = 1, 2, 4 bytes; 10 = 8 bytes (undefined on
 * IA-32 processors without it; treated as 8). */
static uint32_t bp_len(const struct vcpu *v, int i)
{
	static const uint32_t len[4] = { 1, 2, 8, 4 };
	return len[(v->dr[7] >> (18 + 4 * i)) & 3u];
}

bool monitor_debug_before(struct vcpu *v)
{
	v->dbg_nacc = 0;
	/* RF is cleared at the start of each instruction, after the check for
	 * instruction breakpoints that it suppresses (SDM vol. 3, 18.3.1.1). */
	bool rf = v->vflags & EFL_RF;
	v->vflags &= ~EFL_RF;
	if (!monitor_debug_armed(v))
		return false;
	uint32_t lin = v->seg[S_CS].base + v->eip;
	uint32_t hit = 0;
	for (int i = 0; i < 4; i++)
		if (bp_enabled(v, i) && bp_rw(v, i) == 0 && v->dr[i] == lin)
			hit |= 1u << i;
	/* RF suppresses instruction breakpoints for one instruction (18.3.1.1). */
	if (hit && !rf) {
		v->dr[6] = (v->dr[6] & ~0xfu) | hit;
		monitor_deliver(v, VEC_DB, -1, v->eip, DELIVER_DBFAULT);
		return true;
	}

	/* Data breakpoints: note what the instruction is about to access. */
	bool data = false;
	for (int i = 0; i < 4; i++)
		data |= bp_enabled(v, i) && (bp_rw(v, i) & 1);
	if (!data)
		return false;
	uint8_t code[ZYDIS_MAX_INSTRUCTION_LENGTH];
	size_t n = 0;
	while (n < sizeof(code) &&
	       monitor_peek_lin(v, lin + (uint32_t)n, &code[n], 1) == 0)
		n++;
	struct translator_insn in;
	if (translator_decode(code, n, v->eip, &in) < 0)
		return false;
	for (int k = 0; k < in.zi.operand_count && v->dbg_nacc < 4; k++) {
		const ZydisDecodedOperand *op = &in.ops[k];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type != ZYDIS_MEMOP_TYPE_MEM)
			continue;
		uint32_t a = op_linear(v, op);
		/* Zydis describes PUSH's slot at [esp]; it is written below it. */
		if (op->mem.base == ZYDIS_REGISTER_ESP &&
		    op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
		    (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
		    (in.zi.mnemonic == ZYDIS_MNEMONIC_PUSH || in.zi.mnemonic == ZYDIS_MNEMONIC_CALL ||
		     in.zi.mnemonic == ZYDIS_MNEMONIC_PUSHFD || in.zi.mnemonic == ZYDIS_MNEMONIC_PUSHF))
			a -= op->size / 8;
		v->dbg_acc[v->dbg_nacc++] = (struct vcpu_access){
			.lin = a, .len = op->size ? op->size / 8 : 1,
			.write = (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0,
		};
	}
	return false;
}

void monitor_debug_after(struct vcpu *v, uint32_t eflags_before)
{
	uint32_t bits = 0;
	for (int k = 0; k < v->dbg_nacc; k++) {
		const struct vcpu_access *a = &v->dbg_acc[k];
		for (int i = 0; i < 4; i++) {
			unsigned rw = bp_rw(v, i);
			if (!bp_enabled(v, i) || !(rw & 1) || (rw == 1 && !a->write))
				continue;
			uint32_t len = bp_len(v, i), base = v->dr[i] & ~(len - 1);
			if (a->lin < base + len && base < a->lin + a->len)
				bits |= 1u << i;
		}
	}
	v->dbg_nacc = 0;
	/* A MOV/POP SS holds off debug traps for one more instruction
	 * (6.8.3); an event delivered by the instruction (INT n, a fault)
	 * replaces the trap. */
	if (v->delivered || v->stopping || v->shadow_ss)
		return;
	if (eflags_before & EFL_TF)
		bits |= DR6_BS;
	if (!bits)
		return;
	v->dr[6] = (v->dr[6] & ~0xfu) | bits;
	monitor_deliver(v, VEC_DB, -1, v->eip, DELIVER_EXT);
}

int monitor_debug_general_detect(struct vcpu *v)
{
	/* DR7.GD: any MOV DRn faults with DR6.BD, and GD is cleared so the
	 * handler can use the registers (18.2.4). */
	if (!(v->dr[7] & DR7_GD))
		return 0;
	v->dr[7] &= ~DR7_GD;
	v->dr[6] |= DR6_BD;
	monitor_raise(v, VEC_DB, -1);
	return EXIT_FAULT;
}
