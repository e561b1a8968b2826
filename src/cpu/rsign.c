/* rsign.c — CPU RSign (ReActNet): y = sign(x − β_c) over NCHW activations with a learnable
 * per-channel threshold β (METHOD.md §2-3). Per-element formulas: include/burn/binarize.h. */
#include <stdlib.h>

#include "burn/binarize.h"
#include "burn/check.h"
#include "cpu_ops.h"

/* x, y [N, C, HW]; beta [C] */
void cpu_rsign_forward(float *y, const float *x, const float *beta, int N, int C, int HW) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            float b = beta[c];
            for (int i = 0; i < HW; i++) y[base + i] = burn_sign(x[base + i] - b);
        }
}

/* g, x, dx [N, C, HW]; beta, dbeta [C]. dx = g·STE(x − β_c) written; since y depends on
 * x − β, dβ_c = −Σ_{n,hw} dx, added to dbeta (per-channel sums in double). */
void cpu_rsign_backward(float *dx, float *dbeta, const float *g, const float *x,
                        const float *beta, int N, int C, int HW, int act_mode) {
    double *sum = burn_xcalloc((size_t)(C > 0 ? C : 1), sizeof(double));
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            float b = beta[c];
            double acc = 0.0;
            for (int i = 0; i < HW; i++) {
                float d = g[base + i] * burn_sign_ste(x[base + i] - b, act_mode);
                dx[base + i] = d;
                acc += d;
            }
            sum[c] += acc;
        }
    if (dbeta)
        for (int c = 0; c < C; c++) dbeta[c] -= (float)sum[c];
    free(sum);
}
