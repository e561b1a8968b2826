/* loss.h — the BURN objective (METHOD.md §4): per row of student logits s[D] and teacher logits
 * t[D], with p = softmax(z / T),
 *
 *   KL  = Σ_c p_t,c (log p_t,c − log p_s,c)             (no T² factor)
 *   FS  = cosine: ‖ŝ − t̂‖² = 2(1 − cos(s, t))  |  l1: ‖s − t‖₁  |  l2: ‖s − t‖₂²
 *   L   = (1 − λ)·KL + λ·FS
 *
 * and its gradients with respect to BOTH s and t (the teacher head g_θ is trained too).
 * Backend ops (struct burn_backend): loss_fused (one pass per row; on CUDA one block per
 * row) and loss_unfused (the same result from a sequence of simple whole-tensor steps with
 * intermediates in memory — log-softmax of each side, exp, row KL, row norms, row dot,
 * row FS, combine, elementwise gradient — the way an eager framework computes it; the
 * reference the fused op is benchmarked and tested against). This header also holds the
 * λ(t) schedule and the per-element formulas (BURN_HD) both backends call.
 *
 * Gradient formulas (a = s/T, b = t/T, lp = log-softmax, ŝ = s/‖s‖, cos = ŝ·t̂):
 *   dKL/ds_c = (p_s,c − p_t,c) / T
 *   dKL/dt_c = p_t,c (log p_t,c − log p_s,c − KL) / T
 *   cosine: dFS/ds = 2(cos·ŝ − t̂)/‖s‖,  dFS/dt = 2(cos·t̂ − ŝ)/‖t‖
 *   l1:     dFS/ds = sign(s − t) (0 where s = t),  dFS/dt = −dFS/ds
 *   l2:     dFS/ds = 2(s − t),  dFS/dt = −dFS/ds
 * Norms are clamped below at BURN_LOSS_NORM_EPS (as F.normalize does), so a zero row gives
 * finite values instead of NaN. */
#ifndef BURN_LOSS_H
#define BURN_LOSS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "burn/check.h"

/* loss.fs: the feature-similarity term. */
typedef enum burn_fs {
    BURN_FS_COSINE = 0, /* ‖ŝ − t̂‖² (default) */
    BURN_FS_L1 = 1,     /* ‖s − t‖₁ */
    BURN_FS_L2 = 2      /* ‖s − t‖₂² */
} burn_fs;

/* loss.lambda_schedule: how the FS weight λ moves over training (METHOD.md §4, paper Eq. 3). */
typedef enum burn_lambda_schedule {
    BURN_LAMBDA_COSINE = 0,   /* λ_T − (λ_T − λ_0)(cos(π t/T_max) + 1)/2 (default) */
    BURN_LAMBDA_CONSTANT = 1, /* λ_constant */
    BURN_LAMBDA_STEP = 2      /* λ_0 for t < T_max/2, λ_T from t = T_max/2 on */
} burn_lambda_schedule;

/* Hyper-parameters of one loss call (passed by value to the backend ops).
 * grad_scale multiplies both gradients: the trainer passes 1/N_rank ("summed over the batch
 * then divided by the per-rank batch size"); the per-row kl/fs/loss outputs are NOT scaled. */
typedef struct burn_loss_hparams {
    float temperature; /* T > 0 (METHOD.md: 0.2) */
    float lambda;      /* FS weight λ in [0, 1] */
    float grad_scale;
    int fs;            /* burn_fs */
} burn_loss_hparams;

#define BURN_LOSS_NORM_EPS 1e-12f

/* λ(t) at global iteration t of T_max (METHOD.md §4). lambda_start = λ_0, lambda_end = λ_T.
 * t is clamped to [0, T_max]; T_max <= 0 counts as the end of the schedule. The step
 * schedule switches at t = T_max/2 (Heaviside with H(0) = 1: λ(T_max/2) = λ_T). */
BURN_HD double burn_lambda(int schedule, int64_t t, int64_t T_max, double lambda_start,
                           double lambda_end, double lambda_constant) {
    if (schedule == BURN_LAMBDA_CONSTANT) return lambda_constant;
    double progress = T_max <= 0 ? 1.0 : (double)t / (double)T_max;
    if (progress < 0.0) progress = 0.0;
    if (progress > 1.0) progress = 1.0;
    if (schedule == BURN_LAMBDA_STEP) return progress < 0.5 ? lambda_start : lambda_end;
    return lambda_end -
           (lambda_end - lambda_start) * (cos(3.14159265358979323846 * progress) + 1.0) * 0.5;
}

/* ---- per-element math, shared by both backends ---- */

/* Statistics of one row that every element's gradient needs. */
typedef struct burn_loss_row {
    float max_s, max_t;   /* max_c s_c/T, max_c t_c/T */
    float logz_s, logz_t; /* log Σ_c exp(z_c/T − max) */
    float kl;             /* KL of the row */
    float inv_ns, inv_nt; /* 1 / max(‖s‖, eps), 1 / max(‖t‖, eps) */
    float cos;            /* (s·t)·inv_ns·inv_nt */
} burn_loss_row;

/* log p_c = z_c/T − max − logz (log-softmax with the row max subtracted: never overflows). */
BURN_HD float burn_log_softmax_elem(float z, float inv_T, float max, float logz) {
    return (z * inv_T - max) - logz;
}

/* One element's contribution to the row's FS (summed over the row). */
BURN_HD float burn_fs_elem(int fs, float s, float t, float inv_ns, float inv_nt) {
    if (fs == BURN_FS_COSINE) {
        float d = s * inv_ns - t * inv_nt;
        return d * d;
    }
    float d = s - t;
    return fs == BURN_FS_L1 ? fabsf(d) : d * d;
}

/* dFS/ds_c and dFS/dt_c of one element. */
BURN_HD void burn_fs_grad_elem(int fs, float s, float t, float inv_ns, float inv_nt, float cos,
                               float *ds, float *dt) {
    if (fs == BURN_FS_COSINE) {
        float sh = s * inv_ns, th = t * inv_nt;
        *ds = 2.0f * inv_ns * (cos * sh - th);
        *dt = 2.0f * inv_nt * (cos * th - sh);
        return;
    }
    float d = s - t;
    float g = fs == BURN_FS_L1 ? (d > 0.0f ? 1.0f : d < 0.0f ? -1.0f : 0.0f) : 2.0f * d;
    *ds = g;
    *dt = -g;
}

/* Gradient of grad_scale·L for one element, given its probabilities p_s, p_t, their logs
 * lp_s, lp_t and the row's statistics: w_kl = grad_scale·(1 − λ), w_fs = grad_scale·λ. */
BURN_HD void burn_loss_grad_elem_p(float s, float t, float p_s, float p_t, float lp_s,
                                   float lp_t, float kl, float inv_ns, float inv_nt, float cos,
                                   float inv_T, int fs, float w_kl, float w_fs, float *ds,
                                   float *dt) {
    float dkl_s = (p_s - p_t) * inv_T;
    float dkl_t = p_t * (lp_t - lp_s - kl) * inv_T;
    float dfs_s, dfs_t;
    burn_fs_grad_elem(fs, s, t, inv_ns, inv_nt, cos, &dfs_s, &dfs_t);
    *ds = w_kl * dkl_s + w_fs * dfs_s;
    *dt = w_kl * dkl_t + w_fs * dfs_t;
}

/* The same from the log-probabilities alone (the fused path: p = exp(lp) on the fly). */
BURN_HD void burn_loss_grad_elem(float s, float t, float lp_s, float lp_t, float kl,
                                 float inv_ns, float inv_nt, float cos, float inv_T, int fs,
                                 float w_kl, float w_fs, float *ds, float *dt) {
    burn_loss_grad_elem_p(s, t, expf(lp_s), expf(lp_t), lp_s, lp_t, kl, inv_ns, inv_nt, cos,
                          inv_T, fs, w_kl, w_fs, ds, dt);
}

/* KL from the second sweep's sums: with e_c = exp(b_c − max_t), a = s/T, b = t/T,
 *   zs = Σ exp(a_c − max_s),  zt = Σ e_c,  w = Σ e_c ((b_c − max_t) − (a_c − max_s))
 *   KL = Σ p_t (lp_t − lp_s) = w/zt − log zt + log zs   (exactly 0 when s = t). */
BURN_HD double burn_kl_from_sums(double w, double zs, double zt) {
    return w / zt - log(zt) + log(zs);
}

/* ---- config names -> enums (host) ----
 * Return the value, or -1 with burn_error() set. The config schema already restricts the
 * choices (loss.fs, loss.lambda_schedule). */
static inline int burn_fs_parse(const char *name) {
    if (strcmp(name, "cosine") == 0) return BURN_FS_COSINE;
    if (strcmp(name, "l1") == 0) return BURN_FS_L1;
    if (strcmp(name, "l2") == 0) return BURN_FS_L2;
    burn_error_set("loss.fs: unknown choice '%s' (expected cosine|l1|l2)", name);
    return -1;
}

static inline int burn_lambda_schedule_parse(const char *name) {
    if (strcmp(name, "cosine") == 0) return BURN_LAMBDA_COSINE;
    if (strcmp(name, "constant") == 0) return BURN_LAMBDA_CONSTANT;
    if (strcmp(name, "step") == 0) return BURN_LAMBDA_STEP;
    burn_error_set("loss.lambda_schedule: unknown choice '%s' (expected cosine|constant|step)",
                   name);
    return -1;
}

/* Floats of workspace loss_unfused needs for N rows of D: log p_s, log p_t, p_s, p_t [N, D]
 * and eight per-row arrays [N]. */
static inline int64_t burn_loss_unfused_work_floats(int N, int D) {
    return 4 * (int64_t)N * D + 8 * (int64_t)N;
}

#endif
