/* net.h — running the networks of models.h: forward and backward passes on any backend, with
 * the activations backward needs kept in a per-batch-size "run" object (llm.c style: explicit
 * layer calls, no autograd engine).
 *
 * Conventions: inputs x[N, 3, S, S] and outputs in backend memory; parameter gradients
 * ACCUMULATE into the registry's grad buffer (zero it once per optimiser step); input
 * gradients are written. BatchNorm: train = batch statistics and running-stat update, eval =
 * running statistics. A run holds one forward's activations: call backward before the next
 * forward on the same run. */
#ifndef BURN_NET_H
#define BURN_NET_H

#include "burn/backend.h"
#include "burn/models.h"
#include "burn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ReActNet-A (the student) ---- */
typedef struct burn_reactnet_run burn_reactnet_run;

/* Activations and scratch for batches of N. act_grad, weight_grad: binarize.h modes.
 * NULL with burn_error() set when a layer cannot be built for this size. */
burn_reactnet_run *burn_reactnet_run_new(const burn_reactnet *net, const burn_backend *be,
                                         int N, int act_grad, int weight_grad);
void burn_reactnet_run_free(burn_reactnet_run *r);
/* train.debug: check every layer's output for NaN/Inf in forward (forward returns -1, the error
 * names the block and layer) and each block's input gradient in backward: then
 * burn_reactnet_grad_fault returns 1 (once) with burn_error() naming the first one. */
void burn_reactnet_set_debug(burn_reactnet_run *r, int on);
/* Called during burn_reactnet_backward as each part's parameter gradients are complete (queued
 * on the backend): part = BURN_REACTNET_BLOCKS for the FC, then k for block k (from the top),
 * then -1 for the stem. NULL: none. The data-parallel trainer sends gradient buckets then. */
void burn_reactnet_set_grad_hook(burn_reactnet_run *r, void (*fn)(void *ctx, int part),
                                 void *ctx);
int burn_reactnet_grad_fault(burn_reactnet_run *r);
/* Stage 2: binarise and pack the current weights (α, sign bits). Call after every change of
 * the weights (optimiser step, load) and before forward; a no-op in stage 1. */
void burn_reactnet_prepare(burn_reactnet_run *r, const burn_params *ps);
/* feature[N, F] (F = net->feature_dim; inside the run, valid until the next forward).
 * -1 with burn_error() only for BN with a single value per channel in train mode. */
int burn_reactnet_forward(burn_reactnet_run *r, const burn_params *ps, const float *x,
                          int train, const float **feature);
/* From dfeature[N, F]: parameter gradients accumulate into ps->grad. */
void burn_reactnet_backward(burn_reactnet_run *r, burn_params *ps, const float *dfeature);

/* ---- MLP head ---- */
typedef struct burn_head_run burn_head_run;
burn_head_run *burn_head_run_new(const burn_head *h, const burn_backend *be, int N);
void burn_head_run_free(burn_head_run *r);
/* logits[N, out] (inside the run) from x[N, in] (kept by pointer: must stay valid until
 * backward). */
int burn_head_forward(burn_head_run *r, const burn_params *ps, const float *x, int train,
                      const float **logits);
/* dx[N, in] written (NULL: skip); parameter gradients accumulate. */
void burn_head_backward(burn_head_run *r, burn_params *ps, const float *dlogits, float *dx);

/* ---- ResNet, forward only with eval-mode BN (the frozen teacher): no activations kept ---- */
typedef struct burn_resnet_run burn_resnet_run;
burn_resnet_run *burn_resnet_run_new(const burn_resnet *net, const burn_backend *be, int N);
void burn_resnet_run_free(burn_resnet_run *r);
/* feature[N, feature_dim] written by the caller-provided pointer (backend memory). */
void burn_resnet_forward_eval(burn_resnet_run *r, const burn_params *ps, const float *x,
                              float *feature);

/* ==== trainable ResNet (src/nn/net_resnet_train.c), for MoCo v2 pretraining of the teacher ====
 * Train mode: batch-statistics BN with running-statistics update (in ps), every activation
 * kept for backward; eval mode: running statistics (the same result as
 * burn_resnet_forward_eval). The registry must hold the net's tensors as TRAINABLE
 * (burn_resnet_register with trainable = 1). */
typedef struct burn_resnet_train_run burn_resnet_train_run;
/* Activations and scratch for batches of N; NULL with burn_error() when a layer cannot be
 * built for this size. */
burn_resnet_train_run *burn_resnet_train_run_new(const burn_resnet *net, const burn_backend *be,
                                                 int N);
void burn_resnet_train_run_free(burn_resnet_train_run *r);
/* feature[N, feature_dim] (inside the run, valid until the next forward) from x[N, 3, S, S]
 * (kept by pointer: must stay valid until backward). -1 with burn_error() only for BN with a
 * single value per channel in train mode. */
int burn_resnet_train_forward(burn_resnet_train_run *r, const burn_params *ps, const float *x,
                              int train, const float **feature);
/* After a train-mode forward, from dfeature[N, feature_dim]: parameter gradients accumulate
 * into ps->grad; dx[N, 3, S, S] is written (NULL: not computed). */
void burn_resnet_train_backward(burn_resnet_train_run *r, burn_params *ps, const float *dfeature,
                                float *dx);

#ifdef __cplusplus
}
#endif

#endif
