/* runtime/signals.c: host faults in translated code, turned into precise guest state. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/internal.h"

__thread struct runtime *runtime_current;

static void (*volatile fatal_hook)(void);

void runtime_set_fatal_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

#define ALTSTACK_SIZE (256 * 1024)

static void write_str(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r;
}

static void write_hex(uint64_t x)
{
	char b[19] = "0x";
	for (int i = 0; i < 16; i++)
		b[2 + i] = "0123456789abcdef"[(x >> (60 - 4 * i)) & 0xf];
	b[18] = 0;
	write_str(b);
}

/*
 * Faults from translated code: everything the guest can see is in the host
 * registers of the interrupted context (guest GPRs, ESP, arithmetic flags),
 * and the pcmap names the guest instruction.  Emission is fault-atomic, so
 * restarting that instruction is exact; a fixup repairs the few sequences
 * that park a guest register.  The handler records the fault and redirects
 * the context to runtime_fault_exit, so the C work happens on the monitor's
 * own stack, not here.
 */
static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	struct runtime *rt = runtime_current;
	uint64_t pc = (uint64_t)g[REG_RIP];
	struct tcache_unit *u = rt ? tcache_unit_at(&rt->tc, pc) : NULL;
	const struct tcache_pcmap *pm = u ? tcache_pcmap_at(&rt->tc, u, pc) : NULL;

	if (!pm) {
		/* Not guest code: a monitor bug.  Report and die with the signal,
		 * the terminal first put back as it was (a raw-mode console). */
		void (*hook)(void) = fatal_hook;
		if (hook)
			hook();
		write_str("bt: internal error: signal ");
		write_hex((uint64_t)sig);
		write_str(" at pc ");
		write_hex(pc);
		write_str(" addr ");
		write_hex((uint64_t)(uintptr_t)si->si_addr);
		write_str("\n");
		signal(sig, SIG_DFL);
		return;
	}
	struct vcpu *v = rt->v;
	static const int gr[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX,
				   REG_RSP, REG_RBP, REG_RSI, REG_RDI };
	for (int i = 0; i < 8; i++)
		v->regs[i] = (uint32_t)g[gr[i]];
	if (pm->fixup == TCACHE_FIXUP_RESTORE_FROM_R12)
		v->regs[pm->fixup_reg] = (uint32_t)g[REG_R12];
	v->eip = pm->eip;
	v->aflags = (uint32_t)g[REG_EFL] & EFL_ARITH;
	v->fault_sig = sig;
	v->fault_addr = (uint64_t)(uintptr_t)si->si_addr;
	v->fault_err = (uint64_t)g[REG_ERR];
	g[REG_R15] = (greg_t)(uintptr_t)v;
	g[REG_RIP] = (greg_t)(uintptr_t)runtime_fault_exit;
	g[REG_EFL] &= ~(greg_t)(EFL_DF | EFL_TF | EFL_AC);
}

int runtime_signals_init(void)
{
	stack_t ss = { .ss_size = ALTSTACK_SIZE };
	ss.ss_sp = malloc(ALTSTACK_SIZE);
	if (!ss.ss_sp)
		return -ENOMEM;
	if (sigaltstack(&ss, NULL) < 0)
		return -errno;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	/*
	 * Any other signal taken while translated code runs would be delivered
	 * on the guest's stack (RSP is the guest ESP).  Ignore SIGPIPE (a closed
	 * console is a write error), block the rest on this thread; the
	 * monitor's own asynchronous signals will all use SA_ONSTACK.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigset_t block;
	sigfillset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&block, sigs[i]);
	sigdelset(&block, SIGINT);
	sigdelset(&block, SIGTERM);
	sigdelset(&block, monitor_clock_signal());
	return pthread_sigmask(SIG_BLOCK, &block, NULL) ? -EINVAL : 0;
}
