/* ssl_binary.c — the BYOL and MoCo v2 baselines on the binary student (include/burn/ssl.h):
 * building the online and target networks in one registry, the EMA, one micro-batch step of
 * each method. Every numeric op goes through the backend table (no kernels of its own). */
#include "burn/ssl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/binarize.h"
#include "burn/check.h"
#include "burn/layers.h"

#define TARGET "target."
/* Philox stream of MoCo's initial queue ("sslqueue"): independent of the weights' stream */
#define SSL_QUEUE_STREAM 0x73736c7175657565ull

int burn_ssl_method_parse(const char *name) {
    if (strcmp(name, "burn") == 0) return 0;
    if (strcmp(name, "byol") == 0) return BURN_SSL_BYOL;
    if (strcmp(name, "moco") == 0) return BURN_SSL_MOCO;
    burn_error_set("train.method: unknown method '%s' (burn|byol|moco)", name);
    return -1;
}

double burn_byol_tau(double tau0, int64_t u, int64_t U) {
    if (U <= 0) return tau0;
    double progress = (double)u / (double)U;
    if (progress > 1.0) progress = 1.0;
    return 1.0 - (1.0 - tau0) * (cos(3.14159265358979323846 * progress) + 1.0) / 2.0;
}

void burn_byol_regression(const burn_backend *be, float *cos, float *dp, float *pn, float *norm,
                          const float *p, const float *zn, int N, int D, float grad_scale) {
    be->l2norm_rows_forward(pn, norm, p, N, D);
    be->row_dot(cos, 1, pn, zn, N, D);
    /* ∂(2 − 2·p̂·ẑ)/∂p̂ = −2·ẑ, then through the normalisation */
    be->copy(dp, zn, (size_t)N * D * sizeof(float));
    be->scale(dp, -2.0f * grad_scale, (int64_t)N * D);
    be->l2norm_rows_backward(dp, dp, pn, norm, N, D);
}

/* MoCo v2's projection "fc.0" (Linear F→F) and "fc.2" (Linear F→D) under prefix. */
static void register_mlp(burn_params *ps, const char *prefix, int F, int D, int idx[4]) {
    static const char *const names[4] = {"fc.0.weight", "fc.0.bias", "fc.2.weight", "fc.2.bias"};
    int64_t shapes[4][2] = {{F, F}, {F, 0}, {D, F}, {D, 0}};
    for (int i = 0; i < 4; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, names[i]);
        idx[i] = burn_params_add(ps, name, BURN_PARAM_TRAINABLE, i % 2 ? 1 : 2, shapes[i],
                                 i % 2 ? BURN_INIT_ZERO : BURN_INIT_KAIMING_NORMAL, 0);
    }
}

static float *falloc(const burn_backend *be, int64_t n) {
    return be->alloc((size_t)(n > 0 ? n : 1) * sizeof(float));
}

/* The float ranges of ssl.h from the registry, and the check that every "target." tensor sits
 * at one fixed distance from its online twin (the EMA relies on it). */
static void find_ranges(burn_ssl *m) {
    const burn_params *ps = &m->params;
    int64_t delta = -1;
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        if (p->kind != BURN_PARAM_TRAINABLE) continue;
        int64_t end = p->offset + p->numel;
        if (strncmp(p->name, "student.", 8) == 0 && end > m->student_len) m->student_len = end;
        if (strncmp(p->name, TARGET, strlen(TARGET)) != 0) {
            if (end > m->online_len) m->online_len = end;
            continue;
        }
        int j = burn_params_find(ps, p->name + strlen(TARGET));
        const burn_param *q = j >= 0 ? &ps->p[j] : NULL;
        if (!q || q->kind != p->kind || q->numel != p->numel ||
            (delta >= 0 && p->offset - q->offset != delta))
            burn_check_fail("burn", "burn_ssl_init", __FILE__, __LINE__,
                            "target tensor without an online twin at the common distance",
                            p->name);
        delta = p->offset - q->offset;
        if (q->offset + q->numel > m->ema_len) m->ema_len = q->offset + q->numel;
    }
    m->target_begin = delta;
    for (int i = 0; i < ps->n; i++) { /* the predictor must lie after the EMA'd part */
        const burn_param *p = &ps->p[i];
        if (p->kind == BURN_PARAM_TRAINABLE && strncmp(p->name, "predictor.", 10) == 0 &&
            p->offset < m->ema_len)
            burn_check_fail("burn", "burn_ssl_init", __FILE__, __LINE__,
                            "predictor registered inside the EMA range", p->name);
    }
    if (delta < m->online_len)
        burn_check_fail("burn", "burn_ssl_init", __FILE__, __LINE__,
                        "target registered before the online networks", NULL);
}

int burn_ssl_init(burn_ssl *m, const burn_config *cfg, int method, const burn_backend *be, int N) {
    memset(m, 0, sizeof *m);
    m->be = be;
    m->method = method;
    m->N = N;
    if (method != BURN_SSL_BYOL && method != BURN_SSL_MOCO) {
        burn_error_set("train.method: burn_ssl_init needs byol or moco");
        return -1;
    }
    if (N < 2) {
        burn_error_set("train.batch_size %d: BatchNorm in train mode needs at least 2 images", N);
        return -1;
    }
    m->act_grad = burn_act_grad_parse(cfg->binary_act_grad);
    m->weight_grad = burn_weight_grad_parse(cfg->binary_weight_grad);
    if (m->act_grad < 0 || m->weight_grad < 0) return -1;
    if (burn_models_from_config(cfg, &m->student, NULL, NULL, NULL) != 0) return -1;
    m->target = m->student;
    int F = m->F = m->student.feature_dim;
    if (method == BURN_SSL_BYOL) {
        int H = (int)cfg->byol_hidden, D = m->D = (int)cfg->byol_dim;
        if (burn_head_init(&m->proj, F, H, D) || burn_head_init(&m->tproj, F, H, D) ||
            burn_head_init(&m->pred, D, H, D))
            return -1;
    } else {
        m->D = (int)cfg->moco_dim;
        m->K = (int)cfg->moco_queue;
        m->temperature = (float)cfg->moco_temperature;
        if (m->K < N) {
            burn_error_set("moco.queue %d must hold at least one batch (train.batch_size %d)",
                           m->K, N);
            return -1;
        }
        if (burn_linear_init(&m->fc1, N, F, F) || burn_linear_init(&m->fc2, N, F, m->D))
            return -1;
    }
    int D = m->D;

    /* online first (student, projector, predictor), then the target in the same order */
    burn_params *ps = &m->params;
    burn_params_init_registry(ps);
    burn_reactnet_register(&m->student, ps, "student.");
    if (method == BURN_SSL_BYOL) {
        burn_head_register(&m->proj, ps, "projector.");
        burn_head_register(&m->pred, ps, "predictor.");
    } else {
        register_mlp(ps, "projector.", F, D, m->fc);
    }
    burn_reactnet_register(&m->target, ps, TARGET "student.");
    if (method == BURN_SSL_BYOL)
        burn_head_register(&m->tproj, ps, TARGET "projector.");
    else
        register_mlp(ps, TARGET "projector.", F, D, m->tfc);
    if (method == BURN_SSL_MOCO) {
        int64_t qshape[2] = {m->K, D};
        m->queue_idx = burn_params_add(ps, "moco_queue", BURN_PARAM_BUFFER, 2, qshape,
                                       BURN_INIT_ZERO, 0);
    }
    burn_params_finalize(ps, be);
    burn_params_init(ps, (uint64_t)cfg->run_seed);
    find_ranges(m);
    burn_ssl_sync_target(m);
    if (method == BURN_SSL_MOCO) { /* MoCo's initial queue: random unit vectors */
        float *queue = burn_param_data(ps, m->queue_idx), *qnorm = falloc(be, m->K);
        be->normal(queue, (int64_t)m->K * D, (uint64_t)cfg->run_seed ^ SSL_QUEUE_STREAM, 0, 0.0f,
                   1.0f);
        be->l2norm_rows_forward(queue, qnorm, queue, m->K, D);
        be->free(qnorm);
    }

    m->srun = burn_reactnet_run_new(&m->student, be, N, m->act_grad, m->weight_grad);
    m->trun = burn_reactnet_run_new(&m->target, be, N, m->act_grad, m->weight_grad);
    int ok = m->srun && m->trun;
    if (method == BURN_SSL_BYOL) {
        m->proj_run = burn_head_run_new(&m->proj, be, N);
        m->tproj_run = burn_head_run_new(&m->tproj, be, N);
        m->pred_run = burn_head_run_new(&m->pred, be, N);
        ok = ok && m->proj_run && m->tproj_run && m->pred_run;
    } else {
        m->h1 = falloc(be, (int64_t)N * F);
        m->th1 = falloc(be, (int64_t)N * F);
        m->dh1 = falloc(be, (int64_t)N * F);
        m->proj_out = falloc(be, (int64_t)N * D);
        m->tproj_out = falloc(be, (int64_t)N * D);
        m->logits = falloc(be, (int64_t)N * (m->K + 1));
        m->dlogits = falloc(be, (int64_t)N * (m->K + 1));
    }
    if (!ok) {
        burn_ssl_free(m);
        return -1;
    }
    m->zt[0] = falloc(be, (int64_t)N * D);
    m->zt[1] = falloc(be, (int64_t)N * D);
    m->pn = falloc(be, (int64_t)N * D);
    m->dp = falloc(be, (int64_t)N * D);
    m->dz = falloc(be, (int64_t)N * D);
    m->norm = falloc(be, N);
    m->rows = falloc(be, 2 * (int64_t)N);
    m->dfeat = falloc(be, (int64_t)N * F);
    return 0;
}

void burn_ssl_free(burn_ssl *m) {
    if (!m->be) return;
    burn_reactnet_run_free(m->srun);
    burn_reactnet_run_free(m->trun);
    burn_head_run_free(m->proj_run);
    burn_head_run_free(m->tproj_run);
    burn_head_run_free(m->pred_run);
    float *bufs[] = {m->zt[0], m->zt[1], m->pn, m->norm, m->dp, m->dz, m->dfeat, m->rows,
                     m->h1, m->th1, m->proj_out, m->tproj_out, m->dh1, m->logits, m->dlogits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) m->be->free(bufs[i]);
    if (m->params.data) burn_params_free(&m->params);
    memset(m, 0, sizeof *m);
}

void burn_ssl_sync_target(burn_ssl *m) {
    const burn_params *ps = &m->params;
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        if (strncmp(p->name, TARGET, strlen(TARGET)) != 0) continue;
        int j = burn_params_find(ps, p->name + strlen(TARGET));
        m->be->copy(burn_param_data(ps, i), burn_param_data(ps, j),
                    (size_t)p->numel * sizeof(float));
    }
}

void burn_ssl_begin_update(burn_ssl *m, float tau) {
    const burn_backend *be = m->be;
    float *target = m->params.data + m->target_begin;
    be->scale(target, tau, m->ema_len);
    be->axpy(target, 1.0f - tau, m->params.data, m->ema_len);
    burn_reactnet_prepare(m->srun, &m->params);
    burn_reactnet_prepare(m->trun, &m->params);
}

#define P(i) burn_param_data(&m->params, (i))
#define G(i) burn_param_grad(&m->params, (i))

static int byol_step(burn_ssl *m, const float *v1, const float *v2, burn_ssl_stats *st) {
    const burn_backend *be = m->be;
    burn_params *ps = &m->params;
    int N = m->N, D = m->D;
    const float *v[2] = {v1, v2}, *feat, *y, *p;
    for (int i = 0; i < 2; i++) { /* target projections of both views, no gradient */
        if (burn_reactnet_forward(m->trun, ps, v[i], 1, &feat) ||
            burn_head_forward(m->tproj_run, ps, feat, 1, &y))
            return -1;
        be->l2norm_rows_forward(m->zt[i], m->norm, y, N, D);
    }
    double loss = 0, cos = 0;
    for (int i = 0; i < 2; i++) { /* prediction of view i regresses the target of view 1 - i */
        if (burn_reactnet_forward(m->srun, ps, v[i], 1, &feat) ||
            burn_head_forward(m->proj_run, ps, feat, 1, &y) ||
            burn_head_forward(m->pred_run, ps, y, 1, &p))
            return -1;
        burn_byol_regression(be, m->rows, m->dp, m->pn, m->norm, p, m->zt[1 - i], N, D,
                             1.0f / (float)N);
        double c = burn_backend_mean(be, m->rows, N);
        loss += 2.0 - 2.0 * c;
        cos += 0.5 * c;
        burn_head_backward(m->pred_run, ps, m->dp, m->dz);
        burn_head_backward(m->proj_run, ps, m->dz, m->dfeat);
        burn_reactnet_backward(m->srun, ps, m->dfeat);
    }
    if (st) {
        st->loss = loss;
        st->cos = cos;
    }
    return 0;
}

/* out[N, D] = normalize(fc2(ReLU(fc1(feat)))) with the projection idx; h [N, F], proj [N, D] */
static void moco_project(burn_ssl *m, const int idx[4], const float *feat, float *h,
                         float *proj, float *out) {
    const burn_backend *be = m->be;
    burn_linear_forward(be, &m->fc1, h, feat, P(idx[0]), P(idx[1]));
    burn_relu_forward(be, h, h, (int64_t)m->N * m->F);
    burn_linear_forward(be, &m->fc2, proj, h, P(idx[2]), P(idx[3]));
    be->l2norm_rows_forward(out, m->norm, proj, m->N, m->D);
}

static int moco_step(burn_ssl *m, const float *v1, const float *v2, burn_ssl_stats *st) {
    const burn_backend *be = m->be;
    burn_params *ps = &m->params;
    int N = m->N, D = m->D, K = m->K, C = K + 1;
    float *kn = m->zt[0], *qn = m->pn, *pos = m->rows + N, *queue = P(m->queue_idx);
    const float *tfeat, *feat;
    /* keys from v2 (no gradient), then the queries from v1 (m->norm: the queries' norms) */
    if (burn_reactnet_forward(m->trun, ps, v2, 1, &tfeat) != 0) return -1;
    moco_project(m, m->tfc, tfeat, m->th1, m->tproj_out, kn);
    if (burn_reactnet_forward(m->srun, ps, v1, 1, &feat) != 0) return -1;
    moco_project(m, m->fc, feat, m->h1, m->proj_out, qn);
    /* logits [N, 1 + K]: the positive q·k, then q·queueᵀ; InfoNCE mean over the batch */
    be->row_dot(pos, 1, qn, kn, N, D);
    be->copy2d(m->logits, (size_t)C * sizeof(float), pos, sizeof(float), sizeof(float),
               (size_t)N);
    be->gemm(0, 1, N, K, D, 1.0f, qn, D, queue, D, 0.0f, m->logits + 1, C);
    be->infonce(m->rows, m->dlogits, m->logits, N, C, 1.0f / m->temperature, 1.0f / (float)N);
    /* backward into the query side: dq = dl_neg·queue + dl_pos·k (keys, queue constant) */
    be->gemm(0, 0, N, D, K, 1.0f, m->dlogits + 1, C, queue, D, 0.0f, m->dp, D);
    be->row_scale_add(m->dp, m->dlogits, C, kn, N, D);
    be->l2norm_rows_backward(m->dz, m->dp, qn, m->norm, N, D);
    burn_linear_backward(be, &m->fc2, m->dh1, G(m->fc[2]), G(m->fc[3]), m->dz, m->h1,
                         P(m->fc[2]));
    burn_relu_backward(be, m->dh1, m->dh1, m->h1, (int64_t)N * m->F);
    burn_linear_backward(be, &m->fc1, m->dfeat, G(m->fc[0]), G(m->fc[1]), m->dh1, feat,
                         P(m->fc[0]));
    burn_reactnet_backward(m->srun, ps, m->dfeat);
    if (st) {
        st->loss = burn_backend_mean(be, m->rows, N);
        st->cos = burn_backend_mean(be, pos, N);
    }
    /* the keys enter the ring at queue_ptr (K >= N: at most one wrap) */
    int64_t q = m->queue_ptr, first = K - q < N ? K - q : N;
    be->copy(queue + q * D, kn, (size_t)(first * D) * sizeof(float));
    if (first < N) be->copy(queue, kn + first * D, (size_t)((N - first) * D) * sizeof(float));
    m->queue_ptr = (q + N) % K;
    return 0;
}

int burn_ssl_step(burn_ssl *m, const float *v1, const float *v2, burn_ssl_stats *st) {
    if (st) memset(st, 0, sizeof *st);
    return m->method == BURN_SSL_BYOL ? byol_step(m, v1, v2, st) : moco_step(m, v1, v2, st);
}
