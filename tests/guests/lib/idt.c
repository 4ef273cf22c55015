/* A catch-all IDT: any exception or interrupt is reported on the serial port and ends the test. */
#include "guest.h"

#define KERNEL_CS	0x08
#define GATE_INTR32	0x8E	/* present, DPL 0, 32-bit interrupt gate */

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

	for (int v = 0; v < 256; v++) {
		uint32_t handler = (uint32_t)guest_vectors + 16 * v;

		idt[v] = (handler & 0xFFFF) | (uint32_t)KERNEL_CS << 16 |
			 (uint64_t)GATE_INTR32 << 40 | (uint64_t)(handler >> 16) << 48;
	}
	__asm__ volatile("lidt %0" : : "m"(desc));
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
