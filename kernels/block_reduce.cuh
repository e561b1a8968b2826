// block_reduce.cuh — sums and maxima of a few floats across a thread block, for the row- and
// channel-reductions of the binarisation and loss kernels. Warp shuffles, then one shared
// slot per warp; every thread gets the totals (no broadcast needed afterwards), and the order
// of additions is fixed, so results are the same run to run.
// Requires blockDim.x to be a multiple of 32 and at most 1024.
#pragma once
#include <cuda_runtime.h>
#include <math.h>

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// v[K]: this thread's partial values in, the block's totals out (every thread).
template <int K, bool MAX>
__device__ __forceinline__ void block_reduce(float (&v)[K]) {
    __shared__ float slots[K][32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int warps = (int)(blockDim.x >> 5);
    const float identity = MAX ? -INFINITY : 0.0f;
#pragma unroll
    for (int k = 0; k < K; k++) {
        v[k] = MAX ? warp_max(v[k]) : warp_sum(v[k]);
        if (lane == 0) slots[k][warp] = v[k];
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < K; k++) {
        float x = lane < warps ? slots[k][lane] : identity;
        v[k] = MAX ? warp_max(x) : warp_sum(x);
    }
    __syncthreads(); // slots may be reused by the next call in the same kernel
}

template <int K>
__device__ __forceinline__ void block_sum(float (&v)[K]) { block_reduce<K, false>(v); }

template <int K>
__device__ __forceinline__ void block_max(float (&v)[K]) { block_reduce<K, true>(v); }

// Threads for a block that walks `len` contiguous elements: a multiple of 32, at most 256.
static inline int block_threads_for(int64_t len) {
    if (len >= 256) return 256;
    int t = (int)((len + 31) / 32) * 32;
    return t < 32 ? 32 : t;
}
