/* binarize.c — CPU sign with its straight-through gradient, and the stage-2 weight
 * binarisation W_b = α_o·sign(W) with α_o = mean_k |W[o,k]| (METHOD.md §3). Per-element formulas
 * come from include/burn/binarize.h, shared with kernels/binarize.cu. */
#include <math.h>

#include "burn/binarize.h"
#include "cpu_ops.h"

/* x, y [n] */
void cpu_sign_forward(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = burn_sign(x[i]);
}

/* g, x, dx [n]: dx = g·STE(x), written */
void cpu_sign_backward(float *dx, const float *g, const float *x, int64_t n, int act_mode) {
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] * burn_sign_ste(x[i], act_mode);
}

/* W, Wb [O, K]; alpha [O]. α in double so a long row (K = 9216) is the correctly rounded mean. */
void cpu_binarize_weights(float *Wb, float *alpha, const float *W, int O, int K) {
    for (int o = 0; o < O; o++) {
        const float *w = W + (int64_t)o * K;
        float *wb = Wb + (int64_t)o * K;
        double sum = 0.0;
        for (int k = 0; k < K; k++) sum += fabsf(w[k]);
        float a = K > 0 ? (float)(sum / K) : 0.0f;
        if (alpha) alpha[o] = a;
        for (int k = 0; k < K; k++) wb[k] = a * burn_sign(w[k]);
    }
}

/* dW, dWb, W [O, K]; alpha [O]: dW += dW_b·dW_b/dW (α a constant), accumulated */
void cpu_binarize_weights_backward(float *dW, const float *dWb, const float *W,
                                   const float *alpha, int O, int K, int weight_mode) {
    if (!dW) return;
    for (int o = 0; o < O; o++) {
        int64_t row = (int64_t)o * K;
        for (int k = 0; k < K; k++)
            dW[row + k] += dWb[row + k] * burn_weight_ste(W[row + k], alpha[o], weight_mode);
    }
}
