/* test_gpu_loss.c — the CUDA BURN loss (fused and unfused) against the CPU's on random logits:
 * every FS choice, odd and production widths, per-row outputs and both gradients, NULL
 * outputs. Skipped (visibly) without a CUDA device. */
#include "burn/loss.h"
#include "gpu_util.h"

static const burn_backend *cpu;
static void setup(void) { cpu = burn_cpu_backend(); }
TestSuite(gpu_loss, .init = setup);

Test(gpu_loss, fused_and_unfused_match_cpu) {
    REQUIRE_CUDA(g);
    uint64_t s = 31;
    static const int dims[] = {1, 3, 31, 257, 2000, 2001, 8193};
    for (int fused = 0; fused < 2; fused++)
        for (int fs = 0; fs < 3; fs++)
            for (int di = 0; di < 7; di++) {
                int N = tu_int(&s, 1, 300), D = dims[di];
                int64_t nd = (int64_t)N * D;
                burn_loss_hparams h = {.temperature = 0.2f, .lambda = 0.3f * fs + 0.1f,
                                       .grad_scale = 1.0f / N, .fs = fs};
                float *sh = malloc(nd * 4), *th = malloc(nd * 4);
                tu_fill(sh, nd, tu_next(&s), -4, 4);
                tu_fill(th, nd, tu_next(&s), -4, 4);
                float *c_out = malloc(3 * N * 4), *c_ds = malloc(nd * 4), *c_dt = malloc(nd * 4);
                float *ds_ = gu_upload(g, sh, nd), *dt_ = gu_upload(g, th, nd);
                float *g_out = g->alloc(3 * N * 4), *g_ds = g->alloc(nd * 4), *g_dt = g->alloc(nd * 4);
                int64_t wn = burn_loss_unfused_work_floats(N, D);
                float *c_work = malloc(wn * 4), *g_work = g->alloc(wn * 4);
                if (fused) {
                    cpu->loss_fused(c_out, c_out + N, c_out + 2 * N, c_ds, c_dt, sh, th, N, D, h);
                    g->loss_fused(g_out, g_out + N, g_out + 2 * N, g_ds, g_dt, ds_, dt_, N, D, h);
                } else {
                    cpu->loss_unfused(c_out, c_out + N, c_out + 2 * N, c_ds, c_dt, sh, th, N, D, h, c_work);
                    g->loss_unfused(g_out, g_out + N, g_out + 2 * N, g_ds, g_dt, ds_, dt_, N, D, h, g_work);
                }
                float *r_out = gu_download(g, g_out, 3 * N), *r_ds = gu_download(g, g_ds, nd);
                float *r_dt = gu_download(g, g_dt, nd);
                /* float block sums on the device vs double row sums on the CPU; |z/T| <= 20 */
                const char *what = fused ? "fused" : "unfused";
                cr_assert_leq(tu_max_rel_f(r_out, c_out, N, 1.0), 2e-5, "%s fs=%d %dx%d kl", what, fs, N, D);
                cr_assert_leq(tu_max_rel_f(r_out + N, c_out + N, N, 1e-2), 2e-5, "%s fs=%d %dx%d fs", what, fs, N, D);
                cr_assert_leq(tu_max_rel_f(r_out + 2 * N, c_out + 2 * N, N, 1.0), 2e-5, "%s fs=%d %dx%d loss", what, fs, N, D);
                cr_assert_leq(gu_rel_to_max(r_ds, c_ds, nd), 1e-4, "%s fs=%d %dx%d ds", what, fs, N, D);
                cr_assert_leq(gu_rel_to_max(r_dt, c_dt, nd), 1e-4, "%s fs=%d %dx%d dt", what, fs, N, D);
                free(r_out), free(r_ds), free(r_dt), free(sh), free(th), free(c_out), free(c_ds),
                    free(c_dt), free(c_work);
                g->free(ds_), g->free(dt_), g->free(g_out), g->free(g_ds), g->free(g_dt), g->free(g_work);
            }
}

Test(gpu_loss, null_outputs_and_zero_at_s_equals_t) {
    REQUIRE_CUDA(g);
    int N = 5, D = 2000;
    int64_t nd = (int64_t)N * D;
    float *sh = malloc(nd * 4);
    tu_fill(sh, nd, 77, -3, 3);
    float *d_s = gu_upload(g, sh, nd), *d_loss = g->alloc(N * 4), *d_ds = g->alloc(nd * 4);
    for (int fs = 0; fs < 3; fs++) {
        burn_loss_hparams h = {.temperature = 0.2f, .lambda = 0.7f, .grad_scale = 1.0f, .fs = fs};
        g->loss_fused(NULL, NULL, d_loss, d_ds, NULL, d_s, d_s, N, D, h);
        float *loss = gu_download(g, d_loss, N), *ds = gu_download(g, d_ds, nd);
        for (int n = 0; n < N; n++) cr_assert_leq(fabsf(loss[n]), 1e-6f, "fs=%d L(s, s) = %g", fs, loss[n]);
        for (int64_t i = 0; i < nd; i++) cr_assert_leq(fabsf(ds[i]), 1e-5f, "fs=%d ds = %g at s = t", fs, ds[i]);
        free(loss), free(ds);
    }
    g->free(d_s), g->free(d_loss), g->free(d_ds);
    free(sh);
}
