/*
 * translator/stack.c: stack instructions rewritten against the guest ESP.
 *
 * In 64-bit mode PUSH/POP move 8 bytes and use all of RSP, so each one is
 * re-expressed as a 32-bit store or load at [esp +/- n] (0x67: the address
 * wraps at 4 GiB as the guest's would) followed by `lea esp, [esp +/- n]`,
 * which updates ESP without touching flags.  The memory access always comes
 * first, so a fault leaves ESP unchanged and the instruction restartable
 * (SDM vol. 3, 6.6: faults are reported before the instruction's effects).
 */
#include "monitor/monitor.h"
#include "translator/internal.h"

static const uint8_t P66 = 0x66;

static bool adjust_esp(struct emitter *e, int32_t delta)
{
	struct hmem m = hm_base(HR_RSP, delta);
	return em_lea32(e, HR_RSP, &m, true);
}

/* mov [esp - size], reg (size 2 or 4) */
static bool store_slot(struct emitter *e, int32_t disp, int reg, int size)
{
	static const uint8_t op = 0x89;
	struct hmem m = hm_base(HR_RSP, disp);
	return em_mem(e, size == 2 ? &P66 : NULL, size == 2, true, false, &op, 1, reg, &m);
}

static bool load_slot(struct emitter *e, int reg, int32_t disp, int size)
{
	struct hmem m = hm_base(HR_RSP, disp);
	if (size == 2) {
		static const uint8_t op = 0x8b;
		return em_mem(e, &P66, 1, true, false, &op, 1, reg, &m);
	}
	return em_load32(e, reg, &m, true);
}

static bool tr_push(struct tctx *c, const struct translator_insn *in)
{
	struct emitter *e = &c->e;
	const ZydisDecodedOperand *op = &in->ops[0];
	int size = in->zi.operand_width / 8;
	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		return store_slot(e, -size, insn_gpr(op->reg.value), size) && adjust_esp(e, -size);
	case ZYDIS_OPERAND_TYPE_IMMEDIATE: {
		struct hmem m = hm_base(HR_RSP, -size);
		static const uint8_t op16 = 0xc7;
		if (size == 2)
			return em_mem(e, &P66, 1, true, false, &op16, 1, 0, &m) &&
			       em_u16(e, (uint16_t)op->imm.value.u) && adjust_esp(e, -size);
		return em_store32_i(e, &m, (uint32_t)op->imm.value.u, true) && adjust_esp(e, -size);
	}
	case ZYDIS_OPERAND_TYPE_MEMORY: {
		/* Load first (the operand may be addressed through ESP). */
		static const uint8_t mov = 0x8b;
		if (!emit_guest_mem(c, in, op, size == 2 ? &P66 : NULL, size == 2, &mov, 1, HR_R13, 0,
				    NULL, 0))
			return false;
		return store_slot(e, -size, HR_R13, size) && adjust_esp(e, -size);
	}
	default:
		return false;
	}
}

static bool tr_pop(struct tctx *c, const struct translator_insn *in)
{
	struct emitter *e = &c->e;
	const ZydisDecodedOperand *op = &in->ops[0];
	int size = in->zi.operand_width / 8;
	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		int r = insn_gpr(op->reg.value);
		if (r == HR_RSP && size == 4)	/* POP ESP: ESP = the popped value */
			return load_slot(e, HR_RSP, 0, 4);
		if (r == HR_RSP) {
			/* POP SP: the increment happens, then SP is overwritten. */
			return load_slot(e, HR_R13, 0, 2) && adjust_esp(e, 2) &&
			       em_rr(e, &P66, 1, false, (const uint8_t[]){ 0x89 }, 1, HR_R13, HR_RSP);
		}
		return load_slot(e, r, 0, size) && adjust_esp(e, size);
	}
	/*
	 * POP m: "If ESP is used as a base register ... the effective address
	 * is computed after ESP is incremented" (SDM vol. 2, POP).  Storing
	 * through [esp + size + disp] before the increment keeps it fault-atomic.
	 */
	static const uint8_t mov = 0x89;
	int32_t adj = op->mem.base == ZYDIS_REGISTER_ESP ? size : 0;
	return load_slot(e, HR_R13, 0, size) &&
	       emit_guest_mem(c, in, op, size == 2 ? &P66 : NULL, size == 2, &mov, 1, HR_R13, adj,
			      NULL, 0) &&
	       adjust_esp(e, size);
}

static bool tr_pusha(struct tctx *c, const struct translator_insn *in)
{
	/* EAX ECX EDX EBX, the ESP before the instruction, EBP ESI EDI. */
	struct emitter *e = &c->e;
	int size = in->zi.operand_width / 8;
	for (int r = 0; r < 8; r++)
		if (!store_slot(e, -size * (r + 1), r, size))
			return false;
	return adjust_esp(e, -8 * size);
}

static bool tr_popa(struct tctx *c, const struct translator_insn *in)
{
	/* Everything is loaded into scratch registers first so that a fault
	 * half way leaves the guest registers untouched.  The ESP slot is
	 * skipped, as the SDM says. */
	struct emitter *e = &c->e;
	int size = in->zi.operand_width / 8;
	static const int tmp[8] = { HR_R8, HR_R9, HR_R10, HR_R11, -1, HR_R12, HR_R13, HR_R14 };
	for (int r = 0; r < 8; r++)
		if (tmp[r] >= 0 && !load_slot(e, tmp[r], size * (7 - r), size))
			return false;
	for (int r = 0; r < 8; r++) {
		if (tmp[r] < 0)
			continue;
		bool ok = size == 2 ? em_rr(e, &P66, 1, false, (const uint8_t[]){ 0x89 }, 1, tmp[r], r)
				    : em_mov32_rr(e, r, tmp[r]);
		if (!ok)
			return false;
	}
	return adjust_esp(e, 8 * size);
}

static bool tr_enter(struct tctx *c, const struct translator_insn *in)
{
	struct emitter *e = &c->e;
	uint32_t alloc = (uint32_t)in->ops[0].imm.value.u & 0xffff;
	uint32_t level = (uint32_t)in->ops[1].imm.value.u & 31;
	if (level != 0 || in->zi.operand_width != 32)
		return tctx_callout(c, CO_UNSUPPORTED, in);	/* XXX: nested ENTER */
	/* push ebp; mov ebp, esp; sub esp, alloc (without touching flags). */
	struct hmem fp = hm_base(HR_RSP, -4);
	return store_slot(e, -4, HR_RBP, 4) && em_lea32(e, HR_RBP, &fp, true) &&
	       adjust_esp(e, -4 - (int32_t)alloc);
}

static bool tr_leave(struct tctx *c, const struct translator_insn *in)
{
	/* mov esp, ebp; pop ebp -- as: ebp' = [ebp]; esp = ebp + 4. */
	struct emitter *e = &c->e;
	int size = in->zi.operand_width / 8;
	struct hmem top = hm_base(HR_RBP, 0);
	struct hmem nsp = hm_base(HR_RBP, size);
	if (size == 2)
		return tctx_callout(c, CO_UNSUPPORTED, in);	/* XXX: 16-bit LEAVE */
	return em_load32(e, HR_R13, &top, true) && em_lea32(e, HR_RSP, &nsp, true) &&
	       em_mov32_rr(e, HR_RBP, HR_R13);
}

/* Swap to the vCPU's private stack for pushfq/popfq, which would otherwise
 * write 8 bytes below the guest's ESP. */
static bool fstack_enter(struct emitter *e)
{
	struct hmem top = hm_base(HR_VCPU, VCPU_FSTACK_TOP);
	return em_mov64_rr(e, HR_R14, HR_RSP) && em_lea64(e, HR_RSP, &top);
}

static bool fstack_leave(struct emitter *e)
{
	return em_mov64_rr(e, HR_RSP, HR_R14);
}

static bool alu_ri(struct emitter *e, int ext, int reg, uint32_t imm)
{
	static const uint8_t op = 0x81;
	return em_rr(e, NULL, 0, false, &op, 1, ext, reg) && em_u32(e, imm);
}

static bool tr_pushf(struct tctx *c, const struct translator_insn *in)
{
	/*
	 * image = (host RFLAGS & arith) | virtual bits | IF; PUSHF stores VM
	 * and RF as 0 (SDM vol. 2, PUSHF).  Computed between pushfq and popfq
	 * on the private stack, so the guest's flags survive the ALU work.
	 */
	struct emitter *e = &c->e;
	int size = in->zi.operand_width / 8;
	struct hmem top = hm_base(HR_RSP, 0);
	struct hmem vf = hm_base(HR_VCPU, VCPU_VFLAGS);
	struct hmem vif = hm_base(HR_VCPU, VCPU_VIF);
	static const uint8_t or_ = 0x0b, movzx8[] = { 0x0f, 0xb6 }, shl[] = { 0xc1 };
	if (!fstack_enter(e) || !em_u8(e, 0x9c) || !em_load32(e, HR_R13, &top, false) ||
	    !alu_ri(e, 4, HR_R13, EFL_ARITH) ||				/* and r13d, arith */
	    !em_mem(e, NULL, 0, false, false, &or_, 1, HR_R13, &vf) ||	/* or r13d, [vflags] */
	    !alu_ri(e, 4, HR_R13, ~(EFL_RF | EFL_VM)) ||
	    !em_mem(e, NULL, 0, false, false, movzx8, 2, HR_R12, &vif) ||
	    !em_rr(e, NULL, 0, false, shl, 1, 4, HR_R12) || !em_u8(e, 9) ||
	    !em_rr(e, NULL, 0, false, (const uint8_t[]){ 0x09 }, 1, HR_R12, HR_R13) ||
	    !em_u8(e, 0x9d) || !fstack_leave(e))
		return false;
	return store_slot(e, -size, HR_R13, size) && adjust_esp(e, -size);
}

/*
 * After POPF has stored the virtual flags (image in r13, the guest's
 * arithmetic flags not yet restored, so flags are free here): leave at the
 * next unit boundary if the image sets TF (the dispatcher single-steps from
 * there) or if an interrupt is waiting on INTR (IF may have just become 1).
 * Writing 1 to exit_request is idempotent, so it cannot lose the timer's.
 */
static bool force_exit_if(struct tctx *c, int size)
{
	struct emitter *e = &c->e;
	struct hmem intr = hm_base(HR_VCPU, VCPU_INTR);
	struct hmem req = hm_base(HR_VCPU, VCPU_EXIT_REQ);
	static const uint8_t shr[] = { 0xc1 }, or8[] = { 0x0a };
	(void)size;
	if (!em_mov32_rr(e, HR_R12, HR_R13) || !em_rr(e, NULL, 0, false, shr, 1, 5, HR_R12) ||
	    !em_u8(e, 8) || !alu_ri(e, 4, HR_R12, 1) ||
	    !em_mem(e, NULL, 0, false, false, or8, 1, HR_R12, &intr) ||	/* or r12b, [intr] */
	    !em_u8(e, 0x74) || !em_u8(e, 0))	/* jz over the store */
		return false;
	size_t jz = e->pos;
	if (!em_store8_i(e, &req, 1))
		return false;
	e->w[jz - 1] = (uint8_t)(e->pos - jz);
	return true;
}

static bool tr_popf(struct tctx *c, const struct translator_insn *in)
{
	/*
	 * POPF at CPL 0 (SDM vol. 2, POPF): every flag but VIP, VIF and VM may
	 * change, RF is cleared.  The image is loaded first (the only access
	 * that can fault), the virtual part stored, then the arithmetic part
	 * goes into RFLAGS with popfq from the private stack.  POPF ends the
	 * unit so that an IF it sets is seen by the next unit's check.
	 * Outside ring 0 POPF is a callout (CO_IFLAGS): IF and IOPL rules.
	 */
	struct emitter *e = &c->e;
	int size = in->zi.operand_width / 8;
	uint32_t virt = EFL_TF | EFL_IOPL | EFL_NT | EFL_AC | EFL_ID;
	if (size == 2)
		virt &= 0xffff;
	struct hmem vf = hm_base(HR_VCPU, VCPU_VFLAGS);
	struct hmem vif = hm_base(HR_VCPU, VCPU_VIF);
	static const uint8_t movzx16[] = { 0x0f, 0xb7 }, or_[] = { 0x09 }, shr[] = { 0xc1 },
			     mov8[] = { 0x88 };
	struct hmem top = hm_base(HR_RSP, 0);
	bool ok = size == 2 ? em_mem(e, NULL, 0, true, false, movzx16, 2, HR_R13, &top)
			    : em_load32(e, HR_R13, &top, true);
	if (!ok)
		return false;
	ok = em_mov32_rr(e, HR_R12, HR_R13) && alu_ri(e, 4, HR_R12, virt) &&
	     em_load32(e, HR_R14, &vf, false) &&
	     alu_ri(e, 4, HR_R14, ~(virt | EFL_RF)) &&
	     em_rr(e, NULL, 0, false, or_, 1, HR_R12, HR_R14) && em_store32(e, &vf, HR_R14, false) &&
	     em_mov32_rr(e, HR_R12, HR_R13) && em_rr(e, NULL, 0, false, shr, 1, 5, HR_R12) &&
	     em_u8(e, 9) && alu_ri(e, 4, HR_R12, 1) &&
	     em_mem(e, NULL, 0, false, false, mov8, 1, HR_R12, &vif) &&
	     force_exit_if(c, size) &&
	     alu_ri(e, 4, HR_R13, EFL_ARITH) && alu_ri(e, 1, HR_R13, EFL_FIX1) &&
	     fstack_enter(e) && em_u8(e, 0x41) && em_u8(e, 0x55) &&	/* push r13 */
	     em_u8(e, 0x9d) && fstack_leave(e) && adjust_esp(e, size);
	return ok && tctx_exit_checked(c, c->next_eip);
}

bool tr_stack(struct tctx *c, const struct translator_insn *in, const struct translator_row *row)
{
	switch (row->rule) {
	case TR_PUSH: return tr_push(c, in);
	case TR_POP: return tr_pop(c, in);
	case TR_PUSHA: return tr_pusha(c, in);
	case TR_POPA: return tr_popa(c, in);
	case TR_ENTER: return tr_enter(c, in);
	case TR_LEAVE: return tr_leave(c, in);
	case TR_PUSHF: return tr_pushf(c, in);
	case TR_POPF: return tr_popf(c, in);
	default: return false;
	}
}
