/*
 * shadowmm/shadow.c: the kernel view as a shadow of the guest's page tables
 * (DESIGN.md §5).
 *
 * State per 4 KiB linear page of the kernel view (host [0, 4 GiB)): which
 * guest physical page is mapped there, writable or not, global or not.
 * Pages are filled on first use (a host fault in translated code: a hidden
 * fault), read-only until the guest's Dirty flag is set (so the first write
 * faults and sets it, SDM vol. 3, 4.8), and not at all until the guest's
 * Accessed flag is set (the fill sets it).  A reverse map from guest
 * physical pages to the linear pages that map them lets a page that becomes
 * a page table, or starts holding translated code, be write-protected
 * wherever it is mapped.
 *
 * Page tables: every table page a walk goes through is recorded with the
 * linear range it covers in the address space that used it.  A write to
 * one is not let through the kernel view: the fault comes back as
 * SHADOWMM_REDIRECT, the monitor performs the store on guest memory and
 * reports it with shadowmm_phys_written, and exactly the linear ranges
 * whose entries changed are dropped here and in the user views.
 *
 * TLB semantics: a CR3 write drops every non-global translation (all of
 * them without CR4.PGE), INVLPG one page (SDM vol. 3, 4.10.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shadowmm/shadowmm.h"

#define PAGE 4096u
#define NPAGES (1u << 20)		/* 4 KiB pages in 4 GiB */

#define KV_MAPPED 1u
#define KV_WRITE  2u
#define KV_GLOBAL 4u

#define PF_TABLE 1u
#define PF_CODE  2u

/* A page-table page's use: in address space `root`, entry k of it covers
 * [base + k * span, + span). */
struct table_use {
	uint32_t root, base, span, next;
};

struct rnode {
	uint32_t lin_pfn, next;
};

/* A table page written this often without a walk through it is taken to be
 * memory again (the guest freed it). */
#define TABLE_STALE_WRITES 512

/* Warn once the kernel view's mappings reach this share of the host's
 * vm.max_map_count (each discontiguous run of pages is one host VMA). */
#define MAP_COUNT_WARN_PERCENT 75

struct shadowmm {
	struct shadowmm_host h;
	uint64_t max_map_count;
	int64_t runs;			/* host VMAs the kernel view holds, estimated */
	bool warned;
	struct shadowmm_env env;
	bool paging;
	uint32_t root;
	uint32_t npfn;			/* guest RAM pages */
	uint32_t *kv;			/* per linear page: gpfn << 12 | KV_* */
	uint8_t *pflags;		/* per guest page: PF_* */
	uint16_t *table_writes;		/* per guest page: writes since the last walk */
	/* Reverse map (paging on): guest page -> linear pages mapping it. */
	uint32_t *rhead;
	struct rnode *rnodes;
	uint32_t nrnodes, rcap, rfree;
	/* Uses of table pages. */
	uint32_t *uhead;
	struct table_use *uses;
	uint32_t nuses, ucap;
	/* Mapped linear pages, for flushes (may hold stale entries). */
	uint32_t *mapped;
	size_t nmapped, mcap;
	struct shadowmm_stats st;
};

static inline uint32_t kv_gpfn(uint32_t e) { return e >> 12; }

/* ---- host mappings of the kernel view ---- */

static void host_map(struct shadowmm *sm, uint32_t lin_pfn, uint32_t gpfn, bool writable)
{
	void *p = mmap((void *)((uintptr_t)lin_pfn * PAGE), PAGE,
		       PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED,
		       sm->h.memfd, (off_t)gpfn * PAGE);
	if (p == MAP_FAILED) {
		fprintf(stderr, "bt: cannot map guest page 0x%x at 0x%x in the kernel view: %s\n",
			gpfn, lin_pfn * PAGE, strerror(errno));
		abort();
	}
	sm->st.maps++;
}

/* Back to the reserved, inaccessible state (keeps [0, 4 GiB) reserved). */
static void host_unmap_range(struct shadowmm *sm, uint32_t lin_pfn, uint32_t npages)
{
	void *p = mmap((void *)((uintptr_t)lin_pfn * PAGE), (size_t)npages * PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "bt: cannot unmap 0x%x pages at 0x%x in the kernel view: %s\n",
			npages, lin_pfn * PAGE, strerror(errno));
		abort();
	}
	sm->st.unmaps++;
}

static void host_protect(struct shadowmm *sm, uint32_t lin_pfn, bool writable)
{
	if (mprotect((void *)((uintptr_t)lin_pfn * PAGE), PAGE,
		     PROT_READ | (writable ? PROT_WRITE : 0)) < 0) {
		fprintf(stderr, "bt: mprotect of the kernel view failed: %s\n", strerror(errno));
		abort();
	}
	sm->st.protects++;
}

/* ---- reverse map ---- */

static void rmap_add(struct shadowmm *sm, uint32_t gpfn, uint32_t lin_pfn)
{
	uint32_t i;
	if (sm->rfree) {
		i = sm->rfree;
		sm->rfree = sm->rnodes[i].next;
	} else {
		if (sm->nrnodes + 1 >= sm->rcap) {
			uint32_t cap = sm->rcap ? sm->rcap * 2 : 4096;
			struct rnode *n = realloc(sm->rnodes, cap * sizeof(*n));
			if (!n)
				abort();
			sm->rnodes = n;
			sm->rcap = cap;
		}
		i = ++sm->nrnodes;	/* index 0 means "none" */
	}
	sm->rnodes[i] = (struct rnode){ lin_pfn, sm->rhead[gpfn] };
	sm->rhead[gpfn] = i;
}

static void rmap_del(struct shadowmm *sm, uint32_t gpfn, uint32_t lin_pfn)
{
	uint32_t *link = &sm->rhead[gpfn];
	while (*link) {
		struct rnode *n = &sm->rnodes[*link];
		if (n->lin_pfn == lin_pfn) {
			uint32_t i = *link;
			*link = n->next;
			n->next = sm->rfree;
			sm->rfree = i;
			return;
		}
		link = &n->next;
	}
}

/* ---- kernel view pages ---- */

static void note_mapped(struct shadowmm *sm, uint32_t lin_pfn)
{
	if (sm->nmapped == sm->mcap) {
		size_t cap = sm->mcap ? sm->mcap * 2 : 4096;
		uint32_t *m = realloc(sm->mapped, cap * sizeof(*m));
		if (!m)
			abort();
		sm->mapped = m;
		sm->mcap = cap;
	}
	sm->mapped[sm->nmapped++] = lin_pfn;
}

/* Does page p continue page p-1's host mapping (same file run, same
 * protection), so that the kernel merges them into one VMA? */
static bool continues(const struct shadowmm *sm, uint32_t p)
{
	if (p == 0 || p >= NPAGES)
		return false;
	uint32_t a = sm->kv[p - 1], b = sm->kv[p];
	return (a & KV_MAPPED) && (b & KV_MAPPED) && kv_gpfn(b) == kv_gpfn(a) + 1 &&
	       (a & KV_WRITE) == (b & KV_WRITE);
}

/* Keeps the VMA estimate as page p changes from `before` to its new state. */
static void count_runs(struct shadowmm *sm, uint32_t p, uint32_t before)
{
	uint32_t now = sm->kv[p];
	sm->kv[p] = before;
	int64_t old = (before & KV_MAPPED) ? 1 - continues(sm, p) - continues(sm, p + 1) : 0;
	sm->kv[p] = now;
	int64_t new = (now & KV_MAPPED) ? 1 - continues(sm, p) - continues(sm, p + 1) : 0;
	sm->runs += new - old;
	if (!sm->warned && sm->max_map_count &&
	    (uint64_t)sm->runs * 100 >= sm->max_map_count * MAP_COUNT_WARN_PERCENT) {
		sm->warned = true;
		fprintf(stderr, "bt: the guest's kernel view needs about %lld host mappings, close to "
			"vm.max_map_count (%llu); raise it with: sysctl -w vm.max_map_count=%llu\n",
			(long long)sm->runs, (unsigned long long)sm->max_map_count,
			(unsigned long long)sm->max_map_count * 4);
	}
}

static void kv_map(struct shadowmm *sm, uint32_t lin_pfn, uint32_t gpfn, bool writable, bool global)
{
	uint32_t e = sm->kv[lin_pfn];
	uint32_t ne = gpfn << 12 | KV_MAPPED | (writable ? KV_WRITE : 0) | (global ? KV_GLOBAL : 0);
	if (e == ne)
		return;
	if ((e & KV_MAPPED) && kv_gpfn(e) == gpfn) {
		if ((e & KV_WRITE) != (ne & KV_WRITE))
			host_protect(sm, lin_pfn, writable);
	} else {
		if (e & KV_MAPPED)
			rmap_del(sm, kv_gpfn(e), lin_pfn);
		host_map(sm, lin_pfn, gpfn, writable);
		rmap_add(sm, gpfn, lin_pfn);
		note_mapped(sm, lin_pfn);
	}
	sm->kv[lin_pfn] = ne;
	count_runs(sm, lin_pfn, e);
}

/* Drops the kernel-view pages in [lin_pfn, lin_pfn + n) that are mapped,
 * in runs; keep_global leaves global ones. */
static void kv_unmap_range(struct shadowmm *sm, uint32_t lin_pfn, uint32_t n, bool keep_global)
{
	uint32_t run = 0, start = 0;
	for (uint32_t i = 0; i <= n; i++) {
		uint32_t p = lin_pfn + i;
		uint32_t e = i < n ? sm->kv[p] : 0;
		bool drop = (e & KV_MAPPED) && !(keep_global && (e & KV_GLOBAL));
		if (drop) {
			if (!run)
				start = p;
			run++;
			rmap_del(sm, kv_gpfn(e), p);
			sm->kv[p] = 0;
			count_runs(sm, p, e);
			continue;
		}
		if (run)
			host_unmap_range(sm, start, run);
		run = 0;
	}
}

/* Write-protects every kernel-view mapping of guest page gpfn. */
static void protect_gpfn(struct shadowmm *sm, uint32_t gpfn)
{
	if (!sm->paging) {
		uint32_t e = sm->kv[gpfn];
		if ((e & KV_MAPPED) && (e & KV_WRITE)) {
			host_protect(sm, gpfn, false);
			sm->kv[gpfn] = e & ~KV_WRITE;
		}
		return;
	}
	for (uint32_t i = sm->rhead[gpfn]; i; i = sm->rnodes[i].next) {
		uint32_t p = sm->rnodes[i].lin_pfn;
		if (sm->kv[p] & KV_WRITE) {
			uint32_t e = sm->kv[p];
			host_protect(sm, p, false);
			sm->kv[p] &= ~KV_WRITE;
			count_runs(sm, p, e);
		}
	}
}

/* ---- page-table pages ---- */

static uint32_t root_of(const struct shadowmm_env *env)
{
	return (env->cr4 & SHADOWMM_CR4_PAE) ? env->cr3 & ~0x1fu : env->cr3 & ~0xfffu;
}

static void track_table(struct shadowmm *sm, uint32_t gpfn, uint32_t base, uint32_t span)
{
	if (gpfn >= sm->npfn)
		return;
	sm->table_writes[gpfn] = 0;
	for (uint32_t i = sm->uhead[gpfn]; i; i = sm->uses[i].next)
		if (sm->uses[i].root == sm->root && sm->uses[i].base == base &&
		    sm->uses[i].span == span)
			goto have;
	if (sm->nuses + 1 >= sm->ucap) {
		uint32_t cap = sm->ucap ? sm->ucap * 2 : 1024;
		struct table_use *u = realloc(sm->uses, cap * sizeof(*u));
		if (!u)
			abort();
		sm->uses = u;
		sm->ucap = cap;
	}
	uint32_t i = ++sm->nuses;
	sm->uses[i] = (struct table_use){ sm->root, base, span, sm->uhead[gpfn] };
	sm->uhead[gpfn] = i;
have:
	if (!(sm->pflags[gpfn] & PF_TABLE)) {
		sm->pflags[gpfn] |= PF_TABLE;
		sm->st.tables++;
		protect_gpfn(sm, gpfn);
	}
}

/* Records the table pages a successful walk went through. */
static void track_walk(struct shadowmm *sm, uint32_t lin, const struct shadowmm_walk *w)
{
	bool pae = sm->env.cr4 & SHADOWMM_CR4_PAE;
	/* Span covered by one entry of the table at each level. */
	static const uint32_t span32[2] = { 1u << 22, 1u << 12 };
	static const uint32_t spanpae[3] = { 1u << 30, 1u << 21, 1u << 12 };
	for (int k = 0; k < w->levels; k++) {
		/* The PAE PDPT sits in CR3, not in a page of its own entries'
		 * kind; its 4 entries are read at each walk here, and a write to
		 * the page holding them is traced like any other table. */
		uint32_t table_span = k == 0 ? 0 : (pae ? spanpae[k - 1] : span32[k - 1]);
		uint32_t base = k == 0 ? 0 : lin & ~(table_span - 1);
		track_table(sm, (uint32_t)(w->entry_gpa[k] >> 12), base,
			    pae ? spanpae[k] : span32[k]);
	}
}

static void untrack_table(struct shadowmm *sm, uint32_t gpfn);

/* Entry k of a table page changed: drop what was derived from it.  When
 * the write is known (ov/nv, the entry before and after), a leaf entry of
 * the current address space goes to user_entry_changed instead, which can
 * keep, reprotect or remap the page in the user view rather than drop it. */
static void table_entry_changed(struct shadowmm *sm, uint32_t gpfn, uint32_t k, const uint64_t *ov,
				const uint64_t *nv)
{
	for (uint32_t i = sm->uhead[gpfn]; i; i = sm->uses[i].next) {
		const struct table_use *u = &sm->uses[i];
		uint64_t lin = (uint64_t)u->base + (uint64_t)k * u->span;
		if (lin >= (1ull << 32))
			continue;
		uint32_t len = u->span;
		bool current = u->root == sm->root && sm->paging;
		if (current)
			kv_unmap_range(sm, (uint32_t)(lin >> 12), len >> 12, false);
		if (ov && current && len == PAGE && sm->h.user_entry_changed)
			sm->h.user_entry_changed(sm->h.ctx, (uint32_t)lin, *ov, *nv);
		else if (sm->h.user_invalidate)
			sm->h.user_invalidate(sm->h.ctx, u->root, (uint32_t)lin, len);
	}
}

static void untrack_table(struct shadowmm *sm, uint32_t gpfn)
{
	/* Everything derived from it goes: every entry's range, once. */
	uint32_t esize = (sm->env.cr4 & SHADOWMM_CR4_PAE) ? 8 : 4;
	for (uint32_t k = 0; k < PAGE / esize; k++)
		table_entry_changed(sm, gpfn, k, NULL, NULL);
	sm->uhead[gpfn] = 0;	/* the use records leak until the next full flush */
	sm->pflags[gpfn] &= ~PF_TABLE;
	sm->st.tables--;
}

/* ---- the interface ---- */

struct shadowmm *shadowmm_create(const struct shadowmm_host *h)
{
	struct shadowmm *sm = calloc(1, sizeof(*sm));
	if (!sm)
		return NULL;
	sm->h = *h;
	sm->npfn = (uint32_t)(h->ram_size / PAGE);
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	unsigned long long m = 0;
	if (f) {
		if (fscanf(f, "%llu", &m) != 1)
			m = 0;
		fclose(f);
	}
	sm->max_map_count = m;
	sm->kv = calloc(NPAGES, sizeof(*sm->kv));
	sm->pflags = calloc(sm->npfn, 1);
	sm->table_writes = calloc(sm->npfn, sizeof(*sm->table_writes));
	sm->rhead = calloc(sm->npfn, sizeof(*sm->rhead));
	sm->uhead = calloc(sm->npfn, sizeof(*sm->uhead));
	if (!sm->kv || !sm->pflags || !sm->table_writes || !sm->rhead || !sm->uhead) {
		shadowmm_destroy(sm);
		return NULL;
	}
	/* Paging off: linear = physical, all of RAM (above mmap_min_addr)
	 * mapped read/write already (monitor_kview_map_identity). */
	uint32_t first = (uint32_t)((h->min_addr + PAGE - 1) / PAGE);
	for (uint32_t p = first; p < sm->npfn; p++)
		sm->kv[p] = p << 12 | KV_MAPPED | KV_WRITE;
	return sm;
}

void shadowmm_destroy(struct shadowmm *sm)
{
	if (!sm)
		return;
	free(sm->kv);
	free(sm->pflags);
	free(sm->table_writes);
	free(sm->rhead);
	free(sm->rnodes);
	free(sm->uhead);
	free(sm->uses);
	free(sm->mapped);
	free(sm);
}

const struct shadowmm_stats *shadowmm_stats(const struct shadowmm *sm)
{
	return &sm->st;
}

bool shadowmm_is_table(const struct shadowmm *sm, uint32_t gpfn)
{
	return gpfn < sm->npfn && (sm->pflags[gpfn] & PF_TABLE);
}

bool shadowmm_has_code(const struct shadowmm *sm, uint32_t gpfn)
{
	return gpfn < sm->npfn && (sm->pflags[gpfn] & PF_CODE);
}

void shadowmm_untrack(struct shadowmm *sm, uint32_t gpfn)
{
	if (gpfn < sm->npfn && (sm->pflags[gpfn] & PF_TABLE))
		untrack_table(sm, gpfn);
}

/* Drops every kernel-view translation (or the non-global ones). */
static void flush(struct shadowmm *sm, bool keep_global)
{
	size_t keep = 0;
	for (size_t i = 0; i < sm->nmapped; i++) {
		uint32_t p = sm->mapped[i];
		uint32_t e = sm->kv[p];
		if (!(e & KV_MAPPED))
			continue;	/* stale */
		if (keep_global && (e & KV_GLOBAL)) {
			sm->mapped[keep++] = p;
			continue;
		}
		/* Take the run of mapped pages that starts here in one call. */
		uint32_t n = 1;
		while (p + n < NPAGES && (sm->kv[p + n] & KV_MAPPED) &&
		       !(keep_global && (sm->kv[p + n] & KV_GLOBAL)))
			n++;
		kv_unmap_range(sm, p, n, keep_global);
	}
	sm->nmapped = keep;
	sm->st.flushes++;
}

void shadowmm_paging_changed(struct shadowmm *sm, const struct shadowmm_env *env, bool cr3_write,
			     bool full)
{
	bool was = sm->paging;
	sm->env = *env;
	sm->paging = env->cr0 & SHADOWMM_CR0_PG;
	sm->root = root_of(env);
	if (!was && !sm->paging)
		return;	/* the identity map does not depend on CR3/CR4/WP */
	if (was != sm->paging || full) {
		if (!was) {
			/* Leaving the identity map: the reverse map starts empty and
			 * the identity pages are dropped (as a range). */
			uint32_t first = (uint32_t)((sm->h.min_addr + PAGE - 1) / PAGE);
			for (uint32_t p = first; p < sm->npfn; p++)
				sm->kv[p] = 0;
			if (sm->npfn > first)
				host_unmap_range(sm, first, sm->npfn - first);
			sm->nmapped = 0;
		} else {
			flush(sm, false);
		}
		if (!sm->paging) {
			/* Back to the identity map: one mapping, then the traced
			 * pages read-only. */
			uint32_t first = (uint32_t)((sm->h.min_addr + PAGE - 1) / PAGE);
			if (sm->npfn > first &&
			    mmap((void *)((uintptr_t)first * PAGE), (size_t)(sm->npfn - first) * PAGE,
				 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, sm->h.memfd,
				 (off_t)first * PAGE) == MAP_FAILED) {
				fprintf(stderr, "bt: cannot map the identity kernel view: %s\n",
					strerror(errno));
				abort();
			}
			sm->st.maps++;
			for (uint32_t p = first; p < sm->npfn; p++) {
				bool traced = sm->pflags[p] & (PF_TABLE | PF_CODE);
				sm->kv[p] = p << 12 | KV_MAPPED | (traced ? 0 : KV_WRITE);
				if (traced)
					host_protect(sm, p, false);
			}
			sm->nmapped = 0;
			sm->runs = 1;
		}
		return;
	}
	if (cr3_write && sm->paging)
		flush(sm, env->cr4 & SHADOWMM_CR4_PGE);
}

void shadowmm_invlpg(struct shadowmm *sm, uint32_t lin)
{
	sm->st.invlpgs++;
	if (sm->paging)
		kv_unmap_range(sm, lin >> 12, 1, false);
	if (sm->h.user_invalidate)
		sm->h.user_invalidate(sm->h.ctx, sm->root, lin & ~(PAGE - 1), PAGE);
}

enum shadowmm_fault shadowmm_kernel_fault(struct shadowmm *sm, const struct shadowmm_env *env,
					  uint32_t lin, bool write, uint32_t size,
					  uint32_t *pf_error)
{
	struct shadowmm_walk w;
	sm->env = *env;
	if (shadowmm_walk(env, lin, write ? SHADOWMM_ACC_WRITE : 0, true, &w) < 0) {
		sm->st.guest_faults++;
		*pf_error = w.pf_error;
		return SHADOWMM_GUEST_PF;
	}
	if (sm->paging)
		track_walk(sm, lin, &w);
	uint32_t gpfn = (uint32_t)(w.page_gpa >> 12);
	uint32_t lin_pfn = lin >> 12;
	if (lin < sm->h.min_addr || gpfn >= sm->npfn) {
		sm->st.low_accesses++;
		return SHADOWMM_REDIRECT;
	}
	if (write && (sm->pflags[gpfn] & PF_TABLE)) {
		sm->st.table_writes++;
		if (++sm->table_writes[gpfn] >= TABLE_STALE_WRITES) {
			untrack_table(sm, gpfn);	/* it is memory again */
		} else {
			return SHADOWMM_REDIRECT;
		}
	}
	if (write && (sm->pflags[gpfn] & PF_CODE)) {
		/* Self-modifying code, or data next to code: only the former
		 * unprotects the page (its translations are gone then); the
		 * latter is done through the physmap, and adaptive translation
		 * makes a store that keeps doing it fault-free. */
		uint32_t off = lin & (PAGE - 1);
		if (size && off + size > PAGE)
			size = PAGE - off;
		int what = sm->h.code_written ? sm->h.code_written(sm->h.ctx, gpfn, off, size)
					      : SHADOWMM_CODE_NONE;
		if (what == SHADOWMM_CODE_DATA) {
			sm->st.code_page_data++;
			return SHADOWMM_REDIRECT;
		}
		if (what == SHADOWMM_CODE_HIT) {
			sm->st.code_writes++;
			return SHADOWMM_REDIRECT;
		}
		sm->pflags[gpfn] &= ~PF_CODE;
	}
	bool was_mapped = sm->kv[lin_pfn] & KV_MAPPED;
	bool writable = w.dirty && (w.writable || !(env->cr0 & SHADOWMM_CR0_WP)) &&
			!(sm->pflags[gpfn] & (PF_TABLE | PF_CODE));
	bool global = w.global && (env->cr4 & SHADOWMM_CR4_PGE);
	if (!sm->paging) {
		/* Paging off: only protections change (code pages). */
		if (sm->kv[lin_pfn] & KV_MAPPED) {
			host_protect(sm, lin_pfn, writable);
			sm->kv[lin_pfn] = (sm->kv[lin_pfn] & ~KV_WRITE) | (writable ? KV_WRITE : 0);
		}
		return SHADOWMM_RETRY;
	}
	kv_map(sm, lin_pfn, gpfn, writable, global);
	if (was_mapped && write)
		sm->st.dirty_faults++;
	else
		sm->st.hidden_faults++;
	return SHADOWMM_RETRY;
}

void shadowmm_code_page(struct shadowmm *sm, uint32_t gpfn, bool has_code)
{
	if (gpfn >= sm->npfn)
		return;
	if (has_code) {
		if (!(sm->pflags[gpfn] & PF_CODE)) {
			sm->pflags[gpfn] |= PF_CODE;
			protect_gpfn(sm, gpfn);
		}
	} else {
		sm->pflags[gpfn] &= ~PF_CODE;
	}
}

void shadowmm_phys_written(struct shadowmm *sm, uint64_t gpa, const void *old, size_t n)
{
	const uint8_t *o = old;
	while (n) {
		uint32_t gpfn = (uint32_t)(gpa >> 12);
		size_t chunk = PAGE - (gpa & (PAGE - 1));
		if (chunk > n)
			chunk = n;
		if (gpfn < sm->npfn) {
			if ((sm->pflags[gpfn] & PF_CODE) && sm->h.code_written &&
			    sm->h.code_written(sm->h.ctx, gpfn, (uint32_t)(gpa & (PAGE - 1)),
					       (uint32_t)chunk) == SHADOWMM_CODE_HIT)
				sm->st.code_writes++;
			if (sm->pflags[gpfn] & PF_TABLE) {
				uint32_t esize = (sm->env.cr4 & SHADOWMM_CR4_PAE) ? 8 : 4;
				uint32_t off = (uint32_t)(gpa & (PAGE - 1));
				const uint8_t *now = sm->h.physmap + gpa;
				for (uint32_t k = off / esize; k * esize < off + chunk; k++) {
					/* Compare the bytes of entry k that this write covered. */
					uint32_t lo = k * esize > off ? k * esize : off;
					uint32_t hi = (k + 1) * esize < off + chunk ? (k + 1) * esize
										 : off + (uint32_t)chunk;
					if (memcmp(o + (lo - off), now + (lo - off), hi - lo) != 0) {
						/* The whole entry before and after. */
						uint64_t ov = 0, nv = 0;
						memcpy(&nv, now - off + k * esize, esize);
						ov = nv;
						memcpy((uint8_t *)&ov + (lo - k * esize), o + (lo - off),
						       hi - lo);
						table_entry_changed(sm, gpfn, k, &ov, &nv);
					}
				}
			}
		}
		gpa += chunk;
		o += chunk;
		n -= chunk;
	}
}

void shadowmm_track(struct shadowmm *sm, const struct shadowmm_env *env, uint32_t lin,
		    const struct shadowmm_walk *w)
{
	if (!(env->cr0 & SHADOWMM_CR0_PG))
		return;
	sm->env = *env;
	sm->root = root_of(env);
	track_walk(sm, lin, w);
}
