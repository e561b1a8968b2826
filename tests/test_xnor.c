/* test_xnor.c — bit packing and the xnor-popcount GEMM of the CPU backend, for each kernel
 * path (portable, AVX2, AVX-512; a path this CPU lacks is reported as skipped):
 *   - packing against a bit-by-bit reference (sign(0) = +1, -0.0 → +1, pad bits 0, words
 *     past the row untouched) and the pack/unpack round trip;
 *   - the GEMM bit-exact against a naive double GEMM of the ±1 matrices and against OpenBLAS
 *     sgemm of the same ±1 floats, for K tails (1, 63, 64, 65, 127, 200, ...), odd M/N,
 *     padded row strides, the column-vectorised K ≤ 128 kernels, and threads;
 *   - the epilogue (per-row scale, per-column class corrections, class 0 = none) exact to the
 *     float rounding of the double value. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/bitpack.h"
#include "burn/log.h"
#include "test_util.h"

static const burn_backend *be;
static void setup(void) {
    be = burn_cpu_backend();
    burn_log_quiet = 1;
}
TestSuite(xnor, .init = setup);

/* Select a CPU path or skip the test visibly when this CPU cannot run it. */
#define USE_PATH(name)                                                                     \
    do {                                                                                   \
        if (burn_xnor_cpu_select(name) != 0) cr_skip_test("skipped: %s", burn_error());   \
        cr_assert_str_eq(burn_xnor_cpu_selected(), name);                                  \
    } while (0)

static const int k_list[] = {1, 2, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 192, 200,
                             255, 256, 257, 300, 511, 512, 513, 777, 1000, 2048, 2100};
#define NK ((int)(sizeof k_list / sizeof k_list[0]))

/* random floats in [-1, 1) with a few exact ±0 sprinkled in (sign(±0) = +1) */
static void fill_signs(float *x, int64_t n, uint64_t seed) {
    tu_fill(x, n, seed, -1, 1);
    uint64_t s = seed ^ 0x5555;
    for (int64_t i = 0; i < n / 17; i++) x[tu_next(&s) % (uint64_t)n] = (i & 1) ? -0.0f : 0.0f;
}

static int ref_bit(float v) { return v >= 0.0f; }

static void check_pack(void) {
    uint64_t s = 3;
    for (int ki = 0; ki < NK; ki++) {
        int K = k_list[ki], R = tu_int(&s, 1, 9), words = (int)burn_bits_words(K);
        int ldx = K + tu_int(&s, 0, 5), ldp = words + tu_int(&s, 0, 2);
        float *X = malloc(sizeof(float) * (size_t)R * ldx);
        uint64_t *P = malloc(8 * (size_t)R * ldp);
        fill_signs(X, (int64_t)R * ldx, 100 + K);
        memset(P, 0xA5, 8 * (size_t)R * ldp); /* sentinel in words past the row */
        be->bits_pack(P, ldp, X, ldx, R, K);
        for (int r = 0; r < R; r++) {
            for (int k = 0; k < words * 64; k++) {
                int bit = (int)((P[(int64_t)r * ldp + k / 64] >> (k % 64)) & 1);
                int want = k < K ? ref_bit(X[(int64_t)r * ldx + k]) : 0;
                cr_assert_eq(bit, want, "%s K=%d row %d bit %d: %d, want %d",
                             burn_xnor_cpu_selected(), K, r, k, bit, want);
            }
            for (int w = words; w < ldp; w++)
                cr_assert_eq(P[(int64_t)r * ldp + w], 0xA5A5A5A5A5A5A5A5ull, "word past row");
        }
        /* round trip: unpack gives sign(X) as ±1 */
        float *U = malloc(sizeof(float) * (size_t)R * K);
        be->bits_unpack(U, K, P, ldp, R, K);
        for (int r = 0; r < R; r++)
            for (int k = 0; k < K; k++)
                cr_assert_eq(U[(int64_t)r * K + k], ref_bit(X[(int64_t)r * ldx + k]) ? 1.0f : -1.0f);
        /* and packing the ±1 values again gives the same bits */
        uint64_t *P2 = calloc((size_t)R * ldp, 8);
        be->bits_pack(P2, ldp, U, K, R, K);
        for (int r = 0; r < R; r++)
            cr_assert(memcmp(P2 + (int64_t)r * ldp, P + (int64_t)r * ldp, 8 * (size_t)words) == 0,
                      "repack K=%d", K);
        free(X), free(P), free(U), free(P2);
    }
}

Test(xnor, sign_convention) {
    float x[8] = {0.0f, -0.0f, 1e-30f, -1e-30f, 3.0f, -3.0f, INFINITY, -INFINITY};
    uint64_t p = 0;
    be->bits_pack(&p, 1, x, 8, 1, 8);
    cr_assert_eq(p, 0x57ull, "bits %#llx: 0 and -0 are +1", (unsigned long long)p);
}

Test(xnor, pack_portable) { USE_PATH("portable"); check_pack(); }
Test(xnor, pack_avx2) { USE_PATH("avx2"); check_pack(); }
Test(xnor, pack_avx512) { USE_PATH("avx512"); check_pack(); }

/* ---- GEMM ---- */

typedef struct problem {
    int M, N, K, lda, ldb, ldc;
    float *Af, *Bf;       /* ±1 floats [M, K], [N, K] */
    uint64_t *A, *B;      /* packed */
    double *ref;          /* [M, N] naive double dots */
} problem;

static problem make_problem(int M, int N, int K, int lda_extra, int ldb_extra, int ldc_extra,
                            uint64_t seed) {
    problem p = {M, N, K, 0, 0, N + ldc_extra, NULL, NULL, NULL, NULL, NULL};
    int words = (int)burn_bits_words(K);
    p.lda = words + lda_extra;
    p.ldb = words + ldb_extra;
    float *X = malloc(sizeof(float) * (size_t)(M > N ? M : N) * K);
    p.Af = malloc(sizeof(float) * (size_t)M * K);
    p.Bf = malloc(sizeof(float) * (size_t)N * K);
    fill_signs(X, (int64_t)M * K, seed);
    for (int64_t i = 0; i < (int64_t)M * K; i++) p.Af[i] = ref_bit(X[i]) ? 1.0f : -1.0f;
    fill_signs(X, (int64_t)N * K, seed + 1);
    for (int64_t i = 0; i < (int64_t)N * K; i++) p.Bf[i] = ref_bit(X[i]) ? 1.0f : -1.0f;
    free(X);
    /* garbage in the stride padding: the kernels must not read past burn_bits_words(K) */
    p.A = malloc(8 * (size_t)M * p.lda);
    p.B = malloc(8 * (size_t)N * p.ldb);
    memset(p.A, 0xC3, 8 * (size_t)M * p.lda);
    memset(p.B, 0x3C, 8 * (size_t)N * p.ldb);
    be->bits_pack(p.A, p.lda, p.Af, K, M, K);
    be->bits_pack(p.B, p.ldb, p.Bf, K, N, K);
    p.ref = malloc(sizeof(double) * (size_t)M * N);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = 0;
            for (int k = 0; k < K; k++)
                acc += (double)p.Af[(int64_t)m * K + k] * (double)p.Bf[(int64_t)n * K + k];
            p.ref[(int64_t)m * N + n] = acc;
        }
    return p;
}

static void free_problem(problem *p) {
    free(p->Af), free(p->Bf), free(p->A), free(p->B), free(p->ref);
}

static void check_gemm_shape(int M, int N, int K, int lda_extra, int ldb_extra, uint64_t seed) {
    int ldc_extra = (int)(seed % 3);
    problem p = make_problem(M, N, K, lda_extra, ldb_extra, ldc_extra, seed);
    float *C = malloc(sizeof(float) * (size_t)M * p.ldc);
    for (int64_t i = 0; i < (int64_t)M * p.ldc; i++) C[i] = 12345.0f;
    be->xnor_gemm(M, N, K, p.A, p.lda, p.B, p.ldb, C, p.ldc, NULL);
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++)
            cr_assert_eq(C[(int64_t)m * p.ldc + n], (float)p.ref[(int64_t)m * N + n],
                         "%s %dx%dx%d (lda %d ldb %d) C[%d][%d] = %g, want %g",
                         burn_xnor_cpu_selected(), M, N, K, p.lda, p.ldb, m, n,
                         C[(int64_t)m * p.ldc + n], p.ref[(int64_t)m * N + n]);
        for (int n = N; n < p.ldc; n++)
            cr_assert_eq(C[(int64_t)m * p.ldc + n], 12345.0f, "C padding written");
    }
    /* the float GEMM of the same ±1 matrices (OpenBLAS) agrees exactly: |dot| ≤ K < 2^24 */
    float *G = malloc(sizeof(float) * (size_t)M * N);
    be->gemm(0, 1, M, N, K, 1.0f, p.Af, K, p.Bf, K, 0.0f, G, N);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++)
            cr_assert_eq(C[(int64_t)m * p.ldc + n], G[(int64_t)m * N + n], "vs sgemm");
    free(C), free(G);
    free_problem(&p);
}

static void check_gemm(void) {
    uint64_t s = 17;
    for (int ki = 0; ki < NK; ki++) {
        int K = k_list[ki];
        /* dense B (the K ≤ 128 column kernels) and padded strides (the general kernel) */
        check_gemm_shape(tu_int(&s, 1, 9), tu_int(&s, 1, 41), K, 0, 0, 1000 + K);
        check_gemm_shape(tu_int(&s, 1, 9), tu_int(&s, 1, 41), K, tu_int(&s, 1, 3),
                         tu_int(&s, 1, 3), 2000 + K);
    }
    /* odd sizes around the 2x4 / 2x8 tiles and 8/16-column steps */
    int sizes[][3] = {{1, 1, 1},   {1, 7, 64},    {3, 9, 128},  {5, 17, 200}, {2, 8, 256},
                      {7, 15, 513}, {33, 31, 70}, {16, 33, 64}, {9, 100, 128}, {4, 2049, 64},
                      {3, 2051, 100}, {6, 13, 4608}};
    for (int i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++)
        check_gemm_shape(sizes[i][0], sizes[i][1], sizes[i][2], 0, 0, 3000 + i);
}

Test(xnor, gemm_portable) { USE_PATH("portable"); check_gemm(); }
Test(xnor, gemm_avx2) { USE_PATH("avx2"); check_gemm(); }
Test(xnor, gemm_avx512) { USE_PATH("avx512"); check_gemm(); }

/* Big enough to run on several threads (each column block on its own thread); the last two
 * write more than 16 MiB of C, with streaming stores (rows 32-byte aligned, then not). */
static void check_threads(void) {
    int shapes[][3] = {{64, 3001, 600}, {40, 20001, 64}, {24, 9000, 128}, {64, 70000, 64},
                       {48, 90001, 130}};
    for (int i = 0; i < 5; i++) {
        int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        problem p = make_problem(M, N, K, 0, 0, 0, 77 + i);
        float *C = aligned_alloc(64, (sizeof(float) * (size_t)M * N + 63) / 64 * 64);
        be->xnor_gemm(M, N, K, p.A, p.lda, p.B, p.ldb, C, N, NULL);
        for (int64_t j = 0; j < (int64_t)M * N; j++)
            cr_assert_eq(C[j], (float)p.ref[j], "%s %dx%dx%d element %ld",
                         burn_xnor_cpu_selected(), M, N, K, (long)j);
        free(C);
        free_problem(&p);
    }
}

Test(xnor, threads_portable) { USE_PATH("portable"); check_threads(); }
Test(xnor, threads_avx2) { USE_PATH("avx2"); check_threads(); }
Test(xnor, threads_avx512) { USE_PATH("avx512"); check_threads(); }

/* C = scale_m·(dot − corr[m, class_n]), exact to the single float rounding. */
static void check_epilogue(void) {
    uint64_t s = 5;
    for (int trial = 0; trial < 12; trial++) {
        int M = tu_int(&s, 1, 11), N = tu_int(&s, 1, 70);
        int K = k_list[tu_int(&s, 0, NK - 1)], ncls = tu_int(&s, 1, 20);
        problem p = make_problem(M, N, K, 0, 0, 0, 500 + trial);
        float *scale = malloc(sizeof(float) * (size_t)M);
        int32_t *corr = malloc(sizeof(int32_t) * (size_t)M * ncls);
        uint8_t *cls = malloc((size_t)N);
        tu_fill(scale, M, 900 + trial, 0.001f, 2.0f);
        for (int i = 0; i < M * ncls; i++) corr[i] = tu_int(&s, -K, K);
        for (int n = 0; n < N; n++) cls[n] = (uint8_t)tu_int(&s, 0, ncls - 1);
        for (int variant = 0; variant < 3; variant++) {
            burn_xnor_epilogue ep = {variant != 1 ? scale : NULL, variant != 0 ? corr : NULL,
                                     cls, ncls};
            float *C = malloc(sizeof(float) * (size_t)M * N);
            be->xnor_gemm(M, N, K, p.A, p.lda, p.B, p.ldb, C, N, &ep);
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double d = p.ref[(int64_t)m * N + n];
                    if (ep.corr && cls[n]) d -= corr[m * ncls + cls[n]]; /* class 0: none */
                    float want = ep.scale ? (float)((double)scale[m] * d) : (float)d;
                    cr_assert_eq(C[(int64_t)m * N + n], want, "%s variant %d %dx%dx%d [%d][%d]",
                                 burn_xnor_cpu_selected(), variant, M, N, K, m, n);
                }
            free(C);
        }
        free(scale), free(corr), free(cls);
        free_problem(&p);
    }
}

Test(xnor, epilogue_portable) { USE_PATH("portable"); check_epilogue(); }
Test(xnor, epilogue_avx2) { USE_PATH("avx2"); check_epilogue(); }
Test(xnor, epilogue_avx512) { USE_PATH("avx512"); check_epilogue(); }

Test(xnor, kernel_selection_errors) {
    cr_assert_eq(burn_xnor_cpu_select("sse9"), -1);
    cr_assert(strstr(burn_error(), "sse9") != NULL, "message: %s", burn_error());
    cr_assert_eq(burn_xnor_cpu_select("auto"), 0);
    cr_assert_eq(burn_xnor_cuda_kernel, BURN_XNOR_CUDA_AUTO, "auto is the default");
    cr_assert_eq(burn_xnor_cuda_select("mma"), 0);
    cr_assert_str_eq(burn_xnor_cuda_selected(), "mma");
    cr_assert_eq(burn_xnor_cuda_select("tensor"), -1);
    cr_assert(strstr(burn_error(), "auto|popc|mma") != NULL, "message: %s", burn_error());
    cr_assert_str_eq(burn_xnor_cuda_selected(), "mma");
    cr_assert_eq(burn_xnor_cuda_select("auto"), 0);
    cr_assert_eq(burn_xnor_cuda_kernel, BURN_XNOR_CUDA_AUTO);
}
