/* bench.h — shared pieces of burn_bench: timing (warm-up, median of repeats), the ReActNet-A
 * layer shapes, and the table / JSON report every benchmark prints. */
#ifndef BURN_BENCH_H
#define BURN_BENCH_H

#include <stdint.h>

#include "burn/backend.h"

/* One GEMM-shaped layer: C[M,N] += A[M,K]·B[K,N] with M = out channels, N = batch·H·W,
 * K = in·kh·kw; also the conv geometry it comes from. */
typedef struct bench_shape {
    int M, N, K;
    int batch, cin, cout, kernel, stride, in_hw; /* in_hw: input height = width */
    int count;                                   /* how many layers of ReActNet-A have it */
} bench_shape;

/* Distinct layer shapes of full ReActNet-A at 224×224 for a batch (METHOD.md §2), in network
 * order. Returns how many were written (at most max). */
int bench_reactnet_shapes(int batch, bench_shape *out, int max);

/* Median wall time in seconds of fn(ctx) over `repeats` runs after `warmup` runs; the backend
 * is synchronised around each run so device work is counted. */
double bench_median(void (*fn)(void *ctx), void *ctx, const burn_backend *be, int warmup,
                    int repeats);

/* Rows of a side-by-side comparison, printed as a table or one JSON object:
 * {"bench": .., "device": .., "rows": [{"shape": "MxNxK", "binary_gops": ..,
 *  "ref_gops": .., "ratio": ..}, ...], "median_ratio": ..}. ref_name/binary_name label the
 * table columns. */
typedef struct bench_row {
    char shape[64];
    double binary_gops, ref_gops;
} bench_row;

void bench_report(const char *bench, const char *device, const char *binary_name,
                  const char *ref_name, const bench_row *rows, int n, int json);

/* Subcommands (one file each in tools/bench/). argc/argv after the subcommand name. */
/* Options shared by the xnor benches (gemm, conv), parsed and applied: the xnor kernel chosen
 * and the backend selected. */
#define BENCH_XNOR_OPTS(json_help)                                                             \
    {"--device", "cpu|cuda", "backend to measure (default cpu)", 0},                           \
        {"--batch", "N", "batch size (default 32)", 0},                                        \
        {"--repeats", "N", "timed runs per shape; the median is reported (default 5)", 0},     \
        {"--kernel", "NAME", "xnor kernel: auto|portable|avx2|avx512 (cpu), auto|popc|mma (cuda)", 0}, \
        {"--json", NULL, json_help, 0}, {NULL, NULL, NULL, 0}
struct burn_args;
typedef struct bench_xnor_opts {
    const char *device, *kernel_name;
    int64_t batch, repeats;
    int json, cuda;
    const burn_backend *be;
} bench_xnor_opts;
/* 0, or an exit code after printing the error (a is freed then). */
int bench_xnor_setup(struct burn_args *a, const char *prog, bench_xnor_opts *o);

int bench_blas(int argc, char **argv);
int bench_loss(int argc, char **argv); /* bench_loss.c: fused vs unfused BURN loss */
int bench_gemm(int argc, char **argv); /* bench_gemm.c: xnor GEMM vs FP GEMMs */
int bench_conv(int argc, char **argv); /* bench_conv.c: binary conv layer vs FP conv layer */

/* bench_gemm.c: medians of fb(ctx) (the reference) and then fa(ctx) (the binary kernel),
 * each over `repeats` back-to-back runs after `warmup` runs. On the CPU a 0.15 s pause comes
 * between the two: OpenBLAS's idle workers spin for ~0.1 s after a call, and fa would share
 * its cores with them. */
void bench_median_pair(void (*fa)(void *), void (*fb)(void *), void *ctx, const burn_backend *be,
                       int warmup, int repeats, double *ta, double *tb);
int bench_data(int argc, char **argv); /* bench_data.c: decode + augment throughput */
int bench_allreduce(int argc, char **argv); /* bench_allreduce.c: gradient all-reduce (mpirun) */
int bench_infer(int argc, char **argv); /* bench_infer.c: packed runtime vs FP32 forward */
int bench_step(int argc, char **argv);  /* bench_step.c: one BURN training update */

#endif
