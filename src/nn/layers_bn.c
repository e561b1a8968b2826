/* layers_bn.c — BatchNorm2d / BatchNorm1d layer API (include/burn/layers.h): train-mode
 * forward = statistics -> finalize (batch mean, inverse std, running stats) -> normalise;
 * backward = reductions (Σdy, Σdy·xhat, accumulating dgamma, dbeta) -> dx. Each arrow is a
 * backend op, so synchronised BN can all-reduce the 2·C doubles between them. */
#include "burn/backend.h"
#include "burn/check.h"
#include "burn/layers.h"

int burn_bn_init(burn_bn *bn, int N, int C, int HW) {
    if (N <= 0 || C <= 0 || HW <= 0) {
        burn_error_set("batch norm: sizes must be positive (x [%d, %d, %d])", N, C, HW);
        return -1;
    }
    *bn = (burn_bn){.N = N, .C = C, .HW = HW, .eps = 1e-5f, .momentum = 0.1f};
    return 0;
}

size_t burn_bn_stats_bytes(const burn_bn *bn) { return 2 * (size_t)bn->C * sizeof(double); }

int burn_bn_forward_train(const burn_backend *be, const burn_bn *bn, float *y, float *save_mean,
                          float *save_invstd, float *running_mean, float *running_var,
                          double *stats, const float *x, const float *gamma,
                          const float *beta) {
    int64_t count = (int64_t)bn->N * bn->HW;
    if (count < 2) {
        burn_error_set("batch norm in train mode needs more than one value per channel "
                       "(x [%d, %d, %d])", bn->N, bn->C, bn->HW);
        return -1;
    }
    be->bn_stats(stats, x, bn->N, bn->C, bn->HW);
    be->bn_finalize(save_mean, save_invstd, running_mean, running_var, stats, bn->C, count,
                    bn->eps, bn->momentum);
    be->bn_normalize(y, x, save_mean, save_invstd, gamma, beta, bn->N, bn->C, bn->HW);
    return 0;
}

void burn_bn_forward_eval(const burn_backend *be, const burn_bn *bn, float *y, const float *x,
                          const float *gamma, const float *beta, const float *running_mean,
                          const float *running_var) {
    be->bn_eval(y, x, running_mean, running_var, gamma, beta, bn->eps, bn->N, bn->C, bn->HW);
}

void burn_bn_backward(const burn_backend *be, const burn_bn *bn, float *dx, float *dgamma,
                      float *dbeta, double *stats, const float *dy, const float *x,
                      const float *gamma, const float *save_mean, const float *save_invstd) {
    be->bn_backward_stats(stats, dgamma, dbeta, dy, x, save_mean, save_invstd, bn->N, bn->C,
                          bn->HW);
    if (dx)
        be->bn_backward_dx(dx, dy, x, save_mean, save_invstd, gamma, stats,
                           (int64_t)bn->N * bn->HW, bn->N, bn->C, bn->HW);
}
