// reduce.cu — sum and sum of squares of float [n] -> one float (mirrors src/cpu/reduce.c).
// Each thread accumulates in double, blocks reduce in shared memory and write a partial;
// a second single-block pass adds the partials, so the result does not depend on atomics'
// order (deterministic run to run).
#include "cuda_common.cuh"
#include "cuda_ops.h"

#define REDUCE_BLOCK 256
#define REDUCE_MAX_BLOCKS 1024

template <bool SQUARE>
__global__ void reduce_partial_kernel(double *partial, const float *x, int64_t n) {
    __shared__ double s[REDUCE_BLOCK];
    double acc = 0.0;
    GRID_STRIDE(i, n) {
        double v = x[i];
        acc += SQUARE ? v * v : v;
    }
    s[threadIdx.x] = acc;
    __syncthreads();
    for (int w = REDUCE_BLOCK / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}

__global__ void reduce_final_kernel(float *out, const double *partial, int count) {
    __shared__ double s[REDUCE_BLOCK];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += REDUCE_BLOCK) acc += partial[i];
    s[threadIdx.x] = acc;
    __syncthreads();
    for (int w = REDUCE_BLOCK / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) *out = (float)s[0];
}

static double *partials(void) {
    static double *buf = nullptr; // one per process, reused; ops are ordered on burn_stream
    if (!buf) CUDA_CHECK(cudaMalloc(&buf, REDUCE_MAX_BLOCKS * sizeof(double)));
    return buf;
}

template <bool SQUARE>
static void reduce(float *out, const float *x, int64_t n) {
    int64_t blocks64 = (n + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
    int blocks = (int)(blocks64 < 1 ? 1 : blocks64 > REDUCE_MAX_BLOCKS ? REDUCE_MAX_BLOCKS : blocks64);
    double *p = partials();
    reduce_partial_kernel<SQUARE><<<blocks, REDUCE_BLOCK, 0, burn_stream>>>(p, x, n);
    BURN_LAUNCH_CHECK();
    reduce_final_kernel<<<1, REDUCE_BLOCK, 0, burn_stream>>>(out, p, blocks);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_sum(float *out, const float *x, int64_t n) { reduce<false>(out, x, n); }
extern "C" void cuda_sumsq(float *out, const float *x, int64_t n) { reduce<true>(out, x, n); }
