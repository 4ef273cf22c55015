/*
 * runtime/stubproc.S: entry, signal return and guest entry of the stub
 * program (runtime/stubproc.c).
 */
#include "runtime/stubctl.h"

#define CTL_REGS 24	/* offsetof(struct stub_ctl, regs) */
#define CTL_EIP (CTL_REGS + 32)
#define CTL_EFLAGS (CTL_EIP + 4)
#define CTL_SEL (CTL_EFLAGS + 4)

	.text

	.globl _start
_start:
	lea	stub_main_stack_top(%rip), %rsp
	call	stub_main
	ud2

/* Back into the command loop from on_signal, on the main stack. */
	.globl stub_loop_entry
stub_loop_entry:
	lea	stub_main_stack_top(%rip), %rsp
	call	stub_loop
	ud2

	.globl stub_restorer
stub_restorer:
	mov	$15, %eax		/* rt_sigreturn */
	syscall
	ud2

/*
 * stub_enter_guest(struct stub_ctl *c): load the guest's data segments and
 * registers, then IRETQ to its CS:EIP and SS:ESP in compatibility mode.
 * Segment registers are loaded while still in 64-bit mode, where DS/ES
 * bases do not matter to the stub's own accesses.  r8-r15 are cleared so
 * that a guest that reaches 64-bit mode finds nothing of the stub in them.
 */
	.globl stub_enter_guest
stub_enter_guest:
	movzwl	CTL_SEL+2*STUB_SS(%rdi), %eax
	push	%rax			/* SS */
	mov	CTL_REGS+16(%rdi), %eax
	push	%rax			/* RSP = ESP */
	mov	CTL_EFLAGS(%rdi), %eax
	push	%rax			/* RFLAGS */
	movzwl	CTL_SEL+2*STUB_CS(%rdi), %eax
	push	%rax			/* CS */
	mov	CTL_EIP(%rdi), %eax
	push	%rax			/* RIP = EIP */
	mov	CTL_SEL+2*STUB_DS(%rdi), %ds
	mov	CTL_SEL+2*STUB_ES(%rdi), %es
	mov	CTL_SEL+2*STUB_FS(%rdi), %fs
	mov	CTL_SEL+2*STUB_GS(%rdi), %gs
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d
	mov	CTL_REGS+0(%rdi), %eax
	mov	CTL_REGS+4(%rdi), %ecx
	mov	CTL_REGS+8(%rdi), %edx
	mov	CTL_REGS+12(%rdi), %ebx
	mov	CTL_REGS+20(%rdi), %ebp
	mov	CTL_REGS+24(%rdi), %esi
	mov	CTL_REGS+28(%rdi), %edi
	iretq


	.bss
	.balign 16
	.skip 65536
	.globl stub_main_stack_top
stub_main_stack_top:

	.section .note.GNU-stack,"",@progbits
