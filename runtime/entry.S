/*
 * runtime/entry.S: entering and leaving translated code, and the callout stub.
 *
 * Inside translated code the guest's EAX..EDI and ESP are the host's, the
 * guest's arithmetic flags are the host's RFLAGS, and r15 is the vCPU.  The
 * monitor's own stack pointer is parked in vcpu->host_rsp; every way back to
 * C goes through it, so a guest ESP is never used as a host stack.
 */
#include "monitor/monitor.h"

#define EXIT_CALLOUT_STUB_RESUME 0

	.text

/* Loads the guest registers and flags from the vCPU in r15 (clobbers rax first). */
.macro LOAD_GUEST
	mov	VCPU_AFLAGS(%r15), %eax
	and	$0xcd5, %eax		/* EFL_ARITH */
	or	$2, %eax
	push	%rax
	popfq
	mov	VCPU_REGS+0(%r15), %eax
	mov	VCPU_REGS+4(%r15), %ecx
	mov	VCPU_REGS+8(%r15), %edx
	mov	VCPU_REGS+12(%r15), %ebx
	mov	VCPU_REGS+20(%r15), %ebp
	mov	VCPU_REGS+24(%r15), %esi
	mov	VCPU_REGS+28(%r15), %edi
	mov	VCPU_REGS+16(%r15), %esp
.endm

/* Stores the guest registers to the vCPU and moves to the monitor stack. */
.macro SAVE_GUEST
	mov	%eax, VCPU_REGS+0(%r15)
	mov	%ecx, VCPU_REGS+4(%r15)
	mov	%edx, VCPU_REGS+8(%r15)
	mov	%ebx, VCPU_REGS+12(%r15)
	mov	%esp, VCPU_REGS+16(%r15)
	mov	%ebp, VCPU_REGS+20(%r15)
	mov	%esi, VCPU_REGS+24(%r15)
	mov	%edi, VCPU_REGS+28(%r15)
	mov	VCPU_HOST_RSP(%r15), %rsp
	pushfq
	pop	%rax
	and	$0xcd5, %eax
	mov	%eax, VCPU_AFLAGS(%r15)
	cld				/* the C ABI wants DF clear */
.endm

/* int runtime_enter(struct vcpu *v, uint64_t host_pc) */
	.globl	runtime_enter
	.type	runtime_enter, @function
runtime_enter:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	sub	$8, %rsp		/* 16-byte aligned for calls out of callouts */
	mov	%rsp, VCPU_HOST_RSP(%rdi)
	mov	%rdi, %r15
	mov	%rsi, %r14
	LOAD_GUEST
	jmp	*%r14
	.size	runtime_enter, .-runtime_enter

/* Reached with r13d = exit reason, r14 = its argument. */
	.globl	runtime_exit
	.type	runtime_exit, @function
runtime_exit:
	SAVE_GUEST
	mov	%r13d, VCPU_EXIT_REASON(%r15)
	mov	%r14, VCPU_EXIT_ARG(%r15)
	mov	%r13d, %eax
runtime_return:
	add	$8, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
	.size	runtime_exit, .-runtime_exit

/* Inline lookup missed: r14d = guest target EIP. */
	.globl	runtime_ibl_miss
	.type	runtime_ibl_miss, @function
runtime_ibl_miss:
	mov	$EXIT_IBL_MISS_VALUE, %r13d
	jmp	runtime_exit
	.size	runtime_ibl_miss, .-runtime_ibl_miss

/*
 * Callout: r14 = struct translator_callout *, r12 = where to resume.
 * runtime_callout_c returns 0 to resume translated code (guest state may
 * have been changed in the vCPU) or an exit reason to leave.
 */
	.globl	runtime_callout
	.type	runtime_callout, @function
runtime_callout:
	SAVE_GUEST
	mov	%r12, VCPU_RESUME_RIP(%r15)
	mov	%r15, %rdi
	mov	%r14, %rsi
	call	runtime_callout_c
	test	%eax, %eax
	jnz	1f
	LOAD_GUEST
	jmp	*VCPU_RESUME_RIP(%r15)
1:	mov	%eax, VCPU_EXIT_REASON(%r15)
	jmp	runtime_return
	.size	runtime_callout, .-runtime_callout

/*
 * A host fault in translated code: the signal handler has already copied
 * the guest state to the vCPU and pointed RIP here with r15 = vCPU.
 */
	.globl	runtime_fault_exit
	.type	runtime_fault_exit, @function
runtime_fault_exit:
	mov	VCPU_HOST_RSP(%r15), %rsp
	cld
	mov	$EXIT_FAULT_VALUE, %eax
	mov	%eax, VCPU_EXIT_REASON(%r15)
	jmp	runtime_return
	.size	runtime_fault_exit, .-runtime_fault_exit

	.section .note.GNU-stack,"",@progbits
