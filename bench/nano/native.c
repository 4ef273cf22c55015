/*
 * nano-native: the host's own equivalents of nano's benchmarks, as a static 32-bit
 * program, printing the same "nano NAME: X.XX ns/op" lines. The host cannot run
 * ring-0 guest code, so "native" means the host kernel doing the same job:
 *   syscall         getppid() (through the IA-32 system-call entry)
 *   div0            a DIV by zero delivered to a SIGFPE handler that skips it
 *   page-fault      the first touch of a page of fresh anonymous memory
 *   context-switch  a one-byte pipe ping-pong between two processes (per switch)
 * and the same instructions run at CPL 3: call+ret, loop-cpl3, and pte-write (the
 * store nano makes to a PTE, here to an ordinary word: what it costs on hardware
 * without a VMM). cli+sti, pushf+popf, in-port and cr3-write have no host
 * equivalent. Usage: nano-native [scale=N]
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "loops.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *name, uint64_t ns, uint32_t n)
{
	printf("nano %s: %.2f ns/op\n", name, n ? (double)ns / n : 0.0);
}

static void on_sigfpe(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	((ucontext_t *)ctx)->uc_mcontext.gregs[REG_EIP] += 2;
}

static void bench_pingpong(uint32_t rounds)
{
	int ab[2], ba[2];
	char c = 0;
	uint64_t t0;
	pid_t pid;

	if (pipe(ab) || pipe(ba))
		return;
	pid = fork();
	if (pid == 0) {
		for (uint32_t i = 0; i < rounds; i++)
			if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	t0 = now_ns();
	for (uint32_t i = 0; i < rounds; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			break;
	report("context-switch", now_ns() - t0, 2 * rounds);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	uint32_t scale = 1, n;
	volatile uint32_t word = 0;
	struct sigaction sa;
	uint64_t t0;

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "scale=", 6))
			scale = (uint32_t)strtoul(argv[i] + 6, NULL, 0);

	n = 1000000 * scale;
	nano_calls(1000);
	t0 = now_ns();
	nano_calls(n / NANO_UNROLL);
	report("call+ret", now_ns() - t0, n / NANO_UNROLL * NANO_UNROLL);

	n = 100000 * scale;
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		__asm__ volatile("movl %1, %0" : "=m"(word) : "r"(0x1003u | (i & 1 ? 0 : 0x20u)) : "memory");
	report("pte-write", now_ns() - t0, n);

	n = 100000 * scale;
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		syscall(SYS_getppid);
	report("syscall", now_ns() - t0, n);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigfpe;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	n = 20000 * scale;
	nano_divs(n / 16);
	t0 = now_ns();
	nano_divs(n);
	report("div0", now_ns() - t0, n);

	n = 20000000 * scale;
	t0 = now_ns();
	nano_loop(n);
	report("loop-cpl3", now_ns() - t0, n);

	n = 2000 * scale;
	char *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		t0 = now_ns();
		for (uint32_t i = 0; i < n; i++)	/* a write: a zeroed page of its own */
			*(volatile uint32_t *)(p + (size_t)i * 4096) = i;
		report("page-fault", now_ns() - t0, n);
		munmap(p, (size_t)n * 4096);
	}

	bench_pingpong(2000 * scale);
	return 0;
}
