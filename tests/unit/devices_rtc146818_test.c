/* tests/unit/devices_rtc146818_test.c: MC146818 RTC/CMOS through the port bus, on a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "devices/devices.h"
#include "devices_fake_machine.h"

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define RTC_IRQ 8

enum { SEC = 0, SEC_ALARM = 1, MIN = 2, MIN_ALARM = 3, HOUR = 4, HOUR_ALARM = 5,
       DOW = 6, DOM = 7, MON = 8, YEAR = 9, REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C,
       REG_D = 0x0D, CENTURY = 0x32 };

#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

#define MS 1000000ull
#define SEC_NS 1000000000ull
/* The fake clock does not start at 0, to catch code that assumes it does. */
#define T0 (7 * SEC_NS + 123456789ull)

/* 2023-05-17 12:00:00 UTC, a Wednesday. */
#define NOON 1684324800

struct fixture {
	struct devices_bus bus;
	struct fake_machine fm;
	struct devices_machine m;
	struct devices_rtc *r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->m = fake_machine_init(&f->fm);
	f->fm.now = T0;
	devices_bus_init(&f->bus);
	f->r = devices_rtc_create(&f->bus, &f->m);
	if (!f->r)
		return -1;
	/* Every test starts at a known time, the next second one second away. */
	devices_rtc_set_time(f->r, NOON);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_rtc_destroy(f->r);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, int reg)
{
	devices_bus_out(&f->bus, RTC_INDEX, (uint32_t)reg, 1);
	return (uint8_t)devices_bus_in(&f->bus, RTC_DATA, 1);
}

static void wr(struct fixture *f, int reg, uint8_t v)
{
	devices_bus_out(&f->bus, RTC_INDEX, (uint32_t)reg, 1);
	devices_bus_out(&f->bus, RTC_DATA, v, 1);
}

/* Move the clock to T0 + `t`, running every timer at its deadline on the
 * way.  With `ack`, an interrupt is serviced the way a guest's handler does,
 * by reading C, as soon as it is raised. */
static void run_until(struct fixture *f, uint64_t t, bool ack)
{
	uint64_t end = T0 + t, d;

	while ((d = devices_bus_next_deadline(&f->bus)) <= end) {
		assert_true(d >= f->fm.now);
		f->fm.now = d;
		devices_bus_run_timers(&f->bus, d);
		if (ack && f->fm.level[RTC_IRQ])
			(void)rd(f, REG_C);
	}
	f->fm.now = end;
}

static unsigned bcd(uint8_t b)
{
	return (unsigned)(b >> 4) * 10 + (b & 0x0F);
}

/* The registers (BCD, 24-hour) as seconds since 1970. */
static int64_t read_time_bcd(struct fixture *f)
{
	struct tm tm = {
		.tm_sec = (int)bcd(rd(f, SEC)),
		.tm_min = (int)bcd(rd(f, MIN)),
		.tm_hour = (int)bcd(rd(f, HOUR)),
		.tm_mday = (int)bcd(rd(f, DOM)),
		.tm_mon = (int)bcd(rd(f, MON)) - 1,
		.tm_year = (int)(bcd(rd(f, CENTURY)) * 100 + bcd(rd(f, YEAR))) - 1900,
	};

	return timegm(&tm);
}

/* Program the alarm bytes, with no periodic rate so only updates and the
 * alarm can interrupt. */
static void set_alarm(struct fixture *f, uint8_t hour, uint8_t min, uint8_t sec)
{
	wr(f, REG_A, 0x20);
	wr(f, HOUR_ALARM, hour);
	wr(f, MIN_ALARM, min);
	wr(f, SEC_ALARM, sec);
}

static void test_create_when_called_shows_host_utc_time(void **state)
{
	struct fixture f = { .fm.now = T0 };
	int64_t before, shown;

	(void)state;
	f.m = fake_machine_init(&f.fm);
	devices_bus_init(&f.bus);
	before = time(NULL);
	f.r = devices_rtc_create(&f.bus, &f.m);
	assert_non_null(f.r);
	shown = read_time_bcd(&f);
	assert_in_range(shown, before, before + 2);
	devices_rtc_destroy(f.r);
}

/* A second before each rollover and the registers (BCD) one second later. */
static const struct {
	int64_t t;
	uint8_t sec, min, hour, dow, dom, mon, year, century;
} rollover[] = {
	{ 1684318859, 0x00, 0x21, 0x10, 4, 0x17, 0x05, 0x23, 0x20 },	/* minute */
	{ 1684321199, 0x00, 0x00, 0x11, 4, 0x17, 0x05, 0x23, 0x20 },	/* hour */
	{ 1684367999, 0x00, 0x00, 0x00, 5, 0x18, 0x05, 0x23, 0x20 },	/* day, Wed -> Thu */
	{ 1675209599, 0x00, 0x00, 0x00, 4, 0x01, 0x02, 0x23, 0x20 },	/* 31 Jan */
	{ 1682899199, 0x00, 0x00, 0x00, 2, 0x01, 0x05, 0x23, 0x20 },	/* 30 Apr */
	{ 1709164799, 0x00, 0x00, 0x00, 5, 0x29, 0x02, 0x24, 0x20 },	/* 28 Feb 2024, leap */
	{ 1677628799, 0x00, 0x00, 0x00, 4, 0x01, 0x03, 0x23, 0x20 },	/* 28 Feb 2023 */
	{ 1709251199, 0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20 },	/* 29 Feb 2024 */
	{ 946684799, 0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x20 },	/* 1999 -> 2000 */
	{ 951782399, 0x00, 0x00, 0x00, 3, 0x29, 0x02, 0x00, 0x20 },	/* 2000 is leap */
	{ 4107542399, 0x00, 0x00, 0x00, 2, 0x01, 0x03, 0x00, 0x21 },	/* 2100 is not */
	{ 4102444799, 0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21 },	/* century */
};

static void test_time_when_second_ends_rolls_over_calendar(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(rollover) / sizeof(rollover[0]); i++) {
		uint64_t start = f->fm.now - T0;

		devices_rtc_set_time(f->r, rollover[i].t);
		run_until(f, start + SEC_NS - 1, false);
		assert_int_equal(rd(f, SEC), 0x59);
		run_until(f, start + SEC_NS, false);
		assert_int_equal(rd(f, SEC), rollover[i].sec);
		assert_int_equal(rd(f, MIN), rollover[i].min);
		assert_int_equal(rd(f, HOUR), rollover[i].hour);
		assert_int_equal(rd(f, DOW), rollover[i].dow);
		assert_int_equal(rd(f, DOM), rollover[i].dom);
		assert_int_equal(rd(f, MON), rollover[i].mon);
		assert_int_equal(rd(f, YEAR), rollover[i].year);
		assert_int_equal(rd(f, CENTURY), rollover[i].century);
	}
}

/* Two days second by second across 29 February 2024, in binary mode. */
static void test_time_when_run_second_by_second_counts_every_second(void **state)
{
	struct fixture *f = *state;
	const int64_t start = 1709121600;	/* 2024-02-28 12:00:00 */

	wr(f, REG_B, B_DM | B_24H);
	devices_rtc_set_time(f->r, start);
	for (int64_t k = 1; k <= 2 * 86400; k++) {
		time_t want = (time_t)(start + k);
		struct tm tm = { 0 }, exp;

		run_until(f, (uint64_t)k * SEC_NS, false);
		tm.tm_sec = rd(f, SEC);
		tm.tm_min = rd(f, MIN);
		tm.tm_hour = rd(f, HOUR);
		tm.tm_mday = rd(f, DOM);
		tm.tm_mon = rd(f, MON) - 1;
		tm.tm_year = rd(f, CENTURY) * 100 + rd(f, YEAR) - 1900;
		if (timegm(&tm) != want)
			fail_msg("after %lld s: %02d-%02d %02d:%02d:%02d", (long long)k,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		gmtime_r(&want, &exp);
		assert_int_equal(rd(f, DOW), exp.tm_wday + 1);
	}
}

static void test_binary_mode_when_dm_set_reads_binary(void **state)
{
	struct fixture *f = *state;

	devices_rtc_set_time(f->r, 1709164799);	/* 2024-02-28 23:59:59 */
	wr(f, REG_B, B_DM | B_24H);
	assert_int_equal(rd(f, SEC), 59);
	assert_int_equal(rd(f, MIN), 59);
	assert_int_equal(rd(f, HOUR), 23);
	assert_int_equal(rd(f, DOM), 28);
	assert_int_equal(rd(f, MON), 2);
	assert_int_equal(rd(f, YEAR), 24);
	assert_int_equal(rd(f, CENTURY), 20);
}

/* Hours register in 12-hour mode (datasheet Table 3): PM is bit 7. */
static const struct { int hour; uint8_t bcd, bin; } hours12[] = {
	{ 0, 0x12, 12 },		/* 12 AM */
	{ 1, 0x01, 1 },
	{ 11, 0x11, 11 },
	{ 12, 0x92, 0x8C },		/* 12 PM */
	{ 13, 0x81, 0x81 },
	{ 23, 0x91, 0x8B },
};

static void test_hours_when_12_hour_mode_encode_pm_in_bit_7(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(hours12) / sizeof(hours12[0]); i++) {
		devices_rtc_set_time(f->r, 1684281600 + hours12[i].hour * 3600);	/* 2023-05-17 */
		wr(f, REG_B, 0);
		assert_int_equal(rd(f, HOUR), hours12[i].bcd);
		wr(f, REG_B, B_DM);
		assert_int_equal(rd(f, HOUR), hours12[i].bin);
	}
}

static void test_hours_when_written_in_12_hour_mode_set_time(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_SET);
	wr(f, HOUR, 0x92);	/* 12 PM */
	wr(f, MIN, 0x34);
	wr(f, REG_B, 0);
	wr(f, REG_B, B_24H);
	assert_int_equal(rd(f, HOUR), 0x12);
	wr(f, REG_B, B_SET);
	wr(f, HOUR, 0x12);	/* 12 AM */
	wr(f, REG_B, 0);
	wr(f, REG_B, B_24H);
	assert_int_equal(rd(f, HOUR), 0x00);
	wr(f, REG_B, B_SET);
	wr(f, HOUR, 0x87);	/* 7 PM */
	wr(f, REG_B, 0);
	wr(f, REG_B, B_24H);
	assert_int_equal(rd(f, HOUR), 0x19);
	assert_int_equal(rd(f, MIN), 0x34);
}

/* The weekday is the chip's own counter: a wrong value keeps counting. */
static void test_day_of_week_when_set_wrong_keeps_counting_from_it(void **state)
{
	struct fixture *f = *state;

	devices_rtc_set_time(f->r, 1684367999);	/* Wed 23:59:59 */
	assert_int_equal(rd(f, DOW), 4);
	wr(f, DOW, 7);
	assert_int_equal(rd(f, DOW), 7);
	run_until(f, SEC_NS, false);
	assert_int_equal(rd(f, DOW), 1);
	assert_int_equal(rd(f, DOM), 0x18);
}

static void test_uip_when_within_244us_of_update_is_set(void **state)
{
	struct fixture *f = *state;

	/* The update is at +1 s; UIP covers the 8 oscillator cycles before it,
	 * from ceil(32760 * 1e9 / 32768) ns = 999755860 ns. */
	run_until(f, 999755859, false);
	assert_int_equal(rd(f, REG_A) & A_UIP, 0);
	run_until(f, 999755860, false);
	assert_int_equal(rd(f, REG_A) & A_UIP, A_UIP);
	assert_int_equal(rd(f, SEC), 0x00);
	run_until(f, SEC_NS - 1, false);
	assert_int_equal(rd(f, REG_A) & A_UIP, A_UIP);
	assert_int_equal(rd(f, SEC), 0x00);
	run_until(f, SEC_NS, false);
	assert_int_equal(rd(f, REG_A) & A_UIP, 0);
	assert_int_equal(rd(f, SEC), 0x01);
}

static void test_uip_when_set_bit_set_stays_clear(void **state)
{
	struct fixture *f = *state;

	run_until(f, SEC_NS - 1000, false);
	assert_int_equal(rd(f, REG_A) & A_UIP, A_UIP);
	wr(f, REG_B, B_SET | B_24H);
	assert_int_equal(rd(f, REG_A) & A_UIP, 0);
}

static void test_reg_a_when_written_keeps_uip_read_only(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, REG_A), 0x26);
	wr(f, REG_A, 0xA3);
	assert_int_equal(rd(f, REG_A), 0x23);
}

/* Periodic interrupts in one second, for RS3-0 (datasheet Table 5). */
static const struct { uint8_t rs; int per_sec; } periodic[] = {
	{ 0, 0 },
	{ 1, 256 },	/* same as rate 8 with a 32.768 kHz time base */
	{ 2, 128 },	/* same as rate 9 */
	{ 3, 8192 },
	{ 6, 1024 },
	{ 8, 256 },
	{ 10, 64 },
	{ 15, 2 },
};

static void test_periodic_when_rate_set_fires_at_its_frequency(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(periodic) / sizeof(periodic[0]); i++) {
		uint64_t start = f->fm.now - T0;

		devices_rtc_set_time(f->r, NOON);	/* chain phase 0 */
		wr(f, REG_A, (uint8_t)(0x20 | periodic[i].rs));
		wr(f, REG_B, B_PIE | B_24H);
		f->fm.edges[RTC_IRQ] = 0;
		run_until(f, start + SEC_NS, true);
		assert_int_equal(f->fm.edges[RTC_IRQ], periodic[i].per_sec);
		wr(f, REG_B, B_24H);
		(void)rd(f, REG_C);
	}
}

static void test_periodic_when_first_tick_due_raises_irq_at_period(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_A, 0x26);			/* 1024 Hz: 32 cycles, 976562.5 ns */
	wr(f, REG_B, B_PIE | B_24H);
	assert_int_equal(devices_bus_next_deadline(&f->bus), T0 + 976563);
	run_until(f, 976562, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	run_until(f, 976563, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
	assert_int_equal(rd(f, REG_C), C_IRQF | C_PF);
}

static void test_periodic_when_c_not_read_keeps_line_high_and_timer_idle(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_PIE | B_24H);
	run_until(f, SEC_NS, false);
	assert_int_equal(f->fm.edges[RTC_IRQ], 1);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
	assert_true(devices_bus_next_deadline(&f->bus) == DEVICES_NEVER);
	(void)rd(f, REG_C);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	assert_true(devices_bus_next_deadline(&f->bus) > f->fm.now);
}

static void test_periodic_when_set_bit_set_keeps_ticking(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_A, 0x2F);			/* 2 Hz */
	wr(f, REG_B, B_SET | B_PIE | B_24H);
	run_until(f, SEC_NS, true);
	assert_int_equal(f->fm.edges[RTC_IRQ], 2);
}

static void test_update_ended_when_uie_set_fires_once_per_second(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_A, 0x20);			/* no periodic rate, to see UF alone */
	wr(f, REG_B, B_UIE | B_24H);
	for (int s = 1; s <= 10; s++) {
		run_until(f, (uint64_t)s * SEC_NS - 1, false);
		assert_int_equal(f->fm.level[RTC_IRQ], 0);
		run_until(f, (uint64_t)s * SEC_NS, false);
		assert_int_equal(f->fm.level[RTC_IRQ], 1);
		assert_int_equal(bcd(rd(f, SEC)), s);
		assert_int_equal(rd(f, REG_C), C_IRQF | C_UF);
		assert_int_equal(f->fm.level[RTC_IRQ], 0);
	}
	assert_int_equal(f->fm.edges[RTC_IRQ], 10);
}

static void test_alarm_when_time_matches_sets_af_and_raises_irq(void **state)
{
	struct fixture *f = *state;

	set_alarm(f, 0x12, 0x00, 0x03);
	wr(f, REG_B, B_AIE | B_24H);
	assert_int_equal(devices_bus_next_deadline(&f->bus), T0 + 3 * SEC_NS);
	run_until(f, 3 * SEC_NS - 1, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	run_until(f, 3 * SEC_NS, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
	/* UF is set too: flags do not need their interrupt enabled. */
	assert_int_equal(rd(f, REG_C), C_IRQF | C_AF | C_UF);
	/* The next match is a day later. */
	assert_int_equal(devices_bus_next_deadline(&f->bus), T0 + (3 + 86400) * SEC_NS);
}

static void test_alarm_when_hours_minutes_dont_care_fires_every_minute(void **state)
{
	struct fixture *f = *state;

	set_alarm(f, 0xC0, 0xFF, 0x30);
	wr(f, REG_B, B_AIE | B_24H);
	run_until(f, 180 * SEC_NS, true);
	assert_int_equal(f->fm.edges[RTC_IRQ], 3);
}

static void test_alarm_when_all_dont_care_fires_every_second(void **state)
{
	struct fixture *f = *state;

	set_alarm(f, 0xC0, 0xC0, 0xC0);
	wr(f, REG_B, B_AIE | B_24H);
	run_until(f, 5 * SEC_NS, true);
	assert_int_equal(f->fm.edges[RTC_IRQ], 5);
}

static void test_alarm_when_12_hour_mode_matches_pm_byte(void **state)
{
	struct fixture *f = *state;

	set_alarm(f, 0x92, 0x00, 0x02);	/* 12 PM */
	wr(f, REG_B, B_AIE);
	run_until(f, 2 * SEC_NS, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
}

static void test_alarm_when_no_value_can_match_never_arms(void **state)
{
	struct fixture *f = *state;

	set_alarm(f, 0xC0, 0xC0, 0x60);		/* BCD 60: no second is 60 */
	wr(f, REG_B, B_AIE | B_24H);
	assert_true(devices_bus_next_deadline(&f->bus) == DEVICES_NEVER);
	run_until(f, 120 * SEC_NS, false);
	assert_int_equal(rd(f, REG_C) & C_AF, 0);
}

static void test_alarm_when_missed_while_disabled_sets_af_on_c_read(void **state)
{
	struct fixture *f = *state;

	set_alarm(f, 0x13, 0x30, 0x00);
	run_until(f, 5400 * SEC_NS, false);	/* 13:30:00 passes at 5400 s */
	assert_int_equal(rd(f, REG_C) & C_AF, C_AF);
	run_until(f, 5500 * SEC_NS, false);
	assert_int_equal(rd(f, REG_C) & C_AF, 0);
}

static void test_flags_when_disabled_are_set_lazily_without_irq(void **state)
{
	struct fixture *f = *state;

	run_until(f, 1500 * MS, false);
	assert_true(devices_bus_next_deadline(&f->bus) == DEVICES_NEVER);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	assert_int_equal(rd(f, REG_C), C_PF | C_UF);
	/* Within the next 1/1024 s no period elapses. */
	run_until(f, 1500 * MS + 900000, false);
	assert_int_equal(rd(f, REG_C), 0);
	run_until(f, 1500 * MS + 2 * MS, false);
	assert_int_equal(rd(f, REG_C), C_PF);
}

static void test_reg_c_when_read_clears_flags_and_lowers_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_UIE | B_24H);
	run_until(f, SEC_NS, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
	assert_int_equal(rd(f, REG_C), C_IRQF | C_PF | C_UF);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	assert_int_equal(rd(f, REG_C), 0);
}

static void test_reg_c_when_written_is_unchanged(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_C, 0xF0);
	assert_int_equal(rd(f, REG_C), 0);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
}

static void test_pie_when_enabled_with_pf_pending_raises_irq_at_once(void **state)
{
	struct fixture *f = *state;

	run_until(f, 10 * MS, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	wr(f, REG_B, B_PIE | B_24H);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
}

static void test_irqf_when_enable_cleared_lowers_line_keeps_flag(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_PIE | B_24H);
	run_until(f, 10 * MS, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
	wr(f, REG_B, B_24H);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	assert_int_equal(rd(f, REG_C), C_PF);
}

static void test_reg_d_when_read_reports_valid_ram_and_time(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_D, 0x00);
	assert_int_equal(rd(f, REG_D), 0x80);
}

static void test_set_bit_when_set_freezes_time_until_cleared(void **state)
{
	struct fixture *f = *state;

	run_until(f, 500 * MS, false);
	wr(f, REG_B, B_SET | B_24H);
	run_until(f, 5 * SEC_NS, false);
	assert_int_equal(rd(f, SEC), 0x00);
	assert_int_equal(rd(f, MIN), 0x00);
	wr(f, REG_B, B_24H);
	/* The divider kept its phase: the next update is on the old grid. */
	run_until(f, 6 * SEC_NS - 1, false);
	assert_int_equal(rd(f, SEC), 0x00);
	run_until(f, 6 * SEC_NS, false);
	assert_int_equal(rd(f, SEC), 0x01);
}

static void test_set_bit_when_time_written_runs_from_it_when_cleared(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_SET | B_24H);
	wr(f, SEC, 0x58);
	wr(f, MIN, 0x59);
	wr(f, HOUR, 0x23);
	wr(f, DOM, 0x31);
	wr(f, MON, 0x12);
	wr(f, YEAR, 0x99);
	wr(f, CENTURY, 0x19);
	wr(f, DOW, 0x06);
	run_until(f, 3 * SEC_NS, false);
	assert_int_equal(rd(f, SEC), 0x58);	/* frozen, reads back as written */
	wr(f, REG_B, B_24H);
	run_until(f, 5 * SEC_NS, false);
	assert_int_equal(rd(f, SEC), 0x00);
	assert_int_equal(rd(f, MIN), 0x00);
	assert_int_equal(rd(f, HOUR), 0x00);
	assert_int_equal(rd(f, DOM), 0x01);
	assert_int_equal(rd(f, MON), 0x01);
	assert_int_equal(rd(f, YEAR), 0x00);
	assert_int_equal(rd(f, CENTURY), 0x20);
	assert_int_equal(rd(f, DOW), 0x07);
}

static void test_set_bit_when_set_clears_uie_and_stops_uf(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_UIE | B_24H);
	wr(f, REG_B, B_SET | B_UIE | B_24H);
	assert_int_equal(rd(f, REG_B), B_SET | B_24H);
	run_until(f, 3 * SEC_NS, false);
	assert_int_equal(rd(f, REG_C) & C_UF, 0);
}

static void test_time_write_when_running_changes_base_keeps_phase(void **state)
{
	struct fixture *f = *state;

	run_until(f, 250 * MS, false);
	wr(f, MIN, 0x42);
	assert_int_equal(rd(f, MIN), 0x42);
	assert_int_equal(rd(f, HOUR), 0x12);
	run_until(f, SEC_NS, false);
	assert_int_equal(rd(f, SEC), 0x01);
	assert_int_equal(rd(f, MIN), 0x42);
}

static void test_century_when_written_moves_year(void **state)
{
	struct fixture *f = *state;

	wr(f, CENTURY, 0x21);
	assert_int_equal(rd(f, YEAR), 0x23);
	assert_int_equal(rd(f, CENTURY), 0x21);
	assert_int_equal(rd(f, DOW), 0x04);	/* its own counter, not recomputed */
	run_until(f, SEC_NS, false);
	assert_int_equal(rd(f, CENTURY), 0x21);
}

static void test_divider_reset_when_released_first_update_after_half_second(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_A, 0x70);		/* hold the chain in reset */
	run_until(f, 3 * SEC_NS, false);
	assert_int_equal(rd(f, SEC), 0x00);
	assert_int_equal(rd(f, REG_A) & A_UIP, 0);
	wr(f, REG_A, 0x26);
	run_until(f, 3 * SEC_NS + 500 * MS - 1, false);
	assert_int_equal(rd(f, SEC), 0x00);
	run_until(f, 3 * SEC_NS + 500 * MS, false);
	assert_int_equal(rd(f, SEC), 0x01);
	run_until(f, 4 * SEC_NS + 500 * MS, false);
	assert_int_equal(rd(f, SEC), 0x02);
}

static void test_divider_when_stopped_stops_periodic_and_time(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_PIE | B_24H);
	wr(f, REG_A, 0x06);		/* DV 000: oscillator off */
	run_until(f, 2 * SEC_NS, false);
	assert_int_equal(f->fm.edges[RTC_IRQ], 0);
	assert_int_equal(rd(f, SEC), 0x00);
	assert_int_equal(rd(f, REG_C), 0);
	wr(f, REG_A, 0x26);		/* resumes where it stopped */
	run_until(f, 3 * SEC_NS, true);
	assert_int_equal(f->fm.edges[RTC_IRQ], 1024);
	assert_int_equal(rd(f, SEC), 0x01);
}

static void test_nmi_mask_when_index_bit_7_written_is_reported(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(devices_rtc_nmi_masked(f->r), 0);
	devices_bus_out(&f->bus, RTC_INDEX, 0x80 | 0x40, 1);
	assert_int_equal(devices_rtc_nmi_masked(f->r), 1);
	devices_bus_out(&f->bus, RTC_DATA, 0x5A, 1);
	devices_bus_out(&f->bus, RTC_INDEX, 0x40, 1);
	assert_int_equal(devices_rtc_nmi_masked(f->r), 0);
	/* The mask bit is not part of the index. */
	assert_int_equal(devices_bus_in(&f->bus, RTC_DATA, 1), 0x5A);
}

static void test_index_port_when_read_floats(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, RTC_INDEX, 0x10, 1);
	assert_int_equal(devices_bus_in(&f->bus, RTC_INDEX, 1), 0xFF);
}

static const uint8_t ram_indexes[] = { 0x0E, 0x0F, 0x10, 0x14, 0x2E, 0x31, 0x33, 0x5B, 0x7F };

static void test_cmos_ram_when_written_reads_back(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(ram_indexes); i++)
		wr(f, ram_indexes[i], (uint8_t)(0xA0 + i));
	for (size_t i = 0; i < sizeof(ram_indexes); i++)
		assert_int_equal(rd(f, ram_indexes[i]), 0xA0 + i);
}

static void test_set_cmos_when_called_is_seen_through_ports(void **state)
{
	struct fixture *f = *state;

	devices_rtc_set_cmos(f->r, 0x15, 0x80);
	devices_rtc_set_cmos(f->r, 0x16, 0x02);
	assert_int_equal(rd(f, 0x15), 0x80);
	assert_int_equal(rd(f, 0x16), 0x02);
	devices_bus_out(&f->bus, RTC_INDEX, 0x15, 1);
	assert_int_equal(devices_bus_in(&f->bus, RTC_DATA, 1), 0x80);
}

static void test_index_data_when_written_as_word_selects_and_writes(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, RTC_INDEX, 0x3320, 2);	/* index 0x20, data 0x33 */
	assert_int_equal(rd(f, 0x20), 0x33);
}

static void test_bus_reset_when_called_clears_enables_keeps_time(void **state)
{
	struct fixture *f = *state;

	wr(f, REG_B, B_PIE | B_AIE | B_UIE | 0x08 | B_24H);
	run_until(f, 10 * MS, false);
	assert_int_equal(f->fm.level[RTC_IRQ], 1);
	devices_bus_reset(&f->bus);
	assert_int_equal(f->fm.level[RTC_IRQ], 0);
	assert_int_equal(rd(f, REG_B), B_24H);
	assert_int_equal(rd(f, REG_C), 0);
	assert_int_equal(rd(f, REG_A), 0x26);
	assert_int_equal(rd(f, HOUR), 0x12);
}

static void test_create_when_ports_taken_returns_null_eexist(void **state)
{
	struct fixture *f = *state;

	errno = 0;
	assert_null(devices_rtc_create(&f->bus, &f->m));
	assert_int_equal(errno, EEXIST);
}

static void test_create_when_timers_full_returns_null_enospc(void **state)
{
	static struct devices_timer dummy[DEVICES_TIMERS_MAX];
	struct devices_bus bus;

	(void)state;
	devices_bus_init(&bus);
	for (int i = 0; i < DEVICES_TIMERS_MAX; i++) {
		dummy[i].deadline = DEVICES_NEVER;
		assert_int_equal(devices_bus_add_timer(&bus, &dummy[i]), 0);
	}
	errno = 0;
	assert_null(devices_rtc_create(&bus, NULL));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(bus.n, 0);
}

static void test_create_when_machine_null_still_works(void **state)
{
	struct devices_bus bus;
	struct devices_rtc *r;

	(void)state;
	devices_bus_init(&bus);
	r = devices_rtc_create(&bus, NULL);
	assert_non_null(r);
	devices_bus_out(&bus, RTC_INDEX, REG_B, 1);
	devices_bus_out(&bus, RTC_DATA, B_PIE | B_24H, 1);
	devices_bus_out(&bus, RTC_INDEX, REG_D, 1);
	assert_int_equal(devices_bus_in(&bus, RTC_DATA, 1), 0x80);
	devices_rtc_destroy(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_when_called_shows_host_utc_time),
		T(test_time_when_second_ends_rolls_over_calendar),
		T(test_time_when_run_second_by_second_counts_every_second),
		T(test_binary_mode_when_dm_set_reads_binary),
		T(test_hours_when_12_hour_mode_encode_pm_in_bit_7),
		T(test_hours_when_written_in_12_hour_mode_set_time),
		T(test_day_of_week_when_set_wrong_keeps_counting_from_it),
		T(test_uip_when_within_244us_of_update_is_set),
		T(test_uip_when_set_bit_set_stays_clear),
		T(test_reg_a_when_written_keeps_uip_read_only),
		T(test_periodic_when_rate_set_fires_at_its_frequency),
		T(test_periodic_when_first_tick_due_raises_irq_at_period),
		T(test_periodic_when_c_not_read_keeps_line_high_and_timer_idle),
		T(test_periodic_when_set_bit_set_keeps_ticking),
		T(test_update_ended_when_uie_set_fires_once_per_second),
		T(test_alarm_when_time_matches_sets_af_and_raises_irq),
		T(test_alarm_when_hours_minutes_dont_care_fires_every_minute),
		T(test_alarm_when_all_dont_care_fires_every_second),
		T(test_alarm_when_12_hour_mode_matches_pm_byte),
		T(test_alarm_when_no_value_can_match_never_arms),
		T(test_alarm_when_missed_while_disabled_sets_af_on_c_read),
		T(test_flags_when_disabled_are_set_lazily_without_irq),
		T(test_reg_c_when_read_clears_flags_and_lowers_irq),
		T(test_reg_c_when_written_is_unchanged),
		T(test_pie_when_enabled_with_pf_pending_raises_irq_at_once),
		T(test_irqf_when_enable_cleared_lowers_line_keeps_flag),
		T(test_reg_d_when_read_reports_valid_ram_and_time),
		T(test_set_bit_when_set_freezes_time_until_cleared),
		T(test_set_bit_when_time_written_runs_from_it_when_cleared),
		T(test_set_bit_when_set_clears_uie_and_stops_uf),
		T(test_time_write_when_running_changes_base_keeps_phase),
		T(test_century_when_written_moves_year),
		T(test_divider_reset_when_released_first_update_after_half_second),
		T(test_divider_when_stopped_stops_periodic_and_time),
		T(test_nmi_mask_when_index_bit_7_written_is_reported),
		T(test_index_port_when_read_floats),
		T(test_cmos_ram_when_written_reads_back),
		T(test_set_cmos_when_called_is_seen_through_ports),
		T(test_index_data_when_written_as_word_selects_and_writes),
		T(test_bus_reset_when_called_clears_enables_keeps_time),
		T(test_create_when_ports_taken_returns_null_eexist),
		T(test_create_when_timers_full_returns_null_enospc),
		T(test_create_when_machine_null_still_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
