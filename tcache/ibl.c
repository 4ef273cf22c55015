/* tcache/ibl.c: the indirect-branch lookup table that translated code probes inline. */
#include "tcache/tcache.h"

/*
 * Direct-mapped on tcache_ibl_index(eip), which folds the high half of the
 * EIP into the low one: indexing on the low 16 bits alone made code spread
 * over several 64 KiB windows collide (8% misses on the arith guest).  A collision simply overwrites: the table
 * is a cache of tcache_lookup, never the only path to a translation.
 */
static void empty(struct tcache *tc, struct tcache_ibl_entry *t)
{
	for (uint32_t i = 0; i < tc->ibl_entries; i++) {
		t[i].neg_eip = 0;
		t[i].host = tc->ibl_miss_stub;
	}
}

void tcache_ibl_reset(struct tcache *tc)
{
	for (int i = 0; i < TCACHE_IBL_TABLES; i++) {
		empty(tc, tc->ibl_tables[i]);
		tc->ibl_modes[i] = ~0u;
		tc->ibl_used[i] = 0;
	}
}

/*
 * Entries are keyed by EIP alone, so a table serves one translation mode.
 * A kernel alternates between a few modes all the time (Linux's entry code
 * loads FS with its per-CPU base on every system call and interrupt, which
 * changes the segment-base bits of the mode), so each keeps a table of
 * its own instead of emptying the one table at every change.
 */
struct tcache_ibl_entry *tcache_ibl_select(struct tcache *tc, uint32_t mode)
{
	int pick = 0;
	for (int i = 0; i < TCACHE_IBL_TABLES; i++) {
		if (tc->ibl_modes[i] == mode) {
			pick = i;
			goto found;
		}
		if (tc->ibl_used[i] < tc->ibl_used[pick])
			pick = i;
	}
	empty(tc, tc->ibl_tables[pick]);
	tc->ibl_modes[pick] = mode;
found:
	tc->ibl_used[pick] = ++tc->ibl_clock;
	tc->ibl = tc->ibl_tables[pick];
	return tc->ibl;
}

void tcache_ibl_forget(struct tcache *tc, uint32_t eip, uint64_t host)
{
	for (int i = 0; i < TCACHE_IBL_TABLES; i++) {
		struct tcache_ibl_entry *e = &tc->ibl_tables[i][tcache_ibl_index(eip) &
								 (tc->ibl_entries - 1)];
		if (e->neg_eip == 0u - eip && e->host == host) {
			e->neg_eip = 0;
			e->host = tc->ibl_miss_stub;
		}
	}
}

void tcache_ibl_insert(struct tcache *tc, uint32_t eip, uint64_t host)
{
	struct tcache_ibl_entry *e = &tc->ibl[tcache_ibl_index(eip)];
	e->neg_eip = 0u - eip;
	e->host = host;
}
