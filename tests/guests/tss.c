/*
 * tss: the task-state segment (SDM vol. 3, chapter 7 "Task Management", 6.12
 * "Exception and Interrupt Handling"). LTR and the busy bit; an interrupt from
 * ring 1 switching to SS0:ESP0 and the IRET back (which nulls data segment
 * registers the outer ring may not use); hardware task switches by JMP and CALL
 * to a TSS and the IRET with NT=1 that returns; a #DF handled by a task gate
 * (as Linux i386 does); and the faults of bad task switches.
 */
#include "lib/guest.h"

#define S_TSS_A		0x40	/* LTR test */
#define S_TSS_B		0x48	/* JMP target */
#define S_TSS_C		0x50	/* CALL target */
#define S_TSS_D		0x58	/* #DF task */
#define S_TSS_SHORT	0x60	/* limit 0x50 < 0x67 */
#define S_TSS_NP	0x68	/* not present */
#define S_LDT		0x70
#define S_CONF0		0x78	/* conforming readable code, DPL 0 */

#define F_IF		0x200
#define F_NT		0x4000
#define VEC_R1_INT	0x81	/* DPL 1 interrupt gate */
#define VEC_R1_TRAP	0x82	/* DPL 1 trap gate */
#define TASK_STACK	4096

static struct tss32 tss_a, tss_b, tss_c, tss_d, tss_short;
static char stack_b[TASK_STACK], stack_c[TASK_STACK], stack_d[TASK_STACK];
static uint64_t ldt[1];

static unsigned type_of(uint16_t sel)
{
	return (unsigned)(gdt_get(sel) >> 40) & 0xF;
}

__asm__(".text\n"
	"try_ltr: movl 4(%esp), %eax\n"
	"ltr_at: ltr %ax\n"
	"ltr_res: ret\n");
void try_ltr(uint32_t sel);
extern char ltr_at[], ltr_res[];

static void ltr_checks(void)
{
	check("lib TSS type after LTR (busy)", type_of(GDT_TSS), D_TSS32_BUSY);
	tss_install(S_TSS_A, &tss_a);
	check("TSS A type before LTR (available)", type_of(S_TSS_A), D_TSS32);
	__asm__ volatile("ltr %w0" : : "r"(S_TSS_A));
	check("STR after LTR A", read_tr(), S_TSS_A);
	check("TSS A type after LTR (busy)", type_of(S_TSS_A), D_TSS32_BUSY);
	check("lib TSS still busy (LTR leaves the old one)", type_of(GDT_TSS), D_TSS32_BUSY);

	static const struct {
		const char *what;
		uint16_t sel;
		uint32_t vector;
	} bad[] = {
		{ "LTR of a busy TSS", S_TSS_A, 13 },
		{ "LTR of an LDT descriptor", S_LDT, 13 },
		{ "LTR of a not-present TSS", S_TSS_NP, 11 },
		/*
		 * XXX: no "LTR of a null selector": SDM vol. 2, LTR, #GP(0), but
		 * QEMU 7.2 loads a null TR without a fault.
		 */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		trap_catch((uint32_t)ltr_res);
		try_ltr(bad[i].sel);
		trap_uncatch();
		guest_printf("tss: %s (0x%02x):\n", bad[i].what, bad[i].sel);
		check("  vector", trap_seen.vector, bad[i].vector);
		check("  error code", trap_seen.error, bad[i].sel);
		check("  EIP - label", trap_seen.eip - (uint32_t)ltr_at, 0);
	}
	/* Back to the lib's TSS: make it available again, as LTR wants. */
	gdt_set(GDT_TSS, gdt_get(GDT_TSS) & ~(2ull << 40));
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
	check("STR after LTR of the lib TSS again", read_tr(), GDT_TSS);
}

/*
 * Ring 1 -> ring 0 through DPL 1 gates. The handlers record the frame and their
 * ESP, load ES with a DPL 0 segment, FS with a DPL 1 one and GS with a DPL 0
 * conforming code segment, then IRET. IRET to ring 1 nulls ES only (SDM vol. 2,
 * IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL: data or non-conforming code with
 * DPL < CPL).
 */
__asm__(
	".text\n"
	".macro R1_HANDLER name\n"
	"\\name:\n"
	"  movl %esp, h_esp\n"
	"  pushl %eax\n"
	"  pushfl; popl h_eflags\n"
	"  movl 4(%esp), %eax; movl %eax, h_frame\n"
	"  movl 8(%esp), %eax; movl %eax, h_frame + 4\n"
	"  movl 12(%esp), %eax; movl %eax, h_frame + 8\n"
	"  movl 16(%esp), %eax; movl %eax, h_frame + 12\n"
	"  movl 20(%esp), %eax; movl %eax, h_frame + 16\n"
	"  movw %ss, %ax; movzwl %ax, %eax; movl %eax, h_ss\n"
	"  movw $0x10, %ax; movw %ax, %es\n"
	"  movw $0x21, %ax; movw %ax, %fs\n"
	"  movw $0x78, %ax; movw %ax, %gs\n"
	"  popl %eax\n"
	"  iret\n"
	".endm\n"
	"R1_HANDLER r1_int_handler\n"
	"R1_HANDLER r1_trap_handler\n"
	".macro R1_CALLER name vec\n"
	"\\name: pushl %ebx\n"
	"  pushfl; popl c_eflags\n"
	"  movl %esp, c_esp\n"
	"  int $\\vec\n"
	"\\name\\()_ret: movl %esp, c_esp_after\n"
	"  movw %es, %ax; movzwl %ax, %eax; movl %eax, c_es\n"
	"  movw %fs, %ax; movzwl %ax, %eax; movl %eax, c_fs\n"
	"  movw %gs, %ax; movzwl %ax, %eax; movl %eax, c_gs\n"
	"  movw %ds, %ax; movzwl %ax, %eax; movl %eax, c_ds\n"
	"  movw $0x21, %ax; movw %ax, %es; movw %ax, %gs\n"
	"  popl %ebx; ret\n"
	".endm\n"
	"R1_CALLER r1_int 0x81\n"
	"R1_CALLER r1_trap 0x82\n");
void r1_int_handler(void), r1_trap_handler(void);
uint32_t r1_int(void), r1_trap(void);
extern char r1_int_ret[], r1_trap_ret[];
uint32_t h_esp, h_eflags, h_frame[5], h_ss, c_eflags, c_esp, c_esp_after, c_es, c_fs, c_gs, c_ds;

static void ring1_interrupt(const char *name, uint32_t (*fn)(void), char *ret, uint32_t if_in_handler)
{
	guest_printf("tss: %s from ring 1:\n", name);
	ring_call(1, fn);
	check("  handler SS", h_ss, GDT_KDATA);
	check("  handler ESP = ESP0 - 20", (uint32_t)guest_stack0_top - h_esp, 20);
	check("  pushed EIP - return label", h_frame[0] - (uint32_t)ret, 0);
	check("  pushed CS", h_frame[1] & 0xFFFF, GDT_R1CODE | 1);
	check("  pushed EFLAGS = EFLAGS before INT", h_frame[2] - c_eflags, 0);
	check("  pushed ESP = ESP before INT", h_frame[3] - c_esp, 0);
	check("  pushed SS", h_frame[4] & 0xFFFF, GDT_R1DATA | 1);
	check("  IF in the handler", h_eflags & F_IF, if_in_handler);
	check("  ESP after IRET", c_esp_after - c_esp, 0);
	check("  ES after IRET (DPL 0 data: nulled)", c_es, 0);
	check("  FS after IRET (DPL 1 data: kept)", c_fs, GDT_R1DATA | 1);
	check("  GS after IRET (conforming code: kept)", c_gs, S_CONF0);
	check("  DS after IRET (unchanged)", c_ds, GDT_R1DATA | 1);
}

/*
 * Tasks. B is entered by JMP and JMPs back; C is entered by CALL and returns
 * with IRET (NT=1); D handles #DF through a task gate. Each records what it
 * sees, and loops so it can be entered again.
 */
__asm__(
	".text\n"
	"task_b:\n"
	"  movl %eax, b_regs; movl %ebx, b_regs + 4; movl %ecx, b_regs + 8\n"
	"  movl %edx, b_regs + 12; movl %esi, b_regs + 16; movl %edi, b_regs + 20\n"
	"  movl %ebp, b_regs + 24\n"
	"  str b_tr\n"
	"  pushfl; popl b_eflags\n"
	"  movl $0xbbbb0001, %eax\n"
	"  ljmp $0x38, $0\n"
	"  jmp task_b\n"
	"task_c:\n"
	"  str c_tr\n"
	"  pushfl; popl c_task_eflags\n"
	"  movl $0xcccc0001, %eax\n"
	"  iret\n"
	"  jmp task_c\n"
	"task_d:\n"
	"  popl d_error\n"
	"  str d_tr\n"
	"  pushfl; popl d_eflags\n"
	"  call df_fixup\n"
	"  iret\n"
	"  jmp task_d\n"
	/* The JMP and CALL to tasks, with known registers around them. */
	"jmp_to_b: pushal\n"
	"  movl $0x0a0a0a0a, %eax; movl $0x0b0b0b0b, %ebx; movl $0x0c0c0c0c, %ecx\n"
	"  movl $0x0d0d0d0d, %edx; movl $0x05050505, %esi; movl $0x0d1d1d1d, %edi\n"
	"  movl $0x0b1b1b1b, %ebp\n"
	"  ljmp $0x48, $0\n"
	"jmp_to_b_ret: movl %eax, back_regs; movl %ebx, back_regs + 4; movl %ebp, back_regs + 8\n"
	"  popal; ret\n"
	"call_c: pushal\n"
	"  movl $0x0a0a0a0a, %eax; movl $0x0c0c0c0c, %ebx\n"
	"  lcall $0x50, $0\n"
	"call_c_ret: movl %eax, back_regs; movl %ebx, back_regs + 4\n"
	"  pushfl; popl back_eflags\n"
	"  popal; ret\n"
	"cause_df: pushal\n"
	"  movl $0x0df0df00, %ebx; movl $0x3f8, %eax\n"
	"df_at: movw %ax, %ds\n"
	"df_resume: movl %ebx, back_regs + 4\n"
	"  popal; ret\n"
	/* Faulting task switches, resumed by the catch-all at *_res. */
	"bad_jmp_short: ljmp $0x60, $0\n"
	"bad_jmp_short_res: ret\n"
	"bad_jmp_busy: ljmp $0x38, $0\n"
	"bad_jmp_busy_res: ret\n"
	"bad_call_np: lcall $0x68, $0\n"
	"bad_call_np_res: ret\n");
void task_b(void), task_c(void), task_d(void), jmp_to_b(void), call_c(void), cause_df(void),
	bad_jmp_short(void), bad_jmp_busy(void), bad_call_np(void);
extern char jmp_to_b_ret[], call_c_ret[], df_at[], df_resume[], bad_jmp_short_res[],
	bad_jmp_busy_res[], bad_call_np_res[];
uint32_t b_regs[7], b_eflags, c_task_eflags, d_error, d_eflags, back_regs[3], back_eflags;
uint16_t b_tr, c_tr, d_tr;
static uint16_t d_link;
static uint32_t d_saved_ebx, d_saved_eax;

static void init_task(struct tss32 *t, void (*entry)(void), char *stack_top)
{
	memset(t, 0, sizeof(*t));
	t->eip = (uint32_t)entry;
	t->eflags = 0x2;
	t->esp = (uint32_t)stack_top;
	t->cs = GDT_KCODE;
	t->ss = t->ds = t->es = t->fs = t->gs = GDT_KDATA;
	t->iomap = sizeof(*t);
}

static void task_jmp(void)
{
	init_task(&tss_b, task_b, stack_b + TASK_STACK);
	tss_b.eax = 0x1111aaaa;
	tss_b.ebx = 0x2222bbbb;
	tss_b.ecx = 0x3333cccc;
	tss_b.edx = 0x4444dddd;
	tss_b.esi = 0x5555eeee;
	tss_b.edi = 0x6666ffff;
	tss_b.ebp = 0x77770000;
	tss_install(S_TSS_B, &tss_b);
	jmp_to_b();
	check("JMP to TSS B: B's EAX loaded from its TSS", b_regs[0], 0x1111aaaa);
	check("  EBX", b_regs[1], 0x2222bbbb);
	check("  ECX", b_regs[2], 0x3333cccc);
	check("  EDX", b_regs[3], 0x4444dddd);
	check("  ESI", b_regs[4], 0x5555eeee);
	check("  EDI", b_regs[5], 0x6666ffff);
	check("  EBP", b_regs[6], 0x77770000);
	check("  TR in B", b_tr, S_TSS_B);
	check("  NT in B (JMP does not nest)", b_eflags & F_NT, 0);
	check("  B's link field untouched", tss_b.link, 0);
	check("old TSS: saved EIP - label after the JMP", guest_tss.eip - (uint32_t)jmp_to_b_ret, 0);
	check("  saved EAX", guest_tss.eax, 0x0a0a0a0a);
	check("  saved EBX", guest_tss.ebx, 0x0b0b0b0b);
	check("  saved ECX", guest_tss.ecx, 0x0c0c0c0c);
	check("  saved EDX", guest_tss.edx, 0x0d0d0d0d);
	check("  saved ESI", guest_tss.esi, 0x05050505);
	check("  saved EDI", guest_tss.edi, 0x0d1d1d1d);
	check("  saved EBP", guest_tss.ebp, 0x0b1b1b1b);
	check("  saved CS", guest_tss.cs, GDT_KCODE);
	check("  saved DS", guest_tss.ds, GDT_KDATA);
	check("back by JMP: EAX, EBX, EBP restored from the old TSS",
	      back_regs[0] == 0x0a0a0a0a && back_regs[1] == 0x0b0b0b0b && back_regs[2] == 0x0b1b1b1b, 1);
	check("  B's TSS: saved EAX", tss_b.eax, 0xbbbb0001);
	check("  TR", read_tr(), GDT_TSS);
	check("  B's descriptor available again", type_of(S_TSS_B), D_TSS32);
	check("  lib TSS busy again", type_of(GDT_TSS), D_TSS32_BUSY);
}

static void task_call(void)
{
	init_task(&tss_c, task_c, stack_c + TASK_STACK);
	tss_install(S_TSS_C, &tss_c);
	for (int round = 1; round <= 2; round++) {
		guest_printf("tss: CALL to TSS C, round %d:\n", round);
		call_c();
		check("  TR in C", c_tr, S_TSS_C);
		check("  NT in C", c_task_eflags & F_NT, F_NT);
		check("  C's link field = caller's TSS", tss_c.link, GDT_TSS);
		check("  after IRET: TR", read_tr(), GDT_TSS);
		check("  EAX, EBX restored from the caller's TSS",
		      back_regs[0] == 0x0a0a0a0a && back_regs[1] == 0x0c0c0c0c, 1);
		check("  caller's NT", back_eflags & F_NT, 0);
		check("  C's descriptor available again", type_of(S_TSS_C), D_TSS32);
		check("  C's saved EAX", tss_c.eax, 0xcccc0001);
		check("  C's saved NT cleared by the IRET (Table 7-2)", tss_c.eflags & F_NT, 0);
	}
}

/* Runs in task D: points the interrupted task past the fault and repairs the IDT. */
static uint64_t gp_gate;

void df_fixup(void);
void df_fixup(void)
{
	d_link = tss_d.link;
	d_saved_ebx = guest_tss.ebx;
	d_saved_eax = guest_tss.eax;
	guest_tss.eip = (uint32_t)df_resume;
	idt_set(13, gp_gate);
}

/*
 * #GP whose gate is not present: #NP while delivering it, contributory twice:
 * #DF (SDM vol. 3, Table 6-5), here through a task gate to TSS D. The old
 * task's state goes to its TSS; its saved EIP is undefined for #DF (6.15,
 * interrupt 8) and is not checked.
 */
static void double_fault_task(void)
{
	uint64_t df_gate = idt_get(8);

	init_task(&tss_d, task_d, stack_d + TASK_STACK);
	tss_install(S_TSS_D, &tss_d);
	idt_set(8, gate_desc(S_TSS_D, 0, D_P | D_TASK, 0));
	gp_gate = idt_get(13);
	idt_set(13, gp_gate & ~(1ull << 47));
	cause_df();
	idt_set(8, df_gate);
	check("#DF through a task gate: error code on the new task's stack", d_error, 0);
	check("  TR in the #DF task", d_tr, S_TSS_D);
	check("  NT in the #DF task", d_eflags & F_NT, F_NT);
	check("  link field = interrupted task", d_link, GDT_TSS);
	check("  interrupted task's saved EAX", d_saved_eax, 0x3f8);
	check("  interrupted task's saved EBX", d_saved_ebx, 0x0df0df00);
	check("back after IRET: EBX", back_regs[1], 0x0df0df00);
	check("  TR", read_tr(), GDT_TSS);
	check("  #DF task's descriptor available again", type_of(S_TSS_D), D_TSS32);
}

/* Task switches that fault before anything changes (SDM vol. 3, 7.3 steps 1-4). */
static void bad_switches(void)
{
	static const struct {
		const char *what;
		void (*fn)(void);
		char *res;
		uint32_t vector, error;
	} t[] = {
		{ "JMP to a TSS with limit 0x50 < 0x67: #TS", bad_jmp_short, bad_jmp_short_res, 10, S_TSS_SHORT },
		{ "JMP to the busy current TSS: #GP", bad_jmp_busy, bad_jmp_busy_res, 13, GDT_TSS },
		{ "CALL to a not-present TSS: #NP", bad_call_np, bad_call_np_res, 11, S_TSS_NP },
	};

	gdt_set(S_TSS_SHORT, seg_desc((uint32_t)&tss_short, 0x50, D_P | D_TSS32, 0));
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		trap_catch((uint32_t)t[i].res);
		t[i].fn();
		trap_uncatch();
		guest_printf("tss: %s:\n", t[i].what);
		check("  vector", trap_seen.vector, t[i].vector);
		check("  error code", trap_seen.error, t[i].error);
		check("  EIP at the far transfer", trap_seen.eip - (uint32_t)t[i].fn, 0);
		check("  TR unchanged", read_tr(), GDT_TSS);
	}
	check("short TSS still available", type_of(S_TSS_SHORT), D_TSS32);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("tss");
	pic_mask_all();
	tss_init();
	gdt_set(S_TSS_NP, seg_desc((uint32_t)&tss_a, sizeof(tss_a) - 1, D_TSS32, 0));
	gdt_set(S_LDT, seg_desc((uint32_t)ldt, sizeof(ldt) - 1, D_P | D_LDT, 0));
	gdt_set(S_CONF0, seg_desc(0, 0xFFFFF, D_P | D_CODE_XR_C, D_G | D_DB));
	ltr_checks();

	idt_set(VEC_R1_INT, gate_desc(GDT_KCODE, (uint32_t)r1_int_handler, D_P | D_DPL(1) | D_INT32, 0));
	idt_set(VEC_R1_TRAP, gate_desc(GDT_KCODE, (uint32_t)r1_trap_handler, D_P | D_DPL(1) | D_TRAP32, 0));
	__asm__ volatile("sti");	/* the PIC is masked: IF=1 only shows in the frames */
	ring1_interrupt("INT to a DPL 1 interrupt gate", r1_int, r1_int_ret, 0);
	ring1_interrupt("INT to a DPL 1 trap gate", r1_trap, r1_trap_ret, F_IF);
	__asm__ volatile("cli");

	task_jmp();
	task_call();
	double_fault_task();
	bad_switches();
	return check_done();
}
