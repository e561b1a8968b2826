/* rsign.c — CPU RSign (ReActNet): y = sign(x − β_c) over NCHW activations with a learnable
 * per-channel threshold β (METHOD.md §2-3). Per-element formulas: include/burn/binarize.h. */
#include "burn/binarize.h"
#include "cpu_ops.h"

/* x, y [N, C, HW]; beta [C] */
void cpu_rsign_forward(float *y, const float *x, const float *beta, int N, int C, int HW) {
#pragma omp parallel for collapse(2) if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            float b = beta[c];
#pragma omp simd
            for (int i = 0; i < HW; i++) y[base + i] = burn_sign(x[base + i] - b);
        }
}

/* g, x, dx [N, C, HW]; beta, dbeta [C]. dx = g·STE(x − β_c) written; since y depends on
 * x − β, dβ_c = −Σ_{n,hw} dx, added to dbeta (per-channel sums in double). */
void cpu_rsign_backward(float *dx, float *dbeta, const float *g, const float *x,
                        const float *beta, int N, int C, int HW, int act_mode) {
    /* channels in parallel; within one, images in order: the sum does not depend on threads
     * (within a row the SIMD lanes keep partial sums, in an order fixed by the build) */
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int c = 0; c < C; c++) {
        float b = beta[c];
        double sum = 0.0;
        for (int n = 0; n < N; n++) {
            int64_t base = ((int64_t)n * C + c) * HW;
            double acc = 0.0;
#pragma omp simd reduction(+ : acc)
            for (int i = 0; i < HW; i++) {
                float d = g[base + i] * burn_sign_ste(x[base + i] - b, act_mode);
                dx[base + i] = d;
                acc += d;
            }
            sum += acc;
        }
        if (dbeta) dbeta[c] -= (float)sum;
    }
}
