/* test_burn_target.c — the BURN target variants (docs/METHOD.md, "Keeping the target moving")
 * and the collapse statistics, on configs/tiny/burn.ini (CPU):
 *   - collapse statistics against a direct computation; the rule on a constant and a healthy head;
 *   - loss.fs_on = features: the student feature follows the teacher's width, the gradients
 *     match finite differences, θ's gradient has no FS part;
 *   - loss.fs_to_teacher_head = false: θ gets the KL part alone, the student is unchanged;
 *   - loss.teacher_temperature: the same as a teacher head with logits scaled by T/T_t;
 *   - loss.center_momentum: the centre is the running mean of the teacher logits, and resume
 *     stays bit-identical with it;
 *   - teacher.head_lr_mult: 0 leaves θ exactly at its initialisation, 1 is the default bit for bit;
 *   - information maximisation: its value and gradient against a direct computation and finite
 *     differences; loss.teacher_info_max adds exactly β·dIM/dt to θ and nothing to the student;
 *   - a training run logs the statistics and writes summary.json with the verdict. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/collapse.h"
#include "burn/fileio.h"
#include "burn/info_max.h"
#include "burn/log.h"
#include "burn/train.h"
#include "test_ckpt_util.h"
#include "test_util.h"

#define NB 8
#define IMG (NB * 3 * 32 * 32)

static void tiny(burn_config *c, const char *dir) {
    burn_config_defaults(c);
    cr_assert_eq(burn_config_load(c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    char *kv = NULL;
    cr_assert(asprintf(&kv, "run.dir=%s", dir) > 0);
    cr_assert_eq(burn_config_set(c, kv), 0);
    free(kv);
    burn_config_set(c, "log.quiet=true");
    burn_log_quiet = 1;
}

static void set(burn_config *c, const char *kv) {
    cr_assert_eq(burn_config_set(c, kv), 0, "%s: %s", kv, burn_error());
}

static char *tmpdir(const char *tag) {
    char *d = tu_tmp_path(tag), *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s", d) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    return d;
}

/* ---- collapse statistics ---- */

Test(collapse, statistics_match_a_direct_computation) {
    enum { N = 7, D = 5 };
    float z[N * D];
    tu_fill(z, N * D, 11, -1.5f, 1.5f);
    double T = 0.3, stdsum = 0, pbar[D] = {0};
    for (int d = 0; d < D; d++) {
        double m = 0, v = 0;
        for (int n = 0; n < N; n++) m += z[n * D + d] / (double)N;
        for (int n = 0; n < N; n++) v += (z[n * D + d] - m) * (z[n * D + d] - m) / N;
        stdsum += sqrt(v);
    }
    for (int n = 0; n < N; n++) { /* plain softmax: the logits are small */
        double zs = 0;
        for (int d = 0; d < D; d++) zs += exp(z[n * D + d] / T);
        for (int d = 0; d < D; d++) pbar[d] += exp(z[n * D + d] / T) / zs / N;
    }
    double h = 0;
    for (int d = 0; d < D; d++) h -= pbar[d] * log(pbar[d]);
    burn_head_stats s;
    burn_head_stats_compute(z, N, D, T, &s);
    cr_assert_float_eq(s.logit_std, stdsum / D, 1e-9);
    cr_assert_float_eq(s.entropy, h, 1e-9);
}

Test(collapse, rule_calls_a_constant_head_collapsed_and_a_healthy_one_not) {
    enum { N = 64, D = 32 };
    float z[N * D], c[N * D];
    uint64_t seed = 5;
    for (int i = 0; i < N * D; i++) z[i] = tu_uniform(&seed, -2.0f, 2.0f);
    for (int n = 0; n < N; n++)
        for (int d = 0; d < D; d++) c[n * D + d] = z[d] + 1e-4f * (float)n; /* one output for all */
    burn_head_stats healthy, constant, peaked;
    burn_head_stats_compute(z, N, D, 0.2, &healthy);
    burn_head_stats_compute(c, N, D, 0.2, &constant);
    cr_assert_not(burn_head_collapsed(&healthy, D, 0.2), "std %g H %g", healthy.logit_std,
                  healthy.entropy);
    cr_assert(burn_head_collapsed(&constant, D, 0.2), "std %g", constant.logit_std);
    /* varying logits that all put the batch on output 0: H(p̄) → 0 */
    for (int n = 0; n < N; n++) c[n * D] = 40.0f + z[n * D];
    burn_head_stats_compute(c, N, D, 0.2, &peaked);
    cr_assert_lt(peaked.entropy, 0.1 * log(D));
    cr_assert(burn_head_collapsed(&peaked, D, 0.2));
}

/* ---- information maximisation (include/burn/info_max.h) ---- */

/* IM by the definition, in double, for small logits. */
static double im_direct(const float *z, int N, int D, double T) {
    double pbar[64] = {0}, hrows = 0, h = 0;
    for (int n = 0; n < N; n++) {
        double zs = 0;
        for (int d = 0; d < D; d++) zs += exp(z[n * D + d] / T);
        for (int d = 0; d < D; d++) {
            double p = exp(z[n * D + d] / T) / zs;
            pbar[d] += p / N;
            hrows -= p * log(p) / N;
        }
    }
    for (int d = 0; d < D; d++) h -= pbar[d] * log(pbar[d]);
    return hrows - h;
}

Test(info_max, value_and_gradient_match_the_definition_and_finite_differences) {
    enum { N = 6, D = 5 };
    float z[N * D], dz[N * D];
    tu_fill(z, N * D, 31, -1.0f, 1.0f);
    double T = 0.5;
    double im = burn_info_max(z, N, D, T, 0.25f, dz);
    cr_assert_float_eq(im, im_direct(z, N, D, T), 1e-9);
    for (int i = 0; i < N * D; i++) { /* dz = 0.25·N·dIM/dz */
        float z0 = z[i], eps = 1e-3f;
        z[i] = z0 + eps;
        double lp = im_direct(z, N, D, T);
        z[i] = z0 - eps;
        double lm = im_direct(z, N, D, T);
        z[i] = z0;
        double fd = 0.25 * N * (lp - lm) / (2.0 * (double)eps);
        cr_assert(fabs(fd - dz[i]) < 1e-4 + 1e-3 * fabs(fd), "dz[%d] %g, finite differences %g",
                  i, dz[i], fd);
    }
}

Test(info_max, zero_on_collapsed_heads_minus_log_d_on_balanced_one_hot_and_finite_on_huge_logits) {
    enum { N = 8, D = 4 };
    float z[N * D], dz[N * D];
    for (int n = 0; n < N; n++) /* every sample the same output, peaked */
        for (int d = 0; d < D; d++) z[n * D + d] = d == 2 ? 9.0f : 0.0f;
    cr_assert_float_eq(burn_info_max(z, N, D, 0.2, 1.0f, NULL), 0.0, 1e-9);
    memset(z, 0, sizeof z); /* flat */
    cr_assert_float_eq(burn_info_max(z, N, D, 0.2, 1.0f, dz), 0.0, 1e-12);
    for (int i = 0; i < N * D; i++) cr_assert_eq(dz[i], 0.0f, "flat head: a gradient at %d", i);
    for (int n = 0; n < N; n++) /* one-hot, each output used N/D times */
        for (int d = 0; d < D; d++) z[n * D + d] = d == n % D ? 400.0f : -400.0f;
    double im = burn_info_max(z, N, D, 0.2, 1.0f, dz);
    cr_assert_float_eq(im, -log((double)D), 1e-9);
    for (int i = 0; i < N * D; i++) cr_assert(isfinite(dz[i]), "dz[%d] = %g", i, dz[i]);
}

/* ---- one step of the model under a variant ---- */

typedef struct stepper {
    burn_config c;
    burn_model m;
    float v1[IMG], v2[IMG];
} stepper;

static void stepper_init(stepper *s, const char *const *kvs) {
    tiny(&s->c, "/tmp/unused");
    for (int i = 0; kvs && kvs[i]; i++) set(&s->c, kvs[i]);
    cr_assert_eq(burn_model_init(&s->m, &s->c, burn_cpu_backend(), NB), 0, "%s", burn_error());
    cr_assert_eq(burn_model_load_teacher(&s->m, s->c.teacher_checkpoint), 0, "%s", burn_error());
    tu_fill(s->v1, IMG, 21, -2, 2);
    tu_fill(s->v2, IMG, 22, -2, 2);
}

static void stepper_free(stepper *s) {
    burn_model_free(&s->m);
    burn_config_free(&s->c);
}

/* The loss of one step at λ with zeroed gradients (left in m.params.grad). */
static double step(stepper *s, float lambda) {
    s->m.be->fill(s->m.params.grad, 0.0f, s->m.params.trainable);
    burn_step_stats st;
    cr_assert_eq(burn_model_step(&s->m, s->v1, s->v2, lambda, &st), 0, "%s", burn_error());
    return st.loss;
}

static const burn_param *param(const stepper *s, const char *name) {
    int i = burn_params_find(&s->m.params, name);
    cr_assert_geq(i, 0, "%s", name);
    return &s->m.params.p[i];
}

/* [begin, end) of the trainable floats named prefix* (contiguous by registration order). */
static void range_of(const stepper *s, const char *prefix, int64_t *b, int64_t *e) {
    *b = -1, *e = -1;
    for (int i = 0; i < s->m.params.n; i++) {
        const burn_param *p = &s->m.params.p[i];
        if (p->kind != BURN_PARAM_TRAINABLE || strncmp(p->name, prefix, strlen(prefix))) continue;
        if (*b < 0) *b = p->offset;
        *e = p->offset + p->numel;
    }
}

Test(target, fs_on_features_student_feature_follows_the_teacher_width) {
    static const char *const kv[] = {"loss.fs_on=features", NULL};
    stepper *s = malloc(sizeof *s);
    stepper_init(s, kv);
    int Ft = s->m.teacher.feature_dim;
    cr_assert_neq(Ft, s->m.student.pooled_dim, "the tiny config must differ in width");
    cr_assert_eq(s->m.student.feature_dim, Ft);
    cr_assert_eq(s->m.student_head.in, Ft);
    cr_assert_eq(param(s, "student.fc.weight")->shape[0], Ft);
    cr_assert_eq(param(s, "student.fc.weight")->shape[1], s->m.student.pooled_dim);
    cr_assert(isfinite(step(s, 0.7f)));
    stepper_free(s);
    /* an explicit width other than the teacher's is refused, naming the key */
    burn_config c;
    tiny(&c, "/tmp/unused");
    set(&c, "loss.fs_on=features");
    set(&c, "model.feature_dim=24");
    burn_model m;
    cr_assert_neq(burn_model_init(&m, &c, burn_cpu_backend(), NB), 0);
    cr_assert(strstr(burn_error(), "model.feature_dim"), "%s", burn_error());
    burn_config_free(&c);
    free(s);
}

/* d loss / d p[k] by central differences, against the analytic gradient. */
static void check_fd(stepper *s, const char *name, int k, float lambda) {
    const burn_param *p = param(s, name);
    step(s, lambda);
    double g = s->m.params.grad[p->offset + k];
    float *x = s->m.params.data + p->offset + k, x0 = *x, eps = 1e-2f;
    *x = x0 + eps;
    double lp = step(s, lambda);
    *x = x0 - eps;
    double lm = step(s, lambda);
    *x = x0;
    double fd = (lp - lm) / (2.0 * eps);
    cr_assert(fabs(fd - g) <= 0.03 * fabs(g) + 2e-4, "%s[%d]: analytic %g, finite differences %g",
              name, k, g, fd);
}

Test(target, fs_on_features_gradients_match_finite_differences, .timeout = 60) {
    static const char *const kv[] = {"loss.fs_on=features", NULL};
    stepper *s = malloc(sizeof *s);
    stepper_init(s, kv);
    for (int k = 0; k < 3; k++) {
        check_fd(s, "student.fc.bias", 5 * k + 1, 0.7f);
        check_fd(s, "student_head.3.bias", 7 * k, 0.7f);
        check_fd(s, "teacher_head.3.bias", 7 * k + 2, 0.7f);
    }
    stepper_free(s);
    free(s);
}

Test(target, fs_on_features_teacher_head_gets_the_kl_gradient_alone, .timeout = 60) {
    static const char *const kv[] = {"loss.fs_on=features", NULL};
    stepper *s = malloc(sizeof *s);
    stepper_init(s, kv);
    int64_t b, e, sb, se;
    range_of(s, "teacher_head.", &b, &e);
    range_of(s, "student.", &sb, &se);
    int64_t n = e - b;
    float *g0 = malloc(n * 4), *g5 = malloc(n * 4);
    step(s, 0.0f); /* KL alone, weight 1 */
    memcpy(g0, s->m.params.grad + b, n * 4);
    step(s, 0.5f); /* KL weight 1/2: exactly half, whatever FS adds elsewhere */
    memcpy(g5, s->m.params.grad + b, n * 4);
    double nz = 0;
    for (int64_t i = 0; i < n; i++) {
        cr_assert_eq(g5[i], 0.5f * g0[i], "teacher_head gradient %lld: %g vs %g/2", (long long)i,
                     g5[i], g0[i]);
        nz += fabs(g0[i]);
    }
    cr_assert_gt(nz, 0);
    step(s, 1.0f); /* FS alone: nothing reaches θ, the student still learns */
    for (int64_t i = 0; i < n; i++) cr_assert_eq(s->m.params.grad[b + i], 0.0f);
    double gs = 0;
    for (int64_t i = sb; i < se; i++) gs += fabs(s->m.params.grad[i]);
    cr_assert_gt(gs, 0);
    free(g0), free(g5);
    stepper_free(s);
    free(s);
}

Test(target, fs_stop_gradient_keeps_fs_out_of_the_teacher_head, .timeout = 60) {
    static const char *const stop[] = {"loss.fs_to_teacher_head=false", NULL};
    stepper *a = malloc(sizeof *a), *d = malloc(sizeof *d);
    stepper_init(a, stop);
    stepper_init(d, NULL);
    int64_t b, e, T = a->m.params.trainable;
    range_of(a, "teacher_head.", &b, &e);
    float *g0 = malloc((e - b) * 4);
    step(a, 0.0f);
    memcpy(g0, a->m.params.grad + b, (e - b) * 4);
    double la = step(a, 0.6f), ld = step(d, 0.6f);
    cr_assert_eq(la, ld, "the loss is the same objective");
    /* the student side is the default's bit for bit; θ sees (1 − λ)·KL alone */
    cr_assert(memcmp(a->m.params.grad, d->m.params.grad, b * 4) == 0);
    int differs = 0;
    double gmax = 0; /* BN's sums cancel: the tolerance is relative to the tensor's scale */
    for (int64_t i = 0; i < e - b; i++) gmax = fmax(gmax, fabsf(g0[i]));
    for (int64_t i = b; i < e; i++) {
        cr_assert_float_eq(a->m.params.grad[i], 0.4f * g0[i - b], 1e-5 * gmax,
                           "θ gradient %lld: %g, want %g", (long long)(i - b), a->m.params.grad[i], 0.4f * g0[i - b]);
        differs |= a->m.params.grad[i] != d->m.params.grad[i];
    }
    cr_assert(differs, "the default's θ gradient has an FS part: the key made no difference");
    (void)T;
    free(g0);
    stepper_free(a), stepper_free(d);
    free(a), free(d);
}

Test(target, teacher_temperature_equals_scaled_teacher_logits, .timeout = 60) {
    /* T_t = T/2 sharpens the target exactly as doubling the teacher head's last layer does */
    static const char *const sharp[] = {"loss.teacher_temperature=0.1", NULL};
    stepper *a = malloc(sizeof *a), *d = malloc(sizeof *d);
    stepper_init(a, sharp);
    stepper_init(d, NULL);
    const burn_param *w = param(d, "teacher_head.3.weight"), *bb = param(d, "teacher_head.3.bias");
    for (int64_t i = 0; i < w->numel; i++) d->m.params.data[w->offset + i] *= 2.0f;
    for (int64_t i = 0; i < bb->numel; i++) d->m.params.data[bb->offset + i] *= 2.0f;
    double la = step(a, 0.7f), ld = step(d, 0.7f);
    cr_assert_float_eq(la, ld, 1e-6 * fabs(ld) + 1e-7);
    int64_t b, e;
    range_of(a, "teacher_head.", &b, &e);
    double worst = tu_max_rel_f(a->m.params.grad, d->m.params.grad, b, 1e-3);
    cr_assert_lt(worst, 1e-4, "student gradients differ by %g", worst);
    stepper *p = malloc(sizeof *p); /* and it changes the step: the plain default differs */
    stepper_init(p, NULL);
    cr_assert_neq(step(p, 0.7f), la);
    stepper_free(p), stepper_free(a), stepper_free(d);
    free(p), free(a), free(d);
}

Test(target, centre_is_the_running_mean_of_the_teacher_logits, .timeout = 60) {
    static const char *const ctr[] = {"loss.center_momentum=0.9", NULL};
    stepper *s = malloc(sizeof *s);
    stepper_init(s, ctr);
    int D = s->m.teacher_head.out;
    const burn_param *c = param(s, "teacher_head.center");
    cr_assert_eq(c->kind, BURN_PARAM_BUFFER);
    float *c0 = calloc(D, 4);
    for (int round = 0; round < 2; round++) {
        memcpy(c0, s->m.params.data + c->offset, D * 4);
        step(s, 0.7f);
        /* the same teacher logits again: the step changed no weight (no optimiser here) */
        double mean[256] = {0};
        cr_assert_leq(D, 256);
        for (int i = 0; i < 2; i++) {
            const float *t;
            cr_assert_eq(burn_head_forward(s->m.th[i], &s->m.params, s->m.ft[i], 1, &t), 0);
            for (int n = 0; n < NB; n++)
                for (int d = 0; d < D; d++) mean[d] += t[n * D + d] / (2.0 * NB);
        }
        for (int d = 0; d < D; d++) {
            double want = 0.9 * c0[d] + 0.1 * mean[d];
            cr_assert_float_eq(s->m.params.data[c->offset + d], want, 1e-5 * fabs(want) + 1e-6,
                               "round %d, centre[%d]", round, d);
        }
    }
    free(c0);
    stepper_free(s);
    free(s);
}

Test(target, centring_changes_the_step_and_resume_stays_bit_identical, .timeout = 120) {
    char *da = tmpdir("ctr-a"), *db = tmpdir("ctr-b");
    burn_config a, b;
    tiny(&a, da);
    tiny(&b, db);
    set(&a, "loss.center_momentum=0.9");
    set(&b, "loss.center_momentum=0.9");
    burn_train_result ra, rb;
    cr_assert_eq(burn_train(&a, burn_cpu_backend(), 0, &ra), 0);
    set(&b, "train.max_steps=13");
    cr_assert_eq(burn_train(&b, burn_cpu_backend(), 0, &rb), 0);
    free(rb.final_checkpoint);
    set(&b, "train.max_steps=0");
    cr_assert_eq(burn_train(&b, burn_cpu_backend(), 1, &rb), 0);
    char diff[256];
    cr_assert_null(tu_ckpt_diff(ra.final_checkpoint, rb.final_checkpoint, diff, sizeof diff),
                   "%s differs after resume", diff);
    free(ra.final_checkpoint), free(rb.final_checkpoint), free(da), free(db);
    burn_config_free(&a);
    burn_config_free(&b);
}

Test(target, info_max_adds_its_gradient_to_the_teacher_head_alone, .timeout = 60) {
    static const char *const im[] = {"loss.teacher_info_max=0.5", NULL};
    stepper *a = malloc(sizeof *a), *d = malloc(sizeof *d);
    stepper_init(a, im);
    stepper_init(d, NULL);
    double la = step(a, 0.7f), ld = step(d, 0.7f);
    cr_assert_eq(la, ld, "IM is not part of the student's loss");
    int64_t b, e;
    range_of(a, "teacher_head.", &b, &e);
    cr_assert(memcmp(a->m.params.grad, d->m.params.grad, b * 4) == 0,
              "IM changed a student gradient");
    int differs = 0;
    for (int64_t i = b; i < e; i++) differs |= a->m.params.grad[i] != d->m.params.grad[i];
    cr_assert(differs, "loss.teacher_info_max made no difference to θ");
    stepper_free(a), stepper_free(d);
    free(a), free(d);
}

Test(target, info_max_teacher_gradient_matches_finite_differences, .timeout = 60) {
    /* θ's objective is loss + β·im: with λ = 1 and stop-gradient FS, θ sees β·im alone */
    static const char *const im[] = {"loss.teacher_info_max=2", "loss.fs_to_teacher_head=false",
                                     NULL};
    stepper *s = malloc(sizeof *s);
    stepper_init(s, im);
    burn_step_stats st;
    for (int k = 0; k < 3; k++) {
        const burn_param *p = param(s, "teacher_head.3.bias");
        int j = 9 * k + 4;
        step(s, 1.0f);
        double g = s->m.params.grad[p->offset + j];
        float *x = s->m.params.data + p->offset + j, x0 = *x, eps = 1e-2f;
        double f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            *x = x0 + (sgn ? -eps : eps);
            cr_assert_eq(burn_model_step(&s->m, s->v1, s->v2, 1.0f, &st), 0);
            f[sgn] = 2.0 * st.im;
        }
        *x = x0;
        double fd = (f[0] - f[1]) / (2.0 * eps);
        cr_assert(fabs(fd - g) <= 0.03 * fabs(g) + 2e-4, "bias[%d]: analytic %g, fd %g", j, g, fd);
        cr_assert_gt(fabs(g), 1e-6, "no IM gradient reached θ");
    }
    stepper_free(s);
    free(s);
}

/* teacher_head.* of a run's final checkpoint, loaded into a model of config c. */
static float *final_head(const burn_config *c, const char *ckpt, int64_t *n) {
    burn_model m;
    cr_assert_eq(burn_model_init(&m, c, burn_cpu_backend(), NB), 0);
    if (ckpt) {
        static const char *const head[] = {"teacher_head.", NULL};
        cr_assert_eq(burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", ckpt, NULL, 0}, &m.params, head), 0, "%s", burn_error());
    }
    int i = burn_params_find(&m.params, "teacher_head.0.weight");
    int64_t b = m.params.p[i].offset;
    *n = m.params.trainable - b;
    float *out = malloc(*n * 4);
    memcpy(out, m.params.data + b, *n * 4);
    burn_model_free(&m);
    return out;
}

Test(target, head_lr_mult_zero_freezes_the_teacher_head_exactly, .timeout = 120) {
    char *d0 = tmpdir("lrm-0"), *d1 = tmpdir("lrm-1"), *dd = tmpdir("lrm-d");
    burn_config c0, c1, cd;
    tiny(&c0, d0);
    tiny(&c1, d1);
    tiny(&cd, dd);
    set(&c0, "teacher.head_lr_mult=0");
    set(&c1, "teacher.head_lr_mult=1");
    burn_train_result r0, r1, rd;
    cr_assert_eq(burn_train(&c0, burn_cpu_backend(), 0, &r0), 0);
    cr_assert_eq(burn_train(&c1, burn_cpu_backend(), 0, &r1), 0);
    cr_assert_eq(burn_train(&cd, burn_cpu_backend(), 0, &rd), 0);
    int64_t n, n2;
    float *init = final_head(&c0, NULL, &n), *after = final_head(&c0, r0.final_checkpoint, &n2);
    cr_assert(memcmp(init, after, n * 4) == 0, "teacher.head_lr_mult = 0 moved the teacher head");
    free(after);
    after = final_head(&c1, r1.final_checkpoint, &n2);
    cr_assert(memcmp(init, after, n * 4) != 0, "the teacher head never moved at all");
    char diff[256];
    cr_assert_null(tu_ckpt_diff(r1.final_checkpoint, rd.final_checkpoint, diff, sizeof diff),
                   "head_lr_mult = 1 differs from the default in %s", diff);
    free(init), free(after);
    free(r0.final_checkpoint), free(r1.final_checkpoint), free(rd.final_checkpoint);
    free(d0), free(d1), free(dd);
    burn_config_free(&c0), burn_config_free(&c1), burn_config_free(&cd);
}

Test(target, training_logs_collapse_statistics_and_a_summary, .timeout = 60) {
    char *dir = tmpdir("collapse-log");
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.max_steps=16");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 0);
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/metrics.jsonl", dir) > 0);
    unsigned char *text;
    size_t len;
    cr_assert_eq(burn_read_file(path, 1 << 24, &text, &len), 0);
    int rows = 0;
    static const char *keys[] = {"t_std", "t_H", "s_std", "s_H", "collapsed"};
    for (char *line = strtok((char *)text, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        cJSON *o = cJSON_Parse(line);
        cr_assert_not_null(o);
        for (int k = 0; k < 5; k++) {
            cJSON *v = cJSON_GetObjectItem(o, keys[k]);
            cr_assert(cJSON_IsNumber(v), "row %d has no %s", rows, keys[k]);
            cr_assert(isfinite(v->valuedouble));
        }
        double H = cJSON_GetObjectItem(o, "t_H")->valuedouble;
        cr_assert(H >= 0 && H <= log(64) + 1e-9, "H(p̄) %g outside [0, log D]", H);
        cJSON_Delete(o);
    }
    cr_assert_eq(rows, 2); /* log.every = 8 */
    free(text), free(path);
    cr_assert(asprintf(&path, "%s/summary.json", dir) > 0);
    cr_assert_eq(burn_read_file(path, 1 << 20, &text, &len), 0);
    cJSON *o = cJSON_Parse((char *)text);
    cr_assert_not_null(o);
    cr_assert(cJSON_IsBool(cJSON_GetObjectItem(o, "collapsed")));
    cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(o, "collapsed")), r.collapsed);
    cr_assert_eq(cJSON_GetObjectItem(o, "updates")->valuedouble, 16);
    cJSON_Delete(o);
    free(text), free(path), free(r.final_checkpoint), free(dir);
    burn_config_free(&c);
}
