/*
 * runtime/stubproc.c: the stub program, a freestanding x86-64 executable
 * (no libc) that runs guest user code directly, in 32-bit compatibility
 * mode, in an address space that holds nothing of the monitor (DESIGN.md
 * §2-3).  bt embeds it and starts one per guest address space.
 *
 * Start-up: map the control page, install the signal handlers (on an
 * alternate stack: when a signal interrupts guest code, RSP is the guest's
 * ESP), close every inherited descriptor but guest RAM, and put the process
 * in a seccomp jail whose listener the monitor takes:
 *   - i386 system calls (INT 0x80, SYSENTER from guest code) trap (SIGSYS):
 *     they are guest system calls;
 *   - mmap, mremap and mprotect adding write access are sent to the
 *     monitor, which allows only the changes it queued itself; munmap and
 *     write-removing mprotect below 8 GiB only take access away, and are
 *     allowed;
 *   - futex, rt_sigreturn, exit and modify_ldt are allowed (modify_ldt only
 *     ever describes segments of this address space, which a guest may
 *     address anyway);
 *   - prctl(PR_SET_TSC) is allowed (CR4.TSD for guest RDTSC);
 *   - everything else kills the process.
 * Then it serves commands from the monitor (stubctl.h).  RUN loads the
 * guest registers and IRETQs into guest code; any signal brings it back:
 * the handler copies the interrupted state to the control page and returns
 * through rt_sigreturn into the command loop instead of into guest code, so
 * the guest's FPU/SSE state, saved in the signal frame, is restored by
 * sigreturn; the command loop then stores it in the control page for the
 * monitor (FXSAVE) and loads the monitor's copy before RUN when it
 * changed (FXRSTOR).  The stub itself never touches the FPU otherwise
 * (-mgeneral-regs-only).
 */
#include <stddef.h>
#include <stdint.h>

#include "runtime/stubctl.h"

#define NR_read 0
#define NR_close 3
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_rt_sigaction 13
#define NR_rt_sigreturn 15
#define NR_mremap 25
#define NR_exit 60
#define NR_sigaltstack 131
#define NR_modify_ldt 154
#define NR_prctl 157
#define NR_arch_prctl 158
#define NR_futex 202
#define NR_exit_group 231
#define NR_seccomp 317

#define SIGILL 4
#define SIGTRAP 5
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGSEGV 11
#define SIGSYS 31

#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 1
#define MAP_FIXED 0x10
#define MAP_FIXED_NOREPLACE 0x100000

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

#define PR_SET_PDEATHSIG 1
#define PR_SET_TSC 26
#define PR_SET_NO_NEW_PRIVS 38
#define PR_TSC_ENABLE 1
#define PR_TSC_SIGSEGV 2
#define ARCH_SET_CPUID 0x1012

#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_FILTER_FLAG_NEW_LISTENER 8
#define SECCOMP_RET_KILL_PROCESS 0x80000000u
#define SECCOMP_RET_TRAP 0x00030000u
#define SECCOMP_RET_USER_NOTIF 0x7fc00000u
#define SECCOMP_RET_ALLOW 0x7fff0000u
#define AUDIT_ARCH_X86_64 0xc000003eu
#define AUDIT_ARCH_I386 0x40000003u
#define X32_SYSCALL_BIT 0x40000000u

#define USER64_CS 0x33
#define USER_DS 0x2b
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4

#define ALT_STACK_SIZE 65536
#define MAIN_STACK_SIZE 65536

static struct stub_ctl *const ctl = (struct stub_ctl *)STUB_CTL;

/* stubproc.S reads the guest state at these offsets. */
_Static_assert(offsetof(struct stub_ctl, regs) == 24, "CTL_REGS");
_Static_assert(offsetof(struct stub_ctl, eip) == 56, "CTL_EIP");
_Static_assert(offsetof(struct stub_ctl, eflags) == 60, "CTL_EFLAGS");
_Static_assert(offsetof(struct stub_ctl, sel) == 64, "CTL_SEL");

/* ---- system calls ---- */

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static __attribute__((noreturn)) void die(int code)
{
	for (;;)
		sys1(NR_exit_group, code);
}

/* ---- kernel ABI structures (x86-64) ---- */

struct k_sigaction {
	void (*handler)(int, void *, void *);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

struct k_stack {
	void *sp;
	int flags;
	unsigned long size;
};

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved[8];
};

struct k_ucontext {
	unsigned long flags;
	struct k_ucontext *link;
	struct k_stack stack;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_siginfo {
	int signo, errno_, code, pad;
	union {
		void *addr;				/* SIGSEGV, SIGBUS, SIGFPE, SIGILL */
		struct { void *call_addr; int syscall; unsigned arch; } sys;	/* SIGSYS */
	} u;
};

struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };

#define BPF_LD_W_ABS 0x20
#define BPF_JEQ_K 0x15
#define BPF_JGE_K 0x35
#define BPF_RET_K 0x06
#define STMT(c, k) { (uint16_t)(c), 0, 0, (uint32_t)(k) }
#define JUMP(c, k, t, f) { (uint16_t)(c), (uint8_t)(t), (uint8_t)(f), (uint32_t)(k) }

#define BPF_JSET_K 0x45

/* seccomp_data: nr at 0, arch at 4, args at 16 (8 bytes each; the high
 * word of argument i at 20 + 8 i).  Jumps are forward only. */
static struct sock_filter filter[] = {
	STMT(BPF_LD_W_ABS, 4),
	JUMP(BPF_JEQ_K, AUDIT_ARCH_I386, 0, 1),
	STMT(BPF_RET_K, SECCOMP_RET_TRAP),			/* a guest system call */
	JUMP(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
	STMT(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
	STMT(BPF_LD_W_ABS, 0),
	JUMP(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1),
	STMT(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
	/* 8 */ JUMP(BPF_JEQ_K, NR_futex, 9, 0),
	/* 9 */ JUMP(BPF_JEQ_K, NR_rt_sigreturn, 8, 0),
	/* 10 */ JUMP(BPF_JEQ_K, NR_exit, 7, 0),
	/* 11 */ JUMP(BPF_JEQ_K, NR_exit_group, 6, 0),
	/* 12 */ JUMP(BPF_JEQ_K, NR_modify_ldt, 5, 0),
	/* 13 */ JUMP(BPF_JEQ_K, NR_mmap, 5, 0),
	/* 14 */ JUMP(BPF_JEQ_K, NR_munmap, 9, 0),
	/* 15 */ JUMP(BPF_JEQ_K, NR_mprotect, 14, 0),
	/* 16 */ JUMP(BPF_JEQ_K, NR_prctl, 3, 0),
	/* 17 */ STMT(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
	/* 18 */ STMT(BPF_RET_K, SECCOMP_RET_ALLOW),
	/* 19 */ STMT(BPF_RET_K, SECCOMP_RET_USER_NOTIF),	/* mappings: the monitor checks */
	/* 20: prctl, only PR_SET_TSC (arg0's low word at offset 16) */
	STMT(BPF_LD_W_ABS, 16),
	JUMP(BPF_JEQ_K, PR_SET_TSC, 0, 1),
	STMT(BPF_RET_K, SECCOMP_RET_ALLOW),
	STMT(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
	/*
	 * 24: munmap with address and length below 4 GiB each, so within
	 * [0, 8 GiB), where the stub has nothing but its user view of guest
	 * pages (its code, stacks and control page are at 64 GiB and up):
	 * allowed without asking, since it can only take away the stub's own
	 * access.  Anything else is for the monitor, which refuses it.
	 */
	/* 24 */ STMT(BPF_LD_W_ABS, 20),
	/* 25 */ JUMP(BPF_JEQ_K, 0, 0, 3),
	/* 26 */ STMT(BPF_LD_W_ABS, 28),
	/* 27 */ JUMP(BPF_JEQ_K, 0, 0, 1),
	/* 28 */ STMT(BPF_RET_K, SECCOMP_RET_ALLOW),
	/* 29 */ STMT(BPF_RET_K, SECCOMP_RET_USER_NOTIF),
	/* 30: mprotect in the same range without PROT_WRITE (a shared mapping
	 * of guest RAM made writable is the one thing to check; execute on a
	 * readable page gives nothing a copy would not) is allowed as well. */
	/* 30 */ STMT(BPF_LD_W_ABS, 20),
	/* 31 */ JUMP(BPF_JEQ_K, 0, 0, 5),
	/* 32 */ STMT(BPF_LD_W_ABS, 28),
	/* 33 */ JUMP(BPF_JEQ_K, 0, 0, 3),
	/* 34 */ STMT(BPF_LD_W_ABS, 32),
	/* 35 */ JUMP(BPF_JSET_K, PROT_WRITE, 1, 0),
	/* 36 */ STMT(BPF_RET_K, SECCOMP_RET_ALLOW),
	/* 37 */ STMT(BPF_RET_K, SECCOMP_RET_USER_NOTIF),
};

/* ---- guest entry and the command loop (stubproc.S) ---- */

void stub_restorer(void);
__attribute__((noreturn)) void stub_enter_guest(struct stub_ctl *c);
__attribute__((noreturn)) void stub_loop_entry(void);
extern char __executable_start[], etext[];	/* from the default linker script */
extern char stub_main_stack_top[];

static uint8_t alt_stack[ALT_STACK_SIZE] __attribute__((aligned(16)));

static int in_stub_text(uint64_t rip)
{
	return rip >= (uint64_t)__executable_start && rip < (uint64_t)etext;
}

static uint16_t read_seg(int which)
{
	uint16_t v = 0;
	switch (which) {
	case STUB_DS: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case STUB_ES: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case STUB_FS: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	case STUB_GS: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	}
	return v;
}

/*
 * Every signal comes here.  A signal that interrupted the stub's own code
 * (a kick that arrived between two RUNs) is ignored.  Otherwise the state
 * goes to the control page and the handler "returns" into the command
 * loop: sigreturn restores the FPU state and signal mask, RIP/RSP/CS/SS are
 * the loop's.
 */
static void on_signal(int sig, void *siv, void *ucv)
{
	struct k_siginfo *si = siv;
	struct k_ucontext *uc = ucv;
	struct k_sigcontext *mc = &uc->mc;
	int compat = mc->cs != USER64_CS;

	if (!compat && in_stub_text(mc->rip) && sig == STUB_KICK_SIGNAL)
		return;
	ctl->exit = !compat ? STUB_EXIT_ESCAPE
		  : sig == SIGSYS ? STUB_EXIT_SYSCALL
		  : sig == STUB_KICK_SIGNAL ? STUB_EXIT_KICK : STUB_EXIT_SIGNAL;
	ctl->regs[0] = (uint32_t)mc->rax;
	ctl->regs[1] = (uint32_t)mc->rcx;
	ctl->regs[2] = (uint32_t)mc->rdx;
	ctl->regs[3] = (uint32_t)mc->rbx;
	ctl->regs[4] = (uint32_t)mc->rsp;
	ctl->regs[5] = (uint32_t)mc->rbp;
	ctl->regs[6] = (uint32_t)mc->rsi;
	ctl->regs[7] = (uint32_t)mc->rdi;
	ctl->eip = (uint32_t)mc->rip;
	ctl->eflags = (uint32_t)mc->eflags;
	ctl->sel[STUB_CS] = mc->cs;
	ctl->sel[STUB_SS] = mc->ss;
	ctl->sel[STUB_DS] = read_seg(STUB_DS);
	ctl->sel[STUB_ES] = read_seg(STUB_ES);
	ctl->sel[STUB_FS] = read_seg(STUB_FS);
	ctl->sel[STUB_GS] = read_seg(STUB_GS);
	ctl->signo = (uint32_t)sig;
	ctl->code = (uint32_t)si->code;
	ctl->trapno = (uint32_t)mc->trapno;
	ctl->err = (uint32_t)mc->err;
	ctl->addr = (uint64_t)si->u.addr;
	ctl->rip = mc->rip;
	ctl->cs = mc->cs;
	ctl->syscall_nr = sig == SIGSYS ? (uint32_t)si->u.sys.syscall : 0;
	ctl->syscall_arch = sig == SIGSYS ? si->u.sys.arch : 0;

	mc->rip = (uint64_t)stub_loop_entry;
	mc->rsp = (uint64_t)stub_main_stack_top;
	mc->cs = USER64_CS;
	mc->ss = USER_DS;
	mc->eflags = 0x202;	/* IF; no TF, AC or DF for the stub's own code */
	uc->flags |= UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
}

static void futex_wake(volatile uint32_t *w)
{
	sys6(NR_futex, (long)w, FUTEX_WAKE, 1, 0, 0, 0);
}

/* Waits until *w != old: a spin (the monitor usually answers within
 * microseconds on another core; about 100 us of PAUSEs here, as in
 * runtime_stub_wait), then futex. */
static uint32_t wait_change(volatile uint32_t *w, uint32_t old)
{
	for (int i = 0; i < 2000; i++) {
		uint32_t v = *w;
		if (v != old)
			return v;
		__asm__ volatile("pause");
	}
	for (;;) {
		__atomic_store_n(&ctl->stub_sleeping, 1, __ATOMIC_SEQ_CST);
		uint32_t v = __atomic_load_n(w, __ATOMIC_SEQ_CST);
		if (v != old) {
			ctl->stub_sleeping = 0;
			return v;
		}
		sys6(NR_futex, (long)w, FUTEX_WAIT, old, 0, 0, 0);
		ctl->stub_sleeping = 0;
	}
}

static void finish(uint32_t seq)
{
	__atomic_store_n(&ctl->done_seq, seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ctl->monitor_sleeping, __ATOMIC_SEQ_CST))
		futex_wake(&ctl->done_seq);
}

static int do_map(void)
{
	uint32_t n = ctl->nmap;
	if (n > STUB_MAP_MAX)
		return -22;
	for (uint32_t i = 0; i < n; i++) {
		const struct stub_map *m = &ctl->map[i];
		long r;
		do {
			switch (m->op) {
			case STUB_MAP_MMAP:
				r = sys6(NR_mmap, (long)m->addr, (long)m->len, m->prot,
					 MAP_SHARED | MAP_FIXED, STUB_FD_RAM, (long)m->off);
				break;
			case STUB_MAP_MUNMAP:
				r = sys2(NR_munmap, m->addr, m->len);
				break;
			case STUB_MAP_MPROTECT:
				r = sys3(NR_mprotect, m->addr, m->len, m->prot);
				break;
			default:
				return -22;
			}
		} while (r == -4);	/* EINTR: a kick while the monitor validated it */
		if (r < 0 && (r > -4096))
			return (int)r;
	}
	return 0;
}

static int do_ldt(void)
{
	uint32_t n = ctl->nldt;
	if (n > STUB_LDT_MAX)
		return -22;
	for (uint32_t i = 0; i < n; i++) {
		struct stub_user_desc d = ctl->ldt[i];
		long r = sys3(NR_modify_ldt, 1, &d, sizeof(d));
		if (r < 0)
			return (int)r;
	}
	return 0;
}

/* The command loop; also where every signal from guest code returns to. */
__attribute__((noreturn, used)) void stub_loop(void)
{
	uint32_t seq = ctl->done_seq;
	if (ctl->cmd == STUB_CMD_RUN && seq != ctl->cmd_seq) {
		/* Back from guest code through on_signal, whose sigreturn
		 * restored the guest's FPU registers: the stub's own code never
		 * touches them, so they are still the guest's here. */
		__asm__ volatile("fxsave %0" : "=m"(ctl->fpu));
		seq = ctl->cmd_seq;
		finish(seq);
	}
	for (;;) {
		seq = wait_change(&ctl->cmd_seq, seq);
		switch (ctl->cmd) {
		case STUB_CMD_RUN:
			if (ctl->fpu_load)
				__asm__ volatile("fxrstor %0" : : "m"(ctl->fpu));
			stub_enter_guest(ctl);
		case STUB_CMD_MAP:
			ctl->result = do_map();
			ctl->exit = STUB_EXIT_DONE;
			break;
		case STUB_CMD_LDT:
			ctl->result = do_ldt();
			ctl->exit = STUB_EXIT_DONE;
			break;
		case STUB_CMD_TSC:
			ctl->result = (int)sys2(NR_prctl, PR_SET_TSC,
						ctl->arg ? PR_TSC_SIGSEGV : PR_TSC_ENABLE);
			ctl->exit = STUB_EXIT_DONE;
			break;
		case STUB_CMD_EXIT:
			die(0);
		default:
			ctl->result = -22;
			ctl->exit = STUB_EXIT_DONE;
			break;
		}
		finish(seq);
	}
}

__attribute__((noreturn, used)) void stub_main(void)
{
	if (sys6(NR_mmap, (long)STUB_CTL, STUB_CTL_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED_NOREPLACE, STUB_FD_CTL, 0) != (long)STUB_CTL)
		die(10);
	struct k_stack ss = { alt_stack, 0, sizeof(alt_stack) };
	if (sys2(NR_sigaltstack, &ss, 0) < 0)
		die(11);
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
				    STUB_KICK_SIGNAL };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct k_sigaction sa = {
			.handler = on_signal,
			.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
			.restorer = stub_restorer,
			.mask = ~0ull,	/* nothing nests into the handler */
		};
		if (sys4(NR_rt_sigaction, sigs[i], &sa, 0, 8) < 0)
			die(12);
	}
	sys2(NR_prctl, PR_SET_PDEATHSIG, SIGKILL);
	/* CPUID faulting (where the host CPU has it): guest CPUID then raises
	 * SIGSEGV and the monitor answers with the virtual CPUID. */
	ctl->cpuid_faulting = sys2(NR_arch_prctl, ARCH_SET_CPUID, 0) == 0;
	if (sys2(NR_prctl, PR_SET_NO_NEW_PRIVS, 1) < 0)
		die(13);
	/* Nothing inherited stays open but guest RAM (the mapping of the
	 * control page outlives its descriptor). */
	for (int fd = 0; fd < 64; fd++)
		if (fd != STUB_FD_RAM)
			sys1(NR_close, fd);
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	long lfd = sys3(NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (lfd < 0)
		die(14);
	ctl->listener_fd = (int32_t)lfd;
	ctl->exit = STUB_EXIT_READY;
	ctl->cmd = STUB_CMD_NONE;
	finish(ctl->cmd_seq);
	stub_loop();
}
