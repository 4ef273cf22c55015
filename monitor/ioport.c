/* monitor/ioport.c: IN, OUT, INS and OUTS, dispatched to the device bus. */
#include "monitor/internal.h"

/* Outside ring 0, IOPL and then the TSS I/O bitmap decide (SDM vol. 1,
 * 19.5; monitor/privilege.c); a denied access is #GP(0) before any I/O. */

int monitor_io(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	bool is_in = in->zi.mnemonic == ZYDIS_MNEMONIC_IN;
	const ZydisDecodedOperand *data = &in->ops[is_in ? 0 : 1];
	const ZydisDecodedOperand *port = &in->ops[is_in ? 1 : 0];
	int size = data->size / 8;
	uint16_t p = (uint16_t)(port->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? port->imm.value.u
									   : v->regs[R_EDX]);
	v->eip = co->eip;
	if (!monitor_io_allowed(v, p, size)) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	if (is_in) {
		op_reg_write(v, data->reg.value, devices_bus_in(&v->vm->bus, p, size));
	} else {
		devices_bus_out(&v->vm->bus, p, op_reg_read(v, data->reg.value), size);
		if (v->stopping)
			return EXIT_STOP;
	}
	return 0;
}

int monitor_strio(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	ZydisMnemonic m = in->zi.mnemonic;
	bool is_in = m == ZYDIS_MNEMONIC_INSB || m == ZYDIS_MNEMONIC_INSW || m == ZYDIS_MNEMONIC_INSD;
	int size = in->zi.operand_width / 8;
	if (m == ZYDIS_MNEMONIC_INSB || m == ZYDIS_MNEMONIC_OUTSB)
		size = 1;
	bool rep = in->zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
					ZYDIS_ATTRIB_HAS_REPNE);
	int32_t step = (v->aflags & EFL_DF) ? -size : size;
	uint16_t port = (uint16_t)v->regs[R_EDX];
	v->eip = co->eip;
	if (!monitor_io_allowed(v, port, size)) {
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	}
	if (in->zi.address_width != 32) {
		monitor_stop(v, 2, "16-bit addressing string I/O is not virtualized yet");
		return EXIT_STOP;
	}
	/* OUTS reads DS:ESI (segment override allowed); INS writes ES:EDI. */
	int seg = S_DS;
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
			seg = translator_seg_index(in->ops[i].mem.segment);
	while (!rep || v->regs[R_ECX]) {
		uint32_t val = 0;
		/* Each element is checked against its segment's limit and type
		 * before the port is touched (SDM vol. 2, INS/OUTS: #GP(0) for an
		 * illegal effective address, #GP(0) for a non-writable ES; vol. 3,
		 * 5.3); a fault leaves ECX/EDI/ESI at that element, as REP does. */
		if (is_in) {
			if (!op_check_access(v, S_ES, v->regs[R_EDI], (uint32_t)size, true))
				return monitor_op_fail(v);
			val = devices_bus_in(&v->vm->bus, port, size);
			if (monitor_write_lin(v, v->seg[S_ES].base + v->regs[R_EDI], &val, (size_t)size) < 0)
				return monitor_op_fail(v);
			v->regs[R_EDI] += (uint32_t)step;
		} else {
			if (!op_check_access(v, seg, v->regs[R_ESI], (uint32_t)size, false) ||
			    monitor_read_lin(v, v->seg[seg].base + v->regs[R_ESI], &val, (size_t)size) < 0)
				return monitor_op_fail(v);
			devices_bus_out(&v->vm->bus, port, val, size);
			v->regs[R_ESI] += (uint32_t)step;
		}
		if (rep)
			v->regs[R_ECX]--;
		if (!rep || v->stopping)
			break;
	}
	return v->stopping ? EXIT_STOP : 0;
}
