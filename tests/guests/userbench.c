/*
 * userbench: a benchmark, not a test (no .expect): what guest user mode costs.
 *   (a) a process's entry and exit: IRET into it, INT 0x80 (SYS_EXIT) back;
 *   (b) INT 0x80 from CPL 3 to an empty ring-0 handler (IRET only), iters=N
 *       times (default 1000000);
 *   (c) the same through the lib's system-call dispatcher (SYS_NOP);
 *   (d) a #UD at CPL 3 that the kernel resumes after, faults=N (iters/10);
 *   (e) SYS_YIELD: the process stops and the kernel resumes it, yields=N
 *       (iters/10);
 *   (f) a loop of 4 dependent integer operations, loops=N (50000000, so 200 M
 *       operations), at CPL 3 and at CPL 0.
 * Cycles come from RDTSC at CPL 0 around each process, minus the same
 * process doing nothing; the TSC rate is measured against PIT channel 2 so
 * that nanoseconds compare between bt and QEMU. Built with -DUSERBENCH_NATIVE
 * it is userbench-native, which times (f) and the host's own getppid().
 */
#include <stdint.h>

/* uint32_t bench_loop(uint32_t n): n rounds of ADD, XOR, ROL, SUB, each needing the last. */
__asm__(".text\n"
	".globl bench_loop\n"
	"bench_loop:\n"
	"  movl 4(%esp), %ecx\n"
	"  movl $1, %eax; movl $2, %edx\n"
	"  testl %ecx, %ecx; jz 2f\n"
	"1: addl %ecx, %eax\n"
	"  xorl %eax, %edx\n"
	"  roll $3, %edx\n"
	"  subl %edx, %eax\n"
	"  decl %ecx\n"
	"  jnz 1b\n"
	"2: xorl %edx, %eax\n"
	"  ret\n");
uint32_t bench_loop(uint32_t n);

#define DEFAULT_ITERS	1000000
#define DEFAULT_LOOPS	50000000
#define OPS_PER_LOOP	4

/* "X.YY" of a / b in buf. */
static const char *ratio(char *buf, uint64_t a, uint64_t b);

#ifdef USERBENCH_NATIVE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Usage: userbench-native [iters=N] [loops=N] */
int main(int argc, char **argv)
{
	uint32_t iters = DEFAULT_ITERS, loops = DEFAULT_LOOPS;
	uint64_t t0, n0, cycles, ns, per_ms;
	char buf[32];

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "iters=", 6))
			iters = (uint32_t)strtoul(argv[i] + 6, NULL, 0);
		else if (!strncmp(argv[i], "loops=", 6))
			loops = (uint32_t)strtoul(argv[i] + 6, NULL, 0);
	}
	n0 = now_ns();
	t0 = rdtsc();
	while (now_ns() - n0 < 50000000)
		;
	per_ms = (rdtsc() - t0) * 1000000 / (now_ns() - n0);
	printf("userbench-native: TSC %llu kHz\n", (unsigned long long)per_ms);

	t0 = rdtsc();
	for (uint32_t i = 0; i < iters; i++)
		syscall(SYS_getppid);
	cycles = (rdtsc() - t0) / (iters ? iters : 1);
	printf("userbench-native: getppid(): iters=%lu %llu cycles/op %llu ns/op\n", (unsigned long)iters,
	       (unsigned long long)cycles, (unsigned long long)(cycles * 1000000 / per_ms));

	n0 = now_ns();
	t0 = rdtsc();
	bench_loop(loops);
	cycles = rdtsc() - t0;
	ns = now_ns() - n0;
	printf("userbench-native: loop: loops=%lu (%lu M ops): %llu ms, %s cycles/loop\n",
	       (unsigned long)loops, (unsigned long)(loops / 1000000 * OPS_PER_LOOP),
	       (unsigned long long)(ns / 1000000), ratio(buf, cycles, loops));
	return 0;
}
#else
#include "lib/guest.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define VEC_DONE 0x81	/* the empty-handler process says it is done */

__asm__(".text\n"
	"empty_handler: iret\n"
	/* (b): INT 0x80 n times with the empty handler installed, then INT 0x81. */
	"bench_int80:\n"
	"  movl 4(%esp), %ecx\n"
	"  testl %ecx, %ecx; jz 2f\n"
	"1: int $0x80\n"
	"  decl %ecx; jnz 1b\n"
	"2: int $" STR(VEC_DONE) "\n"
	"  ret\n"
	/* (c) */
	"bench_nop:\n"
	"  movl 4(%esp), %ecx\n"
	"  testl %ecx, %ecx; jz 2f\n"
	"1: movl $" STR(SYS_NOP) ", %eax\n"
	"  int $0x80\n"
	"  decl %ecx; jnz 1b\n"
	"2: ret\n"
	/* (d): the kernel resumes 2 bytes on, after the UD2. */
	"bench_ud:\n"
	"  movl 4(%esp), %ecx\n"
	"  testl %ecx, %ecx; jz 2f\n"
	"1: ud2\n"
	"  decl %ecx; jnz 1b\n"
	"2: ret\n"
	/* (e) */
	"bench_yield:\n"
	"  movl 4(%esp), %ecx\n"
	"  testl %ecx, %ecx; jz 2f\n"
	"1: movl $" STR(SYS_YIELD) ", %eax\n"
	"  int $0x80\n"
	"  decl %ecx; jnz 1b\n"
	"2: ret\n");
void empty_handler(void);
uint32_t bench_int80(uint32_t), bench_nop(uint32_t), bench_ud(uint32_t), bench_yield(uint32_t);

static uint64_t syscall_gate;

static enum user_action bench_event(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	if (f->vector == 6) {
		f->eip += 2;
		return USER_RESUME;
	}
	if (f->vector == VEC_DONE) {
		idt_set(USER_SYSCALL_VECTOR, syscall_gate);
		return USER_RESUME;
	}
	return USER_KILL;
}

static struct user_proc proc;

/* Cycles of fn(n) as a process, start to exit; empty: the gate 0x80 is the empty handler. */
static uint64_t time_proc(uint32_t (*fn)(uint32_t), uint32_t n, int empty)
{
	uint64_t t0, t;

	user_proc_init(&proc, "bench", fn, n);
	proc.on_event = bench_event;
	if (empty)
		idt_set_handler(USER_SYSCALL_VECTOR, empty_handler, D_P | D_DPL(3) | D_INT32);
	t0 = rdtsc();
	while (user_run(&proc) == USER_READY)
		;
	t = rdtsc() - t0;
	idt_set(USER_SYSCALL_VECTOR, syscall_gate);
	if (proc.state != USER_EXITED)
		guest_printf("userbench: the process was killed by vector %u\n", proc.status);
	return t;
}

static void per_op(const char *what, const char *key, uint32_t (*fn)(uint32_t), uint32_t n, int empty,
		   uint32_t per_ms)
{
	uint64_t base = time_proc(fn, 0, empty), t = time_proc(fn, n, empty);
	uint64_t per = t > base && n ? (t - base) / n : 0;

	guest_printf("userbench: %s: %s=%u %u cycles/op %u ns/op\n", what, key, n, (uint32_t)per,
		     tsc_ns(per, per_ms));
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t iters = guest_arg_u32("iters", DEFAULT_ITERS);
	uint32_t faults = guest_arg_u32("faults", iters / 10);
	uint32_t yields = guest_arg_u32("yields", iters / 10);
	uint32_t loops = guest_arg_u32("loops", DEFAULT_LOOPS);
	uint32_t per_ms;
	uint64_t t0, base, cpl3, cpl0;
	char buf[32];

	(void)magic;
	(void)mbi;
	user_init();
	syscall_gate = idt_get(USER_SYSCALL_VECTOR);
	idt_set_dpl(VEC_DONE, 3);
	per_ms = pit_tsc_per_ms();
	guest_printf("userbench: TSC %u kHz\n", per_ms);

	time_proc(bench_nop, 0, 0);	/* warm up */
	base = time_proc(bench_nop, 0, 0);
	guest_printf("userbench: process entry and exit (IRET in, INT 0x80 out): %u cycles %u ns\n",
		     (uint32_t)base, tsc_ns(base, per_ms));
	per_op("INT 0x80 + IRET at CPL 3, empty handler", "iters", bench_int80, iters, 1, per_ms);
	per_op("INT 0x80 through the lib's dispatcher (SYS_NOP)", "iters", bench_nop, iters, 0, per_ms);
	per_op("#UD at CPL 3, resumed after it", "faults", bench_ud, faults, 0, per_ms);
	per_op("SYS_YIELD, resumed by user_run", "yields", bench_yield, yields, 0, per_ms);

	cpl3 = time_proc(bench_loop, loops, 0) - time_proc(bench_loop, 0, 0);
	guest_printf("userbench: loop at CPL 3: loops=%u (%u M ops): %u ms, %s cycles/loop\n", loops,
		     loops / 1000000 * OPS_PER_LOOP, tsc_ns(cpl3, per_ms) / 1000000,
		     ratio(buf, cpl3, loops));
	t0 = rdtsc();
	bench_loop(loops);
	cpl0 = rdtsc() - t0;
	guest_printf("userbench: loop at CPL 0: loops=%u (%u M ops): %u ms, %s cycles/loop\n", loops,
		     loops / 1000000 * OPS_PER_LOOP, tsc_ns(cpl0, per_ms) / 1000000,
		     ratio(buf, cpl0, loops));
	guest_printf("userbench: loop time at CPL 3 / at CPL 0: %s\n", ratio(buf, cpl3, cpl0));
	return 0;
}
#endif

static const char *ratio(char *buf, uint64_t a, uint64_t b)
{
	uint64_t r = b ? a * 100 / b : 0;
	uint32_t whole = (uint32_t)(r / 100), frac = (uint32_t)(r % 100);
	char *p = buf + 31;

	*p = '\0';
	*--p = (char)('0' + frac % 10);
	*--p = (char)('0' + frac / 10);
	*--p = '.';
	do {
		*--p = (char)('0' + whole % 10);
		whole /= 10;
	} while (whole && p > buf);
	return p;
}
