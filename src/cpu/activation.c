/* activation.c — CPU ReLU, PReLU, per-channel bias and per-channel sums (bias gradients).
 * x, y, dx, dy [N, C, HW]; slope, b, acc [C]. Formulas: include/burn/layers_math.h. */
#include "burn/layers_math.h"
#include "cpu_ops.h"

void cpu_relu_forward(float *y, const float *x, int64_t n) {
#pragma omp parallel for if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = burn_relu(x[i]);
}

void cpu_relu_backward(float *dx, const float *dy, const float *y, int64_t n) {
#pragma omp parallel for if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) dx[i] = burn_relu_grad(dy[i], y[i]);
}

void cpu_prelu_forward(float *y, const float *x, const float *slope, int N, int C, int HW) {
#pragma omp parallel for collapse(2) if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t off = ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) y[off + i] = burn_prelu(x[off + i], slope[c]);
        }
}

/* dslope is summed per channel in double, then added once: the result does not depend on N. */
void cpu_prelu_backward(float *dx, float *dslope, const float *dy, const float *x,
                        const float *slope, int N, int C, int HW) {
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int c = 0; c < C; c++) {
        double acc = 0.0;
        for (int n = 0; n < N; n++) {
            int64_t off = ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                if (dx) dx[off + i] = burn_prelu_dx(dy[off + i], x[off + i], slope[c]);
                acc += burn_prelu_dslope(dy[off + i], x[off + i]);
            }
        }
        if (dslope) dslope[c] += (float)acc;
    }
}

void cpu_bias_forward(float *y, const float *x, const float *b, int N, int C, int HW) {
#pragma omp parallel for collapse(2) if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int64_t off = ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) y[off + i] = x[off + i] + b[c];
        }
}

void cpu_channel_sum(float *acc, const float *x, int N, int C, int HW) {
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int n = 0; n < N; n++) {
            const float *p = x + ((int64_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) s += p[i];
        }
        acc[c] += (float)s;
    }
}
