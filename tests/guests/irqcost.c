/*
 * irqcost: a benchmark, not a test (no .expect): what an interrupt costs.
 * (a) INT n to an empty ring-0 interrupt-gate handler and its IRET, iters=N
 *     times (default 1000000);
 * (b) PIT-driven IRQ 0 (mode 2, count=C, default 119, about 10 kHz) to an
 *     assembly handler that counts and sends EOI: the cycles a fixed busy loop
 *     loses to irqs=K interrupts (default 10000), per interrupt.  On a host
 *     that is itself a VM this is dominated by the host's timer interrupts
 *     (both for bt and for QEMU) and is noisy.
 * (c) an external interrupt without any timer: the UART's THRE interrupt
 *     (IRQ 4), raised by re-enabling IER.ETBEI with THR empty, taken by a
 *     handler that reads IIR (clearing it), sends EOI and IRETs; the cost
 *     per interrupt is the loop's time minus the same loop with IRQ 4
 *     masked at the PIC (iters=N loops).
 * Cycles come from RDTSC; the TSC rate is measured against PIT channel 2 so
 * that nanoseconds can be compared between bt and QEMU.
 */
#include "lib/guest.h"

#define VEC_EMPTY	0x90
#define VEC_IRQ0	0x20
#define VEC_IRQ4	0x24
#define COM1_IER	0x3F9
#define IER_ETBEI	0x02

__asm__(
	".text\n"
	"empty_handler: iret\n"
	"irq0_handler: incl irq_count\n"
	"  pushl %eax; movb $0x20, %al; outb %al, $0x20; popl %eax\n"
	"  iret\n"
	"irq4_handler: pushl %eax; pushl %edx\n"
	"  movw $0x3fa, %dx; inb %dx, %al\n"	/* IIR: clears the THRE interrupt */
	"  movb $0x20, %al; outb %al, $0x20\n"
	"  incl irq_count\n"
	"  popl %edx; popl %eax\n"
	"  iret\n");
void empty_handler(void), irq0_handler(void), irq4_handler(void);
volatile uint32_t irq_count;

/* The busy loop interrupts steal time from. */
static void spin(uint32_t n)
{
	for (volatile uint32_t i = 0; i < n; i = i + 1)
		;
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t iters = guest_arg_u32("iters", 1000000);
	uint32_t irqs = guest_arg_u32("irqs", 10000);
	uint32_t count = guest_arg_u32("count", 119);
	uint32_t per_ms, spins, got;
	uint64_t t0, quiet, busy;

	(void)magic;
	(void)mbi;
	pic_remap(0x20, 0x28);
	per_ms = pit_tsc_per_ms();
	guest_printf("irqcost: TSC %u kHz\n", per_ms);

	idt_set_handler(VEC_EMPTY, empty_handler, D_P | D_INT32);
	t0 = rdtsc();
	for (uint32_t i = 0; i < iters; i++)
		__asm__ volatile("int %0" : : "i"(VEC_EMPTY));
	busy = (rdtsc() - t0) / (iters ? iters : 1);
	guest_printf("irqcost: INT n + IRET: iters=%u %u cycles/op %u ns/op\n", iters,
		     (uint32_t)busy, tsc_ns(busy, per_ms));

	/* Calibrate a spin loop that lasts about irqs interrupt periods, interrupts off. */
	spins = 1000000;
	t0 = rdtsc();
	spin(spins);
	quiet = rdtsc() - t0;
	uint64_t want = (uint64_t)irqs * count * per_ms / (PIT_HZ / 1000);
	spins = (uint32_t)(quiet ? (uint64_t)spins * want / quiet : spins);
	t0 = rdtsc();
	spin(spins);
	quiet = rdtsc() - t0;

	/* (c) UART THRE interrupts: the loop with IRQ 4 masked, then unmasked. */
	idt_set_handler(VEC_IRQ4, irq4_handler, D_P | D_INT32);
	uint64_t masked, taken;
	irq_count = 0;
	pic_set_mask(0xFFFF);
	__asm__ volatile("sti");
	t0 = rdtsc();
	for (uint32_t i = 0; i < iters; i++) {
		outb(COM1_IER, 0);
		outb(COM1_IER, IER_ETBEI);
	}
	masked = rdtsc() - t0;
	pic_set_mask(0xFFEF);
	t0 = rdtsc();
	for (uint32_t i = 0; i < iters; i++) {
		outb(COM1_IER, 0);
		outb(COM1_IER, IER_ETBEI);
	}
	taken = rdtsc() - t0;
	__asm__ volatile("cli");
	outb(COM1_IER, 0);
	pic_mask_all();
	got = irq_count;
	guest_printf("irqcost: UART IRQ 4: %u interrupts in %u loops\n", got, iters);
	if (got && taken > masked) {
		uint64_t per = (taken - masked) / got;

		guest_printf("irqcost: IRQ 4 + IIR read + EOI + IRET: %u cycles/irq %u ns/irq\n",
			     (uint32_t)per, tsc_ns(per, per_ms));
	}

	idt_set_handler(VEC_IRQ0, irq0_handler, D_P | D_INT32);
	irq_count = 0;
	pit_program(0, 2, (uint16_t)count);
	pic_set_mask(0xFFFE);
	__asm__ volatile("sti");
	t0 = rdtsc();
	spin(spins);
	busy = rdtsc() - t0;
	__asm__ volatile("cli");
	got = irq_count;
	pic_mask_all();
	guest_printf("irqcost: PIT IRQ 0, count=%u: %u interrupts in %u ms of spinning\n", count,
		     got, tsc_ns(busy, per_ms) / 1000000);
	if (got && busy > quiet) {
		uint64_t per = (busy - quiet) / got;

		guest_printf("irqcost: IRQ 0 + EOI + IRET: %u cycles/irq %u ns/irq\n",
			     (uint32_t)per, tsc_ns(per, per_ms));
	} else {
		guest_printf("irqcost: IRQ 0: no measurable cost (%u interrupts)\n", got);
	}
	return 0;
}
