// rsign.cu — RSign y = sign(x − β_c) over NCHW activations (mirrors src/cpu/rsign.c).
// Backward: one block per (n, c) plane writes dx and a partial Σ dx; a second kernel adds
// the N partials of each channel in a fixed order (deterministic, no atomics) into dbeta.
#include "block_reduce.cuh"
#include "burn/binarize.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

__global__ void rsign_forward_kernel(float *y, const float *x, const float *beta, int C, int HW,
                                     int64_t n) {
    GRID_STRIDE(i, n) y[i] = burn_sign(x[i] - beta[(i / HW) % C]);
}

// grid (N, C); partial [N, C]
__global__ void rsign_backward_kernel(float *dx, float *partial, const float *g, const float *x,
                                      const float *beta, int C, int HW, int mode) {
    const int n = blockIdx.x, c = blockIdx.y;
    const int64_t base = ((int64_t)n * C + c) * HW;
    const float b = beta[c];
    float acc[1] = {0.0f};
    for (int i = threadIdx.x; i < HW; i += blockDim.x) {
        float d = g[base + i] * burn_sign_ste(x[base + i] - b, mode);
        dx[base + i] = d;
        acc[0] += d;
    }
    block_sum<1>(acc);
    if (partial && threadIdx.x == 0) partial[(int64_t)n * C + c] = acc[0];
}

// dbeta[c] −= Σ_n partial[n, c]
__global__ void rsign_dbeta_kernel(float *dbeta, const float *partial, int N, int C) {
    GRID_STRIDE(c, C) {
        float s = 0.0f;
        for (int n = 0; n < N; n++) s += partial[(int64_t)n * C + c];
        dbeta[c] -= s;
    }
}

extern "C" void cuda_rsign_forward(float *y, const float *x, const float *beta, int N, int C,
                                   int HW) {
    const int64_t n = (int64_t)N * C * HW;
    if (n <= 0) return;
    rsign_forward_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(y, x, beta, C, HW, n);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_rsign_backward(float *dx, float *dbeta, const float *g, const float *x,
                                    const float *beta, int N, int C, int HW, int act_mode) {
    if ((int64_t)N * C * HW <= 0) return;
    float *partial = nullptr;
    if (dbeta)
        CUDA_CHECK(cudaMallocAsync((void **)&partial, (size_t)N * C * sizeof(float), burn_stream));
    rsign_backward_kernel<<<dim3((unsigned)N, (unsigned)C), block_threads_for(HW), 0,
                            burn_stream>>>(dx, partial, g, x, beta, C, HW, act_mode);
    BURN_LAUNCH_CHECK();
    if (dbeta) {
        rsign_dbeta_kernel<<<burn_grid(C, 128), 128, 0, burn_stream>>>(dbeta, partial, N, C);
        BURN_LAUNCH_CHECK();
        CUDA_CHECK(cudaFreeAsync(partial, burn_stream));
    }
}
