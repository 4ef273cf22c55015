/*
 * monitor/stackemu.c: stack instructions run by the monitor when SS is not
 * flat (a base, or a limit below 4 GiB).  Translated code addresses the
 * stack as plain [esp], which is only right for a flat SS; kernels use
 * one, so the general case is emulated here, with the SDM's SS limit
 * checks (#SS(0), SDM vol. 3, 6.15) and faults before any state changes.
 */
#include "monitor/internal.h"

struct stk {
	struct vcpu *v;
	uint32_t esp;	/* working copy, committed at the end */
	int size;
};

static bool spush(struct stk *k, uint32_t val)
{
	uint32_t esp = k->esp - (uint32_t)k->size;
	if (!op_check_limit(k->v, S_SS, esp, (uint32_t)k->size))
		return false;
	if (monitor_write_lin(k->v, k->v->seg[S_SS].base + esp, &val, (size_t)k->size) < 0)
		return false;
	k->esp = esp;
	return true;
}

static bool spop(struct stk *k, uint32_t *val)
{
	uint32_t x = 0;
	if (!op_check_limit(k->v, S_SS, k->esp, (uint32_t)k->size))
		return false;
	if (monitor_read_lin(k->v, k->v->seg[S_SS].base + k->esp, &x, (size_t)k->size) < 0)
		return false;
	k->esp += (uint32_t)k->size;
	*val = x;
	return true;
}

static uint32_t eflags_image(const struct vcpu *v)
{
	return vcpu_get_eflags(v) & ~(EFL_RF | EFL_VM);
}

int monitor_stack(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	const ZydisDecodedOperand *op = &in->ops[0];
	struct stk k = { v, v->regs[R_ESP], in->zi.operand_width / 8 };
	uint32_t val = 0, next = co->next_eip;
	v->eip = co->eip;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_PUSH:
		if (op_read(v, op, k.size, &val) < 0 || !spush(&k, val))
			return monitor_op_fail(v);
		break;
	case ZYDIS_MNEMONIC_POP:
		if (!spop(&k, &val))
			return monitor_op_fail(v);
		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			/* POP m computes its address with ESP already incremented. */
			uint32_t save = v->regs[R_ESP];
			v->regs[R_ESP] = k.esp;
			int r = op_write(v, op, k.size, val);
			v->regs[R_ESP] = save;
			if (r < 0)
				return monitor_op_fail(v);
		} else if (op->reg.value == ZYDIS_REGISTER_ESP || op->reg.value == ZYDIS_REGISTER_SP) {
			k.esp = k.size == 2 ? (k.esp & 0xffff0000u) | (val & 0xffff) : val;
			break;
		} else {
			op_reg_write(v, op->reg.value, val);
		}
		break;
	case ZYDIS_MNEMONIC_PUSHAD:
	case ZYDIS_MNEMONIC_PUSHA: {
		uint32_t regs[8];
		for (int i = 0; i < 8; i++)
			regs[i] = v->regs[i];
		for (int i = 0; i < 8; i++)
			if (!spush(&k, regs[i]))
				return monitor_op_fail(v);
		break;
	}
	case ZYDIS_MNEMONIC_POPAD:
	case ZYDIS_MNEMONIC_POPA: {
		uint32_t regs[8];
		for (int i = 7; i >= 0; i--)
			if (!spop(&k, &regs[i]))
				return monitor_op_fail(v);
		for (int i = 0; i < 8; i++) {
			if (i == R_ESP)
				continue;	/* the saved ESP is skipped */
			v->regs[i] = k.size == 2 ? (v->regs[i] & 0xffff0000u) | (regs[i] & 0xffff)
						 : regs[i];
		}
		break;
	}
	case ZYDIS_MNEMONIC_PUSHFD:
	case ZYDIS_MNEMONIC_PUSHF:
		if (!spush(&k, eflags_image(v)))
			return monitor_op_fail(v);
		break;
	case ZYDIS_MNEMONIC_POPFD:
	case ZYDIS_MNEMONIC_POPF:
		if (!spop(&k, &val))
			return monitor_op_fail(v);
		monitor_write_eflags(v, val & ~EFL_RF, k.size);
		v->vflags &= ~EFL_RF;
		break;
	case ZYDIS_MNEMONIC_ENTER: {
		uint32_t alloc = (uint32_t)in->ops[0].imm.value.u & 0xffff;
		if ((in->ops[1].imm.value.u & 31) != 0) {
			monitor_stop(v, 2, "nested ENTER is not virtualized yet (eip 0x%08x)", co->eip);
			return EXIT_STOP;
		}
		if (!spush(&k, v->regs[R_EBP]))
			return monitor_op_fail(v);
		uint32_t frame = k.esp;
		if (!op_check_limit(v, S_SS, k.esp - alloc, alloc ? alloc : 1))
			return EXIT_FAULT;
		v->regs[R_EBP] = frame;
		k.esp -= alloc;
		break;
	}
	case ZYDIS_MNEMONIC_LEAVE:
		k.esp = v->regs[R_EBP];
		if (!spop(&k, &val))
			return monitor_op_fail(v);
		v->regs[R_EBP] = val;
		break;
	case ZYDIS_MNEMONIC_CALL: {
		uint32_t target;
		if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			target = co->next_eip + (uint32_t)op->imm.value.s;
		else if (op_read(v, op, k.size, &target) < 0)
			return monitor_op_fail(v);
		if (k.size == 2)
			target &= 0xffff;
		if (target > v->seg[S_CS].limit) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		if (!spush(&k, co->next_eip))
			return monitor_op_fail(v);
		next = target;
		break;
	}
	case ZYDIS_MNEMONIC_RET: {
		if (!spop(&k, &val))
			return monitor_op_fail(v);
		if (k.size == 2)
			val &= 0xffff;
		if (val > v->seg[S_CS].limit) {
			monitor_raise(v, VEC_GP, 0);
			return EXIT_FAULT;
		}
		if (in->zi.operand_count_visible)
			k.esp += (uint32_t)in->ops[0].imm.value.u & 0xffff;
		next = val;
		break;
	}
	default:
		monitor_stop(v, 2, "stack instruction %s with a non-flat SS is not virtualized "
			     "(eip 0x%08x)", ZydisMnemonicGetString(in->zi.mnemonic), co->eip);
		return EXIT_STOP;
	}
	/* XXX: a 16-bit SS (B=0) would use SP; every 32-bit kernel's SS is 32-bit. */
	v->regs[R_ESP] = k.esp;
	v->eip = next;
	return EXIT_CALLOUT;
}
