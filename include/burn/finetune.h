/* finetune.h — semi-supervised fine-tuning of the binary student (METHOD.md §9) and the supervised
 * baseline (issue 8 item 7): the whole ReActNet-A (backbone, its FC F→F + ReLU when
 * model.feature_fc) plus a new classifier Linear(F → classes) trained with softmax
 * cross-entropy on a labelled subset of the training split, then top-1/top-5 on the val split.
 *
 * Labelled subset (src/data/finetune_subset.c): either class-balanced — per class c with n_c
 * images, k_c = round(fraction·n_c) of them (at least 1), chosen by a Philox permutation of
 * the class's members under a seed — or the images a list file names (one per line: a 0-based
 * index into the training split, or a path / path tail / file name as the source describes
 * it, e.g. SimCLR's ImageNet 1% and 10% files of names). Either way the subset is kept in
 * ascending index order.
 *
 * Parameters (src/train/finetune.c): one registry, "student." (the same names and layout as BURN's
 * student, so `burn_gpu eval knn --checkpoint` reads a fine-tuned run) then
 * "classifier.weight" [classes, F] and "classifier.bias" [classes]. The trainable buffer is
 * [student | classifier]: the optimiser steps the two ranges with lr·finetune.backbone_lr and
 * lr. BN in train mode while training, eval mode (running statistics) for the evaluation. */
#ifndef BURN_FINETUNE_H
#define BURN_FINETUNE_H

#include <stdint.h>

#include "burn/backend.h"
#include "burn/config.h"
#include "burn/data.h"
#include "burn/layers.h"
#include "burn/models.h"
#include "burn/net.h"
#include "burn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the labelled subset ---- */

/* Class-balanced subset of labels[count] (each in [0, num_classes)): per class c with n_c > 0
 * images, max(1, round(fraction·n_c)) of them, the first of a seeded permutation of the
 * class's members. *out (malloc'd) holds the dataset indices in ascending order; returns how
 * many, or -1 with burn_error() (fraction outside (0, 1], a label out of range). */
int64_t burn_subset_balanced(const int32_t *labels, int64_t count, int num_classes,
                             double fraction, uint64_t seed, int64_t **out);

/* The images of src that the list file names, in ascending index order. Each non-blank line
 * (a '#' starts a comment) is either a 0-based index or a name that equals the source's
 * description of exactly one image (imagefolder/list: its path) or a tail of it after a '/'
 * (e.g. "class/img.png" or "img.png"). Errors name file:line: an index out of range, a name
 * that matches no image or several, the same image twice, an empty list. */
int64_t burn_subset_list_read(const char *path, const burn_source *src, int64_t **out);

/* A source of the n images idx[0..n) of inner (ascending, in range); takes over inner and idx
 * (freed with the new source). */
burn_source *burn_source_indexed(burn_source *inner, int64_t *idx, int64_t n);

/* The labelled training source of a fine-tuning run: the config's train split (after
 * data.train_subset), then the list file when `list` is non-empty, else the class-balanced
 * `fraction` (all images at 1) under seed. *pool (may be NULL) = the images of the train
 * split it was drawn from. NULL with burn_error() set. */
burn_source *burn_finetune_source(const burn_config *cfg, double fraction, const char *list,
                                  uint64_t seed, int64_t *pool);

/* ---- the network: student + classifier ---- */

typedef struct burn_finetune_model {
    const burn_backend *be;
    int N, classes, F;
    burn_reactnet student;
    burn_params params;   /* "student.*", then "classifier.weight", "classifier.bias" */
    int cls_w, cls_b;     /* classifier tensor indices */
    int64_t backbone_end; /* the student's floats of the trainable prefix: [0, backbone_end) */
    int64_t cls_begin;    /* the classifier's: [cls_begin, params.trainable) */
    int prepared;         /* stage 2: binarised weights match params.data */
    burn_reactnet_run *run;
    burn_linear fc;       /* the classifier layer for batches of N */
    const float *feat;    /* [N, F] inside run (the last forward's) */
    float *logits, *dlogits, *dfeat, *rows; /* [N, classes] ×2, [N, F], [N] */
    int32_t *labels;      /* [N], backend memory */
} burn_finetune_model;

/* Build the student of cfg ([model], data.image_size, binary.*) and a classifier for
 * `classes` classes for batches of N on be; initialise every tensor from seed (student: METHOD.md
 * §1-2 rules, the same values as BURN's student under that seed; classifier weight N(0, 0.01²),
 * bias 0). 0, or -1 with burn_error(). */
int burn_finetune_model_init(burn_finetune_model *m, const burn_config *cfg,
                             const burn_backend *be, int N, int classes, uint64_t seed);
void burn_finetune_model_free(burn_finetune_model *m);
/* Load the "student." tensors from a BURN (or fine-tuning) checkpoint or run directory,
 * strictly; its model must be cfg's (may be NULL: not checked). 0, or -1 with burn_error(). */
int burn_finetune_model_load_student(burn_finetune_model *m, const char *path_or_dir,
                                     const burn_config *cfg);
/* Mark the weights changed (after an optimiser step or a load): stage 2 re-binarises them
 * before the next forward. */
static inline void burn_finetune_model_touched(burn_finetune_model *m) { m->prepared = 0; }

/* One train-mode forward and backward on x[N, 3, S, S] (backend memory) with host labels[N]
 * (each in [0, classes)): gradients of the mean cross-entropy ACCUMULATE into params.grad
 * (zero it per update). *loss = the batch mean; *correct = top-1 hits (either may be NULL).
 * -1 with burn_error() for a label out of range or BN over a single value. */
int burn_finetune_step(burn_finetune_model *m, const float *x, const int32_t *labels,
                       double *loss, int *correct);
/* One optimiser update from params.grad at update u (0-based) with classifier learning rate
 * lr: the student's range with lr·finetune.backbone_lr, the classifier's with lr; Adam
 * (opt_a = m, opt_b = v; train.beta1/beta2/eps) or SGD (opt_a = momentum, finetune.momentum),
 * finetune.weight_decay; buffers [params.trainable] in backend memory, zeroed at the start. */
void burn_finetune_update(burn_finetune_model *m, const burn_config *cfg, float *opt_a,
                          float *opt_b, int64_t u, double lr);
/* Eval-mode logits [N, classes] (inside the model, valid until the next forward). */
int burn_finetune_logits(burn_finetune_model *m, const float *x, const float **logits);

/* ---- the whole protocol ---- */

typedef struct burn_finetune_opts {
    const char *checkpoint; /* BURN checkpoint / run directory, or "random" */
    double fraction;        /* labelled share (finetune.fraction or --fraction) */
    const char *subset_list; /* "" or NULL: class-balanced fraction */
    int overwrite;           /* replace a run already in run.dir (else refused, exit 2) */
} burn_finetune_opts;

typedef struct burn_finetune_result {
    int64_t labelled, pool;  /* images in the labelled subset, in the train split */
    int64_t steps;           /* optimiser updates */
    int classes;
    double first_loss, last_loss; /* mean training loss of the first and last logged windows */
    double top1, top5;            /* on the val split, 0..1 */
    char *checkpoint_path;        /* malloc'd: the saved student + classifier */
} burn_finetune_result;

/* Fine-tune (or train from scratch: checkpoint "random") as configured by [finetune], write
 * config.ini, metrics.jsonl and the checkpoint into run.dir, evaluate on the val split.
 * Returns an exit code: 0, 1 (runtime), 2 (config / input). */
int burn_finetune(const burn_config *cfg, const burn_backend *be, const burn_finetune_opts *o,
                  burn_finetune_result *res);
void burn_finetune_result_free(burn_finetune_result *res);

#ifdef __cplusplus
}
#endif

#endif
