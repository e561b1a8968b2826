/* conv2d.c — CPU FP convolution (groups 1, dilation 1, zero padding) by im2col + OpenBLAS.
 *
 * Over a group of B images at once (K = C·kh·kw, P = Ho·Wo, the group's columns side by side:
 * image b's column p is column b·P + p):
 *   col[K, B·P]  = im2col(x[b][C, H, W])           (row k = (c·kh + i)·kw + j)
 *   forward:       y[O, B·P]  = w[O, K] · col       then scattered to y[b][O, P]
 *   data grad:     col        = wᵀ[K, O] · dy[O, B·P] (dy gathered);  dx[b] = col2im(col)
 *   filter grad:   dw[O, K]  += dy[O, B·P] · colᵀ
 * One GEMM per group instead of one per image: small images (32×32, late layers at 7×7) give
 * per-image GEMMs too small for OpenBLAS to run well. B is as large as GROUP_FLOATS allows
 * (at least 1); with B = 1 a 1×1, stride-1, unpadded conv is a plain GEMM on x[b] with no
 * copy. Each output element is the same K-long dot product whatever B is. The buffers belong
 * to this file and grow to the largest layer seen (no allocation in steady state). Not
 * thread-safe: the backend is driven from one thread. */
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "cpu_ops.h"

/* the most floats a group's column buffer holds (and its output / gradient panel) */
#define GROUP_FLOATS ((size_t)4 << 20)

typedef struct scratch {
    float *p;
    size_t cap; /* floats */
} scratch;
static scratch col_buf, panel_buf;

static float *grow(scratch *s, size_t floats) {
    if (floats > s->cap) {
        free(s->p);
        s->p = NULL;
        size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
        if (posix_memalign((void **)&s->p, 64, bytes) != 0)
            burn_check_fail("libc", "posix_memalign", __FILE__, __LINE__,
                            "out of host memory for the im2col buffer",
                            "lower train.batch_size or the image size");
        s->cap = floats;
    }
    return s->p;
}

static int is_pointwise(const burn_conv2d *cv) {
    return cv->kh == 1 && cv->kw == 1 && cv->stride == 1 && cv->pad == 0;
}

static cpu_im2col_geom geom(const burn_conv2d *cv) {
    return (cpu_im2col_geom){cv->C, cv->H, cv->W, cv->kh, cv->kw, cv->stride, cv->pad, cv->Ho,
                             cv->Wo};
}

/* Images per group: as many as fit GROUP_FLOATS for the larger of col[K, B·P] and the
 * [O, B·P] panel, at least 1. */
static int group_size(const burn_conv2d *cv) {
    size_t per_image = (size_t)(cv->C * cv->kh * cv->kw > cv->O ? cv->C * cv->kh * cv->kw : cv->O) *
                       (size_t)(cv->Ho * cv->Wo);
    size_t b = GROUP_FLOATS / (per_image ? per_image : 1);
    return b < 1 ? 1 : b > (size_t)cv->N ? cv->N : (int)b;
}

/* The group's input columns col[K, B·P] (x itself for a pointwise conv of one image). */
static const float *group_columns(const burn_conv2d *cv, const float *x, int B) {
    int K = cv->C * cv->kh * cv->kw, P = cv->Ho * cv->Wo;
    int64_t x_sz = (int64_t)cv->C * cv->H * cv->W;
    if (B == 1 && is_pointwise(cv)) return x;
    float *col = grow(&col_buf, (size_t)K * B * P);
    cpu_im2col_geom g = geom(cv);
    if (is_pointwise(cv))
        cpu_rows_to_panel(col, x, cv->C, B, P);
    else
#pragma omp parallel for if ((int64_t)K * B * P >= CPU_PAR_MIN)
        for (int b = 0; b < B; b++)
            cpu_im2col(&g, x + b * x_sz, col + (int64_t)b * P, (int64_t)B * P, 0);
    return col;
}

void cpu_conv2d_forward(const burn_conv2d *cv, float *y, const float *x, const float *w) {
    int K = cv->C * cv->kh * cv->kw, P = cv->Ho * cv->Wo, G = group_size(cv);
    int64_t x_sz = (int64_t)cv->C * cv->H * cv->W, y_sz = (int64_t)cv->O * P;
    for (int n = 0; n < cv->N; n += G) {
        int B = cv->N - n < G ? cv->N - n : G;
        const float *col = group_columns(cv, x + n * x_sz, B);
        float *out = B == 1 ? y + n * y_sz : grow(&panel_buf, (size_t)cv->O * B * P);
        cpu_gemm(0, 0, cv->O, B * P, K, 1.0f, w, K, col, B * P, 0.0f, out, B * P);
        if (B > 1) cpu_panel_to_rows(y + n * y_sz, out, cv->O, B, P);
    }
}

void cpu_conv2d_backward_data(const burn_conv2d *cv, float *dx, const float *dy,
                              const float *w) {
    int K = cv->C * cv->kh * cv->kw, P = cv->Ho * cv->Wo, G = group_size(cv);
    int64_t x_sz = (int64_t)cv->C * cv->H * cv->W, y_sz = (int64_t)cv->O * P;
    int pointwise = is_pointwise(cv);
    cpu_im2col_geom geo = geom(cv);
    for (int n = 0; n < cv->N; n += G) {
        int B = cv->N - n < G ? cv->N - n : G;
        const float *g = dy + n * y_sz;
        if (B > 1) {
            float *panel = grow(&panel_buf, (size_t)cv->O * B * P);
            cpu_rows_to_panel(panel, g, cv->O, B, P);
            g = panel;
        }
        float *col = B == 1 && pointwise ? dx + n * x_sz : grow(&col_buf, (size_t)K * B * P);
        cpu_gemm(1, 0, K, B * P, cv->O, 1.0f, w, K, g, B * P, 0.0f, col, B * P);
        if (pointwise && B > 1)
            cpu_panel_to_rows(dx + n * x_sz, col, cv->C, B, P);
        else if (!pointwise)
#pragma omp parallel for if ((int64_t)K * B * P >= CPU_PAR_MIN)
            for (int b = 0; b < B; b++)
                cpu_col2im(&geo, col + (int64_t)b * P, (int64_t)B * P, dx + (n + b) * x_sz);
    }
}

void cpu_conv2d_backward_filter(const burn_conv2d *cv, float *dw, const float *dy,
                                const float *x) {
    int K = cv->C * cv->kh * cv->kw, P = cv->Ho * cv->Wo, G = group_size(cv);
    int64_t x_sz = (int64_t)cv->C * cv->H * cv->W, y_sz = (int64_t)cv->O * P;
    for (int n = 0; n < cv->N; n += G) {
        int B = cv->N - n < G ? cv->N - n : G;
        const float *col = group_columns(cv, x + n * x_sz, B), *g = dy + n * y_sz;
        if (B > 1) {
            float *panel = grow(&panel_buf, (size_t)cv->O * B * P);
            cpu_rows_to_panel(panel, g, cv->O, B, P);
            g = panel;
        }
        cpu_gemm(0, 1, cv->O, K, B * P, 1.0f, g, B * P, col, B * P, 1.0f, dw, K);
    }
}
