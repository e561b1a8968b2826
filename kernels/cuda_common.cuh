// cuda_common.cuh — shared state and launch helpers of the CUDA backend.
// Every op runs on burn_stream; every launch is followed by CUDA_CHECK_LAUNCH().
#pragma once
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h> // before check.h, which then defines CUDNN_CHECK
#include <stdint.h>

#include "burn/check.h"
#include "burn/backend.h"
#include "burn/precision.h"

extern "C" {
extern cudaStream_t burn_stream;   // the backend's compute stream
extern cublasHandle_t burn_cublas; // bound to burn_stream
extern cudnnHandle_t burn_cudnn;   // bound to burn_stream (FP convolutions)
extern int burn_debug_sync;        // train.debug: synchronise after every launch
}

// precision.cu: the compute precision of FP GEMMs/convolutions (include/burn/precision.h),
// and src[n] rounded to it in scratch slot 0 or 1 (valid until the next call on that slot)
extern int cuda_precision;
const float *cuda_rounded_operand(int slot, const float *src, int64_t n);
// gemm.cu: the FP32 GEMM whatever the compute precision (binary convolutions' own GEMMs)
void cuda_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc);

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, capped.
static inline unsigned burn_grid(int64_t n, int block) {
    int64_t g = (n + block - 1) / block;
    if (g > 65535 * 8) g = 65535 * 8;
    return (unsigned)(g < 1 ? 1 : g);
}

#define BURN_LAUNCH_CHECK()                                               \
    do {                                                                  \
        CUDA_CHECK_LAUNCH();                                              \
        if (burn_debug_sync) CUDA_CHECK(cudaStreamSynchronize(burn_stream)); \
    } while (0)

#define GRID_STRIDE(i, n) \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)
