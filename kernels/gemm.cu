// gemm.cu — FP32 GEMM through cuBLAS (mirrors src/cpu/gemm.c).
// burn is row-major, cuBLAS column-major: a row-major C[M,N] is a column-major Cᵀ[N,M], so
// we ask cuBLAS for Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e. swap the operands and M/N, keep the trans flags.
// FP32 compute is pedantic (no TF32: CPU parity). Under BF16/FP16 compute (precision.h) the
// operands are rounded first and multiplied on TF32 tensor cores, exactly for such values.
#include "cuda_common.cuh"
#include "cuda_ops.h"

// Elements a rows × cols matrix with row stride ld spans.
static int64_t span(int rows, int cols, int ld) { return (int64_t)(rows - 1) * ld + cols; }

// Always FP32 (the binary convolutions' own GEMMs, whatever the compute precision).
void cuda_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        // C = beta*C; cuBLAS would do the same but keep the CPU's explicit semantics
        for (int i = 0; i < M; i++)
            CUBLAS_CHECK(cublasSscal(burn_cublas, N, &beta, C + (int64_t)i * ldc, 1));
        return;
    }
    CUBLAS_CHECK(cublasSetMathMode(burn_cublas, CUBLAS_PEDANTIC_MATH));
    CUBLAS_CHECK(cublasSgemm(burn_cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda,
                             &beta, C, ldc));
}

extern "C" void cuda_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb, float beta, float *C,
                          int ldc) {
    if (cuda_precision == BURN_COMPUTE_FP32 || M <= 0 || N <= 0 || K <= 0) {
        cuda_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const float *Ar = cuda_rounded_operand(0, A, trans_a ? span(K, M, lda) : span(M, K, lda));
    const float *Br = cuda_rounded_operand(1, B, trans_b ? span(N, K, ldb) : span(K, N, ldb));
    CUBLAS_CHECK(cublasSetMathMode(burn_cublas, CUBLAS_DEFAULT_MATH));
    CUBLAS_CHECK(cublasGemmEx(burn_cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, Br,
                              CUDA_R_32F, ldb, Ar, CUDA_R_32F, lda, &beta, C, CUDA_R_32F, ldc,
                              CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
}
