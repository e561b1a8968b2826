/* optim.h — Adam (METHOD.md §6) and the learning-rate schedule.
 *
 * The per-element update is BURN_HD, shared by src/cpu/adam.c and kernels/adam.cu. It follows
 * PyTorch's torch.optim.Adam (L2 weight decay added to the gradient, not AdamW):
 *   g = grad·grad_scale + wd·p;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   p -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 − β_i^step
 * grad_scale folds in gradient averaging over accumulation steps and the FP16 loss scale. */
#ifndef BURN_OPTIM_H
#define BURN_OPTIM_H

#include <math.h>
#include <stdint.h>

#include "burn/check.h"

typedef struct burn_adam_hparams {
    float lr, beta1, beta2, eps, weight_decay;
    float grad_scale;
    float bias_correction1, bias_correction2; /* 1 − β^step, set by burn_adam_prepare */
} burn_adam_hparams;

BURN_HD void burn_adam_update(float *p, float g, float *m, float *v, burn_adam_hparams h) {
    g = g * h.grad_scale + h.weight_decay * *p;
    *m = h.beta1 * *m + (1.0f - h.beta1) * g;
    *v = h.beta2 * *v + (1.0f - h.beta2) * g * g;
    float denom = sqrtf(*v) / sqrtf(h.bias_correction2) + h.eps;
    *p -= (h.lr / h.bias_correction1) * (*m / denom);
}

/* Fill the bias corrections for optimiser step `step` (1-based). */
static inline void burn_adam_prepare(burn_adam_hparams *h, int64_t step) {
    h->bias_correction1 = (float)(1.0 - pow((double)h->beta1, (double)step));
    h->bias_correction2 = (float)(1.0 - pow((double)h->beta2, (double)step));
}

/* METHOD.md §6 learning rate at optimiser step t (0-based) of total steps: linear warm-up over
 * warmup steps from warmup_start_factor·base to base, then cosine annealing to 0 at total. */
static inline double burn_lr_at(double base, int64_t t, int64_t warmup, int64_t total,
                                double warmup_start_factor) {
    if (t < warmup)
        return base * (warmup_start_factor +
                       (1.0 - warmup_start_factor) * (double)t / (double)warmup);
    if (total <= warmup) return base;
    double progress = (double)(t - warmup) / (double)(total - warmup);
    if (progress > 1.0) progress = 1.0;
    return base * 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
}

#endif
