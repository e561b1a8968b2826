// activation.cu — ReLU, PReLU, per-channel bias and per-channel sums on CUDA (mirrors
// src/cpu/activation.c). x, y, dx, dy [N, C, HW]; slope, b, acc [C]. Per-channel gradient
// sums go through channel_reduce.cuh (deterministic). Formulas: include/burn/layers_math.h.
#include "cuda_common.cuh"
#include "channel_reduce.cuh"
#include "cuda_ops.h"
#include "burn/layers_math.h"

namespace {

struct PreluTerm { // writes dx (if wanted) and sums dy·x over x <= 0
    float *dx;
    const float *dy, *x, *slope;
    __device__ void operator()(int64_t i, int c, double *acc) const {
        if (dx) dx[i] = burn_prelu_dx(dy[i], x[i], slope[c]);
        acc[0] += burn_prelu_dslope(dy[i], x[i]);
    }
};

struct SumTerm {
    const float *x;
    __device__ void operator()(int64_t i, int, double *acc) const { acc[0] += x[i]; }
};

struct AccumulateStore { // acc[c] += total
    float *acc;
    __device__ void operator()(int c, const double *tot) const { acc[c] += (float)tot[0]; }
};

} // namespace

static __global__ void relu_forward_kernel(float *y, const float *x, int64_t n) {
    GRID_STRIDE(i, n) y[i] = burn_relu(x[i]);
}

static __global__ void relu_backward_kernel(float *dx, const float *dy, const float *y,
                                            int64_t n) {
    GRID_STRIDE(i, n) dx[i] = burn_relu_grad(dy[i], y[i]);
}

static __global__ void prelu_forward_kernel(float *y, const float *x, const float *slope, int C,
                                            int HW, int64_t n) {
    GRID_STRIDE(i, n) y[i] = burn_prelu(x[i], slope[(i / HW) % C]);
}

static __global__ void prelu_dx_kernel(float *dx, const float *dy, const float *x,
                                       const float *slope, int C, int HW, int64_t n) {
    GRID_STRIDE(i, n) dx[i] = burn_prelu_dx(dy[i], x[i], slope[(i / HW) % C]);
}

static __global__ void bias_forward_kernel(float *y, const float *x, const float *b, int C,
                                           int HW, int64_t n) {
    GRID_STRIDE(i, n) y[i] = x[i] + b[(i / HW) % C];
}

#define LAUNCH_ELEMENTWISE(kernel, n, ...)                                 \
    do {                                                                   \
        if ((n) <= 0) return;                                              \
        kernel<<<burn_grid((n), 256), 256, 0, burn_stream>>>(__VA_ARGS__); \
        BURN_LAUNCH_CHECK();                                               \
    } while (0)

extern "C" void cuda_relu_forward(float *y, const float *x, int64_t n) {
    LAUNCH_ELEMENTWISE(relu_forward_kernel, n, y, x, n);
}

extern "C" void cuda_relu_backward(float *dx, const float *dy, const float *y, int64_t n) {
    LAUNCH_ELEMENTWISE(relu_backward_kernel, n, dx, dy, y, n);
}

extern "C" void cuda_prelu_forward(float *y, const float *x, const float *slope, int N, int C,
                                   int HW) {
    int64_t n = (int64_t)N * C * HW;
    LAUNCH_ELEMENTWISE(prelu_forward_kernel, n, y, x, slope, C, HW, n);
}

extern "C" void cuda_prelu_backward(float *dx, float *dslope, const float *dy, const float *x,
                                    const float *slope, int N, int C, int HW) {
    if (dslope) { // one pass: dx per element and the slope sums
        channel_reduce<1>(PreluTerm{dx, dy, x, slope}, AccumulateStore{dslope}, N, C, HW);
        return;
    }
    if (!dx) return;
    int64_t n = (int64_t)N * C * HW;
    LAUNCH_ELEMENTWISE(prelu_dx_kernel, n, dx, dy, x, slope, C, HW, n);
}

extern "C" void cuda_bias_forward(float *y, const float *x, const float *b, int N, int C,
                                  int HW) {
    int64_t n = (int64_t)N * C * HW;
    LAUNCH_ELEMENTWISE(bias_forward_kernel, n, y, x, b, C, HW, n);
}

extern "C" void cuda_channel_sum(float *acc, const float *x, int N, int C, int HW) {
    channel_reduce<1>(SumTerm{x}, AccumulateStore{acc}, N, C, HW);
}
