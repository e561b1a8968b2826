/* bitpack.h — bit-packed ±1 matrices and the xnor-popcount GEMM on them (METHOD.md §3).
 *
 * A binary value v ∈ {−1, +1} is one bit: 1 for +1, 0 for −1. Activations are binarised by
 * sign with sign(0) = +1 (METHOD.md §3), so the bit of a float x is (x >= 0); NaN gives 0 (−1).
 *
 * Packed layout of a matrix P with R rows and K binary columns (K = the reduction axis):
 *   - row r starts at word r·ld (ld = row stride in 64-bit words, ld ≥ burn_bits_words(K));
 *   - element k of row r is bit (k % 64) of word r·ld + k / 64: words in increasing k, bits
 *     LSB-first (bit 0 of word 0 is k = 0). On a little-endian machine the row is therefore
 *     also a little-endian bit string, and 32-bit halves of a word hold k in [0,32), [32,64).
 *   - K tail: bits k ≥ K of the last word are 0. Every packer writes them as 0 and every
 *     kernel relies on it (see burn_xnor_dot); words past burn_bits_words(K) are never read.
 *
 * The GEMM multiplies A[M,K] by B[N,K]ᵀ with both operands packed along K ("NT" layout): for
 * a convolution, A is the weights W[O, C·kh·kw] and B the packed im2col with one row per
 * output position, so C[o, p] lands directly in the NCHW output of one image.
 *
 * Per-element formulas here are BURN_HD: the CPU kernels and the CUDA kernels use the same
 * lines, so what the CPU tests check is what the GPU computes. */
#ifndef BURN_BITPACK_H
#define BURN_BITPACK_H

#include <stdint.h>

#include "burn/check.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 64-bit words holding K bits. */
BURN_HD int64_t burn_bits_words(int64_t K) { return (K + 63) / 64; }

/* The bit of a float under sign(0) = +1. */
BURN_HD uint64_t burn_sign_bit(float x) { return x >= 0.0f ? 1u : 0u; }

/* The ±1 value of a bit. */
BURN_HD float burn_bit_value(uint64_t bit) { return bit ? 1.0f : -1.0f; }

/* Mask of the valid bits of the last word of a K-bit row (all ones when K % 64 == 0). */
BURN_HD uint64_t burn_bits_tail_mask(int64_t K) {
    int r = (int)(K % 64);
    return r ? (((uint64_t)1 << r) - 1) : ~(uint64_t)0;
}

/* Σ_k a_k·b_k of two ±1 rows from the popcount of their xor.
 * Proof: a_k·b_k = +1 when the bits agree and −1 when they differ, so the sum is
 * (#agree) − (#differ) = (K − d) − d = K − 2d with d = popc(a ⊕ b) over the K real bits.
 * The pad bits (k ≥ K) are 0 in both operands, so their xor is 0: they add nothing to the
 * popcount, and the formula with the real K is exact without masking the last word. */
BURN_HD int32_t burn_xnor_dot(int32_t K, int32_t popc_xor) { return K - 2 * popc_xor; }

/* The same sum from AND-popcounts (the tensor-core path: Hopper's b1 mma has .and.popc but
 * no .xor.popc). With x = 2a − 1 and y = 2b − 1 for bits a, b: x·y = 4ab − 2a − 2b + 1, so
 * Σ_k x_k·y_k = 4·popc(a∧b) − 2·popc(a) − 2·popc(b) + K. Pad bits are 0 in both operands,
 * so they add 0 to each of the three popcounts and the identity holds with the real K. */
BURN_HD int32_t burn_xnor_dot_and(int32_t K, int32_t popc_and, int32_t popc_a, int32_t popc_b) {
    return 4 * popc_and - 2 * popc_a - 2 * popc_b + K;
}

/* What the GEMM writes for each dot product d = Σ_k a_mk·b_nk (an exact integer):
 *   C[m,n] = scale[m] · (d − corr[m·n_class + col_class[n]])   (col_class[n] ≠ 0)
 *   C[m,n] = scale[m] · d                                        (col_class[n] = 0)
 * scale NULL means 1; corr NULL means no correction (col_class and n_class unused then).
 * Class 0 is "no correction" and corr[m, 0] is never read, so the kernels skip the table
 * for runs of class-0 columns (the interior of a convolution's output).
 * The correction is integer arithmetic before the single float rounding, so the result is
 * exactly the float rounding of the true value: the binary conv uses it to remove the
 * contribution of border taps that the packed im2col had to fill with +1 (METHOD.md §3: the
 * binarised input is zero-padded). Pointers are in the backend's memory. */
typedef struct burn_xnor_epilogue {
    const float *scale;       /* [M] per-row scale (α_o of the binary weights), or NULL */
    const int32_t *corr;      /* [M, n_class] integers subtracted from d, or NULL */
    const uint8_t *col_class; /* [N] class of each column, in [0, n_class) */
    int n_class;
} burn_xnor_epilogue;

/* The epilogue for one element: the single rounding happens in the float product (|d| ≤ K ≤
 * 2^24 is exact in float, so scale·(float)d is the correctly rounded scale·d). */
BURN_HD float burn_xnor_out(const burn_xnor_epilogue ep, int m, int n, int32_t d) {
    if (ep.corr && ep.col_class[n]) d -= ep.corr[(int64_t)m * ep.n_class + ep.col_class[n]];
    return ep.scale ? ep.scale[m] * (float)d : (float)d;
}

/* Largest K the GEMM accepts: |d| ≤ K must be exact in float. */
#define BURN_XNOR_MAX_K (1 << 24)

/* Precisions of the low-precision reference GEMMs (backend lowp_gemm, burn_bench). */
enum { BURN_PREC_F16 = 1, BURN_PREC_I8 = 2 };

/* ---- CPU kernel choice (tests and burn_bench force each path) ----
 * "auto" picks the best this CPU runs: avx512 (AVX-512 F/BW/VL/DQ + VPOPCNTDQ), else avx2,
 * else portable. "portable" (plain C, __builtin_popcountll), "avx2" (nibble-LUT popcount with
 * vpshufb + vpsadbw), "avx512" (vpopcntq). The choice covers packing and the GEMM. Returns 0,
 * or -1 with burn_error() set for an unknown name or one this CPU cannot run. */
int burn_xnor_cpu_select(const char *name);
const char *burn_xnor_cpu_selected(void); /* the kernel in use ("auto" resolved) */

/* ---- CUDA kernel choice ----
 * "auto" (default: mma where the device has compute capability 8.0 or newer, else popc),
 * "popc" (every architecture: __popcll of the xor, shared-memory tiles) or "mma" (tensor
 * cores: mma.sync m16n8k256 b1 .and.popc, sm_80 and newer; 1.1-2.8x popc on an H200,
 * docs/BENCHMARKS.md). Stored here so that builds without CUDA link; the CUDA backend reads
 * it at each call. Returns 0, or -1 with burn_error() set for an unknown name. */
enum { BURN_XNOR_CUDA_AUTO, BURN_XNOR_CUDA_POPC, BURN_XNOR_CUDA_MMA };
int burn_xnor_cuda_select(const char *name);
const char *burn_xnor_cuda_selected(void);
extern int burn_xnor_cuda_kernel; /* BURN_XNOR_CUDA_* */

/* Threads the CPU binary kernels use: $BURN_NUM_THREADS, else the CPUs this process may run
 * on. (OpenBLAS has its own pool; the two are never active at the same time.) */
int burn_cpu_threads(void);

#ifdef __cplusplus
}
#endif

#endif
