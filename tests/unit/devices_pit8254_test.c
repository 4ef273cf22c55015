/* tests/unit/devices_pit8254_test.c: 8254 counters, OUT waveforms, IRQ 0 timer and port 0x61 against a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "devices/devices.h"

#define CH0 0x40
#define CH1 0x41
#define CH2 0x42
#define CTRL 0x43
#define PORTB 0x61

#define HZ 1193182u

/*
 * Clock pulse k of the PIT happens at k / HZ seconds; the device sees the
 * first nanosecond at or after it.  Computed here independently of the
 * device, in 128 bits.
 */
static uint64_t pulse_ns(uint64_t k)
{
	return (uint64_t)(((unsigned __int128)k * 1000000000u + HZ - 1) / HZ);
}

static uint64_t pulses_at(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * HZ / 1000000000u);
}

/* A machine with a clock the test moves and a recorder for IRQ 0. */
struct fake_machine {
	uint64_t now;
	int level0;
	int irq0_rises;
	int irq_calls;
	int other_irqs;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fake_machine *)ctx)->now;
}

static void fake_set_irq(void *ctx, int irq, int level)
{
	struct fake_machine *fm = ctx;

	fm->irq_calls++;
	if (irq != 0) {
		fm->other_irqs++;
		return;
	}
	if (level && !fm->level0)
		fm->irq0_rises++;
	fm->level0 = level;
}

struct fixture {
	struct devices_bus bus;
	struct fake_machine fm;
	struct devices_machine m;
	struct devices_pit *p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->m = (struct devices_machine){
		.ctx = &f->fm, .now_ns = fake_now, .set_irq = fake_set_irq,
	};
	devices_bus_init(&f->bus);
	f->p = devices_pit_create(&f->bus, &f->m);
	if (!f->p)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_pit_destroy(f->p);
	free(f);
	return 0;
}

static void at(struct fixture *f, uint64_t pulse)
{
	f->fm.now = pulse_ns(pulse);
}

static uint8_t rd(struct fixture *f, uint16_t port)
{
	return (uint8_t)devices_bus_in(&f->bus, port, 1);
}

static void wr(struct fixture *f, uint16_t port, uint8_t v)
{
	devices_bus_out(&f->bus, port, v, 1);
}

/* Control word for `ch`, LSB then MSB, `mode`, binary; then the count. */
static void program(struct fixture *f, int ch, int mode, uint16_t count)
{
	wr(f, CTRL, (uint8_t)(ch << 6 | 0x30 | mode << 1));
	wr(f, (uint16_t)(CH0 + ch), (uint8_t)count);
	wr(f, (uint16_t)(CH0 + ch), (uint8_t)(count >> 8));
}

/* Two reads of a counter in LSB-then-MSB mode. */
static uint16_t rd16(struct fixture *f, int ch)
{
	uint16_t v = rd(f, (uint16_t)(CH0 + ch));

	return (uint16_t)(v | rd(f, (uint16_t)(CH0 + ch)) << 8);
}

/* Counter latch command, then both bytes. */
static uint16_t latched(struct fixture *f, int ch)
{
	wr(f, CTRL, (uint8_t)(ch << 6));
	return rd16(f, ch);
}

/* Read-back status of `ch` alone. */
static uint8_t status(struct fixture *f, int ch)
{
	wr(f, CTRL, (uint8_t)(0xE0 | 2 << ch));
	return rd(f, (uint16_t)(CH0 + ch));
}

static int out(struct fixture *f, int ch)
{
	return status(f, ch) >> 7;
}

static uint64_t deadline(struct fixture *f)
{
	return devices_bus_next_deadline(&f->bus);
}

/* ---- counts read with the latch command ---- */

/* The latched count and OUT of a counter at a pulse. */
struct sample {
	uint64_t pulse;
	uint16_t count;
	int out;
};

/* Program `ch` at pulse 0, then check each sample in order. */
static void check_samples(struct fixture *f, int ch, int mode, uint16_t count,
			  const struct sample *s, size_t n)
{
	program(f, ch, mode, count);
	for (size_t i = 0; i < n; i++) {
		at(f, s[i].pulse);
		assert_int_equal(latched(f, ch), s[i].count);
		assert_int_equal(out(f, ch), s[i].out);
	}
}

#define CHECK_SAMPLES(f, ch, mode, count, table) \
	check_samples(f, ch, mode, count, table, sizeof(table) / sizeof(table[0]))

/* Programmed at pulse 0: the count is loaded at pulse 1 and counts from
 * pulse 2 on (8254 datasheet: "loaded on the next CLK pulse"). */
static const struct sample mode2_counts[] = {
	{ 1, 1000, 1 }, { 2, 999, 1 }, { 500, 501, 1 }, { 1000, 1, 0 },
	{ 1001, 1000, 1 }, { 1002, 999, 1 }, { 1500, 501, 1 }, { 100000, 1, 0 },
};

static void test_latch_when_mode2_counts_n_down_to_1_and_reloads(void **state)
{
	CHECK_SAMPLES(*state, 0, 2, 1000, mode2_counts);
}

static const struct sample mode0_counts[] = {
	{ 1, 100, 0 }, { 2, 99, 0 }, { 100, 1, 0 },
	{ 101, 0, 1 },		/* terminal count: N + 1 pulses after the write */
	{ 102, 0xFFFF, 1 },	/* the CE wraps and keeps counting */
	{ 1000, 0xFC7D, 1 },
};

static void test_latch_when_mode0_counts_through_terminal_count_and_wraps(void **state)
{
	CHECK_SAMPLES(*state, 0, 0, 100, mode0_counts);
}

/* Mode 3, even count 10: 10 8 6 4 2 high, then 10 8 6 4 2 low. */
static const struct sample mode3_even[] = {
	{ 1, 10, 1 }, { 2, 8, 1 }, { 5, 2, 1 }, { 6, 10, 0 }, { 7, 8, 0 },
	{ 10, 2, 0 }, { 11, 10, 1 }, { 16, 10, 0 },
};

static void test_latch_when_mode3_even_counts_by_two_each_half(void **state)
{
	CHECK_SAMPLES(*state, 0, 3, 10, mode3_even);
}

/* Mode 3, odd count 7: 6 4 2 0 high (4 clocks), then 6 4 2 low (3 clocks). */
static const struct sample mode3_odd[] = {
	{ 1, 6, 1 }, { 2, 4, 1 }, { 3, 2, 1 }, { 4, 0, 1 }, { 5, 6, 0 },
	{ 6, 4, 0 }, { 7, 2, 0 }, { 8, 6, 1 }, { 12, 6, 0 },
};

static void test_latch_when_mode3_odd_is_high_one_clock_longer(void **state)
{
	CHECK_SAMPLES(*state, 0, 3, 7, mode3_odd);
}

/* Mode 2, count 5: OUT low for the clock at which the count is 1. */
static const struct sample mode2_out[] = {
	{ 1, 5, 1 }, { 4, 2, 1 }, { 5, 1, 0 }, { 6, 5, 1 }, { 9, 2, 1 },
	{ 10, 1, 0 }, { 11, 5, 1 },
};

static void test_out_when_mode2_is_low_for_one_clock_per_period(void **state)
{
	CHECK_SAMPLES(*state, 0, 2, 5, mode2_out);
}

/* Mode 4, count 5: OUT low for the one clock at which the count is 0. */
static const struct sample mode4_out[] = {
	{ 1, 5, 1 }, { 5, 1, 1 }, { 6, 0, 0 }, { 7, 0xFFFF, 1 }, { 8, 0xFFFE, 1 },
};

static void test_out_when_mode4_strobes_low_for_one_clock(void **state)
{
	struct fixture *f = *state;

	CHECK_SAMPLES(f, 0, 4, 5, mode4_out);
	assert_true(deadline(f) == DEVICES_NEVER);
}

static void test_latch_when_latched_twice_keeps_first_until_read(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 1000);
	at(f, 11);
	wr(f, CTRL, 0x00);
	at(f, 50);
	wr(f, CTRL, 0x00);	/* ignored: the first latch is unread */
	assert_int_equal(rd(f, CH0), 990 & 0xFF);
	assert_int_equal(rd(f, CH0), 990 >> 8);
	assert_int_equal(latched(f, 0), 951);
}

static void test_latch_when_time_passes_before_read_holds_value(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 1000);
	at(f, 101);
	wr(f, CTRL, 0x00);
	at(f, 150);
	assert_int_equal(rd(f, CH0), 900 & 0xFF);
	at(f, 700);
	assert_int_equal(rd(f, CH0), 900 >> 8);
}

/* ---- access modes and flip-flops ---- */

static void test_rw_when_lsb_only_reads_and_writes_low_byte(void **state)
{
	struct fixture *f = *state;

	wr(f, CTRL, 0x54);	/* ch1, LSB only, mode 2: the PC refresh setup */
	wr(f, CH1, 18);
	at(f, 1);
	assert_int_equal(rd(f, CH1), 18);
	at(f, 2);
	assert_int_equal(rd(f, CH1), 17);
	at(f, 18);
	assert_int_equal(rd(f, CH1), 1);
	at(f, 19);
	assert_int_equal(rd(f, CH1), 18);
}

static void test_rw_when_msb_only_count_is_msb_times_256(void **state)
{
	struct fixture *f = *state;

	wr(f, CTRL, 0x64);	/* ch1, MSB only, mode 2 */
	wr(f, CH1, 0x12);
	at(f, 1);
	assert_int_equal(rd(f, CH1), 0x12);
	at(f, 2);
	assert_int_equal(rd(f, CH1), 0x11);	/* 0x11FF */
	at(f, 1 + 0x1200);
	assert_int_equal(rd(f, CH1), 0x12);	/* reloaded */
}

static void test_rw_when_word_unlatched_reads_alternate_live_lsb_msb(void **state)
{
	struct fixture *f = *state;

	/* Linux's quick_pit_calibrate: channel 2, mode 0, 0xFFFF, and reads
	 * of the live counter, LSB then MSB. */
	wr(f, PORTB, 0x01);
	wr(f, CTRL, 0xB0);
	wr(f, CH2, 0xFF);
	wr(f, CH2, 0xFF);
	at(f, 1);
	assert_int_equal(rd(f, CH2), 0xFF);	/* LSB of 0xFFFF */
	at(f, 257);
	assert_int_equal(rd(f, CH2), 0xFE);	/* MSB of 0xFEFF */
	assert_int_equal(rd(f, CH2), 0xFF);	/* LSB again */
}

static void test_rw_when_word_written_needs_both_bytes(void **state)
{
	struct fixture *f = *state;

	wr(f, CTRL, 0x34);
	wr(f, CH0, 0x00);
	assert_true(deadline(f) == DEVICES_NEVER);	/* half a count */
	wr(f, CH0, 0x01);
	assert_int_equal(deadline(f), pulse_ns(1 + 256));
}

static void test_control_word_when_written_resets_flip_flops_and_latch(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 1000);
	at(f, 11);
	wr(f, CTRL, 0x00);
	(void)rd(f, CH0);	/* LSB of the latch; MSB pending */
	wr(f, CTRL, 0x34);	/* reprogram: latch and flip-flop gone */
	wr(f, CH0, 0x64);
	wr(f, CH0, 0x00);
	at(f, 12);
	assert_int_equal(latched(f, 0), 100);
}

static void test_ctrl_port_when_read_floats(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, CTRL), 0xFF);
}

/* ---- read-back ---- */

static void test_readback_when_status_gives_out_null_rw_mode_bcd(void **state)
{
	struct fixture *f = *state;

	wr(f, CTRL, 0xB0);	/* ch2, word, mode 0 */
	assert_int_equal(status(f, 2), 0x70);	/* OUT 0, NULL 1, RW 3, mode 0 */
	wr(f, CTRL, 0x96);	/* ch2, LSB, mode 3 */
	assert_int_equal(status(f, 2), 0xD6);	/* OUT 1, NULL 1, RW 1, mode 3 */
	wr(f, CTRL, 0x7B);	/* ch1, word, mode 5, BCD */
	assert_int_equal(status(f, 1), 0xFB);
	wr(f, CTRL, 0x3C);	/* ch0, word, mode 6 (= 2) is shown as written */
	assert_int_equal(status(f, 0), 0xFC);
}

static void test_readback_when_count_loaded_clears_null_count(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 1000);
	assert_int_equal(status(f, 0) & 0x40, 0x40);	/* loads at pulse 1 */
	at(f, 1);
	assert_int_equal(status(f, 0) & 0x40, 0x00);
}

static void test_readback_when_count_and_status_returns_status_first(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 1000);
	at(f, 11);
	wr(f, CTRL, 0xC2);	/* latch count and status of ch0 */
	at(f, 40);
	assert_int_equal(rd(f, CH0), 0xB4);	/* OUT 1, RW 3, mode 2 */
	assert_int_equal(rd(f, CH0), 990 & 0xFF);
	assert_int_equal(rd(f, CH0), 990 >> 8);
	assert_int_equal(latched(f, 0), 961);
}

static void test_readback_when_several_channels_latches_each(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 1000);
	program(f, 1, 2, 2000);
	at(f, 101);
	wr(f, CTRL, 0xD6);	/* read-back: count only, of ch0 and ch1 */
	at(f, 500);
	assert_int_equal(rd16(f, 0), 900);
	assert_int_equal(rd16(f, 1), 1900);
}

/* ---- OUT waveforms ---- */

static void test_out_when_mode0_rises_exactly_at_terminal_count(void **state)
{
	struct fixture *f = *state;

	/* Linux's pit_calibrate_tsc: gate 2 on, speaker off, channel 2 in
	 * mode 0 with a 50 ms count, then poll port 0x61 bit 5. */
	uint64_t t0 = 12345678, j0 = pulses_at(t0), tc = j0 + 1 + 59659;

	f->fm.now = t0;
	wr(f, PORTB, (rd(f, PORTB) & ~0x02) | 0x01);
	wr(f, CTRL, 0xB0);
	wr(f, CH2, 59659 & 0xFF);
	wr(f, CH2, 59659 >> 8);
	assert_int_equal(rd(f, PORTB) & 0x20, 0);
	f->fm.now = pulse_ns(tc) - 1;
	assert_int_equal(rd(f, PORTB) & 0x20, 0);
	f->fm.now = pulse_ns(tc);
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);
	f->fm.now = pulse_ns(tc) + 1000000000;
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);	/* stays high */
}

static void test_out_when_control_word_sets_initial_level(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 0, 10);
	at(f, 20);
	assert_int_equal(out(f, 0), 1);
	wr(f, CTRL, 0x30);	/* mode 0: low */
	assert_int_equal(out(f, 0), 0);
	wr(f, CTRL, 0x34);	/* mode 2: high */
	assert_int_equal(out(f, 0), 1);
	assert_true(deadline(f) == DEVICES_NEVER);	/* no count yet */
}

static void test_mode0_when_first_byte_written_stops_counting_out_low(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 0, 10);
	at(f, 20);
	assert_int_equal(out(f, 0), 1);
	wr(f, CH0, 0x05);	/* LSB of a new count */
	assert_int_equal(out(f, 0), 0);
	assert_int_equal(latched(f, 0), 0xFFF7);	/* 10 - 19 */
	at(f, 30);
	assert_int_equal(latched(f, 0), 0xFFF7);	/* not counting */
	wr(f, CH0, 0x00);	/* MSB: count 5, loaded at pulse 31 */
	at(f, 31);
	assert_int_equal(latched(f, 0), 5);
	at(f, 35);
	assert_int_equal(out(f, 0), 0);
	at(f, 36);
	assert_int_equal(out(f, 0), 1);
}

static void test_count_when_0_means_65536(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 0);
	at(f, 1);
	assert_int_equal(latched(f, 0), 0);
	at(f, 2);
	assert_int_equal(latched(f, 0), 0xFFFF);
	at(f, 65536);
	assert_int_equal(latched(f, 0), 1);
	assert_int_equal(deadline(f), pulse_ns(1 + 65536));
}

static void test_bcd_when_set_counts_in_decimal_digits(void **state)
{
	struct fixture *f = *state;

	wr(f, CTRL, 0x35);	/* ch0, word, mode 2, BCD */
	wr(f, CH0, 0x00);
	wr(f, CH0, 0x01);	/* 0100 = one hundred */
	at(f, 1);
	assert_int_equal(latched(f, 0), 0x0100);
	at(f, 2);
	assert_int_equal(latched(f, 0), 0x0099);
	at(f, 51);
	assert_int_equal(latched(f, 0), 0x0050);
	assert_int_equal(deadline(f), pulse_ns(1 + 100));
}

static void test_bcd_when_count_0_means_10000(void **state)
{
	struct fixture *f = *state;

	wr(f, CTRL, 0x35);
	wr(f, CH0, 0x00);
	wr(f, CH0, 0x00);
	at(f, 1);
	assert_int_equal(latched(f, 0), 0x0000);
	at(f, 2);
	assert_int_equal(latched(f, 0), 0x9999);
	assert_int_equal(deadline(f), pulse_ns(1 + 10000));
}

/* ---- reprogramming ---- */

static void test_mode2_when_count_rewritten_takes_it_at_end_of_period(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 100);
	at(f, 150);
	wr(f, CH0, 50);
	wr(f, CH0, 0);
	assert_int_equal(status(f, 0) & 0x40, 0x40);	/* not loaded yet */
	assert_int_equal(deadline(f), pulse_ns(201));	/* old period ends */
	at(f, 200);
	assert_int_equal(latched(f, 0), 1);
	at(f, 201);
	assert_int_equal(latched(f, 0), 50);
	assert_int_equal(status(f, 0) & 0x40, 0x00);
	at(f, 202);
	assert_int_equal(latched(f, 0), 49);
	at(f, 210);
	assert_int_equal(deadline(f), pulse_ns(251));
}

static void test_mode3_when_count_rewritten_in_high_half_takes_it_at_half_end(void **state)
{
	struct fixture *f = *state;

	/* 100: high for pulses 1-50, low 51-100.  40 written in the high
	 * half is loaded when it ends (8254 datasheet, mode 3: "at the end of
	 * the current half-cycle") and starts with its own low half. */
	program(f, 0, 3, 100);
	at(f, 20);
	wr(f, CH0, 40);
	wr(f, CH0, 0);
	assert_int_equal(deadline(f), pulse_ns(71));
	at(f, 50);
	assert_int_equal(out(f, 0), 1);
	assert_int_equal(latched(f, 0), 2);
	at(f, 51);
	assert_int_equal(out(f, 0), 0);
	assert_int_equal(latched(f, 0), 40);
	at(f, 70);
	assert_int_equal(out(f, 0), 0);
	at(f, 71);
	assert_int_equal(out(f, 0), 1);
	at(f, 91);
	assert_int_equal(out(f, 0), 0);
	assert_int_equal(deadline(f), pulse_ns(111));
}

static void test_mode3_when_count_rewritten_in_low_half_takes_it_at_period_end(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 3, 100);
	at(f, 70);
	wr(f, CH0, 40);
	wr(f, CH0, 0);
	assert_int_equal(deadline(f), pulse_ns(101));
	at(f, 101);
	assert_int_equal(latched(f, 0), 40);
	assert_int_equal(deadline(f), pulse_ns(141));
	at(f, 121);
	assert_int_equal(out(f, 0), 0);
}

static void test_mode0_when_count_rewritten_restarts_at_next_clock(void **state)
{
	struct fixture *f = *state;

	wr(f, CTRL, 0x10);	/* ch0, LSB only, mode 0 */
	wr(f, CH0, 100);
	at(f, 50);
	wr(f, CH0, 10);
	at(f, 51);
	assert_int_equal(rd(f, CH0), 10);
	assert_int_equal(deadline(f), pulse_ns(61));
}

/* ---- IRQ 0 ---- */

static void test_timer_when_unprogrammed_is_never(void **state)
{
	struct fixture *f = *state;

	assert_true(deadline(f) == DEVICES_NEVER);
	f->fm.now = 10000000000ull;
	devices_bus_run_timers(&f->bus, f->fm.now);
	assert_int_equal(f->fm.irq_calls, 0);
}

static void test_timer_when_1khz_steps_exactly_without_drift(void **state)
{
	struct fixture *f = *state;
	uint64_t first, last = 0;

	program(f, 0, 2, 1193);	/* Linux's LATCH for HZ=1000 */
	first = deadline(f);
	assert_int_equal(first, pulse_ns(1 + 1193));
	for (uint64_t k = 1; k <= 1000; k++) {
		uint64_t d = deadline(f);

		assert_int_equal(d, pulse_ns(1 + 1193 * k));
		f->fm.now = d;
		devices_bus_run_timers(&f->bus, d);
		assert_int_equal(f->fm.irq0_rises, (int)k);
		last = d;
	}
	/* 999 periods of 1193 / 1193182 s = 999847.4667 ns each. */
	assert_in_range(last - first, 998847619, 998847620);
	assert_int_equal(f->fm.level0, 0);
}

static void test_timer_when_fired_pulses_irq0_up_then_down(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 100);
	f->fm.now = deadline(f) - 1;
	devices_bus_run_timers(&f->bus, f->fm.now);
	assert_int_equal(f->fm.irq_calls, 0);
	f->fm.now = deadline(f);
	devices_bus_run_timers(&f->bus, f->fm.now);
	assert_int_equal(f->fm.irq_calls, 2);
	assert_int_equal(f->fm.irq0_rises, 1);
	assert_int_equal(f->fm.level0, 0);
	assert_int_equal(f->fm.other_irqs, 0);
}

static void test_timer_when_machine_late_gives_one_edge_and_rearms_after_now(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 2, 1000);
	/* Five and a half periods late. */
	f->fm.now = pulse_ns(1 + 1000 * 6 + 500);
	devices_bus_run_timers(&f->bus, f->fm.now);
	assert_int_equal(f->fm.irq0_rises, 1);
	assert_int_equal(deadline(f), pulse_ns(1 + 1000 * 7));
}

static void test_timer_when_mode0_fires_once_at_terminal_count(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 0, 500);
	assert_int_equal(deadline(f), pulse_ns(501));
	f->fm.now = pulse_ns(501);
	devices_bus_run_timers(&f->bus, f->fm.now);
	assert_int_equal(f->fm.irq0_rises, 1);
	assert_true(deadline(f) == DEVICES_NEVER);
}

static void test_timer_when_mode3_fires_on_rising_edges_only(void **state)
{
	struct fixture *f = *state;

	program(f, 0, 3, 10);
	assert_int_equal(deadline(f), pulse_ns(11));	/* not at 6, the falling edge */
	f->fm.now = pulse_ns(11);
	devices_bus_run_timers(&f->bus, f->fm.now);
	assert_int_equal(deadline(f), pulse_ns(21));
}

static void test_timer_when_channel2_runs_does_not_raise_irq0(void **state)
{
	struct fixture *f = *state;

	wr(f, PORTB, 0x01);
	program(f, 2, 2, 100);
	assert_true(deadline(f) == DEVICES_NEVER);
}

/* ---- channel 2 gate and port 0x61 ---- */

static void test_gate_when_low_in_mode0_pauses_counting(void **state)
{
	struct fixture *f = *state;

	program(f, 2, 0, 100);	/* gate 2 is low after reset */
	at(f, 50);
	assert_int_equal(latched(f, 2), 100);
	wr(f, PORTB, 0x01);
	at(f, 60);
	assert_int_equal(latched(f, 2), 90);
	wr(f, PORTB, 0x00);
	at(f, 200);
	assert_int_equal(latched(f, 2), 90);
	assert_int_equal(rd(f, PORTB) & 0x20, 0);
	wr(f, PORTB, 0x01);
	at(f, 289);
	assert_int_equal(rd(f, PORTB) & 0x20, 0);
	at(f, 290);
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);
}

static void test_gate_when_rising_in_mode2_reloads(void **state)
{
	struct fixture *f = *state;

	wr(f, PORTB, 0x01);
	program(f, 2, 2, 10);
	at(f, 5);
	assert_int_equal(latched(f, 2), 6);
	wr(f, PORTB, 0x00);
	at(f, 100);
	assert_int_equal(latched(f, 2), 6);	/* stopped */
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);	/* OUT high */
	wr(f, PORTB, 0x01);
	at(f, 101);
	assert_int_equal(latched(f, 2), 10);
	at(f, 105);
	assert_int_equal(latched(f, 2), 6);
}

static void test_gate_when_low_in_mode2_forces_out_high(void **state)
{
	struct fixture *f = *state;

	wr(f, PORTB, 0x01);
	program(f, 2, 2, 10);
	at(f, 10);
	assert_int_equal(rd(f, PORTB) & 0x20, 0);	/* the low clock */
	wr(f, PORTB, 0x00);
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);
}

static void test_gate_when_rising_triggers_mode1_one_shot(void **state)
{
	struct fixture *f = *state;

	program(f, 2, 1, 5);
	at(f, 9);
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);	/* high until triggered */
	wr(f, PORTB, 0x01);	/* trigger at pulse 9: load at 10 */
	at(f, 10);
	assert_int_equal(rd(f, PORTB) & 0x20, 0);
	at(f, 14);
	assert_int_equal(rd(f, PORTB) & 0x20, 0);
	wr(f, PORTB, 0x00);	/* the gate's level does not matter */
	at(f, 15);
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);
	wr(f, PORTB, 0x01);	/* retrigger at 15: low from 16 to 20 */
	at(f, 16);
	assert_int_equal(rd(f, PORTB) & 0x20, 0);
	at(f, 21);
	assert_int_equal(rd(f, PORTB) & 0x20, 0x20);
}

static void test_gate_when_rising_triggers_mode5_strobe(void **state)
{
	struct fixture *f = *state;
	static const int expect[] = { 1, 1, 1, 1, 1, 0, 1 };	/* pulses 10.. */

	program(f, 2, 5, 5);
	at(f, 9);
	wr(f, PORTB, 0x01);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		at(f, 10 + i);
		assert_int_equal(rd(f, PORTB) >> 5 & 1, expect[i]);
	}
}

static void test_portb_when_written_keeps_low_nibble_only(void **state)
{
	struct fixture *f = *state;

	wr(f, PORTB, 0xFF);
	assert_int_equal(rd(f, PORTB) & 0xCF, 0x0F);
	wr(f, PORTB, 0x02);	/* speaker data enable reads back */
	assert_int_equal(rd(f, PORTB) & 0xCF, 0x02);
}

static const struct { uint64_t pulse; int refresh; } refresh_toggle[] = {
	{ 0, 0 }, { 17, 0 }, { 18, 1 }, { 35, 1 }, { 36, 0 }, { 18 * 1001, 1 },
};

static void test_portb_refresh_when_time_passes_toggles_every_18_clocks(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(refresh_toggle) / sizeof(refresh_toggle[0]); i++) {
		at(f, refresh_toggle[i].pulse);
		assert_int_equal(rd(f, PORTB) >> 4 & 1, refresh_toggle[i].refresh);
	}
}

/* ---- machine glue ---- */

/* A machine whose IRQ lines go to a real 8259A pair on the same bus. */
struct pc {
	struct devices_bus bus;
	struct devices_machine m;
	struct devices_pic *pic;
	struct devices_pit *pit;
	uint64_t now;
	int intr;
};

static uint64_t pc_now(void *ctx)
{
	return ((struct pc *)ctx)->now;
}

static void pc_set_irq(void *ctx, int irq, int level)
{
	devices_pic_set_irq(((struct pc *)ctx)->pic, irq, level);
}

static void pc_set_intr(void *ctx, int level)
{
	((struct pc *)ctx)->intr = level;
}

static void test_irq0_when_routed_to_pic_gives_one_request_per_edge(void **state)
{
	struct pc *pc = calloc(1, sizeof(*pc));
	static const uint8_t pic_init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
	};

	(void)state;
	assert_non_null(pc);
	pc->m = (struct devices_machine){
		.ctx = pc, .now_ns = pc_now, .set_irq = pc_set_irq, .set_intr = pc_set_intr,
	};
	devices_bus_init(&pc->bus);
	pc->pic = devices_pic_create(&pc->bus, &pc->m);
	pc->pit = devices_pit_create(&pc->bus, &pc->m);
	assert_non_null(pc->pic);
	assert_non_null(pc->pit);
	for (size_t i = 0; i < sizeof(pic_init) / sizeof(pic_init[0]); i++)
		devices_bus_out(&pc->bus, pic_init[i][0], pic_init[i][1], 1);
	devices_bus_out(&pc->bus, CTRL, 0x34, 1);
	devices_bus_out(&pc->bus, CH0, 100, 1);
	devices_bus_out(&pc->bus, CH0, 0, 1);

	pc->now = devices_bus_next_deadline(&pc->bus);
	devices_bus_run_timers(&pc->bus, pc->now);
	assert_int_equal(pc->intr, 1);
	assert_int_equal(devices_pic_ack(pc->pic), 0x30);
	assert_int_equal(pc->intr, 0);
	/* A second edge while IRQ 0 is in service waits for the EOI; a third
	 * is lost in the same IRR latch, as on hardware. */
	for (int i = 0; i < 2; i++) {
		pc->now = devices_bus_next_deadline(&pc->bus);
		devices_bus_run_timers(&pc->bus, pc->now);
	}
	assert_int_equal(pc->intr, 0);
	devices_bus_out(&pc->bus, 0x20, 0x20, 1);
	assert_int_equal(pc->intr, 1);
	assert_int_equal(devices_pic_ack(pc->pic), 0x30);
	devices_bus_out(&pc->bus, 0x20, 0x20, 1);
	assert_int_equal(pc->intr, 0);

	devices_pit_destroy(pc->pit);
	devices_pic_destroy(pc->pic);
	free(pc);
}

static void test_create_when_portb_taken_returns_null_and_unwinds(void **state)
{
	struct fixture *f = *state;
	struct devices_bus bus;
	struct devices_port80 *p80;

	(void)f;
	devices_bus_init(&bus);
	p80 = devices_port80_create(&bus, PORTB);
	assert_non_null(p80);
	errno = 0;
	assert_null(devices_pit_create(&bus, NULL));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bus.n, 1);
	assert_int_equal(bus.ntimers, 0);
	devices_port80_destroy(p80);
}

static void test_destroy_when_called_leaves_the_bus(void **state)
{
	struct fixture *f = *state;
	struct devices_bus bus;
	struct devices_pit *p;

	(void)f;
	devices_bus_init(&bus);
	p = devices_pit_create(&bus, NULL);
	assert_non_null(p);
	assert_int_equal(bus.ntimers, 1);
	devices_pit_destroy(p);
	assert_int_equal(bus.n, 0);
	assert_int_equal(bus.ntimers, 0);
}

static void test_bus_reset_when_called_stops_counters(void **state)
{
	struct fixture *f = *state;

	wr(f, PORTB, 0x03);
	program(f, 0, 2, 100);
	devices_bus_reset(&f->bus);
	assert_true(deadline(f) == DEVICES_NEVER);
	assert_int_equal(rd(f, PORTB) & 0x0F, 0);
	assert_int_equal(status(f, 0), 0x70);
}

static void test_create_when_machine_null_still_works(void **state)
{
	struct fixture *f = *state;
	struct devices_bus bus;
	struct devices_pit *p;

	(void)f;
	devices_bus_init(&bus);
	p = devices_pit_create(&bus, NULL);
	assert_non_null(p);
	devices_bus_out(&bus, CTRL, 0x34, 1);
	devices_bus_out(&bus, CH0, 10, 1);
	devices_bus_out(&bus, CH0, 0, 1);
	assert_int_equal(devices_bus_next_deadline(&bus), pulse_ns(11));
	devices_bus_run_timers(&bus, pulse_ns(11));	/* no set_irq: nothing to call */
	devices_pit_destroy(p);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_latch_when_mode2_counts_n_down_to_1_and_reloads),
		T(test_latch_when_mode0_counts_through_terminal_count_and_wraps),
		T(test_latch_when_mode3_even_counts_by_two_each_half),
		T(test_latch_when_mode3_odd_is_high_one_clock_longer),
		T(test_latch_when_latched_twice_keeps_first_until_read),
		T(test_latch_when_time_passes_before_read_holds_value),
		T(test_rw_when_lsb_only_reads_and_writes_low_byte),
		T(test_rw_when_msb_only_count_is_msb_times_256),
		T(test_rw_when_word_unlatched_reads_alternate_live_lsb_msb),
		T(test_rw_when_word_written_needs_both_bytes),
		T(test_control_word_when_written_resets_flip_flops_and_latch),
		T(test_ctrl_port_when_read_floats),
		T(test_readback_when_status_gives_out_null_rw_mode_bcd),
		T(test_readback_when_count_loaded_clears_null_count),
		T(test_readback_when_count_and_status_returns_status_first),
		T(test_readback_when_several_channels_latches_each),
		T(test_out_when_mode0_rises_exactly_at_terminal_count),
		T(test_out_when_mode2_is_low_for_one_clock_per_period),
		T(test_out_when_mode4_strobes_low_for_one_clock),
		T(test_out_when_control_word_sets_initial_level),
		T(test_mode0_when_first_byte_written_stops_counting_out_low),
		T(test_count_when_0_means_65536),
		T(test_bcd_when_set_counts_in_decimal_digits),
		T(test_bcd_when_count_0_means_10000),
		T(test_mode2_when_count_rewritten_takes_it_at_end_of_period),
		T(test_mode3_when_count_rewritten_in_high_half_takes_it_at_half_end),
		T(test_mode3_when_count_rewritten_in_low_half_takes_it_at_period_end),
		T(test_mode0_when_count_rewritten_restarts_at_next_clock),
		T(test_timer_when_unprogrammed_is_never),
		T(test_timer_when_1khz_steps_exactly_without_drift),
		T(test_timer_when_fired_pulses_irq0_up_then_down),
		T(test_timer_when_machine_late_gives_one_edge_and_rearms_after_now),
		T(test_timer_when_mode0_fires_once_at_terminal_count),
		T(test_timer_when_mode3_fires_on_rising_edges_only),
		T(test_timer_when_channel2_runs_does_not_raise_irq0),
		T(test_gate_when_low_in_mode0_pauses_counting),
		T(test_gate_when_rising_in_mode2_reloads),
		T(test_gate_when_low_in_mode2_forces_out_high),
		T(test_gate_when_rising_triggers_mode1_one_shot),
		T(test_gate_when_rising_triggers_mode5_strobe),
		T(test_portb_when_written_keeps_low_nibble_only),
		T(test_portb_refresh_when_time_passes_toggles_every_18_clocks),
		cmocka_unit_test(test_irq0_when_routed_to_pic_gives_one_request_per_edge),
		T(test_create_when_portb_taken_returns_null_and_unwinds),
		T(test_destroy_when_called_leaves_the_bus),
		T(test_bus_reset_when_called_stops_counters),
		T(test_create_when_machine_null_still_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
