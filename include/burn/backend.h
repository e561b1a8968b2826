/* backend.h — the backend table: every numeric operation of burn goes through one of these.
 *
 * Two implementations: the CPU backend (src/cpu/, OpenBLAS and AVX2) and the CUDA backend
 * (kernels/, own kernels + cuBLAS/cuDNN). Models, loss, optimiser and trainer call only these
 * pointers, so the whole trainer runs and is tested on the CPU and the GPU runs the same
 * orchestration. All pointers passed to ops are in the backend's own memory.
 *
 * Conventions: float32 unless said otherwise; arrays are flat with the shape in the comment;
 * matrices are row-major; n counts elements. Every op is asynchronous on CUDA (ordered on the
 * backend's stream); `synchronize` waits, `download` waits for the data it returns. */
#ifndef BURN_BACKEND_H
#define BURN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "burn/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_backend {
    const char *name; /* "cpu" or "cuda" */
    int is_device;    /* 1 when memory is GPU memory (needs upload/download) */

    /* ---- memory ---- */
    void *(*alloc)(size_t bytes);                               /* aborts on failure */
    void (*free)(void *p);
    void (*upload)(void *dst, const void *host_src, size_t bytes);
    void (*download)(void *host_dst, const void *src, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);      /* within the backend */
    void (*synchronize)(void);
    /* host memory for staging (data loader batches): page-locked on CUDA so uploads are
     * asynchronous DMA; plain aligned memory on the CPU. */
    void *(*host_alloc)(size_t bytes);
    void (*host_free)(void *p);

    /* ---- elementwise: x, y, a, b, out [n] ---- */
    void (*fill)(float *x, float value, int64_t n);              /* x = value */
    void (*scale)(float *x, float a, int64_t n);                 /* x = a*x */
    void (*axpy)(float *y, float a, const float *x, int64_t n);  /* y += a*x */
    void (*add)(float *out, const float *a, const float *b, int64_t n); /* out = a+b */
    void (*mul)(float *out, const float *a, const float *b, int64_t n); /* out = a*b */

    /* ---- reductions: *out (one float in backend memory) ---- */
    void (*sum)(float *out, const float *x, int64_t n);          /* Σ x */
    void (*sumsq)(float *out, const float *x, int64_t n);        /* Σ x² */

    /* ---- FP32 GEMM: C[M,N] = alpha·op(A)[M,K]·op(B)[K,N] + beta·C, row-major ----
     * op(A) = A[M,K] (lda ≥ K) or, with trans_a, A[K,M]ᵀ (lda ≥ M); likewise B. */
    void (*gemm)(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);

    /* ---- counter-based random fill (Philox4x32-10, include/burn/rng.h) ----
     * Element i depends only on (seed, offset + i): identical on both backends (uniform
     * bit for bit; normal within 1 ulp, see rng.h), independent of launch shape. */
    void (*uniform)(float *x, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
    void (*normal)(float *x, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);

    /* ---- optimiser (include/burn/optim.h) ----
     * One Adam step over flat arrays p, g, m, v [n] (the whole parameter buffer at once). */
    void (*adam_step)(float *p, const float *g, float *m, float *v, int64_t n,
                      struct burn_adam_hparams h);
} burn_backend;

/* The CPU backend is always available. */
const burn_backend *burn_cpu_backend(void);

/* The CUDA backend, or NULL when burn was built without CUDA or no device is usable.
 * The first call initialises the device (cudaSetDevice(burn_device), stream, cuBLAS). */
const burn_backend *burn_cuda_backend(void);
/* Number of usable CUDA devices (0 when built without CUDA or without a driver/device). */
int burn_cuda_device_count(void);
/* 1 when this binary contains the CUDA backend. */
int burn_built_with_cuda(void);

/* Resolve --device auto|cpu|cuda. auto = CUDA when a device exists, else CPU; the choice and
 * the reason are logged. Returns NULL with burn_error() set when "cuda" is asked for and
 * unavailable, or the name is unknown. */
const burn_backend *burn_backend_select(const char *device);

#ifdef __cplusplus
}
#endif

#endif
