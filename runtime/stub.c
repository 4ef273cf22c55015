/*
 * runtime/stub.c: stub processes seen from the monitor — starting one from
 * the embedded stub program, the command hand-off over the control page,
 * validating every mapping change it makes through its seccomp listener,
 * kicking it, and noticing when it dies or stops answering.
 *
 * Nothing read from the control page is trusted: the stub's address space
 * is the guest's, and guest code that escapes to 64-bit mode can write the
 * page and call futex.  The monitor only ever copies plain values out of it
 * and checks the ones that select behaviour (exit reasons, descriptor
 * numbers).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/runtime.h"
#include "runtime/stubctl.h"

extern const char runtime_stub_image[], runtime_stub_image_end[];

/* The stub may take this long to start or to answer a command or a kick
 * before the monitor gives up on it. */
#define STUB_ANSWER_NS 2000000000ull

struct runtime_stub {
	pid_t pid;
	int pidfd;
	int listener;
	int ctl_fd;
	struct stub_ctl *ctl;
	uint32_t seq;
	bool dead;
	int death_signal;
	bool cpuid_faulting;
	/* Mapping changes queued for the next flush. */
	struct stub_map queue[STUB_MAP_MAX];
	uint32_t nqueue;
	/* What the stub's LDT holds, so only changes are written. */
	struct stub_user_desc *ldt;
	uint64_t notifications;
};

static int image_fd = -1;

uint64_t runtime_stub_validated, runtime_stub_commands;
static int stub_flush(struct runtime_stub *s);

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The stub program in a sealed memfd, written once per process. */
static int stub_image(void)
{
	if (image_fd >= 0)
		return image_fd;
	int fd = memfd_create("bt-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	size_t n = (size_t)(runtime_stub_image_end - runtime_stub_image);
	if (write(fd, runtime_stub_image, n) != (ssize_t)n ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		int e = errno ? errno : EIO;
		close(fd);
		return -e;
	}
	image_fd = fd;
	return fd;
}

static void futex_wake(volatile uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

bool runtime_stub_alive(struct runtime_stub *s)
{
	if (s->dead)
		return false;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid != 0) {
		s->dead = true;
		s->death_signal = si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED ? si.si_status : 0;
	}
	return !s->dead;
}

/*
 * Waits until the stub has finished command s->seq, or until the absolute
 * time `until` (CLOCK_MONOTONIC ns).  A spin first, of about 100 us (PAUSE
 * takes about 50 ns on this AMD host): a stub usually answers a command
 * within microseconds, and a futex wake-up costs tens of them on this VM
 * (INT 0x80 round trip from ring 3: 10-11 us with a 100-200 us spin, 13-19
 * with a 20 us one).  While guest code computes longer than that, the
 * spin is CPU time of the other core, not latency.
 */
#define WAIT_SPINS 2000

int runtime_stub_wait(struct runtime_stub *s, uint64_t until)
{
	struct stub_ctl *c = s->ctl;
	for (int i = 0; i < WAIT_SPINS; i++) {
		if (__atomic_load_n(&c->done_seq, __ATOMIC_ACQUIRE) == s->seq)
			return 0;
		__asm__ volatile("pause");
	}
	for (;;) {
		uint32_t d = __atomic_load_n(&c->done_seq, __ATOMIC_ACQUIRE);
		if (d == s->seq)
			return 0;
		uint64_t now = now_ns();
		if (now >= until)
			return -ETIMEDOUT;
		/* Wake at least every 100 ms to notice a dead stub. */
		uint64_t wait = until - now;
		if (wait > 100000000u)
			wait = 100000000u;
		struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
		__atomic_store_n(&c->monitor_sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->done_seq, __ATOMIC_SEQ_CST) == d)
			syscall(SYS_futex, &c->done_seq, FUTEX_WAIT, d, &ts, NULL, 0);
		c->monitor_sleeping = 0;
		if (!runtime_stub_alive(s))
			return -ESRCH;
	}
}

static void send_cmd(struct runtime_stub *s, uint32_t cmd)
{
	runtime_stub_commands++;
	s->ctl->cmd = cmd;
	s->seq++;
	__atomic_store_n(&s->ctl->cmd_seq, s->seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->ctl->stub_sleeping, __ATOMIC_SEQ_CST))
		futex_wake(&s->ctl->cmd_seq);
}

void runtime_stub_kill(struct runtime_stub *s)
{
	if (!s->dead) {
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED);
		s->dead = true;
	}
}

struct runtime_stub *runtime_stub_create(int ram_fd, char *err, size_t errlen)
{
	struct runtime_stub *s = calloc(1, sizeof(*s));
	s->ldt = calloc(STUB_LDT_SLOTS, sizeof(*s->ldt));
	if (!s || !s->ldt) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->pidfd = s->listener = s->ctl_fd = -1;
	int img = stub_image();
	if (img < 0) {
		snprintf(err, errlen, "cannot prepare the stub program: %s", strerror(-img));
		goto fail;
	}
	s->ctl_fd = memfd_create("bt-stub-ctl", MFD_CLOEXEC);
	if (s->ctl_fd < 0 || ftruncate(s->ctl_fd, STUB_CTL_SIZE) < 0) {
		snprintf(err, errlen, "cannot create a stub control page: %s", strerror(errno));
		goto fail;
	}
	s->ctl = mmap(NULL, STUB_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s->ctl_fd, 0);
	if (s->ctl == MAP_FAILED) {
		s->ctl = NULL;
		snprintf(err, errlen, "cannot map a stub control page: %s", strerror(errno));
		goto fail;
	}
	s->seq = 1;
	s->ctl->cmd_seq = 1;
	s->ctl->done_seq = 0;

	/* Start it with nothing but the control page and guest RAM open, every
	 * signal at its default and unblocked (the vCPU thread blocks most). */
	/* The sources are moved above the target numbers first, so that no
	 * dup2 overwrites a descriptor a later one still reads (guest RAM is
	 * often descriptor 3 itself). */
	int src[3] = { fcntl(s->ctl_fd, F_DUPFD_CLOEXEC, 16), fcntl(ram_fd, F_DUPFD_CLOEXEC, 16),
		       fcntl(img, F_DUPFD_CLOEXEC, 16) };
	if (src[0] < 0 || src[1] < 0 || src[2] < 0) {
		snprintf(err, errlen, "cannot prepare the stub's descriptors: %s", strerror(errno));
		for (int i = 0; i < 3; i++)
			if (src[i] >= 0)
				close(src[i]);
		goto fail;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, src[0], STUB_FD_CTL);
	posix_spawn_file_actions_adddup2(&fa, src[1], STUB_FD_RAM);
	/* The program is executed through a descriptor the stub closes first
	 * thing (it keeps only STUB_FD_RAM). */
	posix_spawn_file_actions_adddup2(&fa, src[2], STUB_FD_RAM + 1);
	posix_spawn_file_actions_addclosefrom_np(&fa, STUB_FD_RAM + 2);
	posix_spawnattr_init(&at);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", STUB_FD_RAM + 1);
	char *argv[] = { "bt-stub", NULL }, *envp[] = { NULL };
	int r = posix_spawn(&s->pid, path, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	for (int i = 0; i < 3; i++)
		close(src[i]);
	if (r != 0) {
		snprintf(err, errlen, "cannot start a stub process: %s", strerror(r));
		goto fail;
	}
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd < 0) {
		snprintf(err, errlen, "pidfd_open: %s (the host kernel needs 5.3 or later)",
			 strerror(errno));
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		goto fail;
	}
	if (runtime_stub_wait(s, now_ns() + STUB_ANSWER_NS) < 0 || s->ctl->exit != STUB_EXIT_READY) {
		snprintf(err, errlen, "the stub process did not start (%s); the host may lack "
			 "seccomp user notification or modify_ldt",
			 s->dead ? "it exited" : "no answer");
		goto fail;
	}
	s->listener = (int)syscall(SYS_pidfd_getfd, s->pidfd, s->ctl->listener_fd, 0);
	if (s->listener < 0) {
		snprintf(err, errlen, "cannot take the stub's seccomp listener: %s", strerror(errno));
		goto fail;
	}
	s->cpuid_faulting = s->ctl->cpuid_faulting == 1;
	return s;
fail:
	if (s)
		runtime_stub_destroy(s);
	return NULL;
}

void runtime_stub_destroy(struct runtime_stub *s)
{
	if (s->pidfd >= 0) {
		runtime_stub_kill(s);
		close(s->pidfd);
	}
	if (s->listener >= 0)
		close(s->listener);
	if (s->ctl)
		munmap(s->ctl, STUB_CTL_SIZE);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	free(s->ldt);
	free(s);
}

bool runtime_stub_cpuid_faulting(const struct runtime_stub *s)
{
	return s->cpuid_faulting;
}

int runtime_stub_queue_map(struct runtime_stub *s, uint32_t op, uint64_t addr, uint64_t len,
			   uint32_t prot, uint64_t off)
{
	if (s->nqueue == STUB_MAP_MAX) {
		int r = runtime_stub_flush(s);
		if (r < 0)
			return r;
	}
	/* Coalesce: a change that continues the previous one (same kind and
	 * protection, next address, and for a mapping the next file offset)
	 * extends it, so a run of pages costs one host call and one VMA. */
	if (s->nqueue) {
		struct stub_map *l = &s->queue[s->nqueue - 1];
		if (l->op == op && l->prot == prot && l->addr + l->len == addr &&
		    (op != STUB_MAP_MMAP || l->off + l->len == off)) {
			l->len += len;
			return 0;
		}
	}
	s->queue[s->nqueue++] = (struct stub_map){ .addr = addr, .len = len, .off = off,
						   .prot = prot, .op = op };
	return 0;
}

/* Does the stub's seccomp filter send m's system call to the monitor?  Its
 * mirror: munmap and write-removing mprotect with address and length below
 * 4 GiB are allowed outright (runtime/stubproc.c). */
static bool validated(const struct stub_map *m)
{
	bool low = m->addr < (1ull << 32) && m->len < (1ull << 32);
	switch (m->op) {
	case STUB_MAP_MUNMAP: return !low;
	case STUB_MAP_MPROTECT: return !low || (m->prot & PROT_WRITE);
	default: return true;
	}
}

/* Does the intercepted system call do exactly what queue entry m says? */
static bool matches(const struct seccomp_notif *n, const struct stub_map *m)
{
	const __u64 *a = n->data.args;
	if (n->data.arch != AUDIT_ARCH_X86_64)
		return false;
	switch (m->op) {
	case STUB_MAP_MMAP:
		return n->data.nr == SYS_mmap && a[0] == m->addr && a[1] == m->len &&
		       a[2] == m->prot && a[3] == (MAP_SHARED | MAP_FIXED) &&
		       (int)a[4] == STUB_FD_RAM && a[5] == m->off;
	case STUB_MAP_MUNMAP:
		return n->data.nr == SYS_munmap && a[0] == m->addr && a[1] == m->len;
	case STUB_MAP_MPROTECT:
		return n->data.nr == SYS_mprotect && a[0] == m->addr && a[1] == m->len &&
		       a[2] == m->prot;
	default:
		return false;
	}
}

/*
 * Answers one intercepted mapping change: CONTINUE if it is `want` (NULL:
 * nothing is expected, so it is refused), EPERM otherwise.  Returns 1 if it
 * was the expected one, 0 if refused, -1 if nothing could be received.
 */
#define LISTENER_POLLS 200

static int answer_one(struct runtime_stub *s, const struct stub_map *want, int timeout_ms)
{
	struct pollfd p = { .fd = s->listener, .events = POLLIN };
	/* The clock's timer signal interrupts the wait (EINTR) at every
	 * device deadline: wait again for what is left. */
	uint64_t until = now_ns() + (uint64_t)timeout_ms * 1000000u;
	int r;
	/* The stub's next call usually comes within microseconds: look for
	 * it without sleeping first (a sleep and a wake-up cost tens of
	 * microseconds on this VM, and a flush makes one call per run of
	 * pages). */
	for (int i = 0; i < LISTENER_POLLS && timeout_ms > 0; i++) {
		r = poll(&p, 1, 0);
		if (r != 0)
			break;
		__asm__ volatile("pause");
	}
	for (;;) {
		uint64_t now = now_ns();
		int left = now >= until ? 0 : (int)((until - now + 999999) / 1000000);
		r = poll(&p, 1, left);
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r <= 0)
		return -1;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	memset(&req, 0, sizeof(req));
	while ((r = ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, &req)) < 0 && errno == EINTR)
		memset(&req, 0, sizeof(req));
	if (r < 0)
		return -1;
	s->notifications++;
	runtime_stub_validated++;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	bool ok = want && req.pid == (uint32_t)s->pid && matches(&req, want);
	if (ok)
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		resp.error = -EPERM;
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno == ENOENT)
		return ok ? 2 : 0;	/* the call was interrupted; it will come again */
	return ok ? 1 : 0;
}

uint64_t runtime_stub_flush_ns;

int runtime_stub_flush(struct runtime_stub *s)
{
	if (s->nqueue == 0)
		return 0;
	uint64_t t0 = now_ns();
	int ret = stub_flush(s);
	runtime_stub_flush_ns += now_ns() - t0;
	return ret;
}

static int stub_flush(struct runtime_stub *s)
{
	if (s->dead)
		return -ESRCH;
	struct stub_ctl *c = s->ctl;
	memcpy(c->map, s->queue, sizeof(s->queue[0]) * s->nqueue);
	c->nmap = s->nqueue;
	uint32_t n = s->nqueue;
	s->nqueue = 0;
	send_cmd(s, STUB_CMD_MAP);
	for (uint32_t i = 0; i < n;) {
		if (!validated(&s->queue[i])) {
			i++;
			continue;
		}
		int r = answer_one(s, &s->queue[i], (int)(STUB_ANSWER_NS / 1000000));
		if (r < 0 || r == 0) {
			runtime_stub_kill(s);
			return -EPERM;
		}
		if (r == 1)
			i++;
	}
	int r = runtime_stub_wait(s, now_ns() + STUB_ANSWER_NS);
	if (r < 0 || c->exit != STUB_EXIT_DONE || c->result != 0) {
		runtime_stub_kill(s);
		return r < 0 ? r : -EIO;
	}
	return 0;
}

/* Refuses anything the stub asks while it should be running guest code:
 * only an escaped guest asks then.  Returns true if there was something. */
bool runtime_stub_refuse_pending(struct runtime_stub *s)
{
	return answer_one(s, NULL, 0) >= 0;
}

int runtime_stub_set_ldt(struct runtime_stub *s, const struct stub_user_desc *d, uint32_t n)
{
	struct stub_ctl *c = s->ctl;
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (d[i].entry_number >= STUB_LDT_SLOTS)
			return -EINVAL;
		if (memcmp(&s->ldt[d[i].entry_number], &d[i], sizeof(d[i])) == 0)
			continue;
		c->ldt[k++] = d[i];
		s->ldt[d[i].entry_number] = d[i];
	}
	if (k == 0)
		return 0;
	c->nldt = k;
	send_cmd(s, STUB_CMD_LDT);
	int r = runtime_stub_wait(s, now_ns() + STUB_ANSWER_NS);
	if (r < 0)
		return r;
	if (c->exit != STUB_EXIT_DONE || c->result != 0) {
		/* Forget what we thought was written. */
		for (uint32_t i = 0; i < k; i++)
			memset(&s->ldt[c->ldt[i].entry_number % STUB_LDT_SLOTS], 0, sizeof(s->ldt[0]));
		return c->result ? c->result : -EIO;
	}
	return 0;
}

int runtime_stub_set_tsc(struct runtime_stub *s, bool fault)
{
	s->ctl->arg = fault;
	send_cmd(s, STUB_CMD_TSC);
	int r = runtime_stub_wait(s, now_ns() + STUB_ANSWER_NS);
	return r < 0 ? r : s->ctl->result;
}

void runtime_stub_start(struct runtime_stub *s, const uint32_t regs[8], uint32_t eip,
			uint32_t eflags, const uint16_t sel[STUB_NSEG], const uint8_t *fpu)
{
	struct stub_ctl *c = s->ctl;
	c->fpu_load = fpu != NULL;
	if (fpu)
		memcpy(c->fpu, fpu, sizeof(c->fpu));
	memcpy(c->regs, regs, sizeof(c->regs));
	c->eip = eip;
	c->eflags = eflags;
	memcpy(c->sel, sel, sizeof(c->sel));
	c->exit = STUB_EXIT_NONE;
	send_cmd(s, STUB_CMD_RUN);
}

void runtime_stub_kick(struct runtime_stub *s)
{
	syscall(SYS_pidfd_send_signal, s->pidfd, STUB_KICK_SIGNAL, NULL, 0);
}

void runtime_stub_result(struct runtime_stub *s, struct runtime_stub_exit *x)
{
	/* One copy out of the shared page, then only the copy is looked at. */
	struct stub_ctl *c = s->ctl;
	memset(x, 0, sizeof(*x));
	x->exit = c->exit;
	memcpy(x->regs, c->regs, sizeof(x->regs));
	x->eip = c->eip;
	x->eflags = c->eflags;
	memcpy(x->sel, c->sel, sizeof(x->sel));
	x->signo = c->signo;
	x->code = c->code;
	x->trapno = c->trapno;
	x->err = c->err;
	x->addr = c->addr;
	x->rip = c->rip;
	x->cs = c->cs;
	x->syscall_nr = c->syscall_nr;
	x->syscall_arch = c->syscall_arch;
	if (x->exit != STUB_EXIT_SIGNAL && x->exit != STUB_EXIT_SYSCALL &&
	    x->exit != STUB_EXIT_KICK && x->exit != STUB_EXIT_ESCAPE)
		x->exit = STUB_EXIT_ESCAPE;	/* nothing the stub itself writes: forged */
}

void runtime_stub_fpu(struct runtime_stub *s, uint8_t fpu[512])
{
	memcpy(fpu, s->ctl->fpu, 512);
}

pid_t runtime_stub_pid(const struct runtime_stub *s)
{
	return s->pid;
}

int runtime_stub_death_signal(const struct runtime_stub *s)
{
	return s->death_signal;
}
