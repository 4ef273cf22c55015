/* tcache/ibl.c: the indirect-branch lookup table that translated code probes inline. */
#include "tcache/tcache.h"

/*
 * Direct-mapped on the low 16 bits of the guest EIP (what `movzx r13d, r14w`
 * gives without touching flags).  A collision simply overwrites: the table
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
	struct tcache_ibl_entry *e = &tc->ibl[eip & (tc->ibl_entries - 1)];
	e->neg_eip = 0u - eip;
	e->host = host;
}
