/* Processes at CPL 3: their TSS and I/O bitmap, entry and exit, the INT 0x80 system calls (SDM vol. 3, 5.5-5.9, 6.12, 7.2; vol. 1, 19.5). */
#include <stddef.h>

#include "guest.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * The TSS with its I/O permission bitmap right behind it (SDM vol. 1, 19.5.2):
 * bit n set denies port n at CPL > IOPL; the processor reads two bytes for
 * every check, so one byte of all ones follows the map, and every port whose
 * bits lie beyond the TSS limit is denied.
 */
struct user_tss {
	struct tss32 t;
	uint8_t iomap[USER_IOMAP_PORTS / 8];
	uint8_t end;
} __attribute__((packed));

static struct user_tss tss;
static uint8_t kstack[16384] __attribute__((aligned(16)));	/* SS0:ESP0 */
static uint32_t next_pid = 1;
static int (*outer_hook)(struct trap_frame *f);

uint16_t user_cs = GDT_R3CODE | 3, user_ds = GDT_R3DATA | 3;
struct user_proc *user_current;

/* user-switch.S */
void user_enter(struct trap_frame *regs);
void user_leave(void) __attribute__((noreturn));

/* Ring 3: a process's function returns here and exits with its value. */
__asm__(".text\n"
	"user_exit_trampoline:\n"
	"  movl %eax, %ebx\n"
	"  movl $" STR(SYS_EXIT) ", %eax\n"
	"  int $" STR(USER_SYSCALL_VECTOR) "\n"
	"  ud2\n"
	/* int32_t user_syscall(nr, a1..a6): EAX, then EBX ECX EDX ESI EDI EBP. */
	".globl user_syscall\n"
	"user_syscall:\n"
	"  pushl %ebp; pushl %ebx; pushl %esi; pushl %edi\n"
	"  movl 20(%esp), %eax\n"
	"  movl 24(%esp), %ebx\n"
	"  movl 28(%esp), %ecx\n"
	"  movl 32(%esp), %edx\n"
	"  movl 36(%esp), %esi\n"
	"  movl 40(%esp), %edi\n"
	"  movl 44(%esp), %ebp\n"
	"  int $" STR(USER_SYSCALL_VECTOR) "\n"
	"  popl %edi; popl %esi; popl %ebx; popl %ebp\n"
	"  ret\n");
extern char user_exit_trampoline[];

void user_init(void)
{
	memset(&tss, 0, sizeof(tss));
	tss.t.ss0 = GDT_KDATA;
	tss.t.esp0 = (uint32_t)(kstack + sizeof(kstack));
	tss.t.iomap = offsetof(struct user_tss, iomap);
	memset(tss.iomap, 0xFF, sizeof(tss.iomap));
	tss.end = 0xFF;
	gdt_set(GDT_TSS, seg_desc((uint32_t)&tss, sizeof(tss) - 1, D_P | D_TSS32, 0));
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
	idt_reset(USER_SYSCALL_VECTOR);
	idt_set_dpl(USER_SYSCALL_VECTOR, 3);
	idt_set_dpl(3, 3);
	idt_set_dpl(4, 3);
	pic_mask_all();
}

void user_io_allow(uint16_t port, int allow)
{
	if (port >= USER_IOMAP_PORTS)
		return;
	if (allow)
		tss.iomap[port / 8] &= (uint8_t)~(1u << (port % 8));
	else
		tss.iomap[port / 8] |= (uint8_t)(1u << (port % 8));
}

void user_proc_init(struct user_proc *p, const char *name, uint32_t (*fn)(uint32_t), uint32_t arg)
{
	uint32_t *sp = (uint32_t *)(p->stack + USER_STACK_SIZE);

	memset(p, 0, offsetof(struct user_proc, stack));
	p->name = name;
	p->pid = next_pid++;
	p->state = USER_READY;
	/* fn's frame as after a CALL: ESP + 4 16-byte aligned (i386 psABI). */
	sp -= 4;
	sp[0] = arg;
	*--sp = (uint32_t)user_exit_trampoline;
	p->regs.eip = (uint32_t)fn;
	p->regs.cs = user_cs;
	p->regs.eflags = EFLAGS_BIT1 | EFLAGS_IF;
	p->regs.outer_esp = (uint32_t)sp;
	p->regs.outer_ss = user_ds;
	p->regs.ds = p->regs.es = p->regs.fs = p->regs.gs = user_ds;
	p->fault.vector = ~0u;
}

void user_stop(struct user_proc *p, struct trap_frame *f, enum user_state state)
{
	if (state == USER_READY)
		p->regs = *f;
	p->state = state;
	user_leave();
}

/* ---- system calls ---- */

static int32_t sys_exit(struct user_proc *p, struct trap_frame *f)
{
	p->status = f->ebx;
	user_stop(p, f, USER_EXITED);
}

/* XXX: no check of the buffer: with paging off every address is readable. */
static int32_t sys_write(struct user_proc *p, struct trap_frame *f)
{
	const char *s = (const char *)f->ebx;

	(void)p;
	if (f->ecx > 4096)
		return -USER_EINVAL;
	for (uint32_t i = 0; i < f->ecx; i++)
		serial_putc(s[i]);
	return (int32_t)f->ecx;
}

static int32_t sys_getpid(struct user_proc *p, struct trap_frame *f)
{
	(void)f;
	return (int32_t)p->pid;
}

static int32_t sys_yield(struct user_proc *p, struct trap_frame *f)
{
	f->eax = 0;
	user_stop(p, f, USER_READY);
}

static int32_t sys_sum(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	return (int32_t)(f->ebx + 2 * f->ecx + 3 * f->edx + 4 * f->esi + 5 * f->edi + 6 * f->ebp);
}

static int32_t sys_nop(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	(void)f;
	return 0;
}

user_syscall_fn user_syscalls[USER_NSYSCALLS] = {
	[SYS_EXIT - SYS_BASE] = sys_exit,
	[SYS_WRITE - SYS_BASE] = sys_write,
	[SYS_GETPID - SYS_BASE] = sys_getpid,
	[SYS_YIELD - SYS_BASE] = sys_yield,
	[SYS_SUM - SYS_BASE] = sys_sum,
	[SYS_NOP - SYS_BASE] = sys_nop,
};

/* ---- events from CPL 3 ---- */

static int user_hook(struct trap_frame *f)
{
	struct user_proc *p = user_current;

	/* At CPL 0 it is the kernel's own trap: not the process's business. */
	if (!p || (f->cs & 3) != 3)
		return outer_hook ? outer_hook(f) : 0;
	if (f->vector == USER_SYSCALL_VECTOR) {
		uint32_t nr = f->eax - SYS_BASE;
		user_syscall_fn fn = nr < USER_NSYSCALLS ? user_syscalls[nr] : NULL;

		p->syscalls++;
		f->eax = fn ? (uint32_t)fn(p, f) : (uint32_t)-USER_ENOSYS;
		return 1;
	}
	p->events++;
	switch (p->on_event ? p->on_event(p, f) : USER_KILL) {
	case USER_RESUME:
		return 1;
	case USER_PREEMPT:
		user_stop(p, f, USER_READY);
	case USER_KILL:
	default:
		p->fault = *f;
		p->status = f->vector;
		user_stop(p, f, USER_KILLED);
	}
}

enum user_state user_run(struct user_proc *p)
{
	if (p->state != USER_READY)
		return p->state;
	outer_hook = guest_trap_hook;
	guest_trap_hook = user_hook;
	user_current = p;
	user_enter(&p->regs);
	user_current = NULL;
	guest_trap_hook = outer_hook;
	return p->state;
}

/* ---- ring-3 helpers ---- */

void user_exit(uint32_t code)
{
	user_syscall(SYS_EXIT, code, 0, 0, 0, 0, 0);
	for (;;)
		__asm__ volatile("ud2");
}

int32_t user_write(const void *buf, uint32_t len)
{
	return user_syscall(SYS_WRITE, (uint32_t)buf, len, 0, 0, 0, 0);
}

int user_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	user_write(buf, strlen(buf));
	return n;
}
