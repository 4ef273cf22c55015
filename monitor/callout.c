/* monitor/callout.c: dispatching callouts from translated code, and the pre-entry service. */
#include "monitor/internal.h"

static int dispatch(struct vcpu *v, const struct translator_callout *co);

_Static_assert(CO_NKINDS <= sizeof(((struct monitor_vm *)0)->callouts) / sizeof(uint64_t),
	       "monitor_vm.callouts holds a counter per callout kind");

/*
 * The instruction at co->eip runs past its first co->in.zi.length bytes into
 * a page that could not be fetched (CO_FETCHPF).  The processor fetches the
 * whole instruction before executing it, so this is the #PF of that fetch:
 * CR2 the first byte that cannot be fetched, the error code of an
 * instruction fetch (SDM vol. 3, 4.7; 6.15 "Interrupt 14").
 */
static int fetch_fault(struct vcpu *v, const struct translator_callout *co)
{
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH + 1];
	size_t n = (size_t)co->in.zi.length + 1;
	unsigned acc = SHADOWMM_ACC_FETCH | (v->cpl == 3 ? SHADOWMM_ACC_USER : 0);
	v->eip = co->eip;
	if (monitor_access_lin(v, v->seg[S_CS].base + co->eip, buf, n, acc, false) < 0)
		return EXIT_FAULT;
	/* XXX: the page was mapped after this unit was translated; the unit
	 * stays cached, so each run retranslates the instruction once. */
	v->transient_next = true;
	return EXIT_CALLOUT;
}

/* Instructions that are #GP(0) outside ring 0 (SDM vol. 3, 5.9). */
static int privileged(struct vcpu *v, const struct translator_callout *co)
{
	if (v->cpl == 0)
		return 0;
	ZydisMnemonic m = co->in.zi.mnemonic;
	switch (co->kind) {
	case CO_MOVCR: case CO_MOVDR: case CO_HLT: case CO_RDMSR: case CO_WRMSR:
		return monitor_need_cpl0(v, co);
	case CO_DTR:
		return m == ZYDIS_MNEMONIC_LGDT || m == ZYDIS_MNEMONIC_LIDT ? monitor_need_cpl0(v, co) : 0;
	case CO_SYSDESC:
		return m == ZYDIS_MNEMONIC_LLDT || m == ZYDIS_MNEMONIC_LTR ? monitor_need_cpl0(v, co) : 0;
	case CO_CACHE:
		return m == ZYDIS_MNEMONIC_SMSW ? 0 : monitor_need_cpl0(v, co);
	case CO_RDTSC:
		return (v->cr4 & CR4_TSD) ? monitor_need_cpl0(v, co) : 0;
	default:
		return 0;
	}
}

int monitor_callout(struct vcpu *v, const struct translator_callout *co)
{
	v->code_hit = false;
	int r = dispatch(v, co);
	if (r == 0 && v->code_hit) {
		/* The instruction wrote translated code, perhaps the code that
		 * follows it in this very unit: continue through the dispatcher
		 * (SDM vol. 3, 8.1.3: the write is seen by later instructions). */
		v->eip = co->next_eip;
		r = EXIT_CALLOUT;
	}
	v->code_hit = false;
	return r;
}

static int dispatch(struct vcpu *v, const struct translator_callout *co)
{
	v->vm->callouts[co->kind]++;
	int r = privileged(v, co);
	if (r)
		return r;
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
	case CO_FARCALL: return monitor_farcall(v, co);
	case CO_FARRET: return monitor_farret(v, co);
	case CO_IFLAGS: return monitor_iflags(v, co);
	case CO_LIMIT: return monitor_limit_fault(v, co);
	case CO_STACK: return monitor_stack(v, co);
	case CO_REDIRECT: case CO_REDIRECT_DONE: return monitor_redirect(v, co);
	case CO_IRET: return monitor_iret(v, co);
	case CO_INT: v->eip = co->eip; return monitor_int(v, co);
	case CO_HLT: return monitor_hlt(v, co);
	case CO_CACHE: return monitor_cache(v, co);
	case CO_BCDADJ: return monitor_bcd(v, co);
	case CO_BOUND: return monitor_bound(v, co);
	case CO_SYSCALLS: return monitor_sysenter(v, co);
	case CO_NONE:	/* #UD: undefined, or an extension the CPU lacks */
		v->eip = co->eip;
		monitor_raise(v, VEC_UD, -1);
		return EXIT_FAULT;
	case CO_TOOLONG:	/* SDM vol. 2, 2.3.11: longer than 15 bytes is #GP(0) */
		v->eip = co->eip;
		monitor_raise(v, VEC_GP, 0);
		return EXIT_FAULT;
	case CO_FETCHPF: return fetch_fault(v, co);
	case CO_STRING: return monitor_string(v, co);
	case CO_FPU: return monitor_fpu(v, co);
	default:
		v->eip = co->eip;
		monitor_stop(v, 2, "guest executed %s at eip 0x%08x, which bt does not "
			     "virtualize yet", ZydisMnemonicGetString(co->in.zi.mnemonic), co->eip);
		return EXIT_STOP;
	}
}

/*
 * Maskable interrupts are taken here, between units (SDM vol. 3, 6.8.1:
 * only when IF=1, and not in the shadow of STI or MOV SS).  The INTA cycle
 * happens at delivery, as on a real bus: the PIC picks the vector then.
 */
static void take_interrupt(struct vcpu *v)
{
	struct monitor_vm *vm = v->vm;
	int vec = devices_pic_ack(vm->pic);
	vm->irqs_delivered++;
	v->halted = false;
	monitor_deliver(v, vec, -1, v->eip, DELIVER_EXT);
}

bool monitor_service(struct vcpu *v)
{
	struct monitor_vm *vm = v->vm;
	v->exit_request = 0;
	v->in_service = true;
	if (v->fault_sig)
		monitor_host_fault(v);
	if (v->exc_pending && !v->stopping)
		monitor_deliver_pending(v);
	for (;;) {
		monitor_clock_sync(vm);
		if (v->stopping)
			break;
		if (v->intr && v->vif && !v->shadow && vm->pic) {
			take_interrupt(v);
			continue;	/* the handler's first insn may be in a shadow too */
		}
		if (!v->halted) {
			v->in_service = false;
			return true;
		}
		if (!v->vif || !monitor_clock_sleep(vm)) {
			monitor_stop(v, 2, "guest halted at eip 0x%08x with %s; nothing can wake it",
				     v->eip, v->vif ? "no device timer running"
						    : "interrupts disabled");
			break;
		}
	}
	v->in_service = false;
	v->exit_request = 1;
	return false;
}
