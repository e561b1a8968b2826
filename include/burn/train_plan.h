/* train_plan.h — what every training loop of burn (BURN in src/train/train.c, the BYOL/MoCo baselines
 * in src/train/train_ssl.c) does around its model, in one place, so the loops differ only in the
 * model and the update: the run directory, the data and the schedule length, resuming from
 * the newest checkpoint under another world size or batch, the start state handed from rank 0
 * to every rank, the batches (uploaded to the device when there is one), the metrics file, and
 * the final checkpoint path shared with every rank. Errors are printed as "<prog>: <why>". */
#ifndef BURN_TRAIN_PLAN_H
#define BURN_TRAIN_PLAN_H

#include <stdint.h>

#include "burn/backend.h"
#include "burn/ckpt.h"
#include "burn/config.h"
#include "burn/data.h"
#include "burn/log.h"
#include "burn/params.h"
#include "burn/run_dir.h"
#include "burn/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_train_plan {
    const char *prog, *dir;
    burn_run_mode mode;    /* new, --resume or --overwrite; rank 0: --resume with no
                            * checkpoint yet is a new run (train.init_from applies) */
    int lock_fd;           /* rank 0: run.dir's lock (burn_run_dir_claim), -1 elsewhere */
    const burn_backend *be;
    int N, accum;          /* per-rank micro-batch, micro-batches per update */
    int sync_all_bn;       /* dist.sync_bn = all: models use burn_dist_sync_bn_backend(be) */
    burn_source *src;      /* the training split */
    burn_loader_opts lo;   /* two augmented views, sharded, shuffled */
    int64_t spe;           /* micro-batches per epoch (per rank) */
    int64_t total, stop;   /* updates of the schedule; where this run stops (train.max_steps) */
    int64_t warmup;        /* warm-up updates */
    burn_loader *loader;   /* burn_train_plan_start */
    float *dv[2];          /* device copies of the two views */
    burn_metrics metrics;  /* rank 0 */
    char *resume_from;     /* rank 0, --resume: the newest valid checkpoint, or NULL */
} burn_train_plan;

/* Join the data-parallel job, claim run.dir for mode (rank 0: include/burn/run_dir.h) and
 * write its config.ini, open the training split and size the schedule. 0, or an exit code
 * (1 runtime, 2 config) after printing why. */
int burn_train_plan_init(burn_train_plan *p, const burn_config *cfg, const burn_backend *be,
                         burn_run_mode mode, const char *prog);

/* mode = BURN_RUN_RESUME: rank 0 loads the newest checkpoint of run.dir into ps and the Adam moments and
 * maps its position onto this run's world size, batch and accumulation (st->step,
 * micro_step); then every rank gets rank 0's position, loss-scaler state, parameters and
 * moments. Without resume only the broadcast. 0, or -1 after printing why. */
int burn_train_plan_resume(burn_train_plan *p, burn_params *ps, float *adam_m, float *adam_v,
                           burn_ckpt_state *st);

/* The loader at the position st, the metrics file (rank 0) without rows past st, the stop
 * signal handlers (until burn_train_plan_free) and the device view buffers.
 * 0, or -1 after printing why. */
int burn_train_plan_start(burn_train_plan *p, const burn_ckpt_state *st);

/* The next micro-batch's two views v[2] [N, 3, S, S] in backend memory. 0, or -1 printed. */
int burn_train_plan_next(burn_train_plan *p, const float *v[2]);

/* After update st->step: rank 0 writes a checkpoint (keeping train.keep_ckpts, the result's
 * final one) when one is due (the last update, every train.ckpt_every) or when a stop signal
 * reached any rank (include/burn/preempt.h). 0 to go on; -1 after printing why the
 * checkpoint failed; 128 + signal after printing where the run stopped (the exit code). */
int burn_train_plan_after_update(burn_train_plan *p, const burn_config *cfg,
                                 const burn_params *ps, const float *adam_m, const float *adam_v,
                                 const burn_ckpt_state *st, burn_train_result *result);

/* After the loop: every rank gets rank 0's final checkpoint path (the pipeline's stage 2 reads
 * it; a resumed run that was complete already: the checkpoint it resumed from), and skipped
 * images are reported. */
void burn_train_plan_finish(burn_train_plan *p, burn_train_result *result);

void burn_train_plan_free(burn_train_plan *p);

/* ‖x[n]‖₂ of backend memory (scratch: one float of backend memory). */
double burn_backend_norm(const burn_backend *be, const float *x, int64_t n, float *scratch);

#ifdef __cplusplus
}
#endif

#endif
