/* train.h — the BURN training loop (METHOD.md §4-6): data, steps with gradient accumulation,
 * Adam with warm-up + cosine LR, the λ(t) schedule, metrics, checkpoints and resume. */
#ifndef BURN_TRAIN_H
#define BURN_TRAIN_H

#include <stdint.h>

#include "burn/backend.h"
#include "burn/collapse.h"
#include "burn/config.h"
#include "burn/run_dir.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_train_result {
    int64_t steps;          /* optimiser updates done by the end of the run */
    double first_loss, last_loss;
    char *final_checkpoint; /* malloc'd path */
    int collapsed;          /* a head judged collapsed at the last logged update (collapse.h) */
    burn_head_stats head_stats[2]; /* teacher head, student head at the last logged update */
} burn_train_result;

/* Train one stage as configured; mode: a new run, --resume (from the newest valid checkpoint
 * in run.dir) or --overwrite (include/burn/run_dir.h).
 * Returns a process exit code: 0, 1 (runtime: data, numerical fault, I/O), 2 (config). */
int burn_train(const burn_config *cfg, const burn_backend *be, burn_run_mode mode,
               burn_train_result *result);

#ifdef __cplusplus
}
#endif

#endif
