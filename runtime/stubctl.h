/*
 * runtime/stubctl.h: the ABI between the monitor (runtime/stub.c) and the
 * stub program (runtime/stubproc.c) — internal to runtime/.
 *
 * A stub is a separate process whose [0, 4 GiB) is the user view of one
 * guest address space (DESIGN.md §2-3).  Its only other contents are the
 * stub program (linked at STUB_TEXT), its stacks, and this control page at
 * STUB_CTL, shared with the monitor through a memfd.  Everything the stub
 * writes here is untrusted input to the monitor: guest code that escapes to
 * 64-bit mode can write anything to it.
 *
 * Hand-off: the monitor fills in a command, then bumps cmd_seq and wakes
 * it (futex); the stub spins briefly, then futex-waits on cmd_seq.  When
 * the command is done (for RUN: when guest code stops, on a signal), the
 * stub writes the results, sets done_seq = cmd_seq and wakes it.
 * Freestanding: no libc types.
 */
#ifndef BT_RUNTIME_STUBCTL_H
#define BT_RUNTIME_STUBCTL_H

#define STUB_TEXT	0x1000000000ull	/* the stub program is linked here (64 GiB) */
#define STUB_CTL	0x1100000000ull	/* the control page */
#define STUB_CTL_SIZE	0x4000u

/* File descriptors the stub starts with. */
#define STUB_FD_CTL	3	/* memfd of the control page */
#define STUB_FD_RAM	4	/* memfd of guest RAM */

/* The signal the monitor sends to make a running stub leave guest code. */
#define STUB_KICK_SIGNAL 10	/* SIGUSR1 */

/* LDT slots: the guest's LDT is mirrored at the same indices below
 * STUB_LDT_ALIAS; guest GDT descriptor i in use at CPL 3 gets slot
 * STUB_LDT_ALIAS + i.  The host LDT has 8192 entries. */
#define STUB_LDT_ALIAS	4096u
#define STUB_LDT_SLOTS	8192u

/* Segment registers in the guest state, in this order (as S_* in monitor.h). */
#define STUB_ES 0
#define STUB_CS 1
#define STUB_SS 2
#define STUB_DS 3
#define STUB_FS 4
#define STUB_GS 5
#define STUB_NSEG 6

#ifndef __ASSEMBLER__
#include <stdint.h>

enum stub_cmd {
	STUB_CMD_NONE,
	STUB_CMD_RUN,	/* load the guest state and run guest code until a signal */
	STUB_CMD_MAP,	/* apply map[0..nmap) (each is validated by the monitor) */
	STUB_CMD_LDT,	/* write ldt[0..nldt) with modify_ldt */
	STUB_CMD_TSC,	/* arg: 1 = RDTSC raises SIGSEGV (guest CR4.TSD at CPL 3), 0 = allowed */
	STUB_CMD_EXIT,	/* exit */
};

enum stub_exit {
	STUB_EXIT_NONE,
	STUB_EXIT_SIGNAL,	/* guest code took a host signal: signo/trapno/err/addr */
	STUB_EXIT_SYSCALL,	/* an i386 system call (INT 0x80, SYSENTER): SIGSYS */
	STUB_EXIT_KICK,		/* the monitor's kick arrived while guest code ran */
	STUB_EXIT_ESCAPE,	/* a signal in 64-bit code that is not the stub's own */
	STUB_EXIT_READY,	/* start-up done; listener_fd is valid */
	STUB_EXIT_DONE,		/* MAP or LDT finished; result says how */
};

enum stub_map_op { STUB_MAP_MMAP, STUB_MAP_MUNMAP, STUB_MAP_MPROTECT };

#define STUB_MAP_MAX 64
#define STUB_LDT_MAX 64

/* struct user_desc of modify_ldt(2), by value. */
struct stub_user_desc {
	uint32_t entry_number;
	uint32_t base_addr;
	uint32_t limit;
	uint32_t flags;	/* seg_32bit:1 contents:2 read_exec_only:1 limit_in_pages:1
			 * seg_not_present:1 useable:1 lm:1 */
};

struct stub_map {
	uint64_t addr, len, off;
	uint32_t prot, op;
};

struct stub_ctl {
	volatile uint32_t cmd_seq;	/* futex, monitor -> stub */
	volatile uint32_t done_seq;	/* futex, stub -> monitor */
	uint32_t cmd;
	uint32_t exit;			/* enum stub_exit of the last command */
	/* Set by a side before it futex-waits, so the other side makes the
	 * wake-up system call only when someone sleeps (a spinning waiter
	 * sees the new sequence number by itself). */
	volatile uint32_t stub_sleeping, monitor_sleeping;

	/* RUN: the guest state in; at an exit, the state out. */
	uint32_t regs[8];		/* EAX..EDI */
	uint32_t eip, eflags;
	uint16_t sel[STUB_NSEG];	/* host selectors */
	uint16_t pad0[2];

	/* The signal that ended RUN. */
	uint32_t signo, code, trapno, err;
	uint64_t addr;			/* si_addr (CR2 for page faults) */
	uint64_t rip, cs;		/* raw, for STUB_EXIT_ESCAPE reports */
	uint32_t syscall_arch, syscall_nr;

	/* MAP / LDT */
	int32_t result;			/* 0, or -errno of the first failure */
	int32_t listener_fd;		/* READY: the seccomp listener, in the stub */
	int32_t cpuid_faulting;		/* READY: guest CPUID traps to the monitor */
	uint32_t arg;			/* TSC */
	uint32_t nmap, nldt;
	struct stub_map map[STUB_MAP_MAX];
	struct stub_user_desc ldt[STUB_LDT_MAX];

	/* The guest's x87/MMX/SSE state in the FXSAVE layout (32-bit form).
	 * RUN: loaded with FXRSTOR first when fpu_load is set (the monitor
	 * sets it only when the state changed since this stub last had it);
	 * at an exit, stored with FXSAVE once the signal handler's sigreturn
	 * has put the guest's registers back. */
	uint32_t fpu_load;
	_Alignas(64) uint8_t fpu[512];
};

_Static_assert(sizeof(struct stub_ctl) <= STUB_CTL_SIZE, "control page");

#endif /* __ASSEMBLER__ */

#endif
