/* monitor/string.c: MOVS, LODS, STOS, CMPS, SCAS (with REP) and XLAT through non-flat segments. */
#include "monitor/internal.h"

/* Elements one callout runs before it lets the dispatcher take interrupts:
 * a REP string instruction is interruptible between iterations and resumes
 * with the registers of the next element (SDM vol. 2, REP/REPE/REPZ/REPNE). */
#define STRING_CHUNK 65536u

enum str_op { STR_MOVS, STR_LODS, STR_STOS, STR_CMPS, STR_SCAS };

/* Operation and element size of a string mnemonic; false for others. */
static bool str_kind(ZydisMnemonic m, enum str_op *op, uint32_t *size)
{
	static const struct { ZydisMnemonic m; enum str_op op; uint32_t size; } t[] = {
		{ ZYDIS_MNEMONIC_MOVSB, STR_MOVS, 1 }, { ZYDIS_MNEMONIC_MOVSW, STR_MOVS, 2 },
		{ ZYDIS_MNEMONIC_MOVSD, STR_MOVS, 4 }, { ZYDIS_MNEMONIC_LODSB, STR_LODS, 1 },
		{ ZYDIS_MNEMONIC_LODSW, STR_LODS, 2 }, { ZYDIS_MNEMONIC_LODSD, STR_LODS, 4 },
		{ ZYDIS_MNEMONIC_STOSB, STR_STOS, 1 }, { ZYDIS_MNEMONIC_STOSW, STR_STOS, 2 },
		{ ZYDIS_MNEMONIC_STOSD, STR_STOS, 4 }, { ZYDIS_MNEMONIC_CMPSB, STR_CMPS, 1 },
		{ ZYDIS_MNEMONIC_CMPSW, STR_CMPS, 2 }, { ZYDIS_MNEMONIC_CMPSD, STR_CMPS, 4 },
		{ ZYDIS_MNEMONIC_SCASB, STR_SCAS, 1 }, { ZYDIS_MNEMONIC_SCASW, STR_SCAS, 2 },
		{ ZYDIS_MNEMONIC_SCASD, STR_SCAS, 4 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].m == m) {
			*op = t[i].op;
			*size = t[i].size;
			return true;
		}
	return false;
}

/* (E)SI, (E)DI, (E)CX as the address size sees them, and their update:
 * with 16-bit addressing only the low halves count and change. */
static uint32_t areg(const struct vcpu *v, int r, bool a32)
{
	return a32 ? v->regs[r] : v->regs[r] & 0xffff;
}

static void areg_set(struct vcpu *v, int r, bool a32, uint32_t val)
{
	v->regs[r] = a32 ? val : (v->regs[r] & 0xffff0000u) | (val & 0xffff);
}

/* Reads or writes `size` bytes at seg:offset with the segment's checks
 * (#GP(0), #SS(0)) and paging's (#PF); false when a fault was raised. */
static bool str_read(struct vcpu *v, int s, uint32_t offset, uint32_t size, uint32_t *val)
{
	*val = 0;
	return op_check_access(v, s, offset, size, false) &&
	       monitor_read_lin(v, v->seg[s].base + offset, val, size) == 0;
}

static bool str_write(struct vcpu *v, int s, uint32_t offset, uint32_t size, uint32_t val)
{
	return op_check_access(v, s, offset, size, true) &&
	       monitor_write_lin(v, v->seg[s].base + offset, &val, size) == 0;
}

/* The arithmetic flags of CMP a, b on `size` bytes (SDM vol. 1, 3.4.3.1;
 * vol. 2, CMP: "The CF, OF, SF, ZF, AF, and PF flags are set according to
 * the result"). */
static uint32_t cmp_flags(uint32_t a, uint32_t b, uint32_t size)
{
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	uint32_t sign = 1u << (size * 8 - 1);
	a &= mask;
	b &= mask;
	uint32_t r = (a - b) & mask;
	return (a < b ? EFL_CF : 0) | (__builtin_parity(r & 0xff) ? 0 : EFL_PF) |
	       ((a ^ b ^ r) & 0x10 ? EFL_AF : 0) | (r == 0 ? EFL_ZF : 0) |
	       (r & sign ? EFL_SF : 0) | ((a ^ b) & (a ^ r) & sign ? EFL_OF : 0);
}

/* The segment of the source operand, DS:(E)SI or its override. */
static int source_segment(const struct translator_insn *in)
{
	for (int i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    (op->mem.base == ZYDIS_REGISTER_ESI || op->mem.base == ZYDIS_REGISTER_SI ||
		     op->mem.base == ZYDIS_REGISTER_EBX || op->mem.base == ZYDIS_REGISTER_BX))
			return translator_seg_index(op->mem.segment);
	}
	return S_DS;
}

/* XLAT: AL = seg:[(E)BX + zero-extended AL] (SDM vol. 2, XLAT/XLATB). */
static int xlat(struct vcpu *v, const struct translator_callout *co, bool a32)
{
	uint32_t off = areg(v, R_EBX, a32) + (v->regs[R_EAX] & 0xff), val;
	if (!a32)
		off &= 0xffff;
	if (!str_read(v, source_segment(&co->in), off, 1, &val))
		return monitor_op_fail(v);
	v->regs[R_EAX] = (v->regs[R_EAX] & ~0xffu) | (val & 0xff);
	return 0;
}

/*
 * One string instruction, or all its repetitions (SDM vol. 2, MOVS/LODS/
 * STOS/CMPS/SCAS, REP/REPE/REPNE).  The source is DS:(E)SI or its override,
 * the destination always ES:(E)DI; each element steps the index registers
 * by its size, down if DF=1.  A repeated instruction checks (E)CX before
 * each element and, for CMPS/SCAS, ZF after it.  An element that faults
 * (limit, type, page) leaves the registers of that element, with EIP at the
 * instruction, so that the handler can restart it (vol. 3, 6.6).
 */
int monitor_string(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	bool a32 = in->zi.address_width == 32;
	v->eip = co->eip;
	if (in->zi.mnemonic == ZYDIS_MNEMONIC_XLAT)
		return xlat(v, co, a32);
	enum str_op op;
	uint32_t size;
	if (!str_kind(in->zi.mnemonic, &op, &size)) {
		monitor_stop(v, 2, "string callout for %s at eip 0x%08x",
			     ZydisMnemonicGetString(in->zi.mnemonic), co->eip);
		return EXIT_STOP;
	}
	uint32_t attr = (uint32_t)in->zi.attributes;
	bool repe = attr & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE);
	bool repne = attr & ZYDIS_ATTRIB_HAS_REPNE;
	bool rep = repe || repne;
	bool compare = op == STR_CMPS || op == STR_SCAS;
	int src = source_segment(in);
	uint32_t step = (v->aflags & EFL_DF) ? (uint32_t)-size : size;
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

	for (uint32_t n = 0;; n++) {
		if (rep && areg(v, R_ECX, a32) == 0)
			break;
		if (rep && n == STRING_CHUNK)
			return EXIT_CALLOUT;	/* again from EIP, after interrupts */
		uint32_t si = areg(v, R_ESI, a32), di = areg(v, R_EDI, a32), a = 0, b = 0;
		switch (op) {
		case STR_MOVS:
			if (!str_read(v, src, si, size, &a) || !str_write(v, S_ES, di, size, a))
				return monitor_op_fail(v);
			break;
		case STR_LODS:
			if (!str_read(v, src, si, size, &a))
				return monitor_op_fail(v);
			v->regs[R_EAX] = (v->regs[R_EAX] & ~mask) | (a & mask);
			break;
		case STR_STOS:
			if (!str_write(v, S_ES, di, size, v->regs[R_EAX] & mask))
				return monitor_op_fail(v);
			break;
		case STR_CMPS:	/* DS:(E)SI - ES:(E)DI */
			if (!str_read(v, src, si, size, &a) || !str_read(v, S_ES, di, size, &b))
				return monitor_op_fail(v);
			break;
		case STR_SCAS:	/* AL/AX/EAX - ES:(E)DI */
			a = v->regs[R_EAX];
			if (!str_read(v, S_ES, di, size, &b))
				return monitor_op_fail(v);
			break;
		}
		if (op == STR_MOVS || op == STR_LODS || op == STR_CMPS)
			areg_set(v, R_ESI, a32, si + step);
		if (op != STR_LODS)
			areg_set(v, R_EDI, a32, di + step);
		if (compare)
			v->aflags = (v->aflags & EFL_DF) | cmp_flags(a, b, size);
		if (!rep)
			break;
		areg_set(v, R_ECX, a32, areg(v, R_ECX, a32) - 1);
		if (compare && (repe ? !(v->aflags & EFL_ZF) : (v->aflags & EFL_ZF)))
			break;
		if (v->stopping)
			return EXIT_STOP;
	}
	return v->stopping ? EXIT_STOP : 0;
}
