/* bench_blas.c — `burn_bench blas`: FP32 GEMM throughput of the backend's gemm (OpenBLAS on
 * the CPU, cuBLAS on CUDA) at the ReActNet-A layer shapes; the FP reference the binary
 * kernels are compared with. Checks one output element per shape against a double dot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/log.h"

typedef struct gemm_ctx {
    const burn_backend *be;
    int M, N, K;
    float *A, *B, *C;
} gemm_ctx;

static void run_gemm(void *p) {
    gemm_ctx *c = p;
    c->be->gemm(0, 0, c->M, c->N, c->K, 1.0f, c->A, c->K, c->B, c->N, 0.0f, c->C, c->N);
}

int bench_blas(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--device", "cpu|cuda", "backend to measure (default cpu)", 0},
        {"--batch", "N", "batch size of the layer shapes (default 32)", 0},
        {"--repeats", "N", "timed runs per shape; the median is reported (default 5)", 0},
        {"--json", NULL, "print one JSON object", 0},
        {NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(&a, "burn_bench blas", "[--device cpu|cuda] [--json]",
                             "FP32 GEMM throughput of the backend at ReActNet-A layer shapes.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    const char *device;
    int64_t batch, repeats;
    if ((rc = burn_arg_choice(&a, "--device", "cpu|cuda", "cpu", &device)) ||
        (rc = burn_arg_int(&a, "--batch", 1, 1024, 32, &batch)) ||
        (rc = burn_arg_int(&a, "--repeats", 1, 1000, 5, &repeats)))
        return rc;
    int json = burn_arg_flag(&a, "--json");
    burn_log_quiet = json;
    const burn_backend *be = burn_backend_select(device);
    if (!be) {
        fprintf(stderr, "burn_bench: %s\n", burn_error());
        return 1;
    }
    bench_shape shapes[32];
    int n = bench_reactnet_shapes((int)batch, shapes, 32);
    double gops[32];
    for (int s = 0; s < n; s++) {
        gemm_ctx c = {be, shapes[s].M, shapes[s].N, shapes[s].K, NULL, NULL, NULL};
        size_t na = (size_t)c.M * c.K, nb = (size_t)c.K * c.N, nc = (size_t)c.M * c.N;
        c.A = be->alloc(na * 4);
        c.B = be->alloc(nb * 4);
        c.C = be->alloc(nc * 4);
        be->uniform(c.A, (int64_t)na, 1000 + s, 0, -1, 1);
        be->uniform(c.B, (int64_t)nb, 2000 + s, 0, -1, 1);
        double t = bench_median(run_gemm, &c, be, 1, (int)repeats);
        /* check C[0][N-1] against a double dot product */
        float *arow = malloc((size_t)c.K * 4), *bcol = malloc(nb * 4), out;
        be->download(arow, c.A, (size_t)c.K * 4);
        be->download(bcol, c.B, nb * 4);
        be->download(&out, c.C + c.N - 1, 4);
        double ref = 0;
        for (int k = 0; k < c.K; k++) ref += (double)arow[k] * bcol[(size_t)k * c.N + c.N - 1];
        if (fabs(ref - out) > 1e-3 * (1 + fabs(ref)) * sqrt((double)c.K)) {
            fprintf(stderr, "burn_bench: wrong GEMM result at %dx%dx%d: %g vs %g\n", c.M, c.N,
                    c.K, out, ref);
            return 1;
        }
        free(arow);
        free(bcol);
        be->free(c.A);
        be->free(c.B);
        be->free(c.C);
        gops[s] = 2.0 * c.M * (double)c.N * c.K / t * 1e-9;
    }
    if (json) printf("{\"bench\": \"blas\", \"device\": \"%s\", \"rows\": [", device);
    else printf("%-22s %6s %12s\n", "shape (MxNxK)", "layers", "sgemm GOPS");
    for (int s = 0; s < n; s++)
        if (json)
            printf("%s{\"shape\": \"%dx%dx%d\", \"gops\": %.3f}", s ? ", " : "", shapes[s].M,
                   shapes[s].N, shapes[s].K, gops[s]);
        else
            printf("%-5d x %-7d x %-6d %6d %12.1f\n", shapes[s].M, shapes[s].N, shapes[s].K,
                   shapes[s].count, gops[s]);
    if (json) printf("]}\n");
    burn_args_free(&a);
    return 0;
}
