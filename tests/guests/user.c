/*
 * user: a tiny kernel with processes at CPL 3 (lib/user.c) and what they may
 * and may not do (SDM vol. 3, 5.5-5.10 protection, 6.12 entry from CPL 3,
 * 6.15 the exceptions; vol. 1, 19.5 I/O permissions; vol. 2 the instructions):
 *   syscalls   INT 0x80: arguments in EBX ECX EDX ESI EDI EBP, result in EAX,
 *              the other registers and CF kept; unknown numbers; many round
 *              trips; yield between two processes; INT 0x81 through a second
 *              DPL 3 gate;
 *   compute    the programs of user-compute.c at CPL 3 (their lines equal
 *              user-native's) and the same programs at CPL 0;
 *   faults     #DE #UD #BP #OF #BR, #GP from privileged instructions, I/O at
 *              IOPL 0, INT n through DPL 0 and absent gates, far transfers and
 *              segment loads at CPL 3, a call gate into ring 0: one line each
 *              with vector, error code, EIP and CS (RPL 3), then the process
 *              resumes at a recovery label;
 *   io         I/O through the TSS I/O bitmap at IOPL 0, and at IOPL 3;
 *   step       TF single-stepping at CPL 3, set by POPF and by the IRET;
 *   segments   based GDT and LDT segments, reloading the process's own
 *              selectors;
 *   irq        PIT interrupts taken at CPL 3, and preemption between two
 *              processes that only the timer switches;
 *   kill       a process killed by its fault, and one after it.
 * A last group, user-visible (skipped with visible=0), reads what ring-3
 * code can see of the machine without trapping: segment registers, EFLAGS
 * from PUSHF, SMSW, SGDT/SIDT/SLDT/STR, LAR/LSL/VERR/VERW, CPUID; and loads a
 * selector that is valid in the host's GDT. Under direct execution some of
 * these may show the host's values; bt documents which, and may drop or mark
 * that group.
 *
 * XXX: left out because QEMU 7.2 (TCG), the oracle, does not do what the SDM
 * says: #UD for LOCK MOV (see sdmonly), #GP(0) for an access through a null
 * DS/ES/FS/GS, segment limit and write-protection checks, #AC.
 */
#include "lib/guest.h"
#include "user-compute.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define KEEP_EBX	0x0b0b0b0b	/* set before every faulting instruction, checked in the frame */
#define KEEP_EBP	0x0e0e0e0e
#define CR4_TSD		0x00000004
#define DR6_BS		0x00004000

/* The test's descriptors (GDT_FREE on). */
#define S_LDT		0x40	/* an LDT of one entry: a DPL 3 data segment, base based + 32 */
#define S_BASED3	0x48	/* data RW, DPL 3, base = based, limit 63 */
#define S_NP3		0x50	/* data RW, DPL 3, not present */
#define S_GATE3		0x58	/* call gate DPL 3 to GDT_KCODE:gate_entry */
#define S_GATE0		0x60	/* call gate DPL 0, same target */
#define L_DATA3		0x07	/* LDT entry 0, RPL 3 */
#define VEC_ABSENT	0x42	/* DPL 3 gate, not present */
#define VEC_DPL0	0x41	/* DPL 0 gate */
#define VEC_SECOND	0x81	/* a second DPL 3 gate */
#define VEC_IRQ0	0x20

static uint64_t ldt[1];
static uint32_t based[16];

static const char *const vec_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "9", "#TS", "#NP",
	"#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM",
};

static int has_error(uint32_t v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* ======== syscalls ======== */

static uint32_t prog_getpid(uint32_t arg)
{
	(void)arg;
	return (uint32_t)user_syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0);
}

/*
 * SYS_SUM with every argument register set and CF=1: returns a bit mask of
 * what came back wrong (1 EAX, 2 EBX, 4 ECX, 8 EDX, 16 ESI, 32 EDI, 64 EBP,
 * 128 ESP, 256 CF).
 */
__asm__(".text\n"
	"prog_regs:\n"
	"  pushl %ebp; pushl %ebx; pushl %esi; pushl %edi\n"
	"  movl %esp, regs_esp\n"
	"  movl $0x11111111, %ebx; movl $0x02020202, %ecx; movl $0x00300030, %edx\n"
	"  movl $0x40000004, %esi; movl $0x00050500, %edi; movl $0x06000060, %ebp\n"
	"  movl $" STR(SYS_SUM) ", %eax\n"
	"  stc\n"
	"  int $" STR(USER_SYSCALL_VECTOR) "\n"
	"  setc regs_cf\n"
	"  movl %eax, regs_out + 0\n"
	"  movl %ebx, regs_out + 4\n"
	"  movl %ecx, regs_out + 8\n"
	"  movl %edx, regs_out + 12\n"
	"  movl %esi, regs_out + 16\n"
	"  movl %edi, regs_out + 20\n"
	"  movl %ebp, regs_out + 24\n"
	"  movl %esp, regs_out + 28\n"
	"  popl %edi; popl %esi; popl %ebx; popl %ebp\n"
	"  jmp regs_check\n");
uint32_t prog_regs(uint32_t arg);
uint32_t regs_out[8], regs_esp;
uint8_t regs_cf;

static const uint32_t regs_in[7] = {
	0, 0x11111111, 0x02020202, 0x00300030, 0x40000004, 0x00050500, 0x06000060,
};

uint32_t regs_check(void);
uint32_t regs_check(void)
{
	uint32_t want_sum = 0, bad = 0;

	for (int i = 1; i < 7; i++)
		want_sum += (uint32_t)i * regs_in[i];
	if (regs_out[0] != want_sum)
		bad |= 1;
	for (int i = 1; i < 7; i++)
		if (regs_out[i] != regs_in[i])
			bad |= 1u << i;
	if (regs_out[7] != regs_esp)
		bad |= 128;
	if (!regs_cf)
		bad |= 256;
	return bad;
}

static const uint32_t bad_numbers[] = { 0, SYS_BASE - 1, SYS_BASE + USER_NSYSCALLS, 0x7FFFFFFF, 0xFFFFFFFF };
#define NBAD (sizeof(bad_numbers) / sizeof(bad_numbers[0]))

/* Every unknown number returns -ENOSYS: the count of those that did. */
static uint32_t prog_enosys(uint32_t arg)
{
	uint32_t n = 0;

	(void)arg;
	for (unsigned i = 0; i < NBAD; i++)
		n += user_syscall(bad_numbers[i], 1, 2, 3, 4, 5, 6) == -USER_ENOSYS;
	return n;
}

/* Prints through SYS_WRITE; returns 1 if write returned the length and refused too long a buffer. */
static uint32_t prog_write(uint32_t arg)
{
	static const char msg[] = "user: a line written by a process at CPL 3\n";
	int32_t r = user_write(msg, sizeof(msg) - 1);

	(void)arg;
	return r == (int32_t)sizeof(msg) - 1 && user_write(msg, 5000) == -USER_EINVAL;
}

/* arg round trips of SYS_SUM with changing arguments, and SYS_GETPID: returns the mismatches. */
static uint32_t prog_many(uint32_t n)
{
	uint32_t pid = (uint32_t)user_syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0), bad = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = i, b = i ^ 0x5555, c = ~i, d = i * 3, e = i >> 1, f = 7 + i;

		if (i % 1000 == 999) {
			bad += (uint32_t)user_syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0) != pid;
			continue;
		}
		bad += (uint32_t)user_syscall(SYS_SUM, a, b, c, d, e, f) !=
		       a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
	}
	return bad;
}

static uint32_t prog_yield(uint32_t rounds)
{
	uint32_t pid = (uint32_t)user_syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0), bad = 0;

	for (uint32_t i = 0; i < rounds; i++) {
		user_printf("user: yield: pid %u round %u\n", pid, i);
		bad += user_syscall(SYS_YIELD, 0, 0, 0, 0, 0, 0) != 0;
	}
	return bad;
}

static struct user_proc procs[2];

/* Runs p to its end with nothing else; returns its state. */
static enum user_state run_alone(struct user_proc *p)
{
	while (user_run(p) == USER_READY)
		;
	return p->state;
}

/* Round robin over n processes until none is ready. */
static void run_all(struct user_proc *p, int n)
{
	for (int ready = 1; ready;) {
		ready = 0;
		for (int i = 0; i < n; i++)
			if (user_run(&p[i]) == USER_READY)
				ready = 1;
	}
}

static void syscall_tests(uint32_t nsys)
{
	struct user_proc *p = &procs[0];
	char what[80];

	guest_printf("user: -- syscalls --\n");
	user_proc_init(p, "getpid", prog_getpid, 0);
	run_alone(p);
	check("SYS_GETPID returns the pid (exit status - pid)", p->status - p->pid, 0);
	check("  exited, not killed", p->state, USER_EXITED);

	user_proc_init(p, "regs", prog_regs, 0);
	run_alone(p);
	check("SYS_SUM: EAX = EBX+2ECX+3EDX+4ESI+5EDI+6EBP, the rest and CF kept (bad mask)",
	      p->status, 0);

	user_proc_init(p, "enosys", prog_enosys, 0);
	run_alone(p);
	check("unknown numbers return -ENOSYS (count)", p->status, NBAD);

	user_proc_init(p, "write", prog_write, 0);
	run_alone(p);
	check("SYS_WRITE returns the length, -EINVAL past 4096", p->status, 1);

	user_proc_init(p, "many", prog_many, nsys);
	run_alone(p);
	guest_snprintf(what, sizeof(what), "%u INT 0x80 round trips: mismatches", nsys);
	check(what, p->status, 0);
	check("  system calls the kernel counted - round trips", p->syscalls - nsys, 2);

	user_proc_init(&procs[0], "yield-a", prog_yield, 3);
	user_proc_init(&procs[1], "yield-b", prog_yield, 3);
	run_all(procs, 2);
	check("yield: both exited with 0", procs[0].status | procs[1].status, 0);
}

/* ======== compute ======== */

static void compute_tests(uint32_t iters)
{
	struct user_proc *p = &procs[0];
	uint32_t sum = 0, sum0 = 0;
	int killed = 0;

	guest_printf("user: -- compute --\n");
	for (unsigned i = 0; i < compute_nprogs; i++) {
		user_proc_init(p, compute_progs[i].name, compute_progs[i].fn, iters);
		if (run_alone(p) != USER_EXITED)
			killed++;
		sum = compute_mix(sum, p->status);
	}
	guest_printf("user: compute iters=%u checksum=0x%08x\n", iters, sum);
	check("compute programs killed", killed, 0);
	compute_quiet = 1;
	for (unsigned i = 0; i < compute_nprogs; i++)
		sum0 = compute_mix(sum0, compute_progs[i].fn(iters));
	compute_quiet = 0;
	check("the same programs at CPL 0: checksum at CPL 3 - at CPL 0", sum - sum0, 0);
}

/* ======== faults and I/O: ring-3 snippets with a label on the instruction ======== */

/*
 * Every snippet saves the registers, sets EBX and EBP (the frame must show
 * them), runs NAME_at (the instruction under test), and ends at NAME_res
 * where the kernel resumes it after an exception. NAME_next follows the
 * instruction: where a trap or INT n reports EIP.
 */
#define BEGIN(n) #n ":\n  pushal\n  movl $0x0b0b0b0b, %ebx; movl $0x0e0e0e0e, %ebp\n"
#define AT(n) #n "_at: "
#define NEXT(n) "\n" #n "_next:\n"
#define RES(n) #n "_res:\n  popal\n  ret\n"
#define SIMPLE(n, setup, insn) BEGIN(n) setup "\n" AT(n) insn NEXT(n) RES(n)
/* BOUND of value against the bounds [10,20] on the stack. */
#define BOUNDCASE(n, value) \
	BEGIN(n) "  pushl $20; pushl $10; movl $" #value ", %eax\n" AT(n) "boundl %eax, (%esp)" NEXT(n) \
	#n "_res:\n  addl $8, %esp\n  popal\n  ret\n"
/* Saves and restores a segment register around the snippet. */
#define SEGCASE(n, sreg, setup, insn) \
	BEGIN(n) "  pushl %" sreg "\n" setup "\n" AT(n) insn NEXT(n) #n "_res:\n  popl %" sreg "\n  popal\n  ret\n"

__asm__(".text\n"
	SIMPLE(c_div0, "xorl %ecx, %ecx; movl $7, %eax; xorl %edx, %edx", "divl %ecx")
	SIMPLE(c_idivov, "movl $0x80000000, %eax; cltd; movl $-1, %ecx", "idivl %ecx")
	SIMPLE(c_ud2, "", "ud2")
	SIMPLE(c_lockadd, "", ".byte 0xf0, 0x01, 0xc2")	/* lock addl %eax, %edx */
	SIMPLE(c_movcs, "movl $0x2b, %eax", ".byte 0x8e, 0xc8")	/* movw %ax, %cs */
	SIMPLE(c_int3, "", "int3")
	SIMPLE(c_into, "movl $0x7fffffff, %eax; addl $1, %eax", "into")
	SIMPLE(c_intono, "xorl %eax, %eax", "into")
	BOUNDCASE(c_bound, 25)
	BOUNDCASE(c_boundok, 15)
	SIMPLE(c_intdpl0, "", "int $0x41")
	SIMPLE(c_intabsent, "", "int $0x42")
	SIMPLE(c_intsecond, "movl $0x81, %eax", "int $0x81")
	SIMPLE(c_cli, "", "cli")
	SIMPLE(c_sti, "", "sti")
	SIMPLE(c_hlt, "", "hlt")
	SIMPLE(c_rdcr0, "", "movl %cr0, %eax")
	SIMPLE(c_wrcr3, "xorl %eax, %eax", "movl %eax, %cr3")
	SIMPLE(c_rddr7, "", "movl %dr7, %eax")
	SIMPLE(c_lgdt, "", "lgdt (%esp)")
	SIMPLE(c_lidt, "", "lidt (%esp)")
	SIMPLE(c_lldt, "xorl %eax, %eax", "lldt %ax")
	SIMPLE(c_ltr, "movl $0x38, %eax", "ltr %ax")
	SIMPLE(c_lmsw, "movl $1, %eax", "lmsw %ax")
	SIMPLE(c_clts, "", "clts")
	SIMPLE(c_invlpg, "", "invlpg (%esp)")
	SIMPLE(c_invd, "", "invd")
	SIMPLE(c_wbinvd, "", "wbinvd")
	SIMPLE(c_rdmsr, "movl $0x174, %ecx", "rdmsr")
	SIMPLE(c_wrmsr, "movl $0x174, %ecx; xorl %eax, %eax; xorl %edx, %edx", "wrmsr")
	SIMPLE(c_rdpmc, "xorl %ecx, %ecx", "rdpmc")
	SIMPLE(c_rdtsc, "", "rdtsc")
	SIMPLE(c_cpuid, "xorl %eax, %eax", "cpuid")
	SIMPLE(c_in81, "", "inb $0x81, %al")
	SIMPLE(c_out81, "", "outb %al, $0x81")
	SIMPLE(c_insb81, "movl $0x81, %edx; movl $io_buf, %edi", "insb")
	SIMPLE(c_outsb81, "movl $0x81, %edx; movl $io_buf, %esi", "outsb")
	BEGIN(c_ljmp0) AT(c_ljmp0) "ljmp $0x08, $c_ljmp0_res" NEXT(c_ljmp0) RES(c_ljmp0)
	BEGIN(c_lret0) "  movl %esp, %edx; pushl $0x08; pushl $c_lret0_res\n"
	AT(c_lret0) "lret" NEXT(c_lret0)
	"c_lret0_res: movl %edx, %esp; popal; ret\n"
	BEGIN(c_iret0) "  movl %esp, %edx; pushfl; pushl $0x08; pushl $c_iret0_res\n"
	AT(c_iret0) "iret" NEXT(c_iret0)
	"c_iret0_res: movl %edx, %esp; popal; ret\n"
	BEGIN(c_gate0) AT(c_gate0) "lcall $0x60, $0" NEXT(c_gate0) RES(c_gate0)
	BEGIN(c_gate3) AT(c_gate3) "lcall $0x58, $0" NEXT(c_gate3) RES(c_gate3)
	SEGCASE(c_movds0, "ds", "movl $0x10, %eax", "movw %ax, %ds")
	SEGCASE(c_movdsnp, "ds", "movl $0x53, %eax", "movw %ax, %ds")
	SEGCASE(c_movdsldt, "ds", "movl $0x0f, %eax", "movw %ax, %ds")
	SEGCASE(c_movdscode, "ds", "movl $0x2b, %eax", "movw %ax, %ds")
	SEGCASE(c_movfsnull, "fs", "xorl %eax, %eax", "movw %ax, %fs")
	SEGCASE(c_movssnull, "ss", "xorl %eax, %eax", "movw %ax, %ss")
	SEGCASE(c_movssnp, "ss", "movl $0x53, %eax", "movw %ax, %ss")
	SEGCASE(c_movsscode, "ss", "movl $0x2b, %eax", "movw %ax, %ss")
	/* I/O with 0x80 allowed in the bitmap, 0x7f and 0x81 denied. */
	SIMPLE(b_out80, "", "outb %al, $0x80")
	SIMPLE(b_in80, "", "inb $0x80, %al")
	SIMPLE(b_in81, "", "inb $0x81, %al")
	SIMPLE(b_inw7f, "", "inw $0x7f, %ax")
	SIMPLE(b_inw80, "", "inw $0x80, %ax")
	SIMPLE(b_in500, "movl $0x500, %edx", "inb %dx, %al")
	SIMPLE(b_outsb80, "movl $0x80, %edx; movl $io_buf, %esi", "outsb")
	SIMPLE(b_insb80, "movl $0x80, %edx; movl $io_buf, %edi", "insb")
	/* Gate entered by c_gate3: counts the call, notes the caller's CS and SS, returns to CPL 3. */
	"gate_entry:\n"
	"  incl gate_calls\n"
	"  movl 4(%esp), %eax; movl %eax, gate_cs\n"
	"  movl 12(%esp), %eax; movl %eax, gate_ss\n"
	"  xorl %eax, %eax; movw %cs, %ax; movl %eax, gate_cpl\n"
	"  lret\n");

#define FAULT_CASES(X) \
	X(c_div0) X(c_idivov) X(c_ud2) X(c_lockadd) X(c_movcs) X(c_int3) X(c_into) X(c_intono) X(c_bound) \
	X(c_boundok) X(c_intdpl0) X(c_intabsent) X(c_intsecond) X(c_cli) X(c_sti) X(c_hlt) \
	X(c_rdcr0) X(c_wrcr3) X(c_rddr7) X(c_lgdt) X(c_lidt) X(c_lldt) X(c_ltr) X(c_lmsw) X(c_clts) \
	X(c_invlpg) X(c_invd) X(c_wbinvd) X(c_rdmsr) X(c_wrmsr) X(c_rdpmc) X(c_rdtsc) X(c_cpuid) \
	X(c_in81) X(c_out81) X(c_insb81) X(c_outsb81) X(c_ljmp0) X(c_lret0) X(c_iret0) X(c_gate0) \
	X(c_gate3) X(c_movds0) X(c_movdsnp) X(c_movdsldt) X(c_movdscode) X(c_movfsnull) \
	X(c_movssnull) X(c_movssnp) X(c_movsscode) \
	X(b_out80) X(b_in80) X(b_in81) X(b_inw7f) X(b_inw80) X(b_in500) X(b_outsb80) X(b_insb80)
#define DECL(n) extern char n##_at[], n##_next[], n##_res[]; void n(void);
FAULT_CASES(DECL)
extern char gate_entry[];
uint32_t gate_calls, gate_cs, gate_ss, gate_cpl;
uint8_t io_buf[4];

enum kind { NONE, FAULT, TRAP };
struct fcase {
	const char *what;
	void (*fn)(void);
	char *at, *next, *res;
	enum kind kind;
	uint32_t vector, error;
};
#define C(n, what, kind, vec, err) { what, n, n##_at, n##_next, n##_res, kind, vec, err }

/* At IOPL 0, no port allowed but 0x80 (SDM vol. 3, 5.9 privileged instructions; 6.15). */
static const struct fcase fault_cases[] = {
	C(c_div0, "DIV by 0", FAULT, 0, 0),
	C(c_idivov, "IDIV 0x80000000 / -1", FAULT, 0, 0),
	C(c_ud2, "UD2", FAULT, 6, 0),
	C(c_lockadd, "LOCK ADD EDX, EAX (register destination)", FAULT, 6, 0),
	C(c_movcs, "MOV CS, AX", FAULT, 6, 0),
	C(c_int3, "INT3, DPL 3 gate", TRAP, 3, 0),
	C(c_into, "INTO, OF=1", TRAP, 4, 0),
	C(c_intono, "INTO, OF=0", NONE, 0, 0),
	C(c_bound, "BOUND 25 in [10,20]", FAULT, 5, 0),
	C(c_boundok, "BOUND 15 in [10,20]", NONE, 0, 0),
	C(c_intdpl0, "INT 0x41, DPL 0 gate", FAULT, 13, VEC_DPL0 * 8 + 2),
	C(c_intabsent, "INT 0x42, DPL 3 gate not present", FAULT, 11, VEC_ABSENT * 8 + 2),
	C(c_intsecond, "INT 0x81, DPL 3 gate", TRAP, VEC_SECOND, 0),
	C(c_cli, "CLI", FAULT, 13, 0),
	C(c_sti, "STI", FAULT, 13, 0),
	C(c_hlt, "HLT", FAULT, 13, 0),
	C(c_rdcr0, "MOV EAX, CR0", FAULT, 13, 0),
	C(c_wrcr3, "MOV CR3, EAX", FAULT, 13, 0),
	C(c_rddr7, "MOV EAX, DR7", FAULT, 13, 0),
	C(c_lgdt, "LGDT", FAULT, 13, 0),
	C(c_lidt, "LIDT", FAULT, 13, 0),
	C(c_lldt, "LLDT", FAULT, 13, 0),
	C(c_ltr, "LTR", FAULT, 13, 0),
	C(c_lmsw, "LMSW", FAULT, 13, 0),
	C(c_clts, "CLTS", FAULT, 13, 0),
	C(c_invlpg, "INVLPG", FAULT, 13, 0),
	C(c_invd, "INVD", FAULT, 13, 0),
	C(c_wbinvd, "WBINVD", FAULT, 13, 0),
	C(c_rdmsr, "RDMSR", FAULT, 13, 0),
	C(c_wrmsr, "WRMSR", FAULT, 13, 0),
	C(c_rdpmc, "RDPMC, CR4.PCE=0", FAULT, 13, 0),
	C(c_rdtsc, "RDTSC, CR4.TSD=0", NONE, 0, 0),
	C(c_cpuid, "CPUID", NONE, 0, 0),
	C(c_in81, "IN AL, 0x81", FAULT, 13, 0),
	C(c_out81, "OUT 0x81, AL", FAULT, 13, 0),
	C(c_insb81, "INSB, DX=0x81", FAULT, 13, 0),
	C(c_outsb81, "OUTSB, DX=0x81", FAULT, 13, 0),
	C(c_ljmp0, "JMP FAR 0x08 (DPL 0 code)", FAULT, 13, GDT_KCODE),
	C(c_lret0, "RET FAR to 0x08 (RPL 0)", FAULT, 13, GDT_KCODE),
	C(c_iret0, "IRET to 0x08 (RPL 0)", FAULT, 13, GDT_KCODE),
	C(c_gate0, "CALL FAR through a DPL 0 call gate", FAULT, 13, S_GATE0),
	C(c_gate3, "CALL FAR through a DPL 3 call gate to ring 0", NONE, 0, 0),
	C(c_movds0, "MOV DS, 0x10 (DPL 0 data)", FAULT, 13, GDT_KDATA),
	C(c_movdsnp, "MOV DS, 0x53 (not present)", FAULT, 11, S_NP3),
	C(c_movdsldt, "MOV DS, 0x0f (beyond the LDT limit)", FAULT, 13, 0x0c),
	C(c_movdscode, "MOV DS, 0x2b (readable code)", NONE, 0, 0),
	C(c_movfsnull, "MOV FS, 0 (null)", NONE, 0, 0),
	C(c_movssnull, "MOV SS, 0 (null)", FAULT, 13, 0),
	C(c_movssnp, "MOV SS, 0x53 (not present)", FAULT, 12, S_NP3),
};

/*
 * Loads of selectors whose index is a valid descriptor in the host's GDT
 * (x86-64 Linux: 0x2b is its user data segment): on the host they succeed
 * whatever the guest's descriptor says.
 */
static const struct fcase host_alias_cases[] = {
	C(c_movsscode, "MOV SS, 0x2b (code)", FAULT, 13, GDT_R3CODE),
};

/* At IOPL 0 with port 0x80 allowed in the TSS I/O bitmap (SDM vol. 1, 19.5.2). */
static const struct fcase bitmap_cases[] = {
	C(b_out80, "OUT 0x80, AL (allowed)", NONE, 0, 0),
	C(b_in80, "IN AL, 0x80 (allowed)", NONE, 0, 0),
	C(b_in81, "IN AL, 0x81 (denied)", FAULT, 13, 0),
	C(b_inw7f, "IN AX, 0x7f (0x7f denied)", FAULT, 13, 0),
	C(b_inw80, "IN AX, 0x80 (0x81 denied)", FAULT, 13, 0),
	C(b_in500, "IN AL, DX=0x500 (beyond the TSS limit)", FAULT, 13, 0),
	C(b_outsb80, "OUTSB, DX=0x80 (allowed)", NONE, 0, 0),
	C(b_insb80, "INSB, DX=0x80 (allowed)", NONE, 0, 0),
	C(c_cli, "CLI (the bitmap is for I/O only)", FAULT, 13, 0),
};

/* At IOPL 3 (SDM vol. 1, 19.5.1): I/O, CLI and STI allowed, HLT still CPL 0 only. */
static const struct fcase iopl3_cases[] = {
	C(b_in81, "IN AL, 0x81", NONE, 0, 0),
	C(c_out81, "OUT 0x81, AL", NONE, 0, 0),
	C(b_inw7f, "IN AX, 0x7f", NONE, 0, 0),
	C(c_insb81, "INSB, DX=0x81", NONE, 0, 0),
	C(c_cli, "CLI", NONE, 0, 0),
	C(c_sti, "STI", NONE, 0, 0),
	C(c_hlt, "HLT", FAULT, 13, 0),
	C(c_rdcr0, "MOV EAX, CR0", FAULT, 13, 0),
};

struct case_group {
	const struct fcase *cases;
	unsigned n;
};
#define MAX_CASES 64
static struct case_result {
	uint32_t hits;
	struct trap_frame f;
} results[MAX_CASES];
static volatile unsigned cur_index;

/* Ring 3: runs each snippet in turn. */
static uint32_t prog_cases(uint32_t arg)
{
	const struct case_group *g = (const struct case_group *)arg;

	for (unsigned i = 0; i < g->n; i++) {
		cur_index = i;
		g->cases[i].fn();
	}
	return g->n;
}

static enum user_action cases_event(struct user_proc *p, struct trap_frame *f)
{
	const struct case_group *g = p->data;
	struct case_result *r = &results[cur_index];

	if (r->hits++ == 0)
		r->f = *f;
	if (r->hits > 3)
		return USER_KILL;
	f->eip = (uint32_t)g->cases[cur_index].res;
	return USER_RESUME;
}

/* The check group the lines go to. */
static const char *group = "user";

static void say_event(char *buf, size_t size, uint32_t vector, uint32_t error)
{
	if (vector < 32 && vec_names[vector] && has_error(vector))
		guest_snprintf(buf, size, "%s(0x%x)", vec_names[vector], error);
	else if (vector < 32 && vec_names[vector])
		guest_snprintf(buf, size, "%s", vec_names[vector]);
	else
		guest_snprintf(buf, size, "INT 0x%x", vector);
}

/* One line per case: ok with what happened, or FAIL with what was seen. */
static void report_case(const struct fcase *c, const struct case_result *r)
{
	const struct trap_frame *f = &r->f;
	uint32_t want_eip = (uint32_t)(c->kind == TRAP ? c->next : c->at);
	char want[48], got[48];
	int ok;

	if (c->kind == NONE) {
		ok = r->hits == 0;
		guest_snprintf(want, sizeof(want), "no exception");
	} else {
		ok = r->hits == 1 && f->vector == c->vector && f->error == c->error && f->eip == want_eip &&
		     f->cs == user_cs && f->outer_ss == user_ds && f->ebx == KEEP_EBX && f->ebp == KEEP_EBP;
		say_event(want, sizeof(want), c->vector, c->error);
		strcat(want, c->kind == TRAP ? " after it" : " at it");
	}
	check_tally(ok);
	if (ok) {
		guest_printf("%s: ok   %s: %s\n", group, c->what, want);
		return;
	}
	if (!r->hits) {
		guest_printf("%s: FAIL %s: no exception; want %s\n", group, c->what, want);
		return;
	}
	say_event(got, sizeof(got), f->vector, f->error);
	guest_printf("%s: FAIL %s: %u exceptions, first %s at label + %d, CS 0x%x SS 0x%x "
		     "EBX 0x%x EBP 0x%x; want %s\n", group, c->what, r->hits, got,
		     (int)(f->eip - want_eip), f->cs, f->outer_ss, f->ebx, f->ebp, want);
}

static void run_cases(const char *name, const struct fcase *cases, unsigned n, unsigned iopl)
{
	struct case_group g = { cases, n };
	struct user_proc *p = &procs[0];

	memset(results, 0, sizeof(results));
	user_proc_init(p, name, prog_cases, (uint32_t)&g);
	p->regs.eflags |= EFLAGS_IOPL(iopl);
	p->on_event = cases_event;
	p->data = &g;
	run_alone(p);
	for (unsigned i = 0; i < n; i++)
		report_case(&cases[i], &results[i]);
	check_true("  the process ran to its end", p->state == USER_EXITED && p->status == n);
}

/* Ring 3: a single instruction at a label; the process is killed by what it raises. */
__asm__(".text\n"
	"k_int80:\n  movl $0x1002, %eax\nk_int80_at: int $0x80\n  ret\n"
	"k_rdtsc:\nk_rdtsc_at: rdtsc\n  ret\n"
	"k_div0:\n  xorl %ecx, %ecx; xorl %edx, %edx\nk_div0_at: divl %ecx\n  ret\n");
uint32_t k_int80(uint32_t), k_rdtsc(uint32_t), k_div0(uint32_t);
extern char k_int80_at[], k_rdtsc_at[], k_div0_at[];

/* Runs fn, which must be killed at `at` by vector:error. */
static void run_killed(const char *what, uint32_t (*fn)(uint32_t), char *at, uint32_t vector,
		       uint32_t error)
{
	struct user_proc *p = &procs[0];
	char want[48];
	int ok;

	user_proc_init(p, what, fn, 0);
	run_alone(p);
	ok = p->state == USER_KILLED && p->fault.vector == vector && p->fault.error == error &&
	     p->fault.eip == (uint32_t)at && p->fault.cs == user_cs;
	say_event(want, sizeof(want), vector, error);
	check_tally(ok);
	if (ok)
		guest_printf("user: ok   %s: killed by %s at it\n", what, want);
	else
		guest_printf("user: FAIL %s: state %u vector %u error 0x%x at label + %d CS 0x%x; want killed by %s\n",
			     what, p->state, p->fault.vector, p->fault.error,
			     (int)(p->fault.eip - (uint32_t)at), p->fault.cs, want);
}

static void fault_tests(void)
{
	guest_printf("user: -- faults (IOPL 0) --\n");
	idt_set_dpl(VEC_DPL0, 0);
	idt_set(VEC_ABSENT, idt_get(VEC_ABSENT) & ~((uint64_t)D_P << 40));
	idt_set_dpl(VEC_ABSENT, 3);
	idt_set_dpl(VEC_SECOND, 3);
	user_io_allow(0x80, 1);
	run_cases("faults", fault_cases, sizeof(fault_cases) / sizeof(fault_cases[0]), 0);
	check("  call gate: calls", gate_calls, 1);
	check("  call gate: caller's CS on the ring-0 stack", gate_cs & 0xFFFF, user_cs);
	check("  call gate: caller's SS on the ring-0 stack", gate_ss & 0xFFFF, user_ds);
	check("  call gate: CS in ring 0", gate_cpl, GDT_KCODE);

	/* The system-call gate at DPL 0: INT 0x80 itself is refused. */
	idt_set_dpl(USER_SYSCALL_VECTOR, 0);
	run_killed("INT 0x80 through a DPL 0 gate", k_int80, k_int80_at, 13, 0x80 * 8 + 2);
	idt_set_dpl(USER_SYSCALL_VECTOR, 3);
	write_cr4(read_cr4() | CR4_TSD);
	run_killed("RDTSC with CR4.TSD=1", k_rdtsc, k_rdtsc_at, 13, 0);
	write_cr4(read_cr4() & ~CR4_TSD);

	guest_printf("user: -- io (IOPL 0, port 0x80 allowed in the TSS I/O bitmap) --\n");
	run_cases("io-bitmap", bitmap_cases, sizeof(bitmap_cases) / sizeof(bitmap_cases[0]), 0);
	guest_printf("user: -- io (IOPL 3) --\n");
	run_cases("io-iopl3", iopl3_cases, sizeof(iopl3_cases) / sizeof(iopl3_cases[0]), 3);
	user_io_allow(0x80, 0);
}

/* ======== single-step ======== */

/* TF set by POPF: the first trap follows the instruction after the POPF (SDM vol. 3, 2.3, 18.3.1.4). */
__asm__(".text\n"
	"s_popf:\n"
	"  pushfl; orl $0x100, (%esp); popfl\n"
	"s_popf_0: movl $1, %eax\n"
	"s_popf_1: addl $2, %eax\n"
	"s_popf_2: jmp s_popf_4\n"
	"s_popf_3: ud2\n"
	"s_popf_4: pushfl\n"
	"s_popf_5: popl %ecx\n"
	"s_popf_end: ret\n"
	/* Entered by an IRET with TF=1 in its EFLAGS image. */
	"s_iret:\n"
	"s_iret_0: nop\n"
	"s_iret_1: movl $5, %eax\n"
	"s_iret_end: ret\n");
uint32_t s_popf(uint32_t), s_iret(uint32_t);
extern char s_popf_1[], s_popf_2[], s_popf_4[], s_popf_5[], s_popf_end[], s_iret_1[], s_iret_end[];

#define MAX_STEPS 8
static struct step_log {
	char *end;
	unsigned n;
	uint32_t eip[MAX_STEPS], dr6[MAX_STEPS], vector[MAX_STEPS], cs[MAX_STEPS];
	uint32_t last_ecx;
} steps;

static enum user_action step_event(struct user_proc *p, struct trap_frame *f)
{
	uint32_t dr6;

	(void)p;
	__asm__ volatile("movl %%dr6, %0" : "=r"(dr6));
	__asm__ volatile("movl %0, %%dr6" : : "r"(0));
	if (steps.n < MAX_STEPS) {
		steps.eip[steps.n] = f->eip;
		steps.dr6[steps.n] = dr6;
		steps.vector[steps.n] = f->vector;
		steps.cs[steps.n] = f->cs;
	}
	steps.n++;
	steps.last_ecx = f->ecx;
	if (f->eip == (uint32_t)steps.end || steps.n >= MAX_STEPS)
		f->eflags &= ~EFLAGS_TF;
	return steps.n > MAX_STEPS ? USER_KILL : USER_RESUME;
}

static void check_steps(const char *what, char *const *want, unsigned n, uint32_t status,
			uint32_t want_status)
{
	char line[96];
	int ok = steps.n == n && status == want_status;

	for (unsigned i = 0; i < n && i < MAX_STEPS; i++)
		ok = ok && steps.eip[i] == (uint32_t)want[i] && steps.vector[i] == 1 &&
		     (steps.dr6[i] & DR6_BS) && steps.cs[i] == user_cs;
	guest_snprintf(line, sizeof(line), "%s: %u #DB traps with DR6.BS, CS 0x%x, at the expected EIPs",
		       what, n, user_cs);
	if (!check_true(line, ok)) {
		guest_printf("user:      got %u traps, status %u:", steps.n, status);
		for (unsigned i = 0; i < steps.n && i < MAX_STEPS; i++)
			guest_printf(" [vec %u eip 0x%x dr6 0x%x cs 0x%x]", steps.vector[i], steps.eip[i],
				     steps.dr6[i], steps.cs[i]);
		guest_printf("\n");
	}
}

static void step_tests(void)
{
	static char *const popf_eips[] = { s_popf_1, s_popf_2, s_popf_4, s_popf_5, s_popf_end };
	static char *const iret_eips[] = { s_iret_1, s_iret_end };
	struct user_proc *p = &procs[0];

	guest_printf("user: -- single-step --\n");
	__asm__ volatile("movl %0, %%dr6" : : "r"(0));
	memset(&steps, 0, sizeof(steps));
	steps.end = s_popf_end;
	user_proc_init(p, "step-popf", s_popf, 0);
	p->on_event = step_event;
	run_alone(p);
	check_steps("TF set by POPF", popf_eips, 5, p->status, 3);
	check("  EFLAGS pushed by PUSHF while stepping: TF", steps.last_ecx & EFLAGS_TF, EFLAGS_TF);

	memset(&steps, 0, sizeof(steps));
	steps.end = s_iret_end;
	user_proc_init(p, "step-iret", s_iret, 0);
	p->regs.eflags |= EFLAGS_TF;
	p->on_event = step_event;
	run_alone(p);
	check_steps("TF set by the kernel's IRET", iret_eips, 2, p->status, 5);
}

/* ======== segments ======== */

uint32_t reload_var[2];

/* Reads through a based GDT segment (GS) and an LDT segment (FS), writes through GS. */
static uint32_t prog_based(uint32_t arg)
{
	uint32_t a, b;

	(void)arg;
	__asm__ volatile("movw %w2, %%gs\n\t"
			 "movw %w3, %%fs\n\t"
			 "movl %%gs:4, %0\n\t"
			 "movl %%fs:8, %1\n\t"
			 "movl $0x600d600d, %%gs:12\n\t"
			 "movw %w4, %%fs\n\t"
			 "movw %w4, %%gs"
			 : "=&r"(a), "=&r"(b)
			 : "r"(S_BASED3 | 3), "r"(L_DATA3), "r"((uint32_t)user_ds) : "memory");
	return a ^ b;
}

/* Loads its own data selector into every data segment register and SS, then uses each. */
static uint32_t prog_reload(uint32_t arg)
{
	uint32_t v;

	(void)arg;
	__asm__ volatile("movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%fs\n\t"
			 "movw %w1, %%gs\n\t"
			 "movw %w1, %%ss\n\t"
			 "movl $0x11, reload_var\n\t"
			 "movl $0x22, %%es:reload_var + 4\n\t"
			 "addl $0x100, %%fs:reload_var\n\t"
			 "addl $0x200, %%gs:reload_var + 4\n\t"
			 "pushl $0x5000\n\t"
			 "popl %0\n\t"
			 "addl %%ss:reload_var, %0"
			 : "=&r"(v) : "r"((uint32_t)user_ds) : "memory");
	return v;
}

static void segment_tests(void)
{
	struct user_proc *p = &procs[0];

	guest_printf("user: -- segments --\n");
	for (int i = 0; i < 16; i++)
		based[i] = 0xB0 + (uint32_t)i;
	user_proc_init(p, "based", prog_based, 0);
	run_alone(p);
	check("GS based (GDT, base+4) ^ FS based (LDT, base+32+8) read at CPL 3",
	      p->status, based[1] ^ based[10]);
	check("  write through GS:12", based[3], 0x600d600d);
	user_proc_init(p, "reload", prog_reload, 0);
	run_alone(p);
	check("DS ES FS GS SS reloaded with 0x33 at CPL 3, then used", p->status, 0x5111);
	check("  what ES and GS wrote", reload_var[1], 0x222);
}

/* ======== interrupts ======== */

static volatile uint32_t ticks, ticks_cpl3;
static volatile uint32_t turn;
static volatile char pp_log[16];
static volatile uint32_t pp_len;
#define TICK_LIMIT 5000

static uint32_t prog_spin(uint32_t n)
{
	while (ticks < n)
		;
	return ticks;
}

static enum user_action irq_event(struct user_proc *p, struct trap_frame *f)
{
	if (f->vector != VEC_IRQ0)
		return USER_KILL;
	pic_eoi(0);
	ticks++;
	if (f->cs == user_cs)
		ticks_cpl3++;
	if (ticks > TICK_LIMIT)
		return USER_KILL;
	return p->data ? USER_PREEMPT : USER_RESUME;
}

/* Two of these alternate through `turn`; only the timer switches between them. */
static uint32_t prog_pingpong(uint32_t me)
{
	for (int i = 0; i < 5; i++) {
		while (turn != me)
			;
		pp_log[pp_len++] = (char)('A' + me);
		turn = !me;
	}
	return 0;
}

static void irq_tests(void)
{
	struct user_proc *p = &procs[0];
	char log[16];
	int ok;

	guest_printf("user: -- interrupts --\n");
	pic_remap(0x20, 0x28);
	pit_program(0, 2, PIT_HZ / 1000);
	pic_set_mask(0xFFFE);

	ticks = ticks_cpl3 = 0;
	user_proc_init(p, "spin", prog_spin, 20);
	p->on_event = irq_event;
	run_alone(p);
	check("IRQ 0 at 1 kHz while a process spins at CPL 3: exited", p->state, USER_EXITED);
	check_range("  ticks it saw", p->status, 20, 21);
	check("  IRQ frames whose CS is not 0x2b", ticks - ticks_cpl3, 0);

	ticks = 0;
	turn = 0;
	pp_len = 0;
	for (int i = 0; i < 2; i++) {
		user_proc_init(&procs[i], i ? "pong" : "ping", prog_pingpong, (uint32_t)i);
		procs[i].on_event = irq_event;
		procs[i].data = &procs[i];	/* preempt on every tick */
	}
	run_all(procs, 2);
	pic_mask_all();
	for (uint32_t i = 0; i < pp_len && i < sizeof(log) - 1; i++)
		log[i] = pp_log[i];
	log[pp_len < sizeof(log) ? pp_len : sizeof(log) - 1] = '\0';
	ok = pp_len == 10 && !memcmp(log, "ABABABABAB", 10);
	check_true("two spinning processes switched by the timer only: ABABABABAB",
		   ok && procs[0].state == USER_EXITED && procs[1].state == USER_EXITED);
}

/* ======== kill ======== */

static void kill_tests(void)
{
	struct user_proc *p = &procs[0];

	guest_printf("user: -- kill --\n");
	run_killed("DIV by 0 with no recovery", k_div0, k_div0_at, 0, 0);
	check("  status of the killed process (its vector)", p->status, 0);
	user_proc_init(p, "after", prog_getpid, 0);
	run_alone(p);
	check("a process after it runs: exit status - pid", p->status - p->pid, 0);
}

/* ======== user-visible ======== */

static struct visible {
	uint32_t cs, ss, ds, es, fs, gs;	/* as entered */
	uint32_t es2, fs2, gs2;			/* after loading 0x2b, 0 and the based selector */
	uint32_t flags, flags_popf;		/* PUSHF; PUSHF after POPF of IOPL 3, IF 0 */
	uint32_t flags_cli, flags_sti;		/* IOPL 3: PUSHF after CLI, after STI */
	uint32_t msw, tr, ldtr;
	uint8_t gdtr[6], idtr[6];
	uint32_t lar_cs, lar_ds, lar_k, lsl_ds;
	uint8_t zf_lar_k, verr_cs, verw_cs, verw_ds;
	uint32_t cpuid0[4], cpuid1[4];
} vis;

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint32_t prog_visible(uint32_t arg)
{
	uint32_t f;

	(void)arg;
	vis.cs = read_cs();
	vis.ss = read_ss();
	vis.ds = read_ds();
	vis.es = read_es();
	vis.fs = read_fs();
	vis.gs = read_gs();
	__asm__ volatile("movw %w3, %%es; movw %w4, %%fs; movw %w5, %%gs\n\t"
			 "movw %%es, %w0; movw %%fs, %w1; movw %%gs, %w2\n\t"
			 "movw %w6, %%es; movw %w6, %%fs; movw %w6, %%gs"
			 : "=&r"(vis.es2), "=&r"(vis.fs2), "=&r"(vis.gs2)
			 : "r"((uint32_t)user_cs), "r"(0), "r"(S_BASED3 | 3), "r"((uint32_t)user_ds));
	vis.es2 &= 0xFFFF;
	vis.fs2 &= 0xFFFF;
	vis.gs2 &= 0xFFFF;
	vis.flags = read_eflags();
	f = vis.flags | EFLAGS_IOPL(3);
	f &= ~EFLAGS_IF;
	__asm__ volatile("pushl %0; popfl" : : "r"(f) : "cc");
	vis.flags_popf = read_eflags();
	__asm__ volatile("smsw %w0" : "=r"(vis.msw));
	vis.msw &= 0xFFFF;
	__asm__ volatile("sgdt %0" : "=m"(vis.gdtr));
	__asm__ volatile("sidt %0" : "=m"(vis.idtr));
	vis.tr = read_tr();
	__asm__ volatile("sldt %w0" : "=r"(vis.ldtr));
	vis.ldtr &= 0xFFFF;
	__asm__ volatile("larl %1, %0" : "=r"(vis.lar_cs) : "r"((uint32_t)user_cs) : "cc");
	__asm__ volatile("larl %1, %0" : "=r"(vis.lar_ds) : "r"((uint32_t)user_ds) : "cc");
	vis.lar_k = 0xDEADBEEF;
	__asm__ volatile("larl %2, %0; setz %1" : "+r"(vis.lar_k), "=q"(vis.zf_lar_k)
			 : "r"(GDT_KCODE | 3) : "cc");
	__asm__ volatile("lsll %1, %0" : "=r"(vis.lsl_ds) : "r"((uint32_t)user_ds) : "cc");
	__asm__ volatile("verr %w1; setz %0" : "=q"(vis.verr_cs) : "r"(user_cs) : "cc");
	__asm__ volatile("verw %w1; setz %0" : "=q"(vis.verw_cs) : "r"(user_cs) : "cc");
	__asm__ volatile("verw %w1; setz %0" : "=q"(vis.verw_ds) : "r"(user_ds) : "cc");
	cpuid(0, vis.cpuid0);
	cpuid(1, vis.cpuid1);
	return 0;
}

static uint32_t prog_visible_iopl3(uint32_t arg)
{
	(void)arg;
	__asm__ volatile("cli");
	vis.flags_cli = read_eflags();
	__asm__ volatile("sti");
	vis.flags_sti = read_eflags();
	return 0;
}

static int visible_tests(void)
{
	struct user_proc *p = &procs[0];
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr, idtr;
	uint32_t k0[4], k1[4], base, fl = EFLAGS_IF | EFLAGS_IOPL_MASK;

	check_init("user-visible");
	memset(&vis, 0, sizeof(vis));
	user_proc_init(p, "visible", prog_visible, 0);
	run_alone(p);
	check("the process exited (state)", p->state, USER_EXITED);
	check("MOV from CS at CPL 3", vis.cs, user_cs);
	check("MOV from SS", vis.ss, user_ds);
	check("MOV from DS", vis.ds, user_ds);
	check("MOV from ES", vis.es, user_ds);
	check("MOV from FS", vis.fs, user_ds);
	check("MOV from GS", vis.gs, user_ds);
	check("MOV from ES after loading 0x2b", vis.es2, user_cs);
	check("MOV from FS after loading 0", vis.fs2, 0);
	check("MOV from GS after loading 0x4b", vis.gs2, S_BASED3 | 3);
	check("PUSHF at CPL 3, IOPL 0: IF and IOPL", vis.flags & fl, EFLAGS_IF);
	check("  after POPF of IOPL 3 and IF 0: both unchanged", vis.flags_popf & fl, EFLAGS_IF);

	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	check("SMSW at CPL 3 = CR0[15:0]", vis.msw, read_cr0() & 0xFFFF);
	check("SGDT at CPL 3: limit", vis.gdtr[0] | (uint32_t)vis.gdtr[1] << 8, gdtr.limit);
	memcpy(&base, &vis.gdtr[2], 4);
	check("SGDT at CPL 3: base - the GDT's", base - gdtr.base, 0);
	check("SIDT at CPL 3: limit", vis.idtr[0] | (uint32_t)vis.idtr[1] << 8, idtr.limit);
	memcpy(&base, &vis.idtr[2], 4);
	check("SIDT at CPL 3: base - the IDT's", base - idtr.base, 0);
	check("STR at CPL 3", vis.tr, GDT_TSS);
	check("SLDT at CPL 3", vis.ldtr, S_LDT);
	/* LAR: "masked by 00FxFF00H" (SDM vol. 2, LAR); the accessed bit is left out too. */
	check("LAR of CS (access rights but accessed)", vis.lar_cs & 0x00F0FE00, 0x00C0FA00);
	check("LAR of SS", vis.lar_ds & 0x00F0FE00, 0x00C0F200);
	check("LAR of 0x0b (DPL 0 code): ZF", vis.zf_lar_k, 0);
	check("  and the destination is kept", vis.lar_k, 0xDEADBEEF);
	check("LSL of SS", vis.lsl_ds, 0xFFFFFFFF);
	check("VERR CS, VERW CS, VERW SS", (uint32_t)vis.verr_cs << 8 | (uint32_t)vis.verw_cs << 4 | vis.verw_ds,
	      0x101);
	cpuid(0, k0);
	cpuid(1, k1);
	check_true("CPUID leaf 0 at CPL 3 = at CPL 0", !memcmp(vis.cpuid0, k0, sizeof(k0)));
	check("CPUID leaf 1 EAX at CPL 3 = at CPL 0", vis.cpuid1[0], k1[0]);
	check("CPUID leaf 1 ECX", vis.cpuid1[2], k1[2]);
	check("CPUID leaf 1 EDX", vis.cpuid1[3], k1[3]);

	user_proc_init(p, "visible-iopl3", prog_visible_iopl3, 0);
	p->regs.eflags |= EFLAGS_IOPL(3);
	run_alone(p);
	check("PUSHF after CLI at IOPL 3: IF and IOPL", vis.flags_cli & fl, EFLAGS_IOPL(3));
	check("PUSHF after STI at IOPL 3: IF and IOPL", vis.flags_sti & fl, EFLAGS_IF | EFLAGS_IOPL(3));

	group = "user-visible";
	run_cases("host-alias", host_alias_cases, sizeof(host_alias_cases) / sizeof(host_alias_cases[0]), 0);
	return check_done();
}

/* ======== main ======== */

static void setup_descriptors(void)
{
	ldt[0] = seg_desc((uint32_t)&based[8], 31, D_P | D_DPL(3) | D_DATA_RW, D_DB);
	gdt_set(S_LDT, seg_desc((uint32_t)ldt, sizeof(ldt) - 1, D_P | D_LDT, 0));
	gdt_set(S_BASED3, seg_desc((uint32_t)based, sizeof(based) - 1, D_P | D_DPL(3) | D_DATA_RW, D_DB));
	gdt_set(S_NP3, seg_desc(0, 0xFFFFF, D_DPL(3) | D_DATA_RW, D_G | D_DB));
	gdt_set(S_GATE3, gate_desc(GDT_KCODE, (uint32_t)gate_entry, D_P | D_DPL(3) | D_CALL32, 0));
	gdt_set(S_GATE0, gate_desc(GDT_KCODE, (uint32_t)gate_entry, D_P | D_CALL32, 0));
	__asm__ volatile("lldt %w0" : : "r"(S_LDT));
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t iters = guest_arg_u32("iters", COMPUTE_DEFAULT_ITERS);
	uint32_t nsys = guest_arg_u32("syscalls", 100000);
	int failed;

	(void)magic;
	(void)mbi;
	check_init("user");
	user_init();
	setup_descriptors();
	syscall_tests(nsys);
	compute_tests(iters);
	fault_tests();
	step_tests();
	segment_tests();
	irq_tests();
	kill_tests();
	failed = check_done();
	if (guest_arg_u32("visible", 1))
		failed |= visible_tests();
	return failed;
}
