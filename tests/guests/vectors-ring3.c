/*
 * vectors-ring3: the exceptions only CPL 3 can raise or that depend on it (SDM
 * vol. 3, 6.15): no #AC without CR0.AM, INT3 and INT n through gates
 * of DPL 3 and 0, IOPL-sensitive instructions at IOPL 0 (CLI, IN, HLT is
 * CPL-0-only), a data segment load below CPL, and POPF leaving IF alone.
 * bt cannot run ring 3 yet: this guest only has to pass under QEMU for now.
 */
#include "lib/guest.h"

#define CR0_AM		0x00040000
#define F_IF		0x200
#define F_AC		0x40000
#define R3_CS		(GDT_R3CODE | 3)
#define R3_SS		(GDT_R3DATA | 3)

/* Ring-3 snippets: each faults (or traps) at NAME_at and resumes at NAME_res. */
__asm__(
	".text\n"
	".macro R3CASE name\n"
	"  .globl \\name\n"
	"\\name:\n"
	".endm\n"
	"R3CASE r3_ac\n"
	"  pushfl; orl $0x40000, (%esp); popfl\n"
	"r3_ac_at: movl ac_buf + 1, %eax\n"
	"r3_ac_res: pushfl; andl $~0x40000, (%esp); popfl\n"
	"  ret\n"
	"R3CASE r3_int3\n"
	"r3_int3_at: int3\n"
	"r3_int3_res: ret\n"
	"R3CASE r3_int41\n"
	"r3_int41_at: int $0x41\n"
	"r3_int41_res: ret\n"
	"R3CASE r3_cli\n"
	"r3_cli_at: cli\n"
	"r3_cli_res: ret\n"
	"R3CASE r3_in\n"
	"r3_in_at: inb $0x80, %al\n"
	"r3_in_res: ret\n"
	"R3CASE r3_hlt\n"
	"r3_hlt_at: hlt\n"
	"r3_hlt_res: ret\n"
	"R3CASE r3_movds\n"
	"  movl $0x10, %eax\n"
	"r3_movds_at: movw %ax, %ds\n"
	"r3_movds_res: movl $0x33, %eax; movw %ax, %ds; ret\n"
	".data\n.balign 4\n"
	"ac_buf: .long 0, 0\n"
	".text\n");

#define R3_DECL(n) extern char n##_at[], n##_res[]; uint32_t n(void)
R3_DECL(r3_ac); R3_DECL(r3_int3); R3_DECL(r3_int41); R3_DECL(r3_cli); R3_DECL(r3_in);
R3_DECL(r3_hlt); R3_DECL(r3_movds);

static void run3(const char *what, uint32_t (*fn)(void), char *at, char *res, int trap,
		 uint32_t vector, uint32_t error)
{
	guest_printf("vectors-ring3: %s:\n", what);
	trap_catch((uint32_t)res);
	ring_call(3, fn);
	trap_uncatch();
	if (vector == ~0u) {
		check("  exceptions", trap_hits, 0);
		return;
	}
	check("  exceptions", trap_hits, 1);
	check("  vector", trap_seen.vector, vector);
	check("  error code", trap_seen.error, error);
	check("  EIP - label", trap_seen.eip - (uint32_t)(trap ? res : at), 0);
	check("  CS", trap_seen.cs, R3_CS);
	check("  SS", trap_seen.outer_ss, R3_SS);
}

static uint32_t r3_popf(void)
{
	uint32_t f;

	__asm__ volatile("pushfl; xorl $0x200, (%%esp); popfl; pushfl; popl %0" : "=r"(f) : : "cc");
	return f;
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t cr0;

	(void)magic;
	(void)mbi;
	check_init("vectors-ring3");
	pic_mask_all();
	tss_init();
	ring_iopl = 0;

	/*
	 * #AC needs CR0.AM, EFLAGS.AC and CPL 3 (SDM vol. 3, 6.15 interrupt 17).
	 * XXX: only the AM=0 half is here: QEMU 7.2 (TCG) never raises #AC, so
	 * "AC=1, AM=1: #AC(0) at r3_ac_at" cannot be checked against it.
	 */
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0 & ~CR0_AM));
	run3("misaligned load, AC=1, AM=0", r3_ac, r3_ac_at, r3_ac_res, 0, ~0u, 0);

	uint64_t bp_gate = idt_get(3);
	idt_set(3, bp_gate | 3ull << 45);	/* DPL 3 */
	run3("INT3 through a DPL 3 gate", r3_int3, r3_int3_at, r3_int3_res, 1, 3, 0);
	idt_set(3, bp_gate);
	run3("INT3 through a DPL 0 gate: #GP", r3_int3, r3_int3_at, r3_int3_res, 0, 13, 3 * 8 + 2);
	run3("INT 0x41 through a DPL 0 gate: #GP", r3_int41, r3_int41_at, r3_int41_res, 0, 13,
	     0x41 * 8 + 2);
	run3("CLI at IOPL 0: #GP", r3_cli, r3_cli_at, r3_cli_res, 0, 13, 0);
	run3("IN at IOPL 0, no I/O bitmap: #GP", r3_in, r3_in_at, r3_in_res, 0, 13, 0);
	run3("HLT: #GP", r3_hlt, r3_hlt_at, r3_hlt_res, 0, 13, 0);
	run3("MOV DS, DPL 0 data: #GP", r3_movds, r3_movds_at, r3_movds_res, 0, 13, GDT_KDATA);

	/* POPF at CPL 3 > IOPL leaves IF alone, without a fault (SDM vol. 2, POPF). */
	trap_catch(0);
	__asm__ volatile("sti");
	uint32_t f = ring_call(3, r3_popf);
	__asm__ volatile("cli");
	trap_uncatch();
	check("POPF toggling IF at CPL 3, IOPL 0: IF kept", f & F_IF, F_IF);
	check("  exceptions", trap_hits, 0);
	ring_iopl = 3;
	return check_done();
}
