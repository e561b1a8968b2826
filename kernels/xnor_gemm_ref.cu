// xnor_gemm_ref.cu — the low-precision reference GEMMs burn_bench compares the xnor GEMM with
// (mirrors src/cpu/xnor_gemm_ref.c): C[M, N] = A[M, K]·B[N, K]ᵀ with
//   FP16: cublasGemmEx, half operands, FP32 accumulation and output (tensor cores);
//   INT8: cublasLtMatmul, int8 operands, int32 accumulation and output (IMMA tensor cores;
//         cublasLt wants K and the leading dimensions to be multiples of 4).
// burn is row-major and cuBLAS column-major: row-major C[M, N] is column-major Cᵀ[N, M] =
// B·Aᵀ with B, A viewed column-major as K×N and K×M, i.e. op(B) = T, op(A) = N ("TN", the
// layout cublasLt's integer kernels need).
#include "cuda_common.cuh" // first: check.h defines CUBLAS_CHECK only after cublas_v2.h
#include <cublasLt.h>
#include <cuda_fp16.h>

#include "burn/bitpack.h"
#include "cuda_ops.h"

__global__ void to_f16_kernel(__half *dst, const float *src, int64_t n) {
    GRID_STRIDE(i, n) dst[i] = __float2half_rn(src[i]);
}

__global__ void to_i8_kernel(int8_t *dst, const float *src, int64_t n) {
    GRID_STRIDE(i, n) {
        const int v = __float2int_rn(src[i]); // to nearest even, like the CPU's nearbyintf
        dst[i] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
    }
}

extern "C" void cuda_lowp_convert(int prec, void *dst, const float *src, int64_t n) {
    if (n <= 0) return;
    if (prec == BURN_PREC_F16)
        to_f16_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>((__half *)dst, src, n);
    else if (prec == BURN_PREC_I8)
        to_i8_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>((int8_t *)dst, src, n);
    else
        burn_check_fail("lowp_convert", "prec", __FILE__, __LINE__, "unknown precision", NULL);
    BURN_LAUNCH_CHECK();
}

static cublasLtHandle_t lt_handle;
static void *lt_workspace;
static const size_t LT_WORKSPACE = 32u << 20;

extern "C" void cuda_lowp_gemm(int prec, int M, int N, int K, const void *A, const void *B,
                               void *C) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    if (prec == BURN_PREC_F16) {
        const float one = 1.0f, zero = 0.0f;
        CUBLAS_CHECK(cublasSetMathMode(burn_cublas, CUBLAS_DEFAULT_MATH));
        CUBLAS_CHECK(cublasGemmEx(burn_cublas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, B,
                                  CUDA_R_16F, K, A, CUDA_R_16F, K, &zero, C, CUDA_R_32F, N,
                                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        CUBLAS_CHECK(cublasSetMathMode(burn_cublas, CUBLAS_PEDANTIC_MATH));
        return;
    }
    if (prec != BURN_PREC_I8)
        burn_check_fail("lowp_gemm", "prec", __FILE__, __LINE__, "unknown precision", NULL);
    if (!lt_handle) {
        CUBLAS_CHECK(cublasLtCreate(&lt_handle));
        CUDA_CHECK(cudaMalloc(&lt_workspace, LT_WORKSPACE));
    }
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32I, CUDA_R_32I));
    const cublasOperation_t tr = CUBLAS_OP_T, nt = CUBLAS_OP_N;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &tr, sizeof tr));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &nt, sizeof nt));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_8I, K, N, K)); // B as K×N, op T
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8I, K, M, K)); // A as K×M
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32I, N, M, N));
    const int32_t one = 1, zero = 0;
    CUBLAS_CHECK(cublasLtMatmul(lt_handle, op, &one, B, la, A, lb, &zero, C, lc, C, lc, NULL,
                                lt_workspace, LT_WORKSPACE, burn_stream));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(la));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(lb));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(lc));
    CUBLAS_CHECK(cublasLtMatmulDescDestroy(op));
}
