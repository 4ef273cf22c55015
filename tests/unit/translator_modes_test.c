/*
 * tests/unit/translator_modes_test.c: what the translation mode bits change
 * in the emitted host code (checked with Capstone's text): single-instruction
 * units leave for the dispatcher, STI and POPF look at INTR, CPL > 0 turns
 * CLI/STI/POPF into callouts, non-flat segments get limit checks, and stack
 * instructions with a non-flat SS go to the monitor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <capstone/capstone.h>

#include "monitor/monitor.h"
#include "translator_fixture.h"

static csh cs;
static char text[65536];

static int group_setup(void **state)
{
	(void)state;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -1;
	return fixture_init();
}

static int group_teardown(void **state)
{
	(void)state;
	cs_close(&cs);
	tcache_destroy(&tc);
	return 0;
}

/* Translates `code` at GUEST_EIP in `mode` with up to `max` insns per unit
 * and leaves the unit's host code as text, one instruction per line. */
static struct tcache_unit *translate(const char *hex, uint32_t mode, uint32_t max)
{
	memset(guest, 0x90, sizeof(guest));
	size_t n = 0;
	for (const char *p = hex; *p;) {
		unsigned b;
		int used;
		if (sscanf(p, "%2x%n", &b, &used) != 1)
			break;
		guest[n++] = (uint8_t)b;
		p += used;
		while (*p == ' ')
			p++;
	}
	tcache_flush(&tc);
	tr.max_insns = max;
	struct tcache_unit *u = translator_translate(&tr, GUEST_EIP, mode);
	assert_non_null(u);
	cs_insn *insn;
	size_t cnt = cs_disasm(cs, tc.w + u->code_off, tc.used - u->code_off,
			       tcache_xaddr(&tc, u->code_off), 0, &insn);
	text[0] = 0;
	for (size_t i = 0; i < cnt; i++) {
		size_t len = strlen(text);
		snprintf(text + len, sizeof(text) - len, "%s %s\n", insn[i].mnemonic, insn[i].op_str);
	}
	cs_free(insn, cnt);
	return u;
}

static int count(const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void expect_text(const char *needle, int times)
{
	if (count(needle) != times) {
		print_message("%s", text);
		fail_msg("\"%s\" appears %d times, want %d", needle, count(needle), times);
	}
}

static void test_single_when_translated_holds_one_insn_and_leaves_with_step(void **state)
{
	(void)state;
	struct tcache_unit *u = translate("90 90 90", TMODE_SINGLE, 64);
	assert_int_equal(u->ninsns, 1);
	assert_int_equal(u->nlinks, 0);
	expect_text("mov r13d, 7\n", 1);
}

static void test_single_when_jcc_leaves_both_ways_without_links(void **state)
{
	(void)state;
	struct tcache_unit *u = translate("74 10", TMODE_SINGLE, 64);
	assert_int_equal(u->nlinks, 0);
	expect_text("mov r13d, 7\n", 2);
	expect_text("movabs r14, 0x100012\n", 1);	/* taken */
	expect_text("movabs r14, 0x100002\n", 1);	/* not taken */
}

static void test_single_when_ret_leaves_instead_of_lookup(void **state)
{
	(void)state;
	translate("c3", TMODE_SINGLE, 64);
	expect_text("rorx", 0);
	expect_text("mov r13d, 7\n", 1);
}

static void test_normal_when_ret_uses_inline_lookup(void **state)
{
	(void)state;
	translate("c3", 0, 64);
	expect_text("rorx", 1);
}

static void test_sti_when_translated_tests_intr_and_leaves_with_shadow(void **state)
{
	(void)state;
	struct tcache_unit *u = translate("fb 90", 0, 64);
	expect_text("mov byte ptr [r15 + 0x2c], 1\n", 1);	/* vif = 1 */
	expect_text("movzx ecx, byte ptr [r15 + 0x2e]\n", 1);	/* intr */
	expect_text("jrcxz", 2);	/* prologue and STI */
	expect_text("mov r13d, 8\n", 1);	/* EXIT_SHADOW */
	assert_int_equal(u->ninsns, 1);	/* STI ends the unit */
}

static void test_popf_when_translated_can_request_an_exit(void **state)
{
	(void)state;
	translate("9d", 0, 64);
	expect_text("or r12b, byte ptr [r15 + 0x2e]\n", 1);
	expect_text("mov byte ptr [r15 + 0x2d], 1\n", 1);
}

static void test_cplnz_when_cli_translated_becomes_callout(void **state)
{
	(void)state;
	translate("fa", TMODE_CPLNZ, 64);
	expect_text("mov byte ptr [r15 + 0x2c], 0\n", 0);
	expect_text("jmp qword ptr [r15 + 0x58]\n", 1);
}

static void test_cpl0_when_cli_translated_is_inline(void **state)
{
	(void)state;
	translate("fa", 0, 64);
	expect_text("mov byte ptr [r15 + 0x2c], 0\n", 1);
	expect_text("jmp qword ptr [r15 + 0x58]\n", 0);
}

static void test_seglimit_when_ds_access_checks_bounds(void **state)
{
	(void)state;
	/* mov eax, [ebx] through DS (S_DS = 3) */
	translate("8b 03", TMODE_SEGLIMIT(S_DS), 1);
	expect_text("pushfq", 1);
	expect_text("cmp r11d, dword ptr [r15 + 0xc4]\n", 1);
	expect_text("cmp r13, qword ptr [r15 + 0xe8]\n", 1);
	expect_text("popfq", 2);
	expect_text("jmp qword ptr [r15 + 0x58]\n", 1);	/* CO_LIMIT */
	expect_text("mov eax, dword ptr [r11d]\n", 1);
}

static void test_seglimit_when_other_segment_access_is_plain(void **state)
{
	(void)state;
	translate("8b 03", TMODE_SEGLIMIT(S_ES), 1);
	expect_text("pushfq", 0);
	expect_text("mov eax, dword ptr [ebx]\n", 1);
}

static void test_ss_nonflat_when_push_goes_to_monitor(void **state)
{
	(void)state;
	translate("50", TMODE_SEGLIMIT(S_SS), 64);
	expect_text("jmp qword ptr [r15 + 0x58]\n", 1);
	expect_text("mov dword ptr [esp - 4], eax\n", 0);
	translate("50", 0, 64);
	expect_text("mov dword ptr [esp - 4], eax\n", 1);
}

/* Translated callout sites of `kind` by translating `hex` at guest offset `off`. */
static uint64_t callouts_at(const char *hex, uint32_t off, uint32_t mode,
			    enum translator_callout_kind kind)
{
	memset(guest, 0x90, sizeof(guest));
	for (size_t n = 0; 3 * n + 1 < strlen(hex); n++) {
		unsigned b;
		assert_int_equal(sscanf(hex + 3 * n, "%2x", &b), 1);
		guest[off + n] = (uint8_t)b;
	}
	tcache_flush(&tc);
	tr.max_insns = 64;
	uint64_t before = tr.callouts_by_kind[kind];
	assert_non_null(translator_translate(&tr, GUEST_EIP + off, mode));
	return tr.callouts_by_kind[kind] - before;
}

static void test_first_insn_when_longer_than_15_bytes_calls_out_toolong(void **state)
{
	(void)state;
	/* fifteen operand-size prefixes and a NOP: 16 bytes (SDM vol. 2, 2.3.11) */
	const char *hex = "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90";
	assert_int_equal(callouts_at(hex, 0, 0, CO_TOOLONG), 1);
	assert_int_equal(callouts_at(hex, 0, 0, CO_NONE), 0);
}

static void test_first_insn_when_past_fetchable_bytes_calls_out_fetchpf(void **state)
{
	(void)state;
	/* mov eax, imm32 whose last three bytes are past the fetchable end */
	assert_int_equal(callouts_at("b8 01", sizeof(guest) - 2, 0, CO_FETCHPF), 1);
	assert_int_equal(callouts_at("b8 01", sizeof(guest) - 2, 0, CO_NONE), 0);
}

static void test_later_insn_when_past_fetchable_bytes_ends_the_unit_before_it(void **state)
{
	(void)state;
	assert_int_equal(callouts_at("90 b8 01", sizeof(guest) - 3, 0, CO_FETCHPF), 0);
}

static void test_string_when_es_has_base_or_a16_calls_out_string(void **state)
{
	(void)state;
	assert_int_equal(callouts_at("f3 aa", 0, TMODE_SEGBASE(S_ES), CO_STRING), 1);	/* rep stosb */
	assert_int_equal(callouts_at("64 a4", 0, TMODE_SEGLIMIT(S_FS), CO_STRING), 1);	/* movsb fs: */
	assert_int_equal(callouts_at("67 ac", 0, 0, CO_STRING), 1);			/* lodsb [si] */
	assert_int_equal(callouts_at("f3 aa", 0, TMODE_SEGBASE(S_FS), CO_STRING), 0);
	assert_int_equal(callouts_at("f3 aa", 0, 0, CO_UNSUPPORTED), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_when_translated_holds_one_insn_and_leaves_with_step),
		cmocka_unit_test(test_single_when_jcc_leaves_both_ways_without_links),
		cmocka_unit_test(test_single_when_ret_leaves_instead_of_lookup),
		cmocka_unit_test(test_normal_when_ret_uses_inline_lookup),
		cmocka_unit_test(test_sti_when_translated_tests_intr_and_leaves_with_shadow),
		cmocka_unit_test(test_popf_when_translated_can_request_an_exit),
		cmocka_unit_test(test_cplnz_when_cli_translated_becomes_callout),
		cmocka_unit_test(test_cpl0_when_cli_translated_is_inline),
		cmocka_unit_test(test_seglimit_when_ds_access_checks_bounds),
		cmocka_unit_test(test_seglimit_when_other_segment_access_is_plain),
		cmocka_unit_test(test_ss_nonflat_when_push_goes_to_monitor),
		cmocka_unit_test(test_first_insn_when_longer_than_15_bytes_calls_out_toolong),
		cmocka_unit_test(test_first_insn_when_past_fetchable_bytes_calls_out_fetchpf),
		cmocka_unit_test(test_later_insn_when_past_fetchable_bytes_ends_the_unit_before_it),
		cmocka_unit_test(test_string_when_es_has_base_or_a16_calls_out_string),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
