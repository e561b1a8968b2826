/* bench_gemm.c — `burn_bench gemm`: the xnor-popcount GEMM against FP GEMMs at the ReActNet-A
 * layer shapes (M = out channels, N = batch·Ho·Wo, K = in·kh·kw), side by side in one run.
 *
 * Both sides multiply the same ±1 matrices A[M, K] and B[N, K] (C = A·Bᵀ): the xnor GEMM on
 * their packed bits, the references on floats (OpenBLAS / cuBLAS SGEMM), and on CUDA also
 * on FP16 (cuBLAS tensor cores) and INT8 (cublasLt). Every result is exact (integers ≤ K), so
 * each reference's C is compared with the xnor C element for element. Inputs are fresh per
 * shape; each side is timed in its steady state, back to back: the median of --repeats runs
 * after one warm-up, the reference first, then the binary kernel (bench_median_pair).
 * GOPS = 2·M·N·K / s
 * (a binary MAC counts as 2 ops, like an FP one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "burn/bitpack.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/log.h"

typedef struct gemm_case {
    const burn_backend *be;
    int M, N, K, ldk;
    uint64_t *A, *B;       /* packed */
    float *Af, *Bf, *C, *Cref;
    void *Al, *Bl, *Cl;    /* low-precision copies and output */
    int prec;
} gemm_case;

static void run_xnor(void *p) {
    gemm_case *c = p;
    c->be->xnor_gemm(c->M, c->N, c->K, c->A, c->ldk, c->B, c->ldk, c->C, c->N, NULL);
}

static void run_sgemm(void *p) {
    gemm_case *c = p;
    c->be->gemm(0, 1, c->M, c->N, c->K, 1.0f, c->Af, c->K, c->Bf, c->K, 0.0f, c->Cref, c->N);
}

static void run_lowp(void *p) {
    gemm_case *c = p;
    c->be->lowp_gemm(c->prec, c->M, c->N, c->K, c->Al, c->Bl, c->Cl);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double median_of(void (*fn)(void *), void *ctx, const burn_backend *be, int warmup,
                        int repeats) {
    for (int i = 0; i < warmup; i++) fn(ctx);
    be->synchronize();
    double *t = burn_xmalloc(sizeof(double) * (size_t)repeats);
    for (int i = 0; i < repeats; i++) {
        double t0 = burn_now();
        fn(ctx);
        be->synchronize();
        t[i] = burn_now() - t0;
    }
    double m = median(t, repeats);
    free(t);
    return m;
}

void bench_median_pair(void (*fa)(void *), void (*fb)(void *), void *ctx, const burn_backend *be,
                       int warmup, int repeats, double *ta, double *tb) {
    *tb = median_of(fb, ctx, be, warmup, repeats);
    /* OpenBLAS's idle workers spin on sched_yield for 2^28 TSC cycles (0.1 s at 2.6 GHz)
     * after each call unless OPENBLAS_THREAD_TIMEOUT was set when it loaded: the binary
     * kernel would share its cores with them (half its speed on 2 cores) */
    if (!be->is_device) {
        struct timespec pause = {0, 150 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    *ta = median_of(fa, ctx, be, warmup, repeats);
}

/* ±1 floats X[R, K] from a fresh uniform fill, and their packed bits P[R, ldk]. */
static void make_signs(const burn_backend *be, float *X, uint64_t *P, int R, int K, int ldk,
                       uint64_t seed) {
    be->uniform(X, (int64_t)R * K, seed, 0, -1.0f, 1.0f);
    be->bits_pack(P, ldk, X, K, R, K);
    be->bits_unpack(X, K, P, ldk, R, K);
}

/* Compare the xnor result (host copy xh) with a reference in backend memory. */
static int check_same(const burn_backend *be, const float *xh, const void *ref, int is_int,
                      int64_t n, const char *what, const bench_shape *s) {
    void *h = burn_xmalloc((size_t)n * 4);
    be->download(h, ref, (size_t)n * 4);
    int64_t bad = -1;
    for (int64_t i = 0; i < n && bad < 0; i++) {
        float v = is_int ? (float)((int32_t *)h)[i] : ((float *)h)[i];
        if (v != xh[i]) bad = i;
    }
    if (bad >= 0)
        fprintf(stderr, "burn_bench gemm: %s differs from the xnor GEMM at %dx%dx%d, element %lld: "
                "%g vs %g\n", what, s->M, s->N, s->K, (long long)bad,
                is_int ? (double)((int32_t *)h)[bad] : (double)((float *)h)[bad], (double)xh[bad]);
    free(h);
    return bad >= 0 ? -1 : 0;
}

int bench_gemm(int argc, char **argv) {
    static const burn_opt opts[] = {BENCH_XNOR_OPTS("print JSON objects (one per reference)")};
    burn_args a;
    int rc = burn_args_parse(&a, "burn_bench gemm",
                             "[--device cpu|cuda] [--batch N] [--repeats N] [--kernel NAME] [--json]",
                             "xnor-popcount GEMM vs FP GEMMs at ReActNet-A layer shapes.", opts, 0,
                             argc, argv);
    if (rc) return rc;
    bench_xnor_opts o;
    if ((rc = bench_xnor_setup(&a, "burn_bench gemm", &o))) return rc;
    const char *device = o.device, *kname = o.kernel_name;
    int64_t batch = o.batch, repeats = o.repeats;
    int json = o.json, cuda = o.cuda;
    const burn_backend *be = o.be;
    burn_log("xnor kernel %s, %d CPU threads, batch %d, median of %d", kname, burn_cpu_threads(),
             (int)batch, (int)repeats);

    bench_shape shapes[32];
    int n = bench_reactnet_shapes((int)batch, shapes, 32);
    int nref = cuda ? 3 : 1;
    bench_row *rows[3];
    for (int r = 0; r < nref; r++) rows[r] = burn_xcalloc((size_t)n, sizeof(bench_row));
    int failed = 0;
    for (int s = 0; s < n && !failed; s++) {
        gemm_case c = {be, shapes[s].M, shapes[s].N, shapes[s].K, 0, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL, NULL, 0};
        c.ldk = (int)burn_bits_words(c.K);
        int64_t nc = (int64_t)c.M * c.N;
        c.A = be->alloc((size_t)c.M * c.ldk * 8);
        c.B = be->alloc((size_t)c.N * c.ldk * 8);
        c.Af = be->alloc((size_t)c.M * c.K * 4);
        c.Bf = be->alloc((size_t)c.N * c.K * 4);
        c.C = be->alloc((size_t)nc * 4);
        c.Cref = be->alloc((size_t)nc * 4);
        make_signs(be, c.Af, c.A, c.M, c.K, c.ldk, 1000 + s);
        make_signs(be, c.Bf, c.B, c.N, c.K, c.ldk, 2000 + s);
        double ops = 2.0 * c.M * (double)c.N * c.K;
        double t_bin, t_ref;
        bench_median_pair(run_xnor, run_sgemm, &c, be, 1, (int)repeats, &t_bin, &t_ref);
        snprintf(rows[0][s].shape, sizeof rows[0][s].shape, "%dx%dx%d", c.M, c.N, c.K);
        rows[0][s].binary_gops = ops / t_bin * 1e-9;
        rows[0][s].ref_gops = ops / t_ref * 1e-9;
        float *xh = burn_xmalloc((size_t)nc * 4);
        be->download(xh, c.C, (size_t)nc * 4);
        failed |= check_same(be, xh, c.Cref, 0, nc, "SGEMM", &shapes[s]);
        be->free(c.Cref);
        for (int r = 1; r < nref && !failed; r++) { /* CUDA: FP16 and INT8 references */
            c.prec = r == 1 ? BURN_PREC_F16 : BURN_PREC_I8;
            size_t el = c.prec == BURN_PREC_F16 ? 2 : 1;
            c.Al = be->alloc((size_t)c.M * c.K * el);
            c.Bl = be->alloc((size_t)c.N * c.K * el);
            c.Cl = be->alloc((size_t)nc * 4);
            be->lowp_convert(c.prec, c.Al, c.Af, (int64_t)c.M * c.K);
            be->lowp_convert(c.prec, c.Bl, c.Bf, (int64_t)c.N * c.K);
            double t = bench_median(run_lowp, &c, be, 1, (int)repeats);
            rows[r][s] = rows[0][s];
            rows[r][s].ref_gops = ops / t * 1e-9;
            failed |= check_same(be, xh, c.Cl, c.prec == BURN_PREC_I8, nc,
                                 r == 1 ? "FP16 GEMM" : "INT8 GEMM", &shapes[s]);
            be->free(c.Al), be->free(c.Bl), be->free(c.Cl);
        }
        free(xh);
        be->free(c.A), be->free(c.B), be->free(c.Af), be->free(c.Bf), be->free(c.C);
    }
    if (!failed) {
        static const char *names[3] = {"sgemm GOPS", "fp16 GOPS", "int8 GOPS"};
        static const char *benches[3] = {"gemm", "gemm-vs-fp16", "gemm-vs-int8"};
        char bname[32];
        snprintf(bname, sizeof bname, "xnor/%s GOPS", kname);
        for (int r = 0; r < nref; r++) {
            if (!json) printf("%s%s vs %s\n", r ? "\n" : "", bname, names[r]);
            bench_report(benches[r], device, bname, names[r], rows[r], n, json);
        }
    }
    for (int r = 0; r < nref; r++) free(rows[r]);
    burn_args_free(&a);
    return failed ? BURN_EXIT_RUNTIME : 0;
}
