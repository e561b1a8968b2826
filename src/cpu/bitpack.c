/* bitpack.c — CPU sign-bit packing (bitpack.h layout): the backend ops bits_pack and
 * bits_unpack, and the portable packers behind them (AVX2 versions in bitpack_avx2.c). */
#include <string.h>

#include "burn/bitpack.h"
#include "burn/bconv.h"
#include "cpu_ops.h"
#include "xnor_gemm.h"

/* P[R, ldp] from X[R, K] (row stride ldx): one word per 64 floats, bit j = sign bit of
 * element 64·w + j, pad bits 0. */
void xnor_pack_portable(uint64_t *P, int ldp, const float *X, int ldx, int R, int K) {
    int64_t words = burn_bits_words(K);
    for (int r = 0; r < R; r++) {
        const float *x = X + (int64_t)r * ldx;
        uint64_t *p = P + (int64_t)r * ldp;
        for (int64_t w = 0; w < words; w++) {
            int k0 = (int)(w * 64), k1 = k0 + 64 < K ? k0 + 64 : K;
            uint64_t word = 0;
            for (int k = k0; k < k1; k++) word |= burn_sign_bit(x[k]) << (k - k0);
            p[w] = word;
        }
    }
}

/* Channel-packed image: P[p, wi] = burn_bconv_chan_word (bit c = sign of x_n[c, p]). */
void xnor_chanpack_portable(uint64_t *P, const float *xn, int C, int64_t HW) {
    int cw = (int)burn_bits_words(C);
    for (int64_t p = 0; p < HW; p++)
        for (int wi = 0; wi < cw; wi++) P[p * cw + wi] = burn_bconv_chan_word(xn, C, HW, p, wi);
}

void cpu_bits_pack(uint64_t *P, int ldp, const float *X, int ldx, int R, int K) {
    if (R <= 0 || K <= 0) return;
    xnor_impl_current()->pack(P, ldp, X, ldx, R, K);
}

void cpu_bits_unpack(float *X, int ldx, const uint64_t *P, int ldp, int R, int K) {
    for (int r = 0; r < R; r++)
        for (int k = 0; k < K; k++)
            X[(int64_t)r * ldx + k] = burn_bit_value((P[(int64_t)r * ldp + k / 64] >> (k % 64)) & 1);
}
