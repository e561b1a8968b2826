/* selftest.c — one BURN step of a PyTorch fixture on a backend, compared with the fixture or
 * with another backend (see selftest.h). */
#include "burn/selftest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/log.h"
#include "burn/safetensors.h"

/* Everything a step produces, downloaded to the host. */
typedef struct step_result {
    int n;
    char **names;
    float **values;
    int64_t *sizes;
} step_result;

static void add(step_result *r, const char *name, const float *host, int64_t n) {
    r->names = burn_xrealloc(r->names, sizeof(char *) * (size_t)(r->n + 1));
    r->values = burn_xrealloc(r->values, sizeof(float *) * (size_t)(r->n + 1));
    r->sizes = burn_xrealloc(r->sizes, sizeof(int64_t) * (size_t)(r->n + 1));
    r->names[r->n] = burn_xstrdup(name);
    r->values[r->n] = burn_xmalloc((size_t)(n ? n : 1) * sizeof(float));
    memcpy(r->values[r->n], host, (size_t)n * sizeof(float));
    r->sizes[r->n] = n;
    r->n++;
}

static void add_device(step_result *r, const burn_backend *be, const char *name, const float *d,
                       int64_t n) {
    float *h = burn_xmalloc((size_t)(n ? n : 1) * sizeof(float));
    be->download(h, d, (size_t)n * sizeof(float));
    add(r, name, h, n);
    free(h);
}

static void free_result(step_result *r) {
    for (int i = 0; i < r->n; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->names), free(r->values), free(r->sizes);
    memset(r, 0, sizeof *r);
}

#define SELFTEST_LR 1e-3f /* of the Adam update after the step */
/* A gradient tensor under this fraction of the largest gradient is structurally zero (bias
 * before BN): float rounding of a sum that is 0 in exact arithmetic. */
#define STRUCTURAL_ZERO 1e-5

static int set(burn_config *c, const char *kv) { return burn_config_set(c, kv); }

/* The fixture's configuration (its metadata describes the networks). */
static int fixture_config(const burn_st_file *f, burn_config *c) {
    burn_config_defaults(c);
    const char *stage = burn_st_meta(f, "stage");
    if (!stage || (strcmp(stage, "1") && strcmp(stage, "2"))) {
        burn_error_set("%s: not a BURN step fixture (no stage metadata)", f->path);
        return -1;
    }
    char kv[128], fs_on[64];
    snprintf(kv, sizeof kv, "model.stage=%s", stage);
    const char *where = burn_st_meta(f, "fs_on"); /* older fixtures: outputs */
    snprintf(fs_on, sizeof fs_on, "loss.fs_on=%s", where ? where : "outputs");
    const char *sets[] = {"model.width=0.0625", "model.stem_stride=2", "data.image_size=32",
                          "teacher.arch=resnet18", "teacher.width=0.0625",
                          "teacher.small_input=true", "head.hidden=64", "head.out=64",
                          "loss.temperature=0.2", "loss.fs=cosine", "binary.act_grad=clip",
                          "binary.weight_grad=identity", kv, fs_on};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (set(c, sets[i]) != 0) return -1;
    return 0;
}

static int upload_input(const burn_st_file *f, const burn_backend *be, const char *name,
                        float **dev, int64_t n) {
    float *h = burn_xmalloc((size_t)n * sizeof(float));
    if (burn_st_read_f32(f, name, h, n) != 0) {
        free(h);
        return -1;
    }
    *dev = be->alloc((size_t)n * sizeof(float));
    be->upload(*dev, h, (size_t)n * sizeof(float));
    free(h);
    return 0;
}

/* Run the fixture's step on be; names follow the fixture ("out.*", "grad.*", "after.*"),
 * plus "updated.*" (weights after one Adam step), which only backend comparisons use. */
static int run_step(const burn_st_file *f, const burn_backend *be, step_result *r) {
    burn_config cfg;
    burn_model m;
    float *v1 = NULL, *v2 = NULL;
    int rc = -1;
    memset(r, 0, sizeof *r);
    if (fixture_config(f, &cfg) != 0) {
        burn_config_free(&cfg);
        return -1;
    }
    int quiet = burn_log_quiet;
    burn_log_quiet = 1;
    int built = burn_model_init(&m, &cfg, be, 4) == 0;
    burn_log_quiet = quiet;
    if (!built) goto out_cfg;
    if (burn_params_load(&m.params, f, "", 0) || burn_params_load(&m.teacher_params, f, "", 0))
        goto out;
    int64_t n_in = 4 * 3 * 32 * 32;
    if (upload_input(f, be, "input.v1", &v1, n_in) || upload_input(f, be, "input.v2", &v2, n_in))
        goto out;
    int Ft = m.teacher.feature_dim, Fs = m.student.feature_dim, D = m.student_head.out;
    /* forwards alone (the running statistics they move are reloaded below) */
    burn_resnet_forward_eval(m.trun, &m.teacher_params, v1, m.ft[0]);
    add_device(r, be, "out.feat_t1", m.ft[0], 4 * Ft);
    const float *fs1, *s1;
    burn_reactnet_prepare(m.srun, &m.params);
    if (burn_reactnet_forward(m.srun, &m.params, v1, 1, &fs1)) goto out;
    add_device(r, be, "out.feat_s1", fs1, 4 * Fs);
    if (burn_head_forward(m.shrun, &m.params, fs1, 1, &s1)) goto out;
    add_device(r, be, "out.s1", s1, 4 * D);
    if (burn_params_load(&m.params, f, "", 0)) goto out;
    const char *lam = burn_st_meta(f, "lambda");
    burn_step_stats st;
    if (burn_model_step(&m, v1, v2, lam ? (float)atof(lam) : 0.8f, &st)) goto out;
    float scalars[5] = {(float)st.loss, (float)st.kl[0], (float)st.fs[0], (float)st.kl[1],
                        (float)st.fs[1]};
    const char *snames[5] = {"out.loss", "out.kl_12", "out.fs_12", "out.kl_21", "out.fs_21"};
    for (int i = 0; i < 5; i++) add(r, snames[i], &scalars[i], 1);
    int64_t T = m.params.trainable;
    float *grad = burn_xmalloc((size_t)T * sizeof(float));
    float *data = burn_xmalloc((size_t)m.params.total * sizeof(float));
    be->download(grad, m.params.grad, (size_t)T * sizeof(float));
    be->download(data, m.params.data, (size_t)m.params.total * sizeof(float));
    char name[300];
    for (int i = 0; i < m.params.n; i++) {
        const burn_param *p = &m.params.p[i];
        int train = p->kind == BURN_PARAM_TRAINABLE;
        snprintf(name, sizeof name, "%s.%s", train ? "grad" : "after", p->name);
        add(r, name, (train ? grad : data) + p->offset, p->numel);
    }
    /* one Adam update */
    float *am = be->alloc((size_t)T * sizeof(float)), *av = be->alloc((size_t)T * sizeof(float));
    be->fill(am, 0, T);
    be->fill(av, 0, T);
    burn_adam_hparams h = {SELFTEST_LR, 0.9f, 0.999f, 1e-8f, 0.0f, 1.0f, 0, 0};
    burn_adam_prepare(&h, 1);
    be->adam_step(m.params.data, m.params.grad, am, av, T, h);
    be->download(data, m.params.data, (size_t)m.params.total * sizeof(float));
    for (int i = 0; i < m.params.n; i++) {
        const burn_param *p = &m.params.p[i];
        if (p->kind != BURN_PARAM_TRAINABLE) continue;
        snprintf(name, sizeof name, "updated.%s", p->name);
        add(r, name, data + p->offset, p->numel);
    }
    be->free(am), be->free(av);
    free(grad), free(data);
    rc = 0;
out:
    if (v1) be->free(v1);
    if (v2) be->free(v2);
    burn_model_free(&m);
out_cfg:
    burn_config_free(&cfg);
    if (rc != 0) free_result(r);
    return rc;
}

double burn_adam_first_step_maxdiff(const float *got, const float *want, const float *grad_ref,
                                    int64_t n, float lr, double g_zero, int64_t *undetermined) {
    double maxdiff = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (fabs(grad_ref[i]) <= g_zero) {
            count++;
            if (!(d <= 2.0 * lr * (1 + 1e-3) + 1e-6 * fabs(want[i]))) maxdiff = INFINITY;
        } else if (!(d <= maxdiff)) {
            maxdiff = d; /* NaN counts as the worst */
        }
    }
    if (undetermined) *undetermined = count;
    return maxdiff;
}

static double max_abs(const float *x, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static double max_abs_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN counts as the worst */
    }
    return m;
}

/* The reference gradient of "updated.X" (its "grad.X"), or NULL. */
static const float *grad_of(const step_result *r, const char *updated_name) {
    for (int i = 0; i < r->n; i++)
        if (strncmp(r->names[i], "grad.", 5) == 0 && strcmp(r->names[i] + 5, updated_name + 8) == 0)
            return r->values[i];
    return NULL;
}

int burn_selftest_fixture(const char *fixture, const burn_backend *be,
                          const burn_backend *against, double tol, FILE *out,
                          burn_selftest_report *rep) {
    memset(rep, 0, sizeof *rep);
    burn_st_file f;
    if (burn_st_open(&f, fixture) != 0) return -1;
    step_result got, ref = {0};
    if (run_step(&f, be, &got) != 0 || (against && run_step(&f, against, &ref) != 0)) {
        burn_st_close(&f);
        return -1;
    }
    /* scale for structurally zero gradients: the largest reference gradient */
    double gscale = 0;
    for (int i = 0; i < got.n; i++) {
        if (strncmp(got.names[i], "grad.", 5) != 0) continue;
        const float *want = NULL;
        float *tmp = NULL;
        if (against) {
            want = ref.values[i];
        } else if (burn_st_find(&f, got.names[i])) {
            tmp = burn_xmalloc((size_t)got.sizes[i] * sizeof(float));
            if (burn_st_read_f32(&f, got.names[i], tmp, got.sizes[i]) == 0) want = tmp;
        }
        for (int64_t k = 0; want && k < got.sizes[i]; k++) gscale = fmax(gscale, fabs(want[k]));
        free(tmp);
    }
    for (int i = 0; i < got.n; i++) {
        float *want = NULL;
        if (against) {
            want = ref.values[i];
        } else {
            if (!burn_st_find(&f, got.names[i])) continue; /* "updated.*": backends only */
            want = burn_xmalloc((size_t)got.sizes[i] * sizeof(float));
            if (burn_st_read_f32(&f, got.names[i], want, got.sizes[i]) != 0) {
                free(want);
                free_result(&got);
                burn_st_close(&f);
                return -1;
            }
        }
        const char *name = got.names[i];
        int64_t n = got.sizes[i], undetermined = 0;
        double maxref = max_abs(want, n), e;
        const float *gref = against && strncmp(name, "updated.", 8) == 0 ? grad_of(&ref, name) : NULL;
        int zero = strncmp(name, "grad.", 5) == 0 && maxref < STRUCTURAL_ZERO * gscale;
        if (gref) {
            /* what the gradient comparison resolves: tol of the tensor's largest gradient, or
             * of the largest gradient overall for a structurally zero one */
            double gmax = max_abs(gref, n);
            double gtol = tol * (gmax < STRUCTURAL_ZERO * gscale ? gscale : gmax);
            e = burn_adam_first_step_maxdiff(got.values[i], want, gref, n, SELFTEST_LR, gtol,
                                             &undetermined) / (maxref + 1e-30);
        } else {
            e = max_abs_diff(got.values[i], want, n) / (zero ? gscale : maxref + 1e-30);
        }
        rep->compared++;
        int bad = !(e <= tol);
        rep->failed += bad;
        if (!(e <= rep->worst)) {
            rep->worst = e;
            snprintf(rep->worst_name, sizeof rep->worst_name, "%s", got.names[i]);
        }
        if (out)
            fprintf(out, "  %-58s %10.3g%s%s\n", name, e, zero ? " (vs largest gradient)" : "",
                    bad ? "  FAIL" : "");
        if (out && undetermined)
            fprintf(out, "    (%ld element(s) with a gradient of 0 within tolerance: Adam steps "
                    "them ±lr, compared within 2·lr)\n", (long)undetermined);
        if (!against) free(want);
    }
    free_result(&got);
    free_result(&ref);
    burn_st_close(&f);
    return 0;
}
