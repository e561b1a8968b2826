/* run_dir.h — one run per run directory: a training command claims run.dir before it writes
 * anything there. The claim creates the directory, takes an advisory lock that the kernel
 * drops when the process dies (flock on run.dir/.lock: a second process on the same directory
 * gets a clear error, never a mixed run), and checks what is there against the mode:
 *   BURN_RUN_NEW        refuses a directory that already holds a run (one of the files the
 *                       command writes): pass --resume or --overwrite, or another run.dir
 *   BURN_RUN_RESUME     keeps everything (what to resume from is the command's: train refuses
 *                       checkpoints of which none is valid, train_plan.c)
 *   BURN_RUN_OVERWRITE  removes the old run's files (the command's outputs and their
 *                       temporaries; nothing else: inputs kept there, subdirectories stay)
 * Rank 0 alone claims (the only writer). */
#ifndef BURN_RUN_DIR_H
#define BURN_RUN_DIR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { BURN_RUN_NEW = 0, BURN_RUN_RESUME = 1, BURN_RUN_OVERWRITE = 2 } burn_run_mode;

/* The names of what a training command writes into run.dir (a name ending in '-' is a prefix:
 * "ckpt-" for ckpt-<step>.safetensors) */
#define BURN_RUN_TRAIN_OUTPUTS {"metrics.jsonl", "summary.json", "ckpt-", NULL}

/* Claim dir for a run writing outputs (NULL-terminated names, as above). The lock's file
 * descriptor (>= 0; burn_run_dir_release closes it), or -1 with burn_error() and *exit_code
 * set: 2 for a directory the mode refuses, 1 for a lock held elsewhere or an I/O error. */
int burn_run_dir_claim(const char *dir, burn_run_mode mode, const char *const *outputs,
                       int *exit_code);

void burn_run_dir_release(int lock_fd);

#ifdef __cplusplus
}
#endif

#endif
