/* xent_math.h — per-element math of softmax cross-entropy with integer class labels (the
 * linear-evaluation and fine-tuning classifiers, METHOD.md §9), shared by the CPU backend
 * (src/cpu/xent.c) and the CUDA kernel (kernels/xent.cu) through BURN_HD.
 *
 * For one row z = logits[n, :] (C classes) and its label y in [0, C):
 *   loss = logsumexp(z) − z_y                       (torch.nn.CrossEntropyLoss, one sample)
 *   dL/dz_c = softmax(z)_c − [c = y]
 * The logsumexp uses the running-maximum form of moco_math.h (burn_lse_push/merge): every
 * exponent is <= 0, so any finite magnitude is safe. A label outside [0, C) cannot raise an
 * error inside a kernel: its row gets a NaN loss and NaN gradient instead (and no out-of-range
 * read), which the trainer's non-finite checks catch; callers validate labels on the host. */
#ifndef BURN_XENT_MATH_H
#define BURN_XENT_MATH_H

#include <math.h>
#include <stdint.h>

#include "burn/check.h"
#include "burn/moco_math.h"

BURN_HD int burn_xent_label_ok(int32_t label, int C) { return label >= 0 && label < C; }

/* The loss of a row from its logsumexp and the logit of its label. */
BURN_HD float burn_xent_loss(float lse, float z_label) { return lse - z_label; }

/* grad_scale·(softmax(z)_c − [c = label]) for column c of a row with logsumexp lse. */
BURN_HD float burn_xent_dlogit(float z, int c, int32_t label, float lse, float grad_scale) {
    float p = expf(z - lse);
    return grad_scale * (p - (c == label ? 1.0f : 0.0f));
}

#endif
