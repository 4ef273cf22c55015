/*
 * The corpus's cases (SDM vol. 2 per instruction; vol. 3 chapters 5-7 for
 * privilege checks, gates and the TSS; vol. 1, 19.5 for I/O permission):
 * snippets and the tables that make families of cases from them, by CPL,
 * IOPL, selector, gate DPL or prefix.
 */
#include "corpus.h"

#define MSR_SE_CS	0x174
#define MSR_SE_ESP	0x175
#define MSR_SE_EIP	0x176
#define CR0_MP		0x2u
#define CR0_EM		0x4u
#define CR0_TS		0x8u
#define CR0_NW		0x20000000u
#define CR4_TSD		0x4u
#define CR4_DE		0x8u
#define SCRATCH		0x3ff	/* COM1 scratch register: a port that reads back */

#define S_(x) #x
#define S(x) S_(x)

static uint64_t ldt[2];
static uint32_t cr0_home, cr4_home;
static uint8_t se_stack[1024] __attribute__((aligned(16)));
static uint32_t *pg_dir;

/* ---- snippets ---- */

/* EFLAGS */
SNIP(s_popf, "pushl %eax\n popfl\n nop\n nop\n nop");
SNIP(s_popfw, "pushw %ax\n popfw\n nop");
SNIP(s_pushf, "pushfl\n popl %ebx");
SNIP(s_pushfw, "pushfw\n popw %bx");
SNIP(s_cli, "cli\n pushfl\n popl %ebx");
SNIP(s_sti, "sti\n pushfl\n popl %ebx");
/* Interrupt shadows (an IRQ 0 is pending with IF=0) and the MOV SS / POP SS debug-trap shadow. */
SNIP(s_sti_shadow, "sti\n incl %esi\n incl %edi\n cli");
SNIP(s_popf_irq, "pushl $0x202\n popfl\n incl %esi\n cli");
SNIP(s_iret_irq, "pushl $0x202\n pushl %edx\n pushl $1f\n iret\n 1: incl %esi\n cli");
SNIP(s_sti_hlt, "sti\n hlt\n incl %esi\n cli");
SNIP(s_cli_irq, "cli\n incl %esi\n incl %edi");
SNIP(s_movss_tf, "pushfl\n orl $0x100, (%esp)\n popfl\n movw %cx, %ss\n incl %esi\n incl %edi");
SNIP(s_popss_tf, "pushl %ecx\n pushfl\n orl $0x100, (%esp)\n popfl\n popl %ss\n incl %esi\n incl %edi");
SNIP(s_hlt, "hlt\n incl %esi");

/* Descriptor-table registers and the machine status word */
SNIP(s_sgdt, "sgdt cbuf");
SNIP(s_sidt, "sidt cbuf");
SNIP(s_sldt_r, "sldt %bx");
SNIP(s_sldt_m, "sldt cbuf");
SNIP(s_str_r, "str %bx");
SNIP(s_str_m, "str cbuf");
SNIP(s_smsw_r16, "smsw %bx");
SNIP(s_smsw_r32, "smsw %ebx\n andl $0xffff, %ebx");
SNIP(s_smsw_m, "smsw cbuf");
SNIP(s_lgdt, "sgdt cbuf\n lgdt cbuf\n incl %esi");
SNIP(s_lidt, "sidt cbuf\n lidt cbuf\n incl %esi");
SNIP(s_lldt, "sldt %ax\n lldt %ax\n incl %esi");
SNIP(s_ltr, "movl $" S(GDT_TSS) ", %eax\n ltr %ax\n incl %esi");

/* Access rights and limits: EAX is the selector */
SNIP(s_lar, "larl %eax, %ebx");
SNIP(s_lsl, "lsll %eax, %ebx");
SNIP(s_verr, "verr %ax");
SNIP(s_verw, "verw %ax");

/* Control and debug registers */
SNIP(s_rd_cr0, "movl %cr0, %ebx");
SNIP(s_rd_cr2, "movl %cr2, %ebx");
SNIP(s_rd_cr3, "movl %cr3, %ebx");
SNIP(s_rd_cr4, "movl %cr4, %ebx");
SNIP(s_wr_cr0, "movl %cr0, %ebx\n xorl %eax, %ebx\n movl %ebx, %cr0\n movl %cr0, %esi");
SNIP(s_wr_cr3, "movl %cr3, %ebx\n movl %ebx, %cr3\n incl %esi");
SNIP(s_wr_cr4, "movl %cr4, %ebx\n xorl %eax, %ebx\n movl %ebx, %cr4\n movl %cr4, %esi");
SNIP(s_cr1, ".byte 0x0f, 0x20, 0xcb");	/* mov %cr1, %ebx */
SNIP(s_cr5, ".byte 0x0f, 0x22, 0xe8");	/* mov %eax, %cr5 */
SNIP(s_dr0, "movl %eax, %dr0\n movl %dr0, %ebx");
SNIP(s_dr1, "movl %eax, %dr1\n movl %dr1, %ebx");
SNIP(s_dr2, "movl %eax, %dr2\n movl %dr2, %ebx");
SNIP(s_dr3, "movl %eax, %dr3\n movl %dr3, %ebx");
SNIP(s_rd_dr6, "movl %dr6, %ebx");
SNIP(s_dr7, "movl %eax, %dr7\n movl %dr7, %ebx\n xorl %eax, %eax\n movl %eax, %dr7");
SNIP(s_rd_dr4, ".byte 0x0f, 0x21, 0xe3");	/* mov %dr4, %ebx */
SNIP(s_rd_dr5, ".byte 0x0f, 0x21, 0xeb");	/* mov %dr5, %ebx */

/* Segment registers: EAX the selector, ECX the home data selector */
SNIP(s_mov_ds, "movw %ax, %ds\n movw %ds, %bx\n movw %cx, %ds");
SNIP(s_mov_es, "movw %ax, %es\n movw %es, %bx\n movw %cx, %es");
SNIP(s_mov_fs, "movw %ax, %fs\n movw %fs, %bx\n movw %cx, %fs");
SNIP(s_mov_gs, "movw %ax, %gs\n movw %gs, %bx\n movw %cx, %gs");
SNIP(s_mov_ss, "movw %ax, %ss\n movw %ss, %bx\n movw %cx, %ss");
SNIP(s_push_cs, "pushl %cs\n popl %ebx\n movzwl %bx, %ebx");
SNIP(s_push_ds, "pushl %ds\n popl %ebx\n movzwl %bx, %ebx");
SNIP(s_push_ss, "pushl %ss\n popl %ebx\n movzwl %bx, %ebx");
SNIP(s_push_fs, "pushl %fs\n popl %ebx\n movzwl %bx, %ebx");
SNIP(s_pushw_cs, "pushw %cs\n popw %bx");
SNIP(s_mov_cs, "movw %cs, %bx");
SNIP(s_pop_ds, "pushl %eax\n popl %ds\n movw %ds, %bx\n movw %cx, %ds");
SNIP(s_pop_es, "pushl %eax\n popl %es\n movw %es, %bx\n movw %cx, %es");
SNIP(s_pop_ss, "pushl %eax\n popl %ss\n movw %ss, %bx\n movw %cx, %ss");
/* Far pointers at cbuf: offset 0x12345678, selector from the case */
SNIP(s_lds, "ldsl cbuf, %ebx\n movw %ds, %dx\n movw %cx, %ds");
SNIP(s_les, "lesl cbuf, %ebx\n movw %es, %dx\n movw %cx, %es");
SNIP(s_lfs, "lfsl cbuf, %ebx\n movw %fs, %dx\n movw %cx, %fs");
SNIP(s_lgs, "lgsl cbuf, %ebx\n movw %gs, %dx\n movw %cx, %gs");
SNIP(s_lss, "lssl cbuf, %ebx\n movw %ss, %dx\n movw %cx, %ss");
SNIP(s_ldsw, "ldsw cbuf, %bx\n movw %ds, %dx\n movw %cx, %ds");

/* Far transfers: EAX the target selector, EDX the home code selector */
SNIP(s_ljmp, "movl $1f, cbuf\n movw %ax, cbuf+4\n ljmp *cbuf\n"
	     "1: movw %cs, %bx\n movl $2f, cbuf\n movw %dx, cbuf+4\n ljmp *cbuf\n 2:");
SNIP(s_lcall, "movl $1f, cbuf\n movw %ax, cbuf+4\n lcall *cbuf\n jmp 2f\n"
	      "1: movw %cs, %bx\n movw %ss, %di\n lret\n 2: movw %cs, %si");
SNIP(s_lcall_p2, "pushl $0x22222222\n pushl $0x11111111\n movw %ax, cbuf+4\n lcall *cbuf\n movw %cs, %si");
SNIP(s_lret, "pushl %edx\n pushl $1f\n lret\n 1: movw %cs, %bx");
SNIP(s_lret_in, "pushl $" S(SEL_KCODE) "\n pushl $1f\n lret\n 1: movw %cs, %bx");
/* CPL 0 to 3 by LRET, IRET and SYSEXIT, back by INT 0x44 (a DPL 3 gate): DS is nulled if DPL < 3 */
SNIP(s_lret_out, "movl %esp, %esi\n pushl $" S(SEL_UDATA) "\n pushl %esi\n pushl $" S(SEL_UCODE) "\n pushl $1f\n lret\n"
		 "1: movw %ds, %bx\n movw %ss, %di\n int $0x44");
SNIP(s_iret_out, "movl %esp, %esi\n pushl $" S(SEL_UDATA) "\n pushl %esi\n pushl %eax\n pushl $" S(SEL_UCODE) "\n pushl $1f\n iret\n"
		 "1: movw %ds, %bx\n movw %ss, %di\n pushfl\n popl %ebp\n int $0x44");
SNIP(s_iret, "pushl %eax\n pushl %edx\n pushl $1f\n iret\n 1: pushfl\n popl %ebx\n movw %cs, %si");
SNIP(s_iret_in, "pushl %eax\n pushl $" S(SEL_KCODE) "\n pushl $1f\n iret\n 1: movw %cs, %bx");
/* Gate targets at CPL 0 */
__asm__(".text\n.globl cg_ret, cg_ret_p2\n"
	"cg_ret: movw %cs, %bx\n movw %ss, %di\n lret\n"
	"cg_ret_p2: movw %cs, %bx\n movl 8(%esp), %edi\n movl 12(%esp), %ebp\n lret $8\n");
extern char cg_ret[], cg_ret_p2[];

/* INT n, INT3, INTO, INT1 against the gate's DPL */
SNIP(s_int41, "int $0x41\n nop");
SNIP(s_int3, "int3\n nop");
SNIP(s_int_3, ".byte 0xcd, 0x03\n nop");
SNIP(s_into, "into\n incl %esi");
SNIP(s_int1, ".byte 0xf1\n nop");
SNIP(s_int4, "int $4\n nop");

/* SYSENTER / SYSEXIT (SYSENTER_CS 0x40: 0x48 stack, 0x50|3 code, 0x58|3 stack) */
SNIP(s_sysenter3, "movl %esp, %ecx\n movl $1f, %edx\n sysenter\n 1: movw %cs, %bx\n movw %ss, %si");
SNIP(s_sysenter0, "sysenter");
SNIP(s_sysexit, "movl %esp, %ecx\n movl $1f, %edx\n sysexit\n 1: movw %cs, %bx\n movw %ss, %si\n int $0x44");
__asm__(".text\n.globl se_k2u, se_k0\n"
	"se_k2u: movw %cs, %di\n movw %ss, %bp\n pushfl\n popl %eax\n sysexit\n"
	"se_k0: movw %cs, %bx\n movw %ss, %si\n pushfl\n popl %eax\n ljmp $" S(SEL_KCODE) ", $1f\n"
	"1: movl $" S(SEL_KDATA) ", %edi\n movw %di, %ss\n movl cx_in+16, %esp\n jmp corpus_done\n");
extern char se_k2u[], se_k0[];

/* I/O: the scratch register holds 0x3c at the start */
SNIP(s_outb80, "movb $0x5a, %al\n outb %al, $0x80");
SNIP(s_inb80, "inb $0x80, %al\n movl $1, %eax");	/* what port 0x80 reads is the board's */
SNIP(s_scr, "movw $" S(SCRATCH) ", %dx\n outb %al, (%dx)\n movb $0, %al\n inb (%dx), %al");
SNIP(s_inw, "movw $0x3fe, %dx\n inw (%dx), %ax\n andl $0xff00, %eax");
SNIP(s_inl, "movw $0x3fc, %dx\n inl (%dx), %eax\n andl $0xff000000, %eax");
SNIP(s_insb, "movw $" S(SCRATCH) ", %dx\n movl $cbuf, %edi\n movl $2, %ecx\n cld\n rep insb");
SNIP(s_outsb, "movw $" S(SCRATCH) ", %dx\n movl $cbuf+1, %esi\n outsb\n inb (%dx), %al");
SNIP(s_inb_hi, "movw $0x4ff, %dx\n inb (%dx), %al\n movb $1, %bl");

/* CPUID, RDTSC, MSRs, cache and TLB control, CLTS, LMSW */
SNIP(s_cpuid1, "movl $1, %eax\n cpuid\n andl $0x131, %edx\n xorl %eax, %eax\n xorl %ebx, %ebx\n xorl %ecx, %ecx");
SNIP(s_cpuid0, "xorl %eax, %eax\n cpuid\n cmpl $1, %eax\n setae %al\n movzbl %al, %eax\n xorl %ebx, %ebx\n xorl %ecx, %ecx\n xorl %edx, %edx");
SNIP(s_rdtsc, "rdtsc\n movl %eax, %esi\n movl %edx, %edi\n rdtsc\n subl %esi, %eax\n sbbl %edi, %edx\n"
	      " movl $0, %ebx\n jb 1f\n movl $1, %ebx\n 1: xorl %eax, %eax\n xorl %edx, %edx\n"
	      " movl $" S(IN_ESI) ", %esi\n movl $" S(IN_EDI) ", %edi");
SNIP(s_rdpmc, "xorl %ecx, %ecx\n rdpmc");
SNIP(s_rdmsr, "rdmsr");
SNIP(s_wrmsr, "wrmsr\n xorl %eax, %eax\n rdmsr");
SNIP(s_invlpg, "invlpg cbuf\n incl %esi");
SNIP(s_wbinvd, "wbinvd\n incl %esi");
SNIP(s_invd, "invd\n incl %esi");
SNIP(s_clts, "clts\n movl %cr0, %ebx");
SNIP(s_lmsw, "lmsw %ax\n movl %cr0, %ebx");
SNIP(s_lmsw_m, "movw %ax, cbuf\n lmsw cbuf\n movl %cr0, %ebx");

/* Instructions across a page boundary (the 4 KiB page after cross_* starts at 2 or 1 bytes in) */
#define CROSS(n, pre, insn) SNIP(n, "jmp 1f\n .balign 4096\n .skip 4096 - " #pre "\n 1: " insn)
CROSS(s_cross_mov, 3, "movl $0x12345678, %ebx");
CROSS(s_cross_cr0, 1, "movl %cr0, %ebx");
CROSS(s_cross_cpuid, 1, "cpuid\n xorl %eax, %eax\n xorl %ebx, %ebx\n xorl %ecx, %ecx\n xorl %edx, %edx");
CROSS(s_cross_int, 1, "int $0x41");
CROSS(s_cross_ud2, 1, "ud2");
CROSS(s_cross_pfx, 2, ".byte 0x3e, 0x66, 0xb8, 0x34, 0x12");
CROSS(s_cross_pf, 3, "movl $0x12345678, %ebx\n jmp 2f\n .balign 4096\n 2:");
extern char s_cross_pf[];

/* Self-modifying code */
SNIP(s_smc_next, "movb $0x42, 1f+1\n 1: movb $0x11, %bl\n movb $0x11, 1b+1");
SNIP(s_smc_loop, "movb $0, %bl\n xorl %edx, %edx\n 2: movb %dl, 1f+1\n 1: movb $0x77, %al\n addb %al, %bl\n"
		 " incl %edx\n cmpl $3, %edx\n jb 2b\n movb $0x77, 1b+1");
SNIP(s_smc_call, "movb $0x99, smc_target+1\n call smc_target\n movb $0x11, smc_target+1");
SNIP(s_smc_rep, "movl $smc_src, %esi\n movl $1f, %edi\n movl $5, %ecx\n cld\n rep movsb\n"
		"1: nop\n nop\n nop\n nop\n nop\n movl $0x90909090, 1b\n movb $0x90, 1b+4");
__asm__(".text\nsmc_target: movb $0x11, %bh\n ret\n"
	"smc_src: movl $0xabcdef01, %ebx\n");

/* Prefixes (cbuf holds bytes 0, 1, 2, ...; SEL_SMALL is cbuf with limit 15) */
SNIP(s_lock_nop, ".byte 0xf0, 0x90");
SNIP(s_lock_add, "lock addl $1, cbuf");
SNIP(s_lock_mov, ".byte 0xf0\n movl %eax, cbuf");
SNIP(s_lock_reg, ".byte 0xf0\n addl %eax, %ebx");
SNIP(s_lock_xchg, "lock xchgl %eax, cbuf");
SNIP(s_rep_nop, "rep nop\n incl %esi");
SNIP(s_rep_inc, ".byte 0xf3\n incl %esi");
SNIP(s_repne_movs, "movl $cbuf, %esi\n movl $cbuf+8, %edi\n movl $3, %ecx\n cld\n repne movsb");
SNIP(s_rep_movs0, "movl $cbuf, %esi\n movl $cbuf+8, %edi\n xorl %ecx, %ecx\n cld\n rep movsb");
SNIP(s_fs_read, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n movl %fs:4, %ebx\n movw %cx, %fs");
SNIP(s_fs_redund, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n .byte 0x64, 0x64\n movl %fs:4, %ebx\n movw %cx, %fs");
SNIP(s_seg_ds_last, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n .byte 0x64, 0x3e, 0x8b, 0x1d\n .long cbuf+8\n movw %cx, %fs");
SNIP(s_seg_fs_last, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n .byte 0x3e, 0x64, 0x8b, 0x1d\n .long 8\n movw %cx, %fs");
SNIP(s_fs_limit, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n movl %fs:13, %ebx\n movw %cx, %fs");
SNIP(s_cs_write, ".byte 0x2e\n movl %eax, cbuf");
SNIP(s_cs_read, "movl %cs:cbuf, %ebx");
SNIP(s_ss_read, "movl %ss:cbuf+4, %ebx");
SNIP(s_opsize2, ".byte 0x66, 0x66, 0xb8, 0x34, 0x12");
SNIP(s_len15, ".fill 14, 1, 0x3e\n nop\n incl %esi");
SNIP(s_len16, ".fill 15, 1, 0x3e\n nop\n incl %esi");
SNIP(s_len16_mov, ".fill 10, 1, 0x3e\n movl $0x12345678, cbuf");
SNIP(s_repconf_stos, "movl $cbuf, %edi\n movl $3, %ecx\n movb $0x77, %al\n cld\n .byte 0xf2, 0xf3\n stosb");
SNIP(s_stosw16, "movl $cbuf, %edi\n movw $0x7788, %ax\n cld\n .byte 0x66\n stosl");
SNIP(s_fs_stos, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n movl $cbuf+2, %edi\n movb $0x77, %al\n cld\n"
		" .byte 0x64\n stosb\n movw %cx, %fs");
SNIP(s_fs_movs, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n xorl %esi, %esi\n movl $cbuf+8, %edi\n cld\n"
		" .byte 0x64\n movsl\n movw %cx, %fs");
SNIP(s_fs_lods, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n movl $5, %esi\n cld\n .byte 0x64\n lodsb\n movw %cx, %fs");

/* Faults in the middle of REP string instructions (SEL_SMALL: limit 15) */
SNIP(s_rep_stos_gp, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %es\n movl $12, %edi\n movl $8, %ecx\n movb $0x77, %al\n"
		    " cld\n rep stosb\n movw %ss, %dx\n movw %dx, %es");
SNIP(s_rep_movs_gp, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n movl $10, %esi\n movl $cbuf+32, %edi\n movl $10, %ecx\n"
		    " cld\n .byte 0x64\n rep movsb\n movw %cx, %fs");
SNIP(s_rep_movsd_gp, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n movl $6, %esi\n movl $cbuf+32, %edi\n movl $4, %ecx\n"
		     " cld\n .byte 0x64\n rep movsl\n movw %cx, %fs");
SNIP(s_rep_stos_down, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %es\n movl $3, %edi\n movl $8, %ecx\n movb $0x77, %al\n"
		      " std\n rep stosb\n cld\n movw %ss, %dx\n movw %dx, %es");
SNIP(s_rep_ins_gp, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %es\n movl $14, %edi\n movl $4, %ecx\n movw $" S(SCRATCH) ", %dx\n"
		   " cld\n rep insb\n movw %ss, %dx\n movw %dx, %es");
SNIP(s_rep_outs_gp, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n movl $13, %esi\n movl $4, %ecx\n movw $" S(SCRATCH) ", %dx\n"
		    " cld\n .byte 0x64\n rep outsb\n movw %cx, %fs");
SNIP(s_repe_cmps, "movl $cbuf, %esi\n movl $cbuf+16, %edi\n movl $8, %ecx\n cld\n repe cmpsb");

/* Exceptions in the middle of a run of straight-line code */
SNIP(s_mid_de, "incl %esi\n incl %edi\n xorl %edx, %edx\n movl $7, %eax\n divl %edx\n incl %ebx");
SNIP(s_mid_ud, "incl %esi\n pushl %esi\n ud2\n incl %edi");
SNIP(s_mid_gp, "movw $" S(SEL_SMALL) ", %dx\n movw %dx, %fs\n incl %esi\n movl %fs:20, %ebx\n incl %edi\n movw %cx, %fs");
SNIP(s_mid_bp, "incl %esi\n int3\n incl %edi");
SNIP(s_mid_of, "movl $0x7fffffff, %eax\n incl %esi\n addl $1, %eax\n into\n incl %edi");
SNIP(s_mid_br, "movl $5, %eax\n incl %esi\n boundl %eax, cbuf\n incl %edi");
SNIP(s_mid_push, "pushl %esi\n pushl %edi\n stc\n ud2\n popl %edi");
SNIP(s_mid_np, "incl %esi\n movw %ax, %ds\n incl %edi");

/* ---- setups ---- */

static void su_ldt0(const struct ccase *c)
{
	(void)c;
	__asm__ volatile("lldt %w0" : : "r"(0));
}

static void su_ts(const struct ccase *c)
{
	(void)c;
	write_cr0(read_cr0() | CR0_TS | CR0_MP);
}

static void su_farptr(const struct ccase *c)
{
	*(uint32_t *)cbuf = 0x12345678;
	*(uint16_t *)(cbuf + 4) = (uint16_t)c->arg;
}

static void su_farptr16(const struct ccase *c)
{
	*(uint16_t *)cbuf = 0x5678;
	*(uint16_t *)(cbuf + 2) = (uint16_t)c->arg;
}

static void su_irq(const struct ccase *c)
{
	(void)c;
	pend_irq0();
	pic_set_mask(0xFFFE);
}

static void su_gate_dpl(const struct ccase *c)
{
	idt_set_dpl(c->arg & 0xFF, c->arg >> 8);
}

static void su_gate_np(const struct ccase *c)
{
	idt_set(c->arg, idt_get(c->arg) & ~((uint64_t)D_P << 40));
}

static void su_int44(const struct ccase *c)
{
	(void)c;
	idt_set_dpl(0x44, 3);
}

static void su_sysenter(const struct ccase *c)
{
	wrmsr(MSR_SE_CS, c->arg);
	wrmsr(MSR_SE_ESP, (uint32_t)(se_stack + sizeof(se_stack)));
	wrmsr(MSR_SE_EIP, c->cpl == 3 ? (uint32_t)se_k2u : (uint32_t)se_k0);
	idt_set_dpl(0x44, 3);
}

static void su_cr4(const struct ccase *c)
{
	write_cr4(read_cr4() | c->arg);
}

/* arg: first port << 16 | count of ports allowed in the I/O bitmap */
static void su_io(const struct ccase *c)
{
	outb(SCRATCH, 0x3c);
	io_allow((uint16_t)(c->arg >> 16), c->arg & 0xFFFF);
}

static void su_fill(const struct ccase *c)
{
	(void)c;
	for (unsigned i = 0; i < sizeof(cbuf); i++)
		cbuf[i] = (uint8_t)i;
}

static void su_fill_io(const struct ccase *c)
{
	su_fill(c);
	su_io(c);
}

static void su_gate_call(const struct ccase *c)
{
	*(uint32_t *)cbuf = 0;
	*(uint16_t *)(cbuf + 4) = (uint16_t)c->arg;
}

/* Paging with the page after s_cross_pf's boundary not present. */
static void su_pf(const struct ccase *c)
{
	uint32_t next = ((uint32_t)s_cross_pf & ~4095u) + 8192;

	(void)c;
	if (!pg_dir) {
		pg_ident_init();
		pg_dir = pg_dir_kernel(PTE_P | PTE_W | PTE_U);
	}
	pg_map(pg_dir, next, next, PTE_P | PTE_W | PTE_U);
	pg_unmap(pg_dir, next);
	pg_enable(pg_dir, 0);
}

static void post_scratch(const struct ccase *c, char *buf, unsigned n)
{
	(void)c;
	guest_snprintf(buf, n, "scratch=%02x", inb(SCRATCH));
}

static void post_msr(const struct ccase *c, char *buf, unsigned n)
{
	guest_snprintf(buf, n, "msr=%x", (uint32_t)rdmsr(c->ecx));
}

void cases_reset(void)
{
	if (read_cr0() & CR0_PG)
		write_cr0(read_cr0() & ~CR0_PG);
	write_cr0(cr0_home);
	write_cr4(cr4_home);
	__asm__ volatile("lldt %w0" : : "r"(SEL_LDT));
	for (unsigned v = 0x41; v <= 0x44; v++)
		idt_reset(v);
	idt_reset(1);
	idt_reset(3);
	idt_reset(4);
	idt_set_dpl(3, 3);
	idt_set_dpl(4, 3);
	pic_set_mask(0xFFFF);
	user_io_allow(0x80, 0);
	for (unsigned p = 0x3f8; p < 0x400; p++)
		user_io_allow((uint16_t)p, 0);
	wrmsr(MSR_SE_CS, 0);
	wrmsr(MSR_SE_ESP, 0);
	wrmsr(MSR_SE_EIP, 0);
	__asm__ volatile("movl %0, %%dr7" : : "r"(0));
}

void cases_init(void)
{
	gdt_set(SEL_SE_CS, seg_desc(0, 0xFFFFF, D_P | D_CODE_XR | D_ACCESSED, D_G | D_DB));
	gdt_set(SEL_SE_CS + 8, seg_desc(0, 0xFFFFF, D_P | D_DATA_RW | D_ACCESSED, D_G | D_DB));
	gdt_set(SEL_SE_CS + 16, seg_desc(0, 0xFFFFF, D_P | D_DPL(3) | D_CODE_XR | D_ACCESSED, D_G | D_DB));
	gdt_set(SEL_SE_CS + 24, seg_desc(0, 0xFFFFF, D_P | D_DPL(3) | D_DATA_RW | D_ACCESSED, D_G | D_DB));
	gdt_set(SEL_NP, seg_desc(0, 0xFFFFF, D_DPL(3) | D_DATA_RW | D_ACCESSED, D_G | D_DB));
	gdt_set(SEL_SMALL, seg_desc((uint32_t)cbuf, 15, D_P | D_DPL(3) | D_DATA_RW | D_ACCESSED, D_DB));
	gdt_set(SEL_XO, seg_desc(0, 0xFFFFF, D_P | D_DPL(3) | D_CODE_XO | D_ACCESSED, D_G | D_DB));
	gdt_set(SEL_CONF, seg_desc(0, 0xFFFFF, D_P | D_CODE_XR_C | D_ACCESSED, D_G | D_DB));
	ldt[1] = seg_desc(0, 0xFFFFF, D_P | D_DPL(3) | D_DATA_RW | D_ACCESSED, D_G | D_DB);
	gdt_set(SEL_LDT, seg_desc((uint32_t)ldt, sizeof(ldt) - 1, D_P | D_LDT, 0));
	gdt_set(SEL_GATE3, gate_desc(SEL_KCODE, (uint32_t)cg_ret, D_P | D_DPL(3) | D_CALL32, 0));
	gdt_set(SEL_GATE0, gate_desc(SEL_KCODE, (uint32_t)cg_ret, D_P | D_CALL32, 0));
	gdt_set(SEL_GATE3P, gate_desc(SEL_KCODE, (uint32_t)cg_ret_p2, D_P | D_DPL(3) | D_CALL32, 2));
	gdt_set(SEL_GATENP, gate_desc(SEL_KCODE, (uint32_t)cg_ret, D_DPL(3) | D_CALL32, 0));
	gdt_set(SEL_RO, seg_desc(0, 0xFFFFF, D_P | D_DATA_RO | D_ACCESSED, D_G | D_DB));
	gdt_set(SEL_INTG, gate_desc(SEL_KCODE, (uint32_t)cg_ret, D_P | D_INT32, 0));
	gdt_set(SEL_GATE3U, gate_desc(SEL_UCODE, (uint32_t)cg_ret, D_P | D_DPL(3) | D_CALL32, 0));
	/* Accessed bits set in the lib's descriptors too, so LAR reads the same whatever ran before. */
	for (unsigned s = GDT_KCODE; s <= GDT_R3DATA; s += 8)
		gdt_set((uint16_t)s, gdt_get((uint16_t)s) | (uint64_t)D_ACCESSED << 40);
	cr0_home = read_cr0() & ~(CR0_TS | CR0_MP | CR0_EM);
	cr4_home = read_cr4();
	cases_reset();
}

/* ---- families ---- */

struct ctx { unsigned cpl, iopl; const char *tag; };
static const struct ctx ctx6[] = {
	{ 0, 0, "cpl0-iopl0" }, { 0, 3, "cpl0-iopl3" }, { 3, 0, "cpl3-iopl0" },
	{ 3, 1, "cpl3-iopl1" }, { 3, 2, "cpl3-iopl2" }, { 3, 3, "cpl3-iopl3" },
};
static const struct ctx ctx2[] = { { 0, 0, "cpl0" }, { 3, 0, "cpl3" } };

static char nbuf[64];
static const char *nm(const char *a, const char *b)
{
	guest_snprintf(nbuf, sizeof(nbuf), "%s/%s", a, b);
	return nbuf;
}

static struct ccase *add2(const char *name, char *snip, const struct ctx *x)
{
	return case_add(nm(name, x->tag), snip, x->cpl, x->iopl);
}

/* Each in ctx2 (CPL 0 and 3), with EAX = eax. */
static void both(const char *name, char *snip, uint32_t eax, case_fn setup)
{
	for (unsigned i = 0; i < 2; i++) {
		struct ccase *c = add2(name, snip, &ctx2[i]);

		c->eax = eax;
		c->setup = setup;
	}
}

static struct ccase *cpl0(const char *name, char *snip, uint32_t eax, case_fn setup)
{
	struct ccase *c = case_add(nm(name, "cpl0"), snip, 0, 0);

	c->eax = eax;
	c->setup = setup;
	return c;
}

static void add_eflags(void)
{
	static const struct { const char *n; uint32_t flag, set; } fl[] = {
		{ "if-set", F_IF, 1 }, { "if-clear", F_IF, 0 }, { "tf-set", F_TF, 1 },
		{ "ac-set", F_AC, 1 }, { "ac-clear", F_AC, 0 }, { "nt-set", F_NT, 1 },
		{ "nt-clear", F_NT, 0 }, { "id-set", F_ID, 1 }, { "id-clear", F_ID, 0 },
		{ "rf-set", F_RF, 1 }, { "df-set", F_DF, 1 }, { "df-clear", F_DF, 0 },
		{ "iopl-0", 0, 2 }, { "iopl-1", 0, 3 }, { "iopl-3", 0, 4 },
	};

	for (unsigned f = 0; f < sizeof(fl) / sizeof(fl[0]); f++) {
		for (unsigned i = 0; i < 6; i++) {
			const struct ctx *x = &ctx6[i];
			char name[32];
			struct ccase *c;
			uint32_t base;

			guest_snprintf(name, sizeof(name), "popf-%s", fl[f].n);
			c = add2(name, s_popf, x);
			/* A clear case starts with the flag set (IF: at CPL 3 it is). */
			if (fl[f].set == 0 && fl[f].flag != F_IF)
				c->eflags = fl[f].flag;
			if (fl[f].set == 0 && fl[f].flag == F_IF && x->cpl == 0)
				c->eflags = F_IF;
			base = EFLAGS_BIT1 | EFLAGS_IOPL(x->iopl) | c->eflags | (x->cpl == 3 ? F_IF : 0);
			if (fl[f].set == 1)
				c->eax = base | fl[f].flag;
			else if (fl[f].set == 0)
				c->eax = base & ~fl[f].flag;
			else
				c->eax = (base & ~EFLAGS_IOPL_MASK) | EFLAGS_IOPL(fl[f].set == 2 ? 0 : fl[f].set == 3 ? 1 : 3);
		}
	}
	for (unsigned i = 0; i < 6; i++) {
		add2("pushf", s_pushf, &ctx6[i]);
		add2("cli", s_cli, &ctx6[i]);
		add2("sti", s_sti, &ctx6[i]);
	}
	/* 16-bit POPF/PUSHF: only the low 16 bits (IOPL and IF under the same rules). */
	for (unsigned i = 0; i < 6; i += 5) {
		struct ccase *c = add2("popfw-iopl3-if0", s_popfw, &ctx6[i]);

		c->eax = EFLAGS_BIT1 | EFLAGS_IOPL(3);
		c = add2("popfw-iopl0", s_popfw, &ctx6[i == 0 ? 1 : 5]);
		c->eax = EFLAGS_BIT1 | F_IF;
		add2("pushfw", s_pushfw, &ctx6[i]);
	}
	/* Interrupt shadows, CPL 0, with IRQ 0 pending. */
	cpl0("irq-sti-shadow", s_sti_shadow, 0, su_irq);
	cpl0("irq-popf-no-shadow", s_popf_irq, 0, su_irq);
	cpl0("irq-iret-no-shadow", s_iret_irq, 0, su_irq)->edx = SEL_KCODE;
	cpl0("irq-sti-hlt", s_sti_hlt, 0, su_irq);
	cpl0("irq-cli-pending", s_cli_irq, 0, su_irq);
	both("tf-movss-shadow", s_movss_tf, 0, NULL);
	both("tf-popss-shadow", s_popss_tf, 0, NULL);
	case_add("hlt/cpl3-iopl0", s_hlt, 3, 0);
	case_add("hlt/cpl3-iopl3", s_hlt, 3, 3);
}

static void add_tables(void)
{
	struct ccase *c;

	for (unsigned i = 0; i < 2; i++) {
		const struct ctx *x = &ctx2[i];

		add2("sgdt", s_sgdt, x)->showbuf = 6;
		add2("sidt", s_sidt, x)->showbuf = 6;
		add2("sldt-reg", s_sldt_r, x);
		add2("sldt-mem", s_sldt_m, x)->showbuf = 4;
		add2("sldt-none", s_sldt_r, x)->setup = su_ldt0;
		add2("str-reg", s_str_r, x);
		add2("str-mem", s_str_m, x)->showbuf = 4;
		add2("smsw-reg16", s_smsw_r16, x);
		add2("smsw-reg32", s_smsw_r32, x);
		add2("smsw-mem", s_smsw_m, x)->showbuf = 4;
		add2("smsw-ts", s_smsw_r16, x)->setup = su_ts;
		add2("lgdt", s_lgdt, x);
		add2("lidt", s_lidt, x);
		add2("lldt", s_lldt, x);
		c = add2("ltr-busy", s_ltr, x);
		(void)c;
	}
}

static const struct { const char *n; uint32_t sel; } lar_sels[] = {
	{ "null", 0 }, { "kcode", SEL_KCODE }, { "kdata", SEL_KDATA }, { "udata", SEL_UDATA },
	{ "kdata-rpl3", SEL_KDATA | 3 }, { "conforming", SEL_CONF }, { "tss-busy", GDT_TSS },
	{ "ldt", SEL_LDT }, { "callgate3", SEL_GATE3 }, { "intgate", SEL_INTG }, { "not-present", SEL_NP | 3 },
	{ "beyond-gdt", SEL_BEYOND }, { "ldt-data", SEL_LDATA }, { "read-only", SEL_RO },
};

static void add_lar(void)
{
	static const struct { const char *n; char *s; } insn[] = {
		{ "lar", s_lar }, { "lsl", s_lsl }, { "verr", s_verr }, { "verw", s_verw },
	};

	for (unsigned k = 0; k < 4; k++)
		for (unsigned s = 0; s < sizeof(lar_sels) / sizeof(lar_sels[0]); s++) {
			char name[48];

			guest_snprintf(name, sizeof(name), "%s-%s", insn[k].n, lar_sels[s].n);
			both(name, insn[k].s, lar_sels[s].sel, NULL);
		}
}

static void add_crdr(void)
{
	struct ccase *c;

	both("mov-from-cr0", s_rd_cr0, 0, NULL);
	both("mov-from-cr2", s_rd_cr2, 0, NULL);
	both("mov-from-cr3", s_rd_cr3, 0, NULL);
	both("mov-from-cr4", s_rd_cr4, 0, NULL);
	both("mov-to-cr0-ts", s_wr_cr0, CR0_TS, NULL);
	cpl0("mov-to-cr0-mp", s_wr_cr0, CR0_MP, NULL);
	cpl0("mov-to-cr0-em", s_wr_cr0, CR0_EM, NULL);
	cpl0("mov-to-cr0-nw-without-cd", s_wr_cr0, CR0_NW, NULL)->sdm_only = 1;
	cpl0("mov-to-cr0-pg-without-pe", s_wr_cr0, CR0_PG | 1, NULL)->sdm_only = 1;
	cpl0("mov-to-cr0-reserved-bit12", s_wr_cr0, 0x00001000, NULL);
	both("mov-to-cr3", s_wr_cr3, 0, NULL);
	both("mov-to-cr4-tsd", s_wr_cr4, CR4_TSD, NULL);
	cpl0("mov-to-cr4-de", s_wr_cr4, CR4_DE, NULL);
	cpl0("mov-to-cr4-reserved", s_wr_cr4, 0x80000000, NULL)->sdm_only = 1;
	both("mov-cr1", s_cr1, 0, NULL);
	cpl0("mov-cr5", s_cr5, 0, NULL);
	both("mov-dr0", s_dr0, 0x1000, NULL);
	cpl0("mov-dr1", s_dr1, 0x2000, NULL);
	cpl0("mov-dr2", s_dr2, 0x3000, NULL);
	cpl0("mov-dr3", s_dr3, 0x4000, NULL);
	both("mov-from-dr6", s_rd_dr6, 0, NULL);
	both("mov-dr7", s_dr7, 0x00000400, NULL);
	cpl0("mov-dr7-l0", s_dr7, 0x00000001, NULL);
	cpl0("mov-from-dr4-de0", s_rd_dr4, 0, NULL);
	cpl0("mov-from-dr5-de0", s_rd_dr5, 0, NULL);
	c = cpl0("mov-from-dr4-de1", s_rd_dr4, 0, su_cr4);
	c->arg = CR4_DE;
}

static const struct { const char *n; uint32_t sel; } seg_sels[] = {
	{ "null", 0 }, { "kdata", SEL_KDATA }, { "udata", SEL_UDATA }, { "kdata-rpl3", SEL_KDATA | 3 },
	{ "ucode", SEL_UCODE }, { "exec-only", SEL_XO | 3 }, { "not-present", SEL_NP | 3 },
	{ "read-only", SEL_RO }, { "ldt-data", SEL_LDATA }, { "beyond-gdt", SEL_BEYOND | 3 },
	{ "r1data", SEL_R1DATA }, { "null-rpl3", 3 }, { "tss", GDT_TSS },
};

static void add_segs(void)
{
	static const struct { const char *n; char *s; unsigned all; } sr[] = {
		{ "ds", s_mov_ds, 1 }, { "ss", s_mov_ss, 1 }, { "fs", s_mov_fs, 1 },
		{ "es", s_mov_es, 0 }, { "gs", s_mov_gs, 0 },
	};
	static const struct { const char *n; char *s; } ld[] = {
		{ "lds", s_lds }, { "les", s_les }, { "lfs", s_lfs }, { "lgs", s_lgs }, { "lss", s_lss },
	};
	char name[48];

	for (unsigned r = 0; r < sizeof(sr) / sizeof(sr[0]); r++)
		for (unsigned s = 0; s < sizeof(seg_sels) / sizeof(seg_sels[0]); s++) {
			if (!sr[r].all && s > 2)
				continue;
			guest_snprintf(name, sizeof(name), "mov-%s-%s", sr[r].n, seg_sels[s].n);
			both(name, sr[r].s, seg_sels[s].sel, NULL);
		}
	both("push-cs", s_push_cs, 0, NULL);
	both("push-ds", s_push_ds, 0, NULL);
	both("push-ss", s_push_ss, 0, NULL);
	both("push-fs", s_push_fs, 0, NULL);
	both("pushw-cs", s_pushw_cs, 0, NULL);
	both("mov-from-cs", s_mov_cs, 0, NULL);
	for (unsigned s = 0; s < 7; s++) {
		guest_snprintf(name, sizeof(name), "pop-ds-%s", seg_sels[s].n);
		both(name, s_pop_ds, seg_sels[s].sel, NULL);
		if (s < 3) {
			guest_snprintf(name, sizeof(name), "pop-es-%s", seg_sels[s].n);
			both(name, s_pop_es, seg_sels[s].sel, NULL);
		}
		guest_snprintf(name, sizeof(name), "pop-ss-%s", seg_sels[s].n);
		both(name, s_pop_ss, seg_sels[s].sel, NULL);
	}
	for (unsigned l = 0; l < 5; l++) {
		static const struct { const char *n; uint32_t sel; } fs[] = {
			{ "home", 0 }, { "null", 0 }, { "not-present", SEL_NP | 3 }, { "kdata", SEL_KDATA },
			{ "udata", SEL_UDATA },
		};
		for (unsigned s = 0; s < 5; s++)
			for (unsigned i = 0; i < 2; i++) {
				struct ccase *c;

				guest_snprintf(name, sizeof(name), "%s-%s", ld[l].n, fs[s].n);
				c = add2(name, ld[l].s, &ctx2[i]);
				c->arg = s == 0 ? home_ds(ctx2[i].cpl) : fs[s].sel;
				c->setup = su_farptr;
			}
	}
	for (unsigned i = 0; i < 2; i++) {
		struct ccase *c = add2("ldsw-home", s_ldsw, &ctx2[i]);

		c->arg = home_ds(ctx2[i].cpl);
		c->setup = su_farptr16;
	}
}

static void add_far(void)
{
	static const struct { const char *n; uint32_t sel; } tg[] = {
		{ "kcode", SEL_KCODE }, { "ucode", SEL_UCODE }, { "conforming", SEL_CONF },
		{ "null", 0 }, { "udata", SEL_UDATA }, { "exec-only", SEL_XO | 3 },
		{ "callgate3", SEL_GATE3 }, { "callgate0", SEL_GATE0 }, { "callgate-np", SEL_GATENP | 3 },
		{ "callgate3-to-ucode", SEL_GATE3U | 3 }, { "kcode-rpl3", SEL_KCODE | 3 },
	};
	char name[48];

	for (unsigned t = 0; t < sizeof(tg) / sizeof(tg[0]); t++)
		for (unsigned i = 0; i < 2; i++) {
			struct ccase *c;
			uint32_t home = ctx2[i].cpl == 3 ? SEL_UCODE : SEL_KCODE;

			/* A JMP through a gate that reaches cg_ret would LRET to nowhere. */
			if (!memcmp(tg[t].n, "callgate", 8) && tg[t].sel != (SEL_GATENP | 3) &&
			    !(ctx2[i].cpl == 3 && tg[t].sel == SEL_GATE3) &&
			    !(ctx2[i].cpl == 0 && tg[t].sel == (SEL_GATE3U | 3)))
				goto call;
			guest_snprintf(name, sizeof(name), "ljmp-%s", tg[t].n);
			c = add2(name, s_ljmp, &ctx2[i]);
			c->eax = tg[t].sel;
			c->edx = home;
call:
			guest_snprintf(name, sizeof(name), "lcall-%s", tg[t].n);
			c = add2(name, s_lcall, &ctx2[i]);
			c->eax = tg[t].sel;
			c->edx = home;
		}
	for (unsigned i = 0; i < 2; i++) {
		struct ccase *c;
		uint32_t home = ctx2[i].cpl == 3 ? SEL_UCODE : SEL_KCODE;

		c = add2("lcall-callgate3-params", s_lcall_p2, &ctx2[i]);
		c->eax = SEL_GATE3P;
		c->setup = su_gate_call;
		c->arg = SEL_GATE3P;
		c = add2("lret-same", s_lret, &ctx2[i]);
		c->edx = home;
		add2("lret-to-kcode", s_lret_in, &ctx2[i]);
		c = add2("iret-same", s_iret, &ctx2[i]);
		c->edx = home;
		c->eax = EFLAGS_BIT1 | F_AC | (i ? F_IF : 0);
		c = add2("iret-iopl3-if0", s_iret, &ctx2[i]);
		c->edx = home;
		c->eax = EFLAGS_BIT1 | EFLAGS_IOPL(3);
		c = add2("iret-to-kcode", s_iret_in, &ctx2[i]);
		c->eax = EFLAGS_BIT1;
	}
	{
		struct ccase *c = add2("iret-iopl3-if0", s_iret, &ctx6[5]);

		c->edx = SEL_UCODE;
		c->eax = EFLAGS_BIT1 | EFLAGS_IOPL(0);
		c = cpl0("iret-nt-task-return", s_iret, EFLAGS_BIT1, NULL);
		c->edx = SEL_KCODE;
		c->eflags = F_NT;
		cpl0("lret-to-cpl3-nulls-ds", s_lret_out, 0, su_int44);
		cpl0("iret-to-cpl3-nulls-ds", s_iret_out, EFLAGS_BIT1 | F_IF, su_int44);
		cpl0("iret-to-cpl3-iopl3", s_iret_out, EFLAGS_BIT1 | EFLAGS_IOPL(3), su_int44);
	}
}

static void add_int(void)
{
	static const struct { const char *n; char *s; unsigned vec; uint32_t eflags; } it[] = {
		{ "int-0x41", s_int41, 0x41, 0 }, { "int3", s_int3, 3, 0 }, { "int-3", s_int_3, 3, 0 },
		{ "into-of1", s_into, 4, F_OF }, { "into-of0", s_into, 4, 0 }, { "int1-icebp", s_int1, 1, 0 },
		{ "int-4", s_int4, 4, 0 },
	};
	char name[48];

	for (unsigned k = 0; k < sizeof(it) / sizeof(it[0]); k++)
		for (unsigned dpl = 0; dpl <= 3; dpl += 3)
			for (unsigned i = 0; i < 2; i++) {
				struct ccase *c;

				guest_snprintf(name, sizeof(name), "%s-gate-dpl%u", it[k].n, dpl);
				c = add2(name, it[k].s, &ctx2[i]);
				c->arg = it[k].vec | dpl << 8;
				c->setup = su_gate_dpl;
				c->eflags = it[k].eflags;
			}
	for (unsigned i = 0; i < 2; i++) {
		struct ccase *c = add2("int-0x41-gate-not-present", s_int41, &ctx2[i]);

		c->arg = 0x41;
		c->setup = su_gate_np;
	}
}

static void add_sysenter(void)
{
	struct ccase *c;

	for (unsigned i = 0; i < 2; i++) {
		c = add2("sysenter", ctx2[i].cpl ? s_sysenter3 : s_sysenter0, &ctx2[i]);
		c->arg = SEL_SE_CS;
		c->setup = su_sysenter;
		c = add2("sysenter-cs0", ctx2[i].cpl ? s_sysenter3 : s_sysenter0, &ctx2[i]);
		c->setup = su_sysenter;
		c = add2("sysexit", s_sysexit, &ctx2[i]);
		c->arg = SEL_SE_CS;
		c->setup = su_sysenter;
	}
	c = case_add("sysenter-if1/cpl3", s_sysenter3, 3, 3);
	c->arg = SEL_SE_CS;
	c->setup = su_sysenter;
}

static void add_io(void)
{
	static const struct { const char *n; char *s; uint32_t eax, ports; } io[] = {
		{ "outb-imm", s_outb80, 0, 0x80 << 16 | 1 }, { "inb-imm", s_inb80, 0, 0x80 << 16 | 1 },
		{ "outb-inb-dx", s_scr, 0x5c, SCRATCH << 16 | 1 }, { "inw-dx", s_inw, 0, 0x3fe << 16 | 2 },
		{ "inl-dx", s_inl, 0, 0x3fc << 16 | 4 }, { "rep-insb", s_insb, 0, SCRATCH << 16 | 1 },
		{ "outsb", s_outsb, 0, SCRATCH << 16 | 1 },
	};
	static const struct { const char *tag; unsigned cpl, iopl, allow; } cx[] = {
		{ "cpl0", 0, 0, 0 }, { "cpl3-iopl3", 3, 3, 0 }, { "cpl3-iopl0-allowed", 3, 0, 1 },
		{ "cpl3-iopl0-denied", 3, 0, 0 },
	};
	struct ccase *c;
	char name[48];

	for (unsigned k = 0; k < sizeof(io) / sizeof(io[0]); k++)
		for (unsigned x = 0; x < 4; x++) {
			guest_snprintf(name, sizeof(name), "%s/%s", io[k].n, cx[x].tag);
			c = case_add(name, io[k].s, cx[x].cpl, cx[x].iopl);
			c->eax = io[k].eax;
			c->arg = cx[x].allow ? io[k].ports : 0;
			c->setup = su_io;
			c->showbuf = io[k].s == s_insb ? 4 : 0;
			if (io[k].s == s_outsb)
				c->post = post_scratch;
		}
	c = case_add("inw-dx/cpl3-iopl0-one-port-allowed", s_inw, 3, 0);
	c->arg = SCRATCH << 16 | 1;
	c->setup = su_io;
	c = case_add("inl-dx/cpl3-iopl0-three-ports-allowed", s_inl, 3, 0);
	c->arg = 0x3fc << 16 | 3;
	c->setup = su_io;
	c = case_add("outb-inb-dx/cpl3-iopl1", s_scr, 3, 1);
	c->setup = su_io;
	c = case_add("outb-inb-dx/cpl3-iopl2", s_scr, 3, 2);
	c->setup = su_io;
	c = case_add("inb-beyond-bitmap/cpl3-iopl0", s_inb_hi, 3, 0);
	c->setup = su_io;
	c = case_add("inb-beyond-bitmap/cpl3-iopl3", s_inb_hi, 3, 3);
	c->setup = su_io;
}

static void add_misc(void)
{
	struct ccase *c;

	both("cpuid-leaf1-edx", s_cpuid1, 0, NULL);
	both("cpuid-leaf0-max", s_cpuid0, 0, NULL);
	both("rdtsc-tsd0", s_rdtsc, 0, NULL);
	for (unsigned i = 0; i < 2; i++) {
		c = add2("rdtsc-tsd1", s_rdtsc, &ctx2[i]);
		c->setup = su_cr4;
		c->arg = CR4_TSD;
	}
	case_add("rdpmc-pce0/cpl3", s_rdpmc, 3, 0);
	for (unsigned i = 0; i < 2; i++) {
		c = add2("rdmsr-sysenter-cs", s_rdmsr, &ctx2[i]);
		c->ecx = MSR_SE_CS;
		c->arg = SEL_SE_CS;
		c->setup = su_sysenter;
		c = add2("wrmsr-sysenter-esp", s_wrmsr, &ctx2[i]);
		c->ecx = MSR_SE_ESP;
		c->eax = 0x12345678;
		c->post = i ? NULL : post_msr;
	}
	c = cpl0("rdmsr-missing", s_rdmsr, 0, NULL);
	c->ecx = 0x12345;
	c = cpl0("wrmsr-missing", s_wrmsr, 1, NULL);
	c->ecx = 0x12345;
	c = cpl0("wrmsr-sysenter-eip-high", s_wrmsr, 0x1000, NULL);
	c->ecx = MSR_SE_EIP;
	c->edx = 1;
	both("invlpg", s_invlpg, 0, NULL);
	both("wbinvd", s_wbinvd, 0, NULL);
	both("invd", s_invd, 0, NULL);
	both("clts", s_clts, 0, su_ts);
	both("lmsw-mp", s_lmsw, 0x3, NULL);
	cpl0("lmsw-clear-pe", s_lmsw, 0x0, su_ts);
	cpl0("lmsw-ts-em", s_lmsw, 0xd, NULL);
	cpl0("lmsw-mem", s_lmsw_m, 0x9, NULL);
}

static void add_code(void)
{
	struct ccase *c;

	both("cross-page-mov-imm", s_cross_mov, 0, NULL);
	both("cross-page-mov-cr0", s_cross_cr0, 0, NULL);
	both("cross-page-cpuid", s_cross_cpuid, 0, NULL);
	both("cross-page-int-dpl0", s_cross_int, 0, NULL);
	both("cross-page-ud2", s_cross_ud2, 0, NULL);
	both("cross-page-prefixes", s_cross_pfx, 0, NULL);
	both("cross-page-not-present", s_cross_pf, 0, su_pf);
	both("smc-next-insn", s_smc_next, 0, NULL);
	both("smc-loop", s_smc_loop, 0, NULL);
	both("smc-callee", s_smc_call, 0, NULL);
	both("smc-rep-movs", s_smc_rep, 0, NULL);
	(void)c;
}

static void add_prefixes(void)
{
	static const struct { const char *n; char *s; uint32_t eax; uint8_t show; } px[] = {
		{ "lock-nop", s_lock_nop, 0, 0 }, { "lock-add-mem", s_lock_add, 0, 4 },
		{ "lock-mov", s_lock_mov, 0, 4 }, { "lock-add-reg", s_lock_reg, 0, 0 },
		{ "lock-xchg", s_lock_xchg, 0x99, 4 }, { "rep-nop", s_rep_nop, 0, 0 },
		{ "rep-inc", s_rep_inc, 0, 0 }, { "repne-movsb", s_repne_movs, 0, 12 },
		{ "rep-movsb-ecx0", s_rep_movs0, 0, 12 }, { "fs-read", s_fs_read, 0, 0 },
		{ "fs-redundant", s_fs_redund, 0, 0 }, { "seg-conflict-ds-last", s_seg_ds_last, 0, 0 },
		{ "seg-conflict-fs-last", s_seg_fs_last, 0, 0 }, { "fs-beyond-limit", s_fs_limit, 0, 0 },
		{ "cs-override-write", s_cs_write, 0, 4 }, { "cs-override-read", s_cs_read, 0, 0 },
		{ "ss-override-read", s_ss_read, 0, 0 }, { "opsize-twice", s_opsize2, 0, 0 },
		{ "length-15", s_len15, 0, 0 }, { "length-16", s_len16, 0, 0 },
		{ "length-16-mov", s_len16_mov, 0, 4 }, { "rep-repne-stosb", s_repconf_stos, 0, 4 },
		{ "opsize-stos", s_stosw16, 0, 4 }, { "fs-on-stos-ignored", s_fs_stos, 0, 4 },
		{ "fs-on-movs", s_fs_movs, 0, 12 }, { "fs-on-lods", s_fs_lods, 0, 0 },
	};
	static const struct { const char *n; char *s; uint8_t show; } rp[] = {
		{ "rep-stosb-limit", s_rep_stos_gp, 16 }, { "rep-movsb-src-limit", s_rep_movs_gp, 48 },
		{ "rep-movsd-straddles-limit", s_rep_movsd_gp, 48 }, { "rep-stosb-down-wraps", s_rep_stos_down, 8 },
		{ "rep-insb-limit", s_rep_ins_gp, 16 }, { "rep-outsb-limit", s_rep_outs_gp, 0 },
		{ "repe-cmpsb", s_repe_cmps, 0 },
	};
	static const struct { const char *n; char *s; uint32_t eax; } mid[] = {
		{ "mid-de", s_mid_de, 0 }, { "mid-ud", s_mid_ud, 0 }, { "mid-gp-limit", s_mid_gp, 0 },
		{ "mid-int3", s_mid_bp, 0 }, { "mid-into", s_mid_of, 0 }, { "mid-bound", s_mid_br, 0 },
		{ "mid-after-pushes", s_mid_push, 0 }, { "mid-np-load", s_mid_np, SEL_NP | 3 },
	};
	struct ccase *c;

	for (unsigned k = 0; k < sizeof(px) / sizeof(px[0]); k++)
		for (unsigned i = 0; i < 2; i++) {
			c = add2(px[k].n, px[k].s, &ctx2[i]);
			c->eax = px[k].eax;
			c->showbuf = px[k].show;
			c->setup = su_fill;
		}
	for (unsigned k = 0; k < sizeof(rp) / sizeof(rp[0]); k++)
		for (unsigned i = 0; i < 2; i++) {
			c = case_add(nm(rp[k].n, ctx2[i].tag), rp[k].s, ctx2[i].cpl, ctx2[i].cpl);
			c->showbuf = rp[k].show;
			c->setup = su_fill_io;
			if (rp[k].s == s_rep_outs_gp)
				c->post = post_scratch;
		}
	for (unsigned k = 0; k < sizeof(mid) / sizeof(mid[0]); k++)
		both(mid[k].n, mid[k].s, mid[k].eax, su_fill);
}

void cases_add_all(void)
{
	add_eflags();
	add_tables();
	add_lar();
	add_crdr();
	add_segs();
	add_far();
	add_int();
	add_sysenter();
	add_io();
	add_misc();
	add_code();
	add_prefixes();
}
