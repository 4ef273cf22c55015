/* translator/ident.c: IDENT instructions, copied with memory operands re-encoded for 64-bit mode. */
#include <string.h>

#include "monitor/monitor.h"
#include "translator/internal.h"

int translator_seg_index(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: return S_ES;
	case ZYDIS_REGISTER_CS: return S_CS;
	case ZYDIS_REGISTER_SS: return S_SS;
	case ZYDIS_REGISTER_DS: return S_DS;
	case ZYDIS_REGISTER_FS: return S_FS;
	case ZYDIS_REGISTER_GS: return S_GS;
	default: return S_DS;
	}
}

int insn_gpr(ZydisRegister r)
{
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR32:
	case ZYDIS_REGCLASS_GPR16:
		return ZydisRegisterGetId(r);
	case ZYDIS_REGCLASS_GPR8:
		return ZydisRegisterGetId(r) & 3;	/* AL..BL, AH..BH -> 0..3 */
	default:
		return -1;
	}
}

static bool is_high8(ZydisRegister r)
{
	return r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH ||
	       r == ZYDIS_REGISTER_DH || r == ZYDIS_REGISTER_BH;
}

const ZydisDecodedOperand *insn_mem_operand(const struct translator_insn *in)
{
	for (int i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    op->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
			return op;
	}
	return NULL;
}

/* Legacy prefixes that keep their meaning: operand size, LOCK, REP.
 * Segment overrides are dropped (64-bit mode ignores CS/DS/ES/SS ones and
 * FS/GS ones are replaced by an explicit base), 0x67 is ours to place. */
static int keep_prefixes(const struct translator_insn *in, uint8_t *out)
{
	int n = 0;
	bool norep = in->zi.mnemonic == ZYDIS_MNEMONIC_TZCNT || in->zi.mnemonic == ZYDIS_MNEMONIC_LZCNT;
	for (int i = 0; i < in->zi.raw.prefix_count; i++) {
		uint8_t p = in->zi.raw.prefixes[i].value;
		if (norep && p == 0xf3)
			continue;	/* TR_NOREP */
		switch (p) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: case 0x67:
			break;
		default:
			out[n++] = p;
		}
	}
	return n;
}

static struct hmem guest_hmem(const ZydisDecodedOperand *mop, int32_t disp_adj)
{
	struct hmem m = { -1, -1, 1, 0 };
	if (mop->mem.base != ZYDIS_REGISTER_NONE)
		m.base = insn_gpr(mop->mem.base);
	if (mop->mem.index != ZYDIS_REGISTER_NONE) {
		m.index = insn_gpr(mop->mem.index);
		m.scale = mop->mem.scale ? mop->mem.scale : 1;
	}
	m.disp = (int32_t)((uint32_t)mop->mem.disp.value + (uint32_t)disp_adj);
	return m;
}

static bool seg_needs_base(const struct tctx *c, const ZydisDecodedOperand *mop)
{
	return c->mode & TMODE_SEGBASE(translator_seg_index(mop->mem.segment));
}

/*
 * r11d = (effective address + segment base) mod 2^32.  lea with a 0x67
 * prefix does the 32-bit wrap-around and, unlike add, leaves the guest's
 * arithmetic flags alone.
 */
static bool emit_linear_r11(struct tctx *c, const ZydisDecodedOperand *mop, int32_t disp_adj)
{
	struct hmem m = guest_hmem(mop, disp_adj);
	struct hmem base = hm_base(HR_VCPU, VCPU_SEG_BASE + 4 * translator_seg_index(mop->mem.segment));
	struct hmem sum = { HR_R11, HR_R12, 1, 0 };
	return em_lea32(&c->e, HR_R11, &m, true) && em_load32(&c->e, HR_R12, &base, false) &&
	       em_lea32(&c->e, HR_R11, &sum, true);
}

/*
 * Segment limit check of the offset in r11d for an access of `size` bytes
 * through segment s (SDM vol. 3, 5.3): ea >= seg_lo[s] and
 * ea + size - 1 <= seg_hi[s].  The comparisons need flags, so the guest's
 * are parked with pushfq on the vCPU's private stack around them; this only
 * runs for segments that are not flat 4 GiB (TMODE_SEGLIMIT), which no
 * mainstream kernel uses.  A violation calls the monitor (CO_LIMIT), which
 * raises #GP(0) or #SS(0) at this instruction.
 */
bool emit_limit_check(struct tctx *c, const struct translator_insn *in, int s, uint32_t size)
{
	struct emitter *e = &c->e;
	struct hmem top = hm_base(HR_VCPU, VCPU_FSTACK_TOP);
	struct hmem lo = hm_base(HR_VCPU, VCPU_SEG_LO + 4 * s);
	struct hmem hi = hm_base(HR_VCPU, VCPU_SEG_HI + 8 * s);
	struct hmem last = hm_base(HR_R11, (int32_t)size - 1);
	static const uint8_t cmp_load[] = { 0x3b };
	if (!em_mov64_rr(e, HR_R14, HR_RSP) || !em_lea64(e, HR_RSP, &top) || !em_u8(e, 0x9c) ||
	    !em_mem(e, NULL, 0, false, false, cmp_load, 1, HR_R11, &lo) ||	/* cmp r11d, lo */
	    !em_u8(e, 0x72) || !em_u8(e, 0))	/* jb fault */
		return false;
	size_t jb = e->pos;
	if (!em_lea64(e, HR_R13, &last) ||
	    !em_mem(e, NULL, 0, false, true, cmp_load, 1, HR_R13, &hi) ||	/* cmp r13, hi */
	    !em_u8(e, 0x77) || !em_u8(e, 0))	/* ja fault */
		return false;
	size_t ja = e->pos;
	if (!em_u8(e, 0x9d) || !em_mov64_rr(e, HR_RSP, HR_R14) || !em_u8(e, 0xeb) || !em_u8(e, 0))
		return false;
	size_t jok = e->pos;
	e->w[jb - 1] = (uint8_t)(e->pos - jb);
	e->w[ja - 1] = (uint8_t)(e->pos - ja);
	if (!em_u8(e, 0x9d) || !em_mov64_rr(e, HR_RSP, HR_R14) || !tctx_callout(c, CO_LIMIT, in))
		return false;
	if (e->pos - jok > 127)
		return false;
	e->w[jok - 1] = (uint8_t)(e->pos - jok);
	return true;
}

/*
 * The access of a redirected instruction: the monitor (CO_REDIRECT) has
 * checked it against the guest's page tables and left a host pointer into
 * the physmap in vcpu->redirect_ptr; the instruction runs natively on it
 * (64-bit address, so no 0x67), with its own flags and atomicity, and
 * CO_REDIRECT_DONE tells the monitor what it changed.
 */
static bool emit_redirected(struct tctx *c, const struct translator_insn *in,
			    const ZydisDecodedOperand *mop, const uint8_t *pfx, int npfx,
			    const uint8_t *opc, int nopc, int reg, const uint8_t *tail, int ntail)
{
	struct emitter *e = &c->e;
	struct hmem ptr = hm_base(HR_VCPU, VCPU_REDIRECT_PTR);
	struct hmem m = hm_base(HR_R11, 0);
	(void)mop;
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && is_high8(in->ops[i].reg.value))
			return tctx_callout(c, CO_UNSUPPORTED, in);	/* XXX: AH..BH with r11 */
	return tctx_callout(c, CO_REDIRECT, in) && em_load64(e, HR_R11, &ptr) &&
	       em_mem(e, pfx, npfx, false, false, opc, nopc, reg, &m) &&
	       (!ntail || em_bytes(e, tail, ntail)) && tctx_callout(c, CO_REDIRECT_DONE, in);
}

bool emit_guest_mem(struct tctx *c, const struct translator_insn *in,
		    const ZydisDecodedOperand *mop, const uint8_t *pfx, int npfx,
		    const uint8_t *opc, int nopc, int reg, int32_t disp_adj,
		    const uint8_t *tail, int ntail)
{
	struct emitter *e = &c->e;
	int s = translator_seg_index(mop->mem.segment);
	bool agen = mop->mem.type == ZYDIS_MEMOP_TYPE_AGEN;
	bool limit = !agen && (c->mode & TMODE_SEGLIMIT(s));
	if (c->redirect && !agen)
		return emit_redirected(c, in, mop, pfx, npfx, opc, nopc, reg, tail, ntail);
	if (!agen && (c->mode & TMODE_SEGRO(s)) && (mop->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
		return tctx_callout(c, CO_LIMIT, in);	/* a write through a read-only segment */
	if ((!seg_needs_base(c, mop) && !limit) || agen) {
		struct hmem m = guest_hmem(mop, disp_adj);
		return em_mem(e, pfx, npfx, true, false, opc, nopc, reg, &m) &&
		       (!ntail || em_bytes(e, tail, ntail));
	}
	if (limit) {
		struct hmem m = guest_hmem(mop, disp_adj);
		struct hmem base = hm_base(HR_VCPU, VCPU_SEG_BASE + 4 * s);
		struct hmem sum = { HR_R11, HR_R12, 1, 0 };
		uint32_t size = mop->size ? mop->size / 8 : 1;
		if (!em_lea32(e, HR_R11, &m, true) || !emit_limit_check(c, in, s, size))
			return false;
		if (seg_needs_base(c, mop) &&
		    (!em_load32(e, HR_R12, &base, false) || !em_lea32(e, HR_R11, &sum, true)))
			return false;
	} else if (!emit_linear_r11(c, mop, disp_adj)) {
		return false;
	}
	bool high8 = reg < 8 && false;
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && is_high8(in->ops[i].reg.value))
			high8 = true;
	if (!high8) {
		struct hmem m = hm_base(HR_R11, 0);
		return em_mem(e, pfx, npfx, true, false, opc, nopc, reg, &m) &&
		       (!ntail || em_bytes(e, tail, ntail));
	}
	/*
	 * AH..BH cannot be named with a REX prefix, which r11 needs.  Park a
	 * guest register the instruction does not use in r12, address through
	 * it, and restore it; a fault in between restores it (pcmap fixup).
	 */
	uint8_t used = 1u << HR_RSP;
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && insn_gpr(in->ops[i].reg.value) >= 0)
			used |= (uint8_t)(1u << insn_gpr(in->ops[i].reg.value));
	int g = HR_RSI;
	while (g < 8 && (used & (1u << g)))
		g++;
	if (g == 8)
		for (g = HR_RAX; used & (1u << g); g++)
			;
	struct hmem m = hm_base(g, 0);
	if (!em_mov32_rr(e, HR_R12, g) || !em_mov32_rr(e, g, HR_R11))
		return false;
	tctx_mark(c, TCACHE_FIXUP_RESTORE_FROM_R12, (uint8_t)g);
	if (!em_mem(e, pfx, npfx, true, false, opc, nopc, reg, &m) ||
	    (ntail && !em_bytes(e, tail, ntail)))
		return false;
	tctx_mark(c, TCACHE_FIXUP_NONE, 0);
	return em_mov32_rr(e, g, HR_R12);
}

/* Offset just past ModRM/SIB/displacement: where immediates start. */
static int tail_offset(const ZydisDecodedInstruction *zi)
{
	if (zi->raw.disp.size)
		return zi->raw.disp.offset + zi->raw.disp.size / 8;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_SIB)
		return zi->raw.sib.offset + 1;
	return zi->raw.modrm.offset + 1;
}

static bool copy_plain(struct tctx *c, const struct translator_insn *in)
{
	uint8_t pfx[16];
	int npfx = keep_prefixes(in, pfx);
	int start = in->zi.raw.prefix_count;
	return em_bytes(&c->e, pfx, npfx) &&
	       em_bytes(&c->e, in->bytes + start, in->zi.length - start);
}

static bool copy_mem(struct tctx *c, const struct translator_insn *in, const ZydisDecodedOperand *mop)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	uint8_t pfx[16];
	int npfx = keep_prefixes(in, pfx);
	int start = zi->raw.prefix_count;
	if (!(zi->attributes & ZYDIS_ATTRIB_HAS_MODRM)) {
		/* MOV AL/AX/EAX <-> moffs (A0-A3): turn into the ModRM form; in
		 * 64-bit mode the moffs forms take a 64-bit offset. */
		static const uint8_t modrm_op[4] = { 0x8a, 0x8b, 0x88, 0x89 };
		uint8_t op = in->bytes[start];
		if (op < 0xa0 || op > 0xa3)
			return false;
		return emit_guest_mem(c, in, mop, pfx, npfx, &modrm_op[op - 0xa0], 1, HR_RAX, 0,
				      NULL, 0);
	}
	int nopc = zi->raw.modrm.offset - start;
	int tail = tail_offset(zi);
	return emit_guest_mem(c, in, mop, pfx, npfx, in->bytes + start, nopc, zi->raw.modrm.reg, 0,
			      in->bytes + tail, zi->length - tail);
}

static bool copy_incdec(struct tctx *c, const struct translator_insn *in)
{
	uint8_t op = in->bytes[in->zi.raw.prefix_count];
	if (op < 0x40 || op > 0x4f)
		return false;
	uint8_t pfx[16];
	int npfx = keep_prefixes(in, pfx);
	static const uint8_t ff = 0xff;
	/* FF /0 is INC r/m, FF /1 is DEC r/m; same flags as the short forms. */
	return em_rr(&c->e, pfx, npfx, false, &ff, 1, (op >> 3) & 1, op & 7);
}

static bool copy_string(struct tctx *c, const struct translator_insn *in)
{
	/* Source DS (or override) and destination ES must be flat: the host
	 * string instruction adds no base and checks no limit.  Else (and for
	 * 16-bit addressing, SI/DI/CX) the monitor runs it (CO_STRING). */
	for (int i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		int s = translator_seg_index(op->mem.segment);
		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    (seg_needs_base(c, op) || (c->mode & TMODE_SEGLIMIT(s)) ||
		     ((c->mode & TMODE_SEGRO(s)) && (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))))
			return tctx_callout(c, CO_STRING, in);
	}
	if (in->zi.address_width != 32)
		return tctx_callout(c, CO_STRING, in);
	uint8_t pfx[16];
	int npfx = keep_prefixes(in, pfx);
	int start = in->zi.raw.prefix_count;
	return em_bytes(&c->e, pfx, npfx) && em_u8(&c->e, 0x67) &&
	       em_bytes(&c->e, in->bytes + start, in->zi.length - start);
}

bool tr_ident(struct tctx *c, const struct translator_insn *in, const struct translator_row *row)
{
	if (row->rule == TR_STRING)
		return copy_string(c, in);
	const ZydisDecodedOperand *mop = insn_mem_operand(in);
	if (mop && in->zi.address_width != 32) {
		/* XXX: 16-bit addressing ([bx+si]) has no 64-bit-mode encoding;
		 * no 32-bit kernel uses it, so it is not emulated yet. */
		return tctx_callout(c, CO_UNSUPPORTED, in);
	}
	if (row->rule == TR_INCDEC && copy_incdec(c, in))
		return true;
	if (mop)
		return copy_mem(c, in, mop);
	return copy_plain(c, in);
}
