/*
 * pit: the 8254 PIT and 8259A PIC as a kernel uses them. The PIC is remapped to
 * vectors 0x20/0x28; channel 0 runs in mode 2 at 1 kHz (count 1193) and its
 * IRQ 0 is counted over one RTC second; channel 2 is used through port 0x61
 * the way Linux calibrates the TSC (mode 0, poll OUT in bit 5); then latch and
 * read-back commands, EOI, masking and HLT wake-ups. Counts are checked
 * against ranges only, so the output does not depend on the host's speed.
 * References: Intel 8254 and 8259A datasheets; MC146818A (RTC).
 */
#include "lib/guest.h"

#define VEC_IRQ0	0x20
#define HZ		1000
#define COUNT_1KHZ	1193	/* 1193182 / 1193 = 1000.15 Hz */
#define COUNT_10MS	11932
#define SPIN_LIMIT	100000000u	/* polls before giving up on a PIT output */

static volatile uint32_t ticks;
static volatile int send_eoi = 1;
static volatile int mask_in_handler;	/* so "taken once" cannot see a second tick */

static int irq_hook(struct trap_frame *f)
{
	if (f->vector != VEC_IRQ0)
		return 0;
	ticks++;
	if (send_eoi)
		pic_eoi(0);
	if (mask_in_handler)
		pic_set_mask(0xFFFF);
	return 1;
}

/* Channel 2, mode 0, gate on: OUT goes high count/1193182 s after the count is written. */
static int ch2_wait(uint16_t count)
{
	pit_program(2, 0, count);
	for (uint32_t i = 0; i < SPIN_LIMIT; i++)
		if (pit_ch2_out())
			return 1;
	return 0;
}

static void ch2_checks(void)
{
	uint16_t c1, c2;
	uint32_t i;

	pit_ch2_gate(1);
	pit_program(2, 0, 0xFFFF);	/* 55 ms */
	check("ch2 mode 0: OUT (port 0x61 bit 5) low after the count is written", pit_ch2_out(), 0);
	c1 = pit_latch(2);
	for (i = 0; i < 100000 && pit_latch(2) == c1; i++)
		;
	c2 = pit_latch(2);
	check_true("ch2 latched count decreases", c2 < c1);
	/* What Linux's pit_calibrate_tsc does: 10 ms in mode 0, poll bit 5. */
	check("ch2 OUT went high after 10 ms (mode 0 terminal count)", ch2_wait(COUNT_10MS), 1);
	/* Read-back status: OUT=1, null count 0, lobyte/hibyte, mode 0, binary. */
	check("ch2 read-back status", pit_status(2), 0xB0);
	check("ch2 OUT stays high in mode 0", pit_ch2_out(), 1);
}

static void ch0_checks(void)
{
	uint16_t c = pit_latch(0);

	check_range("ch0 latched count (mode 2, 1193)", c, 1, COUNT_1KHZ);
	/* OUT (bit 7) left out: in mode 2 it is low for one clock of 1193. */
	check("ch0 read-back status without OUT", pit_status(0) & 0x7F, 0x34);
}

/* Sleeps from tick to tick until the RTC seconds register changes. */
static void hlt_until_rtc_tick(void)
{
	uint8_t s = rtc_seconds();

	do
		__asm__ volatile("sti; hlt; cli");
	while (rtc_seconds() == s);
}

/* IRQ 0 counted from one change of the RTC seconds register to the next. */
static void one_second(void)
{
	uint32_t n;

	hlt_until_rtc_tick();
	ticks = 0;
	hlt_until_rtc_tick();
	n = ticks;
	/*
	 * 1193182 / 1193 = 1000.15 Hz. XXX: the default lower bound is 500, not
	 * 990: an emulator whose timer thread runs late merges edges, and QEMU
	 * 7.2 (TCG) loses 1-5% of them on a quiet 2-core host and 12% or more
	 * under load (876 seen during `make test`); a guest cannot tell those
	 * from a slow PIT. tests/run-all.sh runs bt again with lo=990, the
	 * bound a faithful PIT must meet. More than 1010 would be a PIT running
	 * fast.
	 */
	check_range("IRQ 0 in one RTC second at 1 kHz", n, guest_arg_u32("lo", HZ / 2), HZ + 10);
}

/* 30 ms with IF=1, timed by channel 2. */
static void sti_30ms(void)
{
	__asm__ volatile("sti");
	for (int i = 0; i < 3; i++)
		ch2_wait(COUNT_10MS);
	__asm__ volatile("cli");
}

/* Lets the pending IRQ 0 in, and no second one: the handler masks it. */
static void take_pending(void)
{
	mask_in_handler = 1;
	__asm__ volatile("sti; nop; cli");
	mask_in_handler = 0;
	pic_set_mask(0xFFFE);
}

/* Without EOI the in-service IRQ 0 blocks itself (8259A: ISR bit set until EOI). */
static void eoi_checks(void)
{
	ticks = 0;
	send_eoi = 0;
	sti_30ms();
	check("IRQs in 30 ms without EOI", ticks, 1);
	check("ISR bit 0 set while in service", pic_read_isr() & 1, 1);
	check("IRR bit 0 set: the next edge is pending", pic_read_irr() & 1, 1);
	send_eoi = 1;
	pic_eoi(0);
	pic_set_mask(0xFFFE);
	check("ISR bit 0 clear after EOI", pic_read_isr() & 1, 0);
	take_pending();
	check("pending IRQ 0 taken once IF=1 after the EOI", ticks, 2);
}

/* A masked IRQ is latched in IRR but not delivered (8259A: IMR). */
static void mask_checks(void)
{
	pic_set_mask(0xFFFF);
	ticks = 0;
	sti_30ms();
	check("IRQs in 30 ms with IRQ 0 masked", ticks, 0);
	check("IRR bit 0 set while masked", pic_read_irr() & 1, 1);
	pic_set_mask(0xFFFE);
	take_pending();
	check("IRQ 0 taken once unmasked", ticks, 1);
}

/* STI; HLT sleeps until the next tick; 100 of them take 100 ticks. */
static void hlt_checks(void)
{
	uint32_t woke = 0;

	ticks = 0;
	for (int i = 0; i < 100; i++) {
		uint32_t before = ticks;

		__asm__ volatile("sti; hlt; cli");
		woke += ticks != before;
	}
	check("HLTs ended by an interrupt", woke, 100);
	check_range("ticks over 100 STI;HLT", ticks, 100, 102);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("pit");
	pic_remap(0x20, 0x28);
	guest_trap_hook = irq_hook;
	ch2_checks();
	pit_program(0, 2, COUNT_1KHZ);
	pic_set_mask(0xFFFE);
	ch0_checks();
	one_second();
	eoi_checks();
	mask_checks();
	hlt_checks();
	pic_mask_all();
	return check_done();
}
