/*
 * intshadow: exactly where a pending external interrupt is taken (SDM vol. 3,
 * 6.8.3 "Masking Exceptions and Interrupts When Switching Stacks", vol. 2 STI,
 * POPF, IRET, HLT). An IRQ 0 is made pending while IF=0 by running PIT channel
 * 0 in mode 0 with a tiny count (one rising edge of OUT) and polling the PIC's
 * IRR; the handler records the return EIP, which each case compares with a
 * label. Then the MOV SS shadow for single-step traps.
 */
#include "lib/guest.h"

#define VEC_IRQ0	0x20
#define F_TF		0x100
#define SPIN_LIMIT	10000000u

/* Each case: pushal, make sure IF=0, run, cli, popal. Counters show how far it got. */
__asm__(
	".text\n"
	/* STI; the instruction after it still runs with interrupts blocked. */
	"case_sti: pushal\n"
	"  sti\n"
	"sti_a: incl counter_a\n"
	"sti_b: incl counter_b\n"
	"sti_c: cli; popal; ret\n"
	/* STI; HLT: the HLT is in the shadow; the interrupt ends it. */
	"case_hlt: pushal\n"
	"  sti\n"
	"hlt_at: hlt\n"
	"hlt_next: cli; popal; ret\n"
	/* POPF that sets IF: no shadow, the interrupt comes before the next instruction. */
	"case_popf: pushal\n"
	"  pushl $0x202\n"
	"  popfl\n"
	"popf_next: incl counter_a\n"
	"  cli; popal; ret\n"
	/* IRET that sets IF: taken before the first instruction at the target. */
	"case_iret: pushal\n"
	"  pushl $0x202; pushl $8; pushl $iret_target\n"
	"  iret\n"
	"iret_target: incl counter_a\n"
	"  cli; popal; ret\n"
	/* CLI: a pending interrupt stays pending through any number of instructions. */
	"case_cli: pushal\n"
	"  cli\n"
	"  incl counter_a; incl counter_a; incl counter_a; nop; nop\n"
	"  popal; ret\n"
	/*
	 * Single step over MOV SS: TF set by POPF traps after the instruction
	 * after POPF (ss_1); MOV SS blocks debug traps for one instruction, so the
	 * next trap comes after the instruction following it (ss_3), none at ss_2
	 * (SDM vol. 3, 6.8.3; vol. 2, MOV: "... will not be recognized until the
	 * instruction following ... executes").
	 */
	"case_movss: pushal\n"
	"  movw %ss, %ax\n"
	"  pushl $0x102\n"
	"  popfl\n"
	"ss_1: nop\n"
	"ss_2: movw %ax, %ss\n"
	"ss_3: nop\n"
	"ss_4: nop\n"
	"  popal; ret\n"
	".data\n"
	".globl counter_a, counter_b\n"
	"counter_a: .long 0\n"
	"counter_b: .long 0\n"
	".text\n");

void case_sti(void), case_hlt(void), case_popf(void), case_iret(void), case_cli(void),
	case_movss(void);
extern char sti_a[], sti_b[], sti_c[], hlt_at[], hlt_next[], popf_next[], iret_target[],
	ss_1[], ss_2[], ss_3[], ss_4[];
extern volatile uint32_t counter_a, counter_b;

static volatile uint32_t irqs, irq_eip, snap_a, snap_b;
static volatile uint32_t db_hits, db_eip[4];

static int hook(struct trap_frame *f)
{
	if (f->vector == VEC_IRQ0) {
		irqs++;
		irq_eip = f->eip;
		snap_a = counter_a;
		snap_b = counter_b;
		pic_eoi(0);
		return 1;
	}
	if (f->vector == 1) {
		if (db_hits < 4)
			db_eip[db_hits] = f->eip;
		db_hits++;
		if (f->eip == (uint32_t)ss_4)
			f->eflags &= ~F_TF;
		return 1;
	}
	return 0;
}

/* Channel 0, mode 0: OUT rises once after count clocks; wait for it in IRR. */
static int pend_irq0(uint16_t count)
{
	pit_program(0, 0, count);
	for (uint32_t i = 0; i < SPIN_LIMIT; i++)
		if (pic_read_irr() & 1)
			return 1;
	return 0;
}

static void reset(void)
{
	irqs = 0;
	irq_eip = 0;
	counter_a = counter_b = 0;
	snap_a = snap_b = ~0u;
}

static void check_eip(const char *what, char *label)
{
	check(what, irq_eip - (uint32_t)label, 0);
}

/* Runs fn with IRQ 0 pending already (pending) or due in 1 ms; one IRQ must return to label. */
static void run_pending(const char *what, void (*fn)(void), char *label, int pending)
{
	reset();
	if (pending)
		pend_irq0(10);
	else
		pit_program(0, 0, 1193);
	fn();
	guest_printf("intshadow: %s:\n", what);
	check("  IRQs taken", irqs, 1);
	check_eip("  return EIP - label", label);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("intshadow");
	pic_remap(0x20, 0x28);
	guest_trap_hook = hook;
	pic_set_mask(0xFFFE);

	reset();
	check("IRQ 0 pending in IRR with IF=0", pend_irq0(10), 1);
	case_cli();
	check("CLI: pending IRQ not taken", irqs, 0);
	check("  still pending in IRR", pic_read_irr() & 1, 1);
	counter_a = counter_b = 0;

	case_sti();
	check("STI: IRQs taken", irqs, 1);
	check_eip("STI: return EIP - label after the one shadowed instruction", sti_b);
	check("  counter_a when the IRQ came", snap_a, 1);
	check("  counter_b when the IRQ came", snap_b, 0);

	run_pending("STI;HLT with an IRQ pending", case_hlt, hlt_next, 1);
	run_pending("STI;HLT, IRQ 1 ms later", case_hlt, hlt_next, 0);
	run_pending("POPF IF=1, right after POPF", case_popf, popf_next, 1);
	check("  counter_a when the IRQ came", snap_a, 0);
	run_pending("IRET IF=1, at the IRET target", case_iret, iret_target, 1);
	check("  counter_a when the IRQ came", snap_a, 0);

	pic_mask_all();
	db_hits = 0;
	case_movss();
	check("MOV SS under TF: first #DB EIP - ss_2 (after the NOP after POPF)",
	      db_eip[0] - (uint32_t)ss_2, 0);
	check("  second #DB EIP - ss_4 (after the instruction after MOV SS)",
	      db_eip[1] - (uint32_t)ss_4, 0);
	check("  #DB count", db_hits, 2);
	return check_done();
}
