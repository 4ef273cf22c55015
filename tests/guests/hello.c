/* The smallest test guest: one line on the serial port, then exit code 0. */
#include "lib/guest.h"

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	guest_printf("Hello from a bt guest!\n");
	return 0;
}
