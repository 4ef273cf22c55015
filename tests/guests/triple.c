/*
 * triple: an empty IDT turns INT3 into #GP, its delivery into #DF and that
 * into a triple fault (SDM vol. 3, 6.15, interrupt 8).  bt must stop with the
 * guest's state and a non-zero status.  Its 3 MiB bss also makes it the
 * kernel that does not fit a 2 MiB guest.  No .expect: QEMU resets instead.
 */
#include "lib/guest.h"

static volatile char ballast[3 << 20];

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} empty = { 0, 0 };

	(void)magic;
	(void)mbi;
	ballast[0] = 1;
	guest_printf("triple: loading an empty IDT\n");
	__asm__ volatile("lidt %0; int3" : : "m"(empty));
	guest_printf("triple: still running?\n");
	return 1;
}
