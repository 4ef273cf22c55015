/*
 * monitor/clock.c: the machine's virtual clock, the host timer that makes
 * translated code leave at device deadlines, and HLT's sleep.
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
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "monitor/monitor.h"

#define CLOCK_SIGNAL (SIGRTMIN + 1)

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

void monitor_clock_sync(struct monitor_vm *vm)
{
	uint64_t next = devices_bus_next_deadline(&vm->bus);
	if (next != DEVICES_NEVER) {
		uint64_t now = monitor_now_ns(vm);
		if (next <= now) {
			devices_bus_run_timers(&vm->bus, now);
			next = devices_bus_next_deadline(&vm->bus);
		}
	}
	arm(vm, next);
}

bool monitor_clock_sleep(struct monitor_vm *vm)
{
	uint64_t next = devices_bus_next_deadline(&vm->bus);
	if (next == DEVICES_NEVER)
		return false;
	uint64_t t0 = host_ns();
	struct timespec ts = to_timespec(vm->clock_base_ns + next);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	vm->halts++;
	vm->halt_ns += host_ns() - t0;
	return true;
}
