/* gemm.c — CPU FP32 GEMM through OpenBLAS (row-major cblas_sgemm), and the compute-precision
 * setting of the FP GEMMs (include/burn/precision.h): under BF16/FP16 the operands are rounded
 * into scratch copies first, which emulates the GPU's numerics (not its speed). */
#include <cblas.h>
#include <stdlib.h>

#include "burn/check.h"
#include "burn/precision.h"
#include "cpu_ops.h"

static int compute_precision = BURN_COMPUTE_FP32;

void cpu_set_compute_precision(int precision) { compute_precision = precision; }
int cpu_compute_precision(void) { return compute_precision; }

void cpu_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* BLAS leaves C untouched when K = 0 only for beta = 1; be explicit */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(long)i * ldc + j] *= beta;
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
                ldc);
}

/* One operand, rounded: the span of a rows × cols matrix with row stride ld, in scratch slot. */
static const float *rounded(int slot, const float *X, int rows, int cols, int ld) {
    static float *buf[2];
    static size_t cap[2];
    size_t span = (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
    if (span > cap[slot]) {
        free(buf[slot]);
        buf[slot] = malloc(span * sizeof(float));
        if (!buf[slot])
            burn_check_fail("libc", "malloc", __FILE__, __LINE__,
                            "out of host memory for a rounded GEMM operand", NULL);
        cap[slot] = span;
    }
    for (size_t i = 0; i < span; i++) buf[slot][i] = burn_round_to_precision(X[i], compute_precision);
    return buf[slot];
}

void cpu_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (compute_precision != BURN_COMPUTE_FP32 && M > 0 && N > 0 && K > 0) {
        A = trans_a ? rounded(0, A, K, M, lda) : rounded(0, A, M, K, lda);
        B = trans_b ? rounded(1, B, N, K, ldb) : rounded(1, B, K, N, ldb);
    }
    cpu_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
