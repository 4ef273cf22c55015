/* Switching between the kernel and a process at CPL 3: IRET into it, back by a jump to the kernel's saved stack. */
#include "desc.h"

	.section .bss
	.balign 4
kernel_esp:			/* user_enter's stack while the process runs */
	.long 0

	.text
/*
 * void user_enter(struct trap_frame *regs): saves the kernel's callee-saved
 * registers and EFLAGS, then returns from regs as from a trap (SDM vol. 3,
 * 6.12.1: IRET to CPL 3 pops EIP, CS, EFLAGS, ESP, SS). "Returns" when the
 * process stops and user_leave runs.
 */
	.globl user_enter
	.type user_enter, @function
user_enter:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	pushfl
	movl %esp, kernel_esp
	movl 24(%esp), %esp
	jmp trap_return		/* vectors.S */
	.size user_enter, . - user_enter

/* void user_leave(void): from a handler on the ring-0 stack, back to user_enter's caller. */
	.globl user_leave
	.type user_leave, @function
user_leave:
	movw $GDT_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movl kernel_esp, %esp
	popfl
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size user_leave, . - user_leave

	.section .note.GNU-stack, "", @progbits
