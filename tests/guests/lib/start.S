/* Multiboot v1 header and entry of the test guests: own GDT, stack and IDT, then guest_main. */
#include "multiboot.h"

#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define STACK_SIZE	65536

	.section .multiboot, "a"
	.balign 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.section .bss
	.balign 16
stack:	.skip STACK_SIZE
stack_top:

	.section .rodata
	.balign 8
gdt:	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 4 GiB code, ring 0 */
	.quad 0x00cf92000000ffff	/* 0x10: flat 4 GiB data, ring 0 */
gdt_end:
	.balign 4
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.text
	.globl _start
	.type _start, @function
/* Multiboot state (spec 3.2): protected mode, paging off, IF=0, EAX=magic, EBX=info. */
_start:
	cli
	cld
	movl %eax, %edx
	/* Zero .bss ourselves rather than trust the loader (the stack is in it). */
	movl $__bss_start, %edi
	movl $_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $stack_top, %esp
	movl %edx, guest_mb_magic
	movl %ebx, guest_mbi
	/* The loader's GDT may be gone (spec 3.2): load ours and reload every segment. */
	lgdt gdt_desc
	ljmp $KERNEL_CS, $1f
1:	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	xorl %ebp, %ebp
	call guest_lib_init
	pushl guest_mbi
	pushl guest_mb_magic
	call guest_main
	pushl %eax
	call guest_exit
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
