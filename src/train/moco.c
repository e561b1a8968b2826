/* moco.c — MoCo v2 pretraining of the FP teacher (METHOD.md §8; include/burn/moco.h): both
 * encoders, the projection head, the queue, one training step, checkpoint save/load and the
 * teacher export. Every numeric op goes through the backend table. */
#include "burn/moco.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/layers.h"
#include "burn/safetensors.h"

#define MOCO_CKPT_FORMAT "burn-moco-ckpt-1"
/* Philox stream of the initial queue ("mocoqueu"): independent of the weights' stream */
#define MOCO_QUEUE_STREAM 0x6d6f636f71756575ull

int burn_moco_config_from(const burn_config *c, burn_moco_config *out) {
    memset(out, 0, sizeof *out);
    int depth = strcmp(c->teacher_arch, "resnet18") == 0   ? 18
                : strcmp(c->teacher_arch, "resnet34") == 0 ? 34
                                                           : 50;
    out->backbone = (burn_resnet_config){depth, c->teacher_width, (int)c->data_image_size,
                                         c->teacher_small_input};
    out->dim = (int)c->moco_dim;
    out->queue = (int)c->moco_queue;
    out->temperature = (float)c->moco_temperature;
    out->ema = (float)c->moco_ema;
    out->momentum = (float)c->moco_momentum;
    out->weight_decay = (float)c->moco_weight_decay;
    if (c->moco_queue < c->moco_batch_size) {
        burn_error_set("moco.queue %lld must hold at least one batch (moco.batch_size %lld)",
                       (long long)c->moco_queue, (long long)c->moco_batch_size);
        return -1;
    }
    burn_resnet probe;
    return burn_resnet_init(&probe, &out->backbone);
}

/* The projection head "fc.0" (Linear F→F) and "fc.2" (Linear F→dim) under prefix. */
static void register_head(burn_moco *m, burn_params *ps, const char *prefix) {
    char name[96];
    int64_t w1[2] = {m->F, m->F}, b1[1] = {m->F}, w2[2] = {m->cfg.dim, m->F},
            b2[1] = {m->cfg.dim};
    snprintf(name, sizeof name, "%sfc.0.weight", prefix);
    m->fc1_w = burn_params_add(ps, name, BURN_PARAM_TRAINABLE, 2, w1, BURN_INIT_KAIMING_NORMAL, 0);
    snprintf(name, sizeof name, "%sfc.0.bias", prefix);
    m->fc1_b = burn_params_add(ps, name, BURN_PARAM_TRAINABLE, 1, b1, BURN_INIT_ZERO, 0);
    snprintf(name, sizeof name, "%sfc.2.weight", prefix);
    m->fc2_w = burn_params_add(ps, name, BURN_PARAM_TRAINABLE, 2, w2, BURN_INIT_KAIMING_NORMAL, 0);
    snprintf(name, sizeof name, "%sfc.2.bias", prefix);
    m->fc2_b = burn_params_add(ps, name, BURN_PARAM_TRAINABLE, 1, b2, BURN_INIT_ZERO, 0);
}

static float *falloc(const burn_backend *be, int64_t n) {
    return be->alloc((size_t)(n > 0 ? n : 1) * sizeof(float));
}

int burn_moco_init(burn_moco *m, const burn_moco_config *cfg, const burn_backend *be, int N,
                   uint64_t seed) {
    memset(m, 0, sizeof *m);
    m->be = be;
    m->cfg = *cfg;
    m->N = N;
    if (N < 2) {
        burn_error_set("moco.batch_size %d: BatchNorm in train mode needs at least 2 images", N);
        return -1;
    }
    if (cfg->dim < 1 || cfg->queue < N || !(cfg->temperature > 0) || !(cfg->ema >= 0) ||
        !(cfg->ema <= 1)) {
        burn_error_set("moco: bad sizes (dim %d, queue %d for batch %d, temperature %g, ema %g)",
                       cfg->dim, cfg->queue, N, cfg->temperature, cfg->ema);
        return -1;
    }
    if (burn_resnet_init(&m->net, &cfg->backbone) != 0) return -1;
    m->F = m->net.feature_dim;
    if (burn_linear_init(&m->fc1, N, m->F, m->F) || burn_linear_init(&m->fc2, N, m->F, cfg->dim))
        return -1;
    m->run = burn_resnet_train_run_new(&m->net, be, N);
    if (!m->run) {
        burn_moco_free(m);
        return -1;
    }

    /* two registries of one layout: the EMA is then one pass over the trainable prefix */
    burn_resnet net_k = m->net;
    burn_params_init_registry(&m->q);
    burn_resnet_register(&m->net, &m->q, "encoder_q.", 1);
    register_head(m, &m->q, "encoder_q.");
    int head_q[4] = {m->fc1_w, m->fc1_b, m->fc2_w, m->fc2_b};
    burn_params_init_registry(&m->k);
    burn_resnet_register(&net_k, &m->k, "encoder_k.", 1);
    register_head(m, &m->k, "encoder_k.");
    int head_k[4] = {m->fc1_w, m->fc1_b, m->fc2_w, m->fc2_b};
    if (memcmp(&net_k, &m->net, sizeof net_k) != 0 || memcmp(head_q, head_k, sizeof head_q) != 0)
        burn_check_fail("burn", "burn_moco_init", __FILE__, __LINE__,
                        "encoders q and k registered in different orders", NULL);
    burn_params_finalize(&m->q, be);
    burn_params_finalize(&m->k, be);
    burn_params_init(&m->q, seed);
    be->copy(m->k.data, m->q.data, (size_t)m->q.total * sizeof(float));

    int D = cfg->dim, K = cfg->queue;
    int64_t C = (int64_t)K + 1;
    m->h1 = falloc(be, (int64_t)N * m->F);
    m->dh1 = falloc(be, (int64_t)N * m->F);
    m->dfeat = falloc(be, (int64_t)N * m->F);
    m->proj = falloc(be, (int64_t)N * D);
    m->dproj = falloc(be, (int64_t)N * D);
    m->qn = falloc(be, (int64_t)N * D);
    m->kn = falloc(be, (int64_t)N * D);
    m->dqn = falloc(be, (int64_t)N * D);
    m->norm = falloc(be, N);
    m->pos = falloc(be, N);
    m->rows = falloc(be, N);
    m->logits = falloc(be, (int64_t)N * C);
    m->dlogits = falloc(be, (int64_t)N * C);
    m->sgd_buf = falloc(be, m->q.trainable);
    be->fill(m->sgd_buf, 0.0f, m->q.trainable);
    /* MoCo's initial queue: random unit vectors */
    m->queue = falloc(be, (int64_t)K * D);
    float *qnorm = falloc(be, K);
    be->normal(m->queue, (int64_t)K * D, seed ^ MOCO_QUEUE_STREAM, 0, 0.0f, 1.0f);
    be->l2norm_rows_forward(m->queue, qnorm, m->queue, K, D);
    be->free(qnorm);
    return 0;
}

void burn_moco_free(burn_moco *m) {
    if (!m->be) return;
    burn_resnet_train_run_free(m->run);
    float *bufs[] = {m->h1, m->dh1, m->dfeat, m->proj, m->dproj, m->qn, m->kn, m->dqn, m->norm,
                     m->pos, m->rows, m->logits, m->dlogits, m->sgd_buf, m->queue};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) m->be->free(bufs[i]);
    if (m->q.data) burn_params_free(&m->q);
    if (m->k.data) burn_params_free(&m->k);
    memset(m, 0, sizeof *m);
}

#define P(ps, i) burn_param_data((ps), (i))
#define G(ps, i) burn_param_grad((ps), (i))

/* out[N, dim] = normalize(fc2(ReLU(fc1(f(x))))) with encoder ps, BN in train mode. Leaves the
 * backbone feature in m->feat, fc1's output in h1, the norms in m->norm. */
static int encode(burn_moco *m, const burn_params *ps, const float *x, float *out) {
    const burn_backend *be = m->be;
    if (burn_resnet_train_forward(m->run, ps, x, 1, &m->feat) != 0) return -1;
    burn_linear_forward(be, &m->fc1, m->h1, m->feat, P(ps, m->fc1_w), P(ps, m->fc1_b));
    burn_relu_forward(be, m->h1, m->h1, (int64_t)m->N * m->F);
    burn_linear_forward(be, &m->fc2, m->proj, m->h1, P(ps, m->fc2_w), P(ps, m->fc2_b));
    be->l2norm_rows_forward(out, m->norm, m->proj, m->N, m->cfg.dim);
    return 0;
}

int burn_moco_step(burn_moco *m, const float *im_q, const float *im_k, float lr,
                   burn_moco_stats *st) {
    const burn_backend *be = m->be;
    int N = m->N, D = m->cfg.dim, K = m->cfg.queue, C = K + 1;
    int64_t T = m->q.trainable;
    /* 1. key encoder <- EMA of the query encoder (parameters; the buffers after the
     * trainable prefix are k's own running statistics) */
    be->scale(m->k.data, m->cfg.ema, T);
    be->axpy(m->k.data, 1.0f - m->cfg.ema, m->q.data, T);
    /* 2. keys, then the queries (the run then holds the queries' activations) */
    if (encode(m, &m->k, im_k, m->kn) != 0 || encode(m, &m->q, im_q, m->qn) != 0) return -1;
    /* 3. logits [N, 1 + K]: column 0 the positive q·k, then q·queueᵀ */
    be->row_dot(m->pos, 1, m->qn, m->kn, N, D);
    be->copy2d(m->logits, (size_t)C * sizeof(float), m->pos, sizeof(float), sizeof(float),
               (size_t)N);
    be->gemm(0, 1, N, K, D, 1.0f, m->qn, D, m->queue, D, 0.0f, m->logits + 1, C);
    /* 4. InfoNCE at temperature τ, mean over the batch */
    be->infonce(m->rows, m->dlogits, m->logits, N, C, 1.0f / m->cfg.temperature, 1.0f / N);
    /* 5. backward into the query encoder: dq = dl_pos·k + dl_neg·queue (the keys and the
     * queue are constants) */
    be->fill(m->q.grad, 0.0f, T);
    be->gemm(0, 0, N, D, K, 1.0f, m->dlogits + 1, C, m->queue, D, 0.0f, m->dqn, D);
    be->row_scale_add(m->dqn, m->dlogits, C, m->kn, N, D);
    be->l2norm_rows_backward(m->dproj, m->dqn, m->qn, m->norm, N, D);
    burn_linear_backward(be, &m->fc2, m->dh1, G(&m->q, m->fc2_w), G(&m->q, m->fc2_b), m->dproj,
                         m->h1, P(&m->q, m->fc2_w));
    burn_relu_backward(be, m->dh1, m->dh1, m->h1, (int64_t)N * m->F);
    burn_linear_backward(be, &m->fc1, m->dfeat, G(&m->q, m->fc1_w), G(&m->q, m->fc1_b), m->dh1,
                         m->feat, P(&m->q, m->fc1_w));
    burn_resnet_train_backward(m->run, &m->q, m->dfeat, NULL);
    /* 6. SGD on q */
    burn_sgd_hparams h = {lr, m->cfg.momentum, m->cfg.weight_decay, 1.0f};
    be->sgd_step(m->q.data, m->q.grad, m->sgd_buf, T, h);
    /* 7. enqueue the keys at queue_ptr (a ring; K >= N, so at most one wrap) */
    int64_t p = m->queue_ptr, first = K - p < N ? K - p : N;
    be->copy(m->queue + p * D, m->kn, (size_t)(first * D) * sizeof(float));
    if (first < N)
        be->copy(m->queue, m->kn + first * D, (size_t)((N - first) * D) * sizeof(float));
    m->queue_ptr = (p + N) % K;
    m->step++;
    if (st) {
        st->loss = burn_backend_mean(be, m->rows, N);
        st->pos = burn_backend_mean(be, m->pos, N);
    }
    return 0;
}

/* ---- checkpoint ---- */

int burn_moco_save(const burn_moco *m, const char *path, const char *config_text) {
    const burn_backend *be = m->be;
    int64_t K = m->cfg.queue, D = m->cfg.dim, T = m->q.trainable;
    float *hq = burn_xmalloc((size_t)m->q.total * sizeof(float));
    float *hk = burn_xmalloc((size_t)m->k.total * sizeof(float));
    float *hqueue = burn_xmalloc((size_t)(K * D) * sizeof(float));
    float *hsgd = burn_xmalloc((size_t)(T > 0 ? T : 1) * sizeof(float));
    burn_params_download(&m->q, hq);
    burn_params_download(&m->k, hk);
    be->download(hqueue, m->queue, (size_t)(K * D) * sizeof(float));
    be->download(hsgd, m->sgd_buf, (size_t)T * sizeof(float));
    burn_st_writer w;
    burn_st_writer_init(&w);
    burn_params_add_to_writer(&m->q, &w, "", hq);
    burn_params_add_to_writer(&m->k, &w, "", hk);
    int64_t qshape[2] = {K, D}, sshape[1] = {T};
    burn_st_add(&w, "queue", BURN_F32, 2, qshape, hqueue);
    burn_st_add(&w, "optim.sgd_momentum", BURN_F32, 1, sshape, hsgd);
    char num[32];
    burn_st_add_meta(&w, "format", MOCO_CKPT_FORMAT);
    burn_st_add_meta(&w, "kind", "moco");
    snprintf(num, sizeof num, "%" PRId64, m->step);
    burn_st_add_meta(&w, "step", num);
    snprintf(num, sizeof num, "%" PRId64, m->queue_ptr);
    burn_st_add_meta(&w, "queue_ptr", num);
    if (config_text) burn_st_add_meta(&w, "config", config_text);
    int rc = burn_st_save(&w, path);
    burn_st_writer_free(&w);
    free(hq), free(hk), free(hqueue), free(hsgd);
    return rc;
}

/* Read every tensor of ps from f into host (strict shapes, finite values). */
static int read_registry(const burn_st_file *f, const burn_params *ps, float *host) {
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        const burn_st_tensor *t = burn_st_find(f, p->name);
        int ok = t && t->ndim == p->ndim;
        for (int d = 0; ok && d < p->ndim; d++) ok = t->shape[d] == p->shape[d];
        if (!ok) {
            burn_error_set("%s: tensor '%s' is %s for this model (teacher.arch/width/"
                           "small_input and data.image_size must match the checkpoint)",
                           f->path, p->name, t ? "of another shape" : "missing");
            return -1;
        }
        if (burn_st_read_f32(f, p->name, host + p->offset, p->numel) != 0) return -1;
    }
    return 0;
}

static int read_flat(const burn_st_file *f, const char *name, int ndim, const int64_t *shape,
                     float *host) {
    const burn_st_tensor *t = burn_st_find(f, name);
    int ok = t && t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
    if (!ok) {
        burn_error_set("%s: tensor '%s' is %s (moco.queue/moco.dim or the architecture "
                       "differ from the checkpoint's)",
                       f->path, name, t ? "of another shape" : "missing");
        return -1;
    }
    return burn_st_read_f32(f, name, host, burn_numel(ndim, shape));
}

static int meta_int(const burn_st_file *f, const char *key, int64_t lo, int64_t hi,
                    int64_t *out) {
    const char *v = burn_st_meta(f, key);
    char *end = NULL;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || end == v || *end || x < lo || x > hi) {
        burn_error_set("%s: metadata '%s' is %s (expected an integer in [%lld, %lld])", f->path,
                       key, v ? v : "missing", (long long)lo, (long long)hi);
        return -1;
    }
    *out = x;
    return 0;
}

int burn_moco_load(burn_moco *m, const char *path) {
    const burn_backend *be = m->be;
    burn_st_file f;
    if (burn_st_open(&f, path) != 0) return -1;
    int64_t K = m->cfg.queue, D = m->cfg.dim, T = m->q.trainable, step = 0, ptr = 0;
    int64_t qshape[2] = {K, D}, sshape[1] = {T};
    const char *fmt = burn_st_meta(&f, "format");
    /* zeroed: the 64-byte alignment gaps between tensors stay 0, as after init */
    float *hq = burn_xcalloc((size_t)m->q.total, sizeof(float));
    float *hk = burn_xcalloc((size_t)m->k.total, sizeof(float));
    float *hqueue = burn_xcalloc((size_t)(K * D), sizeof(float));
    float *hsgd = burn_xcalloc((size_t)(T > 0 ? T : 1), sizeof(float));
    int rc = -1;
    if (!fmt || strcmp(fmt, MOCO_CKPT_FORMAT) != 0) {
        burn_error_set("%s: not a MoCo checkpoint of burn (metadata format '%s', expected '%s')",
                       path, fmt ? fmt : "missing", MOCO_CKPT_FORMAT);
        goto done;
    }
    /* everything is read and checked on the host before anything is uploaded */
    if (meta_int(&f, "step", 0, INT64_MAX, &step) || meta_int(&f, "queue_ptr", 0, K - 1, &ptr) ||
        read_registry(&f, &m->q, hq) || read_registry(&f, &m->k, hk) ||
        read_flat(&f, "queue", 2, qshape, hqueue) ||
        read_flat(&f, "optim.sgd_momentum", 1, sshape, hsgd))
        goto done;
    be->upload(m->q.data, hq, (size_t)m->q.total * sizeof(float));
    be->upload(m->k.data, hk, (size_t)m->k.total * sizeof(float));
    be->upload(m->queue, hqueue, (size_t)(K * D) * sizeof(float));
    be->upload(m->sgd_buf, hsgd, (size_t)T * sizeof(float));
    m->step = step;
    m->queue_ptr = ptr;
    rc = 0;
done:
    free(hq), free(hk), free(hqueue), free(hsgd);
    burn_st_close(&f);
    return rc;
}

/* ---- the teacher file ---- */

int burn_moco_export_teacher(const burn_moco *m, const char *path) {
    static const char prefix[] = "encoder_q.", head[] = "encoder_q.fc.";
    float *hq = burn_xmalloc((size_t)m->q.total * sizeof(float));
    burn_params_download(&m->q, hq);
    burn_st_writer w;
    burn_st_writer_init(&w);
    for (int i = 0; i < m->q.n; i++) {
        const burn_param *p = &m->q.p[i];
        if (strncmp(p->name, head, sizeof head - 1) == 0) continue; /* the projection head */
        burn_st_add(&w, p->name + sizeof prefix - 1, BURN_F32, p->ndim, p->shape,
                    hq + p->offset);
    }
    const burn_resnet_config *c = &m->cfg.backbone;
    char arch[16], width[32], size[16], step[32];
    snprintf(arch, sizeof arch, "resnet%d", c->depth);
    snprintf(width, sizeof width, "%.17g", c->width);
    snprintf(size, sizeof size, "%d", c->image_size);
    snprintf(step, sizeof step, "%" PRId64, m->step);
    burn_st_add_meta(&w, "format", "burn-teacher"); /* as tools/convert_teacher.py */
    burn_st_add_meta(&w, "source", "burn_gpu pretrain-teacher (MoCo v2, encoder q backbone)");
    burn_st_add_meta(&w, "arch", arch);
    burn_st_add_meta(&w, "width", width);
    burn_st_add_meta(&w, "small_input", c->small_input ? "true" : "false");
    burn_st_add_meta(&w, "image_size", size);
    burn_st_add_meta(&w, "step", step);
    int rc = burn_st_save(&w, path);
    burn_st_writer_free(&w);
    free(hq);
    return rc;
}
