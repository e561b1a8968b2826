// precision.cu — the compute precision of the CUDA backend's FP GEMMs and convolutions
// (include/burn/precision.h): the current setting, and operands rounded to BF16/FP16 values
// (burn_round_to_precision, shared with the CPU) into two scratch slots, which gemm.cu and
// conv2d_cudnn.cu then feed to TF32 tensor cores (exact products for such values).
#include "burn/precision.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"

int cuda_precision = BURN_COMPUTE_FP32;

extern "C" void cuda_set_compute_precision(int precision) { cuda_precision = precision; }

__global__ void round_kernel(float *dst, const float *src, int64_t n, int precision) {
    GRID_STRIDE(i, n) dst[i] = burn_round_to_precision(src[i], precision);
}

// Slot 0 or 1: a call rounds at most two operands; the slots are reused by the next call,
// which is ordered after this one on burn_stream.
const float *cuda_rounded_operand(int slot, const float *src, int64_t n) {
    static float *buf[2];
    static int64_t cap[2];
    if (n > cap[slot]) {
        if (buf[slot]) CUDA_CHECK(cudaFreeAsync(buf[slot], burn_stream));
        CUDA_CHECK(cudaMallocAsync((void **)&buf[slot], (size_t)n * sizeof(float), burn_stream));
        cap[slot] = n;
    }
    round_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(buf[slot], src, n, cuda_precision);
    BURN_LAUNCH_CHECK();
    return buf[slot];
}
