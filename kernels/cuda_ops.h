// cuda_ops.h — the CUDA backend's op functions, one per backend-table entry
// (mirrors src/cpu/cpu_ops.h). backend_cuda.cu puts them into the table.
#pragma once
#include <stdint.h>

#include "burn/optim.h"
#include "burn/loss.h"
#include "burn/layers.h"
#include "burn/moco_math.h"

#ifdef __cplusplus
extern "C" {
#endif

// elementwise.cu
void cuda_fill(float *x, float value, int64_t n);
void cuda_scale(float *x, float a, int64_t n);
void cuda_axpy(float *y, float a, const float *x, int64_t n);
void cuda_add(float *out, const float *a, const float *b, int64_t n);
void cuda_mul(float *out, const float *a, const float *b, int64_t n);

// reduce.cu
void cuda_sum(float *out, const float *x, int64_t n);
void cuda_sumsq(float *out, const float *x, int64_t n);

// gemm.cu
void cuda_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);

// precision.cu (the rounding helpers are in cuda_common.cuh)
void cuda_set_compute_precision(int precision);

// rng.cu
void cuda_uniform(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void cuda_normal(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);

// adam.cu
void cuda_adam_step(float *p, const float *g, float *m, float *v, int64_t n,
                    burn_adam_hparams h);

// binarize.cu
void cuda_sign_forward(float *y, const float *x, int64_t n);
void cuda_sign_backward(float *dx, const float *g, const float *x, int64_t n, int act_mode);
void cuda_binarize_weights(float *Wb, float *alpha, const float *W, int O, int K);
void cuda_binarize_weights_backward(float *dW, const float *dWb, const float *W,
                                   const float *alpha, int O, int K, int weight_mode);

// rsign.cu
void cuda_rsign_forward(float *y, const float *x, const float *beta, int N, int C, int HW);
void cuda_rsign_backward(float *dx, float *dbeta, const float *g, const float *x,
                        const float *beta, int N, int C, int HW, int act_mode);

// rprelu.cu
void cuda_rprelu_forward(float *y, const float *x, const float *gamma, const float *slope,
                        const float *zeta, int N, int C, int HW);
void cuda_rprelu_backward(float *dx, float *dgamma, float *dslope, float *dzeta, const float *g,
                         const float *x, const float *gamma, const float *slope, int N, int C,
                         int HW);

// loss.cu, loss_unfused.cu
void cuda_loss_fused(float *kl, float *fs, float *loss, float *ds, float *dt, const float *s,
                    const float *t, int N, int D, burn_loss_hparams h);
void cuda_loss_unfused(float *kl, float *fs, float *loss, float *ds, float *dt, const float *s,
                      const float *t, int N, int D, burn_loss_hparams h, float *work);

// conv2d_cudnn.cu (cuDNN)
void cuda_conv2d_forward(const struct burn_conv2d *cv, float *y, const float *x,
                         const float *w);
void cuda_conv2d_backward_data(const struct burn_conv2d *cv, float *dx, const float *dy,
                               const float *w);
void cuda_conv2d_backward_filter(const struct burn_conv2d *cv, float *dw, const float *dy,
                                 const float *x);

// bn.cu
void cuda_bn_stats(double *stats, const float *x, int N, int C, int HW);
void cuda_bn_finalize(float *mean, float *invstd, float *running_mean, float *running_var,
                      const double *stats, int C, int64_t count, float eps, float momentum);
void cuda_bn_normalize(float *y, const float *x, const float *mean, const float *invstd,
                       const float *gamma, const float *beta, int N, int C, int HW);
void cuda_bn_eval(float *y, const float *x, const float *running_mean, const float *running_var,
                  const float *gamma, const float *beta, float eps, int N, int C, int HW);
void cuda_bn_backward_stats(double *red, float *dgamma, float *dbeta, const float *dy,
                            const float *x, const float *mean, const float *invstd, int N,
                            int C, int HW);
void cuda_bn_backward_dx(float *dx, const float *dy, const float *x, const float *mean,
                         const float *invstd, const float *gamma, const double *red,
                         int64_t count, int N, int C, int HW);

// activation.cu
void cuda_relu_forward(float *y, const float *x, int64_t n);
void cuda_relu_backward(float *dx, const float *dy, const float *y, int64_t n);
void cuda_prelu_forward(float *y, const float *x, const float *slope, int N, int C, int HW);
void cuda_prelu_backward(float *dx, float *dslope, const float *dy, const float *x,
                         const float *slope, int N, int C, int HW);
void cuda_bias_forward(float *y, const float *x, const float *b, int N, int C, int HW);
void cuda_channel_sum(float *acc, const float *x, int N, int C, int HW);

// pool.cu
void cuda_maxpool2d_forward(const struct burn_pool2d *p, float *y, const float *x);
void cuda_maxpool2d_backward(const struct burn_pool2d *p, float *dx, const float *dy,
                             const float *x);
void cuda_avgpool2d_forward(const struct burn_pool2d *p, float *y, const float *x);
void cuda_avgpool2d_backward(const struct burn_pool2d *p, float *dx, const float *dy);
void cuda_global_avgpool_forward(float *y, const float *x, int N, int C, int HW);
void cuda_global_avgpool_backward(float *dx, const float *dy, int N, int C, int HW);

// concat.cu
void cuda_copy2d(void *dst, size_t dst_pitch, const void *src, size_t src_pitch,
                 size_t row_bytes, size_t rows);

// moco_ops.cu (MoCo v2 pretraining)
void cuda_l2norm_rows_forward(float *y, float *norm, const float *x, int N, int D);
void cuda_l2norm_rows_backward(float *dx, const float *dy, const float *y, const float *norm,
                               int N, int D);
void cuda_infonce(float *loss, float *dlogits, const float *logits, int N, int C, float inv_temp,
                  float grad_scale);
void cuda_row_dot(float *out, int ldo, const float *a, const float *b, int N, int D);
void cuda_row_scale_add(float *y, const float *s, int lds, const float *x, int N, int D);
void cuda_sgd_step(float *p, const float *g, float *buf, int64_t n, burn_sgd_hparams h);

// dist_nccl.cu (data-parallel collectives over NCCL)
int cuda_dist_attach(int rank, int world, double timeout_s, void (*bcast)(void *buf, int bytes));
void cuda_dist_detach(void);
void cuda_dist_sum_f64(double *x, int64_t n);
void cuda_dist_mean_start(float *x, int64_t n, int64_t bucket);
void cuda_dist_mean_wait(void);

// bitpack.cu, xnor_gemm.cu, xnor_gemm_ref.cu, bconv.cu
struct burn_xnor_epilogue;
struct burn_bconv;
void cuda_bits_pack(uint64_t *P, int ldp, const float *X, int ldx, int R, int K);
void cuda_bits_unpack(float *X, int ldx, const uint64_t *P, int ldp, int R, int K);
void cuda_xnor_gemm(int M, int N, int K, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                    float *C, int ldc, const struct burn_xnor_epilogue *ep);
size_t cuda_bconv_workspace_bytes(const struct burn_bconv *cv);
void cuda_bconv_pack_weights(const struct burn_bconv *cv, void *Wp, const float *W);
void cuda_bconv_forward_bin(const struct burn_bconv *cv, float *y, const float *x,
                            const void *Wp, const float *alpha, void *ws);
void cuda_bconv_forward_real(const struct burn_bconv *cv, float *y, const float *x,
                             const float *W, void *ws);
void cuda_bconv_backward(const struct burn_bconv *cv, float *dx, float *dW, const float *dy,
                         const float *x, const float *W_eff, void *ws);
void cuda_lowp_convert(int prec, void *dst, const float *src, int64_t n);
void cuda_lowp_gemm(int prec, int M, int N, int K, const void *A, const void *B, void *C);

// xent.cu (softmax cross-entropy with integer labels)
void cuda_softmax_xent(float *loss, float *dlogits, const float *logits, const int32_t *labels,
                       int N, int C, float grad_scale);

#ifdef __cplusplus
}
#endif
