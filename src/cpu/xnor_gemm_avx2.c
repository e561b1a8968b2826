/* xnor_gemm_avx2.c — AVX2 xnor-popcount GEMM (compiled with -mavx2 -mpopcnt; run only after
 * the __builtin_cpu_supports("avx2") check in xnor_gemm.c).
 *
 * AVX2 has no vector popcount: a byte's bits are counted by looking up its two nibbles in a
 * 16-entry table with vpshufb. To save the nibble masking in the inner loop, both operands
 * are stored split into nibble planes: lo = v & 0x0f0f…, hi = (v >> 4) & 0x0f0f…, so that
 * popc(a ⊕ b) = Σ_bytes lut[a_lo ⊕ b_lo] + lut[a_hi ⊕ b_hi] (xor keeps each nibble in its
 * plane). Per 256 binary MACs: 2 xor + 2 vpshufb + 2 byte adds.
 *
 * B is copied a block of columns at a time into split panels of 8 columns (word w of the 8
 * columns, lo plane then hi plane: 2 vectors each); two rows of A are split once per block
 * and broadcast one word at a time. Byte counters (≤ 8 per word) are folded into 64-bit
 * lanes with vpsadbw every 31 words, before they can overflow. A lane = an output column, so
 * there are no horizontal sums and no K tails (pad bits are 0 in both operands). Large C is
 * written with streaming stores (XNOR_STREAM_BYTES). */
#include <immintrin.h>
#include <string.h>

#include "burn/bitpack.h"
#include "xnor_gemm.h"

static const uint64_t NIB = 0x0f0f0f0f0f0f0f0full;

/* Store n (1..8) outputs of row m at column col: q0 = columns 0..3, q1 = 4..7 (64-bit lanes
 * holding xor-popcounts). */
static inline void store8(const xnor_args *g, int m, int col, __m256i q0, __m256i q1, int n) {
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    /* dwords [c0 c4 c1 c5 | c2 c6 c3 c7] -> [c0 .. c7] */
    __m256i pc = _mm256_permutevar8x32_epi32(_mm256_or_si256(q0, _mm256_slli_epi64(q1, 32)), order);
    __m256i d = _mm256_sub_epi32(_mm256_set1_epi32(g->K), _mm256_add_epi32(pc, pc));
    uint64_t c8 = 0; /* border classes of the n columns (0 inside) */
    if (g->ep.corr) memcpy(&c8, g->ep.col_class + col, (size_t)n);
    if (c8) { /* some border column of a binary conv: per-column table lookups */
        int32_t t[8];
        _mm256_storeu_si256((__m256i *)t, d);
        const int32_t *corr = g->ep.corr + (int64_t)m * g->ep.n_class;
        for (int j = 0; j < n; j++)
            if (g->ep.col_class[col + j]) t[j] -= corr[g->ep.col_class[col + j]];
        d = _mm256_loadu_si256((const __m256i *)t);
    }
    __m256 f = _mm256_cvtepi32_ps(d);
    if (g->ep.scale) f = _mm256_mul_ps(f, _mm256_set1_ps(g->ep.scale[m]));
    float *c = g->C + (int64_t)m * g->ldc + col;
    if (n == 8 && g->stream && ((uintptr_t)c & 31) == 0) {
        _mm256_stream_ps(c, f);
    } else if (n == 8) {
        _mm256_storeu_ps(c, f);
    } else {
        float t[8];
        _mm256_storeu_ps(t, f);
        memcpy(c, t, sizeof(float) * (size_t)n);
    }
}

/* panels[((j·W + w)·2 + plane)·8 + i] = nibble plane of B[n0 + 8j + i][w]; 0 past nc. */
static void panelize(const xnor_args *g, int n0, int nc, int64_t W, uint64_t *panels) {
    int np = (nc + 7) / 8;
    for (int j = 0; j < np; j++) {
        uint64_t *p = panels + (int64_t)j * W * 16;
        for (int i = 0; i < 8; i++) {
            if (8 * j + i >= nc) {
                for (int64_t w = 0; w < W; w++) p[w * 16 + i] = p[w * 16 + 8 + i] = 0;
                continue;
            }
            const uint64_t *b = g->B + (int64_t)(n0 + 8 * j + i) * g->ldb;
            for (int64_t w = 0; w < W; w++) {
                p[w * 16 + i] = b[w] & NIB;
                p[w * 16 + 8 + i] = (b[w] >> 4) & NIB;
            }
        }
    }
}

static inline __m256i lut_count(__m256i lut, __m256i a, __m256i b) {
    return _mm256_shuffle_epi8(lut, _mm256_xor_si256(a, b));
}

/* Rows r0, r1 of the split A (as0, as1: [W][2] words) × one panel p. */
static inline void block(const xnor_args *g, int m, int rows, const uint64_t *as0,
                         const uint64_t *as1, const uint64_t *p, int64_t W, int col, int cols) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                                         2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i zero = _mm256_setzero_si256();
    __m256i q00 = zero, q01 = zero, q10 = zero, q11 = zero; /* 64-bit lane totals */
    for (int64_t w0 = 0; w0 < W; w0 += 31) {             /* byte counters: ≤ 31·8 = 248 */
        int64_t w1 = w0 + 31 < W ? w0 + 31 : W;
        __m256i s00 = zero, s01 = zero, s10 = zero, s11 = zero;
        for (int64_t w = w0; w < w1; w++) {
            const uint64_t *pw = p + w * 16;
            __m256i alo0 = _mm256_set1_epi64x((long long)as0[2 * w]);
            __m256i ahi0 = _mm256_set1_epi64x((long long)as0[2 * w + 1]);
            __m256i alo1 = _mm256_set1_epi64x((long long)as1[2 * w]);
            __m256i ahi1 = _mm256_set1_epi64x((long long)as1[2 * w + 1]);
            __m256i blo = _mm256_loadu_si256((const __m256i *)pw);
            __m256i bhi = _mm256_loadu_si256((const __m256i *)(pw + 8));
            s00 = _mm256_add_epi8(s00, lut_count(lut, alo0, blo));
            s00 = _mm256_add_epi8(s00, lut_count(lut, ahi0, bhi));
            s10 = _mm256_add_epi8(s10, lut_count(lut, alo1, blo));
            s10 = _mm256_add_epi8(s10, lut_count(lut, ahi1, bhi));
            blo = _mm256_loadu_si256((const __m256i *)(pw + 4));
            bhi = _mm256_loadu_si256((const __m256i *)(pw + 12));
            s01 = _mm256_add_epi8(s01, lut_count(lut, alo0, blo));
            s01 = _mm256_add_epi8(s01, lut_count(lut, ahi0, bhi));
            s11 = _mm256_add_epi8(s11, lut_count(lut, alo1, blo));
            s11 = _mm256_add_epi8(s11, lut_count(lut, ahi1, bhi));
        }
        q00 = _mm256_add_epi64(q00, _mm256_sad_epu8(s00, zero));
        q01 = _mm256_add_epi64(q01, _mm256_sad_epu8(s01, zero));
        q10 = _mm256_add_epi64(q10, _mm256_sad_epu8(s10, zero));
        q11 = _mm256_add_epi64(q11, _mm256_sad_epu8(s11, zero));
    }
    store8(g, m, col, q00, q01, cols);
    if (rows > 1) store8(g, m + 1, col, q10, q11, cols);
}

void xnor_gemm_avx2(const xnor_args *g, int n0, int n1, void *scratch) {
    int64_t W = burn_bits_words(g->K);
    int nb = xnor_block_cols(W, 16);
    uint64_t *panels = scratch;
    /* the split A rows live after the largest panel block */
    uint64_t *as = panels + (int64_t)((nb + 7) / 8) * W * 16;
    for (int cb = n0; cb < n1; cb += nb) {
        int nc = n1 - cb < nb ? n1 - cb : nb, np = (nc + 7) / 8;
        panelize(g, cb, nc, W, panels);
        for (int m = 0; m < g->M; m += 2) {
            int rows = g->M - m < 2 ? g->M - m : 2;
            for (int r = 0; r < 2; r++) {
                const uint64_t *a = g->A + (int64_t)(m + (r < rows ? r : 0)) * g->lda;
                for (int64_t w = 0; w < W; w++) {
                    as[(r * W + w) * 2] = a[w] & NIB;
                    as[(r * W + w) * 2 + 1] = (a[w] >> 4) & NIB;
                }
            }
            for (int j = 0; j < np; j++) {
                int cols = nc - 8 * j < 8 ? nc - 8 * j : 8;
                block(g, m, rows, as, as + 2 * W, panels + (int64_t)j * W * 16, W, cb + 8 * j,
                      cols);
            }
        }
    }
    if (g->stream) _mm_sfence(); /* streaming stores are weakly ordered */
}
