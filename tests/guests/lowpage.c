/*
 * lowpage: guest pages at linear addresses the host refuses to map (below
 * vm.mmap_min_addr, 4 KiB on this host and 64 KiB on many): linear page 0
 * mapped to a page of RAM, read and written by kernel code and by a ring-3
 * process, with 1, 2 and 4-byte accesses and a read-modify-write.  On a PC
 * these are ordinary pages (SDM vol. 3, 4.3); bt runs such instructions
 * itself, redirected through its map of guest RAM.
 */
#include "lib/guest.h"

static uint32_t *page;		/* the physical page behind linear 0 */

/* A pointer to a fixed low address that the compiler does not reason about. */
static inline void *low(uint32_t addr)
{
	uintptr_t p = addr;

	__asm__("" : "+r"(p));
	return (void *)p;
}

static uint32_t prog_low(uint32_t arg)
{
	volatile uint32_t *w = low(0x10);
	volatile uint8_t *b = low(0x30);
	uint32_t bad = 0;

	bad |= (*w != arg) << 0;
	*w = arg + 1;
	*b = 0x5a;
	__asm__ volatile("addl $2, (%0)" : : "r"(w) : "memory", "cc");
	bad |= (*(volatile uint16_t *)low(0x10) != (uint16_t)(arg + 3)) << 1;
	return bad;
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	static struct user_proc proc;

	(void)magic;
	(void)mbi;
	check_init("lowpage");
	user_init();
	uint32_t *pd = pg_dir_kernel(PTE_P | PTE_W | PTE_U);
	page = pg_alloc_tagged(0x7700);
	pg_map(pd, 0, (uint32_t)page, PTE_P | PTE_W | PTE_U);
	pg_enable(pd, CR4_PSE);

	volatile uint32_t *w = low(0x10);
	check("kernel: read of linear 0x10", *w, 0x7704);
	*w = 0x12345678;
	check("kernel: the write landed in the physical page", page[4], 0x12345678);
	*(volatile uint8_t *)low(0x11) = 0xab;
	check("kernel: byte write", page[4], 0x1234ab78);
	__asm__ volatile("incl (%0)" : : "r"(w) : "memory", "cc");
	check("kernel: read-modify-write", page[4], 0x1234ab79);
	check("kernel: PTE of linear 0 accessed and dirty", *pg_pte(pd, 0) & (PTE_A | PTE_D),
	      PTE_A | PTE_D);

	page[4] = 1000;
	user_proc_init(&proc, "low", prog_low, 1000);
	user_run(&proc);
	check("user: exit status (0: all as expected)", proc.state == USER_EXITED ? proc.status : ~0u, 0);
	check("user: its writes in the physical page", page[4], 1003);
	check("user: its byte write", page[12] & 0xff, 0x5a);
	return check_done();
}
