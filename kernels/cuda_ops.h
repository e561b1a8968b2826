// cuda_ops.h — the CUDA backend's op functions, one per backend-table entry
// (mirrors src/cpu/cpu_ops.h). backend_cuda.cu puts them into the table.
#pragma once
#include <stdint.h>

#include "burn/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

// elementwise.cu
void cuda_fill(float *x, float value, int64_t n);
void cuda_scale(float *x, float a, int64_t n);
void cuda_axpy(float *y, float a, const float *x, int64_t n);
void cuda_add(float *out, const float *a, const float *b, int64_t n);
void cuda_mul(float *out, const float *a, const float *b, int64_t n);

// reduce.cu
void cuda_sum(float *out, const float *x, int64_t n);
void cuda_sumsq(float *out, const float *x, int64_t n);

// gemm.cu
void cuda_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);

// rng.cu
void cuda_uniform(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void cuda_normal(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);

// adam.cu
void cuda_adam_step(float *p, const float *g, float *m, float *v, int64_t n,
                    burn_adam_hparams h);

#ifdef __cplusplus
}
#endif
