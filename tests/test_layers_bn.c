/* test_layers_bn.c — BatchNorm2d/1d on the CPU backend against PyTorch's formulas computed
 * directly in double: train-mode output, saved mean / inverse std, running-stat update
 * (momentum 0.1, unbiased variance), eval mode with the running statistics, backward (dx,
 * dgamma, dbeta) by central finite differences of Σ r·BN(x) in double, and the split into
 * statistics + finalize that synchronised BN relies on (two half batches = one batch).
 * Tolerances: forward 1e-5 relative to the output scale; gradients 1e-4 relative to the
 * gradient's scale (float backward vs double finite differences with h = 1e-4: truncation
 * ~1e-8, float rounding ~1e-6). */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/layers.h"
#include "test_layers_ref.h"

static const burn_backend *be;
static void setup(void) { be = burn_cpu_backend(); }
TestSuite(layers_bn, .init = setup);

typedef struct bn_case {
    int N, C, HW;
    float lo, hi; /* input range: an offset mean tests the Σx² − mean² cancellation */
} bn_case;

static const bn_case cases[] = {
    {3, 5, 63, -1, 1},  /* BatchNorm2d, 7×9 */
    {2, 3, 25, 10, 12}, /* mean 11, std 0.6 */
    {7, 11, 1, -2, 3},  /* BatchNorm1d */
    {3, 4, 1, -1, 1},   /* BatchNorm1d, 3 values per channel */
    {1, 6, 2, -1, 1},   /* 2 values per channel: the smallest batch train mode allows */
    {5, 1, 13, -3, -1},
};
#define NCASES (int)(sizeof cases / sizeof cases[0])

Test(layers_bn, train_forward_and_running_stats) {
    for (int k = 0; k < NCASES; k++) {
        const bn_case *q = &cases[k];
        burn_bn bn;
        cr_assert_eq(burn_bn_init(&bn, q->N, q->C, q->HW), 0);
        cr_assert_float_eq(bn.eps, 1e-5f, 0);
        cr_assert_float_eq(bn.momentum, 0.1f, 0);
        int64_t n = (int64_t)q->N * q->C * q->HW, cnt = (int64_t)q->N * q->HW;
        float *x = lr_rand(n, 10 + k, q->lo, q->hi), *g = lr_rand(q->C, 20 + k, 0.5f, 1.5f);
        float *b = lr_rand(q->C, 30 + k, -1, 1), *rm = lr_rand(q->C, 40 + k, -1, 1);
        float *rv = lr_rand(q->C, 50 + k, 0.5f, 2), *y = malloc(n * 4);
        float *mean = malloc(q->C * 4), *invstd = malloc(q->C * 4);
        double *rm0 = lr_to_double(rm, q->C), *rv0 = lr_to_double(rv, q->C);
        double *stats = malloc(burn_bn_stats_bytes(&bn));
        cr_assert_eq(burn_bn_stats_bytes(&bn), 2 * q->C * sizeof(double));

        cr_assert_eq(burn_bn_forward_train(be, &bn, y, mean, invstd, rm, rv, stats, x, g, b), 0);

        double *xd = lr_to_double(x, n), *gd = lr_to_double(g, q->C), *bd = lr_to_double(b, q->C);
        double *yr = lr_zeros(n), *mr = lr_zeros(q->C), *vr = lr_zeros(q->C);
        lr_bn_train(yr, mr, vr, xd, gd, bd, q->N, q->C, q->HW, 1e-5);
        double e = lr_err(y, yr, n);
        cr_assert_leq(e, 1e-5, "case %d: y err %.3g", k, e);
        for (int c = 0; c < q->C; c++) {
            /* PyTorch: running_mean = (1 − m)·running_mean + m·mean,
             *          running_var  = (1 − m)·running_var + m·var·n/(n − 1) */
            double rm_ref = 0.9 * rm0[c] + 0.1 * mr[c];
            double rv_ref = 0.9 * rv0[c] + 0.1 * vr[c] * cnt / (cnt - 1);
            double is_ref = 1 / sqrt(vr[c] + 1e-5);
            cr_assert_leq(fabs(mean[c] - mr[c]), 1e-6 * (fabs(mr[c]) + 1), "case %d mean", k);
            cr_assert_leq(fabs(invstd[c] - is_ref), 1e-5 * is_ref, "case %d invstd %g vs %g", k,
                          invstd[c], is_ref);
            cr_assert_leq(fabs(rm[c] - rm_ref), 1e-6 * (fabs(rm_ref) + 1), "case %d rmean", k);
            cr_assert_leq(fabs(rv[c] - rv_ref), 1e-5 * rv_ref, "case %d rvar %g vs %g", k, rv[c],
                          rv_ref);
        }
        free(x), free(g), free(b), free(rm), free(rv), free(y), free(mean), free(invstd);
        free(rm0), free(rv0), free(stats), free(xd), free(gd), free(bd), free(yr), free(mr),
            free(vr);
    }
}

Test(layers_bn, momentum_and_no_running_stats) {
    burn_bn bn;
    cr_assert_eq(burn_bn_init(&bn, 4, 3, 5), 0);
    bn.momentum = 0.3f;
    int64_t n = 60;
    float *x = lr_rand(n, 1, -1, 1), *g = lr_rand(3, 2, 0.5f, 1.5f), *b = lr_rand(3, 3, -1, 1);
    float rm[3] = {0.5f, -0.25f, 1}, rv[3] = {1, 2, 0.5f}, y1[60], y2[60], m[3], is[3];
    double stats[6], mr[3], vr[3], yr[60];
    cr_assert_eq(burn_bn_forward_train(be, &bn, y1, m, is, rm, rv, stats, x, g, b), 0);
    double *xd = lr_to_double(x, n), *gd = lr_to_double(g, 3), *bd = lr_to_double(b, 3);
    lr_bn_train(yr, mr, vr, xd, gd, bd, 4, 3, 5, 1e-5);
    double rm0[3] = {0.5, -0.25, 1}, rv0[3] = {1, 2, 0.5};
    for (int c = 0; c < 3; c++) {
        cr_assert_float_eq(rm[c], 0.7 * rm0[c] + 0.3 * mr[c], 1e-6);
        cr_assert_float_eq(rv[c], 0.7 * rv0[c] + 0.3 * vr[c] * 20 / 19, 1e-6);
    }
    /* no running statistics: same output, nothing else touched */
    cr_assert_eq(burn_bn_forward_train(be, &bn, y2, m, is, NULL, NULL, stats, x, g, b), 0);
    cr_assert_eq(memcmp(y1, y2, sizeof y1), 0);
    free(x), free(g), free(b), free(xd), free(gd), free(bd);
}

Test(layers_bn, eval_uses_running_stats) {
    for (int k = 0; k < NCASES; k++) {
        const bn_case *q = &cases[k];
        burn_bn bn;
        cr_assert_eq(burn_bn_init(&bn, q->N, q->C, q->HW), 0);
        int64_t n = (int64_t)q->N * q->C * q->HW;
        float *x = lr_rand(n, 60 + k, q->lo, q->hi), *g = lr_rand(q->C, 61 + k, -1.5f, 1.5f);
        float *b = lr_rand(q->C, 62 + k, -1, 1), *rm = lr_rand(q->C, 63 + k, q->lo, q->hi);
        float *rv = lr_rand(q->C, 64 + k, 0.01f, 3), *y = malloc(n * 4);
        burn_bn_forward_eval(be, &bn, y, x, g, b, rm, rv);
        double *yr = lr_zeros(n);
        for (int nn = 0; nn < q->N; nn++)
            for (int c = 0; c < q->C; c++)
                for (int i = 0; i < q->HW; i++) {
                    int64_t j = ((int64_t)nn * q->C + c) * q->HW + i;
                    yr[j] = ((double)x[j] - rm[c]) / sqrt((double)rv[c] + 1e-5) * g[c] + b[c];
                }
        double e = lr_err(y, yr, n);
        cr_assert_leq(e, 1e-5, "case %d: eval err %.3g", k, e);
        free(x), free(g), free(b), free(rm), free(rv), free(y), free(yr);
    }
}

/* L(x, gamma, beta) = Σ r·BN_train(x) in double */
typedef struct fd_ctx {
    const bn_case *q;
    double *x, *g, *b, *r, *y;
} fd_ctx;

static double bn_loss(void *p) {
    fd_ctx *c = p;
    lr_bn_train(c->y, NULL, NULL, c->x, c->g, c->b, c->q->N, c->q->C, c->q->HW, 1e-5);
    return lr_dot(c->r, c->y, (int64_t)c->q->N * c->q->C * c->q->HW);
}

Test(layers_bn, backward_finite_differences) {
    for (int k = 0; k < NCASES; k++) {
        const bn_case *q = &cases[k];
        burn_bn bn;
        cr_assert_eq(burn_bn_init(&bn, q->N, q->C, q->HW), 0);
        int64_t n = (int64_t)q->N * q->C * q->HW;
        float *x = lr_rand(n, 70 + k, q->lo, q->hi), *g = lr_rand(q->C, 71 + k, 0.5f, 1.5f);
        float *b = lr_rand(q->C, 72 + k, -1, 1), *r = lr_rand(n, 73 + k, -1, 1);
        float *y = malloc(n * 4), *m = malloc(q->C * 4), *is = malloc(q->C * 4);
        float *dx = malloc(n * 4), *dg = lr_rand(q->C, 74 + k, -1, 1);
        float *db = lr_rand(q->C, 75 + k, -1, 1);
        double *dg0 = lr_to_double(dg, q->C), *db0 = lr_to_double(db, q->C);
        double *stats = malloc(burn_bn_stats_bytes(&bn));
        for (int64_t i = 0; i < n; i++) dx[i] = NAN; /* must be overwritten */
        cr_assert_eq(burn_bn_forward_train(be, &bn, y, m, is, NULL, NULL, stats, x, g, b), 0);
        burn_bn_backward(be, &bn, dx, dg, db, stats, r, x, g, m, is);

        fd_ctx c = {q, lr_to_double(x, n), lr_to_double(g, q->C), lr_to_double(b, q->C),
                    lr_to_double(r, n), lr_zeros(n)};
        double h = 1e-4 * (q->hi - q->lo);
        double *gx = lr_fd_all(c.x, n, bn_loss, &c, h);
        double *gg = lr_fd_all(c.g, q->C, bn_loss, &c, 1e-4);
        double *gb = lr_fd_all(c.b, q->C, bn_loss, &c, 1e-4);
        for (int i = 0; i < q->C; i++) gg[i] += dg0[i], gb[i] += db0[i]; /* accumulated */
        double ex = lr_err(dx, gx, n), eg = lr_err(dg, gg, q->C), eb = lr_err(db, gb, q->C);
        cr_assert_leq(ex, 1e-4, "case %d: dx err %.3g", k, ex);
        cr_assert_leq(eg, 1e-4, "case %d: dgamma err %.3g", k, eg);
        cr_assert_leq(eb, 1e-4, "case %d: dbeta err %.3g", k, eb);
        free(x), free(g), free(b), free(r), free(y), free(m), free(is), free(dx), free(dg);
        free(db), free(dg0), free(db0), free(stats), free(gx), free(gg), free(gb);
        free(c.x), free(c.g), free(c.b), free(c.r), free(c.y);
    }
}

/* Synchronised BN's contract: statistics of two half batches, added, then finalised with the
 * total count, give the whole batch's mean, inverse std, running stats and output; likewise
 * the backward reductions. */
Test(layers_bn, split_statistics_add_up) {
    const int N = 6, C = 4, HW = 10, half = 3 * C * HW;
    const int64_t n = (int64_t)N * C * HW;
    burn_bn bn;
    cr_assert_eq(burn_bn_init(&bn, N, C, HW), 0);
    float *x = lr_rand(n, 80, -1, 3), *g = lr_rand(C, 81, 0.5f, 1.5f), *b = lr_rand(C, 82, -1, 1);
    float *dy = lr_rand(n, 83, -1, 1), *y = malloc(n * 4), *y2 = malloc(n * 4);
    float m[4], is[4], m2[4], is2[4], rm[4] = {0}, rv[4] = {1, 1, 1, 1}, rm2[4] = {0},
          rv2[4] = {1, 1, 1, 1};
    float dg[4] = {0}, db[4] = {0}, dg2[4] = {0}, db2[4] = {0};
    float *dx = malloc(n * 4), *dx2 = malloc(n * 4);
    double whole[8], a[8], bsum[8];

    cr_assert_eq(burn_bn_forward_train(be, &bn, y, m, is, rm, rv, whole, x, g, b), 0);
    burn_bn_backward(be, &bn, dx, dg, db, whole, dy, x, g, m, is);

    be->bn_stats(a, x, 3, C, HW);
    be->bn_stats(bsum, x + half, 3, C, HW);
    for (int i = 0; i < 2 * C; i++) bsum[i] += a[i]; /* the all-reduce */
    be->bn_finalize(m2, is2, rm2, rv2, bsum, C, (int64_t)N * HW, 1e-5f, 0.1f);
    be->bn_normalize(y2, x, m2, is2, g, b, 3, C, HW);
    be->bn_normalize(y2 + half, x + half, m2, is2, g, b, 3, C, HW);
    be->bn_backward_stats(a, dg2, db2, dy, x, m2, is2, 3, C, HW);
    be->bn_backward_stats(bsum, dg2, db2, dy + half, x + half, m2, is2, 3, C, HW);
    for (int i = 0; i < 2 * C; i++) bsum[i] += a[i];
    be->bn_backward_dx(dx2, dy, x, m2, is2, g, bsum, (int64_t)N * HW, 3, C, HW);
    be->bn_backward_dx(dx2 + half, dy + half, x + half, m2, is2, g, bsum, (int64_t)N * HW, 3, C,
                       HW);
    for (int c = 0; c < C; c++) {
        cr_assert_float_eq(m2[c], m[c], 1e-6 * (fabsf(m[c]) + 1));
        cr_assert_float_eq(is2[c], is[c], 1e-6 * is[c]);
        cr_assert_float_eq(rm2[c], rm[c], 1e-6 * (fabsf(rm[c]) + 1));
        cr_assert_float_eq(rv2[c], rv[c], 1e-6 * rv[c]);
        cr_assert_float_eq(dg2[c], dg[c], 1e-5 * (fabsf(dg[c]) + 1));
        cr_assert_float_eq(db2[c], db[c], 1e-5 * (fabsf(db[c]) + 1));
    }
    cr_assert_leq(tu_max_rel_f(y2, y, n, 1.0), 1e-6);
    cr_assert_leq(tu_max_rel_f(dx2, dx, n, 1.0), 1e-5);
    free(x), free(g), free(b), free(dy), free(y), free(y2), free(dx), free(dx2);
}

Test(layers_bn, bad_shapes_are_errors) {
    burn_bn bn;
    cr_assert_eq(burn_bn_init(&bn, 0, 4, 4), -1);
    cr_assert(strstr(burn_error(), "batch norm"), "%s", burn_error());
    cr_assert_eq(burn_bn_init(&bn, 2, 4, -1), -1);
    /* one value per channel: train mode refuses (PyTorch too), eval mode is fine */
    cr_assert_eq(burn_bn_init(&bn, 1, 3, 1), 0);
    float x[3] = {1, 2, 3}, g[3] = {1, 1, 1}, b[3] = {0.5f, 0.5f, 0.5f}, y[3], m[3], is[3];
    float rm[3] = {0.5f, 0.5f, 0.5f}, rv[3] = {4, 4, 4};
    double stats[6];
    cr_assert_eq(burn_bn_forward_train(be, &bn, y, m, is, rm, rv, stats, x, g, b), -1);
    cr_assert(strstr(burn_error(), "more than one value"), "%s", burn_error());
    burn_bn_forward_eval(be, &bn, y, x, g, b, rm, rv);
    for (int c = 0; c < 3; c++)
        cr_assert_float_eq(y[c], (x[c] - 0.5) / sqrt(4 + 1e-5) + 0.5, 1e-6);
}
