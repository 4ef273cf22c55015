/* The loops nano times, shared by the guest (bench/nano/nano.c) and the host (native.c). */
	.text
nano_leaf:
	ret

/* void nano_calls(uint32_t rounds): a CALL to an empty function and its RET, 8 per round. */
	.globl nano_calls
nano_calls:
	movl 4(%esp), %ecx
	testl %ecx, %ecx
	jz 2f
1:	call nano_leaf; call nano_leaf; call nano_leaf; call nano_leaf
	call nano_leaf; call nano_leaf; call nano_leaf; call nano_leaf
	decl %ecx
	jnz 1b
2:	ret

/* uint32_t nano_loop(uint32_t n): n rounds of ADD, XOR, ROL, SUB, each needing the last. */
	.globl nano_loop
nano_loop:
	movl 4(%esp), %ecx
	movl $1, %eax
	movl $2, %edx
	testl %ecx, %ecx
	jz 2f
1:	addl %ecx, %eax
	xorl %eax, %edx
	roll $3, %edx
	subl %edx, %eax
	decl %ecx
	jnz 1b
2:	xorl %edx, %eax
	ret

/* uint32_t nano_divs(uint32_t n): n divisions by zero; the handler resumes 2 bytes on, after the DIV. */
	.globl nano_divs
nano_divs:
	pushl %ebx
	movl 8(%esp), %ecx
	xorl %ebx, %ebx
	testl %ecx, %ecx
	jz 2f
1:	movl $1, %eax
	xorl %edx, %edx
	divl %ebx
	decl %ecx
	jnz 1b
2:	popl %ebx
	ret

	.section .note.GNU-stack, "", @progbits
