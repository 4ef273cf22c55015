/* Multiboot v1 header and entry of the test guests: own GDT, stack and IDT, then guest_main. */
#include "multiboot.h"
#include "desc.h"

#define KERNEL_CS	GDT_KCODE
#define KERNEL_DS	GDT_KDATA
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

	/*
	 * Writable, so tests can add descriptors (desc.c) and the CPU can set accessed
	 * and busy bits. The selectors are named in guest.h (GDT_*); the TSS slot and
	 * everything from GDT_FREE on stay zero until a test fills them.
	 */
	.section .data
	.balign 8
	.globl guest_gdt
guest_gdt:
gdt:	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 4 GiB code, ring 0 */
	.quad 0x00cf92000000ffff	/* 0x10: flat 4 GiB data, ring 0 */
	.quad 0x00cfba000000ffff	/* 0x18: flat 4 GiB code, ring 1 */
	.quad 0x00cfb2000000ffff	/* 0x20: flat 4 GiB data, ring 1 */
	.quad 0x00cffa000000ffff	/* 0x28: flat 4 GiB code, ring 3 */
	.quad 0x00cff2000000ffff	/* 0x30: flat 4 GiB data, ring 3 */
	.fill GDT_ENTRIES - 7, 8, 0	/* 0x38: TSS (tss.c), then free slots */
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
