/* 32-bit paging for the test guests: a pool of page-aligned pages, directories, maps, enabling (SDM vol. 3, 4.3, 4.5). */
#include "guest.h"

/* Directories, page tables and test pages; 640 KiB of .bss. */
#define POOL_PAGES	160
/* Room after _end for what the loader puts there (Multiboot info, command line). */
#define LOADER_SLACK	0x10000u

static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static unsigned pool_used;
extern char _end[];

uint32_t pg_ident_end;

void *pg_alloc(void)
{
	if (pool_used == POOL_PAGES) {
		guest_printf("paging: the pool's %u pages are used up\n", POOL_PAGES);
		guest_exit(GUEST_EXIT_TRAP);
	}
	return memset(pool[pool_used++], 0, PAGE_SIZE);
}

uint32_t *pg_alloc_tagged(uint32_t tag)
{
	uint32_t *p = pg_alloc();

	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		p[i] = tag + i;
	return p;
}

uint32_t *pg_pte(uint32_t *pd, uint32_t lin)
{
	uint32_t *pde = &pd[lin >> 22];

	if (!(*pde & PTE_P))
		*pde = (uint32_t)pg_alloc() | PTE_P | PTE_W | PTE_U;
	else if (*pde & PTE_PS) {
		guest_printf("paging: pg_pte(0x%08x): a 4 MiB page\n", lin);
		guest_exit(GUEST_EXIT_TRAP);
	}
	return (uint32_t *)(*pde & PTE_FRAME) + (lin >> 12 & 0x3FF);
}

void pg_map(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags)
{
	*pg_pte(pd, lin) = (phys & PTE_FRAME) | flags;
}

void pg_map_range(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t len, uint32_t flags)
{
	for (uint32_t off = 0; off < len; off += PAGE_SIZE)
		pg_map(pd, lin + off, phys + off, flags);
}

void pg_map_4m(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags)
{
	pd[lin >> 22] = (phys & 0xFFC00000u) | flags | PTE_PS;
}

void pg_unmap(uint32_t *pd, uint32_t lin)
{
	*pg_pte(pd, lin) = 0;
}

uint32_t pg_protect(uint32_t *pd, uint32_t lin, uint32_t set, uint32_t clear)
{
	uint32_t *pte = pg_pte(pd, lin), old = *pte;

	*pte = (old & ~clear) | set;
	return old;
}

uint32_t pg_ident_init(void)
{
	pg_ident_end = ((uint32_t)_end + LOADER_SLACK + PAGE_4M - 1) & ~(PAGE_4M - 1);
	return pg_ident_end;
}

int pg_in_pool(uint32_t phys)
{
	return phys >= (uint32_t)pool && phys < (uint32_t)pool + sizeof(pool);
}

uint32_t *pg_dir_kernel(uint32_t flags)
{
	uint32_t *pd = pg_alloc();

	pg_ident_init();
	/* Page tables for the whole range first, so the pool's pages they use are known. */
	for (uint32_t lin = 0; lin < pg_ident_end; lin += PAGE_4M)
		pg_pte(pd, lin);
	pg_map_range(pd, 0, 0, pg_ident_end, flags);
	for (unsigned i = 0; i < POOL_PAGES; i++)
		pg_protect(pd, (uint32_t)pool[i], 0, PTE_U);
	return pd;
}

uint32_t *pg_dir_clone_kernel(const uint32_t *src)
{
	uint32_t *pd = pg_alloc();

	for (uint32_t i = 0; i < pg_ident_end >> 22; i++)
		pd[i] = src[i];
	return pd;
}

/*
 * The MOV to CR0 and the jump after it come from an identity-mapped page, so
 * the next fetch finds the same instructions (SDM vol. 3, 9.9.1).
 */
void pg_enable(uint32_t *pd, uint32_t cr4)
{
	write_cr4(read_cr4() | cr4);
	write_cr3((uint32_t)pd);
	__asm__ volatile("movl %0, %%cr0\n\tjmp 1f\n1:" : : "r"(read_cr0() | CR0_PG | CR0_WP) : "memory");
}
