/*
 * sdmonly: CPU behaviour where QEMU 7.2 (TCG) deviates from the SDM, so the
 * SDM is the oracle (tests/guests/sdmonly.oracle; run under bt only):
 *   - INT1/ICEBP (F1) is a #DB trap through gate 1 without a DPL check
 *     (SDM vol. 2, INT n/INTO/INT1/INT3; vol. 3, 6.15 "Interrupt 1"); QEMU
 *     raises #UD.
 *   - LOCK on MOV is #UD (SDM vol. 2, LOCK: only the listed read-modify-write
 *     instructions with a memory destination); QEMU runs it.
 *   - The EXT bit of an error code is 1 when the fault happens while
 *     delivering a hardware exception (SDM vol. 3, 6.13): #NP for the absent
 *     gate of #UD is 6*8+2+1 = 0x33; QEMU pushes 0x32.
 *   - LTR of a null selector is #GP(0) (SDM vol. 2, LTR); QEMU loads it.
 * Every expected value here is the SDM's, checked by hand.
 */
#include "lib/guest.h"

__asm__(".text\n"
	".globl icebp_case\nicebp_case:\n"
	"icebp_at: .byte 0xf1\n"
	"icebp_next: ret\n"
	".globl lockmov_case\nlockmov_case:\n"
	"lockmov_at: .byte 0xf0, 0x89, 0x03\n"	/* lock mov %eax, (%ebx) */
	"lockmov_next: ret\n"
	".globl ud2_case\nud2_case:\n"
	"ud2_at: ud2\n"
	"ud2_next: ret\n"
	".globl ltr_case\nltr_case:\n"
	"  xorl %eax, %eax\n"
	"ltr_at: ltr %ax\n"
	"ltr_next: ret\n");
void icebp_case(void), lockmov_case(void), ud2_case(void), ltr_case(void);
extern char icebp_at[], icebp_next[], lockmov_at[], lockmov_next[], ud2_at[], ud2_next[],
	ltr_at[], ltr_next[];

static uint32_t lock_target = 0x11111111;

static void run(void (*fn)(void), const char *resume)
{
	trap_catch((uint32_t)resume);
	__asm__ volatile("call *%0" : : "r"(fn), "a"(0x22222222u), "b"(&lock_target)
			 : "ecx", "edx", "esi", "edi", "memory", "cc");
	trap_uncatch();
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("sdmonly");

	guest_printf("sdmonly: INT1 (ICEBP):\n");
	run(icebp_case, icebp_next);
	check("  exceptions", trap_hits, 1);
	check("  vector (#DB)", trap_seen.vector, 1);
	check("  EIP after the instruction (a trap)", trap_seen.eip - (uint32_t)icebp_next, 0);
	check("  RF pushed", trap_seen.eflags >> 16 & 1, 0);

	guest_printf("sdmonly: LOCK MOV to memory:\n");
	run(lockmov_case, lockmov_next);
	check("  exceptions", trap_hits, 1);
	check("  vector (#UD)", trap_seen.vector, 6);
	check("  EIP at the instruction (a fault)", trap_seen.eip - (uint32_t)lockmov_at, 0);
	check("  memory not written", lock_target, 0x11111111);

	guest_printf("sdmonly: ud2 with gate 6 not present:\n");
	uint64_t gate6 = idt_get(6);
	idt_set(6, gate6 & ~(1ull << 47));
	run(ud2_case, ud2_next);
	idt_set(6, gate6);
	check("  exceptions", trap_hits, 1);
	check("  vector (#NP)", trap_seen.vector, 11);
	check("  error code: IDT entry 6, EXT=1", trap_seen.error, 6 * 8 + 2 + 1);
	check("  EIP at the ud2", trap_seen.eip - (uint32_t)ud2_at, 0);

	guest_printf("sdmonly: LTR of a null selector:\n");
	run(ltr_case, ltr_next);
	check("  exceptions", trap_hits, 1);
	check("  vector (#GP)", trap_seen.vector, 13);
	check("  error code", trap_seen.error, 0);
	check("  EIP at the ltr", trap_seen.eip - (uint32_t)ltr_at, 0);
	return check_done();
}
