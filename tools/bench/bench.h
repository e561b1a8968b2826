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

/* Distinct layer shapes of full ReActNet-A at 224×224 for a batch (SPEC §2), in network
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
int bench_blas(int argc, char **argv);

#endif
