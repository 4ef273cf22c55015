/*
 * clisti: what a ring-0 guest sees of EFLAGS through PUSHF/POPF after CLI and STI,
 * and that POPF writes IF and the arithmetic flags (SDM vol. 1, 3.4.3; vol. 2, POPF:
 * at CPL 0 every flag but VM, RF, VIP, VIF is written; bit 1 is always 1 and bits 3,
 * 5, 15 always 0). The PIC is masked, so IF=1 takes no interrupts.
 */
#include "lib/guest.h"

#define F_CF	0x00000001
#define F_BIT1	0x00000002	/* reserved, reads as 1 */
#define F_PF	0x00000004
#define F_AF	0x00000010
#define F_ZF	0x00000040
#define F_SF	0x00000080
#define F_IF	0x00000200
#define F_DF	0x00000400
#define F_OF	0x00000800
#define F_RSVD0	0x00008028	/* bits 3, 5, 15: read as 0 */
#define F_ARITH	(F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

static uint32_t pushf(void)
{
	uint32_t f;

	__asm__ volatile("pushfl\n\tpopl %0" : "=r"(f));
	return f;
}

/* POPF v, then PUSHF: what the CPU kept of v. DF is cleared again for C. */
static uint32_t popf_pushf(uint32_t v)
{
	uint32_t f;

	__asm__ volatile("pushl %1\n\tpopfl\n\tpushfl\n\tpopl %0\n\tcld"
			 : "=r"(f) : "r"(v) : "cc", "memory");
	return f;
}

static void check_if(void)
{
	uint32_t f;

	__asm__ volatile("cli");
	check("IF after CLI", pushf() & F_IF, 0);
	__asm__ volatile("sti");
	check("IF after STI", pushf() & F_IF, F_IF);
	f = popf_pushf(pushf() & ~F_IF);
	check("IF after POPF IF=0 with IF=1", f & F_IF, 0);
	f = popf_pushf(pushf() | F_IF);
	check("IF after POPF IF=1 with IF=0", f & F_IF, F_IF);
	f = popf_pushf(pushf() | F_IF);
	check("IF after POPF IF=1 with IF=1", f & F_IF, F_IF);
	__asm__ volatile("cli");
	check("IF after CLI again", pushf() & F_IF, 0);
}

static void check_roundtrip(void)
{
	static const uint32_t patterns[] = {
		0, F_CF, F_PF, F_AF, F_ZF, F_SF, F_DF, F_OF,
		F_ARITH, F_ARITH | F_DF, F_CF | F_ZF | F_OF, F_PF | F_AF | F_SF | F_DF,
	};
	for (unsigned i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		uint32_t p = patterns[i];
		uint32_t f = popf_pushf(p | F_BIT1);	/* IF stays 0 */
		uint32_t got = f & (F_ARITH | F_DF | F_IF);

		check_tally(got == p);
		guest_printf("clisti: %s POPF/PUSHF round trip of 0x%03x = 0x%08x\n",
			     got == p ? "ok  " : "FAIL", p, got);
	}
	check("bit 1 after POPF of 0", popf_pushf(0) & F_BIT1, F_BIT1);
	check("bit 1 after CLI", pushf() & F_BIT1, F_BIT1);
	check("bits 3, 5, 15 after POPF of ones there",
	      popf_pushf(F_ARITH | F_DF | F_RSVD0 | F_BIT1) & F_RSVD0, 0);
}

/* Flags POPF loads must be the ones the next instructions consume. */
static void check_live(void)
{
	uint32_t r;

	r = 5;
	__asm__ volatile("pushl %1\n\tpopfl\n\tadcl $0, %0" : "+r"(r) : "r"(F_BIT1 | F_CF) : "cc");
	check("ADC after POPF CF=1", r, 6);
	r = 5;
	__asm__ volatile("pushl %1\n\tpopfl\n\tsbbl $0, %0" : "+r"(r) : "r"(F_BIT1) : "cc");
	check("SBB after POPF CF=0", r, 5);
	r = 0;
	__asm__ volatile("pushl %1\n\tpopfl\n\tjnz 1f\n\tjns 1f\n\tjno 1f\n\tjnp 1f\n\tmovl $1, %0\n1:"
			 : "+r"(r) : "r"(F_BIT1 | F_ZF | F_SF | F_OF | F_PF) : "cc");
	check("Jcc after POPF ZF=SF=OF=PF=1", r, 1);

	/* DF=1 from POPF makes MOVSB copy downwards. */
	static char src[4] = "abc", dst[4] = "xyz";
	void *d = dst + 2;
	const void *s = src + 2;
	uint32_t n = 3;
	__asm__ volatile("pushl %3\n\tpopfl\n\trep movsb\n\tcld"
			 : "+D"(d), "+S"(s), "+c"(n) : "r"(F_BIT1 | F_DF) : "cc", "memory");
	check("REP MOVSB after POPF DF=1 (EDI moved down)", (uint32_t)(dst + 2 - (char *)d), 3);
	check("REP MOVSB after POPF DF=1 (bytes)",
	      (uint32_t)dst[0] << 16 | (uint32_t)dst[1] << 8 | (uint8_t)dst[2], 0x616263);

	/* Flags an instruction computed, seen by PUSHF: 1 - 2 sets CF PF AF SF. */
	__asm__ volatile("cmpl $2, %1\n\tpushfl\n\tpopl %0" : "=r"(r) : "r"(1) : "cc");
	check("flags of CMP 1, 2 via PUSHF", r & F_ARITH, F_CF | F_PF | F_AF | F_SF);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("clisti");
	pic_mask_all();
	check_if();
	check_roundtrip();
	check_live();
	return check_done();
}
