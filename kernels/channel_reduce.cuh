// channel_reduce.cuh — deterministic per-channel sums over NCHW activations x[N, C, HW], for
// the FP layer kernels (BatchNorm statistics and backward, PReLU slope and bias gradients).
//
// Two launches, no atomics, so a result is the same run to run:
//   1. grid (splits, C): block (s, c) sums its chunk of channel c's N·HW values in double
//      (NOUT sums at once, each value visited once: the term may also write per-element
//      output, e.g. dx) and stores partial[k][c][s];
//   2. one thread per channel adds its `splits` partials in order and hands the NOUT totals
//      to a finish functor (store them, accumulate into a gradient, ...).
// Splitting a channel over several blocks keeps the GPU busy when C is small and N·HW large
// (the stem: 32 channels × 256·112·112 values). The partials buffer belongs to the including
// .cu file and grows stream-ordered (cudaMallocAsync) to the largest need.
#pragma once
#include "cuda_common.cuh"

#define CR_BLOCK 256

static inline double *cr_partials(size_t count) {
    static double *buf = nullptr;
    static size_t cap = 0;
    if (count > cap) {
        if (buf) CUDA_CHECK(cudaFreeAsync(buf, burn_stream));
        CUDA_CHECK(cudaMallocAsync((void **)&buf, count * sizeof(double), burn_stream));
        cap = count;
    }
    return buf;
}

// Blocks per channel: at least 4096 values per block, about 1024 blocks in all at most.
static inline int cr_splits(int64_t count, int C) {
    int64_t by_work = (count + 4095) / 4096;
    int64_t by_fill = (1024 + C - 1) / C;
    int64_t s = by_work < by_fill ? by_work : by_fill;
    return (int)(s < 1 ? 1 : s);
}

// Term: __device__ void operator()(int64_t index, int c, double acc[NOUT]) const
template <int NOUT, class Term>
__global__ void cr_partial_kernel(double *partial, Term term, int C, int HW, int64_t count,
                                  int splits) {
    __shared__ double sh[NOUT][CR_BLOCK];
    const int64_t chunk = (count + splits - 1) / splits;
    const int64_t begin = blockIdx.x * chunk;
    const int64_t end = begin + chunk < count ? begin + chunk : count;
    for (int c = blockIdx.y; c < C; c += gridDim.y) {
        double acc[NOUT];
#pragma unroll
        for (int k = 0; k < NOUT; k++) acc[k] = 0.0;
        for (int64_t e = begin + threadIdx.x; e < end; e += CR_BLOCK) {
            int64_t n = e / HW, i = e - n * HW;
            term((n * C + c) * HW + i, c, acc);
        }
#pragma unroll
        for (int k = 0; k < NOUT; k++) sh[k][threadIdx.x] = acc[k];
        __syncthreads();
        for (int w = CR_BLOCK / 2; w > 0; w >>= 1) {
            if (threadIdx.x < w) {
#pragma unroll
                for (int k = 0; k < NOUT; k++) sh[k][threadIdx.x] += sh[k][threadIdx.x + w];
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) {
#pragma unroll
            for (int k = 0; k < NOUT; k++)
                partial[((int64_t)k * C + c) * splits + blockIdx.x] = sh[k][0];
        }
        __syncthreads(); // sh is reused for the next channel of this block
    }
}

// Finish: __device__ void operator()(int c, const double tot[NOUT]) const
template <int NOUT, class Finish>
__global__ void cr_final_kernel(const double *partial, Finish fin, int C, int splits) {
    GRID_STRIDE(c, C) {
        double tot[NOUT];
#pragma unroll
        for (int k = 0; k < NOUT; k++) {
            tot[k] = 0.0;
            for (int s = 0; s < splits; s++) tot[k] += partial[((int64_t)k * C + c) * splits + s];
        }
        fin((int)c, tot);
    }
}

template <int NOUT, class Term, class Finish>
static void channel_reduce(Term term, Finish fin, int N, int C, int HW) {
    if (N <= 0 || C <= 0 || HW <= 0) return;
    const int64_t count = (int64_t)N * HW;
    const int splits = cr_splits(count, C);
    double *partial = cr_partials((size_t)NOUT * C * splits);
    dim3 grid((unsigned)splits, (unsigned)(C < 65535 ? C : 65535));
    cr_partial_kernel<NOUT, Term><<<grid, CR_BLOCK, 0, burn_stream>>>(partial, term, C, HW,
                                                                      count, splits);
    BURN_LAUNCH_CHECK();
    cr_final_kernel<NOUT, Finish><<<burn_grid(C, 128), 128, 0, burn_stream>>>(partial, fin, C,
                                                                             splits);
    BURN_LAUNCH_CHECK();
}
