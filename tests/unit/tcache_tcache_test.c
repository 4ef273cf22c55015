/*
 * tests/unit/tcache_tcache_test.c: the translation cache: W^X mappings,
 * lookup, host pc -> unit/pcmap, chaining, flush, the IBL table and the
 * metadata arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "translator/translator.h"

#include "tests/unit/translator_fixture.h"

static int setup(void **state)
{
	(void)state;
	if (fixture_init() != 0)
		return -1;
	memset(guest, 0xcc, sizeof(guest));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tcache_destroy(&tc);
	return 0;
}

static void put_guest(uint32_t eip, const char *hex)
{
	unsigned v;
	size_t off = eip - GUEST_EIP;
	for (; hex[0]; hex++) {
		if (hex[0] == ' ')
			continue;
		sscanf(hex, "%2x", &v);
		guest[off++] = (uint8_t)v;
		hex++;
	}
}

/* A unit of `len` bytes of NOPs, committed by hand. */
static struct tcache_unit *commit_raw(uint32_t eip, uint32_t mode, size_t len)
{
	struct tcache_unit *u = tcache_alloc(&tc, sizeof(*u));
	assert_non_null(u);
	memset(u, 0, sizeof(*u));
	u->eip = eip;
	u->mode = mode;
	assert_true(tcache_has_room(&tc, len));
	memset(tc.w + tc.used, 0x90, len);
	tcache_commit(&tc, u, len);
	return u;
}

/* ---- W^X ---- */

struct mapping {
	uint64_t lo, hi;
	char perms[5];
	char path[256];
};

static size_t read_maps(struct mapping *m, size_t cap)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	size_t n = 0;
	assert_non_null(f);
	while (n < cap && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		char perms[8] = "", path[256] = "";
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %255[^\n]", &lo, &hi, perms, path) < 3)
			continue;
		m[n].lo = lo;
		m[n].hi = hi;
		snprintf(m[n].perms, sizeof(m[n].perms), "%s", perms);
		snprintf(m[n].path, sizeof(m[n].path), "%s", path);
		n++;
	}
	fclose(f);
	return n;
}

static const struct mapping *mapping_of(const struct mapping *m, size_t n, const void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;
	for (size_t i = 0; i < n; i++)
		if (a >= m[i].lo && a < m[i].hi)
			return &m[i];
	return NULL;
}

static struct mapping maps[4096];

static void test_x_mapping_when_inspected_is_executable_not_writable(void **state)
{
	(void)state;
	size_t n = read_maps(maps, sizeof(maps) / sizeof(maps[0]));
	for (size_t off = 0; off < CACHE_SIZE; off += CACHE_SIZE / 4) {
		const struct mapping *m = mapping_of(maps, n, tc.x + off);
		assert_non_null(m);
		assert_int_equal(m->perms[0], 'r');
		assert_int_equal(m->perms[1], '-');
		assert_int_equal(m->perms[2], 'x');
	}
}

static void test_w_mapping_when_inspected_is_writable_not_executable(void **state)
{
	(void)state;
	size_t n = read_maps(maps, sizeof(maps) / sizeof(maps[0]));
	for (size_t off = 0; off < CACHE_SIZE; off += CACHE_SIZE / 4) {
		const struct mapping *m = mapping_of(maps, n, tc.w + off);
		assert_non_null(m);
		assert_int_equal(m->perms[0], 'r');
		assert_int_equal(m->perms[1], 'w');
		assert_int_equal(m->perms[2], '-');
	}
}

static void test_memfd_mappings_when_inspected_are_never_both_w_and_x(void **state)
{
	(void)state;
	size_t n = read_maps(maps, sizeof(maps) / sizeof(maps[0]));
	size_t seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strstr(maps[i].path, "bt-tcache"))
			continue;
		seen++;
		if (maps[i].perms[1] == 'w' && maps[i].perms[2] == 'x')
			fail_msg("mapping %llx-%llx is %s", (unsigned long long)maps[i].lo,
				 (unsigned long long)maps[i].hi, maps[i].perms);
	}
	assert_true(seen >= 2);
	assert_ptr_not_equal(tc.x, tc.w);
}

static void test_w_alias_when_written_is_seen_through_x(void **state)
{
	(void)state;
	tc.w[tc.used] = 0x5a;
	assert_int_equal(tc.x[tc.used], 0x5a);
}

/* ---- lookup ---- */

static void test_lookup_when_committed_finds_unit_by_eip_and_mode(void **state)
{
	(void)state;
	struct tcache_unit *a = commit_raw(0x1000, 0, 32);
	struct tcache_unit *b = commit_raw(0x1000, TMODE_SEGBASE(4), 32);
	struct tcache_unit *c = commit_raw(0x2000, 0, 32);
	assert_ptr_equal(tcache_lookup(&tc, 0x1000, 0), a);
	assert_ptr_equal(tcache_lookup(&tc, 0x1000, TMODE_SEGBASE(4)), b);
	assert_ptr_equal(tcache_lookup(&tc, 0x2000, 0), c);
}

static void test_lookup_when_absent_returns_null(void **state)
{
	(void)state;
	commit_raw(0x1000, 0, 32);
	assert_null(tcache_lookup(&tc, 0x1000, 1));
	assert_null(tcache_lookup(&tc, 0x1001, 0));
	assert_null(tcache_lookup(&tc, 0x2000, 0));
}

static void test_lookup_when_many_units_finds_each(void **state)
{
	(void)state;
	static struct tcache_unit *u[5000];
	for (uint32_t i = 0; i < 5000; i++)	/* more than the initial units array */
		u[i] = commit_raw(0x400000 + i * 0x10000, i & 3, 16);
	for (uint32_t i = 0; i < 5000; i++)
		assert_ptr_equal(tcache_lookup(&tc, 0x400000 + i * 0x10000, i & 3), u[i]);
	assert_int_equal(tc.nunits, 5000);
}

static void test_commit_when_called_places_units_16_aligned_in_order(void **state)
{
	(void)state;
	static const size_t lens[] = { 1, 15, 16, 17, 40 };
	size_t at = tc.runtime_end;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct tcache_unit *u = commit_raw(0x1000 + (uint32_t)i, 0, lens[i]);
		assert_int_equal(u->code_off, at);
		assert_int_equal(u->code_len, lens[i]);
		assert_int_equal(u->code_off % 16, 0);
		at = (at + lens[i] + 15) & ~(size_t)15;
		assert_int_equal(tc.used, at);
	}
}

/* ---- host pc -> unit, pcmap ---- */

struct pc_case {
	int unit;		/* 0 or 1: which unit the base is; */
	int64_t delta;		/* pc = x + that unit's code_off + delta */
	int want;		/* expected unit, -1 for NULL */
};

/* Unit 0 is 40 bytes (next unit at +48), unit 1 is 20 bytes. */
static const struct pc_case pc_cases[] = {
	{ 0, 0, 0 },		/* first byte */
	{ 0, 20, 0 },		/* middle */
	{ 0, 39, 0 },		/* last byte */
	{ 0, 40, -1 },		/* padding between the units */
	{ 0, 47, -1 },
	{ 1, 0, 1 },
	{ 1, 19, 1 },
	{ 1, 20, -1 },		/* past the last unit, below used */
	{ 0, -1, -1 },		/* the runtime stubs */
};

static void test_unit_at_when_pc_given_maps_to_table(void **state)
{
	(void)state;
	struct tcache_unit *u[2];
	u[0] = commit_raw(0x1000, 0, 40);
	u[1] = commit_raw(0x2000, 0, 20);
	assert_int_equal(u[1]->code_off, u[0]->code_off + 48);
	for (size_t i = 0; i < sizeof(pc_cases) / sizeof(pc_cases[0]); i++) {
		const struct pc_case *c = &pc_cases[i];
		uint64_t pc = tcache_xaddr(&tc, u[c->unit]->code_off) + (uint64_t)c->delta;
		struct tcache_unit *got = tcache_unit_at(&tc, pc);
		if (got != (c->want < 0 ? NULL : u[c->want]))
			fail_msg("pc case %zu: wrong unit", i);
	}
}

static void test_unit_at_when_pc_outside_cache_returns_null(void **state)
{
	(void)state;
	commit_raw(0x1000, 0, 40);
	assert_null(tcache_unit_at(&tc, tcache_xaddr(&tc, 0) - 1));
	assert_null(tcache_unit_at(&tc, tcache_xaddr(&tc, 0)));
	assert_null(tcache_unit_at(&tc, tcache_xaddr(&tc, tc.used)));
	assert_null(tcache_unit_at(&tc, tcache_xaddr(&tc, CACHE_SIZE)));
	assert_null(tcache_unit_at(&tc, (uint64_t)(uintptr_t)tc.w + tc.runtime_end));
	assert_null(tcache_unit_at(&tc, 0));
}

static void test_unit_at_when_cache_empty_returns_null(void **state)
{
	(void)state;
	assert_null(tcache_unit_at(&tc, tcache_xaddr(&tc, tc.runtime_end)));
}

struct pcmap_case {
	uint32_t off;
	uint32_t eip;
	uint8_t fixup;
};

static void test_pcmap_at_when_pc_given_returns_covering_entry(void **state)
{
	(void)state;
	static struct tcache_pcmap pm[] = {
		{ 0, 0x1000, TCACHE_FIXUP_NONE, 0 },
		{ 10, 0x1002, TCACHE_FIXUP_NONE, 0 },
		{ 25, 0x1005, TCACHE_FIXUP_RESTORE_FROM_R12, 6 },
		{ 30, 0x1005, TCACHE_FIXUP_NONE, 0 },
	};
	static const struct pcmap_case cases[] = {
		{ 0, 0x1000, TCACHE_FIXUP_NONE }, { 9, 0x1000, TCACHE_FIXUP_NONE },
		{ 10, 0x1002, TCACHE_FIXUP_NONE }, { 24, 0x1002, TCACHE_FIXUP_NONE },
		{ 25, 0x1005, TCACHE_FIXUP_RESTORE_FROM_R12 }, { 29, 0x1005, TCACHE_FIXUP_RESTORE_FROM_R12 },
		{ 39, 0x1005, TCACHE_FIXUP_NONE },
	};
	struct tcache_unit *u = commit_raw(0x1000, 0, 40);
	u->pcmap = pm;
	u->npcmap = 4;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcache_pcmap *p =
			tcache_pcmap_at(&tc, u, tcache_xaddr(&tc, u->code_off + cases[i].off));
		assert_non_null(p);
		assert_int_equal(p->eip, cases[i].eip);
		assert_int_equal(p->fixup, cases[i].fixup);
	}
}

static void test_pcmap_at_when_translated_maps_each_insn(void **state)
{
	(void)state;
	/* Three instructions: add, inc, cdq, then the size cap. */
	put_guest(GUEST_EIP, "01 d8 43 99");
	tr.max_insns = 3;
	struct tcache_unit *u = translator_translate(&tr, GUEST_EIP, 0);
	assert_non_null(u);
	assert_int_equal(u->npcmap, 3);
	assert_int_equal(u->pcmap[0].eip, GUEST_EIP);
	assert_int_equal(u->pcmap[1].eip, GUEST_EIP + 2);
	assert_int_equal(u->pcmap[2].eip, GUEST_EIP + 3);
	for (uint32_t i = 0; i < 3; i++) {
		uint64_t pc = tcache_xaddr(&tc, u->code_off + u->pcmap[i].host_off);
		assert_ptr_equal(tcache_unit_at(&tc, pc), u);
		assert_ptr_equal(tcache_pcmap_at(&tc, u, pc), &u->pcmap[i]);
	}
	assert_ptr_equal(tcache_unit_at(&tc, tcache_xaddr(&tc, u->code_off + u->code_len - 1)), u);
}

/* ---- chaining ---- */

static int32_t read_rel32(uint32_t off)
{
	int32_t rel;
	memcpy(&rel, tc.x + off, 4);	/* through the executable alias */
	return rel;
}

static uint64_t rel32_target(uint32_t off)
{
	return tcache_xaddr(&tc, off) + 4 + (int64_t)read_rel32(off);
}

/* Where a chained exit enters: backward (and self) links enter at the
 * exit-request check, forward ones at the body behind it. */
static uint64_t chained_entry(const struct tcache_link *l, const struct tcache_unit *to)
{
	return tcache_xaddr(&tc, to->code_off + (l->target_eip > l->from->eip ? to->body_off : 0));
}

static void translate_pair(struct tcache_unit **from, struct tcache_unit **to)
{
	put_guest(GUEST_EIP, "eb 0e");		/* jmp GUEST_EIP + 0x10 */
	put_guest(GUEST_EIP + 0x10, "90");
	*from = translator_translate(&tr, GUEST_EIP, 0);
	*to = translator_translate(&tr, GUEST_EIP + 0x10, 0);
	assert_non_null(*from);
	assert_non_null(*to);
	assert_int_equal((*from)->nlinks, 1);
	assert_int_equal((*from)->links[0].target_eip, GUEST_EIP + 0x10);
}

static void test_body_off_when_translated_follows_exit_request_check(void **state)
{
	(void)state;
	put_guest(GUEST_EIP, "90");
	struct tcache_unit *u = translator_translate(&tr, GUEST_EIP, 0);
	assert_non_null(u);
	assert_true(u->body_off > 0 && u->body_off < u->code_len);
	assert_int_equal(u->pcmap[0].host_off, u->body_off);
}

static void test_link_when_forward_patches_rel32_to_target_body(void **state)
{
	(void)state;
	struct tcache_unit *from, *to;
	translate_pair(&from, &to);
	struct tcache_link *l = &from->links[0];
	assert_int_equal(rel32_target(l->rel32_off), tcache_xaddr(&tc, l->stub_off));
	tcache_link(&tc, l, to);
	assert_int_equal(rel32_target(l->rel32_off), tcache_xaddr(&tc, to->code_off + to->body_off));
	assert_int_equal(tc.x[l->rel32_off - 1], 0xe9);
	assert_ptr_equal(l->to, to);
	assert_ptr_equal(to->incoming, l);
	assert_int_equal(tc.st.links_chained, 1);
}

static void test_link_when_backward_patches_rel32_to_target_entry(void **state)
{
	(void)state;
	put_guest(GUEST_EIP, "90");
	put_guest(GUEST_EIP + 0x10, "eb ee");	/* jmp GUEST_EIP */
	struct tcache_unit *to = translator_translate(&tr, GUEST_EIP, 0);
	struct tcache_unit *from = translator_translate(&tr, GUEST_EIP + 0x10, 0);
	assert_non_null(to);
	assert_non_null(from);
	assert_int_equal(from->links[0].target_eip, GUEST_EIP);
	tcache_link(&tc, &from->links[0], to);
	assert_int_equal(rel32_target(from->links[0].rel32_off), tcache_xaddr(&tc, to->code_off));
}

static void test_link_when_self_loop_patches_rel32_to_own_entry(void **state)
{
	(void)state;
	put_guest(GUEST_EIP, "eb fe");	/* jmp $ */
	struct tcache_unit *u = translator_translate(&tr, GUEST_EIP, 0);
	assert_non_null(u);
	tcache_link(&tc, &u->links[0], u);
	assert_int_equal(rel32_target(u->links[0].rel32_off), tcache_xaddr(&tc, u->code_off));
}

static void test_unlink_incoming_when_called_restores_stub_target(void **state)
{
	(void)state;
	struct tcache_unit *from, *to;
	translate_pair(&from, &to);
	struct tcache_link *l = &from->links[0];
	tcache_link(&tc, l, to);
	tcache_unlink_incoming(&tc, to);
	assert_int_equal(rel32_target(l->rel32_off), tcache_xaddr(&tc, l->stub_off));
	assert_null(l->to);
	assert_null(to->incoming);
	/* and it can be chained again */
	tcache_link(&tc, l, to);
	assert_int_equal(rel32_target(l->rel32_off), chained_entry(l, to));
}

static void test_unlink_incoming_when_two_links_restores_both(void **state)
{
	(void)state;
	put_guest(GUEST_EIP, "74 0e");		/* je +0x10, else falls to +2 */
	put_guest(GUEST_EIP + 2, "eb 0c");	/* jmp +0x10 */
	put_guest(GUEST_EIP + 0x10, "90");
	struct tcache_unit *a = translator_translate(&tr, GUEST_EIP, 0);
	struct tcache_unit *b = translator_translate(&tr, GUEST_EIP + 2, 0);
	struct tcache_unit *t = translator_translate(&tr, GUEST_EIP + 0x10, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(t);
	assert_int_equal(a->nlinks, 2);
	assert_int_equal(a->links[0].target_eip, GUEST_EIP + 0x10);
	tcache_link(&tc, &a->links[0], t);
	tcache_link(&tc, &b->links[0], t);
	tcache_link(&tc, &a->links[1], b);
	tcache_unlink_incoming(&tc, t);
	assert_int_equal(rel32_target(a->links[0].rel32_off), tcache_xaddr(&tc, a->links[0].stub_off));
	assert_int_equal(rel32_target(b->links[0].rel32_off), tcache_xaddr(&tc, b->links[0].stub_off));
	/* a's fall-through link into b is untouched */
	assert_int_equal(rel32_target(a->links[1].rel32_off), chained_entry(&a->links[1], b));
}

/* Guest code whose units end in direct exits at assorted host offsets. */
static const char *const exit_samples[] = {
	"eb 0e", "74 10", "e2 fe", "e3 10", "90", "99", "01 98 78 56 34 12", "fb", "9d",
	"ee", "e8 00 01 00 00", "0f 84 00 01 00 00", "c8 10 00 00", "60", "9c", "0f 31",
	"64 8a 23", "66 40", "f3 a5", "c1 64 24 04 03",
};

static void test_links_when_translated_have_aligned_rel32_at_stub(void **state)
{
	(void)state;
	size_t nlinks = 0;
	for (size_t i = 0; i < sizeof(exit_samples) / sizeof(exit_samples[0]); i++) {
		uint32_t eip = GUEST_EIP + 0x40 * (uint32_t)i;
		put_guest(eip, exit_samples[i]);
		struct tcache_unit *u = translator_translate(&tr, eip, TMODE_SEGBASE(4));
		assert_non_null(u);
		for (uint32_t k = 0; k < u->nlinks; k++) {
			const struct tcache_link *l = &u->links[k];
			if (l->rel32_off % 4 != 0)
				fail_msg("sample %s: link %u rel32 at 0x%x", exit_samples[i], k,
					 l->rel32_off);
			assert_true(l->rel32_off > u->code_off &&
				    l->rel32_off + 4 <= u->code_off + u->code_len);
			assert_int_equal(rel32_target(l->rel32_off), tcache_xaddr(&tc, l->stub_off));
			uint8_t op = tc.x[l->rel32_off - 1];
			assert_true(op == 0xe9 || (op >= 0x80 && op <= 0x8f && tc.x[l->rel32_off - 2] == 0x0f));
			nlinks++;
		}
	}
	assert_true(nlinks >= sizeof(exit_samples) / sizeof(exit_samples[0]));
}

/* ---- flush ---- */

static int flushes_seen;
static void on_flush(void *ctx)
{
	assert_ptr_equal(ctx, &tc);
	flushes_seen++;
}

static void test_flush_when_called_empties_lookup_and_resets_used(void **state)
{
	(void)state;
	put_guest(GUEST_EIP, "90");
	struct tcache_unit *u = translator_translate(&tr, GUEST_EIP, 0);
	assert_non_null(u);
	uint64_t pc = tcache_xaddr(&tc, u->code_off);
	commit_raw(0x2000, 1, 64);
	assert_true(tc.used > tc.runtime_end);
	tc.on_flush = on_flush;
	tc.on_flush_ctx = &tc;
	flushes_seen = 0;
	tcache_flush(&tc);
	assert_int_equal(flushes_seen, 1);
	assert_int_equal(tc.used, tc.runtime_end);
	assert_int_equal(tc.nunits, 0);
	assert_null(tcache_lookup(&tc, GUEST_EIP, 0));
	assert_null(tcache_lookup(&tc, 0x2000, 1));
	assert_null(tcache_unit_at(&tc, pc));
	assert_int_equal(tc.st.flushes, 1);
}

static void test_flush_when_called_resets_ibl_to_miss_stub(void **state)
{
	(void)state;
	tcache_ibl_insert(&tc, 0x100000, tcache_xaddr(&tc, 0x1000));
	tcache_ibl_insert(&tc, 0xc0001234, tcache_xaddr(&tc, 0x2000));
	tcache_flush(&tc);
	for (uint32_t i = 0; i < tc.ibl_entries; i++) {
		if (tc.ibl[i].host != tc.ibl_miss_stub || tc.ibl[i].neg_eip != 0)
			fail_msg("ibl entry %u not reset", i);
	}
}

static void test_flush_when_called_keeps_runtime_stubs(void **state)
{
	(void)state;
	uint8_t before[64];
	assert_true(tc.runtime_end <= sizeof(before));
	memcpy(before, tc.x, tc.runtime_end);
	commit_raw(0x1000, 0, 100);
	tcache_flush(&tc);
	assert_memory_equal(tc.x, before, tc.runtime_end);
	assert_int_equal(tc.ibl_miss_stub, tcache_xaddr(&tc, 0));
	/* jmp qword ptr [r15 + VCPU_ENT_IBL] */
	static const uint8_t jmp_ent_ibl[] = { 0x41, 0xff, 0x67, 0x60 };
	assert_memory_equal(tc.x, jmp_ent_ibl, sizeof(jmp_ent_ibl));
}

static void test_translate_when_after_flush_reuses_space(void **state)
{
	(void)state;
	put_guest(GUEST_EIP, "90");
	struct tcache_unit *a = translator_translate(&tr, GUEST_EIP, 0);
	assert_non_null(a);
	uint32_t off = a->code_off;
	tcache_flush(&tc);
	struct tcache_unit *b = translator_translate(&tr, GUEST_EIP, 0);
	assert_non_null(b);
	assert_int_equal(b->code_off, off);
	assert_ptr_equal(tcache_lookup(&tc, GUEST_EIP, 0), b);
}

/* ---- the indirect-branch table ---- */

static void test_ibl_when_reset_points_every_entry_at_miss_stub(void **state)
{
	(void)state;
	assert_int_equal(tc.ibl_entries, 1u << TCACHE_IBL_BITS);
	for (uint32_t i = 0; i < tc.ibl_entries; i++)
		if (tc.ibl[i].host != tc.ibl_miss_stub)
			fail_msg("ibl entry %u", i);
}

struct ibl_case {
	uint32_t eip, index, neg_eip;
};

/* index = (eip + (eip >> 16)) mod 2^16, as the inline lookup computes it */
static const struct ibl_case ibl_cases[] = {
	{ 0x00100000, 0x0010, 0xfff00000 },
	{ 0x12345678, 0x68ac, 0xedcba988 },
	{ 0xc0001000, 0xd000, 0x3ffff000 },
	{ 0xffffffff, 0xfffe, 0x00000001 },
	{ 0x00000001, 0x0001, 0xffffffff },
};

static void test_ibl_index_when_computed_matches_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ibl_cases) / sizeof(ibl_cases[0]); i++)
		assert_int_equal(tcache_ibl_index(ibl_cases[i].eip), ibl_cases[i].index);
}

static void test_ibl_insert_when_called_stores_negated_eip_and_host(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ibl_cases) / sizeof(ibl_cases[0]); i++) {
		uint64_t host = tcache_xaddr(&tc, 0x1000 + 0x10 * i);
		tcache_ibl_insert(&tc, ibl_cases[i].eip, host);
		const struct tcache_ibl_entry *e = &tc.ibl[tcache_ibl_index(ibl_cases[i].eip)];
		assert_int_equal(e->neg_eip, ibl_cases[i].neg_eip);
		assert_int_equal((uint32_t)(e->neg_eip + ibl_cases[i].eip), 0);
		assert_int_equal(e->host, host);
	}
}

static void test_ibl_insert_when_colliding_overwrites(void **state)
{
	(void)state;
	/* 0x00010000 and 0x00000001 share index 1 */
	assert_int_equal(tcache_ibl_index(0x00010000), tcache_ibl_index(0x00000001));
	tcache_ibl_insert(&tc, 0x00010000, 0x1111);
	tcache_ibl_insert(&tc, 0x00000001, 0x2222);
	const struct tcache_ibl_entry *e = &tc.ibl[tcache_ibl_index(1)];
	assert_int_equal(e->neg_eip, 0xffffffffu);
	assert_int_equal(e->host, 0x2222);
}

static void test_ibl_entry_when_laid_out_matches_inline_lookup(void **state)
{
	(void)state;
	/* The inline lookup reads neg_eip at +0 and host at +8 of a 16-byte entry. */
	assert_int_equal(sizeof(struct tcache_ibl_entry), 16);
	assert_int_equal(offsetof(struct tcache_ibl_entry, neg_eip), 0);
	assert_int_equal(offsetof(struct tcache_ibl_entry, host), 8);
}

/* ---- arena, room ---- */

static void test_alloc_when_sizes_vary_returns_16_aligned_disjoint_blocks(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 3, 16, 17, 100, 4096, 1u << 20, (1u << 20) + 1, 24 };
	uint8_t *p[sizeof(sizes) / sizeof(sizes[0])];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = tcache_alloc(&tc, sizes[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)i, sizes[i]);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t k = 0; k < sizes[i]; k++)
			if (p[i][k] != (uint8_t)i)
				fail_msg("block %zu overwritten at %zu", i, k);
}

struct room_case {
	size_t left;	/* bytes left in the cache */
	bool ok;
};

static void test_translate_when_no_room_returns_null(void **state)
{
	(void)state;
	const size_t need = TRANSLATOR_MAX_INSN_BYTES + TRANSLATOR_UNIT_SLACK;	/* max_insns 1 */
	const struct room_case cases[] = {
		{ 0, false }, { 16, false }, { need - 1, false }, { need, true }, { need + 16, true },
	};
	put_guest(GUEST_EIP, "90");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tcache_flush(&tc);
		tc.used = CACHE_SIZE - cases[i].left;
		size_t used = tc.used;
		struct tcache_unit *u = translator_translate(&tr, GUEST_EIP, 0);
		if ((u != NULL) != cases[i].ok)
			fail_msg("room case %zu (%zu bytes left): unit %p", i, cases[i].left, (void *)u);
		if (!u) {
			assert_int_equal(tc.used, used);
			assert_int_equal(tc.nunits, 0);
			assert_null(tcache_lookup(&tc, GUEST_EIP, 0));
		} else {
			assert_true(u->code_off + u->code_len <= CACHE_SIZE);
		}
	}
}

static void test_has_room_when_exact_fit_returns_true(void **state)
{
	(void)state;
	size_t left = CACHE_SIZE - tc.used;
	assert_true(tcache_has_room(&tc, left));
	assert_false(tcache_has_room(&tc, left + 1));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_x_mapping_when_inspected_is_executable_not_writable),
		T(test_w_mapping_when_inspected_is_writable_not_executable),
		T(test_memfd_mappings_when_inspected_are_never_both_w_and_x),
		T(test_w_alias_when_written_is_seen_through_x),
		T(test_lookup_when_committed_finds_unit_by_eip_and_mode),
		T(test_lookup_when_absent_returns_null),
		T(test_lookup_when_many_units_finds_each),
		T(test_commit_when_called_places_units_16_aligned_in_order),
		T(test_unit_at_when_pc_given_maps_to_table),
		T(test_unit_at_when_pc_outside_cache_returns_null),
		T(test_unit_at_when_cache_empty_returns_null),
		T(test_pcmap_at_when_pc_given_returns_covering_entry),
		T(test_pcmap_at_when_translated_maps_each_insn),
		T(test_body_off_when_translated_follows_exit_request_check),
		T(test_link_when_forward_patches_rel32_to_target_body),
		T(test_link_when_backward_patches_rel32_to_target_entry),
		T(test_link_when_self_loop_patches_rel32_to_own_entry),
		T(test_unlink_incoming_when_called_restores_stub_target),
		T(test_unlink_incoming_when_two_links_restores_both),
		T(test_links_when_translated_have_aligned_rel32_at_stub),
		T(test_flush_when_called_empties_lookup_and_resets_used),
		T(test_flush_when_called_resets_ibl_to_miss_stub),
		T(test_flush_when_called_keeps_runtime_stubs),
		T(test_translate_when_after_flush_reuses_space),
		T(test_ibl_when_reset_points_every_entry_at_miss_stub),
		T(test_ibl_index_when_computed_matches_table),
		T(test_ibl_insert_when_called_stores_negated_eip_and_host),
		T(test_ibl_insert_when_colliding_overwrites),
		T(test_ibl_entry_when_laid_out_matches_inline_lookup),
		T(test_alloc_when_sizes_vary_returns_16_aligned_disjoint_blocks),
		T(test_translate_when_no_room_returns_null),
		T(test_has_room_when_exact_fit_returns_true),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
