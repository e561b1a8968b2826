/* finetune.c — semi-supervised fine-tuning of the binary student and the supervised baseline
 * (METHOD.md §9, include/burn/finetune.h): the student + a new classifier, one cross-entropy step,
 * eval-mode logits, and the protocol: labelled subset, training loop, checkpoint, top-1/top-5.
 *
 * Per update u of U = finetune.epochs · steps_per_epoch (batches of finetune.batch_size from
 * the labelled subset, RandomResizedCrop + flip, one view):
 *   grads = 0; logits = classifier(student(x)) with train-mode BN; CE mean over the batch;
 *   the student's range of the buffer steps with lr(u)·backbone_lr, the classifier's with
 *   lr(u) (Adam or SGD; lr(u): linear warm-up from 0, then cosine to 0).
 * Every random number derives from run.seed: the subset, the classifier's initial weights,
 * sampling and augmentation. */
#include "burn/finetune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "burn/binarize.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/eval.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/optim.h"
#include "burn/run_dir.h"

/* Philox key of the classifier's initial weights ("ftclassf") */
#define CLASSIFIER_STREAM 0x6674636c61737366ull

int burn_finetune_model_init(burn_finetune_model *m, const burn_config *cfg,
                             const burn_backend *be, int N, int classes, uint64_t seed) {
    memset(m, 0, sizeof *m);
    m->be = be;
    m->N = N;
    m->classes = classes;
    if (N < 2) {
        burn_error_set("finetune.batch_size %d: BatchNorm in train mode needs at least 2 images",
                       N);
        return -1;
    }
    if (classes < 2) {
        burn_error_set("the classifier needs at least 2 classes (the data has %d)", classes);
        return -1;
    }
    int act = burn_act_grad_parse(cfg->binary_act_grad);
    int wgrad = burn_weight_grad_parse(cfg->binary_weight_grad);
    if (act < 0 || wgrad < 0 || burn_models_from_config(cfg, &m->student, NULL, NULL, NULL) != 0)
        return -1;
    m->F = m->student.feature_dim;
    if (burn_linear_init(&m->fc, N, m->F, classes) != 0) return -1;

    /* student first: its trainables are then [0, classifier offset) of the buffer */
    burn_params_init_registry(&m->params);
    burn_reactnet_register(&m->student, &m->params, "student.");
    int64_t wshape[2] = {classes, m->F}, bshape[1] = {classes};
    m->cls_w = burn_params_add(&m->params, "classifier.weight", BURN_PARAM_TRAINABLE, 2, wshape,
                               BURN_INIT_ZERO, 0);
    m->cls_b = burn_params_add(&m->params, "classifier.bias", BURN_PARAM_TRAINABLE, 1, bshape,
                               BURN_INIT_ZERO, 0);
    burn_params_finalize(&m->params, be);
    burn_params_init(&m->params, seed);
    /* classifier weight ~ N(0, 0.01²), bias 0 (the linear heads of MoCo's and SimCLR's
     * evaluation code), drawn on the host so that both backends start alike */
    int64_t nw = (int64_t)classes * m->F;
    float *host = burn_xmalloc((size_t)nw * sizeof(float));
    burn_cpu_backend()->normal(host, nw, seed ^ CLASSIFIER_STREAM, 0, 0.0f, 0.01f);
    be->upload(burn_param_data(&m->params, m->cls_w), host, (size_t)nw * sizeof(float));
    free(host);
    m->cls_begin = m->params.p[m->cls_w].offset;
    m->backbone_end = m->cls_begin;
    if (m->params.p[m->cls_b].offset < m->cls_begin)
        burn_check_fail("burn", "burn_finetune_model_init", __FILE__, __LINE__,
                        "classifier tensors out of registration order", NULL);

    m->run = burn_reactnet_run_new(&m->student, be, N, act, wgrad);
    if (!m->run) {
        burn_finetune_model_free(m);
        return -1;
    }
    m->logits = be->alloc((size_t)N * classes * sizeof(float));
    m->dlogits = be->alloc((size_t)N * classes * sizeof(float));
    m->dfeat = be->alloc((size_t)N * m->F * sizeof(float));
    m->rows = be->alloc((size_t)N * sizeof(float));
    m->labels = be->alloc((size_t)N * sizeof(int32_t));
    return 0;
}

void burn_finetune_model_free(burn_finetune_model *m) {
    if (!m->be) return;
    burn_reactnet_run_free(m->run);
    void *bufs[] = {m->logits, m->dlogits, m->dfeat, m->rows, m->labels};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) m->be->free(bufs[i]);
    if (m->params.data) burn_params_free(&m->params);
    memset(m, 0, sizeof *m);
}

int burn_finetune_model_load_student(burn_finetune_model *m, const char *path_or_dir,
                                     const burn_config *cfg) {
    static const char *const student[] = {"student.", NULL};
    if (burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", path_or_dir, cfg, 0}, &m->params,
                            student) != 0)
        return -1;
    burn_finetune_model_touched(m);
    return 0;
}

/* Features [N, F] of x with BN in train or eval mode; stage 2 binarises changed weights. */
static int student_forward(burn_finetune_model *m, const float *x, int train) {
    if (!m->prepared) {
        burn_reactnet_prepare(m->run, &m->params);
        m->prepared = 1;
    }
    return burn_reactnet_forward(m->run, &m->params, x, train, &m->feat);
}

int burn_finetune_step(burn_finetune_model *m, const float *x, const int32_t *labels,
                       double *loss, int *correct) {
    const burn_backend *be = m->be;
    int N = m->N, C = m->classes;
    for (int n = 0; n < N; n++)
        if (labels[n] < 0 || labels[n] >= C) {
            burn_error_set("label %d of batch image %d is outside the classifier's [0, %d)",
                           (int)labels[n], n, C);
            return -1;
        }
    be->upload(m->labels, labels, (size_t)N * sizeof(int32_t));
    if (student_forward(m, x, 1) != 0) return -1;
    const float *W = burn_param_data(&m->params, m->cls_w), *b = burn_param_data(&m->params, m->cls_b);
    burn_linear_forward(be, &m->fc, m->logits, m->feat, W, b); /* logits [N, C] */
    /* mean over the batch: dlogits = (softmax − onehot) / N */
    be->softmax_xent(m->rows, m->dlogits, m->logits, m->labels, N, C, 1.0f / (float)N);
    burn_linear_backward(be, &m->fc, m->dfeat, burn_param_grad(&m->params, m->cls_w),
                         burn_param_grad(&m->params, m->cls_b), m->dlogits, m->feat, W);
    burn_reactnet_backward(m->run, &m->params, m->dfeat);
    if (loss) {
        float *h = burn_xmalloc((size_t)N * sizeof(float));
        be->download(h, m->rows, (size_t)N * sizeof(float));
        double s = 0;
        for (int n = 0; n < N; n++) s += h[n];
        *loss = s / N;
        free(h);
    }
    if (correct) {
        float *h = burn_xmalloc((size_t)N * C * sizeof(float));
        be->download(h, m->logits, (size_t)N * C * sizeof(float));
        int64_t top1 = 0;
        int rc = burn_topk_correct(h, labels, N, C, &top1, NULL);
        free(h);
        if (rc != 0) return -1;
        *correct = (int)top1;
    }
    return 0;
}

void burn_finetune_update(burn_finetune_model *m, const burn_config *cfg, float *opt_a,
                          float *opt_b, int64_t u, double lr) {
    const burn_backend *be = m->be;
    float lr_backbone = (float)(lr * cfg->finetune_backbone_lr);
    float *p = m->params.data, *g = m->params.grad;
    int64_t c0 = m->cls_begin, nb = m->backbone_end, nc = m->params.trainable - c0;
    if (strcmp(cfg->finetune_optimizer, "sgd") == 0) {
        burn_sgd_hparams h = {lr_backbone, (float)cfg->finetune_momentum,
                              (float)cfg->finetune_weight_decay, 1.0f};
        be->sgd_step(p, g, opt_a, nb, h);
        h.lr = (float)lr;
        be->sgd_step(p + c0, g + c0, opt_a + c0, nc, h);
    } else {
        burn_adam_hparams h = {lr_backbone, (float)cfg->train_beta1, (float)cfg->train_beta2,
                               (float)cfg->train_eps, (float)cfg->finetune_weight_decay, 1.0f, 0,
                               0};
        burn_adam_prepare(&h, u + 1);
        be->adam_step(p, g, opt_a, opt_b, nb, h);
        h.lr = (float)lr;
        be->adam_step(p + c0, g + c0, opt_a + c0, opt_b + c0, nc, h);
    }
    burn_finetune_model_touched(m);
}

int burn_finetune_logits(burn_finetune_model *m, const float *x, const float **logits) {
    if (student_forward(m, x, 0) != 0) return -1;
    burn_linear_forward(m->be, &m->fc, m->logits, m->feat, burn_param_data(&m->params, m->cls_w),
                        burn_param_data(&m->params, m->cls_b));
    *logits = m->logits;
    return 0;
}

/* Top-1 / top-5 hits over the val split (eval transform, BN running statistics). */
static int evaluate(burn_finetune_model *m, const burn_config *cfg, burn_source *val,
                    double *top1, double *top5) {
    const burn_backend *be = m->be;
    int N = m->N, C = m->classes;
    burn_loader_opts lo;
    burn_loader_opts_from_config(&lo, cfg);
    lo.batch = N;
    lo.views = 1;
    lo.train = 0;
    lo.shuffle = 0;
    lo.drop_last = 0; /* every image once; the padding of the last batch is not counted */
    lo.epochs = 1;
    lo.rank = 0;
    lo.world = 1;
    lo.be = be;
    burn_loader *loader = burn_loader_create(val, &lo);
    if (!loader) return -1;
    size_t in_bytes = (size_t)N * 3 * lo.size * lo.size * sizeof(float);
    float *dev_in = be->is_device ? be->alloc(in_bytes) : NULL;
    float *host = burn_xmalloc((size_t)N * C * sizeof(float));
    int64_t seen = 0, hit1 = 0, hit5 = 0;
    int rc = 0;
    for (;;) {
        const burn_batch *b;
        const float *x, *logits;
        int r = burn_loader_next_view(loader, be, 0, dev_in, &b, &x);
        if (r == 1) break;
        if (r != 0) {
            rc = -1;
            break;
        }
        if (burn_finetune_logits(m, x, &logits) != 0) {
            rc = -1;
            break;
        }
        be->download(host, logits, (size_t)N * C * sizeof(float));
        for (int i = 0; i < b->n && rc == 0; i++) {
            if (b->is_pad[i]) continue;
            int64_t t1 = 0, t5 = 0;
            rc = burn_topk_correct(host + (size_t)i * C, &b->labels[i], 1, C, &t1, &t5);
            hit1 += t1;
            hit5 += t5;
            seen++;
        }
        if (rc != 0) break;
    }
    if (burn_loader_bad_count(loader) > 0)
        burn_warn("evaluation: %lld unreadable images replaced by substitutes",
                  (long long)burn_loader_bad_count(loader));
    burn_loader_free(loader);
    free(host);
    if (dev_in) be->free(dev_in);
    if (rc == 0 && seen != val->count) {
        burn_error_set("evaluation: %lld of %lld images came back", (long long)seen,
                       (long long)val->count);
        rc = -1;
    }
    if (rc == 0) {
        *top1 = (double)hit1 / (double)seen;
        *top5 = (double)hit5 / (double)seen;
    }
    return rc;
}

void burn_finetune_result_free(burn_finetune_result *res) {
    free(res->checkpoint_path);
    memset(res, 0, sizeof *res);
}

/* The same classes in both splits: the classifier's output c must mean one thing. */
static int check_classes(const burn_source *train, const burn_source *val) {
    if (train->num_classes != val->num_classes) {
        burn_error_set("the train split has %d classes, the val split %d (%s): fine-tuning needs "
                       "the same classes in both", train->num_classes, val->num_classes,
                       val->origin);
        return -1;
    }
    if (train->class_names && val->class_names)
        for (int c = 0; c < train->num_classes; c++)
            if (strcmp(train->class_names[c], val->class_names[c]) != 0) {
                burn_error_set("class %d is '%s' in the train split but '%s' in the val split",
                               c, train->class_names[c], val->class_names[c]);
                return -1;
            }
    return 0;
}

int burn_finetune(const burn_config *cfg, const burn_backend *be, const burn_finetune_opts *o,
                  burn_finetune_result *res) {
    memset(res, 0, sizeof *res);
    const char *dir = cfg->run_dir;
    uint64_t seed = (uint64_t)cfg->run_seed;
    int N = (int)cfg->finetune_batch_size, sgd = strcmp(cfg->finetune_optimizer, "sgd") == 0;
    if (!o->checkpoint || !*o->checkpoint) {
        burn_error_set("name the starting weights: --checkpoint PATH (a BURN checkpoint or run "
                       "directory) or --checkpoint random (the supervised baseline)");
        return 2;
    }
    struct stat sb; /* a missing starting point is said before any data is read */
    if (strcmp(o->checkpoint, "random") != 0 && stat(o->checkpoint, &sb) != 0) {
        burn_error_set("--checkpoint %s: no such file or directory", o->checkpoint);
        return 2;
    }
    /* one run per run directory, as train (include/burn/run_dir.h): a second fine-tuning
     * into a used run.dir would leave two checkpoints for `eval --checkpoint DIR` to pick from */
    static const char *const outputs[] = {"metrics.jsonl", "ckpt-", NULL};
    int code = 0, lock = burn_run_dir_claim(dir, o->overwrite ? BURN_RUN_OVERWRITE : BURN_RUN_NEW,
                                            outputs, &code);
    if (lock < 0) return code;
    char *path = NULL;
    if (asprintf(&path, "%s/config.ini", dir) < 0 || burn_config_save(cfg, path) != 0) {
        free(path);
        burn_run_dir_release(lock);
        return 1;
    }
    free(path);

    burn_source *src = burn_finetune_source(cfg, o->fraction, o->subset_list, seed, &res->pool);
    burn_source *val = src ? burn_source_from_config(cfg, "val") : NULL;
    burn_finetune_model m = {0};
    burn_loader *loader = NULL;
    burn_metrics metrics = {0};
    float *opt_a = NULL, *opt_b = NULL, *dev_in = NULL;
    int rc = 2;
    if (!src || !val || check_classes(src, val) != 0) goto done;
    res->labelled = src->count;
    res->classes = src->num_classes;
    burn_sampler sampler;
    if (burn_sampler_init(&sampler, src->count, N, 0, 1, 1, cfg->data_drop_last, seed) != 0) {
        char *why = burn_xstrdup(burn_error());
        burn_error_set("%lld labelled images at finetune.batch_size %d: %s", (long long)src->count,
                       N, why);
        free(why);
        goto done;
    }
    int64_t spe = sampler.steps_per_epoch;
    burn_sampler_free(&sampler);
    int64_t total = cfg->finetune_epochs * spe;
    int64_t warmup = (int64_t)(cfg->finetune_warmup_epochs * (double)spe);
    if (burn_finetune_model_init(&m, cfg, be, N, src->num_classes, seed) != 0) goto done;
    if (strcmp(o->checkpoint, "random") != 0 &&
        burn_finetune_model_load_student(&m, o->checkpoint, cfg) != 0)
        goto done;
    if (cfg->train_debug) {
        burn_debug_sync = 1;
        burn_reactnet_set_debug(m.run, 1);
    }
    rc = 1;
    int64_t T = m.params.trainable;
    opt_a = be->alloc((size_t)T * sizeof(float)); /* Adam m, or the SGD momentum */
    be->fill(opt_a, 0.0f, T);
    if (!sgd) {
        opt_b = be->alloc((size_t)T * sizeof(float)); /* Adam v */
        be->fill(opt_b, 0.0f, T);
    }
    burn_loader_opts lo;
    burn_loader_opts_from_config(&lo, cfg);
    lo.batch = N;
    lo.views = 1;
    lo.train = 1;
    lo.rank = 0;
    lo.world = 1;
    lo.shuffle = 1;
    lo.epochs = cfg->finetune_epochs;
    lo.be = be;
    /* METHOD.md §9's training transform: RandomResizedCrop + flip, no colour or blur */
    lo.aug.jitter_p = lo.aug.gray_p = lo.aug.blur_p = lo.aug.solarize_p = 0.0f;
    if (!(loader = burn_loader_create(src, &lo))) goto done;
    char *mpath = NULL;
    if (asprintf(&mpath, "%s/metrics.jsonl", dir) < 0 || burn_metrics_open(&metrics, mpath, INT64_MAX)) {
        free(mpath);
        goto done;
    }
    free(mpath);
    size_t in_bytes = (size_t)N * 3 * lo.size * lo.size * sizeof(float);
    if (be->is_device) dev_in = be->alloc(in_bytes);
    burn_log("fine-tuning from %s: %lld labelled images of %d classes (%s), %lld updates "
             "(%lld epochs × %lld), batch %d, %s lr %g (backbone × %g), run dir %s",
             o->checkpoint, (long long)src->count, src->num_classes,
             o->subset_list && *o->subset_list ? o->subset_list
             : o->fraction < 1.0                ? "class-balanced fraction"
                                                : "every image",
             (long long)total, (long long)cfg->finetune_epochs, (long long)spe, N,
             cfg->finetune_optimizer, cfg->finetune_lr, cfg->finetune_backbone_lr, dir);

    double t_start = burn_now(), t_last = t_start, acc_loss = 0, first_window = -1;
    int64_t acc_hits = 0, acc_n = 0;
    for (int64_t u = 0; u < total; u++) {
        const burn_batch *b;
        const float *x;
        int r = burn_loader_next_view(loader, be, 0, dev_in, &b, &x);
        if (r != 0) {
            if (r == 1) burn_error_set("the loader ended after %lld of %lld updates",
                                       (long long)u, (long long)total);
            goto done;
        }
        be->fill(m.params.grad, 0.0f, T);
        double loss;
        int hits;
        if (burn_finetune_step(&m, x, b->labels, &loss, &hits) != 0) goto done;
        if (!isfinite(loss)) {
            burn_error_set("non-finite loss (%g) at update %lld: stopping (lower finetune.lr?)",
                           loss, (long long)u);
            goto done;
        }
        double lr = burn_lr_at(cfg->finetune_lr, u, warmup, total, 0.0);
        burn_finetune_update(&m, cfg, opt_a, opt_b, u, lr);
        acc_loss += loss;
        acc_hits += hits;
        acc_n++;
        res->steps = u + 1;
        if (res->steps % cfg->log_every == 0 || res->steps == total) {
            double now = burn_now(), dt = now - t_last;
            char efmt[32]; /* "e/E" */
            burn_metric kv[] = {
                {"epoch", burn_epoch_of(res->steps, spe),
                 burn_epoch_format(efmt, sizeof efmt, cfg->finetune_epochs)},
                {"loss", acc_loss / acc_n, "%.4f"},
                {"train_top1", (double)acc_hits / (double)(acc_n * N), "%.3f"},
                {"lr", lr, "%.3g"},
                {"img_per_s", dt > 0 ? (double)acc_n * N / dt : 0, "%.1f"},
            };
            burn_log_step(&metrics, res->steps, total, now - t_start, kv,
                          (int)(sizeof kv / sizeof kv[0]));
            if (first_window < 0) first_window = acc_loss / acc_n;
            res->last_loss = acc_loss / acc_n;
            t_last = now;
            acc_loss = 0;
            acc_hits = acc_n = 0;
        }
    }
    res->first_loss = first_window;
    if (burn_loader_bad_count(loader) > 0)
        burn_warn("%lld unreadable images were skipped", (long long)burn_loader_bad_count(loader));
    burn_loader_free(loader);
    loader = NULL;

    burn_ckpt_state st = {.step = res->steps, .micro_step = res->steps,
                          .stage = (int)cfg->model_stage, .kind = "finetune"};
    if (burn_ckpt_save(dir, &m.params, NULL, NULL, &st, cfg, 1, 0, &res->checkpoint_path) != 0)
        goto done;
    if (evaluate(&m, cfg, val, &res->top1, &res->top5) != 0) goto done;
    burn_metric kv[] = {
        {"labelled", (double)res->labelled, "%.0f"},
        {"val_top1", res->top1, "%.4f"},
        {"val_top5", res->top5, "%.4f"},
    };
    burn_metrics_write(&metrics, kv, (int)(sizeof kv / sizeof kv[0]));
    burn_log("fine-tuned: val top-1 %.2f%%, top-5 %.2f%%; checkpoint %s", 100 * res->top1,
             100 * res->top5, res->checkpoint_path);
    rc = 0;
done:
    burn_metrics_close(&metrics);
    if (loader) burn_loader_free(loader);
    if (opt_a) be->free(opt_a);
    if (opt_b) be->free(opt_b);
    if (dev_in) be->free(dev_in);
    burn_finetune_model_free(&m);
    burn_source_free(val);
    burn_source_free(src);
    burn_run_dir_release(lock);
    return rc;
}
