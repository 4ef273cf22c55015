/* Library start-up, called by start.S before guest_main. */
#include "guest.h"

uint32_t guest_mb_magic;
struct multiboot_info *guest_mbi;

void guest_lib_init(void);

void guest_lib_init(void)
{
	serial_init();
	idt_init();
	if (guest_mb_magic != MB_BOOT_MAGIC)
		guest_printf("guest: bad Multiboot magic 0x%08x\n", guest_mb_magic);
}
