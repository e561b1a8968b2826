// bn.cu — BatchNorm pieces on CUDA (mirrors src/cpu/bn.c): per-channel statistics and the
// backward reductions through channel_reduce.cuh (deterministic), a per-channel finalize, and
// per-element normalise / eval / dx kernels. x, y, dx, dy [N, C, HW]; stats, red [2·C]
// doubles. Per-element formulas: include/burn/layers_math.h.
#include "cuda_common.cuh"
#include "channel_reduce.cuh"
#include "cuda_ops.h"
#include "burn/layers_math.h"

namespace {

struct StatsTerm { // Σx, Σx²
    const float *x;
    __device__ void operator()(int64_t i, int, double *acc) const {
        double v = x[i];
        acc[0] += v;
        acc[1] += v * v;
    }
};

struct StatsStore {
    double *stats;
    int C;
    __device__ void operator()(int c, const double *tot) const {
        stats[c] = tot[0];
        stats[C + c] = tot[1];
    }
};

struct BackwardTerm { // Σdy, Σdy·xhat
    const float *dy, *x, *mean, *invstd;
    __device__ void operator()(int64_t i, int c, double *acc) const {
        float g = dy[i];
        acc[0] += g;
        acc[1] += (double)g * (double)burn_bn_xhat(x[i], mean[c], invstd[c]);
    }
};

struct BackwardStore { // red = the sums; dbeta += Σdy, dgamma += Σdy·xhat
    double *red;
    float *dgamma, *dbeta;
    int C;
    __device__ void operator()(int c, const double *tot) const {
        red[c] = tot[0];
        red[C + c] = tot[1];
        if (dbeta) dbeta[c] += (float)tot[0];
        if (dgamma) dgamma[c] += (float)tot[1];
    }
};

} // namespace

static __global__ void bn_finalize_kernel(float *mean, float *invstd, float *running_mean,
                                          float *running_var, const double *stats, int C,
                                          int64_t count, float eps, float momentum) {
    GRID_STRIDE(c, C)
    burn_bn_finalize_channel(stats[c], stats[C + c], count, eps, momentum, &mean[c], &invstd[c],
                             running_mean ? &running_mean[c] : nullptr,
                             running_var ? &running_var[c] : nullptr);
}

static __global__ void bn_normalize_kernel(float *y, const float *x, const float *mean,
                                           const float *invstd, const float *gamma,
                                           const float *beta, int C, int HW, int64_t n) {
    GRID_STRIDE(i, n) {
        int c = (int)((i / HW) % C);
        y[i] = burn_bn_apply(x[i], mean[c], invstd[c], gamma[c], beta[c]);
    }
}

static __global__ void bn_eval_kernel(float *y, const float *x, const float *running_mean,
                                      const float *running_var, const float *gamma,
                                      const float *beta, float eps, int C, int HW, int64_t n) {
    GRID_STRIDE(i, n) {
        int c = (int)((i / HW) % C);
        y[i] = burn_bn_apply(x[i], running_mean[c], burn_bn_eval_invstd(running_var[c], eps),
                             gamma[c], beta[c]);
    }
}

static __global__ void bn_dx_kernel(float *dx, const float *dy, const float *x,
                                    const float *mean, const float *invstd, const float *gamma,
                                    const double *red, int64_t count, int C, int HW,
                                    int64_t n) {
    GRID_STRIDE(i, n) {
        int c = (int)((i / HW) % C);
        // the same float conversions as src/cpu/bn.c
        float mean_dy = (float)(red[c] / (double)count);
        float mean_dy_xhat = (float)(red[C + c] / (double)count);
        dx[i] = burn_bn_dx(dy[i], x[i], mean[c], invstd[c], gamma[c], mean_dy, mean_dy_xhat);
    }
}

extern "C" void cuda_bn_stats(double *stats, const float *x, int N, int C, int HW) {
    channel_reduce<2>(StatsTerm{x}, StatsStore{stats, C}, N, C, HW);
}

extern "C" void cuda_bn_finalize(float *mean, float *invstd, float *running_mean,
                                 float *running_var, const double *stats, int C, int64_t count,
                                 float eps, float momentum) {
    if (C <= 0) return;
    bn_finalize_kernel<<<burn_grid(C, 128), 128, 0, burn_stream>>>(
        mean, invstd, running_mean, running_var, stats, C, count, eps, momentum);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_bn_normalize(float *y, const float *x, const float *mean,
                                  const float *invstd, const float *gamma, const float *beta,
                                  int N, int C, int HW) {
    int64_t n = (int64_t)N * C * HW;
    if (n <= 0) return;
    bn_normalize_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(y, x, mean, invstd, gamma,
                                                                     beta, C, HW, n);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_bn_eval(float *y, const float *x, const float *running_mean,
                             const float *running_var, const float *gamma, const float *beta,
                             float eps, int N, int C, int HW) {
    int64_t n = (int64_t)N * C * HW;
    if (n <= 0) return;
    bn_eval_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(y, x, running_mean, running_var,
                                                                gamma, beta, eps, C, HW, n);
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_bn_backward_stats(double *red, float *dgamma, float *dbeta,
                                       const float *dy, const float *x, const float *mean,
                                       const float *invstd, int N, int C, int HW) {
    channel_reduce<2>(BackwardTerm{dy, x, mean, invstd}, BackwardStore{red, dgamma, dbeta, C}, N,
                      C, HW);
}

extern "C" void cuda_bn_backward_dx(float *dx, const float *dy, const float *x,
                                    const float *mean, const float *invstd, const float *gamma,
                                    const double *red, int64_t count, int N, int C, int HW) {
    int64_t n = (int64_t)N * C * HW;
    if (n <= 0) return;
    bn_dx_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(dx, dy, x, mean, invstd, gamma, red,
                                                              count, C, HW, n);
    BURN_LAUNCH_CHECK();
}
