/* info_max.c — information maximisation of a head's logits and its gradient
 * (include/burn/info_max.h): one pass for the row softmaxes (log-sum-exp with the row maximum
 * subtracted), one for p̄, one for the gradient. */
#include "burn/info_max.h"

#include <math.h>
#include <stdlib.h>

#include "burn/check.h"

double burn_info_max(const float *z, int N, int D, double T, float scale, float *dz) {
    double *logp = burn_xmalloc((size_t)N * D * sizeof(double)); /* log p_nd */
    double *pbar = burn_xcalloc((size_t)D, sizeof(double));
    double h_rows = 0;
    for (int n = 0; n < N; n++) {
        const float *row = z + (size_t)n * D;
        double *lp = logp + (size_t)n * D, mx = row[0] / T, sum = 0;
        for (int d = 1; d < D; d++)
            if (row[d] / T > mx) mx = row[d] / T;
        for (int d = 0; d < D; d++) sum += exp(row[d] / T - mx);
        double lse = mx + log(sum);
        for (int d = 0; d < D; d++) {
            lp[d] = row[d] / T - lse;
            double p = exp(lp[d]);
            pbar[d] += p / N;
            h_rows -= p * lp[d] / N;
        }
    }
    double h_mean = 0;
    for (int d = 0; d < D; d++)
        if (pbar[d] > 0) h_mean -= pbar[d] * log(pbar[d]);
    if (dz)
        for (int n = 0; n < N; n++) {
            const double *lp = logp + (size_t)n * D;
            double pr = 0; /* Σ_k p_nk r_nk */
            for (int d = 0; d < D; d++) {
                double p = exp(lp[d]); /* p = 0 (underflow) contributes nothing */
                if (p > 0) pr += p * (log(pbar[d]) - lp[d]);
            }
            for (int d = 0; d < D; d++) {
                double p = exp(lp[d]);
                dz[(size_t)n * D + d] =
                    p > 0 ? (float)(scale / T * p * ((log(pbar[d]) - lp[d]) - pr)) : 0.0f;
            }
        }
    free(logp);
    free(pbar);
    return h_rows - h_mean;
}
