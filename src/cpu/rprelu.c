/* rprelu.c — CPU RPReLU (ReActNet): y = PReLU_c(x − γ_c) + ζ_c over NCHW activations with
 * per-channel shift γ, slope and shift ζ (METHOD.md §2). Per-element formulas:
 * include/burn/binarize.h. */
#include "burn/binarize.h"
#include "cpu_ops.h"

/* x, y [N, C, HW]; gamma, slope, zeta [C] */
void cpu_rprelu_forward(float *y, const float *x, const float *gamma, const float *slope,
                        const float *zeta, int N, int C, int HW) {
#pragma omp parallel for collapse(2) if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            float gm = gamma[c], sl = slope[c], ze = zeta[c];
#pragma omp simd
            for (int i = 0; i < HW; i++) y[base + i] = burn_rprelu(x[base + i], gm, sl, ze);
        }
}

/* g, x, dx [N, C, HW]; gamma, slope, dgamma, dslope, dzeta [C]. dx written; the parameter
 * gradients are per-channel sums (in double) added to what is there:
 *   dγ_c −= Σ dx,   dslope_c += Σ g·min(x − γ_c, 0),   dζ_c += Σ g. */
void cpu_rprelu_backward(float *dx, float *dgamma, float *dslope, float *dzeta, const float *g,
                         const float *x, const float *gamma, const float *slope, int N, int C,
                         int HW) {
    /* channels in parallel; within one, images in order: the sums do not depend on threads
     * (within a row the SIMD lanes keep partial sums, in an order fixed by the build) */
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int c = 0; c < C; c++) {
        float gm = gamma[c], sl = slope[c];
        double s_dx = 0.0, s_slope = 0.0, s_g = 0.0;
        for (int n = 0; n < N; n++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            double a_dx = 0.0, a_slope = 0.0, a_g = 0.0;
#pragma omp simd reduction(+ : a_dx, a_slope, a_g)
            for (int i = 0; i < HW; i++) {
                float gi = g[base + i], xi = x[base + i];
                float d = gi * burn_rprelu_dx(xi, gm, sl);
                dx[base + i] = d;
                a_dx += d;
                a_slope += (double)gi * burn_rprelu_dslope(xi, gm);
                a_g += gi;
            }
            s_dx += a_dx;
            s_slope += a_slope;
            s_g += a_g;
        }
        if (dgamma) dgamma[c] -= (float)s_dx;
        if (dslope) dslope[c] += (float)s_slope;
        if (dzeta) dzeta[c] += (float)s_g;
    }
}
