/* pool.c — CPU max pool, average pool (no padding) and global average pool, forward and
 * backward. x, dx [N, C, H, W]; y, dy [N, C, Ho, Wo] (geometry in burn_pool2d). Per-element
 * formulas (window argmax with its tie rule, the gather-form backward) are in
 * include/burn/layers_math.h and shared with kernels/pool.cu. */
#include "burn/layers_math.h"
#include "cpu_ops.h"

void cpu_maxpool2d_forward(const burn_pool2d *p, float *y, const float *x) {
    int64_t planes = (int64_t)p->N * p->C, in_sz = (int64_t)p->H * p->W,
            out_sz = (int64_t)p->Ho * p->Wo;
#pragma omp parallel for if (planes * in_sz >= CPU_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_sz;
        float *yp = y + pl * out_sz;
        for (int oh = 0; oh < p->Ho; oh++)
            for (int ow = 0; ow < p->Wo; ow++)
                yp[oh * p->Wo + ow] =
                    xp[burn_maxpool_argmax(xp, p->H, p->W, oh, ow, p->kernel, p->stride, p->pad)];
    }
}

void cpu_maxpool2d_backward(const burn_pool2d *p, float *dx, const float *dy, const float *x) {
    int64_t planes = (int64_t)p->N * p->C, in_sz = (int64_t)p->H * p->W,
            out_sz = (int64_t)p->Ho * p->Wo;
#pragma omp parallel for if (planes * in_sz >= CPU_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++)
        for (int ih = 0; ih < p->H; ih++)
            for (int iw = 0; iw < p->W; iw++)
                dx[pl * in_sz + ih * p->W + iw] = burn_maxpool_grad_at(
                    x + pl * in_sz, dy + pl * out_sz, p->H, p->W, p->Ho, p->Wo, ih, iw,
                    p->kernel, p->stride, p->pad);
}

void cpu_avgpool2d_forward(const burn_pool2d *p, float *y, const float *x) {
    int64_t planes = (int64_t)p->N * p->C, in_sz = (int64_t)p->H * p->W,
            out_sz = (int64_t)p->Ho * p->Wo;
#pragma omp parallel for if (planes * in_sz >= CPU_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++)
        for (int oh = 0; oh < p->Ho; oh++)
            for (int ow = 0; ow < p->Wo; ow++)
                y[pl * out_sz + oh * p->Wo + ow] =
                    burn_avgpool_window(x + pl * in_sz, p->W, oh, ow, p->kernel, p->stride);
}

void cpu_avgpool2d_backward(const burn_pool2d *p, float *dx, const float *dy) {
    int64_t planes = (int64_t)p->N * p->C, in_sz = (int64_t)p->H * p->W,
            out_sz = (int64_t)p->Ho * p->Wo;
#pragma omp parallel for if (planes * in_sz >= CPU_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++)
        for (int ih = 0; ih < p->H; ih++)
            for (int iw = 0; iw < p->W; iw++)
                dx[pl * in_sz + ih * p->W + iw] = burn_avgpool_grad_at(
                    dy + pl * out_sz, p->Ho, p->Wo, ih, iw, p->kernel, p->stride);
}

void cpu_global_avgpool_forward(float *y, const float *x, int N, int C, int HW) {
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int64_t pl = 0; pl < (int64_t)N * C; pl++) y[pl] = burn_plane_mean(x + pl * HW, HW);
}

void cpu_global_avgpool_backward(float *dx, const float *dy, int N, int C, int HW) {
#pragma omp parallel for if ((int64_t)N * C * HW >= CPU_PAR_MIN)
    for (int64_t pl = 0; pl < (int64_t)N * C; pl++) {
        float g = dy[pl] / (float)HW;
        for (int i = 0; i < HW; i++) dx[pl * HW + i] = g;
    }
}
