/* test_optim.c — Adam against a naive double implementation of torch.optim.Adam over several
 * steps, and the warm-up + cosine learning-rate schedule at its landmarks. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/optim.h"
#include "test_util.h"

Test(optim, adam_matches_double_reference_over_steps) {
    const burn_backend *be = burn_cpu_backend();
    int64_t n = 1001;
    float *p = malloc(n * 4), *g = malloc(n * 4), *m = calloc(n, 4), *v = calloc(n, 4);
    double *pr = malloc(n * 8), *mr = calloc(n, 8), *vr = calloc(n, 8);
    tu_fill(p, n, 1, -1, 1);
    for (int64_t i = 0; i < n; i++) pr[i] = p[i];
    burn_adam_hparams h = {.lr = 3e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                           .weight_decay = 0.01f, .grad_scale = 0.5f};
    for (int step = 1; step <= 20; step++) {
        tu_fill(g, n, 100 + step, -2, 2);
        burn_adam_prepare(&h, step);
        be->adam_step(p, g, m, v, n, h);
        double bc1 = 1 - pow(0.9, step), bc2 = 1 - pow(0.999, step);
        for (int64_t i = 0; i < n; i++) {
            double gi = (double)g[i] * 0.5 + 0.01 * pr[i];
            mr[i] = 0.9 * mr[i] + 0.1 * gi;
            vr[i] = 0.999 * vr[i] + 0.001 * gi * gi;
            pr[i] -= 3e-3 / bc1 * mr[i] / (sqrt(vr[i]) / sqrt(bc2) + 1e-8);
        }
    }
    double worst = 0;
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(p[i] - pr[i]));
    cr_assert_leq(worst, 2e-6, "Adam drifted from the reference by %g", worst);
    free(p), free(g), free(m), free(v), free(pr), free(mr), free(vr);
}

Test(optim, lr_schedule_landmarks) {
    double base = 3e-4;
    cr_assert_float_eq(burn_lr_at(base, 0, 10, 100, 1e-4), base * 1e-4, 1e-15);
    cr_assert_float_eq(burn_lr_at(base, 5, 10, 100, 1e-4), base * (1e-4 + (1 - 1e-4) * 0.5), 1e-15);
    cr_assert_float_eq(burn_lr_at(base, 10, 10, 100, 1e-4), base, 1e-15);
    cr_assert_float_eq(burn_lr_at(base, 55, 10, 100, 1e-4), base * 0.5, 1e-15);
    cr_assert_float_eq(burn_lr_at(base, 100, 10, 100, 1e-4), 0.0, 1e-15);
    cr_assert_float_eq(burn_lr_at(base, 7, 0, 10, 1e-4), base * 0.5 * (1 + cos(M_PI * 0.7)), 1e-15);
}
