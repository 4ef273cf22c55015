/* tests/unit/devices_i8042_test.c: 8042 keyboard controller and its keyboard through the port bus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "devices/devices.h"
#include "devices_fake_machine.h"

#define DATA 0x60
#define CMD 0x64	/* status on read */

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08
#define STS_UNLOCKED 0x10
#define STS_AUXB 0x20
#define STS_TIMEOUT 0x40

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

struct fixture {
	struct devices_bus bus;
	struct fake_machine fm;
	struct devices_machine m;
	struct devices_i8042 *k;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->m = fake_machine_init(&f->fm);
	devices_bus_init(&f->bus);
	f->k = devices_i8042_create(&f->bus, &f->m);
	if (!f->k)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_i8042_destroy(f->k);
	free(f);
	return 0;
}

static uint8_t status(struct fixture *f)
{
	return (uint8_t)devices_bus_in(&f->bus, CMD, 1);
}

static void cmd(struct fixture *f, uint8_t c)
{
	devices_bus_out(&f->bus, CMD, c, 1);
}

static void put(struct fixture *f, uint8_t v)
{
	devices_bus_out(&f->bus, DATA, v, 1);
}

static uint8_t get(struct fixture *f)
{
	return (uint8_t)devices_bus_in(&f->bus, DATA, 1);
}

/* The next byte of output, which must be waiting. */
static uint8_t expect_byte(struct fixture *f)
{
	assert_int_equal(status(f) & STS_OBF, STS_OBF);
	return get(f);
}

static void expect_empty(struct fixture *f)
{
	assert_int_equal(status(f) & STS_OBF, 0);
}

/* A controller command with one byte on 0x60. */
static void cmd_data(struct fixture *f, uint8_t c, uint8_t v)
{
	cmd(f, c);
	put(f, v);
}

static uint8_t read_ctr(struct fixture *f)
{
	cmd(f, 0x20);
	return expect_byte(f);
}

static void test_status_when_reset_shows_unlocked_only(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(status(f), STS_UNLOCKED);
	assert_int_equal(read_ctr(f), CTR_KBDINT | CTR_AUXINT);
}

static void test_self_test_when_issued_replies_55_and_sets_system_flag(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xAA);
	assert_int_equal(status(f), STS_OBF | STS_SYS | STS_CMD | STS_UNLOCKED);
	assert_int_equal(get(f), 0x55);
	assert_int_equal(status(f), STS_SYS | STS_CMD | STS_UNLOCKED);
	assert_int_equal(read_ctr(f) & CTR_SYS, CTR_SYS);
}

static void test_ctr_when_written_reads_back(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0x60, 0x65);
	assert_int_equal(read_ctr(f), 0x65);
	expect_empty(f);
}

static void test_ctr_sys_bit_when_written_shows_in_status(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0x60, CTR_SYS);
	assert_int_equal(status(f) & STS_SYS, STS_SYS);
	cmd_data(f, 0x60, 0);
	assert_int_equal(status(f) & STS_SYS, 0);
}

static void test_status_cmd_bit_when_written_follows_last_port(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0x60);
	assert_int_equal(status(f) & STS_CMD, STS_CMD);
	put(f, 0x03);
	assert_int_equal(status(f) & STS_CMD, 0);
}

static void test_ram_when_written_at_other_index_reads_back(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0x7F, 0x99);
	cmd(f, 0x3F);
	assert_int_equal(expect_byte(f), 0x99);
	assert_int_equal(read_ctr(f), CTR_KBDINT | CTR_AUXINT);
}

static void test_interface_tests_when_issued_reply_zero(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xAB);
	assert_int_equal(expect_byte(f), 0x00);
	cmd(f, 0xA9);
	assert_int_equal(expect_byte(f), 0x00);
	expect_empty(f);
}

/* Enable/disable commands and the CTR bit each one moves. */
static const struct { uint8_t cmd, set, clear; } port_enables[] = {
	{ 0xAD, CTR_KBDDIS, 0 },
	{ 0xAE, 0, CTR_KBDDIS },
	{ 0xA7, CTR_AUXDIS, 0 },
	{ 0xA8, 0, CTR_AUXDIS },
};

static void test_port_enable_commands_when_issued_move_ctr_bits(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(port_enables) / sizeof(port_enables[0]); i++) {
		uint8_t before = read_ctr(f);

		cmd(f, port_enables[i].cmd);
		assert_int_equal(read_ctr(f),
				 (before | port_enables[i].set) & ~port_enables[i].clear);
	}
}

static void test_output_port_when_read_shows_reset_high_and_a20_on(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xD0);
	assert_int_equal(expect_byte(f), 0xCF);
	assert_int_equal(devices_i8042_a20(f->k), 1);
}

static void test_output_port_when_read_with_byte_waiting_shows_obf_bit(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0xD2, 0x11);
	cmd(f, 0xD0);
	assert_int_equal(get(f), 0x11);
	assert_int_equal(expect_byte(f), 0xCF | 0x10);	/* bit 4: IRQ 1 OBF */
}

static void test_output_port_when_a20_bit_written_calls_set_a20_on_change(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0xD1, 0xCD);
	assert_int_equal(f->fm.a20_calls, 1);
	assert_int_equal(f->fm.a20, 0);
	assert_int_equal(devices_i8042_a20(f->k), 0);
	cmd(f, 0xD0);
	assert_int_equal(expect_byte(f), 0xCD);
	cmd_data(f, 0xD1, 0xCF);
	assert_int_equal(f->fm.a20_calls, 2);
	assert_int_equal(f->fm.a20, 1);
	cmd_data(f, 0xD1, 0xCF);
	assert_int_equal(f->fm.a20_calls, 2);
	assert_int_equal(f->fm.resets, 0);
}

static void test_output_port_when_bit0_cleared_requests_reset(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0xD1, 0xCE);
	assert_int_equal(f->fm.resets, 1);
	assert_int_equal(f->fm.a20_calls, 0);
}

static void test_a20_commands_when_issued_switch_gate(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xDD);
	assert_int_equal(f->fm.a20, 0);
	assert_int_equal(devices_i8042_a20(f->k), 0);
	cmd(f, 0xDF);
	assert_int_equal(f->fm.a20, 1);
	assert_int_equal(f->fm.a20_calls, 2);
	expect_empty(f);
}

/* Pulse commands 0xF0-0xFF: bit 0 clear pulses the CPU reset line. */
static const struct { uint8_t cmd; int resets; } pulses[] = {
	{ 0xFE, 1 }, { 0xF0, 1 }, { 0xFC, 1 }, { 0xFF, 0 }, { 0xFD, 0 }, { 0xF1, 0 },
};

static void test_pulse_commands_when_bit0_clear_request_reset(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(pulses) / sizeof(pulses[0]); i++) {
		f->fm.resets = 0;
		cmd(f, pulses[i].cmd);
		assert_int_equal(f->fm.resets, pulses[i].resets);
	}
	expect_empty(f);
	assert_int_equal(f->fm.a20_calls, 0);
}

static void test_loopback_d2_when_written_reads_as_keyboard_data_on_irq1(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0xD2, 0x5A);
	assert_int_equal(status(f) & (STS_OBF | STS_AUXB), STS_OBF);
	assert_int_equal(f->fm.level[1], 1);
	assert_int_equal(f->fm.level[12], 0);
	assert_int_equal(get(f), 0x5A);
	assert_int_equal(f->fm.level[1], 0);
	expect_empty(f);
}

static void test_loopback_d3_when_written_reads_as_aux_data_on_irq12(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0xD3, 0xA5);
	assert_int_equal(status(f) & (STS_OBF | STS_AUXB), STS_OBF | STS_AUXB);
	assert_int_equal(f->fm.level[12], 1);
	assert_int_equal(f->fm.level[1], 0);
	assert_int_equal(get(f), 0xA5);
	assert_int_equal(f->fm.level[12], 0);
}

static void test_loopback_when_ports_disabled_still_delivers(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xAD);
	cmd(f, 0xA7);
	cmd_data(f, 0xD3, 0x5A);
	assert_int_equal(expect_byte(f), 0x5A);
}

static void test_aux_write_when_no_device_times_out_with_fe(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0xD4, 0xF2);
	assert_int_equal(status(f) & (STS_OBF | STS_AUXB | STS_TIMEOUT),
			 STS_OBF | STS_AUXB | STS_TIMEOUT);
	assert_int_equal(f->fm.level[12], 1);
	assert_int_equal(get(f), 0xFE);
	assert_int_equal(status(f) & (STS_TIMEOUT | STS_AUXB), 0);
}

/* Keyboard commands and the bytes the keyboard answers. */
static const struct {
	const char *what;
	uint8_t out[2];
	int nout;
	uint8_t in[4];
	int nin;
} kbd_cmds[] = {
	{ "reset", { 0xFF }, 1, { 0xFA, 0xAA }, 2 },
	{ "identify", { 0xF2 }, 1, { 0xFA, 0xAB, 0x83 }, 3 },
	{ "echo", { 0xEE }, 1, { 0xEE }, 1 },
	{ "enable", { 0xF4 }, 1, { 0xFA }, 1 },
	{ "disable", { 0xF5 }, 1, { 0xFA }, 1 },
	{ "defaults", { 0xF6 }, 1, { 0xFA }, 1 },
	{ "leds", { 0xED, 0x07 }, 2, { 0xFA, 0xFA }, 2 },
	{ "typematic", { 0xF3, 0x20 }, 2, { 0xFA, 0xFA }, 2 },
	{ "get set", { 0xF0, 0x00 }, 2, { 0xFA, 0xFA, 0x02 }, 3 },
	{ "bad set", { 0xF0, 0x07 }, 2, { 0xFA, 0xFE }, 2 },
	{ "set 3 key type", { 0xFA }, 1, { 0xFA }, 1 },
	{ "unknown", { 0x42 }, 1, { 0xFE }, 1 },
};

static void test_keyboard_when_sent_commands_answers_each(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(kbd_cmds) / sizeof(kbd_cmds[0]); i++) {
		for (int j = 0; j < kbd_cmds[i].nout; j++)
			put(f, kbd_cmds[i].out[j]);
		for (int j = 0; j < kbd_cmds[i].nin; j++) {
			if ((status(f) & STS_OBF) == 0)
				fail_msg("%s: reply byte %d missing", kbd_cmds[i].what, j);
			if (get(f) != kbd_cmds[i].in[j])
				fail_msg("%s: reply byte %d wrong", kbd_cmds[i].what, j);
		}
		if (status(f) & STS_OBF)
			fail_msg("%s: extra reply", kbd_cmds[i].what);
	}
}

static void test_keyboard_when_scancode_set_changed_reports_it(void **state)
{
	struct fixture *f = *state;

	put(f, 0xF0);
	put(f, 0x01);
	assert_int_equal(expect_byte(f), 0xFA);
	assert_int_equal(expect_byte(f), 0xFA);
	put(f, 0xF0);
	put(f, 0x00);
	assert_int_equal(expect_byte(f), 0xFA);
	assert_int_equal(expect_byte(f), 0xFA);
	assert_int_equal(expect_byte(f), 0x01);
}

static void test_keyboard_when_translating_identify_ends_in_41(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0x60, CTR_XLATE | CTR_KBDINT);
	put(f, 0xF2);
	assert_int_equal(expect_byte(f), 0xFA);
	assert_int_equal(expect_byte(f), 0xAB);
	assert_int_equal(expect_byte(f), 0x41);
}

static void test_keyboard_when_resend_asked_repeats_last_byte(void **state)
{
	struct fixture *f = *state;

	put(f, 0xEE);
	assert_int_equal(expect_byte(f), 0xEE);
	put(f, 0xFE);
	assert_int_equal(expect_byte(f), 0xEE);
}

static void test_keyboard_reply_when_several_bytes_gives_one_irq1_edge_each(void **state)
{
	struct fixture *f = *state;

	put(f, 0xF2);
	assert_int_equal(f->fm.edges[1], 1);
	(void)get(f);
	assert_int_equal(f->fm.edges[1], 2);
	(void)get(f);
	assert_int_equal(f->fm.edges[1], 3);
	(void)get(f);
	assert_int_equal(f->fm.level[1], 0);
	assert_int_equal(f->fm.edges[12], 0);
}

static void test_irq1_when_ctr_bit0_clear_stays_low_and_rises_when_set(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0x60, 0x00);
	put(f, 0xEE);
	assert_int_equal(status(f) & STS_OBF, STS_OBF);
	assert_int_equal(f->fm.level[1], 0);
	cmd_data(f, 0x60, CTR_KBDINT);
	assert_int_equal(f->fm.level[1], 1);
	assert_int_equal(get(f), 0xEE);
	assert_int_equal(f->fm.level[1], 0);
}

static void test_irq12_when_ctr_bit1_clear_stays_low(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0x60, CTR_KBDINT);
	cmd_data(f, 0xD3, 0x01);
	assert_int_equal(status(f) & STS_OBF, STS_OBF);
	assert_int_equal(f->fm.level[12], 0);
	assert_int_equal(f->fm.level[1], 0);
}

static void test_keyboard_bytes_when_interface_disabled_wait_for_enable(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xAD);
	put(f, 0xF4);
	expect_empty(f);
	assert_int_equal(f->fm.level[1], 0);
	cmd(f, 0xAE);
	assert_int_equal(expect_byte(f), 0xFA);
}

static void test_controller_reply_when_keyboard_disabled_is_delivered(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xAD);
	put(f, 0xEE);
	assert_int_equal(read_ctr(f), CTR_KBDINT | CTR_AUXINT | CTR_KBDDIS);
	expect_empty(f);
}

static void test_data_when_read_empty_returns_last_byte_again(void **state)
{
	struct fixture *f = *state;

	cmd_data(f, 0xD2, 0x77);
	assert_int_equal(get(f), 0x77);
	assert_int_equal(get(f), 0x77);
	expect_empty(f);
}

static void test_pending_command_when_new_command_written_is_abandoned(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0x60);
	cmd(f, 0x20);
	assert_int_equal(expect_byte(f), CTR_KBDINT | CTR_AUXINT);
	put(f, 0xEE);			/* goes to the keyboard, not the CTR */
	assert_int_equal(expect_byte(f), 0xEE);
	assert_int_equal(read_ctr(f), CTR_KBDINT | CTR_AUXINT);
}

static void test_queue_when_overfilled_drops_newest(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 40; i++)
		put(f, 0xEE);
	for (int i = 0; i < 17; i++)	/* the output buffer and 16 queued */
		assert_int_equal(expect_byte(f), 0xEE);
	expect_empty(f);
}

static void test_bus_reset_when_called_restores_power_on_state(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xAA);
	cmd_data(f, 0x60, 0x75);
	cmd(f, 0xDD);
	put(f, 0xF2);
	cmd(f, 0xD1);
	devices_bus_reset(&f->bus);
	assert_int_equal(status(f), STS_UNLOCKED);
	assert_int_equal(f->fm.level[1], 0);
	assert_int_equal(devices_i8042_a20(f->k), 1);
	assert_int_equal(read_ctr(f), CTR_KBDINT | CTR_AUXINT);
	put(f, 0xEE);			/* D1 no longer pending */
	assert_int_equal(expect_byte(f), 0xEE);
}

static void test_ports_when_read_wide_upper_bytes_float(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(devices_bus_in(&f->bus, CMD, 2), 0xFF00 | STS_UNLOCKED);
	cmd_data(f, 0xD2, 0x12);
	assert_int_equal(devices_bus_in(&f->bus, DATA, 4), 0xFFFFFF12);
}

static uint32_t dummy_read(void *s, uint16_t offset, int size)
{
	(void)s;
	(void)offset;
	(void)size;
	return 0;
}

static void dummy_write(void *s, uint16_t offset, uint32_t value, int size)
{
	(void)s;
	(void)offset;
	(void)value;
	(void)size;
}

static void test_create_when_status_port_taken_unwinds_data_port(void **state)
{
	static const struct devices_ops other = { .name = "other", .read = dummy_read,
						  .write = dummy_write };
	struct devices_bus bus;

	(void)state;
	devices_bus_init(&bus);
	assert_int_equal(devices_bus_register(&bus, CMD, 1, &other, NULL), 0);
	errno = 0;
	assert_null(devices_i8042_create(&bus, NULL));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bus.n, 1);
	assert_int_equal(devices_bus_in(&bus, DATA, 1), 0xFF);
}

static void test_create_when_machine_null_still_works(void **state)
{
	struct devices_bus bus;
	struct devices_i8042 *k;

	(void)state;
	devices_bus_init(&bus);
	k = devices_i8042_create(&bus, NULL);
	assert_non_null(k);
	devices_bus_out(&bus, CMD, 0xFE, 1);
	devices_bus_out(&bus, CMD, 0xDD, 1);
	devices_bus_out(&bus, DATA, 0xEE, 1);
	assert_int_equal(devices_bus_in(&bus, DATA, 1), 0xEE);
	assert_int_equal(devices_i8042_a20(k), 0);
	devices_i8042_destroy(k);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_status_when_reset_shows_unlocked_only),
		T(test_self_test_when_issued_replies_55_and_sets_system_flag),
		T(test_ctr_when_written_reads_back),
		T(test_ctr_sys_bit_when_written_shows_in_status),
		T(test_status_cmd_bit_when_written_follows_last_port),
		T(test_ram_when_written_at_other_index_reads_back),
		T(test_interface_tests_when_issued_reply_zero),
		T(test_port_enable_commands_when_issued_move_ctr_bits),
		T(test_output_port_when_read_shows_reset_high_and_a20_on),
		T(test_output_port_when_read_with_byte_waiting_shows_obf_bit),
		T(test_output_port_when_a20_bit_written_calls_set_a20_on_change),
		T(test_output_port_when_bit0_cleared_requests_reset),
		T(test_a20_commands_when_issued_switch_gate),
		T(test_pulse_commands_when_bit0_clear_request_reset),
		T(test_loopback_d2_when_written_reads_as_keyboard_data_on_irq1),
		T(test_loopback_d3_when_written_reads_as_aux_data_on_irq12),
		T(test_loopback_when_ports_disabled_still_delivers),
		T(test_aux_write_when_no_device_times_out_with_fe),
		T(test_keyboard_when_sent_commands_answers_each),
		T(test_keyboard_when_scancode_set_changed_reports_it),
		T(test_keyboard_when_translating_identify_ends_in_41),
		T(test_keyboard_when_resend_asked_repeats_last_byte),
		T(test_keyboard_reply_when_several_bytes_gives_one_irq1_edge_each),
		T(test_irq1_when_ctr_bit0_clear_stays_low_and_rises_when_set),
		T(test_irq12_when_ctr_bit1_clear_stays_low),
		T(test_keyboard_bytes_when_interface_disabled_wait_for_enable),
		T(test_controller_reply_when_keyboard_disabled_is_delivered),
		T(test_data_when_read_empty_returns_last_byte_again),
		T(test_pending_command_when_new_command_written_is_abandoned),
		T(test_queue_when_overfilled_drops_newest),
		T(test_bus_reset_when_called_restores_power_on_state),
		T(test_ports_when_read_wide_upper_bytes_float),
		cmocka_unit_test(test_create_when_status_port_taken_unwinds_data_port),
		cmocka_unit_test(test_create_when_machine_null_still_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
