/* moco.h — MoCo v2 (He et al. 2020, Chen et al. 2020) for pretraining BURN's FP teacher
 * (METHOD.md §8): a query encoder q (ResNet backbone + MLP projection F→F→dim), a key encoder k
 * that follows q by an exponential moving average and gets no gradients, a queue of K
 * L2-normalised keys, the InfoNCE loss at temperature τ and SGD with momentum on q.
 *
 * One step on two views (im_q, im_k) [N, 3, S, S] of the same N images:
 *   k.params = m·k.params + (1 − m)·q.params         (parameters only; k's BN running
 *                                                     statistics follow k's own forwards)
 *   kk = normalize(head_k(f_k(im_k)))  [N, dim]       (train-mode BN, no gradient)
 *   qq = normalize(head_q(f_q(im_q)))  [N, dim]
 *   logits = [qq·kk, qq·queueᵀ] [N, 1 + K];  loss = mean_n CE(logits_n / τ, label 0)
 *   backward into q; SGD (lr, momentum, weight decay); kk enters the queue ring at queue_ptr.
 * Single-process "shuffle BN" (MoCo's trick against BN leaking which key is the positive) is
 * not possible: it permutes the batch ACROSS GPUs so that each GPU's BN statistics of the keys
 * come from other images than its queries'. Here, as in single-GPU MoCo implementations, the
 * keys come from a separate forward pass of the key encoder in train mode (its own batch
 * statistics, never mixed with the queries' in one BN call).
 *
 * Parameters: two registries with the same layout, names "encoder_q.<torchvision name>" and
 * "encoder_k.<...>", the head as MoCo's code names it (fc.0 = Linear F→F, fc.2 = Linear
 * F→dim). Checkpoint (burn_moco_save): both registries, "queue" [K, dim], the SGD momentum
 * "optim.sgd_momentum" [trainable floats], metadata step and queue_ptr. Teacher export: the
 * backbone of q with bare torchvision names (no fc.*), which burn_model_load_teacher reads. */
#ifndef BURN_MOCO_H
#define BURN_MOCO_H

#include <stdint.h>

#include "burn/backend.h"
#include "burn/config.h"
#include "burn/models.h"
#include "burn/net.h"
#include "burn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_moco_config {
    burn_resnet_config backbone; /* [teacher] arch/width/small_input, data.image_size */
    int dim;                     /* projection output (128) */
    int queue;                   /* K keys (65536); at least one batch */
    float temperature;           /* τ (0.2) */
    float ema;                   /* key-encoder momentum m (0.999) */
    float momentum, weight_decay; /* SGD (0.9, 1e-4) */
} burn_moco_config;

typedef struct burn_moco {
    const burn_backend *be;
    burn_moco_config cfg;
    int N, F;                     /* batch, backbone feature width */
    burn_resnet net;              /* tensor indices: the same in q and k */
    burn_params q, k;             /* query encoder (trained), key encoder (EMA) */
    int fc1_w, fc1_b, fc2_w, fc2_b; /* projection head indices (same in q and k) */
    burn_resnet_train_run *run;   /* shared: keys first, then the queries' forward/backward */
    burn_linear fc1, fc2;
    const float *feat;            /* the queries' backbone feature [N, F] (inside run) */
    float *h1, *proj, *norm;      /* head activations [N, F], [N, dim], [N] */
    float *qn, *kn, *pos;         /* normalised queries, keys [N, dim]; positives [N] */
    float *logits, *dlogits;      /* [N, 1 + K] */
    float *rows;                  /* per-row loss [N] */
    float *dqn, *dproj, *dh1, *dfeat;
    float *queue;                 /* [K, dim], rows L2-normalised */
    float *sgd_buf;               /* [q.trainable] */
    int64_t queue_ptr, step;
} burn_moco;

typedef struct burn_moco_stats {
    double loss; /* mean InfoNCE over the batch */
    double pos;  /* mean cosine of a query with its positive key */
} burn_moco_stats;

/* The MoCo config of a resolved burn config ([teacher], data.image_size, [moco]). 0, or -1
 * with burn_error() naming the key. */
int burn_moco_config_from(const burn_config *c, burn_moco_config *out);

/* Build both encoders for batch N on be: q initialised from seed (METHOD.md §1 rules: kaiming-
 * normal weights, zero biases, BN 1/0), k = a copy of q, a random queue of unit rows, zero
 * SGD momentum. 0, or -1 with burn_error() (bad shape, batch < 2, queue < batch). */
int burn_moco_init(burn_moco *m, const burn_moco_config *cfg, const burn_backend *be, int N,
                   uint64_t seed);
void burn_moco_free(burn_moco *m);

/* One MoCo step (see the top of the file) with SGD learning rate lr. st may be NULL.
 * -1 with burn_error() on a degenerate batch (BN over a single value). */
int burn_moco_step(burn_moco *m, const float *im_q, const float *im_k, float lr,
                   burn_moco_stats *st);

/* The whole training state, atomically (tmp, fsync, rename). config_text (may be NULL) goes
 * into the metadata. 0, or -1 with burn_error(). */
int burn_moco_save(const burn_moco *m, const char *path, const char *config_text);
/* Restore a state written by burn_moco_save for the same architecture and sizes: strict (every
 * tensor, same shapes, finite). 0, or -1 with burn_error() (then m is unchanged, unless the
 * file changed between the checks and the reads). */
int burn_moco_load(burn_moco *m, const char *path);
/* The query encoder's backbone with bare torchvision names (no projection head), metadata
 * arch / width / small_input / image_size: the file teacher.checkpoint accepts. */
int burn_moco_export_teacher(const burn_moco *m, const char *path);

#ifdef __cplusplus
}
#endif

#endif
