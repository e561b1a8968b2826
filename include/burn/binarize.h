/* binarize.h — binarisation of activations and weights (METHOD.md §3): sign with its straight-through
 * gradients, RSign (learnable per-channel threshold), RPReLU, and the stage-2 weight
 * binarisation W_b = α_o·sign(W). The backend ops live in struct burn_backend (backend.h);
 * this header holds the modes and the per-element formulas (BURN_HD) that src/cpu/ and
 * kernels/ both call, so the CPU tests check exactly what the GPU computes.
 *
 * Layouts: activations are NCHW, x[N, C, HW] with HW = H·W; per-channel parameters are [C].
 * Weights are W[O, K] with K = in·kh·kw (a conv weight [O, in, kh, kw] read flat).
 *
 * Gradient convention of the backend ops: the input gradient (dx) is WRITTEN; parameter
 * gradients (dbeta, dgamma, dslope, dzeta, dW) are ACCUMULATED (added to what is there), as
 * parameter gradients accumulate over the uses of a parameter and over micro-batches. */
#ifndef BURN_BINARIZE_H
#define BURN_BINARIZE_H

#include <math.h>
#include <string.h>

#include "burn/check.h"

/* binary.act_grad: straight-through estimator of d sign(v) / dv. */
typedef enum burn_act_grad {
    BURN_ACT_GRAD_CLIP = 0,  /* 1[|v| <= 1]                  (released BURN code, default) */
    BURN_ACT_GRAD_APPROX = 1 /* 2 − 2|v| for |v| < 1, else 0 (ReActNet ApproxSign) */
} burn_act_grad;

/* binary.weight_grad: gradient of W_b = α·sign(W) with respect to W (α a constant). */
typedef enum burn_weight_grad {
    BURN_WEIGHT_GRAD_IDENTITY = 0, /* dW = α_o·dW_b            (released BURN code, default) */
    BURN_WEIGHT_GRAD_CLIP = 1      /* dW = dW_b·1[|W| <= 1]    (ReActNet; no α, METHOD.md §3) */
} burn_weight_grad;

/* ---- per-element math, shared by both backends ---- */

/* sign(v) = +1 for v >= 0, −1 otherwise: never 0 (METHOD.md §3; torch.sign differs at 0).
 * −0.0f >= 0 is true, so sign(−0) = +1 too. NaN maps to −1. */
BURN_HD float burn_sign(float v) { return v >= 0.0f ? 1.0f : -1.0f; }

/* d sign(v)/dv as estimated by `mode` (burn_act_grad). */
BURN_HD float burn_sign_ste(float v, int mode) {
    float a = fabsf(v);
    if (mode == BURN_ACT_GRAD_APPROX) return a < 1.0f ? 2.0f - 2.0f * a : 0.0f;
    return a <= 1.0f ? 1.0f : 0.0f;
}

/* RPReLU with v = x − γ_c: y = (v >= 0 ? v : slope_c·v) + ζ_c. */
BURN_HD float burn_rprelu(float x, float gamma, float slope, float zeta) {
    float v = x - gamma;
    return (v >= 0.0f ? v : slope * v) + zeta;
}

/* dy/dx of RPReLU (= −dy/dγ): 1 on the positive side, slope on the negative side. */
BURN_HD float burn_rprelu_dx(float x, float gamma, float slope) {
    return x - gamma >= 0.0f ? 1.0f : slope;
}

/* dy/dslope of RPReLU: v on the negative side, 0 otherwise. */
BURN_HD float burn_rprelu_dslope(float x, float gamma) {
    float v = x - gamma;
    return v >= 0.0f ? 0.0f : v;
}

/* d W_b / d W for one weight, given α_o of its row (burn_weight_grad). */
BURN_HD float burn_weight_ste(float w, float alpha, int mode) {
    if (mode == BURN_WEIGHT_GRAD_CLIP) return fabsf(w) <= 1.0f ? 1.0f : 0.0f;
    return alpha;
}

/* ---- config names -> modes (host) ----
 * Return the mode, or -1 with burn_error() set for an unknown name. The config schema
 * (config_keys.h: binary.act_grad, binary.weight_grad) already restricts the choices. */
static inline int burn_act_grad_parse(const char *name) {
    if (strcmp(name, "clip") == 0) return BURN_ACT_GRAD_CLIP;
    if (strcmp(name, "approx") == 0) return BURN_ACT_GRAD_APPROX;
    burn_error_set("binary.act_grad: unknown mode '%s' (expected clip|approx)", name);
    return -1;
}

static inline int burn_weight_grad_parse(const char *name) {
    if (strcmp(name, "identity") == 0) return BURN_WEIGHT_GRAD_IDENTITY;
    if (strcmp(name, "clip") == 0) return BURN_WEIGHT_GRAD_CLIP;
    burn_error_set("binary.weight_grad: unknown mode '%s' (expected identity|clip)", name);
    return -1;
}

#endif
