/* tests/unit/devices_port92_test.c: System Control Port A (0x92), fast A20 and fast reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "devices/devices.h"
#include "devices_fake_machine.h"

#define PORT92 0x92

struct fixture {
	struct devices_bus bus;
	struct fake_machine fm;
	struct devices_machine m;
	struct devices_port92 *p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->m = fake_machine_init(&f->fm);
	devices_bus_init(&f->bus);
	f->p = devices_port92_create(&f->bus, &f->m);
	if (!f->p)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_port92_destroy(f->p);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f)
{
	return (uint8_t)devices_bus_in(&f->bus, PORT92, 1);
}

static void wr(struct fixture *f, uint8_t v)
{
	devices_bus_out(&f->bus, PORT92, v, 1);
}

static void test_read_when_never_written_returns_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f), 0x00);
	assert_int_equal(devices_port92_a20(f->p), 0);
}

static void test_a20_bit_when_changed_calls_set_a20_once(void **state)
{
	struct fixture *f = *state;

	wr(f, 0x02);
	assert_int_equal(f->fm.a20_calls, 1);
	assert_int_equal(f->fm.a20, 1);
	assert_int_equal(devices_port92_a20(f->p), 1);
	assert_int_equal(rd(f), 0x02);
	wr(f, 0x02);
	assert_int_equal(f->fm.a20_calls, 1);
	wr(f, 0x00);
	assert_int_equal(f->fm.a20_calls, 2);
	assert_int_equal(f->fm.a20, 0);
	assert_int_equal(devices_port92_a20(f->p), 0);
	assert_int_equal(f->fm.resets, 0);
}

static void test_reset_bit_when_rising_requests_reset_and_reads_back(void **state)
{
	struct fixture *f = *state;

	wr(f, 0x01);
	assert_int_equal(f->fm.resets, 1);
	assert_int_equal(rd(f), 0x01);
	wr(f, 0x01);			/* still 1: no new edge */
	assert_int_equal(f->fm.resets, 1);
	wr(f, 0x00);
	assert_int_equal(f->fm.resets, 1);
	wr(f, 0x01);
	assert_int_equal(f->fm.resets, 2);
	assert_int_equal(f->fm.a20_calls, 0);
}

static void test_write_when_a20_and_reset_rise_together_does_both(void **state)
{
	struct fixture *f = *state;

	wr(f, 0x03);
	assert_int_equal(f->fm.a20_calls, 1);
	assert_int_equal(f->fm.a20, 1);
	assert_int_equal(f->fm.resets, 1);
}

static void test_other_bits_when_written_latch_without_callbacks(void **state)
{
	struct fixture *f = *state;

	wr(f, 0xC8);
	assert_int_equal(rd(f), 0xC8);
	assert_int_equal(f->fm.a20_calls, 0);
	assert_int_equal(f->fm.resets, 0);
}

static void test_wide_access_when_made_touches_only_port_92(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, PORT92, 0xFF02, 2);
	assert_int_equal(rd(f), 0x02);
	assert_int_equal(devices_bus_in(&f->bus, PORT92, 2), 0xFF02);
	assert_int_equal(devices_bus_in(&f->bus, PORT92, 4), 0xFFFFFF02);
}

static void test_bus_reset_when_called_clears_latch_silently(void **state)
{
	struct fixture *f = *state;

	wr(f, 0x02);
	devices_bus_reset(&f->bus);
	assert_int_equal(rd(f), 0x00);
	assert_int_equal(f->fm.a20_calls, 1);
	wr(f, 0x01);			/* a fresh rising edge after reset */
	assert_int_equal(f->fm.resets, 1);
}

static void test_create_when_port_taken_returns_null_eexist(void **state)
{
	struct fixture *f = *state;

	errno = 0;
	assert_null(devices_port92_create(&f->bus, &f->m));
	assert_int_equal(errno, EEXIST);
}

static void test_create_when_machine_null_still_works(void **state)
{
	struct devices_bus bus;
	struct devices_port92 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port92_create(&bus, NULL);
	assert_non_null(p);
	devices_bus_out(&bus, PORT92, 0x03, 1);
	assert_int_equal(devices_bus_in(&bus, PORT92, 1), 0x03);
	devices_port92_destroy(p);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_read_when_never_written_returns_zero),
		T(test_a20_bit_when_changed_calls_set_a20_once),
		T(test_reset_bit_when_rising_requests_reset_and_reads_back),
		T(test_write_when_a20_and_reset_rise_together_does_both),
		T(test_other_bits_when_written_latch_without_callbacks),
		T(test_wide_access_when_made_touches_only_port_92),
		T(test_bus_reset_when_called_clears_latch_silently),
		T(test_create_when_port_taken_returns_null_eexist),
		cmocka_unit_test(test_create_when_machine_null_still_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
