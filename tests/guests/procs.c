/*
 * procs: processes at CPL 3 in address spaces of their own (SDM vol. 3,
 * 4.3 translation, 4.6 access rights, 4.10.4 TLB invalidation):
 *   global     CR4.PGE: a non-global PTE changed without INVLPG must be
 *              refetched after a CR3 write; a global one changed the same way
 *              may still be cached after it ("MOV to CR3 ... except those
 *              for global pages": not checked), but INVLPG and clearing
 *              CR4.PGE drop it (4.10.4.1);
 *   pingpong   two processes, each with its own page directory that maps
 *              its own page at 0x40000000 (and the kernel, global, at the
 *              same place in both); the kernel switches them with a CR3
 *              write at every INT 0x80 yield, rounds=N times each (1000);
 *              each counts in its page and checks its tag there; neither can
 *              reach the other's page through the kernel's identity map
 *              (supervisor-only: #PF);
 *   cow        copy-on-write: two processes share a read-only page; the
 *              first write of each faults (error 7), the kernel gives it a
 *              private copy mapped writable and restarts the write; the
 *              shared page stays as it was;
 *   demand     a read of a not-present page (error 4) is given a zeroed page.
 */
#include "lib/guest.h"

#define U_DATA		0x40000000u	/* each process's own page */
#define U_COW		0x40001000u	/* shared read-only, copied on write */
#define U_DEMAND	0x40002000u	/* not present until touched */
#define K_GLOBAL	0x50000000u	/* kernel test pages for CR4.PGE */
#define K_LOCAL		0x50001000u
#define TAG_A		0xAAAA0001u
#define TAG_B		0xBBBB0002u
#define COW_WORD	5

static uint32_t *kpd;

static volatile uint32_t *at(uint32_t lin)
{
	return (volatile uint32_t *)lin;
}

/* ======== global ======== */

static void map_kpd(uint32_t lin, uint32_t phys, uint32_t flags)
{
	pg_map(kpd, lin, phys, flags);
}

static void global_tests(void)
{
	guest_printf("procs: -- global --\n");
	pgcheck_global(map_kpd, K_GLOBAL, K_LOCAL);
}

/* ======== pingpong ======== */

/* The kernel's identity map, global from now on (as operating systems map themselves). */
static void kernel_global(void)
{
	for (uint32_t lin = 0; lin < pg_ident_end; lin += PAGE_SIZE)
		pg_protect(kpd, lin, PTE_G, 0);
	write_cr3(read_cr3());
}

struct space {
	uint32_t *pd;
	uint32_t *data;		/* the physical page at U_DATA */
};

static struct space new_space(uint32_t tag)
{
	struct space s = { pg_dir_clone_kernel(kpd), pg_alloc_tagged(0) };

	s.data[0] = 0;
	s.data[1] = tag;
	pg_map(s.pd, U_DATA, (uint32_t)s.data, PTE_P | PTE_W | PTE_U);
	return s;
}

/* Ring 3: counts in word 0, checks the tag in word 1 at every turn; returns the bad turns. */
static uint32_t prog_count(uint32_t arg)
{
	uint32_t rounds = arg >> 1, bad = 0, tag = arg & 1 ? TAG_B : TAG_A;

	for (uint32_t i = 0; i < rounds; i++) {
		if (*at(U_DATA + 4) != tag || *at(U_DATA) != i)
			bad++;
		*at(U_DATA) = i + 1;
		user_syscall(SYS_YIELD, 0, 0, 0, 0, 0, 0);
	}
	return bad;
}

/* Ring 3: reads arg, the other process's page through the identity map. */
static uint32_t prog_peek(uint32_t arg)
{
	return *at(arg);
}

static struct { uint32_t hits, vector, error, cr2, eip; } seen;

/* Records a fault and ends the process. */
static enum user_action note_fault(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	seen.cr2 = read_cr2();
	seen.hits++;
	seen.vector = f->vector;
	seen.error = f->error;
	seen.eip = f->eip;
	return USER_KILL;
}

static struct user_proc procs[2];

/* Runs both until they end, each with its own CR3; returns the switches. */
static uint32_t run_pair(struct user_proc *p, struct space *s)
{
	uint32_t switches = 0;

	for (int ready = 1; ready;) {
		ready = 0;
		for (int i = 0; i < 2; i++) {
			if (p[i].state != USER_READY)
				continue;
			write_cr3((uint32_t)s[i].pd);
			switches++;
			if (user_run(&p[i]) == USER_READY)
				ready = 1;
		}
	}
	write_cr3((uint32_t)kpd);
	return switches;
}

static void pingpong_tests(uint32_t rounds)
{
	struct space s[2] = { new_space(TAG_A), new_space(TAG_B) };
	char what[96];

	guest_printf("procs: -- pingpong --\n");
	kernel_global();
	user_proc_init(&procs[0], "ping", prog_count, rounds << 1);
	user_proc_init(&procs[1], "pong", prog_count, rounds << 1 | 1);
	guest_snprintf(what, sizeof(what), "CR3 writes for %u yields each", rounds);
	check(what, run_pair(procs, s), 2 * (rounds + 1));
	check("ping: exit status (bad turns)", procs[0].state == USER_EXITED ? procs[0].status : ~0u, 0);
	check("pong: exit status (bad turns)", procs[1].state == USER_EXITED ? procs[1].status : ~0u, 0);
	check("ping's page: its count", s[0].data[0], rounds);
	check("pong's page: its count", s[1].data[0], rounds);
	check("ping's page: its tag", s[0].data[1], TAG_A);
	check("pong's page: its tag", s[1].data[1], TAG_B);
	write_cr3((uint32_t)s[1].pd);
	check("the kernel at 0x40000004 with pong's CR3", *at(U_DATA + 4), TAG_B);
	write_cr3((uint32_t)s[0].pd);
	check("the kernel at 0x40000004 with ping's CR3", *at(U_DATA + 4), TAG_A);
	write_cr3((uint32_t)kpd);

	/* ping tries pong's page where the kernel sees it. */
	user_proc_init(&procs[0], "peek", prog_peek, (uint32_t)s[1].data + 4);
	procs[0].on_event = note_fault;
	memset(&seen, 0, sizeof(seen));
	write_cr3((uint32_t)s[0].pd);
	user_run(&procs[0]);
	write_cr3((uint32_t)kpd);
	check("ping reading pong's page through the identity map: #PF", seen.vector, VEC_PF);
	check("  error (present, user read)", seen.error, PF_P | PF_U);
	check("  CR2 - pong's page", seen.cr2 - ((uint32_t)s[1].data + 4), 0);
}

/* ======== cow and demand ======== */

static uint32_t *shared;	/* the read-only page both map at U_COW */
static struct space cur_space;	/* of the process that runs */
static uint32_t cow_faults, cow_error, cow_cr2, demand_faults, demand_error, demand_cr2;

/* The kernel's page-fault handler: copy on write at U_COW, zero fill at U_DEMAND. */
static enum user_action pf_event(struct user_proc *p, struct trap_frame *f)
{
	uint32_t cr2 = read_cr2(), page = cr2 & PTE_FRAME, *copy;

	(void)p;
	if (f->vector != VEC_PF)
		return USER_KILL;
	if (page == U_COW && f->error == (PF_P | PF_W | PF_U) && cow_faults < 4) {
		cow_faults++;
		cow_error = f->error;
		cow_cr2 = cr2;
		copy = pg_alloc();
		memcpy(copy, shared, PAGE_SIZE);
		pg_map(cur_space.pd, U_COW, (uint32_t)copy, PTE_P | PTE_W | PTE_U);
		invlpg(U_COW);
		return USER_RESUME;
	}
	if (page == U_DEMAND && !(f->error & PF_P) && demand_faults < 4) {
		demand_faults++;
		demand_error = f->error;
		demand_cr2 = cr2;
		pg_map(cur_space.pd, U_DEMAND, (uint32_t)pg_alloc(), PTE_P | PTE_W | PTE_U);
		invlpg(U_DEMAND);
		return USER_RESUME;
	}
	return USER_KILL;
}

/* Ring 3: reads the shared word, writes it, reads it back; returns a mask of what went wrong. */
static uint32_t prog_cow(uint32_t tag)
{
	uint32_t bad = 0;

	if (*at(U_COW + COW_WORD * 4) != 0x5000000u + COW_WORD)
		bad |= 1;
	*at(U_COW + COW_WORD * 4) = tag;
	if (*at(U_COW + COW_WORD * 4) != tag)
		bad |= 2;
	if (*at(U_COW + (COW_WORD + 1) * 4) != 0x5000000u + COW_WORD + 1)
		bad |= 4;	/* the copy has the rest of the page */
	return bad;
}

/* Ring 3: a word of a page not mapped yet, then a write and a read there. */
static uint32_t prog_demand(uint32_t arg)
{
	uint32_t v = *at(U_DEMAND + 0x40);

	(void)arg;
	*at(U_DEMAND + 0x44) = 0x1234;
	return v | (*at(U_DEMAND + 0x44) != 0x1234);
}

static void run_in(struct user_proc *p, struct space s)
{
	cur_space = s;
	write_cr3((uint32_t)s.pd);
	while (user_run(p) == USER_READY)
		;
	write_cr3((uint32_t)kpd);
}

static void cow_tests(void)
{
	struct space s[2] = { new_space(TAG_A), new_space(TAG_B) };

	guest_printf("procs: -- cow --\n");
	shared = pg_alloc_tagged(0x5000000);
	for (int i = 0; i < 2; i++) {
		pg_map(s[i].pd, U_COW, (uint32_t)shared, PTE_P | PTE_U);
		user_proc_init(&procs[i], i ? "cow-b" : "cow-a", prog_cow, i ? TAG_B : TAG_A);
		procs[i].on_event = pf_event;
	}
	run_in(&procs[0], s[0]);
	check("cow-a: exit status (bad mask)", procs[0].state == USER_EXITED ? procs[0].status : ~0u, 0);
	check("  write faults", cow_faults, 1);
	check("  error (present, write, user)", cow_error, PF_P | PF_W | PF_U);
	check("  CR2", cow_cr2, U_COW + COW_WORD * 4);
	run_in(&procs[1], s[1]);
	check("cow-b: exit status (bad mask)", procs[1].state == USER_EXITED ? procs[1].status : ~0u, 0);
	check("  write faults, both processes", cow_faults, 2);
	check("the shared page's word unchanged", shared[COW_WORD], 0x5000000u + COW_WORD);
	write_cr3((uint32_t)s[0].pd);
	check("cow-a's copy, as the kernel reads it with cow-a's CR3", *at(U_COW + COW_WORD * 4), TAG_A);
	write_cr3((uint32_t)s[1].pd);
	check("cow-b's copy, as the kernel reads it with cow-b's CR3", *at(U_COW + COW_WORD * 4), TAG_B);
	write_cr3((uint32_t)kpd);

	guest_printf("procs: -- demand --\n");
	user_proc_init(&procs[0], "demand", prog_demand, 0);
	procs[0].on_event = pf_event;
	run_in(&procs[0], s[0]);
	check("demand: exit status (the word read, 1 if the write was lost)",
	      procs[0].state == USER_EXITED ? procs[0].status : ~0u, 0);
	check("  faults", demand_faults, 1);
	check("  error (not present, user read)", demand_error, PF_U);
	check("  CR2", demand_cr2, U_DEMAND + 0x40);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t rounds = guest_arg_u32("rounds", 1000);

	(void)magic;
	(void)mbi;
	check_init("procs");
	user_init();
	kpd = pg_dir_kernel(PTE_P | PTE_W | PTE_U);
	pg_enable(kpd, 0);
	global_tests();
	pingpong_tests(rounds);
	cow_tests();
	return check_done();
}
