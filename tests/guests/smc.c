/*
 * smc: self-modifying code. The SDM makes a store to code architecturally
 * visible to the instructions fetched after it if, between the store and
 * the new code, there is a jump or a serializing instruction (SDM vol. 3,
 * 8.1.3 "Handling Self- and Cross-Modifying Code", options 1 and 2); code
 * changed through another linear address than the one it runs at needs the
 * serializing instruction (11.6). Every case here follows those rules:
 *   imm        an immediate patched by a store, then the function called
 *              (the call is the jump), rounds times with new values;
 *   ahead      a function that stores into an instruction a few bytes ahead
 *              of itself, then jumps to it;
 *   serial     the same with CPUID between the store and the instruction;
 *   loop       a loop whose body rewrites an instruction of its own block,
 *              behind the store, before jumping back to it, 1000 times;
 *   cross      code patched at one CPL and run at the other;
 *   alias      (paging) a code page written through a second, writable
 *              linear mapping, then CPUID, then called at the first one;
 *              the first mapping moved to another physical page and INVLPG.
 * Each group runs at CPL 0 and in a process at CPL 3, first with paging off,
 * then with paging on (the kernel identity-mapped, user-accessible and
 * writable, code included).
 */
#include "lib/guest.h"

#define ROUNDS		50
#define LOOP_ROUNDS	1000
#define CODE_X		0x48000000u	/* a code page, read-only and executable */
#define CODE_W		0x48001000u	/* the same physical page, writable */

/*
 * smc_imm returns its immediate. smc_ahead and smc_serial store EAX into
 * the immediate of the MOV ahead of them and return what it loads.
 * smc_loop(ECX = n) rewrites the immediate of its first instruction each
 * round and returns the sum of the values it loaded: 0 + 1 + ... + n-1.
 */
__asm__(".text\n"
	".globl smc_imm\n"
	"smc_imm: movl $0, %eax\n  ret\n"
	".globl smc_ahead\n"
	"smc_ahead:\n"
	"  movl %eax, smc_ahead_insn + 1\n"
	"  jmp smc_ahead_insn\n"
	"smc_ahead_insn: movl $0, %eax\n"
	"  ret\n"
	".globl smc_serial\n"
	"smc_serial:\n"
	"  pushl %ebx\n"
	"  movl %eax, smc_serial_insn + 1\n"
	"  xorl %eax, %eax\n"
	"  cpuid\n"
	"smc_serial_insn: movl $0, %eax\n"
	"  popl %ebx\n"
	"  ret\n"
	".globl smc_loop\n"
	"smc_loop:\n"
	"  pushl %esi; pushl %edi\n"
	"  xorl %edx, %edx; movl $1, %esi; movl %ecx, %edi\n"
	"  movl $0, smc_loop_insn + 1\n"
	"  jmp smc_loop_insn\n"
	"smc_loop_insn: movl $0, %eax\n"
	"  addl %eax, %edx\n"
	"  movl %esi, smc_loop_insn + 1\n"
	"  incl %esi\n"
	"  decl %edi\n"
	"  jnz smc_loop_insn\n"
	"  movl %edx, %eax\n"
	"  popl %edi; popl %esi\n"
	"  ret\n");
extern char smc_imm[], smc_ahead[], smc_serial[], smc_loop[];

static uint32_t call_imm(void)
{
	uint32_t v;

	__asm__ volatile("call smc_imm" : "=a"(v) : : "memory");
	return v;
}

static void patch_imm(uint32_t v)
{
	*(volatile uint32_t *)(smc_imm + 1) = v;
}

static void serialize(void)
{
	uint32_t r[4];

	guest_cpuid(0, r);
}

/* ======== the groups both CPLs run ======== */

enum { C_IMM, C_AHEAD, C_SERIAL, C_LOOP, C_ALIAS, NCASES };
static const char *const case_what[NCASES] = {
	"imm: immediate patched, then called",
	"ahead: store ahead, then a jump to it",
	"serial: store ahead, then CPUID",
	"loop: its own block rewritten, then a jump back",
	"alias: written at 0x48001000, CPUID, called at 0x48000000",
};
static uint32_t bad[NCASES];
static int with_alias;

static uint32_t call_alias(void)
{
	uint32_t v;

	__asm__ volatile("call *%1" : "=a"(v) : "r"(CODE_X) : "memory");
	return v;
}

/* At CPL 0 or 3: counts the rounds in which the new code did not run. */
static uint32_t run_cases(uint32_t salt)
{
	uint32_t v, got, sum;

	memset(bad, 0, sizeof(bad));
	for (uint32_t i = 0; i < ROUNDS; i++) {
		v = salt ^ (0x01010101u * i);
		patch_imm(v);
		bad[C_IMM] += call_imm() != v;
		__asm__ volatile("call smc_ahead" : "=a"(got) : "a"(v + 1) : "memory");
		bad[C_AHEAD] += got != v + 1;
		__asm__ volatile("call smc_serial" : "=a"(got) : "a"(v + 2) : "ecx", "edx", "memory");
		bad[C_SERIAL] += got != v + 2;
		if (with_alias) {
			*(volatile uint32_t *)(CODE_W + 1) = v + 3;
			serialize();
			bad[C_ALIAS] += call_alias() != v + 3;
		}
	}
	__asm__ volatile("call smc_loop" : "=a"(sum) : "c"(LOOP_ROUNDS) : "edx", "memory");
	bad[C_LOOP] = sum != LOOP_ROUNDS * (LOOP_ROUNDS - 1) / 2;
	return 0;
}

static void report(const char *cpl)
{
	char what[96];

	for (int i = 0; i < NCASES; i++) {
		if (i == C_ALIAS && !with_alias)
			continue;
		guest_snprintf(what, sizeof(what), "%s %s: rounds wrong", cpl, case_what[i]);
		check(what, bad[i], 0);
	}
}

static struct user_proc proc;

/* Runs fn(arg) in a process at CPL 3; returns its exit status (~0 if killed). */
static uint32_t run_user(uint32_t (*fn)(uint32_t), uint32_t arg)
{
	user_proc_init(&proc, "smc", fn, arg);
	while (user_run(&proc) == USER_READY)
		;
	if (proc.state != USER_EXITED) {
		guest_printf("smc: process killed by vector %u at 0x%08x (error 0x%x)\n", proc.fault.vector,
			     proc.fault.eip, proc.fault.error);
		return ~0u;
	}
	return proc.status;
}

/* ======== cross: patched at one CPL, run at the other ======== */

static uint32_t prog_patch(uint32_t v)
{
	patch_imm(v);
	return 0;
}

static uint32_t prog_call(uint32_t arg)
{
	(void)arg;
	return call_imm();
}

static void cross_tests(void)
{
	patch_imm(0x0C0C0C0C);
	check("cross: the kernel calls smc_imm", call_imm(), 0x0C0C0C0C);
	run_user(prog_patch, 0x33333333);
	check("cross: patched at CPL 3, called at CPL 0", call_imm(), 0x33333333);
	patch_imm(0x00C0FFEE);
	check("cross: patched at CPL 0, called at CPL 3", run_user(prog_call, 0), 0x00C0FFEE);
}

/* ======== alias: one code page at two linear addresses ======== */

/* movl $imm, %eax; ret */
static uint8_t *code_page(uint32_t imm)
{
	uint8_t *p = pg_alloc();

	p[0] = 0xb8;
	memcpy(p + 1, &imm, 4);
	p[5] = 0xc3;
	return p;
}

static uint32_t prog_alias_write(uint32_t v)
{
	*(volatile uint32_t *)(CODE_W + 1) = v;
	return 0;
}

static void alias_tests(uint32_t *pd)
{
	uint8_t *p1 = code_page(0x11111111), *p2 = code_page(0x22222222);

	pg_map(pd, CODE_X, (uint32_t)p1, PTE_P | PTE_U);
	pg_map(pd, CODE_W, (uint32_t)p1, PTE_P | PTE_W | PTE_U);
	check("alias: the code page called at 0x48000000", call_alias(), 0x11111111);
	run_user(prog_alias_write, 0x44444444);
	serialize();
	check("alias: written at CPL 3 through 0x48001000, called at CPL 0", call_alias(), 0x44444444);

	pg_map(pd, CODE_X, (uint32_t)p2, PTE_P | PTE_U);
	invlpg(CODE_X);
	check("alias: 0x48000000 moved to another page, INVLPG, called", call_alias(), 0x22222222);
	pg_map(pd, CODE_X, (uint32_t)p1, PTE_P | PTE_U);
	invlpg(CODE_X);
	check("alias: moved back, INVLPG, called", call_alias(), 0x44444444);
	with_alias = 1;
}

static void run_groups(const char *phase)
{
	guest_printf("smc: -- %s, CPL 0 --\n", phase);
	run_cases(0x5A000000);
	report("CPL 0");
	guest_printf("smc: -- %s, CPL 3 --\n", phase);
	check("process exit status", run_user(run_cases, 0xA5000000), 0);
	report("CPL 3");
	guest_printf("smc: -- %s, cross --\n", phase);
	cross_tests();
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t *pd;

	(void)magic;
	(void)mbi;
	check_init("smc");
	user_init();
	run_groups("paging off");

	pd = pg_dir_kernel(PTE_P | PTE_W | PTE_U);
	pg_enable(pd, 0);
	guest_printf("smc: -- paging on, alias --\n");
	alias_tests(pd);
	run_groups("paging on");
	return check_done();
}
