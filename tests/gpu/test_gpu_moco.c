/* test_gpu_moco.c — the CUDA MoCo ops (kernels/moco_ops.cu) against the CPU ops on random
 * inputs and odd shapes, and whole MoCo steps (trainable ResNet forward/backward on cuDNN,
 * head, InfoNCE, SGD, EMA, queue) on CUDA against the same steps on the CPU. */
#include <float.h>

#include "burn/moco.h"
#include "burn/log.h"
#include "gpu_util.h"

/* max|a − b| / (max|b| + floor) */
static double rel_diff(const float *a, const float *b, int64_t n, double floor_) {
    double maxref = 0, maxdiff = 0;
    for (int64_t i = 0; i < n; i++) {
        maxref = fmax(maxref, fabs(b[i]));
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= maxdiff)) maxdiff = d;
    }
    return maxdiff / (maxref + floor_);
}

Test(gpu_moco, l2norm_matches_cpu) {
    REQUIRE_CUDA(g);
    const burn_backend *cpu = burn_cpu_backend();
    static const int shapes[][2] = {{1, 1}, {3, 7}, {256, 128}, {5, 1000}, {7, 33}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], D = shapes[s][1];
        int64_t n = (int64_t)N * D;
        float *x = malloc(n * 4), *dy = malloc(n * 4), *y = malloc(n * 4), *nrm = malloc(N * 4),
              *dx = malloc(n * 4);
        tu_fill(x, n, 10 + s, -2, 2);
        tu_fill(dy, n, 20 + s, -1, 1);
        cpu->l2norm_rows_forward(y, nrm, x, N, D);
        cpu->l2norm_rows_backward(dx, dy, y, nrm, N, D);
        float *gx = gu_upload(g, x, n), *gdy = gu_upload(g, dy, n), *gy = g->alloc(n * 4),
              *gn = g->alloc(N * 4), *gdx = g->alloc(n * 4);
        g->l2norm_rows_forward(gy, gn, gx, N, D);
        g->l2norm_rows_backward(gdx, gdy, gy, gn, N, D);
        float *ry = gu_download(g, gy, n), *rn = gu_download(g, gn, N), *rdx = gu_download(g, gdx, n);
        cr_expect_leq(rel_diff(ry, y, n, 0), 1e-6, "y [%d, %d]", N, D);
        cr_expect_leq(rel_diff(rn, nrm, N, 0), 1e-6, "norm [%d, %d]", N, D);
        cr_expect_leq(rel_diff(rdx, dx, n, 1e-6), 1e-5, "dx [%d, %d]", N, D);
        /* in place on the device too */
        g->l2norm_rows_forward(gx, gn, gx, N, D);
        float *rin = gu_download(g, gx, n);
        cr_expect_eq(memcmp(rin, ry, n * 4), 0, "in place [%d, %d]", N, D);
        free(x), free(dy), free(y), free(nrm), free(dx), free(ry), free(rn), free(rdx), free(rin);
        g->free(gx), g->free(gdy), g->free(gy), g->free(gn), g->free(gdx);
    }
}

Test(gpu_moco, infonce_matches_cpu) {
    REQUIRE_CUDA(g);
    const burn_backend *cpu = burn_cpu_backend();
    static const int shapes[][2] = {{1, 1}, {3, 2}, {4, 255}, {2, 257}, {16, 4097}, {256, 1025}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int big = 0; big < 2; big++) {
            int N = shapes[s][0], C = shapes[s][1];
            int64_t n = (int64_t)N * C;
            float *l = malloc(n * 4), *loss = malloc(N * 4), *dl = malloc(n * 4);
            tu_fill(l, n, 30 + s, big ? -300 : -1, big ? 300 : 1);
            cpu->infonce(loss, dl, l, N, C, 5.0f, 1.0f / N);
            float *gl = gu_upload(g, l, n), *gloss = g->alloc(N * 4), *gdl = g->alloc(n * 4);
            g->infonce(gloss, gdl, gl, N, C, 5.0f, 1.0f / N);
            float *rloss = gu_download(g, gloss, N), *rdl = gu_download(g, gdl, n);
            for (int i = 0; i < N; i++) cr_expect(isfinite(rloss[i]), "row %d", i);
            cr_expect_leq(rel_diff(rloss, loss, N, 1.0), 1e-5, "loss [%d, %d] big %d", N, C, big);
            /* logits·inv_temp up to 1500 carry ulp(1500) ≈ 1.2e-4 of absolute rounding (the
             * logsumexp too, whose last bit can round either way with another summation
             * order); exp turns that into relative error of the probabilities */
            double dl_tol = big ? 4 * 1500 * FLT_EPSILON : 1e-5;
            cr_expect_leq(rel_diff(rdl, dl, n, 1e-6), dl_tol, "dlogits [%d, %d] big %d", N, C, big);
            /* without the gradient: the same loss */
            g->infonce(gloss, NULL, gl, N, C, 5.0f, 1.0f / N);
            float *r2 = gu_download(g, gloss, N);
            cr_expect_eq(memcmp(r2, rloss, N * 4), 0);
            free(l), free(loss), free(dl), free(rloss), free(rdl), free(r2);
            g->free(gl), g->free(gloss), g->free(gdl);
        }
}

Test(gpu_moco, row_ops_and_sgd_match_cpu) {
    REQUIRE_CUDA(g);
    const burn_backend *cpu = burn_cpu_backend();
    int N = 37, D = 129, ld = 5;
    int64_t n = (int64_t)N * D;
    float *a = malloc(n * 4), *b = malloc(n * 4), *out = malloc(N * ld * 4), *y = malloc(n * 4);
    tu_fill(a, n, 40, -1, 1);
    tu_fill(b, n, 41, -1, 1);
    tu_fill(out, N * ld, 42, 3, 4);
    tu_fill(y, n, 43, -1, 1);
    float *ga = gu_upload(g, a, n), *gb = gu_upload(g, b, n), *gout = gu_upload(g, out, N * ld),
          *gy = gu_upload(g, y, n);
    cpu->row_dot(out, ld, a, b, N, D);
    g->row_dot(gout, ld, ga, gb, N, D);
    cpu->row_scale_add(y, out, ld, a, N, D);
    g->row_scale_add(gy, gout, ld, ga, N, D);
    float *rout = gu_download(g, gout, N * ld), *ry = gu_download(g, gy, n);
    cr_expect_leq(rel_diff(rout, out, N * ld, 1.0), 1e-6, "row_dot");
    cr_expect_leq(rel_diff(ry, y, n, 1.0), 1e-6, "row_scale_add");
    free(rout), free(ry);
    g->free(ga), g->free(gb), g->free(gout), g->free(gy);
    free(a), free(b), free(out), free(y);

    int64_t m = 100003;
    float *p = malloc(m * 4), *gr = malloc(m * 4), *buf = calloc(m, 4);
    tu_fill(p, m, 50, -1, 1);
    float *dp = gu_upload(g, p, m), *dg = g->alloc(m * 4), *dbuf = gu_upload(g, buf, m);
    burn_sgd_hparams h = {0.05f, 0.9f, 1e-4f, 0.5f};
    for (int step = 0; step < 5; step++) {
        tu_fill(gr, m, 60 + step, -1, 1);
        g->upload(dg, gr, m * 4);
        cpu->sgd_step(p, gr, buf, m, h);
        g->sgd_step(dp, dg, dbuf, m, h);
    }
    float *rp = gu_download(g, dp, m), *rb = gu_download(g, dbuf, m);
    cr_expect_leq(rel_diff(rp, p, m, 1.0), 1e-6, "sgd parameters");
    cr_expect_leq(rel_diff(rb, buf, m, 1.0), 1e-6, "sgd momentum");
    free(p), free(gr), free(buf), free(rp), free(rb);
    g->free(dp), g->free(dg), g->free(dbuf);
}

/* Three MoCo steps (ResNet-18 width 1/16, small input, 16x16, batch 8, queue 24 that wraps)
 * on CUDA and on the CPU from the same state: losses, then every tensor of both encoders and
 * the queue agree to 1e-3 of each tensor's largest value (cuDNN and OpenBLAS sum in other
 * orders, and three SGD steps compound the difference). */
Test(gpu_moco, moco_steps_match_cpu, .timeout = 120) {
    REQUIRE_CUDA(g);
    burn_log_quiet = 1;
    const burn_backend *cpu = burn_cpu_backend();
    burn_moco_config c = {{18, 1.0 / 16, 16, 1}, 16, 24, 0.2f, 0.99f, 0.9f, 1e-4f};
    int N = 8;
    burn_moco mc, mg;
    cr_assert_eq(burn_moco_init(&mc, &c, cpu, N, 3), 0, "%s", burn_error());
    cr_assert_eq(burn_moco_init(&mg, &c, g, N, 3), 0, "%s", burn_error());
    /* the same starting state (normal fills may differ by an ulp between backends) */
    g->upload(mg.q.data, mc.q.data, mc.q.total * 4);
    g->upload(mg.k.data, mc.k.data, mc.k.total * 4);
    g->upload(mg.queue, mc.queue, (size_t)c.queue * c.dim * 4);
    int64_t nin = (int64_t)N * 3 * 16 * 16;
    float *xq = malloc(nin * 4), *xk = malloc(nin * 4);
    float *gq = g->alloc(nin * 4), *gk = g->alloc(nin * 4);
    for (int step = 0; step < 3; step++) {
        tu_fill(xq, nin, 70 + step, -2, 2);
        tu_fill(xk, nin, 80 + step, -2, 2);
        g->upload(gq, xq, nin * 4);
        g->upload(gk, xk, nin * 4);
        burn_moco_stats sc, sg;
        cr_assert_eq(burn_moco_step(&mc, xq, xk, 0.1f, &sc), 0, "%s", burn_error());
        cr_assert_eq(burn_moco_step(&mg, gq, gk, 0.1f, &sg), 0, "%s", burn_error());
        cr_expect_leq(fabs(sg.loss - sc.loss), 1e-4 * (1 + fabs(sc.loss)), "step %d loss %g vs %g",
                      step, sg.loss, sc.loss);
    }
    for (int e = 0; e < 2; e++) {
        const burn_params *pc = e ? &mc.k : &mc.q, *pg = e ? &mg.k : &mg.q;
        float *h = gu_download(g, pg->data, pg->total);
        for (int i = 0; i < pc->n; i++) {
            const burn_param *p = &pc->p[i];
            double r = rel_diff(h + p->offset, pc->data + p->offset, p->numel, 1e-12);
            cr_expect_leq(r, 1e-3, "%s: CUDA vs CPU %.3g", p->name, r);
        }
        free(h);
    }
    float *hq = gu_download(g, mg.queue, (int64_t)c.queue * c.dim);
    cr_expect_leq(rel_diff(hq, mc.queue, (int64_t)c.queue * c.dim, 0), 1e-3, "queue");
    cr_expect_eq(mg.queue_ptr, mc.queue_ptr);
    free(hq), free(xq), free(xk);
    g->free(gq), g->free(gk);
    burn_moco_free(&mc);
    burn_moco_free(&mg);
}
