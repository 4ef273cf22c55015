/* tests/unit/translator_fixture.h: one cache and one translator over guest code in a buffer. */
#ifndef BT_TESTS_TRANSLATOR_FIXTURE_H
#define BT_TESTS_TRANSLATOR_FIXTURE_H

#include <string.h>

#include "translator/translator.h"

#define GUEST_EIP 0x100000u
#define CACHE_SIZE (4u << 20)

static struct tcache tc;
static struct translator tr;
static uint8_t guest[8192];

/* Serves guest[] at GUEST_EIP; nothing else is readable. */
static size_t fetch(void *ctx, uint32_t eip, uint8_t *buf, size_t len)
{
	(void)ctx;
	if (eip < GUEST_EIP || eip - GUEST_EIP >= sizeof(guest))
		return 0;
	size_t off = eip - GUEST_EIP, n = sizeof(guest) - off;
	if (n > len)
		n = len;
	memcpy(buf, guest + off, n);
	return n;
}

/* A cache with its runtime stubs and a one-instruction-per-unit translator. */
static int fixture_init(void)
{
	if (tcache_init(&tc, CACHE_SIZE) != 0)
		return -1;
	tcache_set_runtime_end(&tc, translator_emit_runtime_stubs(&tc));
	tr = (struct translator){ .tc = &tc, .fetch = fetch, .max_insns = 1 };
	return 0;
}

#endif
