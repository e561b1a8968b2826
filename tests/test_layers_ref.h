/* test_layers_ref.h — naive double-precision references of the FP layers for
 * tests/test_layers*.c, written from the PyTorch definitions and independent of src/: plain
 * loops over every index, no im2col, no shared BURN_HD code. Plus a central finite-difference
 * helper and error measures. */
#ifndef BURN_TEST_LAYERS_REF_H
#define BURN_TEST_LAYERS_REF_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "burn/layers.h"
#include "test_util.h"

/* ---- buffers ---- */

static inline float *lr_rand(int64_t n, uint64_t seed, float lo, float hi) {
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    tu_fill(x, n, seed, lo, hi);
    return x;
}

static inline double *lr_to_double(const float *x, int64_t n) {
    double *d = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    for (int64_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

static inline double *lr_zeros(int64_t n) {
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

/* max_i |a_i − b_i| / max_i |b_i|: the error relative to the scale of the reference vector.
 * (Per-element relative error is meaningless for gradients that cross zero.) */
static inline double lr_err(const float *a, const double *b, int64_t n) {
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fabs(b[i]) > scale) scale = fabs(b[i]);
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= worst)) worst = e; /* NaN propagates */
    }
    return worst / (scale > 0 ? scale : 1e-300);
}

/* Σ r_i·y_i: the random projection whose gradient finite differences estimate. */
static inline double lr_dot(const double *r, const double *y, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += r[i] * y[i];
    return s;
}

/* Central difference of loss(ctx) in the entry *p: (L(p + h) − L(p − h)) / 2h. */
static inline double lr_fd(double *p, double (*loss)(void *ctx), void *ctx, double h) {
    double saved = *p;
    *p = saved + h;
    double lp = loss(ctx);
    *p = saved - h;
    double lm = loss(ctx);
    *p = saved;
    return (lp - lm) / (2 * h);
}

/* Finite-difference gradient of loss over all n entries of p. Caller frees. */
static inline double *lr_fd_all(double *p, int64_t n, double (*loss)(void *ctx), void *ctx,
                                double h) {
    double *g = lr_zeros(n);
    for (int64_t i = 0; i < n; i++) g[i] = lr_fd(&p[i], loss, ctx, h);
    return g;
}

/* ---- conv2d: y[n,o,oh,ow] = Σ_{c,i,j} x[n,c,oh·s−p+i,ow·s−p+j]·w[o,c,i,j] ---- */

static inline void lr_conv2d(double *y, const double *x, const double *w, const burn_conv2d *g) {
    for (int n = 0; n < g->N; n++)
        for (int o = 0; o < g->O; o++)
            for (int oh = 0; oh < g->Ho; oh++)
                for (int ow = 0; ow < g->Wo; ow++) {
                    double acc = 0;
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < g->kh; i++)
                            for (int j = 0; j < g->kw; j++) {
                                int ih = oh * g->stride - g->pad + i;
                                int iw = ow * g->stride - g->pad + j;
                                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) continue;
                                acc += x[(((int64_t)n * g->C + c) * g->H + ih) * g->W + iw] *
                                       w[(((int64_t)o * g->C + c) * g->kh + i) * g->kw + j];
                            }
                    y[(((int64_t)n * g->O + o) * g->Ho + oh) * g->Wo + ow] = acc;
                }
}

/* The exact gradients of Σ dy·conv(x, w) (the adjoint of the bilinear map), by scattering
 * every product back: dx = Σ dy·w, dw = Σ dy·x. Outputs are overwritten. */
static inline void lr_conv2d_grads(double *dx, double *dw, const double *dy, const double *x,
                                   const double *w, const burn_conv2d *g) {
    memset(dx, 0, sizeof(double) * g->N * g->C * g->H * g->W);
    memset(dw, 0, sizeof(double) * g->O * g->C * g->kh * g->kw);
    for (int n = 0; n < g->N; n++)
        for (int o = 0; o < g->O; o++)
            for (int oh = 0; oh < g->Ho; oh++)
                for (int ow = 0; ow < g->Wo; ow++) {
                    double d = dy[(((int64_t)n * g->O + o) * g->Ho + oh) * g->Wo + ow];
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < g->kh; i++)
                            for (int j = 0; j < g->kw; j++) {
                                int ih = oh * g->stride - g->pad + i;
                                int iw = ow * g->stride - g->pad + j;
                                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) continue;
                                int64_t xi = (((int64_t)n * g->C + c) * g->H + ih) * g->W + iw;
                                int64_t wi = (((int64_t)o * g->C + c) * g->kh + i) * g->kw + j;
                                dx[xi] += d * w[wi];
                                dw[wi] += d * x[xi];
                            }
                }
}

/* ---- BatchNorm, train mode with batch statistics (biased variance) ---- */

static inline void lr_bn_train(double *y, double *mean, double *var, const double *x,
                               const double *gamma, const double *beta, int N, int C, int HW,
                               double eps) {
    double cnt = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double m = 0, v = 0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) m += x[((int64_t)n * C + c) * HW + i];
        m /= cnt;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                double d = x[((int64_t)n * C + c) * HW + i] - m;
                v += d * d;
            }
        v /= cnt;
        if (mean) mean[c] = m;
        if (var) var[c] = v;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                int64_t k = ((int64_t)n * C + c) * HW + i;
                y[k] = (x[k] - m) / sqrt(v + eps) * gamma[c] + beta[c];
            }
    }
}

/* ---- pooling on [N·C planes of H×W] ---- */

/* max pool; padding never wins; ties: first in row-major window order */
static inline void lr_maxpool(double *y, const double *x, const burn_pool2d *p) {
    for (int64_t pl = 0; pl < (int64_t)p->N * p->C; pl++)
        for (int oh = 0; oh < p->Ho; oh++)
            for (int ow = 0; ow < p->Wo; ow++) {
                double best = -INFINITY;
                for (int i = 0; i < p->kernel; i++)
                    for (int j = 0; j < p->kernel; j++) {
                        int ih = oh * p->stride - p->pad + i, iw = ow * p->stride - p->pad + j;
                        if (ih < 0 || ih >= p->H || iw < 0 || iw >= p->W) continue;
                        double v = x[(pl * p->H + ih) * p->W + iw];
                        if (v > best) best = v;
                    }
                y[(pl * p->Ho + oh) * p->Wo + ow] = best;
            }
}

static inline void lr_avgpool(double *y, const double *x, const burn_pool2d *p) {
    for (int64_t pl = 0; pl < (int64_t)p->N * p->C; pl++)
        for (int oh = 0; oh < p->Ho; oh++)
            for (int ow = 0; ow < p->Wo; ow++) {
                double s = 0;
                for (int i = 0; i < p->kernel; i++)
                    for (int j = 0; j < p->kernel; j++)
                        s += x[(pl * p->H + oh * p->stride + i) * p->W + ow * p->stride + j];
                y[(pl * p->Ho + oh) * p->Wo + ow] = s / (p->kernel * p->kernel);
            }
}

/* ---- linear: y[n, o] = Σ_i x[n, i]·W[o, i] + b[o] ---- */

static inline void lr_linear(double *y, const double *x, const double *W, const double *b,
                             int N, int in, int out) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int i = 0; i < in; i++) s += x[(int64_t)n * in + i] * W[(int64_t)o * in + i];
            y[(int64_t)n * out + o] = s;
        }
}

#endif
