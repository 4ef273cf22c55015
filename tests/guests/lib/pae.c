/* PAE paging for the test guests: PDPTs, page directories and tables of 64-bit entries in paging.c's pool (SDM vol. 3, 4.4). */
#include "guest.h"

/* Bits 31:30, 29:21 and 20:12 of a linear address (SDM vol. 3, 4.4.2). */
#define PDPT_INDEX(lin)	((lin) >> 30)
#define PD_INDEX(lin)	((lin) >> 21 & (PAE_ENTRIES - 1))
#define PT_INDEX(lin)	((lin) >> 12 & (PAE_ENTRIES - 1))

/* The structure an entry points at; RAM is below 4 GiB, so the address fits a pointer. */
static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(uint32_t)(entry & PAE_FRAME);
}

/*
 * A PDPTE has P, PWT, PCD and the address; bits 2:1 and 8:5 (R/W, U/S, A
 * among them) are reserved, and MOV to CR3 faults on them (Table 4-8).
 */
static uint64_t *pdpt_new(void)
{
	uint64_t *pdpt = pg_alloc();

	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (uint32_t)pg_alloc() | PTE_P;
	return pdpt;
}

uint64_t *pae_pde(const uint64_t *pdpt, uint32_t lin)
{
	return table_of(pdpt[PDPT_INDEX(lin)]) + PD_INDEX(lin);
}

uint64_t *pae_pte(uint64_t *pdpt, uint32_t lin)
{
	uint64_t *pde = pae_pde(pdpt, lin);

	if (!(*pde & PTE_P))
		*pde = (uint32_t)pg_alloc() | PTE_P | PTE_W | PTE_U;
	else if (*pde & PTE_PS) {
		guest_printf("pae: pae_pte(0x%08x): a 2 MiB page\n", lin);
		guest_exit(GUEST_EXIT_TRAP);
	}
	return table_of(*pde) + PT_INDEX(lin);
}

void pae_map(uint64_t *pdpt, uint32_t lin, uint64_t phys, uint64_t flags)
{
	*pae_pte(pdpt, lin) = (phys & PAE_FRAME) | flags;
}

void pae_map_range(uint64_t *pdpt, uint32_t lin, uint64_t phys, uint32_t len, uint64_t flags)
{
	for (uint32_t off = 0; off < len; off += PAGE_SIZE)
		pae_map(pdpt, lin + off, phys + off, flags);
}

void pae_map_2m(uint64_t *pdpt, uint32_t lin, uint64_t phys, uint64_t flags)
{
	*pae_pde(pdpt, lin) = (phys & PAE_FRAME_2M) | flags | PTE_PS;
}

uint64_t pae_protect(uint64_t *pdpt, uint32_t lin, uint64_t set, uint64_t clear)
{
	uint64_t *pte = pae_pte(pdpt, lin), old = *pte;

	*pte = (old & ~clear) | set;
	return old;
}

uint64_t *pae_pdpt_kernel(uint64_t flags)
{
	uint64_t *pdpt = pdpt_new();

	pg_ident_init();
	for (uint32_t lin = 0; lin < pg_ident_end; lin += PAGE_SIZE)
		pae_map(pdpt, lin, lin, pg_in_pool(lin) ? flags & ~(uint64_t)PTE_U : flags);
	return pdpt;
}

uint64_t *pae_pdpt_clone_kernel(const uint64_t *src)
{
	uint64_t *pdpt = pdpt_new();

	for (uint32_t lin = 0; lin < pg_ident_end; lin += PAGE_2M)
		*pae_pde(pdpt, lin) = *pae_pde(src, lin);
	return pdpt;
}

void pae_enable(uint64_t *pdpt, uint32_t cr4)
{
	pg_enable((uint32_t *)pdpt, CR4_PAE | cr4);
}
