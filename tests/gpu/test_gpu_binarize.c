/* test_gpu_binarize.c — the CUDA binarisation ops (sign/STE, RSign, RPReLU, weight
 * binarisation) against the CPU ops on random inputs with odd shapes, both STE modes and
 * accumulated parameter gradients. Skipped (visibly) without a CUDA device. */
#include "burn/binarize.h"
#include "gpu_util.h"

static const burn_backend *cpu;
static void setup(void) { cpu = burn_cpu_backend(); }
TestSuite(gpu_binarize, .init = setup);

/* device result vs host reference: max |a − b| / (|b| + floor) */
static double dev_err(const burn_backend *g, const float *dev, const float *host, int64_t n,
                      double floor_) {
    float *r = gu_download(g, dev, n);
    double e = tu_max_rel_f(r, host, n, floor_);
    free(r);
    return e;
}

Test(gpu_binarize, sign_forward_and_backward) {
    REQUIRE_CUDA(g);
    for (int64_t n = 1; n <= 3000007; n = n * 7 + 5) {
        float *x = malloc(n * 4), *gr = malloc(n * 4), *y = malloc(n * 4);
        tu_fill(x, n, n, -2, 2);
        tu_fill(gr, n, n + 1, -1, 1);
        x[0] = 0.0f; /* sign(0) = +1 on the device too */
        float *dx = gu_upload(g, x, n), *dg = gu_upload(g, gr, n), *dy = g->alloc(n * 4);
        g->sign_forward(dy, dx, n);
        cpu->sign_forward(y, x, n);
        float *r = gu_download(g, dy, n);
        cr_assert(memcmp(r, y, n * 4) == 0, "sign n=%ld differs", (long)n);
        free(r);
        for (int mode = 0; mode < 2; mode++) {
            g->sign_backward(dy, dg, dx, n, mode);
            cpu->sign_backward(y, gr, x, n, mode);
            cr_assert_leq(dev_err(g, dy, y, n, 1.0), 1e-6, "sign_backward mode %d n=%ld", mode, (long)n);
        }
        g->free(dx), g->free(dg), g->free(dy);
        free(x), free(gr), free(y);
    }
}

Test(gpu_binarize, rsign_and_rprelu) {
    REQUIRE_CUDA(g);
    uint64_t s = 21;
    static const int hws[] = {1, 7, 49, 196, 3136, 12545};
    for (int trial = 0; trial < 12; trial++) {
        int N = tu_int(&s, 1, 9), C = tu_int(&s, 1, 70), HW = hws[trial % 6];
        int mode = trial & 1;
        int64_t n = (int64_t)N * C * HW;
        float *x = malloc(n * 4), *gr = malloc(n * 4), *y = malloc(n * 4);
        float *p = malloc(4 * C * 4), *pg = malloc(4 * C * 4); /* beta gamma slope zeta; grads */
        tu_fill(x, n, tu_next(&s), -2, 2);
        tu_fill(gr, n, tu_next(&s), -1, 1);
        tu_fill(p, 4 * C, tu_next(&s), -0.5f, 0.5f);
        for (int c = 0; c < C; c++) p[2 * C + c] = 0.25f + 0.1f * p[2 * C + c]; /* slopes */
        tu_fill(pg, 4 * C, tu_next(&s), -1, 1);
        float *dx = gu_upload(g, x, n), *dgr = gu_upload(g, gr, n), *dy = g->alloc(n * 4);
        float *dp = gu_upload(g, p, 4 * C), *dpg = gu_upload(g, pg, 4 * C);
        const float *beta = p, *gamma = p + C, *slope = p + 2 * C, *zeta = p + 3 * C;

        g->rsign_forward(dy, dx, dp, N, C, HW);
        cpu->rsign_forward(y, x, beta, N, C, HW);
        float *r = gu_download(g, dy, n);
        cr_assert(memcmp(r, y, n * 4) == 0, "rsign forward %dx%dx%d differs", N, C, HW);
        free(r);
        g->rsign_backward(dy, dpg, dgr, dx, dp, N, C, HW, mode);
        cpu->rsign_backward(y, pg, gr, x, beta, N, C, HW, mode);
        cr_assert_leq(dev_err(g, dy, y, n, 1.0), 1e-6, "rsign dx %dx%dx%d", N, C, HW);
        /* per-channel sums of up to 9·12545 terms in float on the device, double on the CPU */
        cr_assert_leq(dev_err(g, dpg, pg, C, 1.0), 1e-5 * sqrt((double)N * HW), "rsign dbeta");

        g->rprelu_forward(dy, dx, dp + C, dp + 2 * C, dp + 3 * C, N, C, HW);
        cpu->rprelu_forward(y, x, gamma, slope, zeta, N, C, HW);
        cr_assert_leq(dev_err(g, dy, y, n, 1.0), 1e-6, "rprelu forward %dx%dx%d", N, C, HW);
        /* dgamma, dslope, dzeta accumulate into pg[C..4C) (dbeta's slot stays as it is) */
        g->rprelu_backward(dy, dpg + C, dpg + 2 * C, dpg + 3 * C, dgr, dx, dp + C, dp + 2 * C, N,
                           C, HW);
        cpu->rprelu_backward(y, pg + C, pg + 2 * C, pg + 3 * C, gr, x, gamma, slope, N, C, HW);
        cr_assert_leq(dev_err(g, dy, y, n, 1.0), 1e-6, "rprelu dx %dx%dx%d", N, C, HW);
        cr_assert_leq(dev_err(g, dpg, pg, 4 * C, 1.0), 1e-5 * sqrt((double)N * HW),
                      "rprelu parameter gradients %dx%dx%d", N, C, HW);
        g->free(dx), g->free(dgr), g->free(dy), g->free(dp), g->free(dpg);
        free(x), free(gr), free(y), free(p), free(pg);
    }
}

Test(gpu_binarize, weights_forward_and_backward) {
    REQUIRE_CUDA(g);
    uint64_t s = 22;
    for (int trial = 0; trial < 10; trial++) {
        int O = tu_int(&s, 1, 300), K = trial == 9 ? 9216 : tu_int(&s, 1, 2000);
        int mode = trial & 1;
        int64_t n = (int64_t)O * K;
        float *W = malloc(n * 4), *dWb = malloc(n * 4), *Wb = malloc(n * 4), *dW = malloc(n * 4);
        float *alpha = malloc(O * 4);
        tu_fill(W, n, tu_next(&s), -1.5f, 1.5f);
        tu_fill(dWb, n, tu_next(&s), -1, 1);
        tu_fill(dW, n, tu_next(&s), -1, 1);
        float *dW_d = gu_upload(g, W, n), *ddWb = gu_upload(g, dWb, n), *dWb_out = g->alloc(n * 4);
        float *ddW = gu_upload(g, dW, n), *dalpha = g->alloc(O * 4);
        g->binarize_weights(dWb_out, dalpha, dW_d, O, K);
        cpu->binarize_weights(Wb, alpha, W, O, K);
        cr_assert_leq(dev_err(g, dalpha, alpha, O, 1e-6), 1e-5, "alpha %dx%d", O, K);
        cr_assert_leq(dev_err(g, dWb_out, Wb, n, 1e-6), 1e-5, "Wb %dx%d", O, K);
        /* both backends read the same alpha (the CPU's) so only the backward is compared */
        g->upload(dalpha, alpha, O * 4);
        g->binarize_weights_backward(ddW, ddWb, dW_d, dalpha, O, K, mode);
        cpu->binarize_weights_backward(dW, dWb, W, alpha, O, K, mode);
        cr_assert_leq(dev_err(g, ddW, dW, n, 1.0), 1e-6, "dW mode %d %dx%d", mode, O, K);
        g->free(dW_d), g->free(ddWb), g->free(dWb_out), g->free(ddW), g->free(dalpha);
        free(W), free(dWb), free(Wb), free(dW), free(alpha);
    }
}
