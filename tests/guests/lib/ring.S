/* ring_call: run a function at CPL 1 or 3, entered by IRET, left through a DPL 3 interrupt gate. */
#include "desc.h"

#define RING_STACK_SIZE	16384
#define EFLAGS_IOPL3	0x3000	/* the IOPL field */

	.section .bss
	.balign 16
	.skip RING_STACK_SIZE
	.globl guest_stack0_top
guest_stack0_top:		/* SS0:ESP0 of the lib's TSS */
	.skip RING_STACK_SIZE
	.globl guest_stack1_top
guest_stack1_top:		/* SS1:ESP1, and ring_call's ring-1 stack */
	.skip RING_STACK_SIZE
	.globl guest_stack3_top
guest_stack3_top:		/* ring_call's ring-3 stack */
saved_esp:
	.long 0

	.section .data
	.balign 4
	.globl ring_iopl
ring_iopl:			/* IOPL of the code ring_call runs */
	.long 3

	.text
/* uint32_t ring_call(unsigned ring, uint32_t (*fn)(void)) */
	.globl ring_call
	.type ring_call, @function
ring_call:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	pushfl
	movl %esp, saved_esp
	movl 28(%esp), %edx		/* fn */
	cmpl $3, 24(%esp)		/* ring */
	je 3f
	movl $(GDT_R1CODE | 1), %ecx
	movl $(GDT_R1DATA | 1), %ebx
	movl $guest_stack1_top, %esi
	jmp 1f
3:	movl $(GDT_R3CODE | 3), %ecx
	movl $(GDT_R3DATA | 3), %ebx
	movl $guest_stack3_top, %esi
	/* IRET frame to the outer ring: SS, ESP, EFLAGS, CS, EIP. */
1:	pushl %ebx
	pushl %esi
	pushfl
	andl $~EFLAGS_IOPL3, (%esp)
	movl ring_iopl, %ebp
	andl $3, %ebp
	shll $12, %ebp
	orl %ebp, (%esp)
	pushl %ecx
	pushl $ring_entry
	movw %bx, %ds
	movw %bx, %es
	movw %bx, %fs
	movw %bx, %gs
	iret
ring_entry:
	call *%edx
	int $RING_EXIT_VECTOR
	.size ring_call, . - ring_call

/* Handler of RING_EXIT_VECTOR: back on ring_call's stack with its result in EAX. */
	.globl ring_exit
ring_exit:
	movw $GDT_KDATA, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movl saved_esp, %esp
	popfl
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

	.section .note.GNU-stack, "", @progbits
