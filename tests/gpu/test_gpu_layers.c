/* test_gpu_layers.c — every FP layer op of the CUDA backend (cuDNN conv2d, BatchNorm, ReLU,
 * PReLU, bias, pools, linear, concat) against the CPU backend on the same random inputs, via
 * the layer API of include/burn/layers.h. Skipped (visibly) without a CUDA device.
 * Errors are measured relative to the largest CPU value of the tensor: 1e-4 for cuDNN
 * convolutions (other summation orders and algorithms, FP32 only: no TF32), 1e-5 for the
 * reductions, 1e-6 for per-element ops that share their BURN_HD formula with the CPU. */
#include "gpu_util.h"

#include "burn/layers.h"

static const burn_backend *cpu;
static void setup(void) { cpu = burn_cpu_backend(); }
TestSuite(gpu_layers, .init = setup);

static float *rnd(int64_t n, uint64_t seed, float lo, float hi) {
    float *x = malloc((size_t)n * 4);
    tu_fill(x, n, seed, lo, hi);
    return x;
}

/* download d[n] and compare with the CPU's h[n] */
static double dev_err(const burn_backend *g, const float *d, const float *h, int64_t n) {
    float *r = gu_download(g, d, n);
    double e = gu_rel_to_max(r, h, n);
    free(r);
    return e;
}

Test(gpu_layers, conv2d) {
    REQUIRE_CUDA(g);
    /* network geometries (ResNet stem 7×7/2, 3×3/1, 3×3/2, 1×1/1, 1×1/2) and odd ones */
    static const int geo[][9] = {
        {4, 3, 57, 55, 16, 7, 7, 2, 3}, {4, 16, 28, 28, 32, 3, 3, 1, 1},
        {3, 32, 15, 15, 24, 3, 3, 2, 1}, {5, 64, 7, 7, 96, 1, 1, 1, 0},
        {4, 48, 14, 13, 64, 1, 1, 2, 0}, {2, 5, 9, 11, 7, 3, 5, 1, 2},
        {1, 1, 1, 1, 1, 1, 1, 1, 0},    {2, 3, 6, 9, 2, 3, 3, 1, 0},
    };
    for (int k = 0; k < (int)(sizeof geo / sizeof geo[0]); k++) {
        const int *q = geo[k];
        burn_conv2d cv;
        cr_assert_eq(burn_conv2d_init(&cv, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8]),
                     0, "%s", burn_error());
        int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W,
                nw = (int64_t)cv.O * cv.C * cv.kh * cv.kw,
                ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
        float *x = rnd(nx, 10 + k, -1, 1), *w = rnd(nw, 20 + k, -1, 1);
        float *dy = rnd(ny, 30 + k, -1, 1);
        float *dw = rnd(nw, 40 + k, -1, 1), *y = malloc(ny * 4), *dx = malloc(nx * 4);
        float *d_x = gu_upload(g, x, nx), *d_w = gu_upload(g, w, nw), *d_dy = gu_upload(g, dy, ny);
        float *d_dw = gu_upload(g, dw, nw), *d_y = g->alloc(ny * 4), *d_dx = g->alloc(nx * 4);

        burn_conv2d_forward(cpu, &cv, y, x, w);
        burn_conv2d_backward(cpu, &cv, dx, dw, dy, x, w);
        for (int rep = 0; rep < 2; rep++) { /* the second call reuses the cached plan */
            burn_conv2d_forward(g, &cv, d_y, d_x, d_w);
            double e = dev_err(g, d_y, y, ny);
            cr_assert_leq(e, 1e-4, "conv %d forward (call %d): err %.3g", k, rep, e);
        }
        burn_conv2d_backward(g, &cv, d_dx, d_dw, d_dy, d_x, d_w);
        double ex = dev_err(g, d_dx, dx, nx), ew = dev_err(g, d_dw, dw, nw);
        cr_assert_leq(ex, 1e-4, "conv %d backward data: err %.3g", k, ex);
        cr_assert_leq(ew, 1e-4, "conv %d backward filter (accumulated): err %.3g", k, ew);
        g->free(d_x), g->free(d_w), g->free(d_dy), g->free(d_dw), g->free(d_y), g->free(d_dx);
        free(x), free(w), free(dy), free(dw), free(y), free(dx);
    }
}

Test(gpu_layers, batchnorm) {
    REQUIRE_CUDA(g);
    /* BN2d with a large channel (split over several blocks), BN2d, BN1d */
    static const int shapes[][3] = {{8, 3, 4096}, {4, 37, 49}, {64, 300, 1}, {3, 5, 1}};
    for (int k = 0; k < 4; k++) {
        int N = shapes[k][0], C = shapes[k][1], HW = shapes[k][2];
        int64_t n = (int64_t)N * C * HW;
        burn_bn bn;
        cr_assert_eq(burn_bn_init(&bn, N, C, HW), 0);
        float *x = rnd(n, 50 + k, -1, 3), *gm = rnd(C, 51 + k, 0.5f, 1.5f);
        float *bt = rnd(C, 52 + k, -1, 1), *rm = rnd(C, 53 + k, -1, 1);
        float *rv = rnd(C, 54 + k, 0.5f, 2), *dy = rnd(n, 55 + k, -1, 1);
        float *dg = rnd(C, 56 + k, -1, 1), *db = rnd(C, 57 + k, -1, 1);
        float *d_x = gu_upload(g, x, n), *d_g = gu_upload(g, gm, C), *d_b = gu_upload(g, bt, C);
        float *d_rm = gu_upload(g, rm, C), *d_rv = gu_upload(g, rv, C), *d_dy = gu_upload(g, dy, n);
        float *d_dg = gu_upload(g, dg, C), *d_db = gu_upload(g, db, C);
        float *d_y = g->alloc(n * 4), *d_dx = g->alloc(n * 4), *d_m = g->alloc(C * 4),
              *d_is = g->alloc(C * 4);
        double *d_stats = g->alloc(burn_bn_stats_bytes(&bn));
        float *y = malloc(n * 4), *dx = malloc(n * 4), *m = malloc(C * 4), *is = malloc(C * 4);
        double *stats = malloc(burn_bn_stats_bytes(&bn));
        double *stats_g = malloc(burn_bn_stats_bytes(&bn));

        cr_assert_eq(burn_bn_forward_train(cpu, &bn, y, m, is, rm, rv, stats, x, gm, bt), 0);
        cr_assert_eq(
            burn_bn_forward_train(g, &bn, d_y, d_m, d_is, d_rm, d_rv, d_stats, d_x, d_g, d_b), 0);
        g->download(stats_g, d_stats, burn_bn_stats_bytes(&bn));
        for (int i = 0; i < 2 * C; i++)
            cr_assert_leq(fabs(stats_g[i] - stats[i]), 1e-9 * (fabs(stats[i]) + 1), "stats[%d]", i);
        cr_assert_leq(dev_err(g, d_y, y, n), 1e-6, "bn %d train forward", k);
        cr_assert_leq(dev_err(g, d_m, m, C), 1e-6, "bn %d mean", k);
        cr_assert_leq(dev_err(g, d_is, is, C), 1e-6, "bn %d invstd", k);
        cr_assert_leq(dev_err(g, d_rm, rm, C), 1e-6, "bn %d running mean", k);
        cr_assert_leq(dev_err(g, d_rv, rv, C), 1e-6, "bn %d running var", k);

        burn_bn_backward(cpu, &bn, dx, dg, db, stats, dy, x, gm, m, is);
        burn_bn_backward(g, &bn, d_dx, d_dg, d_db, d_stats, d_dy, d_x, d_g, d_m, d_is);
        cr_assert_leq(dev_err(g, d_dx, dx, n), 1e-5, "bn %d dx", k);
        cr_assert_leq(dev_err(g, d_dg, dg, C), 1e-5, "bn %d dgamma", k);
        cr_assert_leq(dev_err(g, d_db, db, C), 1e-5, "bn %d dbeta", k);

        /* eval mode with the (updated) running statistics */
        burn_bn_forward_eval(cpu, &bn, y, x, gm, bt, rm, rv);
        burn_bn_forward_eval(g, &bn, d_y, d_x, d_g, d_b, d_rm, d_rv);
        cr_assert_leq(dev_err(g, d_y, y, n), 1e-6, "bn %d eval", k);

        /* deterministic: the same statistics bit for bit on a second run */
        double *again = malloc(burn_bn_stats_bytes(&bn));
        g->bn_stats(d_stats, d_x, N, C, HW);
        g->download(again, d_stats, burn_bn_stats_bytes(&bn));
        g->bn_stats(d_stats, d_x, N, C, HW);
        g->download(stats_g, d_stats, burn_bn_stats_bytes(&bn));
        cr_assert_eq(memcmp(again, stats_g, burn_bn_stats_bytes(&bn)), 0, "bn %d determinism", k);
        free(again);

        g->free(d_x), g->free(d_g), g->free(d_b), g->free(d_rm), g->free(d_rv), g->free(d_dy);
        g->free(d_dg), g->free(d_db), g->free(d_y), g->free(d_dx), g->free(d_m), g->free(d_is);
        g->free(d_stats);
        free(x), free(gm), free(bt), free(rm), free(rv), free(dy), free(dg), free(db), free(y);
        free(dx), free(m), free(is), free(stats), free(stats_g);
    }
}

Test(gpu_layers, activations_and_bias) {
    REQUIRE_CUDA(g);
    static const int shapes[][3] = {{8, 32, 3136}, {3, 7, 11}, {256, 2000, 1}};
    for (int k = 0; k < 3; k++) {
        int N = shapes[k][0], C = shapes[k][1], HW = shapes[k][2];
        int64_t n = (int64_t)N * C * HW;
        float *x = rnd(n, 60 + k, -1, 1), *dy = rnd(n, 61 + k, -1, 1), *a = rnd(C, 62 + k, 0, 0.5f);
        float *da = rnd(C, 63 + k, -1, 1), *db = rnd(C, 64 + k, -1, 1);
        float *y = malloc(n * 4), *dx = malloc(n * 4);
        float *d_x = gu_upload(g, x, n), *d_dy = gu_upload(g, dy, n), *d_a = gu_upload(g, a, C);
        float *d_da = gu_upload(g, da, C), *d_db = gu_upload(g, db, C);
        float *d_y = g->alloc(n * 4), *d_dx = g->alloc(n * 4);

        burn_relu_forward(cpu, y, x, n);
        burn_relu_forward(g, d_y, d_x, n);
        cr_assert_leq(dev_err(g, d_y, y, n), 0, "relu forward");
        burn_relu_backward(cpu, dx, dy, y, n);
        burn_relu_backward(g, d_dx, d_dy, d_y, n);
        cr_assert_leq(dev_err(g, d_dx, dx, n), 0, "relu backward");

        burn_prelu_forward(cpu, y, x, a, N, C, HW);
        burn_prelu_forward(g, d_y, d_x, d_a, N, C, HW);
        cr_assert_leq(dev_err(g, d_y, y, n), 1e-6, "prelu forward");
        burn_prelu_backward(cpu, dx, da, dy, x, a, N, C, HW);
        burn_prelu_backward(g, d_dx, d_da, d_dy, d_x, d_a, N, C, HW);
        cr_assert_leq(dev_err(g, d_dx, dx, n), 1e-6, "prelu dx");
        cr_assert_leq(dev_err(g, d_da, da, C), 1e-5, "prelu dslope");
        burn_prelu_backward(g, d_y, NULL, d_dy, d_x, d_a, N, C, HW); /* dx alone */
        cr_assert_leq(dev_err(g, d_y, dx, n), 1e-6, "prelu dx without dslope");

        burn_bias_forward(cpu, y, x, a, N, C, HW);
        burn_bias_forward(g, d_y, d_x, d_a, N, C, HW);
        cr_assert_leq(dev_err(g, d_y, y, n), 1e-6, "bias forward");
        burn_bias_backward(cpu, db, dy, N, C, HW);
        burn_bias_backward(g, d_db, d_dy, N, C, HW);
        cr_assert_leq(dev_err(g, d_db, db, C), 1e-5, "bias backward");

        g->free(d_x), g->free(d_dy), g->free(d_a), g->free(d_da), g->free(d_db), g->free(d_y);
        g->free(d_dx);
        free(x), free(dy), free(a), free(da), free(db), free(y), free(dx);
    }
}

Test(gpu_layers, pools) {
    REQUIRE_CUDA(g);
    static const int geo[][7] = {/* N, C, H, W, kernel, stride, pad; pad < 0: avg pool */
                                 {8, 16, 112, 112, 3, 2, 1}, {2, 3, 9, 7, 3, 2, 1},
                                 {4, 32, 56, 56, 2, 2, -1},  {3, 5, 7, 9, 2, 2, -1},
                                 {2, 4, 11, 10, 3, 2, -1},   {2, 2, 5, 6, 2, 2, 0}};
    for (int k = 0; k < 6; k++) {
        const int *q = geo[k];
        int is_max = q[6] >= 0;
        burn_pool2d p;
        int rc = is_max ? burn_maxpool2d_init(&p, q[0], q[1], q[2], q[3], q[4], q[5], q[6])
                        : burn_avgpool2d_init(&p, q[0], q[1], q[2], q[3], q[4], q[5]);
        cr_assert_eq(rc, 0, "%s", burn_error());
        int64_t nx = (int64_t)p.N * p.C * p.H * p.W, ny = (int64_t)p.N * p.C * p.Ho * p.Wo;
        float *x = rnd(nx, 70 + k, -1, 1), *dy = rnd(ny, 71 + k, -1, 1);
        float *y = malloc(ny * 4), *dx = malloc(nx * 4);
        float *d_x = gu_upload(g, x, nx), *d_dy = gu_upload(g, dy, ny);
        float *d_y = g->alloc(ny * 4), *d_dx = g->alloc(nx * 4);
        if (is_max) {
            burn_maxpool2d_forward(cpu, &p, y, x);
            burn_maxpool2d_forward(g, &p, d_y, d_x);
            burn_maxpool2d_backward(cpu, &p, dx, dy, x);
            burn_maxpool2d_backward(g, &p, d_dx, d_dy, d_x);
        } else {
            burn_avgpool2d_forward(cpu, &p, y, x);
            burn_avgpool2d_forward(g, &p, d_y, d_x);
            burn_avgpool2d_backward(cpu, &p, dx, dy);
            burn_avgpool2d_backward(g, &p, d_dx, d_dy);
        }
        cr_assert_leq(dev_err(g, d_y, y, ny), 1e-6, "pool %d forward", k);
        cr_assert_leq(dev_err(g, d_dx, dx, nx), 1e-6, "pool %d backward", k);

        /* global average pool over the same tensor */
        int N = p.N, C = p.C, HW = p.H * p.W;
        burn_global_avgpool_forward(cpu, y, x, N, C, HW);
        burn_global_avgpool_forward(g, d_y, d_x, N, C, HW);
        cr_assert_leq(dev_err(g, d_y, y, (int64_t)N * C), 1e-6, "global pool %d forward", k);
        burn_global_avgpool_backward(cpu, dx, dy, N, C, HW); /* dy[N·C] read from the front */
        burn_global_avgpool_backward(g, d_dx, d_dy, N, C, HW);
        cr_assert_leq(dev_err(g, d_dx, dx, nx), 1e-6, "global pool %d backward", k);

        g->free(d_x), g->free(d_dy), g->free(d_y), g->free(d_dx);
        free(x), free(dy), free(y), free(dx);
    }
}

Test(gpu_layers, linear_and_concat) {
    REQUIRE_CUDA(g);
    static const int shapes[][3] = {{256, 1024, 2000}, {7, 33, 5}, {1, 1, 1}};
    for (int k = 0; k < 3; k++) {
        burn_linear l;
        cr_assert_eq(burn_linear_init(&l, shapes[k][0], shapes[k][1], shapes[k][2]), 0);
        int64_t nx = (int64_t)l.N * l.in, nw = (int64_t)l.out * l.in, ny = (int64_t)l.N * l.out;
        float *x = rnd(nx, 80 + k, -1, 1), *W = rnd(nw, 81 + k, -0.1f, 0.1f);
        float *b = rnd(l.out, 82 + k, -1, 1), *dy = rnd(ny, 83 + k, -1, 1);
        float *dW = rnd(nw, 84 + k, -1, 1), *db = rnd(l.out, 85 + k, -1, 1);
        float *y = malloc(ny * 4), *dx = malloc(nx * 4);
        float *d_x = gu_upload(g, x, nx), *d_W = gu_upload(g, W, nw), *d_b = gu_upload(g, b, l.out);
        float *d_dy = gu_upload(g, dy, ny), *d_dW = gu_upload(g, dW, nw);
        float *d_db = gu_upload(g, db, l.out);
        float *d_y = g->alloc(ny * 4), *d_dx = g->alloc(nx * 4);
        burn_linear_forward(cpu, &l, y, x, W, b);
        burn_linear_forward(g, &l, d_y, d_x, d_W, d_b);
        cr_assert_leq(dev_err(g, d_y, y, ny), 1e-5, "linear %d forward", k);
        burn_linear_backward(cpu, &l, dx, dW, db, dy, x, W);
        burn_linear_backward(g, &l, d_dx, d_dW, d_db, d_dy, d_x, d_W);
        cr_assert_leq(dev_err(g, d_dx, dx, nx), 1e-5, "linear %d dx", k);
        cr_assert_leq(dev_err(g, d_dW, dW, nw), 1e-5, "linear %d dW", k);
        cr_assert_leq(dev_err(g, d_db, db, l.out), 1e-5, "linear %d db", k);
        g->free(d_x), g->free(d_W), g->free(d_b), g->free(d_dy), g->free(d_dW), g->free(d_db);
        g->free(d_y), g->free(d_dx);
        free(x), free(W), free(b), free(dy), free(dW), free(db), free(y), free(dx);
    }

    static const int cat[][4] = {{8, 64, 64, 49}, {3, 5, 2, 7}, {1, 1, 3, 1}};
    for (int k = 0; k < 3; k++) {
        int N = cat[k][0], Ca = cat[k][1], Cb = cat[k][2], HW = cat[k][3];
        int64_t na = (int64_t)N * Ca * HW, nb = (int64_t)N * Cb * HW, ny = na + nb;
        float *a = rnd(na, 90 + k, -1, 1), *b = rnd(nb, 91 + k, -1, 1), *y = malloc(ny * 4);
        float *d_a = gu_upload(g, a, na), *d_b = gu_upload(g, b, nb), *d_y = g->alloc(ny * 4);
        burn_concat_forward(cpu, y, a, b, N, Ca, Cb, HW);
        burn_concat_forward(g, d_y, d_a, d_b, N, Ca, Cb, HW);
        cr_assert_leq(dev_err(g, d_y, y, ny), 0, "concat %d", k);
        g->fill(d_a, 0, na), g->fill(d_b, 0, nb);
        burn_concat_backward(g, d_a, d_b, d_y, N, Ca, Cb, HW);
        cr_assert_leq(dev_err(g, d_a, a, na), 0, "split %d (a)", k);
        cr_assert_leq(dev_err(g, d_b, b, nb), 0, "split %d (b)", k);
        g->free(d_a), g->free(d_b), g->free(d_y);
        free(a), free(b), free(y);
    }
}
