/* Paging checks that read the same under 32-bit and PAE paging, run through the mode's map function (SDM vol. 3, 4.3, 4.4, 4.10). */
#include "guest.h"

static volatile uint32_t *at(uint32_t lin)
{
	return (volatile uint32_t *)lin;
}

/* check() with the name formatted: "0x%08x ..." with the addresses tested. */
static void checkf(uint32_t got, uint32_t want, const char *fmt, ...)
{
	char what[96];
	va_list ap;

	va_start(ap, fmt);
	guest_vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	check(what, got, want);
}

void pgcheck_alias(pgcheck_map_fn map, uint32_t a, uint32_t b)
{
	uint32_t *page = pg_alloc_tagged(0xA0000000);

	map(a, (uint32_t)page, PTE_P | PTE_W);
	map(b, (uint32_t)page, PTE_P | PTE_W);
	checkf(*at(a + 0x10), 0xA0000004, "0x%08x before any write", a + 0x10);
	checkf(*at(b + 0x10), 0xA0000004, "0x%08x before any write", b + 0x10);
	*at(a + 0x10) = 0xAAAA5555;
	checkf(*at(b + 0x10), 0xAAAA5555, "0x%08x after a write to 0x%08x", b + 0x10, a + 0x10);
	*at(b + 0xFFC) = 0x5555AAAA;
	checkf(*at(a + 0xFFC), 0x5555AAAA, "0x%08x after a write to 0x%08x", a + 0xFFC, b + 0xFFC);
	check("the identity view of the page, word 4", ((volatile uint32_t *)page)[4], 0xAAAA5555);
}

void pgcheck_global(pgcheck_map_fn map, uint32_t global, uint32_t local)
{
	uint32_t r[4], *g1 = pg_alloc_tagged(0x61000000), *g2 = pg_alloc_tagged(0x62000000);
	uint32_t *n1 = pg_alloc_tagged(0x63000000), *n2 = pg_alloc_tagged(0x64000000), v;

	guest_cpuid(1, r);
	check("CPUID.1:EDX.PGE", r[3] >> 13 & 1, 1);
	write_cr4(read_cr4() | CR4_PGE);
	check("CR4.PGE set", read_cr4() & CR4_PGE, CR4_PGE);
	map(global, (uint32_t)g1, PTE_P | PTE_W | PTE_G);
	map(local, (uint32_t)n1, PTE_P | PTE_W);
	check("global page, first read", *at(global + 4), 0x61000001);
	check("non-global page, first read", *at(local + 4), 0x63000001);

	/* Both PTEs pointed elsewhere, no INVLPG, then MOV to CR3. */
	map(global, (uint32_t)g2, PTE_P | PTE_W | PTE_G);
	map(local, (uint32_t)n2, PTE_P | PTE_W);
	write_cr3(read_cr3());
	check("non-global page after the CR3 write: the new page", *at(local + 4), 0x64000001);
	v = *at(global + 4);	/* old or new page: both allowed */
	(void)v;
	invlpg(global);
	check("global page after INVLPG: the new page", *at(global + 4), 0x62000001);

	map(global, (uint32_t)g1, PTE_P | PTE_W | PTE_G);
	write_cr4(read_cr4() & ~CR4_PGE);
	check("global page after clearing CR4.PGE: the new page", *at(global + 4), 0x61000001);
	write_cr4(read_cr4() | CR4_PGE);
}
