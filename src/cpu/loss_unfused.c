/* loss_unfused.c — CPU BURN loss computed the unfused way: a sequence of simple whole-tensor
 * steps with every intermediate in memory, as an eager framework would run
 *   log_softmax(s/T), log_softmax(t/T), exp, exp, row KL, row norms, row dot, row FS,
 *   combine, elementwise gradient.
 * It is the reference loss_fused (src/cpu/loss.c) is tested and benchmarked against, and it
 * computes KL directly as Σ p_t (lp_t − lp_s) rather than from the fused path's sums.
 * Gradients are written, scaled by h.grad_scale. */
#include <math.h>

#include "burn/loss.h"
#include "cpu_ops.h"

/* z, lp [N, D]: lp = log_softmax(z / T) per row */
static void row_log_softmax(float *lp, const float *z, float inv_T, int N, int D) {
    for (int n = 0; n < N; n++) {
        const float *zr = z + (int64_t)n * D;
        float *out = lp + (int64_t)n * D;
        float max = -INFINITY;
        for (int c = 0; c < D; c++) max = zr[c] * inv_T > max ? zr[c] * inv_T : max;
        double sum = 0.0;
        for (int c = 0; c < D; c++) sum += expf(zr[c] * inv_T - max);
        float logz = (float)log(sum);
        for (int c = 0; c < D; c++) out[c] = burn_log_softmax_elem(zr[c], inv_T, max, logz);
    }
}

static void exp_all(float *p, const float *lp, int64_t n) {
    for (int64_t i = 0; i < n; i++) p[i] = expf(lp[i]);
}

/* kl [N] = Σ_c p_t (lp_t − lp_s) */
static void row_kl(float *kl, const float *pt, const float *lpt, const float *lps, int N, int D) {
    for (int n = 0; n < N; n++) {
        int64_t b = (int64_t)n * D;
        double acc = 0.0;
        for (int c = 0; c < D; c++) acc += (double)pt[b + c] * ((double)lpt[b + c] - lps[b + c]);
        kl[n] = (float)acc;
    }
}

/* inv_n [N] = 1 / max(‖z_row‖, eps) */
static void row_inv_norm(float *inv_n, const float *z, int N, int D) {
    for (int n = 0; n < N; n++) {
        double acc = 0.0;
        for (int c = 0; c < D; c++) acc += (double)z[(int64_t)n * D + c] * z[(int64_t)n * D + c];
        double norm = sqrt(acc);
        inv_n[n] = (float)(1.0 / (norm > BURN_LOSS_NORM_EPS ? norm : BURN_LOSS_NORM_EPS));
    }
}

/* dot [N] = s_row · t_row */
static void row_dot(float *dot, const float *s, const float *t, int N, int D) {
    for (int n = 0; n < N; n++) {
        double acc = 0.0;
        for (int c = 0; c < D; c++) acc += (double)s[(int64_t)n * D + c] * t[(int64_t)n * D + c];
        dot[n] = (float)acc;
    }
}

/* fs [N] = Σ_c FS element */
static void row_fs(float *fs, const float *s, const float *t, const float *inv_ns,
                   const float *inv_nt, int mode, int N, int D) {
    for (int n = 0; n < N; n++) {
        double acc = 0.0;
        for (int c = 0; c < D; c++)
            acc += burn_fs_elem(mode, s[(int64_t)n * D + c], t[(int64_t)n * D + c], inv_ns[n],
                                inv_nt[n]);
        fs[n] = (float)acc;
    }
}

void cpu_loss_unfused(float *kl, float *fs, float *loss, float *ds, float *dt, const float *s,
                      const float *t, int N, int D, burn_loss_hparams h, float *work) {
    if (N <= 0 || D <= 0) return;
    const int64_t nd = (int64_t)N * D;
    const float inv_T = 1.0f / h.temperature;
    float *lps = work, *lpt = lps + nd, *ps = lpt + nd, *pt = ps + nd;
    float *r_inv_ns = pt + nd, *r_inv_nt = r_inv_ns + N, *r_dot = r_inv_nt + N;
    float *r_kl = r_dot + N, *r_fs = r_kl + N;

    row_log_softmax(lps, s, inv_T, N, D);
    row_log_softmax(lpt, t, inv_T, N, D);
    exp_all(ps, lps, nd);
    exp_all(pt, lpt, nd);
    row_kl(r_kl, pt, lpt, lps, N, D);
    row_inv_norm(r_inv_ns, s, N, D);
    row_inv_norm(r_inv_nt, t, N, D);
    row_dot(r_dot, s, t, N, D);
    row_fs(r_fs, s, t, r_inv_ns, r_inv_nt, h.fs, N, D);
    for (int n = 0; n < N; n++) {
        if (kl) kl[n] = r_kl[n];
        if (fs) fs[n] = r_fs[n];
        if (loss) loss[n] = (1.0f - h.lambda) * r_kl[n] + h.lambda * r_fs[n];
    }
    if (!ds && !dt) return;
    const float w_kl = h.grad_scale * (1.0f - h.lambda), w_fs = h.grad_scale * h.lambda;
    for (int64_t i = 0; i < nd; i++) {
        int64_t n = i / D;
        float cos = r_dot[n] * r_inv_ns[n] * r_inv_nt[n];
        float gs, gt;
        burn_loss_grad_elem_p(s[i], t[i], ps[i], pt[i], lps[i], lpt[i], r_kl[n], r_inv_ns[n],
                              r_inv_nt[n], cos, inv_T, h.fs, w_kl, w_fs, &gs, &gt);
        if (ds) ds[i] = gs;
        if (dt) dt[i] = gt;
    }
}
