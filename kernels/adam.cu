// adam.cu — Adam step over the flat parameter buffer (mirrors src/cpu/adam.c); the update is
// optim.h's burn_adam_update, shared with the CPU.
#include "cuda_common.cuh"
#include "cuda_ops.h"

__global__ void adam_kernel(float *p, const float *g, float *m, float *v, int64_t n,
                            burn_adam_hparams h) {
    GRID_STRIDE(i, n) burn_adam_update(&p[i], g[i], &m[i], &v[i], h);
}

extern "C" void cuda_adam_step(float *p, const float *g, float *m, float *v, int64_t n,
                               burn_adam_hparams h) {
    if (n <= 0) return;
    adam_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(p, g, m, v, n, h);
    BURN_LAUNCH_CHECK();
}
