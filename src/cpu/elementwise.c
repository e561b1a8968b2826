/* elementwise.c — CPU fill, scale, axpy, add, mul over float arrays [n]. */
#include "cpu_ops.h"

void cpu_fill(float *x, float value, int64_t n) {
#pragma omp parallel for if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) x[i] = value;
}

void cpu_scale(float *x, float a, int64_t n) {
#pragma omp parallel for if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

void cpu_axpy(float *y, float a, const float *x, int64_t n) {
#pragma omp parallel for if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

void cpu_add(float *out, const float *a, const float *b, int64_t n) {
#pragma omp parallel for if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void cpu_mul(float *out, const float *a, const float *b, int64_t n) {
#pragma omp parallel for if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}
