/* The corpus guest: sensitive-instruction cases, each a snippet run at CPL 0 or 3 with one result line. */
#ifndef CORPUS_H
#define CORPUS_H

#include "lib/guest.h"

/*
 * A snippet is assembly that starts at its label with the registers of the case
 * (EAX, ECX, EDX from it; EBX, ESI, EDI, EBP the markers below; EFLAGS its
 * eflags) and ends with "jmp corpus_done", or faults: the first exception or
 * interrupt ends it. It leaves DS, ES, SS as it found them (ECX often carries
 * the home data selector so it can). SNIP defines one.
 */
#define SNIP(n, body)                                                                \
	extern char n[];                                                             \
	__asm__(".text\n.globl " #n "\n" #n ":\n" body "\n\tjmp corpus_done\n")

#define IN_EBX	0xb0b0b0b0u
#define IN_ESI	0x51515151u
#define IN_EDI	0xd1d1d1d1u
#define IN_EBP	0xe0e0e0e0u

#define F_CF	0x00000001u
#define F_ZF	0x00000040u
#define F_TF	0x00000100u
#define F_IF	0x00000200u
#define F_DF	0x00000400u
#define F_OF	0x00000800u
#define F_NT	0x00004000u
#define F_RF	0x00010000u
#define F_AC	0x00040000u
#define F_ID	0x00200000u

/* Selectors the cases use (the lib's below GDT_FREE, the corpus's from it; cases.c). */
#define SEL_KCODE	GDT_KCODE
#define SEL_KDATA	GDT_KDATA
#define SEL_UCODE	(GDT_R3CODE | 3)
#define SEL_UDATA	(GDT_R3DATA | 3)
#define SEL_SE_CS	0x40	/* SYSENTER_CS: 0x40 code, 0x48 data, 0x50|3 code, 0x58|3 data */
#define SEL_NP		0x60	/* data, DPL 3, not present */
#define SEL_SMALL	0x68	/* data, DPL 3, base cbuf, limit 15 */
#define SEL_XO		0x70	/* code, DPL 3, execute-only */
#define SEL_CONF	0x78	/* code, DPL 0, conforming, readable */
#define SEL_LDT		0x80	/* the corpus's LDT */
#define SEL_GATE3	0x88	/* call gate DPL 3 -> ring 0, no parameters */
#define SEL_GATE0	0x90	/* call gate DPL 0 -> ring 0 */
#define SEL_GATE3P	0x98	/* call gate DPL 3 -> ring 0, 2 parameters */
#define SEL_GATENP	0xa0	/* call gate DPL 3, not present */
#define SEL_RO		0xa8	/* data, DPL 0, read-only */
#define SEL_INTG	0xb0	/* an interrupt gate in the GDT (not valid for LAR) */
#define SEL_R1DATA	(GDT_R1DATA | 1)
#define SEL_GATE3U	0xb8	/* call gate DPL 3 -> ring 3 code */
#define SEL_LDATA	0x0f	/* LDT entry 1: data DPL 3, flat */
#define SEL_BEYOND	0x200	/* past the GDT's limit */

struct ccase;
typedef void (*case_fn)(const struct ccase *c);
/* Appends case-specific values to the result line (buf, size n). */
typedef void (*post_fn)(const struct ccase *c, char *buf, unsigned n);

struct ccase {
	char name[56];
	char *snip;
	uint8_t cpl, iopl;
	uint32_t eax, ecx, edx;
	uint32_t eflags;	/* more EFLAGS bits at entry */
	uint32_t arg;		/* for setup and post */
	uint8_t showbuf;	/* bytes of cbuf to print */
	uint8_t sdm_only;	/* QEMU gets it wrong (tests/corpus/sdm-overrides): not run with oracle=1 */
	case_fn setup;
	post_fn post;
};

/* Scratch memory the snippets use (reset to 0xEE bytes before each case). */
extern uint8_t cbuf[64];
/* What the engine saw: the registers at the end or at the fault. */
struct cregs { uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eflags; };
extern struct cregs cx_in, cx_out;

/* engine.c */
struct ccase *case_add(const char *name, char *snip, unsigned cpl, unsigned iopl);
/* The home data selector of a CPL (what ECX usually carries in). */
uint32_t home_ds(unsigned cpl);
void io_allow(uint16_t port, unsigned n);
/* Makes IRQ 0 pending with IF=0 (PIC remapped to 0x20). */
int pend_irq0(void);

/* cases.c */
void cases_init(void);
void cases_add_all(void);
/* Puts back what a case may have changed (CR0, CR4, IDT gates, I/O bitmap, MSRs). */
void cases_reset(void);

#endif
