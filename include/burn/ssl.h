/* ssl.h — the self-supervised baselines of the paper's tables, run on the same binary student
 * as BURN so that only the method differs (issue 8 item 7; `train.method = byol|moco`), and
 * the S2-BNN head initialisation.
 *
 * Both baselines pair an online network with a target network that follows it by an
 * exponential moving average (EMA) and gets no gradients:
 *   BYOL (Grill et al. 2020): online = student k_φ + projector + predictor (MLP heads of
 *     METHOD.md §1: Linear-BN-ReLU-Linear, byol.hidden → byol.dim); target = EMA of student +
 *     projector. With ẑ = normalize(target(v)) and p̂ = normalize(pred(online(v))),
 *       loss = mean_n (2 − 2·p̂(v1)·ẑ(v2)) + mean_n (2 − 2·p̂(v2)·ẑ(v1))   (symmetrised)
 *     τ(u) = 1 − (1 − byol.ema_start)·(cos(π u / U) + 1)/2 (U = updates of the run).
 *   MoCo v2 (Chen et al. 2020): query = student + projection Linear(F→F)-ReLU-Linear(F→
 *     moco.dim) (MoCo v2's, no BN); key = EMA (constant moco.ema); a queue of moco.queue
 *     L2-normalised keys; InfoNCE at moco.temperature on logits [q·k, q·queueᵀ] (q from v1,
 *     k from v2). The keys of each micro-batch enter the queue after its step.
 * The optimiser is BURN's (Adam, train.lr with warm-up + cosine, train.weight_decay), only on
 * the online networks. The target's BN runs in train mode (batch statistics; its running
 * statistics follow its own forwards, as in BYOL's and MoCo's code).
 *
 * Parameters: ONE registry, so the checkpoint, the Adam moments and the all-reduce are BURN's
 * (ckpt.h). Trainable layout (floats):
 *   [0, ema_len)                         "student." + "projector." (the EMA'd part)
 *   [ema_len, online_len)                "predictor." (BYOL only)
 *   [target_begin, target_begin+ema_len) "target.student." + "target.projector." — the same
 *                                        layout as [0, ema_len): the EMA is one scale + axpy
 * and buffers (BN running statistics of both, MoCo's "moco_queue" [K, dim]). The student's
 * names are BURN's, so `burn_gpu eval ... --checkpoint RUN_DIR` reads the student unchanged.
 * The queue pointer is not stored: it is (micro-batches done · N) mod K. */
#ifndef BURN_SSL_H
#define BURN_SSL_H

#include <stdint.h>

#include "burn/backend.h"
#include "burn/burn.h"
#include "burn/config.h"
#include "burn/layers.h"
#include "burn/models.h"
#include "burn/net.h"
#include "burn/params.h"
#include "burn/run_dir.h"
#include "burn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum burn_ssl_method { BURN_SSL_BYOL = 1, BURN_SSL_MOCO = 2 } burn_ssl_method;

typedef struct burn_ssl {
    const burn_backend *be;
    int method, N, F, D;           /* batch, student feature width, embedding width */
    int act_grad, weight_grad;
    float temperature;             /* MoCo τ */
    int K;                         /* MoCo queue length */
    burn_reactnet student, target; /* the same architecture, two sets of indices */
    burn_head proj, tproj, pred;   /* BYOL heads */
    int fc[4], tfc[4];             /* MoCo projection: fc.0 weight, bias, fc.2 weight, bias */
    int queue_idx;                 /* MoCo: "moco_queue" buffer */
    burn_params params;
    int64_t ema_len, online_len, target_begin, student_len; /* float ranges (see above) */
    int64_t queue_ptr;             /* MoCo: next row of the ring */
    burn_reactnet_run *srun, *trun;
    burn_head_run *proj_run, *tproj_run, *pred_run;
    burn_linear fc1, fc2;
    /* BYOL: zt[v] normalised target projections of view v; pn normalised predictions;
     * MoCo: zt[0] keys, pn queries; h1/th1 [N, F] the projections' hidden layers */
    float *zt[2], *pn, *norm, *dp, *dz, *dfeat, *rows;
    float *h1, *th1, *proj_out, *tproj_out, *dh1;
    float *logits, *dlogits; /* MoCo [N, 1 + K] */
} burn_ssl;

typedef struct burn_ssl_stats {
    double loss; /* BYOL: the symmetrised sum; MoCo: mean InfoNCE */
    double cos;  /* mean cosine of a prediction with its target (BYOL) / query with its key */
} burn_ssl_stats;

/* Method of train.method: BURN_SSL_BYOL, BURN_SSL_MOCO, 0 for "burn", -1 with burn_error(). */
int burn_ssl_method_parse(const char *name);

/* Build the networks of cfg ([model], [byol] or [moco], data.image_size) for per-rank batch N,
 * initialise the online networks from run.seed (METHOD.md §1 rules), the target as their copy and
 * MoCo's queue with random unit rows. The struct must stay where it is (runs point into it).
 * 0, or -1 with burn_error() naming the key (batch < 2, moco.queue < batch, ...). */
int burn_ssl_init(burn_ssl *m, const burn_config *cfg, int method, const burn_backend *be, int N);
void burn_ssl_free(burn_ssl *m);

/* Once per optimiser update, before its micro-batches: target ← τ·target + (1 − τ)·online
 * over [0, ema_len), then binarise both students' weights (stage 2; burn_reactnet_prepare). */
void burn_ssl_begin_update(burn_ssl *m, float tau);

/* Copy every online tensor (weights and BN running statistics) of student and projector into
 * its target twin: after loading the online networks (train.init_from). */
void burn_ssl_sync_target(burn_ssl *m);

/* One micro-batch on views v1, v2 [N, 3, S, S] (backend memory): forwards, the loss, backward
 * into the online networks; gradients ACCUMULATE into m->params.grad. MoCo then enqueues the
 * keys. st may be NULL. -1 with burn_error() on a degenerate batch. */
int burn_ssl_step(burn_ssl *m, const float *v1, const float *v2, burn_ssl_stats *st);

/* BYOL's regression term of N rows with a constant normalised target zn [N, D]:
 *   cos[n] = p̂_n·zn_n (the loss is 2 − 2·cos), p̂ = pn = p / max(‖p‖, eps), norm [N] = ‖p_n‖;
 *   dp [N, D] = grad_scale·∂(2 − 2·cos_n)/∂p_n (written; may not alias p).
 * Backend ops only (l2norm_rows, row_dot). */
void burn_byol_regression(const burn_backend *be, float *cos, float *dp, float *pn, float *norm,
                          const float *p, const float *zn, int N, int D, float grad_scale);

/* BYOL's target momentum at update u of U (cosine from tau0 at 0 to 1 at U). */
double burn_byol_tau(double tau0, int64_t u, int64_t U);

/* The training loop of train.method = byol|moco (src/train/train_ssl.c): BURN's data, schedule,
 * Adam, metrics, checkpoints (kind "byol" / "moco"), resume, data parallelism. Stage 2
 * (model.stage = 2 + train.init_from = a stage-1 run of the same method) binarises the
 * weights and starts from that run's online networks. Exit code 0, 1 (runtime), 2 (config). */
int burn_ssl_train(const burn_config *cfg, const burn_backend *be, burn_run_mode mode,
                   burn_train_result *result);

#ifdef __cplusplus
}
#endif

#endif
