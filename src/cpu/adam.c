/* adam.c — CPU Adam step over the flat parameter buffer; the update is optim.h's
 * burn_adam_update, shared with kernels/adam.cu. */
#include "burn/optim.h"
#include "cpu_ops.h"

void cpu_adam_step(float *p, const float *g, float *m, float *v, int64_t n,
                   burn_adam_hparams h) {
    /* elements are independent: the SIMD lanes compute what the scalar loop would, bit for bit */
#pragma omp parallel for simd if (n >= CPU_PAR_MIN)
    for (int64_t i = 0; i < n; i++) burn_adam_update(&p[i], g[i], &m[i], &v[i], h);
}
