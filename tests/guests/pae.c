/*
 * pae: PAE paging with execute-disable (SDM vol. 3, 4.4 PAE paging, 4.6
 * access rights, 4.7 #PF error codes, 4.8 A and D, 4.10 TLBs; vol. 4,
 * IA32_EFER; vol. 2, CPUID), one group each:
 *   cpuid    CPUID.1:EDX.PAE, CPUID.80000001H:EDX.NX, MAXPHYADDR (36 when
 *            leaf 80000008H is missing, 4.1.4), EFER.NXE clear at entry;
 *   enable   a PDPT of four PDPTEs (PDPTE 2 not present), page directories
 *            and tables of 64-bit entries, the kernel identity-mapped;
 *            CR4.PAE, CR3, then CR0.PG;
 *   pages    a higher-half alias at 0xC0000000 (data and a call), one page
 *            at two linear addresses under different PDPTEs, 2 MiB pages
 *            (PDE.PS; CR4.PSE is 0 and PAE does not look at it, 4.4.2);
 *   ad       A in the PTE and in the PDE above it after a read, D after a
 *            write, again after software clears them and INVLPG; A and D of
 *            a 2 MiB PDE; bit 6 of a PDE that references a page table is
 *            left alone;
 *   #PF      error codes with EFER.NXE = 0: not present at the PTE, PDE
 *            and PDPTE; U/S and R/W in the PTE, in the PDE only and in
 *            2 MiB PDEs; CR0.WP; fetches (I/D stays 0); reserved bits: PTE
 *            bit 62, bit 40 (above MAXPHYADDR), PDE bit 52, bits 20:13 of a
 *            2 MiB PDE, and bit 63 (XD) in a PTE, a PDE and a 2 MiB PDE,
 *            reserved while EFER.NXE = 0 (4.4.2, Tables 4-9 to 4-11);
 *            RSVD=1 with P=1;
 *   nx       EFER.NXE set by WRMSR: a fetch from a page with XD=1 in its
 *            PTE, in the PDE above it or in its 2 MiB PDE faults at CPL 0
 *            and 3 with the I/D bit (error bit 4), which every fetch fault
 *            now has, a not-present or reserved-bit one too (4.7); reads
 *            and writes of XD pages do not fault; A is set with XD kept;
 *            with EFER.NXE clear again XD is reserved again;
 *   tlb      a PTE changed then INVLPG or MOV to CR3; a PDE pointed at
 *            another page table then INVLPG; a 2 MiB PDE made a page table,
 *            then INVLPG of another address in that 2 MiB page (4.10.2.3:
 *            it drops the whole translation); global 4 KiB and 2 MiB pages
 *            with CR4.PGE (a CR3 write may keep them: not checked; INVLPG
 *            and clearing CR4.PGE drop them, 4.10.4.1); a PDPTE changed in
 *            memory takes effect at the next MOV to CR3 (4.4.1), ignored
 *            PDPTE bits 11:9;
 *   user     a ring-3 process with a PDPT of its own: INT 0x80 system calls,
 *            a demand-zero #PF (error 4: no I/D for data), then a fetch
 *            from its own XD data page (error 0x15: P, U/S, I/D), which
 *            runs once XD is cleared.
 * Where QEMU 7.2 (TCG), the oracle, deviates from the SDM, pae.expect
 * leaves the check out; sdm=1 on the command line puts it back (QEMU then
 * fails those lines, bt must pass them):
 * XXX: a reserved-bit fault has P=1 in its error code (4.7); QEMU 7.2 sets
 * RSVD alone (see pfcase.c). Without sdm=1 those lines compare the error
 * code but P.
 * XXX: QEMU 7.2 sets bit 5 (A) of the PDPTE it walks; in a PAE PDPTE bits
 * 8:5 and 2:1 are reserved (Table 4-8), and 4.8: "the PDPTEs do not contain
 * accessed flags with PAE paging" (they only load the PDPTE registers).
 * XXX: QEMU 7.2 reads the PDPTEs from memory at every walk; the processor
 * loads them into its PDPTE registers at MOV to CR3 (and MOV to CR0 or CR4
 * that enables PAE paging or changes PGE, PSE, ...), and only then (4.4.1):
 * a PDPTE changed in memory is not used before the next MOV to CR3, INVLPG
 * or not.
 * XXX: MOV to CR3 with a present PDPTE that has a reserved bit set is
 * #GP(0) and loads nothing (4.4.1); QEMU 7.2 checks nothing at MOV to CR3.
 * Every address printed is a fixed test address or a difference.
 */
#include "lib/guest.h"

/* Test pages of the #PF cases, under PDPTE 0, in one page table. */
#define T_NP		0x10000000u	/* PTE P=0 (frame kept) */
#define T_SUP		0x10001000u	/* supervisor, R/W */
#define T_URO		0x10002000u	/* user, read-only */
#define T_SRO		0x10003000u	/* supervisor, read-only */
#define T_URW		0x10004000u	/* user, R/W */
#define T_XD		0x10005000u	/* user, R/W, XD */
#define T_R62		0x10006000u	/* user, R/W, PTE bit 62 */
#define T_R62_SUP	0x10007000u	/* supervisor, PTE bit 62 */
#define T_R40		0x10008000u	/* user, R/W, PTE bit 40 (reserved: MAXPHYADDR <= 40) */
#define T_URO_END	(T_URO + PAGE_SIZE)	/* pushes from here write T_URO */
/* Rights at the PDE level only (the PTE allows everything); one 2 MiB region each. */
#define T_PDE_NP	0x10200000u	/* PDE P=0 (its page table kept) */
#define T_PDE_SUP	0x10400000u	/* PDE U/S=0 */
#define T_PDE_RO	0x10600000u	/* PDE R/W=0 */
#define T_PDE_XD	0x10800000u	/* PDE XD=1 */
#define T_PDE_R52	0x10A00000u	/* PDE bit 52 */
/* 2 MiB pages onto the first 2 MiB of free RAM. */
#define B_URW		0x11000000u	/* user, R/W */
#define B_SUP		0x11200000u	/* supervisor */
#define B_RO		0x11400000u	/* user, read-only */
#define B_XD		0x11600000u	/* user, R/W, XD */
#define B_R13		0x11800000u	/* user, R/W, bit 13 (in the reserved 20:13) */
#define KVIEW		0x12000000u	/* the kernel's 4 KiB view of a 2 MiB page */
/* Under PDPTE 2, which is not present. */
#define T_PDPTE_NP	0x80000000u
#define T_PDPTE_NP_END	(T_PDPTE_NP + PAGE_SIZE)

/* pages */
#define HIGH_HALF	0xC0000000u	/* PDPTE 3: the identity map again */
#define ALIAS_A		0x10010000u	/* one physical page under PDPTE 0 ... */
#define ALIAS_B		0x50000000u	/* ... and under PDPTE 1 */
#define BIG_LOW		0x40000000u	/* a 2 MiB page onto the kernel's variables */
#define BIG_FREE	0x44000000u	/* a 2 MiB page onto the second 2 MiB of free RAM */
#define SMALL_FREE	0x50010000u	/* 4 KiB views of that RAM */
/* ad */
#define P_READ		0x62000000u
#define P_WRITE		0x62001000u
#define BIG_AD		0x62200000u	/* a 2 MiB page onto the second 2 MiB of free RAM */
/* tlb */
#define TLB_PAGE	0x60100000u
#define TLB_PDE		0x60400000u
#define TLB_BIG		0x60600000u	/* a 2 MiB page, then a page table */
#define TLB_G		0x60800000u	/* global */
#define TLB_L		0x60801000u	/* not global */
#define TLB_BIG_G	0x60A00000u	/* a global 2 MiB page, then a page table */
#define TLB_PDPTE	0x7FE00000u	/* under PDPTE 1, whose directory is swapped */
/* user: in the process's own PDPT */
#define U_DATA		0x70000000u	/* user, R/W, XD */
#define U_DEMAND	0x70001000u	/* not present until read */
#define U_CODE_OFF	0x100		/* where the process puts code in U_DATA */

#define AD		(PTE_A | PTE_D)
#define BIT(n)		(1ull << (n))
#define PDPTE_RSVD	0x1E6u	/* bits 8:5 and 2:1 of a PDPTE (Table 4-8) */
#define NXE_SWITCH	0x100	/* pfc_case flag: EFER.NXE = 1 for it */
#define CODE_VALUE	0x600dc0deu

#define R(lin) PFC_RD, (lin) + PFC_ACC_OFF
#define W(lin) PFC_WR, (lin) + PFC_ACC_OFF
#define X(lin) PFC_EX, (lin) + PFC_CODE_OFF
#define RSVD		(PF_RSVD | PF_P)

/* With EFER.NXE = 0. */
static const struct pfc_case pf_cases[] = {
	/* Not present. */
	{ "CPL 0 read, PTE P=0", 0, R(T_NP), 0, 0 },
	{ "CPL 3 write, PTE P=0", 3, W(T_NP), PF_U | PF_W, 0 },
	{ "CPL 0 write, PDE P=0", 0, W(T_PDE_NP), PF_W, 0 },
	{ "CPL 3 read, PDE P=0", 3, R(T_PDE_NP), PF_U, 0 },
	{ "CPL 0 read, PDPTE P=0", 0, R(T_PDPTE_NP), 0, 0 },
	{ "CPL 3 write, PDPTE P=0", 3, W(T_PDPTE_NP), PF_U | PF_W, 0 },
	{ "CPL 3 push, PDPTE P=0", 3, PFC_PUSH, T_PDPTE_NP_END, PF_U | PF_W, 0 },
	{ "CPL 0 fetch, PTE P=0 (EFER.NXE=0: no I/D)", 0, X(T_NP), 0, 0 },
	{ "CPL 3 fetch, PDE P=0 (EFER.NXE=0: no I/D)", 3, X(T_PDE_NP), PF_U, 0 },
	/* Protection. */
	{ "CPL 3 read, supervisor page", 3, R(T_SUP), PF_P | PF_U, 0 },
	{ "CPL 3 write, supervisor page", 3, W(T_SUP), PF_P | PF_U | PF_W, 0 },
	{ "CPL 3 fetch, supervisor page (EFER.NXE=0: no I/D)", 3, X(T_SUP), PF_P | PF_U, 0 },
	{ "CPL 3 write, user read-only page", 3, W(T_URO), PF_P | PF_U | PF_W, 0 },
	{ "CPL 3 push, user read-only page", 3, PFC_PUSH, T_URO_END, PF_P | PF_U | PF_W, 0 },
	{ "CPL 0 write, supervisor read-only page, CR0.WP=1", 0, W(T_SRO), PF_P | PF_W, 0 },
	{ "CPL 0 write, supervisor read-only page, CR0.WP=0", 0, W(T_SRO), PFC_NOFAULT, PFC_NOWP },
	{ "CPL 3 read, PDE U/S=0 (PTE U/S=1)", 3, R(T_PDE_SUP), PF_P | PF_U, 0 },
	{ "CPL 3 write, PDE R/W=0 (PTE R/W=1)", 3, W(T_PDE_RO), PF_P | PF_U | PF_W, 0 },
	{ "CPL 0 write, PDE R/W=0 (PTE R/W=1), CR0.WP=1", 0, W(T_PDE_RO), PF_P | PF_W, 0 },
	{ "CPL 3 read, 2 MiB supervisor page", 3, R(B_SUP), PF_P | PF_U, 0 },
	{ "CPL 3 write, 2 MiB read-only page", 3, W(B_RO), PF_P | PF_U | PF_W, 0 },
	/* Allowed. */
	{ "CPL 3 read, user read-only page", 3, R(T_URO), PFC_NOFAULT, 0 },
	{ "CPL 3 write, user R/W page", 3, W(T_URW), PFC_NOFAULT, 0 },
	{ "CPL 0 read, PDE U/S=0", 0, R(T_PDE_SUP), PFC_NOFAULT, 0 },
	{ "CPL 3 write, 2 MiB user page", 3, W(B_URW), PFC_NOFAULT, 0 },
	{ "CPL 3 fetch, 2 MiB user page", 3, X(B_URW), PFC_NOFAULT, 0 },
	{ "CPL 0 fetch, supervisor page", 0, X(T_SUP), PFC_NOFAULT, 0 },
	/* Reserved bits: RSVD with P, whatever the access and its rights. */
	{ "CPL 0 read, PTE bit 62", 0, R(T_R62), RSVD, 0 },
	{ "CPL 3 write, PTE bit 62", 3, W(T_R62), RSVD | PF_U | PF_W, 0 },
	{ "CPL 3 read, supervisor PTE bit 62", 3, R(T_R62_SUP), RSVD | PF_U, 0 },
	{ "CPL 0 read, PTE bit 40 (above MAXPHYADDR)", 0, R(T_R40), RSVD, 0 },
	{ "CPL 0 fetch, PDE bit 52 (its PTE clean)", 0, X(T_PDE_R52), RSVD, 0 },
	{ "CPL 0 read, 2 MiB PDE bit 13", 0, R(B_R13), RSVD, 0 },
	{ "CPL 3 write, 2 MiB PDE bit 13", 3, W(B_R13), RSVD | PF_U | PF_W, 0 },
	{ "CPL 0 read, PTE XD=1, EFER.NXE=0 (bit 63 reserved)", 0, R(T_XD), RSVD, 0 },
	{ "CPL 3 fetch, PTE XD=1, EFER.NXE=0", 3, X(T_XD), RSVD | PF_U, 0 },
	{ "CPL 0 read, PDE XD=1, EFER.NXE=0", 0, R(T_PDE_XD), RSVD, 0 },
	{ "CPL 3 read, 2 MiB PDE XD=1, EFER.NXE=0", 3, R(B_XD), RSVD | PF_U, 0 },
};

/* With EFER.NXE = 1 where NXE_SWITCH says so, else with EFER.NXE = 0 again. */
static const struct pfc_case nx_cases[] = {
	{ "CPL 0 fetch, PTE XD=1", 0, X(T_XD), PF_P | PF_I, NXE_SWITCH },
	{ "CPL 3 fetch, PTE XD=1", 3, X(T_XD), PF_P | PF_U | PF_I, NXE_SWITCH },
	{ "CPL 0 fetch, PDE XD=1 (PTE XD=0)", 0, X(T_PDE_XD), PF_P | PF_I, NXE_SWITCH },
	{ "CPL 3 fetch, PDE XD=1 (PTE XD=0)", 3, X(T_PDE_XD), PF_P | PF_U | PF_I, NXE_SWITCH },
	{ "CPL 0 fetch, 2 MiB PDE XD=1", 0, X(B_XD), PF_P | PF_I, NXE_SWITCH },
	{ "CPL 3 fetch, 2 MiB PDE XD=1", 3, X(B_XD), PF_P | PF_U | PF_I, NXE_SWITCH },
	{ "CPL 0 read, PTE XD=1", 0, R(T_XD), PFC_NOFAULT, NXE_SWITCH },
	{ "CPL 3 read, PTE XD=1", 3, R(T_XD), PFC_NOFAULT, NXE_SWITCH },
	{ "CPL 3 write, PTE XD=1", 3, W(T_XD), PFC_NOFAULT, NXE_SWITCH },
	{ "CPL 3 read, PDE XD=1", 3, R(T_PDE_XD), PFC_NOFAULT, NXE_SWITCH },
	{ "CPL 0 read, 2 MiB PDE XD=1", 0, R(B_XD), PFC_NOFAULT, NXE_SWITCH },
	{ "CPL 0 fetch, XD=0 page", 0, X(T_URW), PFC_NOFAULT, NXE_SWITCH },
	{ "CPL 3 fetch, XD=0 page", 3, X(T_URW), PFC_NOFAULT, NXE_SWITCH },
	/* I/D is set for every fetch fault now, and only for fetches. */
	{ "CPL 0 fetch, PTE P=0", 0, X(T_NP), PF_I, NXE_SWITCH },
	{ "CPL 3 fetch, PDPTE P=0", 3, X(T_PDPTE_NP), PF_U | PF_I, NXE_SWITCH },
	{ "CPL 3 fetch, supervisor page", 3, X(T_SUP), PF_P | PF_U | PF_I, NXE_SWITCH },
	{ "CPL 0 fetch, PTE bit 62", 0, X(T_R62), RSVD | PF_I, NXE_SWITCH },
	{ "CPL 3 read, PTE P=0 (data: no I/D)", 3, R(T_NP), PF_U, NXE_SWITCH },
	{ "CPL 3 read, PTE bit 62 (still reserved)", 3, R(T_R62), RSVD | PF_U, NXE_SWITCH },
	/* EFER.NXE cleared: XD is a reserved bit again. */
	{ "EFER.NXE=0 again: CPL 0 fetch, PTE XD=1", 0, X(T_XD), RSVD, 0 },
	{ "EFER.NXE=0 again: CPL 3 read, 2 MiB PDE XD=1", 3, R(B_XD), RSVD | PF_U, 0 },
};

static uint64_t *pdpt;
static uint32_t free_ram;	/* 4 MiB of RAM after the identity map: two 2 MiB pages */
static uint32_t sdm;		/* sdm=1: the checks QEMU fails too */
static volatile uint32_t kvar = 0x1234abcd;

static volatile uint32_t *at(uint32_t lin)
{
	return (volatile uint32_t *)lin;
}

/* The page directory a PDPTE points at. */
static uint64_t *dir_of(uint64_t pdpte)
{
	return (uint64_t *)((uint32_t)pdpte & PTE_FRAME);
}

/* Bits (A, D) of lin's PTE or of its PDE. */
static uint32_t pte_bits(uint32_t lin, uint32_t bits)
{
	return (uint32_t)*(volatile uint64_t *)pae_pte(pdpt, lin) & bits;
}

static uint32_t pde_bits(uint32_t lin, uint32_t bits)
{
	return (uint32_t)*(volatile uint64_t *)pae_pde(pdpt, lin) & bits;
}

static void map_pdpt(uint32_t lin, uint32_t phys, uint32_t flags)
{
	pae_map(pdpt, lin, phys, flags);
}

/* EFER.NXE on or off; then a CR3 write, as WRMSR is not said to flush (4.10.4.1). */
static void set_nxe(int on)
{
	uint64_t efer = rdmsr(MSR_EFER);

	wrmsr(MSR_EFER, on ? efer | EFER_NXE : efer & ~EFER_NXE);
	write_cr3(read_cr3());
}

/*
 * The kernel's view of the memory behind lin, following the entries whatever
 * their P and reserved bits say: pool pages at their identity address, the
 * 2 MiB pages' free RAM through KVIEW. RAM is below 4 GiB: bits above 31
 * of an address are reserved-bit tests, not addresses.
 */
static volatile uint32_t *kview(uint32_t lin)
{
	uint64_t pde = *pae_pde(pdpt, lin);
	uint32_t phys;

	if (pde & PTE_PS) {
		phys = ((uint32_t)pde & 0xFFE00000u) + (lin & (PAGE_2M - 1));
		pae_map(pdpt, KVIEW, phys, PTE_P | PTE_W);
		invlpg(KVIEW);
		return at(KVIEW + (phys & 0xFFF));
	}
	phys = (uint32_t)((uint64_t *)((uint32_t)pde & PTE_FRAME))[lin >> 12 & 0x1FF] & PTE_FRAME;
	return at(phys + (lin & 0xFFF));
}

static void run_cases(const struct pfc_case *c, unsigned n)
{
	int nxe = (rdmsr(MSR_EFER) & EFER_NXE) != 0;

	for (unsigned i = 0; i < n; i++) {
		if (nxe != !!(c[i].flags & NXE_SWITCH)) {
			nxe = !nxe;
			set_nxe(nxe);
		}
		pfc_check(&c[i], kview, sdm);
	}
}

/* ======== cpuid ======== */

/* Returns whether the CPU has PAE and NX, which the rest needs (IA32_EFER exists with NX or LM). */
static int cpuid_tests(void)
{
	uint32_t r[4], maxphy = 36, pae, nx;

	guest_printf("pae: -- cpuid --\n");
	guest_cpuid(1, r);
	pae = check("CPUID.1:EDX.PAE", (r[3] & CPUID_PAE) != 0, 1);
	guest_cpuid(0x80000000u, r);
	check_true("CPUID.80000000H:EAX, the last extended leaf, >= 0x80000001", r[0] >= 0x80000001u);
	if (r[0] >= 0x80000008u) {
		guest_cpuid(0x80000008u, r);
		maxphy = r[0] & 0xFF;
	}
	guest_cpuid(0x80000001u, r);
	nx = check("CPUID.80000001H:EDX.NX", (r[3] & CPUID_NX) != 0, 1);
	check_range("MAXPHYADDR (CPUID.80000008H:EAX[7:0], else 36)", maxphy, 36, 40);
	if (!pae || !nx)
		return 0;
	check("IA32_EFER at entry: NXE", (uint32_t)rdmsr(MSR_EFER) & EFER_NXE, 0);
	return 1;
}

/* ======== enable ======== */

static void setup(void)
{
	uint64_t *pd2;

	pdpt = pae_pdpt_kernel(PTE_P | PTE_W | PTE_U);
	free_ram = pg_ident_end;
	pae_map(pdpt, T_NP, (uint32_t)pfc_page(0x10000000), PTE_W | PTE_U);
	pae_map(pdpt, T_SUP, (uint32_t)pfc_page(0x10100000), PTE_P | PTE_W);
	pae_map(pdpt, T_URO, (uint32_t)pfc_page(0x10200000), PTE_P | PTE_U);
	pae_map(pdpt, T_SRO, (uint32_t)pfc_page(0x10300000), PTE_P);
	pae_map(pdpt, T_URW, (uint32_t)pfc_page(0x10400000), PTE_P | PTE_W | PTE_U);
	pae_map(pdpt, T_XD, (uint32_t)pfc_page(0x10500000), PTE_P | PTE_W | PTE_U | PAE_XD);
	pae_map(pdpt, T_R62, (uint32_t)pfc_page(0x10600000), PTE_P | PTE_W | PTE_U | BIT(62));
	pae_map(pdpt, T_R62_SUP, (uint32_t)pfc_page(0x10700000), PTE_P | PTE_W | BIT(62));
	pae_map(pdpt, T_R40, (uint32_t)pfc_page(0x10800000), PTE_P | PTE_W | PTE_U | BIT(40));
	pae_map(pdpt, T_PDE_NP, (uint32_t)pfc_page(0x12000000), PTE_P | PTE_W | PTE_U);
	*pae_pde(pdpt, T_PDE_NP) &= ~(uint64_t)PTE_P;
	pae_map(pdpt, T_PDE_SUP, (uint32_t)pfc_page(0x14000000), PTE_P | PTE_W | PTE_U);
	*pae_pde(pdpt, T_PDE_SUP) &= ~(uint64_t)PTE_U;
	pae_map(pdpt, T_PDE_RO, (uint32_t)pfc_page(0x16000000), PTE_P | PTE_W | PTE_U);
	*pae_pde(pdpt, T_PDE_RO) &= ~(uint64_t)PTE_W;
	pae_map(pdpt, T_PDE_XD, (uint32_t)pfc_page(0x18000000), PTE_P | PTE_W | PTE_U);
	*pae_pde(pdpt, T_PDE_XD) |= PAE_XD;
	pae_map(pdpt, T_PDE_R52, (uint32_t)pfc_page(0x1A000000), PTE_P | PTE_W | PTE_U);
	*pae_pde(pdpt, T_PDE_R52) |= BIT(52);
	pae_map_2m(pdpt, B_URW, free_ram, PTE_P | PTE_W | PTE_U);
	pae_map_2m(pdpt, B_SUP, free_ram, PTE_P | PTE_W);
	pae_map_2m(pdpt, B_RO, free_ram, PTE_P | PTE_U);
	pae_map_2m(pdpt, B_XD, free_ram, PTE_P | PTE_W | PTE_U | PAE_XD);
	pae_map_2m(pdpt, B_R13, free_ram, PTE_P | PTE_W | PTE_U | BIT(13));
	/* PDPTE 2 not present; its directory maps T_PDPTE_NP all the same (kview reads it). */
	pd2 = dir_of(pdpt[2]);
	pae_map(pdpt, T_PDPTE_NP, (uint32_t)pfc_page(0x80000000), PTE_P | PTE_W | PTE_U);
	pdpt[2] = (uint32_t)pd2;
	/* The free RAM behind the 2 MiB pages (paging is still off): a test page's words and code. */
	memcpy((void *)free_ram, pfc_page(0x11000000), PAGE_SIZE);
}

static void enable_tests(void)
{
	uint64_t pte;

	guest_printf("pae: -- enable --\n");
	check("CR0.PG at entry (Multiboot: paging off)", read_cr0() & CR0_PG, 0);
	setup();
	check("the PDPT: CR3 bits 4:0 (32-byte aligned)", (uint32_t)pdpt & 0x1F, 0);
	pae_enable(pdpt, 0);
	check("CR4.PAE after enabling", read_cr4() & CR4_PAE, CR4_PAE);
	check("CR4.PSE (0: 2 MiB pages need no PSE under PAE)", read_cr4() & CR4_PSE, 0);
	check("CR0.PG and CR0.WP after enabling", read_cr0() & (CR0_PG | CR0_WP), CR0_PG | CR0_WP);
	check("CR3 - the PDPT", read_cr3() - (uint32_t)pdpt, 0);
	check("a variable read through the identity map", kvar, 0x1234abcd);
	kvar = 0x2345bcde;
	check("  written and read back", kvar, 0x2345bcde);
	pte = *pae_pte(pdpt, (uint32_t)&kvar);
	check("its PTE: frame - its address", ((uint32_t)pte & PTE_FRAME) - ((uint32_t)&kvar & PTE_FRAME), 0);
	check("its PTE: bits 63:32", (uint32_t)(pte >> 32), 0);
}

/* ======== pages ======== */

/* The return address of a call, to see where its caller runs. */
static __attribute__((noinline)) uint32_t return_address(void)
{
	return (uint32_t)__builtin_return_address(0);
}

/* Calls return_address (by a relative CALL: the callee runs where the caller does). */
static __attribute__((noinline)) uint32_t call_site(void)
{
	uint32_t r = return_address();

	__asm__ volatile("" : : : "memory");	/* not a tail call */
	return r;
}

static void pages_tests(void)
{
	uint64_t *pd0 = dir_of(pdpt[0]), *pd3 = dir_of(pdpt[3]);
	uint32_t (*hi_call_site)(void) = (uint32_t (*)(void))((uint32_t)call_site + HIGH_HALF);
	volatile uint32_t *hi = at((uint32_t)&kvar + HIGH_HALF);
	uint32_t low = (uint32_t)&kvar & ~(PAGE_2M - 1);

	guest_printf("pae: -- pages --\n");
	/* Higher half: PDPTE 3's directory gets PDPTE 0's kernel PDEs. */
	for (uint32_t i = 0; i < pg_ident_end / PAGE_2M; i++)
		pd3[i] = pd0[i];
	kvar = 0x11111111;
	check("0xC0000000 alias reads what the identity map wrote", *hi, 0x11111111);
	*hi = 0x22222222;
	check("identity map reads what the alias wrote", kvar, 0x22222222);
	check("PDE of 0xC0000000 - PDE of 0 (the same page table)",
	      (uint32_t)(*pae_pde(pdpt, HIGH_HALF) - *pae_pde(pdpt, 0)), 0);
	check("a call through the alias: return address - the identity one", hi_call_site() - call_site(),
	      HIGH_HALF);

	/* One page under PDPTE 0 and under PDPTE 1. */
	pgcheck_alias(map_pdpt, ALIAS_A, ALIAS_B);

	/* 2 MiB pages, CR4.PSE = 0. */
	pae_map_2m(pdpt, BIG_LOW, low, PTE_P | PTE_W);
	kvar = 0x33333333;
	check("a variable through a 2 MiB page at 0x40000000", *at(BIG_LOW + ((uint32_t)&kvar - low)),
	      0x33333333);
	*at(BIG_LOW + ((uint32_t)&kvar - low)) = 0x44444444;
	check("the identity map reads what the 2 MiB page wrote", kvar, 0x44444444);
	pae_map_2m(pdpt, BIG_FREE, free_ram + PAGE_2M, PTE_P | PTE_W);
	pae_map(pdpt, SMALL_FREE, free_ram + PAGE_2M + 0x2000, PTE_P | PTE_W);
	pae_map(pdpt, SMALL_FREE + 0x1000, free_ram + PAGE_2M + 0x1FF000, PTE_P | PTE_W);
	*at(BIG_FREE + 0x2ABC) = 0x66666666;
	check("4 KiB view of offset 0x2abc", *at(SMALL_FREE + 0xABC), 0x66666666);
	*at(SMALL_FREE + 0x1FF8) = 0x77777777;
	check("2 MiB view of offset 0x1ffff8", *at(BIG_FREE + 0x1FFFF8), 0x77777777);
	check("the 2 MiB PDE: frame - the RAM", ((uint32_t)*pae_pde(pdpt, BIG_FREE) & 0xFFE00000u) -
	      (free_ram + PAGE_2M), 0);
}

/* ======== ad ======== */

static void ad_tests(void)
{
	uint32_t v;

	guest_printf("pae: -- ad --\n");
	pae_map(pdpt, P_READ, (uint32_t)pg_alloc(), PTE_P | PTE_W);
	pae_map(pdpt, P_WRITE, (uint32_t)pg_alloc(), PTE_P | PTE_W);
	*pae_pde(pdpt, P_READ) &= ~(uint64_t)AD;
	v = *at(P_READ);
	(void)v;
	check("PTE after a read: A and D", pte_bits(P_READ, AD), PTE_A);
	check("PDE above it: A and bit 6", pde_bits(P_READ, AD), PTE_A);
	*at(P_WRITE + 8) = 1;
	check("PTE after a write with no read before: A and D", pte_bits(P_WRITE, AD), AD);
	check("PDE bit 6 after the write (ignored: it references a page table)", pde_bits(P_WRITE, PTE_D), 0);
	*at(P_READ + 4) = 2;
	check("PTE of the page read before, after a write: A and D", pte_bits(P_READ, AD), AD);
	check("  its bits 63:32", (uint32_t)(*pae_pte(pdpt, P_READ) >> 32), 0);

	pae_protect(pdpt, P_READ, 0, AD);
	invlpg(P_READ);
	v = *at(P_READ);
	check("A and D cleared, INVLPG, a read: A and D", pte_bits(P_READ, AD), PTE_A);
	*at(P_READ) = 3;
	check("  then a write: A and D", pte_bits(P_READ, AD), AD);
	*pae_pde(pdpt, P_WRITE) &= ~(uint64_t)PTE_A;
	invlpg(P_WRITE);
	v = *at(P_WRITE);
	check("PDE A cleared, INVLPG, a read: PDE A", pde_bits(P_WRITE, PTE_A), PTE_A);

	pae_map_2m(pdpt, BIG_AD, free_ram + PAGE_2M, PTE_P | PTE_W);
	v = *at(BIG_AD + 0x123450);
	check("2 MiB PDE after a read: A and D", pde_bits(BIG_AD, AD), PTE_A);
	*at(BIG_AD + 0x1A3460) = 8;
	check("  after a write: A and D", pde_bits(BIG_AD, AD), AD);
	*pae_pde(pdpt, BIG_AD) &= ~(uint64_t)AD;
	invlpg(BIG_AD + 0x100000);
	*at(BIG_AD + 0x100000) = 9;
	check("A and D cleared, INVLPG, a write: A and D", pde_bits(BIG_AD, AD), AD);
	if (sdm)	/* XXX: QEMU 7.2 sets bit 5 (see the top) */
		check("PDPTEs 0, 1 and 3 after all these walks: bits 8:5 and 2:1 (reserved)",
		      (uint32_t)(pdpt[0] | pdpt[1] | pdpt[3]) & PDPTE_RSVD, 0);
}

/* ======== #PF and nx ======== */

static void pf_tests(void)
{
	guest_printf("pae: -- #PF (EFER.NXE=0) --\n");
	run_cases(pf_cases, sizeof(pf_cases) / sizeof(pf_cases[0]));
}

static void nx_tests(void)
{
	uint64_t pte;

	guest_printf("pae: -- nx --\n");
	set_nxe(1);
	check("IA32_EFER after WRMSR of NXE: bits 31:0", (uint32_t)rdmsr(MSR_EFER), EFER_NXE);
	check("  bits 63:32", (uint32_t)(rdmsr(MSR_EFER) >> 32), 0);
	run_cases(nx_cases, sizeof(nx_cases) / sizeof(nx_cases[0]));
	pte = *pae_pte(pdpt, T_XD);
	check("PTE of the XD page after reads and a write: A and D", (uint32_t)pte & AD, AD);
	check("  bits 63:32 (XD kept)", (uint32_t)(pte >> 32), 0x80000000u);
	check("IA32_EFER after clearing NXE: bits 31:0", (uint32_t)rdmsr(MSR_EFER), 0);
}

/* ======== tlb ======== */

/* MOV to CR3 from EAX; a fault resumes at cr3_load_res. */
__asm__(".text\n"
	"cr3_load:\ncr3_load_at: movl %eax, %cr3\ncr3_load_res: ret\n");
extern char cr3_load[], cr3_load_at[], cr3_load_res[];

static void tlb_pte_tests(uint32_t *x, uint32_t *y)
{
	static const struct pfc_case gone = {
		"read after P is cleared and INVLPG", 0, R(TLB_PAGE), 0, 0
	};
	uint64_t *t1 = pg_alloc(), *t2 = pg_alloc(), *t3 = pg_alloc();

	pae_map(pdpt, TLB_PAGE, (uint32_t)x, PTE_P | PTE_W);
	check("a page, first read: page X", *at(TLB_PAGE + 8), 0x61000002);
	pae_map(pdpt, TLB_PAGE, (uint32_t)y, PTE_P | PTE_W);
	invlpg(TLB_PAGE);
	check("its PTE pointed at Y, INVLPG: page Y", *at(TLB_PAGE + 8), 0x62000002);
	pae_map(pdpt, TLB_PAGE, (uint32_t)x, PTE_P | PTE_W);
	write_cr3(read_cr3());
	check("its PTE pointed at X, MOV to CR3: page X", *at(TLB_PAGE + 8), 0x61000002);
	pae_protect(pdpt, TLB_PAGE, 0, PTE_P);
	invlpg(TLB_PAGE);
	pfc_check(&gone, kview, sdm);

	/* A PDE pointed at another page table: INVLPG drops the cached PDE too. */
	t1[0] = (uint32_t)x | PTE_P | PTE_W;
	t2[0] = (uint32_t)y | PTE_P | PTE_W;
	*pae_pde(pdpt, TLB_PDE) = (uint32_t)t1 | PTE_P | PTE_W;
	check("a PDE's page table 1: page X", *at(TLB_PDE + 0xC), 0x61000003);
	*pae_pde(pdpt, TLB_PDE) = (uint32_t)t2 | PTE_P | PTE_W;
	invlpg(TLB_PDE);
	check("  the PDE pointed at page table 2, INVLPG: page Y", *at(TLB_PDE + 0xC), 0x62000003);

	/* A 2 MiB page becomes a page table; INVLPG of its first page drops all of it. */
	pae_map_2m(pdpt, TLB_BIG, free_ram + PAGE_2M, PTE_P | PTE_W);
	*at(TLB_BIG + 0x100010) = 0x2B2B2B2B;
	check("a 2 MiB page: the word written at offset 0x100010", *at(TLB_BIG + 0x100010), 0x2B2B2B2B);
	t3[0x100] = (uint32_t)y | PTE_P | PTE_W;
	*pae_pde(pdpt, TLB_BIG) = (uint32_t)t3 | PTE_P | PTE_W;
	invlpg(TLB_BIG);
	check("  its PDE made a page table, INVLPG of offset 0: offset 0x100010 in page Y",
	      *at(TLB_BIG + 0x100010), 0x62000004);
}

static void tlb_global_tests(uint32_t *x)
{
	uint64_t *t = pg_alloc();
	uint32_t v;

	pgcheck_global(map_pdpt, TLB_G, TLB_L);
	pae_map_2m(pdpt, TLB_BIG_G, free_ram + PAGE_2M, PTE_P | PTE_W | PTE_G);
	check("a global 2 MiB page: offset 0x100010", *at(TLB_BIG_G + 0x100010), 0x2B2B2B2B);
	t[0x100] = (uint32_t)x | PTE_P | PTE_W;
	*pae_pde(pdpt, TLB_BIG_G) = (uint32_t)t | PTE_P | PTE_W;
	write_cr3(read_cr3());
	v = *at(TLB_BIG_G + 0x100010);	/* old or new: both allowed */
	(void)v;
	invlpg(TLB_BIG_G + 0x100000);
	check("  its PDE made a page table, MOV to CR3, INVLPG: page X", *at(TLB_BIG_G + 0x100010),
	      0x61000004);
	write_cr4(read_cr4() & ~CR4_PGE);
}

static void tlb_pdpte_tests(uint32_t *x, uint32_t *y)
{
	uint64_t old = pdpt[1], *copy = pg_alloc(), *t = pg_alloc(), *bad = pg_alloc();

	/* PDPTE 1 pointed at a copy of its directory whose PDE for TLB_PDPTE differs. */
	pae_map(pdpt, TLB_PDPTE, (uint32_t)x, PTE_P | PTE_W);
	check("under PDPTE 1: page X", *at(TLB_PDPTE + 0x14), 0x61000005);
	memcpy(copy, dir_of(old), PAGE_SIZE);
	t[0] = (uint32_t)y | PTE_P | PTE_W;
	copy[TLB_PDPTE >> 21 & 0x1FF] = (uint32_t)t | PTE_P | PTE_W;
	pdpt[1] = (uint32_t)copy | PTE_P;
	invlpg(TLB_PDPTE);
	if (sdm)	/* XXX: QEMU 7.2 walks the PDPT in memory (see the top) */
		check("PDPTE 1 changed in memory, INVLPG: still page X (the PDPTE register)",
		      *at(TLB_PDPTE + 0x14), 0x61000005);
	write_cr3(read_cr3());
	check("PDPTE 1 changed in memory, MOV to CR3: page Y (the copy's)", *at(TLB_PDPTE + 0x14), 0x62000005);
	pdpt[1] = old | 0xE00;	/* bits 11:9 are ignored */
	write_cr3(read_cr3());
	check("PDPTE 1 back, with ignored bits 11:9 set, MOV to CR3: page X", *at(TLB_PDPTE + 0x14),
	      0x61000005);
	pdpt[1] = old;
	write_cr3(read_cr3());

	if (!sdm)	/* XXX: QEMU 7.2 checks no PDPTE at MOV to CR3 (see the top) */
		return;
	memcpy(bad, pdpt, 4 * sizeof(*bad));
	bad[1] |= PTE_W;	/* bit 1: reserved */
	trap_catch((uint32_t)cr3_load_res);
	__asm__ volatile("call cr3_load" : : "a"(bad) : "memory");
	trap_uncatch();
	check_true("MOV to CR3 with PDPTE 1 bit 1 (reserved) set: #GP(0) at the instruction",
		   trap_hits == 1 && trap_seen.vector == 13 && trap_seen.error == 0 &&
		   trap_seen.eip == (uint32_t)cr3_load_at);
	check("  CR3 - the PDPT (unchanged)", read_cr3() - (uint32_t)pdpt, 0);
	write_cr3((uint32_t)pdpt);
}

static void tlb_tests(void)
{
	uint32_t *x = pg_alloc_tagged(0x61000000), *y = pg_alloc_tagged(0x62000000);

	guest_printf("pae: -- tlb --\n");
	tlb_pte_tests(x, y);
	tlb_global_tests(x);
	tlb_pdpte_tests(x, y);
}

/* ======== user ======== */

static uint64_t *upd;		/* the process's PDPT */
static uint32_t *udata;		/* the page at U_DATA */
static struct { uint32_t hits, vector, error, cr2, eip; } seen;

/* Demand-zero at U_DEMAND; anything else ends the process. */
static enum user_action user_event(struct user_proc *p, struct trap_frame *f)
{
	uint32_t cr2 = read_cr2();

	(void)p;
	seen.hits++;
	seen.vector = f->vector;
	seen.error = f->error;
	seen.cr2 = cr2;
	seen.eip = f->eip;
	if (f->vector != VEC_PF || (cr2 & PTE_FRAME) != U_DEMAND || (f->error & PF_P) || seen.hits > 1)
		return USER_KILL;
	pae_map(upd, U_DEMAND, (uint32_t)pg_alloc(), PTE_P | PTE_W | PTE_U | PAE_XD);
	return USER_RESUME;
}

/* Ring 3: two system calls, results in U_DATA; a word of U_DEMAND, then a write and a read there. */
static uint32_t prog_sys(uint32_t tag)
{
	volatile uint32_t *data = at(U_DATA), *dz = at(U_DEMAND);
	uint32_t v;

	data[0] = (uint32_t)user_syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0);
	data[1] = (uint32_t)user_syscall(SYS_SUM, 1, 2, 3, 4, 5, 6);
	v = dz[0x10];
	dz[0x11] = tag;
	return v | (dz[0x11] != tag) << 1;
}

/* movl $CODE_VALUE, %eax; ret */
static const uint8_t code_ret[] = { 0xb8, 0xde, 0xc0, 0x0d, 0x60, 0xc3 };

/* Ring 3: copies code_ret into its data page and calls it. */
static uint32_t prog_nx(uint32_t arg)
{
	uint8_t *code = (uint8_t *)(U_DATA + U_CODE_OFF);

	(void)arg;
	for (unsigned i = 0; i < sizeof(code_ret); i++)
		code[i] = code_ret[i];
	return ((uint32_t (*)(void))code)();
}

static void run_user(struct user_proc *p)
{
	memset(&seen, 0, sizeof(seen));
	write_cr3((uint32_t)upd);
	while (user_run(p) == USER_READY)
		;
	write_cr3((uint32_t)pdpt);
}

static void user_tests(void)
{
	static struct user_proc proc;
	uint32_t dz;

	guest_printf("pae: -- user --\n");
	set_nxe(1);
	upd = pae_pdpt_clone_kernel(pdpt);
	udata = pg_alloc();
	pae_map(upd, U_DATA, (uint32_t)udata, PTE_P | PTE_W | PTE_U | PAE_XD);
	user_proc_init(&proc, "sys", prog_sys, 0x5eed0001);
	proc.on_event = user_event;
	run_user(&proc);
	check("sys: exit status (the demand-zero word, 2 if the write was lost)",
	      proc.state == USER_EXITED ? proc.status : ~0u, 0);
	check("  system calls (GETPID, SUM, EXIT)", proc.syscalls, 3);
	check("  GETPID - its pid", udata[0] - proc.pid, 0);
	check("  SUM(1, 2, 3, 4, 5, 6)", udata[1], 91);
	check("  faults", seen.hits, 1);
	check("  demand-zero #PF error (not present, user read; no I/D for data)", seen.error, PF_U);
	check("  CR2", seen.cr2, U_DEMAND + 0x40);
	dz = (uint32_t)*pae_pte(upd, U_DEMAND) & PTE_FRAME;
	check("  the word it wrote, read by the kernel in the new page", ((uint32_t *)dz)[0x11], 0x5eed0001);

	user_proc_init(&proc, "nx", prog_nx, 0);
	proc.on_event = user_event;
	run_user(&proc);
	check("nx: a call into its XD data page: killed by vector", proc.state == USER_KILLED ? proc.status : ~0u,
	      VEC_PF);
	check("  #PF error (present, user, I/D)", seen.error, PF_P | PF_U | PF_I);
	check("  CR2 - the code", seen.cr2, U_DATA + U_CODE_OFF);
	check("  EIP - the code", seen.eip, U_DATA + U_CODE_OFF);
	pae_protect(upd, U_DATA, 0, PAE_XD);
	user_proc_init(&proc, "nx", prog_nx, 0);
	proc.on_event = user_event;
	run_user(&proc);
	check("nx again with XD=0: exit status (the code's value)", proc.state == USER_EXITED ? proc.status : ~0u,
	      CODE_VALUE);
	set_nxe(0);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	sdm = guest_arg_u32("sdm", 0);
	check_init("pae");
	user_init();
	if (!cpuid_tests()) {
		guest_printf("pae: the rest needs PAE and NX\n");
		return check_done();
	}
	enable_tests();
	pages_tests();
	ad_tests();
	pf_tests();
	nx_tests();
	tlb_tests();
	user_tests();
	return check_done();
}
