/* tests/unit/shadowmm_walk_test.c: guest page walks over synthetic page tables in fake RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadowmm/shadowmm.h"

/* Entry flags, as the SDM names them (vol. 3, tables 4-4 to 4-11). */
#define P   0x001u
#define RW  0x002u
#define US  0x004u
#define A   0x020u
#define D   0x040u
#define PS  0x080u
#define G   0x100u
#define XD  (UINT64_C(1) << 63)

/* #PF error code bits. */
#define EP SHADOWMM_PF_P
#define EW SHADOWMM_PF_W
#define EU SHADOWMM_PF_U
#define ER SHADOWMM_PF_RSVD
#define EI SHADOWMM_PF_I

/* The table row being checked, printed when one of its checks fails. */
static char where[160];

#define expect_eq(a, b)                                                                   \
	do {                                                                              \
		uint64_t a_ = (a), b_ = (b);                                              \
		if (a_ != b_) {                                                           \
			print_error("%s: %s is %#" PRIx64 ", expected %#" PRIx64 "\n", where, \
				    #a, a_, b_);                                          \
			fail();                                                           \
		}                                                                         \
	} while (0)

/* Accesses: Supervisor/User x Read/Write/Fetch. */
#define SR 0u
#define SW SHADOWMM_ACC_WRITE
#define SF SHADOWMM_ACC_FETCH
#define UR SHADOWMM_ACC_USER
#define UW (SHADOWMM_ACC_USER | SHADOWMM_ACC_WRITE)
#define UF (SHADOWMM_ACC_USER | SHADOWMM_ACC_FETCH)

/*
 * Fake guest physical memory: a few 4 KiB frames anywhere below 2^36, the
 * rest is not RAM.  It counts reads and logs writes.
 */
#define FRAMES 16
#define LOGSZ 16

struct fx {
	uint64_t pfn[FRAMES];
	uint8_t frame[FRAMES][4096];
	int nframes;
	unsigned entry_size;	/* every read and write must be of this size */
	int reads;
	int nwrites;
	struct { uint64_t gpa; size_t n; } wlog[LOGSZ];
	bool rom;		/* write_phys fails */
	struct shadowmm_env env;
	struct shadowmm_walk w;
};

static uint8_t *frame_of(struct fx *f, uint64_t gpa, bool create)
{
	for (int i = 0; i < f->nframes; i++)
		if (f->pfn[i] == gpa >> 12)
			return f->frame[i];
	if (!create)
		return NULL;
	assert_true(f->nframes < FRAMES);
	f->pfn[f->nframes] = gpa >> 12;
	return f->frame[f->nframes++];
}

static int fake_read(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	struct fx *f = ctx;
	uint8_t *p = frame_of(f, gpa, false);

	assert_int_equal(n, f->entry_size);
	assert_int_equal(gpa % n, 0);
	f->reads++;
	if (!p)
		return -1;
	memcpy(buf, p + (gpa & 0xfff), n);
	return 0;
}

static int fake_write(void *ctx, uint64_t gpa, const void *buf, size_t n)
{
	struct fx *f = ctx;
	uint8_t *p = frame_of(f, gpa, false);

	assert_int_equal(n, f->entry_size);
	assert_int_equal(gpa % n, 0);
	assert_true(f->nwrites < LOGSZ);
	f->wlog[f->nwrites].gpa = gpa;
	f->wlog[f->nwrites++].n = n;
	if (!p || f->rom)
		return -1;
	memcpy(p + (gpa & 0xfff), buf, n);
	return 0;
}

static void put(struct fx *f, uint64_t gpa, uint64_t v, unsigned n)
{
	uint8_t *p = frame_of(f, gpa, true) + (gpa & 0xfff);

	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(struct fx *f, uint64_t gpa, unsigned n)
{
	uint8_t *p = frame_of(f, gpa, false);
	uint64_t v = 0;

	assert_non_null(p);
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[(gpa & 0xfff) + i];
	return v;
}

/* Writes an entry of the current mode's size. */
static void put_entry(struct fx *f, uint64_t gpa, uint64_t v)
{
	put(f, gpa, v, f->entry_size);
}

static uint64_t get_entry(struct fx *f, uint64_t gpa)
{
	return get(f, gpa, f->entry_size);
}

enum mode { M32, M32_PSE, PAE, PAE_NXE };

static void set_mode(struct fx *f, enum mode m, uint32_t cr3)
{
	f->env.cr0 = SHADOWMM_CR0_PG;
	f->env.cr3 = cr3;
	f->env.cr4 = m == M32 ? 0 : m == M32_PSE ? SHADOWMM_CR4_PSE : SHADOWMM_CR4_PAE;
	f->env.efer = m == PAE_NXE ? SHADOWMM_EFER_NXE : 0;
	f->entry_size = m >= PAE ? 8 : 4;
}

/* Forgets all memory, counters and the last walk; keeps the mode. */
static void reset(struct fx *f)
{
	f->nframes = 0;
	memset(f->frame, 0, sizeof(f->frame));
	f->reads = f->nwrites = 0;
	f->rom = false;
	memset(&f->w, 0xa5, sizeof(f->w));	/* the walk must fill every field */
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->env.ctx = f;
	f->env.read_phys = fake_read;
	f->env.write_phys = fake_write;
	set_mode(f, M32, 0x1000);
	reset(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/*
 * The standard layout most tests use: linear address LIN through the
 * tables below to the 4 KiB page at 0x7000 (gpa 0x7234), or to the large
 * page at 0xc00000 (gpa 0xc01234).
 *   32-bit: CR3 0x1000, PDE at 0x1404 (index 0x101), PT 0x2000, PTE at 0x2004.
 *   PAE:    CR3 0x3000, PDPTE at 0x3008 (index 1), PD 0x4000, PDE at 0x4010
 *           (index 2), PT 0x5000, PTE at 0x5008 (index 1).
 */
#define LIN 0x40401234u
#define PDE32 0x1404u
#define PTE32 0x2004u
#define PDPTE 0x3008u
#define PDEPAE 0x4010u
#define PTEPAE 0x5008u

enum layout { L32, L32_4M, LPAE, LPAE_2M };

static const char *const layout_name[] = { "32-bit 4K", "32-bit 4M", "PAE 4K", "PAE 2M" };

/* Entry addresses of the standard layout, outermost first. */
static const uint64_t layout_gpa[4][3] = {
	[L32] = { PDE32, PTE32 },
	[L32_4M] = { PDE32 },
	[LPAE] = { PDPTE, PDEPAE, PTEPAE },
	[LPAE_2M] = { PDPTE, PDEPAE },
};

static const int layout_levels[4] = { 2, 1, 3, 2 };

/*
 * Sets up `l` in mode `m` (large layouts need M32_PSE or a PAE mode): the
 * PDE gets `pde` flags, the PTE `pte` flags (ignored for large pages).
 */
static void map(struct fx *f, enum mode m, enum layout l, uint64_t pde, uint64_t pte)
{
	reset(f);
	set_mode(f, m, l >= LPAE ? 0x3000 : 0x1000);
	switch (l) {
	case L32:
		put_entry(f, PDE32, 0x2000 | pde);
		put_entry(f, PTE32, 0x7000 | pte);
		break;
	case L32_4M:
		put_entry(f, PDE32, 0xc00000 | PS | pde);
		break;
	case LPAE:
		put_entry(f, PDPTE, 0x4000 | P);
		put_entry(f, PDEPAE, 0x5000 | pde);
		put_entry(f, PTEPAE, 0x7000 | pte);
		break;
	case LPAE_2M:
		put_entry(f, PDPTE, 0x4000 | P);
		put_entry(f, PDEPAE, 0xc00000 | PS | pde);
		break;
	}
}

static int walk(struct fx *f, unsigned access)
{
	return shadowmm_walk(&f->env, LIN, access, true, &f->w);
}

static int walk_no_ad(struct fx *f, unsigned access)
{
	return shadowmm_walk(&f->env, LIN, access, false, &f->w);
}

/* ---- translations ---- */

/*
 * Translations: each row's entries are written at its entry_gpa, then the
 * walk must use exactly those and give `gpa`.
 */
static const struct xlate {
	const char *what;
	enum mode mode;
	uint32_t cr3;
	uint32_t lin;
	int levels;
	uint64_t entry_gpa[3];
	uint64_t entry[3];
	uint64_t gpa;
	uint32_t page_size;
} xlates[] = {
	{ "32 4K at 0", M32, 0x1000, 0x00000000, 2,
	  { 0x1000, 0x2000 }, { 0x2003, 0x5003 }, 0x5000, 4096 },
	{ "32 4K", M32, 0x1000, 0x00401234, 2,
	  { 0x1004, 0x2004 }, { 0x2003, 0x12345003 }, 0x12345234, 4096 },
	{ "32 4K middle of a table", M32, 0x1000, 0x8037f123, 2,
	  { 0x1800, 0x2dfc }, { 0x2003, 0x7654e003 }, 0x7654e123, 4096 },
	{ "32 4K kernel half", M32, 0x1000, 0xc0000abc, 2,
	  { 0x1c00, 0x3000 }, { 0x3007, 0x100007 }, 0x100abc, 4096 },
	{ "32 4K top of 4 GiB, tables at top", M32, 0xfffff000, 0xffffffff, 2,
	  { 0xfffffffc, 0xffffeffc }, { 0xffffe003, 0xfffff003 }, 0xffffffff, 4096 },
	{ "32 CR3 bits 11:0 ignored", M32, 0x1fff, 0x00401234, 2,
	  { 0x1004, 0x2004 }, { 0x2003, 0x12345003 }, 0x12345234, 4096 },
	{ "32 PTE bits 11:9 and PAT ignored", M32, 0x1000, 0x00401234, 2,
	  { 0x1004, 0x2004 }, { 0x2e03, 0x12345e83 }, 0x12345234, 4096 },
	{ "32 PSE off: PS ignored", M32, 0x1000, 0x00401234, 2,
	  { 0x1004, 0x2004 }, { 0x2083, 0x12345003 }, 0x12345234, 4096 },
	{ "32 PSE off: PS and bits 21:13 are a table address", M32, 0x1000, 0x00401234, 2,
	  { 0x1004, 0x3fe004 }, { 0x3fe083, 0x12345003 }, 0x12345234, 4096 },
	{ "32 PSE on, PS = 0", M32_PSE, 0x1000, 0x00401234, 2,
	  { 0x1004, 0x2004 }, { 0x2003, 0x12345003 }, 0x12345234, 4096 },
	{ "32 4M", M32_PSE, 0x1000, 0x12345678, 1,
	  { 0x1120 }, { 0x800083 }, 0xb45678, 4 << 20 },
	{ "32 4M with PAT (bit 12) set", M32_PSE, 0x1000, 0x00400000, 1,
	  { 0x1004 }, { 0x1c01083 }, 0x1c00000, 4 << 20 },
	{ "32 4M top of 4 GiB", M32_PSE, 0x1000, 0xffffffff, 1,
	  { 0x1ffc }, { 0xffc00083 }, 0xffffffff, 4 << 20 },
	{ "32 4M first byte of the top page", M32_PSE, 0x1000, 0xffc00000, 1,
	  { 0x1ffc }, { 0xffc00083 }, 0xffc00000, 4 << 20 },
	{ "PAE 4K at 0, CR3 32-byte aligned", PAE, 0x3020, 0x00000000, 3,
	  { 0x3020, 0x4000, 0x5000 }, { 0x4001, 0x5003, 0x6003 }, 0x6000, 4096 },
	{ "PAE 4K top of 4 GiB to top of 64 GiB", PAE, 0x3020, 0xffffffff, 3,
	  { 0x3038, 0x4ff8, 0x5ff8 }, { 0x4001, 0x5003, 0xffffff003 }, 0xfffffffff, 4096 },
	{ "PAE 4K, tables above 4 GiB", PAE, 0x3000, 0x40201abc, 3,
	  { 0x3008, 0xfffffe008, 0x100000008 },
	  { 0xfffffe001, 0x100000003, 0x876543003 }, 0x876543abc, 4096 },
	{ "PAE 4K, CR3 bits 4:0 ignored", PAE, 0x301f, 0x00000000, 3,
	  { 0x3000, 0x4000, 0x5000 }, { 0x4001, 0x5003, 0x6003 }, 0x6000, 4096 },
	{ "PAE 4K with NXE, XD clear, ignored bits 11:9 and PAT", PAE_NXE, 0x3000, 0xc0000fff, 3,
	  { 0x3018, 0x4000, 0x5000 }, { 0x4e01, 0x5e03, 0x6e83 }, 0x6fff, 4096 },
	{ "PAE 2M", PAE, 0x3000, 0x80312345, 2,
	  { 0x3010, 0x4008 }, { 0x4001, 0x9ffe00083 }, 0x9fff12345, 2 << 20 },
	{ "PAE 2M with PAT (bit 12) set", PAE, 0x3000, 0xc0000000, 2,
	  { 0x3018, 0x4000 }, { 0x4001, 0x201083 }, 0x200000, 2 << 20 },
	{ "PAE 2M top of 4 GiB", PAE, 0x3000, 0xffffffff, 2,
	  { 0x3018, 0x4ff8 }, { 0x4001, 0xfffe00083 }, 0xfffffffff, 2 << 20 },
};

static void test_walk_when_mapped_translates_through_expected_entries(void **state)
{
	struct fx *f = *state;

	for (size_t r = 0; r < sizeof(xlates) / sizeof(xlates[0]); r++) {
		const struct xlate *x = &xlates[r];

		reset(f);
		set_mode(f, x->mode, x->cr3);
		for (int i = 0; i < x->levels; i++)
			put_entry(f, x->entry_gpa[i], x->entry[i]);
		snprintf(where, sizeof(where), "%s", x->what);
		expect_eq(shadowmm_walk(&f->env, x->lin, SR, false, &f->w), 0);
		expect_eq(f->w.gpa, x->gpa);
		expect_eq(f->w.page_gpa, x->gpa & ~UINT64_C(0xfff));
		expect_eq(f->w.page_size, x->page_size);
		expect_eq(f->w.levels, x->levels);
		for (int i = 0; i < x->levels; i++) {
			expect_eq(f->w.entry_gpa[i], x->entry_gpa[i]);
			expect_eq(f->w.entry[i], x->entry[i]);
		}
		expect_eq(f->w.pf_error, 0);
		expect_eq(f->reads, x->levels);
		expect_eq(f->nwrites, 0);
	}
}

/* ---- paging off ---- */

static void test_walk_when_paging_off_is_identity_with_full_rights(void **state)
{
	struct fx *f = *state;
	static const unsigned acc[] = { SR, SW, SF, UR, UW, UF };

	set_mode(f, PAE_NXE, 0x3000);
	f->env.cr0 = SHADOWMM_CR0_WP;	/* PG = 0: CR4.PAE and WP do not matter */
	for (size_t a = 0; a < 6; a++) {
		reset(f);
		assert_int_equal(shadowmm_walk(&f->env, 0xfedcba98, acc[a], true, &f->w), 0);
		assert_int_equal(f->w.gpa, 0xfedcba98);
		assert_int_equal(f->w.page_gpa, 0xfedcb000);
		assert_int_equal(f->w.page_size, 4096);
		assert_true(f->w.writable);
		assert_true(f->w.user);
		assert_false(f->w.nx);
		assert_false(f->w.global);
		assert_true(f->w.dirty);
		assert_int_equal(f->w.levels, 0);
		assert_int_equal(f->w.pf_error, 0);
		assert_int_equal(f->reads, 0);
		assert_int_equal(f->nwrites, 0);
	}
}

/* ---- not present ---- */

/*
 * Error codes of a not-present fault, by access (SR SW SF UR UW UF): without
 * NX in use, a fetch is reported as a read; with PAE + NXE it has I.
 */
static const uint32_t np_code[2][6] = {
	{ 0, EW, 0, EU, EW | EU, EU },
	{ 0, EW, EI, EU, EW | EU, EU | EI },
};

static const struct np_case {
	enum mode mode;
	enum layout layout;
	int level;		/* index of the entry made not present */
} np_cases[] = {
	{ M32, L32, 0 }, { M32, L32, 1 },
	{ M32_PSE, L32_4M, 0 },
	{ PAE, LPAE, 0 }, { PAE, LPAE, 1 }, { PAE, LPAE, 2 },
	{ PAE_NXE, LPAE, 0 }, { PAE_NXE, LPAE, 1 }, { PAE_NXE, LPAE, 2 },
	{ PAE, LPAE_2M, 1 }, { PAE_NXE, LPAE_2M, 1 },
};

static void test_walk_when_entry_not_present_faults_with_p0_at_that_level(void **state)
{
	struct fx *f = *state;
	static const unsigned acc[] = { SR, SW, SF, UR, UW, UF };

	for (size_t c = 0; c < sizeof(np_cases) / sizeof(np_cases[0]); c++) {
		const struct np_case *k = &np_cases[c];

		for (size_t a = 0; a < 6; a++) {
			uint64_t gpa = layout_gpa[k->layout][k->level];
			uint64_t e;

			map(f, k->mode, k->layout, P | RW | US, P | RW | US);
			/* Only P cleared: the other bits, reserved ones included, are free. */
			e = get_entry(f, gpa) & ~(uint64_t)P;
			put_entry(f, gpa, e | (k->mode >= PAE ? UINT64_C(0xfff0000000000000) : 0));
			snprintf(where, sizeof(where), "%s level %d access %zu",
				 layout_name[k->layout], k->level, a);
			expect_eq(walk(f, acc[a]), -1);
			expect_eq(f->w.pf_error, np_code[k->mode == PAE_NXE][a]);
			expect_eq(f->w.levels, k->level + 1);
			expect_eq(f->w.entry_gpa[k->level], gpa);
			expect_eq(f->w.entry[k->level], get_entry(f, gpa));
			expect_eq(f->w.gpa, 0);
			expect_eq(f->w.page_size, 0);
		}
	}
}

static void test_walk_when_table_outside_ram_faults_not_present(void **state)
{
	struct fx *f = *state;

	/* The page directory itself is in no RAM. */
	reset(f);
	set_mode(f, M32, 0x9000);
	assert_int_equal(walk(f, UW), -1);
	assert_int_equal(f->w.pf_error, EW | EU);
	assert_int_equal(f->w.levels, 1);
	assert_int_equal(f->w.entry[0], 0);

	/* The page table is in no RAM. */
	map(f, M32, L32, P | RW | US, P | RW | US);
	put_entry(f, PDE32, 0x9000 | P | RW | US);
	assert_int_equal(walk(f, SR), -1);
	assert_int_equal(f->w.pf_error, 0);
	assert_int_equal(f->w.levels, 2);
	assert_int_equal(f->w.entry_gpa[1], 0x9004);
	assert_int_equal(f->w.entry[1], 0);

	/* PAE: the PDPT, then the page directory. */
	reset(f);
	set_mode(f, PAE_NXE, 0x9000);
	assert_int_equal(walk(f, SF), -1);
	assert_int_equal(f->w.pf_error, EI);
	assert_int_equal(f->w.levels, 1);
	map(f, PAE, LPAE, P | RW | US, P | RW | US);
	put_entry(f, PDPTE, 0x800000000 | P);
	assert_int_equal(walk(f, SR), -1);
	assert_int_equal(f->w.pf_error, 0);
	assert_int_equal(f->w.levels, 2);
	assert_int_equal(f->w.entry_gpa[1], 0x800000010);
	assert_int_equal(f->nwrites, 0);
}

/* ---- reserved bits ---- */

/*
 * Reserved bits of each kind of present entry (SDM 4.3, 4.4.1, 4.4.2), with
 * MAXPHYADDR 36, no PSE-36, PAT supported.  Every bit of the entry but P
 * (and PS where it changes what the entry is) is flipped in turn in the
 * standard layout: a reserved bit must give P|RSVD at that level, any other
 * bit no RSVD at all.
 */
static const struct rsvd_case {
	const char *what;
	enum mode mode;
	enum layout layout;
	int level;
	bool skip_ps;
	uint64_t reserved;
} rsvd_cases[] = {
	{ "32 PDE, PSE off (PS ignored)", M32, L32, 0, false, 0 },
	{ "32 PTE, PSE off", M32, L32, 1, false, 0 },
	{ "32 PDE to table, PSE on", M32_PSE, L32, 0, true, 0 },
	{ "32 PTE, PSE on (bit 7 is PAT)", M32_PSE, L32, 1, false, 0 },
	{ "32 4M PDE (bit 12 is PAT)", M32_PSE, L32_4M, 0, true, 0x3fe000 },
	{ "PAE PDPTE", PAE, LPAE, 0, false, 0xfffffff0000001e6 },
	{ "PAE PDPTE, NXE (bit 63 still reserved)", PAE_NXE, LPAE, 0, false, 0xfffffff0000001e6 },
	{ "PAE PDE to table", PAE, LPAE, 1, true, 0xfffffff000000000 },
	{ "PAE PDE to table, NXE", PAE_NXE, LPAE, 1, true, 0x7ffffff000000000 },
	{ "PAE PTE (bit 7 is PAT)", PAE, LPAE, 2, false, 0xfffffff000000000 },
	{ "PAE PTE, NXE", PAE_NXE, LPAE, 2, false, 0x7ffffff000000000 },
	{ "PAE 2M PDE (bit 12 is PAT)", PAE, LPAE_2M, 1, true, 0xfffffff0001fe000 },
	{ "PAE 2M PDE, NXE", PAE_NXE, LPAE_2M, 1, true, 0x7ffffff0001fe000 },
};

static void test_walk_when_reserved_bit_set_faults_p_rsvd_at_that_level(void **state)
{
	struct fx *f = *state;

	for (size_t c = 0; c < sizeof(rsvd_cases) / sizeof(rsvd_cases[0]); c++) {
		const struct rsvd_case *k = &rsvd_cases[c];
		uint64_t gpa = layout_gpa[k->layout][k->level];
		unsigned nbits = k->mode >= PAE ? 64 : 32;

		for (unsigned b = 1; b < nbits; b++) {
			uint64_t bit = UINT64_C(1) << b;
			int rc;

			if (b == 7 && k->skip_ps)
				continue;
			map(f, k->mode, k->layout, P | RW | US | A | D, P | RW | US | A | D);
			put_entry(f, gpa, get_entry(f, gpa) ^ bit);
			rc = walk(f, SR);
			snprintf(where, sizeof(where), "%s bit %u", k->what, b);
			if (k->reserved & bit) {
				expect_eq(rc, -1);
				expect_eq(f->w.pf_error, EP | ER);
				expect_eq(f->w.levels, k->level + 1);
				expect_eq(f->w.entry[k->level], get_entry(f, gpa));
				expect_eq(f->nwrites, 0);
			} else {
				expect_eq(rc == 0 || !(f->w.pf_error & ER), 1);
			}
		}
	}
}

/* The access bits of a reserved-bit fault, and their precedence over rights. */
static const struct rsvd_code_case {
	const char *what;
	enum mode mode;
	enum layout layout;
	uint64_t pde, pte;	/* flags of the standard layout */
	int level;		/* entry that gets `bit` */
	uint64_t bit;
	unsigned access;
	uint32_t code;
} rsvd_codes[] = {
	{ "32 4M, user write", M32_PSE, L32_4M, P | RW | US, 0, 0, 1u << 13, UW,
	  EP | ER | EW | EU },
	{ "32 4M supervisor-only, user read", M32_PSE, L32_4M, P, 0, 0, 1u << 21, UR,
	  EP | ER | EU },
	{ "PAE PTE, PDE supervisor-only, user read", PAE, LPAE, P, P | RW | US, 2,
	  UINT64_C(1) << 40, UR, EP | ER | EU },
	{ "PAE PTE read-only, user write, WP", PAE, LPAE, P | US, P | US, 2,
	  UINT64_C(1) << 36, UW, EP | ER | EW | EU },
	{ "PAE 2M XD without NXE, fetch", PAE, LPAE_2M, P | RW, 0, 1, XD, SF, EP | ER },
	{ "PAE NXE PTE reserved, user fetch", PAE_NXE, LPAE, P | RW | US, P | RW | US, 2,
	  UINT64_C(1) << 62, UF, EP | ER | EU | EI },
	{ "PAE NXE PDPTE bit 63, supervisor fetch", PAE_NXE, LPAE, P | RW, P | RW, 0, XD, SF,
	  EP | ER | EI },
	{ "PAE PDPTE bit 5 (no A there), supervisor write", PAE, LPAE, P | RW, P | RW, 0,
	  1u << 5, SW, EP | ER | EW },
};

static void test_walk_when_reserved_bit_set_reports_access_and_beats_rights(void **state)
{
	struct fx *f = *state;

	for (size_t c = 0; c < sizeof(rsvd_codes) / sizeof(rsvd_codes[0]); c++) {
		const struct rsvd_code_case *k = &rsvd_codes[c];
		uint64_t gpa = layout_gpa[k->layout][k->level];

		map(f, k->mode, k->layout, k->pde, k->pte);
		f->env.cr0 |= SHADOWMM_CR0_WP;
		put_entry(f, gpa, get_entry(f, gpa) | k->bit);
		snprintf(where, sizeof(where), "%s", k->what);
		expect_eq(walk(f, k->access), -1);
		expect_eq(f->w.pf_error, k->code);
		expect_eq(f->w.levels, k->level + 1);
	}
}

/* ---- access rights ---- */

/*
 * Every combination of U/S and R/W in the PDE and PTE against every access
 * with CR0.WP = 0 and 1 (SDM 4.6): 0 means allowed, anything else is the
 * expected #PF error code.  Columns: SR SW SF UR UW UF.  Fetches are reads
 * here (no NX); a fetch never faults for the supervisor (no SMEP).
 */
#define OK 0u
static const struct rights_row {
	uint32_t pde, pte;
	uint32_t wp0[6];
	uint32_t wp1[6];
} rights[] = {
	{ 0,       0,       { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ 0,       RW,      { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ 0,       US,      { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ 0,       US | RW, { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ RW,      0,       { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ RW,      RW,      { OK, OK, OK, 5, 7, 5 },   { OK, OK, OK, 5, 7, 5 } },
	{ RW,      US,      { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ RW,      US | RW, { OK, OK, OK, 5, 7, 5 },   { OK, OK, OK, 5, 7, 5 } },
	{ US,      0,       { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ US,      RW,      { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ US,      US,      { OK, OK, OK, OK, 7, OK }, { OK, 3, OK, OK, 7, OK } },
	{ US,      US | RW, { OK, OK, OK, OK, 7, OK }, { OK, 3, OK, OK, 7, OK } },
	{ US | RW, 0,       { OK, OK, OK, 5, 7, 5 },   { OK, 3, OK, 5, 7, 5 } },
	{ US | RW, RW,      { OK, OK, OK, 5, 7, 5 },   { OK, OK, OK, 5, 7, 5 } },
	{ US | RW, US,      { OK, OK, OK, OK, 7, OK }, { OK, 3, OK, OK, 7, OK } },
	{ US | RW, US | RW, { OK, OK, OK, OK, OK, OK }, { OK, OK, OK, OK, OK, OK } },
};

/*
 * Runs the rights table on `layout` in `mode`.  Large pages take the rows
 * whose PTE is U/S = R/W = 1, with the row's PDE flags on the leaf PDE: the
 * outcome must be the same.  With NX in use a fetch fault also has I.
 */
static void check_rights(struct fx *f, enum mode mode, enum layout layout)
{
	static const unsigned acc[] = { SR, SW, SF, UR, UW, UF };
	bool large = layout == L32_4M || layout == LPAE_2M;

	for (size_t r = 0; r < sizeof(rights) / sizeof(rights[0]); r++) {
		const struct rights_row *row = &rights[r];

		if (large && row->pte != (US | RW))
			continue;
		for (int wp = 0; wp < 2; wp++) {
			for (size_t a = 0; a < 6; a++) {
				uint32_t code = (wp ? row->wp1 : row->wp0)[a];
				int rc;

				if (code && (acc[a] & SHADOWMM_ACC_FETCH) && mode == PAE_NXE)
					code |= EI;
				map(f, mode, layout, P | row->pde, P | row->pte);
				if (wp)
					f->env.cr0 |= SHADOWMM_CR0_WP;
				rc = walk(f, acc[a]);
				snprintf(where, sizeof(where), "%s row %zu wp %d access %zu",
					 layout_name[layout], r, wp, a);
				expect_eq(rc, code ? -1 : 0);
				expect_eq(f->w.pf_error, code);
				/* The translation is reported either way. */
				expect_eq(f->w.gpa, large ? 0xc01234 : 0x7234);
				expect_eq(f->w.writable, !!(row->pde & row->pte & RW));
				expect_eq(f->w.user, !!(row->pde & row->pte & US));
				expect_eq(f->w.nx, 0);
				expect_eq(f->w.levels, layout_levels[layout]);
			}
		}
	}
}

static void test_rights_when_32bit_4k_match_table(void **state)
{
	check_rights(*state, M32, L32);
}

static void test_rights_when_32bit_4m_match_table(void **state)
{
	check_rights(*state, M32_PSE, L32_4M);
}

static void test_rights_when_pae_4k_match_table(void **state)
{
	check_rights(*state, PAE, LPAE);
}

static void test_rights_when_pae_nxe_4k_match_table_with_i_on_fetch(void **state)
{
	check_rights(*state, PAE_NXE, LPAE);
}

static void test_rights_when_pae_2m_match_table(void **state)
{
	check_rights(*state, PAE, LPAE_2M);
}

/* ---- execute disable ---- */

static const struct nx_case {
	const char *what;
	enum mode mode;
	enum layout layout;
	uint64_t pde, pte;	/* XD bits (the rest is P|RW|US) */
	unsigned access;
	uint32_t code;		/* 0: allowed */
	bool nx;		/* w.nx after an allowed access */
} nx_cases[] = {
	{ "NXE, no XD, supervisor fetch", PAE_NXE, LPAE, 0, 0, SF, 0, false },
	{ "NXE, no XD, user fetch", PAE_NXE, LPAE, 0, 0, UF, 0, false },
	{ "NXE, PTE XD, supervisor fetch", PAE_NXE, LPAE, 0, XD, SF, EP | EI, false },
	{ "NXE, PTE XD, user fetch", PAE_NXE, LPAE, 0, XD, UF, EP | EU | EI, false },
	{ "NXE, PTE XD, read", PAE_NXE, LPAE, 0, XD, SR, 0, true },
	{ "NXE, PTE XD, user write", PAE_NXE, LPAE, 0, XD, UW, 0, true },
	{ "NXE, PDE XD, supervisor fetch", PAE_NXE, LPAE, XD, 0, SF, EP | EI, false },
	{ "NXE, PDE XD, user read", PAE_NXE, LPAE, XD, 0, UR, 0, true },
	{ "NXE, both XD, user fetch", PAE_NXE, LPAE, XD, XD, UF, EP | EU | EI, false },
	{ "NXE, 2M XD, supervisor fetch", PAE_NXE, LPAE_2M, XD, 0, SF, EP | EI, false },
	{ "NXE, 2M XD, write", PAE_NXE, LPAE_2M, XD, 0, SW, 0, true },
	{ "no NXE, no XD, fetch", PAE, LPAE, 0, 0, UF, 0, false },
	{ "no NXE, PTE XD reserved, read", PAE, LPAE, 0, XD, SR, EP | ER, false },
	{ "no NXE, PTE XD reserved, fetch (no I)", PAE, LPAE, 0, XD, UF, EP | ER | EU, false },
	{ "no NXE, PDE XD reserved, fetch", PAE, LPAE, XD, 0, SF, EP | ER, false },
	{ "no NXE, 2M XD reserved, fetch", PAE, LPAE_2M, XD, 0, SF, EP | ER, false },
};

static void test_nx_when_xd_set_faults_fetches_only_with_nxe(void **state)
{
	struct fx *f = *state;

	for (size_t c = 0; c < sizeof(nx_cases) / sizeof(nx_cases[0]); c++) {
		const struct nx_case *k = &nx_cases[c];
		int rc;

		map(f, k->mode, k->layout, P | RW | US | k->pde, P | RW | US | k->pte);
		rc = walk(f, k->access);
		snprintf(where, sizeof(where), "%s", k->what);
		expect_eq(rc, k->code ? -1 : 0);
		expect_eq(f->w.pf_error, k->code);
		if (!k->code)
			expect_eq(f->w.nx, k->nx);
	}
}

static void test_nx_when_32bit_paging_fetch_fault_has_no_i(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW, P | RW);
	f->env.efer = SHADOWMM_EFER_NXE;	/* EFER.NXE means nothing without PAE */
	assert_int_equal(walk(f, UF), -1);
	assert_int_equal(f->w.pf_error, EP | EU);
	assert_int_equal(walk(f, SF), 0);
	assert_false(f->w.nx);
}

/* ---- accessed and dirty flags ---- */

static void assert_written(struct fx *f, int n, const uint64_t *gpas)
{
	assert_int_equal(f->nwrites, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(f->wlog[i].gpa, gpas[i]);
		assert_int_equal(f->wlog[i].n, f->entry_size);
	}
}

static void test_ad_when_read_sets_a_on_every_level_and_no_d(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW | US, P | RW | US);
	assert_int_equal(walk(f, UR), 0);
	assert_written(f, 2, (const uint64_t[]){ PDE32, PTE32 });
	assert_int_equal(get_entry(f, PDE32), 0x2000 | P | RW | US | A);
	assert_int_equal(get_entry(f, PTE32), 0x7000 | P | RW | US | A);
	assert_int_equal(f->w.entry[0], 0x2000 | P | RW | US | A);
	assert_int_equal(f->w.entry[1], 0x7000 | P | RW | US | A);
	assert_false(f->w.dirty);
}

static void test_ad_when_write_sets_d_in_leaf_only(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW, P | RW);
	assert_int_equal(walk(f, SW), 0);
	assert_written(f, 2, (const uint64_t[]){ PDE32, PTE32 });
	assert_int_equal(get_entry(f, PDE32), 0x2000 | P | RW | A);
	assert_int_equal(get_entry(f, PTE32), 0x7000 | P | RW | A | D);
	assert_int_equal(f->w.entry[1], 0x7000 | P | RW | A | D);
	assert_true(f->w.dirty);
}

static void test_ad_when_already_set_writes_nothing(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW | A, P | RW | A);
	assert_int_equal(walk(f, SR), 0);
	assert_int_equal(f->nwrites, 0);
	assert_false(f->w.dirty);

	map(f, M32, L32, P | RW | A, P | RW | A | D);
	assert_int_equal(walk(f, SW), 0);
	assert_int_equal(f->nwrites, 0);
	assert_true(f->w.dirty);

	map(f, PAE, LPAE, P | RW | A, P | RW | A | D);
	assert_int_equal(walk(f, SW), 0);
	assert_int_equal(f->nwrites, 0);
}

static void test_ad_when_first_write_to_accessed_page_writes_leaf_only(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW | A, P | RW | A);
	assert_int_equal(walk(f, SW), 0);
	assert_written(f, 1, (const uint64_t[]){ PTE32 });
	assert_int_equal(get_entry(f, PTE32), 0x7000 | P | RW | A | D);
}

static void test_ad_when_set_ad_false_writes_nothing(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW, P | RW);
	assert_int_equal(walk_no_ad(f, SW), 0);
	assert_int_equal(f->nwrites, 0);
	assert_int_equal(f->w.entry[0], 0x2000 | P | RW);
	assert_int_equal(f->w.entry[1], 0x7000 | P | RW);
	assert_false(f->w.dirty);

	map(f, PAE, LPAE_2M, P | RW, 0);
	assert_int_equal(walk_no_ad(f, SW), 0);
	assert_int_equal(f->nwrites, 0);
	assert_false(f->w.dirty);

	map(f, PAE, LPAE, P | RW, P | RW | US);	/* and on a fault */
	assert_int_equal(walk_no_ad(f, UR), -1);
	assert_int_equal(f->nwrites, 0);
}

static void test_ad_when_large_page_write_sets_a_and_d_in_pde(void **state)
{
	struct fx *f = *state;

	map(f, M32_PSE, L32_4M, P | RW, 0);
	assert_int_equal(walk(f, SW), 0);
	assert_written(f, 1, (const uint64_t[]){ PDE32 });
	assert_int_equal(get_entry(f, PDE32), 0xc00000 | PS | P | RW | A | D);
	assert_true(f->w.dirty);

	map(f, PAE, LPAE_2M, P | RW, 0);
	assert_int_equal(walk(f, SW), 0);
	assert_written(f, 1, (const uint64_t[]){ PDEPAE });
	assert_int_equal(get_entry(f, PDEPAE), 0xc00000 | PS | P | RW | A | D);
	assert_true(f->w.dirty);

	map(f, PAE, LPAE_2M, P | RW, 0);
	assert_int_equal(walk(f, SR), 0);
	assert_int_equal(get_entry(f, PDEPAE), 0xc00000 | PS | P | RW | A);
	assert_false(f->w.dirty);
}

static void test_ad_when_pae_never_writes_pdpte(void **state)
{
	struct fx *f = *state;

	map(f, PAE, LPAE, P | RW, P | RW);
	assert_int_equal(walk(f, SW), 0);
	assert_written(f, 2, (const uint64_t[]){ PDEPAE, PTEPAE });
	assert_int_equal(get_entry(f, PDPTE), 0x4000 | P);
	assert_int_equal(f->w.entry[0], 0x4000 | P);
	assert_int_equal(get_entry(f, PDEPAE), 0x5000 | P | RW | A);
	assert_int_equal(get_entry(f, PTEPAE), 0x7000 | P | RW | A | D);
}

/* Faulting walks: A on the table-referencing entries passed, never on the failing entry or leaf. */
static const struct ad_fault_case {
	const char *what;
	enum mode mode;
	enum layout layout;
	uint64_t pde, pte;
	unsigned access;
	int level;		/* entry that gets `bits` besides */
	uint64_t bits;
	int nwrites;		/* 0 or 1: the PDE gets A */
} ad_faults[] = {
	{ "32 PTE not present", M32, L32, P | RW | US, 0, SR, 0, 0, 1 },
	{ "32 PTE protection", M32, L32, P | RW | US, P, UR, 0, 0, 1 },
	{ "32 PTE write protection", M32, L32, P | RW | US, P | US, UW, 0, 0, 1 },
	{ "32 PDE not present", M32, L32, 0, P, SR, 0, 0, 0 },
	{ "32 4M protection", M32_PSE, L32_4M, P, 0, UR, 0, 0, 0 },
	{ "32 4M reserved", M32_PSE, L32_4M, P | RW, 0, SW, 0, 1u << 14, 0 },
	{ "PAE PTE not present", PAE, LPAE, P | RW, 0, SW, 0, 0, 1 },
	{ "PAE PTE reserved", PAE, LPAE, P | RW, P | RW, SR, 2, UINT64_C(1) << 50, 1 },
	{ "PAE PTE XD fetch", PAE_NXE, LPAE, P | RW, P | RW, SF, 2, XD, 1 },
	{ "PAE PDE reserved", PAE, LPAE, P | RW, P | RW, SR, 1, UINT64_C(1) << 40, 0 },
	{ "PAE 2M protection", PAE, LPAE_2M, P | RW, 0, UW, 0, 0, 0 },
};

static void test_ad_when_walk_faults_sets_a_only_above_the_failing_level(void **state)
{
	struct fx *f = *state;

	for (size_t c = 0; c < sizeof(ad_faults) / sizeof(ad_faults[0]); c++) {
		const struct ad_fault_case *k = &ad_faults[c];
		int last = layout_levels[k->layout] - 1;
		uint64_t leaf = layout_gpa[k->layout][last];
		uint64_t pde = k->layout >= LPAE ? PDEPAE : PDE32;
		uint64_t before;

		map(f, k->mode, k->layout, k->pde, k->pte);
		put_entry(f, layout_gpa[k->layout][k->level],
			  get_entry(f, layout_gpa[k->layout][k->level]) | k->bits);
		before = get_entry(f, pde);
		snprintf(where, sizeof(where), "%s", k->what);
		expect_eq(walk(f, k->access), -1);
		if (k->nwrites) {
			assert_written(f, 1, &pde);
			expect_eq(get_entry(f, pde), before | A);
			expect_eq(get_entry(f, leaf) & (A | D), 0);
		} else {
			expect_eq(f->nwrites, 0);
		}
	}
}

static void test_ad_when_write_phys_fails_reports_memory_value(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW, P | RW);
	f->rom = true;
	assert_int_equal(walk(f, SW), 0);
	assert_int_equal(f->nwrites, 2);
	assert_int_equal(f->w.entry[0], 0x2000 | P | RW);
	assert_int_equal(f->w.entry[1], 0x7000 | P | RW);
	assert_false(f->w.dirty);
}

/* ---- global pages ---- */

static void test_global_when_g_in_leaf_is_reported_whatever_cr4_pge(void **state)
{
	struct fx *f = *state;

	/* G in a PDE that references a table is ignored. */
	map(f, M32, L32, P | RW | G, P | RW);
	assert_int_equal(walk(f, SR), 0);
	assert_false(f->w.global);

	map(f, M32, L32, P | RW, P | RW | G);
	assert_int_equal(walk(f, SR), 0);
	assert_true(f->w.global);

	map(f, M32_PSE, L32_4M, P | RW | G, 0);
	f->env.cr4 |= SHADOWMM_CR4_PGE;
	assert_int_equal(walk(f, SR), 0);
	assert_true(f->w.global);

	map(f, PAE, LPAE, P | RW, P | RW | G);
	assert_int_equal(walk(f, SR), 0);
	assert_true(f->w.global);

	map(f, PAE, LPAE_2M, P | RW | G, 0);
	assert_int_equal(walk(f, SR), 0);
	assert_true(f->w.global);

	map(f, PAE, LPAE, P | RW | G, P | RW);
	assert_int_equal(walk(f, SR), 0);
	assert_false(f->w.global);
}

/* ---- the fields of a walk ---- */

static void test_walk_when_successful_fills_every_field(void **state)
{
	struct fx *f = *state;

	map(f, PAE_NXE, LPAE, P | RW | US | XD, P | US | G | D);
	assert_int_equal(walk(f, UR), 0);
	assert_int_equal(f->w.gpa, 0x7234);
	assert_int_equal(f->w.page_gpa, 0x7000);
	assert_int_equal(f->w.page_size, 4096);
	assert_false(f->w.writable);
	assert_true(f->w.user);
	assert_true(f->w.nx);
	assert_true(f->w.global);
	assert_true(f->w.dirty);
	assert_int_equal(f->w.levels, 3);
	assert_int_equal(f->w.entry_gpa[0], PDPTE);
	assert_int_equal(f->w.entry_gpa[1], PDEPAE);
	assert_int_equal(f->w.entry_gpa[2], PTEPAE);
	assert_int_equal(f->w.entry[0], 0x4000 | P);
	assert_int_equal(f->w.entry[1], 0x5000 | P | RW | US | A | XD);
	assert_int_equal(f->w.entry[2], 0x7000 | P | US | G | A | D);
	assert_int_equal(f->w.pf_error, 0);
}

static void test_walk_when_protection_fault_still_reports_translation(void **state)
{
	struct fx *f = *state;

	map(f, M32, L32, P | RW | US, P | RW | G);
	assert_int_equal(walk(f, UW), -1);
	assert_int_equal(f->w.pf_error, EP | EW | EU);
	assert_int_equal(f->w.gpa, 0x7234);
	assert_int_equal(f->w.page_gpa, 0x7000);
	assert_int_equal(f->w.page_size, 4096);
	assert_true(f->w.writable);
	assert_false(f->w.user);
	assert_true(f->w.global);
	assert_false(f->w.dirty);
	assert_int_equal(f->w.levels, 2);
	assert_int_equal(f->w.entry[0], 0x2000 | P | RW | US | A);
	assert_int_equal(f->w.entry[1], 0x7000 | P | RW | G);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_walk_when_mapped_translates_through_expected_entries),
		T(test_walk_when_paging_off_is_identity_with_full_rights),
		T(test_walk_when_entry_not_present_faults_with_p0_at_that_level),
		T(test_walk_when_table_outside_ram_faults_not_present),
		T(test_walk_when_reserved_bit_set_faults_p_rsvd_at_that_level),
		T(test_walk_when_reserved_bit_set_reports_access_and_beats_rights),
		T(test_rights_when_32bit_4k_match_table),
		T(test_rights_when_32bit_4m_match_table),
		T(test_rights_when_pae_4k_match_table),
		T(test_rights_when_pae_nxe_4k_match_table_with_i_on_fetch),
		T(test_rights_when_pae_2m_match_table),
		T(test_nx_when_xd_set_faults_fetches_only_with_nxe),
		T(test_nx_when_32bit_paging_fetch_fault_has_no_i),
		T(test_ad_when_read_sets_a_on_every_level_and_no_d),
		T(test_ad_when_write_sets_d_in_leaf_only),
		T(test_ad_when_already_set_writes_nothing),
		T(test_ad_when_first_write_to_accessed_page_writes_leaf_only),
		T(test_ad_when_set_ad_false_writes_nothing),
		T(test_ad_when_large_page_write_sets_a_and_d_in_pde),
		T(test_ad_when_pae_never_writes_pdpte),
		T(test_ad_when_walk_faults_sets_a_only_above_the_failing_level),
		T(test_ad_when_write_phys_fails_reports_memory_value),
		T(test_global_when_g_in_leaf_is_reported_whatever_cr4_pge),
		T(test_walk_when_successful_fills_every_field),
		T(test_walk_when_protection_fault_still_reports_translation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
