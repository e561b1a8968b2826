/* linear_eval.c — linear evaluation of a frozen backbone (METHOD.md §9): a Linear(F → classes)
 * classifier trained by SGD with momentum, LR ×0.1 at milestone epochs, reported as top-1 /
 * top-5 on the val split.
 *
 * Two paths:
 *   features: the classifier alone on fixed features [count, F] (extracted once with the
 *             evaluation transform, or read from files); minibatches reshuffled every epoch
 *             by (seed, epoch); the last partial batch is kept (PyTorch's drop_last=False).
 *   images:   the student as in the paper's protocol: every epoch the frozen ReActNet-A up to
 *             the pooled feature (eval-mode BN, train transform: RandomResizedCrop + flip),
 *             then its trainable FC F→F + ReLU (from the checkpoint's student.fc) and the
 *             classifier, both trained by SGD. The backbone registry receives no gradient
 *             and no update: only the head registry {student.fc.*, linear.*} is stepped.
 * The classifier starts from W ~ N(0, 0.01²), b = 0 (MoCo's linear-evaluation recipe). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/binarize.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/data.h"
#include "burn/eval.h"
#include "burn/log.h"
#include "burn/models.h"
#include "burn/net.h"
#include "burn/rng.h"

/* Philox stream of the classifier's initial weights: run.seed + this (apart from the
 * backbone's streams, which use run.seed itself). */
#define LINEAR_INIT_STREAM 0x6c696e6561720000ull /* "linear" */
#define LINEAR_INIT_STD 0.01f

int burn_linear_opts_from_config(burn_linear_opts *o, const burn_config *cfg) {
    memset(o, 0, sizeof *o);
    o->epochs = (int)cfg->eval_linear_epochs;
    o->batch_size = (int)cfg->eval_linear_batch_size;
    o->lr = cfg->eval_linear_lr;
    o->momentum = cfg->eval_linear_momentum;
    o->weight_decay = cfg->eval_linear_weight_decay;
    o->augment = cfg->eval_linear_augment;
    o->seed = (uint64_t)cfg->run_seed;
    /* "60,80": ascending epochs (0 < m); spaces allowed; empty = constant LR */
    const char *s = cfg->eval_linear_milestones;
    while (*s) {
        while (*s == ' ' || *s == ',') s++;
        if (!*s) break;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 1000000 ||
            (o->n_milestones > 0 && v <= o->milestones[o->n_milestones - 1])) {
            burn_error_set("eval.linear_milestones: expected ascending positive epochs like "
                           "'60,80', got '%s'", cfg->eval_linear_milestones);
            return -1;
        }
        if (o->n_milestones == BURN_LINEAR_MAX_MILESTONES) {
            burn_error_set("eval.linear_milestones: at most %d milestones",
                           BURN_LINEAR_MAX_MILESTONES);
            return -1;
        }
        o->milestones[o->n_milestones++] = (int)v;
        s = end;
        while (*s == ' ') s++;
        if (*s && *s != ',') {
            burn_error_set("eval.linear_milestones: expected ascending positive epochs like "
                           "'60,80', got '%s'", cfg->eval_linear_milestones);
            return -1;
        }
    }
    return 0;
}

/* MultiStepLR: epoch e (0-based) runs at lr·0.1^(number of milestones m <= e). */
double burn_linear_lr(const burn_linear_opts *o, int64_t epoch) {
    double lr = o->lr;
    for (int i = 0; i < o->n_milestones; i++)
        if (epoch >= o->milestones[i]) lr *= 0.1;
    return lr;
}

/* The classifier: W [C, F] then b [C] in one flat parameter buffer, with its gradient and
 * momentum buffer (one sgd_step per minibatch). */
typedef struct classifier {
    const burn_backend *be;
    int F, C;
    int64_t n; /* C·F + C */
    float *p, *g, *buf;
} classifier;

static void classifier_init(classifier *k, const burn_backend *be, int F, int C, uint64_t seed) {
    k->be = be;
    k->F = F;
    k->C = C;
    k->n = (int64_t)C * F + C;
    float *host = burn_xcalloc((size_t)k->n, sizeof(float));
    for (int64_t i = 0; i < (int64_t)C * F; i++)
        host[i] = burn_rng_normal(seed + LINEAR_INIT_STREAM, (uint64_t)i, 0.0f, LINEAR_INIT_STD);
    k->p = be->alloc((size_t)k->n * sizeof(float));
    k->g = be->alloc((size_t)k->n * sizeof(float));
    k->buf = be->alloc((size_t)k->n * sizeof(float));
    be->upload(k->p, host, (size_t)k->n * sizeof(float));
    be->fill(k->buf, 0.0f, k->n);
    be->synchronize(); /* host is freed next */
    free(host);
}

static void classifier_free(classifier *k) {
    k->be->free(k->p);
    k->be->free(k->g);
    k->be->free(k->buf);
}

static const float *classifier_W(const classifier *k) { return k->p; }
static const float *classifier_b(const classifier *k) { return k->p + (int64_t)k->C * k->F; }

static void sgd(const burn_backend *be, float *p, const float *g, float *buf, int64_t n,
                const burn_linear_opts *o, double lr) {
    burn_sgd_hparams h = {(float)lr, (float)o->momentum, (float)o->weight_decay, 1.0f};
    be->sgd_step(p, g, buf, n, h);
}

static int check_opts(const burn_linear_opts *o) {
    if (o->epochs <= 0 || o->batch_size <= 0 || !(o->lr >= 0) || !(o->momentum >= 0) ||
        !(o->weight_decay >= 0)) {
        burn_error_set("linear eval: epochs and batch size must be positive, lr, momentum and "
                       "weight decay non-negative");
        return -1;
    }
    return 0;
}

/* ==== features path ==== */

/* logits [count, C] on the host of features f through the classifier, in batches of B. */
static float *classify_features(const classifier *k, const burn_features *f, int B) {
    const burn_backend *be = k->be;
    int F = k->F, C = k->C;
    float *logits = burn_xmalloc((size_t)f->count * C * sizeof(float));
    float *x = be->alloc((size_t)B * F * sizeof(float)), *y = be->alloc((size_t)B * C * sizeof(float));
    for (int64_t start = 0; start < f->count; start += B) {
        int nb = (int)(f->count - start < B ? f->count - start : B);
        burn_linear lin;
        burn_linear_init(&lin, nb, F, C);
        be->upload(x, f->x + start * F, (size_t)nb * F * sizeof(float));
        burn_linear_forward(be, &lin, y, x, classifier_W(k), classifier_b(k));
        be->download(logits + start * C, y, (size_t)nb * C * sizeof(float));
    }
    be->free(x);
    be->free(y);
    return logits;
}

static int accuracy(const float *logits, const int32_t *labels, int64_t count, int C,
                    burn_linear_result *res) {
    int64_t c1 = 0, c5 = 0;
    if (burn_topk_correct(logits, labels, (int)count, C, &c1, &c5) != 0) return -1;
    res->val_count = count;
    res->top1 = count ? (double)c1 / (double)count : 0.0;
    res->top5 = count ? (double)c5 / (double)count : 0.0;
    return 0;
}

int burn_linear_train_features(const burn_backend *be, const burn_linear_opts *o,
                               const burn_features *train, const burn_features *val,
                               burn_linear_result *res) {
    memset(res, 0, sizeof *res);
    if (check_opts(o) != 0) return -1;
    if (train->count <= 0 || val->count <= 0 || train->dim <= 0) {
        burn_error_set("linear eval: empty features (train %lld x %d, val %lld)",
                       (long long)train->count, train->dim, (long long)val->count);
        return -1;
    }
    if (train->dim != val->dim) {
        burn_error_set("linear eval: train features are %d-d, val features %d-d (extracted "
                       "from different backbones?)", train->dim, val->dim);
        return -1;
    }
    if (train->num_classes != val->num_classes || train->num_classes < 2) {
        burn_error_set("linear eval: train has %d classes, val %d (need the same, at least 2)",
                       train->num_classes, val->num_classes);
        return -1;
    }
    int F = train->dim, C = train->num_classes;
    int64_t n = train->count;
    for (int64_t i = 0; i < n; i++)
        if (train->labels[i] < 0 || train->labels[i] >= C) {
            burn_error_set("linear eval: train label %d of item %lld is outside [0, %d)",
                           (int)train->labels[i], (long long)i, C);
            return -1;
        }
    int B = (int)(o->batch_size < n ? o->batch_size : n);
    int64_t steps = (n + B - 1) / B;
    classifier k;
    classifier_init(&k, be, F, C, o->seed);
    float *x = be->alloc((size_t)B * F * sizeof(float)), *logits = be->alloc((size_t)B * C * sizeof(float));
    float *dlogits = be->alloc((size_t)B * C * sizeof(float)), *loss = be->alloc((size_t)B * sizeof(float));
    float *loss_sums = be->alloc((size_t)steps * sizeof(float)); /* one per step of an epoch */
    int32_t *y = be->alloc((size_t)B * sizeof(int32_t));
    float *hx = burn_xmalloc((size_t)B * F * sizeof(float)), *hsums = burn_xmalloc((size_t)steps * sizeof(float));
    int32_t *hy = burn_xmalloc((size_t)B * sizeof(int32_t));
    int64_t *perm = burn_xmalloc((size_t)n * sizeof(int64_t));
    int rc = 0;
    for (int epoch = 0; rc == 0 && epoch < o->epochs; epoch++) {
        double lr = burn_linear_lr(o, epoch);
        burn_sampler_permutation(o->seed, epoch, n, 1, perm);
        for (int64_t step = 0; step < steps; step++) {
            int64_t start = step * B;
            int nb = (int)(n - start < B ? n - start : B);
            for (int i = 0; i < nb; i++) {
                int64_t src = perm[start + i];
                memcpy(hx + (int64_t)i * F, train->x + src * F, (size_t)F * sizeof(float));
                hy[i] = train->labels[src];
            }
            /* pageable uploads: the host rows may be refilled once these return */
            be->upload(x, hx, (size_t)nb * F * sizeof(float));
            be->upload(y, hy, (size_t)nb * sizeof(int32_t));
            burn_linear lin;
            burn_linear_init(&lin, nb, F, C);
            burn_linear_forward(be, &lin, logits, x, classifier_W(&k), classifier_b(&k));
            be->softmax_xent(loss, dlogits, logits, y, nb, C, 1.0f / (float)nb);
            be->sum(loss_sums + step, loss, nb);
            be->fill(k.g, 0.0f, k.n);
            burn_linear_backward(be, &lin, NULL, k.g, k.g + (int64_t)C * F, dlogits, x,
                                 classifier_W(&k));
            sgd(be, k.p, k.g, k.buf, k.n, o, lr);
        }
        be->download(hsums, loss_sums, (size_t)steps * sizeof(float));
        double total = 0;
        for (int64_t s = 0; s < steps; s++) total += hsums[s];
        res->train_loss = total / (double)n;
        if (!isfinite(res->train_loss)) {
            burn_error_set("linear eval: the training loss became %g at epoch %d (lower "
                           "eval.linear_lr?)", res->train_loss, epoch);
            rc = -1;
        }
        if (epoch == 0 || epoch + 1 == o->epochs || (epoch + 1) % 10 == 0)
            burn_log("linear eval: epoch %d/%d lr %g loss %.4f", epoch + 1, o->epochs, lr,
                     res->train_loss);
    }
    if (rc == 0) {
        float *vl = classify_features(&k, val, B);
        rc = accuracy(vl, val->labels, val->count, C, res);
        free(vl);
    }
    free(hx), free(hsums), free(hy), free(perm);
    be->free(x), be->free(logits), be->free(dlogits), be->free(loss), be->free(loss_sums);
    be->free(y);
    classifier_free(&k);
    return rc;
}

/* ==== images path ==== */

/* The trainable head: [FC F→F + ReLU when model.feature_fc] then the classifier, in one
 * registry (names student.fc.weight/bias, linear.weight/bias) for one sgd_step. */
typedef struct images_head {
    burn_params ps;
    int fc_w, fc_b, lin_w, lin_b; /* indices; fc_* = -1 without model.feature_fc */
    float *buf;                   /* momentum [ps.trainable] */
    const burn_backend *be;
} images_head;

static int head_build(images_head *h, const burn_backend *be, const burn_reactnet *net, int C,
                      int feature_fc, int64_t F, const char *checkpoint, uint64_t seed) {
    int64_t P = net->feature_dim; /* net: the backbone without its FC (pooled) */
    if (!feature_fc) F = P;
    h->be = be;
    burn_params_init_registry(&h->ps);
    h->fc_w = h->fc_b = -1;
    if (feature_fc) {
        int64_t w[2] = {F, P}, b[1] = {F};
        h->fc_w = burn_params_add(&h->ps, "student.fc.weight", BURN_PARAM_TRAINABLE, 2, w,
                                  BURN_INIT_ZERO, 0);
        h->fc_b = burn_params_add(&h->ps, "student.fc.bias", BURN_PARAM_TRAINABLE, 1, b,
                                  BURN_INIT_ZERO, 0);
    }
    int64_t w[2] = {C, F}, b[1] = {C};
    h->lin_w = burn_params_add(&h->ps, "linear.weight", BURN_PARAM_TRAINABLE, 2, w,
                               BURN_INIT_ZERO, 0);
    h->lin_b = burn_params_add(&h->ps, "linear.bias", BURN_PARAM_TRAINABLE, 1, b,
                               BURN_INIT_ZERO, 0);
    burn_params_finalize(&h->ps, be);
    burn_params_init(&h->ps, seed);
    /* the classifier's N(0, 0.01²) start, as in the features path */
    float *host = burn_xmalloc((size_t)C * F * sizeof(float));
    for (int64_t i = 0; i < (int64_t)C * F; i++)
        host[i] = burn_rng_normal(seed + LINEAR_INIT_STREAM, (uint64_t)i, 0.0f, LINEAR_INIT_STD);
    be->upload(burn_param_data(&h->ps, h->lin_w), host, (size_t)C * F * sizeof(float));
    be->synchronize();
    free(host);
    h->buf = be->alloc((size_t)h->ps.trainable * sizeof(float));
    be->fill(h->buf, 0.0f, h->ps.trainable);
    static const char *const fc_prefix[] = {"student.fc.", NULL};
    if (feature_fc && strcmp(checkpoint, "random") != 0 &&
        burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", checkpoint, NULL, 0}, &h->ps,
                            fc_prefix) != 0) /* the model was checked with the backbone */
        return -1;
    return 0;
}

static void head_free(images_head *h) {
    if (h->buf) h->be->free(h->buf);
    if (h->ps.data) burn_params_free(&h->ps);
    memset(h, 0, sizeof *h);
}

/* Scratch of the head's forward/backward for batches of B. */
typedef struct head_run {
    burn_linear fc, lin;
    float *h, *logits, *dlogits, *dh, *loss;
    int32_t *y;
} head_run;

/* P: the pooled width, F: the classifier's input (the FC's width, else P) */
static void head_run_init(head_run *r, const burn_backend *be, int B, int P, int F, int C) {
    burn_linear_init(&r->fc, B, P, F);
    burn_linear_init(&r->lin, B, F, C);
    r->h = be->alloc((size_t)B * F * sizeof(float));
    r->dh = be->alloc((size_t)B * F * sizeof(float));
    r->logits = be->alloc((size_t)B * C * sizeof(float));
    r->dlogits = be->alloc((size_t)B * C * sizeof(float));
    r->loss = be->alloc((size_t)B * sizeof(float));
    r->y = be->alloc((size_t)B * sizeof(int32_t));
}

static void head_run_free(head_run *r, const burn_backend *be) {
    be->free(r->h), be->free(r->dh), be->free(r->logits), be->free(r->dlogits);
    be->free(r->loss), be->free(r->y);
}

/* logits [B, C] of pooled features [B, F]; returns the classifier's input (h or pooled) */
static const float *head_forward(const images_head *h, head_run *r, const burn_backend *be,
                                 const float *pooled) {
    const float *feat = pooled;
    if (h->fc_w >= 0) {
        burn_linear_forward(be, &r->fc, r->h, pooled, burn_param_data(&h->ps, h->fc_w),
                            burn_param_data(&h->ps, h->fc_b));
        burn_relu_forward(be, r->h, r->h, (int64_t)r->fc.N * r->fc.out);
        feat = r->h;
    }
    burn_linear_forward(be, &r->lin, r->logits, feat, burn_param_data(&h->ps, h->lin_w),
                        burn_param_data(&h->ps, h->lin_b));
    return feat;
}

/* The train (or eval) loader over a split with one view; the train transform keeps only the
 * crop and flip of the BURN augmentations (METHOD.md §9). */
static burn_loader *split_loader(const burn_config *cfg, const burn_backend *be,
                                 const burn_source *src, int B, int train, int64_t epochs,
                                 uint64_t seed) {
    burn_loader_opts lo;
    burn_loader_opts_from_config(&lo, cfg);
    lo.batch = B;
    lo.views = 1;
    lo.train = train;
    lo.shuffle = train;
    lo.drop_last = 0;
    lo.epochs = epochs;
    lo.rank = 0;
    lo.world = 1;
    lo.seed = seed;
    lo.be = be;
    lo.aug.jitter_p = 0.0f;
    lo.aug.gray_p = 0.0f;
    lo.aug.blur_p = 0.0f;
    lo.aug.solarize_p = 0.0f;
    return burn_loader_create(src, &lo);
}

int burn_linear_train_images(const burn_config *cfg, const burn_backend *be,
                             const char *checkpoint, const burn_linear_opts *o,
                             burn_linear_result *res, burn_params *backbone_out,
                             burn_params *head_out) {
    memset(res, 0, sizeof *res);
    if (check_opts(o) != 0) return -1;
    if (!checkpoint || !*checkpoint) {
        burn_error_set("linear eval of the student needs --checkpoint (a BURN checkpoint, a "
                       "run directory, or 'random' for the untrained network)");
        return -1;
    }
    /* the backbone up to the pooled feature: the student without its FC */
    burn_config bcfg = *cfg;
    bcfg.model_feature_fc = 0;
    burn_reactnet net, full;
    if (burn_models_from_config(&bcfg, &net, NULL, NULL, NULL) != 0 ||
        burn_models_from_config(cfg, &full, NULL, NULL, NULL) != 0)
        return -1;
    int act = burn_act_grad_parse(cfg->binary_act_grad);
    int wgt = burn_weight_grad_parse(cfg->binary_weight_grad);
    if (act < 0 || wgt < 0) return -1;
    burn_source *train_src = burn_source_from_config(cfg, "train");
    if (!train_src) return -1;
    burn_source *val_src = burn_source_from_config(cfg, "val");
    if (!val_src) {
        burn_source_free(train_src);
        return -1;
    }
    int C = train_src->num_classes, P = net.feature_dim, S = (int)cfg->data_image_size;
    int F = cfg->model_feature_fc ? full.feature_dim : P;
    if (val_src->num_classes != C || C < 2) {
        burn_error_set("linear eval: the train split has %d classes, the val split %d (need "
                       "the same, at least 2)", C, val_src->num_classes);
        burn_source_free(train_src), burn_source_free(val_src);
        return -1;
    }
    int B = (int)(o->batch_size < train_src->count ? o->batch_size : train_src->count);
    int EB = (int)cfg->eval_batch_size;
    burn_params backbone;
    burn_params_init_registry(&backbone);
    burn_reactnet_register(&net, &backbone, "student.");
    burn_params_finalize(&backbone, be);
    burn_params_init(&backbone, (uint64_t)cfg->run_seed);
    images_head head = {0};
    static const char *const student[] = {"student.", NULL};
    burn_reactnet_run *run = NULL, *erun = NULL;
    burn_loader *loader = NULL;
    int rc = strcmp(checkpoint, "random") == 0 ? 0
                                                : burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", checkpoint, cfg, 0},
                                                      &backbone, student);
    if (rc == 0) rc = head_build(&head, be, &net, C, cfg->model_feature_fc, F, checkpoint, o->seed);
    if (rc == 0) {
        run = burn_reactnet_run_new(&net, be, B, act, wgt);
        erun = EB == B ? run : burn_reactnet_run_new(&net, be, EB, act, wgt);
        if (!run || !erun) rc = -1;
    }
    if (rc != 0) goto done;
    burn_reactnet_prepare(run, &backbone); /* stage 2: the packed binary weights, once */
    if (erun != run) burn_reactnet_prepare(erun, &backbone);

    loader = split_loader(cfg, be, train_src, B, o->augment, o->epochs, o->seed);
    if (!loader) {
        rc = -1;
        goto done;
    }
    head_run hr;
    head_run_init(&hr, be, B, P, F, C);
    float *x = be->is_device ? be->alloc((size_t)B * 3 * S * S * sizeof(float)) : NULL;
    float *hloss = burn_xmalloc((size_t)B * sizeof(float));
    double epoch_loss = 0;
    int64_t epoch_count = 0, cur_epoch = -1;
    for (;;) {
        const burn_batch *b;
        const float *in;
        int r = burn_loader_next_view(loader, be, 0, x, &b, &in);
        if (r == 1) break;
        if (r != 0) {
            rc = -1;
            break;
        }
        if (b->epoch != cur_epoch) {
            if (cur_epoch >= 0 && (cur_epoch == 0 || (cur_epoch + 1) % 10 == 0))
                burn_log("linear eval: epoch %lld/%d loss %.4f", (long long)cur_epoch + 1,
                         o->epochs, epoch_loss / (double)epoch_count);
            cur_epoch = b->epoch;
            epoch_loss = 0;
            epoch_count = 0;
        }
        const float *pooled;
        if (burn_reactnet_forward(run, &backbone, in, 0, &pooled) != 0) {
            rc = -1;
            break;
        }
        const float *feat = head_forward(&head, &hr, be, pooled);
        be->upload(hr.y, b->labels, (size_t)B * sizeof(int32_t));
        be->softmax_xent(hr.loss, hr.dlogits, hr.logits, hr.y, B, C, 1.0f / (float)b->n_real);
        /* padding slots (the wrapped tail of the last batch) carry no gradient */
        for (int i = 0; i < B; i++)
            if (b->is_pad[i]) be->fill(hr.dlogits + (int64_t)i * C, 0.0f, C);
        be->fill(head.ps.grad, 0.0f, head.ps.trainable);
        burn_linear_backward(be, &hr.lin, head.fc_w >= 0 ? hr.dh : NULL,
                             burn_param_grad(&head.ps, head.lin_w),
                             burn_param_grad(&head.ps, head.lin_b), hr.dlogits, feat,
                             burn_param_data(&head.ps, head.lin_w));
        if (head.fc_w >= 0) {
            burn_relu_backward(be, hr.dh, hr.dh, hr.h, (int64_t)B * F);
            burn_linear_backward(be, &hr.fc, NULL, burn_param_grad(&head.ps, head.fc_w),
                                 burn_param_grad(&head.ps, head.fc_b), hr.dh, pooled,
                                 burn_param_data(&head.ps, head.fc_w));
        }
        sgd(be, head.ps.data, head.ps.grad, head.buf, head.ps.trainable, o,
            burn_linear_lr(o, b->epoch));
        be->download(hloss, hr.loss, (size_t)B * sizeof(float)); /* waits: the batch is free */
        for (int i = 0; i < B; i++)
            if (!b->is_pad[i]) epoch_loss += hloss[i], epoch_count++;
        if (!isfinite(epoch_loss)) {
            burn_error_set("linear eval: the training loss became %g at epoch %lld (lower "
                           "eval.linear_lr?)", epoch_loss, (long long)b->epoch);
            rc = -1;
            break;
        }
    }
    if (epoch_count > 0) {
        res->train_loss = epoch_loss / (double)epoch_count;
        burn_log("linear eval: epoch %d/%d loss %.4f", o->epochs, o->epochs, res->train_loss);
    }
    if (burn_loader_bad_count(loader) > 0)
        burn_warn("linear eval: %lld unreadable train images replaced by substitutes",
                  (long long)burn_loader_bad_count(loader));
    burn_loader_free(loader);
    loader = NULL;
    head_run_free(&hr, be);
    if (x) be->free(x);
    free(hloss);

    /* val split: eval transform, dataset order, padding dropped */
    if (rc == 0) {
        loader = split_loader(cfg, be, val_src, EB, 0, 1, o->seed);
        if (!loader) rc = -1;
    }
    if (rc == 0) {
        head_run er;
        head_run_init(&er, be, EB, P, F, C);
        float *ex = be->is_device ? be->alloc((size_t)EB * 3 * S * S * sizeof(float)) : NULL;
        float *hl = burn_xmalloc((size_t)EB * C * sizeof(float));
        float *logits = burn_xmalloc((size_t)val_src->count * C * sizeof(float));
        int32_t *labels = burn_xmalloc((size_t)val_src->count * sizeof(int32_t));
        int64_t filled = 0;
        for (;;) {
            const burn_batch *b;
            const float *in, *pooled;
            int r = burn_loader_next_view(loader, be, 0, ex, &b, &in);
            if (r == 1) break;
            if (r != 0) {
                rc = -1;
                break;
            }
            if (burn_reactnet_forward(erun, &backbone, in, 0, &pooled) != 0) {
                rc = -1;
                break;
            }
            head_forward(&head, &er, be, pooled);
            be->download(hl, er.logits, (size_t)EB * C * sizeof(float));
            for (int i = 0; i < EB && filled < val_src->count; i++) {
                if (b->is_pad[i]) continue;
                memcpy(logits + filled * C, hl + (int64_t)i * C, (size_t)C * sizeof(float));
                labels[filled++] = b->labels[i];
            }
        }
        if (rc == 0) rc = accuracy(logits, labels, filled, C, res);
        if (rc == 0 && filled != val_src->count) {
            burn_error_set("linear eval: %lld of %lld val images came back", (long long)filled,
                           (long long)val_src->count);
            rc = -1;
        }
        head_run_free(&er, be);
        if (ex) be->free(ex);
        free(hl), free(logits), free(labels);
    }

done:
    if (loader) burn_loader_free(loader);
    if (erun && erun != run) burn_reactnet_run_free(erun);
    if (run) burn_reactnet_run_free(run);
    if (rc == 0 && head_out) {
        *head_out = head.ps; /* handed over: the caller frees it */
        memset(&head.ps, 0, sizeof head.ps);
    }
    head_free(&head);
    if (rc == 0 && backbone_out)
        *backbone_out = backbone;
    else
        burn_params_free(&backbone);
    burn_source_free(train_src);
    burn_source_free(val_src);
    return rc;
}
