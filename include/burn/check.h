/* check.h — error reporting and check macros for every API family burn calls.
 *
 * A failing call prints one line: the call as text, file:line, rank, device, the library's own
 * message and (where one helps) a hint, then exits 1. Bad *user input* never goes through these
 * macros: it gets a one-line message from the parser that saw it and exit code 2.
 *
 * Family macros are defined only when that family's header was included first, so a plain C
 * file can include this without CUDA/MPI headers:
 *   SYS_CHECK(expr)      libc call returning -1 / NULL on failure (errno explains)
 *   CUDA_CHECK(expr)     cudaError_t            (needs cuda_runtime_api.h)
 *   CUDA_CHECK_LAUNCH()  last kernel launch     (needs cuda_runtime_api.h)
 *   CUBLAS_CHECK(expr)   cublasStatus_t         (needs cublas_v2.h)
 *   CUDNN_CHECK(expr)    cudnnStatus_t          (needs cudnn.h)
 *   NCCL_CHECK(expr)     ncclResult_t           (needs nccl.h)
 *   MPI_CHECK(expr)      MPI return code        (needs mpi.h)
 *
 * BURN_HD marks per-element math shared by the CPU backend and the CUDA kernels: the same
 * source line computes both, so what the CPU tests check is what the GPU computes. */
#ifndef BURN_CHECK_H
#define BURN_CHECK_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#ifdef __CUDACC__
#define BURN_HD __host__ __device__ __forceinline__
#else
#define BURN_HD static inline
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Set by the distributed setup; printed by every check failure. device -1 = CPU. */
extern int burn_rank;
extern int burn_device;

/* Print "burn: <family> error: <call> failed at file:line (rank r, device d): detail [hint]"
 * and exit(1). Never returns. */
void burn_check_fail(const char *family, const char *call, const char *file, int line,
                     const char *detail, const char *hint)
    __attribute__((noreturn));

/* Hint for a few well-known failure codes; NULL when there is none. */
const char *burn_errno_hint(int err);

/* Recoverable errors (bad files, bad configs): the function that fails records a message and
 * returns non-zero; the caller decides to print it and exit 2, or skip and count. One message
 * per thread, overwritten by the next error. */
void burn_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *burn_error(void);

/* A copy of s with every control character written as an escape (\n, \r, \t, \xHH): a
 * file name holding a newline or an ANSI escape cannot forge or hide a line of burn's
 * output. burn_error_set, burn_log and burn_warn apply it to their whole message. Caller
 * frees. */
char *burn_escape_controls(const char *s);

/* Abort on allocation failure with the size that was asked for. */
void *burn_xmalloc(size_t bytes);
void *burn_xcalloc(size_t n, size_t size);
void *burn_xrealloc(void *p, size_t bytes);
char *burn_xstrdup(const char *s);

#ifdef __cplusplus
}
#endif

#define BURN_STR_(x) #x

#define SYS_CHECK(expr)                                                                    \
    do {                                                                                   \
        if ((expr) == -1) {                                                                \
            int e_ = errno;                                                                \
            burn_check_fail("libc", #expr, __FILE__, __LINE__, strerror(e_),               \
                            burn_errno_hint(e_));                                          \
        }                                                                                  \
    } while (0)

#define SYS_CHECK_PTR(expr)                                                                \
    do {                                                                                   \
        if ((expr) == NULL) {                                                              \
            int e_ = errno;                                                                \
            burn_check_fail("libc", #expr, __FILE__, __LINE__, strerror(e_),               \
                            burn_errno_hint(e_));                                          \
        }                                                                                  \
    } while (0)

#if defined(CUDART_VERSION)
#define CUDA_CHECK(expr)                                                                   \
    do {                                                                                   \
        cudaError_t e_ = (expr);                                                           \
        if (e_ != cudaSuccess)                                                             \
            burn_check_fail("CUDA", #expr, __FILE__, __LINE__, cudaGetErrorString(e_),     \
                            e_ == cudaErrorMemoryAllocation                                \
                                ? "out of device memory: lower train.batch_size"           \
                            : e_ == cudaErrorNoDevice || e_ == cudaErrorInsufficientDriver \
                                ? "no usable GPU: run with --device cpu"                   \
                                : NULL);                                                   \
    } while (0)
/* After every launch: launch-configuration errors appear here, asynchronous faults at the
 * next synchronising call (train.debug = true synchronises after every launch). */
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
#endif

#if defined(CUBLAS_VER_MAJOR)
#define CUBLAS_CHECK(expr)                                                                 \
    do {                                                                                   \
        cublasStatus_t s_ = (expr);                                                        \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                   \
            burn_check_fail("cuBLAS", #expr, __FILE__, __LINE__, cublasGetStatusString(s_), \
                            s_ == CUBLAS_STATUS_NOT_INITIALIZED                            \
                                ? "cuBLAS handle missing: was the CUDA backend set up?"    \
                                : NULL);                                                   \
    } while (0)
#endif

#if defined(CUDNN_MAJOR)
#define CUDNN_CHECK(expr)                                                                  \
    do {                                                                                   \
        cudnnStatus_t s_ = (expr);                                                         \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                    \
            burn_check_fail("cuDNN", #expr, __FILE__, __LINE__, cudnnGetErrorString(s_),   \
                            "check tensor shapes and the cuDNN library version");          \
    } while (0)
#endif

#if defined(NCCL_MAJOR)
#define NCCL_CHECK(expr)                                                                   \
    do {                                                                                   \
        ncclResult_t r_ = (expr);                                                          \
        if (r_ != ncclSuccess)                                                             \
            burn_check_fail("NCCL", #expr, __FILE__, __LINE__, ncclGetErrorString(r_),     \
                            "set NCCL_DEBUG=INFO for details; NCCL_SOCKET_IFNAME picks "   \
                            "the network interface");                                      \
    } while (0)
#endif

#if defined(MPI_VERSION)
#define MPI_CHECK(expr)                                                                    \
    do {                                                                                   \
        int r_ = (expr);                                                                   \
        if (r_ != MPI_SUCCESS) {                                                           \
            char m_[MPI_MAX_ERROR_STRING];                                                 \
            int n_ = 0;                                                                    \
            MPI_Error_string(r_, m_, &n_);                                                 \
            burn_check_fail("MPI", #expr, __FILE__, __LINE__, m_,                          \
                            "was the program started with mpirun on every rank?");         \
        }                                                                                  \
    } while (0)
#endif

#endif /* BURN_CHECK_H */
