/* bench_loss.c — `burn_bench loss`: the fused BURN loss (loss_fused: one pass per row, one
 * launch on CUDA) against the unfused reference (loss_unfused: 11 simple whole-tensor steps
 * with intermediates in memory, as an eager framework runs it) on the same backend, side by
 * side in one run. Both compute per-row KL, FS and L and the gradients for both s and t
 * (METHOD.md §4, cosine FS, T = 0.2). Shapes are N rows x D logits; N = 256, D = 2000 is one GPU's
 * batch in the released configs. The outputs of the two are compared before anything is
 * reported. Throughput is in thousands of rows per second (not GOPS). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/log.h"
#include "burn/loss.h"

typedef struct loss_ctx {
    const burn_backend *be;
    int N, D;
    burn_loss_hparams h;
    float *s, *t, *ds, *dt, *kl, *fs, *loss, *work;
} loss_ctx;

static void run_fused(void *p) {
    loss_ctx *c = p;
    c->be->loss_fused(c->kl, c->fs, c->loss, c->ds, c->dt, c->s, c->t, c->N, c->D, c->h);
}

static void run_unfused(void *p) {
    loss_ctx *c = p;
    c->be->loss_unfused(c->kl, c->fs, c->loss, c->ds, c->dt, c->s, c->t, c->N, c->D, c->h,
                        c->work);
}

/* Download n floats of both results; return max |a − b| / (max |b| + tiny). */
static double max_rel_diff(const burn_backend *be, const float *a_dev, const float *b_host,
                           int64_t n) {
    float *a = malloc((size_t)n * 4);
    be->download(a, a_dev, (size_t)n * 4);
    double worst = 0, scale = 1e-30;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(b_host[i]));
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b_host[i]) / scale;
        if (!(e <= worst)) worst = e; /* NaN counts as the worst */
    }
    free(a);
    return worst;
}

int bench_loss(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--device", "cpu|cuda", "backend to measure (default cpu)", 0},
        {"--repeats", "N", "timed runs per shape; the median is reported (default 10)", 0},
        {"--json", NULL, "print one JSON object", 0},
        {NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(
        &a, "burn_bench loss", "[--device cpu|cuda] [--repeats N] [--json]",
        "Fused BURN loss (KL + cosine FS, forward and both gradients) against the unfused\n"
        "reference on the same backend, at NxD = rows x logits. Columns: thousands of rows per\n"
        "second (krows/s, in place of GOPS), fused ('binary' in --json) and unfused ('ref');\n"
        "ratio = fused / unfused. The two results are compared before printing.",
        opts, 0, argc, argv);
    if (rc) return rc;
    const char *device;
    int64_t repeats;
    if ((rc = burn_arg_choice(&a, "--device", "cpu|cuda", "cpu", &device)) ||
        (rc = burn_arg_int(&a, "--repeats", 1, 10000, 10, &repeats))) {
        burn_args_free(&a);
        return rc;
    }
    int json = burn_arg_flag(&a, "--json");
    burn_log_quiet = json;
    const burn_backend *be = burn_backend_select(device);
    if (!be) {
        fprintf(stderr, "burn_bench: %s\n", burn_error());
        burn_args_free(&a);
        return 1;
    }
    static const int shapes[][2] = {{256, 2000}, {64, 2000}, {1024, 2000}, {256, 128},
                                    {256, 8192}, {4096, 2000}};
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    bench_row rows[sizeof shapes / sizeof shapes[0]];
    int status = 0;
    for (int k = 0; k < nshapes && status == 0; k++) {
        loss_ctx c = {be, shapes[k][0], shapes[k][1],
                      {.temperature = 0.2f, .lambda = 0.8f, .grad_scale = 1.0f / shapes[k][0],
                       .fs = BURN_FS_COSINE},
                      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
        const int64_t nd = (int64_t)c.N * c.D;
        c.s = be->alloc((size_t)nd * 4);
        c.t = be->alloc((size_t)nd * 4);
        c.ds = be->alloc((size_t)nd * 4);
        c.dt = be->alloc((size_t)nd * 4);
        c.kl = be->alloc((size_t)c.N * 4);
        c.fs = be->alloc((size_t)c.N * 4);
        c.loss = be->alloc((size_t)c.N * 4);
        c.work = be->alloc((size_t)burn_loss_unfused_work_floats(c.N, c.D) * 4);
        be->uniform(c.s, nd, 3000 + k, 0, -4, 4);
        be->uniform(c.t, nd, 4000 + k, 0, -4, 4);

        double t_ref = bench_median(run_unfused, &c, be, 2, (int)repeats);
        float *ref_ds = malloc((size_t)nd * 4), *ref_dt = malloc((size_t)nd * 4);
        float *ref_loss = malloc((size_t)c.N * 4);
        be->download(ref_ds, c.ds, (size_t)nd * 4);
        be->download(ref_dt, c.dt, (size_t)nd * 4);
        be->download(ref_loss, c.loss, (size_t)c.N * 4);
        be->fill(c.ds, NAN, nd); /* the fused run must write every gradient itself */
        be->fill(c.dt, NAN, nd);
        double t_fused = bench_median(run_fused, &c, be, 2, (int)repeats);

        double e_loss = max_rel_diff(be, c.loss, ref_loss, c.N);
        double e_ds = max_rel_diff(be, c.ds, ref_ds, nd), e_dt = max_rel_diff(be, c.dt, ref_dt, nd);
        if (!(e_loss <= 1e-4 && e_ds <= 1e-4 && e_dt <= 1e-4)) {
            fprintf(stderr,
                    "burn_bench: fused and unfused loss disagree at %dx%d: loss %g, ds %g, dt %g "
                    "(relative to the largest value)\n",
                    c.N, c.D, e_loss, e_ds, e_dt);
            status = 1;
        }
        snprintf(rows[k].shape, sizeof rows[k].shape, "%dx%d", c.N, c.D);
        rows[k].binary_gops = c.N / t_fused * 1e-3;
        rows[k].ref_gops = c.N / t_ref * 1e-3;
        free(ref_ds), free(ref_dt), free(ref_loss);
        be->free(c.s), be->free(c.t), be->free(c.ds), be->free(c.dt);
        be->free(c.kl), be->free(c.fs), be->free(c.loss), be->free(c.work);
    }
    if (status == 0) {
        bench_report("loss", device, "fused krows/s", "unfused krows/s", rows, nshapes, json);
        if (!json)
            printf("loss: shapes are N rows x D logits; columns are thousands of rows per second "
                   "(forward + ds + dt), not GOPS\n");
    }
    burn_args_free(&a);
    return status;
}
