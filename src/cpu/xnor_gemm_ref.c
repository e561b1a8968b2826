/* xnor_gemm_ref.c — the low-precision reference GEMMs on the CPU (backend lowp_convert,
 * lowp_gemm): plain loops. On CUDA these are cuBLAS FP16 tensor cores and cublasLt INT8,
 * which burn_bench compares the xnor GEMM with; here they exist so the CUDA versions have a
 * CPU op to be tested against (tests/gpu). C[M, N] = A[M, K]·B[N, K]ᵀ. */
#include <math.h>
#include <string.h>

#include "burn/bitpack.h"
#include "burn/check.h"
#include "cpu_ops.h"

void cpu_lowp_convert(int prec, void *dst, const float *src, int64_t n) {
    if (prec == BURN_PREC_F16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) {
            _Float16 h = (_Float16)src[i]; /* IEEE binary16, round to nearest even */
            memcpy(&d[i], &h, 2);
        }
    } else if (prec == BURN_PREC_I8) {
        int8_t *d = dst;
        for (int64_t i = 0; i < n; i++) {
            float r = nearbyintf(src[i]); /* default rounding: to nearest even */
            d[i] = (int8_t)(r > 127.0f ? 127 : r < -128.0f ? -128 : (int)r);
        }
    } else {
        burn_check_fail("lowp_convert", "prec", __FILE__, __LINE__, "unknown precision", NULL);
    }
}

void cpu_lowp_gemm(int prec, int M, int N, int K, const void *A, const void *B, void *C) {
    if (prec == BURN_PREC_F16) {
        const uint16_t *a = A, *b = B;
        float *c = C;
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double acc = 0;
                for (int k = 0; k < K; k++) {
                    _Float16 x, y;
                    memcpy(&x, &a[(int64_t)m * K + k], 2);
                    memcpy(&y, &b[(int64_t)n * K + k], 2);
                    acc += (double)x * (double)y;
                }
                c[(int64_t)m * N + n] = (float)acc;
            }
    } else if (prec == BURN_PREC_I8) {
        const int8_t *a = A, *b = B;
        int32_t *c = C;
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                int32_t acc = 0;
                for (int k = 0; k < K; k++)
                    acc += (int32_t)a[(int64_t)m * K + k] * (int32_t)b[(int64_t)n * K + k];
                c[(int64_t)m * N + n] = acc;
            }
    } else {
        burn_check_fail("lowp_gemm", "prec", __FILE__, __LINE__, "unknown precision", NULL);
    }
}
