/* xent.c — CPU softmax cross-entropy with integer labels (mirrors kernels/xent.cu): the loss
 * of the linear-evaluation / fine-tuning classifiers. Per-element formulas from
 * include/burn/xent_math.h; the logsumexp is taken over chunks of columns and merged, the same
 * two-level shape as the CUDA block reduction. */
#include "burn/xent_math.h"
#include "cpu_ops.h"

#define XENT_CHUNK 256

/* logits, dlogits [N, C]; labels [N]; loss [N] (either output may be NULL) */
void cpu_softmax_xent(float *loss, float *dlogits, const float *logits, const int32_t *labels,
                      int N, int C, float grad_scale) {
    for (int n = 0; n < N; n++) {
        const float *z = logits + (int64_t)n * C;
        float *g = dlogits ? dlogits + (int64_t)n * C : NULL;
        int32_t y = labels[n];
        if (!burn_xent_label_ok(y, C)) { /* see xent_math.h: NaN, never an out-of-range read */
            if (loss) loss[n] = NAN;
            if (g)
                for (int c = 0; c < C; c++) g[c] = NAN;
            continue;
        }
        float m = -INFINITY, s = 0.0f;
        for (int c0 = 0; c0 < C; c0 += XENT_CHUNK) {
            float cm = -INFINITY, cs = 0.0f;
            int c1 = c0 + XENT_CHUNK < C ? c0 + XENT_CHUNK : C;
            for (int c = c0; c < c1; c++) burn_lse_push(&cm, &cs, z[c]);
            burn_lse_merge(&m, &s, cm, cs);
        }
        float lse = m + logf(s);
        if (loss) loss[n] = burn_xent_loss(lse, z[y]);
        if (g)
            for (int c = 0; c < C; c++) g[c] = burn_xent_dlogit(z[c], c, y, lse, grad_scale);
    }
}
