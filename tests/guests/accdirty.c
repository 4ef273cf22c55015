/*
 * accdirty: the Accessed and Dirty flags (SDM vol. 3, 4.8): the processor
 * sets A in every paging-structure entry it uses for a translation and D in
 * the entry that maps the page (a PTE, or a PDE with PS) on a write; it
 * never clears them; bit 6 of a PDE that references a page table is ignored
 * and stays 0. Each test page is mapped fresh with A = D = 0; after a flag is
 * cleared by software, INVLPG makes the next access walk the tables again
 * (4.10.4.1, 4.10.4.2), so the flag must be set again. Checked:
 *   read         A set, D not, in the PTE and A in the PDE;
 *   write        A and D set by a write with no read before; D by a write
 *                after a read; both sticky across later reads;
 *   again        A and D cleared, INVLPG, then set again by a read and a
 *                write; D alone cleared and set again; the PDE's A too;
 *   rmw          INC of memory, and CMPXCHG whose comparison fails (it writes
 *                the old value back; with LOCK too: vol. 2, CMPXCHG), set D;
 *   fetch        executing from a page sets A, not D;
 *   user         CPL 3 reads and writes set them as CPL 0 ones do;
 *   faults       a write that faults on a read-only page (CPL 0, CR0.WP=1)
 *                or a supervisor page (CPL 3) leaves D clear (A may be set:
 *                not checked);
 *   4mib         a 4 MiB page: A and D in its PDE.
 */
#include "lib/guest.h"

#define PT_BASE		0x40000000u	/* one page table of 4 KiB test pages */
#define P_READ		0x40000000u
#define P_WRITE		0x40001000u
#define P_INC		0x40002000u
#define P_CMPX		0x40003000u
#define P_CODE		0x40004000u
#define P_USER		0x40005000u
#define P_RO		0x40006000u
#define P_SUP		0x40007000u
#define P_USER_R	0x40008000u
#define BIG		0x40400000u	/* a 4 MiB page onto free RAM */
#define AD		(PTE_A | PTE_D)
#define CODE_VALUE	0x600dc0deu

static uint32_t *pd;
/* movl $CODE_VALUE, %eax; ret */
static const uint8_t code_blob[] = { 0xb8, 0xde, 0xc0, 0x0d, 0x60, 0xc3 };

static volatile uint32_t *at(uint32_t lin)
{
	return (volatile uint32_t *)lin;
}

static uint32_t pte_ad(uint32_t lin)
{
	return *(volatile uint32_t *)pg_pte(pd, lin) & AD;
}

static uint32_t pde_flags(uint32_t lin)
{
	return ((volatile uint32_t *)pd)[lin >> 22] & AD;
}

/* A fresh page of the pool at lin with flags; A and D clear. */
static void map_fresh(uint32_t lin, uint32_t flags)
{
	pg_map(pd, lin, (uint32_t)pg_alloc(), flags);
	invlpg(lin);
}

/* Clears bits of lin's PTE and drops its translation. */
static void clear_pte(uint32_t lin, uint32_t bits)
{
	pg_protect(pd, lin, 0, bits);
	invlpg(lin);
}

/* EBX = address, EAX = value; a fault resumes at ad_wr_res. */
__asm__(".text\n"
	".globl ad_wr, ad_wr_at, ad_wr_res\n"
	"ad_wr:\nad_wr_at: movl %eax, (%ebx)\nad_wr_res: ret\n");
extern char ad_wr[], ad_wr_at[], ad_wr_res[];

static void write_at(uint32_t lin, uint32_t v)
{
	__asm__ volatile("call ad_wr" : : "b"(lin), "a"(v) : "memory");
}

static void setup(void)
{
	pd = pg_dir_kernel(PTE_P | PTE_W | PTE_U);
	pg_pte(pd, PT_BASE);	/* the test pages' page table */
	tss_init();
	pg_enable(pd, CR4_PSE);
}

static void read_write_tests(void)
{
	uint32_t v;

	guest_printf("accdirty: -- read --\n");
	pd[PT_BASE >> 22] &= ~AD;
	map_fresh(P_READ, PTE_P | PTE_W);
	v = *at(P_READ);
	(void)v;
	check("PTE after a read: A and D", pte_ad(P_READ), PTE_A);
	check("PDE after the read: A and bit 6", pde_flags(P_READ), PTE_A);

	guest_printf("accdirty: -- write --\n");
	map_fresh(P_WRITE, PTE_P | PTE_W);
	*at(P_WRITE + 8) = 1;
	check("PTE after a write with no read before: A and D", pte_ad(P_WRITE), AD);
	check("PDE bit 6 after the write (ignored: references a page table)", pde_flags(P_WRITE) & PTE_D, 0);
	*at(P_READ + 4) = 2;
	check("PTE of the page read before, after a write: A and D", pte_ad(P_READ), AD);
	v = *at(P_READ + 4);
	check("  after another read: still A and D", pte_ad(P_READ), AD);
	check("  the value written", v, 2);

	guest_printf("accdirty: -- again --\n");
	clear_pte(P_READ, AD);
	v = *at(P_READ);
	check("A and D cleared, INVLPG, a read: A and D", pte_ad(P_READ), PTE_A);
	*at(P_READ) = 3;
	check("  then a write: A and D", pte_ad(P_READ), AD);
	clear_pte(P_READ, PTE_D);
	*at(P_READ) = 4;
	check("D alone cleared, INVLPG, a write: A and D", pte_ad(P_READ), AD);
	pd[PT_BASE >> 22] &= ~PTE_A;
	invlpg(P_WRITE);
	v = *at(P_WRITE);
	check("PDE A cleared, INVLPG, a read: PDE A", pde_flags(P_WRITE) & PTE_A, PTE_A);
	check("  the PTE keeps its A and D", pte_ad(P_WRITE), AD);
}

static void rmw_fetch_tests(void)
{
	uint32_t eax, (*code)(void) = (uint32_t (*)(void))P_CODE;
	uint8_t *page;

	guest_printf("accdirty: -- rmw --\n");
	map_fresh(P_INC, PTE_P | PTE_W);
	__asm__ volatile("incl (%0)" : : "r"(P_INC) : "memory", "cc");
	check("INC of memory on a clean page: A and D", pte_ad(P_INC), AD);
	map_fresh(P_CMPX, PTE_P | PTE_W);
	eax = 1;	/* the page holds 0: the comparison fails */
	__asm__ volatile("cmpxchgl %2, (%1)" : "+a"(eax) : "r"(P_CMPX), "r"(7u) : "memory", "cc");
	check("CMPXCHG whose comparison fails: EAX = the old value", eax, 0);
	check("  A and D (the old value is written back)", pte_ad(P_CMPX), AD);
	check("  memory unchanged", *at(P_CMPX), 0);
	map_fresh(P_CMPX, PTE_P | PTE_W);
	eax = 1;
	__asm__ volatile("lock cmpxchgl %2, (%1)" : "+a"(eax) : "r"(P_CMPX), "r"(7u) : "memory", "cc");
	check("LOCK CMPXCHG whose comparison fails: A and D (a locked read has its locked write)",
	      pte_ad(P_CMPX), AD);

	guest_printf("accdirty: -- fetch --\n");
	page = pg_alloc();
	memcpy(page, code_blob, sizeof(code_blob));
	pg_map(pd, P_CODE, (uint32_t)page, PTE_P);
	invlpg(P_CODE);
	check("a call into a read-only page returns", code(), CODE_VALUE);
	check("  its PTE: A and D", pte_ad(P_CODE), PTE_A);
}

/* ---- CPL 3 (ring_call) ---- */

static uint32_t ring3_write(void)
{
	write_at(P_USER + 0x10, 5);
	return 0;
}

static uint32_t ring3_read(void)
{
	return *at(P_USER_R + 0x10);
}

static uint32_t ring3_write_sup(void)
{
	write_at(P_SUP, 6);
	return 0;
}

static void user_fault_tests(void)
{
	guest_printf("accdirty: -- user --\n");
	map_fresh(P_USER_R, PTE_P | PTE_U);
	ring_call(3, ring3_read);
	check("a read at CPL 3: A and D", pte_ad(P_USER_R), PTE_A);
	map_fresh(P_USER, PTE_P | PTE_W | PTE_U);
	ring_call(3, ring3_write);
	check("a write at CPL 3: A and D", pte_ad(P_USER), AD);

	guest_printf("accdirty: -- faults --\n");
	map_fresh(P_RO, PTE_P);
	trap_catch((uint32_t)ad_wr_res);
	write_at(P_RO, 7);
	trap_uncatch();
	check_pf("CPL 0 write to a read-only page, CR0.WP=1", (uint32_t)ad_wr_at, P_RO, PF_P | PF_W);
	check("  its PTE: D", pte_ad(P_RO) & PTE_D, 0);
	map_fresh(P_SUP, PTE_P | PTE_W);
	trap_catch((uint32_t)ad_wr_res);
	ring_call(3, ring3_write_sup);
	trap_uncatch();
	check_pf("CPL 3 write to a supervisor page", (uint32_t)ad_wr_at, P_SUP, PF_P | PF_W | PF_U);
	check("  its PTE: D", pte_ad(P_SUP) & PTE_D, 0);
}

static void big_page_tests(void)
{
	uint32_t v;

	guest_printf("accdirty: -- 4mib --\n");
	pg_map_4m(pd, BIG, pg_ident_end, PTE_P | PTE_W);
	invlpg(BIG);
	v = *at(BIG + 0x123450);
	(void)v;
	check("4 MiB PDE after a read: A and D", pde_flags(BIG), PTE_A);
	*at(BIG + 0x234560) = 8;
	check("  after a write: A and D", pde_flags(BIG), AD);
	pd[BIG >> 22] &= ~AD;
	invlpg(BIG + 0x300000);
	*at(BIG + 0x300000) = 9;
	check("A and D cleared, INVLPG, a write: A and D", pde_flags(BIG), AD);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("accdirty");
	setup();
	read_write_tests();
	rmw_fetch_tests();
	user_fault_tests();
	big_page_tests();
	return check_done();
}
