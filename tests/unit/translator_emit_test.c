/*
 * tests/unit/translator_emit_test.c: the em_* x86-64 encoders of
 * translator/emit.c, checked against Capstone's text of what they emit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <capstone/capstone.h>

#include "translator/internal.h"

#define XBASE 0x7f0000001000ull	/* where the code would run */
#define BUFSZ 64
#define CANARY 0xaa

static csh cs;
static uint8_t buf[BUFSZ];

static int group_setup(void **state)
{
	(void)state;
	return cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	cs_close(&cs);
	return 0;
}

static struct emitter fresh(uint64_t x, size_t cap)
{
	memset(buf, CANARY, sizeof(buf));
	return (struct emitter){ .w = buf, .x = x, .cap = cap };
}

/* Disassembles exactly one instruction spanning everything emitted. */
static void one_insn(const struct emitter *e, char *text, size_t n)
{
	cs_insn *insn;
	size_t cnt = cs_disasm(cs, e->w, e->pos, e->x, 1, &insn);
	if (cnt != 1)
		fail_msg("emitted bytes do not disassemble");
	if (insn[0].size != e->pos) {
		print_message("    %s %s (%u of %zu bytes)\n", insn[0].mnemonic, insn[0].op_str,
			      insn[0].size, e->pos);
		cs_free(insn, cnt);
		fail_msg("emitted more than one instruction");
	}
	if (insn[0].op_str[0])
		snprintf(text, n, "%s %s", insn[0].mnemonic, insn[0].op_str);
	else
		snprintf(text, n, "%s", insn[0].mnemonic);
	cs_free(insn, cnt);
}

static void expect_insn(const struct emitter *e, const char *want, size_t len, const char *what)
{
	char text[200];
	assert_false(e->full);
	one_insn(e, text, sizeof(text));
	if (strcmp(text, want) != 0 || e->pos != len)
		fail_msg("%s: got \"%s\" (%zu bytes), want \"%s\" (%zu bytes)", what, text, e->pos,
			 want, len);
}

/* ---- memory operands: mov eax, dword ptr [m] through em_load32 ---- */

struct mem_case {
	int base, index, scale;
	int32_t disp;
	bool a32;
	const char *text;
	size_t len;
};

static void run_mem_cases(const struct mem_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct emitter e = fresh(XBASE, BUFSZ);
		struct hmem m = { c[i].base, c[i].index, c[i].scale, c[i].disp };
		char what[64];
		snprintf(what, sizeof(what), "case %zu (base %d index %d disp %d a32 %d)", i,
			 c[i].base, c[i].index, c[i].disp, c[i].a32);
		assert_true(em_load32(&e, HR_RAX, &m, c[i].a32));
		expect_insn(&e, c[i].text, c[i].len, what);
		assert_int_equal(buf[0] == 0x67, c[i].a32);
		assert_int_equal(buf[e.pos], CANARY);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* rbp/r13 with disp 0 still take a disp8 (mod=00 would mean no base / rip);
 * rsp/r12 need a SIB byte. */
static const struct mem_case base_disp0[] = {
	{ HR_RAX, -1, 1, 0, false, "mov eax, dword ptr [rax]", 2 },
	{ HR_RCX, -1, 1, 0, false, "mov eax, dword ptr [rcx]", 2 },
	{ HR_RDX, -1, 1, 0, false, "mov eax, dword ptr [rdx]", 2 },
	{ HR_RBX, -1, 1, 0, false, "mov eax, dword ptr [rbx]", 2 },
	{ HR_RSP, -1, 1, 0, false, "mov eax, dword ptr [rsp]", 3 },
	{ HR_RBP, -1, 1, 0, false, "mov eax, dword ptr [rbp]", 3 },
	{ HR_RSI, -1, 1, 0, false, "mov eax, dword ptr [rsi]", 2 },
	{ HR_RDI, -1, 1, 0, false, "mov eax, dword ptr [rdi]", 2 },
	{ HR_R8, -1, 1, 0, false, "mov eax, dword ptr [r8]", 3 },
	{ HR_R9, -1, 1, 0, false, "mov eax, dword ptr [r9]", 3 },
	{ HR_R10, -1, 1, 0, false, "mov eax, dword ptr [r10]", 3 },
	{ HR_R11, -1, 1, 0, false, "mov eax, dword ptr [r11]", 3 },
	{ HR_R12, -1, 1, 0, false, "mov eax, dword ptr [r12]", 4 },
	{ HR_R13, -1, 1, 0, false, "mov eax, dword ptr [r13]", 4 },
	{ HR_R14, -1, 1, 0, false, "mov eax, dword ptr [r14]", 3 },
	{ HR_R15, -1, 1, 0, false, "mov eax, dword ptr [r15]", 3 },
};

static const struct mem_case base_disp8[] = {
	{ HR_RAX, -1, 1, 0x10, false, "mov eax, dword ptr [rax + 0x10]", 3 },
	{ HR_RCX, -1, 1, -0x80, false, "mov eax, dword ptr [rcx - 0x80]", 3 },
	{ HR_RDX, -1, 1, 0x7f, false, "mov eax, dword ptr [rdx + 0x7f]", 3 },
	{ HR_RBX, -1, 1, -1, false, "mov eax, dword ptr [rbx - 1]", 3 },
	{ HR_RSP, -1, 1, 0x10, false, "mov eax, dword ptr [rsp + 0x10]", 4 },
	{ HR_RBP, -1, 1, 0x10, false, "mov eax, dword ptr [rbp + 0x10]", 3 },
	{ HR_RSI, -1, 1, 0x10, false, "mov eax, dword ptr [rsi + 0x10]", 3 },
	{ HR_RDI, -1, 1, 0x10, false, "mov eax, dword ptr [rdi + 0x10]", 3 },
	{ HR_R8, -1, 1, 0x10, false, "mov eax, dword ptr [r8 + 0x10]", 4 },
	{ HR_R9, -1, 1, 0x10, false, "mov eax, dword ptr [r9 + 0x10]", 4 },
	{ HR_R10, -1, 1, 0x10, false, "mov eax, dword ptr [r10 + 0x10]", 4 },
	{ HR_R11, -1, 1, 0x10, false, "mov eax, dword ptr [r11 + 0x10]", 4 },
	{ HR_R12, -1, 1, 0x10, false, "mov eax, dword ptr [r12 + 0x10]", 5 },
	{ HR_R13, -1, 1, 0x10, false, "mov eax, dword ptr [r13 + 0x10]", 4 },
	{ HR_R14, -1, 1, 0x10, false, "mov eax, dword ptr [r14 + 0x10]", 4 },
	{ HR_R15, -1, 1, 0x2c, false, "mov eax, dword ptr [r15 + 0x2c]", 4 },
};

static const struct mem_case base_disp32[] = {
	{ HR_RAX, -1, 1, 0x80, false, "mov eax, dword ptr [rax + 0x80]", 6 },
	{ HR_RCX, -1, 1, -0x81, false, "mov eax, dword ptr [rcx - 0x81]", 6 },
	{ HR_RDX, -1, 1, 0x12345678, false, "mov eax, dword ptr [rdx + 0x12345678]", 6 },
	{ HR_RBX, -1, 1, -0x12345678, false, "mov eax, dword ptr [rbx - 0x12345678]", 6 },
	{ HR_RSP, -1, 1, 0x1000, false, "mov eax, dword ptr [rsp + 0x1000]", 7 },
	{ HR_RBP, -1, 1, 0x1000, false, "mov eax, dword ptr [rbp + 0x1000]", 6 },
	{ HR_RSI, -1, 1, 0x1000, false, "mov eax, dword ptr [rsi + 0x1000]", 6 },
	{ HR_RDI, -1, 1, 0x1000, false, "mov eax, dword ptr [rdi + 0x1000]", 6 },
	{ HR_R8, -1, 1, 0x1000, false, "mov eax, dword ptr [r8 + 0x1000]", 7 },
	{ HR_R9, -1, 1, 0x1000, false, "mov eax, dword ptr [r9 + 0x1000]", 7 },
	{ HR_R10, -1, 1, 0x1000, false, "mov eax, dword ptr [r10 + 0x1000]", 7 },
	{ HR_R11, -1, 1, 0x1000, false, "mov eax, dword ptr [r11 + 0x1000]", 7 },
	{ HR_R12, -1, 1, 0x1000, false, "mov eax, dword ptr [r12 + 0x1000]", 8 },
	{ HR_R13, -1, 1, 0x1000, false, "mov eax, dword ptr [r13 + 0x1000]", 7 },
	{ HR_R14, -1, 1, 0x1000, false, "mov eax, dword ptr [r14 + 0x1000]", 7 },
	{ HR_R15, -1, 1, 0x88, false, "mov eax, dword ptr [r15 + 0x88]", 7 },
};

static const struct mem_case index_forms[] = {
	{ HR_RAX, HR_RCX, 2, 0, false, "mov eax, dword ptr [rax + rcx*2]", 3 },
	{ HR_RBX, HR_R9, 4, 8, false, "mov eax, dword ptr [rbx + r9*4 + 8]", 5 },
	{ HR_R13, HR_R12, 8, 0, false, "mov eax, dword ptr [r13 + r12*8]", 5 },
	{ HR_RSP, HR_RBP, 1, 0, false, "mov eax, dword ptr [rsp + rbp]", 3 },
	{ HR_RBP, HR_RAX, 1, 0, false, "mov eax, dword ptr [rbp + rax]", 4 },
	{ HR_R12, HR_R11, 1, -0x100, false, "mov eax, dword ptr [r12 + r11 - 0x100]", 8 },
	{ HR_R15, HR_R15, 2, 0x10, false, "mov eax, dword ptr [r15 + r15*2 + 0x10]", 5 },
	{ -1, HR_RCX, 4, 0x1000, false, "mov eax, dword ptr [rcx*4 + 0x1000]", 7 },
	{ -1, HR_R10, 8, 0, false, "mov eax, dword ptr [r10*8]", 8 },
	{ HR_RSI, HR_RDI, 4, 0, true, "mov eax, dword ptr [esi + edi*4]", 4 },
	{ HR_RSP, HR_RSI, 2, -8, true, "mov eax, dword ptr [esp + esi*2 - 8]", 5 },
	{ -1, HR_RBX, 2, 0x2000, true, "mov eax, dword ptr [ebx*2 + 0x2000]", 8 },
};

/* No base: SIB base=101 with mod=00, never the mod=00 rm=101 rip form. */
static const struct mem_case absolute[] = {
	{ -1, -1, 1, 0x1000, false, "mov eax, dword ptr [0x1000]", 7 },
	{ -1, -1, 1, 0, false, "mov eax, dword ptr [0]", 7 },
	/* Capstone 4 prints the disp32 unextended; without 0x67 the CPU
	 * sign-extends it (the 0x67 byte itself is checked separately). */
	{ -1, -1, 1, -16, false, "mov eax, dword ptr [0xfffffff0]", 7 },
	{ -1, -1, 1, 0x1000, true, "mov eax, dword ptr [0x1000]", 8 },
	{ -1, -1, 1, -16, true, "mov eax, dword ptr [0xfffffff0]", 8 },
};

/* 0x67: 32-bit address arithmetic, shown with 32-bit register names. */
static const struct mem_case a32_forms[] = {
	{ HR_RBX, -1, 1, 4, true, "mov eax, dword ptr [ebx + 4]", 4 },
	{ HR_RSP, -1, 1, 0, true, "mov eax, dword ptr [esp]", 4 },
	{ HR_RBP, -1, 1, 0, true, "mov eax, dword ptr [ebp]", 4 },
	{ HR_R8, -1, 1, 0, true, "mov eax, dword ptr [r8d]", 4 },
	{ HR_R11, -1, 1, -4, true, "mov eax, dword ptr [r11d - 4]", 5 },
	{ HR_R12, -1, 1, 0, true, "mov eax, dword ptr [r12d]", 5 },
	{ HR_R13, -1, 1, 0, true, "mov eax, dword ptr [r13d]", 5 },
	{ HR_RAX, -1, 1, 0x12345678, true, "mov eax, dword ptr [eax + 0x12345678]", 7 },
};

static void test_em_load32_when_base_disp0_encodes_table(void **state)
{
	(void)state;
	run_mem_cases(base_disp0, N(base_disp0));
}

static void test_em_load32_when_base_disp8_encodes_table(void **state)
{
	(void)state;
	run_mem_cases(base_disp8, N(base_disp8));
}

static void test_em_load32_when_base_disp32_encodes_table(void **state)
{
	(void)state;
	run_mem_cases(base_disp32, N(base_disp32));
}

static void test_em_load32_when_index_encodes_table(void **state)
{
	(void)state;
	run_mem_cases(index_forms, N(index_forms));
}

static void test_em_load32_when_no_base_encodes_absolute_sib(void **state)
{
	(void)state;
	run_mem_cases(absolute, N(absolute));
	/* and the ModRM/SIB bytes are the SIB-absolute form */
	struct emitter e = fresh(XBASE, BUFSZ);
	struct hmem m = { -1, -1, 1, 0x1000 };
	static const uint8_t want[] = { 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00 };
	assert_true(em_load32(&e, HR_RAX, &m, false));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_em_load32_when_a32_uses_32bit_address(void **state)
{
	(void)state;
	run_mem_cases(a32_forms, N(a32_forms));
}

/* ---- the other typed encoders ---- */

enum form {
	F_LOAD32, F_STORE32, F_LOAD64, F_STORE64, F_LEA32, F_LEA64, F_MOV32_RR, F_MOV64_RR,
	F_MOV32_RI, F_STORE8_I, F_STORE32_I, F_JMP_MEM, F_RR_66_MOV, F_MEM_66_MOV,
};

struct form_case {
	enum form f;
	int reg;		/* dst/src register */
	struct hmem m;
	bool a32;
	uint64_t imm;
	const char *text;
	const char *hex;	/* expected bytes */
};

static const struct form_case form_cases[] = {
	{ F_LOAD32, HR_R13, { HR_RBP, -1, 1, 0 }, true, 0, "mov r13d, dword ptr [ebp]", "67448b6d00" },
	{ F_STORE32, HR_RBX, { HR_RSP, -1, 1, -4 }, true, 0, "mov dword ptr [esp - 4], ebx", "67895c24fc" },
	{ F_STORE32, HR_R14, { HR_R15, -1, 1, 0x28 }, false, 0, "mov dword ptr [r15 + 0x28], r14d", "45897728" },
	{ F_LOAD64, HR_R12, { HR_R15, -1, 1, 0x68 }, false, 0, "mov r12, qword ptr [r15 + 0x68]", "4d8b6768" },
	{ F_STORE64, HR_R13, { HR_R15, -1, 1, 0xb0 }, false, 0, "mov qword ptr [r15 + 0xb0], r13", "4d89afb0000000" },
	{ F_LEA32, HR_R11, { HR_R11, HR_R12, 1, 0 }, true, 0, "lea r11d, [r11d + r12d]", "67478d1c23" },
	{ F_LEA32, HR_RSP, { HR_RSP, -1, 1, -4 }, true, 0, "lea esp, [esp - 4]", "678d6424fc" },
	{ F_LEA64, HR_R12, { HR_R12, HR_R13, 8, 0 }, false, 0, "lea r12, [r12 + r13*8]", "4f8d24ec" },
	{ F_LEA64, HR_RSP, { HR_R15, -1, 1, 0xb0 }, false, 0, "lea rsp, [r15 + 0xb0]", "498da7b0000000" },
	{ F_MOV32_RR, HR_R12, { HR_RSI, -1, 1, 0 }, false, 0, "mov r12d, esi", "4189f4" },
	{ F_MOV32_RR, HR_RSI, { HR_R11, -1, 1, 0 }, false, 0, "mov esi, r11d", "4489de" },
	{ F_MOV64_RR, HR_RCX, { HR_R11, -1, 1, 0 }, false, 0, "mov rcx, r11", "4c89d9" },
	{ F_MOV64_RR, HR_R11, { HR_RCX, -1, 1, 0 }, false, 0, "mov r11, rcx", "4989cb" },
	{ F_MOV32_RI, HR_R13, { 0 }, false, 3, "mov r13d, 3", "41bd03000000" },
	{ F_MOV32_RI, HR_RAX, { 0 }, false, 0xffffffff, "mov eax, 0xffffffff", "b8ffffffff" },
	{ F_STORE8_I, 0, { HR_R15, -1, 1, 0x2c }, false, 1, "mov byte ptr [r15 + 0x2c], 1", "41c6472c01" },
	{ F_STORE8_I, 0, { HR_RAX, -1, 1, 0 }, false, 0xff, "mov byte ptr [rax], 0xff", "c600ff" },
	{ F_STORE32_I, 0, { HR_RSP, -1, 1, -4 }, true, 0x100005, "mov dword ptr [esp - 4], 0x100005", "67c74424fc05001000" },
	{ F_JMP_MEM, 0, { HR_R15, -1, 1, 0x58 }, false, 0, "jmp qword ptr [r15 + 0x58]", "41ff6758" },
	{ F_JMP_MEM, 0, { HR_R12, -1, 1, 8 }, false, 0, "jmp qword ptr [r12 + 8]", "41ff642408" },
	{ F_RR_66_MOV, HR_RDI, { HR_R13, -1, 1, 0 }, false, 0, "mov di, r13w", "664489ef" },
	{ F_MEM_66_MOV, HR_R13, { HR_RSP, -1, 1, -2 }, true, 0, "mov word ptr [esp - 2], r13w", "666744896c24fe" },
};

static size_t parse_hex(const char *s, uint8_t *out)
{
	size_t n = 0;
	unsigned v;
	for (; s[0] && s[1]; s += 2) {
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static bool emit_form(struct emitter *e, const struct form_case *c)
{
	static const uint8_t p66 = 0x66, mov_store = 0x89;
	switch (c->f) {
	case F_LOAD32: return em_load32(e, c->reg, &c->m, c->a32);
	case F_STORE32: return em_store32(e, &c->m, c->reg, c->a32);
	case F_LOAD64: return em_load64(e, c->reg, &c->m);
	case F_STORE64: return em_store64(e, &c->m, c->reg);
	case F_LEA32: return em_lea32(e, c->reg, &c->m, c->a32);
	case F_LEA64: return em_lea64(e, c->reg, &c->m);
	case F_MOV32_RR: return em_mov32_rr(e, c->reg, c->m.base);
	case F_MOV64_RR: return em_mov64_rr(e, c->reg, c->m.base);
	case F_MOV32_RI: return em_mov32_ri(e, c->reg, (uint32_t)c->imm);
	case F_STORE8_I: return em_store8_i(e, &c->m, (uint8_t)c->imm);
	case F_STORE32_I: return em_store32_i(e, &c->m, (uint32_t)c->imm, c->a32);
	case F_JMP_MEM: return em_jmp_mem(e, &c->m);
	case F_RR_66_MOV: return em_rr(e, &p66, 1, false, &mov_store, 1, c->m.base, c->reg);
	case F_MEM_66_MOV: return em_mem(e, &p66, 1, c->a32, false, &mov_store, 1, c->reg, &c->m);
	}
	return false;
}

static void test_em_forms_when_emitted_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(form_cases); i++) {
		struct emitter e = fresh(XBASE, BUFSZ);
		uint8_t want[16];
		size_t n = parse_hex(form_cases[i].hex, want);
		char what[32];
		snprintf(what, sizeof(what), "form case %zu", i);
		assert_true(emit_form(&e, &form_cases[i]));
		expect_insn(&e, form_cases[i].text, n, what);
		assert_memory_equal(buf, want, n);
	}
}

/* ---- em_mov64_ri ---- */

struct ri64_case {
	int reg;
	uint64_t imm;
	const char *text;
	uint8_t rex, op;
};

static const struct ri64_case ri64_cases[] = {
	{ HR_RAX, 0x123456789abcdef0ull, "movabs rax, 0x123456789abcdef0", 0x48, 0xb8 },
	{ HR_RDI, 0xffffffffffffffffull, "movabs rdi, 0xffffffffffffffff", 0x48, 0xbf },
	{ HR_R8, 0x100000, "movabs r8, 0x100000", 0x49, 0xb8 },
	{ HR_R14, 1, "movabs r14, 1", 0x49, 0xbe },
	{ HR_R15, 0x7fc43ef1d080ull, "movabs r15, 0x7fc43ef1d080", 0x49, 0xbf },
};

static void test_em_mov64_ri_when_emitted_is_full_imm64(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(ri64_cases); i++) {
		struct emitter e = fresh(XBASE, BUFSZ);
		uint64_t imm;
		assert_true(em_mov64_ri(&e, ri64_cases[i].reg, ri64_cases[i].imm));
		expect_insn(&e, ri64_cases[i].text, 10, ri64_cases[i].text);
		assert_int_equal(buf[0], ri64_cases[i].rex);
		assert_int_equal(buf[1], ri64_cases[i].op);
		memcpy(&imm, buf + 2, 8);
		assert_int_equal(imm, ri64_cases[i].imm);
	}
}

/* ---- rel32 branches ---- */

struct rel_case {
	size_t at;		/* pad bytes emitted first */
	int64_t delta;		/* target - XBASE */
	const char *text_fmt;	/* with the target address */
};

static const struct rel_case jmp_cases[] = {
	{ 0, 0x100, "jmp 0x%llx" },
	{ 0, 5, "jmp 0x%llx" },		/* rel32 = 0 */
	{ 0, 0, "jmp 0x%llx" },		/* to itself: rel32 = -5 */
	{ 3, -0x1000, "jmp 0x%llx" },
	{ 7, 0x7fff0000, "jmp 0x%llx" },
};

static void test_em_jmp_rel32_when_emitted_reaches_target(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(jmp_cases); i++) {
		struct emitter e = fresh(XBASE, BUFSZ);
		for (size_t k = 0; k < jmp_cases[i].at; k++)
			assert_true(em_u8(&e, 0x90));
		struct emitter j = e;	/* disassemble the jmp alone */
		uint64_t target = XBASE + (uint64_t)jmp_cases[i].delta;
		assert_true(em_jmp_rel32(&e, target));
		assert_int_equal(e.pos, jmp_cases[i].at + 5);
		j.w = buf + jmp_cases[i].at;
		j.x = XBASE + jmp_cases[i].at;
		j.pos = 5;
		char want[64];
		snprintf(want, sizeof(want), jmp_cases[i].text_fmt, (unsigned long long)target);
		expect_insn(&j, want, 5, want);
		assert_int_equal(buf[jmp_cases[i].at], 0xe9);
	}
}

static const char *const jcc_names[16] = {
	"jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
	"js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg",
};

static void test_em_jcc_rel32_when_emitted_has_condition_and_target(void **state)
{
	(void)state;
	for (int cc = 0; cc < 16; cc++) {
		struct emitter e = fresh(XBASE, BUFSZ);
		uint64_t target = XBASE + 0x40 - 0x10 * (uint64_t)cc;
		assert_true(em_jcc_rel32(&e, cc, target));
		char want[64];
		snprintf(want, sizeof(want), "%s 0x%llx", jcc_names[cc], (unsigned long long)target);
		expect_insn(&e, want, 6, want);
		assert_int_equal(buf[0], 0x0f);
		assert_int_equal(buf[1], 0x80 + cc);
	}
}

static void test_em_fix_rel32_when_called_retargets_branch(void **state)
{
	(void)state;
	struct emitter e = fresh(XBASE, BUFSZ);
	assert_true(em_u8(&e, 0x90));
	assert_true(em_jmp_rel32(&e, 0));
	em_fix_rel32(&e, e.pos, XBASE + 0x1234);
	struct emitter j = e;
	j.w = buf + 1;
	j.x = XBASE + 1;
	j.pos = 5;
	char want[64];
	snprintf(want, sizeof(want), "jmp 0x%llx", (unsigned long long)(XBASE + 0x1234));
	expect_insn(&j, want, 5, want);
}

/* ---- em_align_rel32 ---- */

struct align_case {
	unsigned xmod;	/* (x + pos) mod 4 before aligning */
	int opc_len;
	size_t pad;	/* NOPs expected */
};

static const struct align_case align_cases[] = {
	{ 0, 1, 3 }, { 1, 1, 2 }, { 2, 1, 1 }, { 3, 1, 0 },
	{ 0, 2, 2 }, { 1, 2, 1 }, { 2, 2, 0 }, { 3, 2, 3 },
};

static void test_em_align_rel32_when_padded_aligns_rel32(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(align_cases); i++) {
		const struct align_case *c = &align_cases[i];
		/* Both through x and through pos. */
		for (int via_pos = 0; via_pos < 2; via_pos++) {
			struct emitter e = fresh(XBASE + (via_pos ? 0 : c->xmod), BUFSZ);
			size_t start = via_pos ? c->xmod : 0;
			for (size_t k = 0; k < start; k++)
				assert_true(em_u8(&e, 0xcc));
			assert_true(em_align_rel32(&e, c->opc_len));
			assert_int_equal(e.pos - start, c->pad);
			for (size_t k = start; k < e.pos; k++)
				assert_int_equal(buf[k], 0x90);
			bool ok = c->opc_len == 1 ? em_jmp_rel32(&e, XBASE) : em_jcc_rel32(&e, 4, XBASE);
			assert_true(ok);
			assert_int_equal((e.x + e.pos - 4) % 4, 0);
		}
	}
}

/* ---- a full buffer ---- */

static void expect_canary_from(size_t from)
{
	for (size_t k = from; k < BUFSZ; k++)
		if (buf[k] != CANARY)
			fail_msg("byte %zu written past the capacity", k);
}

static void test_em_u32_when_no_room_returns_false_and_sets_full(void **state)
{
	(void)state;
	struct emitter e = fresh(XBASE, 3);
	assert_false(em_u32(&e, 0x11223344));
	assert_true(e.full);
	assert_int_equal(e.pos, 0);
	expect_canary_from(0);
}

static void test_em_u8_when_full_stays_full(void **state)
{
	(void)state;
	struct emitter e = fresh(XBASE, 3);
	assert_false(em_u32(&e, 0));
	assert_false(em_u8(&e, 0x90));	/* it would fit, but the unit is abandoned */
	assert_true(e.full);
	assert_int_equal(e.pos, 0);
}

static void test_em_u32_when_exact_fit_succeeds(void **state)
{
	(void)state;
	struct emitter e = fresh(XBASE, 4);
	assert_true(em_u32(&e, 0x11223344));
	assert_false(e.full);
	assert_int_equal(e.pos, 4);
	assert_false(em_u8(&e, 0));
	assert_true(e.full);
	expect_canary_from(4);
}

struct full_case {
	size_t cap;
	int what;	/* 0 mov64_ri, 1 jmp_rel32, 2 jcc_rel32, 3 load32 disp32, 4 align, 5 mem */
};

static const struct full_case full_cases[] = {
	{ 9, 0 }, { 0, 0 }, { 4, 1 }, { 1, 1 }, { 5, 2 }, { 7, 3 }, { 2, 4 }, { 3, 5 },
};

static void test_em_encoders_when_no_room_return_false_within_cap(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(full_cases); i++) {
		const struct full_case *c = &full_cases[i];
		struct emitter e = fresh(XBASE, c->cap);
		struct hmem m = hm_base(HR_R12, 0x1000);	/* 0x67 REX 8B ModRM SIB disp32 */
		static const uint8_t p66 = 0x66, op = 0x89;
		bool ok;
		switch (c->what) {
		case 0: ok = em_mov64_ri(&e, HR_R14, 0x1122334455667788ull); break;
		case 1: ok = em_jmp_rel32(&e, XBASE + 0x100); break;
		case 2: ok = em_jcc_rel32(&e, 4, XBASE + 0x100); break;
		case 3: ok = em_load32(&e, HR_RAX, &m, true); break;
		case 4: ok = em_align_rel32(&e, 1); break;	/* needs 3 NOPs at x%4==0 */
		default: ok = em_mem(&e, &p66, 1, true, false, &op, 1, HR_R13, &m); break;
		}
		if (ok || !e.full)
			fail_msg("full case %zu: ok %d full %d", i, ok, e.full);
		assert_true(e.pos <= c->cap);
		expect_canary_from(c->cap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_em_load32_when_base_disp0_encodes_table),
		cmocka_unit_test(test_em_load32_when_base_disp8_encodes_table),
		cmocka_unit_test(test_em_load32_when_base_disp32_encodes_table),
		cmocka_unit_test(test_em_load32_when_index_encodes_table),
		cmocka_unit_test(test_em_load32_when_no_base_encodes_absolute_sib),
		cmocka_unit_test(test_em_load32_when_a32_uses_32bit_address),
		cmocka_unit_test(test_em_forms_when_emitted_match_table),
		cmocka_unit_test(test_em_mov64_ri_when_emitted_is_full_imm64),
		cmocka_unit_test(test_em_jmp_rel32_when_emitted_reaches_target),
		cmocka_unit_test(test_em_jcc_rel32_when_emitted_has_condition_and_target),
		cmocka_unit_test(test_em_fix_rel32_when_called_retargets_branch),
		cmocka_unit_test(test_em_align_rel32_when_padded_aligns_rel32),
		cmocka_unit_test(test_em_u32_when_no_room_returns_false_and_sets_full),
		cmocka_unit_test(test_em_u8_when_full_stays_full),
		cmocka_unit_test(test_em_u32_when_exact_fit_succeeds),
		cmocka_unit_test(test_em_encoders_when_no_room_return_false_within_cap),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
