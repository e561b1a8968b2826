// binarize.cu — sign with its straight-through gradient, and the stage-2 weight binarisation
// W_b = α_o·sign(W), α_o = mean_k |W[o,k]| (mirrors src/cpu/binarize.c; per-element math
// from include/burn/binarize.h).
#include "block_reduce.cuh"
#include "burn/binarize.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

__global__ void sign_forward_kernel(float *y, const float *x, int64_t n) {
    GRID_STRIDE(i, n) y[i] = burn_sign(x[i]);
}

__global__ void sign_backward_kernel(float *dx, const float *g, const float *x, int64_t n,
                                     int mode) {
    GRID_STRIDE(i, n) dx[i] = g[i] * burn_sign_ste(x[i], mode);
}

// One block per row o of W[O, K]: α_o by a block sum of |W|, then W_b.
__global__ void binarize_weights_kernel(float *Wb, float *alpha, const float *W, int K) {
    const int64_t row = (int64_t)blockIdx.x * K;
    float acc[1] = {0.0f};
    for (int k = threadIdx.x; k < K; k += blockDim.x) acc[0] += fabsf(W[row + k]);
    block_sum<1>(acc);
    const float a = acc[0] / (float)K;
    if (alpha && threadIdx.x == 0) alpha[blockIdx.x] = a;
    for (int k = threadIdx.x; k < K; k += blockDim.x) Wb[row + k] = a * burn_sign(W[row + k]);
}

__global__ void binarize_weights_backward_kernel(float *dW, const float *dWb, const float *W,
                                                 const float *alpha, int K, int64_t n,
                                                 int mode) {
    GRID_STRIDE(i, n) dW[i] += dWb[i] * burn_weight_ste(W[i], alpha[i / K], mode);
}

extern "C" void cuda_sign_forward(float *y, const float *x, int64_t n) {
    if (n <= 0) return;
    sign_forward_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(y, x, n);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_sign_backward(float *dx, const float *g, const float *x, int64_t n,
                                   int act_mode) {
    if (n <= 0) return;
    sign_backward_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(dx, g, x, n, act_mode);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_binarize_weights(float *Wb, float *alpha, const float *W, int O, int K) {
    if (O <= 0 || K <= 0) return;
    binarize_weights_kernel<<<O, block_threads_for(K), 0, burn_stream>>>(Wb, alpha, W, K);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_binarize_weights_backward(float *dW, const float *dWb, const float *W,
                                               const float *alpha, int O, int K,
                                               int weight_mode) {
    const int64_t n = (int64_t)O * K;
    if (!dW || n <= 0) return;
    binarize_weights_backward_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(
        dW, dWb, W, alpha, K, n, weight_mode);
    BURN_LAUNCH_CHECK();
}
