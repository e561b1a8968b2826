/* burn.h — the BURN model and its training step (METHOD.md §1, §4): a frozen FP teacher backbone
 * h_ζ (ResNet, eval-mode BN, no activations kept), a trainable teacher head g_θ, the binary
 * student k_φ (ReActNet-A) and its head l_φ.
 *
 * Parameters: one trainable registry (names "student.", "student_head.", "teacher_head.") —
 * one buffer for the optimiser, the all-reduce and the checkpoint — and a frozen registry for
 * the teacher backbone ("teacher."), loaded from teacher.checkpoint.
 *
 * One step over a batch of N images in two views (each view its own forward pass, view 1 then
 * view 2, so BN batch statistics are per view):
 *   t_i = g_θ(h_ζ(v_i)), s_i = l_φ(k_φ(v_i)),
 *   loss = L(t_2, s_1) + L(t_1, s_2),  L = Σ_batch [(1 − λ)·KL + λ·FS] / N,
 * gradients into φ (student, student head) and θ (teacher head, unless frozen).
 *
 * Variants (docs/METHOD.md, "Keeping the target moving"):
 *   loss.fs_on = features: FS(h_ζ(v), k_φ(v)) between the backbones' features instead of
 *     FS(t, s); θ then gets the KL gradient alone.
 *   loss.fs_to_teacher_head = false (outputs): FS is stopped at t, θ learns from KL alone.
 *   loss.center_momentum m > 0: KL sees the teacher logits centred, t − c, with c a running
 *     mean of the batch mean of t (buffer "teacher_head.center", checkpointed).
 *   loss.teacher_temperature T_t: the teacher side of KL at its own temperature (sharpening);
 *     done as softmax((t − c)·(T/T_t) / T), so one loss op serves both temperatures.
 *   loss.teacher_info_max β > 0: θ also minimises β·IM(t) per view (include/burn/info_max.h),
 *     an objective no collapsed head minimises; the student never sees it. */
#ifndef BURN_BURN_H
#define BURN_BURN_H

#include "burn/backend.h"
#include "burn/config.h"
#include "burn/loss.h"
#include "burn/models.h"
#include "burn/net.h"
#include "burn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Phases of burn_model_step timed under train.profile (burn_model_set_profile). */
enum {
    BURN_PHASE_TEACHER,     /* teacher backbone forwards of both views */
    BURN_PHASE_STUDENT_FWD, /* student backbone forwards */
    BURN_PHASE_HEADS,       /* both heads forward and backward, the fused loss */
    BURN_PHASE_STUDENT_BWD, /* student backbone backwards */
    BURN_PHASES
};

typedef struct burn_model {
    const burn_backend *be;
    int N;
    burn_reactnet student;
    burn_resnet teacher;
    burn_head student_head, teacher_head;
    burn_params params;         /* trainable */
    burn_params teacher_params; /* frozen backbone */
    int head_trainable, act_grad, weight_grad;
    int debug;                  /* train.debug: burn_model_set_debug */
    int profile;                /* train.profile: burn_model_set_profile */
    double phase_seconds[BURN_PHASES]; /* accumulated while profiling */
    /* data parallel: set by the trainer for the update's last micro-batch, whose backward then
     * reports gradient ranges final to burn_dist_grad_ready as they complete (head, FC,
     * blocks, stem), so that their all-reduce overlaps the rest of the backward */
    int last_backward;
    int64_t part_range[BURN_REACTNET_BLOCKS + 3][2]; /* stem, blocks 0.., FC, student head */
    burn_loss_hparams loss;     /* temperature, fs; lambda per step; grad_scale = 1/N */
    int fs_features;            /* loss.fs_on = features */
    int fs_to_head;             /* loss.fs_to_teacher_head (outputs) */
    float center_momentum;      /* loss.center_momentum; 0 = no centring */
    float target_scale;         /* T / T_t: the teacher logits' factor before the loss */
    int center;                 /* parameter index of teacher_head.center, or -1 */
    float info_max;             /* loss.teacher_info_max β; 0 = off */
    int want_stats;             /* the trainer asks for burn_step_stats.heads this step */
    burn_reactnet_run *srun;
    burn_head_run *shrun, *th[2];
    burn_resnet_run *trun;
    float *ft[2], *ds, *dt[2], *dfeat, *rows; /* rows: kl, fs, loss, kl2, fs2, loss2 [6, N] */
    float *tgt[2];  /* the target logits the loss sees, (t − c)·T/T_t (when they differ from t) */
    float *ds2;     /* [N, D] stop-gradient: the student-side gradient of the KL-only call */
    float *dk;      /* [N, F] fs_on = features: dFS/d(student feature) */
    float *negc;    /* [D] −c for the centring */
    float *host_logits; /* [N, D] host copy for the collapse statistics and IM */
    float *host_dz;     /* [N, D] host IM gradient (info_max > 0) */
} burn_model;

/* Collapse statistics of one head's logits over a batch (include/burn/collapse.h). */
#include "burn/collapse.h"

typedef struct burn_step_stats {
    double loss;         /* L(t2, s1) + L(t1, s2) */
    double kl[2], fs[2]; /* batch means, direction 0 = (t2, s1), 1 = (t1, s2) */
    double im;           /* IM(t1) + IM(t2) when loss.teacher_info_max > 0 (θ's objective is
                          * loss + β·im), else 0 */
    int has_heads;       /* heads[] filled (m->want_stats) */
    burn_head_stats heads[2]; /* teacher head (view 1), student head (view 2) */
} burn_step_stats;

/* Build the networks of cfg for per-rank batch N on be, initialise the trainable parameters
 * from run.seed (METHOD.md §1-2 rules). The teacher backbone stays zero until loaded.
 * 0, or -1 with burn_error() naming the offending key. */
int burn_model_init(burn_model *m, const burn_config *cfg, const burn_backend *be, int N);
/* Load the frozen teacher backbone from a safetensors file (tools/convert_teacher.py, or
 * pretrain-teacher): strict — every tensor present with the configured shape, nothing extra,
 * all finite. An empty path is an error (never a random teacher). */
int burn_model_load_teacher(burn_model *m, const char *path);
void burn_model_free(burn_model *m);

/* S2-BNN (src/train/s2bnn_head.c): initialise the teacher head g_θ (every "teacher_head." tensor,
 * running statistics included) from a checkpoint, a run directory (its newest checkpoint) or
 * any safetensors file holding those names with this config's shapes. Strict; nothing changes
 * unless all tensors check. With teacher.head_trainable = false the head then stays fixed:
 * KL (and FS) to a frozen pretrained classifier. 0, or -1 with burn_error(). */
int burn_model_init_teacher_head(burn_model *m, const char *path);

/* Forward and backward of one BURN step on views v1, v2 [N, 3, S, S] (backend memory) with
 * FS weight lambda. Gradients ACCUMULATE into m->params.grad. -1 with burn_error() on a
 * degenerate batch (BN over a single value). */
int burn_model_step(burn_model *m, const float *v1, const float *v2, float lambda,
                    burn_step_stats *st);

/* train.debug: every layer output and gradient of the step checked for NaN/Inf (synchronising);
 * burn_model_step then fails naming the first non-finite tensor. */
void burn_model_set_debug(burn_model *m, int on);

/* After a step whose loss came out non-finite: "the teacher's features" when the frozen
 * teacher's output of either view holds NaN/Inf or values whose squares overflow (its weights
 * overflow the forward: the student is not to blame), else NULL. One synchronising reduction
 * per view. */
const char *burn_model_teacher_fault(burn_model *m);

/* train.profile: each phase of burn_model_step ends with a device synchronisation and its
 * time is added to m->phase_seconds (the caller resets them). The synchronisations cost the
 * overlap between phases, a few percent. */
void burn_model_set_profile(burn_model *m, int on);

/* Student features [N, F] in eval mode (BN running statistics), for k-NN and extraction:
 * points inside the model's run, valid until the next forward. Stage 2 needs
 * burn_reactnet_prepare after the weights change (burn_model_step does it). */
int burn_model_student_features(burn_model *m, const float *x, const float **features);

#ifdef __cplusplus
}
#endif

#endif
