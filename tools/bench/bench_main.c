/* bench_main.c — burn_bench: kernel throughput of burn's backends, measured side by side with
 * a reference in one run (warm-up, median of repeats, fresh inputs, results checked).
 * `burn_bench <bench> [--device cpu|cuda] [--json]`. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "burn/commands.h"
#include "burn/log.h"
#include "burn/openmp_env.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} benches[] = {
    {"blas", bench_blas, "FP32 GEMM of the backend (OpenBLAS / cuBLAS) at ReActNet-A shapes"},
    {"loss", bench_loss, "fused BURN loss (KL + FS, both gradients) vs the unfused reference"},
    {"gemm", bench_gemm, "xnor-popcount GEMM vs SGEMM (and FP16/INT8 on CUDA), ReActNet-A shapes"},
    {"conv", bench_conv, "binary conv layer (packing included) vs the FP conv layer"},
    {"data", bench_data, "decoded + augmented images/s (JPEG at 224, PNG at 32), vs PIL"},
    {"allreduce", bench_allreduce, "gradient all-reduce bus bandwidth, step share (under mpirun)"},
    {"infer", bench_infer, "packed inference runtime vs FP32 eval forward, ReActNet-A 224"},
    {"step", bench_step, "one whole BURN update at a config's shapes (tools/bench/step_vs_torch.sh)"},
};

int main(int argc, char **argv) {
    burn_openmp_env(argv);
    int n = (int)(sizeof benches / sizeof benches[0]);
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        burn_print_version("burn_bench");
        return 0;
    }
    if (argc >= 2)
        for (int i = 0; i < n; i++)
            if (strcmp(argv[1], benches[i].name) == 0) return benches[i].run(argc - 2, argv + 2);
    FILE *f = argc >= 2 && strcmp(argv[1], "--help") != 0 ? stderr : stdout;
    if (f == stderr) fprintf(stderr, "burn_bench: unknown benchmark '%s'\n", argv[1]);
    fprintf(f, "usage: burn_bench <bench> [--device cpu|cuda] [--json]   (<bench> --help)\n\n");
    for (int i = 0; i < n; i++) fprintf(f, "  %-8s %s\n", benches[i].name, benches[i].summary);
    return f == stderr ? 2 : 0;
}
