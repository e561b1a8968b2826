/* collapse.h — is a head collapsing? Statistics of a head's logits z [N, D] over a batch:
 *
 *   logit_std = (1/D) Σ_d std_n(z[n, d])        the spread of each output across the batch
 *   entropy   = H(p̄) = −Σ_d p̄_d log p̄_d,  p̄ = (1/N) Σ_n softmax(z[n] / T)
 *
 * H(p̄) is log D when the head spreads the batch evenly over its D outputs and 0 when every
 * sample gets the same one-hot output. A head that maps every input to (almost) the same
 * output has logit_std → 0 whatever its entropy. The rule that calls a head collapsed
 * (burn_head_collapsed, thresholds below) is justified by the curves of a collapsing and a
 * healthy run in docs/METHOD.md. Host code: the trainer downloads the logits of a logged step. */
#ifndef BURN_COLLAPSE_H
#define BURN_COLLAPSE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_head_stats {
    double logit_std; /* mean over outputs of the std across the batch */
    double entropy;   /* H(p̄) at temperature T, nats */
} burn_head_stats;

/* Collapsed when the outputs barely vary across the batch relative to the softmax temperature
 * (logit_std < BURN_COLLAPSE_STD·T: every sample's softmax is nearly the same), or when the
 * batch-mean softmax has lost most of its entropy (H(p̄) < BURN_COLLAPSE_ENTROPY·log D:
 * the batch sits on a handful of outputs). */
#define BURN_COLLAPSE_STD 0.05
#define BURN_COLLAPSE_ENTROPY 0.1

/* Statistics of host logits z [N, D] at temperature T > 0 (N >= 1). */
void burn_head_stats_compute(const float *z, int N, int D, double T, burn_head_stats *out);
/* 1 when the rule above calls the head collapsed, else 0. */
int burn_head_collapsed(const burn_head_stats *s, int D, double T);

#ifdef __cplusplus
}
#endif

#endif
