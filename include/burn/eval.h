/* eval.h — downstream evaluation of a backbone (SPEC §9): feature extraction over a split and
 * weighted k-NN on L2-normalised features (the InstDisc protocol: the k nearest training
 * features by cosine similarity vote for their class with weight exp(sim / T)). */
#ifndef BURN_EVAL_H
#define BURN_EVAL_H

#include <stdint.h>

#include "burn/backend.h"
#include "burn/burn.h"
#include "burn/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum burn_backbone {
    BURN_BACKBONE_STUDENT, /* ReActNet-A feature (after the FC + ReLU when model.feature_fc) */
    BURN_BACKBONE_TEACHER, /* the ResNet's pooled feature */
    BURN_BACKBONE_PIXELS   /* the normalised input image itself, flattened */
} burn_backbone;

typedef struct burn_features {
    int64_t count;
    int dim, num_classes;
    float *x;        /* [count, dim] host */
    int32_t *labels; /* [count] */
} burn_features;

/* Features of every image of `split` ("train" or "val") with the evaluation transform, in
 * dataset order, batch by batch through model m (its per-batch size m->N; may be NULL for
 * pixels). 0, or -1 with burn_error(). */
int burn_extract(const burn_config *cfg, burn_model *m, burn_backbone which, const char *split,
                 burn_features *out);
void burn_features_free(burn_features *f);

/* Top-1 accuracy (0..1) of weighted k-NN: bank features/labels vote for each query. Features
 * are L2-normalised in place. Similarities through be->gemm in chunks. */
double burn_knn_top1(const burn_backend *be, burn_features *bank, burn_features *queries, int k,
                     double temperature);

/* k-NN top-1 of one backbone (src/cmd_eval.c). checkpoint: for the student, a BURN
 * checkpoint or run directory, or "random" for its initial weights (required); ignored for the
 * teacher (teacher.checkpoint) and pixels. Returns an exit code (0, 1, 2; burn_error set). */
int burn_eval_knn(const burn_config *cfg, const burn_backend *be, burn_backbone which,
                  const char *checkpoint, double *top1);

#ifdef __cplusplus
}
#endif

#endif
