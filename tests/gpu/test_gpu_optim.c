/* test_gpu_optim.c — the CUDA Adam step against the CPU one on random inputs. */
#include "burn/optim.h"
#include "gpu_util.h"

Test(gpu_optim, adam_matches_cpu) {
    REQUIRE_CUDA(g);
    const burn_backend *cpu = burn_cpu_backend();
    int64_t n = 100003;
    float *p = malloc(n * 4), *gr = malloc(n * 4), *m = calloc(n, 4), *v = calloc(n, 4);
    tu_fill(p, n, 1, -1, 1);
    float *dp = gu_upload(g, p, n), *dg = g->alloc(n * 4), *dm = gu_upload(g, m, n),
          *dv = gu_upload(g, v, n);
    burn_adam_hparams h = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                           .weight_decay = 0.0f, .grad_scale = 1.0f};
    for (int step = 1; step <= 5; step++) {
        tu_fill(gr, n, 10 + step, -1, 1);
        g->upload(dg, gr, n * 4);
        burn_adam_prepare(&h, step);
        cpu->adam_step(p, gr, m, v, n, h);
        g->adam_step(dp, dg, dm, dv, n, h);
    }
    float *r = gu_download(g, dp, n);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(r[i] - p[i]));
    cr_assert_leq(worst, 1e-6, "CUDA Adam differs from CPU by %g", worst);
    free(r), free(p), free(gr), free(m), free(v);
    g->free(dp), g->free(dg), g->free(dm), g->free(dv);
}
