/* test_gpu_xent.c — the CUDA softmax cross-entropy (kernels/xent.cu) against the CPU op on
 * random logits (ordinary and far beyond exp's range), odd class counts and the tails of the
 * block's columns, with and without each output, and the NaN rows of out-of-range labels; and
 * the linear-evaluation classifier (src/eval/linear_eval.c, features path) trained on CUDA against
 * the same training on the CPU. */
#include "burn/eval.h"
#include "burn/log.h"
#include "gpu_util.h"

static int32_t *gu_upload_i32(const burn_backend *g, const int32_t *h, int n) {
    int32_t *d = g->alloc((size_t)n * 4);
    g->upload(d, h, (size_t)n * 4);
    return d;
}

Test(gpu_xent, matches_cpu) {
    REQUIRE_CUDA(g);
    const burn_backend *cpu = burn_cpu_backend();
    static const int shapes[][2] = {{1, 1}, {3, 2}, {7, 10}, {4, 33}, {2, 255}, {5, 257},
                                    {256, 1000}, {16, 4097}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int big = 0; big < 2; big++) {
            int N = shapes[s][0], C = shapes[s][1];
            int64_t n = (int64_t)N * C;
            float range = big ? 300.0f : 3.0f;
            float *z = malloc(n * 4), *loss = malloc(N * 4), *dz = malloc(n * 4);
            int32_t *y = malloc((size_t)N * 4);
            uint64_t rs = 40 + s;
            for (int i = 0; i < N; i++) y[i] = tu_int(&rs, 0, C - 1);
            tu_fill(z, n, 30 + s, -range, range);
            cpu->softmax_xent(loss, dz, z, y, N, C, 1.0f / N);
            float *gz = gu_upload(g, z, n), *gloss = g->alloc(N * 4), *gdz = g->alloc(n * 4);
            int32_t *gy = gu_upload_i32(g, y, N);
            g->softmax_xent(gloss, gdz, gz, gy, N, C, 1.0f / N);
            float *rloss = gu_download(g, gloss, N), *rdz = gu_download(g, gdz, n);
            for (int i = 0; i < N; i++) cr_expect(isfinite(rloss[i]), "row %d", i);
            cr_expect_leq(tu_max_rel_f(rloss, loss, N, 1.0 + range), 1e-6, "loss [%d, %d] big %d",
                          N, C, big);
            /* per element: |Δ| relative to the row's scale 1/N, ulps of `range` in lse */
            cr_expect_leq(tu_max_rel_f(rdz, dz, n, 1.0 / N), 4e-7 * (1.0 + range),
                          "dlogits [%d, %d] big %d", N, C, big);
            /* only the loss, only the gradient: the same values */
            g->softmax_xent(gloss, NULL, gz, gy, N, C, 1.0f / N);
            float *r2 = gu_download(g, gloss, N);
            cr_expect_eq(memcmp(r2, rloss, (size_t)N * 4), 0, "loss alone [%d, %d]", N, C);
            g->fill(gdz, 7.0f, n);
            g->softmax_xent(NULL, gdz, gz, gy, N, C, 1.0f / N);
            float *r3 = gu_download(g, gdz, n);
            cr_expect_eq(memcmp(r3, rdz, (size_t)n * 4), 0, "gradient alone [%d, %d]", N, C);
            free(z), free(loss), free(dz), free(y), free(rloss), free(rdz), free(r2), free(r3);
            g->free(gz), g->free(gloss), g->free(gdz), g->free(gy);
        }
}

Test(gpu_xent, bad_label_rows_are_nan) {
    REQUIRE_CUDA(g);
    int N = 3, C = 40;
    float z[120], loss[3], dz[120];
    tu_fill(z, N * C, 9, -1, 1);
    int32_t y[3] = {7, C, -3};
    float *gz = gu_upload(g, z, N * C), *gloss = g->alloc(N * 4), *gdz = g->alloc(N * C * 4);
    int32_t *gy = gu_upload_i32(g, y, N);
    g->softmax_xent(gloss, gdz, gz, gy, N, C, 1.0f);
    g->download(loss, gloss, sizeof loss);
    g->download(dz, gdz, sizeof dz);
    cr_expect(isfinite(loss[0]));
    for (int c = 0; c < C; c++) cr_expect(isfinite(dz[c]));
    for (int r = 1; r < N; r++) {
        cr_expect(isnan(loss[r]), "row %d", r);
        for (int c = 0; c < C; c++) cr_expect(isnan(dz[r * C + c]), "row %d col %d", r, c);
    }
    g->free(gz), g->free(gloss), g->free(gdz), g->free(gy);
}

Test(gpu_xent, linear_eval_features_path_matches_cpu) {
    REQUIRE_CUDA(g);
    burn_log_quiet = 1;
    int64_t n = 500, nv = 200;
    int dim = 24, classes = 7;
    burn_features tr = {n, dim, classes, malloc(n * dim * 4), malloc(n * 4)};
    burn_features va = {nv, dim, classes, malloc(nv * dim * 4), malloc(nv * 4)};
    uint64_t s = 5;
    for (int64_t i = 0; i < n + nv; i++) {
        burn_features *f = i < n ? &tr : &va;
        int64_t r = i < n ? i : i - n;
        f->labels[r] = tu_int(&s, 0, classes - 1);
        for (int d = 0; d < dim; d++)
            f->x[r * dim + d] = (d == f->labels[r] ? 1.5f : 0.0f) + tu_uniform(&s, -1, 1);
    }
    burn_linear_opts o = {.epochs = 4, .batch_size = 64, .lr = 0.05, .momentum = 0.9,
                          .n_milestones = 1, .milestones = {3}, .seed = 2};
    burn_linear_result rc, rg;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &rc), 0, "%s",
                 burn_error());
    cr_assert_eq(burn_linear_train_features(g, &o, &tr, &va, &rg), 0, "%s", burn_error());
    cr_expect_leq(fabs(rg.train_loss - rc.train_loss), 1e-3 * (1 + rc.train_loss),
                  "train loss cuda %g cpu %g", rg.train_loss, rc.train_loss);
    /* a float-rounding difference may flip a borderline row or two */
    cr_expect_leq(fabs(rg.top1 - rc.top1), 2.0 / nv, "top1 cuda %g cpu %g", rg.top1, rc.top1);
    cr_expect_gt(rc.top1, 0.5);
    burn_features_free(&tr);
    burn_features_free(&va);
}
