/*
 * runtime/user.c: running guest ring-3 code in its stub (DESIGN.md §2-3):
 * start the stub on first use with the user view of guest memory, bring its
 * LDT up to date, hand it the registers, wait with a timeout at the next
 * device deadline, kick it when an interrupt is due, and give the exit to
 * the monitor.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"

/* A kick must be answered within this long, else the stub is declared hung. */
#define KICK_ANSWER_NS 2000000000ull
/* A kick that reaches the stub between two RUNs (before it entered guest
 * code) is ignored there, so an unanswered kick is repeated this often. */
#define KICK_REPEAT_NS 2000000ull
/* Without a device deadline, wake this often to notice a dead stub and
 * refuse anything an escaped guest asks of the seccomp listener. */
#define IDLE_CHECK_NS 100000000ull

static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct runtime_view *ensure_stub(struct runtime *rt)
{
	char err[256];
	struct runtime_view *w = runtime_view_current(rt, err, sizeof(err));
	if (!w)
		monitor_stop(rt->v, 1, "cannot run guest user code: %s", err);
	return w;
}

static enum monitor_user_why why_of(uint32_t exit)
{
	switch (exit) {
	case STUB_EXIT_SIGNAL: return USER_SIGNAL;
	case STUB_EXIT_SYSCALL: return USER_SYSCALL;
	case STUB_EXIT_KICK: return USER_KICK;
	default: return USER_ESCAPE;
	}
}

void runtime_user_run(struct runtime *rt)
{
	struct vcpu *v = rt->v;
	struct monitor_vm *vm = v->vm;
	struct runtime_view *view = ensure_stub(rt);
	if (!view)
		return;
	struct runtime_stub *s = rt->stub;
	struct monitor_user u;
	struct monitor_user_exit e;
	memset(&e, 0, sizeof(e));
	monitor_user_prepare(v, &u);

	struct stub_user_desc d[S_NSEG];
	for (int i = 0; i < u.nldt; i++)
		d[i] = (struct stub_user_desc){ u.ldt[i].slot, u.ldt[i].base, u.ldt[i].limit,
						u.ldt[i].flags };
	bool tsd = v->cr4 & CR4_TSD;
	if (runtime_stub_set_ldt(s, d, (uint32_t)u.nldt) < 0 ||
	    (tsd != view->tsd && runtime_stub_set_tsc(s, tsd) < 0) ||
	    runtime_stub_flush(s) < 0) {
		e.why = runtime_stub_alive(s) ? USER_HUNG : USER_DIED;
		goto dead;
	}
	view->tsd = tsd;

	if (!rt->user_entries++)
		rt->first_user_ns = monitor_now_ns(vm) | 1;
	/* The FPU state goes in only when it changed since this stub last
	 * had it (the guest kernel's FXRSTOR, another address space's code). */
	monitor_fpu_ensure(v);
	bool fpu_load = view->fpu_gen != v->fpu_gen;
	if (fpu_load)
		rt->fpu_loads++;
	runtime_stub_start(s, u.regs, u.eip, u.eflags, u.sel, fpu_load ? v->fpu : NULL);
	uint64_t kicked = 0, last_kick = 0;
	for (;;) {
		uint64_t deadline = monitor_clock_next_deadline(vm);	/* devices, host input */
		uint64_t now = host_ns();
		uint64_t until = now + IDLE_CHECK_NS;
		if (deadline != DEVICES_NEVER && vm->clock_base_ns + deadline < until)
			until = vm->clock_base_ns + deadline;
		if (kicked && last_kick + KICK_REPEAT_NS < until)
			until = last_kick + KICK_REPEAT_NS;
		int r = runtime_stub_wait(s, until);
		if (r == 0)
			break;
		if (r == -ESRCH) {
			e.why = USER_DIED;
			goto dead;
		}
		/* A deadline: run the devices, and interrupt guest code if the
		 * guest can take an interrupt now. */
		if (runtime_stub_refuse_pending(s)) {
			e.why = USER_ESCAPE;	/* only an escaped guest asks for mappings */
			goto dead;
		}
		monitor_clock_sync(vm);
		if (v->stopping) {
			runtime_stub_kick(s);
			runtime_stub_wait(s, host_ns() + KICK_ANSWER_NS);
			return;
		}
		uint64_t t = host_ns();
		if (kicked && t >= kicked + KICK_ANSWER_NS) {
			e.why = USER_HUNG;
			goto dead;
		}
		if (kicked && t >= last_kick + KICK_REPEAT_NS) {
			runtime_stub_kick(s);
			last_kick = t;
		}
		if (!kicked && v->intr && v->vif) {
			runtime_stub_kick(s);
			rt->kicks++;
			kicked = last_kick = t;
		}
	}
	struct runtime_stub_exit x;
	runtime_stub_result(s, &x);
	e.why = why_of(x.exit);
	memcpy(e.regs, x.regs, sizeof(e.regs));
	e.eip = x.eip;
	e.eflags = x.eflags;
	memcpy(e.sel, x.sel, sizeof(e.sel));
	e.signo = x.signo;
	e.trapno = x.trapno;
	e.err = x.err;
	e.addr = x.addr;
	e.rip = x.rip;
	if (e.why == USER_ESCAPE || (e.why == USER_SYSCALL && x.syscall_arch != 0x40000003u))
		goto dead;
	rt->user_exits[e.why]++;
	if (e.why == USER_SIGNAL)
		rt->user_traps[x.trapno & 31]++;
	uint8_t fpu[512];
	runtime_stub_fpu(s, fpu);
	monitor_fpu_from_user(v, fpu, u.guest_sel[S_CS], u.guest_sel[S_DS]);
	view->fpu_gen = v->fpu_gen;
	monitor_user_exit(v, &u, &e);
	return;
dead:
	e.why = e.why == USER_SYSCALL ? USER_ESCAPE : e.why;
	e.death_signal = runtime_stub_death_signal(s);
	rt->user_exits[e.why]++;
	rt->stub_kills++;
	runtime_view_drop_current(rt);
	monitor_user_exit(v, &u, &e);
}
