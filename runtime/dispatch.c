/* runtime/dispatch.c: the dispatcher: look up, translate, enter, and handle the way out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "shadowmm/shadowmm.h"

static void ibl_point_at_table(struct runtime *rt)
{
	rt->v->ibl_table = (uint64_t)(uintptr_t)rt->tc.ibl;
}

/* Every translation is gone: the linear code pages known go with them. */
static void on_tcache_flush(void *ctx)
{
	struct runtime *rt = ctx;
	runtime_mmu_codemaps_clear(rt);
}

int runtime_init(struct runtime *rt, struct vcpu *v, size_t tcache_bytes, uint32_t max_insns,
		 bool stats, translator_fetch_fn fetch, void *fetch_ctx)
{
	memset(rt, 0, sizeof(*rt));
	int r = tcache_init(&rt->tc, tcache_bytes);
	if (r < 0)
		return r;
	tcache_set_runtime_end(&rt->tc, translator_emit_runtime_stubs(&rt->tc));
	rt->v = v;
	rt->stats = stats;
	rt->tr = (struct translator){ .tc = &rt->tc, .fetch = fetch, .fetch_ctx = fetch_ctx,
				      .max_insns = max_insns };
	v->ent_exit = (uint64_t)(uintptr_t)runtime_exit;
	v->ent_callout = (uint64_t)(uintptr_t)runtime_callout;
	v->ent_ibl = (uint64_t)(uintptr_t)runtime_ibl_miss;
	v->ibl_mask = rt->tc.ibl_entries - 1;
	ibl_point_at_table(rt);
	rt->ibl_mode = ~0u;
	rt->tc.on_flush = on_tcache_flush;
	rt->tc.on_flush_ctx = rt;
	r = runtime_mmu_init(rt);
	if (r < 0) {
		tcache_destroy(&rt->tc);
		return r;
	}
	return 0;
}

void runtime_reset(struct runtime *rt)
{
	tcache_flush(&rt->tc);
	tcache_ibl_reset(&rt->tc);
	rt->ibl_mode = ~0u;
}

void runtime_destroy(struct runtime *rt)
{
	runtime_mmu_destroy(rt);
	shadowmm_destroy(rt->v->vm->sm);
	rt->v->vm->sm = NULL;
	tcache_destroy(&rt->tc);
}

int runtime_callout_c(struct vcpu *v, const struct translator_callout *co)
{
	return monitor_callout(v, co);
}

static void recent_push(struct runtime *rt, const struct tcache_unit *u)
{
	struct runtime_recent *r = &rt->recent[rt->nrecent++ % RUNTIME_RECENT];
	*r = (struct runtime_recent){ .eip = u->eip, .len = u->guest_len, .ninsns = u->ninsns,
				      .mode = u->mode };
}

/* The unit for (eip, mode), translating it if needed; flushes when full. */
static struct tcache_unit *unit_for(struct runtime *rt, uint32_t eip, uint32_t mode)
{
	struct tcache_unit *u = tcache_lookup(&rt->tc, eip, mode);
	if (u && runtime_unit_valid(rt, u))
		return u;
	u = translator_translate(&rt->tr, eip, mode);
	if (!u) {
		tcache_flush(&rt->tc);
		u = translator_translate(&rt->tr, eip, mode);
	}
	if (u) {
		runtime_unit_register(rt, u);
		recent_push(rt, u);
	}
	return u;
}

/* A one-off unit: not looked up, not registered with its code page (so
 * it does not write-protect it), dropped after it ran. */
static struct tcache_unit *transient_unit(struct runtime *rt, uint32_t eip, uint32_t mode)
{
	struct tcache_unit *u = translator_translate(&rt->tr, eip, mode);
	if (!u) {
		tcache_flush(&rt->tc);
		u = translator_translate(&rt->tr, eip, mode);
	}
	return u;
}

void runtime_dump_recent(void *ctx, FILE *f)
{
	const struct runtime *rt = ctx;
	uint64_t n = rt->nrecent < RUNTIME_RECENT ? rt->nrecent : RUNTIME_RECENT;
	fprintf(f, "  last %llu translated units (oldest first):\n", (unsigned long long)n);
	for (uint64_t i = rt->nrecent - n; i < rt->nrecent; i++) {
		const struct runtime_recent *r = &rt->recent[i % RUNTIME_RECENT];
		fprintf(f, "    eip %08x-%08x  %u insns  mode %03x\n", r->eip, r->eip + r->len,
			r->ninsns, r->mode);
	}
}

/* Raises the #PF of an instruction fetch at eip if its page is not
 * executable for the current privilege; false then. */
static bool fetchable(struct vcpu *v)
{
	uint64_t gpa;
	uint32_t pf, lin = v->seg[S_CS].base + v->eip;
	unsigned acc = SHADOWMM_ACC_FETCH | (v->cpl == 3 ? SHADOWMM_ACC_USER : 0);
	if (monitor_translate(v, lin, acc, true, &gpa, &pf) == 0)
		return true;
	v->cr2 = lin;
	monitor_raise(v, VEC_PF, (int)pf);
	return false;
}

int runtime_run(struct runtime *rt)
{
	struct vcpu *v = rt->v;
	runtime_current = rt;
	while (monitor_service(v)) {
		runtime_mmu_flush_pending(rt);
		if (v->cpl == 3 && !v->redirect_next) {
			/* Guest user code runs directly, in its stub (except for one
			 * instruction the monitor must run redirected: an access to
			 * a page below vm.mmap_min_addr). */
			runtime_user_run(rt);
			continue;
		}
		uint32_t mode = monitor_tmode(v) | (rt->stats ? TMODE_STATS : 0);
		bool transient = v->transient_next;
		v->transient_next = false;
		if (transient)
			mode |= TMODE_SINGLE;
		if (v->redirect_next) {
			/* One instruction with its memory operand through the
			 * physmap (a page-table write, an unmappable page). */
			v->redirect_next = false;
			mode |= TMODE_SINGLE | TMODE_REDIRECT;
		}
		if ((v->cr0 & CR0_PG) && !fetchable(v)) {
			/* Instruction fetch from a page the guest has not mapped
			 * for it: #PF before anything runs (SDM vol. 3, 4.7). */
			continue;
		}
		bool single = mode & TMODE_SINGLE;
		uint32_t rf_before = v->vflags & EFL_RF;
		if (single && monitor_debug_before(v))
			continue;	/* an instruction breakpoint: #DB before it runs */
		if (!single && mode != rt->ibl_mode) {
			/* IBL entries are keyed by EIP only: each mode has its
			 * table.  Single-instruction units never use one, so the
			 * short trips into that mode (an STI shadow, a step)
			 * keep the current. */
			rt->v->ibl_table = (uint64_t)(uintptr_t)tcache_ibl_select(&rt->tc, mode);
			rt->ibl_mode = mode;
		}
		struct tcache_unit *u = transient ? transient_unit(rt, v->eip, mode)
						  : unit_for(rt, v->eip, mode);
		if (!u) {
			monitor_stop(v, 2, "cannot translate the unit at eip 0x%08x: the translation "
				     "cache (--tcache-mib) is too small", v->eip);
			break;
		}
		uint32_t eflags_before = vcpu_get_eflags(v);
		/* The shadow covers exactly this one instruction. */
		v->shadow = false;
		v->shadow_ss = false;
		v->delivered = false;
		uint32_t eip_before = v->eip;
		int why = runtime_enter(v, tcache_xaddr(&rt->tc, u->code_off));
		if (transient) {
			tcache_invalidate_unit(&rt->tc, u);
			/* A host fault resolved without a guest exception (the
			 * first write to the page, which sets D) retries the
			 * instruction: still alone and protecting nothing, or
			 * an ordinary unit would write-protect the page it is
			 * writing (a memcpy patching code in its own page). */
			if (why == EXIT_FAULT && !v->exc_pending && v->eip == eip_before)
				v->transient_next = true;
		}
		rt->exits[why < EXIT_NREASONS ? why : EXIT_NONE]++;
		switch (why) {
		case EXIT_LINK: {
			struct tcache_link *l = (struct tcache_link *)(uintptr_t)v->exit_arg;
			uint64_t flushes = rt->tc.st.flushes;
			v->eip = l->target_eip;
			struct tcache_unit *to = unit_for(rt, v->eip, mode);
			/* A flush while translating freed l; the next pass retries. */
			if (to && flushes == rt->tc.st.flushes && l->from->mode == to->mode)
				tcache_link(&rt->tc, l, to);
			break;
		}
		case EXIT_IBL_MISS: {
			v->eip = (uint32_t)v->exit_arg;
			rt->ibl_misses++;
			struct tcache_unit *to = unit_for(rt, v->eip, mode);
			if (to)
				tcache_ibl_insert(&rt->tc, v->eip, tcache_xaddr(&rt->tc, to->code_off));
			break;
		}
		case EXIT_REQUEST:
			v->eip = (uint32_t)v->exit_arg;
			v->vflags |= rf_before;	/* the instruction did not start */
			continue;
		case EXIT_STEP:
			v->eip = (uint32_t)v->exit_arg;
			break;
		case EXIT_SHADOW:
			v->eip = (uint32_t)v->exit_arg;
			v->shadow = true;
			break;
		default:	/* callouts and faults left the vCPU ready */
			break;
		}
		if (single && why != EXIT_FAULT)
			monitor_debug_after(v, eflags_before);
	}
	runtime_current = NULL;
	return v->exit_status;
}

/* One ranked list of why the guest left native or translated execution:
 * dispatcher exits, callouts by kind, and ring-3 exits by kind and vector. */
struct reason {
	char name[40];
	uint64_t n;
};

static int by_count(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

static void print_top(const struct runtime *rt, FILE *f)
{
	static const char *const en[EXIT_NREASONS] = {
		"none", "unlinked exit", "ibl miss", "exit request", "callout", "fault", "stop",
		"single step", "sti shadow",
	};
	static const char *const un[USER_NWHY] = { "signal", "int 0x80", "kick", "escape", "died",
						    "hung" };
	struct reason r[EXIT_NREASONS + CO_NKINDS + USER_NWHY + 32];
	size_t n = 0;
	for (int i = 1; i < EXIT_NREASONS; i++)
		if (i != EXIT_CALLOUT && rt->exits[i]) {
			snprintf(r[n].name, sizeof(r[n].name), "exit: %s", en[i]);
			r[n++].n = rt->exits[i];
		}
	for (int k = 0; k < CO_NKINDS; k++)
		if (rt->v->vm->callouts[k]) {
			snprintf(r[n].name, sizeof(r[n].name), "callout: %s",
				 k == CO_NONE ? "#UD" : translator_callout_name(k));
			r[n++].n = rt->v->vm->callouts[k];
		}
	for (int i = 0; i < USER_NWHY; i++)
		if (i != USER_SIGNAL && rt->user_exits[i]) {
			snprintf(r[n].name, sizeof(r[n].name), "ring 3: %s", un[i]);
			r[n++].n = rt->user_exits[i];
		}
	for (int i = 0; i < 32; i++)
		if (rt->user_traps[i]) {
			snprintf(r[n].name, sizeof(r[n].name), "ring 3: fault vector %d", i);
			r[n++].n = rt->user_traps[i];
		}
	qsort(r, n, sizeof(r[0]), by_count);
	fprintf(f, "  top exit and callout reasons  ");
	for (size_t i = 0; i < n && i < 10; i++)
		fprintf(f, "%s%s=%llu", i ? ", " : " ", r[i].name, (unsigned long long)r[i].n);
	fprintf(f, "%s\n", n ? "" : " none");
	if (rt->first_user_ns)
		fprintf(f, "  boot to first user instruction %.3f s\n", (double)rt->first_user_ns / 1e9);
	else
		fprintf(f, "  boot to first user instruction (no user code ran)\n");
}

void runtime_print_stats(const struct runtime *rt, FILE *f)
{
	const struct tcache_stats *s = &rt->tc.st;
	fprintf(f, "bt stats:\n");
	fprintf(f, "  guest instructions translated  %llu\n", (unsigned long long)s->insns);
	fprintf(f, "  translation units              %llu\n", (unsigned long long)s->units);
	fprintf(f, "  cache bytes used               %zu of %zu (%llu flushes)\n",
		rt->tc.used - rt->tc.runtime_end, rt->tc.size - rt->tc.runtime_end,
		(unsigned long long)s->flushes);
	fprintf(f, "  chained exits                  %llu\n", (unsigned long long)s->links_chained);
	fprintf(f, "  indirect lookups               %llu hits, %llu misses\n",
		(unsigned long long)rt->v->stat_ibl_hits, (unsigned long long)rt->ibl_misses);
	static const char *const en[EXIT_NREASONS] = {
		"none", "unlinked exit", "ibl miss", "exit request", "callout", "fault", "stop",
		"single step", "sti shadow",
	};
	fprintf(f, "  exits to the dispatcher       ");
	for (int i = 1; i < EXIT_NREASONS; i++)
		fprintf(f, " %s=%llu", en[i], (unsigned long long)rt->exits[i]);
	const struct monitor_vm *vm = rt->v->vm;
	fprintf(f, "\n  interrupts delivered           %llu\n",
		(unsigned long long)vm->irqs_delivered);
	fprintf(f, "  halts                          %llu (%.3f s asleep)\n",
		(unsigned long long)vm->halts, (double)vm->halt_ns / 1e9);
	fprintf(f, "  user mode                      %llu entries, %llu stub starts, %llu stubs "
		"ended, %llu kicks\n", (unsigned long long)rt->user_entries,
		(unsigned long long)rt->stub_starts, (unsigned long long)rt->stub_kills,
		(unsigned long long)rt->kicks);
	fprintf(f, "  stub hand-offs                 %llu commands (RUN, MAP, LDT, ...), %llu host "
		"mapping calls validated (%.3f s in mapping flushes)\n", (unsigned long long)runtime_stub_commands,
		(unsigned long long)runtime_stub_validated, (double)runtime_stub_flush_ns / 1e9);
	fprintf(f, "  FPU                            %llu kernel instructions run by the monitor, "
		"%llu state loads into stubs\n", (unsigned long long)vm->fpu_runs,
		(unsigned long long)rt->fpu_loads);
	if (vm->open_bus)
		fprintf(f, "  open bus                       %llu accesses to neither RAM nor a device\n",
			(unsigned long long)vm->open_bus);
	const struct shadowmm_stats *ss = vm->sm ? shadowmm_stats(vm->sm) : NULL;
	if (ss) {
		fprintf(f, "  kernel view                    %llu hidden faults, %llu first writes (D), "
			"%llu guest #PF, %llu below mmap_min_addr\n",
			(unsigned long long)ss->hidden_faults, (unsigned long long)ss->dirty_faults,
			(unsigned long long)ss->guest_faults, (unsigned long long)ss->low_accesses);
		fprintf(f, "  traced pages                   %llu page tables now; %llu traced writes "
			"(faults), %llu adaptive redirects; %llu code-page writes, %llu translations "
			"invalidated\n",
			(unsigned long long)ss->tables, (unsigned long long)vm->redirect_faults,
			(unsigned long long)(vm->redirects - vm->redirect_faults),
			(unsigned long long)ss->code_writes,
			(unsigned long long)rt->tc.st.invalidations);
		fprintf(f, "  host mapping calls             %llu maps, %llu unmaps, %llu protects; "
			"%llu flushes, %llu invlpg; %llu user fills (+%llu around), %llu view evictions\n",
			(unsigned long long)ss->maps, (unsigned long long)ss->unmaps,
			(unsigned long long)ss->protects, (unsigned long long)ss->flushes,
			(unsigned long long)ss->invlpgs, (unsigned long long)rt->user_fills, (unsigned long long)rt->user_prefills,
			(unsigned long long)rt->view_evictions);
	}
	if (rt->stub_starts)
		fprintf(f, "  cpuid at cpl 3                 %s\n",
			rt->stub && runtime_stub_cpuid_faulting(rt->stub)
				? "faults to the monitor (virtual CPUID)"
				: "runs on the host CPU (no CPUID faulting on this host)");
	static const char *const un[USER_NWHY] = { "signal", "int 0x80", "kick", "escape", "died",
						    "hung" };
	fprintf(f, "  user-mode exits               ");
	for (int i = 0; i < USER_NWHY; i++)
		fprintf(f, " %s=%llu", un[i], (unsigned long long)rt->user_exits[i]);
	fprintf(f, "\n  callouts by kind              ");
	bool any = false;
	for (int k = 0; k < CO_NKINDS; k++)
		if (rt->v->vm->callouts[k]) {
			fprintf(f, " %s=%llu", k == CO_NONE ? "#UD" : translator_callout_name(k),
				(unsigned long long)rt->v->vm->callouts[k]);
			any = true;
		}
	fprintf(f, "%s\n", any ? "" : " none");
	print_top(rt, f);
}
