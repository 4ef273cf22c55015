/*
 * nano: the classic virtualization nanobenchmarks (Adams and Agesen, ASPLOS 2006) as
 * one Multiboot guest, a benchmark and not a test: each prints
 *
 *   nano NAME: X.XX ns/op
 *
 * with the time from RDTSC converted by the TSC rate measured against PIT channel 2
 * over 50 ms (pit_tsc_per_ms): under bt the TSC is the host's, under QEMU TCG it is
 * the host's TSC too but the PIT runs on QEMU's virtual clock (host time), so the
 * same calibration gives nanoseconds that compare between the two.
 *
 * The benchmarks run with paging on (4 KiB kernel pages, user-accessible, global);
 * "at CPL 3" ones run in a lib process (tests/guests/lib/user.c). Words of the
 * command line: scale=N multiplies every iteration count (default 1).
 */
#include "lib/guest.h"
#include "loops.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define U_DATA		0x40000000u
#define U_DEMAND	0x50000000u
#define BENCH_LIN	0x60000000u

static uint32_t *kpd;
static uint32_t per_ms;

/* Prints "nano NAME: X.XX ns/op" for cycles over n operations. */
static void report(const char *name, uint64_t cycles, uint32_t n)
{
	uint64_t ns = per_ms ? cycles * 1000000 / per_ms : 0;
	uint64_t cns = n ? ns * 100 / n : 0;	/* hundredths of a nanosecond */

	guest_printf("nano %s: %u.%02u ns/op\n", name, (uint32_t)(cns / 100), (uint32_t)(cns % 100));
}

/* --- ring 0 --- */

static void bench_ring0(uint32_t scale)
{
	uint32_t n, cr3 = read_cr3();
	uint64_t t0;

	n = 200000 * scale;
	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		__asm__ volatile("cli; sti" : : : "memory");
	report("cli+sti", rdtsc() - t0, n);

	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		__asm__ volatile("pushfl; popfl" : : : "memory", "cc");
	report("pushf+popf", rdtsc() - t0, n);

	n = 20000 * scale;
	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		(void)inb(0x21);	/* the master 8259A's mask register */
	report("in-port", rdtsc() - t0, n);

	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		write_cr3(cr3);
	report("cr3-write", rdtsc() - t0, n);

	n = 1000000 * scale;
	nano_calls(1000);	/* translated before timing */
	t0 = rdtsc();
	nano_calls(n / NANO_UNROLL);
	report("call+ret", rdtsc() - t0, n / NANO_UNROLL * NANO_UNROLL);
}

/* The same store writing a PTE over and over, in steady state (pagebench (a)). */
static void bench_pte(uint32_t scale)
{
	uint32_t n = 100000 * scale, *pte = pg_pte(kpd, BENCH_LIN), phys = (uint32_t)pg_alloc();
	uint64_t t0;

	pg_map(kpd, BENCH_LIN, phys, PTE_P | PTE_W);
	invlpg(BENCH_LIN);
	(void)*(volatile uint32_t *)BENCH_LIN;	/* its page table is now in use */
	for (uint32_t i = 0; i < 64; i++)
		__asm__ volatile("movl %1, (%0)" : : "r"(pte), "r"(phys | PTE_P | PTE_W | (i & 1 ? 0 : PTE_A))
				 : "memory");
	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		__asm__ volatile("movl %1, (%0)" : : "r"(pte), "r"(phys | PTE_P | PTE_W | (i & 1 ? 0 : PTE_A))
				 : "memory");
	report("pte-write", rdtsc() - t0, n);
}

/* --- ring 3 --- */

__asm__(".text\n"
	/* n system calls SYS_NOP through the lib's dispatcher. */
	"nano_syscalls:\n"
	"  movl 4(%esp), %ecx\n"
	"  testl %ecx, %ecx; jz 2f\n"
	"1: movl $" STR(SYS_NOP) ", %eax\n"
	"  int $0x80\n"
	"  decl %ecx; jnz 1b\n"
	"2: ret\n");
uint32_t nano_syscalls(uint32_t);

static uint32_t demand_pages, demand_faults;
static uint32_t *zero_pages[8];

static enum user_action on_event(struct user_proc *p, struct trap_frame *f)
{
	uint32_t cr2;

	(void)p;
	if (f->vector == 0) {	/* #DE: skip the DIV */
		f->eip += 2;
		return USER_RESUME;
	}
	cr2 = read_cr2();
	if (f->vector != VEC_PF || (f->error & PF_P) || cr2 - U_DEMAND >= demand_pages * PAGE_SIZE)
		return USER_KILL;
	/* A demand-zero fault: map a zeroed page (a few recycled ones: the pool is small). */
	uint32_t *z = zero_pages[demand_faults++ % 8];
	memset(z, 0, PAGE_SIZE);
	pg_map(kpd, cr2 & PTE_FRAME, (uint32_t)z, PTE_P | PTE_W | PTE_U);
	return USER_RESUME;
}

static uint32_t prog_touch(uint32_t pages)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < pages; i++)
		sum += *(volatile uint32_t *)(U_DEMAND + i * PAGE_SIZE);
	return sum;
}

static uint32_t prog_yield(uint32_t rounds)
{
	for (uint32_t i = 0; i < rounds; i++)
		user_syscall(SYS_YIELD, 0, 0, 0, 0, 0, 0);
	return 0;
}

static struct user_proc procs[2];

/* Cycles of fn(n) as a process, from its entry to its exit. */
static uint64_t time_proc(uint32_t (*fn)(uint32_t), uint32_t n)
{
	uint64_t t0;

	user_proc_init(&procs[0], "nano", fn, n);
	procs[0].on_event = on_event;
	t0 = rdtsc();
	while (user_run(&procs[0]) == USER_READY)
		;
	if (procs[0].state != USER_EXITED)
		guest_printf("nano: the process was killed by vector %u\n", procs[0].status);
	return rdtsc() - t0;
}

/* fn(n) as a process minus fn(0): the cost of the n operations alone. */
static void per_op(const char *name, uint32_t (*fn)(uint32_t), uint32_t n)
{
	uint64_t base, t;

	time_proc(fn, n / 16);	/* warm up */
	base = time_proc(fn, 0);
	t = time_proc(fn, n);
	report(name, t > base ? t - base : 0, n);
}

static void bench_ring3(uint32_t scale)
{
	uint32_t pages = 2000 * scale, switches = 0;
	uint64_t t0;

	per_op("syscall", nano_syscalls, 20000 * scale);
	per_op("div0", nano_divs, 20000 * scale);
	per_op("loop-cpl3", nano_loop, 20000000 * scale);

	demand_pages = pages;
	for (int i = 0; i < 8; i++)
		zero_pages[i] = pg_alloc();
	user_proc_init(&procs[0], "touch", prog_touch, pages);
	procs[0].on_event = on_event;
	t0 = rdtsc();
	while (user_run(&procs[0]) == USER_READY)
		;
	report("page-fault", rdtsc() - t0, demand_faults ? demand_faults : 1);

	/* Two processes with their own page directories yielding to each other. */
	uint32_t *pd[2] = { pg_dir_clone_kernel(kpd), pg_dir_clone_kernel(kpd) };
	for (int i = 0; i < 2; i++) {
		pg_map(pd[i], U_DATA, (uint32_t)pg_alloc(), PTE_P | PTE_W | PTE_U);
		user_proc_init(&procs[i], i ? "pong" : "ping", prog_yield, 2000 * scale);
	}
	t0 = rdtsc();
	for (int ready = 1; ready;) {
		ready = 0;
		for (int i = 0; i < 2; i++) {
			if (procs[i].state != USER_READY)
				continue;
			write_cr3((uint32_t)pd[i]);
			switches++;
			if (user_run(&procs[i]) == USER_READY)
				ready = 1;
		}
	}
	report("context-switch", rdtsc() - t0, switches);
	write_cr3((uint32_t)kpd);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t scale = guest_arg_u32("scale", 1);

	(void)magic;
	(void)mbi;
	user_init();
	per_ms = pit_tsc_per_ms();
	guest_printf("nano: TSC %u kHz\n", per_ms);
	kpd = pg_dir_kernel(PTE_P | PTE_W | PTE_U | PTE_G);
	pg_enable(kpd, CR4_PSE | CR4_PGE);

	bench_ring0(scale);
	bench_pte(scale);
	bench_ring3(scale);
	return 0;
}
