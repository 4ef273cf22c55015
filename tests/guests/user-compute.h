/* The compute programs of the user guest, shared with its native build user-native (user-compute.c). */
#ifndef USER_COMPUTE_H
#define USER_COMPUTE_H

#include <stdint.h>

#define COMPUTE_DEFAULT_ITERS 16

/* fn prints its "user: compute NAME: ..." lines and returns a digest of its results. */
struct compute_prog {
	const char *name;
	uint32_t (*fn)(uint32_t iters);
};
extern const struct compute_prog compute_progs[];
extern const unsigned compute_nprogs;

/* Folds v into the hash h (the checksum line folds the digests with it). */
uint32_t compute_mix(uint32_t h, uint32_t v);

#ifndef USER_NATIVE
/* Nonzero: the programs print nothing (the kernel runs them at CPL 0 to compare). */
extern int compute_quiet;
#endif

#endif
