/* tests/unit/devices_bus_test.c: I/O port bus registration and dispatch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "devices/devices.h"

/* A device that records what reached it. */
struct fake_dev {
	int reads, writes, resets;
	uint16_t offset;
	int size;
	uint32_t value;		/* last value written */
	uint32_t read_value;	/* what reads return */
};

static uint32_t fake_read(void *s, uint16_t offset, int size)
{
	struct fake_dev *d = s;

	d->reads++;
	d->offset = offset;
	d->size = size;
	return d->read_value;
}

static void fake_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct fake_dev *d = s;

	d->writes++;
	d->offset = offset;
	d->size = size;
	d->value = value;
}

static void fake_reset(void *s)
{
	((struct fake_dev *)s)->resets++;
}

static const struct devices_ops fake_ops = {
	.name = "fake", .read = fake_read, .write = fake_write, .reset = fake_reset,
};

static const struct devices_ops fake_ops_noreset = {
	.name = "fake-noreset", .read = fake_read, .write = fake_write,
};

/* Ranges tried against an existing [0x3F8, 0x400). */
static const struct { uint16_t base, len; } overlapping[] = {
	{ 0x3F8, 8 },	/* identical */
	{ 0x3F0, 9 },	/* covers the first port */
	{ 0x3FF, 4 },	/* covers the last port */
	{ 0x3FA, 2 },	/* inside */
	{ 0x300, 0x200 },	/* around */
};

static void test_register_when_overlapping_returns_eexist(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 }, b = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	for (size_t i = 0; i < sizeof(overlapping) / sizeof(overlapping[0]); i++)
		assert_int_equal(devices_bus_register(&bus, overlapping[i].base,
						      overlapping[i].len, &fake_ops, &b),
				 -EEXIST);
	assert_int_equal(bus.n, 1);
}

static void test_register_when_adjacent_succeeds(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x3F0, 8, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x400, 1, &fake_ops, &a), 0);
	assert_int_equal(bus.n, 3);
}

static void test_unregister_when_registered_frees_range_keeps_others(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 }, b = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x60, 1, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x64, 1, &fake_ops, &b), 0);
	assert_int_equal(devices_bus_unregister(&bus, 0x60), 0);
	assert_int_equal(bus.n, 1);
	assert_int_equal(devices_bus_in(&bus, 0x60, 1), 0xFF);
	assert_int_equal(a.reads, 0);
	b.read_value = 0x12;
	assert_int_equal(devices_bus_in(&bus, 0x64, 1), 0x12);
	assert_int_equal(devices_bus_register(&bus, 0x60, 1, &fake_ops, &b), 0);
}

static void test_unregister_when_not_a_base_returns_enoent(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_unregister(&bus, 0x3F8), -ENOENT);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_unregister(&bus, 0x3F9), -ENOENT);
	assert_int_equal(devices_bus_unregister(&bus, 0x3F0), -ENOENT);
	assert_int_equal(bus.n, 1);
}

static void test_register_when_len_zero_returns_einval(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x80, 0, &fake_ops, &a), -EINVAL);
	assert_int_equal(bus.n, 0);
}

static void test_register_when_past_ffff_returns_einval(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0xFFF8, 9, &fake_ops, &a), -EINVAL);
	assert_int_equal(bus.n, 0);
}

static void test_register_when_ending_at_ffff_succeeds(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0xFFF8, 8, &fake_ops, &a), 0);
	devices_bus_out(&bus, 0xFFFF, 0x5A, 1);
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.offset, 7);
}

static void test_register_when_full_returns_enospc(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	for (int i = 0; i < DEVICES_BUS_MAX; i++)
		assert_int_equal(devices_bus_register(&bus, (uint16_t)(i * 2), 1, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x1000, 1, &fake_ops, &a), -ENOSPC);
	assert_int_equal(bus.n, DEVICES_BUS_MAX);
}

static void test_register_when_out_of_order_keeps_table_sorted(void **state)
{
	static const uint16_t bases[] = { 0x3F8, 0x60, 0x2F8, 0x20, 0xF4, 0x80 };
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		assert_int_equal(devices_bus_register(&bus, bases[i], 2, &fake_ops, &a), 0);
	for (int i = 1; i < bus.n; i++)
		assert_true(bus.r[i - 1].base < bus.r[i].base);
}

static void test_in_when_claimed_passes_offset_from_base(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { .read_value = 0x42 }, b = { .read_value = 0x99 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x2F8, 8, &fake_ops, &b), 0);
	assert_int_equal(devices_bus_in(&bus, 0x3FD, 1), 0x42);
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.offset, 5);
	assert_int_equal(b.reads, 0);
}

static void test_out_when_claimed_passes_offset_and_value(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 }, b = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x2F8, 8, &fake_ops, &b), 0);
	devices_bus_out(&bus, 0x2F8, 'x', 1);
	assert_int_equal(b.writes, 1);
	assert_int_equal(b.offset, 0);
	assert_int_equal(b.value, 'x');
	assert_int_equal(b.size, 1);
	assert_int_equal(a.writes, 0);
}

static void test_in_when_dword_claimed_reaches_device_as_one_access(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { .read_value = 0x12345678 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0xCF8, 4, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_in(&bus, 0xCF8, 4), 0x12345678);
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.size, 4);
}

static void test_in_when_word_claimed_masks_result_to_size(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { .read_value = 0x12345678 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0xCF8, 4, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_in(&bus, 0xCFA, 2), 0x5678);
	assert_int_equal(a.offset, 2);
	assert_int_equal(a.size, 2);
}

static void test_out_when_byte_masks_value_to_size(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x80, 1, &fake_ops, &a), 0);
	devices_bus_out(&bus, 0x80, 0xABCD, 1);
	assert_int_equal(a.value, 0xCD);
}

/* Expected floating-bus value per access size. */
static const struct { int size; uint32_t value; } unclaimed_reads[] = {
	{ 1, 0xFF }, { 2, 0xFFFF }, { 4, 0xFFFFFFFF },
};

static void test_in_when_unclaimed_returns_all_ones_and_counts(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { .read_value = 0 };
	size_t n = sizeof(unclaimed_reads) / sizeof(unclaimed_reads[0]);

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(devices_bus_in(&bus, 0x400, unclaimed_reads[i].size),
				 unclaimed_reads[i].value);
	assert_int_equal(bus.unclaimed_reads, n);
	assert_int_equal(bus.unclaimed_writes, 0);
	assert_int_equal(a.reads, 0);
}

static void test_in_when_between_ranges_is_unclaimed(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 }, b = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x20, 2, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x40, 4, &fake_ops, &b), 0);
	assert_int_equal(devices_bus_in(&bus, 0x22, 1), 0xFF);
	assert_int_equal(devices_bus_in(&bus, 0x3F, 1), 0xFF);
	assert_int_equal(bus.unclaimed_reads, 2);
	assert_int_equal(a.reads + b.reads, 0);
}

static void test_out_when_unclaimed_is_dropped_and_counted(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	devices_bus_out(&bus, 0x3F7, 1, 1);
	devices_bus_out(&bus, 0x1234, 0xFFFF, 2);
	assert_int_equal(bus.unclaimed_writes, 2);
	assert_int_equal(bus.unclaimed_reads, 0);
	assert_int_equal(a.writes, 0);
}

static void test_reset_when_called_resets_each_device_once(void **state)
{
	struct devices_bus bus;
	struct fake_dev a = { 0 }, b = { 0 }, c = { 0 };

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, 0x3F8, 8, &fake_ops, &a), 0);
	assert_int_equal(devices_bus_register(&bus, 0x80, 1, &fake_ops_noreset, &c), 0);
	assert_int_equal(devices_bus_register(&bus, 0x2F8, 8, &fake_ops, &b), 0);
	devices_bus_reset(&bus);
	assert_int_equal(a.resets, 1);
	assert_int_equal(b.resets, 1);
	assert_int_equal(c.resets, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_when_overlapping_returns_eexist),
		cmocka_unit_test(test_register_when_adjacent_succeeds),
		cmocka_unit_test(test_unregister_when_registered_frees_range_keeps_others),
		cmocka_unit_test(test_unregister_when_not_a_base_returns_enoent),
		cmocka_unit_test(test_register_when_len_zero_returns_einval),
		cmocka_unit_test(test_register_when_past_ffff_returns_einval),
		cmocka_unit_test(test_register_when_ending_at_ffff_succeeds),
		cmocka_unit_test(test_register_when_full_returns_enospc),
		cmocka_unit_test(test_register_when_out_of_order_keeps_table_sorted),
		cmocka_unit_test(test_in_when_claimed_passes_offset_from_base),
		cmocka_unit_test(test_out_when_claimed_passes_offset_and_value),
		cmocka_unit_test(test_in_when_dword_claimed_reaches_device_as_one_access),
		cmocka_unit_test(test_in_when_word_claimed_masks_result_to_size),
		cmocka_unit_test(test_out_when_byte_masks_value_to_size),
		cmocka_unit_test(test_in_when_unclaimed_returns_all_ones_and_counts),
		cmocka_unit_test(test_in_when_between_ranges_is_unclaimed),
		cmocka_unit_test(test_out_when_unclaimed_is_dropped_and_counted),
		cmocka_unit_test(test_reset_when_called_resets_each_device_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
