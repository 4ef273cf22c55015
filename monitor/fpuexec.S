/*
 * monitor/fpuexec.S: running one guest FPU instruction on the host FPU with
 * the guest's state loaded (monitor/fpu.c builds the instruction).
 *
 * void monitor_fpu_run(uint8_t *image, void *mem, uint64_t io[2],
 *                      const void *snippet, uint8_t *host_save)
 *
 * image     the guest's FXSAVE image (legacy 32-bit layout), 16-aligned;
 *           loaded, then stored back after the instruction
 * mem       the bounce buffer the instruction's memory operand points at
 *           (the snippet addresses it as [rsi])
 * io        io[0]: the guest register the instruction reads or writes, as
 *           EAX; io[1]: RFLAGS with the guest's status flags (the snippet
 *           loads and stores both through rdx)
 * snippet   "push [rdx+8]; popfq; mov eax,[rdx]; <instruction>;
 *           mov [rdx],eax; pushfq; pop [rdx+8]; ret"
 * host_save 512 bytes, 16-aligned, for the monitor's own FPU state: its
 *           control word and MXCSR are callee-saved in the SysV ABI, so
 *           they must come back exactly as they were.
 *
 * FXSAVE/FXRSTOR never wait for a pending x87 exception (SDM vol. 2,
 * FXSAVE), so nothing here traps on the guest's pending state; the caller
 * keeps waiting instructions from running with one pending.
 */
	.text
	.globl	monitor_fpu_run
	.type	monitor_fpu_run, @function
monitor_fpu_run:
	fxsave64 (%r8)
	fxrstor	(%rdi)
	push	%rdi
	push	%r8
	call	*%rcx
	pop	%r8
	pop	%rdi
	fxsave	(%rdi)
	fxrstor64 (%r8)
	ret
	.size	monitor_fpu_run, .-monitor_fpu_run

	.section .note.GNU-stack,"",@progbits
