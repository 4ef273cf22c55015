/* tests/unit/devices_port80_test.c: port 0x80 POST code latch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "devices/devices.h"

static void test_read_when_never_written_returns_zero(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port80_create(&bus, 0x80);
	assert_non_null(p);
	assert_int_equal(devices_bus_in(&bus, 0x80, 1), 0x00);
	devices_port80_destroy(p);
}

static void test_read_when_written_returns_last_code(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port80_create(&bus, 0x80);
	devices_bus_out(&bus, 0x80, 0x12, 1);
	devices_bus_out(&bus, 0x80, 0xAB, 1);
	assert_int_equal(devices_bus_in(&bus, 0x80, 1), 0xAB);
	devices_port80_destroy(p);
}

static void test_write_when_word_latches_low_byte(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port80_create(&bus, 0x80);
	devices_bus_out(&bus, 0x80, 0xBEEF, 2);
	assert_int_equal(devices_bus_in(&bus, 0x80, 1), 0xEF);
	devices_port80_destroy(p);
}

static void test_read_when_word_upper_byte_floats(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port80_create(&bus, 0x80);
	devices_bus_out(&bus, 0x80, 0x55, 1);
	assert_int_equal(devices_bus_in(&bus, 0x80, 2), 0xFF55);
	assert_int_equal(devices_bus_in(&bus, 0x80, 4), 0xFFFFFF55);
	devices_port80_destroy(p);
}

static void test_bus_reset_when_called_keeps_last_code(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port80_create(&bus, 0x80);
	devices_bus_out(&bus, 0x80, 0x42, 1);
	devices_bus_reset(&bus);
	assert_int_equal(devices_bus_in(&bus, 0x80, 1), 0x42);
	devices_port80_destroy(p);
}

static void test_neighbour_port_when_accessed_is_unclaimed(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port80_create(&bus, 0x80);
	devices_bus_out(&bus, 0x81, 0x42, 1);
	assert_int_equal(devices_bus_in(&bus, 0x80, 1), 0x00);
	assert_int_equal(bus.unclaimed_writes, 1);
	devices_port80_destroy(p);
}

static void test_create_when_port_taken_returns_null_eexist(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_port80_create(&bus, 0x80);
	errno = 0;
	assert_null(devices_port80_create(&bus, 0x80));
	assert_int_equal(errno, EEXIST);
	devices_port80_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_when_never_written_returns_zero),
		cmocka_unit_test(test_read_when_written_returns_last_code),
		cmocka_unit_test(test_write_when_word_latches_low_byte),
		cmocka_unit_test(test_read_when_word_upper_byte_floats),
		cmocka_unit_test(test_bus_reset_when_called_keeps_last_code),
		cmocka_unit_test(test_neighbour_port_when_accessed_is_unclaimed),
		cmocka_unit_test(test_create_when_port_taken_returns_null_eexist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
