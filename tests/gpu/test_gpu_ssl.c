/* test_gpu_ssl.c — the BYOL and MoCo v2 baselines on the binary student (include/burn/ssl.h)
 * on CUDA against the CPU: one optimiser update's EMA, loss, gradient and (MoCo) queue from
 * the same state and inputs. The baselines have no kernels of their own; this checks their
 * orchestration of the backend ops on the device. Skipped visibly without a device. */
#include "burn/log.h"
#include "burn/ssl.h"
#include "gpu_util.h"

/* ‖a − b‖ / ‖b‖ over n floats (an isolated sign flip of a binary activation moves a few
 * gradient entries; the whole vector must still agree) */
static double rel_l2(const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1e-30));
}

static void compare_update(const char *method) {
    REQUIRE_CUDA(g);
    burn_log_quiet = 1;
    const burn_backend *cpu = burn_cpu_backend();
    burn_config c;
    burn_config_defaults(&c);
    cr_assert_eq(burn_config_load(&c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    const char *sets[] = {"byol.hidden=32", "byol.dim=16", "moco.dim=16", "moco.queue=40"};
    for (int i = 0; i < 4; i++) cr_assert_eq(burn_config_set(&c, sets[i]), 0);
    int N = 8, method_id = burn_ssl_method_parse(method);
    burn_ssl mc, mg;
    cr_assert_eq(burn_ssl_init(&mc, &c, method_id, cpu, N), 0, "%s", burn_error());
    cr_assert_eq(burn_ssl_init(&mg, &c, method_id, g, N), 0, "%s", burn_error());
    int64_t total = mc.params.total, A = mc.online_len, T = mc.params.trainable;
    /* the same start, with the target apart from the online networks so the EMA shows */
    tu_fill(mc.params.data + mc.target_begin, mc.ema_len, 5, -0.5f, 0.5f);
    g->upload(mg.params.data, mc.params.data, total * 4);
    int64_t nin = (int64_t)N * 3 * 32 * 32;
    float *x1 = malloc(nin * 4), *x2 = malloc(nin * 4);
    tu_fill(x1, nin, 71, -2, 2);
    tu_fill(x2, nin, 72, -2, 2);
    float *g1 = gu_upload(g, x1, nin), *g2 = gu_upload(g, x2, nin);
    burn_ssl_begin_update(&mc, 0.9f);
    burn_ssl_begin_update(&mg, 0.9f);
    cpu->fill(mc.params.grad, 0, T);
    g->fill(mg.params.grad, 0, T);
    burn_ssl_stats sc, sg;
    cr_assert_eq(burn_ssl_step(&mc, x1, x2, &sc), 0, "%s", burn_error());
    cr_assert_eq(burn_ssl_step(&mg, g1, g2, &sg), 0, "%s", burn_error());
    cr_expect_leq(fabs(sg.loss - sc.loss), 1e-3 * (1 + fabs(sc.loss)), "%s loss %g vs %g",
                  method, sg.loss, sc.loss);
    cr_expect_leq(fabs(sg.cos - sc.cos), 1e-3, "%s cos %g vs %g", method, sg.cos, sc.cos);
    float *hd = gu_download(g, mg.params.data, total), *hg = gu_download(g, mg.params.grad, T);
    double r = rel_l2(hd + mc.target_begin, mc.params.data + mc.target_begin, mc.ema_len);
    cr_expect_leq(r, 1e-6, "%s target after the EMA: %.3g", method, r);
    r = rel_l2(hg, mc.params.grad, mc.student_len);
    cr_expect_leq(r, 1e-2, "%s student gradient: %.3g", method, r);
    r = rel_l2(hg + mc.student_len, mc.params.grad + mc.student_len, A - mc.student_len);
    cr_expect_leq(r, 1e-2, "%s head gradients: %.3g", method, r);
    for (int64_t k = A; k < T; k++)
        cr_assert_eq(hg[k], 0.0f, "%s: gradient into the target at %lld", method, (long long)k);
    if (method_id == BURN_SSL_MOCO) {
        int64_t q = mc.params.p[mc.queue_idx].offset, n = (int64_t)mc.K * mc.D;
        r = rel_l2(hd + q, mc.params.data + q, n);
        cr_expect_leq(r, 1e-3, "queue after the enqueue: %.3g", r);
        cr_expect_eq(mg.queue_ptr, mc.queue_ptr);
    }
    free(hd), free(hg), free(x1), free(x2);
    g->free(g1), g->free(g2);
    burn_ssl_free(&mc);
    burn_ssl_free(&mg);
    burn_config_free(&c);
}

Test(gpu_ssl, byol_update_matches_cpu, .timeout = 120) { compare_update("byol"); }

Test(gpu_ssl, moco_update_matches_cpu, .timeout = 120) { compare_update("moco"); }
