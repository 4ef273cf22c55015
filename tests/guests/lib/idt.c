/* A catch-all IDT: any exception or interrupt is reported on the serial port and ends the test. */
#include "guest.h"

#define GATE_INTR32	(D_P | D_INT32)	/* DPL 0 */

extern char guest_vectors[];
void guest_trap(struct trap_frame *f);

int (*guest_trap_hook)(struct trap_frame *f);

static uint64_t idt[256];

void idt_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} desc = { sizeof(idt) - 1, (uint32_t)idt };

	for (unsigned v = 0; v < 256; v++)
		idt_reset(v);
	__asm__ volatile("lidt %0" : : "m"(desc));
}

void idt_set(unsigned vec, uint64_t gate)
{
	idt[vec & 0xFF] = gate;
}

uint64_t idt_get(unsigned vec)
{
	return idt[vec & 0xFF];
}

void idt_reset(unsigned vec)
{
	idt_set(vec, gate_desc(GDT_KCODE, (uint32_t)guest_vectors + 16 * (vec & 0xFF), GATE_INTR32, 0));
}

void idt_set_handler(unsigned vec, void (*handler)(void), unsigned access)
{
	idt_set(vec, gate_desc(GDT_KCODE, (uint32_t)handler, access, 0));
}

void guest_trap(struct trap_frame *f)
{
	if (guest_trap_hook && guest_trap_hook(f))
		return;
	guest_printf("guest: unexpected vector %u error=0x%x eip=0x%08x cs=0x%x eflags=0x%08x\n",
		     f->vector, f->error, f->eip, f->cs, f->eflags);
	guest_printf("guest: eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x\n",
		     f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
	guest_exit(GUEST_EXIT_TRAP);
}

void idt_set_dpl(unsigned vec, unsigned dpl)
{
	idt_set(vec, (idt_get(vec) & ~(3ull << 45)) | (uint64_t)(dpl & 3) << 45);
}
