/*
 * echo: serial input with interrupts, the way a kernel's serial driver takes
 * it. COM1's receiver runs in FIFO mode with the 8-byte trigger Linux gives a
 * 16550A, received-data interrupts on (IER.ERBFI), IRQ 4 through the 8259A at
 * vector 0x24. The handler empties the FIFO while LSR.DR is set, so it serves
 * both a FIFO at its trigger level (IIR 0x04) and the character time-out of a
 * shorter tail (IIR 0x0C). By default no timer runs: between lines the guest
 * sleeps in STI;HLT and only input wakes it.
 *
 * Command line: wait=0 (default) HLT between lines; wait=1 spin with IF=1 at
 * CPL 0 instead (under bt: translated code that never halts), wait=3 spin at
 * CPL 3 (under bt: in a stub process). hz=N runs PIT channel 0 at N Hz with
 * its IRQ 0 acknowledged (Linux ticks at 250); hz=0 (default), no timer. The
 * output is the same in every mode: tests/run-all.sh runs them under bt, so
 * input must reach a busy guest with and without a timer tick.
 *
 * Each line comes back numbered, upper-cased, control characters as ^X; the
 * line "quit" ends the test with the line and byte counts and the overruns
 * seen (LSR.OE: none, since the host holds back what the FIFO cannot take).
 * Lines end at CR (a terminal's Enter) or LF; empty lines are skipped.
 *
 * Input that arrives before the driver is set up is lost, as on a real line
 * (the library's serial_init resets the FIFO, at a time the host cannot
 * know), so everything up to the first line end is discarded: the first line
 * of the input is a sync line.
 * References: PC16550D datasheet (FCR, IIR, LSR), 8259A datasheet.
 */
#include "lib/guest.h"

#define COM1		0x3F8
#define UART_RBR	0
#define UART_IER	1
#define UART_IIR	2
#define UART_FCR	2
#define UART_MCR	4
#define UART_LSR	5
#define IER_ERBFI	0x01
#define FCR_FIFO_TRIG8	0x81	/* FIFOs on, receive trigger 8; no reset */
#define MCR_DTR_RTS_OUT2 0x0B	/* OUT2 gates the UART's INTR onto the ISA bus on a PC */
#define LSR_DR		0x01
#define LSR_OE		0x02

#define PIC_BASE	0x20
#define IRQ_PIT		0
#define IRQ_COM1	4
#define VEC_PIT		(PIC_BASE + IRQ_PIT)
#define VEC_COM1	(PIC_BASE + IRQ_COM1)
#define VEC_SPURIOUS	(PIC_BASE + 7)

#define RING		4096	/* power of two */
#define LINE_MAX	256

/* Written by the interrupt handler (head), read by the main loop (tail). */
static volatile uint8_t ring[RING];
static volatile uint32_t head, tail;
static volatile uint32_t overruns, ring_full;

static int irq_hook(struct trap_frame *f)
{
	if (f->vector == VEC_SPURIOUS)
		return 1;	/* no EOI for a spurious IRQ 7 (8259A datasheet) */
	if (f->vector == VEC_PIT) {
		pic_eoi(IRQ_PIT);
		return 1;
	}
	if (f->vector != VEC_COM1)
		return 0;
	(void)inb(COM1 + UART_IIR);
	for (;;) {
		uint8_t lsr = inb(COM1 + UART_LSR);

		if (lsr & LSR_OE)
			overruns++;
		if (!(lsr & LSR_DR))
			break;
		if (head - tail == RING) {
			ring_full++;
			(void)inb(COM1 + UART_RBR);
			continue;
		}
		ring[head % RING] = inb(COM1 + UART_RBR);
		head++;
	}
	pic_eoi(IRQ_COM1);
	return 1;
}

static char line[LINE_MAX + 1];
static uint32_t len, lines, bytes;
static int synced;

/* Upper case, control characters as ^X. */
static void echo_line(void)
{
	char out[2 * LINE_MAX + 1];
	uint32_t n = 0;

	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)line[i];

		if (c < 0x20 || c == 0x7F) {
			out[n++] = '^';
			out[n++] = (char)(c ^ 0x40);
		} else {
			out[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
		}
	}
	out[n] = 0;
	guest_printf("echo: %u: %s\n", ++lines, out);
}

/* One byte of input; returns 1 once the line "quit" is complete. */
static int take(uint8_t c)
{
	int eol = c == '\r' || c == '\n';

	if (!synced) {
		synced = eol;
		return 0;
	}
	bytes++;
	if (!eol) {
		if (len < LINE_MAX)
			line[len++] = (char)c;
		return 0;
	}
	if (len == 0)
		return 0;
	line[len] = 0;
	if (len == 4 && memcmp(line, "quit", 4) == 0)
		return 1;
	echo_line();
	len = 0;
	return 0;
}

/* Busy waiting with IF=1, at CPL 0 or (through ring_call) 3. */
static uint32_t spin_until_input(void)
{
	while (head == tail)
		__asm__ volatile("pause" : : : "memory");
	return 0;
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t wait = guest_arg_u32("wait", 0), hz = guest_arg_u32("hz", 0);
	uint16_t unmasked = 1u << IRQ_COM1;
	int done = 0;

	(void)magic;
	(void)mbi;
	tss_init();
	pic_remap(PIC_BASE, PIC_BASE + 8);
	guest_trap_hook = irq_hook;
	if (hz) {
		pit_program(0, 2, (uint16_t)(PIT_HZ / hz));
		unmasked |= 1u << IRQ_PIT;
	}
	outb(COM1 + UART_FCR, FCR_FIFO_TRIG8);
	outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
	outb(COM1 + UART_IER, IER_ERBFI);
	pic_set_mask((uint16_t)~unmasked);
	guest_printf("echo: ready\n");
	while (!done) {
		__asm__ volatile("cli");
		while (!done && tail != head) {
			done = take(ring[tail % RING]);
			tail++;
		}
		if (done)
			break;
		if (wait == 0) {
			/* STI's one-instruction shadow keeps an interrupt that is
			 * already pending from slipping in before HLT unseen. */
			__asm__ volatile("sti; hlt");
		} else {
			__asm__ volatile("sti");
			if (wait == 3)
				ring_call(3, spin_until_input);
			else
				spin_until_input();
		}
	}
	pic_mask_all();
	guest_printf("echo: quit after %u lines, %u bytes, %u overruns, %u dropped\n", lines, bytes,
		     overruns, ring_full);
	return 0;
}
