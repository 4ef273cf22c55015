/* Unit tests for bt/options.c: the `bt run` parser generated from BT_RUN_OPTIONS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bt/bt.h"

#define ARGV(...) ((char *[]){ "run", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "run", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, ...) bt_options_parse((o), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* Runs the parser with stderr captured into msg, so the one-line errors can
 * be checked word for word; stdout (--help) is discarded. */
static int parse_capture(struct bt_options *o, int argc, char **argv, char *msg, size_t len)
{
	FILE *tmp = tmpfile(), *null = fopen("/dev/null", "w");
	int saved_err, saved_out, ret;
	size_t n;

	assert_non_null(tmp);
	assert_non_null(null);
	fflush(stdout);
	fflush(stderr);
	saved_err = dup(STDERR_FILENO);
	saved_out = dup(STDOUT_FILENO);
	assert_true(saved_err >= 0 && saved_out >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	assert_true(dup2(fileno(null), STDOUT_FILENO) >= 0);
	ret = bt_options_parse(o, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_err, STDERR_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_err);
	close(saved_out);
	fclose(null);
	rewind(tmp);
	n = fread(msg, 1, len - 1, tmp);
	msg[n] = '\0';
	fclose(tmp);
	return ret;
}

#define PARSE_MSG(o, msg, ...) \
	parse_capture((o), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (msg), sizeof(msg))

static void test_defaults_when_filled_match_table(void **state)
{
	struct bt_options o;

	(void)state;
	bt_options_defaults(&o);
	assert_null(o.kernel);
	assert_string_equal(o.append, "");
	assert_int_equal(o.mem_mib, 128);
	assert_false(o.stats);
	assert_int_equal(o.tu_max_insns, 64);
	assert_int_equal(o.tcache_mib, 64);
}

static void test_parse_when_only_kernel_keeps_defaults(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "k.elf"), 0);
	assert_string_equal(o.kernel, "k.elf");
	assert_int_equal(o.mem_mib, 128);
	assert_int_equal(o.tu_max_insns, 64);
	assert_false(o.stats);
}

static void test_parse_when_separate_value_sets_field(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "k", "--mem", "256", "--append", "a b"), 0);
	assert_int_equal(o.mem_mib, 256);
	assert_string_equal(o.append, "a b");
}

static void test_parse_when_equals_value_sets_field(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel=k", "--mem=512", "--tu-max-insns=1"), 0);
	assert_string_equal(o.kernel, "k");
	assert_int_equal(o.mem_mib, 512);
	assert_int_equal(o.tu_max_insns, 1);
}

static void test_parse_when_equals_empty_append_sets_empty(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "k", "--append="), 0);
	assert_string_equal(o.append, "");
}

static void test_parse_when_bool_given_sets_true(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--stats", "--kernel", "k"), 0);
	assert_true(o.stats);
}

static void test_parse_when_bool_has_value_fails(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "--stats=1"), -1);
	assert_string_equal(msg, "bt: --stats takes no value\n");
}

static void test_parse_when_at_range_limits_accepts(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "k", "--mem", "2", "--tu-max-insns", "1024"), 0);
	assert_int_equal(o.mem_mib, 2);
	assert_int_equal(o.tu_max_insns, 1024);
	assert_int_equal(PARSE(&o, "--kernel", "k", "--mem", "3072", "--tu-max-insns", "1"), 0);
	assert_int_equal(o.mem_mib, 3072);
	assert_int_equal(o.tu_max_insns, 1);
}

static void test_parse_when_above_max_fails_with_range(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "--mem", "5000"), -1);
	assert_string_equal(msg, "bt: --mem 5000 is out of range (2..3072)\n");
}

static void test_parse_when_below_min_fails_with_range(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "--mem=1"), -1);
	assert_string_equal(msg, "bt: --mem 1 is out of range (2..3072)\n");
}

static void test_parse_when_number_overflows_fails_with_range(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "--mem", "18446744073709551617"), -1);
	assert_string_equal(msg, "bt: --mem 18446744073709551617 is out of range (2..3072)\n");
}

static void test_parse_when_number_has_junk_fails(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "--mem", "12x"), -1);
	assert_string_equal(msg, "bt: --mem '12x' is not a decimal number\n");
}

static void test_parse_when_number_negative_fails(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "k", "--mem=-4"), -1);
}

static void test_parse_when_number_hex_or_spaced_fails(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "k", "--mem=0x10"), -1);
	assert_int_equal(PARSE(&o, "--kernel", "k", "--mem", " 16"), -1);
	assert_int_equal(PARSE(&o, "--kernel", "k", "--mem="), -1);
}

static void test_parse_when_unknown_option_fails(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "--x=3"), -1);
	assert_string_equal(msg, "bt: unknown option '--x' (see bt run --help)\n");
}

static void test_parse_when_option_prefix_only_fails(void **state)
{
	struct bt_options o;

	(void)state;
	/* No abbreviations: "--me" is not "--mem". */
	assert_int_equal(PARSE(&o, "--kernel", "k", "--me", "4"), -1);
}

static void test_parse_when_value_missing_fails(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "--mem"), -1);
	assert_string_equal(msg, "bt: --mem needs a value\n");
}

static void test_parse_when_kernel_missing_fails(void **state)
{
	struct bt_options o;
	char msg[256];

	(void)state;
	assert_int_equal(PARSE_MSG(&o, msg, "--mem", "64"), -1);
	assert_string_equal(msg, "bt: run needs --kernel FILE\n");
}

static void test_parse_when_no_arguments_fails_for_kernel(void **state)
{
	struct bt_options o;
	char *argv[] = { "run", NULL };

	(void)state;
	assert_int_equal(bt_options_parse(&o, 1, argv), -1);
}

static void test_parse_when_positional_argument_fails(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "k", "extra"), -1);
}

static void test_parse_when_help_returns_one(void **state)
{
	struct bt_options o;
	char msg[16];

	(void)state;
	/* Usage goes to stdout; nothing on stderr. */
	assert_int_equal(PARSE_MSG(&o, msg, "--help"), 1);
	assert_string_equal(msg, "");
	assert_int_equal(PARSE_MSG(&o, msg, "--kernel", "k", "-h"), 1);
}

static void test_usage_when_printed_lists_every_option_with_default(void **state)
{
	char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(f);
	bt_options_usage(f);
	fclose(f);
#define CHECK_LISTED(f_, t_, n_, d_, lo_, hi_, h_) \
	assert_non_null(strstr(buf, "--" n_));     \
	assert_non_null(strstr(buf, h_));
	BT_RUN_OPTIONS(CHECK_LISTED)
#undef CHECK_LISTED
	assert_non_null(strstr(buf, "(default 128, 2..3072)"));
	assert_non_null(strstr(buf, "(default off)"));
}

static void test_parse_when_repeated_last_wins(void **state)
{
	struct bt_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--kernel", "a", "--kernel", "b", "--mem", "4", "--mem=8"), 0);
	assert_string_equal(o.kernel, "b");
	assert_int_equal(o.mem_mib, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_when_filled_match_table),
		cmocka_unit_test(test_parse_when_only_kernel_keeps_defaults),
		cmocka_unit_test(test_parse_when_separate_value_sets_field),
		cmocka_unit_test(test_parse_when_equals_value_sets_field),
		cmocka_unit_test(test_parse_when_equals_empty_append_sets_empty),
		cmocka_unit_test(test_parse_when_bool_given_sets_true),
		cmocka_unit_test(test_parse_when_bool_has_value_fails),
		cmocka_unit_test(test_parse_when_at_range_limits_accepts),
		cmocka_unit_test(test_parse_when_above_max_fails_with_range),
		cmocka_unit_test(test_parse_when_below_min_fails_with_range),
		cmocka_unit_test(test_parse_when_number_overflows_fails_with_range),
		cmocka_unit_test(test_parse_when_number_has_junk_fails),
		cmocka_unit_test(test_parse_when_number_negative_fails),
		cmocka_unit_test(test_parse_when_number_hex_or_spaced_fails),
		cmocka_unit_test(test_parse_when_unknown_option_fails),
		cmocka_unit_test(test_parse_when_option_prefix_only_fails),
		cmocka_unit_test(test_parse_when_value_missing_fails),
		cmocka_unit_test(test_parse_when_kernel_missing_fails),
		cmocka_unit_test(test_parse_when_no_arguments_fails_for_kernel),
		cmocka_unit_test(test_parse_when_positional_argument_fails),
		cmocka_unit_test(test_parse_when_help_returns_one),
		cmocka_unit_test(test_usage_when_printed_lists_every_option_with_default),
		cmocka_unit_test(test_parse_when_repeated_last_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
