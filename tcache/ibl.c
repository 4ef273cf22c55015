/* tcache/ibl.c: the indirect-branch lookup table that translated code probes inline. */
#include "tcache/tcache.h"

/*
 * Direct-mapped on tcache_ibl_index(eip), which folds the high half of the
 * EIP into the low one: indexing on the low 16 bits alone made code spread
 * over several 64 KiB windows collide (8% misses on the arith guest).  A collision simply overwrites: the table
 * is a cache of tcache_lookup, never the only path to a translation.
 */
void tcache_ibl_reset(struct tcache *tc)
{
	for (uint32_t i = 0; i < tc->ibl_entries; i++) {
		tc->ibl[i].neg_eip = 0;
		tc->ibl[i].host = tc->ibl_miss_stub;
	}
}

void tcache_ibl_insert(struct tcache *tc, uint32_t eip, uint64_t host)
{
	struct tcache_ibl_entry *e = &tc->ibl[tcache_ibl_index(eip)];
	e->neg_eip = 0u - eip;
	e->host = host;
}
