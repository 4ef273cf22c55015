/* tests/unit/devices_acpi_test.c: ACPI fixed hardware (PM1, PM timer, SCI, S5, reset register) against a fake clock, and the tables that describe it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "devices_fake_machine.h"

/* Where the tables say the hardware is; test_fadt_* checks they agree. */
#define PM1_STS 0x600
#define PM1_EN 0x602
#define PM1_CNT 0x604
#define PM_TMR 0x608
#define RESET_CTL 0xCF9

#define TMR_STS 0x0001
#define TMR_EN 0x0001
#define SCI_EN 0x0001
#define SLP_EN 0x2000
#define SLP_TYP(t) ((t) << 10)
#define S5_TYP 5

/* The fake machine, plus request_exit (which devices_fake_machine.h has
 * no use for elsewhere).  `fm` comes first: its callbacks get &fm as ctx. */
struct acpi_machine {
	struct fake_machine fm;
	int exits, status;
};

static void record_exit(void *ctx, int status)
{
	struct acpi_machine *am = ctx;

	am->exits++;
	am->status = status;
}

struct fixture {
	struct devices_bus bus;
	struct acpi_machine am;
	struct devices_machine m;
	struct devices_acpi *a;
};

/* A device on a fresh bus, plugged into the fake machine or into none. */
static int make_fixture(void **state, bool with_machine)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->m = fake_machine_init(&f->am.fm);
	f->m.request_exit = record_exit;
	devices_bus_init(&f->bus);
	f->a = devices_acpi_create(&f->bus, with_machine ? &f->m : NULL);
	if (!f->a)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return make_fixture(state, true);
}

static int setup_no_machine(void **state)
{
	return make_fixture(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_acpi_destroy(f->a);
	free(f);
	return 0;
}

static uint32_t in(struct fixture *f, uint16_t port, int size)
{
	return devices_bus_in(&f->bus, port, size);
}

static void out(struct fixture *f, uint16_t port, uint32_t v, int size)
{
	devices_bus_out(&f->bus, port, v, size);
}

/* Move the fake clock to `ns` and run whatever timers are due, as bt's
 * machine loop does. */
static void advance(struct fixture *f, uint64_t ns)
{
	f->am.fm.now = ns;
	devices_bus_run_timers(&f->bus, ns);
}

/* ---- PM timer ---- */

/* 3579545 ticks per second, floor(ns * 3579545 / 1e9), modulo 2^24;
 * 4686968875 ns is the first nanosecond of tick 2^24. */
static const struct { uint64_t ns; uint32_t tmr; } pm_timer[] = {
	{ 0, 0 },
	{ 279, 0 },
	{ 280, 1 },
	{ 1000, 3 },
	{ 1000000000, 3579545 },
	{ 4686968874, 0xFFFFFF },
	{ 4686968875, 0 },
	{ 5000000000, 1120509 },
	{ 3600000000000, 1460112 },
};

static void test_pm_timer_when_clock_moves_counts_3579545_hz_and_wraps_at_24_bits(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(pm_timer) / sizeof(pm_timer[0]); i++) {
		uint32_t got;

		f->am.fm.now = pm_timer[i].ns;
		got = in(f, PM_TMR, 4);
		if (got != pm_timer[i].tmr)
			fail_msg("at %llu ns: 0x%x, want 0x%x", (unsigned long long)pm_timer[i].ns,
				 got, pm_timer[i].tmr);
	}
}

static void test_pm_timer_when_read_by_bytes_and_words_matches_dword(void **state)
{
	struct fixture *f = *state;
	uint32_t d;

	f->am.fm.now = 3600000000000;
	d = in(f, PM_TMR, 4);
	for (int b = 0; b < 4; b++)
		assert_int_equal(in(f, (uint16_t)(PM_TMR + b), 1), (d >> (8 * b)) & 0xFF);
	assert_int_equal(in(f, PM_TMR + 3, 1), 0);
	assert_int_equal(in(f, PM_TMR, 2), d & 0xFFFF);
	assert_int_equal(in(f, PM_TMR + 2, 2), d >> 16);
}

static void test_pm_timer_when_written_is_unchanged(void **state)
{
	struct fixture *f = *state;

	f->am.fm.now = 1000000000;
	out(f, PM_TMR, 0, 4);
	assert_int_equal(in(f, PM_TMR, 4), 3579545);
}

/* ---- PM1 status, enable, control ---- */

static void test_tmr_sts_when_bit_23_toggles_is_set_until_written_1(void **state)
{
	struct fixture *f = *state;

	f->am.fm.now = 2343484437;		/* tick 2^23 - 1 */
	assert_int_equal(in(f, PM1_STS, 2), 0);
	f->am.fm.now = 2343484438;		/* tick 2^23: bit 23 sets */
	assert_int_equal(in(f, PM1_STS, 2), TMR_STS);
	out(f, PM1_STS, 0x0000, 2);
	assert_int_equal(in(f, PM1_STS, 2), TMR_STS);
	out(f, PM1_STS, TMR_STS, 2);
	assert_int_equal(in(f, PM1_STS, 2), 0);
	f->am.fm.now = 4686968875;		/* tick 2^24: bit 23 clears (wrap) */
	assert_int_equal(in(f, PM1_STS, 2), TMR_STS);
}

static void test_pm1_sts_when_written_with_ones_clears_only_status(void **state)
{
	struct fixture *f = *state;

	f->am.fm.now = 2343484438;
	out(f, PM1_STS, 0xFFFFFFFFu, 4);	/* also writes PM1_EN */
	assert_int_equal(in(f, PM1_STS, 2), 0);
	assert_int_equal(in(f, PM1_EN, 2), 0x4721);
}

static void test_pm1_en_when_written_keeps_the_defined_enable_bits(void **state)
{
	struct fixture *f = *state;

	out(f, PM1_EN, 0xFFFF, 2);
	assert_int_equal(in(f, PM1_EN, 2), 0x4721);	/* TMR GBL PWRBTN SLPBTN RTC PCIEXP_WAKE_DIS */
	out(f, PM1_EN + 1, 0x00, 1);
	assert_int_equal(in(f, PM1_EN, 2), 0x0021);
	assert_int_equal(in(f, PM1_STS, 4), 0x00210000);
}

static void test_pm1_cnt_when_read_has_sci_en_and_keeps_slp_typ_and_bm_rld(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, PM1_CNT, 2), SCI_EN);
	out(f, PM1_CNT, 0xDFFF, 2);		/* everything but SLP_EN */
	assert_int_equal(in(f, PM1_CNT, 2), 0x1C03);
	out(f, PM1_CNT, 0x0000, 2);		/* SCI_EN cannot be cleared */
	assert_int_equal(in(f, PM1_CNT, 2), SCI_EN);
	assert_int_equal(f->am.exits, 0);
}

static void test_block_when_unused_ports_read_they_float(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, 0x606, 2), 0xFFFF);
	assert_int_equal(in(f, PM1_CNT, 4), 0xFFFF0000u | SCI_EN);
}

/* What ACPICA's acpi_hw_legacy_sleep does: SLP_TYP first, then SLP_TYP
 * with SLP_EN, both as 16-bit writes. */
static void test_slp_en_when_slp_typ_is_s5_ends_the_machine_with_status_0(void **state)
{
	struct fixture *f = *state;

	out(f, PM1_CNT, SLP_TYP(S5_TYP), 2);
	assert_int_equal(f->am.exits, 0);
	out(f, PM1_CNT, SLP_TYP(S5_TYP) | SLP_EN, 2);
	assert_int_equal(f->am.exits, 1);
	assert_int_equal(f->am.status, 0);
	assert_int_equal(in(f, PM1_CNT, 2) & SLP_EN, 0);	/* write-only */
}

static void test_slp_en_when_written_as_high_byte_with_s5_ends_the_machine(void **state)
{
	struct fixture *f = *state;

	out(f, PM1_CNT + 1, (SLP_TYP(S5_TYP) | SLP_EN) >> 8, 1);
	assert_int_equal(f->am.exits, 1);
	assert_int_equal(f->am.status, 0);
}

static void test_slp_en_when_slp_typ_is_not_s5_is_ignored(void **state)
{
	struct fixture *f = *state;

	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == S5_TYP)
			continue;
		out(f, PM1_CNT, SLP_TYP(typ) | SLP_EN, 2);
		assert_int_equal(in(f, PM1_CNT, 2), SLP_TYP(typ) | SCI_EN);
	}
	assert_int_equal(f->am.exits, 0);
	assert_int_equal(f->am.fm.resets, 0);
}

/* ---- SCI (IRQ 9) ---- */

static void test_sci_when_tmr_en_set_rises_at_bit_23_toggle_and_drops_on_clear(void **state)
{
	struct fixture *f = *state;

	out(f, PM1_EN, TMR_EN, 2);
	assert_int_equal(devices_bus_next_deadline(&f->bus), 2343484438);
	advance(f, 2343484437);
	assert_int_equal(f->am.fm.level[9], 0);
	advance(f, 2343484438);
	assert_int_equal(f->am.fm.level[9], 1);
	assert_int_equal(f->am.fm.edges[9], 1);
	assert_int_equal(devices_bus_next_deadline(&f->bus), DEVICES_NEVER);
	out(f, PM1_STS, TMR_STS, 2);
	assert_int_equal(f->am.fm.level[9], 0);
	assert_int_equal(devices_bus_next_deadline(&f->bus), 4686968875);
	advance(f, 4686968875);
	assert_int_equal(f->am.fm.edges[9], 2);
}

static void test_sci_when_tmr_en_clear_stays_low_with_no_timer(void **state)
{
	struct fixture *f = *state;

	advance(f, 10000000000);
	assert_int_equal(in(f, PM1_STS, 2), TMR_STS);
	assert_int_equal(f->am.fm.edges[9], 0);
	assert_int_equal(devices_bus_next_deadline(&f->bus), DEVICES_NEVER);
}

static void test_sci_when_enabled_with_status_already_set_rises_at_once(void **state)
{
	struct fixture *f = *state;

	advance(f, 2343484438);
	out(f, PM1_EN, TMR_EN, 2);
	assert_int_equal(f->am.fm.level[9], 1);
	out(f, PM1_EN, 0, 2);
	assert_int_equal(f->am.fm.level[9], 0);
}

/* ---- reset control register ---- */

static void test_reset_register_when_fadt_value_written_requests_reset(void **state)
{
	struct fixture *f = *state;

	out(f, RESET_CTL, 0x02, 1);		/* Linux's CF9 reset: hard reset type first */
	assert_int_equal(f->am.fm.resets, 0);
	assert_int_equal(in(f, RESET_CTL, 1), 0x02);
	out(f, RESET_CTL, 0x06, 1);		/* then RCPU */
	assert_int_equal(f->am.fm.resets, 1);
	assert_int_equal(in(f, RESET_CTL, 1), 0x02);	/* RCPU reads 0 */
	out(f, RESET_CTL, 0x06, 1);
	assert_int_equal(f->am.fm.resets, 2);
	assert_int_equal(f->am.exits, 0);
}

static void test_reset_register_when_bus_reset_reads_zero(void **state)
{
	struct fixture *f = *state;

	out(f, RESET_CTL, 0x02, 1);
	devices_bus_reset(&f->bus);
	assert_int_equal(in(f, RESET_CTL, 1), 0x00);
	assert_int_equal(in(f, RESET_CTL, 2), 0xFF00);
}

static void test_bus_reset_when_called_clears_pm1_and_lowers_sci(void **state)
{
	struct fixture *f = *state;

	out(f, PM1_EN, TMR_EN, 2);
	advance(f, 2343484438);
	out(f, PM1_CNT, SLP_TYP(3), 2);
	assert_int_equal(f->am.fm.level[9], 1);
	devices_bus_reset(&f->bus);
	assert_int_equal(f->am.fm.level[9], 0);
	assert_int_equal(in(f, PM1_STS, 4), 0);
	assert_int_equal(in(f, PM1_CNT, 2), SCI_EN);
	assert_int_equal(devices_bus_next_deadline(&f->bus), DEVICES_NEVER);
	assert_int_equal(in(f, PM_TMR, 4), 8388608);	/* the timer runs on */
}

/* ---- create and destroy ---- */

static void test_create_when_reset_port_taken_returns_null_and_unwinds(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *other;

	(void)state;
	devices_bus_init(&bus);
	other = devices_port80_create(&bus, RESET_CTL);
	assert_non_null(other);
	errno = 0;
	assert_null(devices_acpi_create(&bus, NULL));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bus.n, 1);
	assert_int_equal(bus.ntimers, 0);
	devices_port80_destroy(other);
}

static void no_fire(void *s, uint64_t now)
{
	(void)s;
	(void)now;
}

static void test_create_when_no_timer_slot_left_returns_null_enospc(void **state)
{
	struct devices_bus bus;
	struct devices_timer t[DEVICES_TIMERS_MAX];

	(void)state;
	devices_bus_init(&bus);
	for (int i = 0; i < DEVICES_TIMERS_MAX; i++) {
		t[i] = (struct devices_timer){ .deadline = DEVICES_NEVER, .fire = no_fire };
		assert_int_equal(devices_bus_add_timer(&bus, &t[i]), 0);
	}
	errno = 0;
	assert_null(devices_acpi_create(&bus, NULL));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(bus.n, 0);
}

static void test_destroy_when_called_leaves_the_bus(void **state)
{
	struct devices_bus bus;
	struct devices_acpi *a;

	(void)state;
	devices_bus_init(&bus);
	a = devices_acpi_create(&bus, NULL);
	assert_non_null(a);
	assert_int_equal(bus.n, 2);
	assert_int_equal(bus.ntimers, 1);
	devices_acpi_destroy(a);
	assert_int_equal(bus.n, 0);
	assert_int_equal(bus.ntimers, 0);
}

static void test_create_when_machine_null_still_works(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, PM_TMR, 4), 0);
	out(f, PM1_EN, TMR_EN, 2);
	out(f, PM1_CNT, SLP_TYP(S5_TYP) | SLP_EN, 2);
	out(f, RESET_CTL, 0x06, 1);
	assert_int_equal(in(f, PM1_CNT, 2), SLP_TYP(S5_TYP) | SCI_EN);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pm_timer_when_clock_moves_counts_3579545_hz_and_wraps_at_24_bits),
		T(test_pm_timer_when_read_by_bytes_and_words_matches_dword),
		T(test_pm_timer_when_written_is_unchanged),
		T(test_tmr_sts_when_bit_23_toggles_is_set_until_written_1),
		T(test_pm1_sts_when_written_with_ones_clears_only_status),
		T(test_pm1_en_when_written_keeps_the_defined_enable_bits),
		T(test_pm1_cnt_when_read_has_sci_en_and_keeps_slp_typ_and_bm_rld),
		T(test_block_when_unused_ports_read_they_float),
		T(test_slp_en_when_slp_typ_is_s5_ends_the_machine_with_status_0),
		T(test_slp_en_when_written_as_high_byte_with_s5_ends_the_machine),
		T(test_slp_en_when_slp_typ_is_not_s5_is_ignored),
		T(test_sci_when_tmr_en_set_rises_at_bit_23_toggle_and_drops_on_clear),
		T(test_sci_when_tmr_en_clear_stays_low_with_no_timer),
		T(test_sci_when_enabled_with_status_already_set_rises_at_once),
		T(test_reset_register_when_fadt_value_written_requests_reset),
		T(test_reset_register_when_bus_reset_reads_zero),
		T(test_bus_reset_when_called_clears_pm1_and_lowers_sci),
		cmocka_unit_test(test_create_when_reset_port_taken_returns_null_and_unwinds),
		cmocka_unit_test(test_create_when_no_timer_slot_left_returns_null_enospc),
		cmocka_unit_test(test_destroy_when_called_leaves_the_bus),
		cmocka_unit_test_setup_teardown(test_create_when_machine_null_still_works,
						setup_no_machine, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
