/* loss.c — CPU fused BURN loss (METHOD.md §4, include/burn/loss.h): for each row of student logits
 * s[D] and teacher logits t[D], three sweeps over the row —
 *   1. maxima of s/T and t/T, ‖s‖², ‖t‖², s·t
 *   2. the two softmax normalisers, the KL numerator and FS
 *   3. ds, dt (per-element formulas shared with kernels/loss.cu)
 * — with row sums in double. Gradients are written, scaled by h.grad_scale. */
#include <math.h>

#include "burn/loss.h"
#include "cpu_ops.h"

/* s, t, ds, dt [N, D]; kl, fs, loss [N] (each may be NULL) */
void cpu_loss_fused(float *kl, float *fs, float *loss, float *ds, float *dt, const float *s,
                    const float *t, int N, int D, burn_loss_hparams h) {
    if (N <= 0 || D <= 0) return;
    const float inv_T = 1.0f / h.temperature;
    const float w_kl = h.grad_scale * (1.0f - h.lambda), w_fs = h.grad_scale * h.lambda;
    for (int n = 0; n < N; n++) {
        const float *sr = s + (int64_t)n * D, *tr = t + (int64_t)n * D;
        burn_loss_row r;

        /* 1: maxima (for a stable log-softmax) and the norms / dot of the cosine term */
        float max_s = -INFINITY, max_t = -INFINITY;
        double ss = 0.0, tt = 0.0, st = 0.0;
        for (int c = 0; c < D; c++) {
            float a = sr[c] * inv_T, b = tr[c] * inv_T;
            max_s = a > max_s ? a : max_s;
            max_t = b > max_t ? b : max_t;
            ss += (double)sr[c] * sr[c];
            tt += (double)tr[c] * tr[c];
            st += (double)sr[c] * tr[c];
        }
        r.max_s = max_s;
        r.max_t = max_t;
        double ns = sqrt(ss), nt = sqrt(tt);
        ns = ns > BURN_LOSS_NORM_EPS ? ns : BURN_LOSS_NORM_EPS;
        nt = nt > BURN_LOSS_NORM_EPS ? nt : BURN_LOSS_NORM_EPS;
        r.inv_ns = (float)(1.0 / ns);
        r.inv_nt = (float)(1.0 / nt);
        r.cos = (float)(st / (ns * nt));

        /* 2: softmax normalisers, KL numerator, FS */
        double zs = 0.0, zt = 0.0, w = 0.0, fs_sum = 0.0;
        for (int c = 0; c < D; c++) {
            float la = sr[c] * inv_T - max_s, lb = tr[c] * inv_T - max_t;
            double e = expf(lb);
            zs += expf(la);
            zt += e;
            w += e * ((double)lb - la);
            fs_sum += burn_fs_elem(h.fs, sr[c], tr[c], r.inv_ns, r.inv_nt);
        }
        double kl_row = burn_kl_from_sums(w, zs, zt);
        r.logz_s = (float)log(zs);
        r.logz_t = (float)log(zt);
        r.kl = (float)kl_row;
        if (kl) kl[n] = (float)kl_row;
        if (fs) fs[n] = (float)fs_sum;
        if (loss) loss[n] = (float)((1.0 - h.lambda) * kl_row + h.lambda * fs_sum);

        /* 3: gradients */
        if (!ds && !dt) continue;
        float *dsr = ds ? ds + (int64_t)n * D : NULL, *dtr = dt ? dt + (int64_t)n * D : NULL;
        for (int c = 0; c < D; c++) {
            float lp_s = burn_log_softmax_elem(sr[c], inv_T, r.max_s, r.logz_s);
            float lp_t = burn_log_softmax_elem(tr[c], inv_T, r.max_t, r.logz_t);
            float gs, gt;
            burn_loss_grad_elem(sr[c], tr[c], lp_s, lp_t, r.kl, r.inv_ns, r.inv_nt, r.cos, inv_T,
                                h.fs, w_kl, w_fs, &gs, &gt);
            if (dsr) dsr[c] = gs;
            if (dtr) dtr[c] = gt;
        }
    }
}
