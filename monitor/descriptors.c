/* monitor/descriptors.c: GDT/IDT/LDT registers, segment loads and reads, far JMP. */
#include "monitor/internal.h"

int desc_read(struct vcpu *v, uint16_t sel, uint64_t *d)
{
	const struct vcpu_dtr *t;
	struct vcpu_dtr ldt;
	if (sel & 4) {
		ldt = (struct vcpu_dtr){ v->ldtr.base, (uint16_t)v->ldtr.limit };
		if ((v->ldtr.sel & 0xfffc) == 0)
			return -1;
		t = &ldt;
	} else {
		t = &v->gdtr;
	}
	uint32_t off = sel & 0xfff8u;
	if (off + 7 > t->limit)
		return -1;
	return monitor_read_lin(v, t->base + off, d, 8) < 0 ? -2 : 0;
}

/*
 * MOV/POP/Lxx to a data or stack segment register at CPL 0 (SDM vol. 2,
 * MOV "protected mode"; vol. 3, 5.5-5.7).  XXX: the descriptor's accessed
 * bit is not set in guest memory; limits are recorded but not enforced by
 * translated code.
 */
int seg_load(struct vcpu *v, int s, uint16_t sel)
{
	uint64_t d;
	unsigned rpl = sel & 3;
	if ((sel & 0xfffc) == 0) {
		if (s == S_SS) {
			monitor_raise(v, VEC_GP, 0);
			return -1;
		}
		v->seg[s] = (struct vcpu_segment){ .sel = sel };
		v->seg_base[s] = 0;
		return 0;
	}
	int r = desc_read(v, sel, &d);
	if (r == -2)
		return -1;
	if (r < 0) {
		monitor_raise(v, VEC_GP, sel & 0xfffc);
		return -1;
	}
	uint32_t hi = (uint32_t)(d >> 32);
	unsigned type = (hi >> 8) & 0xf, dpl = (hi >> 13) & 3;
	bool sbit = hi & 0x1000, code = type & 8, writable = !code && (type & 2),
	     readable = !code || (type & 2), conforming = code && (type & 4);
	if (s == S_SS) {
		if (rpl != v->cpl || !sbit || !writable || dpl != v->cpl) {
			monitor_raise(v, VEC_GP, sel & 0xfffc);
			return -1;
		}
		if (!(hi & 0x8000)) {
			monitor_raise(v, VEC_SS, sel & 0xfffc);
			return -1;
		}
		if (!(hi & (1u << 22))) {
			monitor_stop(v, 2, "16-bit stack segment 0x%04x is not virtualized yet", sel);
			return -1;
		}
	} else {
		if (!sbit || !readable || (!conforming && (rpl > dpl || v->cpl > dpl))) {
			monitor_raise(v, VEC_GP, sel & 0xfffc);
			return -1;
		}
		if (!(hi & 0x8000)) {
			monitor_raise(v, VEC_NP, sel & 0xfffc);
			return -1;
		}
	}
	monitor_seg_cache(v, s, sel, d);
	return 0;
}

int monitor_dtr(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	const ZydisDecodedOperand *m = &in->ops[0];
	uint32_t lin = op_linear(v, m);
	struct vcpu_dtr *t = (in->zi.mnemonic == ZYDIS_MNEMONIC_LGDT ||
			      in->zi.mnemonic == ZYDIS_MNEMONIC_SGDT) ? &v->gdtr : &v->idtr;
	uint8_t b[6];
	if (in->zi.mnemonic == ZYDIS_MNEMONIC_LGDT || in->zi.mnemonic == ZYDIS_MNEMONIC_LIDT) {
		if (monitor_read_lin(v, lin, b, 6) < 0)
			return EXIT_STOP;
		t->limit = (uint16_t)(b[0] | b[1] << 8);
		t->base = (uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 |
			  (uint32_t)b[5] << 24;
		/* With a 16-bit operand size only 24 bits of base are loaded. */
		if (in->zi.operand_width == 16)
			t->base &= 0x00ffffffu;
		return 0;
	}
	b[0] = (uint8_t)t->limit;
	b[1] = (uint8_t)(t->limit >> 8);
	for (int i = 0; i < 4; i++)
		b[2 + i] = (uint8_t)(t->base >> (8 * i));
	return monitor_write_lin(v, lin, b, 6) < 0 ? EXIT_STOP : 0;
}

int monitor_segload(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	uint32_t sel, off = 0;
	int s;
	v->eip = co->eip;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
		s = translator_seg_index(in->ops[0].reg.value);
		if (s == S_CS) {
			monitor_raise(v, VEC_UD, -1);	/* MOV CS is #UD */
			return EXIT_FAULT;
		}
		if (op_read(v, &in->ops[1], 2, &sel) < 0)
			return EXIT_STOP;
		break;
	case ZYDIS_MNEMONIC_POP: {
		s = translator_seg_index(in->ops[0].reg.value);
		int size = in->zi.operand_width / 8;
		if (monitor_read_lin(v, v->seg[S_SS].base + v->regs[R_ESP], &sel, 2) < 0)
			return EXIT_STOP;
		sel &= 0xffff;
		if (seg_load(v, s, (uint16_t)sel) < 0)
			return EXIT_FAULT;
		v->regs[R_ESP] += (uint32_t)size;
		v->eip = co->next_eip;
		return EXIT_CALLOUT;
	}
	default: {	/* LDS LES LFS LGS LSS r, m16:32 */
		switch (in->zi.mnemonic) {
		case ZYDIS_MNEMONIC_LDS: s = S_DS; break;
		case ZYDIS_MNEMONIC_LES: s = S_ES; break;
		case ZYDIS_MNEMONIC_LFS: s = S_FS; break;
		case ZYDIS_MNEMONIC_LGS: s = S_GS; break;
		default: s = S_SS; break;
		}
		int size = in->zi.operand_width / 8;
		uint32_t lin = op_linear(v, &in->ops[1]);
		sel = 0;
		if (monitor_read_lin(v, lin, &off, (size_t)size) < 0 ||
		    monitor_read_lin(v, lin + (uint32_t)size, &sel, 2) < 0)
			return EXIT_STOP;
		if (seg_load(v, s, (uint16_t)sel) < 0)
			return EXIT_FAULT;
		op_reg_write(v, in->ops[0].reg.value, off);
		v->eip = co->next_eip;
		return EXIT_CALLOUT;
	}
	}
	if (seg_load(v, s, (uint16_t)sel) < 0)
		return EXIT_FAULT;
	/* A load of SS inhibits interrupts for one instruction (SDM vol. 3,
	 * 6.8.3); ending the unit here and checking at the next entry is a
	 * superset of that.  XXX: exact shadow with interrupt delivery. */
	v->eip = co->next_eip;
	return EXIT_CALLOUT;
}

int monitor_segread(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	if (in->zi.mnemonic == ZYDIS_MNEMONIC_PUSH) {
		/* A 32-bit push of a segment register writes the zero-extended
		 * selector (one of the two behaviours the SDM allows; QEMU's). */
		uint32_t sel = v->seg[translator_seg_index(in->ops[0].reg.value)].sel;
		int size = in->zi.operand_width / 8;
		uint32_t esp = v->regs[R_ESP] - (uint32_t)size;
		v->eip = co->eip;
		if (monitor_write_lin(v, v->seg[S_SS].base + esp, &sel, (size_t)size) < 0)
			return EXIT_STOP;
		v->regs[R_ESP] = esp;
		return 0;
	}
	/* MOV r/m16, Sreg: to a 32-bit register the selector is zero-extended
	 * (P6 and later), to memory it is a 16-bit store. */
	uint32_t sel = v->seg[translator_seg_index(in->ops[1].reg.value)].sel;
	const ZydisDecodedOperand *dst = &in->ops[0];
	int size = dst->type == ZYDIS_OPERAND_TYPE_MEMORY ? 2 : dst->size / 8;
	v->eip = co->eip;
	return op_write(v, dst, size, sel) < 0 ? EXIT_STOP : 0;
}

int monitor_sysdesc(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	v->eip = co->eip;
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_SLDT:
	case ZYDIS_MNEMONIC_STR: {
		const ZydisDecodedOperand *dst = &in->ops[0];
		uint16_t sel = in->zi.mnemonic == ZYDIS_MNEMONIC_SLDT ? v->ldtr.sel : v->tr.sel;
		int size = dst->type == ZYDIS_OPERAND_TYPE_MEMORY ? 2 : dst->size / 8;
		return op_write(v, dst, size, sel) < 0 ? EXIT_STOP : 0;
	}
	case ZYDIS_MNEMONIC_LLDT:
	case ZYDIS_MNEMONIC_LTR: {
		uint32_t sel;
		uint64_t d;
		if (op_read(v, &in->ops[0], 2, &sel) < 0)
			return EXIT_STOP;
		bool ldt = in->zi.mnemonic == ZYDIS_MNEMONIC_LLDT;
		if (ldt && (sel & 0xfffc) == 0) {
			v->ldtr = (struct vcpu_segment){ .sel = (uint16_t)sel };
			return 0;
		}
		int r = (sel & 4) ? -1 : desc_read(v, (uint16_t)sel, &d);
		if (r == -2)
			return EXIT_STOP;
		uint32_t hi = (uint32_t)(d >> 32);
		unsigned type = (hi >> 8) & 0x1f;
		if (r < 0 || (ldt ? type != 0x02 : (type != 0x09 && type != 0x01))) {
			monitor_raise(v, VEC_GP, (int)(sel & 0xfffc));
			return EXIT_FAULT;
		}
		if (!(hi & 0x8000)) {
			monitor_raise(v, VEC_NP, (int)(sel & 0xfffc));
			return EXIT_FAULT;
		}
		struct vcpu_segment save = v->seg[S_DS];
		uint32_t save_base = v->seg_base[S_DS];
		monitor_seg_cache(v, S_DS, (uint16_t)sel, d);	/* decode through a scratch slot */
		struct vcpu_segment got = v->seg[S_DS];
		v->seg[S_DS] = save;
		v->seg_base[S_DS] = save_base;
		if (ldt) {
			v->ldtr = got;
		} else {
			/* LTR marks the TSS busy in the GDT (SDM vol. 2, LTR). */
			uint32_t nhi = hi | 0x200;
			if (monitor_write_lin(v, v->gdtr.base + (sel & 0xfff8) + 4, &nhi, 4) < 0)
				return EXIT_STOP;
			got.attr |= 0x2;
			v->tr = got;
		}
		return 0;
	}
	default:
		/* XXX: LAR, LSL, VERR, VERW and ARPL come with the CPU issue. */
		monitor_stop(v, 2, "guest executed %s at eip 0x%08x, which bt does not virtualize yet",
			     ZydisMnemonicGetString(in->zi.mnemonic), co->eip);
		return EXIT_STOP;
	}
}

int monitor_farjmp(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	const ZydisDecodedOperand *op = &in->ops[0];
	uint32_t sel, off;
	v->eip = co->eip;
	if (op->type == ZYDIS_OPERAND_TYPE_POINTER) {
		sel = op->ptr.segment;
		off = op->ptr.offset;
	} else {
		int size = in->zi.operand_width / 8;
		uint32_t lin = op_linear(v, op);
		off = 0;
		sel = 0;
		if (monitor_read_lin(v, lin, &off, (size_t)size) < 0 ||
		    monitor_read_lin(v, lin + (uint32_t)size, &sel, 2) < 0)
			return EXIT_STOP;
	}
	/* XXX: far JMP through call gates and TSS/task gates: not yet. */
	if (monitor_load_cs(v, (uint16_t)sel, off) < 0)
		return v->stopping ? EXIT_STOP : EXIT_FAULT;
	return EXIT_CALLOUT;
}
