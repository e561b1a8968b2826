/* test_parity.c — one full BURN step against the PyTorch reference (tools/reference/,
 * fixtures in tests/fixtures/burn_step_stage{1,2}.safetensors): teacher features, student
 * features and logits, the loss terms, EVERY parameter gradient (student, student head,
 * teacher head) and the BN running statistics after the step, for stage 1 (binary
 * activations) and stage 2 (binary weights too). Tolerance: max|burn − torch| / max|torch|
 * <= 1e-4 per tensor, in FP32; the worst tensor is printed.
 * Structurally zero gradients (the bias of a Linear followed by train-mode BN: BN removes
 * the mean, so its gradient is 0 up to rounding, which BN's 1/std amplifies) have no scale
 * of their own: they are checked against the largest gradient instead (<= 1e-4 of it). */
#include <criterion/criterion.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/log.h"
#include "test_util.h"

#define TOL 1e-4

typedef struct parity {
    burn_st_file f;
    burn_config cfg;
    burn_model m;
    double worst, grad_scale; /* grad_scale: largest |reference gradient| */
    char worst_name[200], zero_names[1024];
    int compared;
} parity;

static void set(burn_config *c, const char *kv) {
    cr_assert_eq(burn_config_set(c, kv), 0, "%s", burn_error());
}

static void open_fixture(parity *p, int stage) {
    memset(p, 0, sizeof *p);
    char path[128];
    snprintf(path, sizeof path, "tests/fixtures/burn_step_stage%d.safetensors", stage);
    cr_assert_eq(burn_st_open(&p->f, path), 0, "%s", burn_error());
    burn_config_defaults(&p->cfg);
    const char *sets[] = {"model.width=0.0625", "model.stem_stride=2", "data.image_size=32",
                          "teacher.arch=resnet18", "teacher.width=0.0625",
                          "teacher.small_input=true", "head.hidden=64", "head.out=64",
                          "loss.temperature=0.2", "loss.fs=cosine", "binary.act_grad=clip",
                          "binary.weight_grad=identity"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) set(&p->cfg, sets[i]);
    set(&p->cfg, stage == 1 ? "model.stage=1" : "model.stage=2");
    cr_assert_str_eq(burn_st_meta(&p->f, "stage"), stage == 1 ? "1" : "2");
    burn_log_quiet = 1;
    for (int i = 0; i < p->f.n; i++)
        if (strncmp(p->f.tensors[i].name, "grad.", 5) == 0) {
            int64_t n = burn_numel(p->f.tensors[i].ndim, p->f.tensors[i].shape);
            float *g = malloc(n * 4);
            burn_st_read_f32(&p->f, p->f.tensors[i].name, g, n);
            for (int64_t k = 0; k < n; k++) p->grad_scale = fmax(p->grad_scale, fabs(g[k]));
            free(g);
        }
    cr_assert_eq(burn_model_init(&p->m, &p->cfg, burn_cpu_backend(), 4), 0, "%s", burn_error());
    cr_assert_eq(burn_params_load(&p->m.params, &p->f, "", 0), 0, "%s", burn_error());
    cr_assert_eq(burn_params_load(&p->m.teacher_params, &p->f, "", 0), 0, "%s", burn_error());
}

static void close_fixture(parity *p) {
    cr_log_info("worst of %d tensors: %s, relative error %.3g", p->compared, p->worst_name, p->worst);
    if (p->compared) printf("parity: worst of %d tensors: %s, relative error %.3g; structurally zero:%s\n",
           p->compared, p->worst_name, p->worst, p->zero_names);
    burn_model_free(&p->m);
    burn_config_free(&p->cfg);
    burn_st_close(&p->f);
}

/* Compare n floats (host) with fixture tensor `name`. */
static void compare(parity *p, const char *name, const float *got, int64_t n) {
    const burn_st_tensor *t = burn_st_find(&p->f, name);
    cr_assert_not_null(t, "fixture lacks %s", name);
    cr_assert_eq(burn_numel(t->ndim, t->shape), n, "%s: size", name);
    float *want = malloc(n * 4);
    cr_assert_eq(burn_st_read_f32(&p->f, name, want, n), 0, "%s", burn_error());
    double maxref = 0, maxdiff = 0;
    for (int64_t i = 0; i < n; i++) {
        maxref = fmax(maxref, fabs(want[i]));
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= maxdiff)) maxdiff = d;
    }
    double rel = maxdiff / (maxref + 1e-12);
    if (maxref < 1e-9 * p->grad_scale) { /* structurally zero (see the top of the file) */
        rel = maxdiff / p->grad_scale;
        snprintf(p->zero_names + strlen(p->zero_names),
                 sizeof p->zero_names - strlen(p->zero_names), " %s", name);
    }
    p->compared++;
    if (!(rel <= p->worst)) {
        p->worst = rel;
        snprintf(p->worst_name, sizeof p->worst_name, "%s", name);
    }
    cr_expect_leq(rel, TOL, "%s: relative error %.3g (max |ref| %.3g)", name, rel, maxref);
    free(want);
}

static float *upload_input(parity *p, const char *name, int64_t n) {
    float *h = malloc(n * 4), *d = p->m.be->alloc(n * 4);
    cr_assert_eq(burn_st_read_f32(&p->f, name, h, n), 0, "%s", burn_error());
    p->m.be->upload(d, h, n * 4);
    free(h);
    return d;
}

static void run_parity(int stage) {
    parity p;
    open_fixture(&p, stage);
    burn_model *m = &p.m;
    int64_t n_in = 4 * 3 * 32 * 32;
    float *v1 = upload_input(&p, "input.v1", n_in), *v2 = upload_input(&p, "input.v2", n_in);
    float lambda = (float)atof(burn_st_meta(&p.f, "lambda"));

    /* forwards alone first (eval teacher, train student on view 1), on a copy of the state */
    int Ft = m->teacher.feature_dim, Fs = m->student.feature_dim, D = m->student_head.out;
    float *feat = malloc(4 * 4 * (Ft > D ? (Ft > Fs ? Ft : Fs) : (D > Fs ? D : Fs)));
    burn_resnet_forward_eval(m->trun, &m->teacher_params, v1, m->ft[0]);
    m->be->download(feat, m->ft[0], 4 * Ft * 4);
    compare(&p, "out.feat_t1", feat, 4 * Ft);
    const float *fs1, *s1;
    burn_reactnet_prepare(m->srun, &m->params);
    cr_assert_eq(burn_reactnet_forward(m->srun, &m->params, v1, 1, &fs1), 0);
    m->be->download(feat, fs1, 4 * Fs * 4);
    compare(&p, "out.feat_s1", feat, 4 * Fs);
    cr_assert_eq(burn_head_forward(m->shrun, &m->params, fs1, 1, &s1), 0);
    m->be->download(feat, s1, 4 * D * 4);
    compare(&p, "out.s1", feat, 4 * D);
    free(feat);
    /* that forward moved the running statistics: reload, then the real step */
    cr_assert_eq(burn_params_load(&m->params, &p.f, "", 0), 0, "%s", burn_error());
    burn_step_stats st;
    cr_assert_eq(burn_model_step(m, v1, v2, lambda, &st), 0, "%s", burn_error());
    float loss = (float)st.loss, kl12 = (float)st.kl[0], fs12 = (float)st.fs[0];
    float kl21 = (float)st.kl[1], fs21 = (float)st.fs[1];
    compare(&p, "out.loss", &loss, 1);
    compare(&p, "out.kl_12", &kl12, 1);
    compare(&p, "out.fs_12", &fs12, 1);
    compare(&p, "out.kl_21", &kl21, 1);
    compare(&p, "out.fs_21", &fs21, 1);

    float *grad = malloc(m->params.trainable * 4), *data = malloc(m->params.total * 4);
    m->be->download(grad, m->params.grad, m->params.trainable * 4);
    m->be->download(data, m->params.data, m->params.total * 4);
    int ngrad = 0, nstats = 0;
    for (int i = 0; i < m->params.n; i++) {
        const burn_param *q = &m->params.p[i];
        char name[256];
        if (q->kind == BURN_PARAM_TRAINABLE) {
            snprintf(name, sizeof name, "grad.%s", q->name);
            compare(&p, name, grad + q->offset, q->numel);
            ngrad++;
        } else {
            snprintf(name, sizeof name, "after.%s", q->name);
            compare(&p, name, data + q->offset, q->numel);
            nstats++;
        }
    }
    cr_assert_gt(ngrad, 100, "every trainable tensor compared");
    cr_assert_gt(nstats, 50, "every running statistic compared");
    free(grad), free(data);
    m->be->free(v1), m->be->free(v2);
    close_fixture(&p);
}

Test(parity, burn_step_stage1_binary_activations, .timeout = 60) { run_parity(1); }
Test(parity, burn_step_stage2_binary_weights, .timeout = 60) { run_parity(2); }

Test(parity, teacher_checkpoint_errors) {
    parity p;
    open_fixture(&p, 1);
    cr_assert_neq(burn_model_load_teacher(&p.m, ""), 0);
    cr_assert(strstr(burn_error(), "never trains against a random one"), "%s", burn_error());
    cr_assert_neq(burn_model_load_teacher(&p.m, "tests/fixtures/nope.safetensors"), 0);
    cr_assert(strstr(burn_error(), "cannot open"), "%s", burn_error());
    /* the fixture holds "teacher.*" of the right shapes: accepted */
    cr_assert_eq(burn_model_load_teacher(&p.m, "tests/fixtures/burn_step_stage1.safetensors"), 0,
                 "%s", burn_error());
    burn_model_free(&p.m);
    /* a wider teacher than the file: refused, naming the tensor */
    set(&p.cfg, "teacher.width=0.125");
    cr_assert_eq(burn_model_init(&p.m, &p.cfg, burn_cpu_backend(), 4), 0, "%s", burn_error());
    cr_assert_neq(burn_model_load_teacher(&p.m, "tests/fixtures/burn_step_stage1.safetensors"), 0);
    cr_assert(strstr(burn_error(), "teacher.conv1.weight': shape 4x3x3x3, the model expects shape 8x3x3x3"),
              "%s", burn_error());
    close_fixture(&p);
}
