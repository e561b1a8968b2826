// loss.cu — fused BURN loss (METHOD.md §4; mirrors src/cpu/loss.c): one block per row of s[N, D]
// and t[N, D], three sweeps over the row (it stays in L1/L2 between them):
//   1. block max of s/T and t/T; block sums ‖s‖², ‖t‖², s·t
//   2. block sums of the two softmax normalisers, the KL numerator and FS
//   3. ds, dt from include/burn/loss.h's per-element formulas (the CPU's own)
// One launch for the whole batch; gradients written, scaled by h.grad_scale.
#include "block_reduce.cuh"
#include "burn/loss.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

#define LOSS_THREADS 256

__global__ void __launch_bounds__(LOSS_THREADS)
    loss_fused_kernel(float *kl, float *fs, float *loss, float *ds, float *dt, const float *s,
                      const float *t, int D, burn_loss_hparams h) {
    const int64_t off = (int64_t)blockIdx.x * D;
    const float *sr = s + off, *tr = t + off;
    const float inv_T = 1.0f / h.temperature;

    // 1: maxima, norms, dot
    float mx[2] = {-INFINITY, -INFINITY};
    float nd[3] = {0.0f, 0.0f, 0.0f}; // ‖s‖², ‖t‖², s·t
    for (int c = threadIdx.x; c < D; c += blockDim.x) {
        float sv = sr[c], tv = tr[c];
        mx[0] = fmaxf(mx[0], sv * inv_T);
        mx[1] = fmaxf(mx[1], tv * inv_T);
        nd[0] += sv * sv;
        nd[1] += tv * tv;
        nd[2] += sv * tv;
    }
    block_max<2>(mx);
    block_sum<3>(nd);
    burn_loss_row r;
    r.max_s = mx[0];
    r.max_t = mx[1];
    const float ns = fmaxf(sqrtf(nd[0]), BURN_LOSS_NORM_EPS);
    const float nt = fmaxf(sqrtf(nd[1]), BURN_LOSS_NORM_EPS);
    r.inv_ns = 1.0f / ns;
    r.inv_nt = 1.0f / nt;
    r.cos = nd[2] / (ns * nt);

    // 2: normalisers zs, zt, KL numerator w, FS
    float z[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int c = threadIdx.x; c < D; c += blockDim.x) {
        float sv = sr[c], tv = tr[c];
        float la = sv * inv_T - r.max_s, lb = tv * inv_T - r.max_t;
        float e = expf(lb);
        z[0] += expf(la);
        z[1] += e;
        z[2] += e * (lb - la);
        z[3] += burn_fs_elem(h.fs, sv, tv, r.inv_ns, r.inv_nt);
    }
    block_sum<4>(z);
    const float kl_row = (float)burn_kl_from_sums(z[2], z[0], z[1]);
    r.kl = kl_row;
    r.logz_s = logf(z[0]);
    r.logz_t = logf(z[1]);
    if (threadIdx.x == 0) {
        if (kl) kl[blockIdx.x] = kl_row;
        if (fs) fs[blockIdx.x] = z[3];
        if (loss) loss[blockIdx.x] = (1.0f - h.lambda) * kl_row + h.lambda * z[3];
    }

    // 3: gradients
    if (!ds && !dt) return;
    const float w_kl = h.grad_scale * (1.0f - h.lambda), w_fs = h.grad_scale * h.lambda;
    for (int c = threadIdx.x; c < D; c += blockDim.x) {
        float sv = sr[c], tv = tr[c];
        float lp_s = burn_log_softmax_elem(sv, inv_T, r.max_s, r.logz_s);
        float lp_t = burn_log_softmax_elem(tv, inv_T, r.max_t, r.logz_t);
        float gs, gt;
        burn_loss_grad_elem(sv, tv, lp_s, lp_t, r.kl, r.inv_ns, r.inv_nt, r.cos, inv_T, h.fs,
                            w_kl, w_fs, &gs, &gt);
        if (ds) ds[off + c] = gs;
        if (dt) dt[off + c] = gt;
    }
}

extern "C" void cuda_loss_fused(float *kl, float *fs, float *loss, float *ds, float *dt,
                                const float *s, const float *t, int N, int D,
                                burn_loss_hparams h) {
    if (N <= 0 || D <= 0) return;
    loss_fused_kernel<<<N, LOSS_THREADS, 0, burn_stream>>>(kl, fs, loss, ds, dt, s, t, D, h);
    BURN_LAUNCH_CHECK();
}
