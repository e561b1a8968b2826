// xent.cu — CUDA softmax cross-entropy with integer labels (mirrors src/cpu/xent.c). One block
// per row of logits[N, C]: each thread keeps a running (max, Σexp) over its columns in one read
// pass, the block merges them (max first, then the sums rescaled to it), and a second sweep
// writes the gradient. Per-element formulas: include/burn/xent_math.h, the CPU's own.
#include "block_reduce.cuh"
#include "burn/xent_math.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

#define XENT_THREADS 256

__global__ void __launch_bounds__(XENT_THREADS)
    softmax_xent_kernel(float *loss, float *dlogits, const float *logits, const int32_t *labels,
                        int C, float grad_scale) {
    const int64_t off = (int64_t)blockIdx.x * C;
    const float *z = logits + off;
    float *g = dlogits ? dlogits + off : NULL;
    const int32_t y = labels[blockIdx.x];
    if (!burn_xent_label_ok(y, C)) { // uniform over the block: no thread reaches a barrier
        if (threadIdx.x == 0 && loss) loss[blockIdx.x] = NAN;
        if (g)
            for (int c = threadIdx.x; c < C; c += blockDim.x) g[c] = NAN;
        return;
    }
    float m = -INFINITY, s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) burn_lse_push(&m, &s, z[c]);
    float mx[1] = {m};
    block_max<1>(mx);
    // a thread without columns has s = 0 and m = -inf: its rescaled share is 0
    float sm[1] = {s > 0.0f ? s * expf(m - mx[0]) : 0.0f};
    block_sum<1>(sm);
    const float lse = mx[0] + logf(sm[0]);
    if (threadIdx.x == 0 && loss) loss[blockIdx.x] = burn_xent_loss(lse, z[y]);
    if (!g) return;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        g[c] = burn_xent_dlogit(z[c], c, y, lse, grad_scale);
}

extern "C" void cuda_softmax_xent(float *loss, float *dlogits, const float *logits,
                                  const int32_t *labels, int N, int C, float grad_scale) {
    if (N <= 0 || C <= 0) return;
    softmax_xent_kernel<<<N, block_threads_for(C), 0, burn_stream>>>(loss, dlogits, logits,
                                                                     labels, C, grad_scale);
    BURN_LAUNCH_CHECK();
}
