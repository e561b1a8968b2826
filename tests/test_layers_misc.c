/* test_layers_misc.c — ReLU, PReLU, per-channel bias, max / average / global-average pooling,
 * linear and channel concat on the CPU backend: forward against naive double references on
 * random odd shapes, backward against central finite differences of Σ r·layer(x) in double
 * (the layers are linear, bilinear or piecewise linear, so central differences are exact up
 * to rounding as long as x ± h crosses no kink: h = 1e-3 for the smooth ones; h = 1e-6 and
 * inputs kept ≥ 1e-3 from the kinks (|x| for ReLU/PReLU, distinct values for max pool) for
 * the others), plus the tie rule of max pooling,
 * floor mode of average pooling, gradient accumulation, and shape validation.
 * Tolerance 1e-5 relative to the reference's scale unless said otherwise. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/layers.h"
#include "test_layers_ref.h"

static const burn_backend *be;
static void setup(void) { be = burn_cpu_backend(); }
TestSuite(layers_misc, .init = setup);

#define FD_H 1e-3      /* linear / bilinear layers */
#define FD_H_KINK 1e-6 /* piecewise-linear layers, inputs kept away from the kinks */

/* push values out of (−margin, margin): ReLU and PReLU have their kink at 0 */
static void away_from_zero(float *x, int64_t n, float margin) {
    for (int64_t i = 0; i < n; i++)
        if (fabsf(x[i]) < margin) x[i] = x[i] < 0 ? x[i] - margin : x[i] + margin;
}

/* distinct values in [−1, 1) at least 2/n apart, in random order: no max-pool near-ties */
static void distinct_fill(float *x, int64_t n, uint64_t seed) {
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++) x[i] = -1.0f + 2.0f * (float)i / (float)n;
    for (int64_t i = n - 1; i > 0; i--) { /* Fisher–Yates */
        int64_t j = (int64_t)(tu_next(&s) % (uint64_t)(i + 1));
        float t = x[i];
        x[i] = x[j], x[j] = t;
    }
}

/* ---- a generic "layer in double" for the finite differences: y = f(params) ---- */
typedef struct fd_ctx {
    void (*f)(struct fd_ctx *c); /* fills y from the double inputs below */
    double *x, *p, *q;           /* inputs / parameters, double copies */
    double *r, *y;
    int64_t ny;
    int N, C, HW, in, out;
    const burn_pool2d *pool;
} fd_ctx;

static double fd_loss(void *v) {
    fd_ctx *c = v;
    c->f(c);
    return lr_dot(c->r, c->y, c->ny);
}

/* ---- ReLU ---- */

static void relu_ref(fd_ctx *c) {
    for (int64_t i = 0; i < c->ny; i++) c->y[i] = c->x[i] > 0 ? c->x[i] : 0;
}

Test(layers_misc, relu) {
    for (int64_t n = 1; n <= 3001; n = n * 7 + 3) {
        float *x = lr_rand(n, n, -1, 1), *y = malloc(n * 4), *r = lr_rand(n, n + 1, -1, 1);
        float *dx = malloc(n * 4);
        away_from_zero(x, n, 1e-3f);
        burn_relu_forward(be, y, x, n);
        for (int64_t i = 0; i < n; i++) cr_assert_eq(y[i], x[i] > 0 ? x[i] : 0.0f);
        burn_relu_backward(be, dx, r, y, n);
        fd_ctx c = {.f = relu_ref, .x = lr_to_double(x, n), .r = lr_to_double(r, n),
                    .y = lr_zeros(n), .ny = n};
        double *g = lr_fd_all(c.x, n, fd_loss, &c, FD_H_KINK);
        cr_assert_leq(lr_err(dx, g, n), 1e-6, "n=%ld", (long)n);
        /* in place, both ways */
        burn_relu_forward(be, x, x, n);
        cr_assert_eq(memcmp(x, y, n * 4), 0);
        burn_relu_backward(be, r, r, y, n);
        cr_assert_eq(memcmp(r, dx, n * 4), 0);
        free(x), free(y), free(r), free(dx), free(c.x), free(c.r), free(c.y), free(g);
    }
    float nan_in = NAN, out;
    burn_relu_forward(be, &out, &nan_in, 1);
    cr_assert(isnan(out), "ReLU must keep a NaN visible");
}

/* ---- PReLU and bias, x [N, C, HW], per-channel p [C] ---- */

static void prelu_ref(fd_ctx *c) {
    for (int n = 0; n < c->N; n++)
        for (int ch = 0; ch < c->C; ch++)
            for (int i = 0; i < c->HW; i++) {
                int64_t k = ((int64_t)n * c->C + ch) * c->HW + i;
                c->y[k] = c->x[k] > 0 ? c->x[k] : c->p[ch] * c->x[k];
            }
}

static void bias_ref(fd_ctx *c) {
    for (int n = 0; n < c->N; n++)
        for (int ch = 0; ch < c->C; ch++)
            for (int i = 0; i < c->HW; i++) {
                int64_t k = ((int64_t)n * c->C + ch) * c->HW + i;
                c->y[k] = c->x[k] + c->p[ch];
            }
}

Test(layers_misc, prelu_and_bias) {
    uint64_t s = 5;
    for (int t = 0; t < 12; t++) {
        int N = tu_int(&s, 1, 4), C = tu_int(&s, 1, 9), HW = tu_int(&s, 1, 40);
        int64_t n = (int64_t)N * C * HW;
        float *x = lr_rand(n, 100 + t, -1, 1), *a = lr_rand(C, 200 + t, -0.5f, 0.5f);
        float *r = lr_rand(n, 300 + t, -1, 1), *y = malloc(n * 4), *dx = malloc(n * 4);
        float *da = lr_rand(C, 400 + t, -1, 1);
        away_from_zero(x, n, 1e-3f);
        double *da0 = lr_to_double(da, C);
        fd_ctx c = {.f = prelu_ref, .x = lr_to_double(x, n), .p = lr_to_double(a, C),
                    .r = lr_to_double(r, n), .y = lr_zeros(n), .ny = n, .N = N, .C = C,
                    .HW = HW};

        burn_prelu_forward(be, y, x, a, N, C, HW);
        prelu_ref(&c);
        cr_assert_leq(lr_err(y, c.y, n), 1e-7, "prelu forward");
        burn_prelu_backward(be, dx, da, r, x, a, N, C, HW);
        double *gx = lr_fd_all(c.x, n, fd_loss, &c, FD_H_KINK);
        double *ga = lr_fd_all(c.p, C, fd_loss, &c, FD_H);
        for (int i = 0; i < C; i++) ga[i] += da0[i];
        cr_assert_leq(lr_err(dx, gx, n), 1e-6, "prelu dx N%d C%d HW%d", N, C, HW);
        cr_assert_leq(lr_err(da, ga, C), 1e-5, "prelu dslope N%d C%d HW%d", N, C, HW);
        /* dx alone (frozen slope) */
        float *dx2 = malloc(n * 4);
        burn_prelu_backward(be, dx2, NULL, r, x, a, N, C, HW);
        cr_assert_eq(memcmp(dx, dx2, n * 4), 0);
        free(gx), free(ga), free(dx2);

        /* bias: y = x + b_c; db += Σ dy */
        float *db = lr_rand(C, 500 + t, -1, 1);
        double *db0 = lr_to_double(db, C);
        c.f = bias_ref;
        burn_bias_forward(be, y, x, a, N, C, HW);
        bias_ref(&c);
        cr_assert_leq(lr_err(y, c.y, n), 1e-7, "bias forward");
        burn_bias_backward(be, db, r, N, C, HW);
        double *gb = lr_fd_all(c.p, C, fd_loss, &c, FD_H);
        for (int i = 0; i < C; i++) gb[i] += db0[i];
        cr_assert_leq(lr_err(db, gb, C), 1e-5, "bias db");
        burn_bias_forward(be, x, x, a, N, C, HW); /* in place */
        cr_assert_eq(memcmp(x, y, n * 4), 0);
        free(x), free(a), free(r), free(y), free(dx), free(da), free(da0), free(db), free(db0);
        free(gb), free(c.x), free(c.p), free(c.r), free(c.y);
    }
}

/* ---- pooling ---- */

static void maxpool_ref(fd_ctx *c) { lr_maxpool(c->y, c->x, c->pool); }
static void avgpool_ref(fd_ctx *c) { lr_avgpool(c->y, c->x, c->pool); }

static void check_pool(const burn_pool2d *p, int is_max, uint64_t seed) {
    int64_t nx = (int64_t)p->N * p->C * p->H * p->W, ny = (int64_t)p->N * p->C * p->Ho * p->Wo;
    float *x = lr_rand(nx, seed, -1, 1), *r = lr_rand(ny, seed + 1, -1, 1);
    float *y = malloc(ny * 4), *dx = malloc(nx * 4);
    if (is_max) distinct_fill(x, nx, seed);
    for (int64_t i = 0; i < nx; i++) dx[i] = NAN;
    fd_ctx c = {.f = is_max ? maxpool_ref : avgpool_ref, .x = lr_to_double(x, nx),
                .r = lr_to_double(r, ny), .y = lr_zeros(ny), .ny = ny, .pool = p};
    if (is_max) {
        burn_maxpool2d_forward(be, p, y, x);
        burn_maxpool2d_backward(be, p, dx, r, x);
    } else {
        burn_avgpool2d_forward(be, p, y, x);
        burn_avgpool2d_backward(be, p, dx, r);
    }
    c.f(&c);
    const char *name = is_max ? "max" : "avg";
    cr_assert_leq(lr_err(y, c.y, ny), is_max ? 0 : 1e-6,
                  "%s pool forward x[%d,%d,%d,%d] k%d s%d p%d", name, p->N, p->C, p->H, p->W,
                  p->kernel, p->stride, p->pad);
    double *g = lr_fd_all(c.x, nx, fd_loss, &c, is_max ? FD_H_KINK : FD_H);
    cr_assert_leq(lr_err(dx, g, nx), 1e-6, "%s pool backward x[%d,%d,%d,%d] k%d s%d p%d", name,
                  p->N, p->C, p->H, p->W, p->kernel, p->stride, p->pad);
    free(x), free(r), free(y), free(dx), free(c.x), free(c.r), free(c.y), free(g);
}

Test(layers_misc, max_pool) {
    /* ResNet stem 3×3/2 pad 1 at even and odd sizes, and other geometries */
    static const int geo[][7] = {{2, 3, 8, 8, 3, 2, 1},  {1, 2, 9, 7, 3, 2, 1},
                                 {2, 2, 1, 1, 3, 2, 1},  {1, 3, 5, 6, 2, 2, 0},
                                 {1, 2, 7, 7, 3, 1, 1},  {2, 1, 11, 9, 5, 3, 2},
                                 {1, 1, 2, 3, 3, 2, 1},  {3, 2, 6, 5, 3, 3, 0}};
    for (int k = 0; k < 8; k++) {
        burn_pool2d p;
        cr_assert_eq(burn_maxpool2d_init(&p, geo[k][0], geo[k][1], geo[k][2], geo[k][3],
                                         geo[k][4], geo[k][5], geo[k][6]), 0, "%s", burn_error());
        check_pool(&p, 1, 10 + k);
    }
    burn_pool2d p;
    cr_assert_eq(burn_maxpool2d_init(&p, 8, 64, 112, 112, 3, 2, 1), 0);
    cr_assert_eq(p.Ho, 56); /* ResNet: 112 -> 56 */
    cr_assert_eq(p.Wo, 56);
}

/* Ties go to the first maximum in row-major window order; overlapping windows add. */
Test(layers_misc, max_pool_tie_rule) {
    burn_pool2d p;
    cr_assert_eq(burn_maxpool2d_init(&p, 1, 1, 5, 6, 3, 2, 1), 0);
    float x[30], dy[9], dx[30], y[9];
    for (int i = 0; i < 30; i++) x[i] = 0.5f; /* all tied */
    for (int i = 0; i < p.Ho * p.Wo; i++) dy[i] = (float)(1 << i);
    burn_maxpool2d_forward(be, &p, y, x);
    burn_maxpool2d_backward(be, &p, dx, dy, x);
    float want[30] = {0};
    for (int oh = 0; oh < p.Ho; oh++)
        for (int ow = 0; ow < p.Wo; ow++) {
            int ih = oh * 2 - 1 < 0 ? 0 : oh * 2 - 1, iw = ow * 2 - 1 < 0 ? 0 : ow * 2 - 1;
            want[ih * 6 + iw] += dy[oh * p.Wo + ow];
        }
    for (int i = 0; i < 30; i++)
        cr_assert_eq(dx[i], want[i], "dx[%d] = %g, want %g", i, dx[i], want[i]);
    for (int i = 0; i < p.Ho * p.Wo; i++) cr_assert_eq(y[i], 0.5f);
    x[7] = NAN; /* a NaN wins its windows */
    burn_maxpool2d_forward(be, &p, y, x);
    cr_assert(isnan(y[0]) && isnan(y[1]) && isnan(y[p.Wo]) && isnan(y[p.Wo + 1]));
    cr_assert(!isnan(y[2]));
}

Test(layers_misc, avg_pool) {
    /* the ReActNet shortcut 2×2/2 at even and odd sizes (odd: floor, last row/col dropped) */
    static const int geo[][6] = {{2, 3, 8, 8, 2, 2},  {1, 2, 7, 7, 2, 2}, {2, 2, 9, 6, 2, 2},
                                 {1, 1, 2, 2, 2, 2},  {1, 2, 3, 5, 2, 2}, {2, 2, 9, 8, 3, 2},
                                 {1, 3, 7, 10, 3, 3}, {2, 1, 5, 5, 1, 1}};
    for (int k = 0; k < 8; k++) {
        burn_pool2d p;
        cr_assert_eq(burn_avgpool2d_init(&p, geo[k][0], geo[k][1], geo[k][2], geo[k][3],
                                         geo[k][4], geo[k][5]), 0, "%s", burn_error());
        check_pool(&p, 0, 20 + k);
    }
    burn_pool2d p;
    cr_assert_eq(burn_avgpool2d_init(&p, 1, 1, 7, 5, 2, 2), 0);
    cr_assert_eq(p.Ho, 3); /* floor, as PyTorch's AvgPool2d(2, 2) */
    cr_assert_eq(p.Wo, 2);
    float x[35], dy[6] = {1, 2, 3, 4, 5, 6}, dx[35];
    tu_fill(x, 35, 3, -1, 1);
    burn_avgpool2d_backward(be, &p, dx, dy);
    for (int w = 0; w < 5; w++) cr_assert_eq(dx[6 * 5 + w], 0.0f, "dropped row gets 0");
    for (int h = 0; h < 7; h++) cr_assert_eq(dx[h * 5 + 4], 0.0f, "dropped column gets 0");
    cr_assert_eq(dx[0], 0.25f);
}

static void gap_ref(fd_ctx *c) {
    for (int64_t pl = 0; pl < (int64_t)c->N * c->C; pl++) {
        double s = 0;
        for (int i = 0; i < c->HW; i++) s += c->x[pl * c->HW + i];
        c->y[pl] = s / c->HW;
    }
}

Test(layers_misc, global_avg_pool) {
    uint64_t s = 77;
    for (int t = 0; t < 10; t++) {
        int N = tu_int(&s, 1, 5), C = tu_int(&s, 1, 17), HW = tu_int(&s, 1, 60);
        int64_t nx = (int64_t)N * C * HW, ny = (int64_t)N * C;
        float *x = lr_rand(nx, 600 + t, -1, 2), *r = lr_rand(ny, 700 + t, -1, 1);
        float *y = malloc(ny * 4), *dx = malloc(nx * 4);
        burn_global_avgpool_forward(be, y, x, N, C, HW);
        burn_global_avgpool_backward(be, dx, r, N, C, HW);
        fd_ctx c = {.f = gap_ref, .x = lr_to_double(x, nx), .r = lr_to_double(r, ny),
                    .y = lr_zeros(ny), .ny = ny, .N = N, .C = C, .HW = HW};
        gap_ref(&c);
        cr_assert_leq(lr_err(y, c.y, ny), 1e-6, "gap forward");
        double *g = lr_fd_all(c.x, nx, fd_loss, &c, FD_H);
        cr_assert_leq(lr_err(dx, g, nx), 1e-6, "gap backward");
        free(x), free(r), free(y), free(dx), free(c.x), free(c.r), free(c.y), free(g);
    }
}

Test(layers_misc, pool_bad_shapes_are_errors) {
    burn_pool2d p;
    cr_assert_eq(burn_maxpool2d_init(&p, 1, 1, 8, 8, 3, 2, 2), -1); /* pad > kernel/2 */
    cr_assert(strstr(burn_error(), "max pool"), "%s", burn_error());
    cr_assert_eq(burn_maxpool2d_init(&p, 1, 1, 8, 8, 3, 0, 1), -1);
    cr_assert_eq(burn_avgpool2d_init(&p, 1, 1, 1, 8, 2, 2), -1); /* 1 row: no 2×2 window */
    cr_assert(strstr(burn_error(), "avg pool"), "%s", burn_error());
    cr_assert_eq(burn_avgpool2d_init(&p, 0, 1, 8, 8, 2, 2), -1);
}

/* ---- linear: y[N, out] = x·Wᵀ + b ---- */

static void linear_ref(fd_ctx *c) { lr_linear(c->y, c->x, c->p, c->q, c->N, c->in, c->out); }

Test(layers_misc, linear) {
    uint64_t s = 91;
    for (int t = 0; t < 10; t++) {
        int N = tu_int(&s, 1, 9), in = tu_int(&s, 1, 70), out = tu_int(&s, 1, 50);
        int with_bias = t % 3 != 2;
        burn_linear l;
        cr_assert_eq(burn_linear_init(&l, N, in, out), 0);
        int64_t nx = (int64_t)N * in, nw = (int64_t)out * in, ny = (int64_t)N * out;
        float *x = lr_rand(nx, 800 + t, -1, 1), *W = lr_rand(nw, 900 + t, -1, 1);
        float *b = lr_rand(out, 1000 + t, -1, 1), *r = lr_rand(ny, 1100 + t, -1, 1);
        float *y = malloc(ny * 4), *dx = malloc(nx * 4), *dW = lr_rand(nw, 1200 + t, -1, 1);
        float *db = lr_rand(out, 1300 + t, -1, 1);
        double *dW0 = lr_to_double(dW, nw), *db0 = lr_to_double(db, out);
        for (int64_t i = 0; i < nx; i++) dx[i] = NAN;
        burn_linear_forward(be, &l, y, x, W, with_bias ? b : NULL);
        burn_linear_backward(be, &l, dx, dW, with_bias ? db : NULL, r, x, W);
        fd_ctx c = {.f = linear_ref, .x = lr_to_double(x, nx), .p = lr_to_double(W, nw),
                    .q = with_bias ? lr_to_double(b, out) : NULL, .r = lr_to_double(r, ny),
                    .y = lr_zeros(ny), .ny = ny, .N = N, .in = in, .out = out};
        linear_ref(&c);
        cr_assert_leq(lr_err(y, c.y, ny), 1e-5, "linear forward N%d in%d out%d", N, in, out);
        double *gx = lr_fd_all(c.x, nx, fd_loss, &c, FD_H);
        double *gW = lr_fd_all(c.p, nw, fd_loss, &c, FD_H);
        for (int64_t i = 0; i < nw; i++) gW[i] += dW0[i];
        cr_assert_leq(lr_err(dx, gx, nx), 1e-5, "linear dx");
        cr_assert_leq(lr_err(dW, gW, nw), 1e-5, "linear dW");
        if (with_bias) {
            double *gb = lr_fd_all(c.q, out, fd_loss, &c, FD_H);
            for (int i = 0; i < out; i++) gb[i] += db0[i];
            cr_assert_leq(lr_err(db, gb, out), 1e-5, "linear db");
            free(gb), free(c.q);
        } else {
            for (int i = 0; i < out; i++) cr_assert_eq(db[i], (float)db0[i], "db untouched");
        }
        free(x), free(W), free(b), free(r), free(y), free(dx), free(dW), free(db), free(dW0);
        free(db0), free(c.x), free(c.p), free(c.r), free(c.y), free(gx), free(gW);
    }
    burn_linear l;
    cr_assert_eq(burn_linear_init(&l, 4, 0, 3), -1);
    cr_assert(strstr(burn_error(), "linear"), "%s", burn_error());
}

/* ---- concat ---- */

Test(layers_misc, concat) {
    uint64_t s = 123;
    for (int t = 0; t < 8; t++) {
        int N = tu_int(&s, 1, 5), Ca = tu_int(&s, 1, 7), Cb = tu_int(&s, 1, 7);
        int HW = tu_int(&s, 1, 30);
        int64_t na = (int64_t)N * Ca * HW, nb = (int64_t)N * Cb * HW, ny = na + nb;
        float *a = lr_rand(na, 1400 + t, -1, 1), *b = lr_rand(nb, 1500 + t, -1, 1);
        float *y = malloc(ny * 4), *da = malloc(na * 4), *db = malloc(nb * 4);
        burn_concat_forward(be, y, a, b, N, Ca, Cb, HW);
        for (int n = 0; n < N; n++)
            for (int c = 0; c < Ca + Cb; c++)
                for (int i = 0; i < HW; i++) {
                    float want = c < Ca ? a[((int64_t)n * Ca + c) * HW + i]
                                        : b[((int64_t)n * Cb + c - Ca) * HW + i];
                    cr_assert_eq(y[((int64_t)n * (Ca + Cb) + c) * HW + i], want);
                }
        burn_concat_backward(be, da, db, y, N, Ca, Cb, HW); /* the split inverts the concat */
        cr_assert_eq(memcmp(da, a, na * 4), 0);
        cr_assert_eq(memcmp(db, b, nb * 4), 0);
        free(a), free(b), free(y), free(da), free(db);
    }
}
