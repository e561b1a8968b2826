/* test_moco_ops.c — the MoCo v2 ops of the CPU backend (src/cpu/moco_ops.c) against naive
 * double-precision references on random inputs and shapes (odd sizes, tails of the 256-column
 * chunks), and their gradients against central finite differences of the double reference:
 * row-wise L2 normalisation, InfoNCE, row dot / row scale-add, SGD with momentum. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/moco_math.h"
#include "test_util.h"

#define FD_H 1e-6

static const burn_backend *cpu(void) { return burn_cpu_backend(); }

/* ---- double references ---- */

static void ref_l2norm(double *y, double *norm, const double *x, int N, int D) {
    for (int n = 0; n < N; n++) {
        double s = 0;
        for (int d = 0; d < D; d++) s += x[n * D + d] * x[n * D + d];
        double nr = sqrt(s), den = nr > 1e-12 ? nr : 1e-12;
        if (norm) norm[n] = nr;
        for (int d = 0; d < D; d++) y[n * D + d] = x[n * D + d] / den;
    }
}

/* mean over rows of −log softmax(l·inv_temp)[0], with long double sums */
static double ref_infonce(double *rows, const double *l, int N, int C, double inv_temp) {
    double total = 0;
    for (int n = 0; n < N; n++) {
        double m = -INFINITY;
        for (int c = 0; c < C; c++) m = fmax(m, l[n * C + c] * inv_temp);
        long double s = 0;
        for (int c = 0; c < C; c++) s += expl((long double)(l[n * C + c] * inv_temp - m));
        double loss = m + (double)logl(s) - l[n * C] * inv_temp;
        if (rows) rows[n] = loss;
        total += loss;
    }
    return total / N;
}

static double *to_double(const float *x, int64_t n) {
    double *d = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

/* ---- L2 normalisation ---- */

Test(moco_ops, l2norm_forward_matches_double_reference) {
    static const int shapes[][2] = {{1, 1}, {3, 7}, {5, 128}, {9, 300}, {2, 1025}};
    uint64_t rs = 7;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], D = shapes[s][1];
        int64_t n = (int64_t)N * D;
        float *x = malloc(n * 4), *y = malloc(n * 4), *norm = malloc(N * 4);
        tu_fill(x, n, 100 + s, -2, 2);
        x[0] *= (float)tu_int(&rs, 1, 50); /* rows of different scales */
        double *xd = to_double(x, n), *yd = malloc(n * 8), *nd = malloc(N * 8);
        ref_l2norm(yd, nd, xd, N, D);
        cpu()->l2norm_rows_forward(y, norm, x, N, D);
        cr_assert_leq(tu_max_rel(y, yd, n, 1e-3), 1e-5, "y [%d, %d]", N, D);
        cr_assert_leq(tu_max_rel(norm, nd, N, 0), 1e-5, "norm [%d, %d]", N, D);
        /* in place gives the same */
        cpu()->l2norm_rows_forward(x, norm, x, N, D);
        cr_assert_eq(memcmp(x, y, (size_t)n * 4), 0, "in place [%d, %d]", N, D);
        free(x), free(y), free(norm), free(xd), free(yd), free(nd);
    }
}

/* Backward of L = Σ w·y against central differences of the double forward. */
static void check_l2norm_grad(const float *x, int N, int D, uint64_t seed) {
    int64_t n = (int64_t)N * D;
    float *y = malloc(n * 4), *norm = malloc(N * 4), *w = malloc(n * 4), *dx = malloc(n * 4);
    tu_fill(w, n, seed, -1, 1);
    cpu()->l2norm_rows_forward(y, norm, x, N, D);
    cpu()->l2norm_rows_backward(dx, w, y, norm, N, D);
    double *xd = to_double(x, n), *yd = malloc(n * 8), *fd = malloc(n * 8);
    for (int64_t i = 0; i < n; i++) {
        double h = FD_H * fabs(xd[i]), v = xd[i], lp = 0, lm = 0; /* x is never 0 */
        xd[i] = v + h;
        ref_l2norm(yd, NULL, xd, N, D);
        for (int64_t k = 0; k < n; k++) lp += w[k] * yd[k];
        xd[i] = v - h;
        ref_l2norm(yd, NULL, xd, N, D);
        for (int64_t k = 0; k < n; k++) lm += w[k] * yd[k];
        xd[i] = v;
        fd[i] = (lp - lm) / (2 * h);
    }
    double scale = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(fd[i]));
    if (D == 1) /* y = sign(x): constant, so dx = 0 */
        for (int64_t i = 0; i < n; i++) cr_assert_leq(fabsf(dx[i]), 1e-7f, "dx[%lld]", (long long)i);
    else
        cr_assert_leq(tu_max_rel(dx, fd, n, scale), 1e-5, "dx [%d, %d] vs finite differences",
                      N, D);
    /* dx may be dy */
    memcpy(dx, w, n * 4);
    float *dx2 = malloc(n * 4);
    cpu()->l2norm_rows_backward(dx2, w, y, norm, N, D);
    cpu()->l2norm_rows_backward(dx, dx, y, norm, N, D);
    cr_assert_eq(memcmp(dx, dx2, (size_t)n * 4), 0, "in place");
    free(y), free(norm), free(w), free(dx), free(dx2), free(xd), free(yd), free(fd);
}

Test(moco_ops, l2norm_backward_matches_finite_differences) {
    static const int shapes[][2] = {{1, 1}, {2, 3}, {4, 17}, {3, 130}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], D = shapes[s][1];
        float *x = malloc((size_t)N * D * 4);
        tu_fill(x, (int64_t)N * D, 200 + s, -1.5f, 1.5f);
        check_l2norm_grad(x, N, D, 300 + s);
        free(x);
    }
}

/* A row with ‖x‖ < eps: y = x / eps is linear in x, dx = dy / eps (F.normalize's clamp). */
Test(moco_ops, l2norm_clamps_tiny_rows) {
    int N = 2, D = 5;
    float x[10];
    tu_fill(x, 10, 9, -1, 1);
    for (int d = 0; d < D; d++) x[d] *= 1e-14f; /* row 0: norm ~1e-14 < 1e-12 */
    float y[10], norm[2], dy[10], dx[10];
    cpu()->l2norm_rows_forward(y, norm, x, N, D);
    for (int d = 0; d < D; d++)
        cr_assert_float_eq(y[d], x[d] / 1e-12f, 1e-6 * fabsf(x[d] / 1e-12f), "y[%d]", d);
    tu_fill(dy, 10, 10, -1, 1);
    cpu()->l2norm_rows_backward(dx, dy, y, norm, N, D);
    for (int d = 0; d < D; d++)
        cr_assert_float_eq(dx[d], dy[d] / 1e-12f, 1e-6 * fabsf(dy[d] / 1e-12f), "dx[%d]", d);
    check_l2norm_grad(x, N, D, 11); /* row 1 is ordinary, row 0 clamped */
}

/* ---- InfoNCE ---- */

Test(moco_ops, infonce_forward_matches_double_reference) {
    static const int shapes[][2] = {{1, 1}, {1, 2}, {3, 255}, {4, 257}, {2, 1000}, {5, 3001}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], C = shapes[s][1];
        int64_t n = (int64_t)N * C;
        for (int big = 0; big < 2; big++) { /* cosines, then logits far beyond exp's range */
            float *l = malloc(n * 4), *rows = malloc(N * 4), *rows2 = malloc(N * 4);
            tu_fill(l, n, 400 + s, big ? -500 : -1, big ? 500 : 1);
            double *ld = to_double(l, n), *rd = malloc(N * 8);
            float inv_temp = 1.0f / 0.2f;
            ref_infonce(rd, ld, N, C, inv_temp);
            cpu()->infonce(rows, NULL, l, N, C, inv_temp, 1.0f);
            for (int i = 0; i < N; i++) cr_assert(isfinite(rows[i]), "row %d not finite", i);
            cr_assert_leq(tu_max_rel(rows, rd, N, 1.0), 2e-6, "loss [%d, %d] big %d", N, C, big);
            /* the loss does not depend on whether the gradient is wanted */
            float *g = malloc(n * 4);
            cpu()->infonce(rows2, g, l, N, C, inv_temp, 1.0f);
            cr_assert_eq(memcmp(rows2, rows, (size_t)N * 4), 0);
            free(l), free(rows), free(rows2), free(ld), free(rd), free(g);
        }
    }
}

Test(moco_ops, infonce_backward_matches_finite_differences) {
    static const int shapes[][2] = {{1, 1}, {2, 3}, {3, 40}, {2, 300}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], C = shapes[s][1];
        int64_t n = (int64_t)N * C;
        float *l = malloc(n * 4), *g = malloc(n * 4);
        tu_fill(l, n, 500 + s, -1, 1);
        double inv_temp = 1.0 / 0.2;
        cpu()->infonce(NULL, g, l, N, C, (float)inv_temp, 1.0f / N);
        double *ld = to_double(l, n), *fd = malloc(n * 8);
        for (int64_t i = 0; i < n; i++) {
            double v = ld[i], h = FD_H;
            ld[i] = v + h;
            double lp = ref_infonce(NULL, ld, N, C, inv_temp);
            ld[i] = v - h;
            double lm = ref_infonce(NULL, ld, N, C, inv_temp);
            ld[i] = v;
            fd[i] = (lp - lm) / (2 * h);
        }
        double scale = 0;
        for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(fd[i]));
        if (C == 1) { /* one column: loss ≡ 0, gradient 0 */
            for (int64_t i = 0; i < n; i++) cr_assert_float_eq(g[i], 0.0f, 1e-7);
        } else {
            cr_assert_gt(scale, 0);
            cr_assert_leq(tu_max_rel(g, fd, n, scale), 1e-5, "dlogits [%d, %d]", N, C);
        }
        free(l), free(g), free(ld), free(fd);
    }
}

/* ---- row dot, row scale-add ---- */

Test(moco_ops, row_dot_and_scale_add_match_double_reference) {
    static const int shapes[][2] = {{1, 1}, {3, 5}, {7, 128}, {4, 301}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], D = shapes[s][1], ld = 3;
        int64_t n = (int64_t)N * D;
        float *a = malloc(n * 4), *b = malloc(n * 4), *out = malloc((size_t)N * ld * 4);
        float *y = malloc(n * 4), *y0 = malloc(n * 4);
        tu_fill(a, n, 600 + s, -1, 1);
        tu_fill(b, n, 700 + s, -1, 1);
        tu_fill(out, (int64_t)N * ld, 800 + s, 5, 6); /* only every ld-th entry is written */
        float *before = malloc((size_t)N * ld * 4);
        memcpy(before, out, (size_t)N * ld * 4);
        cpu()->row_dot(out, ld, a, b, N, D);
        for (int r = 0; r < N; r++) {
            double want = 0;
            for (int d = 0; d < D; d++) want += (double)a[r * D + d] * b[r * D + d];
            cr_assert_leq(fabs(out[r * ld] - want), 1e-6 * (fabs(want) + 1), "row %d", r);
            for (int k = 1; k < ld; k++) cr_assert_eq(out[r * ld + k], before[r * ld + k]);
        }
        tu_fill(y, n, 900 + s, -1, 1);
        memcpy(y0, y, n * 4);
        cpu()->row_scale_add(y, out, ld, a, N, D);
        for (int r = 0; r < N; r++)
            for (int d = 0; d < D; d++) {
                double want = (double)y0[r * D + d] + (double)out[r * ld] * a[r * D + d];
                cr_assert_leq(fabs(y[r * D + d] - want), 1e-6 * (fabs(want) + 1));
            }
        free(a), free(b), free(out), free(y), free(y0), free(before);
    }
}

/* ---- SGD ---- */

Test(moco_ops, sgd_matches_pytorch_semantics) {
    int64_t n = 1001;
    float *p = malloc(n * 4), *g = malloc(n * 4), *buf = calloc(n, 4);
    double *pd = malloc(n * 8), *bd = malloc(n * 8);
    tu_fill(p, n, 1000, -1, 1);
    for (int64_t i = 0; i < n; i++) pd[i] = p[i];
    burn_sgd_hparams h = {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 1e-2f, .grad_scale = 0.5f};
    for (int step = 0; step < 6; step++) {
        tu_fill(g, n, 1100 + step, -1, 1);
        cpu()->sgd_step(p, g, buf, n, h);
        for (int64_t i = 0; i < n; i++) { /* torch.optim.SGD: buf = d at the first step */
            double d = (double)g[i] * h.grad_scale + (double)h.weight_decay * pd[i];
            bd[i] = step == 0 ? d : (double)h.momentum * bd[i] + d;
            pd[i] -= (double)h.lr * bd[i];
        }
    }
    cr_assert_leq(tu_max_rel(p, pd, n, 1.0), 1e-6, "parameters after 6 steps");
    cr_assert_leq(tu_max_rel(buf, bd, n, 1.0), 1e-6, "momentum buffer after 6 steps");
    free(p), free(g), free(buf), free(pd), free(bd);
}
