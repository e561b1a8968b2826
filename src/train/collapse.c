/* collapse.c — collapse statistics of a head's logits (include/burn/collapse.h), in double
 * precision on the host: two passes over z [N, D] for the per-output std, one for the mean
 * softmax (log-sum-exp with the row maximum subtracted, so large logits do not overflow). */
#include "burn/collapse.h"

#include <math.h>
#include <stdlib.h>

#include "burn/check.h"

void burn_head_stats_compute(const float *z, int N, int D, double T, burn_head_stats *out) {
    double *mean = burn_xcalloc((size_t)D, sizeof(double));
    double *pbar = burn_xcalloc((size_t)D, sizeof(double));
    for (int n = 0; n < N; n++)
        for (int d = 0; d < D; d++) mean[d] += z[(size_t)n * D + d];
    double std_sum = 0;
    for (int d = 0; d < D; d++) {
        mean[d] /= N;
        double var = 0;
        for (int n = 0; n < N; n++) {
            double e = z[(size_t)n * D + d] - mean[d];
            var += e * e;
        }
        std_sum += sqrt(var / N);
    }
    for (int n = 0; n < N; n++) {
        const float *row = z + (size_t)n * D;
        double mx = row[0] / T, lse = 0;
        for (int d = 1; d < D; d++)
            if (row[d] / T > mx) mx = row[d] / T;
        for (int d = 0; d < D; d++) lse += exp(row[d] / T - mx);
        for (int d = 0; d < D; d++) pbar[d] += exp(row[d] / T - mx) / lse / N;
    }
    double h = 0;
    for (int d = 0; d < D; d++)
        if (pbar[d] > 0) h -= pbar[d] * log(pbar[d]);
    out->logit_std = std_sum / D;
    out->entropy = h;
    free(mean);
    free(pbar);
}

int burn_head_collapsed(const burn_head_stats *s, int D, double T) {
    return s->logit_std < BURN_COLLAPSE_STD * T || s->entropy < BURN_COLLAPSE_ENTROPY * log((double)D);
}
