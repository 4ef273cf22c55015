/*
 * runtime/mmu.c: the runtime's side of guest paging (DESIGN.md §4-5).
 *
 * Translations: a unit records the guest physical pages its code came
 * from; those pages are write-protected in the kernel view, and a write to
 * one (self-modifying code) invalidates exactly the units on it.  A lookup
 * checks that the unit's linear page still maps the same physical page;
 * linear code pages whose mapping changes (a page-table write, INVLPG, a
 * CR3 write for non-global pages) lose their units.
 *
 * User views: one stub per guest address space (keyed by CR3), at most
 * RUNTIME_VIEWS, least recently used evicted.  A stub's pages are filled on
 * its page faults from the guest's page tables (user rights, A/D set as the
 * CPU would), queued, and applied coalesced before it runs; every change
 * the shadow MMU reports for that address space is queued as an unmap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/runtime.h"
#include "shadowmm/shadowmm.h"

#define PAGE 4096u
#define ROOT_IDENTITY 0xffffffffu	/* paging off: one view of all RAM */

/* ---- linear pages holding translated code (current address space) ---- */

#define CODEPAGE_BUCKETS 4096u

static uint32_t code_slot(uint32_t lin_pfn)
{
	return (lin_pfn * 0x9e3779b1u) >> 20;	/* 12 bits */
}

static void code_page_note(struct runtime *rt, uint32_t lin_pfn, uint32_t gpfn)
{
	struct runtime_codepage **b = &rt->codepages[code_slot(lin_pfn)];
	for (struct runtime_codepage *c = *b; c; c = c->next)
		if (c->lin_pfn == lin_pfn) {
			c->gpfn = gpfn;
			return;
		}
	struct runtime_codepage *c = malloc(sizeof(*c));
	if (!c)
		abort();	/* losing one would leave stale translations */
	*c = (struct runtime_codepage){ lin_pfn, gpfn, *b };
	*b = c;
	rt->codepages_in[lin_pfn >> 10]++;
}

static void code_page_free(struct runtime *rt, struct runtime_codepage *c)
{
	rt->codepages_in[c->lin_pfn >> 10]--;
	free(c);
}

static void code_pages_clear(struct runtime *rt)
{
	for (uint32_t i = 0; i < CODEPAGE_BUCKETS; i++) {
		struct runtime_codepage *c = rt->codepages[i];
		while (c) {
			struct runtime_codepage *n = c->next;
			free(c);
			c = n;
		}
		rt->codepages[i] = NULL;
	}
	memset(rt->codepages_in, 0, sizeof(rt->codepages_in));
}

/* Drops the bucket entries for linear pages in [first, first + n): their
 * translations go. */
static void code_bucket_drop(struct runtime *rt, uint32_t bucket, uint32_t first, uint32_t n)
{
	struct runtime_codepage **l = &rt->codepages[bucket];
	while (*l) {
		struct runtime_codepage *c = *l;
		if (c->lin_pfn - first < n) {
			tcache_invalidate_page(&rt->tc, c->gpfn);
			*l = c->next;
			code_page_free(rt, c);
			continue;
		}
		l = &c->next;
	}
}

/* The mapping of [lin, lin + len) may have changed in the current address
 * space: units on linear code pages there go. */
static void lin_changed(struct runtime *rt, uint32_t lin, uint32_t len)
{
	uint32_t first = lin >> 12, n = (len + PAGE - 1) / PAGE;
	bool any = false;
	for (uint64_t r = first >> 10; r <= ((uint64_t)first + n - 1) >> 10 && r < 1024; r++)
		any |= rt->codepages_in[r] != 0;
	if (!any)
		return;
	if (n <= 64) {
		for (uint32_t i = 0; i < n; i++)
			code_bucket_drop(rt, code_slot(first + i), first + i, 1);
		return;
	}
	for (uint32_t b = 0; b < CODEPAGE_BUCKETS; b++)
		code_bucket_drop(rt, b, first, n);
}

/* ---- user-view mappings of guest pages (to protect code pages there) ---- */

static void urmap_add(struct runtime *rt, uint32_t gpfn, int view, uint32_t lin_pfn)
{
	if (!rt->urmap_head || gpfn >= rt->urmap_npfn)
		return;
	if (rt->urmap_n + 1 >= rt->urmap_cap) {
		uint32_t cap = rt->urmap_cap ? rt->urmap_cap * 2 : 4096;
		struct runtime_urnode *n = realloc(rt->urmap, cap * sizeof(*n));
		if (!n)
			return;
		rt->urmap = n;
		rt->urmap_cap = cap;
	}
	uint32_t i = ++rt->urmap_n;
	rt->urmap[i] = (struct runtime_urnode){ lin_pfn, rt->urmap_head[gpfn], (uint8_t)view };
	rt->urmap_head[gpfn] = i;
}

/*
 * Guest page gpfn now holds translated code: no user view may write it
 * without the monitor noticing (a user write there would leave stale
 * translations), so its user mappings become read-only.  The list may hold
 * stale entries; protecting one only costs a later fault.
 */
static void protect_user_code(struct runtime *rt, uint32_t gpfn)
{
	for (int i = 0; i < RUNTIME_VIEWS; i++) {
		struct runtime_view *w = &rt->views[i];
		if (w->stub && w->root == 0xffffffffu && (uint64_t)gpfn * 4096 >= rt->v->vm->mem.min_addr)
			runtime_stub_queue_map(w->stub, STUB_MAP_MPROTECT, (uint64_t)gpfn * 4096, 4096,
					       PROT_READ | PROT_EXEC, 0);
	}
	if (!rt->urmap_head || gpfn >= rt->urmap_npfn)
		return;
	for (uint32_t i = rt->urmap_head[gpfn]; i; i = rt->urmap[i].next) {
		struct runtime_view *w = &rt->views[rt->urmap[i].view];
		uint32_t p = rt->urmap[i].lin_pfn;
		if (w->stub && w->root != 0xffffffffu && (w->mapped[p >> 3] & (1u << (p & 7))))
			runtime_stub_queue_map(w->stub, STUB_MAP_MPROTECT, (uint64_t)p * 4096, 4096,
					       PROT_READ | PROT_EXEC, 0);
	}
	rt->urmap_head[gpfn] = 0;	/* re-added by the next fill */
}

/* ---- which bytes of a page hold translated code ---- */

#define CODEMAP_SLOTS 8192u

static struct runtime_codemap **codemap_slot(struct runtime *rt, uint32_t gpfn, bool make)
{
	uint32_t h = (gpfn * 0x9e3779b1u) >> 19;	/* 13 bits */
	for (uint32_t i = 0; i < CODEMAP_SLOTS; i++) {
		struct runtime_codemap **m = &rt->codemaps[(h + i) % CODEMAP_SLOTS];
		if (*m && (*m)->gpfn == gpfn)
			return m;
		if (!*m && make) {
			*m = calloc(1, sizeof(**m));
			if (!*m)
				return NULL;
			(*m)->gpfn = gpfn;
			return m;
		}
		if (!*m)
			return NULL;
	}
	return NULL;	/* full: the caller treats the page as all code */
}

static void codemap_mark(struct runtime *rt, uint32_t gpfn, uint32_t off, uint32_t len)
{
	struct runtime_codemap **m = codemap_slot(rt, gpfn, true);
	if (!m)
		return;
	for (uint32_t b = off; b < off + len && b < PAGE; b++)
		(*m)->bits[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static void codemap_clear(struct runtime *rt)
{
	for (uint32_t i = 0; i < CODEMAP_SLOTS; i++) {
		free(rt->codemaps[i]);
		rt->codemaps[i] = NULL;
	}
}

/*
 * A write of [off, off + len) to a page with translations: if it touches
 * bytes some unit was translated from, every unit on the page goes (and the
 * page's byte map with them: the page has no code left); data that only
 * shares the page with code leaves everything as it is.  The open-address
 * table keeps its entries (an emptied map just has no bits).
 */
static int on_code_written(void *ctx, uint32_t gpfn, uint32_t off, uint32_t len)
{
	struct runtime *rt = ctx;
	struct runtime_codemap **m = codemap_slot(rt, gpfn, false);
	bool any = false, hit = false;
	if (m) {
		for (uint32_t i = 0; i < sizeof((*m)->bits) && !any; i++)
			any = (*m)->bits[i] != 0;
		for (uint32_t b = off; any && b < (len ? off + len : PAGE) && b < PAGE; b++)
			hit |= ((*m)->bits[b >> 3] >> (b & 7)) & 1;
	} else {
		/* No byte map (table full): take the page as all code. */
		any = hit = true;
	}
	if (!any)
		return SHADOWMM_CODE_NONE;
	if (!hit)
		return SHADOWMM_CODE_DATA;
	tcache_invalidate_page(&rt->tc, gpfn);
	if (m)
		memset((*m)->bits, 0, sizeof((*m)->bits));
	rt->v->code_hit = true;
	return SHADOWMM_CODE_HIT;
}

static void on_code_unprotect(void *ctx, uint32_t gpfn)
{
	struct runtime *rt = ctx;
	struct runtime_codemap **m = codemap_slot(rt, gpfn, false);
	tcache_invalidate_page(&rt->tc, gpfn);
	if (m)
		memset((*m)->bits, 0, sizeof((*m)->bits));
	shadowmm_code_page(rt->v->vm->sm, gpfn, false);
}

static struct runtime_view *view_of(struct runtime *rt, uint32_t root)
{
	for (int i = 0; i < RUNTIME_VIEWS; i++)
		if (rt->views[i].stub && rt->views[i].root == root)
			return &rt->views[i];
	return NULL;
}

static void view_unmap(struct runtime_view *w, uint32_t lin, uint32_t len)
{
	/* Only pages the stub has; runs of them, one call each.  The bitmap is
	 * scanned a 64-page word at a time: a page directory that stops being
	 * a table invalidates all of its 4 GiB, entry by entry. */
	uint64_t first = lin >> 12, end = first + (len + PAGE - 1) / PAGE;
	if (end > (1u << 20))
		end = 1u << 20;
	uint64_t run = 0, start = 0;
	for (uint64_t p = first; p < end;) {
		uint64_t word;
		memcpy(&word, &w->mapped[(p >> 3) & ~7ull], 8);
		if (word == 0 && (p & 63) == 0 && p + 64 <= end) {
			if (run)
				runtime_stub_queue_map(w->stub, STUB_MAP_MUNMAP, start * PAGE, run * PAGE, 0, 0);
			run = 0;
			p += 64;
			continue;
		}
		bool m = w->mapped[p >> 3] & (1u << (p & 7));
		if (m) {
			if (!run)
				start = p;
			run++;
			w->mapped[p >> 3] &= (uint8_t)~(1u << (p & 7));
		} else if (run) {
			runtime_stub_queue_map(w->stub, STUB_MAP_MUNMAP, start * PAGE, run * PAGE, 0, 0);
			run = 0;
		}
		p++;
	}
	if (run)
		runtime_stub_queue_map(w->stub, STUB_MAP_MUNMAP, start * PAGE, run * PAGE, 0, 0);
}

static void on_user_invalidate(void *ctx, uint32_t root, uint32_t lin, uint32_t len)
{
	struct runtime *rt = ctx;
	struct runtime_view *w = view_of(rt, root);
	if (w)
		view_unmap(w, lin, len);
	if (root == rt->cur_root)
		lin_changed(rt, lin, len);
}

static void on_retranslate(void *ctx, uint32_t eip)
{
	struct runtime *rt = ctx;
	uint64_t gpa;
	uint32_t pf;
	if (monitor_translate(rt->v, rt->v->seg[S_CS].base + eip, 0, false, &gpa, &pf) == 0)
		tcache_invalidate_page(&rt->tc, (uint32_t)(gpa >> 12));
}

static void drop_view(struct runtime *rt, struct runtime_view *w)
{
	if (w->stub) {
		if (rt->stub == w->stub)
			rt->stub = NULL;
		runtime_stub_destroy(w->stub);
	}
	free(w->mapped);
	memset(w, 0, sizeof(*w));
}

static void nonglobal_unit(void *ctx, struct tcache_unit *u)
{
	struct runtime *rt = ctx;
	tcache_invalidate_unit(&rt->tc, u);
}

static void on_tlb_changed(void *ctx, bool full)
{
	struct runtime *rt = ctx;
	struct vcpu *v = rt->v;
	uint32_t root = (v->cr0 & CR0_PG) ? ((v->cr4 & CR4_PAE) ? v->cr3 & ~0x1fu : v->cr3 & ~0xfffu)
					  : ROOT_IDENTITY;
	if (full) {
		/* Paging on or off, or a paging mode bit: every translation and
		 * every user view is built anew — at the dispatcher, not here:
		 * this runs inside a callout whose record and code are in the
		 * cache. */
		rt->flush_pending = true;
	} else {
		/* A CR3 write: units whose code mapping is not global may now map
		 * other code. */
		tcache_for_nonglobal(&rt->tc, nonglobal_unit, rt);
	}
	rt->cur_root = root;
}

/*
 * The whole TLB was flushed, global entries too (CR4.PGE toggled): a unit's
 * code page may now be mapped elsewhere even if it was global.  Instead of
 * dropping every translation, each linear code page is walked again and
 * only those whose mapping changed lose their units.
 */
static bool code_gpfn(struct runtime *rt, uint32_t lin, uint32_t *gpfn, bool *global);

static void on_tlb_flush_global(void *ctx)
{
	struct runtime *rt = ctx;
	on_tlb_changed(ctx, false);
	for (uint32_t i = 0; i < CODEPAGE_BUCKETS; i++) {
		struct runtime_codepage **l = &rt->codepages[i];
		while (*l) {
			struct runtime_codepage *c = *l;
			uint32_t g;
			bool gl;
			if (code_gpfn(rt, c->lin_pfn << 12, &g, &gl) && g == c->gpfn) {
				l = &c->next;
				continue;
			}
			tcache_invalidate_page(&rt->tc, c->gpfn);
			*l = c->next;
			code_page_free(rt, c);
		}
	}
}

/* Pages mapped into a stub around a faulting one (a 64 KiB window, as
 * Linux's own fault-around): each user-mode fault is a trip out of the
 * stub, and programs touch their pages in runs. */
#define FAULT_AROUND_PAGES 16u

/* Maps user page p (linear page number) of view w to guest page gpfn with
 * the rights of walk wk. */
static void user_map(struct runtime *rt, struct runtime_view *w, uint32_t p, uint32_t gpfn,
		     const struct shadowmm_walk *wk)
{
	struct shadowmm *sm = rt->v->vm->sm;
	bool writable = wk->writable && wk->dirty && !shadowmm_is_table(sm, gpfn) &&
			!shadowmm_has_code(sm, gpfn);
	int prot = PROT_READ | (writable ? PROT_WRITE : 0) | (wk->nx ? 0 : PROT_EXEC);
	runtime_stub_queue_map(w->stub, STUB_MAP_MMAP, (uint64_t)p * PAGE, PAGE, (uint32_t)prot,
			       (uint64_t)gpfn * PAGE);
	w->mapped[p >> 3] |= (uint8_t)(1u << (p & 7));
	urmap_add(rt, gpfn, (int)(w - rt->views), p);
}

#define ANY_GPFN 0xffffffffu

/* Maps neighbour page p too if that changes nothing the guest can see:
 * it is present and user-accessible, and the processor has already set
 * its Accessed flag (so no A bit goes unset: SDM vol. 3, 4.8); writable
 * only if Dirty is set too, so the first write still faults and sets it. */
static bool fault_around(struct runtime *rt, struct runtime_view *w,
			 const struct shadowmm_env *env, uint32_t p, uint32_t want_gpfn)
{
	struct vcpu *v = rt->v;
	uint32_t lin = p << 12;
	if (w->mapped[p >> 3] & (1u << (p & 7)) || lin < v->vm->mem.min_addr)
		return false;
	struct shadowmm_walk wk;
	if (shadowmm_walk(env, lin, SHADOWMM_ACC_USER, false, &wk) < 0)
		return false;
	for (int i = 0; i < wk.levels; i++)
		if (!(wk.entry[i] & 0x20))	/* A, in every level's entry */
			return false;
	uint32_t gpfn = (uint32_t)(wk.page_gpa >> 12);
	if ((uint64_t)gpfn * PAGE >= v->vm->mem.size ||
	    (want_gpfn != ANY_GPFN && gpfn != want_gpfn))
		return false;
	shadowmm_track(v->vm->sm, env, lin, &wk);
	user_map(rt, w, p, gpfn, &wk);
	rt->user_prefills++;
	return true;
}

/* Would fault_around(p, want_gpfn) map p? */
static bool fault_around_probe(struct runtime *rt, struct runtime_view *w,
			       const struct shadowmm_env *env, uint32_t p, uint32_t want_gpfn)
{
	struct shadowmm_walk wk;
	if (w->mapped[p >> 3] & (1u << (p & 7)) || (p << 12) < rt->v->vm->mem.min_addr ||
	    shadowmm_walk(env, p << 12, SHADOWMM_ACC_USER, false, &wk) < 0)
		return false;
	for (int i = 0; i < wk.levels; i++)
		if (!(wk.entry[i] & 0x20))
			return false;
	return (uint32_t)(wk.page_gpa >> 12) == want_gpfn;
}

/*
 * The kernel changed the PTE of lin in the current address space from old
 * to new.  Its translations go (lin_changed).  In the user view: the same
 * page with other rights (a fork making its pages copy-on-write, mprotect)
 * is reprotected in place, which coalesces over a run of pages into one
 * host call; otherwise the page goes and the new one, if the kernel set it
 * up for an access (typically its page-fault handler, for the access the
 * process retries next), is mapped at once under fault_around's rules.
 */
static void on_user_entry_changed(void *ctx, uint32_t lin, uint64_t old, uint64_t new)
{
	struct runtime *rt = ctx;
	struct vcpu *v = rt->v;
	lin_changed(rt, lin, PAGE);
	struct runtime_view *w = view_of(rt, rt->cur_root);
	if (!w)
		return;
	uint32_t p = lin >> 12;
	bool mapped = w->mapped[p >> 3] & (1u << (p & 7));
	uint64_t frame = (v->cr4 & CR4_PAE) ? 0x000ffffffffff000ull : 0xfffff000ull;
	struct shadowmm_env env = monitor_paging_env(v);
	if (mapped && (old & 1) && (new & 1) && !((old ^ new) & frame)) {
		struct shadowmm_walk wk;
		bool ok = shadowmm_walk(&env, lin, SHADOWMM_ACC_USER, false, &wk) == 0;
		for (int i = 0; ok && i < wk.levels; i++)
			ok = wk.entry[i] & 0x20;
		if (ok) {
			struct shadowmm *sm = v->vm->sm;
			uint32_t gpfn = (uint32_t)(wk.page_gpa >> 12);
			bool writable = wk.writable && wk.dirty && !shadowmm_is_table(sm, gpfn) &&
					!shadowmm_has_code(sm, gpfn);
			int prot = PROT_READ | (writable ? PROT_WRITE : 0) | (wk.nx ? 0 : PROT_EXEC);
			runtime_stub_queue_map(w->stub, STUB_MAP_MPROTECT, (uint64_t)p * PAGE, PAGE,
					       (uint32_t)prot, 0);
			return;
		}
	}
	if (mapped)
		view_unmap(w, lin, PAGE);
	if (v->cr0 & CR0_PG)
		fault_around(rt, w, &env, p, ANY_GPFN);
}

/* Fills the current stub's page for a user access that faulted there;
 * returns 0, or -1 with the guest #PF error code. */
static int on_user_fill(void *ctx, uint32_t lin, unsigned access, uint32_t *pf_error)
{
	bool write = access & SHADOWMM_ACC_WRITE;
	struct runtime *rt = ctx;
	struct vcpu *v = rt->v;
	struct runtime_view *w = view_of(rt, rt->cur_root);
	if (!w)
		return -1;
	struct shadowmm *sm0 = v->vm->sm;
	if (!(v->cr0 & CR0_PG)) {
		/* Paging off: the identity view has all of RAM; only pages with
		 * translated code are read-only there.  A user write to one ends
		 * its translations. */
		uint32_t g = lin >> 12;
		if (!write || !shadowmm_has_code(sm0, g))
			return -2;
		tcache_invalidate_page(&rt->tc, g);
		shadowmm_code_page(sm0, g, false);
		runtime_stub_queue_map(w->stub, STUB_MAP_MPROTECT, (uint64_t)g * PAGE, PAGE,
				       PROT_READ | PROT_WRITE | PROT_EXEC, 0);
		return 0;
	}
	struct shadowmm_env env = monitor_paging_env(v);
	struct shadowmm_walk wk;
	if (shadowmm_walk(&env, lin, SHADOWMM_ACC_USER | access, true, &wk) < 0) {
		*pf_error = wk.pf_error;
		return -1;
	}
	/* The tables this mapping comes from are traced like the kernel
	 * view's, so a change to them reaches this view at once. */
	shadowmm_track(v->vm->sm, &env, lin, &wk);
	uint32_t gpfn = (uint32_t)(wk.page_gpa >> 12);
	if (lin < v->vm->mem.min_addr && (uint64_t)gpfn * PAGE < v->vm->mem.size) {
		/* The host will not map it here: the access is run by the monitor,
		 * redirected through the physmap (the slow path). */
		v->redirect_next = true;
		rt->low_user_accesses++;
		return 0;
	}
	if ((uint64_t)gpfn * PAGE >= v->vm->mem.size) {
		monitor_stop(v, 2, "guest user access to linear 0x%08x (physical 0x%08llx) cannot "
			     "be mapped (outside RAM or below vm.mmap_min_addr)", lin,
			     (unsigned long long)wk.page_gpa);
		return 0;
	}
	struct shadowmm *sm = v->vm->sm;
	if (write && shadowmm_has_code(sm, gpfn)) {
		/* User code writes a page the kernel has translations of. */
		tcache_invalidate_page(&rt->tc, gpfn);
		shadowmm_code_page(sm, gpfn, false);
	}
	/* Fault-around: the neighbours in the same aligned window that
	 * continue the faulting page's run of guest-physical pages go in with
	 * it, in order, so that the queue makes one mapping of them all.  A
	 * neighbour elsewhere in RAM would cost a host mmap of its own, and
	 * each is validated through the seccomp listener with two wake-ups:
	 * more than the fault it saves. */
	uint32_t fp = lin >> 12, first = fp & ~(FAULT_AROUND_PAGES - 1);
	uint32_t lo = fp;
	while (lo > first && fault_around_probe(rt, w, &env, lo - 1, gpfn - (fp - (lo - 1))))
		lo--;
	for (uint32_t p = lo; p < first + FAULT_AROUND_PAGES; p++) {
		if (p == fp)
			user_map(rt, w, p, gpfn, &wk);
		else if (p < fp)
			fault_around(rt, w, &env, p, gpfn - (fp - p));
		else if (!fault_around(rt, w, &env, p, gpfn + (p - fp)))
			break;
	}
	rt->user_fills++;
	return 0;
}

/* ---- views ---- */

struct runtime_view *runtime_view_current(struct runtime *rt, char *err, size_t errlen)
{
	struct vcpu *v = rt->v;
	uint32_t root = rt->cur_root;
	struct runtime_view *w = view_of(rt, root);
	if (w && !runtime_stub_alive(w->stub)) {
		drop_view(rt, w);
		w = NULL;
	}
	if (!w) {
		/* A free slot, or the least recently used one. */
		w = &rt->views[0];
		for (int i = 0; i < RUNTIME_VIEWS; i++) {
			if (!rt->views[i].stub) {
				w = &rt->views[i];
				break;
			}
			if (rt->views[i].used < w->used)
				w = &rt->views[i];
		}
		if (w->stub) {
			drop_view(rt, w);
			rt->view_evictions++;
		}
		w->mapped = calloc((1u << 20) / 8, 1);
		w->stub = runtime_stub_create(v->vm->mem.memfd, err, errlen);
		if (!w->stub || !w->mapped) {
			drop_view(rt, w);
			return NULL;
		}
		w->root = root;
		rt->stub_starts++;
		if (root == ROOT_IDENTITY) {
			/* Paging off: all of guest RAM, in one validated mapping. */
			const struct guestmem *gm = &v->vm->mem;
			if (gm->size > gm->min_addr)
				runtime_stub_queue_map(w->stub, STUB_MAP_MMAP, gm->min_addr,
						       gm->size - gm->min_addr,
						       PROT_READ | PROT_WRITE | PROT_EXEC, gm->min_addr);
			for (uint32_t g = (uint32_t)(gm->min_addr / PAGE); g < gm->size / PAGE; g++)
				if (shadowmm_has_code(v->vm->sm, g))
					runtime_stub_queue_map(w->stub, STUB_MAP_MPROTECT,
							       (uint64_t)g * PAGE, PAGE,
							       PROT_READ | PROT_EXEC, 0);
		}
	}
	w->used = ++rt->view_clock;
	rt->stub = w->stub;
	return w;
}

void runtime_view_drop_current(struct runtime *rt)
{
	struct runtime_view *w = view_of(rt, rt->cur_root);
	if (w)
		drop_view(rt, w);
}

void runtime_mmu_destroy(struct runtime *rt)
{
	codemap_clear(rt);
	code_pages_clear(rt);
	free(rt->urmap_head);
	free(rt->urmap);
	rt->urmap_head = NULL;
	rt->urmap = NULL;
	for (int i = 0; i < RUNTIME_VIEWS; i++)
		drop_view(rt, &rt->views[i]);
	rt->stub = NULL;
}

/* ---- translations ---- */

/* The guest physical page of linear code address lin (no A/D changes). */
static bool code_gpfn(struct runtime *rt, uint32_t lin, uint32_t *gpfn, bool *global)
{
	struct vcpu *v = rt->v;
	*global = true;
	if (!(v->cr0 & CR0_PG)) {
		*gpfn = lin >> 12;
		return true;
	}
	struct shadowmm_env env = monitor_paging_env(v);
	struct shadowmm_walk w;
	if (shadowmm_walk(&env, lin, SHADOWMM_ACC_FETCH, false, &w) < 0)
		return false;
	*gpfn = (uint32_t)(w.page_gpa >> 12);
	*global = w.global && (v->cr4 & CR4_PGE);
	return true;
}

bool runtime_unit_valid(struct runtime *rt, struct tcache_unit *u)
{
	uint32_t gpfn;
	bool global;
	if (u->page[0] == TCACHE_NO_PAGE)
		return true;
	if (code_gpfn(rt, rt->v->seg[S_CS].base + u->eip, &gpfn, &global) && gpfn == u->page[0])
		return true;
	tcache_invalidate_unit(&rt->tc, u);
	return false;
}

void runtime_unit_register(struct runtime *rt, struct tcache_unit *u)
{
	uint32_t base = rt->v->seg[S_CS].base;
	uint32_t first = base + u->eip, last = first + (u->guest_len ? u->guest_len - 1 : 0);
	uint32_t g0, g1 = TCACHE_NO_PAGE;
	bool gl0, gl1 = true;
	if (!code_gpfn(rt, first, &g0, &gl0))
		return;
	if ((last >> 12) != (first >> 12)) {
		if (!code_gpfn(rt, last, &g1, &gl1))
			g1 = g0;
	} else {
		g1 = g0;
	}
	tcache_set_pages(&rt->tc, u, g0, g1);
	if (g1 != g0 || (last >> 12) == (first >> 12)) {
		uint32_t end0 = (last >> 12) == (first >> 12) ? (last & (PAGE - 1)) + 1 : PAGE;
		codemap_mark(rt, g0, first & (PAGE - 1), end0 - (first & (PAGE - 1)));
		if ((last >> 12) != (first >> 12))
			codemap_mark(rt, g1, 0, (last & (PAGE - 1)) + 1);
	}
	u->nonglobal = !gl0 || !gl1;
	if (u->nonglobal)
		tcache_note_nonglobal(&rt->tc, u);
	struct shadowmm *sm = rt->v->vm->sm;
	if (!shadowmm_has_code(sm, g0))
		protect_user_code(rt, g0);
	shadowmm_code_page(sm, g0, true);
	code_page_note(rt, first >> 12, g0);
	if (g1 != g0) {
		if (!shadowmm_has_code(sm, g1))
			protect_user_code(rt, g1);
		shadowmm_code_page(sm, g1, true);
		code_page_note(rt, last >> 12, g1);
	}
}

static bool adaptive(void *ctx, uint32_t eip)
{
	struct runtime *rt = ctx;
	return monitor_adaptive(rt->v->vm, eip);
}

int runtime_mmu_init(struct runtime *rt)
{
	struct monitor_vm *vm = rt->v->vm;
	struct shadowmm_host h = {
		.memfd = vm->mem.memfd, .physmap = vm->mem.physmap, .ram_size = vm->mem.size,
		.min_addr = vm->mem.min_addr, .ctx = rt, .user_invalidate = on_user_invalidate,
		.user_entry_changed = on_user_entry_changed,
		.code_written = on_code_written,
	};
	vm->sm = shadowmm_create(&h);
	if (!vm->sm)
		return -ENOMEM;
	rt->urmap_npfn = (uint32_t)(vm->mem.size / PAGE);
	rt->urmap_head = calloc(rt->urmap_npfn, sizeof(*rt->urmap_head));
	if (!rt->urmap_head)
		return -ENOMEM;
	vm->retranslate = on_retranslate;
	vm->tlb_changed = on_tlb_changed;
	vm->tlb_flush_global = on_tlb_flush_global;
	vm->code_unprotect = on_code_unprotect;
	vm->user_fill = on_user_fill;
	vm->hook_ctx = rt;
	rt->tr.adaptive = adaptive;
	rt->tr.adaptive_ctx = rt;
	rt->cur_root = ROOT_IDENTITY;
	return 0;
}

void runtime_mmu_flush_pending(struct runtime *rt)
{
	if (!rt->flush_pending)
		return;
	rt->flush_pending = false;
	tcache_flush(&rt->tc);
	codemap_clear(rt);
	code_pages_clear(rt);
	for (int i = 0; i < RUNTIME_VIEWS; i++)
		drop_view(rt, &rt->views[i]);
}

void runtime_mmu_codemaps_clear(struct runtime *rt)
{
	codemap_clear(rt);
	code_pages_clear(rt);
}
