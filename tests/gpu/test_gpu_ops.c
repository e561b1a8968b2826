/* test_gpu_ops.c — every basic op of the CUDA backend against the CPU backend on random
 * inputs. Skipped (visibly) without a CUDA device. */
#include "gpu_util.h"

static const burn_backend *cpu;
static void setup(void) { cpu = burn_cpu_backend(); }
TestSuite(gpu_ops, .init = setup);

Test(gpu_ops, elementwise) {
    REQUIRE_CUDA(g);
    for (int64_t n = 1; n <= 300007; n = n * 5 + 2) {
        float *x = malloc(n * 4), *y = malloc(n * 4), *c = malloc(n * 4);
        tu_fill(x, n, n, -2, 2);
        tu_fill(y, n, n + 9, -2, 2);
        float *dx = gu_upload(g, x, n), *dy = gu_upload(g, y, n), *dout = g->alloc(n * 4);
        float *r;
#define CHECK_EQ(what)                                                                  \
    r = gu_download(g, dout, n);                                                         \
    cr_assert_leq(tu_max_rel_f(r, c, n, 1.0), 1e-6, what " n=%ld", (long)n);            \
    free(r);
        g->fill(dout, -1.5f, n);
        cpu->fill(c, -1.5f, n);
        CHECK_EQ("fill");
        g->copy(dout, dx, n * 4);
        g->scale(dout, 0.3f, n);
        memcpy(c, x, n * 4);
        cpu->scale(c, 0.3f, n);
        CHECK_EQ("scale");
        g->copy(dout, dy, n * 4);
        g->axpy(dout, -0.7f, dx, n);
        memcpy(c, y, n * 4);
        cpu->axpy(c, -0.7f, x, n);
        CHECK_EQ("axpy");
        g->add(dout, dx, dy, n);
        cpu->add(c, x, y, n);
        CHECK_EQ("add");
        g->mul(dout, dx, dy, n);
        cpu->mul(c, x, y, n);
        CHECK_EQ("mul");
        g->free(dx), g->free(dy), g->free(dout);
        free(x), free(y), free(c);
    }
}

Test(gpu_ops, reductions) {
    REQUIRE_CUDA(g);
    for (int64_t n = 1; n <= 5000000; n = n * 9 + 1) {
        float *x = malloc(n * 4), c, r;
        tu_fill(x, n, 3 * n, -1, 1);
        float *dx = gu_upload(g, x, n), *dout = g->alloc(4);
        g->sum(dout, dx, n);
        g->download(&r, dout, 4);
        cpu->sum(&c, x, n);
        cr_assert_leq(fabs(r - c), 1e-6 * (fabs(c) + 1), "sum n=%ld: %g vs %g", (long)n, r, c);
        g->sumsq(dout, dx, n);
        g->download(&r, dout, 4);
        cpu->sumsq(&c, x, n);
        cr_assert_leq(fabs(r - c), 1e-6 * c, "sumsq n=%ld: %g vs %g", (long)n, r, c);
        g->free(dx), g->free(dout);
        free(x);
    }
}

Test(gpu_ops, gemm) {
    REQUIRE_CUDA(g);
    uint64_t s = 11;
    for (int trial = 0; trial < 16; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int M = tu_int(&s, 1, 300), N = tu_int(&s, 1, 300), K = tu_int(&s, 1, 500);
        int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
        int64_t na = (int64_t)M * K, nb = (int64_t)K * N, nc = (int64_t)M * N;
        float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4);
        tu_fill(A, na, trial, -1, 1);
        tu_fill(B, nb, trial + 50, -1, 1);
        tu_fill(C, nc, trial + 90, -1, 1);
        float *dA = gu_upload(g, A, na), *dB = gu_upload(g, B, nb), *dC = gu_upload(g, C, nc);
        g->gemm(ta, tb, M, N, K, 1.1f, dA, lda, dB, ldb, 0.5f, dC, ldc);
        cpu->gemm(ta, tb, M, N, K, 1.1f, A, lda, B, ldb, 0.5f, C, ldc);
        float *r = gu_download(g, dC, nc);
        double err = tu_max_rel_f(r, C, nc, 1.0);
        cr_assert_leq(err, 1e-5, "gemm ta=%d tb=%d %dx%dx%d err %g", ta, tb, M, N, K, err);
        free(r), free(A), free(B), free(C);
        g->free(dA), g->free(dB), g->free(dC);
    }
}

Test(gpu_ops, random_fills_match_cpu) {
    REQUIRE_CUDA(g);
    int64_t n = 1 << 20;
    float *c = malloc(n * 4), *d = g->alloc(n * 4);
    cpu->uniform(c, n, 99, 12345, -2, 3);
    g->uniform(d, n, 99, 12345, -2, 3);
    float *r = gu_download(g, d, n);
    cr_assert(memcmp(r, c, n * 4) == 0, "uniform: CUDA and CPU differ");
    free(r);
    cpu->normal(c, n, 7, 0, 0.1f, 2.0f);
    g->normal(d, n, 7, 0, 0.1f, 2.0f);
    r = gu_download(g, d, n);
    int64_t differ = 0;
    for (int64_t i = 0; i < n; i++)
        if (r[i] != c[i]) {
            differ++;
            cr_assert_leq(fabsf(r[i] - c[i]), 2 * 1.2e-7f * fabsf(c[i]) + 1e-30f,
                          "normal[%ld]: %.9g vs %.9g", (long)i, r[i], c[i]);
        }
    cr_assert_leq(differ, 8, "normal: %ld of %ld elements differ by an ulp", (long)differ, (long)n);
    free(r), free(c);
    g->free(d);
}

/* Every entry of the CUDA table is set (BURN_BACKEND_OPS, issue 15). */
Test(gpu_ops, the_backend_table_is_complete) {
    REQUIRE_CUDA(g);
    cr_assert_null(burn_backend_missing(g), "the CUDA backend lacks %s", burn_backend_missing(g));
    cr_assert_not_null(g->dist_attach);
}
