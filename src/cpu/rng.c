/* rng.c — CPU random fills; the per-element math is rng.h, shared with kernels/rng.cu. */
#include "burn/rng.h"
#include "cpu_ops.h"

void cpu_uniform(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = burn_rng_uniform(seed, offset + (uint64_t)i, lo, hi);
}

void cpu_normal(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
    for (int64_t i = 0; i < n; i++) x[i] = burn_rng_normal(seed, offset + (uint64_t)i, mean, std);
}
