/* rprelu.c — CPU RPReLU (ReActNet): y = PReLU_c(x − γ_c) + ζ_c over NCHW activations with
 * per-channel shift γ, slope and shift ζ (METHOD.md §2). Per-element formulas:
 * include/burn/binarize.h. */
#include <stdlib.h>

#include "burn/binarize.h"
#include "burn/check.h"
#include "cpu_ops.h"

/* x, y [N, C, HW]; gamma, slope, zeta [C] */
void cpu_rprelu_forward(float *y, const float *x, const float *gamma, const float *slope,
                        const float *zeta, int N, int C, int HW) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++)
                y[base + i] = burn_rprelu(x[base + i], gamma[c], slope[c], zeta[c]);
        }
}

/* g, x, dx [N, C, HW]; gamma, slope, dgamma, dslope, dzeta [C]. dx written; the parameter
 * gradients are per-channel sums (in double) added to what is there:
 *   dγ_c −= Σ dx,   dslope_c += Σ g·min(x − γ_c, 0),   dζ_c += Σ g. */
void cpu_rprelu_backward(float *dx, float *dgamma, float *dslope, float *dzeta, const float *g,
                         const float *x, const float *gamma, const float *slope, int N, int C,
                         int HW) {
    double *sums = burn_xcalloc((size_t)(C > 0 ? C : 1) * 3, sizeof(double)); /* [3][C] */
    double *s_dx = sums, *s_slope = sums + C, *s_g = sums + 2 * (int64_t)C;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            float gm = gamma[c], sl = slope[c];
            double a_dx = 0.0, a_slope = 0.0, a_g = 0.0;
            for (int i = 0; i < HW; i++) {
                float gi = g[base + i], xi = x[base + i];
                float d = gi * burn_rprelu_dx(xi, gm, sl);
                dx[base + i] = d;
                a_dx += d;
                a_slope += (double)gi * burn_rprelu_dslope(xi, gm);
                a_g += gi;
            }
            s_dx[c] += a_dx;
            s_slope[c] += a_slope;
            s_g[c] += a_g;
        }
    for (int c = 0; c < C; c++) {
        if (dgamma) dgamma[c] -= (float)s_dx[c];
        if (dslope) dslope[c] += (float)s_slope[c];
        if (dzeta) dzeta[c] += (float)s_g[c];
    }
    free(sums);
}
