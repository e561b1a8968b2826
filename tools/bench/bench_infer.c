/* bench_infer.c — `burn_bench infer`: the packed inference runtime (infer.h) on full
 * ReActNet-A at 224 against the same network in FP32 through our own CPU path, side by side.
 *
 *   binary: burn_infer_run on the file of burn_export_packed (random stage-2 weights, random
 *           BN statistics): xnor-popcount convs on packed bits, everything else FP32;
 *   FP32:   the trainer's eval forward in stage 1 (burn_reactnet_forward, train = 0): the
 *           same binary activations, real weights, every conv an im2col + OpenBLAS SGEMM —
 *           what the network costs without bit-packing.
 * Before timing, the runtime's features are compared with the trainer's stage-2 eval forward
 * on the same images (they must be identical). Rows: batch 1 (latency) and batch N
 * (throughput); units images/s (in the binary_gops / ref_gops fields of --json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "burn/bitpack.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/export.h"
#include "burn/infer.h"
#include "burn/log.h"
#include "burn/net.h"

static void die(void) {
    fprintf(stderr, "burn_bench infer: %s\n", burn_error());
    exit(BURN_EXIT_RUNTIME);
}

typedef struct infer_case {
    burn_infer *m;
    burn_reactnet_run *fp_run;
    const burn_params *fp_ps;
    const float *x;
    float *feat;
    int N;
} infer_case;

static void run_binary(void *p) {
    infer_case *c = p;
    if (burn_infer_run(c->m, c->x, c->N, c->feat) != 0) die();
}

static void run_fp(void *p) {
    infer_case *c = p;
    const float *f;
    if (burn_reactnet_forward(c->fp_run, c->fp_ps, c->x, 0, &f) != 0)
        die();
}

/* A ReActNet-A of `stage` with random weights (seed) and random BN statistics. */
static void make_net(burn_reactnet *net, burn_params *ps, int stage, uint64_t seed) {
    burn_reactnet_config cfg = {1.0, 224, 2, stage, 1, 0};
    if (burn_reactnet_init(net, &cfg) != 0) die();
    burn_params_init_registry(ps);
    burn_reactnet_register(net, ps, "student.");
    burn_params_finalize(ps, burn_cpu_backend());
    burn_params_init(ps, seed);
    uint64_t s = seed * 2654435761u + 1;
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        if (p->ndim != 1) continue;
        float *d = burn_param_data(ps, i);
        int var = strstr(p->name, "running_var") != NULL;
        for (int64_t j = 0; j < p->numel; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            float u = (float)((s >> 40) * (1.0 / 16777216.0));
            if (var) d[j] = 0.5f + 1.5f * u;
            else if (strstr(p->name, "slope")) d[j] = 0.05f + 0.4f * u;
            else if (strstr(p->name, ".bn") && strstr(p->name, ".weight")) d[j] = 0.5f + u;
            else d[j] = 0.6f * u - 0.3f;
        }
    }
}

int bench_infer(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--batch", "N", "throughput batch (default 8)", 0},
        {"--repeats", "N", "timed runs per row; the median is reported (default 3)", 0},
        {"--json", NULL, "print one JSON object", 0},
        {NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(&a, "burn_bench infer", "[--batch N] [--repeats N] [--json]",
                             "packed runtime vs FP32 eval forward, full ReActNet-A at 224 (CPU).",
                             opts, 0, argc, argv);
    if (rc) return rc;
    int64_t batch, repeats;
    if ((rc = burn_arg_int(&a, "--batch", 1, 256, 8, &batch)) ||
        (rc = burn_arg_int(&a, "--repeats", 1, 100, 3, &repeats))) {
        burn_args_free(&a);
        return rc;
    }
    int json = burn_arg_flag(&a, "--json");
    burn_args_free(&a);
    burn_log_quiet = json;
    const burn_backend *be = burn_cpu_backend();

    /* the packed model, from random stage-2 weights */
    burn_reactnet net2, net1;
    burn_params ps2, ps1;
    make_net(&net2, &ps2, 2, 1);
    char path[64];
    snprintf(path, sizeof path, "/tmp/burn-bench-infer-%d.safetensors", (int)getpid());
    burn_export_sizes sz;
    if (burn_export_packed(&net2, &ps2, "student.", 0, path, &sz) != 0)
        die();
    infer_case c = {0};
    c.m = burn_infer_load(path);
    unlink(path);
    if (!c.m) die();
    int F = burn_infer_feature_dim(c.m), S = 224;
    size_t per = (size_t)3 * S * S;
    float *x = burn_xmalloc(per * (size_t)batch * sizeof *x);
    uint64_t s = 12345;
    for (size_t i = 0; i < per * (size_t)batch; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((s >> 40) * (4.0 / 16777216.0) - 2.0);
    }
    c.x = x;
    c.feat = burn_xmalloc((size_t)F * batch * sizeof(float));

    /* check: runtime == trainer's stage-2 eval forward, at batch 1 */
    {
        burn_reactnet_run *r = burn_reactnet_run_new(&net2, be, 1, 0, 0);
        const float *ref;
        burn_reactnet_prepare(r, &ps2);
        if (!r || burn_reactnet_forward(r, &ps2, x, 0, &ref) != 0) die();
        if (burn_infer_run(c.m, x, 1, c.feat) != 0) die();
        if (memcmp(ref, c.feat, (size_t)F * sizeof(float)) != 0) {
            fprintf(stderr, "burn_bench infer: runtime features differ from the trainer's\n");
            return BURN_EXIT_RUNTIME;
        }
        burn_reactnet_run_free(r);
    }
    burn_params_free(&ps2);
    make_net(&net1, &ps1, 1, 1);
    c.fp_ps = &ps1;
    burn_log("full ReActNet-A 224, %d CPU threads, xnor kernel %s, median of %d; packed file "
             "%.2f MiB (binary %.2f + FP %.2f) vs FP32 student %.2f MiB",
             burn_cpu_threads(), burn_xnor_cpu_selected(), (int)repeats,
             (sz.packed_binary_bytes + sz.packed_fp_bytes) / 1048576.0,
             sz.packed_binary_bytes / 1048576.0, sz.packed_fp_bytes / 1048576.0,
             sz.fp32_student_bytes / 1048576.0);
    bench_row rows[2];
    int batches[2] = {1, (int)batch};
    for (int i = 0; i < 2; i++) {
        c.N = batches[i];
        c.fp_run = burn_reactnet_run_new(&net1, be, c.N, 0, 0);
        if (!c.fp_run) die();
        double tb, tf;
        bench_median_pair(run_binary, run_fp, &c, be, 1, (int)repeats, &tb, &tf);
        burn_reactnet_run_free(c.fp_run);
        snprintf(rows[i].shape, sizeof rows[i].shape, "batch %d", c.N);
        rows[i].binary_gops = c.N / tb;
        rows[i].ref_gops = c.N / tf;
        if (!json)
            printf("batch %d: packed runtime %.1f ms, FP32 eval forward %.1f ms per batch\n", c.N,
                   1e3 * tb, 1e3 * tf);
    }
    bench_report("infer", "cpu", "packed images/s", "fp32 images/s", rows, 2, json);
    burn_params_free(&ps1);
    burn_infer_free(c.m);
    free(x);
    free(c.feat);
    return 0;
}
