/* xnor_gemm_avx512.c — AVX-512 xnor-popcount GEMM with VPOPCNTDQ (vpopcntq counts the bits
 * of each 64-bit lane in one instruction). The whole file is compiled for AVX-512 F/BW/VL/DQ
 * + VPOPCNTDQ by the pragma below (the Makefile's flags stay AVX2); it runs only after
 * xnor_cpu_has_avx512() in xnor_gemm.c.
 *
 * B is copied a block of columns at a time into panels of 8 columns: panel word w holds word
 * w of the 8 columns in one 512-bit vector, so for a row of A
 *   acc[8 columns] += popcnt(broadcast(A[m][w]) ⊕ panel[w])
 * counts 8 dot products at once: 3 vector operations (xor with the broadcast folded into
 * its memory operand, vpopcntq, add) per 512 binary MACs, no horizontal sums, and every K
 * works without tails (pad bits are 0 in both operands). The register block is 4 rows × 2
 * panels (8 accumulators); the 8 lanes of an accumulator are 8 consecutive output columns,
 * so the epilogue converts and stores them as one vector (streaming stores for large C,
 * see XNOR_STREAM_BYTES). */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vpopcntdq,avx2,fma,popcnt")
#include <immintrin.h>
#include <string.h>

#include "burn/bitpack.h"
#include "xnor_gemm.h"

enum { MR = 4 }; /* rows of A per register block */

/* Store n (1..8) outputs of row m at column col from 8 xor-popcounts (64-bit lanes). */
static inline void store8(const xnor_args *g, int m, int col, __m512i pc, int n) {
    __m256i p = _mm512_cvtepi64_epi32(pc);
    __m256i d = _mm256_sub_epi32(_mm256_set1_epi32(g->K), _mm256_add_epi32(p, p));
    uint64_t c8 = 0; /* border classes of the n columns (0 inside; lanes past n read 0) */
    if (g->ep.corr) memcpy(&c8, g->ep.col_class + col, (size_t)n);
    if (c8) { /* some border column of a binary conv: table lookups for class ≠ 0 */
        const int32_t *corr = g->ep.corr + (int64_t)m * g->ep.n_class;
        __m256i cls = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)c8));
        __mmask8 k = _mm256_test_epi32_mask(cls, cls);
        d = _mm256_sub_epi32(d, _mm256_mmask_i32gather_epi32(_mm256_setzero_si256(), k, cls,
                                                             (const int *)corr, 4));
    }
    __m256 f = _mm256_cvtepi32_ps(d);
    if (g->ep.scale) f = _mm256_mul_ps(f, _mm256_set1_ps(g->ep.scale[m]));
    float *c = g->C + (int64_t)m * g->ldc + col;
    if (n == 8 && g->stream && ((uintptr_t)c & 31) == 0) _mm256_stream_ps(c, f);
    else if (n == 8) _mm256_storeu_ps(c, f);
    else _mm256_mask_storeu_ps(c, (__mmask8)((1u << n) - 1), f);
}

/* panels[(j·W + w)·8 + i] = B[n0 + 8j + i][w] for the nc columns from n0; lanes past the
 * last column are 0. */
static void panelize(const xnor_args *g, int n0, int nc, int64_t W, uint64_t *panels) {
    int np = (nc + 7) / 8;
    for (int j = 0; j < np; j++) {
        uint64_t *p = panels + (int64_t)j * W * 8;
        int cols = nc - 8 * j < 8 ? nc - 8 * j : 8;
        if (cols == 8 && W >= 8) { /* 8×8 blocks: gather-free transposes by scalar copies */
            const uint64_t *b[8];
            for (int i = 0; i < 8; i++) b[i] = g->B + (int64_t)(n0 + 8 * j + i) * g->ldb;
            for (int64_t w = 0; w < W; w++)
                for (int i = 0; i < 8; i++) p[w * 8 + i] = b[i][w];
            continue;
        }
        for (int64_t w = 0; w < W; w++)
            for (int i = 0; i < 8; i++)
                p[w * 8 + i] = i < cols ? g->B[(int64_t)(n0 + 8 * j + i) * g->ldb + w] : 0;
    }
}

/* rows m..m+rows−1 (≤ MR) × panels j0, j0+1 (np2 = 1 or 2) of the current block. */
static inline void block(const xnor_args *g, int m, int rows, const uint64_t *p0, int np2,
                         int64_t W, int col, int cols0, int cols1) {
    const uint64_t *a[MR];
    for (int i = 0; i < MR; i++) a[i] = g->A + (int64_t)(m + (i < rows ? i : rows - 1)) * g->lda;
    const uint64_t *p1 = np2 > 1 ? p0 + W * 8 : p0;
    __m512i s00 = _mm512_setzero_si512(), s01 = s00, s10 = s00, s11 = s00;
    __m512i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    for (int64_t w = 0; w < W; w++) {
        __m512i b0 = _mm512_loadu_si512(p0 + w * 8), b1 = _mm512_loadu_si512(p1 + w * 8);
        __m512i x = _mm512_set1_epi64((long long)a[0][w]);
        s00 = _mm512_add_epi64(s00, _mm512_popcnt_epi64(_mm512_xor_si512(x, b0)));
        s01 = _mm512_add_epi64(s01, _mm512_popcnt_epi64(_mm512_xor_si512(x, b1)));
        x = _mm512_set1_epi64((long long)a[1][w]);
        s10 = _mm512_add_epi64(s10, _mm512_popcnt_epi64(_mm512_xor_si512(x, b0)));
        s11 = _mm512_add_epi64(s11, _mm512_popcnt_epi64(_mm512_xor_si512(x, b1)));
        x = _mm512_set1_epi64((long long)a[2][w]);
        s20 = _mm512_add_epi64(s20, _mm512_popcnt_epi64(_mm512_xor_si512(x, b0)));
        s21 = _mm512_add_epi64(s21, _mm512_popcnt_epi64(_mm512_xor_si512(x, b1)));
        x = _mm512_set1_epi64((long long)a[3][w]);
        s30 = _mm512_add_epi64(s30, _mm512_popcnt_epi64(_mm512_xor_si512(x, b0)));
        s31 = _mm512_add_epi64(s31, _mm512_popcnt_epi64(_mm512_xor_si512(x, b1)));
    }
    __m512i s[MR][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
    for (int i = 0; i < rows; i++) {
        store8(g, m + i, col, s[i][0], cols0);
        if (np2 > 1) store8(g, m + i, col + 8, s[i][1], cols1);
    }
}

void xnor_gemm_avx512(const xnor_args *g, int n0, int n1, void *scratch) {
    int64_t W = burn_bits_words(g->K);
    int nb = xnor_block_cols(W, 8);
    uint64_t *panels = scratch;
    for (int cb = n0; cb < n1; cb += nb) {
        int nc = n1 - cb < nb ? n1 - cb : nb, np = (nc + 7) / 8;
        panelize(g, cb, nc, W, panels);
        for (int m = 0; m < g->M; m += MR) {
            int rows = g->M - m < MR ? g->M - m : MR;
            for (int j = 0; j < np; j += 2) {
                int np2 = np - j < 2 ? np - j : 2;
                int c0 = nc - 8 * j, c1 = nc - 8 * j - 8;
                block(g, m, rows, panels + (int64_t)j * W * 8, np2, W, cb + 8 * j,
                      c0 < 8 ? c0 : 8, c1 < 8 ? c1 : 8);
            }
        }
    }
    if (g->stream) _mm_sfence(); /* streaming stores are weakly ordered */
}
