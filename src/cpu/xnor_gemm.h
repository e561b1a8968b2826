/* xnor_gemm.h — internals of the CPU binary kernels, shared by xnor_gemm.c (dispatch,
 * threads, portable kernel), xnor_gemm_avx2.c, xnor_gemm_avx512.c, bitpack*.c and bconv.c.
 *
 * Each instruction set provides one implementation of three kernels (struct xnor_impl):
 *   gemm      columns [n0, n1) of C[M, N] = epilogue(A[M, K] · B[N, K]ᵀ), all rows; the
 *             SIMD kernels copy B, a block of columns at a time, into scratch in a column-
 *             panel layout (8 columns interleaved per word) so that one vector holds the
 *             same word of 8 columns: popcounts then accumulate per column with no
 *             horizontal sums and no partial vectors at the K tail
 *   pack      rows of floats -> packed sign bits (bitpack.h layout)
 *   chanpack  one image x_n[C, HW] -> channel-packed pixels P[HW, cw] (cw = words(C)),
 *             bit c of pixel p = sign bit of x_n[c, p]
 * burn_xnor_cpu_select picks the set; the ops call xnor_impl_current(). */
#ifndef BURN_XNOR_GEMM_H
#define BURN_XNOR_GEMM_H

#include <stdint.h>

#include "burn/bitpack.h"

typedef struct xnor_args {
    int M, N, K;
    const uint64_t *A; /* [M, lda] */
    int lda;
    const uint64_t *B; /* [N, ldb] */
    int ldb;
    float *C;          /* [M, ldc] */
    int ldc;
    burn_xnor_epilogue ep; /* scale and corr NULL: plain integer dots */
    int stream;            /* 1: write C with non-temporal stores (set by xnor_gemm_run*) */
} xnor_args;

/* C of at least this many bytes is written with streaming (non-temporal) stores: it cannot
 * stay in any per-core cache anyway, and skipping the read-for-ownership of every line halves
 * the memory traffic of output-bound GEMMs (small K). The conv's per-image outputs are
 * smaller and keep cached stores for the layer that reads them next. */
#define XNOR_STREAM_BYTES ((int64_t)16 << 20)

/* scratch: xnor_gemm_scratch_bytes(K) bytes, 64-byte aligned, private to the caller */
typedef void (*xnor_gemm_fn)(const xnor_args *g, int n0, int n1, void *scratch);
typedef void (*xnor_pack_fn)(uint64_t *P, int ldp, const float *X, int ldx, int R, int K);
typedef void (*xnor_chanpack_fn)(uint64_t *P, const float *xn, int C, int64_t HW);

typedef struct xnor_impl {
    const char *name;
    xnor_gemm_fn gemm;
    xnor_pack_fn pack;
    xnor_chanpack_fn chanpack;
} xnor_impl;

/* The selected implementation (first use resolves "auto"). */
const xnor_impl *xnor_impl_current(void);

/* Portable kernels (plain C), also the reference the SIMD files fall back to for shapes
 * they do not special-case. */
void xnor_gemm_portable(const xnor_args *g, int n0, int n1, void *scratch);
void xnor_pack_portable(uint64_t *P, int ldp, const float *X, int ldx, int R, int K);
void xnor_chanpack_portable(uint64_t *P, const float *xn, int C, int64_t HW);

/* AVX2 (compiled with -mavx2; call only when __builtin_cpu_supports("avx2")). */
void xnor_gemm_avx2(const xnor_args *g, int n0, int n1, void *scratch);
void xnor_pack_avx2(uint64_t *P, int ldp, const float *X, int ldx, int R, int K);
void xnor_chanpack_avx2(uint64_t *P, const float *xn, int C, int64_t HW);

/* AVX-512 F/BW/VL/DQ + VPOPCNTDQ (a target pragma; call only when xnor_cpu_has_avx512()). */
void xnor_gemm_avx512(const xnor_args *g, int n0, int n1, void *scratch);
int xnor_cpu_has_avx512(void);

/* Scratch per GEMM thread: a column-panel buffer of about XNOR_PANEL_BYTES (more when one
 * 16-column panel pair of K bits needs more) plus split rows of A. */
#define XNOR_PANEL_BYTES (192 * 1024)
size_t xnor_gemm_scratch_bytes(int K);

/* Columns per panel block for panels of `bytes_per_word_col` bytes per word and column. */
static inline int xnor_block_cols(int64_t words, int bytes_per_word_col) {
    int64_t nb = XNOR_PANEL_BYTES / (words * bytes_per_word_col) / 16 * 16;
    return nb < 16 ? 16 : nb > (1 << 20) ? (1 << 20) : (int)nb;
}

/* The GEMM on `threads` threads (columns split in blocks); threads = 1 runs inline. */
void xnor_gemm_run(const xnor_args *g, int threads);
/* The same on the calling thread with caller-provided scratch (the conv's per-image GEMMs). */
void xnor_gemm_run1(const xnor_args *g, void *scratch);

/* Run fn(ctx, t) for t in [0, threads), each part on its own thread of the OpenMP pool;
 * returns when all are done. A nested call (from inside a part) runs its parts one after
 * another on the calling thread. */
void xnor_parallel(int threads, void (*fn)(void *ctx, int t), void *ctx);

#endif
