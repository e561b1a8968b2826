/* test_ssl_baselines.c — the baselines of issue 8 item 7 on configs/tiny/burn.ini (CPU):
 * BYOL's regression term against a double-precision reference and finite differences; BYOL
 * and MoCo v2 on the binary student change the online networks while the target follows
 * exactly the EMA of the previous online weights and gets no gradient; MoCo's InfoNCE against
 * a reference over the step's own queries, keys and queue, and the enqueue; the training loop
 * writes checkpoints that the evaluations read (student under "student."), resumes bit for
 * bit, and runs stage 2 from a stage-1 run; S2-BNN's teacher.head_init loads the head, which a
 * frozen-head step then never changes while the student does. */
#include <criterion/criterion.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/safetensors.h"
#include "burn/ssl.h"
#include "test_ckpt_util.h"
#include "test_util.h"

static void set(burn_config *c, const char *kv) {
    cr_assert_eq(burn_config_set(c, kv), 0, "%s: %s", kv, burn_error());
}

/* configs/tiny/burn.ini with small projection heads, the method, and run.dir = dir */
static void tiny(burn_config *c, const char *method, const char *dir) {
    burn_config_defaults(c);
    cr_assert_eq(burn_config_load(c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    char kv[512];
    snprintf(kv, sizeof kv, "train.method=%s", method);
    set(c, kv);
    snprintf(kv, sizeof kv, "run.dir=%s", dir);
    set(c, kv);
    set(c, "byol.hidden=32");
    set(c, "byol.dim=16");
    set(c, "moco.dim=16");
    set(c, "moco.queue=40"); /* not a multiple of the batch: the ring wraps mid-batch */
    set(c, "log.quiet=true");
    burn_log_quiet = 1;
}

static char *tmpdir(const char *tag) {
    char *d = tu_tmp_path(tag), *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s", d) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    return d;
}

/* ---- BYOL's regression term ---- */

/* L_n = 2 − 2·p·z / |p| in double (z already unit) */
static double byol_ref_row(const double *p, const double *z, int D) {
    double pz = 0, pp = 0;
    for (int d = 0; d < D; d++) pz += p[d] * z[d], pp += p[d] * p[d];
    return 2.0 - 2.0 * pz / sqrt(pp);
}

Test(ssl, byol_regression_matches_double_reference_and_finite_differences) {
    const burn_backend *be = burn_cpu_backend();
    uint64_t s = 11;
    for (int trial = 0; trial < 3; trial++) {
        int N = tu_int(&s, 1, 6), D = tu_int(&s, 2, 19);
        float *p = malloc(sizeof(float) * N * D), *z = malloc(sizeof(float) * N * D);
        float *cos = malloc(sizeof(float) * N), *dp = malloc(sizeof(float) * N * D);
        float *pn = malloc(sizeof(float) * N * D), *norm = malloc(sizeof(float) * N);
        double *pd = malloc(sizeof(double) * D), *zd = malloc(sizeof(double) * N * D);
        tu_fill(p, N * D, 100 + trial, -2, 2);
        tu_fill(z, N * D, 200 + trial, -1, 1);
        for (int n = 0; n < N; n++) { /* the target side arrives normalised */
            double zz = 0;
            for (int d = 0; d < D; d++) zz += (double)z[n * D + d] * z[n * D + d];
            for (int d = 0; d < D; d++) {
                zd[n * D + d] = z[n * D + d] / sqrt(zz);
                z[n * D + d] = (float)zd[n * D + d];
                zd[n * D + d] = z[n * D + d];
            }
        }
        float gs = 1.0f / (float)N;
        burn_byol_regression(be, cos, dp, pn, norm, p, z, N, D, gs);
        for (int n = 0; n < N; n++) {
            for (int d = 0; d < D; d++) pd[d] = p[n * D + d];
            double L = byol_ref_row(pd, zd + n * D, D);
            cr_assert_float_eq(2.0 - 2.0 * cos[n], L, 1e-5, "row %d: %g vs %g", n,
                               2.0 - 2.0 * cos[n], L);
            for (int d = 0; d < D; d++) { /* central differences of the double reference */
                double h = 1e-6, keep = pd[d];
                pd[d] = keep + h;
                double up = byol_ref_row(pd, zd + n * D, D);
                pd[d] = keep - h;
                double down = byol_ref_row(pd, zd + n * D, D);
                pd[d] = keep;
                double fd = gs * (up - down) / (2 * h);
                cr_assert(fabs(dp[n * D + d] - fd) <= 1e-4 * (fabs(fd) + 1e-2),
                          "N %d D %d: dp[%d,%d] = %g, finite differences %g", N, D, n, d,
                          dp[n * D + d], fd);
            }
        }
        free(p), free(z), free(cos), free(dp), free(pn), free(norm), free(pd), free(zd);
    }
}

Test(ssl, byol_tau_rises_from_ema_start_to_one_by_cosine) {
    cr_assert_float_eq(burn_byol_tau(0.99, 0, 100), 0.99, 1e-12);
    cr_assert_float_eq(burn_byol_tau(0.99, 50, 100), 0.995, 1e-12);
    cr_assert_float_eq(burn_byol_tau(0.99, 100, 100), 1.0, 1e-12);
    cr_assert_float_eq(burn_byol_tau(0.996, 25, 100),
                       1 - 0.004 * (cos(3.14159265358979 / 4) + 1) / 2, 1e-12);
    cr_assert(burn_byol_tau(0.9, 30, 100) < burn_byol_tau(0.9, 31, 100));
}

/* ---- steps of either method ---- */

static int has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Per group of online tensors, how many moved between a and b. */
static void expect_moved(const burn_ssl *m, const float *a, const float *b, const char *group) {
    int tensors = 0, moved = 0;
    for (int i = 0; i < m->params.n; i++) {
        const burn_param *p = &m->params.p[i];
        if (p->kind != BURN_PARAM_TRAINABLE || !has_prefix(p->name, group)) continue;
        tensors++;
        moved += memcmp(a + p->offset, b + p->offset, p->numel * sizeof(float)) != 0;
    }
    cr_assert_gt(tensors, 0, "no tensors under %s", group);
    /* the bias of a Linear before BN gets a zero gradient: allow those to stay */
    cr_assert_geq(moved, tensors - 1, "%s: %d of %d tensors moved", group, moved, tensors);
}

/* Three updates: target = τ·target + (1 − τ)·online of the weights before the update, exactly
 * as the formula; never a gradient or an optimiser change in the target; online groups move.
 * check_step (may be NULL) sees the model around each step. */
typedef void (*step_check)(burn_ssl *m, const float *before_step, const burn_ssl_stats *st);

static void run_updates(const char *method, const char *const *groups, step_check check) {
    burn_config c;
    tiny(&c, method, "/tmp/unused");
    const burn_backend *be = burn_cpu_backend();
    burn_ssl m;
    int N = 8;
    cr_assert_eq(burn_ssl_init(&m, &c, burn_ssl_method_parse(method), be, N), 0, "%s",
                 burn_error());
    int64_t T = m.params.trainable, total = m.params.total, E = m.ema_len;
    cr_assert_gt(E, 0);
    cr_assert_geq(m.target_begin, m.online_len);
    float *start = malloc(total * 4), *before = malloc(total * 4), *after_ema = malloc(total * 4);
    memcpy(start, m.params.data, total * 4);
    /* the target starts as a copy of the online networks */
    cr_assert(memcmp(start, start + m.target_begin, E * 4) == 0);
    float *v1 = malloc(N * 3 * 32 * 32 * 4), *v2 = malloc(N * 3 * 32 * 32 * 4);
    float *am = calloc(T, 4), *av = calloc(T, 4);
    const float taus[3] = {0.5f, 0.9f, 0.75f};
    for (int step = 1; step <= 3; step++) {
        memcpy(before, m.params.data, total * 4);
        float tau = taus[step - 1];
        burn_ssl_begin_update(&m, tau);
        const float *tg = m.params.data + m.target_begin, *tg0 = before + m.target_begin;
        for (int64_t k = 0; k < E; k++) {
            double want = (double)tau * tg0[k] + (1.0 - tau) * before[k];
            cr_assert(fabs(tg[k] - want) <= 1e-6 * (fabs(want) + 1e-3),
                      "update %d: target[%lld] = %.9g, EMA of the previous weights %.9g", step,
                      (long long)k, tg[k], want);
        }
        cr_assert(memcmp(m.params.data, before, m.online_len * 4) == 0,
                  "the EMA changed the online networks");
        memcpy(after_ema, m.params.data, total * 4);
        tu_fill(v1, N * 3 * 32 * 32, 10 * step, -2, 2);
        tu_fill(v2, N * 3 * 32 * 32, 10 * step + 1, -2, 2);
        be->fill(m.params.grad, 0, T);
        burn_ssl_stats st;
        cr_assert_eq(burn_ssl_step(&m, v1, v2, &st), 0, "%s", burn_error());
        cr_assert(isfinite(st.loss) && isfinite(st.cos));
        if (check) check(&m, after_ema, &st);
        for (int64_t k = m.online_len; k < T; k++)
            cr_assert_eq(m.params.grad[k], 0.0f, "gradient into the target at %lld", (long long)k);
        burn_adam_hparams h = {1e-2f, 0.9f, 0.999f, 1e-8f, 0, 1, 0, 0};
        burn_adam_prepare(&h, step);
        be->adam_step(m.params.data, m.params.grad, am, av, m.online_len, h);
        cr_assert(memcmp(m.params.data + m.target_begin, after_ema + m.target_begin, E * 4) == 0,
                  "the step or the optimiser changed the target");
    }
    for (const char *const *g = groups; *g; g++) expect_moved(&m, start, m.params.data, *g);
    /* after online and target diverge, the EMA moves the target too */
    int target_moved = memcmp(start + m.target_begin, m.params.data + m.target_begin, E * 4);
    cr_assert_neq(target_moved, 0, "the target never moved");
    free(start), free(before), free(after_ema), free(v1), free(v2), free(am), free(av);
    burn_ssl_free(&m);
    burn_config_free(&c);
}

static void byol_check(burn_ssl *m, const float *before_step, const burn_ssl_stats *st) {
    (void)before_step;
    /* the last direction regressed p̂(v2) on ẑ(v1): its mean cosine is in st->cos with the
     * first direction's; both are cosines, the loss their symmetrised 2 − 2·cos */
    int N = m->N, D = m->D;
    double c1 = 0;
    for (int n = 0; n < N; n++) {
        double dot = 0, pp = 0, zz = 0;
        for (int d = 0; d < D; d++) {
            dot += (double)m->pn[n * D + d] * m->zt[0][n * D + d];
            pp += (double)m->pn[n * D + d] * m->pn[n * D + d];
            zz += (double)m->zt[0][n * D + d] * m->zt[0][n * D + d];
        }
        cr_assert_float_eq(pp, 1.0, 1e-5);
        cr_assert_float_eq(zz, 1.0, 1e-5);
        c1 += dot / N;
    }
    double c0 = 2 * st->cos - c1;
    cr_assert(c0 >= -1.0 - 1e-6 && c0 <= 1.0 + 1e-6, "first direction's cosine %g", c0);
    cr_assert_float_eq(st->loss, (2 - 2 * c0) + (2 - 2 * c1), 1e-5);
}

Test(ssl, byol_moves_online_networks_and_target_is_their_ema, .timeout = 60) {
    static const char *const groups[] = {"student.", "projector.", "predictor.", NULL};
    run_updates("byol", groups, byol_check);
}

/* InfoNCE of the step's queries and keys against the queue as it was before the step, in
 * double; then the keys are in the ring at the old pointer and nothing else changed. */
static void moco_check(burn_ssl *m, const float *before_step, const burn_ssl_stats *st) {
    int N = m->N, D = m->D, K = m->K;
    int64_t qoff = m->params.p[m->queue_idx].offset;
    const float *old = before_step + qoff, *now = m->params.data + qoff;
    const float *q = m->pn, *k = m->zt[0];
    int64_t ptr_after = m->queue_ptr, ptr = ((ptr_after - N) % K + K) % K;
    double loss = 0, pos = 0;
    for (int n = 0; n < N; n++) {
        double *z = malloc(sizeof(double) * (K + 1)), mx = -INFINITY, se = 0;
        for (int j = 0; j <= K; j++) {
            const float *other = j == 0 ? k + n * D : old + (int64_t)(j - 1) * D;
            double dot = 0;
            for (int d = 0; d < D; d++) dot += (double)q[n * D + d] * other[d];
            z[j] = dot / m->temperature;
            if (z[j] > mx) mx = z[j];
        }
        for (int j = 0; j <= K; j++) se += exp(z[j] - mx);
        loss += (mx + log(se) - z[0]) / N;
        pos += z[0] * m->temperature / N;
        free(z);
    }
    cr_assert_float_eq(st->loss, loss, 1e-4 * (1 + fabs(loss)), "InfoNCE %.6f, reference %.6f",
                       st->loss, loss);
    cr_assert_float_eq(st->cos, pos, 1e-5);
    for (int r = 0; r < K; r++) {
        int64_t slot = ((r - ptr) % K + K) % K; /* position of row r after the pointer */
        const float *want = slot < N ? k + slot * D : old + (int64_t)r * D;
        cr_assert(memcmp(now + (int64_t)r * D, want, D * 4) == 0, "queue row %d (pointer %lld)",
                  r, (long long)ptr);
    }
}

Test(ssl, moco_moves_query_networks_key_is_their_ema_and_infonce_matches, .timeout = 60) {
    static const char *const groups[] = {"student.", "projector.", NULL};
    run_updates("moco", groups, moco_check);
}

Test(ssl, bad_sizes_are_clear_errors) {
    burn_config c;
    tiny(&c, "moco", "/tmp/unused");
    burn_ssl m;
    set(&c, "moco.queue=4");
    cr_assert_eq(burn_ssl_init(&m, &c, BURN_SSL_MOCO, burn_cpu_backend(), 8), -1);
    cr_assert(strstr(burn_error(), "moco.queue"), "%s", burn_error());
    cr_assert_eq(burn_ssl_init(&m, &c, BURN_SSL_BYOL, burn_cpu_backend(), 1), -1);
    cr_assert(strstr(burn_error(), "batch_size"), "%s", burn_error());
    cr_assert_eq(burn_ssl_method_parse("simclr"), -1);
    burn_config_free(&c);
}

/* ---- the training loop ---- */

/* The student of a checkpoint, read as the evaluations read it (burn_eval_knn: a BURN model
 * of the same config, "student." from the run dir), equals the file's "student." tensors. */
static void expect_student_evaluable(const burn_config *c, const char *dir, const char *ckpt) {
    burn_model bm;
    cr_assert_eq(burn_model_init(&bm, c, burn_cpu_backend(), 4), 0, "%s", burn_error());
    static const char *const student[] = {"student.", NULL};
    cr_assert_eq(burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", dir, NULL, 0}, &bm.params, student), 0, "%s", burn_error());
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, ckpt), 0, "%s", burn_error());
    int n = 0;
    for (int i = 0; i < bm.params.n; i++) {
        const burn_param *p = &bm.params.p[i];
        if (!has_prefix(p->name, "student.")) continue;
        float *want = malloc(p->numel * 4);
        cr_assert_eq(burn_st_read_f32(&f, p->name, want, p->numel), 0, "%s", burn_error());
        cr_assert(memcmp(want, bm.params.data + p->offset, p->numel * 4) == 0, "%s", p->name);
        free(want);
        n++;
    }
    cr_assert_gt(n, 20);
    burn_st_close(&f);
    burn_model_free(&bm);
}

static void loop_resume_and_eval(const char *method) {
    char tag[64];
    snprintf(tag, sizeof tag, "%s-a", method);
    char *da = tmpdir(tag);
    snprintf(tag, sizeof tag, "%s-b", method);
    char *db = tmpdir(tag);
    burn_config a, b;
    tiny(&a, method, da);
    tiny(&b, method, db);
    set(&a, "train.max_steps=6");
    set(&b, "train.max_steps=3"); /* stop, then resume to 6 */
    burn_train_result ra, rb;
    cr_assert_eq(burn_ssl_train(&a, burn_cpu_backend(), 0, &ra), 0);
    cr_assert_eq(ra.steps, 6);
    cr_assert(isfinite(ra.first_loss) && isfinite(ra.last_loss));
    cr_assert_eq(burn_ssl_train(&b, burn_cpu_backend(), 0, &rb), 0);
    free(rb.final_checkpoint);
    set(&b, "train.max_steps=6");
    cr_assert_eq(burn_ssl_train(&b, burn_cpu_backend(), 1, &rb), 0);
    cr_assert_eq(rb.steps, 6);
    char diff[256];
    cr_assert_null(tu_ckpt_diff(ra.final_checkpoint, rb.final_checkpoint, diff, sizeof diff),
                   "%s differs after resume", diff);
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, ra.final_checkpoint), 0, "%s", burn_error());
    cr_assert_str_eq(burn_st_meta(&f, "kind"), method);
    cr_assert_not_null(burn_st_find(&f, "target.student.fc.weight"));
    burn_st_close(&f);
    expect_student_evaluable(&a, da, ra.final_checkpoint);

    /* stage 2 from this stage-1 run: binary weights, the online networks handed over */
    snprintf(tag, sizeof tag, "%s-s2", method);
    char *d2 = tmpdir(tag), kv[512];
    burn_config s2;
    tiny(&s2, method, d2);
    set(&s2, "model.stage=2");
    set(&s2, "train.max_steps=2");
    snprintf(kv, sizeof kv, "train.init_from=%s", da);
    set(&s2, kv);
    burn_train_result r2;
    cr_assert_eq(burn_ssl_train(&s2, burn_cpu_backend(), 0, &r2), 0);
    cr_assert_eq(r2.steps, 2);
    free(r2.final_checkpoint);
    free(ra.final_checkpoint), free(rb.final_checkpoint), free(da), free(db), free(d2);
    burn_config_free(&a);
    burn_config_free(&b);
    burn_config_free(&s2);
}

Test(ssl_train, byol_resumes_bit_for_bit_and_the_student_is_evaluable, .timeout = 90) {
    loop_resume_and_eval("byol");
}

Test(ssl_train, moco_resumes_bit_for_bit_and_the_student_is_evaluable, .timeout = 90) {
    loop_resume_and_eval("moco");
}

Test(ssl_train, init_from_another_method_is_a_config_error, .timeout = 60) {
    char *d = tmpdir("cross"), *d2 = tmpdir("cross2"), kv[512];
    burn_config c;
    tiny(&c, "moco", d);
    set(&c, "train.max_steps=1");
    burn_train_result r;
    cr_assert_eq(burn_ssl_train(&c, burn_cpu_backend(), 0, &r), 0);
    free(r.final_checkpoint);
    burn_config b;
    tiny(&b, "byol", d2);
    snprintf(kv, sizeof kv, "train.init_from=%s", d);
    set(&b, kv);
    cr_assert_eq(burn_ssl_train(&b, burn_cpu_backend(), 0, &r), 2);
    free(r.final_checkpoint);
    free(d), free(d2);
    burn_config_free(&c);
    burn_config_free(&b);
}

/* ---- S2-BNN: a frozen pretrained teacher head ---- */

/* A head file: every teacher_head.* tensor of m with fresh values (variances positive), or
 * all but the tensor named `skip`. */
static void write_head_file(const burn_model *m, const char *path, const char *skip,
                            float *values /* [m->params.total], filled */) {
    burn_st_writer w;
    burn_st_writer_init(&w);
    for (int i = 0; i < m->params.n; i++) {
        const burn_param *p = &m->params.p[i];
        if (!has_prefix(p->name, "teacher_head.")) continue;
        int var = strstr(p->name, "running_var") != NULL;
        tu_fill(values + p->offset, p->numel, 500 + i, var ? 0.5f : -0.5f, var ? 2.0f : 0.5f);
        if (skip && strcmp(p->name, skip) == 0) continue;
        burn_st_add(&w, p->name, BURN_F32, p->ndim, p->shape, values + p->offset);
    }
    cr_assert_eq(burn_st_save(&w, path), 0, "%s", burn_error());
    burn_st_writer_free(&w);
}

Test(s2bnn, head_init_loads_the_head_which_a_frozen_step_never_changes, .timeout = 60) {
    burn_config c;
    tiny(&c, "burn", "/tmp/unused");
    set(&c, "teacher.head_trainable=false");
    const burn_backend *be = burn_cpu_backend();
    burn_model m;
    int N = 8;
    cr_assert_eq(burn_model_init(&m, &c, be, N), 0, "%s", burn_error());
    cr_assert_eq(burn_model_load_teacher(&m, c.teacher_checkpoint), 0, "%s", burn_error());
    char *path = tu_tmp_path("head.safetensors");
    int64_t total = m.params.total, T = m.params.trainable;
    float *want = calloc(total, 4), *start = malloc(total * 4);
    write_head_file(&m, path, NULL, want);
    cr_assert_eq(burn_model_init_teacher_head(&m, path), 0, "%s", burn_error());
    memcpy(start, m.params.data, total * 4);
    int heads = 0;
    for (int i = 0; i < m.params.n; i++) {
        const burn_param *p = &m.params.p[i];
        if (!has_prefix(p->name, "teacher_head.")) continue;
        heads++;
        cr_assert(memcmp(m.params.data + p->offset, want + p->offset, p->numel * 4) == 0,
                  "%s is not the file's", p->name);
    }
    cr_assert_eq(heads, 8); /* fc1 w/b, BN weight/bias/mean/var, fc2 w/b */

    /* KL only (λ = 0) against the frozen head; Adam stops before the teacher head as
     * src/train/train.c does when teacher.head_trainable = false */
    int64_t head_begin = m.params.p[burn_params_find(&m.params, "teacher_head.0.weight")].offset;
    float *v1 = malloc(N * 3 * 32 * 32 * 4), *v2 = malloc(N * 3 * 32 * 32 * 4);
    float *am = calloc(T, 4), *av = calloc(T, 4);
    for (int step = 1; step <= 3; step++) {
        tu_fill(v1, N * 3 * 32 * 32, 70 + step, -2, 2);
        tu_fill(v2, N * 3 * 32 * 32, 80 + step, -2, 2);
        be->fill(m.params.grad, 0, T);
        burn_step_stats st;
        cr_assert_eq(burn_model_step(&m, v1, v2, 0.0f, &st), 0, "%s", burn_error());
        cr_assert(isfinite(st.loss));
        burn_adam_hparams h = {1e-2f, 0.9f, 0.999f, 1e-8f, 0, 1, 0, 0};
        burn_adam_prepare(&h, step);
        be->adam_step(m.params.data, m.params.grad, am, av, head_begin, h);
    }
    for (int i = 0; i < m.params.n; i++) {
        const burn_param *p = &m.params.p[i];
        if (has_prefix(p->name, "teacher_head."))
            cr_assert(memcmp(m.params.data + p->offset, want + p->offset, p->numel * 4) == 0,
                      "%s changed", p->name);
    }
    int moved = 0, tensors = 0;
    for (int i = 0; i < m.params.n; i++) {
        const burn_param *p = &m.params.p[i];
        if (p->kind != BURN_PARAM_TRAINABLE || !has_prefix(p->name, "student.")) continue;
        tensors++;
        moved += memcmp(m.params.data + p->offset, start + p->offset, p->numel * 4) != 0;
    }
    cr_assert_geq(moved, tensors - 1, "student: %d of %d tensors moved", moved, tensors);
    unlink(path);
    free(path), free(want), free(start), free(v1), free(v2), free(am), free(av);
    burn_model_free(&m);
    burn_config_free(&c);
}

Test(s2bnn, head_init_reads_a_run_dir_and_rejects_incomplete_files, .timeout = 60) {
    burn_config c;
    tiny(&c, "burn", "/tmp/unused");
    const burn_backend *be = burn_cpu_backend();
    burn_model src, dst;
    cr_assert_eq(burn_model_init(&src, &c, be, 4), 0, "%s", burn_error());
    set(&c, "run.seed=77"); /* another random head to overwrite */
    cr_assert_eq(burn_model_init(&dst, &c, be, 4), 0, "%s", burn_error());
    /* a finished run's checkpoint (the trained classifier of a BURN run) */
    char *dir = tmpdir("s2bnn-run");
    cr_assert_eq(burn_mkdirs(dir), 0, "%s", burn_error());
    burn_ckpt_state st = {.step = 5, .micro_step = 5, .stage = 1, .kind = "burn"};
    cr_assert_eq(burn_ckpt_save(dir, &src.params, NULL, NULL, &st, &c, 1, 0, NULL), 0, "%s",
                 burn_error());
    cr_assert_eq(burn_model_init_teacher_head(&dst, dir), 0, "%s", burn_error());
    for (int i = 0; i < dst.params.n; i++) {
        const burn_param *p = &dst.params.p[i];
        int head = has_prefix(p->name, "teacher_head.");
        int same = memcmp(dst.params.data + p->offset, src.params.data + p->offset,
                          p->numel * 4) == 0;
        if (head) cr_assert(same, "%s not loaded", p->name);
        if (!head && p->kind == BURN_PARAM_TRAINABLE && p->init == BURN_INIT_KAIMING_NORMAL)
            cr_assert(!same, "%s loaded but is not part of the teacher head", p->name);
    }
    /* a file without the BN running variance: an error naming it, nothing changed */
    char *path = tu_tmp_path("head-part.safetensors");
    float *scratch = calloc(dst.params.total, 4), *keep = malloc(dst.params.total * 4);
    write_head_file(&dst, path, "teacher_head.1.running_var", scratch);
    memcpy(keep, dst.params.data, dst.params.total * 4);
    cr_assert_eq(burn_model_init_teacher_head(&dst, path), -1);
    cr_assert(strstr(burn_error(), "teacher_head.1.running_var"), "%s", burn_error());
    cr_assert(strstr(burn_error(), "teacher.head_init"), "%s", burn_error());
    cr_assert(memcmp(keep, dst.params.data, dst.params.total * 4) == 0);
    cr_assert_eq(burn_model_init_teacher_head(&dst, "/nonexistent/head.safetensors"), -1);
    cr_assert(strstr(burn_error(), "teacher.head_init"), "%s", burn_error());
    unlink(path);
    free(path), free(scratch), free(keep), free(dir);
    burn_model_free(&src);
    burn_model_free(&dst);
    burn_config_free(&c);
}
