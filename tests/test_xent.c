/* test_xent.c — the CPU softmax cross-entropy op (src/cpu/xent.c) against a naive
 * double-precision reference on random logits (small and far beyond exp's range, odd class
 * counts, tails of the 256-column chunks), its gradient against central finite differences,
 * the NaN contract for labels outside [0, C), and burn_topk_correct against a naive count. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/eval.h"
#include "test_util.h"

#define FD_H 1e-6

static const burn_backend *cpu(void) { return burn_cpu_backend(); }

/* Σ_n w_n·(logsumexp(z_n) − z_n[y_n]) with long double sums; rows[n] gets each term (w = 1). */
static double ref_xent(double *rows, const double *z, const int32_t *y, int N, int C,
                       const double *w) {
    double total = 0;
    for (int n = 0; n < N; n++) {
        double m = -INFINITY;
        for (int c = 0; c < C; c++) m = fmax(m, z[n * C + c]);
        long double s = 0;
        for (int c = 0; c < C; c++) s += expl((long double)(z[n * C + c] - m));
        double loss = m + (double)logl(s) - z[n * C + y[n]];
        if (rows) rows[n] = loss;
        total += (w ? w[n] : 1.0) * loss;
    }
    return total;
}

static double *to_double(const float *x, int64_t n) {
    double *d = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

static int32_t *random_labels(int N, int C, uint64_t seed) {
    int32_t *y = malloc((size_t)N * sizeof(int32_t));
    uint64_t s = seed;
    for (int n = 0; n < N; n++) y[n] = tu_int(&s, 0, C - 1);
    return y;
}

Test(xent, forward_matches_double_reference) {
    static const int shapes[][2] = {{1, 1}, {1, 2}, {3, 10}, {4, 255}, {5, 257}, {2, 1000},
                                    {3, 3001}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int big = 0; big < 3; big++) { /* ordinary, large, far beyond exp's range */
            int N = shapes[s][0], C = shapes[s][1];
            int64_t n = (int64_t)N * C;
            float range = big == 0 ? 3.0f : big == 1 ? 60.0f : 3000.0f;
            float *z = malloc(n * 4), *rows = malloc(N * 4), *rows2 = malloc(N * 4),
                  *g = malloc(n * 4);
            tu_fill(z, n, 100 + s * 7 + big, -range, range);
            int32_t *y = random_labels(N, C, 50 + s);
            double *zd = to_double(z, n), *rd = malloc(N * 8);
            ref_xent(rd, zd, y, N, C, NULL);
            cpu()->softmax_xent(rows, NULL, z, y, N, C, 1.0f);
            for (int i = 0; i < N; i++) cr_assert(isfinite(rows[i]), "row %d not finite", i);
            /* the loss of a row is a difference of values of size `range`: relative to that */
            cr_assert_leq(tu_max_rel(rows, rd, N, 1.0 + range), 1e-6, "loss [%d, %d] range %g",
                          N, C, range);
            /* the loss does not depend on whether the gradient is wanted */
            cpu()->softmax_xent(rows2, g, z, y, N, C, 1.0f);
            cr_assert_eq(memcmp(rows2, rows, (size_t)N * 4), 0);
            for (int64_t i = 0; i < n; i++) cr_assert(isfinite(g[i]), "grad %lld", (long long)i);
            /* the gradient against softmax − onehot in double. Float logsumexp of logits of
             * size `range` is off by about an ulp of `range`, which every p = exp(z − lse)
             * carries as a relative error: the tolerance scales with it. */
            double tol = 2e-7 * (1.0 + range) + 1e-7;
            for (int i = 0; i < N; i++) {
                double sum = 0;
                for (int c = 0; c < C; c++) {
                    double p = exp(zd[(int64_t)i * C + c] - (rd[i] + zd[(int64_t)i * C + y[i]]));
                    double want = p - (c == y[i] ? 1.0 : 0.0), got = g[(int64_t)i * C + c];
                    cr_assert_leq(fabs(got - want), tol * fmax(p, 1e-3) + 1e-7,
                                  "grad [%d, %d] range %g at (%d, %d): %g vs %g", N, C, range,
                                  i, c, got, want);
                    sum += got;
                }
                /* each row of (softmax − onehot) sums to 0 */
                cr_assert_leq(fabs(sum), tol, "row %d sums to %g", i, sum);
            }
            free(z), free(rows), free(rows2), free(g), free(y), free(zd), free(rd);
        }
}

/* The gradient of Σ_n w_n·loss_n is grad_scale·(softmax − onehot) per row: checked for the
 * weights w_n = grad_scale against central differences of the double reference. */
Test(xent, backward_matches_finite_differences) {
    static const int shapes[][2] = {{1, 1}, {2, 3}, {3, 10}, {4, 41}, {2, 300}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], C = shapes[s][1];
        int64_t n = (int64_t)N * C;
        float *z = malloc(n * 4), *g = malloc(n * 4);
        tu_fill(z, n, 200 + s, -4, 4);
        int32_t *y = random_labels(N, C, 300 + s);
        float grad_scale = 1.0f / (float)N;
        cpu()->softmax_xent(NULL, g, z, y, N, C, grad_scale);
        double *zd = to_double(z, n), *fd = malloc(n * 8), *w = malloc(N * 8);
        for (int i = 0; i < N; i++) w[i] = grad_scale;
        for (int64_t i = 0; i < n; i++) {
            double v = zd[i];
            zd[i] = v + FD_H;
            double lp = ref_xent(NULL, zd, y, N, C, w);
            zd[i] = v - FD_H;
            double lm = ref_xent(NULL, zd, y, N, C, w);
            zd[i] = v;
            fd[i] = (lp - lm) / (2 * FD_H);
        }
        if (C == 1) { /* one class: loss ≡ 0, gradient 0 */
            for (int64_t i = 0; i < n; i++) cr_assert_float_eq(g[i], 0.0f, 1e-7);
        } else {
            double scale = 0;
            for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(fd[i]));
            cr_assert_gt(scale, 0);
            cr_assert_leq(tu_max_rel(g, fd, n, scale), 1e-5, "dlogits [%d, %d]", N, C);
        }
        free(z), free(g), free(y), free(zd), free(fd), free(w);
    }
}

/* dlogits is WRITTEN (stale contents do not leak in) and scales linearly with grad_scale. */
Test(xent, gradient_is_written_and_scaled) {
    int N = 6, C = 17;
    int64_t n = (int64_t)N * C;
    float *z = malloc(n * 4), *g1 = malloc(n * 4), *g2 = malloc(n * 4);
    tu_fill(z, n, 11, -2, 2);
    tu_fill(g2, n, 12, -50, 50); /* garbage that must be overwritten */
    int32_t *y = random_labels(N, C, 13);
    cpu()->softmax_xent(NULL, g1, z, y, N, C, 1.0f);
    cpu()->softmax_xent(NULL, g2, z, y, N, C, 0.25f);
    for (int64_t i = 0; i < n; i++) cr_assert_float_eq(g2[i], 0.25f * g1[i], 1e-7, "%lld", (long long)i);
    free(z), free(g1), free(g2), free(y);
}

/* A label outside [0, C) gives that row NaN (loss and gradient) and leaves the others alone. */
Test(xent, bad_label_row_is_nan) {
    int N = 3, C = 5;
    float z[15], loss[3], g[15];
    tu_fill(z, 15, 21, -1, 1);
    int32_t y[3] = {2, 5, -1};
    cpu()->softmax_xent(loss, g, z, y, N, C, 1.0f);
    cr_assert(isfinite(loss[0]));
    for (int c = 0; c < C; c++) cr_assert(isfinite(g[c]));
    for (int r = 1; r < 3; r++) {
        cr_assert(isnan(loss[r]), "row %d", r);
        for (int c = 0; c < C; c++) cr_assert(isnan(g[r * C + c]), "row %d col %d", r, c);
    }
}

/* ---- top-k accuracy counting ---- */

/* naive: the label is in the top k when fewer than k classes score strictly higher, or equal
 * with a lower index (ties resolved towards the lower class index) */
static int naive_in_topk(const float *z, int C, int label, int k) {
    int better = 0;
    for (int c = 0; c < C; c++)
        if (z[c] > z[label] || (z[c] == z[label] && c < label)) better++;
    return better < k;
}

Test(xent, topk_correct_matches_naive_count) {
    static const int shapes[][2] = {{1, 1}, {5, 3}, {37, 10}, {64, 100}, {9, 1000}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], C = shapes[s][1];
        int64_t n = (int64_t)N * C;
        float *z = malloc(n * 4);
        tu_fill(z, n, 400 + s, -3, 3);
        /* some ties: quantise a few rows */
        for (int64_t i = 0; i < n / 3; i++) z[i] = roundf(z[i]);
        int32_t *y = random_labels(N, C, 500 + s);
        int64_t want1 = 0, want5 = 0;
        for (int i = 0; i < N; i++) {
            want1 += naive_in_topk(z + (int64_t)i * C, C, y[i], 1);
            want5 += naive_in_topk(z + (int64_t)i * C, C, y[i], 5);
        }
        int64_t top1 = -1, top5 = -1;
        cr_assert_eq(burn_topk_correct(z, y, N, C, &top1, &top5), 0);
        cr_assert_eq(top1, want1, "[%d, %d] top1 %lld want %lld", N, C, (long long)top1, (long long)want1);
        cr_assert_eq(top5, want5, "[%d, %d] top5", N, C);
        cr_assert_geq(top5, top1);
        if (C <= 5) cr_assert_eq(top5, N, "with <= 5 classes every label is in the top 5");
        free(z), free(y);
    }
}

Test(xent, topk_correct_rejects_bad_labels) {
    float z[6] = {0.5f, 1.5f, -2.0f, 0.25f, 3.0f, 1.0f};
    int32_t y[2] = {1, 3};
    int64_t t1, t5;
    cr_assert_eq(burn_topk_correct(z, y, 2, 3, &t1, &t5), -1);
    cr_assert(strstr(burn_error(), "label") != NULL, "%s", burn_error());
    y[1] = 1;
    cr_assert_eq(burn_topk_correct(z, y, 2, 3, &t1, &t5), 0);
    cr_assert_eq(t1, 2);
}
