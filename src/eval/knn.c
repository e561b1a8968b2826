/* knn.c — weighted k-NN classification on L2-normalised features (InstDisc / DINO protocol):
 * for each query, the k most similar bank features (cosine) vote for their labels with weight
 * exp(sim / T); the class with the largest total wins. Similarities are computed in chunks of
 * queries with the backend's GEMM. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/eval.h"

static void l2_normalise(float *x, int64_t n, int dim) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        float *row = x + i * dim;
        for (int d = 0; d < dim; d++) s += (double)row[d] * row[d];
        float inv = (float)(1.0 / (sqrt(s) + 1e-12));
        for (int d = 0; d < dim; d++) row[d] *= inv;
    }
}

double burn_knn_top1(const burn_backend *be, burn_features *bank, burn_features *queries, int k,
                     double temperature) {
    int dim = bank->dim, classes = bank->num_classes > queries->num_classes
                                       ? bank->num_classes
                                       : queries->num_classes;
    int64_t nb = bank->count, nq = queries->count;
    if (k > nb) k = (int)nb;
    l2_normalise(bank->x, nb, dim);
    l2_normalise(queries->x, nq, dim);
    const int chunk = 256;
    float *dbank = be->alloc((size_t)nb * dim * sizeof(float));
    float *dq = be->alloc((size_t)chunk * dim * sizeof(float));
    float *dsim = be->alloc((size_t)chunk * nb * sizeof(float));
    float *sim = burn_xmalloc((size_t)chunk * nb * sizeof(float));
    be->upload(dbank, bank->x, (size_t)nb * dim * sizeof(float));
    int *top = burn_xmalloc(sizeof(int) * (size_t)k);
    double *votes = burn_xmalloc(sizeof(double) * (size_t)classes);
    int64_t correct = 0;
    for (int64_t q0 = 0; q0 < nq; q0 += chunk) {
        int m = (int)(nq - q0 < chunk ? nq - q0 : chunk);
        be->upload(dq, queries->x + q0 * dim, (size_t)m * dim * sizeof(float));
        /* sim[m, nb] = Q[m, dim] · Bankᵀ */
        be->gemm(0, 1, m, (int)nb, dim, 1.0f, dq, dim, dbank, dim, 0.0f, dsim, (int)nb);
        be->download(sim, dsim, (size_t)m * nb * sizeof(float));
        for (int i = 0; i < m; i++) {
            const float *s = sim + (size_t)i * nb;
            /* k largest by insertion into a sorted list (k is small) */
            int filled = 0;
            for (int64_t j = 0; j < nb; j++) {
                if (filled == k && s[j] <= s[top[k - 1]]) continue;
                int pos = filled < k ? filled++ : k - 1;
                while (pos > 0 && s[top[pos - 1]] < s[j]) {
                    top[pos] = top[pos - 1];
                    pos--;
                }
                top[pos] = (int)j;
            }
            memset(votes, 0, sizeof(double) * (size_t)classes);
            for (int t = 0; t < filled; t++)
                votes[bank->labels[top[t]]] += exp((double)s[top[t]] / temperature);
            int best = 0;
            for (int c = 1; c < classes; c++)
                if (votes[c] > votes[best]) best = c;
            correct += best == queries->labels[q0 + i];
        }
    }
    be->free(dbank);
    be->free(dq);
    be->free(dsim);
    free(sim), free(top), free(votes);
    return nq ? (double)correct / (double)nq : 0.0;
}
