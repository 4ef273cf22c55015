/*
 * escape: a security test, not a golden-output one (no .expect; a check in
 * tests/run-all.sh drives it under bt). Ring-3 programs try to leave the jail
 * a guest process runs in under bt (shared/DESIGN.md §2, §3), each in a
 * process of its own so the kernel goes on after each is killed:
 *   - a far JMP, CALL, RET or IRET to selector 0x33, the host's 64-bit user
 *     code segment on x86-64 Linux, into hand-encoded 64-bit code (the guest
 *     is built -m32) that then tries host system calls: write(1, "ESCAPED\n"),
 *     INT 0x80 write, getpid, open and openat of /tmp/bt-escape-marker with
 *     O_CREAT; reads above 4 GiB (0x100000000, 0x7fff00000000, bt's control
 *     page at 0x1100000000); garbage written over that control page followed
 *     by futex wake-ups of the monitor, and a futex wait on it; mmap at
 *     0x50000000, mprotect of its own code, munmap of the kernel's image (the
 *     stub's filter lets munmap below 8 GiB through: it can only take pages
 *     of the stub's own view away, and the kernel's are not there); an
 *     endless loop;
 *   - in 32-bit mode: INT 0x80 with Linux i386 numbers and nonsense (the
 *     guest kernel answers -ENOSYS: bt must not run them on the host),
 *     SYSENTER, SYSCALL, a far JMP to 0x23 (the host's 32-bit user code),
 *     DS loaded with 0x2b and GS with 0x33 (host selectors) and used.
 * Each 64-bit piece ends by returning to 32-bit code (LRET to the CS it came
 * from), so a program that gets that far exits with ESC_BACK: bt must have
 * stopped it before. On real hardware and under QEMU the guest's GDT says
 * what 0x33 is: entry 6 is null here (the processes use 0x43 for data), so
 * every transfer to it raises #GP(0x30) and nothing 64-bit ever runs; 0x23
 * is a DPL 1 data segment (#GP(0x20)). Under bt a stub killed for an escape
 * attempt is expected to show as a #GP(0) at some EIP: the kernel prints
 * only the vector that ended each program, never an EIP.
 *
 * The guest never prints "ESCAPED" itself: the check looks for it on bt's
 * standard output, and for the marker file.
 */
#include "lib/guest.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define S_UDATA		0x40	/* the processes' flat data segment, DPL 3 (0x43) */
#define ESC_BACK	0xBAC	/* exit status of a program back from 64-bit mode */
#define VEC_IRQ0	0x20
#define TICK_LIMIT	2000	/* ms a program may run before the kernel kills it */

/*
 * 64-bit instructions as bytes (SDM vol. 2, chapter 2 and appendix A): MOV
 * r32, imm32 (B8+r, zero-extends to 64 bits), MOVABS r64, imm64 (REX.W B8+r),
 * SYSCALL (0F 05), PUSH m64 with a 32-bit absolute address (FF /6, SIB 25),
 * PUSH imm32 (68), far RET with a 64-bit operand (REX.W CB).
 */
__asm__(".macro MOV_EAX v\n .byte 0xb8\n .long \\v\n.endm\n"
	".macro MOV_ECX v\n .byte 0xb9\n .long \\v\n.endm\n"
	".macro MOV_EDX v\n .byte 0xba\n .long \\v\n.endm\n"
	".macro MOV_EBX v\n .byte 0xbb\n .long \\v\n.endm\n"
	".macro MOV_EBP v\n .byte 0xbd\n .long \\v\n.endm\n"
	".macro MOV_ESI v\n .byte 0xbe\n .long \\v\n.endm\n"
	".macro MOV_EDI v\n .byte 0xbf\n .long \\v\n.endm\n"
	".macro MOV_R10D v\n .byte 0x41, 0xba\n .long \\v\n.endm\n"
	".macro MOVABS_RAX lo, hi\n .byte 0x48, 0xb8\n .long \\lo, \\hi\n.endm\n"
	".macro MOVABS_RBX lo, hi\n .byte 0x48, 0xbb\n .long \\lo, \\hi\n.endm\n"
	".macro MOVABS_RDI lo, hi\n .byte 0x48, 0xbf\n .long \\lo, \\hi\n.endm\n"
	".macro SYSCALL64\n .byte 0x0f, 0x05\n.endm\n"
	/* mov (%rax), %rax; mov %rax, addr32 */
	".macro LOAD_RAX\n .byte 0x48, 0x8b, 0x00\n.endm\n"
	".macro STORE_RAX addr\n .byte 0x48, 0x89, 0x04, 0x25\n .long \\addr\n.endm\n"
	/* Back to esc_back in compatibility mode: pushq esc_cs32; pushq $esc_back; lretq. */
	".macro BACK64\n"
	" .byte 0xff, 0x34, 0x25\n .long esc_cs32\n"
	" .byte 0x68\n .long esc_back\n"
	" .byte 0x48, 0xcb\n"
	".endm\n"
	/* rep stosb of AL over the 4 KiB at 0x1100000000, then 1024 FUTEX_WAKEs along it. */
	".macro FILL_CTRL byte\n"
	"  MOVABS_RDI 0, 0x11\n"
	"  MOV_ECX 4096\n"
	"  MOV_EAX \\byte\n"
	" .byte 0xf3, 0xaa\n"			/* rep stosb */
	"  MOVABS_RBX 0, 0x11\n"
	"  MOV_EBP 1024\n"
	"1: .byte 0x48, 0x89, 0xdf\n"		/* mov %rbx, %rdi */
	"  MOV_ESI 1\n"				/* FUTEX_WAKE */
	"  MOV_EDX 0x7fffffff\n"
	" .byte 0x45, 0x31, 0xd2\n"		/* xor %r10d, %r10d */
	"  MOV_EAX 202\n"			/* futex */
	"  SYSCALL64\n"
	" .byte 0x48, 0x83, 0xc3, 0x04\n"	/* add $4, %rbx */
	" .byte 0xff, 0xcd\n"			/* dec %ebp */
	" .byte 0x75, 1b - 2f\n"		/* jnz 1b */
	"2:\n"
	".endm\n"

	".section .rodata\n"
	"esc_msg: .ascii \"ESCAPED\\n\"\n"	/* never printed by the guest itself */
	"esc_path: .asciz \"/tmp/bt-escape-marker\"\n"
	"esc_sh: .asciz \"/bin/sh\"\n"
	".data\n"
	".balign 8\n"
	"esc_cs32: .quad 0\n"			/* CS of the 32-bit code, for BACK64 */
	"esc_saved_esp: .long 0\n"
	".globl esc_rax\n"
	"esc_rax: .quad 0\n"			/* what a 64-bit piece read or got */

	".text\n"
	/* 32-bit entries: save, note CS, transfer to 0x33:\blob in the way given. */
	".macro ENTER name\n"
	"\\name:\n"
	"  pushl %ebp; pushl %ebx; pushl %esi; pushl %edi\n"
	"  movl %esp, esc_saved_esp\n"
	"  xorl %eax, %eax; movw %cs, %ax; movl %eax, esc_cs32\n"
	".endm\n"
	".macro VIA_JMP name, blob\n ENTER \\name\n  ljmp $0x33, $\\blob\n.endm\n"
	".macro VIA_CALL name, blob\n ENTER \\name\n  lcall $0x33, $\\blob\n.endm\n"
	".macro VIA_RET name, blob\n ENTER \\name\n  pushl $0x33; pushl $\\blob; lret\n.endm\n"
	".macro VIA_IRET name, blob\n ENTER \\name\n  pushfl; pushl $0x33; pushl $\\blob; iret\n.endm\n"
	"esc_back:\n"
	"  movl esc_saved_esp, %esp\n"
	"  popl %edi; popl %esi; popl %ebx; popl %ebp\n"
	"  movl $" STR(ESC_BACK) ", %eax\n"
	"  ret\n"

	"VIA_JMP e_write, b_write\n"
	"VIA_JMP e_int80_64, b_int80\n"
	"VIA_CALL e_getpid, b_getpid\n"
	"VIA_RET e_open, b_open\n"
	"VIA_IRET e_read4g, b_read4g\n"
	"VIA_JMP e_read7fff, b_read7fff\n"
	"VIA_JMP e_readctrl, b_readctrl\n"
	"VIA_JMP e_ctrlff, b_ctrlff\n"
	"VIA_JMP e_ctrl00, b_ctrl00\n"
	"VIA_JMP e_ctrlwait, b_ctrlwait\n"
	"VIA_JMP e_mmap, b_mmap\n"
	"VIA_JMP e_mprotect, b_mprotect\n"
	"VIA_JMP e_munmap, b_munmap\n"
	"VIA_JMP e_loop, b_loop\n"

	/* ---- the 64-bit pieces ---- */
	"b_write:\n"				/* write(1, esc_msg, 8) */
	"  MOV_EAX 1\n  MOV_EDI 1\n  MOV_ESI esc_msg\n  MOV_EDX 8\n  SYSCALL64\n"
	"  BACK64\n"
	"b_int80:\n"				/* i386 write(1, esc_msg, 8) by INT 0x80 from 64-bit mode */
	"  MOV_EAX 4\n  MOV_EBX 1\n  MOV_ECX esc_msg\n  MOV_EDX 8\n .byte 0xcd, 0x80\n"
	"  BACK64\n"
	"b_getpid:\n"				/* getpid() */
	"  MOV_EAX 39\n  SYSCALL64\n  STORE_RAX esc_rax\n"
	"  BACK64\n"
	"b_open:\n"				/* open(path, O_CREAT|O_WRONLY, 0644); openat(AT_FDCWD, ...) */
	"  MOV_EAX 2\n  MOV_EDI esc_path\n  MOV_ESI 0x41\n  MOV_EDX 0644\n  SYSCALL64\n"
	"  MOV_EAX 257\n  MOV_EDI -100\n  MOV_ESI esc_path\n  MOV_EDX 0x41\n  MOV_R10D 0644\n  SYSCALL64\n"
	"  STORE_RAX esc_rax\n"
	"  BACK64\n"
	"b_read4g:\n"
	"  MOVABS_RAX 0, 1\n  LOAD_RAX\n  STORE_RAX esc_rax\n"
	"  BACK64\n"
	"b_read7fff:\n"
	"  MOVABS_RAX 0, 0x7fff\n  LOAD_RAX\n  STORE_RAX esc_rax\n"
	"  BACK64\n"
	"b_readctrl:\n"
	"  MOVABS_RAX 0, 0x11\n  LOAD_RAX\n  STORE_RAX esc_rax\n"
	"  BACK64\n"
	"b_ctrlff:\n"
	"  FILL_CTRL 0xff\n"
	"  BACK64\n"
	"b_ctrl00:\n"
	"  FILL_CTRL 0\n"
	"  BACK64\n"
	"b_ctrlwait:\n"				/* futex(0x1100000000, FUTEX_WAIT, *it, NULL) */
	"  MOVABS_RDI 0, 0x11\n"
	" .byte 0x8b, 0x17\n"			/* mov (%rdi), %edx */
	" .byte 0x31, 0xf6\n"			/* xor %esi, %esi: FUTEX_WAIT */
	" .byte 0x45, 0x31, 0xd2\n"		/* xor %r10d, %r10d: no timeout */
	"  MOV_EAX 202\n  SYSCALL64\n"
	"  BACK64\n"
	"b_mmap:\n"				/* mmap(0x50000000, 4096, RWX, PRIVATE|FIXED|ANON, -1, 0) */
	"  MOV_EDI 0x50000000\n  MOV_ESI 0x1000\n  MOV_EDX 7\n  MOV_R10D 0x32\n"
	" .byte 0x49, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff\n"	/* mov $-1, %r8 */
	" .byte 0x45, 0x31, 0xc9\n"		/* xor %r9d, %r9d */
	"  MOV_EAX 9\n  SYSCALL64\n  STORE_RAX esc_rax\n"
	" .byte 0xc7, 0x04, 0x25\n .long 0x50000000, 0x12345678\n"	/* movl $0x12345678, 0x50000000 */
	"  BACK64\n"
	"b_mprotect:\n"				/* mprotect(the page of this code, 4096, RWX) */
	" .byte 0x48, 0x8d, 0x3d, 0, 0, 0, 0\n"	/* lea 0(%rip), %rdi */
	" .byte 0x48, 0x81, 0xe7, 0x00, 0xf0, 0xff, 0xff\n"	/* and $~0xfff, %rdi */
	"  MOV_ESI 0x1000\n  MOV_EDX 7\n  MOV_EAX 10\n  SYSCALL64\n  STORE_RAX esc_rax\n"
	"  BACK64\n"
	"b_munmap:\n"				/* munmap(the kernel's image at 1 MiB, 1 MiB) */
	"  MOV_EDI 0x100000\n  MOV_ESI 0x100000\n  MOV_EAX 11\n  SYSCALL64\n  STORE_RAX esc_rax\n"
	"  BACK64\n"
	"b_loop:\n"
	" .byte 0xeb, 0xfe\n"			/* jmp . */

	/* ---- 32-bit attempts ---- */
	"e_sysenter:\n"
	"  pushl %ebp; pushl %ebx\n"
	"  movl $4, %eax; movl $1, %ebx; movl $esc_msg, %ecx; movl $8, %edx; movl %esp, %ebp\n"
	"  sysenter\n"
	"  popl %ebx; popl %ebp\n"
	"  ret\n"
	"e_syscall:\n"
	"  pushl %ebx\n"
	"  movl $4, %eax; movl $1, %ebx; movl $esc_msg, %ecx; movl $8, %edx\n"
	"  syscall\n"
	"  popl %ebx\n"
	"  ret\n"
	"e_ljmp23:\n"
	"  ljmp $0x23, $1f\n"
	"1: movl $0x23, %eax\n"
	"  ret\n"
	"e_gs33:\n"
	"  movl $0x33, %eax\n"
	"  movw %ax, %gs\n"
	"  movl %gs:esc_rax, %eax\n"
	"  movl $0x33, %eax\n"
	"  ret\n"
	"e_ds2b:\n"
	"  pushl %ds\n"
	"  movl $0x2b, %eax\n"
	"  movw %ax, %ds\n"
	"  movl esc_rax, %eax\n"
	"  movl $0x2b2b, esc_rax\n"
	"  popl %ds\n"
	"  movl $0x2b, %eax\n"
	"  ret\n");

typedef uint32_t prog_fn(uint32_t);
prog_fn e_write, e_int80_64, e_getpid, e_open, e_read4g, e_read7fff, e_readctrl, e_ctrlff, e_ctrl00,
	e_ctrlwait, e_mmap, e_mprotect, e_munmap, e_loop, e_sysenter, e_syscall, e_ljmp23, e_gs33,
	e_ds2b;
extern const char esc_msg[], esc_path[], esc_sh[];

/* INT 0x80 with Linux i386 numbers and nonsense: the guest kernel must answer each with -ENOSYS. */
static uint32_t e_int80(uint32_t arg)
{
	static const struct { uint32_t nr, a, b, c; } calls[] = {
		{ 4, 1, (uint32_t)esc_msg, 8 },			/* write */
		{ 5, (uint32_t)esc_path, 0x41, 0644 },		/* open */
		{ 8, (uint32_t)esc_path, 0644, 0 },		/* creat */
		{ 11, (uint32_t)esc_sh, 0, 0 },			/* execve */
		{ 2, 0, 0, 0 },					/* fork */
		{ 120, 0, 0, 0 },				/* clone */
		{ 20, 0, 0, 0 },				/* getpid */
		{ 192, 0x50000000, 4096, 7 },			/* mmap2 */
		{ 125, 0x100000, 4096, 7 },			/* mprotect */
		{ 252, 0, 0, 0 },				/* exit_group */
		{ 1, 0, 0, 0 },					/* exit */
		{ 0x7FFFFFFF, 0, 0, 0 },
		{ 0x80000000, 0, 0, 0 },
		{ 0xFFFFFFFF, 0, 0, 0 },
	};
	uint32_t bad = 0;

	(void)arg;
	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int32_t r = user_syscall(calls[i].nr, calls[i].a, calls[i].b, calls[i].c, 0, 0, 0);

		user_printf("escape: INT 0x80 with EAX=0x%x: %d\n", calls[i].nr, r);
		bad += r != -USER_ENOSYS;
	}
	return bad;
}

/*
 * back_ok: coming back from 64-bit mode is not an escape for this one.
 * Reading the stub's own control page (the guest's own registers and exit
 * data) from 64-bit code raises no exception on x86 and gives the guest
 * nothing it did not have; bt cannot notice it and does not need to
 * (DESIGN.md §2: no host system call, no page of anyone else).
 */
static const struct escape {
	const char *name;
	prog_fn *fn;
	int back_ok;
} escapes[] = {
	{ "jmp far 0x33, write(1) by syscall", e_write, 0 },
	{ "jmp far 0x33, write(1) by int 0x80", e_int80_64, 0 },
	{ "call far 0x33, getpid", e_getpid, 0 },
	{ "ret far to 0x33, open and openat with O_CREAT", e_open, 0 },
	{ "iret to 0x33, read 0x100000000", e_read4g, 0 },
	{ "jmp far 0x33, read 0x7fff00000000", e_read7fff, 0 },
	{ "jmp far 0x33, read 0x1100000000", e_readctrl, 1 },
	{ "jmp far 0x33, 0xff over 0x1100000000, futex wake", e_ctrlff, 0 },
	{ "jmp far 0x33, zeros over 0x1100000000, futex wake", e_ctrl00, 0 },
	{ "jmp far 0x33, futex wait on 0x1100000000", e_ctrlwait, 0 },
	{ "jmp far 0x33, mmap at 0x50000000", e_mmap, 0 },
	{ "jmp far 0x33, mprotect of its own code", e_mprotect, 0 },
	{ "jmp far 0x33, munmap of the kernel", e_munmap, 0 },
	{ "jmp far 0x33, endless loop", e_loop, 0 },
	{ "int 0x80 with i386 numbers and nonsense", e_int80, 0 },
	{ "sysenter as i386 write", e_sysenter, 0 },
	{ "syscall as i386 write", e_syscall, 0 },
	{ "jmp far 0x23", e_ljmp23, 0 },
	{ "gs = 0x33, read through it", e_gs33, 0 },
	{ "ds = 0x2b, read and write through it", e_ds2b, 0 },
};

static uint32_t ticks;

static enum user_action escape_event(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	if (f->vector != VEC_IRQ0)
		return USER_KILL;
	pic_eoi(0);
	return ++ticks > TICK_LIMIT ? USER_KILL : USER_RESUME;
}

static struct user_proc proc;

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	user_init();
	gdt_set(S_UDATA, seg_desc(0, 0xFFFFF, D_P | D_DPL(3) | D_DATA_RW, D_G | D_DB));
	user_ds = S_UDATA | 3;
	gdt_set(GDT_R3DATA, 0);		/* 0x33: null here, the host's 64-bit code there */
	pic_remap(VEC_IRQ0, VEC_IRQ0 + 8);
	pit_program(0, 2, PIT_HZ / 1000);
	pic_set_mask(0xFFFE);

	for (unsigned i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		const struct escape *e = &escapes[i];

		ticks = 0;
		user_proc_init(&proc, e->name, e->fn, 0);
		proc.on_event = escape_event;
		while (user_run(&proc) == USER_READY)
			;
		if (proc.state == USER_KILLED && proc.status == VEC_IRQ0)
			guest_printf("escape: %s: killed after %u ms\n", e->name, TICK_LIMIT);
		else if (proc.state == USER_KILLED)
			guest_printf("escape: %s: ended by vector %u\n", e->name, proc.status);
		else if (proc.status == ESC_BACK && e->back_ok)
			guest_printf("escape: %s: came back from 64-bit mode (allowed: its own "
				     "stub's page)\n", e->name);
		else if (proc.status == ESC_BACK)
			guest_printf("escape: %s: FAIL: came back from 64-bit mode\n", e->name);
		else
			guest_printf("escape: %s: exited with status 0x%x\n", e->name, proc.status);
	}
	pic_mask_all();
	guest_printf("escape: done\n");
	return 0;
}
