// rprelu.cu — RPReLU y = PReLU_c(x − γ_c) + ζ_c over NCHW activations (mirrors
// src/cpu/rprelu.c). Backward: one block per (n, c) plane writes dx and partial sums of dx,
// g·min(v, 0) and g; a second kernel adds the N partials of each channel in a fixed order
// (deterministic, no atomics) into dgamma, dslope, dzeta.
#include "block_reduce.cuh"
#include "burn/binarize.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

__global__ void rprelu_forward_kernel(float *y, const float *x, const float *gamma,
                                      const float *slope, const float *zeta, int C, int HW,
                                      int64_t n) {
    GRID_STRIDE(i, n) {
        int c = (int)((i / HW) % C);
        y[i] = burn_rprelu(x[i], gamma[c], slope[c], zeta[c]);
    }
}

// grid (N, C); partial [3, N, C]: Σ dx, Σ g·min(v, 0), Σ g of each plane
__global__ void rprelu_backward_kernel(float *dx, float *partial, const float *g, const float *x,
                                       const float *gamma, const float *slope, int N, int C,
                                       int HW) {
    const int n = blockIdx.x, c = blockIdx.y;
    const int64_t base = ((int64_t)n * C + c) * HW;
    const float gm = gamma[c], sl = slope[c];
    float acc[3] = {0.0f, 0.0f, 0.0f};
    for (int i = threadIdx.x; i < HW; i += blockDim.x) {
        float gi = g[base + i], xi = x[base + i];
        float d = gi * burn_rprelu_dx(xi, gm, sl);
        dx[base + i] = d;
        acc[0] += d;
        acc[1] += gi * burn_rprelu_dslope(xi, gm);
        acc[2] += gi;
    }
    block_sum<3>(acc);
    if (partial && threadIdx.x == 0) {
        const int64_t plane = (int64_t)N * C, at = (int64_t)n * C + c;
        partial[at] = acc[0];
        partial[plane + at] = acc[1];
        partial[2 * plane + at] = acc[2];
    }
}

__global__ void rprelu_params_kernel(float *dgamma, float *dslope, float *dzeta,
                                     const float *partial, int N, int C) {
    const int64_t plane = (int64_t)N * C;
    GRID_STRIDE(c, C) {
        float s_dx = 0.0f, s_slope = 0.0f, s_g = 0.0f;
        for (int n = 0; n < N; n++) {
            const int64_t at = (int64_t)n * C + c;
            s_dx += partial[at];
            s_slope += partial[plane + at];
            s_g += partial[2 * plane + at];
        }
        if (dgamma) dgamma[c] -= s_dx;
        if (dslope) dslope[c] += s_slope;
        if (dzeta) dzeta[c] += s_g;
    }
}

extern "C" void cuda_rprelu_forward(float *y, const float *x, const float *gamma,
                                    const float *slope, const float *zeta, int N, int C,
                                    int HW) {
    const int64_t n = (int64_t)N * C * HW;
    if (n <= 0) return;
    rprelu_forward_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(y, x, gamma, slope, zeta,
                                                                      C, HW, n);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_rprelu_backward(float *dx, float *dgamma, float *dslope, float *dzeta,
                                     const float *g, const float *x, const float *gamma,
                                     const float *slope, int N, int C, int HW) {
    if ((int64_t)N * C * HW <= 0) return;
    const int want_params = dgamma || dslope || dzeta;
    float *partial = nullptr;
    if (want_params)
        CUDA_CHECK(cudaMallocAsync((void **)&partial, (size_t)3 * N * C * sizeof(float),
                                   burn_stream));
    rprelu_backward_kernel<<<dim3((unsigned)N, (unsigned)C), block_threads_for(HW), 0,
                             burn_stream>>>(dx, partial, g, x, gamma, slope, N, C, HW);
    BURN_LAUNCH_CHECK();
    if (want_params) {
        rprelu_params_kernel<<<burn_grid(C, 128), 128, 0, burn_stream>>>(dgamma, dslope, dzeta,
                                                                        partial, N, C);
        BURN_LAUNCH_CHECK();
        CUDA_CHECK(cudaFreeAsync(partial, burn_stream));
    }
}
