/*
 * user-compute: the compute programs of the user guest (a sieve of primes,
 * CRC-32 of a buffer, an integer matrix product, a string sort). Built twice
 * from this source: into the guest, where each program runs as a process at
 * CPL 3 and prints through SYS_WRITE, and with -DUSER_NATIVE as user-native,
 * a host i386 program; both print the same "user: compute ..." lines for the
 * same iteration count (tests/run-all.sh compares them).
 */
#include <stdint.h>

#include "user-compute.h"

#ifdef USER_NATIVE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define say printf
#else
#include "lib/guest.h"

int compute_quiet;

/* Ring 3: through SYS_WRITE; nothing when the kernel runs a program itself. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	if (compute_quiet)
		return;
	va_start(ap, fmt);
	guest_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	user_write(buf, strlen(buf));
}
#endif

uint32_t compute_mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193;
	return h ^ h >> 15;
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1103515245 + 12345;
	return *x >> 8;
}

/* ---- sieve of Eratosthenes: the primes below 60000 + 1000 * round ---- */

#define SIEVE_MAX (60000 + 1000 * 64)
static uint8_t composite[SIEVE_MAX];

static uint32_t prog_sieve(uint32_t iters)
{
	uint32_t h = 0x5eed, count = 0, sum = 0, limit = 0;

	for (uint32_t it = 0; it < iters; it++) {
		limit = 60000 + 1000 * (it % 64);
		for (uint32_t i = 0; i < limit; i++)
			composite[i] = i < 2;
		for (uint32_t i = 2; i * i < limit; i++)
			if (!composite[i])
				for (uint32_t j = i * i; j < limit; j += i)
					composite[j] = 1;
		count = sum = 0;
		for (uint32_t i = 0; i < limit; i++)
			if (!composite[i]) {
				count++;
				sum += i;
				h = compute_mix(h, i);
			}
	}
	say("user: compute sieve: %lu primes below %lu, sum %lu, hash 0x%08lx\n",
	    (unsigned long)count, (unsigned long)limit, (unsigned long)sum, (unsigned long)h);
	return h;
}

/* ---- CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of 64 KiB ---- */

#define CRC_LEN 65536
static uint32_t crc_table[256];
static uint8_t crc_buf[CRC_LEN];

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ c >> 1 : c >> 1;
		crc_table[n] = c;
	}
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ c >> 8;
	return c ^ 0xFFFFFFFFu;
}

static uint32_t prog_crc32(uint32_t iters)
{
	uint32_t h = 0, x = 0xC0FFEE, crc = 0;

	crc_init();
	/* The standard check value: CRC-32 of "123456789" is 0xCBF43926. */
	say("user: compute crc32: check 0x%08lx\n", (unsigned long)crc32((const uint8_t *)"123456789", 9));
	for (uint32_t it = 0; it < iters; it++) {
		for (uint32_t i = 0; i < CRC_LEN; i++)
			crc_buf[i] = (uint8_t)lcg(&x);
		crc = crc32(crc_buf, CRC_LEN - it % 7);
		h = compute_mix(h, crc);
	}
	say("user: compute crc32: last 0x%08lx, hash 0x%08lx\n", (unsigned long)crc, (unsigned long)h);
	return h;
}

/* ---- integer matrix product, C = A * B, signed 32-bit with wrap-around ---- */

#define MAT_N 40
static int32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint32_t prog_matrix(uint32_t iters)
{
	uint32_t x = 0xABCDEF, h = 0;
	int32_t trace = 0;

	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			mat_a[i][j] = (int32_t)(lcg(&x) % 2001) - 1000;
			mat_b[i][j] = (int32_t)(lcg(&x) % 2001) - 1000;
		}
	for (uint32_t it = 0; it < iters; it++) {
		for (int i = 0; i < MAT_N; i++)
			for (int j = 0; j < MAT_N; j++) {
				int32_t s = 0;

				for (int k = 0; k < MAT_N; k++)
					s = (int32_t)((uint32_t)s + (uint32_t)(mat_a[i][k] * mat_b[k][j]));
				mat_c[i][j] = s;
			}
		trace = 0;
		for (int i = 0; i < MAT_N; i++) {
			trace = (int32_t)((uint32_t)trace + (uint32_t)mat_c[i][i]);
			for (int j = 0; j < MAT_N; j++) {
				h = compute_mix(h, (uint32_t)mat_c[i][j]);
				/* Next round: A = C scaled down, keeping values small. */
				mat_a[i][j] = mat_c[i][j] % 1009 - (int32_t)(it & 3);
			}
		}
	}
	say("user: compute matrix: %dx%d, trace %ld, hash 0x%08lx\n", MAT_N, MAT_N, (long)trace,
	    (unsigned long)h);
	return h;
}

/* ---- string sort: merge sort of pointers to random lower-case words ---- */

#define SORT_N 1500
#define WORD_MAX 12
static char words[SORT_N][WORD_MAX + 1];
static const char *order[SORT_N], *tmp_order[SORT_N];

static int word_cmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

static void merge_sort(const char **v, const char **tmp, int n)
{
	if (n < 2)
		return;
	int m = n / 2, i = 0, j = m, k = 0;

	merge_sort(v, tmp, m);
	merge_sort(v + m, tmp, n - m);
	while (i < m && j < n)
		tmp[k++] = word_cmp(v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < m)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	for (k = 0; k < n; k++)
		v[k] = tmp[k];
}

static uint32_t prog_sort(uint32_t iters)
{
	uint32_t x = 0x50F7, h = 0, inversions = 0;

	for (uint32_t it = 0; it < iters; it++) {
		for (int i = 0; i < SORT_N; i++) {
			int len = 3 + (int)(lcg(&x) % (WORD_MAX - 2));

			for (int k = 0; k < len; k++)
				words[i][k] = (char)('a' + lcg(&x) % 26);
			words[i][len] = '\0';
			order[i] = words[i];
		}
		merge_sort(order, tmp_order, SORT_N);
		for (int i = 0; i < SORT_N; i++) {
			if (i && word_cmp(order[i - 1], order[i]) > 0)
				inversions++;
			for (const char *s = order[i]; *s; s++)
				h = compute_mix(h, (uint32_t)*s);
		}
	}
	say("user: compute sort: %d words, first %s, last %s, %lu out of order, hash 0x%08lx\n",
	    SORT_N, order[0], order[SORT_N - 1], (unsigned long)inversions, (unsigned long)h);
	return h;
}

const struct compute_prog compute_progs[] = {
	{ "sieve", prog_sieve },
	{ "crc32", prog_crc32 },
	{ "matrix", prog_matrix },
	{ "sort", prog_sort },
};
const unsigned compute_nprogs = sizeof(compute_progs) / sizeof(compute_progs[0]);

#ifdef USER_NATIVE
/* Usage: user-native [iters=N | N]: the guest's "user: compute" lines. */
int main(int argc, char **argv)
{
	uint32_t iters = COMPUTE_DEFAULT_ITERS, sum = 0;

	for (int i = 1; i < argc; i++)
		iters = (uint32_t)strtoul(strncmp(argv[i], "iters=", 6) ? argv[i] : argv[i] + 6, NULL, 0);
	for (unsigned i = 0; i < compute_nprogs; i++)
		sum = compute_mix(sum, compute_progs[i].fn(iters));
	printf("user: compute iters=%lu checksum=0x%08lx\n", (unsigned long)iters, (unsigned long)sum);
	return 0;
}
#endif
