/* tcache/tcache.c: code memory (dual-mapped, never W+X), the unit table and flushing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcache/tcache.h"

#define ARENA_CHUNK (1u << 20)

struct tcache_chunk {
	struct tcache_chunk *next;
	size_t used, size;
	_Alignas(16) uint8_t data[];
};

int tcache_init(struct tcache *tc, size_t size)
{
	int err;
	memset(tc, 0, sizeof(*tc));
	tc->fd = memfd_create("bt-tcache", MFD_CLOEXEC);
	if (tc->fd < 0)
		return -errno;
	if (ftruncate(tc->fd, (off_t)size) < 0) {
		err = -errno;
		goto out_fd;
	}
	tc->x = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, tc->fd, 0);
	if (tc->x == MAP_FAILED) {
		err = -errno;
		goto out_fd;
	}
	tc->w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, tc->fd, 0);
	if (tc->w == MAP_FAILED) {
		err = -errno;
		goto out_x;
	}
	tc->size = size;
	tc->hash_mask = (1u << 16) - 1;
	tc->hash = calloc(tc->hash_mask + 1, sizeof(*tc->hash));
	tc->page_mask = (1u << 14) - 1;
	tc->page_hash = calloc(tc->page_mask + 1, sizeof(*tc->page_hash));
	tc->ibl_entries = 1u << TCACHE_IBL_BITS;
	bool ibl_ok = true;
	for (int i = 0; i < TCACHE_IBL_TABLES; i++) {
		tc->ibl_tables[i] = aligned_alloc(64, sizeof(*tc->ibl) * tc->ibl_entries);
		ibl_ok &= tc->ibl_tables[i] != NULL;
	}
	tc->ibl = tc->ibl_tables[0];
	if (!tc->hash || !tc->page_hash || !ibl_ok) {
		err = -ENOMEM;
		goto out_w;
	}
	return 0;
out_w:
	free(tc->hash);
	free(tc->page_hash);
	for (int i = 0; i < TCACHE_IBL_TABLES; i++)
		free(tc->ibl_tables[i]);
	munmap(tc->w, size);
out_x:
	munmap(tc->x, size);
out_fd:
	close(tc->fd);
	return err;
}

static void arena_free(struct tcache *tc)
{
	while (tc->arena) {
		struct tcache_chunk *n = tc->arena->next;
		free(tc->arena);
		tc->arena = n;
	}
}

void tcache_destroy(struct tcache *tc)
{
	arena_free(tc);
	free(tc->hash);
	free(tc->page_hash);
	for (int i = 0; i < TCACHE_IBL_TABLES; i++)
		free(tc->ibl_tables[i]);
	free(tc->units);
	free(tc->nonglobal);
	munmap(tc->w, tc->size);
	munmap(tc->x, tc->size);
	close(tc->fd);
}

void tcache_set_runtime_end(struct tcache *tc, size_t end)
{
	tc->runtime_end = end;
	tc->used = end;
	tcache_ibl_reset(tc);
}

void tcache_flush(struct tcache *tc)
{
	arena_free(tc);
	memset(tc->hash, 0, sizeof(*tc->hash) * (tc->hash_mask + 1));
	memset(tc->page_hash, 0, sizeof(*tc->page_hash) * (tc->page_mask + 1));
	tc->nunits = 0;
	tc->nnonglobal = 0;
	tc->used = tc->runtime_end;
	tc->st.flushes++;
	tcache_ibl_reset(tc);
	if (tc->on_flush)
		tc->on_flush(tc->on_flush_ctx);
}

void *tcache_alloc(struct tcache *tc, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct tcache_chunk *c = tc->arena;
	if (!c || c->used + size > c->size) {
		size_t csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->next = tc->arena;
		c->used = 0;
		c->size = csize;
		tc->arena = c;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

bool tcache_has_room(const struct tcache *tc, size_t need)
{
	return tc->used + need <= tc->size;
}

static uint32_t key_hash(uint32_t eip, uint32_t mode)
{
	uint32_t h = eip ^ (mode * 0x9e3779b1u);
	return (h ^ (h >> 15)) * 0x85ebca6bu;
}

void tcache_commit(struct tcache *tc, struct tcache_unit *u, size_t len)
{
	u->code_off = (uint32_t)tc->used;
	u->code_len = (uint32_t)len;
	/* Keep the next unit 16-byte aligned: branch targets decode faster. */
	tc->used = (tc->used + len + 15) & ~(size_t)15;
	uint32_t h = (key_hash(u->eip, u->mode) >> 8) & tc->hash_mask;
	u->hnext = tc->hash[h];
	tc->hash[h] = u;
	if (tc->nunits == tc->units_cap) {
		size_t cap = tc->units_cap ? tc->units_cap * 2 : 4096;
		struct tcache_unit **n = realloc(tc->units, cap * sizeof(*n));
		if (!n)
			abort();	/* metadata for a unit we already emitted */
		tc->units = n;
		tc->units_cap = cap;
	}
	tc->units[tc->nunits++] = u;
	u->page[0] = u->page[1] = TCACHE_NO_PAGE;
	tc->st.units++;
	tc->st.insns += u->ninsns;
}

struct tcache_unit *tcache_lookup(struct tcache *tc, uint32_t eip, uint32_t mode)
{
	uint32_t h = (key_hash(eip, mode) >> 8) & tc->hash_mask;
	tc->st.lookups++;
	for (struct tcache_unit *u = tc->hash[h]; u; u = u->hnext)
		if (u->eip == eip && u->mode == mode && !u->dead)
			return u;
	tc->st.lookup_misses++;
	return NULL;
}

struct tcache_unit *tcache_unit_at(const struct tcache *tc, uint64_t pc)
{
	uint64_t base = tcache_xaddr(tc, 0);
	if (pc < base || pc >= base + tc->used)
		return NULL;
	uint64_t off = pc - base;
	/* Units are laid out in commit order: binary search by offset. */
	size_t lo = 0, hi = tc->nunits;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (tc->units[mid]->code_off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct tcache_unit *u = tc->units[lo - 1];
	return off < (uint64_t)u->code_off + u->code_len ? u : NULL;
}

const struct tcache_pcmap *tcache_pcmap_at(const struct tcache *tc, const struct tcache_unit *u,
					   uint64_t pc)
{
	uint64_t off = pc - tcache_xaddr(tc, u->code_off);
	const struct tcache_pcmap *best = NULL;
	for (uint32_t i = 0; i < u->npcmap; i++) {
		if (u->pcmap[i].host_off > off)
			break;
		best = &u->pcmap[i];
	}
	return best;
}

void tcache_patch_rel32(struct tcache *tc, uint32_t rel32_off, uint64_t target)
{
	int32_t rel = (int32_t)(int64_t)(target - tcache_xaddr(tc, rel32_off + 4));
	/* rel32_off is 4-byte aligned (em_align_rel32): one atomic store, so
	 * a concurrent executor sees the old or the new target, never a mix. */
	__atomic_store_n((int32_t *)(void *)(tc->w + rel32_off), rel, __ATOMIC_RELEASE);
}

void tcache_link(struct tcache *tc, struct tcache_link *l, struct tcache_unit *to)
{
	if (l->to)
		return;
	l->to = to;
	l->next_in = to->incoming;
	to->incoming = l;
	/*
	 * Only backward links enter through the exit-request check: every cycle
	 * of units has an edge into its lowest-addressed unit, which is such a
	 * link (indirect branches always check), so the latency of an exit
	 * request stays bounded while straight-line chains skip the check.
	 */
	uint32_t entry = l->target_eip > l->from->eip && !l->check ? to->body_off : 0;
	tcache_patch_rel32(tc, l->rel32_off, tcache_xaddr(tc, to->code_off + entry));
	tc->st.links_chained++;
}

void tcache_unlink_incoming(struct tcache *tc, struct tcache_unit *u)
{
	for (struct tcache_link *l = u->incoming; l; l = l->next_in) {
		tcache_patch_rel32(tc, l->rel32_off, tcache_xaddr(tc, l->stub_off));
		l->to = NULL;
	}
	u->incoming = NULL;
}

static uint32_t page_slot(const struct tcache *tc, uint32_t page)
{
	return (page * 0x9e3779b1u >> 10) & tc->page_mask;
}

void tcache_set_pages(struct tcache *tc, struct tcache_unit *u, uint32_t p0, uint32_t p1)
{
	u->page[0] = p0;
	u->page[1] = p1;
	for (int i = 0; i < 2; i++) {
		if (i == 1 && p1 == p0)
			break;
		struct tcache_page_node *n = tcache_alloc(tc, sizeof(*n));
		if (!n)
			abort();
		uint32_t h = page_slot(tc, u->page[i]);
		*n = (struct tcache_page_node){ u->page[i], u, tc->page_hash[h] };
		tc->page_hash[h] = n;
	}
}

static void hash_remove(struct tcache *tc, struct tcache_unit *u)
{
	struct tcache_unit **link = &tc->hash[(key_hash(u->eip, u->mode) >> 8) & tc->hash_mask];
	for (; *link; link = &(*link)->hnext)
		if (*link == u) {
			*link = u->hnext;
			return;
		}
}

void tcache_invalidate_unit(struct tcache *tc, struct tcache_unit *u)
{
	if (u->dead)
		return;
	u->dead = true;
	tcache_unlink_incoming(tc, u);
	hash_remove(tc, u);
	/* An indirect branch may still point at it. */
	tcache_ibl_forget(tc, u->eip, tcache_xaddr(tc, u->code_off));
	tc->st.invalidations++;
}

unsigned tcache_invalidate_page(struct tcache *tc, uint32_t page)
{
	unsigned n = 0;
	struct tcache_page_node **link = &tc->page_hash[page_slot(tc, page)];
	while (*link) {
		struct tcache_page_node *p = *link;
		if (p->page != page) {
			link = &p->next;
			continue;
		}
		*link = p->next;
		if (!p->unit->dead) {
			tcache_invalidate_unit(tc, p->unit);
			n++;
		}
	}
	return n;
}

void tcache_note_nonglobal(struct tcache *tc, struct tcache_unit *u)
{
	if (tc->nnonglobal == tc->nonglobal_cap) {
		size_t cap = tc->nonglobal_cap ? 2 * tc->nonglobal_cap : 256;
		struct tcache_unit **n = realloc(tc->nonglobal, cap * sizeof(*n));
		if (!n) {
			/* Without the list a CR3 write could miss u: drop it now. */
			tcache_invalidate_unit(tc, u);
			return;
		}
		tc->nonglobal = n;
		tc->nonglobal_cap = cap;
	}
	tc->nonglobal[tc->nnonglobal++] = u;
}

/* A list of its own instead of a scan of every unit: a kernel switches
 * address spaces thousands of times a second, and nearly all of its code
 * is global. */
void tcache_for_nonglobal(struct tcache *tc, void (*fn)(void *ctx, struct tcache_unit *u),
			  void *ctx)
{
	size_t keep = 0;
	for (size_t i = 0; i < tc->nnonglobal; i++) {
		struct tcache_unit *u = tc->nonglobal[i];
		if (u->dead)
			continue;
		fn(ctx, u);
		if (!u->dead)
			tc->nonglobal[keep++] = u;
	}
	tc->nnonglobal = keep;
}
