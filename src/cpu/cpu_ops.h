/* cpu_ops.h — the CPU backend's op functions, one declaration per backend-table entry.
 * backend_cpu.c puts them into the table; each op file in src/cpu/ defines some of them. */
#ifndef BURN_CPU_OPS_H
#define BURN_CPU_OPS_H

#include <stdint.h>

#include "burn/optim.h"
#include "burn/loss.h"
#include "burn/layers.h"
#include "burn/moco_math.h"

/* Loops over at least this many elements run on the OpenMP pool (the one OpenBLAS shares);
 * smaller ones stay on the calling thread, where the fork/join would cost more than it saves.
 * Every parallel loop splits independent outputs (elements, channels, images): a reduction
 * keeps its order, so results do not depend on the thread count. */
#define CPU_PAR_MIN 32768

/* elementwise.c */
/* im2col.c: one image x[C, H, W] <-> its columns cols[C·kh·kw rows ld apart][Ho·Wo] of a
 * convolution GEMM (sign: the columns of sign(x), as the binary conv's float paths use) */
typedef struct cpu_im2col_geom {
    int C, H, W, kh, kw, stride, pad, Ho, Wo;
} cpu_im2col_geom;
void cpu_im2col(const cpu_im2col_geom *g, const float *x, float *cols, int64_t ld, int sign);
void cpu_col2im(const cpu_im2col_geom *g, const float *cols, int64_t ld, float *dx);

/* panel.c: rows [R, P] of B images <-> one panel [R, B·P] (a GEMM over the group) */
void cpu_rows_to_panel(float *panel, const float *src, int R, int B, int64_t P);
void cpu_panel_to_rows(float *dst, const float *panel, int R, int B, int64_t P);

void cpu_fill(float *x, float value, int64_t n);
void cpu_scale(float *x, float a, int64_t n);
void cpu_axpy(float *y, float a, const float *x, int64_t n);
void cpu_add(float *out, const float *a, const float *b, int64_t n);
void cpu_mul(float *out, const float *a, const float *b, int64_t n);

/* reduce.c */
void cpu_sum(float *out, const float *x, int64_t n);
void cpu_sumsq(float *out, const float *x, int64_t n);

/* gemm.c: cpu_gemm (the backend op) honours the compute precision; cpu_sgemm is always FP32
 * (the binary convolutions' own GEMMs) */
void cpu_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);
void cpu_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
void cpu_set_compute_precision(int precision);
int cpu_compute_precision(void);

/* rng.c */
void cpu_uniform(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void cpu_normal(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);

/* adam.c */
void cpu_adam_step(float *p, const float *g, float *m, float *v, int64_t n,
                   burn_adam_hparams h);

/* binarize.c */
void cpu_sign_forward(float *y, const float *x, int64_t n);
void cpu_sign_backward(float *dx, const float *g, const float *x, int64_t n, int act_mode);
void cpu_binarize_weights(float *Wb, float *alpha, const float *W, int O, int K);
void cpu_binarize_weights_backward(float *dW, const float *dWb, const float *W,
                                  const float *alpha, int O, int K, int weight_mode);

/* rsign.c */
void cpu_rsign_forward(float *y, const float *x, const float *beta, int N, int C, int HW);
void cpu_rsign_backward(float *dx, float *dbeta, const float *g, const float *x,
                       const float *beta, int N, int C, int HW, int act_mode);

/* rprelu.c */
void cpu_rprelu_forward(float *y, const float *x, const float *gamma, const float *slope,
                       const float *zeta, int N, int C, int HW);
void cpu_rprelu_backward(float *dx, float *dgamma, float *dslope, float *dzeta, const float *g,
                        const float *x, const float *gamma, const float *slope, int N, int C,
                        int HW);

/* loss.c, loss_unfused.c */
void cpu_loss_fused(float *kl, float *fs, float *loss, float *ds, float *dt, const float *s,
                   const float *t, int N, int D, burn_loss_hparams h);
void cpu_loss_unfused(float *kl, float *fs, float *loss, float *ds, float *dt, const float *s,
                     const float *t, int N, int D, burn_loss_hparams h, float *work);

/* conv2d.c (im2col + OpenBLAS) */
void cpu_conv2d_forward(const struct burn_conv2d *cv, float *y, const float *x,
                        const float *w);
void cpu_conv2d_backward_data(const struct burn_conv2d *cv, float *dx, const float *dy,
                              const float *w);
void cpu_conv2d_backward_filter(const struct burn_conv2d *cv, float *dw, const float *dy,
                                const float *x);

/* bn.c */
void cpu_bn_stats(double *stats, const float *x, int N, int C, int HW);
void cpu_bn_finalize(float *mean, float *invstd, float *running_mean, float *running_var,
                     const double *stats, int C, int64_t count, float eps, float momentum);
void cpu_bn_normalize(float *y, const float *x, const float *mean, const float *invstd,
                      const float *gamma, const float *beta, int N, int C, int HW);
void cpu_bn_eval(float *y, const float *x, const float *running_mean, const float *running_var,
                 const float *gamma, const float *beta, float eps, int N, int C, int HW);
void cpu_bn_backward_stats(double *red, float *dgamma, float *dbeta, const float *dy,
                           const float *x, const float *mean, const float *invstd, int N,
                           int C, int HW);
void cpu_bn_backward_dx(float *dx, const float *dy, const float *x, const float *mean,
                        const float *invstd, const float *gamma, const double *red,
                        int64_t count, int N, int C, int HW);

/* activation.c */
void cpu_relu_forward(float *y, const float *x, int64_t n);
void cpu_relu_backward(float *dx, const float *dy, const float *y, int64_t n);
void cpu_prelu_forward(float *y, const float *x, const float *slope, int N, int C, int HW);
void cpu_prelu_backward(float *dx, float *dslope, const float *dy, const float *x,
                        const float *slope, int N, int C, int HW);
void cpu_bias_forward(float *y, const float *x, const float *b, int N, int C, int HW);
void cpu_channel_sum(float *acc, const float *x, int N, int C, int HW);

/* pool.c */
void cpu_maxpool2d_forward(const struct burn_pool2d *p, float *y, const float *x);
void cpu_maxpool2d_backward(const struct burn_pool2d *p, float *dx, const float *dy,
                            const float *x);
void cpu_avgpool2d_forward(const struct burn_pool2d *p, float *y, const float *x);
void cpu_avgpool2d_backward(const struct burn_pool2d *p, float *dx, const float *dy);
void cpu_global_avgpool_forward(float *y, const float *x, int N, int C, int HW);
void cpu_global_avgpool_backward(float *dx, const float *dy, int N, int C, int HW);

/* concat.c */
void cpu_copy2d(void *dst, size_t dst_pitch, const void *src, size_t src_pitch,
                size_t row_bytes, size_t rows);

/* bitpack.c, xnor_gemm.c (+ _avx2.c, _avx512.c), bconv.c, xnor_gemm_ref.c (lowp_*) */
struct burn_xnor_epilogue;
struct burn_bconv;
void cpu_bits_pack(uint64_t *P, int ldp, const float *X, int ldx, int R, int K);
void cpu_bits_unpack(float *X, int ldx, const uint64_t *P, int ldp, int R, int K);
void cpu_xnor_gemm(int M, int N, int K, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                   float *C, int ldc, const struct burn_xnor_epilogue *ep);
size_t cpu_bconv_workspace_bytes(const struct burn_bconv *cv);
void cpu_bconv_pack_weights(const struct burn_bconv *cv, void *Wp, const float *W);
void cpu_bconv_forward_bin(const struct burn_bconv *cv, float *y, const float *x,
                           const void *Wp, const float *alpha, void *ws);
void cpu_bconv_forward_real(const struct burn_bconv *cv, float *y, const float *x,
                            const float *W, void *ws);
void cpu_bconv_backward(const struct burn_bconv *cv, float *dx, float *dW, const float *dy,
                        const float *x, const float *W_eff, void *ws);
void cpu_lowp_convert(int prec, void *dst, const float *src, int64_t n);
void cpu_lowp_gemm(int prec, int M, int N, int K, const void *A, const void *B, void *C);

/* moco_ops.c (MoCo v2 pretraining) */
void cpu_l2norm_rows_forward(float *y, float *norm, const float *x, int N, int D);
void cpu_l2norm_rows_backward(float *dx, const float *dy, const float *y, const float *norm,
                              int N, int D);
void cpu_infonce(float *loss, float *dlogits, const float *logits, int N, int C, float inv_temp,
                 float grad_scale);
void cpu_row_dot(float *out, int ldo, const float *a, const float *b, int N, int D);
void cpu_row_scale_add(float *y, const float *s, int lds, const float *x, int N, int D);
void cpu_sgd_step(float *p, const float *g, float *buf, int64_t n, burn_sgd_hparams h);

/* src/dist/dist_mpi.c (data-parallel collectives over MPI; no attach/detach needed) */
void cpu_dist_sum_f64(double *x, int64_t n);
void cpu_dist_mean_start(float *x, int64_t n, int64_t bucket);
void cpu_dist_mean_wait(void);

/* xent.c (softmax cross-entropy with integer labels) */
void cpu_softmax_xent(float *loss, float *dlogits, const float *logits, const int32_t *labels,
                      int N, int C, float grad_scale);

#endif
