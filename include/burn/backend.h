/* backend.h — the backend table: every numeric operation of burn goes through one of these.
 *
 * Two implementations: the CPU backend (src/cpu/, OpenBLAS and AVX2) and the CUDA backend
 * (kernels/, own kernels + cuBLAS/cuDNN). Models, loss, optimiser and trainer call only these
 * pointers, so the whole trainer runs and is tested on the CPU and the GPU runs the same
 * orchestration. All pointers passed to ops are in the backend's own memory.
 *
 * Conventions: float32 unless said otherwise; arrays are flat with the shape in the comment;
 * matrices are row-major; n counts elements. Every op is asynchronous on CUDA (ordered on the
 * backend's stream); `synchronize` waits, `download` waits for the data it returns. */
#ifndef BURN_BACKEND_H
#define BURN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "burn/optim.h"
#include "burn/loss.h"
#include "burn/layers.h"
#include "burn/bitpack.h"
#include "burn/bconv.h"
#include "burn/moco_math.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every op of the table, as OP(return type, name, (parameters)), in table order: the struct
 * fields below, the CPU and CUDA declarations (cpu_<name>, cuda_<name>: src/cpu/cpu_ops.h,
 * kernels/cuda_ops.h) and both tables (backend_cpu.c, backend_cuda.cu) come from this one
 * list, and burn_backend_missing() checks a table for NULL entries. Shapes and semantics
 * are in the comments. */
#define BURN_BACKEND_OPS(OP)                                                                       \
    /* ---- elementwise: x, y, a, b, out [n] ---- */                                               \
    OP(void, fill, (float *x, float value, int64_t n)) /* x = value */                             \
    OP(void, scale, (float *x, float a, int64_t n)) /* x = a*x */                                  \
    OP(void, axpy, (float *y, float a, const float *x, int64_t n)) /* y += a*x */                  \
    OP(void, add, (float *out, const float *a, const float *b, int64_t n)) /* out = a+b */         \
    OP(void, mul, (float *out, const float *a, const float *b, int64_t n)) /* out = a*b */         \
    /* ---- reductions: *out (one float in backend memory) ---- */                                 \
    OP(void, sum, (float *out, const float *x, int64_t n)) /* Σ x */                               \
    OP(void, sumsq, (float *out, const float *x, int64_t n)) /* Σ x² */                            \
    /* ---- FP32 GEMM: C[M,N] = alpha·op(A)[M,K]·op(B)[K,N] + beta·C, row-major ----               \
     * op(A) = A[M,K] (lda ≥ K) or, with trans_a, A[K,M]ᵀ (lda ≥ M); likewise B. */                \
    OP(void, gemm, (int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,    \
                    int lda, const float *B, int ldb, float beta, float *C, int ldc))              \
    /* Compute format of the FP GEMMs (gemm) and convolutions (conv2d_*) issued after the call:    \
     * BURN_COMPUTE_FP32 (default) | BF16 | FP16 (include/burn/precision.h: operands rounded       \
     * to that format, FP32 accumulation and storage). Backend-wide state, set by the trainer. */  \
    OP(void, set_compute_precision, (int precision))                                               \
    /* ---- counter-based random fill (Philox4x32-10, include/burn/rng.h) ----                     \
     * Element i depends only on (seed, offset + i): identical on both backends (uniform           \
     * bit for bit; normal within 1 ulp, see rng.h), independent of launch shape. */               \
    OP(void, uniform, (float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi))   \
    OP(void, normal, (float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std)) \
    /* ---- optimiser (include/burn/optim.h) ----                                                  \
     * One Adam step over flat arrays p, g, m, v [n] (the whole parameter buffer at once). */      \
    OP(void, adam_step, (float *p, const float *g, float *m, float *v, int64_t n,                  \
                         struct burn_adam_hparams h))                                              \
    /* ---- binarisation (include/burn/binarize.h, METHOD.md §3) ----                              \
     * Activations x, y, g, dx [N, C, HW] (NCHW, HW = H·W); per-channel parameters [C];            \
     * weights W, Wb, dW, dWb [O, K] (K = in·kh·kw), alpha [O]. dx is WRITTEN; parameter           \
     * gradients (dbeta, dgamma, dslope, dzeta, dW) are ACCUMULATED (+=) and may be NULL           \
     * (not wanted). act_mode: burn_act_grad; weight_mode: burn_weight_grad. */                    \
    OP(void, sign_forward, (float *y, const float *x, int64_t n)) /* y = sign(x) [n] */            \
    OP(void, sign_backward, (float *dx, const float *g, const float *x, int64_t n, int act_mode))  \
    /* dx = g·STE(x) */                                                                            \
    /* y = sign(x − beta_c) */                                                                     \
    OP(void, rsign_forward, (float *y, const float *x, const float *beta, int N, int C, int HW))   \
    /* dx = g·STE(x − beta_c);  dbeta_c −= Σ_{n,hw} dx */                                          \
    OP(void, rsign_backward, (float *dx, float *dbeta, const float *g, const float *x,             \
                              const float *beta, int N, int C, int HW, int act_mode))              \
    /* v = x − gamma_c;  y = (v >= 0 ? v : slope_c·v) + zeta_c */                                  \
    OP(void, rprelu_forward, (float *y, const float *x, const float *gamma, const float *slope,    \
                              const float *zeta, int N, int C, int HW))                            \
    /* dx = g·(v >= 0 ? 1 : slope_c);  dgamma_c −= Σ dx;  dslope_c += Σ g·min(v, 0);               \
     * dzeta_c += Σ g */                                                                           \
    OP(void, rprelu_backward, (float *dx, float *dgamma, float *dslope, float *dzeta,              \
                               const float *g, const float *x, const float *gamma,                 \
                               const float *slope, int N, int C, int HW))                          \
    /* alpha_o = mean_k |W[o,k]|;  Wb[o,k] = alpha_o·sign(W[o,k]) */                               \
    OP(void, binarize_weights, (float *Wb, float *alpha, const float *W, int O, int K))            \
    /* identity: dW += alpha_o·dWb;  clip: dW += dWb·1[|W| <= 1] */                                \
    OP(void, binarize_weights_backward, (float *dW, const float *dWb, const float *W,              \
                                         const float *alpha, int O, int K, int weight_mode))       \
    /* ---- BURN loss (include/burn/loss.h, METHOD.md §4) ----                                     \
     * s, t, ds, dt [N, D]; kl, fs, loss [N] per row (unscaled). ds and dt are WRITTEN with        \
     * h.grad_scale·dL/ds and h.grad_scale·dL/dt. Any of kl, fs, loss, ds, dt may be NULL.         \
     * loss_unfused computes the same in simple whole-tensor steps (the benchmark and test         \
     * reference); work: burn_loss_unfused_work_floats(N, D) floats of backend memory. */          \
    OP(void, loss_fused, (float *kl, float *fs, float *loss, float *ds, float *dt, const float *s, \
                          const float *t, int N, int D, struct burn_loss_hparams h))               \
    OP(void, loss_unfused, (float *kl, float *fs, float *loss, float *ds, float *dt,               \
                            const float *s, const float *t, int N, int D,                          \
                            struct burn_loss_hparams h, float *work))                              \
    /* ---- FP layers (include/burn/layers.h has the API, layers_math.h the formulas) ----         \
     * Activations NCHW: x, y, dx, dy [N, C, HW] (HW = H·W; BatchNorm1d and bias of a linear       \
     * layer: HW = 1); per-channel vectors [C]. dx is WRITTEN; parameter gradients (dw, dgamma,    \
     * dbeta, dslope, acc) are ACCUMULATED (+=). May be NULL (skipped): dgamma and dbeta of        \
     * bn_backward_stats, dx of prelu_backward. */                                                 \
    /* conv2d, geometry in *cv: y[N, O, Ho, Wo] = conv(x[N, C, H, W], w[O, C, kh, kw]) */          \
    OP(void, conv2d_forward, (const struct burn_conv2d *cv, float *y, const float *x,              \
                              const float *w))                                                     \
    /* dx[N, C, H, W] = conv_transpose(dy[N, O, Ho, Wo], w) */                                     \
    OP(void, conv2d_backward_data, (const struct burn_conv2d *cv, float *dx, const float *dy,      \
                                    const float *w))                                               \
    /* dw[O, C, kh, kw] += dy ⋆ x */                                                               \
    OP(void, conv2d_backward_filter, (const struct burn_conv2d *cv, float *dw, const float *dy,    \
                                      const float *x))                                             \
    /* BatchNorm. stats [2·C] doubles (backend memory): Σx then Σx² per channel */                 \
    OP(void, bn_stats, (double *stats, const float *x, int N, int C, int HW))                      \
    /* mean, invstd [C] from stats over count values; running_mean/var updated (NULL: not) */      \
    OP(void, bn_finalize, (float *mean, float *invstd, float *running_mean, float *running_var,    \
                           const double *stats, int C, int64_t count, float eps, float momentum))  \
    /* y = (x − mean_c)·invstd_c·gamma_c + beta_c */                                               \
    OP(void, bn_normalize, (float *y, const float *x, const float *mean, const float *invstd,      \
                            const float *gamma, const float *beta, int N, int C, int HW))          \
    /* eval mode: y = (x − rmean_c)/sqrt(rvar_c + eps)·gamma_c + beta_c */                         \
    OP(void, bn_eval, (float *y, const float *x, const float *running_mean,                        \
                       const float *running_var, const float *gamma, const float *beta, float eps, \
                       int N, int C, int HW))                                                      \
    /* red [2·C] doubles = Σdy, Σdy·xhat per channel; dbeta += Σdy, dgamma += Σdy·xhat */          \
    OP(void, bn_backward_stats, (double *red, float *dgamma, float *dbeta, const float *dy,        \
                                 const float *x, const float *mean, const float *invstd, int N,    \
                                 int C, int HW))                                                   \
    /* dx = gamma_c·invstd_c·(dy − Σdy/count − xhat·Σdy·xhat/count) */                             \
    OP(void, bn_backward_dx, (float *dx, const float *dy, const float *x, const float *mean,       \
                              const float *invstd, const float *gamma, const double *red,          \
                              int64_t count, int N, int C, int HW))                                \
    /* ReLU [n]: y = max(x, 0); dx = dy·1[y > 0] (y: the forward output) */                        \
    OP(void, relu_forward, (float *y, const float *x, int64_t n))                                  \
    OP(void, relu_backward, (float *dx, const float *dy, const float *y, int64_t n))               \
    /* PReLU: y = x > 0 ? x : slope_c·x;  dx (NULL: skip);  dslope_c += Σ dy·x over x <= 0 */      \
    OP(void, prelu_forward, (float *y, const float *x, const float *slope, int N, int C, int HW))  \
    OP(void, prelu_backward, (float *dx, float *dslope, const float *dy, const float *x,           \
                              const float *slope, int N, int C, int HW))                           \
    /* y = x + b_c (y may be x);  acc_c += Σ_{n,hw} x (bias gradients) */                          \
    OP(void, bias_forward, (float *y, const float *x, const float *b, int N, int C, int HW))       \
    OP(void, channel_sum, (float *acc, const float *x, int N, int C, int HW))                      \
    /* pooling, geometry in *p: x[N, C, H, W], y[N, C, Ho, Wo] */                                  \
    OP(void, maxpool2d_forward, (const struct burn_pool2d *p, float *y, const float *x))           \
    OP(void, maxpool2d_backward, (const struct burn_pool2d *p, float *dx, const float *dy,         \
                                  const float *x))                                                 \
    OP(void, avgpool2d_forward, (const struct burn_pool2d *p, float *y, const float *x))           \
    OP(void, avgpool2d_backward, (const struct burn_pool2d *p, float *dx, const float *dy))        \
    /* y[N, C] = mean_hw x[N, C, HW];  dx = dy_{n,c}/HW */                                         \
    OP(void, global_avgpool_forward, (float *y, const float *x, int N, int C, int HW))             \
    OP(void, global_avgpool_backward, (float *dx, const float *dy, int N, int C, int HW))          \
    /* rows × row_bytes from src (row pitch src_pitch bytes) to dst (dst_pitch): concat/split */   \
    OP(void, copy2d, (void *dst, size_t dst_pitch, const void *src, size_t src_pitch,              \
                      size_t row_bytes, size_t rows))                                              \
    /* ---- bit packing, xnor-popcount GEMM, binary conv2d (bitpack.h, bconv.h; METHOD.md §3) ---- \
     * Packed matrices: uint64 rows along K, row stride in words (layout in bitpack.h). */         \
    /* P[R, ldp words] = sign bits of X[R, K] (row stride ldx floats); pad bits written 0 */       \
    OP(void, bits_pack, (uint64_t *P, int ldp, const float *X, int ldx, int R, int K))             \
    /* X[R, K] (row stride ldx floats) = ±1 values of P[R, ldp words] */                           \
    OP(void, bits_unpack, (float *X, int ldx, const uint64_t *P, int ldp, int R, int K))           \
    /* C[M, N] (row stride ldc floats) = epilogue(Σ_k a_mk·b_nk) for ±1 matrices A[M, K] and       \
     * B[N, K], packed with row strides lda, ldb words; K <= BURN_XNOR_MAX_K. ep NULL: the         \
     * exact integer dots; else C = scale_m·(dot − corr[m, class_n]), class 0 = no                 \
     * correction (burn_xnor_epilogue). */                                                         \
    OP(void, xnor_gemm, (int M, int N, int K, const uint64_t *A, int lda, const uint64_t *B,       \
                         int ldb, float *C, int ldc, const struct burn_xnor_epilogue *ep))         \
    /* Binary conv, geometry in *cv (burn_bconv_init): x[N, C, H, W], y[N, O, Ho, Wo],             \
     * W, W_eff, dW [O, C, kh, kw]; ws: bconv_workspace_bytes(cv) bytes of backend memory,         \
     * shared by all bconv ops of that geometry (not kept between calls). */                       \
    OP(size_t, bconv_workspace_bytes, (const struct burn_bconv *cv))                               \
    /* Wp (burn_bconv_packed_bytes(cv) bytes) = sign(W) packed + per-tap sums: once per step */    \
    OP(void, bconv_pack_weights, (const struct burn_bconv *cv, void *Wp, const float *W))          \
    /* stage 2: y[n, o] = alpha_o·conv(sign(x), sign(W))[n, o] with zero-padded sign(x),           \
     * exact (integer conv, one float rounding); alpha [O] (NULL: 1), Wp from pack_weights */      \
    OP(void, bconv_forward_bin, (const struct burn_bconv *cv, float *y, const float *x,            \
                                 const void *Wp, const float *alpha, void *ws))                    \
    /* stage 1: y = conv(sign(x), W) with real weights, zero-padded sign(x) */                     \
    OP(void, bconv_forward_real, (const struct burn_bconv *cv, float *y, const float *x,           \
                                  const float *W, void *ws))                                       \
    /* backward of y = conv(sign(x), W_eff) (W_eff = W in stage 1, alpha_o·sign(W_o) in stage      \
     * 2): dx = ∂L/∂sign(x) WRITTEN (NULL: skip); dW += ∂L/∂W_eff ACCUMULATED (NULL: skip).        \
     * The straight-through estimators are applied by the caller (binarize.h). */                  \
    OP(void, bconv_backward, (const struct burn_bconv *cv, float *dx, float *dW, const float *dy,  \
                              const float *x, const float *W_eff, void *ws))                       \
    /* Low-precision reference GEMMs that burn_bench compares the xnor GEMM with (cuBLAS FP16      \
     * tensor cores, cublasLt INT8; naive loops on the CPU, for tests): C[M, N] = A[M, K]·B[N, K]ᵀ. \
     * prec BURN_PREC_F16: A, B IEEE half (uint16), FP32 accumulation, C float [M, N];             \
     * BURN_PREC_I8: A, B int8, int32 accumulation, C int32 [M, N] (cublasLt: M, N, K              \
     * multiples of 4, as at every ReActNet-A layer). lowp_convert: dst[n] =                       \
     * src in that precision (half: round to nearest even; int8: round, saturate). */              \
    OP(void, lowp_convert, (int prec, void *dst, const float *src, int64_t n))                     \
    OP(void, lowp_gemm, (int prec, int M, int N, int K, const void *A, const void *B, void *C))    \
    /* ---- MoCo v2 teacher pretraining (include/burn/moco_math.h, METHOD.md §8) ----              \
     * Row-major x, y, dx, dy [N, D] (one embedding per row); norm [N]; logits, dlogits            \
     * [N, C] (C = 1 + K: the positive at column 0, then the queue). Outputs are WRITTEN. */       \
    /* y = x / max(‖x_n‖, eps), norm[n] = ‖x_n‖; y may be x */                                     \
    OP(void, l2norm_rows_forward, (float *y, float *norm, const float *x, int N, int D))           \
    /* dx from dy, the forward's output y and norm; dx may be dy */                                \
    OP(void, l2norm_rows_backward, (float *dx, const float *dy, const float *y, const float *norm, \
                                    int N, int D))                                                 \
    /* z = logits·inv_temp: loss[n] = logsumexp(z_n) − z_n0, dlogits = grad_scale·dloss/dlogits    \
     * (numerically stable, one read pass per row for the logsumexp); loss or dlogits may be       \
     * NULL; dlogits must not be logits */                                                         \
    OP(void, infonce, (float *loss, float *dlogits, const float *logits, int N, int C,             \
                       float inv_temp, float grad_scale))                                          \
    /* out[n·ldo] = Σ_d a[n, d]·b[n, d] (the positive logits: a column of a wider matrix) */       \
    OP(void, row_dot, (float *out, int ldo, const float *a, const float *b, int N, int D))         \
    /* y[n, d] += s[n·lds]·x[n, d] (their backward) */                                             \
    OP(void, row_scale_add, (float *y, const float *s, int lds, const float *x, int N, int D))     \
    /* SGD with momentum and L2 weight decay over flat p, g, buf [n] (burn_sgd_update) */          \
    OP(void, sgd_step, (float *p, const float *g, float *buf, int64_t n,                           \
                        struct burn_sgd_hparams h))                                                \
    /* ---- data-parallel collectives (include/burn/dist.h; CPU: src/dist/dist_mpi.c with MPI,     \
     * CUDA: kernels/dist_nccl.cu with NCCL). Called through dist.c only, when the world has       \
     * several ranks, by every rank in the same order; buffers in backend memory, in place. */     \
    /* x[n] = Σ over ranks (BN statistics), after the work queued so far; later work waits */      \
    OP(void, dist_sum_f64, (double *x, int64_t n))                                                 \
    /* gradient all-reduce x[n] = mean over ranks, in buckets of `bucket` floats, issued as        \
     * soon as the work queued so far is done; returns without waiting. Several calls on           \
     * disjoint ranges may precede one dist_mean_wait: the work queued after it (CUDA) or the      \
     * caller (CPU) waits for all of them. */                                                      \
    OP(void, dist_mean_start, (float *x, int64_t n, int64_t bucket))                               \
    OP(void, dist_mean_wait, (void))                                                               \
    /* ---- softmax cross-entropy with integer labels (include/burn/xent_math.h) ----              \
     * logits, dlogits [N, C]; labels [N] int32 in backend memory, each in [0, C).                 \
     * loss[n] = logsumexp(z_n) − z_n[label_n] (z = logits row); dlogits = grad_scale·             \
     * (softmax(z_n) − onehot(label_n)) WRITTEN; loss or dlogits may be NULL. */                   \
    OP(void, softmax_xent, (float *loss, float *dlogits, const float *logits,                      \
                            const int32_t *labels, int N, int C, float grad_scale))

typedef struct burn_backend {
    const char *name; /* "cpu" or "cuda" */
    int is_device;    /* 1 when memory is GPU memory (needs upload/download) */

    /* ---- memory ---- */
    void *(*alloc)(size_t bytes);                               /* aborts on failure */
    void (*free)(void *p);
    void (*upload)(void *dst, const void *host_src, size_t bytes);
    void (*download)(void *host_dst, const void *src, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);      /* within the backend */
    void (*synchronize)(void);
    /* host memory for staging (data loader batches): page-locked on CUDA so uploads are
     * asynchronous DMA; plain aligned memory on the CPU. */
    void *(*host_alloc)(size_t bytes);
    void (*host_free)(void *p);

#define BURN_BACKEND_FIELD(ret, name, params) ret(*name) params;
    BURN_BACKEND_OPS(BURN_BACKEND_FIELD)
#undef BURN_BACKEND_FIELD
    /* ---- optional entries (NULL where a backend has nothing to do) ---- */
    /* join the job after MPI is up (NULL: nothing to build): CUDA makes the NCCL communicator
     * from rank 0's unique id, which bcast hands to every rank; timeout_s arms its watchdog.
     * 0, or -1 with burn_error() */
    int (*dist_attach)(int rank, int world, double timeout_s, void (*bcast)(void *buf, int bytes));
    void (*dist_detach)(void); /* NULL: nothing to free */
} burn_backend;

/* The CPU backend is always available. */
const burn_backend *burn_cpu_backend(void);

/* The CUDA backend, or NULL when burn was built without CUDA or no device is usable.
 * The first call initialises the device (cudaSetDevice(burn_device), stream, cuBLAS). */
const burn_backend *burn_cuda_backend(void);
/* Number of usable CUDA devices (0 when built without CUDA or without a driver/device). */
int burn_cuda_device_count(void);
/* 1 when this binary contains the CUDA backend. */
int burn_built_with_cuda(void);
/* train.debug: 1 makes the CUDA backend synchronise after every launch, so an asynchronous
 * fault is reported at the kernel that caused it (no effect on the CPU). */
extern int burn_debug_sync;

/* The name of the first entry of be that is NULL and may not be (the memory ops and every
 * BURN_BACKEND_OPS entry), or NULL when the table is complete. burn_backend_select refuses an
 * incomplete table. */
const char *burn_backend_missing(const burn_backend *be);

/* Resolve --device auto|cpu|cuda. auto = CUDA when a device exists, else CPU; the choice and
 * the reason are logged. Returns NULL with burn_error() set when "cuda" is asked for and
 * unavailable, or the name is unknown. */
const burn_backend *burn_backend_select(const char *device);

/* Mean of x[n] (backend memory), summed in double on the host: the per-sample loss rows a
 * step reports. */
double burn_backend_mean(const burn_backend *be, const float *x, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
