/* layers_math.h — per-element math of the FP layers (include/burn/layers.h), shared by the CPU
 * backend (src/cpu/) and the CUDA kernels (kernels/) through BURN_HD: the formula the CPU tests
 * check is the one the GPU runs.
 *
 * Layouts: activations x[N, C, HW] (NCHW, HW = H·W); per-channel parameters [C]; a pooling
 * "plane" is one [H, W] image of one channel. Semantics follow PyTorch (said per function). */
#ifndef BURN_LAYERS_MATH_H
#define BURN_LAYERS_MATH_H

#include <math.h>
#include <stdint.h>

#include "burn/check.h"

/* ---- ReLU (torch.relu / threshold_backward) ---- */

/* max(x, 0); NaN stays NaN (a NaN must reach the non-finite check, not vanish). */
BURN_HD float burn_relu(float x) { return x < 0.0f ? 0.0f : x; }

/* dy/dx from the OUTPUT y (so the forward may run in place): 0 where y <= 0. */
BURN_HD float burn_relu_grad(float dy, float y) { return y <= 0.0f ? 0.0f : dy; }

/* ---- PReLU, per-channel slope a (torch.nn.PReLU: x > 0 ? x : a·x) ---- */

BURN_HD float burn_prelu(float x, float a) { return x > 0.0f ? x : a * x; }
BURN_HD float burn_prelu_dx(float dy, float x, float a) { return x > 0.0f ? dy : a * dy; }
/* contribution of one element to dL/da */
BURN_HD float burn_prelu_dslope(float dy, float x) { return x > 0.0f ? 0.0f : x * dy; }

/* ---- BatchNorm (torch.nn.BatchNorm1d/2d, affine, track_running_stats) ---- */

/* From the per-channel Σx and Σx² over `count` values (double, so sync-BN ranks can add
 * them): batch mean, inverse std of the BIASED variance (used to normalise), and the running
 * statistics updated with the UNBIASED variance, as PyTorch does:
 *   mean = Σx/n,  var = Σx²/n − mean²,  invstd = 1/sqrt(var + eps)
 *   running_mean = (1 − m)·running_mean + m·mean
 *   running_var  = (1 − m)·running_var  + m·var·n/(n − 1)
 * running_mean/var may be NULL (no update). Needs count >= 2 (checked by the caller). */
BURN_HD void burn_bn_finalize_channel(double sum, double sumsq, int64_t count, float eps,
                                      float momentum, float *mean, float *invstd,
                                      float *running_mean, float *running_var) {
    double n = (double)count;
    double mu = sum / n;
    double var = sumsq / n - mu * mu;
    if (var < 0.0) var = 0.0; /* cancellation can leave a tiny negative value */
    *mean = (float)mu;
    *invstd = (float)(1.0 / sqrt(var + (double)eps));
    if (running_mean)
        *running_mean = (float)((1.0 - momentum) * (double)*running_mean + momentum * mu);
    if (running_var)
        *running_var =
            (float)((1.0 - momentum) * (double)*running_var + momentum * var * n / (n - 1.0));
}

/* y = (x − mean)·invstd·gamma + beta */
BURN_HD float burn_bn_apply(float x, float mean, float invstd, float gamma, float beta) {
    return (x - mean) * invstd * gamma + beta;
}

/* Eval mode normalises with the running statistics. */
BURN_HD float burn_bn_eval_invstd(float running_var, float eps) {
    return 1.0f / sqrtf(running_var + eps);
}

/* normalised value xhat = (x − mean)·invstd (backward recomputes it from the saved stats) */
BURN_HD float burn_bn_xhat(float x, float mean, float invstd) { return (x - mean) * invstd; }

/* dL/dx of train-mode BN for one element, with xhat = (x − mean)·invstd and the channel's
 * mean_dy = Σdy/n and mean_dy_xhat = Σ(dy·xhat)/n (over the whole, possibly global, batch):
 *   dx = gamma·invstd·(dy − mean_dy − xhat·mean_dy_xhat) */
BURN_HD float burn_bn_dx(float dy, float x, float mean, float invstd, float gamma,
                         float mean_dy, float mean_dy_xhat) {
    float xhat = burn_bn_xhat(x, mean, invstd);
    return gamma * invstd * (dy - mean_dy - xhat * mean_dy_xhat);
}

/* ---- 2-D pooling over one plane [H, W] (torch.nn.MaxPool2d / AvgPool2d, floor mode) ----
 * Output (oh, ow) reads rows oh·s − p … oh·s − p + k − 1 (likewise columns); positions outside
 * the plane are padding and never chosen (max) / never occur (avg has no padding). */

/* Range [*lo, *hi] of output rows (or columns) whose window contains input row i; empty when
 * *lo > *hi. */
BURN_HD void burn_pool_windows(int i, int k, int s, int p, int out, int *lo, int *hi) {
    int t = i + p - k + 1; /* smallest o with o·s + k − 1 >= i + p */
    *lo = t <= 0 ? 0 : (t + s - 1) / s;
    *hi = (i + p) / s;
    if (*hi > out - 1) *hi = out - 1;
}

/* Index (ih·W + iw) of the maximum of window (oh, ow). Tie rule: the FIRST maximum in
 * row-major window order wins (strict >), as PyTorch's CPU kernel; a NaN wins over numbers.
 * Returns -1 only for a window entirely in the padding, which a valid geometry never has. */
BURN_HD int burn_maxpool_argmax(const float *plane, int H, int W, int oh, int ow, int k, int s,
                                int p) {
    int best = -1;
    float best_v = 0.0f;
    for (int i = 0; i < k; i++) {
        int ih = oh * s - p + i;
        if (ih < 0 || ih >= H) continue;
        for (int j = 0; j < k; j++) {
            int iw = ow * s - p + j;
            if (iw < 0 || iw >= W) continue;
            float v = plane[ih * W + iw];
            if (best < 0 || v > best_v || (v != v && best_v == best_v)) {
                best = ih * W + iw;
                best_v = v;
            }
        }
    }
    return best;
}

/* dL/dx at (ih, iw): the sum, in output order, of dy over the windows whose argmax it is.
 * A gather (no atomics): deterministic, and the same sum order on both backends. */
BURN_HD float burn_maxpool_grad_at(const float *x_plane, const float *dy_plane, int H, int W,
                                   int Ho, int Wo, int ih, int iw, int k, int s, int p) {
    int oh_lo, oh_hi, ow_lo, ow_hi;
    burn_pool_windows(ih, k, s, p, Ho, &oh_lo, &oh_hi);
    burn_pool_windows(iw, k, s, p, Wo, &ow_lo, &ow_hi);
    float g = 0.0f;
    for (int oh = oh_lo; oh <= oh_hi; oh++)
        for (int ow = ow_lo; ow <= ow_hi; ow++)
            if (burn_maxpool_argmax(x_plane, H, W, oh, ow, k, s, p) == ih * W + iw)
                g += dy_plane[oh * Wo + ow];
    return g;
}

/* Mean of window (oh, ow) of a k×k, stride s, unpadded average pool. */
BURN_HD float burn_avgpool_window(const float *plane, int W, int oh, int ow, int k, int s) {
    float acc = 0.0f;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) acc += plane[(oh * s + i) * W + ow * s + j];
    return acc / (float)(k * k);
}

/* dL/dx at (ih, iw) of that average pool: Σ dy over the windows containing it, / k². Inputs
 * in no window (the last row/column of an odd size with k = s = 2) get 0. */
BURN_HD float burn_avgpool_grad_at(const float *dy_plane, int Ho, int Wo, int ih, int iw, int k,
                                   int s) {
    int oh_lo, oh_hi, ow_lo, ow_hi;
    burn_pool_windows(ih, k, s, 0, Ho, &oh_lo, &oh_hi);
    burn_pool_windows(iw, k, s, 0, Wo, &ow_lo, &ow_hi);
    float g = 0.0f;
    for (int oh = oh_lo; oh <= oh_hi; oh++)
        for (int ow = ow_lo; ow <= ow_hi; ow++) g += dy_plane[oh * Wo + ow];
    return g / (float)(k * k);
}

/* Mean of one plane of HW values (global average pool), accumulated in double in order. */
BURN_HD float burn_plane_mean(const float *x, int HW) {
    double acc = 0.0;
    for (int i = 0; i < HW; i++) acc += x[i];
    return (float)(acc / HW);
}

#endif
