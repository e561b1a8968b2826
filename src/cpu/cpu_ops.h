/* cpu_ops.h — the CPU backend's op functions, one declaration per backend-table entry.
 * backend_cpu.c puts them into the table; each op file in src/cpu/ defines some of them. */
#ifndef BURN_CPU_OPS_H
#define BURN_CPU_OPS_H

#include <stdint.h>

#include "burn/optim.h"

/* elementwise.c */
void cpu_fill(float *x, float value, int64_t n);
void cpu_scale(float *x, float a, int64_t n);
void cpu_axpy(float *y, float a, const float *x, int64_t n);
void cpu_add(float *out, const float *a, const float *b, int64_t n);
void cpu_mul(float *out, const float *a, const float *b, int64_t n);

/* reduce.c */
void cpu_sum(float *out, const float *x, int64_t n);
void cpu_sumsq(float *out, const float *x, int64_t n);

/* gemm.c */
void cpu_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* rng.c */
void cpu_uniform(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void cpu_normal(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);

/* adam.c */
void cpu_adam_step(float *p, const float *g, float *m, float *v, int64_t n,
                   burn_adam_hparams h);

#endif
