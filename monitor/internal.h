/* monitor/internal.h: helpers shared by the monitor's emulation files. */
#ifndef BT_MONITOR_INTERNAL_H
#define BT_MONITOR_INTERNAL_H

#include "monitor/monitor.h"
#include "translator/translator.h"

/* Operand access for emulated instructions (operand.c). */
uint32_t op_reg_read(const struct vcpu *v, ZydisRegister r);
void op_reg_write(struct vcpu *v, ZydisRegister r, uint32_t val);
/* Linear address of a memory operand: (base + index*scale + disp) mod 2^32,
 * plus the segment base, wrapping at 4 GiB. */
uint32_t op_linear(const struct vcpu *v, const ZydisDecodedOperand *op);
/* Reads/writes an operand of `size` bytes; a segment limit violation
 * raises #GP(0) or #SS(0), memory outside RAM stops the VM; both return
 * -EFAULT, and monitor_op_fail() then gives the callout's result. */
int op_read(struct vcpu *v, const ZydisDecodedOperand *op, int size, uint32_t *val);
int op_write(struct vcpu *v, const ZydisDecodedOperand *op, int size, uint32_t val);
static inline int monitor_op_fail(const struct vcpu *v)
{
	return v->stopping ? EXIT_STOP : EXIT_FAULT;
}
/* Checks an access of [offset, offset+size) through segment s: usable,
 * within the limit, and readable or writable as asked (SDM vol. 3, 5.3-5.4).
 * On a violation raises #GP(0) (#SS(0) for SS) and returns false. */
bool op_check_access(struct vcpu *v, int s, uint32_t offset, uint32_t size, bool write);
static inline bool op_check_limit(struct vcpu *v, int s, uint32_t offset, uint32_t size)
{
	return op_check_access(v, s, offset, size, false);
}

/* Callout handlers, one file per concept. */
int monitor_io(struct vcpu *v, const struct translator_callout *co);
int monitor_strio(struct vcpu *v, const struct translator_callout *co);
int monitor_cpuid(struct vcpu *v, const struct translator_callout *co);
int monitor_movcr(struct vcpu *v, const struct translator_callout *co);
int monitor_movdr(struct vcpu *v, const struct translator_callout *co);
int monitor_cache(struct vcpu *v, const struct translator_callout *co);
/* An x87/MMX/SSE instruction of translated code (monitor/fpu.c). */
int monitor_fpu(struct vcpu *v, const struct translator_callout *co);
int monitor_dtr(struct vcpu *v, const struct translator_callout *co);
int monitor_segload(struct vcpu *v, const struct translator_callout *co);
int monitor_segread(struct vcpu *v, const struct translator_callout *co);
int monitor_sysdesc(struct vcpu *v, const struct translator_callout *co);
int monitor_farjmp(struct vcpu *v, const struct translator_callout *co);
int monitor_iret(struct vcpu *v, const struct translator_callout *co);
int monitor_int(struct vcpu *v, const struct translator_callout *co);
int monitor_hlt(struct vcpu *v, const struct translator_callout *co);
int monitor_rdtsc(struct vcpu *v, const struct translator_callout *co);
int monitor_msr(struct vcpu *v, const struct translator_callout *co);
int monitor_bcd(struct vcpu *v, const struct translator_callout *co);
int monitor_bound(struct vcpu *v, const struct translator_callout *co);

/* DR7.GD: #DB before a MOV DRn; returns EXIT_FAULT if raised, else 0. */
int monitor_debug_general_detect(struct vcpu *v);
int monitor_iflags(struct vcpu *v, const struct translator_callout *co);
int monitor_limit_fault(struct vcpu *v, const struct translator_callout *co);
int monitor_redirect(struct vcpu *v, const struct translator_callout *co);
int monitor_stack(struct vcpu *v, const struct translator_callout *co);
/* MOVS LODS STOS CMPS SCAS (REP too) and XLAT through a non-flat segment (string.c). */
int monitor_string(struct vcpu *v, const struct translator_callout *co);

/* The virtual CPUID: r = EAX, EBX, ECX, EDX for leaf/subleaf. */
void monitor_cpuid_leaf(uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* A segment or gate descriptor, decoded (SDM vol. 3, 3.4.5, 5.8.3, 6.11). */
struct desc {
	uint64_t raw;
	uint32_t base, limit;	/* limit in bytes - 1, G applied */
	unsigned type, dpl;	/* type: the 4-bit field; with s=0 a system type */
	bool s, p, db;
	/* Gates: target selector and offset, parameter count. */
	uint16_t gsel;
	uint32_t goff;
	unsigned gparams;
};

static inline struct desc desc_decode(uint64_t d)
{
	uint32_t lo = (uint32_t)d, hi = (uint32_t)(d >> 32);
	struct desc x = {
		.raw = d,
		.base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u),
		.limit = (lo & 0xffff) | (hi & 0xf0000),
		.type = (hi >> 8) & 0xf,
		.dpl = (hi >> 13) & 3,
		.s = hi & 0x1000,
		.p = hi & 0x8000,
		.db = hi & 0x400000,
		.gsel = (uint16_t)(lo >> 16),
		.goff = (lo & 0xffff) | (hi & 0xffff0000u),
		.gparams = hi & 0x1f,
	};
	if (hi & 0x800000)
		x.limit = (x.limit << 12) | 0xfff;
	return x;
}

#define DESC_CODE(x) ((x).s && ((x).type & 8))
#define DESC_DATA(x) ((x).s && !((x).type & 8))
#define DESC_CONFORMING(x) (DESC_CODE(x) && ((x).type & 4))
#define DESC_READABLE(x) (DESC_DATA(x) || ((x).type & 2))
#define DESC_WRITABLE(x) (DESC_DATA(x) && ((x).type & 2))

/* System descriptor types (s = 0), SDM vol. 3, Table 3-2. */
enum { SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK = 5,
       SYS_INTR16 = 6, SYS_TRAP16 = 7, SYS_TSS32_AVAIL = 9, SYS_TSS32_BUSY = 11,
       SYS_CALL32 = 12, SYS_INTR32 = 14, SYS_TRAP32 = 15 };

/* Whether [off, off + size) lies inside segment s's limit (expand-down
 * data segments: above the limit, up to 64 KiB or 4 GiB by the B bit). */
static inline bool seg_in_limit(const struct vcpu_segment *s, uint32_t off, uint32_t size)
{
	uint64_t end = (uint64_t)off + size - 1;
	bool expand_down = (s->attr & 0x18) == 0x10 && (s->attr & 0x4);
	if (!expand_down)
		return end <= s->limit;
	uint64_t upper = (s->attr & 0x4000) ? 0xffffffffu : 0xffffu;
	return off > s->limit && end <= upper;
}

/* Sets the accessed bit of the descriptor for sel in guest memory (done by
 * every segment load, SDM vol. 3, 3.4.5.1). */
void desc_set_accessed(struct vcpu *v, uint16_t sel, uint64_t d);
/* Sets or clears a TSS descriptor's busy bit in the GDT. */
void desc_set_busy(struct vcpu *v, uint16_t sel, bool busy);

/* Privilege-level transfers through gates (exceptions.c): loads CS and
 * (for an inner level) SS:ESP from the TSS, pushes a frame.  kind says how
 * faults found on the way are reported. */
/* SSn:ESPn of the current TSS for a transfer to level dpl, checked; -1 or
 * a fault vector with *err (-2: the VM stopped). */
int monitor_tss_stack(struct vcpu *v, unsigned dpl, int ext, uint16_t *ss, uint32_t *esp,
		      uint64_t *ssd, int *err);
/* EFLAGS write under POPF/IRET rules at the current CPL (size 2 or 4). */
void monitor_write_eflags(struct vcpu *v, uint32_t val, int size);
/* Hardware task switch (task.c).  source: how it was started.  Returns -1
 * when done, else a fault vector with *err (not yet raised). */
enum task_source { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
int monitor_task_switch(struct vcpu *v, uint16_t sel, enum task_source src,
			uint32_t ret_eip, int error, int ext, int *err);
/* Far CALL/RET and call gates (transfer.c). */
int monitor_farcall(struct vcpu *v, const struct translator_callout *co);
int monitor_farret(struct vcpu *v, const struct translator_callout *co);
int monitor_sysenter(struct vcpu *v, const struct translator_callout *co);
/* CPL > 0 checks for privileged instructions (privilege.c): raises #GP(0)
 * and returns EXIT_FAULT when CPL != 0, else 0. */
int monitor_need_cpl0(struct vcpu *v, const struct translator_callout *co);
/* I/O permission (IOPL, then the TSS bitmap) for `size` bytes at port. */
bool monitor_io_allowed(struct vcpu *v, uint16_t port, int size);
/* Loads the hidden part of a segment with the privilege level in cpl
 * (data segment registers that the new CPL may not use become null, as
 * IRET and RET to an outer level do: SDM vol. 2, IRET). */
void monitor_null_inaccessible(struct vcpu *v);

/* Loads segment register `seg` with `sel` under protected-mode rules
 * (descriptors.c).  On a fault, raises it and returns -1. */
int seg_load(struct vcpu *v, int seg, uint16_t sel);
/* Reads the 8-byte descriptor for sel from the GDT/LDT; -1 past the limit. */
int desc_read(struct vcpu *v, uint16_t sel, uint64_t *d);
/* Loads CS (same privilege) and EIP; on a fault raises it, returns -1. */
int monitor_load_cs(struct vcpu *v, uint16_t sel, uint32_t eip);
/* Fills a segment's hidden cache from descriptor d. */
void monitor_seg_cache(struct vcpu *v, int s, uint16_t sel, uint64_t d);

/* Host files the boot loaders read (bootfile.c).  Errors are one line in
 * err: "cannot open kernel 'PATH': why", "'PATH': not a regular file", ...
 * with `what` ("kernel", "initrd") naming the file's role. */
struct monitor_bootfile {
	const char *path, *what;
	int fd;
	uint64_t size;
};
/* "'PATH': message" into err, the loaders' form for what is wrong in a file. */
void monitor_bootfile_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Opens a regular file of at most KVIEW_SIZE bytes.  Returns 0 or -errno. */
int monitor_bootfile_open(struct monitor_bootfile *f, const char *path, const char *what,
			  char *err, size_t errlen);
/* Reads up to n bytes from offset 0; returns the count (less if the file
 * shrank) or -errno. */
int64_t monitor_bootfile_read(struct monitor_bootfile *f, void *dst, uint64_t n, char *err,
			      size_t errlen);
void monitor_bootfile_close(struct monitor_bootfile *f);
/* The whole file in a malloc'ed buffer (freed by the caller). */
int monitor_bootfile_slurp(const char *path, const char *what, uint8_t **buf, uint64_t *size,
			   char *err, size_t errlen);

#endif
