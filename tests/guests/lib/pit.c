/* 8254 PIT: programming a channel, latching and reading its count, the read-back command, TSC calibration, and the CMOS RTC seconds. */
#include "guest.h"

#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIT_LOHI	0x30	/* access: low byte then high byte */
#define PIT_READBACK	0xC0
#define RB_NO_COUNT	0x20	/* read-back: do not latch the count */
#define RB_NO_STATUS	0x10
#define RTC_INDEX	0x70
#define RTC_DATA	0x71
#define RTC_REG_A	0x0A
#define RTC_UIP		0x80	/* update in progress */
#define CAL_COUNT	59659	/* 50 ms of PIT channel 2 */

void pit_program(unsigned ch, unsigned mode, uint16_t count)
{
	outb(PIT_CMD, (uint8_t)(ch << 6 | PIT_LOHI | mode << 1));
	outb(PIT_CH0 + ch, (uint8_t)count);
	outb(PIT_CH0 + ch, (uint8_t)(count >> 8));
}

uint16_t pit_latch(unsigned ch)
{
	uint8_t lo;

	outb(PIT_CMD, (uint8_t)(ch << 6));	/* counter latch command */
	lo = inb(PIT_CH0 + ch);
	return lo | (uint16_t)inb(PIT_CH0 + ch) << 8;
}

uint8_t pit_status(unsigned ch)
{
	outb(PIT_CMD, PIT_READBACK | RB_NO_COUNT | 2u << ch);
	return inb(PIT_CH0 + ch);
}

void pit_ch2_gate(int on)
{
	/* Port 0x61 bit 0: channel 2 gate; bit 1: speaker data (kept off). */
	outb(SYS_CTRL_PORT, (uint8_t)((inb(SYS_CTRL_PORT) & ~3) | (on ? 1 : 0)));
}

int pit_ch2_out(void)
{
	return (inb(SYS_CTRL_PORT) & 0x20) != 0;
}

uint8_t rtc_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

/* The seconds register, read outside an update cycle (MC146818A: UIP=0 leaves
 * at least 244 us before the next update). */
uint8_t rtc_seconds(void)
{
	while (rtc_read(RTC_REG_A) & RTC_UIP)
		;
	return rtc_read(0);
}

void rtc_wait_tick(void)
{
	uint8_t s = rtc_seconds();

	while (rtc_seconds() == s)
		;
}

uint32_t pit_tsc_per_ms(void)
{
	uint64_t t0;

	pit_ch2_gate(1);
	pit_program(2, 0, CAL_COUNT);
	t0 = rdtsc();
	while (!pit_ch2_out())
		;
	return (uint32_t)((rdtsc() - t0) / 50);
}

uint32_t tsc_ns(uint64_t cycles, uint32_t per_ms)
{
	return per_ms ? (uint32_t)(cycles * 1000000 / per_ms) : 0;
}
