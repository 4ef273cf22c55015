/* The loops of bench/nano/loops.S, timed by the guest and by the host alike. */
#ifndef BENCH_NANO_LOOPS_H
#define BENCH_NANO_LOOPS_H

#include <stdint.h>

#define NANO_UNROLL 8	/* calls per round of nano_calls */

void nano_calls(uint32_t rounds);
uint32_t nano_loop(uint32_t n);
uint32_t nano_divs(uint32_t n);

#endif
