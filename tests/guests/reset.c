/*
 * reset: a guest that resets the machine, through the i8042 (command 0xFE,
 * the way Linux's "reboot=k" does it; SDM-independent, PC/AT technical
 * reference) or through port 0x92 bit 0 (how=92).  It counts its boots in a
 * byte of CMOS RAM, which a reset leaves alone, so a machine that restarts
 * it (bt --reboot) shows "boot 2" and the guest then exits normally; one
 * that does not (bt's default, QEMU's -no-reboot) ends after "boot 1".
 */
#include "lib/guest.h"

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71
#define CMOS_BOOTS	0x40	/* a byte of battery-backed RAM nothing else uses */
#define KBC_CMD		0x64
#define KBC_RESET	0xFE
#define SCPA		0x92	/* System Control Port A: bit 0 = fast reset */

static uint8_t cmos_read(uint8_t i)
{
	outb(CMOS_INDEX, i);
	return inb(CMOS_DATA);
}

static void cmos_write(uint8_t i, uint8_t v)
{
	outb(CMOS_INDEX, i);
	outb(CMOS_DATA, v);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	uint8_t boots = (uint8_t)(cmos_read(CMOS_BOOTS) + 1);

	cmos_write(CMOS_BOOTS, boots);
	guest_printf("reset: boot %u\n", boots);
	if (boots >= 2) {
		cmos_write(CMOS_BOOTS, 0);
		return 0;
	}
	if (guest_arg_u32("how", 0) == 92)
		outb(SCPA, inb(SCPA) | 1);
	else
		outb(KBC_CMD, KBC_RESET);
	for (;;)	/* the reset takes effect before the next instruction matters */
		__asm__ volatile("pause");
}
