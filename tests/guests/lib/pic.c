/* 8259A pair: remapping (ICW1-4), masks (OCW1), EOI (OCW2), IRR/ISR reads (OCW3). */
#include "guest.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xA0
#define PIC2_DATA	0xA1

#define ICW1_INIT_ICW4	0x11	/* edge triggered, cascade, ICW4 follows */
#define ICW4_8086	0x01
#define OCW2_EOI	0x20	/* non-specific EOI */
#define OCW3_READ_IRR	0x0A
#define OCW3_READ_ISR	0x0B

void pic_mask_all(void)
{
	pic_set_mask(0xFFFF);
}

void pic_remap(uint8_t base1, uint8_t base2)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, base1);		/* ICW2: vector base */
	outb(PIC2_DATA, base2);
	outb(PIC1_DATA, 1 << 2);	/* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 2);		/* ICW3: slave identity */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	pic_mask_all();
}

void pic_set_mask(uint16_t mask)
{
	outb(PIC1_DATA, (uint8_t)mask);	/* OCW1: interrupt mask register */
	outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}

uint16_t pic_read_irr(void)
{
	outb(PIC1_CMD, OCW3_READ_IRR);
	outb(PIC2_CMD, OCW3_READ_IRR);
	return inb(PIC1_CMD) | (uint16_t)inb(PIC2_CMD) << 8;
}

uint16_t pic_read_isr(void)
{
	uint16_t v;

	outb(PIC1_CMD, OCW3_READ_ISR);
	outb(PIC2_CMD, OCW3_READ_ISR);
	v = inb(PIC1_CMD) | (uint16_t)inb(PIC2_CMD) << 8;
	outb(PIC1_CMD, OCW3_READ_IRR);	/* back to the power-on read selection */
	outb(PIC2_CMD, OCW3_READ_IRR);
	return v;
}
