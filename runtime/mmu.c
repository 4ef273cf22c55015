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

#define CODEPAGES 4096u

static uint32_t code_slot(uint32_t lin_pfn)
{
	return (lin_pfn * 0x9e3779b1u) >> 20;	/* 12 bits */
}

static void code_page_note(struct runtime *rt, uint32_t lin_pfn, uint32_t gpfn)
{
	struct runtime_codepage *c = &rt->codepages[code_slot(lin_pfn) % CODEPAGES];
	/* One page per slot: a collision just forgets the older page, which
	 * only means a mapping change there invalidates through its physical
	 * page instead (still correct: see lin_changed). */
	c->lin_pfn = lin_pfn;
	c->gpfn = gpfn;
	c->used = true;
}

/* The mapping of [lin, lin + len) may have changed in the current address
 * space: units on linear code pages there go. */
static void lin_changed(struct runtime *rt, uint32_t lin, uint32_t len)
{
	uint32_t first = lin >> 12, n = (len + PAGE - 1) / PAGE;
	if (n <= 64) {
		for (uint32_t i = 0; i < n; i++) {
			struct runtime_codepage *c = &rt->codepages[code_slot(first + i) % CODEPAGES];
			if (c->used && c->lin_pfn == first + i) {
				tcache_invalidate_page(&rt->tc, c->gpfn);
				c->used = false;
			}
		}
		return;
	}
	for (uint32_t s = 0; s < CODEPAGES; s++) {
		struct runtime_codepage *c = &rt->codepages[s];
		if (c->used && c->lin_pfn - first < n) {
			tcache_invalidate_page(&rt->tc, c->gpfn);
			c->used = false;
		}
	}
}

/* ---- hooks from the shadow MMU and the monitor ---- */

static void on_code_written(void *ctx, uint32_t gpfn)
{
	struct runtime *rt = ctx;
	tcache_invalidate_page(&rt->tc, gpfn);
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
	/* Only pages the stub has; runs of them, one call each. */
	uint32_t first = lin >> 12, n = (len + PAGE - 1) / PAGE, run = 0, start = 0;
	for (uint32_t i = 0; i <= n; i++) {
		uint32_t p = first + i;
		bool m = i < n && p < (1u << 20) && (w->mapped[p >> 3] & (1u << (p & 7)));
		if (m) {
			if (!run)
				start = p;
			run++;
			w->mapped[p >> 3] &= (uint8_t)~(1u << (p & 7));
			continue;
		}
		if (run)
			runtime_stub_queue_map(w->stub, STUB_MAP_MUNMAP, (uint64_t)start * PAGE,
					       (uint64_t)run * PAGE, 0, 0);
		run = 0;
	}
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

/* Fills the current stub's page for a user access that faulted there;
 * returns 0, or -1 with the guest #PF error code. */
static int on_user_fill(void *ctx, uint32_t lin, bool write, uint32_t *pf_error)
{
	struct runtime *rt = ctx;
	struct vcpu *v = rt->v;
	struct runtime_view *w = view_of(rt, rt->cur_root);
	if (!w)
		return -1;
	struct shadowmm_env env = monitor_paging_env(v);
	struct shadowmm_walk wk;
	if (shadowmm_walk(&env, lin, SHADOWMM_ACC_USER | (write ? SHADOWMM_ACC_WRITE : 0), true,
			  &wk) < 0) {
		*pf_error = wk.pf_error;
		return -1;
	}
	uint32_t gpfn = (uint32_t)(wk.page_gpa >> 12);
	if ((uint64_t)gpfn * PAGE >= v->vm->mem.size || lin < v->vm->mem.min_addr) {
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
	bool writable = wk.writable && wk.dirty && !shadowmm_is_table(sm, gpfn) &&
			!shadowmm_has_code(sm, gpfn);
	int prot = PROT_READ | (writable ? PROT_WRITE : 0) | (wk.nx ? 0 : PROT_EXEC);
	uint32_t p = lin >> 12;
	runtime_stub_queue_map(w->stub, STUB_MAP_MMAP, (uint64_t)p * PAGE, PAGE, (uint32_t)prot,
			       (uint64_t)gpfn * PAGE);
	w->mapped[p >> 3] |= (uint8_t)(1u << (p & 7));
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
	u->nonglobal = !gl0 || !gl1;
	struct shadowmm *sm = rt->v->vm->sm;
	shadowmm_code_page(sm, g0, true);
	code_page_note(rt, first >> 12, g0);
	if (g1 != g0) {
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
		.code_written = on_code_written,
	};
	vm->sm = shadowmm_create(&h);
	if (!vm->sm)
		return -ENOMEM;
	vm->retranslate = on_retranslate;
	vm->tlb_changed = on_tlb_changed;
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
	memset(rt->codepages, 0, sizeof(rt->codepages));
	for (int i = 0; i < RUNTIME_VIEWS; i++)
		drop_view(rt, &rt->views[i]);
}
