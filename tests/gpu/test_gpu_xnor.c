/* test_gpu_xnor.c — the CUDA bit packing, xnor GEMM (popc and mma kernels) and low-precision
 * reference GEMMs against the CPU backend on random inputs. The binary results are exact
 * integers, so CUDA and CPU must agree bit for bit. Skipped (visibly) without a device. */
#include "burn/bitpack.h"
#include "gpu_util.h"

static const burn_backend *cpu;
static void setup(void) { cpu = burn_cpu_backend(); }
TestSuite(gpu_xnor, .init = setup);

static void *gu_up(const burn_backend *g, const void *h, size_t bytes) {
    void *d = g->alloc(bytes);
    g->upload(d, h, bytes);
    return d;
}

static void *gu_down(const burn_backend *g, const void *d, size_t bytes) {
    void *h = malloc(bytes);
    g->download(h, d, bytes);
    return h;
}

static void fill_with_zeros(float *x, int64_t n, uint64_t seed) {
    tu_fill(x, n, seed, -1, 1);
    for (int64_t i = 0; i < n; i += 13) x[i] = (i & 1) ? -0.0f : 0.0f; /* sign(±0) = +1 */
}

Test(gpu_xnor, pack_unpack) {
    REQUIRE_CUDA(g);
    static const int ks[] = {1, 31, 32, 33, 63, 64, 65, 127, 200, 256, 1000, 4608};
    uint64_t s = 1;
    for (int i = 0; i < (int)(sizeof ks / sizeof ks[0]); i++) {
        int K = ks[i], R = tu_int(&s, 1, 40), words = (int)burn_bits_words(K);
        int ldx = K + tu_int(&s, 0, 3), ldp = words + tu_int(&s, 0, 2);
        size_t nx = (size_t)R * ldx, np = (size_t)R * ldp;
        float *X = malloc(nx * 4);
        fill_with_zeros(X, (int64_t)nx, 10 + i);
        uint64_t *Pc = malloc(np * 8);
        memset(Pc, 0x5A, np * 8);
        cpu->bits_pack(Pc, ldp, X, ldx, R, K);
        float *dX = gu_up(g, X, nx * 4);
        uint64_t *dP = gu_up(g, Pc, np * 8); /* same sentinel in the stride padding */
        uint64_t *zero = calloc(np, 8);
        for (int r = 0; r < R; r++) /* clear the packed words so the kernel must write them */
            g->upload(dP + (size_t)r * ldp, zero, (size_t)words * 8);
        g->bits_pack(dP, ldp, dX, ldx, R, K);
        uint64_t *Pg = gu_down(g, dP, np * 8);
        cr_assert(memcmp(Pg, Pc, np * 8) == 0, "pack K=%d R=%d differs from the CPU", K, R);
        float *dU = g->alloc((size_t)R * K * 4), *Uc = malloc((size_t)R * K * 4);
        g->bits_unpack(dU, K, dP, ldp, R, K);
        cpu->bits_unpack(Uc, K, Pc, ldp, R, K);
        float *Ug = gu_down(g, dU, (size_t)R * K * 4);
        cr_assert(memcmp(Ug, Uc, (size_t)R * K * 4) == 0, "unpack K=%d", K);
        g->free(dX), g->free(dP), g->free(dU);
        free(X), free(Pc), free(Pg), free(zero), free(Uc), free(Ug);
    }
}

/* One GEMM shape on CUDA vs CPU, with and without the epilogue. */
static void check_gemm(const burn_backend *g, int M, int N, int K, int lda, int ldb, int ldc,
                       uint64_t seed) {
    size_t na = (size_t)M * lda, nb = (size_t)N * ldb, nc = (size_t)M * ldc;
    float *Xa = malloc((size_t)M * K * 4), *Xb = malloc((size_t)N * K * 4);
    tu_fill(Xa, (int64_t)M * K, seed, -1, 1);
    tu_fill(Xb, (int64_t)N * K, seed + 1, -1, 1);
    uint64_t *A = calloc(na, 8), *B = calloc(nb, 8);
    cpu->bits_pack(A, lda, Xa, K, M, K);
    cpu->bits_pack(B, ldb, Xb, K, N, K);
    int ncls = 7;
    float *scale = malloc((size_t)M * 4);
    int32_t *corr = malloc((size_t)M * ncls * 4);
    uint8_t *cls = malloc((size_t)N);
    uint64_t s = seed;
    tu_fill(scale, M, seed + 2, 0.01f, 2.0f);
    for (int i = 0; i < M * ncls; i++) corr[i] = tu_int(&s, -K, K);
    for (int n = 0; n < N; n++) cls[n] = (uint8_t)tu_int(&s, 0, ncls - 1);
    uint64_t *dA = gu_up(g, A, na * 8), *dB = gu_up(g, B, nb * 8);
    float *dscale = gu_up(g, scale, (size_t)M * 4);
    int32_t *dcorr = gu_up(g, corr, (size_t)M * ncls * 4);
    uint8_t *dcls = gu_up(g, cls, (size_t)N);
    float *Cc = malloc(nc * 4), *dC = g->alloc(nc * 4);
    for (int variant = 0; variant < 2; variant++) {
        burn_xnor_epilogue epc = {scale, corr, cls, ncls}, epg = {dscale, dcorr, dcls, ncls};
        for (size_t i = 0; i < nc; i++) Cc[i] = -7.0f; /* padding columns must stay */
        g->upload(dC, Cc, nc * 4);
        cpu->xnor_gemm(M, N, K, A, lda, B, ldb, Cc, ldc, variant ? &epc : NULL);
        g->xnor_gemm(M, N, K, dA, lda, dB, ldb, dC, ldc, variant ? &epg : NULL);
        float *Cg = gu_down(g, dC, nc * 4);
        for (size_t i = 0; i < nc; i++)
            cr_assert_eq(Cg[i], Cc[i], "%s %dx%dx%d variant %d: C[%zu] = %g, CPU %g",
                         burn_xnor_cuda_selected(), M, N, K, variant, i, Cg[i], Cc[i]);
        free(Cg);
    }
    g->free(dA), g->free(dB), g->free(dscale), g->free(dcorr), g->free(dcls), g->free(dC);
    free(Xa), free(Xb), free(A), free(B), free(scale), free(corr), free(cls), free(Cc);
}

static void check_gemm_kernel(const burn_backend *g, const char *kernel) {
    cr_assert_eq(burn_xnor_cuda_select(kernel), 0);
    static const int ks[] = {1, 63, 64, 65, 127, 128, 200, 255, 256, 257, 511, 700, 1152, 4608};
    uint64_t s = 99;
    for (int i = 0; i < (int)(sizeof ks / sizeof ks[0]); i++) {
        int K = ks[i], words = (int)burn_bits_words(K);
        int M = tu_int(&s, 1, 150), N = tu_int(&s, 1, 150);
        check_gemm(g, M, N, K, words, words, N, 200 + i);
        check_gemm(g, M, N, K, words + tu_int(&s, 1, 3), words + tu_int(&s, 1, 3),
                   N + tu_int(&s, 1, 5), 300 + i);
    }
    check_gemm(g, 1, 1, 1, 1, 1, 1, 400);
    check_gemm(g, 257, 1030, 576, 9, 9, 1030, 401); /* several blocks in both directions */
    check_gemm(g, 40, 300, 4608, 73, 72, 301, 402);   /* many k stages; warps past M idle */
    check_gemm(g, 130, 129, 1153, 19, 21, 129, 403);  /* one row/column into the next tile */
    burn_xnor_cuda_select("auto");
}

Test(gpu_xnor, gemm_popc) {
    REQUIRE_CUDA(g);
    check_gemm_kernel(g, "popc");
}

Test(gpu_xnor, gemm_mma) {
    REQUIRE_CUDA(g);
    check_gemm_kernel(g, "mma");
}

/* FP16 and INT8 reference GEMMs vs the CPU loops, on ±1 and small integers (exact). */
Test(gpu_xnor, lowp_gemm) {
    REQUIRE_CUDA(g);
    int shapes[][3] = {{4, 8, 4}, {32, 64, 288}, {64, 100, 576}, {128, 36, 1024}};
    for (int si = 0; si < 4; si++) {
        int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
        float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)N * K * 4);
        uint64_t s = 7 + si;
        for (int i = 0; i < M * K; i++) A[i] = (float)tu_int(&s, -3, 3);
        for (int i = 0; i < N * K; i++) B[i] = (float)tu_int(&s, -3, 3);
        float *dA = gu_upload(g, A, (int64_t)M * K), *dB = gu_upload(g, B, (int64_t)N * K);
        for (int prec = BURN_PREC_F16; prec <= BURN_PREC_I8; prec++) {
            size_t el = prec == BURN_PREC_F16 ? 2 : 1;
            void *Al = malloc((size_t)M * K * el), *Bl = malloc((size_t)N * K * el);
            void *Cc = malloc((size_t)M * N * 4);
            cpu->lowp_convert(prec, Al, A, (int64_t)M * K);
            cpu->lowp_convert(prec, Bl, B, (int64_t)N * K);
            cpu->lowp_gemm(prec, M, N, K, Al, Bl, Cc);
            void *dAl = g->alloc((size_t)M * K * el), *dBl = g->alloc((size_t)N * K * el);
            void *dC = g->alloc((size_t)M * N * 4);
            g->lowp_convert(prec, dAl, dA, (int64_t)M * K);
            g->lowp_convert(prec, dBl, dB, (int64_t)N * K);
            void *Ag = gu_down(g, dAl, (size_t)M * K * el);
            cr_assert(memcmp(Ag, Al, (size_t)M * K * el) == 0, "convert prec %d", prec);
            g->lowp_gemm(prec, M, N, K, dAl, dBl, dC);
            void *Cg = gu_down(g, dC, (size_t)M * N * 4);
            cr_assert(memcmp(Cg, Cc, (size_t)M * N * 4) == 0, "lowp_gemm prec %d %dx%dx%d",
                      prec, M, N, K);
            free(Al), free(Bl), free(Cc), free(Ag), free(Cg);
            g->free(dAl), g->free(dBl), g->free(dC);
        }
        free(A), free(B);
        g->free(dA), g->free(dB);
    }
}
