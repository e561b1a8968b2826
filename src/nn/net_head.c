/* net_head.c — the MLP head (METHOD.md §1) forward and backward:
 *   h1 = x·W1ᵀ + b1   h2 = ReLU(BN1d(h1))   logits = h2·W2ᵀ + b2
 * Train mode: batch statistics. In data-parallel runs the heads' BN is synchronised (BURN's
 * recipe): its statistics are those of the global batch, through the backend table of
 * burn_dist_sync_bn_backend (bn_stats -> all-reduce -> bn_finalize -> bn_normalize, and
 * bn_backward_stats -> all-reduce -> bn_backward_dx; layers.h). */
#include <stdlib.h>

#include "burn/check.h"
#include "burn/dist.h"
#include "burn/layers.h"
#include "burn/net.h"

struct burn_head_run {
    const burn_head *h;
    const burn_backend *be;
    const burn_backend *bn_be; /* be, or its synchronised-BN table when world > 1 */
    int N;
    burn_linear fc1, fc2;
    burn_bn bn;
    const float *x;
    float *h1, *h2, *logits, *mean, *istd, *dh2, *dh1;
    double *stats;
};

burn_head_run *burn_head_run_new(const burn_head *h, const burn_backend *be, int N) {
    burn_head_run *r = burn_xcalloc(1, sizeof *r);
    r->h = h;
    r->be = be;
    r->bn_be = burn_dist_sync_bn_backend(be);
    r->N = N;
    if (burn_linear_init(&r->fc1, N, h->in, h->hidden) ||
        burn_linear_init(&r->fc2, N, h->hidden, h->out) || burn_bn_init(&r->bn, N, h->hidden, 1)) {
        free(r);
        return NULL;
    }
    size_t nh = (size_t)N * h->hidden * sizeof(float);
    r->h1 = be->alloc(nh);
    r->h2 = be->alloc(nh);
    r->dh1 = be->alloc(nh);
    r->dh2 = be->alloc(nh);
    r->logits = be->alloc((size_t)N * h->out * sizeof(float));
    r->mean = be->alloc((size_t)h->hidden * sizeof(float));
    r->istd = be->alloc((size_t)h->hidden * sizeof(float));
    r->stats = be->alloc(burn_bn_stats_bytes(&r->bn));
    return r;
}

void burn_head_run_free(burn_head_run *r) {
    if (!r) return;
    void *bufs[] = {r->h1, r->h2, r->dh1, r->dh2, r->logits, r->mean, r->istd, r->stats};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) r->be->free(bufs[i]);
    free(r);
}

#define P(i) burn_param_data(ps, (i))
#define G(i) burn_param_grad(ps, (i))

int burn_head_forward(burn_head_run *r, const burn_params *ps, const float *x, int train,
                      const float **logits) {
    const burn_head *h = r->h;
    const burn_backend *be = r->be;
    r->x = x;
    burn_linear_forward(be, &r->fc1, r->h1, x, P(h->fc1_weight), P(h->fc1_bias));
    if (train) {
        if (burn_bn_forward_train(r->bn_be, &r->bn, r->h2, r->mean, r->istd,
                                  P(h->bn[BURN_BN_MEAN]), P(h->bn[BURN_BN_VAR]), r->stats, r->h1,
                                  P(h->bn[BURN_BN_WEIGHT]), P(h->bn[BURN_BN_BIAS])))
            return -1;
    } else {
        burn_bn_forward_eval(be, &r->bn, r->h2, r->h1, P(h->bn[BURN_BN_WEIGHT]),
                             P(h->bn[BURN_BN_BIAS]), P(h->bn[BURN_BN_MEAN]), P(h->bn[BURN_BN_VAR]));
    }
    burn_relu_forward(be, r->h2, r->h2, (int64_t)r->N * h->hidden);
    burn_linear_forward(be, &r->fc2, r->logits, r->h2, P(h->fc2_weight), P(h->fc2_bias));
    *logits = r->logits;
    return 0;
}

void burn_head_backward(burn_head_run *r, burn_params *ps, const float *dlogits, float *dx) {
    const burn_head *h = r->h;
    const burn_backend *be = r->be;
    burn_linear_backward(be, &r->fc2, r->dh2, G(h->fc2_weight), G(h->fc2_bias), dlogits, r->h2,
                         P(h->fc2_weight));
    burn_relu_backward(be, r->dh2, r->dh2, r->h2, (int64_t)r->N * h->hidden);
    burn_bn_backward(r->bn_be, &r->bn, r->dh1, G(h->bn[BURN_BN_WEIGHT]),
                     G(h->bn[BURN_BN_BIAS]), r->stats, r->dh2, r->h1, P(h->bn[BURN_BN_WEIGHT]),
                     r->mean, r->istd);
    burn_linear_backward(be, &r->fc1, dx, G(h->fc1_weight), G(h->fc1_bias), r->dh1, r->x,
                         P(h->fc1_weight));
}
