// rng.cu — random fills; the per-element math is include/burn/rng.h, shared with src/cpu/rng.c.
#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "burn/rng.h"

__global__ void uniform_kernel(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
    GRID_STRIDE(i, n) x[i] = burn_rng_uniform(seed, offset + (uint64_t)i, lo, hi);
}

__global__ void normal_kernel(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
    GRID_STRIDE(i, n) x[i] = burn_rng_normal(seed, offset + (uint64_t)i, mean, std);
}

extern "C" void cuda_uniform(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
    if (n <= 0) return;
    uniform_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(x, n, seed, offset, lo, hi);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_normal(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
    if (n <= 0) return;
    normal_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(x, n, seed, offset, mean, std);
    BURN_LAUNCH_CHECK();
}
