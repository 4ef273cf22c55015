/* shadowmm/: guest page walks, shadow mappings, traces on guest page tables. */
#ifndef BT_SHADOWMM_H
#define BT_SHADOWMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- guest page walks (shadowmm/walk.c) ---- */

/* Control-register bits the walk depends on (SDM vol. 3, 2.5, 4.1). */
#define SHADOWMM_CR0_WP  0x00010000u
#define SHADOWMM_CR0_PG  0x80000000u
#define SHADOWMM_CR4_PSE 0x00000010u
#define SHADOWMM_CR4_PAE 0x00000020u
#define SHADOWMM_CR4_PGE 0x00000080u
#define SHADOWMM_EFER_NXE 0x00000800u

/* What the walk needs of the machine; read_phys/write_phys access guest
 * physical memory and return 0, or -1 where there is no RAM. */
struct shadowmm_env {
	void *ctx;
	int (*read_phys)(void *ctx, uint64_t gpa, void *buf, size_t n);
	int (*write_phys)(void *ctx, uint64_t gpa, const void *buf, size_t n);
	uint32_t cr0, cr3, cr4;
	uint64_t efer;
	/* PAE: the four PDPTE registers, loaded at MOV to CR3/CR0/CR4 (SDM
	 * vol. 3, 4.4.1); NULL reads them from memory at each walk. */
	const uint64_t *pdpte;
};

/* The access being translated. */
#define SHADOWMM_ACC_WRITE 1u	/* a write (else a read) */
#define SHADOWMM_ACC_USER  2u	/* at CPL 3 (else supervisor) */
#define SHADOWMM_ACC_FETCH 4u	/* an instruction fetch */

/* #PF error code bits (SDM vol. 3, 4.7). */
#define SHADOWMM_PF_P    1u
#define SHADOWMM_PF_W    2u
#define SHADOWMM_PF_U    4u
#define SHADOWMM_PF_RSVD 8u
#define SHADOWMM_PF_I    16u

struct shadowmm_walk {
	uint64_t gpa;		/* physical address of `lin` */
	uint64_t page_gpa;	/* of the 4 KiB page holding it */
	uint32_t page_size;	/* 4 KiB, 2 MiB (PAE) or 4 MiB (PSE) */
	/* Effective rights of the translation, all levels combined. */
	bool writable;		/* R/W = 1 at every level */
	bool user;		/* U/S = 1 at every level */
	bool nx;		/* XD = 1 at some level (PAE with EFER.NXE) */
	bool global;		/* G = 1 in the leaf (meaningful with CR4.PGE) */
	bool dirty;		/* D = 1 in the leaf (after this walk) */
	int levels;		/* entries used, outermost first */
	uint64_t entry_gpa[4];	/* physical address of each entry used */
	uint64_t entry[4];	/* its value (after this walk's A/D updates) */
	uint32_t pf_error;	/* when the walk fails: the #PF error code */
};

/*
 * Translates linear address `lin` for `access` under the paging mode that
 * env's CR0/CR4/EFER select: 32-bit paging with 4 KiB pages and, with
 * CR4.PSE, 4 MiB pages; PAE paging (4 KiB and 2 MiB pages, NX with
 * EFER.NXE).  Returns 0 with *w filled in, or -1 when the access faults
 * (w->pf_error is then the error code; CR2 would be `lin`).  With set_ad,
 * the Accessed flags of the entries used and, for a write, the Dirty flag of
 * the leaf are set in guest memory as the processor does (SDM vol. 3, 4.8).
 */
int shadowmm_walk(const struct shadowmm_env *env, uint32_t lin, unsigned access, bool set_ad,
		  struct shadowmm_walk *w);

/*
 * More on shadowmm_walk (the SDM references are in walk.c):
 * - Paging off (CR0.PG = 0): gpa = lin, 4 KiB, writable, user and dirty,
 *   levels = 0; no entry is read.
 * - `access` has at most one of WRITE and FETCH; a fetch is a read.
 * - `global` is the leaf's G bit as it stands; the caller applies CR4.PGE.
 * - Not-present or reserved-bit fault: levels, entry_gpa and entry give the
 *   entries read, the last being where the walk stopped; the rest is 0.
 *   Protection fault (P = 1, RSVD = 0): every field is filled as on success
 *   (the translation exists, its rights deny the access) but the leaf's
 *   A/D are left alone.  An entry outside RAM reads as 0: not present.
 * - With set_ad, entries that reference a table get A even when a lower
 *   level then faults (as QEMU does); the PAE PDPTE is never written.
 */

/* ---- the shadow MMU (shadowmm/shadow.c) ---- */

/*
 * The kernel view is host [0, 4 GiB) of the monitor: every guest linear page
 * the guest's page tables map, at the same host address, filled on first
 * use.  It is kept coherent with the guest's page tables by write-
 * protecting them (table pages) and by following CR3 writes and INVLPG with
 * TLB semantics.  Pages that hold translated code are write-protected too.
 */
struct shadowmm;

struct shadowmm_host {
	int memfd;		/* guest RAM */
	uint8_t *physmap;	/* all of guest RAM, read/write, in the monitor */
	uint64_t ram_size;
	uint64_t min_addr;	/* vm.mmap_min_addr: lower pages cannot be mapped */
	void *ctx;
	/* The guest's mappings of [lin, lin + len) in address space `root`
	 * (its CR3) may have changed: user views must drop them. */
	void (*user_invalidate)(void *ctx, uint32_t root, uint32_t lin, uint32_t len);
	/* A guest write changed the page-table entry of 4 KiB page lin in the
	 * current address space from old to new (4 or 8 bytes, as the paging
	 * mode has them): instead of user_invalidate, the user view may keep,
	 * reprotect or remap the page (NULL: user_invalidate is called). */
	void (*user_entry_changed)(void *ctx, uint32_t lin, uint64_t old, uint64_t new);
	/* Bytes [off, off + len) of guest page gpfn, which holds translated
	 * code, are being written (len 0: unknown, the whole page).  Returns
	 * SHADOWMM_CODE_NONE if the page has no translations left (it can be
	 * written freely), SHADOWMM_CODE_DATA if the write only touches data
	 * next to code, SHADOWMM_CODE_HIT if it touched translated code (those
	 * translations are gone).  In the last two cases the page stays
	 * protected and the write is done through the physmap: unprotecting
	 * it would make the writer's own unit protect it again. */
	int (*code_written)(void *ctx, uint32_t gpfn, uint32_t off, uint32_t len);
};

enum { SHADOWMM_CODE_NONE, SHADOWMM_CODE_DATA, SHADOWMM_CODE_HIT };

struct shadowmm_stats {
	uint64_t hidden_faults;		/* present in the guest, filled silently */
	uint64_t guest_faults;		/* true faults: guest #PF */
	uint64_t dirty_faults;		/* first write to a clean page: D set */
	uint64_t table_writes;		/* writes to page-table pages, traced */
	uint64_t code_writes;		/* writes that hit translated code */
	uint64_t code_page_data;	/* writes to data sharing a page with code */
	uint64_t low_accesses;		/* accesses below vm.mmap_min_addr */
	uint64_t maps, unmaps, protects;	/* host mapping calls */
	uint64_t flushes, invlpgs;
	uint64_t tables;		/* page-table pages write-protected now */
};

struct shadowmm *shadowmm_create(const struct shadowmm_host *h);
void shadowmm_destroy(struct shadowmm *sm);
const struct shadowmm_stats *shadowmm_stats(const struct shadowmm *sm);

/*
 * The paging state changed.  cr3_write: a MOV to CR3 (non-global
 * translations go; SDM vol. 3, 4.10.4.1); full: paging was switched on or
 * off, or CR4.PGE/PSE/PAE or CR0.WP changed (everything goes).
 */
void shadowmm_paging_changed(struct shadowmm *sm, const struct shadowmm_env *env, bool cr3_write,
			     bool full);
/* INVLPG: the page's translation goes, global or not. */
void shadowmm_invlpg(struct shadowmm *sm, uint32_t lin);

enum shadowmm_fault {
	SHADOWMM_RETRY,		/* fixed (hidden fault, first write, code written): run it again */
	SHADOWMM_GUEST_PF,	/* a true fault: *pf_error */
	SHADOWMM_REDIRECT,	/* a write to a page table, or a page the host cannot map:
				 * the instruction must run against the physmap */
};

/* A host fault of translated kernel code at `lin` (write or read, of
 * `size` bytes; 0 if unknown). */
enum shadowmm_fault shadowmm_kernel_fault(struct shadowmm *sm, const struct shadowmm_env *env,
					  uint32_t lin, bool write, uint32_t size,
					  uint32_t *pf_error);

/* Guest physical page gpfn holds translated code (write-protect it in the
 * kernel view) / no longer does. */
void shadowmm_code_page(struct shadowmm *sm, uint32_t gpfn, bool has_code);

/* The monitor changed guest memory [gpa, gpa + n) directly (emulated or
 * redirected writes): `old` is what was there.  Updates the shadows of any
 * page-table entries it changed and invalidates translations. */
void shadowmm_phys_written(struct shadowmm *sm, uint64_t gpa, const void *old, size_t n);
bool shadowmm_is_table(const struct shadowmm *sm, uint32_t gpfn);
/* Traces the table pages a successful walk went through (user views are
 * filled from walks too). */
void shadowmm_track(struct shadowmm *sm, const struct shadowmm_env *env, uint32_t lin,
		    const struct shadowmm_walk *w);
bool shadowmm_has_code(const struct shadowmm *sm, uint32_t gpfn);
/* A page-table page is memory again (written by something that cannot be
 * redirected, e.g. a string store clearing a freed table): stop tracing it
 * and drop everything derived from it. */
void shadowmm_untrack(struct shadowmm *sm, uint32_t gpfn);

#endif
