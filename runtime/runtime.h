/* runtime/: entering and leaving translated code, callouts, host signals, the dispatcher. */
#ifndef BT_RUNTIME_H
#define BT_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "monitor/monitor.h"
#include "runtime/stubctl.h"
#include "tcache/tcache.h"
#include "translator/translator.h"

#define RUNTIME_RECENT 16

struct runtime_recent {
	uint32_t eip, len, ninsns, mode;
};

struct runtime_stub;

/* A user view: the stub of one guest address space and the pages it has. */
#define RUNTIME_VIEWS 8
struct runtime_view {
	uint32_t root;		/* the guest CR3 it stands for */
	struct runtime_stub *stub;
	uint8_t *mapped;	/* bitmap of the 4 KiB pages it has mapped */
	uint64_t used;		/* for least-recently-used eviction */
	bool tsd;		/* RDTSC faults in it (guest CR4.TSD) */
	/* The vcpu.fpu_gen its stub's FPU registers hold (0: none yet). */
	uint64_t fpu_gen;
};

/* A linear page of the current address space that holds translated code. */
struct runtime_codepage {
	uint32_t lin_pfn, gpfn;
	struct runtime_codepage *next;
};

/* A user-view mapping of a guest page: the view's linear page. */
struct runtime_urnode {
	uint32_t lin_pfn, next;
	uint8_t view;
};

/* Which bytes of a guest physical page translated units came from. */
struct runtime_codemap {
	uint32_t gpfn;
	uint8_t bits[4096 / 8];
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
	/* Guest user mode: the stub of the (one, while paging is off) guest
	 * address space, and what ring 3 cost. */
	struct runtime_stub *stub;	/* the current view's */
	struct runtime_view views[RUNTIME_VIEWS];
	uint32_t cur_root;
	bool flush_pending;	/* a paging mode change: flush at the dispatcher */
	uint64_t view_clock, view_evictions, user_fills, low_user_accesses;
	struct runtime_codepage *codepages[4096];	/* hash buckets */
	/* How many of them lie in each 4 MiB of linear space, so that a change
	 * to a range without code (user space, typically) costs nothing. */
	uint32_t codepages_in[1024];
	struct runtime_codemap *codemaps[8192];
	/* Guest page -> user-view mappings (runtime/mmu.c). */
	uint32_t *urmap_head, urmap_npfn;
	struct runtime_urnode *urmap;
	uint32_t urmap_n, urmap_cap;
	uint64_t user_entries, user_exits[8], stub_starts, stub_kills, kicks, fpu_loads;
	uint64_t user_prefills;		/* pages mapped by fault-around */
	uint64_t user_traps[32];	/* user-mode signal exits by trap vector */
	uint64_t first_user_ns;		/* virtual clock at the first ring-3 entry; 0: none yet */
};

/* Sets up the cache, translator and entry points for v.  Returns 0 or -errno. */
int runtime_init(struct runtime *rt, struct vcpu *v, size_t tcache_bytes, uint32_t max_insns,
		 bool stats, translator_fetch_fn fetch, void *fetch_ctx);
void runtime_destroy(struct runtime *rt);
/* Drops every translation (a machine reset reloads guest code). */
void runtime_reset(struct runtime *rt);
/* Installs the fault handlers on an alternate stack for this thread. */
int runtime_signals_init(void);
/* `hook` runs inside the signal handler when bt dies of a fault in its own
 * code (not the guest's), before the report: it must be async-signal-safe.
 * bt's console puts the terminal back there. */
void runtime_set_fatal_hook(void (*hook)(void));
/* Runs the vCPU until the VM stops; returns the exit status. */
int runtime_run(struct runtime *rt);
void runtime_print_stats(const struct runtime *rt, FILE *f);
/* Prints the recently translated units (ctx = struct runtime *); a
 * monitor_vm dump_recent hook. */
void runtime_dump_recent(void *ctx, FILE *f);

/* ---- stub processes (runtime/stub.c) ---- */

/* What ended a RUN, copied out of the control page (enum stub_exit). */
struct runtime_stub_exit {
	uint32_t exit;
	uint32_t regs[8], eip, eflags;
	uint16_t sel[STUB_NSEG];
	uint32_t signo, code, trapno, err;
	uint64_t addr, rip, cs;
	uint32_t syscall_nr, syscall_arch;
};

/* Starts a stub whose guest RAM is ram_fd; NULL with a message in err. */
struct runtime_stub *runtime_stub_create(int ram_fd, char *err, size_t errlen);
void runtime_stub_destroy(struct runtime_stub *s);
void runtime_stub_kill(struct runtime_stub *s);
bool runtime_stub_alive(struct runtime_stub *s);
bool runtime_stub_cpuid_faulting(const struct runtime_stub *s);
pid_t runtime_stub_pid(const struct runtime_stub *s);
int runtime_stub_death_signal(const struct runtime_stub *s);
/* Mapping changes (STUB_MAP_*): queued, then applied and each one checked
 * against the queue through the seccomp listener by flush. */
int runtime_stub_queue_map(struct runtime_stub *s, uint32_t op, uint64_t addr, uint64_t len,
			   uint32_t prot, uint64_t off);
int runtime_stub_flush(struct runtime_stub *s);
bool runtime_stub_refuse_pending(struct runtime_stub *s);
/* Writes the LDT slots that differ from what the stub has. */
int runtime_stub_set_ldt(struct runtime_stub *s, const struct stub_user_desc *d, uint32_t n);
int runtime_stub_set_tsc(struct runtime_stub *s, bool fault);
/* RUN (loading fpu, an FXSAVE image, first unless it is NULL), then wait
 * (0, -ETIMEDOUT at `until`, -ESRCH if it died), kick, and read the
 * result; runtime_stub_fpu copies out the FPU state it stopped with. */
void runtime_stub_start(struct runtime_stub *s, const uint32_t regs[8], uint32_t eip,
			uint32_t eflags, const uint16_t sel[STUB_NSEG], const uint8_t *fpu);
void runtime_stub_fpu(struct runtime_stub *s, uint8_t fpu[512]);
/* Commands sent to stubs, and their host mapping calls validated through
 * the seccomp listener, since bt started. */
extern uint64_t runtime_stub_commands, runtime_stub_validated, runtime_stub_flush_ns;
int runtime_stub_wait(struct runtime_stub *s, uint64_t until);
void runtime_stub_kick(struct runtime_stub *s);
void runtime_stub_result(struct runtime_stub *s, struct runtime_stub_exit *x);

/* ---- guest paging (runtime/mmu.c) ---- */

/* Creates the shadow MMU and plugs the runtime's hooks into the monitor. */
int runtime_mmu_init(struct runtime *rt);
void runtime_mmu_destroy(struct runtime *rt);
/* The user view of the current address space, started if needed. */
struct runtime_view *runtime_view_current(struct runtime *rt, char *err, size_t errlen);
void runtime_view_drop_current(struct runtime *rt);
/* Does the flush a paging mode change asked for (outside callouts). */
void runtime_mmu_flush_pending(struct runtime *rt);
/* Forgets which pages and bytes hold translated code (cache flush). */
void runtime_mmu_codemaps_clear(struct runtime *rt);
/* A unit found by lookup still maps the code it was made from (else it is
 * invalidated and false returned); a new unit's pages are registered. */
bool runtime_unit_valid(struct runtime *rt, struct tcache_unit *u);
void runtime_unit_register(struct runtime *rt, struct tcache_unit *u);

/* Runs guest ring-3 code until it leaves for the guest kernel (runtime/user.c). */
void runtime_user_run(struct runtime *rt);

/* Implemented in entry.S. */
int runtime_enter(struct vcpu *v, uint64_t host_pc);
void runtime_exit(void);
void runtime_ibl_miss(void);
void runtime_callout(void);
void runtime_fault_exit(void);
/* Called by the callout stub on the monitor stack. */
int runtime_callout_c(struct vcpu *v, const struct translator_callout *co);

#endif
