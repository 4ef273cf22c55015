/*
 * tests/unit/translator_classify_test.c: every row of the instruction-class
 * table (translator/classify.c), classified and then translated for real,
 * with the host code checked through Capstone; plus instructions that are
 * not on the whitelist and the memory-operand re-encodings of ident.c.
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
#include "translator/translator.h"

#define MAX_LINES 256

/* ---- fixture: one cache, one translator, guest code in a buffer ---- */

#include "tests/unit/translator_fixture.h"

static csh cs;

static int group_setup(void **state)
{
	(void)state;
	if (fixture_init() != 0)
		return -1;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cs_close(&cs);
	tcache_destroy(&tc);
	return 0;
}

static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (n == cap || sscanf(s, "%2x", &v) != 1)
			fail_msg("bad hex sample %s", s);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Guest code at GUEST_EIP: the sample, then int3 filler. */
static size_t load_guest(const char *hex)
{
	memset(guest, 0xcc, sizeof(guest));
	return parse_hex(hex, guest, sizeof(guest));
}

/* ---- the host code, disassembled ---- */

struct hline {
	uint64_t addr;		/* x address */
	uint32_t off;		/* from the unit's code start */
	uint8_t bytes[16];
	uint16_t size;
	char text[192];		/* "mnemonic op_str" */
};

struct host {
	struct tcache_unit *u;
	struct hline l[MAX_LINES];
	size_t n;
};

static void disassemble(struct host *h, struct tcache_unit *u)
{
	cs_insn *insn;
	uint64_t x = tcache_xaddr(&tc, u->code_off);
	size_t cnt = cs_disasm(cs, tc.x + u->code_off, u->code_len, x, 0, &insn);
	size_t bytes = 0;
	assert_true(cnt <= MAX_LINES);
	h->u = u;
	h->n = cnt;
	for (size_t i = 0; i < cnt; i++) {
		struct hline *l = &h->l[i];
		l->addr = insn[i].address;
		l->off = (uint32_t)(insn[i].address - x);
		l->size = insn[i].size;
		memcpy(l->bytes, insn[i].bytes, insn[i].size);
		if (insn[i].op_str[0])
			snprintf(l->text, sizeof(l->text), "%s %s", insn[i].mnemonic, insn[i].op_str);
		else
			snprintf(l->text, sizeof(l->text), "%s", insn[i].mnemonic);
		bytes += insn[i].size;
	}
	if (cnt)
		cs_free(insn, cnt);
	/* Every byte of the unit is valid 64-bit code: an instruction that is
	 * invalid in 64-bit mode (DAA, PUSHA, ...) copied through would stop
	 * the disassembly here. */
	assert_int_equal(bytes, u->code_len);
}

static void dump(const struct host *h)
{
	for (size_t i = 0; i < h->n; i++)
		print_message("    %3x: %s\n", h->l[i].off, h->l[i].text);
}

static const struct hline *find_text(const struct host *h, const char *sub)
{
	for (size_t i = 0; i < h->n; i++)
		if (strstr(h->l[i].text, sub))
			return &h->l[i];
	return NULL;
}

static void expect_text(const struct host *h, const char *sub)
{
	if (!find_text(h, sub)) {
		dump(h);
		fail_msg("host code lacks \"%s\"", sub);
	}
}

static void expect_no_text(const struct host *h, const char *sub)
{
	const struct hline *l = find_text(h, sub);
	if (l) {
		dump(h);
		fail_msg("host code has \"%s\" at +0x%x", sub, l->off);
	}
}

/* Instructions expected in this order (not necessarily adjacent). */
static void expect_sequence(const struct host *h, const char *const *subs, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < h->n && k < n; i++)
		if (strstr(h->l[i].text, subs[k]))
			k++;
	if (k != n) {
		dump(h);
		fail_msg("host code lacks \"%s\" in sequence", subs[k]);
	}
}

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return false;
	}
}

/* No host instruction is the guest one: same opcode bytes once legacy
 * prefixes (and, on the host side, REX) are stripped. */
static void expect_no_copy(const struct host *h, const uint8_t *g, size_t glen)
{
	size_t gs = 0;
	while (gs < glen && is_legacy_prefix(g[gs]))
		gs++;
	for (size_t i = 0; i < h->n; i++) {
		const struct hline *l = &h->l[i];
		size_t s = 0;
		while (s < l->size && is_legacy_prefix(l->bytes[s]))
			s++;
		if (s < l->size && (l->bytes[s] & 0xf0) == 0x40)
			s++;
		if (l->size - s >= glen - gs && memcmp(l->bytes + s, g + gs, glen - gs) == 0) {
			dump(h);
			fail_msg("guest instruction copied at +0x%x (%s)", l->off, l->text);
		}
	}
}

static struct tcache_unit *translate(uint32_t mode)
{
	struct tcache_unit *u = translator_translate(&tr, GUEST_EIP, mode);
	assert_non_null(u);
	assert_int_equal(u->eip, GUEST_EIP);
	assert_int_equal(u->mode, mode);
	return u;
}

/* The callout record a `movabs r14, imm64; lea r12, [rip+4]; jmp [r15+0x58]`
 * sequence passes, or NULL. */
static const struct translator_callout *callout_record(const struct host *h)
{
	for (size_t i = 0; i + 2 < h->n; i++) {
		const struct hline *l = &h->l[i];
		if (l->size == 10 && l->bytes[0] == 0x49 && l->bytes[1] == 0xbe &&
		    strcmp(h->l[i + 2].text, "jmp qword ptr [r15 + 0x58]") == 0) {
			uint64_t p;
			memcpy(&p, l->bytes + 2, 8);
			return (const struct translator_callout *)(uintptr_t)p;
		}
	}
	return NULL;
}

/* ---- one test per row of translator_rows ---- */

enum {
	P_COPY = 1 << 0,	/* IDENT: `want` is the copied insn, 32-bit addressing */
	P_STACK = 1 << 1,	/* no host push/pop/call/ret; works on esp */
	P_CALLOUT = 1 << 2,	/* jmp qword ptr [r15 + 0x58] with a matching record */
	P_IBL = 1 << 3,		/* ends through the inline lookup */
	P_NORIP = 1 << 4,	/* no rip-relative operand at all */
};

struct row_case {
	const char *name;
	enum translator_class cls;
	enum translator_rule rule;
	enum translator_callout_kind callout;
	const char *want;	/* host instruction text that must appear, or NULL */
	const char *absent;	/* text that must not appear, or NULL */
	unsigned props;
	uint32_t nlinks;	/* direct exits of the unit (max_insns 1) */
};

#define ID (P_COPY | P_NORIP)
#define ST (P_STACK | P_NORIP)
#define CO P_CALLOUT

/* X(name, class, rule, callout kind, want, absent, props, nlinks) */
#define ROW_CASES(X)                                                                          \
	X(alu, TC_IDENT, TR_COPY, CO_NONE, "add dword ptr [eax + 0x12345678], ebx", NULL, ID, 1) \
	X(muldiv, TC_IDENT, TR_COPY, CO_NONE, "div dword ptr [esp]", NULL, ID, 1)                 \
	X(mov, TC_IDENT, TR_COPY, CO_NONE, "mov eax, dword ptr [0x1000]", NULL, ID, 1)            \
	X(atomic, TC_IDENT, TR_COPY, CO_NONE, "lock cmpxchg dword ptr [ebx], ecx", NULL, ID, 1)  \
	X(bits, TC_IDENT, TR_COPY, CO_NONE, "bts dword ptr [0x2000], eax", NULL, ID, 1)           \
	X(shift, TC_IDENT, TR_COPY, CO_NONE, "shl dword ptr [esp + 4], 3", NULL, ID, 1)           \
	X(convert, TC_IDENT, TR_COPY, CO_NONE, "cdq", NULL, ID, 1)                                \
	X(setcc, TC_IDENT, TR_COPY, CO_NONE, "sete ah", NULL, ID, 1)                              \
	X(cmovcc, TC_IDENT, TR_COPY, CO_NONE, "cmove eax, dword ptr [0x3000]", NULL, ID, 1)       \
	X(repbsf, TC_IDENT, TR_NOREP, CO_NONE, "bsf eax, ecx", "tzcnt", ID, 1)                    \
	X(flagops, TC_IDENT, TR_COPY, CO_NONE, "std", NULL, ID, 1)                                \
	X(nop, TC_IDENT, TR_COPY, CO_NONE, "pause", NULL, ID, 1)                                  \
	X(incdec, TC_IDENT, TR_INCDEC, CO_NONE, "inc ebx", NULL, ID, 1)                           \
	X(string, TC_IDENT, TR_STRING, CO_NONE, "rep movsd dword ptr [edi], dword ptr [esi]", NULL, ID, 1) \
	X(push, TC_INLINE, TR_PUSH, CO_NONE, "mov dword ptr [esp - 4], ebx", NULL, ST, 1)         \
	X(pop, TC_INLINE, TR_POP, CO_NONE, "mov ebx, dword ptr [esp]", NULL, ST, 1)               \
	X(pusha, TC_INLINE, TR_PUSHA, CO_NONE, "lea esp, [esp - 0x20]", "pusha", ST, 1)           \
	X(popa, TC_INLINE, TR_POPA, CO_NONE, "lea esp, [esp + 0x20]", "popa", ST, 1)              \
	X(enter, TC_INLINE, TR_ENTER, CO_NONE, "lea esp, [esp - 0x14]", "enter", ST, 1)           \
	X(leave, TC_INLINE, TR_LEAVE, CO_NONE, "lea esp, [ebp + 4]", "leave", ST, 1)              \
	X(pushf, TC_INLINE, TR_PUSHF, CO_NONE, "mov dword ptr [esp - 4], r13d", NULL, ST, 1)      \
	X(popf, TC_END, TR_POPF, CO_NONE, "lea esp, [esp + 4]", NULL, ST, 1)                      \
	X(cli, TC_INLINE, TR_CLI, CO_NONE, "mov byte ptr [r15 + 0x2c], 0", "cli", P_NORIP, 1)     \
	X(sti, TC_END, TR_STI, CO_NONE, "mov byte ptr [r15 + 0x2c], 1", "sti", P_NORIP, 1)        \
	X(jmp, TC_END, TR_JMP, CO_NONE, NULL, NULL, P_NORIP, 1)                                   \
	X(jcc, TC_END, TR_JCC, CO_NONE, "je 0x", NULL, P_NORIP, 2)                                \
	X(call, TC_END, TR_CALL, CO_NONE, "mov dword ptr [esp - 4], 0x100005", NULL, ST, 1)       \
	X(ret, TC_END, TR_RET, CO_NONE, "mov r14d, dword ptr [esp]", NULL, ST | P_IBL, 0)         \
	X(loop, TC_END, TR_LOOP, CO_NONE, "loop 0x", NULL, P_NORIP, 2)                            \
	X(jcxz, TC_END, TR_JCXZ, CO_NONE, "jecxz 0x", NULL, P_NORIP, 2)                           \
	X(io, TC_CALLOUT, TR_CALLOUT, CO_IO, NULL, "out ", CO, 1)                                 \
	X(strio, TC_CALLOUT, TR_CALLOUT, CO_STRIO, NULL, "outs", CO, 1)                           \
	X(cpuid, TC_CALLOUT, TR_CALLOUT, CO_CPUID, NULL, "cpuid", CO, 1)                          \
	X(rdtsc, TC_CALLOUT, TR_CALLOUT, CO_RDTSC, NULL, "rdtsc", CO, 1)                          \
	X(msr, TC_CALLOUT, TR_CALLOUT, CO_RDMSR, NULL, "rdmsr", CO, 1)                            \
	X(movcr, TC_END, TR_CALLOUT_END, CO_MOVCR, NULL, "cr0", CO, 1)                            \
	X(movdr, TC_CALLOUT, TR_CALLOUT, CO_MOVDR, NULL, "dr7", CO, 1)                            \
	X(dtr, TC_CALLOUT, TR_CALLOUT, CO_DTR, NULL, "lgdt", CO, 1)                               \
	X(segload, TC_END, TR_CALLOUT_END, CO_SEGLOAD, NULL, "mov ds", CO, 1)                     \
	X(segread, TC_CALLOUT, TR_CALLOUT, CO_SEGREAD, NULL, ", ds", CO, 1)                       \
	X(sysdesc, TC_CALLOUT, TR_CALLOUT, CO_SYSDESC, NULL, "ltr", CO, 1)                        \
	X(farjmp, TC_END, TR_CALLOUT_END, CO_FARJMP, NULL, "ljmp", CO, 1)                         \
	X(farcall, TC_END, TR_CALLOUT_END, CO_FARCALL, NULL, "lcall", CO, 1)                      \
	X(farret, TC_END, TR_CALLOUT_END, CO_FARRET, NULL, "ret", CO, 1)                          \
	X(iret, TC_END, TR_CALLOUT_END, CO_IRET, NULL, "iret", CO, 1)                             \
	X(int, TC_END, TR_CALLOUT_END, CO_INT, NULL, "int ", CO, 1)                               \
	X(hlt, TC_END, TR_CALLOUT_END, CO_HLT, NULL, "hlt", CO, 1)                                \
	X(cache, TC_END, TR_CALLOUT_END, CO_CACHE, NULL, "wbinvd", CO, 1)                         \
	X(bcd, TC_CALLOUT, TR_CALLOUT, CO_BCDADJ, NULL, "daa", CO, 1)                             \
	X(bound, TC_END, TR_CALLOUT_END, CO_BOUND, NULL, "bound", CO, 1)                          \
	X(sysenter, TC_END, TR_CALLOUT_END, CO_SYSCALLS, NULL, "sysenter", CO, 1)                 \
	X(fpu, TC_CALLOUT, TR_CALLOUT, CO_FPU, NULL, "fld", CO, 1)                                \
	X(fence, TC_IDENT, TR_COPY, CO_NONE, "lfence", NULL, ID, 1)                                \
	X(ud, TC_END, TR_UD, CO_NONE, NULL, "ud2", CO, 0)

#define ROW_ENTRY(n, c, r, k, w, a, p, l) { #n, c, r, k, w, a, p, l },
static const struct row_case row_cases[] = { ROW_CASES(ROW_ENTRY) };
#define NROW_CASES (sizeof(row_cases) / sizeof(row_cases[0]))

static const struct translator_row *row_by_name(const char *name)
{
	for (size_t i = 0; i < translator_nrows; i++)
		if (strcmp(translator_rows[i].name, name) == 0)
			return &translator_rows[i];
	return NULL;
}

/* Host-side stack use: only pushfq/popfq and push r13 on the private
 * flags stack (r14 = saved rsp) are allowed. */
static void expect_no_host_stack_op(const struct host *h)
{
	static const char *const banned[] = { "push", "pop", "call", "ret", "enter", "leave" };
	for (size_t i = 0; i < h->n; i++) {
		const char *t = h->l[i].text;
		if (strcmp(t, "pushfq") == 0 || strcmp(t, "popfq") == 0 || strcmp(t, "push r13") == 0)
			continue;
		for (size_t k = 0; k < sizeof(banned) / sizeof(banned[0]); k++)
			if (strncmp(t, banned[k], strlen(banned[k])) == 0) {
				dump(h);
				fail_msg("host stack operation \"%s\" at +0x%x", t, h->l[i].off);
			}
	}
}

/* Each direct exit is a jmp/jcc to the link's own stub, which exits to the
 * dispatcher with EXIT_LINK and the link in r14. */
static void expect_exits_to_stubs(const struct host *h)
{
	const struct tcache_unit *u = h->u;
	for (uint32_t i = 0; i < u->nlinks; i++) {
		const struct tcache_link *l = &u->links[i];
		uint64_t stub = tcache_xaddr(&tc, l->stub_off);
		int32_t rel;
		memcpy(&rel, tc.x + l->rel32_off, 4);
		assert_int_equal(tcache_xaddr(&tc, l->rel32_off) + 4 + (int64_t)rel, stub);
		assert_ptr_equal(l->from, u);
		assert_null(l->to);
		bool jumped = false;
		const struct hline *s = NULL;
		for (size_t k = 0; k < h->n; k++) {
			const struct hline *hl = &h->l[k];
			char want[64];
			snprintf(want, sizeof(want), " 0x%llx", (unsigned long long)stub);
			if (hl->text[0] == 'j' && strstr(hl->text, want) &&
			    strlen(strstr(hl->text, want)) == strlen(want))
				jumped = true;
			if (hl->addr == stub)
				s = hl;
		}
		if (!jumped || !s) {
			dump(h);
			fail_msg("exit %u: no jump to its stub at 0x%llx", i, (unsigned long long)stub);
		}
		char exit_link[32];
		snprintf(exit_link, sizeof(exit_link), "mov r13d, %d", EXIT_LINK);
		assert_string_equal(s->text, exit_link);
	}
}

static void check_row(const char *name)
{
	const struct row_case *rc = NULL;
	for (size_t i = 0; i < NROW_CASES; i++)
		if (strcmp(row_cases[i].name, name) == 0)
			rc = &row_cases[i];
	assert_non_null(rc);
	const struct translator_row *row = row_by_name(name);
	assert_non_null(row);
	assert_int_equal(row->cls, rc->cls);
	assert_int_equal(row->rule, rc->rule);
	assert_int_equal(row->callout, rc->callout);

	/* The sample is one instruction of this row. */
	size_t n = load_guest(row->sample);
	struct translator_insn in;
	assert_int_equal(translator_decode(guest, n, GUEST_EIP, &in), 0);
	assert_int_equal(in.zi.length, n);
	assert_ptr_equal(translator_classify(&in), row);

	tcache_flush(&tc);
	/* RDTSC/RDTSCP are copied at CPL 0 unless the TSC is offset. */
	struct tcache_unit *u = translate(row->callout == CO_RDTSC ? TMODE_TSC_OFFSET : 0);
	assert_int_equal(u->ninsns, 1);
	assert_int_equal(u->guest_len, n);
	assert_int_equal(u->nlinks, rc->nlinks);
	static struct host h;
	disassemble(&h, u);

	if (rc->want)
		expect_text(&h, rc->want);
	if (rc->absent)
		expect_no_text(&h, rc->absent);
	if (rc->props & P_NORIP)
		expect_no_text(&h, "rip");
	if (rc->props & P_STACK) {
		expect_no_host_stack_op(&h);
		expect_text(&h, "esp");
	}
	if (rc->props & P_IBL) {
		expect_text(&h, "jrcxz");
		expect_text(&h, "jmp qword ptr [r12 + 8]");
	}
	if (rc->props & P_CALLOUT) {
		const struct translator_callout *co = callout_record(&h);
		if (!co) {
			dump(&h);
			fail_msg("no callout sequence");
		}
		assert_int_equal(co->kind, rc->callout);
		assert_int_equal(co->eip, GUEST_EIP);
		assert_int_equal(co->next_eip, GUEST_EIP + in.zi.length);
		expect_no_copy(&h, guest, n);
	}
	if (rc->props & P_COPY) {
		/* The copied instruction is the only one naming 32-bit address
		 * registers or an absolute operand (never rip). */
		const struct hline *l = find_text(&h, rc->want);
		assert_non_null(l);
		if (strstr(l->text, "ptr ["))
			assert_true(strstr(l->text, "ptr [e") || strstr(l->text, "ptr [0x"));
	}
	expect_exits_to_stubs(&h);
}

#define ROW_TEST(n, c, r, k, w, a, p, l) \
	static void test_row_##n##_when_sample_translated_matches_table(void **state) \
	{ (void)state; check_row(#n); }
ROW_CASES(ROW_TEST)

static void test_row_table_when_counted_covers_every_translator_row(void **state)
{
	(void)state;
	assert_int_equal(NROW_CASES, translator_nrows);
	for (size_t i = 0; i < translator_nrows; i++) {
		bool found = false;
		for (size_t k = 0; k < NROW_CASES; k++)
			found |= strcmp(row_cases[k].name, translator_rows[i].name) == 0;
		if (!found)
			fail_msg("row \"%s\" has no test", translator_rows[i].name);
	}
}

/* ---- instructions that are not on the whitelist ---- */

struct offlist_case {
	const char *name, *hex;
	const char *absent;	/* host mnemonic the instruction would show as */
};

/* X(name, bytes, mnemonic that must not appear in the host code) */
#define OFFLIST_CASES(X)                                  \
	X(popcnt, "f3 0f b8 c0", "popcnt")                \
	X(vzeroupper, "c5 f8 77", "vzeroupper")           \
	X(rdrand, "0f c7 f0", "rdrand")                   \
	X(syscall, "0f 05", "syscall")                    \
	X(arpl, "63 c0", "movsxd")                        \
	X(daa, "27", "daa")                               \
	X(lds, "c5 03", "lds")                            \
	X(les, "c4 03", "les")                            \
	X(bound, "62 03", "bound")                        \
	X(pusha, "60", "pusha")

#define OFFLIST_ENTRY(n, b, a) { #n, b, a },
static const struct offlist_case offlist_cases[] = { OFFLIST_CASES(OFFLIST_ENTRY) };

static void check_offlist(const char *name)
{
	const struct offlist_case *oc = NULL;
	for (size_t i = 0; i < sizeof(offlist_cases) / sizeof(offlist_cases[0]); i++)
		if (strcmp(offlist_cases[i].name, name) == 0)
			oc = &offlist_cases[i];
	assert_non_null(oc);
	size_t n = load_guest(oc->hex);
	struct translator_insn in;
	if (translator_decode(guest, n, GUEST_EIP, &in) == 0)
		assert_int_not_equal(translator_classify(&in)->cls, TC_IDENT);
	tcache_flush(&tc);
	struct tcache_unit *u = translate(0);
	static struct host h;
	disassemble(&h, u);
	expect_no_text(&h, oc->absent);
	expect_no_copy(&h, guest, n);
}

#define OFFLIST_TEST(n, b, a) \
	static void test_offlist_##n##_when_translated_is_not_copied(void **state) \
	{ (void)state; check_offlist(#n); }
OFFLIST_CASES(OFFLIST_TEST)

static void test_popcnt_when_classified_is_ud_not_fpu(void **state)
{
	struct translator_insn in;
	(void)state;
	size_t n = load_guest("f3 0f b8 c0");	/* popcnt: SSE4-era, not advertised */
	assert_int_equal(translator_decode(guest, n, GUEST_EIP, &in), 0);
	assert_string_equal(translator_classify(&in)->name, "ud");
}

/* The FPU-state extensions go to the monitor; the members of those
 * extensions that leave the state alone are copied; later ones are #UD. */
static void expect_row(const char *hex, const char *row)
{
	struct translator_insn in;
	size_t n = load_guest(hex);
	assert_int_equal(translator_decode(guest, n, GUEST_EIP, &in), 0);
	assert_string_equal(translator_classify(&in)->name, row);
}

static void test_fpu_extensions_when_classified_split_by_state_use(void **state)
{
	(void)state;
	expect_row("f2 0f 10 00", "fpu");	/* SSE2 movsd, not the string MOVSD */
	expect_row("a5", "string");		/* movsd (string) */
	expect_row("0f 77", "fpu");		/* emms */
	expect_row("0f ae 00", "fpu");		/* fxsave */
	expect_row("0f ae 10", "fpu");		/* ldmxcsr */
	expect_row("66 0f 6f c1", "fpu");	/* movdqa */
	expect_row("0f ae f0", "fence");	/* mfence */
	expect_row("0f 18 00", "fence");	/* prefetchnta */
	expect_row("0f c3 00", "fence");	/* movnti */
	expect_row("66 0f 38 00 c1", "ud");	/* pshufb: SSSE3, not advertised */
	expect_row("f2 0f 7c c1", "ud");	/* haddps: SSE3 */
	expect_row("0f ae 38", "ud");		/* clflush: CLFSH not advertised */
}

static void test_endbr32_when_classified_is_a_nop(void **state)
{
	struct translator_insn in;
	(void)state;
	size_t n = load_guest("f3 0f 1e fb");	/* endbr32: a reserved NOP without CET */
	assert_int_equal(translator_decode(guest, n, GUEST_EIP, &in), 0);
	assert_string_equal(translator_classify(&in)->name, "nop");
}

/* RDTSC is the host's at CPL 0 with no TSC offset; a callout otherwise. */
static void test_rdtsc_when_cpl0_without_offset_is_copied(void **state)
{
	static struct host h;
	(void)state;
	load_guest("0f 31 90");
	tcache_flush(&tc);
	disassemble(&h, translate(0));
	expect_text(&h, "rdtsc");
	load_guest("0f 01 f9 90");	/* rdtscp: ECX from the vCPU's TSC_AUX */
	tcache_flush(&tc);
	disassemble(&h, translate(0));
	expect_text(&h, "rdtscp");
	expect_text(&h, "mov ecx, dword ptr [r15 + 0x108]");
	load_guest("0f 31 90");
	tcache_flush(&tc);
	disassemble(&h, translate(TMODE_TSC_OFFSET));
	expect_no_text(&h, "rdtsc");
	tcache_flush(&tc);
	disassemble(&h, translate(TMODE_CPLNZ));
	expect_no_text(&h, "rdtsc");
}

static void test_sti_exit_when_translated_chains_past_the_check(void **state)
{
	(void)state;
	load_guest("fb 90");	/* sti; nop */
	tcache_flush(&tc);
	struct tcache_unit *u = translate(0);
	assert_non_null(u);
	assert_int_equal(u->nlinks, 1);
	/* The instruction after STI is in its shadow: the chained exit skips
	 * the next unit's exit-request check (an interrupt already waiting
	 * leaves through the EXIT_SHADOW path instead). */
	assert_false(u->links[0].check);
	struct tcache_unit *next = translator_translate(&tr, GUEST_EIP + 1, 0);
	assert_non_null(next);
	tcache_link(&tc, &u->links[0], next);
	int32_t rel;
	memcpy(&rel, tc.x + u->links[0].rel32_off, 4);
	assert_int_equal(tcache_xaddr(&tc, u->links[0].rel32_off + 4) + (int64_t)rel,
			 tcache_xaddr(&tc, next->code_off + next->body_off));
}

/* ---- memory operands ---- */

static void test_fs_operand_when_fs_has_base_adds_base_through_r11(void **state)
{
	static const char *const seq[] = {
		"lea r11d, [ebx]",
		"mov r12d, dword ptr [r15 + 0x88]",	/* VCPU_SEG_BASE + 4 * S_FS */
		"lea r11d, [r11d + r12d]",
		"mov eax, dword ptr [r11d]",
	};
	static struct host h;
	(void)state;
	assert_int_equal(VCPU_SEG_BASE + 4 * S_FS, 0x88);
	load_guest("64 8b 03");	/* mov eax, fs:[ebx] */
	tcache_flush(&tc);
	disassemble(&h, translate(TMODE_SEGBASE(S_FS)));
	expect_sequence(&h, seq, sizeof(seq) / sizeof(seq[0]));
	expect_no_text(&h, "rip");
}

static void test_fs_operand_when_mode_zero_copies_plain(void **state)
{
	static struct host h;
	(void)state;
	load_guest("64 8b 03");
	tcache_flush(&tc);
	disassemble(&h, translate(0));
	expect_text(&h, "mov eax, dword ptr [ebx]");
	expect_no_text(&h, "r15 + 0x88");
	expect_no_text(&h, "r11d");
	expect_no_text(&h, "fs:");
}

static void test_fs_operand_when_other_segment_has_base_copies_plain(void **state)
{
	static struct host h;
	(void)state;
	load_guest("64 8b 03");
	tcache_flush(&tc);
	disassemble(&h, translate(TMODE_SEGBASE(S_GS)));
	expect_text(&h, "mov eax, dword ptr [ebx]");
	expect_no_text(&h, "r15 + 0x88");
	expect_no_text(&h, "r15 + 0x8c");
	expect_no_text(&h, "r11d");
}

static void test_high8_fs_operand_when_fs_has_base_parks_register_in_r12(void **state)
{
	static struct host h;
	(void)state;
	load_guest("64 8a 23");	/* mov ah, fs:[ebx] */
	tcache_flush(&tc);
	struct tcache_unit *u = translate(TMODE_SEGBASE(S_FS));
	disassemble(&h, u);
	expect_text(&h, "r15 + 0x88");
	/* With a REX prefix (needed for r11) AH would be SPL. */
	expect_no_text(&h, "spl");
	expect_no_text(&h, "byte ptr [r11");
	const struct hline *acc = find_text(&h, "mov ah, byte ptr [e");
	if (!acc) {
		dump(&h);
		fail_msg("no access through a parked 32-bit register");
	}
	/* The access is covered by a RESTORE_FROM_R12 entry naming the
	 * parked register, which is saved in r12 before and restored after. */
	const struct tcache_pcmap *pm = tcache_pcmap_at(&tc, u, acc->addr);
	assert_non_null(pm);
	assert_int_equal(pm->fixup, TCACHE_FIXUP_RESTORE_FROM_R12);
	assert_int_equal(pm->eip, GUEST_EIP);
	static const char *const names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	assert_true(pm->fixup_reg < 8 && pm->fixup_reg != 0 && pm->fixup_reg != 4);
	char save[32], restore[32], addr[48];
	snprintf(save, sizeof(save), "mov r12d, %s", names[pm->fixup_reg]);
	snprintf(restore, sizeof(restore), "mov %s, r12d", names[pm->fixup_reg]);
	snprintf(addr, sizeof(addr), "mov ah, byte ptr [%s]", names[pm->fixup_reg]);
	const char *const seq[] = { save, addr, restore };
	expect_sequence(&h, seq, 3);
	bool found = false;
	for (uint32_t i = 0; i < u->npcmap; i++)
		found |= u->pcmap[i].fixup == TCACHE_FIXUP_RESTORE_FROM_R12;
	assert_true(found);
}

static void test_disp32_operand_when_translated_is_absolute_not_rip(void **state)
{
	static struct host h;
	(void)state;
	load_guest("8b 05 00 10 00 00");	/* mov eax, [0x1000] */
	tcache_flush(&tc);
	disassemble(&h, translate(0));
	const struct hline *l = find_text(&h, "mov eax, dword ptr [0x1000]");
	if (!l) {
		dump(&h);
		fail_msg("no absolute [0x1000] access");
	}
	/* 67 8B 04 25 disp32: SIB with no base and no index. */
	static const uint8_t want[] = { 0x67, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00 };
	assert_int_equal(l->size, sizeof(want));
	assert_memory_equal(l->bytes, want, sizeof(want));
	expect_no_text(&h, "rip");
}

static void test_one_byte_inc_when_translated_becomes_ff_c0(void **state)
{
	static struct host h;
	(void)state;
	load_guest("40");	/* inc eax; a REX prefix in 64-bit mode */
	tcache_flush(&tc);
	disassemble(&h, translate(0));
	const struct hline *l = find_text(&h, "inc eax");
	if (!l) {
		dump(&h);
		fail_msg("no inc eax");
	}
	static const uint8_t want[] = { 0xff, 0xc0 };
	assert_int_equal(l->size, 2);
	assert_memory_equal(l->bytes, want, 2);
}

static void test_one_byte_dec_when_16bit_becomes_66_ff_cf(void **state)
{
	static struct host h;
	(void)state;
	load_guest("66 4f");	/* dec di */
	tcache_flush(&tc);
	disassemble(&h, translate(0));
	const struct hline *l = find_text(&h, "dec di");
	if (!l) {
		dump(&h);
		fail_msg("no dec di");
	}
	static const uint8_t want[] = { 0x66, 0xff, 0xcf };
	assert_int_equal(l->size, 3);
	assert_memory_equal(l->bytes, want, 3);
}

int main(void)
{
#define ROW_UNIT(n, c, r, k, w, a, p, l) \
	cmocka_unit_test(test_row_##n##_when_sample_translated_matches_table),
#define OFFLIST_UNIT(n, b, a) cmocka_unit_test(test_offlist_##n##_when_translated_is_not_copied),
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_table_when_counted_covers_every_translator_row),
		ROW_CASES(ROW_UNIT)
		OFFLIST_CASES(OFFLIST_UNIT)
		cmocka_unit_test(test_popcnt_when_classified_is_ud_not_fpu),
		cmocka_unit_test(test_fpu_extensions_when_classified_split_by_state_use),
		cmocka_unit_test(test_endbr32_when_classified_is_a_nop),
		cmocka_unit_test(test_rdtsc_when_cpl0_without_offset_is_copied),
		cmocka_unit_test(test_sti_exit_when_translated_chains_past_the_check),
		cmocka_unit_test(test_fs_operand_when_fs_has_base_adds_base_through_r11),
		cmocka_unit_test(test_fs_operand_when_mode_zero_copies_plain),
		cmocka_unit_test(test_fs_operand_when_other_segment_has_base_copies_plain),
		cmocka_unit_test(test_high8_fs_operand_when_fs_has_base_parks_register_in_r12),
		cmocka_unit_test(test_disp32_operand_when_translated_is_absolute_not_rip),
		cmocka_unit_test(test_one_byte_inc_when_translated_becomes_ff_c0),
		cmocka_unit_test(test_one_byte_dec_when_16bit_becomes_66_ff_cf),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
