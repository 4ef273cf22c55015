/*
 * monitor/clock.c: the machine's virtual clock, the host timer that makes
 * translated code leave at device deadlines, HLT's sleep, and the host
 * inputs (file descriptors feeding devices) polled at those points.
 *
 * The virtual clock is the host's CLOCK_MONOTONIC since the VM started, so
 * the PIT, the RTC and the TSC (the host's, offset) all run at real speed and
 * agree with each other: a guest that calibrates one against another (Linux
 * calibrates the TSC against PIT channel 2) gets a sane answer.
 *
 * Translated code only looks at vcpu->exit_request at unit boundaries.  A
 * POSIX timer aimed at the vCPU thread fires a signal at the next device
 * deadline; its handler (on the alternate stack: RSP may be the guest's ESP)
 * sets exit_request and nothing else.  The timer is re-armed only when the
 * earliest deadline changes.
 *
 * Host inputs (the console's stdin) reach the guest without a busy wait and
 * without a system call per exit from translated code:
 *  - HLT waits in ppoll on the active inputs, the next device deadline as
 *    its timeout: a key press wakes an idle guest at once, and a guest
 *    halted with no timer running but live input waits for that input.
 *  - A running guest is polled (ppoll, zero timeout) when device timers
 *    are due, i.e. at its own timer tick (4 ms for Linux at HZ=250), at most
 *    once per INPUT_POLL_MIN_NS; when no device timer runs at all, the
 *    clock arms the host timer for itself, INPUT_POLL_MAX_NS after the
 *    last poll.
 * That bounds the latency from a key press to the UART's interrupt by one
 * guest tick (at most INPUT_POLL_MAX_NS), well below what a person at a
 * terminal notices, and pasted or piped bytes lose nothing for waiting: the
 * UART takes only what fits and the rest stays in the host's tty or pipe
 * buffer.  Guest user code running in a stub is polled the same way, as
 * runtime/user.c wakes at monitor_clock_next_deadline.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "monitor/monitor.h"

#define CLOCK_SIGNAL (SIGRTMIN + 1)

/* Host inputs: polled at most this often at guest timer ticks, and at least
 * this often when no device timer runs. */
#define INPUT_POLL_MIN_NS 1000000ull
#define INPUT_POLL_MAX_NS 10000000ull

/* One VM per process (it owns [0, 4 GiB)), so one vCPU to poke. */
static struct vcpu *volatile clock_vcpu;

int monitor_clock_signal(void)
{
	return CLOCK_SIGNAL;
}

static uint64_t host_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000u),
				  .tv_nsec = (long)(ns % 1000000000u) };
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	struct vcpu *v = clock_vcpu;
	if (v)
		v->exit_request = 1;
}

int monitor_clock_init(struct monitor_vm *vm)
{
	vm->clock_base_ns = host_ns();
	vm->armed_deadline = DEVICES_NEVER;
	clock_vcpu = &vm->cpu;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(CLOCK_SIGNAL, &sa, NULL) < 0)
		return -errno;

	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = CLOCK_SIGNAL;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);	/* sigev_notify_thread_id */
	timer_t *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (timer_create(CLOCK_MONOTONIC, &sev, t) < 0) {
		int e = errno;
		free(t);
		return -e;
	}
	vm->host_timer = t;
	vm->host_timer_ok = true;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, CLOCK_SIGNAL);
	return pthread_sigmask(SIG_UNBLOCK, &set, NULL) ? -EINVAL : 0;
}

void monitor_clock_destroy(struct monitor_vm *vm)
{
	clock_vcpu = NULL;
	if (vm->host_timer_ok) {
		timer_delete(*(timer_t *)vm->host_timer);
		free(vm->host_timer);
		vm->host_timer_ok = false;
	}
}

uint64_t monitor_now_ns(const struct monitor_vm *vm)
{
	return host_ns() - vm->clock_base_ns;
}

static void arm(struct monitor_vm *vm, uint64_t deadline)
{
	if (!vm->host_timer_ok || deadline == vm->armed_deadline)
		return;
	struct itimerspec its = { 0 };
	if (deadline != DEVICES_NEVER)
		its.it_value = to_timespec(vm->clock_base_ns + deadline);
	/* A disarmed timer is it_value 0; an absolute time in the past fires
	 * at once, which is what a deadline already due needs. */
	timer_settime(*(timer_t *)vm->host_timer, TIMER_ABSTIME, &its, NULL);
	vm->armed_deadline = deadline;
}

int monitor_clock_add_input(struct monitor_vm *vm, struct monitor_input *in)
{
	if (vm->ninputs == MONITOR_INPUTS_MAX)
		return -ENOSPC;
	vm->inputs[vm->ninputs++] = in;
	return 0;
}

int monitor_clock_remove_input(struct monitor_vm *vm, struct monitor_input *in)
{
	for (int i = 0; i < vm->ninputs; i++) {
		if (vm->inputs[i] != in)
			continue;
		memmove(&vm->inputs[i], &vm->inputs[i + 1],
			(size_t)(vm->ninputs - i - 1) * sizeof(vm->inputs[0]));
		vm->ninputs--;
		return 0;
	}
	return -ENOENT;
}

static bool inputs_active(const struct monitor_vm *vm)
{
	for (int i = 0; i < vm->ninputs; i++)
		if (vm->inputs[i]->active)
			return true;
	return false;
}

/* When the inputs must be polled even if no device timer brings the vCPU
 * thread back; DEVICES_NEVER while none is active. */
static uint64_t input_deadline(const struct monitor_vm *vm)
{
	return inputs_active(vm) ? vm->input_polled_ns + INPUT_POLL_MAX_NS : DEVICES_NEVER;
}

/*
 * ppoll on the active inputs for at most `timeout` (NULL: no limit), then
 * the callbacks of those that are ready.  Returns ppoll's result: how many
 * were ready, 0 at the timeout, -1 with errno (EINTR: a signal came first).
 */
static int poll_inputs(struct monitor_vm *vm, const struct timespec *timeout)
{
	struct pollfd p[MONITOR_INPUTS_MAX];
	struct monitor_input *in[MONITOR_INPUTS_MAX];
	nfds_t n = 0;
	for (int i = 0; i < vm->ninputs; i++) {
		if (!vm->inputs[i]->active)
			continue;
		p[n] = (struct pollfd){ .fd = vm->inputs[i]->fd, .events = POLLIN };
		in[n++] = vm->inputs[i];
	}
	int r = ppoll(p, n, timeout, NULL);
	for (nfds_t i = 0; r > 0 && i < n; i++)
		if (p[i].revents)
			in[i]->ready(in[i]->ctx);
	return r;
}

uint64_t monitor_clock_next_deadline(const struct monitor_vm *vm)
{
	uint64_t next = devices_bus_next_deadline(&vm->bus), poll_at = input_deadline(vm);
	return next < poll_at ? next : poll_at;
}

void monitor_clock_sync(struct monitor_vm *vm)
{
	uint64_t next = devices_bus_next_deadline(&vm->bus);
	uint64_t poll_at = input_deadline(vm);
	if (next != DEVICES_NEVER || poll_at != DEVICES_NEVER) {
		uint64_t now = monitor_now_ns(vm);
		/* A guest tick (device timers due) or the inputs' own deadline. */
		bool tick = next <= now && now - vm->input_polled_ns >= INPUT_POLL_MIN_NS;
		if (poll_at != DEVICES_NEVER && (poll_at <= now || tick)) {
			static const struct timespec no_wait;
			vm->input_polled_ns = now;
			poll_inputs(vm, &no_wait);
			next = devices_bus_next_deadline(&vm->bus);
		}
		if (next <= now) {
			devices_bus_run_timers(&vm->bus, now);
			next = devices_bus_next_deadline(&vm->bus);
		}
		poll_at = input_deadline(vm);
	}
	arm(vm, next < poll_at ? next : poll_at);
}

bool monitor_clock_sleep(struct monitor_vm *vm)
{
	uint64_t next = devices_bus_next_deadline(&vm->bus);
	if (next == DEVICES_NEVER && !inputs_active(vm))
		return false;
	uint64_t t0 = host_ns();
	for (;;) {
		struct timespec ts, *timeout = NULL;
		if (next != DEVICES_NEVER) {
			uint64_t now = host_ns(), until = vm->clock_base_ns + next;
			ts = to_timespec(until > now ? until - now : 0);
			timeout = &ts;
		}
		/* Only a signal (the host timer's, at the deadline) repeats the
		 * wait; an input or the deadline ends it. */
		if (poll_inputs(vm, timeout) >= 0 || errno != EINTR)
			break;
	}
	vm->input_polled_ns = monitor_now_ns(vm);
	vm->halts++;
	vm->halt_ns += host_ns() - t0;
	return true;
}
