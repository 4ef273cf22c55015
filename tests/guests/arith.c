/*
 * arith: an integer workload (loops, calls, jump tables, string instructions, flags,
 * multiply/divide, thousands of generated blocks) that prints one checksum per part.
 * Built twice from this source: as a test guest and, with -DARITH_NATIVE, as a host
 * i386 program; both must print the same lines for the same iteration count.
 *
 * Only architecturally defined results reach a checksum: flags that the SDM leaves
 * undefined after an instruction are masked off, so the real CPU and QEMU agree.
 */
#include <stdint.h>

#ifdef ARITH_NATIVE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define out printf
#else
#include "lib/guest.h"
#define out guest_printf
#endif

#define ARITH_DEFAULT_ITERS 200	/* about 0.2 s under QEMU TCG */

/* Arithmetic flags in EFLAGS positions. */
#define F_CF	0x001
#define F_PF	0x004
#define F_AF	0x010
#define F_ZF	0x040
#define F_SF	0x080
#define F_OF	0x800
#define F_ARITH	(F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* gen-blocks.sh output. */
extern uint32_t (*const arith_blocks[])(uint32_t);
extern const unsigned arith_nblocks;

static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193;
	return h ^ h >> 15;
}

/* Code after LAHF (AH = SF ZF 0 AF 0 PF 1 CF) and SETO AL, as EFLAGS bits. */
static uint32_t flags_of(uint32_t ax)
{
	return (ax >> 8 & (F_SF | F_ZF | F_AF | F_PF | F_CF)) | (ax & 1) << 11;
}
#define CAPTURE_FLAGS "lahf\n\tseto %%al\n\t"

/* ---- loops: data-dependent loops and branches ---- */

static uint32_t collatz_steps(uint32_t n)
{
	uint32_t steps = 0;

	n |= 1;
	while (n != 1 && steps < 1000) {
		n = n & 1 ? 3 * n + 1 : n / 2;
		steps++;
	}
	return steps;
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static uint32_t part_loops(uint32_t seed)
{
	static uint8_t sieve[1024];
	uint32_t v[32];
	uint32_t h = seed;

	for (uint32_t i = 0; i < 8; i++)
		h = mix(h, collatz_steps(seed + i * 7919));
	h = mix(h, gcd(seed | 1, 0x7FFFFFFF - (seed & 0xFFFF)));
	h = mix(h, gcd(seed * 6, 0x12345 * 4));

	uint32_t limit = 512 + (seed & 511), primes = 0;

	for (uint32_t i = 0; i < limit; i++)
		sieve[i] = i >= 2;
	for (uint32_t i = 2; i * i < limit; i++)
		if (sieve[i])
			for (uint32_t j = i * i; j < limit; j += i)
				sieve[j] = 0;
	for (uint32_t i = 0; i < limit; i++)
		primes += sieve[i];
	h = mix(h, primes);

	/* Insertion sort of 32 pseudo-random values, signed. */
	uint32_t x = seed;
	for (int i = 0; i < 32; i++) {
		x = x * 1103515245 + 12345;
		v[i] = x;
	}
	for (int i = 1; i < 32; i++) {
		int32_t key = (int32_t)v[i];
		int j = i - 1;

		while (j >= 0 && (int32_t)v[j] > key) {
			v[j + 1] = v[j];
			j--;
		}
		v[j + 1] = (uint32_t)key;
	}
	for (int i = 0; i < 32; i++)
		h = mix(h, v[i] + (uint32_t)i);
	return h;
}

/* ---- calls: function-pointer tables, recursion, switch jump tables ---- */

static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t op_sub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ b; }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1); }
static uint32_t op_rol(uint32_t a, uint32_t b) { return a << (b & 31) | a >> (-b & 31); }
static uint32_t op_andn(uint32_t a, uint32_t b) { return a & ~b; }
static uint32_t op_udiv(uint32_t a, uint32_t b) { return a / ((b & 0xFFF) + 1); }
static uint32_t op_sdiv(uint32_t a, uint32_t b)
{
	int32_t d = (int32_t)(b & 0xFF) - 128;

	return (uint32_t)((int32_t)(a >> 1) / (d ? d : 7));
}

static uint32_t (*const ops[8])(uint32_t, uint32_t) = {
	op_add, op_sub, op_xor, op_mul, op_rol, op_andn, op_udiv, op_sdiv,
};

static uint32_t fib(uint32_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Dense cases with distinct bodies: compiled to an indirect jump through a table. */
static __attribute__((noinline)) uint32_t dispatch(uint32_t op, uint32_t x, uint32_t y)
{
	switch (op & 15) {
	case 0: return x + y;
	case 1: return x - y * 3;
	case 2: return (x ^ y) >> 3;
	case 3: return x * y + 7;
	case 4: return x / (y | 1);
	case 5: return x % ((y & 0xFF) + 1);
	case 6: return x << (y & 7) | 1;
	case 7: return ~x & y;
	case 8: return x | y << 4;
	case 9: return (uint32_t)((int32_t)x >> (y & 15));
	case 10: return x == y ? 0x10 : x < y ? x : y;
	case 11: return y - x;
	case 12: return x * 0x9E3779B9u ^ y;
	case 13: return (x + y) >> 1;
	case 14: return (x & 0xFFFF) * (y >> 16);
	default: return x ^ 0xA5A5A5A5u ^ y;
	}
}

static uint32_t part_calls(uint32_t seed)
{
	uint32_t (*volatile fp)(uint32_t, uint32_t) = op_xor;
	uint32_t h = seed, x = seed;

	for (uint32_t i = 0; i < 64; i++) {
		x = x * 69069 + 1;
		h = mix(h, ops[x >> 29](h, x));
		h = mix(h, dispatch(x >> 7, h, x));
	}
	h = mix(h, fp(h, seed));
	h = mix(h, fib(12 + (seed & 3)));
	return h;
}

/* ---- strings: rep movs/stos/cmps/scas, forwards (DF=0) and backwards (DF=1) ---- */

static uint8_t sa[1024], sb[1024];

static void rep_movsb(void *d, const void *s, uint32_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static void rep_movsd(void *d, const void *s, uint32_t n)
{
	__asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static void rep_stosb(void *d, uint8_t v, uint32_t n)
{
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

static void rep_stosd(void *d, uint32_t v, uint32_t n)
{
	__asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

/* d and s point at the last byte: copies n bytes downwards. */
static void rep_movsb_down(void *d, const void *s, uint32_t n)
{
	__asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* d and s point at the last dword. */
static void rep_movsd_down(void *d, const void *s, uint32_t n)
{
	__asm__ volatile("std\n\trep movsl\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static void rep_stosd_down(void *d, uint32_t v, uint32_t n)
{
	__asm__ volatile("std\n\trep stosl\n\tcld" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}

/*
 * REPE CMPSB over n bytes (forwards, or backwards from the last byte): returns
 * ECX left, how far ESI moved, and the flags of the last comparison (or of TEST
 * ECX,ECX when n = 0) folded into one word.
 */
static uint32_t repe_cmpsb(const uint8_t *a, const uint8_t *b, uint32_t n, int down)
{
	const uint8_t *s = a;
	uint32_t ax;

	if (down)
		__asm__ volatile("std\n\ttestl %%ecx, %%ecx\n\trepe cmpsb\n\tcld\n\t" CAPTURE_FLAGS
				 : "+S"(s), "+D"(b), "+c"(n), "=a"(ax) : : "memory", "cc");
	else
		__asm__ volatile("testl %%ecx, %%ecx\n\trepe cmpsb\n\t" CAPTURE_FLAGS
				 : "+S"(s), "+D"(b), "+c"(n), "=a"(ax) : : "memory", "cc");
	return n << 16 ^ (uint32_t)(s - a) << 4 ^ flags_of(ax);
}

/* REPNE SCASB for byte v: returns ECX left, EDI moved and the flags. */
static uint32_t repne_scasb(const uint8_t *p, uint8_t v, uint32_t n, int down)
{
	const uint8_t *d = p;
	uint32_t ax = v;

	if (down)
		__asm__ volatile("std\n\ttestl %%ecx, %%ecx\n\trepne scasb\n\tcld\n\t" CAPTURE_FLAGS
				 : "+D"(d), "+c"(n), "+a"(ax) : : "memory", "cc");
	else
		__asm__ volatile("testl %%ecx, %%ecx\n\trepne scasb\n\t" CAPTURE_FLAGS
				 : "+D"(d), "+c"(n), "+a"(ax) : : "memory", "cc");
	return n << 16 ^ (uint32_t)(d - p) << 4 ^ flags_of(ax);
}

static uint32_t hash_bytes(uint32_t h, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += 4)
		h = mix(h, (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
			   (uint32_t)p[i + 3] << 24);
	return h;
}

static uint32_t part_strings(uint32_t seed)
{
	uint32_t h = seed, s = seed;

	rep_stosd(sa, seed * 0x9E3779B9u, 256);
	for (uint32_t i = 0; i < 1024; i += 16) {
		s = s * 1103515245 + 12345;
		sa[i + (s >> 28)] = (uint8_t)(s >> 16);
	}
	rep_stosb(sa + (seed & 63), (uint8_t)(seed >> 8), 17 + (seed & 15));
	rep_movsb(sb, sa + 3, 509 + (seed & 31));
	rep_movsd(sb + 600, sa + 4, 64 + (seed & 7));
	/* Overlapping moves: up by 5 bytes (must go downwards) and up by one dword. */
	rep_movsb_down(sa + 5 + 299, sa + 299, 300);
	rep_movsd_down(sa + 512 + 4 + 4 * 99, sa + 512 + 4 * 99, 100);
	rep_stosd_down(sb + 1020, 0x5A5AA5A5u ^ seed, 8 + (seed & 3));
	rep_stosb(sb + 1000, 0, 0);	/* zero count: no store */
	h = hash_bytes(h, sa, sizeof(sa));
	h = hash_bytes(h, sb, sizeof(sb));

	memcpy(sb, sa, 256);
	sb[100 + (seed & 127)] ^= 0x40;
	h = mix(h, repe_cmpsb(sa, sb, 256, 0));
	h = mix(h, repe_cmpsb(sa + 255, sb + 255, 256, 1));
	h = mix(h, repe_cmpsb(sa, sb, 50, 0));
	h = mix(h, repe_cmpsb(sa, sb, 0, 0));
	h = mix(h, repe_cmpsb(sa + 7, sb + 3, 64, 0));
	h = mix(h, repne_scasb(sa, sa[200 + (seed & 31)], 256, 0));
	h = mix(h, repne_scasb(sa + 1023, sa[300 + (seed & 255)], 1024, 1));
	h = mix(h, repne_scasb(sa, 0xC3, 16, 0));
	h = mix(h, repne_scasb(sa, 0, 0, 0));
	return h;
}

/* ---- flags: carry chains, setcc, branches on CF/OF, shifts and rotates, bit ops ---- */

/* r[0..3] = a + b (128-bit, ADD/ADC chain); returns the carry out. */
static uint32_t add128(uint32_t r[4], const uint32_t a[4], const uint32_t b[4])
{
	uint32_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3];
	uint8_t c;

	__asm__("addl %5, %0\n\tadcl %6, %1\n\tadcl %7, %2\n\tadcl %8, %3\n\tsetc %4"
		: "+&r"(r0), "+&r"(r1), "+&r"(r2), "+&r"(r3), "=qm"(c)
		: "m"(b[0]), "m"(b[1]), "m"(b[2]), "m"(b[3]) : "cc");
	r[0] = r0, r[1] = r1, r[2] = r2, r[3] = r3;
	return c;
}

/* r = a - b (SUB/SBB chain); returns the flags after the last SBB. */
static uint32_t sub128(uint32_t r[4], const uint32_t a[4], const uint32_t b[4])
{
	uint32_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3];
	uint32_t ax;

	__asm__("subl %5, %0\n\tsbbl %6, %1\n\tsbbl %7, %2\n\tsbbl %8, %3\n\t" CAPTURE_FLAGS
		: "+&r"(r0), "+&r"(r1), "+&r"(r2), "+&r"(r3), "=&a"(ax)
		: "m"(b[0]), "m"(b[1]), "m"(b[2]), "m"(b[3]) : "cc");
	r[0] = r0, r[1] = r1, r[2] = r2, r[3] = r3;
	return flags_of(ax);
}

/* All 16 SETcc conditions after CMP a, b, as a 16-bit mask. */
static uint32_t setcc_all(uint32_t a, uint32_t b)
{
	uint8_t c[16];
	uint32_t m = 0;

	__asm__("cmpl %2, %1\n\t"
		"seto 0(%0)\n\tsetno 1(%0)\n\tsetb 2(%0)\n\tsetae 3(%0)\n\t"
		"sete 4(%0)\n\tsetne 5(%0)\n\tsetbe 6(%0)\n\tseta 7(%0)\n\t"
		"sets 8(%0)\n\tsetns 9(%0)\n\tsetp 10(%0)\n\tsetnp 11(%0)\n\t"
		"setl 12(%0)\n\tsetge 13(%0)\n\tsetle 14(%0)\n\tsetg 15(%0)"
		: : "r"(c), "r"(a), "g"(b) : "memory", "cc");
	for (int i = 0; i < 16; i++)
		m |= (uint32_t)c[i] << i;
	return m;
}

/* Branches (no SETcc, no CMOV) on the flags of ADD a, b; LEA keeps the flags intact. */
static uint32_t add_branches(uint32_t a, uint32_t b)
{
	uint32_t r = a, c = 0;

	__asm__("addl %2, %0\n\t"
		"jnc 1f\n\tleal 1(%1), %1\n"
		"1:\tjno 2f\n\tleal 2(%1), %1\n"
		"2:\tjns 3f\n\tleal 4(%1), %1\n"
		"3:\tjnz 4f\n\tleal 8(%1), %1\n"
		"4:\tjnp 5f\n\tleal 16(%1), %1\n"
		"5:\tjnl 6f\n\tleal 32(%1), %1\n"
		"6:\tjna 7f\n\tleal 64(%1), %1\n"
		"7:\tjng 8f\n\tleal 128(%1), %1\n"
		"8:"
		: "+r"(r), "+r"(c) : "g"(b) : "cc");
	return r ^ c << 24;
}

/* The same after SUB, then a JECXZ/LOOP countdown. */
static uint32_t sub_branches(uint32_t a, uint32_t b, uint32_t n)
{
	uint32_t r = a, c = 0;

	__asm__("subl %3, %0\n\t"
		"jnb 1f\n\tleal 1(%1), %1\n"
		"1:\tjo 2f\n\tleal 2(%1), %1\n"
		"2:\tjge 3f\n\tleal 4(%1), %1\n"
		"3:\tjbe 4f\n\tleal 8(%1), %1\n"
		"4:\tjecxz 6f\n"
		"5:\tleal 3(%0,%2,2), %0\n\tloop 5b\n"
		"6:"
		: "+r"(r), "+r"(c), "+c"(n) : "g"(b) : "cc");
	return r ^ c << 24;
}

/* Shift or rotate x by n (CL) with CF = cin first; returns result and defined flags. */
#define SHIFT_FN(name, insn)                                                          \
	static uint32_t name(uint32_t x, uint32_t cin, uint8_t n, uint32_t *fl)       \
	{                                                                             \
		uint32_t ax, t = cin;                                                 \
                                                                                      \
		__asm__("negl %2\n\t" insn " %%cl, %0\n\t" CAPTURE_FLAGS              \
			: "+r"(x), "=a"(ax), "+r"(t) : "c"(n) : "cc");                \
		*fl = flags_of(ax);                                                   \
		return x;                                                             \
	}
SHIFT_FN(do_shl, "shll")
SHIFT_FN(do_shr, "shrl")
SHIFT_FN(do_sar, "sarl")
SHIFT_FN(do_rol, "roll")
SHIFT_FN(do_ror, "rorl")
SHIFT_FN(do_rcl, "rcll")
SHIFT_FN(do_rcr, "rcrl")

/* 8-bit RCL/RCR: the count is taken mod 9 after masking to 5 bits. */
static uint32_t rc8(uint32_t x, uint32_t cin, uint8_t n, int right)
{
	uint32_t t = cin;
	uint8_t c, b = (uint8_t)x;

	if (right)
		__asm__("negl %1\n\trcrb %%cl, %0\n\tsetc %2" : "+q"(b), "+r"(t), "=qm"(c) : "c"(n) : "cc");
	else
		__asm__("negl %1\n\trclb %%cl, %0\n\tsetc %2" : "+q"(b), "+r"(t), "=qm"(c) : "c"(n) : "cc");
	return (uint32_t)b << 1 | c;
}

static uint32_t double_shift(uint32_t a, uint32_t b, uint8_t n, int right, uint32_t *fl)
{
	uint32_t ax, t = 1;

	if (right)
		__asm__("negl %2\n\tshrdl %%cl, %3, %0\n\t" CAPTURE_FLAGS
			: "+r"(a), "=a"(ax), "+r"(t) : "r"(b), "c"(n) : "cc");
	else
		__asm__("negl %2\n\tshldl %%cl, %3, %0\n\t" CAPTURE_FLAGS
			: "+r"(a), "=a"(ax), "+r"(t) : "r"(b), "c"(n) : "cc");
	*fl = flags_of(ax);
	return a;
}

/*
 * Defined flags after a shift or rotate by n (SDM vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/
 * ROL/ROR, SHLD/SHRD): count 0 changes nothing; otherwise AF is undefined after
 * shifts, and OF is defined only for count 1. Rotates leave SF ZF AF PF alone.
 */
static uint32_t shift_mask(uint8_t n, int rotate)
{
	n &= 31;
	if (n == 0)
		return F_ARITH;
	if (rotate)
		return n == 1 ? F_ARITH : F_ARITH & ~F_OF;
	return n == 1 ? F_ARITH & ~F_AF : F_ARITH & ~(F_AF | F_OF);
}

static uint32_t bit_ops(uint32_t x, uint32_t y)
{
	static uint32_t bits[16];
	uint32_t h = 0, r, c;
	uint8_t cf;

	__asm__("bsfl %1, %0" : "=r"(r) : "rm"(x | 0x80000000u) : "cc");
	h = mix(h, r);
	__asm__("bsrl %1, %0" : "=r"(r) : "rm"(y | 1) : "cc");
	h = mix(h, r);
	__asm__("bswap %0" : "=r"(r) : "0"(x));
	h = mix(h, r);
	/* BT* with a register offset address the bit string beyond the dword (SDM BT). */
	bits[x & 15] = y;
	__asm__ volatile("btsl %2, %0\n\tsetc %1" : "+m"(bits), "=qm"(cf) : "r"(y & 511) : "cc");
	h = mix(h, cf);
	__asm__ volatile("btcl %2, %0\n\tsetc %1" : "+m"(bits), "=qm"(cf) : "r"(x & 511) : "cc");
	h = mix(h, cf);
	__asm__ volatile("btrl %2, %0\n\tsetc %1" : "+m"(bits), "=qm"(cf) : "r"((x ^ y) & 511) : "cc");
	h = mix(h, cf);
	__asm__("btl %2, %1\n\tsetc %0" : "=qm"(cf) : "r"(x), "r"(y) : "cc");
	h = mix(h, cf);
	for (int i = 0; i < 16; i++)
		h = mix(h, bits[i]);
	/* XADD, CMPXCHG (flags of CMP), LOCK prefixes, XCHG. */
	r = x;
	c = y;
	__asm__ volatile("lock xaddl %0, %1" : "+r"(c), "+m"(r) : : "cc", "memory");
	h = mix(h, r ^ c);
	uint32_t ax = x, ax2;
	__asm__ volatile("lock cmpxchgl %3, %1\n\t" "movl %%eax, %2\n\t" CAPTURE_FLAGS
			 : "+a"(ax), "+m"(r), "=&r"(ax2) : "r"(y) : "cc", "memory");
	h = mix(h, r ^ ax2 ^ flags_of(ax));
	ax = r;
	__asm__ volatile("lock cmpxchgl %3, %1\n\t" "movl %%eax, %2\n\t" CAPTURE_FLAGS
			 : "+a"(ax), "+m"(r), "=&r"(ax2) : "r"(y ^ x) : "cc", "memory");
	h = mix(h, r ^ ax2 ^ flags_of(ax));
	__asm__("xchgl %0, %1" : "+r"(x), "+r"(y));
	h = mix(h, x - y);
	/* INC/DEC keep CF; NEG sets it. */
	r = y;
	__asm__("stc\n\tincl %1\n\t" CAPTURE_FLAGS : "=a"(ax), "+r"(r) : : "cc");
	h = mix(h, r ^ flags_of(ax));
	__asm__("clc\n\tdecl %1\n\t" CAPTURE_FLAGS : "=a"(ax), "+r"(r) : : "cc");
	h = mix(h, r ^ flags_of(ax));
	__asm__("negl %1\n\t" CAPTURE_FLAGS : "=a"(ax), "+r"(r) : : "cc");
	h = mix(h, r ^ flags_of(ax));
	return h;
}

/* Packed BCD: DAA/DAS after ADD/SUB of AL (OF is undefined). */
static uint32_t bcd(uint32_t a, uint32_t b)
{
	uint32_t ax = a & 0xFF, ax2 = a & 0xFF;

	__asm__("addb %b1, %%al\n\tdaa\n\tmovl %%eax, %%edx\n\tlahf\n\tmovb %%dl, %%al"
		: "+a"(ax) : "q"(b) : "edx", "cc");
	__asm__("subb %b1, %%al\n\tdas\n\tmovl %%eax, %%edx\n\tlahf\n\tmovb %%dl, %%al"
		: "+a"(ax2) : "q"(b) : "edx", "cc");
	return (ax & 0xD5FF) | (ax2 & 0xD5FF) << 16;
}

static uint32_t part_flags(uint32_t seed)
{
	uint32_t a[4], b[4], r[4], h = seed, x = seed, fl;

	for (uint32_t i = 0; i < 16; i++) {
		for (int k = 0; k < 4; k++) {
			x = x * 1664525 + 1013904223;
			a[k] = x;
			b[k] = (i & 1) ? ~x : x >> (i & 7);
		}
		if (i & 4)
			a[0] = a[1] = 0xFFFFFFFFu;
		h = mix(h, add128(r, a, b));
		for (int k = 0; k < 4; k++)
			h = mix(h, r[k]);
		h = mix(h, sub128(r, a, b));
		for (int k = 0; k < 4; k++)
			h = mix(h, r[k]);

		uint32_t y = (i & 2) ? x ^ 0x80000000u : a[2];
		h = mix(h, setcc_all(x, y));
		h = mix(h, setcc_all(y, y));
		h = mix(h, setcc_all(0x7FFFFFFFu, x | 0x80000000u));
		h = mix(h, add_branches(x, y));
		h = mix(h, add_branches(0x7FFFFFFFu, i));
		h = mix(h, sub_branches(x, y, i & 7));
		h = mix(h, sub_branches(0x80000000u, i, 0));

		uint8_t n = (uint8_t)(x >> 8);	/* counts up to 255: masked to 5 bits */
		uint32_t cin = x >> 31;
		static uint32_t (*const shifts[7])(uint32_t, uint32_t, uint8_t, uint32_t *) = {
			do_shl, do_shr, do_sar, do_rol, do_ror, do_rcl, do_rcr,
		};
		for (int k = 0; k < 7; k++) {
			for (uint8_t c = 0; c < 3; c++) {	/* counts 0, 1 and n */
				uint8_t cnt = c == 2 ? n : c;

				h = mix(h, shifts[k](y, cin, cnt, &fl));
				h = mix(h, fl & shift_mask(cnt, k >= 3));
			}
		}
		h = mix(h, rc8(x, cin, n, 0));
		h = mix(h, rc8(x, cin, n, 1));
		h = mix(h, double_shift(x, y, n, 0, &fl));
		h = mix(h, fl & shift_mask(n, 0));
		h = mix(h, double_shift(x, y, 1, 1, &fl));
		h = mix(h, fl & shift_mask(1, 0));
		h = mix(h, bit_ops(x, y));
		h = mix(h, bcd(x, y));
	}
	return h;
}

/* ---- muldiv: one-operand MUL/IMUL/DIV/IDIV on EDX:EAX, and smaller sizes ---- */

static uint32_t part_muldiv(uint32_t seed)
{
	uint32_t h = seed, x = seed;

	for (uint32_t i = 0; i < 32; i++) {
		uint32_t lo, hi, q, r;
		uint8_t cf, of;

		x = x * 22695477 + 1;
		uint32_t y = x * 0x2545F491u ^ i;

		__asm__("mull %4\n\tsetc %2\n\tseto %3"
			: "=a"(lo), "=d"(hi), "=qm"(cf), "=qm"(of) : "rm"(y), "0"(x) : "cc");
		h = mix(mix(h, lo), hi ^ (uint32_t)cf << 8 ^ of);
		__asm__("imull %4\n\tsetc %2\n\tseto %3"
			: "=a"(lo), "=d"(hi), "=qm"(cf), "=qm"(of) : "rm"(y >> (i & 31)), "0"(x) : "cc");
		h = mix(mix(h, lo), hi ^ (uint32_t)cf << 8 ^ of);
		__asm__("imull %3, %0\n\tsetc %1\n\tseto %2"
			: "+r"(lo), "=qm"(cf), "=qm"(of) : "rm"(y) : "cc");
		h = mix(h, lo ^ (uint32_t)cf << 8 ^ of);
		__asm__("imull $-7, %2, %0\n\tseto %1" : "=r"(lo), "=qm"(of) : "rm"(x) : "cc");
		h = mix(h, lo ^ of);

		/* DIV: EDX:EAX / d with EDX < d, so the quotient fits. */
		uint32_t d = y | 1;
		hi = x % d;
		__asm__("divl %4" : "=a"(q), "=d"(r) : "0"(y), "1"(hi), "rm"(d) : "cc");
		h = mix(mix(h, q), r);

		/* IDIV: dividend = qq * dd + rr with |rr| < |dd| and the dividend's sign. */
		int32_t qq = (int32_t)x >> 1, dd = (int32_t)(y >> 20) - 2048;
		if (dd == 0 || dd == -1)	/* -1 would overflow CDQ;IDIV of INT32_MIN */
			dd = 3;
		int64_t prod = (int64_t)qq * dd;
		int32_t mag = dd < 0 ? -dd : dd;
		int32_t rr = (int32_t)(y % (uint32_t)mag);
		if (prod < 0 || (prod == 0 && (i & 1)))
			rr = -rr;
		int64_t dividend = prod + rr;
		__asm__("idivl %4" : "=a"(q), "=d"(r)
			: "0"((uint32_t)dividend), "1"((uint32_t)((uint64_t)dividend >> 32)), "rm"(dd) : "cc");
		h = mix(mix(h, q), r);
		/* CDQ; IDIV of a 32-bit value. */
		__asm__("cltd\n\tidivl %3" : "=a"(q), "=d"(r) : "0"(x), "rm"(dd) : "cc");
		h = mix(mix(h, q), r);

		/* 16- and 8-bit forms: DX:AX / r16 and AX / r8. */
		uint16_t d16 = (uint16_t)(y | 0x8000), q16, r16;
		__asm__("divw %4" : "=a"(q16), "=d"(r16)
			: "0"((uint16_t)x), "1"((uint16_t)((x >> 16) % d16)), "rm"(d16) : "cc");
		h = mix(h, (uint32_t)q16 << 16 | r16);
		uint8_t d8 = (uint8_t)(y >> 8) | 0x80;
		uint16_t ax = (uint16_t)(((x >> 8 & 0xFF) % d8) << 8 | (x & 0xFF));
		__asm__("divb %1" : "+a"(ax) : "qm"(d8) : "cc");
		h = mix(h, ax);
		__asm__("mulb %1" : "+a"(ax) : "qm"(d8) : "cc");
		h = mix(h, ax);

		/* 64-bit arithmetic in C: gcc's own MUL/ADC/SHRD sequences. */
		uint64_t w = (uint64_t)x * y + ((uint64_t)h << 32 | i);
		w = w >> (i & 31) ^ w << 3;
		h = mix(mix(h, (uint32_t)w), (uint32_t)(w >> 32));
	}
	return h;
}

/* ---- blocks: every generated function, each input depending on the last ---- */

static uint32_t part_blocks(uint32_t seed)
{
	uint32_t x = seed;

	for (unsigned i = 0; i < arith_nblocks; i++)
		x = arith_blocks[i](x ^ i);
	return x;
}

/* ---- driver ---- */

static const struct part {
	const char *name;
	uint32_t (*fn)(uint32_t seed);
} parts[] = {
	{ "loops", part_loops },
	{ "calls", part_calls },
	{ "strings", part_strings },
	{ "flags", part_flags },
	{ "muldiv", part_muldiv },
	{ "blocks", part_blocks },
};
#define NPARTS (sizeof(parts) / sizeof(parts[0]))

/* parts: bit p runs part p (the benchmark times parts one at a time). */
static void arith_run(uint32_t iters, uint32_t mask)
{
	uint32_t sums[NPARTS], total = 0;

	for (unsigned p = 0; p < NPARTS; p++)
		sums[p] = 0x811C9DC5u + p;
	for (uint32_t it = 0; it < iters; it++)
		for (unsigned p = 0; p < NPARTS; p++)
			if (mask & (1u << p))
				sums[p] = mix(sums[p], parts[p].fn(sums[p] ^ it));
	for (unsigned p = 0; p < NPARTS; p++) {
		out("arith: %-7s 0x%08lx\n", parts[p].name, (unsigned long)sums[p]);
		total = mix(total, sums[p]);
	}
	out("arith: iters=%lu checksum=0x%08lx\n", (unsigned long)iters, (unsigned long)total);
}

#ifdef ARITH_NATIVE
/* Usage: arith-native [iters=N | N] [parts=MASK] */
int main(int argc, char **argv)
{
	uint32_t iters = ARITH_DEFAULT_ITERS, mask = ~0u;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "parts=", 6))
			mask = (uint32_t)strtoul(a + 6, NULL, 0);
		else
			iters = (uint32_t)strtoul(strncmp(a, "iters=", 6) ? a : a + 6, NULL, 0);
	}
	arith_run(iters, mask);
	return 0;
}
#else
int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	arith_run(guest_arg_u32("iters", ARITH_DEFAULT_ITERS), guest_arg_u32("parts", ~0u));
	return 0;
}
#endif
