// pool.cu — max pool, average pool (no padding) and global average pool on CUDA (mirrors
// src/cpu/pool.c). One thread per output element forward, one per input element backward:
// the backward gathers from the windows that contain its input (no atomics), with the same
// BURN_HD functions as the CPU (include/burn/layers_math.h), hence the same sums in the same
// order. x, dx [N, C, H, W]; y, dy [N, C, Ho, Wo].
#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "burn/layers_math.h"

// p is passed by value: the descriptor lives in host memory.
static __global__ void maxpool_forward_kernel(burn_pool2d p, float *y, const float *x,
                                              int64_t n) {
    GRID_STRIDE(o, n) {
        int64_t plane = o / ((int64_t)p.Ho * p.Wo);
        int r = (int)(o - plane * p.Ho * p.Wo), oh = r / p.Wo, ow = r % p.Wo;
        const float *xp = x + plane * p.H * p.W;
        y[o] = xp[burn_maxpool_argmax(xp, p.H, p.W, oh, ow, p.kernel, p.stride, p.pad)];
    }
}

static __global__ void maxpool_backward_kernel(burn_pool2d p, float *dx, const float *dy,
                                               const float *x, int64_t n) {
    GRID_STRIDE(e, n) {
        int64_t plane = e / ((int64_t)p.H * p.W);
        int r = (int)(e - plane * p.H * p.W), ih = r / p.W, iw = r % p.W;
        dx[e] = burn_maxpool_grad_at(x + plane * p.H * p.W, dy + plane * p.Ho * p.Wo, p.H, p.W,
                                     p.Ho, p.Wo, ih, iw, p.kernel, p.stride, p.pad);
    }
}

static __global__ void avgpool_forward_kernel(burn_pool2d p, float *y, const float *x,
                                              int64_t n) {
    GRID_STRIDE(o, n) {
        int64_t plane = o / ((int64_t)p.Ho * p.Wo);
        int r = (int)(o - plane * p.Ho * p.Wo), oh = r / p.Wo, ow = r % p.Wo;
        y[o] = burn_avgpool_window(x + plane * p.H * p.W, p.W, oh, ow, p.kernel, p.stride);
    }
}

static __global__ void avgpool_backward_kernel(burn_pool2d p, float *dx, const float *dy,
                                               int64_t n) {
    GRID_STRIDE(e, n) {
        int64_t plane = e / ((int64_t)p.H * p.W);
        int r = (int)(e - plane * p.H * p.W), ih = r / p.W, iw = r % p.W;
        dx[e] = burn_avgpool_grad_at(dy + plane * p.Ho * p.Wo, p.Ho, p.Wo, ih, iw, p.kernel,
                                     p.stride);
    }
}

static __global__ void global_avgpool_forward_kernel(float *y, const float *x, int HW,
                                                     int64_t planes) {
    GRID_STRIDE(pl, planes) y[pl] = burn_plane_mean(x + pl * HW, HW);
}

static __global__ void global_avgpool_backward_kernel(float *dx, const float *dy, int HW,
                                                      int64_t n) {
    GRID_STRIDE(i, n) dx[i] = dy[i / HW] / (float)HW;
}

#define LAUNCH_POOL(kernel, n, ...)                                        \
    do {                                                                   \
        if ((n) <= 0) return;                                              \
        kernel<<<burn_grid((n), 256), 256, 0, burn_stream>>>(__VA_ARGS__); \
        BURN_LAUNCH_CHECK();                                               \
    } while (0)

extern "C" void cuda_maxpool2d_forward(const burn_pool2d *p, float *y, const float *x) {
    int64_t n = (int64_t)p->N * p->C * p->Ho * p->Wo;
    LAUNCH_POOL(maxpool_forward_kernel, n, *p, y, x, n);
}

extern "C" void cuda_maxpool2d_backward(const burn_pool2d *p, float *dx, const float *dy,
                                        const float *x) {
    int64_t n = (int64_t)p->N * p->C * p->H * p->W;
    LAUNCH_POOL(maxpool_backward_kernel, n, *p, dx, dy, x, n);
}

extern "C" void cuda_avgpool2d_forward(const burn_pool2d *p, float *y, const float *x) {
    int64_t n = (int64_t)p->N * p->C * p->Ho * p->Wo;
    LAUNCH_POOL(avgpool_forward_kernel, n, *p, y, x, n);
}

extern "C" void cuda_avgpool2d_backward(const burn_pool2d *p, float *dx, const float *dy) {
    int64_t n = (int64_t)p->N * p->C * p->H * p->W;
    LAUNCH_POOL(avgpool_backward_kernel, n, *p, dx, dy, n);
}

extern "C" void cuda_global_avgpool_forward(float *y, const float *x, int N, int C, int HW) {
    int64_t planes = (int64_t)N * C;
    LAUNCH_POOL(global_avgpool_forward_kernel, planes, y, x, HW, planes);
}

extern "C" void cuda_global_avgpool_backward(float *dx, const float *dy, int N, int C, int HW) {
    int64_t n = (int64_t)N * C * HW;
    LAUNCH_POOL(global_avgpool_backward_kernel, n, dx, dy, HW, n);
}
