/*
 * translator/branch.c: near control transfers.  Direct targets become
 * chainable exits; indirect ones (JMP/CALL r/m, RET) go through the inline
 * lookup; CALL pushes the guest return EIP, never a host address.
 */
#include "monitor/monitor.h"
#include "translator/internal.h"

/* Zydis condition order matches the Jcc opcode's low nibble. */
static int jcc_cc(const struct translator_insn *in)
{
	if (in->zi.opcode_map == ZYDIS_OPCODE_MAP_0F)
		return in->zi.opcode & 0xf;	/* 0F 80+cc rel32 */
	return in->zi.opcode & 0xf;		/* 70+cc rel8 */
}

static uint32_t direct_target(const struct tctx *c, const struct translator_insn *in)
{
	uint32_t t = c->next_eip + (uint32_t)in->ops[0].imm.value.s;
	if (in->zi.operand_width == 16)
		t &= 0xffff;	/* a 16-bit operand size truncates EIP (SDM vol. 2, JMP) */
	return t;
}

/* r14d = the target of JMP/CALL r/m32. */
static bool load_target(struct tctx *c, const struct translator_insn *in)
{
	const ZydisDecodedOperand *op = &in->ops[0];
	static const uint8_t mov = 0x8b, movzx16[] = { 0x0f, 0xb7 };
	bool w16 = in->zi.operand_width == 16;
	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		if (w16)
			return em_rr(&c->e, NULL, 0, false, movzx16, 2, HR_R14,
				     insn_gpr(op->reg.value));
		return em_mov32_rr(&c->e, HR_R14, insn_gpr(op->reg.value));
	}
	return emit_guest_mem(c, in, op, NULL, 0, w16 ? movzx16 : &mov, w16 ? 2 : 1, HR_R14, 0,
			      NULL, 0);
}

static bool push_imm32(struct emitter *e, uint32_t v)
{
	struct hmem slot = hm_base(HR_RSP, -4);
	struct hmem nsp = hm_base(HR_RSP, -4);
	return em_store32_i(e, &slot, v, true) && em_lea32(e, HR_RSP, &nsp, true);
}

bool tr_branch(struct tctx *c, const struct translator_insn *in, const struct translator_row *row)
{
	struct emitter *e = &c->e;
	bool direct = in->ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;

	if (in->zi.operand_width == 16 && row->rule != TR_JCC && row->rule != TR_JMP) {
		/* XXX: 16-bit CALL/RET/LOOP in 32-bit code: not emulated yet. */
		c->ended = true;
		return tctx_callout(c, CO_UNSUPPORTED, in);
	}
	switch (row->rule) {
	case TR_JMP:
		if (direct)
			return tctx_exit_direct(c, direct_target(c, in));
		return load_target(c, in) && tctx_exit_indirect(c);
	case TR_JCC:
		return tctx_exit_jcc(c, jcc_cc(in), direct_target(c, in), c->next_eip);
	case TR_CALL:
		if (direct)
			return push_imm32(e, c->next_eip) &&
			       tctx_exit_direct(c, direct_target(c, in));
		return load_target(c, in) && push_imm32(e, c->next_eip) && tctx_exit_indirect(c);
	case TR_RET: {
		/* RET imm16 releases imm16 more bytes after popping EIP. */
		uint32_t extra = in->zi.operand_count_visible ? (uint32_t)in->ops[0].imm.value.u : 0;
		struct hmem top = hm_base(HR_RSP, 0);
		struct hmem nsp = hm_base(HR_RSP, 4 + (int32_t)extra);
		return em_load32(e, HR_R14, &top, true) && em_lea32(e, HR_RSP, &nsp, true) &&
		       tctx_exit_indirect(c);
	}
	case TR_LOOP:
	case TR_JCXZ: {
		if (in->zi.address_width != 32) {
			c->ended = true;	/* XXX: LOOP/JCXZ on CX */
			return tctx_callout(c, CO_UNSUPPORTED, in);
		}
		/* Same instruction with ECX (0x67), rel8 to the taken exit:
		 *    67 E2 xx ; fallthrough exit ; xx: taken exit */
		uint8_t op = in->bytes[in->zi.raw.prefix_count];
		if (!em_u8(e, 0x67) || !em_u8(e, op) || !em_u8(e, 0))
			return false;
		size_t rel = e->pos;
		uint32_t taken = direct_target(c, in);
		c->ended = true;
		if (!tctx_exit_direct(c, c->next_eip))
			return false;
		e->w[rel - 1] = (uint8_t)(e->pos - rel);
		return tctx_exit_direct(c, taken);
	}
	default:
		return false;
	}
}
