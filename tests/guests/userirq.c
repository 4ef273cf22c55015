/*
 * userirq: device interrupts that arrive while ring-3 code runs (SDM vol. 3,
 * 6.12.1: through an interrupt gate to ring 0, with the stack switch to
 * SS0:ESP0 and the ring-3 SS:ESP in the frame).  Under bt ring-3 code runs
 * directly in a stub process, so each of these is a kick: the monitor stops
 * the stub at the PIT's deadline and delivers IRQ 0 into the guest kernel.
 * The ring-3 loop spins until the kernel's tick count reaches TICKS, so it
 * ends only if interrupts really reach it; the handler checks that it
 * interrupted ring 3 and that the ring-3 registers survive.
 */
#include "lib/guest.h"

#define TICKS		50
#define VEC_IRQ0	0x20
#define COUNT_1KHZ	1193

volatile uint32_t ticks, from_ring3, bad_frames;

/* IRQ 0: count, note where it came from (the CS in the frame), EOI. */
__asm__(".text\n"
	"irq0_entry:\n"
	"  pushl %eax\n"
	"  incl ticks\n"
	"  movl 8(%esp), %eax\n"		/* CS of the interrupted code */
	"  andl $3, %eax\n"
	"  cmpl $3, %eax\n"
	"  jne 1f\n"
	"  incl from_ring3\n"
	"  movl 20(%esp), %eax\n"		/* SS of the interrupted code */
	"  andl $3, %eax\n"
	"  cmpl $3, %eax\n"
	"  je 1f\n"
	"  incl bad_frames\n"
	"1: movb $0x20, %al\n"
	"  outb %al, $0x20\n"
	"  popl %eax\n"
	"  iret\n");
void irq0_entry(void);

/* Ring 3: spin until TICKS interrupts were counted, with registers that
 * must come back intact; returns how many register checks failed. */
static uint32_t spin3(void)
{
	uint32_t bad = 0;

	__asm__ volatile("movl $0x11111111, %%ebx\n"
			 "movl $0x22222222, %%ecx\n"
			 "movl $0x33333333, %%edx\n"
			 "movl $0x44444444, %%esi\n"
			 "movl $0x55555555, %%edi\n"
			 "1: cmpl %[n], ticks\n"
			 "jb 1b\n"
			 "cmpl $0x11111111, %%ebx; setne %%al; movzbl %%al, %%eax; addl %%eax, %[bad]\n"
			 "cmpl $0x22222222, %%ecx; setne %%al; movzbl %%al, %%eax; addl %%eax, %[bad]\n"
			 "cmpl $0x33333333, %%edx; setne %%al; movzbl %%al, %%eax; addl %%eax, %[bad]\n"
			 "cmpl $0x44444444, %%esi; setne %%al; movzbl %%al, %%eax; addl %%eax, %[bad]\n"
			 "cmpl $0x55555555, %%edi; setne %%al; movzbl %%al, %%eax; addl %%eax, %[bad]\n"
			 : [bad] "+m"(bad)
			 : [n] "i"(TICKS)
			 : "eax", "ebx", "ecx", "edx", "esi", "edi", "cc", "memory");
	return bad;
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("userirq");
	tss_init();
	pic_remap(0x20, 0x28);
	idt_set_handler(VEC_IRQ0, irq0_entry, D_P | D_INT32);
	pit_program(0, 2, COUNT_1KHZ);
	pic_set_mask(0xFFFE);
	ring_iopl = 0;
	__asm__ volatile("sti");
	uint32_t bad = ring_call(3, spin3);
	__asm__ volatile("cli");
	pic_mask_all();
	check("ring-3 registers changed by interrupts", bad, 0);
	check_range("ticks counted before ring 3 finished", ticks, TICKS, TICKS + 5);
	check_range("ticks taken from ring 3", from_ring3, TICKS - 5, TICKS + 5);
	check("frames from ring 3 without the ring-3 SS", bad_frames, 0);
	return check_done();
}
