/* translator/emit.c: small typed x86-64 encoders that the rewrites are built from. */
#include <string.h>

#include "translator/internal.h"

bool em_bytes(struct emitter *e, const uint8_t *p, size_t n)
{
	if (e->full || e->pos + n > e->cap) {
		e->full = true;
		return false;
	}
	memcpy(e->w + e->pos, p, n);
	e->pos += n;
	return true;
}

bool em_u8(struct emitter *e, uint8_t b) { return em_bytes(e, &b, 1); }
bool em_u16(struct emitter *e, uint16_t v) { return em_bytes(e, (uint8_t *)&v, 2); }
bool em_u32(struct emitter *e, uint32_t v) { return em_bytes(e, (uint8_t *)&v, 4); }
bool em_u64(struct emitter *e, uint64_t v) { return em_bytes(e, (uint8_t *)&v, 8); }

static int scale_bits(int scale)
{
	switch (scale) {
	case 2: return 1;
	case 4: return 2;
	case 8: return 3;
	default: return 0;
	}
}

/*
 * ModRM/SIB/displacement for a memory operand in 64-bit mode (SDM vol. 2,
 * 2.2.1): no base -> SIB with base=101 and mod=00, which is an absolute
 * disp32 (mod=00 rm=101 without SIB would be RIP-relative); base RSP/R12
 * needs a SIB; base RBP/R13 with mod=00 would mean "no base", so they always
 * take a displacement.
 */
static bool em_modrm_mem(struct emitter *e, int reg, const struct hmem *m)
{
	uint8_t buf[6];
	int n = 0;
	int r = reg & 7;
	int index = m->index < 0 ? 4 : (m->index & 7);
	int ss = scale_bits(m->scale);

	if (m->base < 0) {
		buf[n++] = (uint8_t)(0x04 | r << 3);
		buf[n++] = (uint8_t)(ss << 6 | index << 3 | 5);
		memcpy(buf + n, &m->disp, 4);
		n += 4;
		return em_bytes(e, buf, n);
	}
	int b = m->base & 7;
	int mod;
	if (m->disp == 0 && b != 5)
		mod = 0;
	else if (m->disp >= -128 && m->disp <= 127)
		mod = 1;
	else
		mod = 2;
	if (m->index < 0 && b != 4) {
		buf[n++] = (uint8_t)(mod << 6 | r << 3 | b);
	} else {
		buf[n++] = (uint8_t)(mod << 6 | r << 3 | 4);
		buf[n++] = (uint8_t)(ss << 6 | index << 3 | b);
	}
	if (mod == 1) {
		buf[n++] = (uint8_t)(int8_t)m->disp;
	} else if (mod == 2) {
		memcpy(buf + n, &m->disp, 4);
		n += 4;
	}
	return em_bytes(e, buf, n);
}

bool em_mem(struct emitter *e, const uint8_t *pfx, int npfx, bool a32, bool w,
	    const uint8_t *opc, int nopc, int reg, const struct hmem *m)
{
	uint8_t rex = (uint8_t)((w ? 8 : 0) | (reg >= 8 ? 4 : 0) |
				(m->index >= 8 ? 2 : 0) | (m->base >= 8 ? 1 : 0));
	if (npfx && !em_bytes(e, pfx, npfx))
		return false;
	if (a32 && !em_u8(e, 0x67))
		return false;
	if (rex && !em_u8(e, 0x40 | rex))
		return false;
	if (!em_bytes(e, opc, nopc))
		return false;
	return em_modrm_mem(e, reg, m);
}

bool em_rr(struct emitter *e, const uint8_t *pfx, int npfx, bool w,
	   const uint8_t *opc, int nopc, int reg, int rm)
{
	uint8_t rex = (uint8_t)((w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0));
	if (npfx && !em_bytes(e, pfx, npfx))
		return false;
	if (rex && !em_u8(e, 0x40 | rex))
		return false;
	if (!em_bytes(e, opc, nopc))
		return false;
	return em_u8(e, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

static const uint8_t OP_MOV_LOAD = 0x8b, OP_MOV_STORE = 0x89, OP_LEA = 0x8d;

bool em_load32(struct emitter *e, int dst, const struct hmem *m, bool a32)
{
	return em_mem(e, NULL, 0, a32, false, &OP_MOV_LOAD, 1, dst, m);
}

bool em_store32(struct emitter *e, const struct hmem *m, int src, bool a32)
{
	return em_mem(e, NULL, 0, a32, false, &OP_MOV_STORE, 1, src, m);
}

bool em_load64(struct emitter *e, int dst, const struct hmem *m)
{
	return em_mem(e, NULL, 0, false, true, &OP_MOV_LOAD, 1, dst, m);
}

bool em_store64(struct emitter *e, const struct hmem *m, int src)
{
	return em_mem(e, NULL, 0, false, true, &OP_MOV_STORE, 1, src, m);
}

bool em_lea32(struct emitter *e, int dst, const struct hmem *m, bool a32)
{
	return em_mem(e, NULL, 0, a32, false, &OP_LEA, 1, dst, m);
}

bool em_lea64(struct emitter *e, int dst, const struct hmem *m)
{
	return em_mem(e, NULL, 0, false, true, &OP_LEA, 1, dst, m);
}

bool em_mov32_rr(struct emitter *e, int dst, int src)
{
	return em_rr(e, NULL, 0, false, &OP_MOV_STORE, 1, src, dst);
}

bool em_mov64_rr(struct emitter *e, int dst, int src)
{
	return em_rr(e, NULL, 0, true, &OP_MOV_STORE, 1, src, dst);
}

bool em_mov32_ri(struct emitter *e, int dst, uint32_t imm)
{
	if (dst >= 8 && !em_u8(e, 0x41))
		return false;
	return em_u8(e, (uint8_t)(0xb8 | (dst & 7))) && em_u32(e, imm);
}

bool em_mov64_ri(struct emitter *e, int dst, uint64_t imm)
{
	return em_u8(e, (uint8_t)(0x48 | (dst >= 8 ? 1 : 0))) &&
	       em_u8(e, (uint8_t)(0xb8 | (dst & 7))) && em_u64(e, imm);
}

bool em_store8_i(struct emitter *e, const struct hmem *m, uint8_t imm)
{
	static const uint8_t op = 0xc6;
	return em_mem(e, NULL, 0, false, false, &op, 1, 0, m) && em_u8(e, imm);
}

bool em_store32_i(struct emitter *e, const struct hmem *m, uint32_t imm, bool a32)
{
	static const uint8_t op = 0xc7;
	return em_mem(e, NULL, 0, a32, false, &op, 1, 0, m) && em_u32(e, imm);
}

bool em_jmp_mem(struct emitter *e, const struct hmem *m)
{
	static const uint8_t op = 0xff;
	return em_mem(e, NULL, 0, false, false, &op, 1, 4, m);
}

void em_fix_rel32(struct emitter *e, size_t end, uint64_t target)
{
	int64_t rel = (int64_t)(target - (e->x + end));
	int32_t r32 = (int32_t)rel;
	memcpy(e->w + end - 4, &r32, 4);
}

bool em_jmp_rel32(struct emitter *e, uint64_t target)
{
	if (!em_u8(e, 0xe9) || !em_u32(e, 0))
		return false;
	em_fix_rel32(e, e->pos, target);
	return true;
}

bool em_jcc_rel32(struct emitter *e, int cc, uint64_t target)
{
	if (!em_u8(e, 0x0f) || !em_u8(e, (uint8_t)(0x80 | cc)) || !em_u32(e, 0))
		return false;
	em_fix_rel32(e, e->pos, target);
	return true;
}

bool em_align_rel32(struct emitter *e, int opc_len)
{
	/* Multi-byte NOPs would be faster, but these pads are rarely executed:
	 * they sit before exits, most of which end up chained. */
	while ((e->x + e->pos + (size_t)opc_len) & 3)
		if (!em_u8(e, 0x90))
			return false;
	return true;
}
