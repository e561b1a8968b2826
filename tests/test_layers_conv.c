/* test_layers_conv.c — conv2d on the CPU backend (im2col + OpenBLAS) against a naive double
 * convolution: forward, backward-data and backward-filter (against the exact adjoint in
 * double, and against central finite differences of Σ r·conv(x, w) on small shapes), the
 * accumulate/overwrite convention, NULL gradients, and shape validation; batches split into
 * several image groups.
 * Tolerances: errors relative to the largest reference value, 2e-5 (float GEMM sums of at
 * most a few hundred products of O(1) values, rounding ~1e-7 each). */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/layers.h"
#include "test_layers_ref.h"

static const burn_backend *be;
static void setup(void) { be = burn_cpu_backend(); }
TestSuite(layers_conv, .init = setup);

typedef struct conv_case {
    int N, C, H, W, O, kh, kw, stride, pad;
} conv_case;

/* The geometries of the networks (ResNet stem 7×7/2, 3×3/1, 3×3/2, 1×1/1, 1×1/2 downsample)
 * at odd sizes, and some odd ones (non-square kernels, pad 0 with 3×3, kernel 2, stride 3). */
static const conv_case fixed_cases[] = {
    {2, 3, 15, 13, 5, 7, 7, 2, 3}, {3, 4, 9, 7, 6, 3, 3, 1, 1}, {2, 5, 11, 9, 7, 3, 3, 2, 1},
    {2, 6, 7, 5, 9, 1, 1, 1, 0},   {3, 5, 9, 11, 4, 1, 1, 2, 0}, {1, 2, 8, 6, 3, 3, 5, 1, 2},
    {2, 3, 6, 9, 2, 3, 3, 1, 0},   {1, 4, 10, 10, 3, 2, 2, 3, 1}, {1, 1, 1, 1, 1, 1, 1, 1, 0},
    {2, 2, 3, 4, 3, 5, 5, 1, 2},
};

/* random geometry that burn_conv2d_init accepts */
static conv_case random_case(uint64_t *s) {
    static const int ks[] = {1, 2, 3, 5, 7};
    for (;;) {
        conv_case c = {tu_int(s, 1, 3), tu_int(s, 1, 7),     tu_int(s, 1, 13),
                       tu_int(s, 1, 13), tu_int(s, 1, 9),    ks[tu_int(s, 0, 4)],
                       ks[tu_int(s, 0, 4)], tu_int(s, 1, 3), 0};
        c.pad = tu_int(s, 0, (c.kh > c.kw ? c.kh : c.kw) - 1);
        burn_conv2d cv;
        if (burn_conv2d_init(&cv, c.N, c.C, c.H, c.W, c.O, c.kh, c.kw, c.stride, c.pad) == 0)
            return c;
    }
}

/* One geometry: forward and both gradients against the double references. */
static void check_case(const conv_case *k, uint64_t seed) {
    burn_conv2d cv;
    cr_assert_eq(burn_conv2d_init(&cv, k->N, k->C, k->H, k->W, k->O, k->kh, k->kw, k->stride,
                                  k->pad),
                 0, "%s", burn_error());
    int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W, nw = (int64_t)cv.O * cv.C * cv.kh * cv.kw,
            ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
    float *x = lr_rand(nx, seed, -1, 1), *w = lr_rand(nw, seed + 1, -1, 1);
    float *dy = lr_rand(ny, seed + 2, -1, 1), *dw = lr_rand(nw, seed + 3, -1, 1);
    float *y = malloc(ny * 4), *dx = malloc(nx * 4), *dw0 = malloc(nw * 4);
    memcpy(dw0, dw, nw * 4);
    for (int64_t i = 0; i < nx; i++) dx[i] = NAN; /* must be overwritten */
    for (int64_t i = 0; i < ny; i++) y[i] = NAN;

    burn_conv2d_forward(be, &cv, y, x, w);
    burn_conv2d_backward(be, &cv, dx, dw, dy, x, w);

    double *xd = lr_to_double(x, nx), *wd = lr_to_double(w, nw), *dyd = lr_to_double(dy, ny);
    double *yr = lr_zeros(ny), *dxr = lr_zeros(nx), *dwr = lr_zeros(nw);
    lr_conv2d(yr, xd, wd, &cv);
    lr_conv2d_grads(dxr, dwr, dyd, xd, wd, &cv);
    /* dw accumulated: subtract what was there */
    for (int64_t i = 0; i < nw; i++) dwr[i] += dw0[i];

#define FMT "%s: x[%d,%d,%d,%d] w[%d,%d,%d,%d] s%d p%d: err %.3g"
#define GEO cv.N, cv.C, cv.H, cv.W, cv.O, cv.C, cv.kh, cv.kw, cv.stride, cv.pad
    double e;
    e = lr_err(y, yr, ny);
    cr_assert_leq(e, 2e-5, FMT, "forward", GEO, e);
    e = lr_err(dx, dxr, nx);
    cr_assert_leq(e, 2e-5, FMT, "backward data", GEO, e);
    e = lr_err(dw, dwr, nw);
    cr_assert_leq(e, 2e-5, FMT, "backward filter (accumulated)", GEO, e);
#undef GEO
#undef FMT
    free(x), free(w), free(dy), free(dw), free(y), free(dx), free(dw0);
    free(xd), free(wd), free(dyd), free(yr), free(dxr), free(dwr);
}

Test(layers_conv, network_and_odd_geometries) {
    for (size_t i = 0; i < sizeof fixed_cases / sizeof fixed_cases[0]; i++)
        check_case(&fixed_cases[i], 100 + 10 * i);
}

/* Images are convolved in groups (one GEMM per group, as many images as 4M floats of columns
 * allow): shapes that split N into full groups and a remainder, for im2col and 1x1 convs. */
Test(layers_conv, groups_of_images_with_a_remainder, .timeout = 60) {
    static const conv_case cases[] = {{30, 16, 32, 32, 16, 3, 3, 1, 1},  /* groups of 28 */
                                      {20, 64, 64, 64, 16, 1, 1, 1, 0},  /* 1x1: groups of 16 */
                                      {20, 64, 64, 64, 32, 1, 1, 2, 0}}; /* one group of 20 */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], 50 + i);
}

Test(layers_conv, random_geometries) {
    uint64_t s = 4242;
    for (int t = 0; t < 60; t++) {
        conv_case c = random_case(&s);
        check_case(&c, 1000 + 7 * t);
    }
}

/* Finite differences of L = Σ r·conv(x, w) in double, against the float backward. */
typedef struct fd_ctx {
    const burn_conv2d *cv;
    double *x, *w, *r, *y;
} fd_ctx;

static double conv_loss(void *p) {
    fd_ctx *c = p;
    lr_conv2d(c->y, c->x, c->w, c->cv);
    return lr_dot(c->r, c->y, (int64_t)c->cv->N * c->cv->O * c->cv->Ho * c->cv->Wo);
}

Test(layers_conv, finite_differences) {
    static const conv_case cases[] = {{2, 3, 7, 6, 4, 3, 3, 2, 1}, {1, 2, 9, 9, 3, 7, 7, 2, 3},
                                      {2, 3, 5, 4, 2, 1, 1, 1, 0}};
    for (int k = 0; k < 3; k++) {
        const conv_case *q = &cases[k];
        burn_conv2d cv;
        cr_assert_eq(burn_conv2d_init(&cv, q->N, q->C, q->H, q->W, q->O, q->kh, q->kw,
                                      q->stride, q->pad), 0);
        int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W,
                nw = (int64_t)cv.O * cv.C * cv.kh * cv.kw,
                ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
        float *x = lr_rand(nx, 7 + k, -1, 1), *w = lr_rand(nw, 8 + k, -1, 1);
        float *r = lr_rand(ny, 9 + k, -1, 1);
        float *dx = malloc(nx * 4), *dw = calloc(nw, 4);
        burn_conv2d_backward(be, &cv, dx, dw, r, x, w); /* dy = r: the gradient of Σ r·y */
        fd_ctx c = {&cv, lr_to_double(x, nx), lr_to_double(w, nw), lr_to_double(r, ny),
                    lr_zeros(ny)};
        double *gx = lr_fd_all(c.x, nx, conv_loss, &c, 1e-3);
        double *gw = lr_fd_all(c.w, nw, conv_loss, &c, 1e-3);
        double ex = lr_err(dx, gx, nx), ew = lr_err(dw, gw, nw);
        cr_assert_leq(ex, 2e-5, "case %d: dx vs finite differences: err %.3g", k, ex);
        cr_assert_leq(ew, 2e-5, "case %d: dw vs finite differences: err %.3g", k, ew);
        free(x), free(w), free(r), free(dx), free(dw), free(gx), free(gw);
        free(c.x), free(c.w), free(c.r), free(c.y);
    }
}

Test(layers_conv, null_gradients_are_skipped) {
    burn_conv2d cv;
    cr_assert_eq(burn_conv2d_init(&cv, 2, 3, 6, 5, 4, 3, 3, 1, 1), 0);
    int64_t nx = 2 * 3 * 6 * 5, nw = 4 * 3 * 9, ny = 2 * 4 * cv.Ho * cv.Wo;
    float *x = lr_rand(nx, 1, -1, 1), *w = lr_rand(nw, 2, -1, 1), *dy = lr_rand(ny, 3, -1, 1);
    float *dx = malloc(nx * 4), *dx2 = malloc(nx * 4), *dw = calloc(nw, 4), *dw2 = calloc(nw, 4);
    burn_conv2d_backward(be, &cv, dx, dw, dy, x, w);
    burn_conv2d_backward(be, &cv, dx2, NULL, dy, x, w); /* network input frozen weights */
    burn_conv2d_backward(be, &cv, NULL, dw2, dy, x, w); /* first layer: no dx */
    cr_assert_eq(memcmp(dx, dx2, nx * 4), 0);
    cr_assert_eq(memcmp(dw, dw2, nw * 4), 0);
    /* a second backward doubles dw (accumulation over micro-batches) */
    burn_conv2d_backward(be, &cv, NULL, dw2, dy, x, w);
    for (int64_t i = 0; i < nw; i++)
        cr_assert_float_eq(dw2[i], 2 * dw[i], 1e-5 * (fabsf(dw[i]) + 1));
    free(x), free(w), free(dy), free(dx), free(dx2), free(dw), free(dw2);
}

Test(layers_conv, output_shapes) {
    burn_conv2d cv;
    cr_assert_eq(burn_conv2d_init(&cv, 8, 3, 224, 224, 64, 7, 7, 2, 3), 0); /* ResNet stem */
    cr_assert_eq(cv.Ho, 112);
    cr_assert_eq(cv.Wo, 112);
    cr_assert_eq(burn_conv2d_init(&cv, 8, 3, 224, 224, 32, 3, 3, 2, 1), 0); /* ReActNet stem */
    cr_assert_eq(cv.Ho, 112);
    cr_assert_eq(burn_conv2d_init(&cv, 8, 256, 56, 56, 512, 1, 1, 2, 0), 0); /* downsample */
    cr_assert_eq(cv.Ho, 28);
    cr_assert_eq(burn_conv2d_init(&cv, 1, 1, 7, 5, 1, 3, 3, 2, 1), 0);
    cr_assert_eq(cv.Ho, 4);
    cr_assert_eq(cv.Wo, 3);
}

Test(layers_conv, bad_shapes_are_errors) {
    burn_conv2d cv;
    cr_assert_eq(burn_conv2d_init(&cv, 0, 3, 8, 8, 4, 3, 3, 1, 1), -1);
    cr_assert(strstr(burn_error(), "conv2d"), "%s", burn_error());
    cr_assert_eq(burn_conv2d_init(&cv, 1, 3, 8, 8, -4, 3, 3, 1, 1), -1);
    cr_assert_eq(burn_conv2d_init(&cv, 1, 3, 8, 8, 4, 3, 3, 0, 1), -1);
    cr_assert(strstr(burn_error(), "stride"), "%s", burn_error());
    cr_assert_eq(burn_conv2d_init(&cv, 1, 3, 8, 8, 4, 3, 3, 1, -1), -1);
    cr_assert_eq(burn_conv2d_init(&cv, 1, 3, 2, 8, 4, 5, 5, 1, 1), -1);
    cr_assert(strstr(burn_error(), "larger"), "%s", burn_error());
}
