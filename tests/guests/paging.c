/*
 * paging: 32-bit paging at CPL 0 (SDM vol. 3, chapter 4), one group each:
 *   identity     the kernel identity-mapped, then CR0.PG set (4.3, 9.9.1);
 *   higher-half  the same tables again at 0xC0000000 + phys: reads, writes
 *                and a call through both;
 *   alias        one physical page at two linear addresses;
 *   self-map     PDE 1023 pointing at the directory: PTEs and PDEs read
 *                through 0xFFC00000/0xFFFFF000, a PTE changed through the
 *                window and then INVLPG, a page table created through it,
 *                a PDE changed and then INVLPG (paging-structure caches,
 *                4.10.4.1);
 *   pse          4 MiB pages with CR4.PSE (4.3, Table 4-4), and a PDE's PS
 *                bit ignored with CR4.PSE = 0;
 *   crossing     accesses that cross from a mapped page into an unmapped
 *                one: #PF with CR2 = the first byte of the unmapped page and
 *                no part of the access done (6.5: a fault leaves the state as
 *                before the instruction); REP MOVSB stops with consistent
 *                registers and resumes once the page is mapped (vol. 2, REP).
 * Every address printed is a fixed test address or a difference.
 */
#include "lib/guest.h"

#define HIGH_HALF	0xC0000000u
#define ALIAS_A		0x50000000u	/* two linear pages, one physical page */
#define ALIAS_B		0x50003000u
#define WIN_PTE		0x50005000u	/* a PTE changed through the self-map */
#define WIN_NEW		0x50006000u	/* a PTE created through it */
#define WIN_TABLE	0x52000000u	/* a page table created through it */
#define PDE_SWAP	0x54000000u	/* a PDE pointed at another page table */
#define SELF_PTES	0xFFC00000u	/* PDE 1023 -> directory: the page tables */
#define SELF_PDES	0xFFFFF000u	/* ... and the directory itself */
#define BIG_LOW		0x80000000u	/* a 4 MiB page onto physical 0 */
#define BIG_FREE	0x80400000u	/* a 4 MiB page onto free RAM at pg_ident_end */
#define SMALL_FREE	0x50010000u	/* 4 KiB views of that RAM */
#define PS_IGNORED	0x84000000u	/* a PDE with PS that points at a page table */
#define CROSS		0x60000000u	/* mapped; CROSS + 0x1000 is not */
#define CROSS_BACK	0x60003000u	/* not mapped; CROSS_BACK + 0x1000 is */
#define MARK		0x5a5a5a5au

static uint32_t *pd;
static volatile uint32_t kvar = 0x1234abcd;

static volatile uint32_t *at(uint32_t lin)
{
	return (volatile uint32_t *)lin;
}

/*
 * EBX = address, EAX = value or MARK; NAME_at is the access, the handler
 * resumes at NAME_res. REP MOVSB takes ESI, EDI, ECX.
 */
__asm__(".text\n"
	"x_rd:\n  movl $0x5a5a5a5a, %eax\nx_rd_at: movl (%ebx), %eax\nx_rd_res: ret\n"
	"x_wr:\nx_wr_at: movl %eax, (%ebx)\nx_wr_res: ret\n"
	"x_wrw:\nx_wrw_at: movw %ax, (%ebx)\nx_wrw_res: ret\n"
	"x_movs:\nx_movs_at: rep movsb\nx_movs_res: ret\n");
extern char x_rd[], x_rd_at[], x_rd_res[], x_wr[], x_wr_at[], x_wr_res[], x_wrw[], x_wrw_at[],
	x_wrw_res[], x_movs[], x_movs_at[], x_movs_res[];

static uint32_t run_access(char *fn, char *res, uint32_t addr, uint32_t value)
{
	uint32_t eax;

	trap_catch((uint32_t)res);
	__asm__ volatile("call *%1" : "=a"(eax) : "r"(fn), "b"(addr), "a"(value) : "ecx", "edx", "memory", "cc");
	trap_uncatch();
	return eax;
}

/* ======== identity ======== */

static void identity_tests(void)
{
	guest_printf("paging: -- identity --\n");
	check("CR0.PG at entry (Multiboot: paging off)", read_cr0() & CR0_PG, 0);
	pd = pg_dir_kernel(PTE_P | PTE_W);
	pg_enable(pd, 0);
	check("CR0.PG and CR0.WP after enabling", read_cr0() & (CR0_PG | CR0_WP), CR0_PG | CR0_WP);
	check("CR3 - the directory", read_cr3() - (uint32_t)pd, 0);
	check("a variable read through the identity map", kvar, 0x1234abcd);
	check("PTE of the variable: frame - its address",
	      (*pg_pte(pd, (uint32_t)&kvar) & PTE_FRAME) - ((uint32_t)&kvar & PTE_FRAME), 0);
}

/* ======== higher-half ======== */

/* Returns the address of its own label 1 as the CPU fetched it. */
__asm__(".text\n"
	".globl where_am_i\n"
	"where_am_i:\n"
	"  call 1f\n"
	".globl where_am_i_label\n"
	"where_am_i_label:\n"
	"1: popl %eax\n"
	"  ret\n");
uint32_t where_am_i(void);
extern char where_am_i_label[];

static void higher_half_tests(void)
{
	volatile uint32_t *hi = at((uint32_t)&kvar + HIGH_HALF);
	uint32_t (*hi_fn)(void) = (uint32_t (*)(void))((uint32_t)where_am_i + HIGH_HALF);

	guest_printf("paging: -- higher-half --\n");
	for (uint32_t i = 0; i < pg_ident_end >> 22; i++)
		pd[(HIGH_HALF >> 22) + i] = pd[i];
	kvar = 0x11111111;
	check("alias reads what the identity map wrote", *hi, 0x11111111);
	*hi = 0x22222222;
	check("identity map reads what the alias wrote", kvar, 0x22222222);
	check("PDE 768 = PDE 0 (the same page table)", pd[HIGH_HALF >> 22] - pd[0], 0);
	check("a call through the identity map: EIP - label", where_am_i() - (uint32_t)where_am_i_label, 0);
	check("a call through the alias: EIP - (label + 0xC0000000)",
	      hi_fn() - ((uint32_t)where_am_i_label + HIGH_HALF), 0);
}

/* ======== alias ======== */

static void map_pd(uint32_t lin, uint32_t phys, uint32_t flags)
{
	pg_map(pd, lin, phys, flags);
}

static void alias_tests(void)
{
	guest_printf("paging: -- alias --\n");
	pgcheck_alias(map_pd, ALIAS_A, ALIAS_B);
}

/* ======== self-map ======== */

static volatile uint32_t *pte_win(uint32_t lin)
{
	return at(SELF_PTES + (lin >> 12) * 4);
}

static volatile uint32_t *pde_win(uint32_t lin)
{
	return at(SELF_PDES + (lin >> 22) * 4);
}

static void self_map_tests(void)
{
	uint32_t *x = pg_alloc_tagged(0x58000000), *y = pg_alloc_tagged(0x59000000);
	uint32_t *t1 = pg_alloc(), *t2 = pg_alloc(), *table = pg_alloc();

	guest_printf("paging: -- self-map --\n");
	pd[1023] = (uint32_t)pd | PTE_P | PTE_W;
	check("PTE of 0x50000000 in the window - in its table",
	      *pte_win(ALIAS_A) - *pg_pte(pd, ALIAS_A), 0);
	check("PDE of 0x50000000 in the window - in the directory", *pde_win(ALIAS_A) - pd[ALIAS_A >> 22], 0);
	check("PDE 1023 in the window: frame - the directory",
	      (*pde_win(SELF_PDES) & PTE_FRAME) - (uint32_t)pd, 0);
	check("PTE of 0xFFFFF000 is PDE 1023", *pte_win(SELF_PDES) - pd[1023], 0);

	/* A PTE rewritten through the window: old page, then new page after INVLPG. */
	pg_map(pd, WIN_PTE, (uint32_t)x, PTE_P | PTE_W);
	check("0x50005008 maps page X", *at(WIN_PTE + 8), 0x58000002);
	*pte_win(WIN_PTE) = (uint32_t)y | PTE_P | PTE_W;
	invlpg(WIN_PTE);
	check("0x50005008 after the window write and INVLPG (page Y)", *at(WIN_PTE + 8), 0x59000002);
	check("the table holds the new PTE: frame - Y", (*pg_pte(pd, WIN_PTE) & PTE_FRAME) - (uint32_t)y, 0);

	/* A PTE created through the window (not-present entries are never cached: 4.10.2.3). */
	*pte_win(WIN_NEW) = (uint32_t)x | PTE_P | PTE_W;
	check("0x50006010 after creating its PTE through the window", *at(WIN_NEW + 0x10), 0x58000004);
	*pte_win(WIN_NEW) = 0;
	invlpg(WIN_NEW);
	run_access(x_rd, x_rd_res, WIN_NEW + 0x10, 0);
	check_pf("read after clearing the PTE through the window and INVLPG", (uint32_t)x_rd_at,
		 WIN_NEW + 0x10, 0);

	/* A page table created through the directory's window, then filled through its own. */
	*pde_win(WIN_TABLE) = (uint32_t)table | PTE_P | PTE_W;
	*pte_win(WIN_TABLE + 0x3000) = (uint32_t)y | PTE_P | PTE_W;
	check("0x52003004 through a table made through the window", *at(WIN_TABLE + 0x3004), 0x59000001);
	check("the new table's entry 3: frame - Y", (table[3] & PTE_FRAME) - (uint32_t)y, 0);

	/* A PDE switched to another page table: INVLPG drops the cached PDE too. */
	t1[0] = (uint32_t)x | PTE_P | PTE_W;
	t2[0] = (uint32_t)y | PTE_P | PTE_W;
	pd[PDE_SWAP >> 22] = (uint32_t)t1 | PTE_P | PTE_W;
	check("0x5400000c through table 1", *at(PDE_SWAP + 0xC), 0x58000003);
	*pde_win(PDE_SWAP) = (uint32_t)t2 | PTE_P | PTE_W;
	invlpg(PDE_SWAP);
	check("0x5400000c after the PDE points at table 2 and INVLPG", *at(PDE_SWAP + 0xC), 0x59000003);
}

/* ======== pse ======== */

static void pse_tests(void)
{
	uint32_t r[4], *t = pg_alloc(), *z = pg_alloc_tagged(0x5A000000);
	uint32_t free_ram = pg_ident_end;

	guest_printf("paging: -- pse --\n");
	guest_cpuid(1, r);
	check("CPUID.1:EDX.PSE", r[3] >> 3 & 1, 1);
	write_cr4(read_cr4() | CR4_PSE);
	check("CR4.PSE set", read_cr4() & CR4_PSE, CR4_PSE);

	pg_map_4m(pd, BIG_LOW, 0, PTE_P | PTE_W);
	kvar = 0x33333333;
	check("a variable through the 4 MiB page at 0x80000000", *at(BIG_LOW + (uint32_t)&kvar), 0x33333333);
	*at(BIG_LOW + (uint32_t)&kvar) = 0x44444444;
	check("the identity map reads what the 4 MiB page wrote", kvar, 0x44444444);

	/* Free RAM beyond the image: the offset's bits 21:12 come from the linear address. */
	pg_map_4m(pd, BIG_FREE, free_ram, PTE_P | PTE_W);
	pg_map(pd, SMALL_FREE, free_ram + 0x2000, PTE_P | PTE_W);
	pg_map(pd, SMALL_FREE + 0x1000, free_ram + 0x3FF000, PTE_P | PTE_W);
	*at(BIG_FREE + 0x2ABC) = 0x66666666;
	check("4 KiB view of offset 0x2abc", *at(SMALL_FREE + 0xABC), 0x66666666);
	*at(SMALL_FREE + 0x1FF8) = 0x77777777;
	check("4 MiB view of offset 0x3ffff8", *at(BIG_FREE + 0x3FFFF8), 0x77777777);
	check("the PDE through the self-map: frame - the RAM",
	      (*pde_win(BIG_FREE) & 0xFFC00000u) - free_ram, 0);

	/* CR4.PSE = 0: PS is ignored and the PDE points at a page table (4.3). */
	t[5] = (uint32_t)z | PTE_P | PTE_W;
	pd[PS_IGNORED >> 22] = (uint32_t)t | PTE_PS | PTE_P | PTE_W;
	write_cr4(read_cr4() & ~CR4_PSE);
	write_cr3(read_cr3());	/* changing CR4.PSE alone need not flush (4.10.4.1) */
	check("CR4.PSE=0: 0x84005010 through the PDE's page table", *at(PS_IGNORED + 0x5010), 0x5A000004);
	pd[PS_IGNORED >> 22] = 0;
	write_cr4(read_cr4() | CR4_PSE);
	write_cr3(read_cr3());
	check("CR4.PSE=1 again: the 4 MiB page still reads", *at(BIG_FREE + 0x2ABC), 0x66666666);
}

/* ======== crossing ======== */

static uint32_t *back;	/* the page at CROSS_BACK + 0x1000 */

/* Maps the faulting page onto `back` and returns to the instruction. */
static int map_on_fault(struct trap_frame *f)
{
	trap_cr2 = read_cr2();
	trap_seen = *f;
	trap_hits++;
	if (f->vector != VEC_PF || trap_hits > 1)
		return 0;
	pg_map(pd, trap_cr2 & PTE_FRAME, (uint32_t)back, PTE_P | PTE_W);
	return 1;
}

static void crossing_tests(void)
{
	uint32_t *page = pg_alloc_tagged(0x60600000), eax;
	static const uint8_t src[16] = "0123456789abcdef";
	uint32_t dst = CROSS + 0xFF8, esi, edi, ecx;
	volatile uint8_t *bytes = (volatile uint8_t *)page;
	int copied = 1;

	guest_printf("paging: -- crossing --\n");
	back = pg_alloc_tagged(0x6B000000);
	pg_map(pd, CROSS, (uint32_t)page, PTE_P | PTE_W);
	pg_map(pd, CROSS_BACK + 0x1000, (uint32_t)back, PTE_P | PTE_W);
	page[0x3FF] = 0xA1B2C3D4;

	eax = run_access(x_rd, x_rd_res, CROSS + 0xFFE, 0);
	check_pf("4-byte read at 0x60000ffe", (uint32_t)x_rd_at, CROSS + 0x1000, 0);
	check("  EAX unchanged", eax, MARK);
	run_access(x_wr, x_wr_res, CROSS + 0xFFE, 0x55667788);
	check_pf("4-byte write at 0x60000ffe", (uint32_t)x_wr_at, CROSS + 0x1000, PF_W);
	check("  the mapped page's last word unchanged", page[0x3FF], 0xA1B2C3D4);
	run_access(x_wrw, x_wrw_res, CROSS + 0xFFF, 0x9999);
	check_pf("2-byte write at 0x60000fff", (uint32_t)x_wrw_at, CROSS + 0x1000, PF_W);
	check("  the mapped page's last word unchanged", page[0x3FF], 0xA1B2C3D4);
	eax = run_access(x_rd, x_rd_res, CROSS_BACK + 0xFFE, 0);
	check_pf("4-byte read at 0x60003ffe (the first page unmapped)", (uint32_t)x_rd_at,
		 CROSS_BACK + 0xFFE, 0);
	check("  EAX unchanged", eax, MARK);

	/* REP MOVSB of 16 bytes to 0x60000ff8: stops at the unmapped page. */
	trap_catch((uint32_t)x_movs_res);
	__asm__ volatile("call x_movs" : "=S"(esi), "=D"(edi), "=c"(ecx)
			 : "S"(src), "D"(dst), "c"(16) : "eax", "edx", "memory", "cc");
	trap_uncatch();
	check_pf("REP MOVSB of 16 bytes to 0x60000ff8", (uint32_t)x_movs_at, CROSS + 0x1000, PF_W);
	esi = trap_seen.esi;
	edi = trap_seen.edi;
	ecx = trap_seen.ecx;
	check("  EDI + ECX - (destination + 16)", edi + ecx - (dst + 16), 0);
	check("  ESI - source - (EDI - destination)", (esi - (uint32_t)src) - (edi - dst), 0);
	check_range("  EDI - destination", edi - dst, 0, 8);
	for (uint32_t i = 0; i < edi - dst && i < 8; i++)
		copied &= bytes[0xFF8 + i] == src[i];
	check_true("  the bytes below EDI copied", copied);

	/* The same again, with a handler that maps the page and restarts the instruction. */
	memset(page + 0x3FE, 0, 8);
	trap_hits = 0;
	guest_trap_hook = map_on_fault;
	__asm__ volatile("call x_movs" : "=S"(esi), "=D"(edi), "=c"(ecx)
			 : "S"(src), "D"(dst), "c"(16) : "eax", "edx", "memory", "cc");
	guest_trap_hook = 0;
	check("REP MOVSB restarted after mapping the page: faults", trap_hits, 1);
	check("  ECX at the end", ecx, 0);
	check_true("  all 16 bytes copied", !memcmp((const void *)(page + 0x3FE), src, 8) &&
						    !memcmp(back, src + 8, 8));
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("paging");
	identity_tests();
	higher_half_tests();
	alias_tests();
	self_map_tests();
	pse_tests();
	crossing_tests();
	return check_done();
}
