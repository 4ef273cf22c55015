/* tests/unit/devices_pci_test.c: PCI configuration mechanism #1 and the 440FX host bridge at 00:00.0, probed as Linux probes them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "devices/devices.h"

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC

struct fixture {
	struct devices_bus bus;
	struct devices_pci *p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	devices_bus_init(&f->bus);
	f->p = devices_pci_create(&f->bus, NULL);
	if (!f->p)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_pci_destroy(f->p);
	free(f);
	return 0;
}

/* CONFIG_ADDRESS for a type 0/1 configuration cycle, as Linux's
 * PCI_CONF1_ADDRESS builds it. */
static uint32_t conf1(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC);
}

/* Linux's pci_conf1_read/write: select the dword, then access the data
 * window at the register's byte offset within it. */
static uint32_t cfg_read(struct fixture *f, unsigned bus, unsigned dev, unsigned fn,
			 unsigned reg, int size)
{
	devices_bus_out(&f->bus, CONFIG_ADDRESS, conf1(bus, dev, fn, reg), 4);
	return devices_bus_in(&f->bus, (uint16_t)(CONFIG_DATA + (reg & 3)), size);
}

static void cfg_write(struct fixture *f, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
		      uint32_t v, int size)
{
	devices_bus_out(&f->bus, CONFIG_ADDRESS, conf1(bus, dev, fn, reg), 4);
	devices_bus_out(&f->bus, (uint16_t)(CONFIG_DATA + (reg & 3)), v, size);
}

static uint32_t host_read(struct fixture *f, unsigned reg, int size)
{
	return cfg_read(f, 0, 0, 0, reg, size);
}

static void host_write(struct fixture *f, unsigned reg, uint32_t v, int size)
{
	cfg_write(f, 0, 0, 0, reg, v, size);
}

/* The 82441FX's power-on configuration space, as the datasheet gives it. */
static const struct { unsigned reg; int size; uint32_t value; } host_defaults[] = {
	{ 0x00, 4, 0x12378086 },	/* device, vendor */
	{ 0x00, 2, 0x8086 },
	{ 0x02, 2, 0x1237 },
	{ 0x04, 2, 0x0006 },		/* PCICMD: memory, bus master */
	{ 0x06, 2, 0x0280 },		/* PCISTS: fast back-to-back, medium DEVSEL */
	{ 0x08, 4, 0x06000002 },	/* class 06 00 00, revision 02 */
	{ 0x0A, 2, 0x0600 },		/* what pci_sanity_check reads */
	{ 0x0C, 4, 0x00000000 },	/* BIST 0, header type 0 (single function), MLT 0 */
	{ 0x10, 4, 0 }, { 0x14, 4, 0 }, { 0x18, 4, 0 },	/* no BARs */
	{ 0x1C, 4, 0 }, { 0x20, 4, 0 }, { 0x24, 4, 0 },
	{ 0x2C, 4, 0 },			/* no subsystem IDs */
	{ 0x30, 4, 0 },			/* no expansion ROM */
	{ 0x34, 1, 0 },			/* no capabilities */
	{ 0x3C, 4, 0 },			/* no interrupt pin */
	{ 0x59, 1, 0x00 },		/* PAM0 */
	{ 0x72, 1, 0x02 },		/* SMRAM: C_BASE_SEG 010b */
};

static void test_host_bridge_when_read_gives_datasheet_defaults(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(host_defaults) / sizeof(host_defaults[0]); i++) {
		uint32_t got = host_read(f, host_defaults[i].reg, host_defaults[i].size);

		if (got != host_defaults[i].value)
			fail_msg("reg 0x%02x size %d: 0x%x, want 0x%x", host_defaults[i].reg,
				 host_defaults[i].size, got, host_defaults[i].value);
	}
}

/* arch/x86/pci/direct.c, pci_check_type1: a byte write to 0xCFB must not
 * disturb CONFIG_ADDRESS, which must then latch and read back a dword. */
static void test_linux_type1_probe_when_run_finds_mechanism_1(void **state)
{
	struct fixture *f = *state;
	uint32_t tmp;

	devices_bus_out(&f->bus, 0xCFB, 0x01, 1);
	tmp = devices_bus_in(&f->bus, CONFIG_ADDRESS, 4);
	devices_bus_out(&f->bus, CONFIG_ADDRESS, 0x80000000u, 4);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 4), 0x80000000u);
	devices_bus_out(&f->bus, CONFIG_ADDRESS, tmp, 4);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 4), tmp);
}

/* pci_check_type2 must fail: mechanism #2's byte registers at 0xCF8 and
 * 0xCFA do not exist, so they do not read back the 0 written. */
static void test_linux_type2_probe_when_run_finds_nothing(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, 0xCFB, 0x00, 1);
	devices_bus_out(&f->bus, 0xCF8, 0x00, 1);
	devices_bus_out(&f->bus, 0xCFA, 0x00, 1);
	assert_int_equal(devices_bus_in(&f->bus, 0xCF8, 1), 0xFF);
	assert_int_equal(devices_bus_in(&f->bus, 0xCFA, 1), 0xFF);
}

/* pci_sanity_check: some function on bus 0 must be a host bridge (class
 * 0x0600 at offset 0x0A) or an Intel/Compaq device.  Only 00:00.0 answers. */
static void test_sanity_check_when_bus0_scanned_finds_only_host_bridge(void **state)
{
	struct fixture *f = *state;
	int found = 0;

	for (unsigned devfn = 0; devfn < 256; devfn++) {
		uint32_t class = cfg_read(f, 0, devfn >> 3, devfn & 7, 0x0A, 2);
		uint32_t vendor = cfg_read(f, 0, devfn >> 3, devfn & 7, 0x00, 2);

		if (devfn == 0) {
			assert_int_equal(class, 0x0600);
			assert_int_equal(vendor, 0x8086);
			found++;
		} else {
			assert_int_equal(class, 0xFFFF);
			assert_int_equal(vendor, 0xFFFF);
		}
	}
	assert_int_equal(found, 1);
}

static void test_config_address_when_reserved_bits_written_reads_them_zero(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, CONFIG_ADDRESS, 0xFFFFFFFFu, 4);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 4), 0x80FFFFFCu);
	devices_bus_out(&f->bus, CONFIG_ADDRESS, 0x12345678u, 4);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 4), 0x00345678u);
}

static void test_config_address_when_accessed_as_byte_or_word_is_untouched(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, CONFIG_ADDRESS, conf1(0, 0, 0, 0x08), 4);
	devices_bus_out(&f->bus, CONFIG_ADDRESS, 0x00, 1);
	devices_bus_out(&f->bus, CONFIG_ADDRESS, 0x0000, 2);
	devices_bus_out(&f->bus, 0xCFA, 0x0000, 2);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 1), 0xFF);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 2), 0xFFFF);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 4), conf1(0, 0, 0, 0x08));
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_DATA, 4), 0x06000002);
}

static void test_data_when_window_disabled_reads_all_ones_and_drops_writes(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, CONFIG_ADDRESS, conf1(0, 0, 0, 0x04) & ~0x80000000u, 4);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_DATA, 4), 0xFFFFFFFFu);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_DATA + 2, 2), 0xFFFF);
	devices_bus_out(&f->bus, CONFIG_DATA, 0x0140, 2);
	assert_int_equal(host_read(f, 0x04, 2), 0x0006);
}

static const struct { unsigned bus, dev, fn; } absent[] = {
	{ 0, 0, 1 }, { 0, 0, 7 }, { 0, 1, 0 }, { 0, 2, 0 }, { 0, 31, 7 },
	{ 1, 0, 0 }, { 255, 31, 7 },
};

static void test_absent_function_when_read_returns_all_ones_at_every_size(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		assert_int_equal(cfg_read(f, absent[i].bus, absent[i].dev, absent[i].fn, 0x00, 4),
				 0xFFFFFFFFu);
		assert_int_equal(cfg_read(f, absent[i].bus, absent[i].dev, absent[i].fn, 0x0E, 1),
				 0xFF);
		assert_int_equal(cfg_read(f, absent[i].bus, absent[i].dev, absent[i].fn, 0x06, 2),
				 0xFFFF);
	}
}

static void test_absent_function_when_written_changes_nothing(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		cfg_write(f, absent[i].bus, absent[i].dev, absent[i].fn, 0x04, 0xFFFF, 2);
		cfg_write(f, absent[i].bus, absent[i].dev, absent[i].fn, 0x0D, 0xFF, 1);
	}
	assert_int_equal(host_read(f, 0x04, 2), 0x0006);
	assert_int_equal(host_read(f, 0x0D, 1), 0x00);
}

/* Everything read-only keeps its value under writes of all ones, the way
 * Linux sizes BARs (write ~0, read back, restore). */
static const unsigned read_only_dwords[] = {
	0x00, 0x08, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x3C,
	0x40, 0x50, 0x60, 0x90, 0xFC,
};

static void test_read_only_fields_when_written_with_ones_keep_their_values(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(read_only_dwords) / sizeof(read_only_dwords[0]); i++) {
		unsigned reg = read_only_dwords[i];
		uint32_t before = host_read(f, reg, 4);

		host_write(f, reg, 0xFFFFFFFFu, 4);
		if (host_read(f, reg, 4) != before)
			fail_msg("reg 0x%02x changed to 0x%x", reg, host_read(f, reg, 4));
	}
	host_write(f, 0x0E, 0xFF, 1);
	assert_int_equal(host_read(f, 0x0E, 1), 0x00);
}

/* Writes against the datasheet's writable bits: each row writes `v` at
 * `reg` from power-on, then reads `want` back at `reg` with `size`. */
static const struct { unsigned reg; int size; uint32_t v, want; } writes[] = {
	{ 0x04, 2, 0xFFFF, 0x0146 },		/* PCICMD: PERR#, SERR# enables only */
	{ 0x04, 2, 0x0000, 0x0006 },		/* memory, bus master hardwired */
	{ 0x06, 2, 0xFFFF, 0x0280 },		/* PCISTS: no error bit is ever set */
	{ 0x04, 4, 0xFFFFFFFFu, 0x02800146 },	/* command and status at once */
	{ 0x0D, 1, 0xFF, 0xF8 },		/* MLT: bits 7:3 */
	{ 0x0D, 1, 0x47, 0x40 },
	{ 0x59, 1, 0xFF, 0x30 },		/* PAM0: high nibble only */
	{ 0x5A, 1, 0xFF, 0x33 },		/* PAM1-6: bits 6 and 2 reserved */
	{ 0x5F, 1, 0xFF, 0x33 },
	{ 0x58, 4, 0xFFFFFFFFu, 0x33333000 },	/* DRAMT (0x58) is not modelled */
	{ 0x72, 1, 0xFF, 0x7A },		/* SMRAM: C_BASE_SEG stays 010b */
	{ 0x72, 1, 0x00, 0x02 },
};

static void test_writable_bits_when_written_match_datasheet_masks(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		uint32_t got;

		devices_bus_reset(&f->bus);
		host_write(f, writes[i].reg, writes[i].v, writes[i].size);
		got = host_read(f, writes[i].reg, writes[i].size);
		if (got != writes[i].want)
			fail_msg("reg 0x%02x <- 0x%x: 0x%x, want 0x%x", writes[i].reg, writes[i].v,
				 got, writes[i].want);
	}
}

static void test_sub_dword_when_bytes_and_words_read_match_the_dword(void **state)
{
	struct fixture *f = *state;
	static const unsigned regs[] = { 0x00, 0x04, 0x08, 0x0C, 0x58, 0x70 };

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint32_t d = host_read(f, regs[i], 4);

		for (unsigned b = 0; b < 4; b++)
			assert_int_equal(host_read(f, regs[i] + b, 1), (d >> (8 * b)) & 0xFF);
		assert_int_equal(host_read(f, regs[i], 2), d & 0xFFFF);
		assert_int_equal(host_read(f, regs[i] + 2, 2), d >> 16);
	}
}

static void test_sub_dword_when_byte_written_changes_only_that_byte(void **state)
{
	struct fixture *f = *state;

	host_write(f, 0x0D, 0xFF, 1);		/* MLT, inside the dword at 0x0C */
	assert_int_equal(host_read(f, 0x0C, 4), 0x0000F800);
}

/* Accesses running past 0xCFF: the bytes beyond the window are not the
 * bridge's (they float on reads, writes to them vanish). */
static void test_data_when_access_straddles_window_end_gets_only_window_bytes(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, CONFIG_ADDRESS, conf1(0, 0, 0, 0x00), 4);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_DATA + 3, 2), 0xFF12);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_DATA + 2, 4), 0xFFFF1237);
}

static void test_bus_reset_when_called_restores_power_on_state(void **state)
{
	struct fixture *f = *state;

	host_write(f, 0x04, 0xFFFF, 2);
	host_write(f, 0x5A, 0x33, 1);
	devices_bus_reset(&f->bus);
	assert_int_equal(devices_bus_in(&f->bus, CONFIG_ADDRESS, 4), 0);
	assert_int_equal(host_read(f, 0x04, 2), 0x0006);
	assert_int_equal(host_read(f, 0x5A, 1), 0x00);
}

/* 0xCF9 (the reset control register) and 0xCFA-0xCFB stay free. */
static void test_ports_when_created_claim_only_cf8_and_cfc_to_cff(void **state)
{
	struct fixture *f = *state;
	uint64_t before = f->bus.unclaimed_reads;

	devices_bus_in(&f->bus, 0xCF9, 1);
	devices_bus_in(&f->bus, 0xCFA, 1);
	devices_bus_in(&f->bus, 0xCFB, 1);
	devices_bus_in(&f->bus, 0xCF7, 1);
	devices_bus_in(&f->bus, 0xD00, 1);
	assert_int_equal(f->bus.unclaimed_reads - before, 5);
}

/* Another device on 0xCFE: the data window cannot be registered, and the
 * address port registered before it is given back. */
static void test_create_when_data_ports_taken_returns_null_and_unwinds(void **state)
{
	struct devices_bus bus;
	struct devices_port80 *other;

	(void)state;
	devices_bus_init(&bus);
	other = devices_port80_create(&bus, 0xCFE);
	assert_non_null(other);
	errno = 0;
	assert_null(devices_pci_create(&bus, NULL));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bus.n, 1);
	devices_port80_destroy(other);
}

static void test_destroy_when_called_leaves_the_bus(void **state)
{
	struct devices_bus bus;
	struct devices_pci *p;

	(void)state;
	devices_bus_init(&bus);
	p = devices_pci_create(&bus, NULL);
	assert_non_null(p);
	assert_int_equal(bus.n, 2);
	devices_pci_destroy(p);
	assert_int_equal(bus.n, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_host_bridge_when_read_gives_datasheet_defaults),
		T(test_linux_type1_probe_when_run_finds_mechanism_1),
		T(test_linux_type2_probe_when_run_finds_nothing),
		T(test_sanity_check_when_bus0_scanned_finds_only_host_bridge),
		T(test_config_address_when_reserved_bits_written_reads_them_zero),
		T(test_config_address_when_accessed_as_byte_or_word_is_untouched),
		T(test_data_when_window_disabled_reads_all_ones_and_drops_writes),
		T(test_absent_function_when_read_returns_all_ones_at_every_size),
		T(test_absent_function_when_written_changes_nothing),
		T(test_read_only_fields_when_written_with_ones_keep_their_values),
		T(test_writable_bits_when_written_match_datasheet_masks),
		T(test_sub_dword_when_bytes_and_words_read_match_the_dword),
		T(test_sub_dword_when_byte_written_changes_only_that_byte),
		T(test_data_when_access_straddles_window_end_gets_only_window_bytes),
		T(test_bus_reset_when_called_restores_power_on_state),
		T(test_ports_when_created_claim_only_cf8_and_cfc_to_cff),
		cmocka_unit_test(test_create_when_data_ports_taken_returns_null_and_unwinds),
		cmocka_unit_test(test_destroy_when_called_leaves_the_bus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
