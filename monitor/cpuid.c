/* monitor/cpuid.c: the documented virtual CPU that CPUID describes. */
#include <cpuid.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "monitor/internal.h"

/*
 * The virtual CPU: "GenuineIntel", family 6 model 15 stepping 1 (a P6-class
 * part, so Linux takes its Intel paths), brand "bt virtual CPU".  It
 * advertises only what bt virtualizes today (DESIGN.md §1):
 *   leaf 1 EDX: PSE (4 MiB pages), TSC (RDTSC), MSR (RDMSR/WRMSR of the
 *     MSRs in misc.c), PAE (with 36-bit physical addresses), CX8
 *     (CMPXCHG8B), PGE (global pages), MTRR (read and kept, no effect on
 *     caching), CMOV, PAT.
 *   leaf 0x80000001 EDX: NX (EFER.NXE), RDTSCP (with IA32_TSC_AUX).
 *   leaf 1 EDX: FPU, MMX, FXSR, SSE, SSE2 (monitor/fpu.c for ring 0; the
 *     stub's own FPU for ring 3, loaded when the state changed).
 * Held back until they are virtualized: SSE3 and later, XSAVE/AVX, SEP
 * (SYSENTER, with ring 3), APIC, VME, DE (I/O breakpoints), MCE/MCA, CLFSH.
 * Leaf 1 ECX is 0: no SSE3+, no hypervisor bit (bt is not a paravirtual host).
 * Leaves 0x15 and 0x16 give the TSC and CPU frequencies (the guest's TSC is the host's), so
 * Linux knows it without calibrating against the PIT (which, through
 * callouts, would be slow and noisy); leaves 2-0x14 are all zero (no cache
 * or topology descriptors, no MONITOR, no structured extended features).
 * Leaf 0x80000007 EDX bit 8: the TSC is invariant, when the host's is
 * (and only then is leaf 0x15 filled in).
 * Leaf 0x80000008: 36 physical and 32 linear address bits.
 */
#define CPUID_EDX_FPU  (1u << 0)
#define CPUID_EDX_TSC  (1u << 4)
#define CPUID_EDX_MMX  (1u << 23)
#define CPUID_EDX_FXSR (1u << 24)
#define CPUID_EDX_SSE  (1u << 25)
#define CPUID_EDX_SSE2 (1u << 26)
#define CPUID_EDX_CX8  (1u << 8)
#define CPUID_EDX_CMOV (1u << 15)
#define CPUID_EDX_MSR  (1u << 5)
#define CPUID_EDX_PSE  (1u << 3)
#define CPUID_EDX_PGE  (1u << 13)
#define CPUID_EDX_PAE  (1u << 6)
#define CPUID_EXT_EDX_NX (1u << 20)
#define CPUID_EDX_MTRR (1u << 12)
#define CPUID_EDX_PAT  (1u << 16)
#define CPUID_EXT_EDX_RDTSCP (1u << 27)

/* The host TSC's rate, measured once against CLOCK_MONOTONIC_RAW over
 * 20 ms (a few ppm: the reads on either side cost well under a
 * microsecond); 0 if the host TSC is not invariant, since then no constant
 * rate can be promised. */
static uint64_t tsc_hz(void)
{
	static uint64_t hz = ~0ull;
	if (hz != ~0ull)
		return hz;
	unsigned a = 0, b = 0, c = 0, d = 0;
	__cpuid(0x80000000, a, b, c, d);
	if (a >= 0x80000007)
		__cpuid(0x80000007, a, b, c, d);
	if (!(d & (1u << 8))) {
		hz = 0;
		return hz;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
	uint64_t c0 = __rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
	while ((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec) < 20000000);
	uint64_t c1 = __rdtsc();
	uint64_t ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec));
	hz = (uint64_t)((double)(c1 - c0) * 1e9 / (double)ns);
	return hz;
}

void monitor_cpuid_leaf(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	static const char brand[48] = "bt virtual CPU";
	(void)sub;
	memset(r, 0, 4 * sizeof(uint32_t));
	switch (leaf) {
	case 0:
		r[0] = 0x16;
		memcpy(&r[1], "Genu", 4);	/* EBX EDX ECX spell the vendor */
		memcpy(&r[3], "ineI", 4);
		memcpy(&r[2], "ntel", 4);
		break;
	case 1:
		r[0] = 0x000006f1;	/* family 6, model 15, stepping 1 */
		r[3] = CPUID_EDX_PSE | CPUID_EDX_TSC | CPUID_EDX_MSR | CPUID_EDX_PAE | CPUID_EDX_CX8 |
		       CPUID_EDX_PGE | CPUID_EDX_MTRR | CPUID_EDX_CMOV | CPUID_EDX_PAT |
		       CPUID_EDX_FPU | CPUID_EDX_MMX | CPUID_EDX_FXSR | CPUID_EDX_SSE | CPUID_EDX_SSE2;
		break;
	case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 0xa: case 0xb:
	case 0xc: case 0xd: case 0xe: case 0xf: case 0x10: case 0x11: case 0x12: case 0x13:
	case 0x14:
		break;
	case 0x15:
		/* TSC/crystal ratio EBX/EAX and the crystal's rate ECX (SDM
		 * vol. 2, CPUID leaf 15H): "crystal" = the TSC, ratio 1. */
		if (tsc_hz() && tsc_hz() <= 0xffffffffu) {
			r[0] = 1;
			r[1] = 1;
			r[2] = (uint32_t)tsc_hz();
		}
		break;
	case 0x16:
		/* Base and maximum frequency in MHz, bus 100 MHz (SDM vol. 2,
		 * CPUID leaf 16H): Linux takes the CPU's rate from here instead of
		 * timing the PIT. */
		r[0] = r[1] = (uint32_t)(tsc_hz() / 1000000u);
		r[2] = tsc_hz() ? 100 : 0;
		break;
	case 0x80000000:
		r[0] = 0x80000008;
		break;
	case 0x80000007:
		r[3] = tsc_hz() ? 1u << 8 : 0;	/* invariant TSC */
		break;
	case 0x80000008:
		r[0] = 36 | 32 << 8;
		break;
	case 0x80000001:
		r[3] = CPUID_EXT_EDX_NX | CPUID_EXT_EDX_RDTSCP;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		memcpy(r, brand + 16 * (leaf - 0x80000002), 16);
		break;
	default:
		/* Intel: leaves above the maximum return the highest basic leaf. */
		if (leaf < 0x80000000)
			monitor_cpuid_leaf(1, 0, r);
		break;
	}
}

int monitor_cpuid(struct vcpu *v, const struct translator_callout *co)
{
	uint32_t r[4];
	(void)co;
	monitor_cpuid_leaf(v->regs[R_EAX], v->regs[R_ECX], r);
	v->regs[R_EAX] = r[0];
	v->regs[R_EBX] = r[1];
	v->regs[R_ECX] = r[2];
	v->regs[R_EDX] = r[3];
	return 0;
}
