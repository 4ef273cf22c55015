/*
 * pagebench: what guest paging costs (a benchmark, no .expect): cycles and
 * nanoseconds, from RDTSC calibrated against PIT channel 2, of
 *   (a) a PTE write by kernel code, the first few times (each a traced write:
 *       under bt a host fault on the write-protected page table) and then in
 *       steady state (under bt an adaptive, fault-free redirect);
 *   (b) a demand-zero page fault taken at CPL 3: the kernel maps a zeroed
 *       page and returns (pages=N, default 2000);
 *   (c) a context switch between two ring-3 processes with their own page
 *       directories, ping-pong through the kernel (INT 0x80 yield, CR3
 *       write; rounds=N, default 2000).
 */
#include "lib/guest.h"

#define U_DATA		0x40000000u
#define U_DEMAND	0x50000000u
#define BENCH_LIN	0x60000000u

static uint32_t *kpd;
static uint32_t per_ms;

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint32_t ns(uint64_t cycles)
{
	return per_ms ? (uint32_t)(cycles * 1000000 / per_ms) : 0;
}

/* (a): the same store instruction writing a PTE over and over. */
static void pte_writes(uint32_t n)
{
	uint32_t *pte = pg_pte(kpd, BENCH_LIN);
	uint32_t phys = (uint32_t)pg_alloc();
	uint64_t first[4], t0;

	pg_map(kpd, BENCH_LIN, phys, PTE_P | PTE_W);
	invlpg(BENCH_LIN);
	(void)*(volatile uint32_t *)BENCH_LIN;	/* its page table is now in use */
	for (int i = 0; i < 4; i++) {
		t0 = tsc();
		__asm__ volatile("movl %1, (%0)" : : "r"(pte), "r"(phys | PTE_P | PTE_W | (i & 1 ? 0 : PTE_A))
				 : "memory");
		first[i] = tsc() - t0;
	}
	t0 = tsc();
	for (uint32_t i = 0; i < n; i++)
		__asm__ volatile("movl %1, (%0)" : : "r"(pte), "r"(phys | PTE_P | PTE_W | (i & 1 ? 0 : PTE_A))
				 : "memory");
	uint64_t steady = (tsc() - t0) / n;
	for (int i = 0; i < 4; i++)
		guest_printf("pagebench: PTE write #%d: %u cycles %u ns\n", i + 1, (uint32_t)first[i],
			     ns(first[i]));
	guest_printf("pagebench: PTE write, steady state (%u writes): %u cycles %u ns\n", n,
		     (uint32_t)steady, ns(steady));
}

/* (b): demand-zero faults at CPL 3.  The pool is small, so the zeroed
 * pages handed out are a few recycled ones, zeroed each time. */
static uint32_t demand_pages, demand_faults;
static uint32_t *zero_pages[8];

static enum user_action demand_event(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	uint32_t cr2 = read_cr2();
	if (f->vector != VEC_PF || (f->error & PF_P) || cr2 - U_DEMAND >= demand_pages * PAGE_SIZE)
		return USER_KILL;
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

/* (c): two processes yielding to each other. */
static uint32_t prog_yield(uint32_t rounds)
{
	for (uint32_t i = 0; i < rounds; i++)
		user_syscall(SYS_YIELD, 0, 0, 0, 0, 0, 0);
	return 0;
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t n = guest_arg_u32("writes", 100000);
	uint32_t pages = guest_arg_u32("pages", 2000);
	uint32_t rounds = guest_arg_u32("rounds", 2000);
	static struct user_proc procs[2];
	uint64_t t0, t;

	(void)magic;
	(void)mbi;
	user_init();
	per_ms = pit_tsc_per_ms();
	guest_printf("pagebench: TSC %u kHz\n", per_ms);
	kpd = pg_dir_kernel(PTE_P | PTE_W | PTE_U | PTE_G);
	pg_enable(kpd, CR4_PSE | CR4_PGE);

	pte_writes(n);

	demand_pages = pages;
	for (int i = 0; i < 8; i++)
		zero_pages[i] = pg_alloc();
	user_proc_init(&procs[0], "touch", prog_touch, pages);
	procs[0].on_event = demand_event;
	t0 = tsc();
	while (user_run(&procs[0]) == USER_READY)
		;
	t = tsc() - t0;
	guest_printf("pagebench: demand-zero fault at CPL 3 (%u faults): %u cycles %u ns each\n",
		     demand_faults, (uint32_t)(t / (demand_faults ? demand_faults : 1)),
		     ns(t / (demand_faults ? demand_faults : 1)));

	uint32_t *pd[2] = { pg_dir_clone_kernel(kpd), pg_dir_clone_kernel(kpd) };
	for (int i = 0; i < 2; i++) {
		pg_map(pd[i], U_DATA, (uint32_t)pg_alloc(), PTE_P | PTE_W | PTE_U);
		user_proc_init(&procs[i], i ? "pong" : "ping", prog_yield, rounds);
	}
	uint32_t switches = 0;
	t0 = tsc();
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
	t = tsc() - t0;
	write_cr3((uint32_t)kpd);
	guest_printf("pagebench: context switch between two processes (%u switches): %u cycles "
		     "%u ns each\n", switches, (uint32_t)(t / switches), ns(t / switches));
	return 0;
}
