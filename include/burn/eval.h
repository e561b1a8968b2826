/* eval.h — downstream evaluation of a backbone (METHOD.md §9): feature extraction over a split and
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

/* k-NN top-1 of one backbone (src/app/cmd_eval.c). checkpoint: for the student, a BURN
 * checkpoint or run directory, or "random" for its initial weights (required); ignored for the
 * teacher (teacher.checkpoint) and pixels. Returns an exit code (0, 1, 2; burn_error set). */
int burn_eval_knn(const burn_config *cfg, const burn_backend *be, burn_backbone which,
                  const char *checkpoint, double *top1);

/* ---- classification accuracy (src/eval/topk.c) ----
 * logits [N, C] host, labels [N] host. *top1 / *top5 (either may be NULL) = how many rows
 * have their label among the 1 / 5 highest logits (ties go to the lower class index; a row
 * whose label logit is NaN counts as wrong; with C <= 5 every row is in the top 5).
 * 0, or -1 with burn_error() when a label is outside [0, C). */
int burn_topk_correct(const float *logits, const int32_t *labels, int N, int C, int64_t *top1,
                      int64_t *top5);

/* ---- saved features (src/eval/features_io.c; `burn_gpu extract` writes them) ----
 * A safetensors file: "features" F32 [count, dim], "labels" I32 [count]; metadata backbone,
 * split, checkpoint, dim, classes (num_classes). burn_features_save writes f with those
 * strings (checkpoint may be NULL: "none"). burn_features_load checks the shapes agree, every
 * feature is finite, every label is in [0, classes) and classes >= 2. 0, or -1 with
 * burn_error() naming the file. */
int burn_features_save(const burn_features *f, const char *path, const char *backbone,
                       const char *split, const char *checkpoint);
int burn_features_load(burn_features *f, const char *path);

/* Features of backbone `which` for each of n splits ("train", "val") into out[n], through
 * one model (src/eval/eval_features.c). checkpoint: the student's weights (a checkpoint, a run
 * directory, or "random"; required for the student, ignored otherwise); the teacher comes
 * from teacher.checkpoint. Batches of eval.batch_size. 0, or -1 with burn_error(). */
int burn_eval_features(const burn_config *cfg, const burn_backend *be, burn_backbone which,
                       const char *checkpoint, const char *const *splits, int n,
                       burn_features *out);

/* ---- linear evaluation (src/eval/linear_eval.c, METHOD.md §9) ----
 * SGD with momentum on softmax cross-entropy; epoch e (0-based) runs at
 * lr·0.1^(number of milestones <= e) (PyTorch's MultiStepLR). */
#define BURN_LINEAR_MAX_MILESTONES 16
typedef struct burn_linear_opts {
    int epochs, batch_size;
    double lr, momentum, weight_decay;
    int n_milestones, milestones[BURN_LINEAR_MAX_MILESTONES]; /* ascending epochs */
    int augment;   /* images path: RandomResizedCrop + flip on the train split (else the
                    * evaluation transform) */
    uint64_t seed; /* shuffling, augmentation and the classifier's initial weights */
} burn_linear_opts;

typedef struct burn_linear_result {
    double top1, top5;  /* on the val split, 0..1 */
    int64_t val_count;
    double train_loss;  /* mean over the last epoch */
} burn_linear_result;

/* From eval.linear_* and run.seed. 0, or -1 with burn_error() (bad milestone list). */
int burn_linear_opts_from_config(burn_linear_opts *o, const burn_config *cfg);
double burn_linear_lr(const burn_linear_opts *o, int64_t epoch);

/* Features path: Linear(dim → num_classes) trained on fixed train features, scored on val
 * (same dim and classes). 0, or -1 with burn_error(). */
int burn_linear_train_features(const burn_backend *be, const burn_linear_opts *o,
                               const burn_features *train, const burn_features *val,
                               burn_linear_result *res);

/* Images path of the student (cfg's [model], [data]; weights from checkpoint, a checkpoint
 * file, a run directory or "random"): frozen
 * backbone to the pooled feature (eval-mode BN), trainable FC + ReLU (from student.fc, when
 * model.feature_fc) and classifier. backbone_out / head_out (may be NULL) receive the final
 * registries ("student.*" without the FC; "student.fc.*", "linear.weight", "linear.bias"),
 * which the caller frees with burn_params_free. 0, or -1 with burn_error(). */
int burn_linear_train_images(const burn_config *cfg, const burn_backend *be,
                             const char *checkpoint, const burn_linear_opts *o,
                             burn_linear_result *res, burn_params *backbone_out,
                             burn_params *head_out);

/* ---- linear SVMs, the VOC07 protocol (src/eval/svm.c; `burn_gpu eval svm`, src/app/cmd_svm.c) ----
 * VOC07 11-point AP of one class: scores [n], positive [n] (nonzero = of the class). Equal
 * scores form one threshold; AP = mean over t = 0, 0.1, ..., 1 of the highest precision at a
 * recall >= t (0 if none). NaN when no sample is positive. */
double burn_voc07_ap(const double *scores, const unsigned char *positive, int64_t n);

/* A class-balanced few-shot draw: `shots` distinct indices of each class 0..num_classes-1
 * among labels[n], uniformly at random from the Philox stream (seed; shots, draw), written
 * class-major to picked[num_classes * shots]. 0, or -1 with burn_error() when a class has
 * fewer than `shots` images. */
int burn_svm_draw(const int32_t *labels, int64_t n, int num_classes, int shots, uint64_t seed,
                  int draw, int64_t *picked);

typedef struct burn_svm_opts {
    const double *costs; /* candidate costs C, [ncosts] */
    int ncosts;
    int folds;         /* cross-validation folds (fewer when a class has fewer images) */
    int draws;         /* few-shot draws per k */
    double pos_weight; /* loss weight of the positive class */
    uint64_t seed;     /* draws and folds */
    int threads;       /* >= 1 */
} burn_svm_opts;

typedef struct burn_svm_row {
    int shots, draws;  /* shots 0: every training image (one draw) */
    double map_mean, map_std, acc_mean, acc_std; /* 0..1; std over draws (sample; 0 for one) */
    double cost;       /* median over the draws of the cross-validated cost */
} burn_svm_row;

/* For each shots[r] (0: all) fill rows[r]: one-vs-rest L2-regularised L2-loss linear SVMs
 * (liblinear) on L2-normalised features (train and val are normalised in place), the cost
 * cross-validated on the training subset by mean AP, mAP and accuracy on val. 0, or -1 with
 * burn_error(). */
int burn_svm_evaluate(burn_features *train, burn_features *val, const int *shots, int nshots,
                      const burn_svm_opts *o, burn_svm_row *rows);

#ifdef __cplusplus
}
#endif

#endif
