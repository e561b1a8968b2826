/* ckpt.h — training checkpoints: <run dir>/ckpt-<step>.safetensors, written atomically.
 *
 * Contents: every tensor of the trainable registry under its name (weights, BN running
 * statistics), the Adam moments as flat tensors "optim.adam_m" and "optim.adam_v"
 * [trainable floats], and __metadata__: format "burn-ckpt-1", kind (burn | moco), step
 * (optimiser updates done), micro_step (micro-batches consumed per rank: the data
 * position), stage, world_size, and the resolved config as INI text. A checkpoint resumes on
 * any number of ranks: with another world size, burn_dist_resume_update (dist.h) maps the
 * position to the same fraction of the run using the saved world size, batch and accum.
 * Nothing else is needed to resume bit for bit: every random number derives from (run.seed,
 * position). */
#ifndef BURN_CKPT_H
#define BURN_CKPT_H

#include <stdint.h>

#include "burn/config.h"
#include "burn/params.h"
#include "burn/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_ckpt_state {
    int64_t step, micro_step;
    int stage;
    const char *kind; /* "burn" */
    /* FP16 dynamic loss scaling (include/burn/precision.h): scale S (0: not in use, not
     * saved), finite updates since S last changed, updates skipped so far */
    double loss_scale;
    int64_t loss_scale_good, skipped;
} burn_ckpt_state;

/* Write <dir>/ckpt-<step>.safetensors (8-digit step) atomically, then delete all but the
 * newest `keep` checkpoints (keep <= 0: keep all). adam_m/adam_v may be NULL (no optimiser).
 * 0, or -1 with burn_error() (the previous checkpoints stay intact). */
int burn_ckpt_save(const char *dir, const burn_params *ps, const float *adam_m,
                   const float *adam_v, const burn_ckpt_state *st, const burn_config *cfg,
                   int world_size, int keep, char **written_path);

/* Path of the newest checkpoint in dir that opens and validates (format, and a position as
 * burn_ckpt_load checks it), or NULL (none). A newer
 * file that fails validation is reported with burn_warn and skipped. *n_files (when given):
 * how many checkpoint files there are, valid or not. Caller frees. */
char *burn_ckpt_find_latest(const char *dir, int *n_files);

/* What a stopped run leaves, for its message: "the last checkpoint, DIR/ckpt-N.safetensors,
 * is intact" or "no checkpoint was written yet". */
void burn_ckpt_kept_text(const char *dir, char *buf, size_t len);

/* Restore params (strict: all tensors, same shapes) and, when adam_m/adam_v are given, the
 * moments, and fill st from the metadata, range-checked (digits only, at most 2^40; the step
 * that names the file; stage 1 or 2; micro_step = step × the saved train.accum). 0, or -1
 * with burn_error(). */
int burn_ckpt_load(const char *path, burn_params *ps, float *adam_m, float *adam_v,
                   burn_ckpt_state *st);

/* Where weights come from, for burn_ckpt_init_from and its messages. */
typedef struct burn_ckpt_source {
    const char *option;       /* what named the path: "--checkpoint", "train.init_from" */
    const char *path;         /* a checkpoint, or a run directory (its newest valid one) */
    const burn_config *model; /* the config whose model the weights must be; NULL: no check */
    int any_stage;            /* the stage may differ (stage 1's weights start stage 2) */
} burn_ckpt_source;

/* Load only the tensors of ps whose names start with one of the prefixes (NULL-terminated
 * list), strictly: eval, extract, export, finetune, and the stage-1 -> stage-2 handoff. */
int burn_ckpt_init_from(const burn_ckpt_source *src, burn_params *ps,
                        const char *const *prefixes);

/* 0 when the checkpoint's saved config has the model keys (model.*: what its tensors compute)
 * of cfg, stage excepted when any_stage; else -1 with burn_error() naming the key, both
 * values, where cfg's came from and the run's own config. A file without a saved config
 * passes (it records no model). */
int burn_ckpt_check_model(const burn_st_file *f, const char *option, const burn_config *cfg,
                          int any_stage);

#ifdef __cplusplus
}
#endif

#endif
