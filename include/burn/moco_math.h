/* moco_math.h — per-element math of MoCo v2 pretraining (METHOD.md §8), shared by the CPU backend
 * (src/cpu/moco_ops.c) and the CUDA kernels (kernels/moco_ops.cu) through BURN_HD: row-wise
 * L2 normalisation, the InfoNCE loss (softmax cross-entropy with the positive at column 0)
 * and SGD with momentum and L2 weight decay.
 *
 * Layouts: row-major matrices x[N, D] (one embedding per row), logits[N, C] (C = 1 + K: the
 * positive key, then the K queue entries). Semantics follow PyTorch (said per function). */
#ifndef BURN_MOCO_MATH_H
#define BURN_MOCO_MATH_H

#include <math.h>
#include <stdint.h>

#include "burn/check.h"

/* ---- row-wise L2 normalisation (torch.nn.functional.normalize, p = 2, dim = 1) ----
 *   y = x / max(‖x‖, eps)
 * Backward from the output y and the row's norm ‖x‖ (the forward keeps both):
 *   ‖x‖ > eps:  dx = (dy − y·(y·dy)) / ‖x‖     (the projection onto the sphere's tangent)
 *   otherwise:  dx = dy / eps                   (the clamp makes y linear in x) */
#define BURN_L2NORM_EPS 1e-12f

BURN_HD float burn_l2norm_denom(float norm) {
    return norm > BURN_L2NORM_EPS ? norm : BURN_L2NORM_EPS;
}

/* one element of dx; ydy = Σ_d y_d·dy_d of the row */
BURN_HD float burn_l2norm_dx(float dy, float y, float ydy, float norm) {
    float tangent = norm > BURN_L2NORM_EPS ? dy - y * ydy : dy;
    return tangent / burn_l2norm_denom(norm);
}

/* ---- InfoNCE (MoCo: CrossEntropyLoss(logits / τ, label 0)) over one row z = l·inv_temp ----
 *   loss = logsumexp(z) − z_0
 *   dL/dl_c = inv_temp·(softmax(z)_c − [c = 0])
 * logsumexp in one pass with a running maximum m and the sum s of exp(z − m) (stable for any
 * magnitude: every exponent is <= 0). */
BURN_HD void burn_lse_push(float *m, float *s, float z) {
    if (z > *m) {
        *s = *s * expf(*m - z) + 1.0f; /* exp(-inf) = 0 for the first element */
        *m = z;
    } else {
        *s += expf(z - *m);
    }
}

/* Merge a partial (m2, s2) into (m, s): the reduction of a row split over threads. */
BURN_HD void burn_lse_merge(float *m, float *s, float m2, float s2) {
    if (m2 > *m) {
        *s = *s * expf(*m - m2) + s2;
        *m = m2;
    } else if (s2 > 0.0f) {
        *s += s2 * expf(m2 - *m);
    }
}

/* dL/dl_c for column c of a row with logsumexp lse, times grad_scale (e.g. 1/N, the mean over
 * the batch). */
BURN_HD float burn_infonce_dlogit(float l, int c, float inv_temp, float lse, float grad_scale) {
    float p = expf(l * inv_temp - lse);
    return grad_scale * inv_temp * (p - (c == 0 ? 1.0f : 0.0f));
}

/* ---- SGD with momentum and L2 weight decay (torch.optim.SGD, dampening 0, no Nesterov) ----
 *   d = g·grad_scale + wd·p;  buf = μ·buf + d;  p −= lr·buf
 * A zero-initialised buf gives PyTorch's first step (buf = d) exactly. */
typedef struct burn_sgd_hparams {
    float lr, momentum, weight_decay;
    float grad_scale; /* folds in gradient averaging (1 for a plain step) */
} burn_sgd_hparams;

BURN_HD void burn_sgd_update(float *p, float g, float *buf, burn_sgd_hparams h) {
    float d = g * h.grad_scale + h.weight_decay * *p;
    *buf = h.momentum * *buf + d;
    *p -= h.lr * *buf;
}

#endif
