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
/* Reads/writes an operand of `size` bytes; memory faults raise the guest
 * exception and return -EFAULT. */
int op_read(struct vcpu *v, const ZydisDecodedOperand *op, int size, uint32_t *val);
int op_write(struct vcpu *v, const ZydisDecodedOperand *op, int size, uint32_t val);

/* Callout handlers, one file per concept. */
int monitor_io(struct vcpu *v, const struct translator_callout *co);
int monitor_strio(struct vcpu *v, const struct translator_callout *co);
int monitor_cpuid(struct vcpu *v, const struct translator_callout *co);
int monitor_movcr(struct vcpu *v, const struct translator_callout *co);
int monitor_movdr(struct vcpu *v, const struct translator_callout *co);
int monitor_cache(struct vcpu *v, const struct translator_callout *co);
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

/* The virtual CPUID: r = EAX, EBX, ECX, EDX for leaf/subleaf. */
void monitor_cpuid_leaf(uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* Loads segment register `seg` with `sel` under protected-mode rules
 * (descriptors.c).  On a fault, raises it and returns -1. */
int seg_load(struct vcpu *v, int seg, uint16_t sel);
/* Reads the 8-byte descriptor for sel from the GDT/LDT; -1 past the limit. */
int desc_read(struct vcpu *v, uint16_t sel, uint64_t *d);
/* Loads CS (same privilege) and EIP; on a fault raises it, returns -1. */
int monitor_load_cs(struct vcpu *v, uint16_t sel, uint32_t eip);
/* Fills a segment's hidden cache from descriptor d. */
void monitor_seg_cache(struct vcpu *v, int s, uint16_t sel, uint64_t d);

#endif
