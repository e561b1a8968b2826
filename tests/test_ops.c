/* test_ops.c — every basic op of the CPU backend against a naive double reference on random
 * inputs (fill, scale, axpy, add, mul, sum, sumsq, gemm in all transpose combinations), and
 * the backend table complete. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "test_util.h"

static const burn_backend *be;
static void setup(void) { be = burn_cpu_backend(); }
TestSuite(ops, .init = setup);

Test(ops, fill_scale_axpy_add_mul) {
    for (int64_t n = 1; n <= 4099; n = n * 3 + 7) {
        float *x = malloc(n * 4), *y = malloc(n * 4), *o = malloc(n * 4);
        double *ref = malloc(n * 8);
        tu_fill(x, n, n, -2, 2);
        tu_fill(y, n, n + 1, -2, 2);

        be->fill(o, 1.25f, n);
        for (int64_t i = 0; i < n; i++) cr_assert_eq(o[i], 1.25f);

        for (int64_t i = 0; i < n; i++) ref[i] = (double)x[i] * -0.75;
        memcpy(o, x, n * 4);
        be->scale(o, -0.75f, n);
        cr_assert_leq(tu_max_rel(o, ref, n, 1e-6), 1e-6, "scale n=%ld", (long)n);

        for (int64_t i = 0; i < n; i++) ref[i] = (double)y[i] + 0.3 * (double)x[i];
        memcpy(o, y, n * 4);
        be->axpy(o, 0.3f, x, n);
        cr_assert_leq(tu_max_rel(o, ref, n, 1.0), 1e-6, "axpy n=%ld", (long)n); /* cancellation: absolute near 0 */

        for (int64_t i = 0; i < n; i++) ref[i] = (double)x[i] + (double)y[i];
        be->add(o, x, y, n);
        cr_assert_leq(tu_max_rel(o, ref, n, 1e-6), 1e-6, "add n=%ld", (long)n);

        for (int64_t i = 0; i < n; i++) ref[i] = (double)x[i] * (double)y[i];
        be->mul(o, x, y, n);
        cr_assert_leq(tu_max_rel(o, ref, n, 1e-6), 1e-6, "mul n=%ld", (long)n);
        free(x), free(y), free(o), free(ref);
    }
}

Test(ops, sum_and_sumsq) {
    for (int64_t n = 1; n <= 1000003; n = n * 7 + 3) {
        float *x = malloc(n * 4), out;
        tu_fill(x, n, 42 + n, -1, 1);
        double s = 0, q = 0;
        for (int64_t i = 0; i < n; i++) s += x[i], q += (double)x[i] * x[i];
        be->sum(&out, x, n);
        cr_assert_leq(fabs(out - s), 1e-6 * (fabs(s) + 1), "sum n=%ld: %g vs %g", (long)n, out, s);
        be->sumsq(&out, x, n);
        cr_assert_leq(fabs(out - q), 1e-6 * q, "sumsq n=%ld: %g vs %g", (long)n, out, q);
        free(x);
    }
}

/* naive double reference for row-major C = alpha op(A) op(B) + beta C */
static void ref_gemm(int ta, int tb, int M, int N, int K, double alpha, const float *A, int lda,
                     const float *B, int ldb, double beta, const float *C0, int ldc, double *C) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(long)k * lda + i] : A[(long)i * lda + k];
                double b = tb ? B[(long)j * ldb + k] : B[(long)k * ldb + j];
                acc += a * b;
            }
            C[(long)i * N + j] = alpha * acc + beta * C0[(long)i * ldc + j];
        }
}

Test(ops, gemm_all_transposes_random_shapes) {
    uint64_t s = 7;
    for (int trial = 0; trial < 24; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int M = tu_int(&s, 1, 70), N = tu_int(&s, 1, 70), K = tu_int(&s, 1, 90);
        int lda = (ta ? M : K) + tu_int(&s, 0, 3), ldb = (tb ? K : N) + tu_int(&s, 0, 3);
        int ldc = N + tu_int(&s, 0, 3);
        float *A = malloc(4L * (ta ? K : M) * lda), *B = malloc(4L * (tb ? N : K) * ldb);
        float *C = malloc(4L * M * ldc), *C0 = malloc(4L * M * ldc), *Cp = malloc(4L * M * N);
        double *ref = malloc(8L * M * N);
        tu_fill(A, (long)(ta ? K : M) * lda, trial, -1, 1);
        tu_fill(B, (long)(tb ? N : K) * ldb, trial + 100, -1, 1);
        tu_fill(C0, (long)M * ldc, trial + 200, -1, 1);
        memcpy(C, C0, 4L * M * ldc);
        float alpha = 0.7f, beta = trial % 3 == 0 ? 0.0f : -0.4f;
        ref_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc, ref);
        be->gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        for (int i = 0; i < M; i++) memcpy(Cp + (long)i * N, C + (long)i * ldc, 4L * N);
        double err = tu_max_rel(Cp, ref, (long)M * N, 1.0);
        cr_assert_leq(err, 1e-5, "gemm ta=%d tb=%d %dx%dx%d: err %g", ta, tb, M, N, K, err);
        /* the padding columns of C are untouched */
        for (int i = 0; i < M; i++)
            for (int j = N; j < ldc; j++) cr_assert_eq(C[(long)i * ldc + j], C0[(long)i * ldc + j]);
        free(A), free(B), free(C), free(C0), free(Cp), free(ref);
    }
}

/* The table comes from one list (BURN_BACKEND_OPS): every entry of the CPU backend is set,
 * and a table with a hole is named and refused (issue 15). */
Test(ops, the_backend_table_is_complete) {
    cr_assert_null(burn_backend_missing(be), "the CPU backend lacks %s", burn_backend_missing(be));
    int ops = 0;
#define COUNT_OP(ret, name, params) ops++;
    BURN_BACKEND_OPS(COUNT_OP)
#undef COUNT_OP
    cr_assert_gt(ops, 60);
    burn_backend holed = *be;
    holed.xnor_gemm = NULL;
    cr_assert_str_eq(burn_backend_missing(&holed), "xnor_gemm");
    holed = *be;
    holed.download = NULL;
    cr_assert_str_eq(burn_backend_missing(&holed), "download");
}
