/* layers.h — the full-precision layers of burn's networks (METHOD.md §1–2): conv2d, BatchNorm2d/1d,
 * ReLU, PReLU, per-channel bias, average / max / global-average pooling, linear, channel
 * concat and residual add, forward and backward, on any backend.
 *
 * Every function takes the backend `be` and pointers in be's memory; the numeric work runs in
 * backend-table ops (backend.h, "FP layers" block): src/cpu/{conv2d,bn,activation,pool,
 * concat}.c and kernels/{conv2d_cudnn,bn,activation,pool,concat}.cu. Per-element formulas are
 * in layers_math.h (BURN_HD, shared by both backends).
 *
 * Layouts (PyTorch's): activations NCHW float32 — x[N, C, H, W], or x[N, C, HW] where only
 * the channel matters; conv weights w[O, C, kh, kw]; linear weights W[out, in]; per-channel
 * parameters [C].
 *
 * Gradients: the input gradient (dx) is WRITTEN (=); parameter gradients (dw, db, dgamma,
 * dbeta, dslope) are ACCUMULATED (+=) because they add up over micro-batches; NULL skips a
 * gradient that is not wanted (frozen weights, the network input).
 *
 * Shapes are validated once, by the *_init functions that fill a descriptor (0, or -1 with
 * burn_error() set); the forward/backward calls trust their descriptor. Layers without a
 * descriptor (ReLU, PReLU, bias, global pool, concat) take N, C, HW from the layer that made
 * their input.
 *
 * No call allocates in steady state: conv2d's scratch (CPU im2col columns, cuDNN workspace)
 * and the CUDA reduction partials are owned by the backend and grow to the largest shape seen;
 * cuDNN algorithms are chosen once per shape and cached. BatchNorm alone needs a small
 * caller buffer (`stats`, burn_bn_stats_bytes) so that synchronised BN can all-reduce it.
 *
 * Usage (one ReActNet-style piece, shapes in comments; be = the backend, pointers in its
 * memory, p.* = parameter views, g.* = their gradients):
 *
 *     burn_conv2d cv;  burn_bn bn;  burn_pool2d sc;                 // at model build
 *     if (burn_conv2d_init(&cv, N, C, H, W, C, 3, 3, 2, 1)) fail(burn_error());
 *     burn_bn_init(&bn, N, C, cv.Ho * cv.Wo);
 *     burn_avgpool2d_init(&sc, N, C, H, W, 2, 2);      // shortcut: same Ho, Wo for even H, W
 *     double *stats = be->alloc(burn_bn_stats_bytes(&bn));
 *
 *     burn_conv2d_forward(be, &cv, a, x, p.w);                     // a[N, C, Ho, Wo]
 *     burn_bn_forward_train(be, &bn, b, mean, invstd, p.rmean, p.rvar, stats, a, p.g, p.b);
 *     burn_avgpool2d_forward(be, &sc, s, x);                       // s[N, C, Ho, Wo]
 *     be->add(out, b, s, n_out);                                   // residual add
 *     ...
 *     // backward, dout given: d(b) = d(s) = dout (pass the same pointer)
 *     burn_bn_backward(be, &bn, da, g.g, g.b, stats, dout, a, p.g, mean, invstd);
 *     burn_conv2d_backward(be, &cv, dx, g.w, da, x, p.w);          // dx written, g.w +=
 *     burn_avgpool2d_backward(be, &sc, dx_sc, dout);
 *     be->axpy(dx, 1.0f, dx_sc, n_in);                             // x fed two branches
 *
 * Residual add needs no new op: forward be->add(y, a, b, n); backward the gradient of each
 * summand is dy itself, and where one tensor feeds several branches their gradients add with
 * be->axpy(dst, 1.0f, src, n) (or be->add(dst, dst, src, n)). */
#ifndef BURN_LAYERS_H
#define BURN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct burn_backend;

/* ---- conv2d: groups 1, dilation 1, no bias, same stride and padding on both axes ---- */
typedef struct burn_conv2d {
    int N, C, H, W;  /* input  x[N, C, H, W] */
    int O, kh, kw;   /* weight w[O, C, kh, kw] */
    int stride, pad; /* zero padding */
    int Ho, Wo;      /* output y[N, O, Ho, Wo], Ho = (H + 2·pad − kh)/stride + 1 (floor) */
} burn_conv2d;

/* Fill cv; -1 (burn_error) for a non-positive size or stride, pad < 0, or an empty output. */
int burn_conv2d_init(burn_conv2d *cv, int N, int C, int H, int W, int O, int kh, int kw,
                     int stride, int pad);
/* y[N, O, Ho, Wo] = conv(x[N, C, H, W], w[O, C, kh, kw]) */
void burn_conv2d_forward(const struct burn_backend *be, const burn_conv2d *cv, float *y,
                         const float *x, const float *w);
/* dx[N, C, H, W] = conv_transpose(dy, w) (written; NULL: skip);
 * dw[O, C, kh, kw] += dy ⋆ x (accumulated; NULL: skip). dy[N, O, Ho, Wo]. */
void burn_conv2d_backward(const struct burn_backend *be, const burn_conv2d *cv, float *dx,
                          float *dw, const float *dy, const float *x, const float *w);

/* ---- BatchNorm2d (HW = H·W) and BatchNorm1d (x[N, C], HW = 1), affine ----
 * Train mode normalises with the batch statistics (biased variance) and updates the running
 * statistics with momentum 0.1 and the UNBIASED variance (PyTorch); eval mode normalises with
 * the running statistics. eps 1e-5. Train mode saves the batch mean and inverse std [C] for
 * backward. */
typedef struct burn_bn {
    int N, C, HW;         /* x, y [N, C, HW] */
    float eps, momentum;  /* 1e-5, 0.1 from burn_bn_init; may be changed after */
} burn_bn;

int burn_bn_init(burn_bn *bn, int N, int C, int HW);
/* Bytes of the caller's `stats` buffer (backend memory): 2·C doubles. */
size_t burn_bn_stats_bytes(const burn_bn *bn);
/* Train-mode forward. y[N, C, HW]; save_mean, save_invstd [C] written; running_mean,
 * running_var [C] updated (NULL: not updated); stats [2·C] doubles is scratch (Σx, Σx²).
 * -1 (burn_error) when N·HW < 2: a batch variance needs two values, as in PyTorch. */
int burn_bn_forward_train(const struct burn_backend *be, const burn_bn *bn, float *y,
                          float *save_mean, float *save_invstd, float *running_mean,
                          float *running_var, double *stats, const float *x,
                          const float *gamma, const float *beta);
/* Eval-mode forward with the running statistics. */
void burn_bn_forward_eval(const struct burn_backend *be, const burn_bn *bn, float *y,
                          const float *x, const float *gamma, const float *beta,
                          const float *running_mean, const float *running_var);
/* Train-mode backward: dx written (NULL: skip), dgamma, dbeta [C] accumulated (NULL: skip).
 * x, save_mean, save_invstd as in the forward; stats is scratch again. */
void burn_bn_backward(const struct burn_backend *be, const burn_bn *bn, float *dx,
                      float *dgamma, float *dbeta, double *stats, const float *dy,
                      const float *x, const float *gamma, const float *save_mean,
                      const float *save_invstd);
/* Synchronised BN (later issue) calls the backend ops that these two are made of, with an
 * all-reduce (sum) of the 2·C doubles in between and count = the global N·HW:
 *   forward:  be->bn_stats(stats, x, N, C, HW);          all-reduce(stats);
 *             be->bn_finalize(mean, invstd, rmean, rvar, stats, C, count, eps, momentum);
 *             be->bn_normalize(y, x, mean, invstd, gamma, beta, N, C, HW);
 *   backward: be->bn_backward_stats(stats, dgamma, dbeta, dy, x, mean, invstd, N, C, HW);
 *             all-reduce(stats);   (dgamma/dbeta got the LOCAL sums, as PyTorch's SyncBN)
 *             be->bn_backward_dx(dx, dy, x, mean, invstd, gamma, stats, count, N, C, HW); */

/* ---- activations and bias, x, y, dx, dy [N, C, HW] (or [n]) ---- */
/* y = max(x, 0); y may be x (in place) */
void burn_relu_forward(const struct burn_backend *be, float *y, const float *x, int64_t n);
/* dx = dy·1[y > 0] from the forward OUTPUT y; dx may be dy */
void burn_relu_backward(const struct burn_backend *be, float *dx, const float *dy,
                        const float *y, int64_t n);
/* y = x > 0 ? x : slope[c]·x  (torch.nn.PReLU(C)); y must not be x (backward needs x) */
void burn_prelu_forward(const struct burn_backend *be, float *y, const float *x,
                        const float *slope, int N, int C, int HW);
/* dx = dy·(x > 0 ? 1 : slope[c]) (written; NULL: skip); dslope[c] += Σ dy·x over x <= 0 */
void burn_prelu_backward(const struct burn_backend *be, float *dx, float *dslope,
                         const float *dy, const float *x, const float *slope, int N, int C,
                         int HW);
/* y = x + b[c]; y may be x */
void burn_bias_forward(const struct burn_backend *be, float *y, const float *x, const float *b,
                       int N, int C, int HW);
/* db[c] += Σ_{n,hw} dy. (dx = dy: pass dy on.) */
void burn_bias_backward(const struct burn_backend *be, float *db, const float *dy, int N, int C,
                        int HW);

/* ---- pooling, floor mode (PyTorch's default ceil_mode = False) ---- */
typedef struct burn_pool2d {
    int N, C, H, W;          /* x[N, C, H, W] */
    int kernel, stride, pad; /* square window */
    int Ho, Wo;              /* y[N, C, Ho, Wo], Ho = (H + 2·pad − kernel)/stride + 1 */
} burn_pool2d;

/* Max pool (ResNet stem: kernel 3, stride 2, pad 1); pad <= kernel/2 as PyTorch requires.
 * Backward routes each dy to the argmax of its window; ties go to the FIRST maximum in
 * row-major window order (PyTorch's CPU rule), a NaN wins. Overlapping windows add. */
int burn_maxpool2d_init(burn_pool2d *p, int N, int C, int H, int W, int kernel, int stride,
                        int pad);
void burn_maxpool2d_forward(const struct burn_backend *be, const burn_pool2d *p, float *y,
                            const float *x);
/* dx written; needs the forward input x (the argmax is recomputed, no index tensor) */
void burn_maxpool2d_backward(const struct burn_backend *be, const burn_pool2d *p, float *dx,
                             const float *dy, const float *x);

/* Average pool without padding (ReActNet shortcut: kernel 2, stride 2). Odd sizes floor as
 * PyTorch's AvgPool2d(2, 2): a 7×7 input gives 3×3, its last row and column are dropped in
 * the forward and get a zero gradient. */
int burn_avgpool2d_init(burn_pool2d *p, int N, int C, int H, int W, int kernel, int stride);
void burn_avgpool2d_forward(const struct burn_backend *be, const burn_pool2d *p, float *y,
                            const float *x);
void burn_avgpool2d_backward(const struct burn_backend *be, const burn_pool2d *p, float *dx,
                             const float *dy);

/* Global average pool: y[N, C] = mean over HW of x[N, C, HW]; backward dx = dy/HW. */
void burn_global_avgpool_forward(const struct burn_backend *be, float *y, const float *x,
                                 int N, int C, int HW);
void burn_global_avgpool_backward(const struct burn_backend *be, float *dx, const float *dy,
                                  int N, int C, int HW);

/* ---- linear: y[N, out] = x[N, in]·W[out, in]ᵀ + b[out] (be->gemm) ---- */
typedef struct burn_linear {
    int N, in, out;
} burn_linear;

int burn_linear_init(burn_linear *l, int N, int in, int out);
/* b may be NULL (no bias) */
void burn_linear_forward(const struct burn_backend *be, const burn_linear *l, float *y,
                         const float *x, const float *W, const float *b);
/* dx[N, in] = dy·W (written), dW[out, in] += dyᵀ·x, db[out] += Σ_n dy; each NULL: skip */
void burn_linear_backward(const struct burn_backend *be, const burn_linear *l, float *dx,
                          float *dW, float *db, const float *dy, const float *x,
                          const float *W);

/* ---- channel concat: y[N, Ca + Cb, HW] = [a[N, Ca, HW], b[N, Cb, HW]] ---- */
void burn_concat_forward(const struct burn_backend *be, float *y, const float *a,
                         const float *b, int N, int Ca, int Cb, int HW);
/* da, db written with their channels of dy (NULL: skip) */
void burn_concat_backward(const struct burn_backend *be, float *da, float *db, const float *dy,
                          int N, int Ca, int Cb, int HW);

#ifdef __cplusplus
}
#endif

#endif
