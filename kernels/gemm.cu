// gemm.cu — FP32 GEMM through cuBLAS (mirrors src/cpu/gemm.c).
// burn is row-major, cuBLAS column-major: a row-major C[M,N] is a column-major Cᵀ[N,M], so
// we ask cuBLAS for Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e. swap the operands and M/N, keep the trans flags.
#include "cuda_common.cuh"
#include "cuda_ops.h"

extern "C" void cuda_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb, float beta, float *C,
                          int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        // C = beta*C; cuBLAS would do the same but keep the CPU's explicit semantics
        for (int i = 0; i < M; i++)
            CUBLAS_CHECK(cublasSscal(burn_cublas, N, &beta, C + (int64_t)i * ldc, 1));
        return;
    }
    // pure FP32: no TF32 (CPU parity; mixed precision is a separate path)
    CUBLAS_CHECK(cublasSetMathMode(burn_cublas, CUBLAS_PEDANTIC_MATH));
    CUBLAS_CHECK(cublasSgemm(burn_cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda,
                             &beta, C, ldc));
}
