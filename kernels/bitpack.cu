// bitpack.cu — sign-bit packing on CUDA (mirrors src/cpu/bitpack.c; layout and the bit of a
// float from include/burn/bitpack.h).
//
// One warp per packed word: lane l reads elements 64·w + l and 64·w + 32 + l (two coalesced
// 128-byte reads) and two __ballot_sync calls assemble the word, bit j = lane j's predicate,
// which is exactly the LSB-first order of the layout. Elements past K give 0 (the pad bits).
#include "cuda_common.cuh" // first: check.h defines CUDA_CHECK only after the CUDA headers
#include "burn/bitpack.h"
#include "cuda_ops.h"

__global__ void bits_pack_kernel(uint64_t *P, int ldp, const float *X, int ldx, int R, int K,
                                 int64_t words) {
    const int lane = threadIdx.x & 31;
    const int64_t warp = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    const int64_t nwarps = (gridDim.x * (int64_t)blockDim.x) >> 5;
    const int64_t total = (int64_t)R * words;
    for (int64_t i = warp; i < total; i += nwarps) { // uniform per warp: ballots are safe
        const int64_t r = i / words, w = i % words;
        const float *x = X + r * ldx;
        const int64_t k0 = w * 64 + lane, k1 = k0 + 32;
        const unsigned lo = __ballot_sync(0xffffffffu, k0 < K && burn_sign_bit(x[k0]));
        const unsigned hi = __ballot_sync(0xffffffffu, k1 < K && burn_sign_bit(x[k1]));
        if (lane == 0) P[r * ldp + w] = (uint64_t)lo | ((uint64_t)hi << 32);
    }
}

__global__ void bits_unpack_kernel(float *X, int ldx, const uint64_t *P, int ldp, int K,
                                   int64_t n) {
    GRID_STRIDE(i, n) {
        const int64_t r = i / K, k = i % K;
        X[r * ldx + k] = burn_bit_value((P[r * ldp + k / 64] >> (k % 64)) & 1);
    }
}

extern "C" void cuda_bits_pack(uint64_t *P, int ldp, const float *X, int ldx, int R, int K) {
    if (R <= 0 || K <= 0) return;
    const int64_t words = burn_bits_words(K);
    bits_pack_kernel<<<burn_grid((int64_t)R * words * 32, 256), 256, 0, burn_stream>>>(
        P, ldp, X, ldx, R, K, words);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_bits_unpack(float *X, int ldx, const uint64_t *P, int ldp, int R, int K) {
    const int64_t n = (int64_t)R * K;
    if (n <= 0) return;
    bits_unpack_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(X, ldx, P, ldp, K, n);
    BURN_LAUNCH_CHECK();
}
