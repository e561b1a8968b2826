/* bconv.h — binary 2-D convolution (METHOD.md §2–3): the geometry, the layout of packed weights,
 * and the per-element helpers both backends share. The ops themselves are backend-table
 * entries (bconv_* in backend.h):
 *
 *   stage 1 (binary activations, real weights):  y = conv(sign(x), W)
 *   stage 2 (binary activations and weights):    y[n,o] = α_o · conv(sign(x), sign(W))[n,o]
 *   backward (both stages, through FP GEMMs):    dx = ∂L/∂sign(x), dW = ∂L/∂W_eff
 *
 * with x[N,C,H,W], W[O,C,kh,kw], y[N,O,Ho,Wo] float, sign(0) = +1, and the *binarised* input
 * zero-padded: a tap that falls outside the image contributes 0 (METHOD.md §3). W_eff is W in
 * stage 1 and α_o·sign(W_o) in stage 2; the straight-through estimators are applied by the
 * caller (binarize.h).
 *
 * Stage 2 packs sign(x) along K = kh·kw·C in tap-major order, k = (ky·kw + kx)·C + c, which
 * makes each tap's channels a run of C bits copied from a channel-packed image. Taps in the
 * padding are packed as +1 and their contribution Σ_c sign(W[o,c,ky,kx]) is subtracted
 * again, exactly, in the GEMM epilogue (burn_xnor_epilogue): the result equals the zero-padded
 * convolution bit for bit. */
#ifndef BURN_BCONV_H
#define BURN_BCONV_H

#include <stddef.h>
#include <stdint.h>

#include "burn/bitpack.h"
#include "burn/check.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Geometry of one binary conv layer. Fill with burn_bconv_init. */
typedef struct burn_bconv {
    int N, C, H, W;           /* input x[N,C,H,W] */
    int O, kh, kw;            /* weights W[O,C,kh,kw] */
    int stride, pad;          /* same in both directions */
    int Ho, Wo;               /* output y[N,O,Ho,Wo] */
    int K;                    /* C·kh·kw, the GEMM reduction length */
    int ldk;                  /* burn_bits_words(K): packed row stride in words */
    int n_class;              /* 2^(kh+kw): border classes of burn_bconv_class */
} burn_bconv;

/* Validate and fill: kernel 1..4 (square), stride ≥ 1, 0 ≤ pad < kernel, a non-empty output,
 * K ≤ BURN_XNOR_MAX_K. Returns 0, or -1 with burn_error() set ("bconv: ..."). */
int burn_bconv_init(burn_bconv *cv, int N, int C, int H, int W, int O, int kernel, int stride,
                    int pad);

/* Packed stage-2 weights, one buffer of burn_bconv_packed_bytes(cv) in the backend's memory:
 *   bits     uint64 [O, ldk]       sign(W[o]) in tap-major K order (bit layout of bitpack.h)
 *   tap_sum  int32  [O, kh·kw]     Σ_c sign(W[o,c,ky,kx]) for tap ky·kw + kx
 * The offsets below give each part; tap_sum starts 8-byte aligned. */
BURN_HD size_t burn_bconv_bits_bytes(const burn_bconv *cv) {
    return (size_t)cv->O * (size_t)cv->ldk * 8;
}
BURN_HD size_t burn_bconv_packed_bytes(const burn_bconv *cv) {
    return burn_bconv_bits_bytes(cv) + (size_t)cv->O * (size_t)(cv->kh * cv->kw) * 4;
}

/* Border class of output position (oy, ox), from the invalid-tap masks of the two axes:
 * class = (invalid_y << kw) | invalid_x, where bit ky of invalid_y is set when input row
 * oy·stride − pad + ky lies outside [0, H) (likewise x). Class 0: every tap inside. */
BURN_HD int burn_bconv_class(const burn_bconv *cv, int oy, int ox) {
    int bad_y = 0, bad_x = 0;
    for (int ky = 0; ky < cv->kh; ky++) {
        int iy = oy * cv->stride - cv->pad + ky;
        if (iy < 0 || iy >= cv->H) bad_y |= 1 << ky;
    }
    for (int kx = 0; kx < cv->kw; kx++) {
        int ix = ox * cv->stride - cv->pad + kx;
        if (ix < 0 || ix >= cv->W) bad_x |= 1 << kx;
    }
    return (bad_y << cv->kw) | bad_x;
}

/* The integer the epilogue subtracts for output channel o in border class cls: the sum of the
 * +1-padded taps' weights, Σ over taps (ky,kx) outside the image of tap_sum[o][ky·kw+kx]. */
BURN_HD int32_t burn_bconv_corr(const burn_bconv *cv, const int32_t *tap_sum_o, int cls) {
    int bad_y = cls >> cv->kw, bad_x = cls & ((1 << cv->kw) - 1);
    int32_t s = 0;
    for (int ky = 0; ky < cv->kh; ky++)
        for (int kx = 0; kx < cv->kw; kx++)
            if (((bad_y >> ky) & 1) || ((bad_x >> kx) & 1)) s += tap_sum_o[ky * cv->kw + kx];
    return s;
}

/* `len` ≤ 64 bits of a packed bit string starting at bit `off`, in the low bits of the result
 * (the rest 0). Reads at most the two words the run touches. */
BURN_HD uint64_t burn_bits_get(const uint64_t *src, int64_t off, int len) {
    int64_t w = off >> 6;
    int sh = (int)(off & 63);
    uint64_t v = src[w] >> sh;
    if (sh && sh + len > 64) v |= src[w + 1] << (64 - sh);
    return len == 64 ? v : v & (((uint64_t)1 << len) - 1);
}

/* Word `wi` of the packed im2col row of output position (oy, ox): bits k in [64·wi, 64·wi+64)
 * ∩ [0, K) in tap-major order, taken from the channel-packed image `img` (one row of cw =
 * burn_bits_words(C) words per input pixel, pixel iy·W + ix, channel c at bit c of the row);
 * taps outside the image read +1 (all ones). */
BURN_HD uint64_t burn_bconv_col_word(const burn_bconv *cv, const uint64_t *img, int oy, int ox,
                                     int wi) {
    int64_t k0 = (int64_t)wi * 64, k1 = k0 + 64 < cv->K ? k0 + 64 : cv->K;
    int64_t cw = burn_bits_words(cv->C);
    uint64_t word = 0;
    for (int64_t k = k0; k < k1;) {
        int tap = (int)(k / cv->C), c = (int)(k % cv->C);
        int len = (int)(cv->C - c < k1 - k ? cv->C - c : k1 - k); /* ≤ 64: k1 − k ≤ 64 */
        int iy = oy * cv->stride - cv->pad + tap / cv->kw;
        int ix = ox * cv->stride - cv->pad + tap % cv->kw;
        uint64_t bits;
        if (iy < 0 || iy >= cv->H || ix < 0 || ix >= cv->W)
            bits = len == 64 ? ~(uint64_t)0 : (((uint64_t)1 << len) - 1);
        else
            bits = burn_bits_get(img + ((int64_t)iy * cv->W + ix) * cw, c, len);
        word |= bits << (k - k0);
        k += len;
    }
    return word;
}

/* Word `wi` (channels 64·wi .. 64·wi+63) of pixel `pix` of the channel-packed image of x_n
 * (x_n[C, H·W] of one image): bit j = sign bit of x_n[64·wi + j, pix]; channels ≥ C give 0. */
BURN_HD uint64_t burn_bconv_chan_word(const float *xn, int C, int64_t HW, int64_t pix, int wi) {
    uint64_t word = 0;
    int c0 = wi * 64, c1 = c0 + 64 < C ? c0 + 64 : C;
    for (int c = c0; c < c1; c++) word |= burn_sign_bit(xn[(int64_t)c * HW + pix]) << (c - c0);
    return word;
}

/* sign(x_n) at tap (c, ky, kx) of output position (oy, ox), 0 in the padding: element
 * ((c·kh + ky)·kw + kx, oy·Wo + ox) of the float im2col of stage 1 and the backward. */
BURN_HD float burn_bconv_sign_tap(const burn_bconv *cv, const float *xn, int c, int ky, int kx,
                                  int oy, int ox) {
    int iy = oy * cv->stride - cv->pad + ky, ix = ox * cv->stride - cv->pad + kx;
    if (iy < 0 || iy >= cv->H || ix < 0 || ix >= cv->W) return 0.0f;
    return burn_bit_value(burn_sign_bit(xn[((int64_t)c * cv->H + iy) * cv->W + ix]));
}

/* CPU backend: stage 1 and the backward run their FP GEMMs over chunks of images (up to
 * 48 MiB of float im2col per chunk); a value > 0 caps the images per chunk (tests use it to
 * exercise several chunks). */
extern int burn_cpu_bconv_max_chunk;

#ifdef __cplusplus
}
#endif

#endif
