/* Unit tests for monitor/guestmem.c: the physmap, phys helpers and the kernel view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "monitor/monitor.h"

#define MIB (1024ull * 1024)
#define TEST_RAM (16 * MIB)

static void test_init_when_valid_size_maps_zeroed_ram_above_4g(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_non_null(gm.physmap);
	assert_true(gm.memfd >= 0);
	assert_int_equal(gm.size, TEST_RAM);
	assert_true((uintptr_t)gm.physmap >= KVIEW_SIZE + KVIEW_GUARD);
	assert_int_equal(gm.physmap[0], 0);
	assert_int_equal(gm.physmap[TEST_RAM - 1], 0);
	monitor_guestmem_destroy(&gm);
}

static void test_init_when_called_sets_page_aligned_min_addr(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_true(gm.min_addr > 0);
	assert_int_equal(gm.min_addr % 4096, 0);
	monitor_guestmem_destroy(&gm);
}

static void test_init_when_size_not_page_multiple_fails_clean(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM + 1), -EINVAL);
	assert_null(gm.physmap);
	assert_int_equal(gm.memfd, -1);
	monitor_guestmem_destroy(&gm);	/* harmless on a failed init */
}

static void test_init_when_size_zero_fails(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, 0), -EINVAL);
}

static void test_physmap_when_written_reads_back_through_phys_read(void **state)
{
	struct guestmem gm;
	uint32_t v = 0;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	memcpy(gm.physmap + 0x123456, "\x78\x56\x34\x12", 4);
	assert_int_equal(monitor_phys_read(&gm, 0x123456, &v, sizeof(v)), 0);
	assert_int_equal(v, 0x12345678);
	monitor_guestmem_destroy(&gm);
}

static void test_phys_write_when_in_ram_lands_in_physmap(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_phys_write(&gm, TEST_RAM - 4, "abcd", 4), 0);
	assert_memory_equal(gm.physmap + TEST_RAM - 4, "abcd", 4);
	monitor_guestmem_destroy(&gm);
}

static void test_phys_read_when_past_end_returns_efault(void **state)
{
	struct guestmem gm;
	uint8_t buf[8];

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_phys_read(&gm, TEST_RAM - 4, buf, 8), -EFAULT);
	assert_int_equal(monitor_phys_read(&gm, TEST_RAM, buf, 1), -EFAULT);
	assert_int_equal(monitor_phys_read(&gm, TEST_RAM, buf, 0), 0);
	monitor_guestmem_destroy(&gm);
}

static void test_phys_write_when_range_wraps_returns_efault(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	/* gpa + n overflows 64 bits: must not pass a naive end check. */
	assert_int_equal(monitor_phys_write(&gm, UINT64_MAX - 1, "ab", 2), -EFAULT);
	assert_int_equal(monitor_phys_write(&gm, 4, "ab", SIZE_MAX), -EFAULT);
	monitor_guestmem_destroy(&gm);
}

static void test_phys_ptr_when_out_of_ram_returns_null(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_ptr_equal(monitor_phys_ptr(&gm, 0x1000, 16), gm.physmap + 0x1000);
	assert_null(monitor_phys_ptr(&gm, TEST_RAM - 8, 16));
	monitor_guestmem_destroy(&gm);
}

static void test_kview_reserve_when_free_claims_range(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_kview_reserve(&gm), 0);
	assert_true(gm.kview_reserved);
	/* The reservation holds: a no-replace mapping inside it is refused. */
	void *p = mmap((void *)(uintptr_t)0x40000000, 4096, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, EEXIST);
	monitor_guestmem_destroy(&gm);
}

static void test_kview_reserve_when_taken_returns_eexist(void **state)
{
	struct guestmem a, b;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&a, TEST_RAM), 0);
	assert_int_equal(monitor_guestmem_init(&b, TEST_RAM), 0);
	assert_int_equal(monitor_kview_reserve(&a), 0);
	assert_int_equal(monitor_kview_reserve(&b), -EEXIST);
	assert_false(b.kview_reserved);
	monitor_guestmem_destroy(&b);
	monitor_guestmem_destroy(&a);
}

static void test_kview_reserve_when_released_can_reserve_again(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_kview_reserve(&gm), 0);
	monitor_guestmem_destroy(&gm);
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_kview_reserve(&gm), 0);
	monitor_guestmem_destroy(&gm);
}

static void test_kview_conflict_message_when_taken_names_occupant(void **state)
{
	struct guestmem gm;
	char name[256], msg[512];
	void *blocker;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	blocker = mmap((void *)(uintptr_t)0x20000000, 4096, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	assert_ptr_equal(blocker, (void *)(uintptr_t)0x20000000);
	assert_int_equal(monitor_kview_reserve(&gm), -EEXIST);
	assert_int_equal(monitor_kview_occupant(&gm, name, sizeof(name)), 0);
	assert_string_equal(name, "anonymous memory");
	monitor_kview_conflict_message(&gm, msg, sizeof(msg));
	assert_non_null(strstr(msg, "needed for the guest kernel view is already mapped"));
	assert_non_null(strstr(msg, "(anonymous memory at 0x20000000)"));
	assert_null(strchr(msg, '\n'));
	munmap(blocker, 4096);
	monitor_guestmem_destroy(&gm);
}

static void test_kview_occupant_when_range_free_returns_enoent(void **state)
{
	struct guestmem gm;
	char name[256];

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_kview_occupant(&gm, name, sizeof(name)), -ENOENT);
	monitor_guestmem_destroy(&gm);
}

static void test_kview_map_identity_when_not_reserved_fails(void **state)
{
	struct guestmem gm;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_kview_map_identity(&gm), -EINVAL);
	monitor_guestmem_destroy(&gm);
}

static void test_kview_map_identity_when_mapped_shows_ram_at_physical_address(void **state)
{
	struct guestmem gm;
	volatile uint8_t *low;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_kview_reserve(&gm), 0);
	assert_int_equal(monitor_kview_map_identity(&gm), 0);
	memcpy(gm.physmap + 0x100000, "kernel", 7);
	low = (volatile uint8_t *)(uintptr_t)0x100000;
	assert_memory_equal((const void *)low, "kernel", 7);
	/* And the other way: a store through the kernel view reaches the physmap. */
	low = (volatile uint8_t *)(uintptr_t)(TEST_RAM - 1);
	*low = 0x5a;
	assert_int_equal(gm.physmap[TEST_RAM - 1], 0x5a);
	low = (volatile uint8_t *)(uintptr_t)gm.min_addr;
	*low = 0x33;
	assert_int_equal(gm.physmap[gm.min_addr], 0x33);
	monitor_guestmem_destroy(&gm);
}

static void test_kview_map_identity_when_mapped_leaves_rest_reserved(void **state)
{
	struct guestmem gm;
	void *p;

	(void)state;
	assert_int_equal(monitor_guestmem_init(&gm, TEST_RAM), 0);
	assert_int_equal(monitor_kview_reserve(&gm), 0);
	assert_int_equal(monitor_kview_map_identity(&gm), 0);
	/* Above RAM the PROT_NONE reservation is still in place. */
	p = mmap((void *)(uintptr_t)TEST_RAM, 4096, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	assert_true(p == MAP_FAILED);
	monitor_guestmem_destroy(&gm);
	/* After destroy the whole range is free again. */
	p = mmap((void *)(uintptr_t)0x100000, 4096, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	assert_ptr_equal(p, (void *)(uintptr_t)0x100000);
	munmap(p, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_when_valid_size_maps_zeroed_ram_above_4g),
		cmocka_unit_test(test_init_when_called_sets_page_aligned_min_addr),
		cmocka_unit_test(test_init_when_size_not_page_multiple_fails_clean),
		cmocka_unit_test(test_init_when_size_zero_fails),
		cmocka_unit_test(test_physmap_when_written_reads_back_through_phys_read),
		cmocka_unit_test(test_phys_write_when_in_ram_lands_in_physmap),
		cmocka_unit_test(test_phys_read_when_past_end_returns_efault),
		cmocka_unit_test(test_phys_write_when_range_wraps_returns_efault),
		cmocka_unit_test(test_phys_ptr_when_out_of_ram_returns_null),
		cmocka_unit_test(test_kview_reserve_when_free_claims_range),
		cmocka_unit_test(test_kview_reserve_when_taken_returns_eexist),
		cmocka_unit_test(test_kview_reserve_when_released_can_reserve_again),
		cmocka_unit_test(test_kview_conflict_message_when_taken_names_occupant),
		cmocka_unit_test(test_kview_occupant_when_range_free_returns_enoent),
		cmocka_unit_test(test_kview_map_identity_when_not_reserved_fails),
		cmocka_unit_test(test_kview_map_identity_when_mapped_shows_ram_at_physical_address),
		cmocka_unit_test(test_kview_map_identity_when_mapped_leaves_rest_reserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
