/* cpu_ops.h — the CPU backend's op functions: cpu_<name> for every entry of the backend
 * table, declared from its one list (BURN_BACKEND_OPS, include/burn/backend.h);
 * backend_cpu.c puts them into the table, each op file in src/cpu/ defines some of them.
 * Below them, the helpers the op files share. */
#ifndef BURN_CPU_OPS_H
#define BURN_CPU_OPS_H

#include <stdint.h>

#include "burn/backend.h"

#define BURN_CPU_OP_DECL(ret, name, params) ret cpu_##name params;
BURN_BACKEND_OPS(BURN_CPU_OP_DECL)
#undef BURN_CPU_OP_DECL

/* Loops over at least this many elements run on the OpenMP pool (the one OpenBLAS shares);
 * smaller ones stay on the calling thread, where the fork/join would cost more than it saves.
 * Every parallel loop splits independent outputs (elements, channels, images): a reduction
 * keeps its order, so results do not depend on the thread count. */
#define CPU_PAR_MIN 32768

/* gemm.c: cpu_gemm (the backend op) honours the compute precision; cpu_sgemm is always FP32
 * (the binary convolutions' own GEMMs) */
void cpu_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
int cpu_compute_precision(void);

/* im2col.c: one image x[C, H, W] <-> its columns cols[C·kh·kw rows ld apart][Ho·Wo] of a
 * convolution GEMM (sign: the columns of sign(x), as the binary conv's float paths use) */
typedef struct cpu_im2col_geom {
    int C, H, W, kh, kw, stride, pad, Ho, Wo;
} cpu_im2col_geom;
void cpu_im2col(const cpu_im2col_geom *g, const float *x, float *cols, int64_t ld, int sign);
void cpu_col2im(const cpu_im2col_geom *g, const float *cols, int64_t ld, float *dx);

/* panel.c: rows [R, P] of B images <-> one panel [R, B·P] (a GEMM over the group) */
void cpu_rows_to_panel(float *panel, const float *src, int R, int B, int64_t P);
void cpu_panel_to_rows(float *dst, const float *panel, int R, int B, int64_t P);

#endif
