/* Unit tests for bt/console.c: the Ctrl-A escape keys (QEMU -nographic's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bt/bt.h"

/* One letter per byte typed: S send, D drop, H help, Q quit. */
static char key_letter(enum bt_console_key k)
{
	switch (k) {
	case BT_CONSOLE_SEND: return 'S';
	case BT_CONSOLE_DROP: return 'D';
	case BT_CONSOLE_HELP: return 'H';
	case BT_CONSOLE_QUIT: return 'Q';
	}
	return '!';
}

static const struct {
	const char *typed;
	const char *keys;
} cases[] = {
	{ "hello", "SSSSS" },
	{ "\x03\x1a\x1c", "SSS" },		/* Ctrl-C, Ctrl-Z, Ctrl-\ go to the guest */
	{ "\x01x", "DQ" },
	{ "\x01\x01", "DS" },			/* one Ctrl-A to the guest */
	{ "\x01h", "DH" },
	{ "\x01?", "DH" },
	{ "\x01z", "DD" },			/* unknown escape: ignored */
	{ "\x01X", "DD" },			/* only lower-case x quits, as in QEMU */
	{ "\x01\x01x", "DSS" },			/* after C-a C-a, x is just x */
	{ "\x01\x01\x01x", "DSDQ" },
	{ "a\x01hb", "SDHS" },
	{ "\x1bx", "SS" },			/* Escape is not the escape key */
	{ "x\x01", "SD" },
};

static void test_escape_when_typed_gives_table_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bt_console_escape e = { 0 };
		char got[16] = { 0 };
		size_t n = strlen(cases[i].typed);

		for (size_t j = 0; j < n; j++)
			got[j] = key_letter(bt_console_escape_feed(&e, (uint8_t)cases[i].typed[j]));
		assert_string_equal(got, cases[i].keys);
	}
}

static void test_escape_when_split_across_reads_still_quits(void **state)
{
	struct bt_console_escape e = { 0 };

	(void)state;
	assert_int_equal(bt_console_escape_feed(&e, 'a'), BT_CONSOLE_SEND);
	assert_int_equal(bt_console_escape_feed(&e, BT_CONSOLE_ESCAPE), BT_CONSOLE_DROP);
	/* ... the next read(2) of the terminal ... */
	assert_int_equal(bt_console_escape_feed(&e, 'x'), BT_CONSOLE_QUIT);
}

static void test_escape_when_sent_bytes_collected_form_guest_stream(void **state)
{
	static const char typed[] = "a\x01\x01" "b\x01zc\x01hd";
	struct bt_console_escape e = { 0 };
	char guest[sizeof(typed)] = { 0 };
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(typed) - 1; i++)
		if (bt_console_escape_feed(&e, (uint8_t)typed[i]) == BT_CONSOLE_SEND)
			guest[n++] = typed[i];
	assert_string_equal(guest, "a\x01" "bcd");
}

static void test_escape_when_every_byte_after_ctrl_a_disarms(void **state)
{
	(void)state;
	for (int b = 0; b < 256; b++) {
		struct bt_console_escape e = { 0 };

		bt_console_escape_feed(&e, BT_CONSOLE_ESCAPE);
		bt_console_escape_feed(&e, (uint8_t)b);
		assert_false(e.armed);
		assert_int_equal(bt_console_escape_feed(&e, 'q'), BT_CONSOLE_SEND);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_when_typed_gives_table_keys),
		cmocka_unit_test(test_escape_when_split_across_reads_still_quits),
		cmocka_unit_test(test_escape_when_sent_bytes_collected_form_guest_stream),
		cmocka_unit_test(test_escape_when_every_byte_after_ctrl_a_disarms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
