/* The lib's TSS: ring-0 and ring-1 stacks for privilege changes, loaded with LTR (SDM vol. 3, 7.2, 6.12.1). */
#include "guest.h"

struct tss32 guest_tss;

extern char ring_exit[];	/* ring.S */

void tss_install(uint16_t sel, struct tss32 *t)
{
	gdt_set(sel, seg_desc((uint32_t)t, sizeof(*t) - 1, D_P | D_TSS32, 0));
}

void tss_init(void)
{
	memset(&guest_tss, 0, sizeof(guest_tss));
	guest_tss.ss0 = GDT_KDATA;
	guest_tss.esp0 = (uint32_t)guest_stack0_top;
	guest_tss.ss1 = GDT_R1DATA | 1;
	guest_tss.esp1 = (uint32_t)guest_stack1_top;
	guest_tss.iomap = sizeof(guest_tss);	/* no I/O bitmap */
	tss_install(GDT_TSS, &guest_tss);
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
	idt_set(RING_EXIT_VECTOR, gate_desc(GDT_KCODE, (uint32_t)ring_exit, D_P | D_DPL(3) | D_INT32, 0));
}
