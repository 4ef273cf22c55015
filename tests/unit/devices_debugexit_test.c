/* tests/unit/devices_debugexit_test.c: isa-debug-exit status values, QEMU-compatible. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/devices.h"

#define DEBUGEXIT_PORT 0xF4

/* A machine that records exit requests. */
struct fake_machine {
	int exits;
	int status;
};

static void fake_request_exit(void *ctx, int status)
{
	struct fake_machine *fm = ctx;

	fm->exits++;
	fm->status = status;
}

/* Value written -> bt's exit status: (v << 1) | 1, as QEMU. */
static const struct { uint32_t value; int size; int status; } exit_status[] = {
	{ 0x00, 1, 0x01 },
	{ 0x01, 1, 0x03 },
	{ 0x10, 1, 0x21 },
	{ 0x10, 4, 0x21 },
	{ 0x7F, 1, 0xFF },
	{ 0x1234, 2, 0x2469 },
};

static void test_write_when_value_written_requests_exit_with_status_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_status) / sizeof(exit_status[0]); i++) {
		struct fake_machine fm = { 0 };
		struct devices_machine m = { .ctx = &fm, .request_exit = fake_request_exit };
		struct devices_bus bus;
		struct devices_debugexit *d;

		devices_bus_init(&bus);
		d = devices_debugexit_create(&bus, DEBUGEXIT_PORT, &m);
		assert_non_null(d);
		devices_bus_out(&bus, DEBUGEXIT_PORT, exit_status[i].value, exit_status[i].size);
		assert_int_equal(fm.exits, 1);
		assert_int_equal(fm.status, exit_status[i].status);
		devices_debugexit_destroy(d);
	}
}

static void test_write_when_0_requests_exit_1(void **state)
{
	struct fake_machine fm = { 0 };
	struct devices_machine m = { .ctx = &fm, .request_exit = fake_request_exit };
	struct devices_bus bus;
	struct devices_debugexit *d;

	(void)state;
	devices_bus_init(&bus);
	d = devices_debugexit_create(&bus, DEBUGEXIT_PORT, &m);
	devices_bus_out(&bus, DEBUGEXIT_PORT, 0, 1);
	assert_int_equal(fm.status, 1);
	devices_debugexit_destroy(d);
}

static void test_write_when_at_last_port_of_range_requests_exit(void **state)
{
	struct fake_machine fm = { 0 };
	struct devices_machine m = { .ctx = &fm, .request_exit = fake_request_exit };
	struct devices_bus bus;
	struct devices_debugexit *d;

	(void)state;
	devices_bus_init(&bus);
	d = devices_debugexit_create(&bus, DEBUGEXIT_PORT, &m);
	devices_bus_out(&bus, DEBUGEXIT_PORT + 3, 0x10, 1);
	assert_int_equal(fm.exits, 1);
	assert_int_equal(fm.status, 0x21);
	devices_debugexit_destroy(d);
}

static void test_read_when_any_size_returns_zero_without_exit(void **state)
{
	struct fake_machine fm = { 0 };
	struct devices_machine m = { .ctx = &fm, .request_exit = fake_request_exit };
	struct devices_bus bus;
	struct devices_debugexit *d;

	(void)state;
	devices_bus_init(&bus);
	d = devices_debugexit_create(&bus, DEBUGEXIT_PORT, &m);
	assert_int_equal(devices_bus_in(&bus, DEBUGEXIT_PORT, 1), 0);
	assert_int_equal(devices_bus_in(&bus, DEBUGEXIT_PORT, 2), 0);
	assert_int_equal(devices_bus_in(&bus, DEBUGEXIT_PORT, 4), 0);
	assert_int_equal(fm.exits, 0);
	devices_debugexit_destroy(d);
}

static void test_write_when_no_request_exit_is_ignored(void **state)
{
	struct devices_machine m = { 0 };
	struct devices_bus bus;
	struct devices_debugexit *d;

	(void)state;
	devices_bus_init(&bus);
	d = devices_debugexit_create(&bus, DEBUGEXIT_PORT, &m);
	assert_non_null(d);
	devices_bus_out(&bus, DEBUGEXIT_PORT, 1, 1);
	devices_debugexit_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_when_value_written_requests_exit_with_status_table),
		cmocka_unit_test(test_write_when_0_requests_exit_1),
		cmocka_unit_test(test_write_when_at_last_port_of_range_requests_exit),
		cmocka_unit_test(test_read_when_any_size_returns_zero_without_exit),
		cmocka_unit_test(test_write_when_no_request_exit_is_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
