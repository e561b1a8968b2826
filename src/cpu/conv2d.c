/* conv2d.c — CPU FP convolution (groups 1, dilation 1, zero padding) by im2col + OpenBLAS.
 *
 * Per image n, with K = C·kh·kw and P = Ho·Wo:
 *   col[K, P]  = im2col(x_n[C, H, W])            (row k = (c·kh + i)·kw + j)
 *   forward:     y_n[O, P]   = w[O, K] · col
 *   data grad:   col         = wᵀ[K, O] · dy_n[O, P];  dx_n = col2im(col)   (sums overlaps)
 *   filter grad: dw[O, K]   += dy_n · colᵀ
 * A 1×1, stride-1, unpadded conv is a plain GEMM on x_n (col = x_n), with no copy.
 * The column buffer belongs to this file and grows to the largest layer seen (no allocation
 * in steady state). Not thread-safe: the backend is driven from one thread. */
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "cpu_ops.h"

static float *col_buf;
static size_t col_cap; /* floats */

static float *col_scratch(size_t floats) {
    if (floats > col_cap) {
        free(col_buf);
        col_buf = NULL;
        size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
        if (posix_memalign((void **)&col_buf, 64, bytes) != 0)
            burn_check_fail("libc", "posix_memalign", __FILE__, __LINE__,
                            "out of host memory for the im2col buffer",
                            "lower train.batch_size or the image size");
        col_cap = floats;
    }
    return col_buf;
}

static int is_pointwise(const burn_conv2d *cv) {
    return cv->kh == 1 && cv->kw == 1 && cv->stride == 1 && cv->pad == 0;
}

/* col[K, P] from one image x[C, H, W]; taps in the padding are 0. */
static void im2col(float *col, const float *x, const burn_conv2d *cv) {
    int P = cv->Ho * cv->Wo;
    for (int c = 0; c < cv->C; c++)
        for (int i = 0; i < cv->kh; i++)
            for (int j = 0; j < cv->kw; j++) {
                float *row = col + ((int64_t)(c * cv->kh + i) * cv->kw + j) * P;
                const float *xc = x + (int64_t)c * cv->H * cv->W;
                for (int oh = 0; oh < cv->Ho; oh++) {
                    int ih = oh * cv->stride - cv->pad + i;
                    float *r = row + oh * cv->Wo;
                    if (ih < 0 || ih >= cv->H) {
                        memset(r, 0, (size_t)cv->Wo * sizeof(float));
                        continue;
                    }
                    const float *xr = xc + (int64_t)ih * cv->W;
                    for (int ow = 0; ow < cv->Wo; ow++) {
                        int iw = ow * cv->stride - cv->pad + j;
                        r[ow] = iw >= 0 && iw < cv->W ? xr[iw] : 0.0f;
                    }
                }
            }
}

/* dx[C, H, W] = Σ of the col entries that im2col would have read from each position. */
static void col2im(float *dx, const float *col, const burn_conv2d *cv) {
    int P = cv->Ho * cv->Wo;
    memset(dx, 0, (size_t)cv->C * cv->H * cv->W * sizeof(float));
    for (int c = 0; c < cv->C; c++)
        for (int i = 0; i < cv->kh; i++)
            for (int j = 0; j < cv->kw; j++) {
                const float *row = col + ((int64_t)(c * cv->kh + i) * cv->kw + j) * P;
                float *dc = dx + (int64_t)c * cv->H * cv->W;
                for (int oh = 0; oh < cv->Ho; oh++) {
                    int ih = oh * cv->stride - cv->pad + i;
                    if (ih < 0 || ih >= cv->H) continue;
                    const float *r = row + oh * cv->Wo;
                    float *dr = dc + (int64_t)ih * cv->W;
                    for (int ow = 0; ow < cv->Wo; ow++) {
                        int iw = ow * cv->stride - cv->pad + j;
                        if (iw >= 0 && iw < cv->W) dr[iw] += r[ow];
                    }
                }
            }
}

void cpu_conv2d_forward(const burn_conv2d *cv, float *y, const float *x, const float *w) {
    int K = cv->C * cv->kh * cv->kw, P = cv->Ho * cv->Wo;
    int64_t x_sz = (int64_t)cv->C * cv->H * cv->W, y_sz = (int64_t)cv->O * P;
    float *col = is_pointwise(cv) ? NULL : col_scratch((size_t)K * P);
    for (int n = 0; n < cv->N; n++) {
        const float *b = x + n * x_sz;
        if (col) {
            im2col(col, b, cv);
            b = col;
        }
        cpu_gemm(0, 0, cv->O, P, K, 1.0f, w, K, b, P, 0.0f, y + n * y_sz, P);
    }
}

void cpu_conv2d_backward_data(const burn_conv2d *cv, float *dx, const float *dy,
                              const float *w) {
    int K = cv->C * cv->kh * cv->kw, P = cv->Ho * cv->Wo;
    int64_t x_sz = (int64_t)cv->C * cv->H * cv->W, y_sz = (int64_t)cv->O * P;
    int pointwise = is_pointwise(cv);
    float *col = pointwise ? NULL : col_scratch((size_t)K * P);
    for (int n = 0; n < cv->N; n++) {
        float *out = pointwise ? dx + n * x_sz : col;
        cpu_gemm(1, 0, K, P, cv->O, 1.0f, w, K, dy + n * y_sz, P, 0.0f, out, P);
        if (!pointwise) col2im(dx + n * x_sz, col, cv);
    }
}

void cpu_conv2d_backward_filter(const burn_conv2d *cv, float *dw, const float *dy,
                                const float *x) {
    int K = cv->C * cv->kh * cv->kw, P = cv->Ho * cv->Wo;
    int64_t x_sz = (int64_t)cv->C * cv->H * cv->W, y_sz = (int64_t)cv->O * P;
    float *col = is_pointwise(cv) ? NULL : col_scratch((size_t)K * P);
    for (int n = 0; n < cv->N; n++) {
        const float *b = x + n * x_sz;
        if (col) {
            im2col(col, b, cv);
            b = col;
        }
        cpu_gemm(0, 1, cv->O, K, P, 1.0f, dy + n * y_sz, P, b, P, 1.0f, dw, K);
    }
}
