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

/* ---- the tables ---- */

/* Guest RAM for the table builder.  It writes only the tables' range, so
 * a buffer ending there stands for RAM of any larger `ram_size`. */
#define TABLES_END (DEVICES_ACPI_TABLES_BASE + DEVICES_ACPI_TABLES_SIZE)
#define RAM_16M (16u << 20)

static uint8_t *build(size_t ram_size)
{
	uint8_t *ram = malloc(TABLES_END + 1);

	assert_non_null(ram);
	memset(ram, 0xAA, TABLES_END + 1);
	assert_int_equal(devices_acpi_build_tables(ram, ram_size), 0);
	return ram;
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | get16(p + 2) << 16;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* ACPICA's acpi_tb_scan_memory_for_rsdp over 0xE0000-0xFFFFF, as Linux
 * runs it when the boot loader gives no RSDP address: every 16-byte
 * boundary, the signature, then the checksum of the first 20 bytes. */
static uint32_t scan_rsdp(const uint8_t *ram, int *found)
{
	uint32_t at = 0;

	*found = 0;
	for (uint32_t a = 0xE0000; a < 0x100000 && a + 20 <= TABLES_END; a += 16) {
		if (memcmp(ram + a, "RSD PTR ", 8) == 0 && sum8(ram + a, 20) == 0) {
			(*found)++;
			at = a;
		}
	}
	return at;
}

/* The tables, reached as an OS reaches them. */
struct tables {
	uint32_t rsdp, rsdt, fadt, facs, dsdt;
};

static struct tables find_tables(const uint8_t *ram)
{
	struct tables t;
	int found;

	t.rsdp = scan_rsdp(ram, &found);
	assert_int_equal(found, 1);
	t.rsdt = get32(ram + t.rsdp + 16);
	assert_int_equal(get32(ram + t.rsdt + 4), 36 + 4);	/* one entry */
	t.fadt = get32(ram + t.rsdt + 36);
	t.facs = get32(ram + t.fadt + 36);
	t.dsdt = get32(ram + t.fadt + 40);
	return t;
}

static void test_rsdp_when_scanned_like_linux_is_found_once_at_the_range_start(void **state)
{
	uint8_t *ram = build(RAM_16M);
	int found;

	(void)state;
	assert_int_equal(scan_rsdp(ram, &found), DEVICES_ACPI_RSDP_ADDR);
	assert_int_equal(found, 1);
	assert_int_equal(ram[DEVICES_ACPI_RSDP_ADDR + 15], 0);	/* revision 0: RSDT */
	assert_memory_equal(ram + DEVICES_ACPI_RSDP_ADDR + 9, "BT    ", 6);
	free(ram);
}

/* Signature, length (0: any) and revision of each table; every table but
 * the FACS (which has no checksum) sums to 0 over its length. */
static const struct { const char *sig; uint32_t len; uint8_t rev; } table_ids[] = {
	{ "RSDT", 40, 1 },
	{ "FACP", 244, 4 },
	{ "FACS", 64, 0 },
	{ "DSDT", 0, 2 },
};

static void test_tables_when_built_have_their_ids_lengths_and_sum_to_zero(void **state)
{
	uint8_t *ram = build(RAM_16M);
	struct tables t = find_tables(ram);
	uint32_t at[] = { t.rsdt, t.fadt, t.facs, t.dsdt };

	(void)state;
	for (size_t i = 0; i < sizeof(table_ids) / sizeof(table_ids[0]); i++) {
		const uint8_t *p = ram + at[i];
		uint32_t len = get32(p + 4);

		assert_memory_equal(p, table_ids[i].sig, 4);
		if (table_ids[i].len)
			assert_int_equal(len, table_ids[i].len);
		if (strcmp(table_ids[i].sig, "FACS") == 0) {
			assert_int_equal(p[32], 1);		/* FACS version */
			continue;
		}
		assert_true(len >= 36);
		assert_int_equal(p[8], table_ids[i].rev);
		assert_int_equal(sum8(p, len), 0);
	}
	free(ram);
}

static void test_tables_when_built_lie_in_the_range_and_zero_the_rest(void **state)
{
	uint8_t *ram = build(RAM_16M);
	struct tables t = find_tables(ram);
	uint32_t dsdt_end = t.dsdt + get32(ram + t.dsdt + 4);

	(void)state;
	assert_int_equal(t.rsdp % 16, 0);
	assert_int_equal(t.facs % 64, 0);
	assert_true(t.rsdt >= DEVICES_ACPI_TABLES_BASE && t.rsdt + 40 <= TABLES_END);
	assert_true(t.fadt >= DEVICES_ACPI_TABLES_BASE && t.fadt + 244 <= TABLES_END);
	assert_true(t.facs >= DEVICES_ACPI_TABLES_BASE && t.facs + 64 <= TABLES_END);
	assert_true(t.dsdt >= DEVICES_ACPI_TABLES_BASE && dsdt_end <= TABLES_END);
	for (uint32_t a = dsdt_end; a < TABLES_END; a++)
		assert_int_equal(ram[a], 0);
	assert_int_equal(ram[DEVICES_ACPI_TABLES_BASE - 1], 0xAA);
	assert_int_equal(ram[TABLES_END], 0xAA);
	free(ram);
}

/* FADT fields (offset, size, value), ACPI 6.0 §5.2.9. */
static const struct { unsigned off, size; uint32_t value; const char *name; } fadt_fields[] = {
	{ 45, 1, 0, "Preferred_PM_Profile" },
	{ 46, 2, 9, "SCI_INT" },
	{ 48, 4, 0, "SMI_CMD" },
	{ 52, 1, 0, "ACPI_ENABLE" },
	{ 53, 1, 0, "ACPI_DISABLE" },
	{ 56, 4, PM1_STS, "PM1a_EVT_BLK" },
	{ 60, 4, 0, "PM1b_EVT_BLK" },
	{ 64, 4, PM1_CNT, "PM1a_CNT_BLK" },
	{ 68, 4, 0, "PM1b_CNT_BLK" },
	{ 72, 4, 0, "PM2_CNT_BLK" },
	{ 76, 4, PM_TMR, "PM_TMR_BLK" },
	{ 80, 4, 0, "GPE0_BLK" },
	{ 84, 4, 0, "GPE1_BLK" },
	{ 88, 1, 4, "PM1_EVT_LEN" },
	{ 89, 1, 2, "PM1_CNT_LEN" },
	{ 90, 1, 0, "PM2_CNT_LEN" },
	{ 91, 1, 4, "PM_TMR_LEN" },
	{ 92, 1, 0, "GPE0_BLK_LEN" },
	{ 93, 1, 0, "GPE1_BLK_LEN" },
	{ 96, 2, 101, "P_LVL2_LAT (no C2)" },
	{ 98, 2, 1001, "P_LVL3_LAT (no C3)" },
	{ 108, 1, 0x32, "CENTURY" },
	{ 109, 2, 0x000F, "IAPC_BOOT_ARCH: legacy devices, 8042, no VGA, no MSI" },
	/* WBINVD, PROC_C1, PWR_BUTTON, SLP_BUTTON, FIX_RTC, RESET_REG_SUP;
	 * TMR_VAL_EXT (bit 8) and HW_REDUCED_ACPI (bit 20) clear. */
	{ 112, 4, 0x00000475, "Flags" },
	{ 116, 1, 1, "RESET_REG space: system I/O" },
	{ 117, 1, 8, "RESET_REG bit width" },
	{ 118, 1, 0, "RESET_REG bit offset" },
	{ 119, 1, 1, "RESET_REG access size: byte" },
	{ 120, 4, RESET_CTL, "RESET_REG address" },
	{ 124, 4, 0, "RESET_REG address, high" },
	{ 128, 1, 0x06, "RESET_VALUE" },
	{ 132, 4, 0, "X_FIRMWARE_CTRL" },
	{ 140, 4, 0, "X_DSDT" },
	{ 148, 4, 0, "X_PM1a_EVT_BLK" },
	{ 208, 4, 0, "X_PM_TMR_BLK" },
};

static void test_fadt_when_built_describes_the_fixed_hardware(void **state)
{
	uint8_t *ram = build(RAM_16M);
	struct tables t = find_tables(ram);

	(void)state;
	for (size_t i = 0; i < sizeof(fadt_fields) / sizeof(fadt_fields[0]); i++) {
		const uint8_t *p = ram + t.fadt + fadt_fields[i].off;
		uint32_t v = fadt_fields[i].size == 1 ? p[0] :
			     fadt_fields[i].size == 2 ? get16(p) : get32(p);

		if (v != fadt_fields[i].value)
			fail_msg("FADT %s: 0x%x, want 0x%x", fadt_fields[i].name, v,
				 fadt_fields[i].value);
	}
	assert_memory_equal(ram + t.facs, "FACS", 4);
	assert_memory_equal(ram + t.dsdt, "DSDT", 4);
	free(ram);
}

/* The ports the FADT names answer as it says, on a live device. */
static void test_fadt_when_followed_reaches_the_pm_timer_and_reset_register(void **state)
{
	struct fixture *f = *state;
	uint8_t *ram = build(RAM_16M);
	struct tables t = find_tables(ram);
	const uint8_t *fadt = ram + t.fadt;

	f->am.fm.now = 1000000000;
	assert_int_equal(in(f, (uint16_t)get32(fadt + 76), 4), 3579545);
	out(f, (uint16_t)get32(fadt + 120), fadt[128], 1);
	assert_int_equal(f->am.fm.resets, 1);
	free(ram);
}

/*
 * The DSDT's AML for 16 MiB of RAM, assembled by hand from §20.2 and
 * §6.4; iasl -d shows it as
 *   Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
 *   Scope (_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03"))
 *     Name (_UID, Zero) Name (_CRS, ResourceTemplate () { ... }) } }
 */
static const uint8_t dsdt_16m[] = {
	0x08, '_', 'S', '5', '_',		/* NameOp "_S5_" */
	0x12, 0x08, 0x04,			/* PackageOp, PkgLength 8, 4 elements */
	0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00,	/* 5, 5, Zero, Zero */
	0x10, 0x4C, 0x07, '_', 'S', 'B', '_',	/* ScopeOp, PkgLength 0x7C, "_SB_" */
	0x5B, 0x82, 0x44, 0x07, 'P', 'C', 'I', '0',	/* DeviceOp, PkgLength 0x74 */
	0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03,	/* EisaId PNP0A03 */
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x48, 0x05, 0x0A, 0x54,	/* Buffer (0x54) */
	/* WordBusNumber: 0x00-0xFF */
	0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x00,
	0x00, 0x00, 0x00, 0x01,
	/* IO (Decode16, 0xCF8, 0xCF8, 1, 8) */
	0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08,
	/* WordIO: 0x0000-0x0CF7, 0x0D00-0xFFFF */
	0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x00, 0xF7, 0x0C,
	0x00, 0x00, 0xF8, 0x0C,
	0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x0D, 0xFF, 0xFF,
	0x00, 0x00, 0x00, 0xF3,
	/* DWordMemory: 0x01000000-0xFEBFFFFF, read/write, non-cacheable */
	0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0xFF, 0xFF, 0xBF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xC0, 0xFD,
	0x79, 0x00,				/* end tag */
};

static void test_dsdt_when_built_for_16m_is_the_hand_assembled_aml(void **state)
{
	uint8_t *ram = build(RAM_16M);
	struct tables t = find_tables(ram);

	(void)state;
	assert_int_equal(get32(ram + t.dsdt + 4), 36 + sizeof(dsdt_16m));
	assert_memory_equal(ram + t.dsdt + 36, dsdt_16m, sizeof(dsdt_16m));
	free(ram);
}

/* The DWordMemory descriptor in _CRS, or NULL. */
static const uint8_t *find_mem_window(const uint8_t *ram, const struct tables *t)
{
	const uint8_t *d = ram + t->dsdt;
	uint32_t len = get32(d + 4);

	for (uint32_t i = 36; i + 26 <= len; i++)
		if (d[i] == 0x87 && d[i + 1] == 0x17 && d[i + 2] == 0x00 && d[i + 3] == 0x00)
			return d + i;
	return NULL;
}

static void test_dsdt_when_ram_is_not_mib_aligned_starts_pci_memory_at_next_mib(void **state)
{
	uint8_t *ram = build(0x0FF00001);
	struct tables t = find_tables(ram);
	const uint8_t *w = find_mem_window(ram, &t);

	(void)state;
	assert_non_null(w);
	assert_int_equal(get32(w + 10), 0x10000000);
	assert_int_equal(get32(w + 14), 0xFEBFFFFF);
	assert_int_equal(get32(w + 22), 0xFEC00000 - 0x10000000);
	assert_int_equal(sum8(ram + t.dsdt, get32(ram + t.dsdt + 4)), 0);
	free(ram);
}

static void test_dsdt_when_ram_reaches_0xfec00000_has_no_pci_memory_window(void **state)
{
	uint8_t *ram = build(0xFEC00000);
	struct tables t = find_tables(ram);

	(void)state;
	assert_null(find_mem_window(ram, &t));
	/* 26 bytes fewer, and _CRS's PkgLength shrinks to one byte. */
	assert_int_equal(get32(ram + t.dsdt + 4), 36 + sizeof(dsdt_16m) - 26 - 1);
	assert_int_equal(sum8(ram + t.dsdt, get32(ram + t.dsdt + 4)), 0);
	free(ram);
}

/* One Integer of a package (§20.2.3): ZeroOp, OneOp or BytePrefix. */
static unsigned aml_small_integer(const uint8_t **p)
{
	unsigned v;

	switch (**p) {
	case 0x00: v = 0; break;
	case 0x01: v = 1; break;
	case 0x0A: v = (*p)[1]; (*p)++; break;
	default: fail_msg("not a small AML integer: 0x%02x", **p); return 0;
	}
	(*p)++;
	return v;
}

/* Do what ACPICA's acpi_enter_sleep_state does for S5, from the tables
 * alone: \_S5's first element is SLP_TYPa, written to the FADT's PM1a_CNT
 * first alone, then with SLP_EN. */
static void test_s5_when_taken_from_the_tables_powers_the_machine_off(void **state)
{
	struct fixture *f = *state;
	uint8_t *ram = build(RAM_16M);
	struct tables t = find_tables(ram);
	const uint8_t *d = ram + t.dsdt, *p = NULL;
	uint16_t cnt = (uint16_t)get32(ram + t.fadt + 64);
	unsigned typ;

	for (uint32_t i = 36; i + 8 <= get32(d + 4); i++)
		if (memcmp(d + i, "\x08_S5_\x12", 6) == 0)
			p = d + i + 6;
	assert_non_null(p);
	assert_true(p[0] < 0x40);			/* one-byte PkgLength */
	assert_int_equal(p[1], 4);			/* NumElements */
	p += 2;
	typ = aml_small_integer(&p);
	assert_int_equal(aml_small_integer(&p), typ);	/* SLP_TYPb */
	assert_int_equal(ram[t.fadt + 89], 2);		/* PM1_CNT_LEN: 16-bit writes */
	out(f, cnt, SLP_TYP(typ), 2);
	assert_int_equal(f->am.exits, 0);
	out(f, cnt, SLP_TYP(typ) | SLP_EN, 2);
	assert_int_equal(f->am.exits, 1);
	assert_int_equal(f->am.status, 0);
	free(ram);
}

static void test_build_when_ram_does_not_cover_the_range_returns_einval(void **state)
{
	uint8_t *ram = calloc(1, TABLES_END);

	(void)state;
	assert_non_null(ram);
	assert_int_equal(devices_acpi_build_tables(ram, TABLES_END - 1), -EINVAL);
	assert_int_equal(devices_acpi_build_tables(NULL, RAM_16M), -EINVAL);
	assert_int_equal(sum8(ram, TABLES_END), 0);	/* nothing written */
	free(ram);
}

/* ---- iasl and acpiexec (acpica-tools), an independent AML toolchain, when installed ---- */

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* The whole file, NUL-terminated; *n is its length without the NUL. */
static char *read_file(const char *dir, const char *name, size_t *n)
{
	char path[256];
	FILE *fp;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("iasl did not write %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len >= 0);
	rewind(fp);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	buf[len] = '\0';
	fclose(fp);
	*n = (size_t)len;
	return buf;
}

static int run(const char *dir, const char *cmd)
{
	char line[512];

	snprintf(line, sizeof(line), "cd '%s' && %s >>iasl.log 2>&1", dir, cmd);
	return system(line);
}

/*
 * iasl -d disassembles each table (it flags a bad checksum with "Incorrect
 * checksum"), and the DSDT's disassembly compiled again must give our AML
 * byte for byte: every PkgLength, name and descriptor is as iasl makes it.
 * Done for both DSDT shapes (with and without the PCI memory window).
 */
static void check_with_iasl(const char *dir, size_t ram_size)
{
	static const char *const dsl[] = { "dsdt.dsl", "facp.dsl", "rsdt.dsl", "facs.dsl" };
	uint8_t *ram = build(ram_size);
	struct tables t = find_tables(ram);
	uint32_t dsdt_len = get32(ram + t.dsdt + 4);
	size_t n;
	char *text, *aml;

	assert_int_equal(run(dir, "rm -f -- *.dat *.dsl *.aml"), 0);	/* the last call's */
	write_file(dir, "dsdt.dat", ram + t.dsdt, dsdt_len);
	write_file(dir, "facp.dat", ram + t.fadt, get32(ram + t.fadt + 4));
	write_file(dir, "rsdt.dat", ram + t.rsdt, get32(ram + t.rsdt + 4));
	write_file(dir, "facs.dat", ram + t.facs, get32(ram + t.facs + 4));
	assert_int_equal(run(dir, "iasl -d dsdt.dat facp.dat rsdt.dat facs.dat"), 0);
	for (size_t i = 0; i < sizeof(dsl) / sizeof(dsl[0]); i++) {
		text = read_file(dir, dsl[i], &n);
		if (strstr(text, "Incorrect checksum"))
			fail_msg("iasl: %s: incorrect checksum", dsl[i]);
		/* iasl shows a buffer as a ResourceTemplate only if its
		 * descriptors parse up to an end tag. */
		if (i == 0 && (!strstr(text, "Name (_S5, Package (0x04)") ||
			       !strstr(text, "EisaId (\"PNP0A03\")") ||
			       !strstr(text, "Name (_CRS, ResourceTemplate ()")))
			fail_msg("iasl: dsdt.dsl lacks _S5, PNP0A03 or a _CRS template:\n%s", text);
		free(text);
	}
	assert_int_equal(run(dir, "iasl -p again dsdt.dsl"), 0);
	aml = read_file(dir, "again.aml", &n);
	assert_int_equal(n, dsdt_len);
	assert_memory_equal(aml + 36, ram + t.dsdt + 36, dsdt_len - 36);
	free(aml);
	free(ram);
}

/* acpiexec runs ACPICA, the interpreter Linux itself uses, on the FADT,
 * DSDT and FACS, and evaluates \_S5 as acpi_get_sleep_type_data does.
 * (Its own built-in hardware tests complain about the missing PM2 and GPE
 * blocks: bt has neither.) */
static void check_with_acpiexec(const char *dir)
{
	uint8_t *ram = build(RAM_16M);
	struct tables t = find_tables(ram);
	size_t n;
	char *log;

	assert_int_equal(run(dir, "rm -f -- *.dat iasl.log"), 0);
	write_file(dir, "dsdt.dat", ram + t.dsdt, get32(ram + t.dsdt + 4));
	write_file(dir, "facp.dat", ram + t.fadt, get32(ram + t.fadt + 4));
	write_file(dir, "facs.dat", ram + t.facs, get32(ram + t.facs + 4));
	assert_int_equal(run(dir, "acpiexec -b 'evaluate \\_S5' facp.dat dsdt.dat facs.dat"), 0);
	log = read_file(dir, "iasl.log", &n);
	if (!strstr(log, "FACP") || !strstr(log, "[Package] Contains 4 Elements") ||
	    !strstr(log, "[Integer] = 0000000000000005"))
		fail_msg("acpiexec did not evaluate \\_S5 to {5, 5, 0, 0}:\n%s", log);
	free(log);
	free(ram);
}

/* A scratch directory for iasl's files, removed even when a check fails. */
static int setup_tmpdir(void **state)
{
	char *dir = strdup("/tmp/bt-acpi-test-XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int teardown_tmpdir(void **state)
{
	char cmd[128];
	int ret;

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", (char *)*state);
	ret = system(cmd);
	free(*state);
	return ret == 0 ? 0 : -1;
}

static void test_acpica_tools_when_installed_accept_the_tables_and_evaluate_s5(void **state)
{
	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		print_message("iasl not installed (Debian: acpica-tools): skipping\n");
		skip();
	}
	check_with_iasl(*state, RAM_16M);
	check_with_iasl(*state, 0xFEC00000);
	if (system("command -v acpiexec >/dev/null 2>&1") == 0)
		check_with_acpiexec(*state);
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
		cmocka_unit_test(test_rsdp_when_scanned_like_linux_is_found_once_at_the_range_start),
		cmocka_unit_test(test_tables_when_built_have_their_ids_lengths_and_sum_to_zero),
		cmocka_unit_test(test_tables_when_built_lie_in_the_range_and_zero_the_rest),
		cmocka_unit_test(test_fadt_when_built_describes_the_fixed_hardware),
		T(test_fadt_when_followed_reaches_the_pm_timer_and_reset_register),
		cmocka_unit_test(test_dsdt_when_built_for_16m_is_the_hand_assembled_aml),
		cmocka_unit_test(test_dsdt_when_ram_is_not_mib_aligned_starts_pci_memory_at_next_mib),
		cmocka_unit_test(test_dsdt_when_ram_reaches_0xfec00000_has_no_pci_memory_window),
		T(test_s5_when_taken_from_the_tables_powers_the_machine_off),
		cmocka_unit_test(test_build_when_ram_does_not_cover_the_range_returns_einval),
		cmocka_unit_test_setup_teardown(
			test_acpica_tools_when_installed_accept_the_tables_and_evaluate_s5,
			setup_tmpdir, teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
