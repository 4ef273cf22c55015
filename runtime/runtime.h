/* runtime/: entering and leaving translated code, callouts, host signals, the dispatcher. */
#ifndef BT_RUNTIME_H
#define BT_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "monitor/monitor.h"
#include "tcache/tcache.h"
#include "translator/translator.h"

#define RUNTIME_RECENT 16

struct runtime_recent {
	uint32_t eip, len, ninsns, mode;
};

struct runtime {
	struct vcpu *v;
	struct tcache tc;
	struct translator tr;
	uint32_t ibl_mode;	/* mode the IBL table's entries belong to */
	bool stats;
	uint64_t exits[EXIT_NREASONS];
	uint64_t ibl_misses;
	/* The most recently translated units, for fatal-error reports. */
	struct runtime_recent recent[RUNTIME_RECENT];
	uint64_t nrecent;
};

/* Sets up the cache, translator and entry points for v.  Returns 0 or -errno. */
int runtime_init(struct runtime *rt, struct vcpu *v, size_t tcache_bytes, uint32_t max_insns,
		 bool stats, translator_fetch_fn fetch, void *fetch_ctx);
void runtime_destroy(struct runtime *rt);
/* Drops every translation (a machine reset reloads guest code). */
void runtime_reset(struct runtime *rt);
/* Installs the fault handlers on an alternate stack for this thread. */
int runtime_signals_init(void);
/* Runs the vCPU until the VM stops; returns the exit status. */
int runtime_run(struct runtime *rt);
void runtime_print_stats(const struct runtime *rt, FILE *f);
/* Prints the recently translated units (ctx = struct runtime *); a
 * monitor_vm dump_recent hook. */
void runtime_dump_recent(void *ctx, FILE *f);

/* Implemented in entry.S. */
int runtime_enter(struct vcpu *v, uint64_t host_pc);
void runtime_exit(void);
void runtime_ibl_miss(void);
void runtime_callout(void);
void runtime_fault_exit(void);
/* Called by the callout stub on the monitor stack. */
int runtime_callout_c(struct vcpu *v, const struct translator_callout *co);

#endif
