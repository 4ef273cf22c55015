/*
 * pferr: the #PF error codes 32-bit paging can produce without NX, SMEP,
 * SMAP or protection keys (SDM vol. 3, 4.6 access rights, 4.7 page-fault
 * exceptions, 6.15 interrupt 14). Each case is one access at CPL 0 or in a
 * process at CPL 3: a read, a write, an instruction fetch (a jump to the
 * address) or a push; its line gives the error code (P, W/R, U/S, RSVD; the
 * I/D bit stays 0 for fetches here, 4.7), CR2 and that EIP is the faulting
 * instruction (for a fetch: the target), and a second line checks that the
 * instruction had no effect: the register it loads, the memory it writes,
 * ESP of the push, or (fetch) that the code there did not run. Cases that
 * must not fault check the value instead.
 *   not present   PTE or PDE P=0: reads, writes, fetches, pushes, CPL 0 and 3;
 *   protection    user access to supervisor pages (PTE U/S=0, or PDE U/S=0
 *                 only), user writes to read-only pages (PTE or PDE R/W=0),
 *                 supervisor writes to read-only pages with CR0.WP=1 (fault)
 *                 and CR0.WP=0 (no fault; a user write still faults);
 *   reserved      a 4 MiB PDE with bit 21 set under CR4.PSE=1: RSVD=1 with
 *                 P=1, whatever the access and even where U/S=0 would also
 *                 forbid it (an entry with a reserved bit set maps nothing,
 *                 4.3), fetches included.
 * Where QEMU 7.2 (TCG), the oracle, deviates from the SDM, pferr.expect
 * leaves the check out; sdm=1 on the command line puts it back (QEMU then
 * fails those lines, bt must pass them):
 * XXX: a reserved-bit fault has P=1 in its error code (SDM vol. 3, 4.7:
 * "bit 3 of the error code can be set only if bit 0 is also set"); QEMU 7.2
 * reports RSVD with P=0 (its mmu_translate sets error_code =
 * PG_ERROR_RSVD_MASK alone). Without sdm=1 the RSVD lines compare the error
 * code but its P bit.
 * XXX: bits 20:13 of a 4 MiB PDE are reserved too when the processor does
 * not support PSE-36 (SDM vol. 3, 4.3: "If the PSE-36 mechanism is not
 * supported, bits 21:13 are reserved"); neither QEMU's qemu32 CPU nor bt's
 * virtual CPU advertises PSE-36, but QEMU 7.2 checks bit 21 only and takes
 * bits 20:13 as physical address bits 39:32. That case runs only with sdm=1.
 */
#include "lib/guest.h"

#define MARK		0x5a5a5a5au
#define CODE_OFF	0x20	/* where each test page holds code_blob */
#define CODE_EAX	0x00000badu	/* what code_blob loads into EAX */
#define ACC_OFF		0x10	/* where reads and writes go */

/* Test pages (4 KiB, in one page table whose PDE allows everything). */
#define T_NP		0x70000000u	/* PTE P=0 (frame kept) */
#define T_SUP		0x70001000u	/* supervisor, R/W */
#define T_URO		0x70002000u	/* user, read-only */
#define T_SRO		0x70003000u	/* supervisor, read-only */
#define T_URW		0x70004000u	/* user, R/W */
#define T_NP_END	(T_NP + PAGE_SIZE)	/* pushes from here write T_NP */
#define T_SUP_END	(T_SUP + PAGE_SIZE)
#define T_URO_END	(T_URO + PAGE_SIZE)
/* Rights at the PDE level only: the PTE allows everything. */
#define T_PDE_SUP	0x70400000u	/* PDE U/S=0 */
#define T_PDE_RO	0x70800000u	/* PDE R/W=0 */
#define T_PDE_NP	0x70C00000u	/* PDE P=0 (its page table kept) */
/* 4 MiB pages onto free RAM with reserved bits set. */
#define T_RSVD21	0x71000000u	/* bit 21, user R/W */
#define T_RSVD21_SUP	0x71400000u	/* bit 21, supervisor */
#define T_RSVD13	0x71800000u	/* bit 13 (reserved without PSE-36; see XXX) */
#define KVIEW		0x72000000u	/* the kernel's 4 KiB view of a 4 MiB page */

#define PDE_RSVD21	(1u << 21)
#define PDE_RSVD13	(1u << 13)

/*
 * The probes: EBX = address, EAX = value to write. pr_rd loads EAX from
 * (EBX) with EAX = MARK before; pr_ex jumps to EBX (code_blob there jumps
 * back to ECX = pr_ex_res); pr_push pushes EAX with ESP = EBX. A handler
 * resumes a fault at NAME_res.
 */
__asm__(".text\n"
	".globl pr_rd, pr_rd_at, pr_rd_res\n"
	"pr_rd:\n  movl $0x5a5a5a5a, %eax\npr_rd_at: movl (%ebx), %eax\npr_rd_res: ret\n"
	".globl pr_wr, pr_wr_at, pr_wr_res\n"
	"pr_wr:\npr_wr_at: movl %eax, (%ebx)\npr_wr_res: ret\n"
	".globl pr_ex, pr_ex_at, pr_ex_res\n"
	"pr_ex:\n  movl $0x5a5a5a5a, %eax; movl $pr_ex_res, %ecx\npr_ex_at: jmp *%ebx\npr_ex_res: ret\n"
	".globl pr_push, pr_push_at, pr_push_res\n"
	"pr_push:\n  movl %esp, %esi; movl %ebx, %esp\npr_push_at: pushl %eax\n"
	"pr_push_res: movl %esi, %esp\n  ret\n");
extern char pr_rd[], pr_rd_at[], pr_rd_res[], pr_wr[], pr_wr_at[], pr_wr_res[], pr_ex[], pr_ex_at[],
	pr_ex_res[], pr_push[], pr_push_at[], pr_push_res[];

/* movl $CODE_EAX, %eax; jmp *%ecx */
static const uint8_t code_blob[] = { 0xb8, 0xad, 0x0b, 0x00, 0x00, 0xff, 0xe1 };

enum access { RD, WR, EX, PUSH };
static char *const probe_fn[] = { pr_rd, pr_wr, pr_ex, pr_push };
static char *const probe_at[] = { pr_rd_at, pr_wr_at, NULL, pr_push_at };
static char *const probe_res[] = { pr_rd_res, pr_wr_res, pr_ex_res, pr_push_res };

#define NOWP		1	/* run with CR0.WP = 0 */
#define SDM_ONLY	2	/* only with sdm=1 (QEMU deviates; see XXX) */
#define NOFAULT		0xFFFFFFFFu

struct pcase {
	const char *what;
	unsigned cpl;
	enum access acc;
	uint32_t lin;		/* RD/WR: the address; EX: the target; PUSH: ESP before */
	uint32_t error;		/* NOFAULT: must not fault */
	unsigned flags;
};

#define R(lin) RD, (lin) + ACC_OFF
#define W(lin) WR, (lin) + ACC_OFF
#define X(lin) EX, (lin) + CODE_OFF
static const struct pcase cases[] = {
	/* Not present. */
	{ "CPL 0 read, PTE P=0", 0, R(T_NP), 0, 0 },
	{ "CPL 0 write, PTE P=0", 0, W(T_NP), PF_W, 0 },
	{ "CPL 3 read, PTE P=0", 3, R(T_NP), PF_U, 0 },
	{ "CPL 3 write, PTE P=0", 3, W(T_NP), PF_U | PF_W, 0 },
	{ "CPL 0 read, PDE P=0", 0, R(T_PDE_NP), 0, 0 },
	{ "CPL 3 write, PDE P=0", 3, W(T_PDE_NP), PF_U | PF_W, 0 },
	{ "CPL 0 fetch, PTE P=0", 0, X(T_NP), 0, 0 },
	{ "CPL 3 fetch, PTE P=0", 3, X(T_NP), PF_U, 0 },
	{ "CPL 3 push, PTE P=0", 3, PUSH, T_NP_END, PF_U | PF_W, 0 },
	/* Protection: U/S and R/W in the PTE. */
	{ "CPL 3 read, supervisor page", 3, R(T_SUP), PF_P | PF_U, 0 },
	{ "CPL 3 write, supervisor page", 3, W(T_SUP), PF_P | PF_U | PF_W, 0 },
	{ "CPL 3 fetch, supervisor page", 3, X(T_SUP), PF_P | PF_U, 0 },
	{ "CPL 3 push, supervisor page", 3, PUSH, T_SUP_END, PF_P | PF_U | PF_W, 0 },
	{ "CPL 3 write, user read-only page", 3, W(T_URO), PF_P | PF_U | PF_W, 0 },
	{ "CPL 3 push, user read-only page", 3, PUSH, T_URO_END, PF_P | PF_U | PF_W, 0 },
	{ "CPL 0 write, supervisor read-only page, CR0.WP=1", 0, W(T_SRO), PF_P | PF_W, 0 },
	{ "CPL 0 write, user read-only page, CR0.WP=1", 0, W(T_URO), PF_P | PF_W, 0 },
	{ "CPL 0 write, supervisor read-only page, CR0.WP=0", 0, W(T_SRO), NOFAULT, NOWP },
	{ "CPL 0 write, user read-only page, CR0.WP=0", 0, W(T_URO), NOFAULT, NOWP },
	{ "CPL 3 write, user read-only page, CR0.WP=0", 3, W(T_URO), PF_P | PF_U | PF_W, NOWP },
	/* Protection: U/S or R/W = 0 in the PDE only. */
	{ "CPL 3 read, PDE U/S=0 (PTE U/S=1)", 3, R(T_PDE_SUP), PF_P | PF_U, 0 },
	{ "CPL 3 write, PDE R/W=0 (PTE R/W=1)", 3, W(T_PDE_RO), PF_P | PF_U | PF_W, 0 },
	{ "CPL 0 write, PDE R/W=0 (PTE R/W=1), CR0.WP=1", 0, W(T_PDE_RO), PF_P | PF_W, 0 },
	{ "CPL 0 write, PDE R/W=0 (PTE R/W=1), CR0.WP=0", 0, W(T_PDE_RO), NOFAULT, NOWP },
	{ "CPL 3 read, PDE R/W=0 (PTE R/W=1)", 3, R(T_PDE_RO), NOFAULT, 0 },
	{ "CPL 0 read, PDE U/S=0", 0, R(T_PDE_SUP), NOFAULT, 0 },
	/* Allowed accesses. */
	{ "CPL 3 read, user read-only page", 3, R(T_URO), NOFAULT, 0 },
	{ "CPL 3 write, user R/W page", 3, W(T_URW), NOFAULT, 0 },
	{ "CPL 0 read, user page", 0, R(T_URW), NOFAULT, 0 },
	{ "CPL 0 fetch, supervisor page", 0, X(T_SUP), NOFAULT, 0 },
	{ "CPL 3 fetch, user read-only page", 3, X(T_URO), NOFAULT, 0 },
	{ "CPL 0 fetch, user page", 0, X(T_URO), NOFAULT, 0 },
	/* Reserved bit 21 of a 4 MiB PDE. */
	{ "CPL 0 read, 4 MiB PDE bit 21", 0, R(T_RSVD21), PF_RSVD | PF_P, 0 },
	{ "CPL 0 write, 4 MiB PDE bit 21", 0, W(T_RSVD21), PF_RSVD | PF_P | PF_W, 0 },
	{ "CPL 3 read, 4 MiB PDE bit 21", 3, R(T_RSVD21), PF_RSVD | PF_P | PF_U, 0 },
	{ "CPL 3 write, 4 MiB PDE bit 21", 3, W(T_RSVD21), PF_RSVD | PF_P | PF_U | PF_W, 0 },
	{ "CPL 0 fetch, 4 MiB PDE bit 21", 0, X(T_RSVD21), PF_RSVD | PF_P, 0 },
	{ "CPL 3 fetch, 4 MiB PDE bit 21", 3, X(T_RSVD21), PF_RSVD | PF_P | PF_U, 0 },
	{ "CPL 3 read, 4 MiB supervisor PDE bit 21", 3, R(T_RSVD21_SUP), PF_RSVD | PF_P | PF_U, 0 },
	{ "CPL 0 read, 4 MiB PDE bit 13 (no PSE-36)", 0, R(T_RSVD13), PF_RSVD | PF_P, SDM_ONLY },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static uint32_t *pd;
static uint32_t free_ram;
static uint32_t sdm;	/* sdm=1: the checks QEMU fails too */

/* A test page of the pool: words tag + index, code_blob at CODE_OFF. */
static uint32_t *test_page(uint32_t tag)
{
	uint32_t *p = pg_alloc_tagged(tag);

	memcpy((uint8_t *)p + CODE_OFF, code_blob, sizeof(code_blob));
	return p;
}

/*
 * The kernel's view of the memory behind lin, following the directory
 * whatever the P bits say: pool pages at their identity address, the 4 MiB
 * pages' free RAM through KVIEW.
 */
static volatile uint32_t *kview(uint32_t lin)
{
	uint32_t pde = pd[lin >> 22], phys;

	if (pde & PTE_PS) {
		phys = (pde & 0xFFC00000u) + (lin & 0x3FFFFF);
		pg_map(pd, KVIEW, phys, PTE_P | PTE_W);
		invlpg(KVIEW);
		return (volatile uint32_t *)(KVIEW + (phys & 0xFFF));
	}
	phys = ((uint32_t *)(pde & PTE_FRAME))[lin >> 12 & 0x3FF] & PTE_FRAME;
	return (volatile uint32_t *)(phys + (lin & 0xFFF));
}

static void setup(void)
{
	pd = pg_dir_kernel(PTE_P | PTE_W | PTE_U);
	free_ram = pg_ident_end;
	pg_map(pd, T_NP, (uint32_t)test_page(0x70000000), PTE_W | PTE_U);
	pg_map(pd, T_SUP, (uint32_t)test_page(0x70100000), PTE_P | PTE_W);
	pg_map(pd, T_URO, (uint32_t)test_page(0x70200000), PTE_P | PTE_U);
	pg_map(pd, T_SRO, (uint32_t)test_page(0x70300000), PTE_P);
	pg_map(pd, T_URW, (uint32_t)test_page(0x70400000), PTE_P | PTE_W | PTE_U);
	pg_map(pd, T_PDE_SUP, (uint32_t)test_page(0x74000000), PTE_P | PTE_W | PTE_U);
	pd[T_PDE_SUP >> 22] &= ~PTE_U;
	pg_map(pd, T_PDE_RO, (uint32_t)test_page(0x78000000), PTE_P | PTE_W | PTE_U);
	pd[T_PDE_RO >> 22] &= ~PTE_W;
	pg_map(pd, T_PDE_NP, (uint32_t)test_page(0x7C000000), PTE_P | PTE_W | PTE_U);
	pd[T_PDE_NP >> 22] &= ~PTE_P;
	pg_map_4m(pd, T_RSVD21, free_ram, PTE_P | PTE_W | PTE_U | PDE_RSVD21);
	pg_map_4m(pd, T_RSVD21_SUP, free_ram, PTE_P | PTE_W | PDE_RSVD21);
	pg_map_4m(pd, T_RSVD13, free_ram, PTE_P | PTE_W | PTE_U | PDE_RSVD13);
	/* The free RAM behind them (paging is still off): a test page's words and code. */
	memcpy((void *)free_ram, test_page(0x71000000), PAGE_SIZE);
	pg_enable(pd, CR4_PSE);
}

/* ---- running one case ---- */

static const struct pcase *cur;
static uint32_t got_eax;

static uint32_t probe(const struct pcase *c)
{
	uint32_t eax;

	__asm__ volatile("call *%1"
			 : "=a"(eax)
			 : "r"(probe_fn[c->acc]), "b"(c->lin), "a"(0xC0DE0000u + c->acc)
			 : "ecx", "edx", "esi", "memory", "cc");
	return eax;
}

static uint32_t ring3_probe(uint32_t arg)
{
	return probe((const struct pcase *)arg);
}

/* A fault at CPL 3: noted like trap_catch does it, resumed at the probe's end. */
static enum user_action probe_event(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	trap_cr2 = read_cr2();
	trap_seen = *f;
	if (++trap_hits > 2)
		return USER_KILL;
	f->eip = (uint32_t)probe_res[cur->acc];
	return USER_RESUME;
}

static void run_case(const struct pcase *c)
{
	static struct user_proc proc;
	uint32_t cr0 = read_cr0();

	cur = c;
	if (c->flags & NOWP)
		write_cr0(cr0 & ~CR0_WP);
	if (c->cpl == 0) {
		trap_catch((uint32_t)probe_res[c->acc]);
		got_eax = probe(c);
		trap_uncatch();
	} else {
		trap_hits = 0;
		trap_cr2 = 0;
		trap_seen.vector = ~0u;
		user_proc_init(&proc, "probe", ring3_probe, (uint32_t)c);
		proc.on_event = probe_event;
		while (user_run(&proc) == USER_READY)
			;
		got_eax = proc.status;
	}
	write_cr0(cr0);
}

static void check_case(const struct pcase *c)
{
	uint32_t value = 0xC0DE0000u + c->acc, cr2 = c->acc == PUSH ? c->lin - 4 : c->lin;
	uint32_t eip = c->acc == EX ? c->lin : (uint32_t)probe_at[c->acc];
	volatile uint32_t *mem = kview(cr2);
	uint32_t before = *mem;
	char what[96];

	run_case(c);
	if (c->error == NOFAULT) {
		if (trap_hits) {
			guest_printf("pferr: FAIL %s: vector %u error 0x%x CR2 0x%08x, want no fault\n", c->what,
				     trap_seen.vector, trap_seen.error, trap_cr2);
			check_tally(0);
			return;
		}
		guest_snprintf(what, sizeof(what), "%s: no fault, %s", c->what,
			       c->acc == RD ? "EAX = the word" : c->acc == WR ? "the word written" :
			       "the code ran");
		mem = kview(cr2);
		if (c->acc == RD)
			check(what, got_eax, *mem);
		else if (c->acc == WR)
			check(what, *mem, value);
		else
			check(what, got_eax, CODE_EAX);
		return;
	}
	if ((c->error & PF_RSVD) && !sdm) {
		/* XXX: QEMU 7.2 leaves P out of a reserved-bit fault (see the top). */
		guest_snprintf(what, sizeof(what), "%s, error code but P", c->what);
		trap_seen.error &= ~PF_P;
		check_pf(what, eip, cr2, c->error & ~PF_P);
	} else {
		check_pf(c->what, eip, cr2, c->error);
	}
	mem = kview(cr2);
	switch (c->acc) {
	case RD:
		check("  EAX unchanged", trap_seen.eax, MARK);
		break;
	case WR:
		check("  memory unchanged (after - before)", *mem - before, 0);
		break;
	case EX:
		check("  the code there did not run: EAX unchanged", trap_seen.eax, MARK);
		break;
	case PUSH:
		check_true("  ESP and memory unchanged", trap_seen.outer_esp == c->lin && *mem == before);
		break;
	}
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t r[4];

	(void)magic;
	(void)mbi;
	sdm = guest_arg_u32("sdm", 0);
	check_init("pferr");
	guest_cpuid(1, r);
	check("CPUID.1:EDX.PSE", r[3] >> 3 & 1, 1);
	check("CPUID.1:EDX.PSE-36 (bits 20:13 of a 4 MiB PDE are reserved without it)", r[3] >> 17 & 1, 0);
	user_init();
	setup();
	for (unsigned i = 0; i < NCASES; i++)
		if (!(cases[i].flags & SDM_ONLY) || sdm)
			check_case(&cases[i]);
	return check_done();
}
