/* bench_common.c — timing, ReActNet-A layer shapes and the report of burn_bench. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "burn/cli.h"
#include "burn/check.h"
#include "burn/bitpack.h"
#include "burn/log.h"

int bench_reactnet_shapes(int batch, bench_shape *out, int max) {
    /* METHOD.md §2: stem then 13 blocks over this channel list; stride 2 where the width doubles
     * except block 1, and the spatial size halves at every stride-2 block. */
    static const int channels[] = {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512,
                                   1024, 1024};
    int hw = 112, n = 0;
    for (int b = 1; b < 14; b++) {
        int cin = channels[b - 1], cout = channels[b];
        int stride = (cout == 2 * cin && b > 1) ? 2 : 1;
        int out_hw = hw / stride;
        /* 3x3 C->C at stride s, then 1x1 C->C (twice when the width doubles) */
        bench_shape layers[2] = {
            {cin, batch * out_hw * out_hw, cin * 9, batch, cin, cin, 3, stride, hw, 1},
            {cin, batch * out_hw * out_hw, cin, batch, cin, cin, 1, 1, out_hw, cout / cin},
        };
        for (int l = 0; l < 2; l++) {
            int found = 0;
            for (int i = 0; i < n; i++)
                if (out[i].M == layers[l].M && out[i].N == layers[l].N &&
                    out[i].K == layers[l].K && out[i].stride == layers[l].stride) {
                    out[i].count += layers[l].count;
                    found = 1;
                }
            if (!found && n < max) out[n++] = layers[l];
        }
        hw = out_hw;
    }
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(void (*fn)(void *ctx), void *ctx, const burn_backend *be, int warmup,
                    int repeats) {
    for (int i = 0; i < warmup; i++) fn(ctx);
    be->synchronize();
    double *t = malloc(sizeof(double) * (size_t)repeats);
    for (int i = 0; i < repeats; i++) {
        double t0 = burn_now();
        fn(ctx);
        be->synchronize();
        t[i] = burn_now() - t0;
    }
    qsort(t, (size_t)repeats, sizeof(double), cmp_double);
    double med = repeats % 2 ? t[repeats / 2] : 0.5 * (t[repeats / 2 - 1] + t[repeats / 2]);
    free(t);
    return med;
}

void bench_report(const char *bench, const char *device, const char *binary_name,
                  const char *ref_name, const bench_row *rows, int n, int json) {
    double *ratios = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++)
        ratios[i] = rows[i].ref_gops > 0 ? rows[i].binary_gops / rows[i].ref_gops : NAN;
    double *sorted = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) sorted[i] = ratios[i];
    qsort(sorted, (size_t)n, sizeof(double), cmp_double);
    double median = n == 0 ? NAN : n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    if (json) {
        printf("{\"bench\": \"%s\", \"device\": \"%s\", \"rows\": [", bench, device);
        for (int i = 0; i < n; i++)
            printf("%s{\"shape\": \"%s\", \"binary_gops\": %.3f, \"ref_gops\": %.3f, "
                   "\"ratio\": %.4f}",
                   i ? ", " : "", rows[i].shape, rows[i].binary_gops, rows[i].ref_gops, ratios[i]);
        printf("], \"median_ratio\": %.4f}\n", median);
    } else {
        printf("%-22s %14s %14s %8s\n", "shape (MxNxK)", binary_name, ref_name, "ratio");
        for (int i = 0; i < n; i++)
            printf("%-22s %14.1f %14.1f %7.2fx\n", rows[i].shape, rows[i].binary_gops,
                   rows[i].ref_gops, ratios[i]);
        printf("median ratio %.2fx over %d shapes (%s, GOPS = 2·M·N·K / s)\n", median, n, device);
    }
    free(ratios);
    free(sorted);
}

int bench_xnor_setup(burn_args *a, const char *prog, bench_xnor_opts *o) {
    int rc;
    if ((rc = burn_arg_choice(a, "--device", "cpu|cuda", "cpu", &o->device)) ||
        (rc = burn_arg_int(a, "--batch", 1, 1024, 32, &o->batch)) ||
        (rc = burn_arg_int(a, "--repeats", 1, 1000, 5, &o->repeats))) {
        burn_args_free(a);
        return rc;
    }
    o->json = burn_arg_flag(a, "--json");
    burn_log_quiet = o->json;
    o->cuda = strcmp(o->device, "cuda") == 0;
    const char *kernel = burn_arg(a, "--kernel");
    if (kernel && (o->cuda ? burn_xnor_cuda_select(kernel) : burn_xnor_cpu_select(kernel))) {
        fprintf(stderr, "%s: --kernel: %s\n", prog, burn_error());
        burn_args_free(a);
        return BURN_EXIT_USAGE;
    }
    o->be = burn_backend_select(o->device);
    if (!o->be) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        burn_args_free(a);
        return BURN_EXIT_RUNTIME;
    }
    o->kernel_name = o->cuda ? burn_xnor_cuda_selected() : burn_xnor_cpu_selected();
    return 0;
}
