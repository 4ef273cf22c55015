/* shadowmm/walk.c: the guest page walk, 32-bit and PAE paging (SDM vol. 3, chapter 4). */
#include <assert.h>
#include <string.h>

#include "shadowmm/shadowmm.h"

/* Bits hi..lo of a 64-bit word (hi >= lo, both 0..63). */
#define BITS(hi, lo) ((~UINT64_C(0) >> (63 - (hi))) & ~((UINT64_C(1) << (lo)) - 1))

/* Paging-structure entry flags (SDM vol. 3, tables 4-4 to 4-11). */
#define PTE_P  UINT64_C(0x001)
#define PTE_RW UINT64_C(0x002)
#define PTE_US UINT64_C(0x004)
#define PTE_A  UINT64_C(0x020)
#define PTE_D  UINT64_C(0x040)
#define PTE_PS UINT64_C(0x080)
#define PTE_G  UINT64_C(0x100)
#define PTE_XD (UINT64_C(1) << 63)

/*
 * MAXPHYADDR of the virtual CPU (monitor/cpuid.c).  It has no CPUID leaf
 * 0x80000008, so MAXPHYADDR is 36 once it advertises PAE and 32 before
 * (SDM vol. 3, 4.1.4); PAE paging is what uses it here.  32-bit paging
 * reaches 32 bits only: PSE-36 is not advertised, so a 4 MiB PDE has no
 * address bits above 31 and its bits 21:13 are reserved (SDM 4.3: "If the
 * PSE-36 mechanism is not supported, bits 21:13 are reserved").  PAT is
 * advertised, so PTE bit 7 and large-page PDE bit 12 are PAT, not reserved.
 */
#define MAXPHYADDR 36

/* Reserved bits (SDM 4.3 and 4.4.2; table 4-8 for the PDPTE). */
#define PSE_4M_RSVD   BITS(21, 13)
#define PAE_RSVD      BITS(62, MAXPHYADDR)	/* + XD when EFER.NXE = 0 */
#define PAE_2M_RSVD   BITS(20, 13)
#define PAE_PDPTE_RSVD (BITS(63, MAXPHYADDR) | BITS(8, 5) | BITS(2, 1))

/*
 * One level of a paging mode.  The PAE PDPTE has no R/W, U/S or A flag
 * (SDM table 4-8), hence `flags`; only a PDE can map a page (PS = 1), and
 * then it has more reserved bits.
 */
struct level {
	unsigned shift;		/* lowest linear-address bit of the index */
	unsigned bits;		/* width of the index */
	bool flags;		/* R/W, U/S and A are used */
	bool may_map;		/* PS = 1 makes the entry map a page */
	uint64_t rsvd;		/* reserved bits of a present entry */
	uint64_t rsvd_map;	/* reserved besides when it maps a page */
};

/* A paging mode as CR3, CR4 and EFER select it. */
struct mode {
	int nlevels;
	unsigned entry_size;	/* 4 or 8 bytes */
	uint64_t table;		/* physical address of the outermost table */
	uint64_t addr;		/* address bits of an entry (4 KiB aligned) */
	bool nx;		/* PAE with EFER.NXE: XD is a flag and #PF has I */
	struct level lv[3];
};

static void mode_init(const struct shadowmm_env *env, struct mode *m)
{
	if (env->cr4 & SHADOWMM_CR4_PAE) {
		bool nxe = env->efer & SHADOWMM_EFER_NXE;
		uint64_t rsvd = PAE_RSVD | (nxe ? 0 : PTE_XD);

		*m = (struct mode){
			.nlevels = 3, .entry_size = 8, .nx = nxe,
			.table = env->cr3 & 0xffffffe0u,	/* CR3[31:5], table 4-7 */
			.addr = BITS(MAXPHYADDR - 1, 12),
			.lv = {
				{ .shift = 30, .bits = 2, .rsvd = PAE_PDPTE_RSVD },
				{ .shift = 21, .bits = 9, .flags = true, .may_map = true,
				  .rsvd = rsvd, .rsvd_map = PAE_2M_RSVD },
				{ .shift = 12, .bits = 9, .flags = true, .rsvd = rsvd },
			},
		};
		return;
	}
	/* 32-bit paging: with CR4.PSE = 0 no bits are reserved and PS is ignored. */
	*m = (struct mode){
		.nlevels = 2, .entry_size = 4,
		.table = env->cr3 & 0xfffff000u,	/* CR3[31:12], table 4-3 */
		.addr = BITS(31, 12),
		.lv = {
			{ .shift = 22, .bits = 10, .flags = true,
			  .may_map = env->cr4 & SHADOWMM_CR4_PSE, .rsvd_map = PSE_4M_RSVD },
			{ .shift = 12, .bits = 10, .flags = true },
		},
	};
}

/*
 * Reads a paging-structure entry, little-endian.  XXX: an entry outside RAM
 * reads as 0, i.e. not present, as QEMU's unassigned memory reads; a real
 * PC's bus would float to all ones (present, and in PAE reserved bits set).
 */
static uint64_t read_entry(const struct shadowmm_env *env, uint64_t gpa, unsigned size)
{
	uint8_t b[8] = { 0 };
	uint64_t e = 0;

	if (env->read_phys(env->ctx, gpa, b, size) != 0)
		return 0;
	for (unsigned i = size; i-- > 0;)
		e = e << 8 | b[i];
	return e;
}

/*
 * Sets `set` in entry `i` of the walk, writing it back only if that changes
 * it.  Plain read-modify-write, not the processor's locked update: bt has
 * one vCPU and write-protects guest page tables in every view (DESIGN.md
 * §5), so nothing writes the entry meanwhile.  The PAE PDPTE is never passed
 * here: it has no A flag (bit 5 is reserved, SDM table 4-8).  If the write
 * fails (page tables in ROM), the entry stays as memory has it.
 */
static void set_flags(const struct shadowmm_env *env, struct shadowmm_walk *w, int i,
		      unsigned size, uint64_t set)
{
	uint64_t e = w->entry[i] | set;
	uint8_t b[8];

	if (e == w->entry[i])
		return;
	for (unsigned k = 0; k < size; k++)
		b[k] = (uint8_t)(e >> (8 * k));
	if (env->write_phys(env->ctx, w->entry_gpa[i], b, size) == 0)
		w->entry[i] = e;
}

/*
 * Ends a walk with #PF.  W and U describe the access, not the entries; I is
 * set for a fetch only when XD is in use (PAE with EFER.NXE; bt advertises
 * no SMEP), SDM 4.7.
 */
static int fault(const struct mode *m, unsigned access, uint32_t code, struct shadowmm_walk *w)
{
	if (access & SHADOWMM_ACC_WRITE)
		code |= SHADOWMM_PF_W;
	if (access & SHADOWMM_ACC_USER)
		code |= SHADOWMM_PF_U;
	if ((access & SHADOWMM_ACC_FETCH) && m->nx)
		code |= SHADOWMM_PF_I;
	w->pf_error = code;
	return -1;
}

/* Whether the rights of the translation allow `access` (SDM 4.6; no SMEP, SMAP, PKE). */
static bool allowed(const struct shadowmm_env *env, const struct shadowmm_walk *w,
		    unsigned access)
{
	bool user = access & SHADOWMM_ACC_USER;

	if (user && !w->user)
		return false;
	/* Supervisor writes ignore R/W unless CR0.WP = 1. */
	if ((access & SHADOWMM_ACC_WRITE) && !w->writable &&
	    (user || (env->cr0 & SHADOWMM_CR0_WP)))
		return false;
	/* w->nx is only ever set with EFER.NXE (else XD is reserved). */
	if ((access & SHADOWMM_ACC_FETCH) && w->nx)
		return false;
	return true;
}

/*
 * The walk, level by level, stops at the first entry that is not present
 * (P = 0 fault) or sets a reserved bit (P = 1, RSVD = 1 fault: SDM 4.7, "bit
 * 3 of the error code can be set only if bit 0 is also set").  Only a walk
 * that reaches a leaf checks access rights (SDM 4.7: a translation exists,
 * but its rights deny the access), so a reserved bit wins over a rights
 * violation.
 *
 * Accessed flags follow QEMU, bt's oracle, where the SDM leaves a choice:
 * each entry that references another table gets A as soon as the walk
 * passes it (present, no reserved bit), even if a lower level then faults
 * -- SDM 4.10.3.1 lets the processor set A in such entries and cache them
 * "even if there are no translations for any linear address that might use
 * that entry".  The leaf gets A (and D, for a write) only when the access
 * is allowed (SDM 4.8: D is set on "a write to a linear address").  QEMU
 * also writes A into the PAE PDPTE; bt does not, since that bit is reserved
 * there (SDM table 4-8).
 *
 * The PAE PDPTEs come from env->pdpte when the caller keeps PDPTE registers
 * (the monitor loads them at MOV to CR3/CR0/CR4 and checks their reserved
 * bits there, #GP(0), SDM 4.4.1); without, they are read from memory on
 * every walk (as QEMU does), and a reserved bit gives #PF (P = 1, RSVD = 1)
 * on use.
 */
int shadowmm_walk(const struct shadowmm_env *env, uint32_t lin, unsigned access, bool set_ad,
		  struct shadowmm_walk *w)
{
	struct mode m;
	uint64_t table, e;
	bool rw = true, us = true, xd = false, ok;
	int i;

	assert(!((access & SHADOWMM_ACC_WRITE) && (access & SHADOWMM_ACC_FETCH)));
	memset(w, 0, sizeof(*w));
	if (!(env->cr0 & SHADOWMM_CR0_PG)) {
		/* No paging: lin is the physical address, all rights; no D to track. */
		w->gpa = lin;
		w->page_gpa = lin & ~UINT32_C(0xfff);
		w->page_size = 4096;
		w->writable = w->user = w->dirty = true;
		return 0;
	}

	mode_init(env, &m);
	table = m.table;
	for (i = 0;; i++) {
		const struct level *l = &m.lv[i];
		uint64_t index = ((uint64_t)lin >> l->shift) & ((UINT64_C(1) << l->bits) - 1);
		bool maps;

		w->entry_gpa[i] = table + index * m.entry_size;
		if (i == 0 && m.entry_size == 8 && env->pdpte)
			w->entry[i] = e = env->pdpte[index];	/* the PDPTE registers */
		else
			w->entry[i] = e = read_entry(env, w->entry_gpa[i], m.entry_size);
		w->levels = i + 1;
		if (!(e & PTE_P))
			return fault(&m, access, 0, w);
		maps = i == m.nlevels - 1 || (l->may_map && (e & PTE_PS));
		if (e & (l->rsvd | (maps ? l->rsvd_map : 0)))
			return fault(&m, access, SHADOWMM_PF_P | SHADOWMM_PF_RSVD, w);
		if (l->flags) {
			rw = rw && (e & PTE_RW);
			us = us && (e & PTE_US);
		}
		xd = xd || (e & PTE_XD);
		if (maps)
			break;
		if (l->flags && set_ad)
			set_flags(env, w, i, m.entry_size, PTE_A);
		table = e & m.addr;
	}

	w->page_size = UINT32_C(1) << m.lv[i].shift;
	w->gpa = (e & m.addr & ~(uint64_t)(w->page_size - 1)) | (lin & (w->page_size - 1));
	w->page_gpa = w->gpa & ~UINT64_C(0xfff);
	w->writable = rw;
	w->user = us;
	w->nx = xd;
	ok = allowed(env, w, access);
	if (ok && set_ad)
		set_flags(env, w, i, m.entry_size,
			  PTE_A | (access & SHADOWMM_ACC_WRITE ? PTE_D : 0));
	w->global = w->entry[i] & PTE_G;
	w->dirty = w->entry[i] & PTE_D;
	return ok ? 0 : fault(&m, access, SHADOWMM_PF_P, w);
}
