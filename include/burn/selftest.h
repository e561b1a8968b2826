/* selftest.h — trusting a backend: one full BURN step of the committed PyTorch fixtures
 * (tests/fixtures/burn_step_stage{1,2}.safetensors) on a backend, compared tensor by tensor
 * with the PyTorch reference (features, logits, loss terms, every gradient, BN running
 * statistics, and the weights after one Adam update), and, for a device backend, with the
 * CPU backend on the same weights and batch. `burn_gpu selftest --device cuda` runs it; the
 * CPU tests run it on the CPU. */
#ifndef BURN_SELFTEST_H
#define BURN_SELFTEST_H

#include <stdio.h>

#include "burn/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_selftest_report {
    int compared;          /* tensors compared */
    int failed;            /* over the tolerance */
    double worst;          /* largest relative error */
    char worst_name[256];  /* and where */
} burn_selftest_report;

/* Run the fixture's step on `be` and compare with the fixture (against = NULL) or with the
 * same step on backend `against`. Each tensor's relative error is max|a − b| / max|b|;
 * structurally zero gradients (bias before BN: every element under 1e-5 of the largest
 * gradient, float rounding of a sum that is zero in exact arithmetic) are measured against
 * the largest gradient; weights after Adam through burn_adam_first_step_maxdiff.
 * verbose: print one line per tensor to out (NULL: silent). 0, or -1 with burn_error() when
 * the fixture cannot be run. */
int burn_selftest_fixture(const char *fixture, const burn_backend *be,
                          const burn_backend *against, double tol, FILE *out,
                          burn_selftest_report *rep);

/* Weights after Adam's first step on two backends. That step is lr·g/(|g| + eps), about
 * lr·sign(g): where the reference gradient is zero within what the gradient comparison can
 * resolve (|grad_ref[i]| <= g_zero), the two backends may step in opposite directions, 2·lr
 * apart, and both be right. Returns max |got − want| over the other elements, or +inf when an
 * undetermined element differs by more than 2·lr (plus rounding); *undetermined (may be
 * NULL) counts them. */
double burn_adam_first_step_maxdiff(const float *got, const float *want, const float *grad_ref,
                                    int64_t n, float lr, double g_zero, int64_t *undetermined);

#ifdef __cplusplus
}
#endif

#endif
