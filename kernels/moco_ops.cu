// moco_ops.cu — CUDA ops of MoCo v2 pretraining (METHOD.md §8; mirrors src/cpu/moco_ops.c): row-wise
// L2 normalisation, the InfoNCE loss, row dots and SGD with momentum. Row ops run one block
// per row (block reductions from block_reduce.cuh); per-element formulas are
// include/burn/moco_math.h's, the CPU's own.
#include "block_reduce.cuh"
#include "burn/moco_math.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

#define INFONCE_THREADS 256

// ---- L2 normalisation: y = x / max(‖x‖, eps), norm[n] = ‖x‖ (y may be x) ----
__global__ void l2norm_fwd_kernel(float *y, float *norm, const float *x, int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    float ss[1] = {0.0f};
    for (int d = threadIdx.x; d < D; d += blockDim.x) ss[0] += x[off + d] * x[off + d];
    block_sum<1>(ss); // synchronises: every read of the row is done before any write
    const float nrm = sqrtf(ss[0]);
    const float inv = 1.0f / burn_l2norm_denom(nrm);
    if (threadIdx.x == 0) norm[blockIdx.x] = nrm;
    for (int d = threadIdx.x; d < D; d += blockDim.x) y[off + d] = x[off + d] * inv;
}

extern "C" void cuda_l2norm_rows_forward(float *y, float *norm, const float *x, int N, int D) {
    if (N <= 0 || D <= 0) return;
    l2norm_fwd_kernel<<<N, block_threads_for(D), 0, burn_stream>>>(y, norm, x, D);
    BURN_LAUNCH_CHECK();
}

// ---- its backward: dx = (dy − y·(y·dy)) / ‖x‖ (dx may be dy) ----
__global__ void l2norm_bwd_kernel(float *dx, const float *dy, const float *y, const float *norm,
                                  int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    float ydy[1] = {0.0f};
    for (int d = threadIdx.x; d < D; d += blockDim.x) ydy[0] += y[off + d] * dy[off + d];
    block_sum<1>(ydy);
    const float nrm = norm[blockIdx.x];
    for (int d = threadIdx.x; d < D; d += blockDim.x)
        dx[off + d] = burn_l2norm_dx(dy[off + d], y[off + d], ydy[0], nrm);
}

extern "C" void cuda_l2norm_rows_backward(float *dx, const float *dy, const float *y,
                                          const float *norm, int N, int D) {
    if (N <= 0 || D <= 0) return;
    l2norm_bwd_kernel<<<N, block_threads_for(D), 0, burn_stream>>>(dx, dy, y, norm, D);
    BURN_LAUNCH_CHECK();
}

// ---- InfoNCE: one block per row of logits[N, C]. Each thread keeps a running (max, Σexp)
// over its columns (one read pass), the block merges them: max first, then the sums rescaled
// to it. A second sweep writes the gradient. ----
__global__ void __launch_bounds__(INFONCE_THREADS)
    infonce_kernel(float *loss, float *dlogits, const float *logits, int C, float inv_temp,
                   float grad_scale) {
    const int64_t off = (int64_t)blockIdx.x * C;
    const float *l = logits + off;
    float m = -INFINITY, s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) burn_lse_push(&m, &s, l[c] * inv_temp);
    float mx[1] = {m};
    block_max<1>(mx);
    // a thread without columns has s = 0 and m = -inf: its rescaled share is 0·0 = 0
    float sm[1] = {s > 0.0f ? s * expf(m - mx[0]) : 0.0f};
    block_sum<1>(sm);
    const float lse = mx[0] + logf(sm[0]);
    if (threadIdx.x == 0 && loss) loss[blockIdx.x] = lse - l[0] * inv_temp;
    if (!dlogits) return;
    float *g = dlogits + off;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        g[c] = burn_infonce_dlogit(l[c], c, inv_temp, lse, grad_scale);
}

extern "C" void cuda_infonce(float *loss, float *dlogits, const float *logits, int N, int C,
                             float inv_temp, float grad_scale) {
    if (N <= 0 || C <= 0) return;
    infonce_kernel<<<N, INFONCE_THREADS, 0, burn_stream>>>(loss, dlogits, logits, C, inv_temp,
                                                           grad_scale);
    BURN_LAUNCH_CHECK();
}

// ---- out[n·ldo] = a[n]·b[n] ----
__global__ void row_dot_kernel(float *out, int ldo, const float *a, const float *b, int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    float acc[1] = {0.0f};
    for (int d = threadIdx.x; d < D; d += blockDim.x) acc[0] += a[off + d] * b[off + d];
    block_sum<1>(acc);
    if (threadIdx.x == 0) out[(int64_t)blockIdx.x * ldo] = acc[0];
}

extern "C" void cuda_row_dot(float *out, int ldo, const float *a, const float *b, int N, int D) {
    if (N <= 0 || D <= 0) return;
    row_dot_kernel<<<N, block_threads_for(D), 0, burn_stream>>>(out, ldo, a, b, D);
    BURN_LAUNCH_CHECK();
}

// ---- y[n, d] += s[n·lds]·x[n, d] ----
__global__ void row_scale_add_kernel(float *y, const float *s, int lds, const float *x, int D,
                                     int64_t n) {
    GRID_STRIDE(i, n) y[i] += s[(i / D) * lds] * x[i];
}

extern "C" void cuda_row_scale_add(float *y, const float *s, int lds, const float *x, int N,
                                   int D) {
    int64_t n = (int64_t)N * D;
    if (n <= 0) return;
    row_scale_add_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(y, s, lds, x, D, n);
    BURN_LAUNCH_CHECK();
}

// ---- SGD with momentum over the flat parameter buffer ----
__global__ void sgd_kernel(float *p, const float *g, float *buf, int64_t n, burn_sgd_hparams h) {
    GRID_STRIDE(i, n) burn_sgd_update(&p[i], g[i], &buf[i], h);
}

extern "C" void cuda_sgd_step(float *p, const float *g, float *buf, int64_t n,
                              burn_sgd_hparams h) {
    if (n <= 0) return;
    sgd_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(p, g, buf, n, h);
    BURN_LAUNCH_CHECK();
}
