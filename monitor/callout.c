/* monitor/callout.c: dispatching callouts from translated code, and the pre-entry service. */
#include "monitor/internal.h"

int monitor_callout(struct vcpu *v, const struct translator_callout *co)
{
	if (co->kind < 32)
		v->vm->callouts[co->kind]++;
	switch (co->kind) {
	case CO_IO: return monitor_io(v, co);
	case CO_STRIO: return monitor_strio(v, co);
	case CO_CPUID: return monitor_cpuid(v, co);
	case CO_RDTSC: return monitor_rdtsc(v, co);
	case CO_RDMSR: case CO_WRMSR: return monitor_msr(v, co);
	case CO_MOVCR: return monitor_movcr(v, co);
	case CO_MOVDR: return monitor_movdr(v, co);
	case CO_DTR: return monitor_dtr(v, co);
	case CO_SEGLOAD: return monitor_segload(v, co);
	case CO_SEGREAD: return monitor_segread(v, co);
	case CO_SYSDESC: return monitor_sysdesc(v, co);
	case CO_FARJMP: return monitor_farjmp(v, co);
	case CO_IRET: return monitor_iret(v, co);
	case CO_INT: v->eip = co->eip; return monitor_int(v, co);
	case CO_HLT: return monitor_hlt(v, co);
	case CO_CACHE: return monitor_cache(v, co);
	case CO_BCDADJ: return monitor_bcd(v, co);
	case CO_BOUND: return monitor_bound(v, co);
	case CO_SYSCALLS:
		/* SEP is not advertised and SYSENTER_CS_MSR reads 0: #GP(0)
		 * (SDM vol. 2, SYSENTER). */
		v->eip = co->eip;
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	case CO_NONE:	/* #UD: undefined, or an extension the CPU lacks */
		v->eip = co->eip;
		monitor_raise(v, VEC_UD, -1);
		return EXIT_FAULT;
	case CO_FPU:
		v->eip = co->eip;
		monitor_stop(v, 2, "guest executed an x87/MMX/SSE instruction (%s) at eip 0x%08x; "
			     "FPU state is not virtualized yet",
			     ZydisMnemonicGetString(co->in.zi.mnemonic), co->eip);
		return EXIT_STOP;
	default:
		v->eip = co->eip;
		monitor_stop(v, 2, "guest executed %s at eip 0x%08x, which bt does not "
			     "virtualize yet", ZydisMnemonicGetString(co->in.zi.mnemonic), co->eip);
		return EXIT_STOP;
	}
}

bool monitor_service(struct vcpu *v)
{
	v->exit_request = 0;
	if (v->fault_sig)
		monitor_host_fault(v);
	if (v->exc_pending && !v->stopping)
		monitor_deliver_pending(v);
	if (v->stopping) {
		v->exit_request = 1;
		return false;
	}
	return true;
}
