/* info_max.h — an objective for the teacher head that cannot collapse (METHOD.md §4.4):
 * information maximisation over a batch of logits z [N, D] at temperature T,
 *
 *   p_n = softmax(z_n / T),   p̄ = (1/N) Σ_n p_n
 *   IM  = (1/N) Σ_n H(p_n) − H(p̄)          (= −I(x; y), the batch's mutual information)
 *
 * Minimising IM makes each sample's output confident (low H(p_n)) and the batch spread over
 * the outputs (high H(p̄)). IM is 0 for every collapsed head — constant outputs, peaked or flat,
 * have H(p_n) = H(p̄) — and −log D at its minimum (one-hot outputs used equally often), so a
 * head that minimises it is pushed away from collapse whatever the KL pulls it towards.
 *
 * The gradient, with r_nd = log p̄_d − log p_nd:
 *   dIM/dz_nd = (1/(N·T)) · p_nd · (r_nd − Σ_k p_nk r_nk)
 * Host code in double precision (the trainer moves the teacher logits to the host, as it does
 * for the collapse statistics: [N, D] is small next to the step). */
#ifndef BURN_INFO_MAX_H
#define BURN_INFO_MAX_H

#ifdef __cplusplus
extern "C" {
#endif

/* IM of host logits z [N, D] (N >= 1, T > 0). dz, when not NULL, is WRITTEN with
 * scale·N·dIM/dz — the same scale convention as the per-row BURN loss (loss_fused's
 * grad_scale multiplies the gradient of a sum over rows, and N·IM plays that sum). */
double burn_info_max(const float *z, int N, int D, double T, float scale, float *dz);

#ifdef __cplusplus
}
#endif

#endif
