/* 256 interrupt stubs, 16 bytes apart, that push (error code, vector) and call guest_trap. */

#include "desc.h"

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

/*
 * Frame for guest_trap (struct trap_frame): pushal registers, data segment
 * registers, vector, error code, then EIP, CS, EFLAGS (and ESP, SS after a
 * privilege change). The handler runs with the flat ring-0 DS and ES whatever the
 * interrupted code had loaded; the segment registers are popped back from the
 * frame, so a hook may change them too.
 */
trap_common:
	pushl %ds
	pushl %es
	pushl %fs
	pushl %gs
	pushal
	movw $GDT_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	cld
	pushl %esp
	call guest_trap
	/* Returns only when a test's hook handled the trap. */
	addl $4, %esp
	/* IRET to the frame at ESP (user_enter starts processes here too). */
	.globl trap_return
trap_return:
	popal
	popl %gs
	popl %fs
	popl %es
	popl %ds
	addl $8, %esp		/* vector, error code */
	iret

	.section .note.GNU-stack, "", @progbits
