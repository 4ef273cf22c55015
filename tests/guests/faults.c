/*
 * faults: exceptions raised in the middle of translation units must arrive at
 * the exact guest EIP with exactly the registers the guest would see (SDM
 * vol. 3, 6.5: faults report the faulting instruction, traps the next one).
 * Each case is a snippet with a label on the instruction expected to fault;
 * the handler prints the vector, error code, EIP relative to that label, the
 * general registers and the arithmetic flags, then resumes at a recovery label.
 */
#include "lib/guest.h"

extern char de_at[], de_resume[], ud_at[], ud_resume[], bp_after[], bp_resume[],
	swi_after[], swi_resume[], gp_at[], gp_resume[], ss_at[], ss_resume[],
	of_after[], of_resume[], br_at[], br_resume[], aam_at[], aam_resume[],
	idiv_at[], idiv_resume[], lock_at[], lock_resume[], df_at[], df_resume[],
	if_at[], if_resume[], sti_at[], sti_resume[];
void case_de(void), case_ud(void), case_bp(void), case_swi(void), case_gp(void),
	case_ss(void), case_of(void), case_br(void), case_aam(void), case_idiv(void),
	case_lock(void), case_df(void), case_if(void), case_sti(void);

/* Every snippet saves all registers, sets known values, faults, and the
 * handler sends it to its resume label, which restores and returns. */
__asm__(
	".text\n"
	/* Known values in every register the handler prints, and known flags (ZF PF:
	 * before, the caller's flags, hence the stack address, showed through). */
	".macro INIT\n"
	"  xorl %eax, %eax\n"
	"  movl $0xa0, %eax; movl $0xb0, %ebx; movl $0xc0, %ecx; movl $0xd0, %edx\n"
	"  movl $0x51, %esi; movl $0xd1, %edi; movl $0xb1, %ebp\n"
	".endm\n"
	"case_de: pushal; INIT\n"
	"  movl $0x11111111, %eax; movl $0x22222222, %ebx; movl $0x33333333, %ebp\n"
	"  movl $0x10, %esi; addl $5, %esi; pushl %esi; leal 4(%esi), %edi\n"
	"  xorl %edx, %edx; xorl %ecx, %ecx\n"
	"de_at: divl %ecx\n"
	"  movl $0xdead, %esi\n"
	"de_resume: popl %esi; popal; ret\n"

	"case_ud: pushal; INIT\n"
	"  movl $0x1234, %ecx; incl %ecx; pushl $0x55; pushl $0x66; stc\n"
	"ud_at: ud2\n"
	"ud_resume: addl $8, %esp; popal; ret\n"

	"case_bp: pushal; INIT\n"
	"  movl $7, %eax; subl $8, %eax\n"
	"  int3\n"
	"bp_after: movl $0xdead, %eax\n"
	"bp_resume: popal; ret\n"

	"case_swi: pushal; INIT\n"
	"  movl $0x7f000000, %edx; addl $0x01000000, %edx\n"
	"  int $0x41\n"
	"swi_after: nop\n"
	"swi_resume: popal; ret\n"

	"case_gp: pushal; INIT\n"
	"  movl $0xabc, %esi; movw $0x1234, %ax\n"
	"gp_at: movw %ax, %ds\n"
	"  movl $0xdead, %esi\n"
	"gp_resume: movw $0x10, %ax; movw %ax, %ds; popal; ret\n"

	"case_ss: pushal; INIT\n"
	"  xorl %eax, %eax\n"
	"ss_at: movw %ax, %ss\n"
	"ss_resume: popal; ret\n"

	"case_of: pushal; INIT\n"
	"  movl $0x7fffffff, %eax; addl $1, %eax\n"
	"  into\n"
	"of_after: nop\n"
	"of_resume: popal; ret\n"

	"case_br: pushal; INIT\n"
	"  pushl $20; pushl $10; movl $25, %ecx\n"
	"br_at: boundl %ecx, (%esp)\n"
	"br_resume: addl $8, %esp; popal; ret\n"

	"case_aam: pushal; INIT\n"
	"  movl $0x1234, %eax\n"
	"aam_at: aam $0\n"
	"aam_resume: popal; ret\n"

	"case_idiv: pushal; INIT\n"
	"  movl $0x80000000, %eax; cltd; movl $-1, %ebx\n"
	"idiv_at: idivl %ebx\n"
	"idiv_resume: popal; ret\n"

	"case_lock: pushal; INIT\n"
	"  movl $3, %ebx\n"
	"lock_at: .byte 0xf0, 0x90\n"	/* LOCK NOP: #UD */
	"lock_resume: popal; ret\n"

	"case_if: pushal; INIT\n"
	"  cli; movl $1, %ecx; xorl %edx, %edx\n"
	"if_at: divl %edx\n"
	"if_resume: popal; ret\n"

	"case_sti: pushal; INIT\n"
	"  sti; movl $2, %ecx; xorl %ebx, %ebx\n"
	"sti_at: divl %ebx\n"
	"sti_resume: cli; popal; ret\n"

	"case_df: pushal; INIT\n"
	"  movw $0x4321, %ax\n"
	"df_at: movw %ax, %fs\n"
	"df_resume: movw $0x10, %ax; movw %ax, %fs; popal; ret\n");

static uint32_t expect_at, resume_to;	/* labels of the current case */
static int got;

static int hook(struct trap_frame *f)
{
	guest_printf("  vector=%u error=0x%x eip=%s%d eflags=0x%03x (IF in 0x200)\n", f->vector, f->error,
		     "label+", (int)(f->eip - expect_at), f->eflags & 0xed5);
	guest_printf("  eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x\n",
		     f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
	got++;
	f->eip = resume_to;
	return 1;
}

static uint64_t *idt_base(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} d;
	__asm__ volatile("sidt %0" : "=m"(d));
	return (uint64_t *)d.base;
}

static void run(const char *name, void (*fn)(void), char *at, char *resume)
{
	guest_printf("%s:\n", name);
	expect_at = (uint32_t)at;
	resume_to = (uint32_t)resume;
	got = 0;
	fn();
	if (!got)
		guest_printf("  no exception\n");
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	guest_trap_hook = hook;
	run("divide error in mid-unit", case_de, de_at, de_resume);
	run("ud2 after stack ops", case_ud, ud_at, ud_resume);
	run("int3 is a trap", case_bp, bp_after, bp_resume);
	run("int 0x41", case_swi, swi_after, swi_resume);
	run("mov ds, selector past the GDT limit", case_gp, gp_at, gp_resume);
	run("mov ss, null selector", case_ss, ss_at, ss_resume);
	run("into with OF=1", case_of, of_after, of_resume);
	run("bound out of range", case_br, br_at, br_resume);
	run("aam 0", case_aam, aam_at, aam_resume);
	run("idiv overflow", case_idiv, idiv_at, idiv_resume);
	run("lock nop", case_lock, lock_at, lock_resume);
	run("fault after cli (IF in the pushed EFLAGS)", case_if, if_at, if_resume);
	pic_mask_all();	/* nothing may interrupt the STI case under the oracle */
	run("fault after sti", case_sti, sti_at, sti_resume);

	/* #GP while its gate is not present: #NP during #GP delivery is a
	 * double fault (SDM vol. 3, Table 6-5). */
	uint64_t *idt = idt_base();
	uint64_t gp_gate = idt[13];
	idt[13] &= ~(1ull << 47);
	run("double fault (#GP gate not present)", case_df, df_at, df_resume);
	idt[13] = gp_gate;
	guest_printf("faults: done\n");
	return 0;
}
