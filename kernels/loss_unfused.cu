// loss_unfused.cu — the BURN loss as a sequence of simple kernels with every intermediate in
// global memory (mirrors src/cpu/loss_unfused.c), the way an eager framework runs it:
//   log_softmax(s/T), log_softmax(t/T), exp, exp, row KL, row norms ×2, row dot, row FS,
//   combine, elementwise gradient  — 11 launches against loss_fused's one.
// The reference burn_bench compares loss_fused with; KL is Σ p_t (lp_t − lp_s) directly.
#include "block_reduce.cuh"
#include "burn/loss.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

#define ROW_THREADS 256

// one block per row: lp = log_softmax(z/T)
__global__ void row_log_softmax_kernel(float *lp, const float *z, float inv_T, int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    float mx[1] = {-INFINITY};
    for (int c = threadIdx.x; c < D; c += blockDim.x) mx[0] = fmaxf(mx[0], z[off + c] * inv_T);
    block_max<1>(mx);
    float sum[1] = {0.0f};
    for (int c = threadIdx.x; c < D; c += blockDim.x) sum[0] += expf(z[off + c] * inv_T - mx[0]);
    block_sum<1>(sum);
    const float logz = logf(sum[0]);
    for (int c = threadIdx.x; c < D; c += blockDim.x)
        lp[off + c] = burn_log_softmax_elem(z[off + c], inv_T, mx[0], logz);
}

__global__ void exp_kernel(float *p, const float *lp, int64_t n) {
    GRID_STRIDE(i, n) p[i] = expf(lp[i]);
}

// one block per row: kl = Σ p_t (lp_t − lp_s)
__global__ void row_kl_kernel(float *kl, const float *pt, const float *lpt, const float *lps,
                              int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    float acc[1] = {0.0f};
    for (int c = threadIdx.x; c < D; c += blockDim.x)
        acc[0] += pt[off + c] * (lpt[off + c] - lps[off + c]);
    block_sum<1>(acc);
    if (threadIdx.x == 0) kl[blockIdx.x] = acc[0];
}

// one block per row: inv_n = 1 / max(‖z‖, eps)
__global__ void row_inv_norm_kernel(float *inv_n, const float *z, int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    float acc[1] = {0.0f};
    for (int c = threadIdx.x; c < D; c += blockDim.x) acc[0] += z[off + c] * z[off + c];
    block_sum<1>(acc);
    if (threadIdx.x == 0) inv_n[blockIdx.x] = 1.0f / fmaxf(sqrtf(acc[0]), BURN_LOSS_NORM_EPS);
}

// one block per row: dot = s·t
__global__ void row_dot_kernel(float *dot, const float *s, const float *t, int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    float acc[1] = {0.0f};
    for (int c = threadIdx.x; c < D; c += blockDim.x) acc[0] += s[off + c] * t[off + c];
    block_sum<1>(acc);
    if (threadIdx.x == 0) dot[blockIdx.x] = acc[0];
}

// one block per row: fs = Σ FS element
__global__ void row_fs_kernel(float *fs, const float *s, const float *t, const float *inv_ns,
                              const float *inv_nt, int mode, int D) {
    const int64_t off = (int64_t)blockIdx.x * D;
    const float a = inv_ns[blockIdx.x], b = inv_nt[blockIdx.x];
    float acc[1] = {0.0f};
    for (int c = threadIdx.x; c < D; c += blockDim.x)
        acc[0] += burn_fs_elem(mode, s[off + c], t[off + c], a, b);
    block_sum<1>(acc);
    if (threadIdx.x == 0) fs[blockIdx.x] = acc[0];
}

__global__ void combine_kernel(float *kl_out, float *fs_out, float *loss, const float *kl,
                               const float *fs, float lambda, int N) {
    GRID_STRIDE(n, N) {
        if (kl_out) kl_out[n] = kl[n];
        if (fs_out) fs_out[n] = fs[n];
        if (loss) loss[n] = (1.0f - lambda) * kl[n] + lambda * fs[n];
    }
}

__global__ void grad_kernel(float *ds, float *dt, const float *s, const float *t, const float *ps,
                            const float *pt, const float *lps, const float *lpt, const float *kl,
                            const float *inv_ns, const float *inv_nt, const float *dot, int D,
                            int64_t nd, float inv_T, int mode, float w_kl, float w_fs) {
    GRID_STRIDE(i, nd) {
        const int64_t n = i / D;
        const float cos = dot[n] * inv_ns[n] * inv_nt[n];
        float gs, gt;
        burn_loss_grad_elem_p(s[i], t[i], ps[i], pt[i], lps[i], lpt[i], kl[n], inv_ns[n],
                              inv_nt[n], cos, inv_T, mode, w_kl, w_fs, &gs, &gt);
        if (ds) ds[i] = gs;
        if (dt) dt[i] = gt;
    }
}

extern "C" void cuda_loss_unfused(float *kl, float *fs, float *loss, float *ds, float *dt,
                                  const float *s, const float *t, int N, int D,
                                  burn_loss_hparams h, float *work) {
    if (N <= 0 || D <= 0) return;
    const int64_t nd = (int64_t)N * D;
    const float inv_T = 1.0f / h.temperature;
    float *lps = work, *lpt = lps + nd, *ps = lpt + nd, *pt = ps + nd;
    float *r_inv_ns = pt + nd, *r_inv_nt = r_inv_ns + N, *r_dot = r_inv_nt + N;
    float *r_kl = r_dot + N, *r_fs = r_kl + N;
    const unsigned eg = burn_grid(nd, 256);

    row_log_softmax_kernel<<<N, ROW_THREADS, 0, burn_stream>>>(lps, s, inv_T, D);
    BURN_LAUNCH_CHECK();
    row_log_softmax_kernel<<<N, ROW_THREADS, 0, burn_stream>>>(lpt, t, inv_T, D);
    BURN_LAUNCH_CHECK();
    exp_kernel<<<eg, 256, 0, burn_stream>>>(ps, lps, nd);
    BURN_LAUNCH_CHECK();
    exp_kernel<<<eg, 256, 0, burn_stream>>>(pt, lpt, nd);
    BURN_LAUNCH_CHECK();
    row_kl_kernel<<<N, ROW_THREADS, 0, burn_stream>>>(r_kl, pt, lpt, lps, D);
    BURN_LAUNCH_CHECK();
    row_inv_norm_kernel<<<N, ROW_THREADS, 0, burn_stream>>>(r_inv_ns, s, D);
    BURN_LAUNCH_CHECK();
    row_inv_norm_kernel<<<N, ROW_THREADS, 0, burn_stream>>>(r_inv_nt, t, D);
    BURN_LAUNCH_CHECK();
    row_dot_kernel<<<N, ROW_THREADS, 0, burn_stream>>>(r_dot, s, t, D);
    BURN_LAUNCH_CHECK();
    row_fs_kernel<<<N, ROW_THREADS, 0, burn_stream>>>(r_fs, s, t, r_inv_ns, r_inv_nt, h.fs, D);
    BURN_LAUNCH_CHECK();
    combine_kernel<<<burn_grid(N, 128), 128, 0, burn_stream>>>(kl, fs, loss, r_kl, r_fs, h.lambda,
                                                               N);
    BURN_LAUNCH_CHECK();
    if (!ds && !dt) return;
    grad_kernel<<<eg, 256, 0, burn_stream>>>(ds, dt, s, t, ps, pt, lps, lpt, r_kl, r_inv_ns,
                                             r_inv_nt, r_dot, D, nd, inv_T, h.fs,
                                             h.grad_scale * (1.0f - h.lambda),
                                             h.grad_scale * h.lambda);
    BURN_LAUNCH_CHECK();
}
