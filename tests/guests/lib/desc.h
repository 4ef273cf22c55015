/* Descriptors of the test guests: the lib's GDT selectors, descriptor bits, gates, TSS (SDM vol. 3, 3.4.5, 5.8, 6.11, 7.2). */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

/* The lib's GDT (start.S); selectors without RPL. */
#define GDT_ENTRIES	64
#define GDT_KCODE	0x08	/* flat code, DPL 0 */
#define GDT_KDATA	0x10	/* flat data, DPL 0 */
#define GDT_R1CODE	0x18	/* flat code, DPL 1 */
#define GDT_R1DATA	0x20	/* flat data, DPL 1 */
#define GDT_R3CODE	0x28	/* flat code, DPL 3 */
#define GDT_R3DATA	0x30	/* flat data, DPL 3 */
#define GDT_TSS		0x38	/* the lib's TSS once tss_init() ran */
#define GDT_FREE	0x40	/* first selector a test may fill */

/* Access byte (descriptor bits 40-47). */
#define D_P		0x80
#define D_DPL(n)	((n) << 5)
#define D_S		0x10	/* code or data, not system */
#define D_DATA_RO	(D_S | 0x0)
#define D_DATA_RW	(D_S | 0x2)
#define D_DATA_RO_ED	(D_S | 0x4)	/* expand-down */
#define D_DATA_RW_ED	(D_S | 0x6)
#define D_CODE_XO	(D_S | 0x8)
#define D_CODE_XR	(D_S | 0xA)
#define D_CODE_XO_C	(D_S | 0xC)	/* conforming */
#define D_CODE_XR_C	(D_S | 0xE)
#define D_ACCESSED	0x01
#define D_TSS16		0x1
#define D_LDT		0x2
#define D_TSS16_BUSY	0x3
#define D_CALL16	0x4
#define D_TASK		0x5
#define D_INT16		0x6
#define D_TRAP16	0x7
#define D_TSS32		0x9
#define D_TSS32_BUSY	0xB
#define D_CALL32	0xC
#define D_INT32		0xE
#define D_TRAP32	0xF
/* Flags nibble (descriptor bits 52-55). */
#define D_G		0x8	/* limit in 4 KiB units */
#define D_DB		0x4	/* 32-bit code, stack or expand-down bound */

/* Vector of the DPL 3 gate that ends ring_call() (tss.c). */
#define RING_EXIT_VECTOR 0xF0

#ifndef __ASSEMBLER__
#include <stdint.h>

extern uint64_t guest_gdt[GDT_ENTRIES];

/* A code, data or system segment descriptor; access as D_*, flags as D_G | D_DB. */
uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags);
/* A gate (call, interrupt, trap, task) to sel:offset; params: call gates only. */
uint64_t gate_desc(uint16_t sel, uint32_t offset, unsigned access, unsigned params);
void gdt_set(uint16_t sel, uint64_t desc);
uint64_t gdt_get(uint16_t sel);
/* IDT entries; idt_reset puts back the lib's catch-all stub of vec. */
void idt_set(unsigned vec, uint64_t gate);
uint64_t idt_get(unsigned vec);
void idt_reset(unsigned vec);
void idt_set_handler(unsigned vec, void (*handler)(void), unsigned access);

/* 32-bit TSS (SDM vol. 3, Figure 7-2). */
struct tss32 {
	uint16_t link, r0;
	uint32_t esp0;
	uint16_t ss0, r1;
	uint32_t esp1;
	uint16_t ss1, r2;
	uint32_t esp2;
	uint16_t ss2, r3;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
	uint16_t trap, iomap;
} __attribute__((packed));

/* tss.c: the lib's TSS (SS0:ESP0 and SS1:ESP1 on lib stacks), loaded with LTR. */
extern struct tss32 guest_tss;
extern char guest_stack0_top[], guest_stack1_top[], guest_stack3_top[];
void tss_init(void);
/* A TSS descriptor for t (available, DPL 0) at sel. */
void tss_install(uint16_t sel, struct tss32 *t);
/*
 * Runs fn at CPL ring (1 or 3) on that ring's lib stack with flat data segments
 * and IOPL ring_iopl (3 unless a test lowers it; at 3 fn may print), entered by
 * IRET; fn returns through the DPL 3 gate RING_EXIT_VECTOR. Returns fn's value,
 * back at CPL 0 with EFLAGS as before. Needs tss_init().
 */
extern uint32_t ring_iopl;
uint32_t ring_call(unsigned ring, uint32_t (*fn)(void));

static inline uint16_t read_cs(void) { uint16_t v; __asm__ volatile("movw %%cs, %0" : "=r"(v)); return v; }
static inline uint16_t read_ss(void) { uint16_t v; __asm__ volatile("movw %%ss, %0" : "=r"(v)); return v; }
static inline uint16_t read_ds(void) { uint16_t v; __asm__ volatile("movw %%ds, %0" : "=r"(v)); return v; }
static inline uint16_t read_es(void) { uint16_t v; __asm__ volatile("movw %%es, %0" : "=r"(v)); return v; }
static inline uint16_t read_fs(void) { uint16_t v; __asm__ volatile("movw %%fs, %0" : "=r"(v)); return v; }
static inline uint16_t read_gs(void) { uint16_t v; __asm__ volatile("movw %%gs, %0" : "=r"(v)); return v; }
static inline uint16_t read_tr(void) { uint16_t v; __asm__ volatile("str %0" : "=r"(v)); return v; }
static inline uint32_t read_eflags(void)
{
	uint32_t v;

	__asm__ volatile("pushfl\n\tpopl %0" : "=r"(v));
	return v;
}
#endif

#endif
