/* layers.c — the FP layer API of include/burn/layers.h (all but BatchNorm, in layers_bn.c):
 * shape validation in the *_init functions, then forward/backward as calls into the backend
 * table, so the same code runs on the CPU and on CUDA. */
#include <limits.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/layers.h"

/* ---- conv2d ---- */

int burn_conv2d_init(burn_conv2d *cv, int N, int C, int H, int W, int O, int kh, int kw,
                     int stride, int pad) {
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || O <= 0 || kh <= 0 || kw <= 0) {
        burn_error_set("conv2d: sizes must be positive (x [%d, %d, %d, %d], w [%d, %d, %d, %d])",
                       N, C, H, W, O, C, kh, kw);
        return -1;
    }
    if (stride <= 0 || pad < 0) {
        burn_error_set("conv2d: stride %d must be positive and pad %d non-negative", stride, pad);
        return -1;
    }
    if (H + 2 * pad < kh || W + 2 * pad < kw) {
        burn_error_set("conv2d: %dx%d kernel larger than the %dx%d input padded by %d", kh, kw,
                       H, W, pad);
        return -1;
    }
    *cv = (burn_conv2d){.N = N, .C = C, .H = H, .W = W, .O = O, .kh = kh, .kw = kw,
                        .stride = stride, .pad = pad};
    cv->Ho = (H + 2 * pad - kh) / stride + 1;
    cv->Wo = (W + 2 * pad - kw) / stride + 1;
    /* im2col / cuDNN index with int inside one image and with int64 across the batch */
    if ((int64_t)C * kh * kw * cv->Ho * cv->Wo > INT_MAX ||
        (int64_t)O * cv->Ho * cv->Wo > INT_MAX || (int64_t)C * H * W > INT_MAX) {
        burn_error_set("conv2d: one image of x [%d, %d, %d] -> [%d, %d, %d] is too large", C, H,
                       W, O, cv->Ho, cv->Wo);
        return -1;
    }
    return 0;
}

void burn_conv2d_forward(const burn_backend *be, const burn_conv2d *cv, float *y,
                         const float *x, const float *w) {
    be->conv2d_forward(cv, y, x, w);
}

void burn_conv2d_backward(const burn_backend *be, const burn_conv2d *cv, float *dx, float *dw,
                          const float *dy, const float *x, const float *w) {
    if (dw) be->conv2d_backward_filter(cv, dw, dy, x);
    if (dx) be->conv2d_backward_data(cv, dx, dy, w);
}

/* ---- pooling ---- */

static int pool_init(burn_pool2d *p, const char *what, int N, int C, int H, int W, int kernel,
                     int stride, int pad) {
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || kernel <= 0 || stride <= 0 || pad < 0) {
        burn_error_set("%s: sizes must be positive (x [%d, %d, %d, %d], kernel %d, stride %d, "
                       "pad %d)", what, N, C, H, W, kernel, stride, pad);
        return -1;
    }
    if (H + 2 * pad < kernel || W + 2 * pad < kernel) {
        burn_error_set("%s: %dx%d window larger than the %dx%d input (pad %d)", what, kernel,
                       kernel, H, W, pad);
        return -1;
    }
    *p = (burn_pool2d){.N = N, .C = C, .H = H, .W = W, .kernel = kernel, .stride = stride,
                       .pad = pad};
    p->Ho = (H + 2 * pad - kernel) / stride + 1;
    p->Wo = (W + 2 * pad - kernel) / stride + 1;
    return 0;
}

int burn_maxpool2d_init(burn_pool2d *p, int N, int C, int H, int W, int kernel, int stride,
                        int pad) {
    if (pad > kernel / 2 && kernel > 0) {
        /* a window could then lie entirely in the padding (PyTorch refuses it too) */
        burn_error_set("max pool: pad %d must be at most half the kernel %d", pad, kernel);
        return -1;
    }
    return pool_init(p, "max pool", N, C, H, W, kernel, stride, pad);
}

int burn_avgpool2d_init(burn_pool2d *p, int N, int C, int H, int W, int kernel, int stride) {
    return pool_init(p, "avg pool", N, C, H, W, kernel, stride, 0);
}

void burn_maxpool2d_forward(const burn_backend *be, const burn_pool2d *p, float *y,
                            const float *x) {
    be->maxpool2d_forward(p, y, x);
}

void burn_maxpool2d_backward(const burn_backend *be, const burn_pool2d *p, float *dx,
                             const float *dy, const float *x) {
    be->maxpool2d_backward(p, dx, dy, x);
}

void burn_avgpool2d_forward(const burn_backend *be, const burn_pool2d *p, float *y,
                            const float *x) {
    be->avgpool2d_forward(p, y, x);
}

void burn_avgpool2d_backward(const burn_backend *be, const burn_pool2d *p, float *dx,
                             const float *dy) {
    be->avgpool2d_backward(p, dx, dy);
}

void burn_global_avgpool_forward(const burn_backend *be, float *y, const float *x, int N, int C,
                                 int HW) {
    be->global_avgpool_forward(y, x, N, C, HW);
}

void burn_global_avgpool_backward(const burn_backend *be, float *dx, const float *dy, int N,
                                  int C, int HW) {
    be->global_avgpool_backward(dx, dy, N, C, HW);
}

/* ---- activations and bias ---- */

void burn_relu_forward(const burn_backend *be, float *y, const float *x, int64_t n) {
    be->relu_forward(y, x, n);
}

void burn_relu_backward(const burn_backend *be, float *dx, const float *dy, const float *y,
                        int64_t n) {
    be->relu_backward(dx, dy, y, n);
}

void burn_prelu_forward(const burn_backend *be, float *y, const float *x, const float *slope,
                        int N, int C, int HW) {
    be->prelu_forward(y, x, slope, N, C, HW);
}

void burn_prelu_backward(const burn_backend *be, float *dx, float *dslope, const float *dy,
                         const float *x, const float *slope, int N, int C, int HW) {
    be->prelu_backward(dx, dslope, dy, x, slope, N, C, HW);
}

void burn_bias_forward(const burn_backend *be, float *y, const float *x, const float *b, int N,
                       int C, int HW) {
    be->bias_forward(y, x, b, N, C, HW);
}

void burn_bias_backward(const burn_backend *be, float *db, const float *dy, int N, int C,
                        int HW) {
    be->channel_sum(db, dy, N, C, HW);
}

/* ---- linear ---- */

int burn_linear_init(burn_linear *l, int N, int in, int out) {
    if (N <= 0 || in <= 0 || out <= 0) {
        burn_error_set("linear: sizes must be positive (x [%d, %d], W [%d, %d])", N, in, out,
                       in);
        return -1;
    }
    *l = (burn_linear){.N = N, .in = in, .out = out};
    return 0;
}

void burn_linear_forward(const burn_backend *be, const burn_linear *l, float *y, const float *x,
                         const float *W, const float *b) {
    /* y[N, out] = x[N, in] · W[out, in]ᵀ */
    be->gemm(0, 1, l->N, l->out, l->in, 1.0f, x, l->in, W, l->in, 0.0f, y, l->out);
    if (b) be->bias_forward(y, y, b, l->N, l->out, 1);
}

void burn_linear_backward(const burn_backend *be, const burn_linear *l, float *dx, float *dW,
                          float *db, const float *dy, const float *x, const float *W) {
    /* dx[N, in] = dy[N, out] · W[out, in] */
    if (dx) be->gemm(0, 0, l->N, l->in, l->out, 1.0f, dy, l->out, W, l->in, 0.0f, dx, l->in);
    /* dW[out, in] += dy[N, out]ᵀ · x[N, in] */
    if (dW) be->gemm(1, 0, l->out, l->in, l->N, 1.0f, dy, l->out, x, l->in, 1.0f, dW, l->in);
    if (db) be->channel_sum(db, dy, l->N, l->out, 1);
}

/* ---- channel concat: one row per image, Ca·HW (or Cb·HW) floats of each ---- */

void burn_concat_forward(const burn_backend *be, float *y, const float *a, const float *b,
                         int N, int Ca, int Cb, int HW) {
    size_t ya = (size_t)Ca * HW * sizeof(float), yb = (size_t)Cb * HW * sizeof(float);
    be->copy2d(y, ya + yb, a, ya, ya, (size_t)N);
    be->copy2d((char *)y + ya, ya + yb, b, yb, yb, (size_t)N);
}

void burn_concat_backward(const burn_backend *be, float *da, float *db, const float *dy, int N,
                          int Ca, int Cb, int HW) {
    size_t ya = (size_t)Ca * HW * sizeof(float), yb = (size_t)Cb * HW * sizeof(float);
    if (da) be->copy2d(da, ya, dy, ya + yb, ya, (size_t)N);
    if (db) be->copy2d(db, yb, (const char *)dy + ya, ya + yb, yb, (size_t)N);
}
