/* 256 interrupt stubs, 16 bytes apart, that push (error code, vector) and call guest_trap. */

/* Exceptions for which the CPU pushes an error code (SDM vol. 3, 6.13). */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.balign 16
	.globl guest_vectors
guest_vectors:
	.set vec, 0
	.rept 256
	.balign 16
	.if !HAS_ERROR(vec)
	pushl $0
	.endif
	pushl $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

/* Frame for guest_trap: pushal registers, vector, error code, then EIP, CS, EFLAGS. */
trap_common:
	pushal
	cld
	pushl %esp
	call guest_trap
	/* Returns only when a test's hook handled the trap. */
	addl $4, %esp
	popal
	addl $8, %esp		/* vector, error code */
	iret

	.section .note.GNU-stack, "", @progbits
