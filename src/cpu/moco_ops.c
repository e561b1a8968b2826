/* moco_ops.c — CPU ops of MoCo v2 pretraining (METHOD.md §8; mirrors kernels/moco_ops.cu): row-wise
 * L2 normalisation, the InfoNCE loss, row dots and SGD with momentum. Per-element formulas
 * from include/burn/moco_math.h; row reductions (norms, dots) accumulate in double. */
#include "burn/moco_math.h"
#include "cpu_ops.h"

/* The InfoNCE logsumexp is computed over chunks of this many columns, then merged: the same
 * two-level shape as the CUDA block reduction, and a float sum of at most this many terms. */
#define LSE_CHUNK 256

static double row_dot_d(const float *a, const float *b, int D) {
    double s = 0.0;
    for (int d = 0; d < D; d++) s += (double)a[d] * (double)b[d];
    return s;
}

void cpu_l2norm_rows_forward(float *y, float *norm, const float *x, int N, int D) {
    for (int n = 0; n < N; n++) {
        const float *xr = x + (int64_t)n * D;
        float *yr = y + (int64_t)n * D;
        float nrm = (float)sqrt(row_dot_d(xr, xr, D));
        float inv = 1.0f / burn_l2norm_denom(nrm);
        norm[n] = nrm;
        for (int d = 0; d < D; d++) yr[d] = xr[d] * inv;
    }
}

void cpu_l2norm_rows_backward(float *dx, const float *dy, const float *y, const float *norm,
                              int N, int D) {
    for (int n = 0; n < N; n++) {
        const float *dyr = dy + (int64_t)n * D, *yr = y + (int64_t)n * D;
        float *dxr = dx + (int64_t)n * D;
        float ydy = (float)row_dot_d(yr, dyr, D);
        for (int d = 0; d < D; d++) dxr[d] = burn_l2norm_dx(dyr[d], yr[d], ydy, norm[n]);
    }
}

void cpu_infonce(float *loss, float *dlogits, const float *logits, int N, int C, float inv_temp,
                 float grad_scale) {
    for (int n = 0; n < N; n++) {
        const float *l = logits + (int64_t)n * C;
        float m = -INFINITY, s = 0.0f;
        for (int c0 = 0; c0 < C; c0 += LSE_CHUNK) {
            float cm = -INFINITY, cs = 0.0f;
            int c1 = c0 + LSE_CHUNK < C ? c0 + LSE_CHUNK : C;
            for (int c = c0; c < c1; c++) burn_lse_push(&cm, &cs, l[c] * inv_temp);
            burn_lse_merge(&m, &s, cm, cs);
        }
        float lse = m + logf(s);
        if (loss) loss[n] = lse - l[0] * inv_temp;
        if (dlogits) {
            float *g = dlogits + (int64_t)n * C;
            for (int c = 0; c < C; c++) g[c] = burn_infonce_dlogit(l[c], c, inv_temp, lse, grad_scale);
        }
    }
}

void cpu_row_dot(float *out, int ldo, const float *a, const float *b, int N, int D) {
    for (int n = 0; n < N; n++)
        out[(int64_t)n * ldo] = (float)row_dot_d(a + (int64_t)n * D, b + (int64_t)n * D, D);
}

void cpu_row_scale_add(float *y, const float *s, int lds, const float *x, int N, int D) {
    for (int n = 0; n < N; n++) {
        float sn = s[(int64_t)n * lds];
        float *yr = y + (int64_t)n * D;
        const float *xr = x + (int64_t)n * D;
        for (int d = 0; d < D; d++) yr[d] += sn * xr[d];
    }
}

void cpu_sgd_step(float *p, const float *g, float *buf, int64_t n, burn_sgd_hparams h) {
    for (int64_t i = 0; i < n; i++) burn_sgd_update(&p[i], g[i], &buf[i], h);
}
