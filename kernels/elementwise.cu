// elementwise.cu — fill, scale, axpy, add, mul over float arrays [n] (mirrors src/cpu/elementwise.c).
#include "cuda_common.cuh"
#include "cuda_ops.h"

__global__ void fill_kernel(float *x, float v, int64_t n) { GRID_STRIDE(i, n) x[i] = v; }
__global__ void scale_kernel(float *x, float a, int64_t n) { GRID_STRIDE(i, n) x[i] *= a; }
__global__ void axpy_kernel(float *y, float a, const float *x, int64_t n) {
    GRID_STRIDE(i, n) y[i] += a * x[i];
}
__global__ void add_kernel(float *o, const float *a, const float *b, int64_t n) {
    GRID_STRIDE(i, n) o[i] = a[i] + b[i];
}
__global__ void mul_kernel(float *o, const float *a, const float *b, int64_t n) {
    GRID_STRIDE(i, n) o[i] = a[i] * b[i];
}

#define LAUNCH_1D(kernel, n, ...)                                         \
    do {                                                                  \
        if ((n) <= 0) return;                                             \
        kernel<<<burn_grid((n), 256), 256, 0, burn_stream>>>(__VA_ARGS__); \
        BURN_LAUNCH_CHECK();                                              \
    } while (0)

extern "C" void cuda_fill(float *x, float v, int64_t n) { LAUNCH_1D(fill_kernel, n, x, v, n); }
extern "C" void cuda_scale(float *x, float a, int64_t n) { LAUNCH_1D(scale_kernel, n, x, a, n); }
extern "C" void cuda_axpy(float *y, float a, const float *x, int64_t n) {
    LAUNCH_1D(axpy_kernel, n, y, a, x, n);
}
extern "C" void cuda_add(float *o, const float *a, const float *b, int64_t n) {
    LAUNCH_1D(add_kernel, n, o, a, b, n);
}
extern "C" void cuda_mul(float *o, const float *a, const float *b, int64_t n) {
    LAUNCH_1D(mul_kernel, n, o, a, b, n);
}
