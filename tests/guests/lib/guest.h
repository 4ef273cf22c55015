/* Freestanding library of the bt test guests: serial console, printf, exit, command line, checks, descriptors. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "desc.h"
#include "multiboot.h"

/* Port of isa-debug-exit: writing v ends the VM with host status (v << 1) | 1. */
#define GUEST_EXIT_PORT		0xF4
/* Exit code of a guest that took an unexpected exception or interrupt. */
#define GUEST_EXIT_TRAP		0x70

/* The test's own entry point, called by start.S; its return value is the exit code. */
int guest_main(uint32_t magic, struct multiboot_info *mbi);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* serial.c: COM1, polled. */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);

/* printf.c: %d %i %u %x %X %p %s %c %%, flags '-' '0', width, 'l' (no-op). */
int guest_vprintf(const char *fmt, va_list ap);
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same into buf (always NUL-terminated if size > 0); returns the full length. */
int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* exit.c */
void guest_exit(int code) __attribute__((noreturn));

/* cmdline.c: the Multiboot command line and its key=value words. */
const char *guest_cmdline(void);
uint32_t guest_arg_u32(const char *key, uint32_t dflt);

/* idt.c: report any exception or interrupt and exit with GUEST_EXIT_TRAP,
 * unless guest_trap_hook handles it (returns nonzero): then the handler
 * returns with IRET to f->eip with the (possibly edited) frame. */
struct trap_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;	/* pushal */
	uint32_t gs, fs, es, ds;	/* reloaded from here on return */
	uint32_t vector, error;
	uint32_t eip, cs, eflags;	/* pushed by the CPU */
	uint32_t outer_esp, outer_ss;	/* pushed only if (cs & 3) != 0 */
};
extern int (*guest_trap_hook)(struct trap_frame *f);
void idt_init(void);
/* Sets the DPL of IDT entry vec (who may reach it with INT n, INT3, INTO). */
void idt_set_dpl(unsigned vec, unsigned dpl);

/*
 * check.c: one line per check, "NAME: ok   ..." or "NAME: FAIL ...", and a tally;
 * check_done prints "NAME: N passed, M failed" and returns 1 if any failed.
 * check_range prints the bounds, not the value, so its line is deterministic.
 */
void check_init(const char *test_name);
int check(const char *what, uint32_t got, uint32_t want);
int check_range(const char *what, uint32_t got, uint32_t lo, uint32_t hi);
int check_true(const char *what, int cond);
int check_done(void);
/* Counts a check that printed its own line; returns ok. */
int check_tally(int ok);
/*
 * trap_catch installs a hook that copies each trap's frame to trap_seen (and
 * CR2 to trap_cr2: the linear address of a #PF), counts it in trap_hits and
 * resumes at resume (or where the frame says if 0); trap_uncatch goes back to
 * the catch-all.
 */
extern struct trap_frame trap_seen;
extern uint32_t trap_cr2;
extern int trap_hits;
extern uint32_t trap_resume;
void trap_catch(uint32_t resume);
void trap_uncatch(void);
/*
 * After trap_catch: one line saying whether exactly one #PF was caught with
 * that error code and CR2 at the instruction eip (or what was caught instead).
 */
int check_pf(const char *what, uint32_t eip, uint32_t cr2, uint32_t error);

/* pic.c: the 8259A pair; masks and IRR/ISR are 16 bits, IRQ 8-15 in the high byte. */
void pic_mask_all(void);
void pic_remap(uint8_t base1, uint8_t base2);	/* and masks everything */
void pic_set_mask(uint16_t mask);
void pic_eoi(unsigned irq);
uint16_t pic_read_irr(void);
uint16_t pic_read_isr(void);

/* pit.c: 8254 channels (mode 0-5, 16-bit count, binary), port 0x61, CMOS RTC. */
#define PIT_HZ		1193182
#define SYS_CTRL_PORT	0x61
void pit_program(unsigned ch, unsigned mode, uint16_t count);
uint16_t pit_latch(unsigned ch);
uint8_t pit_status(unsigned ch);	/* read-back status byte */
void pit_ch2_gate(int on);
int pit_ch2_out(void);
uint8_t rtc_read(uint8_t reg);
uint8_t rtc_seconds(void);
void rtc_wait_tick(void);	/* returns right after the seconds register changed */
/* TSC ticks per millisecond, measured over 50 ms of PIT channel 2 (mode 0, gate on). */
uint32_t pit_tsc_per_ms(void);
/* cycles as nanoseconds at per_ms TSC ticks per millisecond (0 if per_ms is 0). */
uint32_t tsc_ns(uint64_t cycles, uint32_t per_ms);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Control registers (CPL 0 only). */
static inline uint32_t read_cr0(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint32_t read_cr4(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr4" : : "r"(v) : "memory");
}

/* CR2: the linear address of the last #PF (SDM vol. 3, 2.5). */
static inline uint32_t read_cr2(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint32_t read_cr3(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr3, %0" : "=r"(v));
	return v;
}

/* Flushes the TLB but for global pages (SDM vol. 3, 4.10.4.1). */
static inline void write_cr3(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr3" : : "r"(v) : "memory");
}

/* Flushes the TLB entries and paging-structure caches of one linear address, global or not. */
static inline void invlpg(uint32_t lin)
{
	__asm__ volatile("invlpg (%0)" : : "r"(lin) : "memory");
}

/* CPUID leaf (subleaf 0) into r[0..3] = EAX EBX ECX EDX; serializing (SDM vol. 3, 9.3). */
static inline void guest_cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0)
			 : "memory");
}

/* MSRs (CPL 0; SDM vol. 4, table 2-2): a missing one is #GP(0). */
#define MSR_EFER	0xC0000080u
#define EFER_NXE	(1ull << 11)	/* XD bits in PAE entries (vol. 3, 4.1.1, 4.6) */

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* EFLAGS bits the processes below set (SDM vol. 1, 3.4.3). */
#define EFLAGS_BIT1	0x00000002	/* reserved, always 1 */
#define EFLAGS_TF	0x00000100
#define EFLAGS_IF	0x00000200
#define EFLAGS_IOPL(n)	((uint32_t)(n) << 12)
#define EFLAGS_IOPL_MASK 0x00003000

/*
 * user.c, user-switch.S: processes at CPL 3 (SDM vol. 3, 5.5-5.9, 6.12.1). A process
 * is a C function run with its own stack, the ring-3 segments and its own
 * EFLAGS (IF=1; IOPL and TF as set in regs.eflags), entered by IRET from
 * user_run. It comes back to ring 0 only through the IDT: INT 0x80, a DPL 3
 * interrupt gate, is a system call (number in EAX, arguments in EBX, ECX,
 * EDX, ESI, EDI, EBP, result in EAX) dispatched through user_syscalls[];
 * every other vector taken at CPL 3 goes to the process's on_event. user_run
 * returns when the process exits, is killed, yields or is preempted; its
 * registers stay in regs, so user_run resumes it where it stopped. With
 * paging off a process can reach all memory, which these tests use to share
 * variables between a process and the kernel; with paging on (paging.c) the
 * directory in CR3 decides.
 */
#define USER_SYSCALL_VECTOR	0x80
#define USER_STACK_SIZE		8192
#define USER_IOMAP_PORTS	0x400	/* ports in the TSS I/O bitmap; above: #GP */

/* System call numbers: none of them is a Linux i386 number. */
#define SYS_BASE	0x1000
#define SYS_EXIT	0x1000	/* (code): ends the process; status = code */
#define SYS_WRITE	0x1001	/* (buf, len): to the serial console; returns len */
#define SYS_GETPID	0x1002	/* returns the process's pid */
#define SYS_YIELD	0x1003	/* back to user_run's caller; returns 0 when resumed */
#define SYS_SUM		0x1004	/* returns EBX + 2 ECX + 3 EDX + 4 ESI + 5 EDI + 6 EBP */
#define SYS_NOP		0x1005	/* returns 0 */
#define USER_NSYSCALLS	8	/* slots from SYS_BASE; the others return -ENOSYS */
#define USER_ENOSYS	38
#define USER_EINVAL	22

enum user_state { USER_READY, USER_EXITED, USER_KILLED };
/* What on_event decides for a vector other than the system call. */
enum user_action {
	USER_RESUME,	/* IRET to the (possibly edited) frame */
	USER_KILL,	/* end the process: state KILLED, status = vector, fault = frame */
	USER_PREEMPT,	/* stop it, still READY: user_run returns */
};

struct user_proc {
	const char *name;
	uint32_t pid;
	enum user_state state;
	uint32_t status;		/* SYS_EXIT's code, or the vector that killed it */
	struct trap_frame regs;		/* registers while it does not run */
	struct trap_frame fault;	/* the frame of the event that killed it */
	uint32_t syscalls, events;	/* system calls made, other vectors taken */
	/* NULL: any vector but the system call kills the process. */
	enum user_action (*on_event)(struct user_proc *p, struct trap_frame *f);
	void *data;			/* the test's, for on_event */
	uint8_t stack[USER_STACK_SIZE] __attribute__((aligned(16)));
};

/* A system call: returns what goes to EAX (a negative errno on error). */
typedef int32_t (*user_syscall_fn)(struct user_proc *p, struct trap_frame *f);
extern user_syscall_fn user_syscalls[USER_NSYSCALLS];
/* The selectors processes get (RPL 3); default GDT_R3CODE | 3, GDT_R3DATA | 3. */
extern uint16_t user_cs, user_ds;
/* The process user_run is running, or NULL. */
extern struct user_proc *user_current;

/*
 * Loads a TSS of its own at GDT_TSS (SS0:ESP0 on a lib stack, an I/O bitmap
 * for ports below USER_IOMAP_PORTS, all denied), sets the system-call gate,
 * makes the #BP and #OF gates DPL 3 (so INT3 and INTO work at CPL 3, as
 * operating systems set them) and masks the PIC. Replaces tss_init().
 */
void user_init(void);
/* Allows (or denies) port at IOPL < 3 through the TSS I/O bitmap. */
void user_io_allow(uint16_t port, int allow);
/* A process that will call fn(arg) and exit with its return value. */
void user_proc_init(struct user_proc *p, const char *name, uint32_t (*fn)(uint32_t), uint32_t arg);
enum user_state user_run(struct user_proc *p);
/* For system calls and on_event: stop the running process now (never returns). */
void user_stop(struct user_proc *p, struct trap_frame *f, enum user_state state)
	__attribute__((noreturn));

/* Ring-3 side. user_syscall is INT 0x80 with all six argument registers. */
int32_t user_syscall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4,
		     uint32_t a5, uint32_t a6);
void user_exit(uint32_t code) __attribute__((noreturn));
int32_t user_write(const void *buf, uint32_t len);
/* printf into a buffer on the process's stack, then one SYS_WRITE. */
int user_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * paging.c: 32-bit paging (SDM vol. 3, 4.3): page directories and tables
 * built in a static pool of zeroed, page-aligned pages. The kernel runs on an
 * identity map of [0, pg_ident_end), whole 4 MiB regions that cover the
 * image and the Multiboot data after it; pool pages are supervisor-only
 * there, so a process sees them only where a directory maps them for it.
 * Pointers to directories, tables and pool pages are their physical
 * addresses. The map helpers only write entries: flushing stale
 * translations (invlpg, a CR3 write) is the caller's.
 */
#define PAGE_SIZE	4096u
#define PAGE_4M		0x400000u
/* Paging-structure entry bits (SDM vol. 3, Tables 4-4 to 4-6). */
#define PTE_P		0x001u
#define PTE_W		0x002u	/* R/W */
#define PTE_U		0x004u	/* U/S */
#define PTE_PWT		0x008u
#define PTE_PCD		0x010u
#define PTE_A		0x020u
#define PTE_D		0x040u
#define PTE_PS		0x080u	/* in a PDE with CR4.PSE: a 4 MiB page */
#define PTE_G		0x100u
#define PTE_FRAME	0xFFFFF000u
/* #PF error code (SDM vol. 3, 4.7). */
#define PF_P		0x01u	/* a protection (or reserved-bit) fault, not a not-present one */
#define PF_W		0x02u	/* a write */
#define PF_U		0x04u	/* at CPL 3 */
#define PF_RSVD		0x08u	/* a reserved bit set in an entry */
#define PF_I		0x10u	/* a fetch, only with PAE+NXE or SMEP */
#define VEC_PF		14
/* Control-register bits (SDM vol. 3, 2.5). */
#define CR0_WP		0x00010000u
#define CR0_PG		0x80000000u
#define CR4_PSE		0x00000010u
#define CR4_PGE		0x00000080u
/* CPUID.1:EDX feature bits. */
#define CPUID_PSE	(1u << 3)
#define CPUID_PGE	(1u << 13)
#define CPUID_PSE36	(1u << 17)

extern uint32_t pg_ident_end;
/* Sets pg_ident_end (what pg_dir_kernel maps) and returns it. */
uint32_t pg_ident_init(void);
/* Whether phys is in the pool (supervisor-only in the kernel's identity maps). */
int pg_in_pool(uint32_t phys);
/* A zeroed page of the pool; ends the test if the pool is exhausted. */
void *pg_alloc(void);
/* A page of the pool whose words are tag + their index: contents a test can recognise. */
uint32_t *pg_alloc_tagged(uint32_t tag);
/* A directory with the kernel's identity map as 4 KiB pages with flags (PTE_P | ...). */
uint32_t *pg_dir_kernel(uint32_t flags);
/* A new directory that shares src's kernel page tables: another address space, the same kernel. */
uint32_t *pg_dir_clone_kernel(const uint32_t *src);
/* The PTE of lin, allocating its page table (PDE P, R/W and U/S set: the PTE decides). */
uint32_t *pg_pte(uint32_t *pd, uint32_t lin);
/* Maps the 4 KiB page at lin to phys with flags; pg_map_range maps len bytes (whole pages). */
void pg_map(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags);
void pg_map_range(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t len, uint32_t flags);
/* A 4 MiB page (PDE with PS; needs CR4.PSE to mean one). */
void pg_map_4m(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags);
void pg_unmap(uint32_t *pd, uint32_t lin);
/* Sets and clears bits of lin's PTE; returns the old PTE. */
uint32_t pg_protect(uint32_t *pd, uint32_t lin, uint32_t set, uint32_t clear);
/* CR4 |= cr4 (CR4_PSE, CR4_PGE), CR3 = pd, then CR0.PG and CR0.WP on. */
void pg_enable(uint32_t *pd, uint32_t cr4);

/*
 * pae.c: PAE paging (SDM vol. 3, 4.4): CR3 holds a 32-byte aligned
 * page-directory-pointer table (PDPT) of four PDPTEs, one page directory per
 * GiB of linear addresses; directories and page tables have 512 64-bit
 * entries. Built from paging.c's pool as the 32-bit structures are: the
 * kernel runs on an identity map of [0, pg_ident_end) in 4 KiB pages, pool
 * pages supervisor-only. A PDPT is made with its four page directories, so
 * its PDPTEs change only where a test changes them: the processor loads them
 * into its PDPTE registers at MOV to CR3 and when paging is enabled, not at
 * each walk (4.4.1). Pointers are physical addresses; guest RAM is below
 * 4 GiB, so no entry here points above it. Flushing is the caller's.
 */
#define PAGE_2M		0x200000u
#define PAE_XD		(1ull << 63)	/* execute-disable with EFER.NXE, else reserved */
#define PAE_FRAME	0x000FFFFFFFFFF000ull	/* address bits 51:12 (MAXPHYADDR <= 52) */
#define PAE_FRAME_2M	0x000FFFFFFFE00000ull
#define PAE_ENTRIES	512u
#define CR4_PAE		0x00000020u
#define CPUID_PAE	(1u << 6)
#define CPUID_NX	(1u << 20)	/* CPUID.80000001H:EDX */

/* A PDPT and its four page directories, with the kernel's identity map as 4 KiB pages with flags. */
uint64_t *pae_pdpt_kernel(uint64_t flags);
/* A new PDPT and directories that share src's kernel page tables: another address space. */
uint64_t *pae_pdpt_clone_kernel(const uint64_t *src);
/* The PDE of lin. */
uint64_t *pae_pde(const uint64_t *pdpt, uint32_t lin);
/* The PTE of lin, allocating its page table (PDE P, R/W and U/S set: the PTE decides). */
uint64_t *pae_pte(uint64_t *pdpt, uint32_t lin);
/* Maps the 4 KiB page at lin to phys with flags; pae_map_range maps len bytes (whole pages). */
void pae_map(uint64_t *pdpt, uint32_t lin, uint64_t phys, uint64_t flags);
void pae_map_range(uint64_t *pdpt, uint32_t lin, uint64_t phys, uint32_t len, uint64_t flags);
/* A 2 MiB page (PDE with PS: with PAE whatever CR4.PSE says, 4.4.2). */
void pae_map_2m(uint64_t *pdpt, uint32_t lin, uint64_t phys, uint64_t flags);
/* Sets and clears bits of lin's PTE; returns the old PTE. */
uint64_t pae_protect(uint64_t *pdpt, uint32_t lin, uint64_t set, uint64_t clear);
/* CR4 |= CR4_PAE | cr4, CR3 = pdpt, then CR0.PG and CR0.WP on. */
void pae_enable(uint64_t *pdpt, uint32_t cr4);

/*
 * pgcheck.c: checks that read the same under 32-bit and PAE paging, given
 * the mode's map(lin, phys, flags) of a 4 KiB page (PTE_* flags) into the
 * tables CR3 points at. Each maps pages of its own from the pool.
 */
typedef void (*pgcheck_map_fn)(uint32_t lin, uint32_t phys, uint32_t flags);
/* One page at linear a and b: what is written through one is read through the other. */
void pgcheck_alias(pgcheck_map_fn map, uint32_t a, uint32_t b);
/*
 * CR4.PGE (4.10.4.1): a global and a non-global page both remapped, then
 * MOV to CR3 (the non-global one must be refetched), INVLPG and clearing
 * CR4.PGE (the global one too). Leaves CR4.PGE set.
 */
void pgcheck_global(pgcheck_map_fn map, uint32_t global, uint32_t local);

/*
 * pfcase.c: one access that may fault, as the #PF guests check it (SDM vol.
 * 3, 4.7, 6.15): a read, a write, an instruction fetch (a jump to the
 * address, where pfc_page put code that jumps back) or a push, at CPL 0 or
 * in a process at CPL 3 (needs user_init(); the kernel's code must be
 * user-accessible). pfc_check prints a line for the #PF (error code, CR2,
 * and EIP = the faulting instruction, for a fetch its target) and one that
 * the instruction had no effect: the register it loads, the memory it
 * writes, ESP of the push, or (fetch) that the code there did not run; a
 * case that must not fault prints the value read, written or computed.
 */
enum pfc_access { PFC_RD, PFC_WR, PFC_EX, PFC_PUSH };
#define PFC_ACC_OFF	0x10	/* where a test page's reads and writes go */
#define PFC_CODE_OFF	0x20	/* where pfc_page puts the code a fetch runs */
#define PFC_NOFAULT	0xFFFFFFFFu	/* error: the access must not fault */
#define PFC_NOWP	1	/* flags: run with CR0.WP = 0 */
#define PFC_SDM_ONLY	2	/* flags: only with sdm (the oracle deviates) */

struct pfc_case {
	const char *what;
	unsigned cpl;
	enum pfc_access acc;
	uint32_t lin;		/* RD/WR: the address; EX: the target; PUSH: ESP before */
	uint32_t error;		/* PFC_NOFAULT: must not fault */
	unsigned flags;		/* PFC_*; a test may use bits from 0x100 up */
};

/* A test page of the pool: words tag + index, the fetch's code at PFC_CODE_OFF. */
uint32_t *pfc_page(uint32_t tag);
/*
 * Runs c and checks it. kview(lin) is where the kernel sees the memory
 * behind lin whatever the P bits say. Without sdm, PFC_SDM_ONLY cases are
 * left out and a reserved-bit fault's error code is compared but its P bit
 * (QEMU 7.2 leaves it out; see pfcase.c).
 */
void pfc_check(const struct pfc_case *c, volatile uint32_t *(*kview)(uint32_t lin), int sdm);

/* string.c: what gcc may emit calls to even when freestanding. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
char *strcpy(char *dst, const char *src);
char *strcat(char *dst, const char *src);

/* init.c: state saved at entry. */
extern uint32_t guest_mb_magic;
extern struct multiboot_info *guest_mbi;

#endif
