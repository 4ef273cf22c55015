/* monitor/: the virtual CPU, privileged-instruction emulation, guest memory and boot loaders. */
#ifndef BT_MONITOR_H
#define BT_MONITOR_H

/*
 * Offsets into struct vcpu that translated code and runtime/entry.S use.  They
 * are checked against the C layout by _Static_assert in monitor/vcpu.c.
 */
#define VCPU_REGS        0x00	/* uint32_t regs[8], EAX..EDI in encoding order */
#define VCPU_EIP         0x20
#define VCPU_AFLAGS      0x24	/* arithmetic flags, valid outside translated code */
#define VCPU_VFLAGS      0x28	/* virtual EFLAGS bits other than arith and IF */
#define VCPU_VIF         0x2c	/* EFLAGS.IF as a byte, 0 or 1 */
#define VCPU_EXIT_REQ    0x2d	/* nonzero: leave at the next unit boundary */
#define VCPU_INTR        0x2e	/* the PIC's INTR line to the CPU, 0 or 1 */
#define VCPU_EXIT_REASON 0x30
#define VCPU_EXIT_ARG    0x38
#define VCPU_HOST_RSP    0x40
#define VCPU_RESUME_RIP  0x48
#define VCPU_ENT_EXIT    0x50
#define VCPU_ENT_CALLOUT 0x58
#define VCPU_ENT_IBL     0x60
#define VCPU_IBL_TABLE   0x68
#define VCPU_IBL_MASK    0x70
#define VCPU_CALLOUT_EA  0x74
#define VCPU_SEG_BASE    0x78	/* uint32_t seg_base[6]: ES CS SS DS FS GS */
#define VCPU_FSTACK      0x90	/* 4 quadwords of private stack for pushfq/popfq */
#define VCPU_FSTACK_TOP  0xb0
#define VCPU_STAT_IBL_HITS 0xb0	/* bumped inline only when --stats is on */
/* Segment limit checks of translated code (TMODE_SEGLIMIT): an access of
 * offsets [ea, ea + n) through segment s is allowed iff
 * ea >= seg_lo[s] (32-bit) and ea + n - 1 <= seg_hi[s] (64-bit). */
#define VCPU_SEG_LO      0xb8	/* uint32_t seg_lo[6] */
#define VCPU_SEG_HI      0xd0	/* uint64_t seg_hi[6] */
#define VCPU_REDIRECT_PTR 0x100	/* host pointer for a redirected memory operand */
#define VCPU_TSC_AUX     0x108	/* IA32_TSC_AUX, which translated RDTSCP puts in ECX */

/* Exit reasons that runtime/entry.S produces itself. */
#define EXIT_IBL_MISS_VALUE 2
#define EXIT_FAULT_VALUE    5
#define EXIT_STEP_VALUE     7
#define EXIT_SHADOW_VALUE   8

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NSEG };

/* EFLAGS bits (Intel SDM vol. 1, 3.4.3). */
#define EFL_CF   0x00000001u
#define EFL_FIX1 0x00000002u	/* reserved, always 1 */
#define EFL_PF   0x00000004u
#define EFL_AF   0x00000010u
#define EFL_ZF   0x00000040u
#define EFL_SF   0x00000080u
#define EFL_TF   0x00000100u
#define EFL_IF   0x00000200u
#define EFL_DF   0x00000400u
#define EFL_OF   0x00000800u
#define EFL_IOPL 0x00003000u
#define EFL_NT   0x00004000u
#define EFL_RF   0x00010000u
#define EFL_VM   0x00020000u
#define EFL_AC   0x00040000u
#define EFL_VIF  0x00080000u
#define EFL_VIP  0x00100000u
#define EFL_ID   0x00200000u
/* The flags that live in the host RFLAGS while translated code runs. */
#define EFL_ARITH (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF | EFL_DF)

/* Control register bits (SDM vol. 3, 2.5). */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

#define CR4_TSD 0x00000004u
#define CR4_DE  0x00000008u
#define CR4_PSE 0x00000010u
#define CR4_PAE 0x00000020u
#define CR4_PGE 0x00000080u
#define CR4_OSFXSR 0x00000200u
#define CR4_OSXMMEXCPT 0x00000400u
#define EFER_NXE 0x00000800u

/* Why translated code returned to the dispatcher. */
enum vcpu_exit {
	EXIT_NONE = 0,
	EXIT_LINK = 1,	/* an unlinked direct exit; exit_arg = struct tcache_link * */
	EXIT_IBL_MISS,	/* indirect branch not in the lookup table; eip = target */
	EXIT_REQUEST,	/* exit_request was set; eip = start of the next unit */
	EXIT_CALLOUT,	/* a callout asked to leave; eip already updated */
	EXIT_FAULT,	/* a host fault in translated code became a guest exception */
	EXIT_STOP,	/* the VM is stopping (debug-exit, fatal error) */
	EXIT_STEP,	/* a single-instruction unit finished; eip = next */
	EXIT_SHADOW,	/* STI with an interrupt waiting; eip = next, in its shadow */
	EXIT_NREASONS
};
_Static_assert(EXIT_IBL_MISS == EXIT_IBL_MISS_VALUE, "entry.S exit reason");
_Static_assert(EXIT_FAULT == EXIT_FAULT_VALUE, "entry.S exit reason");
_Static_assert(EXIT_STEP == EXIT_STEP_VALUE, "translator exit reason");
_Static_assert(EXIT_SHADOW == EXIT_SHADOW_VALUE, "translator exit reason");

/* A guest memory access an instruction is about to make (data breakpoints). */
struct vcpu_access {
	uint32_t lin, len;
	bool write;
};

/* A segment register with its hidden descriptor cache (SDM vol. 3, 3.4.3). */
struct vcpu_segment {
	uint16_t sel;
	uint32_t base, limit;
	uint16_t attr;	/* descriptor bits 40..47 and 52..55 as in the "access rights" of LAR, >> 8 */
};

struct vcpu_dtr {
	uint32_t base;
	uint16_t limit;
};

/*
 * The virtual CPU.  The head of the struct is read and written by translated
 * code and by runtime/entry.S at the fixed offsets above, so it must not be
 * reordered; it is small so that every field is reachable with a disp8 from
 * r15, which keeps the inline sequences short.  Guest EFLAGS is split three
 * ways: the arithmetic flags stay in the host RFLAGS while translated code
 * runs (aflags holds them otherwise), IF is a byte of its own so that CLI and
 * STI are single flag-free stores, and the rest (IOPL, TF, NT, AC, ID, ...)
 * is virtual because the host must never run with the guest's TF or AC.
 */
struct vcpu {
	uint32_t regs[8];
	uint32_t eip;
	uint32_t aflags;
	uint32_t vflags;
	uint8_t vif;
	volatile uint8_t exit_request;
	volatile uint8_t intr;
	uint8_t pad0;
	uint32_t exit_reason;
	uint32_t pad1;
	uint64_t exit_arg;
	uint64_t host_rsp;
	uint64_t resume_rip;
	uint64_t ent_exit;
	uint64_t ent_callout;
	uint64_t ent_ibl;
	uint64_t ibl_table;
	uint32_t ibl_mask;
	uint32_t callout_ea;
	uint32_t seg_base[6];
	uint64_t fstack[4];
	uint64_t stat_ibl_hits;
	uint32_t seg_lo[6];
	uint64_t seg_hi[6];
	uint64_t redirect_ptr;
	uint32_t tsc_aux;
	/* ---- end of the fixed-offset head ---- */

	struct vcpu_segment seg[S_NSEG];
	struct vcpu_dtr gdtr, idtr;
	struct vcpu_segment ldtr, tr;
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];
	uint32_t cpl;
	uint64_t tsc_offset;
	uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pat;
	uint64_t mtrr[28];	/* variable 0-15, fixed 16-26, default type 27 */
	uint64_t misc_enable_flipped;	/* IA32_MISC_ENABLE bits changed from their reset value */
	uint64_t efer;		/* only NXE is writable */
	uint64_t pdpte[4];	/* PAE PDPTE registers (SDM vol. 3, 4.4.1) */
	/* The x87/MMX/SSE state as FXSAVE stores it in 32-bit mode (SDM
	 * vol. 1, 10.5.1), and a generation bumped at every change, so a stub
	 * loads it only when it differs from what the stub holds.
	 * fpu_gen 0: not yet set to the RESET state (monitor/fpu.c). */
	_Alignas(64) uint8_t fpu[512];
	uint64_t fpu_gen;
	/* The next unit runs one instruction and is not kept (nor does it
	 * protect its code page). */
	bool transient_next;
	/* A write (by the monitor or a redirected instruction) hit translated
	 * code: the running unit may be gone, so the callout must not resume it. */
	bool code_hit;
	/* The next unit runs one instruction with its memory operand redirected
	 * through the physmap (a page-table write, an unmappable page). */
	bool redirect_next;
	/* A redirected write in progress: what it overwrote. */
	uint64_t redirect_gpa;
	uint8_t redirect_old[16];
	uint32_t redirect_n;
	/* The instruction at eip runs without interrupts first: the shadow of
	 * STI and of MOV/POP SS (SDM vol. 3, 6.8.3). */
	bool shadow;
	bool shadow_ss;	/* ... of MOV/POP SS, which also holds off #DB traps */
	/* An event (exception, interrupt, INT n) was delivered since the
	 * dispatcher last cleared this: no single-step trap for the insn. */
	bool delivered;
	struct vcpu_access dbg_acc[4];
	int dbg_nacc;
	bool halted;
	/* monitor_service is deciding what runs next: an INTR change needs
	 * no exit request then, since it looks at INTR itself. */
	bool in_service;
	bool stopping;
	bool reset_requested;	/* the stop is a machine reset */
	int exit_status;	/* bt's exit status once stopping */

	/* An exception waiting to be delivered through the IDT. */
	bool exc_pending;
	uint8_t exc_vector;
	bool exc_has_error;
	uint32_t exc_error;
	int exc_nesting;	/* 0 normal, 1 delivering, 2 delivering #DF */

	/* A host fault in translated code, recorded by the signal handler. */
	int fault_sig;
	uint64_t fault_addr, fault_err;

	struct monitor_vm *vm;	/* the machine this vCPU belongs to */
};

/* Full guest EFLAGS from its three homes. */
static inline uint32_t vcpu_get_eflags(const struct vcpu *v)
{
	return (v->aflags & EFL_ARITH) | v->vflags | ((uint32_t)v->vif << 9) | EFL_FIX1;
}

static inline void vcpu_set_eflags(struct vcpu *v, uint32_t f)
{
	v->aflags = f & EFL_ARITH;
	v->vif = (f & EFL_IF) ? 1 : 0;
	v->vflags = (f & ~(EFL_ARITH | EFL_IF)) | EFL_FIX1;
}

/* ---- guest memory (monitor/guestmem.c) ---- */

/*
 * Guest RAM is one memfd mapped once as the physmap (guest physical ->
 * host pointer).  The kernel view is host [0, 4 GiB): guest linear addresses
 * are host addresses there, so translated code needs no address translation.
 */
#define KVIEW_SIZE  0x100000000ull
/* PROT_NONE guard above the kernel view: a 32-bit access that wraps or runs
 * past 4 GiB faults instead of reaching monitor memory. */
#define KVIEW_GUARD 0x40000000ull

struct guestmem {
	int memfd;
	uint8_t *physmap;
	uint64_t size;		/* bytes of guest RAM */
	uint64_t min_addr;	/* vm.mmap_min_addr, page-aligned up */
	bool kview_reserved;
};

int monitor_guestmem_init(struct guestmem *gm, uint64_t size);
void monitor_guestmem_destroy(struct guestmem *gm);
int monitor_kview_reserve(struct guestmem *gm);
int monitor_kview_map_identity(struct guestmem *gm);
/* After monitor_kview_reserve() failed with -EEXIST: names what occupies the
 * kernel-view range ("/path", "[heap]", "anonymous memory") from
 * /proc/self/maps into name.  Returns 0, or -ENOENT if nothing is found. */
int monitor_kview_occupant(const struct guestmem *gm, char *name, size_t len);
/* The one-line error for that case, without a trailing newline:
 * "bt: host range [0x..,0x..) needed for the guest kernel view is already
 * mapped (NAME at 0x..)". */
void monitor_kview_conflict_message(const struct guestmem *gm, char *buf, size_t len);

/* Bounds-checked access to guest physical memory through the physmap.
 * Return 0, or -EFAULT if [gpa, gpa + n) is not entirely guest RAM. */
int monitor_phys_read(const struct guestmem *gm, uint64_t gpa, void *dst, size_t n);
int monitor_phys_write(struct guestmem *gm, uint64_t gpa, const void *src, size_t n);
/* Host pointer to [gpa, gpa + n) in the physmap, or NULL if not all RAM. */
void *monitor_phys_ptr(const struct guestmem *gm, uint64_t gpa, uint64_t n);

/* ---- Multiboot v1 (monitor/multiboot.c) ---- */

/* EAX at the kernel's entry; EBX holds multiboot_boot.mbi (spec 3.2). */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

struct multiboot_boot {
	uint32_t entry;		/* guest physical entry point */
	uint32_t mbi;		/* guest physical address of the multiboot_info */
	uint32_t kernel_start, kernel_end;
};

int monitor_multiboot_load(struct guestmem *gm, const char *path, const char *cmdline,
			   struct multiboot_boot *out, char *err, size_t errlen);

/* ---- the Linux boot protocol (monitor/linuxboot.c) ---- */

/* A bzImage loaded for the 32-bit boot protocol (Documentation/arch/x86/boot.rst). */
struct linux_boot {
	uint32_t entry;		/* code32_start: the protected-mode code at 1 MiB */
	uint32_t boot_params;	/* guest physical address of the zero page: ESI */
	uint32_t gdt_base;	/* the boot GDT with __BOOT_CS (0x10), __BOOT_DS (0x18) */
	uint16_t gdt_limit;
	uint16_t version;	/* boot protocol, 0x020f for 2.15 */
	uint32_t kernel_end;	/* end of the protected-mode code */
	uint32_t decomp_start, decomp_end;	/* where it decompresses itself */
	uint32_t initrd_start, initrd_size;	/* 0, 0: no initrd */
};

/* 1 if the file has a Linux boot protocol header ("HdrS" at 0x202), 0 if
 * not, -errno if it cannot be opened (the caller's loader then says why). */
int monitor_linux_probe(const char *path);
/* Loads the bzImage at path, the initrd (NULL: none) and the command line,
 * and builds boot_params.  Returns 0, or -errno with a one-line message in
 * err; guest RAM is untouched if the kernel or the command line is refused. */
int monitor_linux_load(struct guestmem *gm, const char *path, const char *cmdline,
		       const char *initrd, struct linux_boot *out, char *err, size_t errlen);

/* ---- the machine (monitor/vm.c) ---- */

#include "devices/devices.h"

struct translator_callout;
struct shadowmm;

/* Adaptive translation: how often an instruction needed a redirect. */
#define MONITOR_ADAPT_BITS 10
struct monitor_adapt {
	uint32_t eip, count;
};

/*
 * A host file descriptor that feeds a device, such as the console's stdin
 * feeding the UART.  The clock watches it (monitor/clock.c): HLT waits on it
 * and the guest's timer ticks poll it.  `ready` runs on the vCPU thread when
 * fd is readable, at EOF or on error (any revents); it may read, push bytes
 * into devices and stop the VM.  The owner clears `active` while it cannot
 * take more (its bytes wait for the device: backpressure) and for good at
 * EOF; an inactive input is not polled and cannot wake a halted guest.
 */
struct monitor_input {
	int fd;
	bool active;
	void (*ready)(void *ctx);
	void *ctx;
};

#define MONITOR_INPUTS_MAX 4

struct monitor_vm {
	struct guestmem mem;
	struct devices_bus bus;
	struct devices_machine machine;
	struct devices_pic *pic;	/* where INTR comes from; NULL: no interrupts */
	struct vcpu cpu;
	uint64_t callouts[64];	/* by translator_callout_kind (callout.c checks the bound) */
	uint64_t fpu_runs;	/* guest FPU instructions run natively by monitor/fpu.c */
	uint64_t open_bus;	/* accesses to neither RAM nor a device (monitor/paging.c) */
	uint64_t irqs_delivered;
	uint64_t halts, halt_ns;

	/* The virtual clock and the host timer (monitor/clock.c). */
	uint64_t clock_base_ns;
	uint64_t armed_deadline;
	bool timer_armed;
	bool host_timer_ok;
	void *host_timer;	/* timer_t */
	/* Host inputs the clock polls, and when it last did (virtual ns). */
	struct monitor_input *inputs[MONITOR_INPUTS_MAX];
	int ninputs;
	uint64_t input_polled_ns;
	/* A20: bt keeps it enabled (see monitor/clock.c); this is what the
	 * guest last asked for. */
	bool a20;
	/* Prints the most recently translated units (for fatal errors). */
	void (*dump_recent)(void *ctx, FILE *f);
	void *dump_ctx;

	/* Guest paging (monitor/paging.c, shadowmm/). */
	struct shadowmm *sm;
	struct monitor_adapt adapt[1u << MONITOR_ADAPT_BITS];
	uint64_t redirects;		/* redirected accesses done */
	uint64_t redirect_faults;	/* ... of which after a host fault (traced writes) */
	/* Hooks the runtime sets: translations of eip must be made again
	 * (adaptive); the TLB was flushed (full: everything, else CR3). */
	void (*retranslate)(void *ctx, uint32_t eip);
	void (*tlb_changed)(void *ctx, bool full);
	/* Every TLB entry, global ones included, was flushed (CR4.PGE changed). */
	void (*tlb_flush_global)(void *ctx);
	/* Guest page gpfn is written by something that cannot be redirected:
	 * its translations go and it is no longer protected as code. */
	void (*code_unprotect)(void *ctx, uint32_t gpfn);
	/* A user access (SHADOWMM_ACC_WRITE/FETCH) at lin faulted in the
	 * current stub: fill it from the guest's page tables (0), or -1 with
	 * the guest's #PF error code. */
	int (*user_fill)(void *ctx, uint32_t lin, unsigned access, uint32_t *pf_error);
	void *hook_ctx;
};

/* ---- the virtual clock (monitor/clock.c) ---- */

/* Starts the clock and creates the host timer that interrupts translated
 * code at device deadlines (a signal on the calling thread, which must be
 * the vCPU thread and have its alternate signal stack).  Returns 0 or -errno. */
int monitor_clock_init(struct monitor_vm *vm);
void monitor_clock_destroy(struct monitor_vm *vm);
/* The signal the host timer raises on the vCPU thread (it must stay
 * unblocked there, with SA_ONSTACK). */
int monitor_clock_signal(void);
/* Nanoseconds since the VM started (the devices' clock). */
uint64_t monitor_now_ns(const struct monitor_vm *vm);
/* Polls the host inputs if a guest timer tick or their own deadline is
 * due, runs the device timers that are due, and points the host timer at the
 * next deadline. */
void monitor_clock_sync(struct monitor_vm *vm);
/* The next time (virtual ns, DEVICES_NEVER if none) monitor_clock_sync has
 * work: a device deadline, or polling the active host inputs. */
uint64_t monitor_clock_next_deadline(const struct monitor_vm *vm);
/* HLT: sleeps until the next device deadline or until an active host input
 * is ready (and runs its callback).  Returns false if there is neither
 * (nothing could ever wake the guest). */
bool monitor_clock_sleep(struct monitor_vm *vm);
/* Host inputs (struct monitor_input): 0, -ENOSPC when MONITOR_INPUTS_MAX
 * are watched, -ENOENT when removing one that is not. */
int monitor_clock_add_input(struct monitor_vm *vm, struct monitor_input *in);
int monitor_clock_remove_input(struct monitor_vm *vm, struct monitor_input *in);

/* ---- the vCPU (monitor/vcpu.c, cpu state on entry, dumps) ---- */

/* Multiboot entry state (Multiboot 0.6.96, 3.2): flat 4 GiB segments,
 * CR0.PE=1, paging off, IF=0, EAX=magic, EBX=info. */
void monitor_vcpu_reset_multiboot(struct vcpu *v, const struct multiboot_boot *b);
/* Linux 32-bit boot protocol entry state (boot.rst, "32-bit Boot Protocol"):
 * the same flat segments from b's GDT, IDTR limit 0, ESI = boot_params,
 * EIP = code32_start, other registers 0. */
void monitor_vcpu_reset_linux(struct vcpu *v, const struct linux_boot *b);
/* Clears the run state (stop, pending events, shadows) for a machine
 * reset; the architectural state is set by the next reset_* call. */
void monitor_vcpu_restart(struct vcpu *v);
/* The translation mode bits (translator TMODE_*) of the current state;
 * refreshes the segment bases and limit bounds translated code reads. */
uint32_t monitor_tmode(struct vcpu *v);
/* Stops the VM: prints "bt: <message>" to stderr (if fmt) and sets status. */
void monitor_stop(struct vcpu *v, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Registers, descriptor tables and control registers, for fatal errors
 * (and the last translated units, through vm->dump_recent). */
void monitor_dump_state(const struct vcpu *v, FILE *f);

/* ---- debug exceptions (monitor/debug.c) ---- */

/* Whether DR7 enables any breakpoint. */
bool monitor_debug_armed(const struct vcpu *v);
/* Before a single-instruction unit at eip: raises an instruction-breakpoint
 * #DB (a fault) if one matches and RF is clear; returns true if it did.
 * Clears RF, as the start of an instruction does. */
bool monitor_debug_before(struct vcpu *v);
/* After it: raises the single-step (TF as it was before,
 * in eflags_before) and data-breakpoint traps the instruction caused. */
void monitor_debug_after(struct vcpu *v, uint32_t eflags_before);

/* ---- the guest's FPU state (monitor/fpu.c) ---- */

/* Sets vcpu.fpu to the RESET state. */
void monitor_fpu_reset(struct vcpu *v);
/* Materializes the RESET state if nothing has yet (fpu_gen == 0). */
void monitor_fpu_ensure(struct vcpu *v);
/* vcpu.fpu was replaced (from a stub): clears reserved MXCSR bits and
 * bumps fpu_gen. */
void monitor_fpu_changed(struct vcpu *v);
/* Takes img, what a stub stored after running ring-3 code with guest CS
 * and DS, as vcpu.fpu (its FCS and FDS made the guest's; changed). */
void monitor_fpu_from_user(struct vcpu *v, const uint8_t img[512], uint16_t cs, uint16_t ds);

/* ---- guest linear memory seen from the monitor (monitor/linear.c, paging.c) ---- */

/* Supervisor accesses through the guest's page tables.  Return 0, or
 * -EFAULT after raising #PF (or stopping the VM outside RAM). */
int monitor_read_lin(struct vcpu *v, uint32_t lin, void *dst, size_t n);
int monitor_write_lin(struct vcpu *v, uint32_t lin, const void *src, size_t n);
/* A read that fails quietly (-EFAULT) instead of faulting. */
int monitor_peek_lin(struct vcpu *v, uint32_t lin, void *dst, size_t n);
/* Any access: access is SHADOWMM_ACC_* (write, user, fetch). */
int monitor_access_lin(struct vcpu *v, uint32_t lin, void *buf, size_t n, unsigned access,
		       bool quiet);
/* Linear -> guest physical for `access` (sets A/D if set_ad); -1 with the
 * #PF error code if it faults. */
int monitor_translate(struct vcpu *v, uint32_t lin, unsigned access, bool set_ad, uint64_t *gpa,
		      uint32_t *pf_error);
/* A host fault of translated code at `lin` in the kernel view; true if it
 * was handled (retry, #PF raised, or redirect_next set). */
bool monitor_paging_fault(struct vcpu *v, uint32_t lin, bool write);
/* The walk environment of the current paging state. */
#include "shadowmm/shadowmm.h"
struct shadowmm_env monitor_paging_env(const struct vcpu *v);
/* Loads the PAE PDPTE registers from the table at cr3; false (nothing
 * loaded) if a present one sets a reserved bit: #GP(0) for the caller. */
bool monitor_load_pdptes(struct vcpu *v, uint32_t cr3);
/* CR0/CR3/CR4 changes and INVLPG, with TLB semantics. */
void monitor_paging_changed(struct vcpu *v, bool cr3_write, bool full);
/* CR4.PGE changed with nothing else: a flush of the whole TLB, global
 * entries included, under an unchanged paging mode. */
void monitor_paging_flush_global(struct vcpu *v);
void monitor_invlpg(struct vcpu *v, uint32_t lin);
/* Adaptive translation: has the instruction at eip needed enough redirects
 * to be translated redirected? */
bool monitor_adaptive(const struct monitor_vm *vm, uint32_t eip);

/* ---- guest user mode (monitor/user.c) ---- */

/* LDT slots of a stub: guest LDT selectors keep their index, guest GDT
 * selector i uses MONITOR_LDT_ALIAS + i (runtime/stubctl.h: STUB_LDT_ALIAS). */
#define MONITOR_LDT_ALIAS 4096u

/* One descriptor for a stub's LDT, in modify_ldt(2)'s terms (user_desc). */
struct monitor_ldt_entry {
	uint32_t slot, base, limit, flags;
};

/* The guest's CPL-3 state as the host runs it in a stub. */
struct monitor_user {
	uint32_t regs[8], eip, eflags;	/* eflags as the host runs with */
	uint16_t sel[S_NSEG];		/* host selectors (LDT slots) */
	uint16_t guest_sel[S_NSEG];	/* the guest selectors they stand for */
	int nldt;
	struct monitor_ldt_entry ldt[S_NSEG];
};

enum monitor_user_why {
	USER_SIGNAL,	/* a host signal in guest code: trapno, err, addr */
	USER_SYSCALL,	/* an i386 system call (INT 0x80) */
	USER_KICK,	/* the monitor interrupted it (device interrupt) */
	USER_ESCAPE,	/* it reached 64-bit mode or forged the control page */
	USER_DIED,	/* the stub process died (e.g. a forbidden host syscall) */
	USER_HUNG,	/* the stub stopped answering */
	USER_NWHY
};

struct monitor_user_exit {
	enum monitor_user_why why;
	uint32_t regs[8], eip, eflags;
	uint16_t sel[S_NSEG];
	uint32_t signo, trapno, err;
	uint64_t addr, rip;
	int death_signal;
	bool cpuid_faulting;
};

/* Computes the host state for running the guest's CPL-3 code. */
void monitor_user_prepare(struct vcpu *v, struct monitor_user *u);
/* Takes the state back after guest user code stopped and turns the exit
 * into what the guest CPU would do (an exception or interrupt through the
 * guest IDT, an emulated instruction, or nothing: run again). */
void monitor_user_exit(struct vcpu *v, const struct monitor_user *u,
		       const struct monitor_user_exit *e);

/* ---- exceptions and interrupts (monitor/exceptions.c) ---- */

enum { VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6,
       VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13,
       VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_XM = 19 };

/* Queues exception `vector` at the current vcpu->eip (error < 0: none). */
void monitor_raise(struct vcpu *v, int vector, int error);
/* Delivers a queued exception through the guest IDT. */
void monitor_deliver_pending(struct vcpu *v);
/*
 * How an event reaches the IDT, which decides the gate DPL check, the EXT
 * bit of error codes met on the way, and the RF image pushed (SDM vol. 3,
 * 6.13 and 18.3.1.1):
 *   SOFT   INT n, INT3, INTO: gate DPL >= CPL is checked, EXT = 0, RF 0
 *   EXT    hardware interrupts, traps, INT1: EXT = 1, RF as it is
 *   FAULT  fault-class exceptions: EXT = 1, RF pushed as 1
 *   DBFAULT an instruction-breakpoint #DB: a fault, RF as it is
 */
enum deliver_kind { DELIVER_SOFT, DELIVER_EXT, DELIVER_FAULT, DELIVER_DBFAULT };
/* Delivers an interrupt or exception with return address `ret_eip`. */
void monitor_deliver(struct vcpu *v, int vector, int error, uint32_t ret_eip,
		     enum deliver_kind kind);
/* Turns a host fault recorded in v->fault_* into a guest event. */
void monitor_host_fault(struct vcpu *v);

/* ---- callouts (monitor/callout.c dispatches to the files per concept) ---- */

/* Emulates co; returns 0 to resume translated code after the instruction,
 * or an EXIT_* reason to leave it (vcpu->eip then says where to go on). */
int monitor_callout(struct vcpu *v, const struct translator_callout *co);
/* Runs before each entry into translated code; false once the VM stops. */
bool monitor_service(struct vcpu *v);

#endif /* __ASSEMBLER__ */
#endif
