/* tcache/: the translation cache: code memory, unit lookup, chaining, indirect-branch table. */
#ifndef BT_TCACHE_H
#define BT_TCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcache_unit;

/*
 * One exit of a unit to a statically known guest EIP (DynamoRIO's linkstub,
 * QEMU's jump slot).  The exit is a `jmp rel32` whose rel32 is 4-byte aligned
 * so it can be re-pointed with one atomic store: at the link's own exit stub
 * while unlinked, at the target unit's entry once chained.
 */
struct tcache_link {
	struct tcache_unit *from;
	struct tcache_unit *to;		/* NULL while unlinked */
	struct tcache_link *next_in;	/* next link in to->incoming */
	uint32_t target_eip;
	uint32_t rel32_off;		/* cache offset of the rel32 to patch */
	uint32_t stub_off;		/* cache offset of this link's exit stub */
	bool check;	/* always enter through the exit-request check (after STI,
			 * POPF and callouts, which may make an interrupt deliverable) */
};

/* Host offset -> guest EIP map entry; one per guest instruction of a unit. */
struct tcache_pcmap {
	uint32_t host_off;	/* from the unit's code start */
	uint32_t eip;
	uint8_t fixup;		/* TCACHE_FIXUP_* to apply if a fault hits here */
	uint8_t fixup_reg;	/* register the fixup concerns */
};

/* How to repair guest state when a fault lands inside a rewritten sequence. */
enum {
	TCACHE_FIXUP_NONE,
	TCACHE_FIXUP_RESTORE_FROM_R12,	/* guest reg fixup_reg was parked in r12 */
};

/*
 * A translation unit.  Keyed by (guest EIP, mode); paging is off for now so
 * EIP and guest-physical page agree; the key grows a physical page when the
 * shadow MMU arrives.  Metadata lives in the cache's arena and is freed on
 * flush in one go.
 */
struct tcache_unit {
	uint32_t eip, mode;
	uint32_t guest_len;	/* bytes of guest code covered */
	uint32_t ninsns;
	uint32_t code_off, code_len;	/* in the cache */
	uint32_t body_off;	/* from code_off: entry that skips the exit-request check */
	struct tcache_unit *hnext;	/* hash chain */
	struct tcache_link *links;	/* outgoing direct exits */
	uint32_t nlinks;
	struct tcache_link *incoming;	/* links chained into this unit */
	struct tcache_pcmap *pcmap;
	uint32_t npcmap;
	/* The guest physical pages its code came from (page[1] == page[0]
	 * unless the code crosses into the next page), for invalidation when
	 * guest code is written; TCACHE_NO_PAGE until registered. */
	uint32_t page[2];
	bool dead;	/* invalidated: no longer found by lookups */
	bool nonglobal;	/* its code's mapping is not global (CR3 writes matter) */
};

#define TCACHE_NO_PAGE 0xffffffffu

struct tcache_page_node {
	uint32_t page;
	struct tcache_unit *unit;
	struct tcache_page_node *next;
};

struct tcache_stats {
	uint64_t invalidations;
	uint64_t units, insns, flushes, links_chained;
	uint64_t ibl_hits, ibl_misses, lookups, lookup_misses;
};

/*
 * The cache.  Code is one memfd mapped twice: `x` (read+exec) is the only
 * address code runs from; `w` (read+write) is the only address it is
 * written through, so no page is ever writable and executable at once.
 */
/* Indirect-branch lookup tables kept, one per recent translation mode. */
#define TCACHE_IBL_TABLES 4

struct tcache {
	int fd;
	uint8_t *x, *w;
	size_t size, used;
	size_t runtime_end;	/* [0, runtime_end) holds the shared stubs */
	struct tcache_unit **hash;
	uint32_t hash_mask;
	struct tcache_unit **units;	/* in code order, for host pc lookups */
	size_t nunits, units_cap;
	/* Units whose code mapping is not global (tcache_note_nonglobal). */
	struct tcache_unit **nonglobal;
	size_t nnonglobal, nonglobal_cap;
	/* Metadata arena: chunks freed wholesale on flush. */
	struct tcache_chunk *arena;
	/* Indirect-branch lookup tables, one per recent translation mode;
	 * ibl is the current one (see tcache/ibl.c). */
	struct tcache_ibl_entry *ibl;
	struct tcache_ibl_entry *ibl_tables[TCACHE_IBL_TABLES];
	uint32_t ibl_modes[TCACHE_IBL_TABLES];
	uint64_t ibl_used[TCACHE_IBL_TABLES], ibl_clock;
	uint32_t ibl_entries;
	uint64_t ibl_miss_stub;	/* x address empty IBL entries point at */
	/* Units by guest physical page: hash buckets of arena nodes. */
	struct tcache_page_node **page_hash;
	uint32_t page_mask;
	struct tcache_stats st;
	/* Called by tcache_flush so the owner can drop pointers into the cache. */
	void (*on_flush)(void *ctx);
	void *on_flush_ctx;
};

struct tcache_ibl_entry {
	uint32_t neg_eip;	/* -eip, so that a flag-free lea tests equality */
	uint32_t pad;
	uint64_t host;
};

#define TCACHE_IBL_BITS 16	/* the inline lookup indexes with movzx r, r16 */

/* The table index: (low half + high half of eip) mod 2^16.  Translated code
 * computes it without touching flags: rorx (BMI2), lea, movzx. */
static inline uint32_t tcache_ibl_index(uint32_t eip)
{
	return (eip + (eip >> 16)) & 0xffffu;
}

int tcache_init(struct tcache *tc, size_t size);
void tcache_destroy(struct tcache *tc);
/* Drops every unit and link; the shared runtime stubs below runtime_end stay. */
void tcache_flush(struct tcache *tc);

static inline uint64_t tcache_xaddr(const struct tcache *tc, size_t off)
{
	return (uint64_t)(uintptr_t)tc->x + off;
}

/* Room for code: returns false if fewer than `need` bytes are left. */
bool tcache_has_room(const struct tcache *tc, size_t need);
/* Reserves [used, used+len) as code of u, registering u for lookup. */
void tcache_commit(struct tcache *tc, struct tcache_unit *u, size_t len);
/* Places shared runtime stubs at the start of the cache (once, at init). */
void tcache_set_runtime_end(struct tcache *tc, size_t end);

void *tcache_alloc(struct tcache *tc, size_t size);
struct tcache_unit *tcache_lookup(struct tcache *tc, uint32_t eip, uint32_t mode);
/* The unit whose code contains host address pc, or NULL. */
struct tcache_unit *tcache_unit_at(const struct tcache *tc, uint64_t pc);
/* The pcmap entry for host pc inside u (the instruction executing there). */
const struct tcache_pcmap *tcache_pcmap_at(const struct tcache *tc,
					   const struct tcache_unit *u, uint64_t pc);

/* Chains l to `to`, patching its jump. */
void tcache_link(struct tcache *tc, struct tcache_link *l, struct tcache_unit *to);
/* Points every link into u back at its exit stub. */
void tcache_unlink_incoming(struct tcache *tc, struct tcache_unit *u);
/* Records the guest physical pages u's code came from. */
void tcache_set_pages(struct tcache *tc, struct tcache_unit *u, uint32_t p0, uint32_t p1);
/* Invalidates every live unit with code on guest physical page `page`:
 * unchained, out of the lookup hash and the indirect-branch table.  Units
 * stay in the pc map, so a fault in one that is running is still precise.
 * Returns how many were invalidated. */
unsigned tcache_invalidate_page(struct tcache *tc, uint32_t page);
/* Invalidates one unit (same as above). */
void tcache_invalidate_unit(struct tcache *tc, struct tcache_unit *u);
/* Calls fn for every live unit whose code mapping is not global. */
/* Records that u's code mapping is not global, for tcache_for_nonglobal. */
void tcache_note_nonglobal(struct tcache *tc, struct tcache_unit *u);
void tcache_for_nonglobal(struct tcache *tc, void (*fn)(void *ctx, struct tcache_unit *u),
			  void *ctx);

/* Patches the rel32 at cache offset rel32_off to reach x address target. */
void tcache_patch_rel32(struct tcache *tc, uint32_t rel32_off, uint64_t target);

/* Empties every table. */
void tcache_ibl_reset(struct tcache *tc);
/* Makes tc->ibl the table of `mode` (the least recently used one, emptied,
 * if none has it yet); returns it. */
struct tcache_ibl_entry *tcache_ibl_select(struct tcache *tc, uint32_t mode);
/* Removes eip -> host from every table. */
void tcache_ibl_forget(struct tcache *tc, uint32_t eip, uint64_t host);
void tcache_ibl_insert(struct tcache *tc, uint32_t eip, uint64_t host);

#endif
