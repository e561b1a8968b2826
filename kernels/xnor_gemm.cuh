// xnor_gemm.cuh — the batched launcher of the CUDA xnor GEMM kernels (xnor_gemm.cu), shared
// with the binary conv (bconv.cu), which runs one GEMM per image in a single launch.
#pragma once
#include <stdint.h>

#include "burn/bitpack.h"

// For z in [0, batch): C_z[M, N] = epilogue(A[M, K] · B_zᵀ) with B_z = B + z·strideB words
// (rows of ldb words) and C_z = C + z·strideC floats (rows of ldc). The kernel is the one
// burn_xnor_cuda_select chose (auto: mma on sm_80 and newer, popc below).
void xnor_gemm_launch(int M, int N, int K, const uint64_t *A, int lda, const uint64_t *B,
                      int ldb, int64_t strideB, float *C, int ldc, int64_t strideC, int batch,
                      burn_xnor_epilogue ep);
