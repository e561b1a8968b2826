/* bitpack_avx2.c — AVX2 sign-bit packers (compiled with -mavx2; run only after the
 * __builtin_cpu_supports("avx2") check in xnor_gemm.c). Same results as the portable ones
 * in bitpack.c: bit = (x >= 0) by an ordered compare, so -0.0 gives 1 and NaN gives 0. */
#include <immintrin.h>

#include "burn/bitpack.h"
#include "burn/bconv.h"
#include "xnor_gemm.h"

/* 8 sign bits of x[0..7] in the low byte. */
static inline unsigned sign8(const float *x) {
    __m256 ge = _mm256_cmp_ps(_mm256_loadu_ps(x), _mm256_setzero_ps(), _CMP_GE_OQ);
    return (unsigned)_mm256_movemask_ps(ge);
}

void xnor_pack_avx2(uint64_t *P, int ldp, const float *X, int ldx, int R, int K) {
    int64_t words = burn_bits_words(K), full = K / 64;
    for (int r = 0; r < R; r++) {
        const float *x = X + (int64_t)r * ldx;
        uint64_t *p = P + (int64_t)r * ldp;
        for (int64_t w = 0; w < full; w++) {
            const float *xw = x + w * 64;
            uint64_t word = 0;
            for (int g = 0; g < 8; g++) word |= (uint64_t)sign8(xw + 8 * g) << (8 * g);
            p[w] = word;
        }
        if (words > full) { /* the K tail: scalar, pad bits 0 */
            uint64_t word = 0;
            for (int k = (int)(full * 64); k < K; k++)
                word |= burn_sign_bit(x[k]) << (k - full * 64);
            p[full] = word;
        }
    }
}

/* Channel-packed image P[p, wi], in passes of 32 channels (one 32-bit half of each word):
 * for 16 pixels at a time, every 32-bit lane shifts in one bit per channel, from the last
 * channel of the group down to the first (acc = 2·acc − mask), so channel c ends at bit c.
 * A pass reads at most 32 channel planes at once, few enough for the hardware prefetchers
 * to follow every stream (64 planes at once ran 6× slower at 112×112). */
static inline __m256i shift_in(__m256i acc, const float *x) {
    __m256i m = _mm256_castps_si256(
        _mm256_cmp_ps(_mm256_loadu_ps(x), _mm256_setzero_ps(), _CMP_GE_OQ));
    return _mm256_sub_epi32(_mm256_add_epi32(acc, acc), m); /* m = −1 where x >= 0 */
}

void xnor_chanpack_avx2(uint64_t *P, const float *xn, int C, int64_t HW) {
    int groups = 2 * (int)burn_bits_words(C);
    uint32_t *P32 = (uint32_t *)P; /* little-endian: half h of word wi is P32[2·wi + h] */
    for (int gi = 0; gi < groups; gi++) {
        int c0 = 32 * gi, n = C - c0 < 0 ? 0 : C - c0 > 32 ? 32 : C - c0;
        int64_t p = 0;
        for (; p + 16 <= HW; p += 16) {
            __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0;
            for (int c = n - 1; c >= 0; c--) {
                const float *x = xn + (int64_t)(c0 + c) * HW + p;
                acc0 = shift_in(acc0, x);
                acc1 = shift_in(acc1, x + 8);
            }
            uint32_t t[16];
            _mm256_storeu_si256((__m256i *)t, acc0);
            _mm256_storeu_si256((__m256i *)(t + 8), acc1);
            for (int i = 0; i < 16; i++) P32[(p + i) * groups + gi] = t[i];
        }
        /* the last pixels (all of them when HW < 16, e.g. the 9 taps of a 3×3 weight in
         * cpu_bconv_pack_weights): 8 channels per gather */
        const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                               _mm256_set1_epi32((int)HW));
        for (; p < HW; p++) {
            uint32_t v = 0;
            int c = 0;
            for (; c + 8 <= n; c += 8) {
                __m256 x = _mm256_i32gather_ps(xn + (int64_t)(c0 + c) * HW + p, idx, 4);
                v |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ)) << c;
            }
            for (; c < n; c++) v |= (uint32_t)burn_sign_bit(xn[(int64_t)(c0 + c) * HW + p]) << c;
            P32[p * groups + gi] = v;
        }
    }
}
