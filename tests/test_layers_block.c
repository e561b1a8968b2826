/* test_layers_block.c — the layers composed as in a ReActNet-A downsampling block (METHOD.md §2,
 * with FP convs and PReLU in place of the binary convs and RPReLU), forward and backward
 * through the layer API only, against central finite differences of the same composition in
 * double. Checks that the pieces fit: residual adds, the avg-pool shortcut, gradient
 * accumulation where a tensor feeds several branches (be->axpy), concat / split, and the
 * accumulate-vs-overwrite convention across two backward passes.
 *
 *   a  = PReLU(BN1(conv3x3/2(x)) + avgpool2x2(x))                      [N, C, H/2, W/2]
 *   b1 = BN2(conv1x1_1(a)) + a,  b2 = BN3(conv1x1_2(a)) + a
 *   y  = concat(b1, b2)                                                [N, 2C, H/2, W/2]
 *
 * Loss Σ r·y; h = 1e-6 (BN is smooth, PReLU's kink is not crossed at this step for random
 * data); tolerance 1e-5 relative to each gradient's scale. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/layers.h"
#include "test_layers_ref.h"

enum { N = 2, C = 3, H = 6, W = 6, HO = 3, WO = 3 };
#define NX (N * C * H * W)
#define NA (N * C * HO * WO)

/* parameters, one flat array so finite differences can walk it */
enum {
    P_W3 = 0,                /* [C, C, 3, 3] */
    P_G1 = P_W3 + C * C * 9, /* BN1 gamma, beta [C] */
    P_B1 = P_G1 + C,
    P_SLOPE = P_B1 + C,      /* PReLU [C] */
    P_W1A = P_SLOPE + C,     /* [C, C, 1, 1] */
    P_G2 = P_W1A + C * C,
    P_B2 = P_G2 + C,
    P_W1B = P_B2 + C,
    P_G3 = P_W1B + C * C,
    P_B3 = P_G3 + C,
    NP = P_B3 + C
};

/* ---- double reference ---- */
typedef struct ref_ctx {
    double *x, *p, *r;
    burn_conv2d c3, c1;
    burn_pool2d pool;
} ref_ctx;

static void prelu_d(double *v, const double *slope, int n, int c, int hw) {
    for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
            for (int j = 0; j < hw; j++) {
                double *e = &v[((int64_t)i * c + k) * hw + j];
                if (!(*e > 0)) *e *= slope[k];
            }
}

static double block_loss(void *v) {
    ref_ctx *c = v;
    double t[NA], u[NA], a[NA], y[2 * NA];
    lr_conv2d(t, c->x, c->p + P_W3, &c->c3);
    lr_bn_train(u, NULL, NULL, t, c->p + P_G1, c->p + P_B1, N, C, HO * WO, 1e-5);
    lr_avgpool(t, c->x, &c->pool);
    for (int i = 0; i < NA; i++) a[i] = u[i] + t[i];
    prelu_d(a, c->p + P_SLOPE, N, C, HO * WO);
    for (int branch = 0; branch < 2; branch++) {
        lr_conv2d(t, a, c->p + (branch ? P_W1B : P_W1A), &c->c1);
        lr_bn_train(u, NULL, NULL, t, c->p + (branch ? P_G3 : P_G2),
                    c->p + (branch ? P_B3 : P_B2), N, C, HO * WO, 1e-5);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < C * HO * WO; i++)
                y[(n * 2 + branch) * C * HO * WO + i] =
                    u[n * C * HO * WO + i] + a[n * C * HO * WO + i];
    }
    return lr_dot(c->r, y, 2 * NA);
}

/* ---- the block through the layer API (float, backend be) ---- */
typedef struct acts { /* what backward needs from forward */
    float conv3[NA], pooled[NA], pre[NA], a[NA], c1[2][NA], y[2 * NA];
    float mean[3][C], invstd[3][C];
} acts;

static void block_forward(const burn_backend *be, acts *s, const burn_conv2d *c3,
                          const burn_conv2d *c1, const burn_pool2d *pool, const burn_bn *bn,
                          double *stats, const float *x, float *p, float *running) {
    float tmp[NA], b[2][NA];
    burn_conv2d_forward(be, c3, s->conv3, x, p + P_W3);
    cr_assert_eq(burn_bn_forward_train(be, bn, tmp, s->mean[0], s->invstd[0], running,
                                       running + C, stats, s->conv3, p + P_G1, p + P_B1), 0);
    burn_avgpool2d_forward(be, pool, s->pooled, x);
    be->add(s->pre, tmp, s->pooled, NA); /* residual add */
    burn_prelu_forward(be, s->a, s->pre, p + P_SLOPE, N, C, HO * WO);
    for (int k = 0; k < 2; k++) {
        burn_conv2d_forward(be, c1, s->c1[k], s->a, p + (k ? P_W1B : P_W1A));
        cr_assert_eq(burn_bn_forward_train(be, bn, b[k], s->mean[1 + k], s->invstd[1 + k], NULL,
                                           NULL, stats, s->c1[k], p + (k ? P_G3 : P_G2),
                                           p + (k ? P_B3 : P_B2)), 0);
        be->add(b[k], b[k], s->a, NA);
    }
    burn_concat_forward(be, s->y, b[0], b[1], N, C, C, HO * WO);
}

static void block_backward(const burn_backend *be, const acts *s, const burn_conv2d *c3,
                           const burn_conv2d *c1, const burn_pool2d *pool, const burn_bn *bn,
                           double *stats, float *dx, float *dp, const float *dy,
                           const float *x, const float *p) {
    float db[2][NA], dc[NA], dbr[NA], da[NA], dpre[NA], dpool[NX];
    burn_concat_backward(be, db[0], db[1], dy, N, C, C, HO * WO);
    memcpy(da, db[0], sizeof da); /* the residual path of branch 1 ... */
    be->axpy(da, 1.0f, db[1], NA); /* ... plus that of branch 2 */
    for (int k = 0; k < 2; k++) {
        burn_bn_backward(be, bn, dc, dp + (k ? P_G3 : P_G2), dp + (k ? P_B3 : P_B2), stats,
                         db[k], s->c1[k], p + (k ? P_G3 : P_G2), s->mean[1 + k],
                         s->invstd[1 + k]);
        burn_conv2d_backward(be, c1, dbr, dp + (k ? P_W1B : P_W1A), dc, s->a,
                             p + (k ? P_W1B : P_W1A));
        be->axpy(da, 1.0f, dbr, NA); /* a feeds both branches */
    }
    burn_prelu_backward(be, dpre, dp + P_SLOPE, da, s->pre, p + P_SLOPE, N, C, HO * WO);
    burn_bn_backward(be, bn, dc, dp + P_G1, dp + P_B1, stats, dpre, s->conv3, p + P_G1,
                     s->mean[0], s->invstd[0]);
    burn_conv2d_backward(be, c3, dx, dp + P_W3, dc, x, p + P_W3);
    burn_avgpool2d_backward(be, pool, dpool, dpre); /* the shortcut's gradient */
    be->axpy(dx, 1.0f, dpool, NX);
}

Test(layers_block, reactnet_downsampling_block_finite_differences) {
    const burn_backend *be = burn_cpu_backend();
    burn_conv2d c3, c1;
    burn_pool2d pool;
    burn_bn bn;
    cr_assert_eq(burn_conv2d_init(&c3, N, C, H, W, C, 3, 3, 2, 1), 0);
    cr_assert_eq(burn_conv2d_init(&c1, N, C, HO, WO, C, 1, 1, 1, 0), 0);
    cr_assert_eq(burn_avgpool2d_init(&pool, N, C, H, W, 2, 2), 0);
    cr_assert_eq(burn_bn_init(&bn, N, C, HO * WO), 0);
    cr_assert_eq(c3.Ho, HO);
    cr_assert_eq(pool.Ho, HO);

    float x[NX], p[NP], r[2 * NA], running[2 * C] = {0, 0, 0, 1, 1, 1};
    tu_fill(x, NX, 1, -1, 1);
    tu_fill(p, NP, 2, -0.5f, 0.5f);
    for (int k = 0; k < C; k++) /* BN gammas near 1, PReLU slopes near 0.25 */
        p[P_G1 + k] += 1, p[P_G2 + k] += 1, p[P_G3 + k] += 1,
            p[P_SLOPE + k] = 0.25f + 0.1f * p[P_SLOPE + k];
    tu_fill(r, 2 * NA, 3, -1, 1);
    double stats[2 * C];

    static acts s;
    float dx[NX], dp[NP] = {0};
    block_forward(be, &s, &c3, &c1, &pool, &bn, stats, x, p, running);
    block_backward(be, &s, &c3, &c1, &pool, &bn, stats, dx, dp, r, x, p);

    ref_ctx ctx = {lr_to_double(x, NX), lr_to_double(p, NP), lr_to_double(r, 2 * NA), c3, c1,
                   pool};
    double yr = block_loss(&ctx), yf = 0;
    for (int i = 0; i < 2 * NA; i++) yf += (double)r[i] * s.y[i];
    cr_assert_leq(fabs(yf - yr), 1e-5 * (fabs(yr) + 1), "forward: %g vs %g", yf, yr);

    double *gx = lr_fd_all(ctx.x, NX, block_loss, &ctx, 1e-6);
    double *gp = lr_fd_all(ctx.p, NP, block_loss, &ctx, 1e-6);
    double ex = lr_err(dx, gx, NX);
    cr_assert_leq(ex, 1e-5, "dx err %.3g", ex);
    static const struct { const char *name; int off, n; } groups[] = {
        {"conv3x3", P_W3, C * C * 9}, {"bn1 gamma", P_G1, C}, {"bn1 beta", P_B1, C},
        {"prelu slope", P_SLOPE, C},  {"conv1x1 a", P_W1A, C * C}, {"bn2 gamma", P_G2, C},
        {"bn2 beta", P_B2, C},        {"conv1x1 b", P_W1B, C * C}, {"bn3 gamma", P_G3, C},
        {"bn3 beta", P_B3, C}};
    for (int k = 0; k < 10; k++) {
        double e = lr_err(dp + groups[k].off, gp + groups[k].off, groups[k].n);
        cr_assert_leq(e, 1e-5, "%s gradient err %.3g", groups[k].name, e);
    }

    /* a second micro-batch with the same data: parameter gradients double, dx does not */
    float dx2[NX];
    block_forward(be, &s, &c3, &c1, &pool, &bn, stats, x, p, running);
    block_backward(be, &s, &c3, &c1, &pool, &bn, stats, dx2, dp, r, x, p);
    for (int i = 0; i < NX; i++) cr_assert_float_eq(dx2[i], dx[i], 1e-6 * (fabsf(dx[i]) + 1));
    for (int i = 0; i < NP; i++) gp[i] *= 2;
    cr_assert_leq(lr_err(dp, gp, NP), 1e-5, "accumulated parameter gradients");
    free(ctx.x), free(ctx.p), free(ctx.r), free(gx), free(gp);
}
