/* bn.c — CPU BatchNorm pieces (train statistics, running-stat update, normalisation, eval
 * mode, backward). x, y, dx, dy [N, C, HW]; per-channel vectors [C]; stats and red [2·C]
 * doubles. The layer functions in src/nn/layers_bn.c chain them; synchronised BN all-reduces
 * stats / red between the pieces. Per-element formulas: include/burn/layers_math.h. */
#include "burn/layers_math.h"
#include "cpu_ops.h"

void cpu_bn_stats(double *stats, const float *x, int N, int C, int HW) {
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int c = 0; c < C; c++) {
        double s = 0.0, s2 = 0.0;
        for (int n = 0; n < N; n++) {
            const float *p = x + ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                double v = p[i];
                s += v;
                s2 += v * v;
            }
        }
        stats[c] = s;
        stats[C + c] = s2;
    }
}

void cpu_bn_finalize(float *mean, float *invstd, float *running_mean, float *running_var,
                     const double *stats, int C, int64_t count, float eps, float momentum) {
    for (int c = 0; c < C; c++)
        burn_bn_finalize_channel(stats[c], stats[C + c], count, eps, momentum, &mean[c],
                                 &invstd[c], running_mean ? &running_mean[c] : NULL,
                                 running_var ? &running_var[c] : NULL);
}

void cpu_bn_normalize(float *y, const float *x, const float *mean, const float *invstd,
                      const float *gamma, const float *beta, int N, int C, int HW) {
#pragma omp parallel for collapse(2) if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t off = ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++)
                y[off + i] = burn_bn_apply(x[off + i], mean[c], invstd[c], gamma[c], beta[c]);
        }
}

void cpu_bn_eval(float *y, const float *x, const float *running_mean, const float *running_var,
                 const float *gamma, const float *beta, float eps, int N, int C, int HW) {
#pragma omp parallel for collapse(2) if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t off = ((int64_t)n * C + c) * HW;
            float invstd = burn_bn_eval_invstd(running_var[c], eps);
            for (int i = 0; i < HW; i++)
                y[off + i] =
                    burn_bn_apply(x[off + i], running_mean[c], invstd, gamma[c], beta[c]);
        }
}

void cpu_bn_backward_stats(double *red, float *dgamma, float *dbeta, const float *dy,
                           const float *x, const float *mean, const float *invstd, int N,
                           int C, int HW) {
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int c = 0; c < C; c++) {
        double sdy = 0.0, sdyx = 0.0;
        for (int n = 0; n < N; n++) {
            int64_t off = ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                float g = dy[off + i];
                sdy += g;
                sdyx += (double)g * (double)burn_bn_xhat(x[off + i], mean[c], invstd[c]);
            }
        }
        red[c] = sdy;
        red[C + c] = sdyx;
        if (dbeta) dbeta[c] += (float)sdy;
        if (dgamma) dgamma[c] += (float)sdyx;
    }
}

void cpu_bn_backward_dx(float *dx, const float *dy, const float *x, const float *mean,
                        const float *invstd, const float *gamma, const double *red,
                        int64_t count, int N, int C, int HW) {
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int c = 0; c < C; c++) {
        float mean_dy = (float)(red[c] / (double)count);
        float mean_dy_xhat = (float)(red[C + c] / (double)count);
        for (int n = 0; n < N; n++) {
            int64_t off = ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++)
                dx[off + i] = burn_bn_dx(dy[off + i], x[off + i], mean[c], invstd[c], gamma[c],
                                         mean_dy, mean_dy_xhat);
        }
    }
}
