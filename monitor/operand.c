/* monitor/operand.c: reading and writing the operands of emulated instructions. */
#include <errno.h>

#include "monitor/internal.h"

uint32_t op_reg_read(const struct vcpu *v, ZydisRegister r)
{
	int id = ZydisRegisterGetId(r);
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR32: return v->regs[id];
	case ZYDIS_REGCLASS_GPR16: return v->regs[id] & 0xffff;
	case ZYDIS_REGCLASS_GPR8:
		return id < 4 ? v->regs[id] & 0xff : (v->regs[id - 4] >> 8) & 0xff;
	default: return 0;
	}
}

void op_reg_write(struct vcpu *v, ZydisRegister r, uint32_t val)
{
	int id = ZydisRegisterGetId(r);
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR32:
		v->regs[id] = val;
		break;
	case ZYDIS_REGCLASS_GPR16:
		v->regs[id] = (v->regs[id] & 0xffff0000u) | (val & 0xffff);
		break;
	case ZYDIS_REGCLASS_GPR8:
		if (id < 4)
			v->regs[id] = (v->regs[id] & ~0xffu) | (val & 0xff);
		else
			v->regs[id - 4] = (v->regs[id - 4] & ~0xff00u) | ((val & 0xff) << 8);
		break;
	default:
		break;
	}
}

uint32_t op_linear(const struct vcpu *v, const ZydisDecodedOperand *op)
{
	uint32_t ea = (uint32_t)op->mem.disp.value;
	if (op->mem.base != ZYDIS_REGISTER_NONE)
		ea += op_reg_read(v, op->mem.base);
	if (op->mem.index != ZYDIS_REGISTER_NONE)
		ea += op_reg_read(v, op->mem.index) * (op->mem.scale ? op->mem.scale : 1);
	/* Limits are checked by op_read/op_write and the callers of this. */
	return ea + v->seg[translator_seg_index(op->mem.segment)].base;
}

bool op_check_access(struct vcpu *v, int s, uint32_t offset, uint32_t size, bool write)
{
	const struct vcpu_segment *g = &v->seg[s];
	bool null = s != S_CS && s != S_SS && (g->sel & 0xfffc) == 0;
	bool code = (g->attr & 0x18) == 0x18;
	bool ok = !null && seg_in_limit(g, offset, size) &&
		  (write ? !code && (g->attr & 0x2) : !code || (g->attr & 0x2));
	if (ok)
		return true;
	monitor_raise(v, s == S_SS ? VEC_SS : VEC_GP, 0);
	return false;
}

/* The offset part of a memory operand (before the segment base). */
static uint32_t op_offset(const struct vcpu *v, const ZydisDecodedOperand *op)
{
	uint32_t ea = (uint32_t)op->mem.disp.value;
	if (op->mem.base != ZYDIS_REGISTER_NONE)
		ea += op_reg_read(v, op->mem.base);
	if (op->mem.index != ZYDIS_REGISTER_NONE)
		ea += op_reg_read(v, op->mem.index) * (op->mem.scale ? op->mem.scale : 1);
	return ea;
}

int op_read(struct vcpu *v, const ZydisDecodedOperand *op, int size, uint32_t *val)
{
	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		*val = op_reg_read(v, op->reg.value);
		return 0;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		*val = (uint32_t)op->imm.value.u;
		return 0;
	case ZYDIS_OPERAND_TYPE_MEMORY: {
		uint32_t x = 0;
		if (!op_check_access(v, translator_seg_index(op->mem.segment), op_offset(v, op),
				     (uint32_t)size, false))
			return -EFAULT;
		if (monitor_read_lin(v, op_linear(v, op), &x, (size_t)size) < 0)
			return -EFAULT;
		*val = x;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

int op_write(struct vcpu *v, const ZydisDecodedOperand *op, int size, uint32_t val)
{
	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		op_reg_write(v, op->reg.value, val);
		return 0;
	case ZYDIS_OPERAND_TYPE_MEMORY:
		if (!op_check_access(v, translator_seg_index(op->mem.segment), op_offset(v, op),
				     (uint32_t)size, true))
			return -EFAULT;
		return monitor_write_lin(v, op_linear(v, op), &val, (size_t)size) < 0 ? -EFAULT : 0;
	default:
		return -EINVAL;
	}
}

/*
 * Translated code found a segment limit violated, or wrote through a
 * segment that is not writable (CO_LIMIT): find the operand and raise what
 * the CPU would, #SS(0) through SS, else #GP(0) (SDM vol. 3, 5.3-5.4, 6.15).
 */
int monitor_limit_fault(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	v->eip = co->eip;
	for (int i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type == ZYDIS_MEMOP_TYPE_AGEN ||
		    op->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
			continue;
		uint32_t size = op->size ? op->size / 8 : 1;
		bool write = op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
		/* Reads are checked first: a read-modify-write faults either way. */
		if (!op_check_access(v, translator_seg_index(op->mem.segment), op_offset(v, op), size,
				     false) ||
		    (write && !op_check_access(v, translator_seg_index(op->mem.segment),
					       op_offset(v, op), size, true)))
			return EXIT_FAULT;
	}
	monitor_raise(v, VEC_GP, 0);
	return EXIT_FAULT;
}
