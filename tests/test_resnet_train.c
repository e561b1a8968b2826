/* test_resnet_train.c — the trainable ResNet (src/nn/net_resnet_train.c) against PyTorch
 * (tools/reference/make_resnet_fixture.py, tests/fixtures/resnet_train.safetensors): the
 * train-mode feature, EVERY parameter gradient, the input gradient and the BN running
 * statistics after the forward, for ResNet-18 (basic blocks, small-input stem) and ResNet-50
 * (bottlenecks, 7x7/2 stem + max pool). Tolerance per tensor, burn in FP32 against the float64
 * reference: max|burn − torch| / max|torch| <= max(1e-4, 10·e32), e32 = the WORST such error
 * of PyTorch's own FP32 run over all tensors of that net (stored in the fixture). Tiny
 * ResNet-50s are ill-conditioned in FP32 (2-channel BNs over few values amplify rounding), so
 * two correct FP32 implementations differ by a few e32 on single tensors; a bug gives O(1).
 * For the committed fixture: ResNet-18 1e-4 (e32 3.9e-6), ResNet-50 6.9e-4 (e32 6.9e-5).
 * Also: gradients accumulate over calls, and the eval-mode forward equals the frozen
 * teacher's burn_resnet_forward_eval. */
#include <criterion/criterion.h>

#include "burn/check.h"
#include "burn/log.h"
#include "burn/net.h"
#include "burn/safetensors.h"
#include "test_util.h"

#define TOL 1e-4
#define BATCH 4

typedef struct rcase {
    burn_st_file f;
    burn_resnet net;
    burn_params ps;
    burn_resnet_train_run *run;
    const burn_backend *be;
    char tag[8];
    float *x, *dfeat;
    int64_t n_in;
    double worst, e32; /* e32: PyTorch FP32's worst relative error on this net */
    char worst_name[160];
} rcase;

static float *read_host(const burn_st_file *f, const char *name, int64_t n) {
    float *h = malloc((size_t)n * 4);
    cr_assert_eq(burn_st_read_f32(f, name, h, n), 0, "%s", burn_error());
    return h;
}

static void open_case(rcase *c, const char *tag, int depth, double width, int small, int S) {
    memset(c, 0, sizeof *c);
    burn_log_quiet = 1;
    c->be = burn_cpu_backend();
    snprintf(c->tag, sizeof c->tag, "%s", tag);
    cr_assert_eq(burn_st_open(&c->f, "tests/fixtures/resnet_train.safetensors"), 0, "%s",
                 burn_error());
    burn_resnet_config rc = {depth, width, S, small};
    cr_assert_eq(burn_resnet_init(&c->net, &rc), 0, "%s", burn_error());
    burn_params_init_registry(&c->ps);
    burn_resnet_register(&c->net, &c->ps, "", 1);
    burn_params_finalize(&c->ps, c->be);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s.", tag);
    cr_assert_eq(burn_params_load(&c->ps, &c->f, prefix, 0), 0, "%s", burn_error());
    c->run = burn_resnet_train_run_new(&c->net, c->be, BATCH);
    cr_assert_not_null(c->run, "%s", burn_error());
    char name[64];
    c->n_in = (int64_t)BATCH * 3 * S * S;
    snprintf(name, sizeof name, "%s.input", tag);
    c->x = read_host(&c->f, name, c->n_in);
    snprintf(name, sizeof name, "%s.dfeature", tag);
    c->dfeat = read_host(&c->f, name, (int64_t)BATCH * c->net.feature_dim);
    snprintf(name, sizeof name, "%s.f32err.", tag);
    int found = 0;
    for (int i = 0; i < c->f.n; i++)
        if (strncmp(c->f.tensors[i].name, name, strlen(name)) == 0) {
            float e;
            cr_assert_eq(burn_st_read_f32(&c->f, c->f.tensors[i].name, &e, 1), 0);
            c->e32 = fmax(c->e32, e);
            found++;
        }
    cr_assert_gt(found, 10, "fixture lacks the %s* tensors", name);
}

static void close_case(rcase *c) {
    if (c->worst_name[0])
        printf("resnet_train %s: worst tensor %s, relative error %.3g (PyTorch FP32 %.3g)\n",
               c->tag, c->worst_name, c->worst, c->e32);
    burn_resnet_train_run_free(c->run);
    burn_params_free(&c->ps);
    burn_st_close(&c->f);
    free(c->x);
    free(c->dfeat);
}

/* got[n] against fixture tensor "<tag>.<name>" */
static void compare(rcase *c, const char *name, const float *got, int64_t n) {
    char full[200];
    snprintf(full, sizeof full, "%s.%s", c->tag, name);
    const burn_st_tensor *t = burn_st_find(&c->f, full);
    cr_assert_not_null(t, "fixture lacks %s", full);
    cr_assert_eq(burn_numel(t->ndim, t->shape), n, "%s: size", full);
    float *want = read_host(&c->f, full, n);
    double maxref = 0, maxdiff = 0;
    for (int64_t i = 0; i < n; i++) {
        maxref = fmax(maxref, fabs(want[i]));
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= maxdiff)) maxdiff = d;
    }
    double rel = maxdiff / (maxref + 1e-30);
    if (!(rel <= c->worst)) {
        c->worst = rel;
        snprintf(c->worst_name, sizeof c->worst_name, "%.159s", full);
    }
    double tol = fmax(TOL, 10.0 * c->e32);
    cr_expect_leq(rel, tol, "%s: relative error %.3g > %.3g (max |ref| %.3g)", full, rel, tol,
                  maxref);
    free(want);
}

static void run_case(const char *tag, int depth, double width, int small, int S) {
    rcase c;
    open_case(&c, tag, depth, width, small, S);
    const float *feat;
    cr_assert_eq(burn_resnet_train_forward(c.run, &c.ps, c.x, 1, &feat), 0, "%s", burn_error());
    compare(&c, "out.feature", feat, (int64_t)BATCH * c.net.feature_dim);
    float *dx = malloc((size_t)c.n_in * 4);
    burn_resnet_train_backward(c.run, &c.ps, c.dfeat, dx);
    compare(&c, "grad.input", dx, c.n_in);
    int ngrad = 0, nstats = 0;
    for (int i = 0; i < c.ps.n; i++) {
        const burn_param *p = &c.ps.p[i];
        char name[200];
        int stat = strstr(p->name, "running_") != NULL;
        snprintf(name, sizeof name, "%s.%s", stat ? "after" : "grad", p->name);
        compare(&c, name, stat ? burn_param_data(&c.ps, i) : burn_param_grad(&c.ps, i),
                p->numel);
        if (stat) nstats++;
        else ngrad++;
    }
    cr_assert_eq(ngrad + nstats, c.ps.n);
    cr_assert_gt(ngrad, 40, "every trainable tensor compared (%d)", ngrad);
    free(dx);
    close_case(&c);
}

Test(resnet_train, resnet18_small_input_matches_pytorch) { run_case("r18", 18, 1.0 / 16, 1, 16); }
Test(resnet_train, resnet50_imagenet_stem_matches_pytorch) { run_case("r50", 50, 1.0 / 32, 0, 48); }

/* A second forward/backward on the same batch adds the same gradients again (train-mode
 * output does not depend on the running statistics), and dx = NULL is allowed. */
Test(resnet_train, gradients_accumulate) {
    rcase c;
    open_case(&c, "r18", 18, 1.0 / 16, 1, 16);
    const float *feat;
    cr_assert_eq(burn_resnet_train_forward(c.run, &c.ps, c.x, 1, &feat), 0);
    burn_resnet_train_backward(c.run, &c.ps, c.dfeat, NULL);
    float *once = malloc((size_t)c.ps.trainable * 4);
    memcpy(once, c.ps.grad, (size_t)c.ps.trainable * 4);
    cr_assert_eq(burn_resnet_train_forward(c.run, &c.ps, c.x, 1, &feat), 0);
    burn_resnet_train_backward(c.run, &c.ps, c.dfeat, NULL);
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < c.ps.trainable; i++) {
        worst = fmax(worst, fabs(c.ps.grad[i] - 2.0 * once[i]));
        scale = fmax(scale, fabs(once[i]));
    }
    cr_assert_gt(scale, 0);
    cr_assert_leq(worst, 1e-5 * scale, "second backward did not add the same gradients: %g",
                  worst / scale);
    free(once);
    close_case(&c);
}

/* Eval mode (running statistics) equals the frozen teacher's forward, bit for bit: the same
 * layer calls in the same order. */
static void eval_matches(const char *tag, int depth, double width, int small, int S) {
    rcase c;
    open_case(&c, tag, depth, width, small, S);
    int64_t nf = (int64_t)BATCH * c.net.feature_dim;
    const float *feat;
    cr_assert_eq(burn_resnet_train_forward(c.run, &c.ps, c.x, 0, &feat), 0);
    burn_resnet_run *er = burn_resnet_run_new(&c.net, c.be, BATCH);
    cr_assert_not_null(er);
    float *want = malloc((size_t)nf * 4);
    burn_resnet_forward_eval(er, &c.ps, c.x, want);
    double maxref = 0;
    for (int64_t i = 0; i < nf; i++) maxref = fmax(maxref, fabs(want[i]));
    cr_assert_gt(maxref, 0);
    cr_assert_leq(tu_max_rel_f(feat, want, nf, maxref), 1e-6);
    free(want);
    burn_resnet_run_free(er);
    close_case(&c);
}

Test(resnet_train, eval_mode_equals_frozen_forward) {
    eval_matches("r18", 18, 1.0 / 16, 1, 16);
    eval_matches("r50", 50, 1.0 / 32, 0, 48);
}

/* ResNet-34 (no fixture: the same basic-block code as ResNet-18 with other block counts):
 * the eval-mode forward equals the frozen forward, and a train-mode backward reaches every
 * trainable tensor (no gradient left at zero). */
Test(resnet_train, resnet34_runs_every_block) {
    burn_log_quiet = 1;
    const burn_backend *be = burn_cpu_backend();
    burn_resnet net;
    burn_resnet_config rc = {34, 1.0 / 32, 16, 1};
    cr_assert_eq(burn_resnet_init(&net, &rc), 0, "%s", burn_error());
    cr_assert_eq(net.nblocks, 16);
    burn_params ps;
    burn_params_init_registry(&ps);
    burn_resnet_register(&net, &ps, "", 1);
    burn_params_finalize(&ps, be);
    burn_params_init(&ps, 34);
    int64_t nx = (int64_t)BATCH * 3 * 16 * 16, nf = (int64_t)BATCH * net.feature_dim;
    float *x = malloc(nx * 4), *df = malloc(nf * 4), *want = malloc(nf * 4);
    tu_fill(x, nx, 1, -2, 2);
    tu_fill(df, nf, 2, -1, 1);
    burn_resnet_train_run *r = burn_resnet_train_run_new(&net, be, BATCH);
    burn_resnet_run *er = burn_resnet_run_new(&net, be, BATCH);
    cr_assert(r && er);
    const float *feat;
    cr_assert_eq(burn_resnet_train_forward(r, &ps, x, 0, &feat), 0);
    burn_resnet_forward_eval(er, &ps, x, want);
    cr_assert_eq(memcmp(feat, want, (size_t)nf * 4), 0, "eval forward differs");
    cr_assert_eq(burn_resnet_train_forward(r, &ps, x, 1, &feat), 0);
    burn_resnet_train_backward(r, &ps, df, NULL);
    for (int i = 0; i < ps.n; i++) {
        const float *g = burn_param_grad(&ps, i);
        if (!g) continue;
        double s = 0;
        for (int64_t k = 0; k < ps.p[i].numel; k++) s += fabs(g[k]);
        cr_assert_gt(s, 0, "%s got no gradient", ps.p[i].name);
    }
    burn_resnet_train_run_free(r);
    burn_resnet_run_free(er);
    burn_params_free(&ps);
    free(x), free(df), free(want);
}
