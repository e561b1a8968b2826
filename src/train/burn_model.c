/* burn_model.c — building the BURN model from a config, loading the teacher, and one training
 * step (forward of both views, the symmetrised loss, backward into φ and θ). */
#include "burn/burn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/binarize.h"
#include "burn/check.h"
#include "burn/dist.h"
#include "burn/info_max.h"
#include "burn/log.h"

/* [begin, end) of the trainable parameters named prefix*, when they are contiguous in the
 * registry (else empty: their gradients are then sent with the rest, at the end). */
static void param_range(const burn_params *ps, const char *prefix, int64_t range[2]) {
    int64_t lo = -1, hi = -1, total = 0;
    size_t len = strlen(prefix);
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        if (p->kind != BURN_PARAM_TRAINABLE || strncmp(p->name, prefix, len) != 0) continue;
        if (lo < 0 || p->offset < lo) lo = p->offset;
        if (p->offset + p->numel > hi) hi = p->offset + p->numel;
        total += p->numel;
    }
    int contiguous = lo >= 0 && hi - lo == total;
    range[0] = contiguous ? lo : 0;
    range[1] = contiguous ? hi : 0;
}

/* The gradient ranges the backward reports: part_range[part + 1] for reactnet part (-1 stem,
 * k block k, BLOCKS the FC), then the student head. */
static void part_ranges(burn_model *m) {
    char prefix[64];
    param_range(&m->params, "student.stem.", m->part_range[0]);
    for (int k = 0; k < BURN_REACTNET_BLOCKS; k++) {
        snprintf(prefix, sizeof prefix, "student.blocks.%d.", k);
        param_range(&m->params, prefix, m->part_range[k + 1]);
    }
    param_range(&m->params, "student.fc.", m->part_range[BURN_REACTNET_BLOCKS + 1]);
    param_range(&m->params, "student_head.", m->part_range[BURN_REACTNET_BLOCKS + 2]);
}

/* burn_reactnet_set_grad_hook: a student part's gradients are final */
static void student_part_final(void *ctx, int part) {
    const burn_model *m = ctx;
    burn_dist_grad_ready(m->part_range[part + 1][0], m->part_range[part + 1][1]);
}

int burn_model_init(burn_model *m, const burn_config *cfg, const burn_backend *be, int N) {
    memset(m, 0, sizeof *m);
    m->be = be;
    m->N = N;
    if (burn_models_from_config(cfg, &m->student, &m->teacher, &m->student_head,
                                &m->teacher_head) != 0)
        return -1;
    m->head_trainable = cfg->teacher_head_trainable;
    m->act_grad = burn_act_grad_parse(cfg->binary_act_grad);
    m->weight_grad = burn_weight_grad_parse(cfg->binary_weight_grad);
    int fs = burn_fs_parse(cfg->loss_fs);
    if (m->act_grad < 0 || m->weight_grad < 0 || fs < 0) return -1;
    m->loss = (burn_loss_hparams){(float)cfg->loss_temperature, 0.0f, 1.0f / (float)N, fs};
    m->fs_features = strcmp(cfg->loss_fs_on, "features") == 0;
    m->fs_to_head = cfg->loss_fs_to_teacher_head;
    m->center_momentum = (float)cfg->loss_center_momentum;
    double Tt = cfg->loss_teacher_temperature > 0 ? cfg->loss_teacher_temperature
                                                  : cfg->loss_temperature;
    m->target_scale = (float)(cfg->loss_temperature / Tt);
    m->info_max = m->head_trainable ? (float)cfg->loss_teacher_info_max : 0.0f;
    if (m->fs_features && m->student.feature_dim != m->teacher.feature_dim) {
        burn_error_set("loss.fs_on = features compares the student feature (%d wide) with the "
                       "teacher's (%d): set model.feature_dim = 0 (the teacher's width) or %d, "
                       "with model.feature_fc = true", m->student.feature_dim,
                       m->teacher.feature_dim, m->teacher.feature_dim);
        return -1;
    }

    burn_params_init_registry(&m->params);
    burn_reactnet_register(&m->student, &m->params, "student.");
    burn_head_register(&m->student_head, &m->params, "student_head.");
    burn_head_register(&m->teacher_head, &m->params, "teacher_head.");
    m->center = -1;
    if (m->center_momentum > 0) { /* a buffer: checkpointed and handed to stage 2 with the head */
        int64_t shape[1] = {m->teacher_head.out};
        m->center = burn_params_add(&m->params, "teacher_head.center", BURN_PARAM_BUFFER, 1, shape,
                                    BURN_INIT_ZERO, 0);
    }
    burn_params_finalize(&m->params, be);
    burn_params_init(&m->params, (uint64_t)cfg->run_seed);
    part_ranges(m);
    burn_params_init_registry(&m->teacher_params);
    burn_resnet_register(&m->teacher, &m->teacher_params, "teacher.", 0);
    burn_params_finalize(&m->teacher_params, be);

    m->srun = burn_reactnet_run_new(&m->student, be, N, m->act_grad, m->weight_grad);
    m->shrun = burn_head_run_new(&m->student_head, be, N);
    m->th[0] = burn_head_run_new(&m->teacher_head, be, N);
    m->th[1] = burn_head_run_new(&m->teacher_head, be, N);
    m->trun = burn_resnet_run_new(&m->teacher, be, N);
    if (!m->srun || !m->shrun || !m->th[0] || !m->th[1] || !m->trun) {
        burn_model_free(m);
        return -1;
    }
    int D = m->student_head.out, Ft = m->teacher.feature_dim, Fs = m->student.feature_dim;
    for (int i = 0; i < 2; i++) {
        m->ft[i] = be->alloc((size_t)N * Ft * sizeof(float));
        m->dt[i] = be->alloc((size_t)N * D * sizeof(float));
    }
    m->ds = be->alloc((size_t)N * D * sizeof(float));
    m->dfeat = be->alloc((size_t)N * Fs * sizeof(float));
    m->rows = be->alloc((size_t)6 * N * sizeof(float));
    if (m->center >= 0 || m->target_scale != 1.0f)
        for (int i = 0; i < 2; i++) m->tgt[i] = be->alloc((size_t)N * D * sizeof(float));
    if (m->center >= 0) m->negc = be->alloc((size_t)D * sizeof(float));
    if ((!m->fs_features && !m->fs_to_head) || m->info_max > 0)
        m->ds2 = be->alloc((size_t)N * D * sizeof(float));
    if (m->fs_features) m->dk = be->alloc((size_t)N * Fs * sizeof(float));
    m->host_logits = burn_xmalloc((size_t)N * D * sizeof(float));
    if (m->info_max > 0) m->host_dz = burn_xmalloc((size_t)N * D * sizeof(float));
    return 0;
}

int burn_model_load_teacher(burn_model *m, const char *path) {
    if (!path || !*path) {
        burn_error_set("teacher.checkpoint is not set: BURN needs a pretrained teacher backbone "
                       "(tools/convert_teacher.py, or burn_gpu pretrain-teacher); it never "
                       "trains against a random one");
        return -1;
    }
    burn_st_file f;
    if (burn_st_open(&f, path) != 0) { /* name the key: the path alone may be a relative one */
        char *why = burn_xstrdup(burn_error());
        burn_error_set("teacher.checkpoint: %s", why);
        free(why);
        return -1;
    }
    /* a file of tools/convert_teacher.py has bare torchvision names; a checkpoint of burn
     * has them under "teacher." */
    int rc = burn_st_find(&f, "teacher.conv1.weight")
                 ? burn_params_load_renamed(&m->teacher_params, &f, "", "", 0)
                 : burn_params_load_renamed(&m->teacher_params, &f, "teacher.", "", 1);
    if (rc != 0) {
        char *why = burn_xstrdup(burn_error());
        burn_error_set("teacher.checkpoint: %s (teacher.arch/width/small_input must match the "
                       "file)", why);
        free(why);
    }
    burn_st_close(&f);
    return rc;
}

void burn_model_free(burn_model *m) {
    burn_reactnet_run_free(m->srun);
    burn_head_run_free(m->shrun);
    burn_head_run_free(m->th[0]);
    burn_head_run_free(m->th[1]);
    burn_resnet_run_free(m->trun);
    float *bufs[] = {m->ft[0], m->ft[1], m->dt[0], m->dt[1], m->ds, m->dfeat, m->rows,
                     m->tgt[0], m->tgt[1], m->negc, m->ds2, m->dk};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) m->be->free(bufs[i]);
    free(m->host_logits);
    free(m->host_dz);
    if (m->params.data) burn_params_free(&m->params);
    if (m->teacher_params.data) burn_params_free(&m->teacher_params);
    memset(m, 0, sizeof *m);
}

void burn_model_set_debug(burn_model *m, int on) {
    m->debug = on;
    burn_reactnet_set_debug(m->srun, on);
}

void burn_model_set_profile(burn_model *m, int on) { m->profile = on; }

const char *burn_model_teacher_fault(burn_model *m) {
    for (int i = 0; i < 2; i++) {
        float s;
        m->be->sumsq(m->rows + 2 * m->N, m->ft[i], (int64_t)m->N * m->teacher.feature_dim);
        m->be->download(&s, m->rows + 2 * m->N, sizeof s);
        if (!isfinite(s)) return "the teacher's features"; /* NaN/Inf, or too large to square */
    }
    return NULL;
}

/* profile: the device's time since *t goes to phase; *t moves on */
static void phase_end(burn_model *m, int phase, double *t) {
    if (!m->profile) return;
    m->be->synchronize();
    double now = burn_now();
    m->phase_seconds[phase] += now - *t;
    *t = now;
}

/* debug: -1 with burn_error() when x[n] (backend memory) holds a NaN or an Inf. */
static int debug_check(burn_model *m, const float *x, int64_t n, const char *what, int view) {
    if (!m->debug) return 0;
    float s;
    m->be->sumsq(m->rows + 2 * m->N, x, n); /* the loss row: free between the loss calls */
    m->be->download(&s, m->rows + 2 * m->N, sizeof s);
    if (isfinite(s)) return 0;
    burn_error_set("non-finite values in %s (view %d)", what, view + 1);
    return -1;
}

/* The target the loss sees: tgt = (t − c)·T/T_t, or t itself when neither is configured. */
static const float *target_of(burn_model *m, int i, const float *t) {
    const burn_backend *be = m->be;
    int N = m->N, D = m->teacher_head.out;
    if (!m->tgt[i]) return t;
    if (m->center >= 0)
        be->bias_forward(m->tgt[i], t, m->negc, N, D, 1);
    else
        be->copy(m->tgt[i], t, (size_t)N * D * sizeof(float));
    if (m->target_scale != 1.0f) be->scale(m->tgt[i], m->target_scale, (int64_t)N * D);
    return m->tgt[i];
}

/* c = m·c + (1 − m)·mean of the teacher logits of both views (over the global batch). */
static void center_update(burn_model *m, const float *const t[2]) {
    const burn_backend *be = m->be;
    int N = m->N, D = m->teacher_head.out;
    float *c = burn_param_data(&m->params, m->center);
    be->fill(m->negc, 0.0f, D);
    be->channel_sum(m->negc, t[0], N, D, 1);
    be->channel_sum(m->negc, t[1], N, D, 1);
    if (burn_world_size > 1) { /* the batch mean over every rank */
        float *h = m->host_logits; /* D ≤ N·D floats of host scratch */
        double *sum = burn_xmalloc((size_t)D * sizeof(double));
        be->download(h, m->negc, (size_t)D * sizeof(float));
        for (int d = 0; d < D; d++) sum[d] = h[d];
        burn_dist_sum_host(sum, D);
        for (int d = 0; d < D; d++) h[d] = (float)sum[d];
        be->upload(m->negc, h, (size_t)D * sizeof(float));
        free(sum);
    }
    be->scale(c, m->center_momentum, D);
    be->axpy(c, (1.0f - m->center_momentum) / (2.0f * N * burn_world_size), m->negc, D);
}

/* dt += β·grad_scale·N·dIM/dt for the teacher logits t [N, D] of one view (on the host);
 * returns IM(t). */
static double info_max_grad(burn_model *m, const float *t, float *dt) {
    const burn_backend *be = m->be;
    int N = m->N, D = m->teacher_head.out;
    be->download(m->host_logits, t, (size_t)N * D * sizeof(float));
    double im = burn_info_max(m->host_logits, N, D, m->loss.temperature,
                              m->info_max * m->loss.grad_scale, m->host_dz);
    be->upload(m->ds2, m->host_dz, (size_t)N * D * sizeof(float));
    be->axpy(dt, 1.0f, m->ds2, (int64_t)N * D);
    return im;
}

/* The collapse statistics of logits z [N, D] (backend memory) at temperature T. */
static void head_stats(burn_model *m, const float *z, burn_head_stats *out) {
    int N = m->N, D = m->teacher_head.out;
    m->be->download(m->host_logits, z, (size_t)N * D * sizeof(float));
    burn_head_stats_compute(m->host_logits, N, D, m->loss.temperature, out);
}

int burn_model_step(burn_model *m, const float *v1, const float *v2, float lambda,
                    burn_step_stats *st) {
    const burn_backend *be = m->be;
    int N = m->N, D = m->student_head.out, F = m->student.feature_dim;
    const float *v[2] = {v1, v2}, *t[2], *tg[2], *feat, *s;
    double lap = m->profile ? (be->synchronize(), burn_now()) : 0;
    burn_reactnet_prepare(m->srun, &m->params);
    phase_end(m, BURN_PHASE_STUDENT_FWD, &lap);
    if (m->center >= 0) { /* −c of the centre before this step's update */
        be->copy(m->negc, burn_param_data(&m->params, m->center), (size_t)D * sizeof(float));
        be->scale(m->negc, -1.0f, D);
    }
    for (int i = 0; i < 2; i++) {
        burn_resnet_forward_eval(m->trun, &m->teacher_params, v[i], m->ft[i]);
        phase_end(m, BURN_PHASE_TEACHER, &lap);
        if (debug_check(m, m->ft[i], (int64_t)N * m->teacher.feature_dim, "the teacher feature", i) ||
            burn_head_forward(m->th[i], &m->params, m->ft[i], m->head_trainable, &t[i]) ||
            debug_check(m, t[i], (int64_t)N * D, "the teacher head's logits", i))
            return -1;
        tg[i] = target_of(m, i, t[i]);
        phase_end(m, BURN_PHASE_HEADS, &lap);
    }
    memset(st, 0, sizeof *st);
    if (m->want_stats) {
        head_stats(m, t[0], &st->heads[0]);
        st->has_heads = 1;
    }
    float lam = lambda, *kl = m->rows, *fs = m->rows + N, *loss = m->rows + 2 * N;
    float *kl2 = m->rows + 3 * N, *fs2 = m->rows + 4 * N, *loss2 = m->rows + 5 * N;
    for (int i = 0; i < 2; i++) { /* direction i: student view i learns from teacher view 1-i */
        if (burn_reactnet_forward(m->srun, &m->params, v[i], 1, &feat)) return -1;
        phase_end(m, BURN_PHASE_STUDENT_FWD, &lap);
        if (burn_head_forward(m->shrun, &m->params, feat, 1, &s) ||
            debug_check(m, s, (int64_t)N * D, "the student head's logits", i))
            return -1;
        if (m->want_stats && i == 1) head_stats(m, s, &st->heads[1]);
        float *dt = m->head_trainable ? m->dt[1 - i] : NULL;
        burn_loss_hparams h = m->loss;
        if (m->fs_features) {
            /* KL on the heads (θ's only gradient), FS between the backbones' features */
            h.lambda = 0.0f;
            h.grad_scale = m->loss.grad_scale * (1.0f - lam);
            be->loss_fused(kl, fs2, loss2, m->ds, dt, s, tg[1 - i], N, D, h);
            h.lambda = 1.0f;
            h.grad_scale = m->loss.grad_scale * lam;
            be->loss_fused(kl2, fs, loss2, m->dk, NULL, feat, m->ft[1 - i], N, F, h);
            st->kl[i] = burn_backend_mean(be, kl, N);
            st->fs[i] = burn_backend_mean(be, fs, N);
            st->loss += (1.0 - lam) * st->kl[i] + lam * st->fs[i];
        } else {
            h.lambda = lam;
            be->loss_fused(kl, fs, loss, m->ds, m->fs_to_head ? dt : NULL, s, tg[1 - i], N, D, h);
            if (dt && !m->fs_to_head) { /* stop-gradient: θ gets the KL part alone */
                h.lambda = 0.0f;
                h.grad_scale = m->loss.grad_scale * (1.0f - lam);
                be->loss_fused(kl2, fs2, loss2, m->ds2, dt, s, tg[1 - i], N, D, h);
            }
            st->kl[i] = burn_backend_mean(be, kl, N);
            st->fs[i] = burn_backend_mean(be, fs, N);
            st->loss += burn_backend_mean(be, loss, N);
        }
        /* the target was (t − c)·T/T_t: dL/dt = dL/dtarget · T/T_t */
        if (dt && m->target_scale != 1.0f) be->scale(dt, m->target_scale, (int64_t)N * D);
        if (debug_check(m, m->ds, (int64_t)N * D, "the loss gradient w.r.t. the student logits", i))
            return -1;
        burn_head_backward(m->shrun, &m->params, m->ds, m->dfeat);
        if (m->fs_features) be->axpy(m->dfeat, 1.0f, m->dk, (int64_t)N * F);
        if (debug_check(m, m->dfeat, (int64_t)N * F, "the gradient w.r.t. the student feature", i))
            return -1;
        phase_end(m, BURN_PHASE_HEADS, &lap);
        int final = m->last_backward && i == 1; /* view 2 adds the last contributions */
        if (final) {
            const int64_t *head = m->part_range[BURN_REACTNET_BLOCKS + 2];
            burn_dist_grad_ready(head[0], head[1]);
            burn_reactnet_set_grad_hook(m->srun, student_part_final, m);
        }
        burn_reactnet_backward(m->srun, &m->params, m->dfeat);
        if (final) burn_reactnet_set_grad_hook(m->srun, NULL, NULL);
        if (m->debug && burn_reactnet_grad_fault(m->srun)) return -1;
        phase_end(m, BURN_PHASE_STUDENT_BWD, &lap);
    }
    if (m->head_trainable)
        for (int i = 0; i < 2; i++) {
            if (m->info_max > 0) st->im += info_max_grad(m, t[i], m->dt[i]);
            burn_head_backward(m->th[i], &m->params, m->dt[i], NULL);
        }
    if (m->center >= 0) center_update(m, t);
    phase_end(m, BURN_PHASE_HEADS, &lap);
    return 0;
}

int burn_model_student_features(burn_model *m, const float *x, const float **features) {
    burn_reactnet_prepare(m->srun, &m->params);
    return burn_reactnet_forward(m->srun, &m->params, x, 0, features);
}
