/* runtime/stubimage.S: the stub program's executable, embedded in bt (runtime/stub.c
 * writes it to a memfd and executes that, so bt needs no files installed). */
	.section .rodata
	.balign 16
	.globl runtime_stub_image
runtime_stub_image:
	.incbin STUB_ELF
	.globl runtime_stub_image_end
runtime_stub_image_end:

	.section .note.GNU-stack,"",@progbits
