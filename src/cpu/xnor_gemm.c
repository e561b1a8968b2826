/* xnor_gemm.c — CPU xnor-popcount GEMM: kernel selection (portable / AVX2 / AVX-512, chosen
 * at run time), threads, the portable kernel, and the backend op cpu_xnor_gemm.
 *
 * C[m, n] = epilogue(K − 2·popc(A_m ⊕ B_n)) for packed ±1 rows (bitpack.h).
 * Threads: the OpenMP pool OpenBLAS shares (xnor_parallel; waking it costs microseconds, so
 * only GEMMs of ~1M+ word-products use it): the columns are cut into contiguous blocks of
 * whole 16-column panel pairs, one per thread; each thread reads all of A and its slice of B,
 * writes its own columns of C and has its own scratch, so nothing is shared but A. The binary
 * conv instead gives each thread whole images (bconv.c) and runs these kernels
 * single-threaded inside. */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/bitpack.h"
#include "burn/check.h"
#include "cpu_ops.h"
#include "xnor_gemm.h"

/* ---- threads ---- */

int burn_cpu_threads(void) {
    static int threads = 0;
    if (!threads) {
        const char *env = getenv("BURN_NUM_THREADS");
        int n = env ? atoi(env) : 0;
        if (n <= 0) {
            cpu_set_t set;
            n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
        }
        threads = n < 1 ? 1 : n > 256 ? 256 : n;
    }
    return threads;
}

/* One part per thread on the OpenMP pool that OpenBLAS's OpenMP build shares (the Makefile
 * links it): no second pool fighting it for the cores. Inside a parallel region (a nested
 * call) the parts run inline. */
void xnor_parallel(int threads, void (*fn)(void *ctx, int t), void *ctx) {
    if (threads < 1) threads = 1;
#ifdef _OPENMP
    if (threads > 1 && !omp_in_parallel()) {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
        for (int t = 0; t < threads; t++) fn(ctx, t);
        return;
    }
#endif
    for (int t = 0; t < threads; t++) fn(ctx, t);
}

/* ---- kernel selection ---- */

int xnor_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vpopcntdq");
}

static int cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
}

static const xnor_impl impl_portable = {"portable", xnor_gemm_portable, xnor_pack_portable,
                                        xnor_chanpack_portable};
static const xnor_impl impl_avx2 = {"avx2", xnor_gemm_avx2, xnor_pack_avx2, xnor_chanpack_avx2};
/* packing is memory-bound and the AVX2 packers already keep up: AVX-512 reuses them */
static const xnor_impl impl_avx512 = {"avx512", xnor_gemm_avx512, xnor_pack_avx2,
                                      xnor_chanpack_avx2};

static const xnor_impl *current_impl = NULL;

static const xnor_impl *impl_auto(void) {
    return xnor_cpu_has_avx512() ? &impl_avx512 : cpu_has_avx2() ? &impl_avx2 : &impl_portable;
}

const xnor_impl *xnor_impl_current(void) {
    if (!current_impl) current_impl = impl_auto();
    return current_impl;
}

int burn_xnor_cpu_select(const char *name) {
    if (!name || strcmp(name, "auto") == 0) {
        current_impl = impl_auto();
    } else if (strcmp(name, "portable") == 0) {
        current_impl = &impl_portable;
    } else if (strcmp(name, "avx2") == 0) {
        if (!cpu_has_avx2()) {
            burn_error_set("xnor kernel 'avx2': this CPU has no AVX2");
            return -1;
        }
        current_impl = &impl_avx2;
    } else if (strcmp(name, "avx512") == 0) {
        if (!xnor_cpu_has_avx512()) {
            burn_error_set("xnor kernel 'avx512': this CPU lacks AVX-512 F/BW/VL/DQ/VPOPCNTDQ");
            return -1;
        }
        current_impl = &impl_avx512;
    } else {
        burn_error_set("unknown xnor kernel '%s' (auto|portable|avx2|avx512)", name);
        return -1;
    }
    return 0;
}

const char *burn_xnor_cpu_selected(void) { return xnor_impl_current()->name; }

/* The CUDA kernel choice lives here so that builds without CUDA link (bitpack.h). */
int burn_xnor_cuda_kernel = BURN_XNOR_CUDA_AUTO;
static const char *const cuda_kernel_names[] = {"auto", "popc", "mma"}; /* BURN_XNOR_CUDA_* */

int burn_xnor_cuda_select(const char *name) {
    for (int k = 0; k < 3; k++)
        if (name && strcmp(name, cuda_kernel_names[k]) == 0) {
            burn_xnor_cuda_kernel = k;
            return 0;
        }
    burn_error_set("unknown CUDA xnor kernel '%s' (auto|popc|mma)", name ? name : "(null)");
    return -1;
}

const char *burn_xnor_cuda_selected(void) { return cuda_kernel_names[burn_xnor_cuda_kernel]; }

/* ---- portable kernel ----
 * Four columns at a time so that each word of A is loaded once per four products. */
static inline void store_one(const xnor_args *g, int m, int n, int32_t d) {
    g->C[(int64_t)m * g->ldc + n] = burn_xnor_out(g->ep, m, n, d);
}

void xnor_gemm_portable(const xnor_args *g, int n0, int n1, void *scratch) {
    (void)scratch;
    int64_t words = burn_bits_words(g->K);
    for (int m = 0; m < g->M; m++) {
        const uint64_t *a = g->A + (int64_t)m * g->lda;
        int n = n0;
        for (; n + 4 <= n1; n += 4) {
            const uint64_t *b0 = g->B + (int64_t)n * g->ldb, *b1 = b0 + g->ldb,
                           *b2 = b1 + g->ldb, *b3 = b2 + g->ldb;
            int p0 = 0, p1 = 0, p2 = 0, p3 = 0;
            for (int64_t w = 0; w < words; w++) {
                uint64_t aw = a[w];
                p0 += __builtin_popcountll(aw ^ b0[w]);
                p1 += __builtin_popcountll(aw ^ b1[w]);
                p2 += __builtin_popcountll(aw ^ b2[w]);
                p3 += __builtin_popcountll(aw ^ b3[w]);
            }
            store_one(g, m, n, burn_xnor_dot(g->K, p0));
            store_one(g, m, n + 1, burn_xnor_dot(g->K, p1));
            store_one(g, m, n + 2, burn_xnor_dot(g->K, p2));
            store_one(g, m, n + 3, burn_xnor_dot(g->K, p3));
        }
        for (; n < n1; n++) {
            const uint64_t *b = g->B + (int64_t)n * g->ldb;
            int p = 0;
            for (int64_t w = 0; w < words; w++) p += __builtin_popcountll(a[w] ^ b[w]);
            store_one(g, m, n, burn_xnor_dot(g->K, p));
        }
    }
}

/* ---- threads over column blocks ---- */

size_t xnor_gemm_scratch_bytes(int K) {
    size_t W = (size_t)burn_bits_words(K);
    /* panel block (AVX2 split panels: 16 bytes per word and column; at least 16 columns)
     * then the split rows of A (2 rows × 2 planes) */
    size_t panels = XNOR_PANEL_BYTES > 256 * W ? XNOR_PANEL_BYTES : 256 * W;
    return (panels + 32 * W + 64 + 63) / 64 * 64;
}

typedef struct gemm_job {
    const xnor_args *g;
    xnor_gemm_fn fn;
    int threads;
    char *scratch;
    size_t scratch_bytes;
} gemm_job;

static void gemm_part(void *p, int t) {
    gemm_job *j = p;
    /* contiguous blocks of whole 16-column panel pairs, one per thread */
    int64_t panels = (j->g->N + 15) / 16;
    int n0 = (int)(panels * t / j->threads * 16), n1 = (int)(panels * (t + 1) / j->threads * 16);
    if (n1 > j->g->N) n1 = j->g->N;
    if (n0 < n1) j->fn(j->g, n0, n1, j->scratch + (size_t)t * j->scratch_bytes);
}

static int want_stream(const xnor_args *g) {
    return (int64_t)g->M * g->N * 4 >= XNOR_STREAM_BYTES;
}

void xnor_gemm_run1(const xnor_args *g, void *scratch) {
    if (g->M <= 0 || g->N <= 0) return;
    xnor_args a = *g;
    a.stream = want_stream(g);
    xnor_impl_current()->gemm(&a, 0, a.N, scratch);
}

void xnor_gemm_run(const xnor_args *g, int threads) {
    if (g->M <= 0 || g->N <= 0) return;
    /* a thread costs tens of microseconds: only worth it for ~1M+ word-products */
    double work = (double)g->M * g->N * (double)burn_bits_words(g->K);
    if (threads > 1 && work < 1e6) threads = 1;
    if (threads > (g->N + 15) / 16) threads = (g->N + 15) / 16;
    if (threads < 1) threads = 1;
    xnor_args a = *g;
    a.stream = want_stream(g);
    gemm_job j = {&a, xnor_impl_current()->gemm, threads, NULL, xnor_gemm_scratch_bytes(g->K)};
    void *mem = NULL;
    if (posix_memalign(&mem, 64, j.scratch_bytes * (size_t)threads) != 0)
        burn_check_fail("libc", "posix_memalign", __FILE__, __LINE__, "out of host memory",
                        NULL);
    j.scratch = mem;
    xnor_parallel(threads, gemm_part, &j);
    free(mem);
}

void cpu_xnor_gemm(int M, int N, int K, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                   float *C, int ldc, const burn_xnor_epilogue *ep) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || K > BURN_XNOR_MAX_K)
        burn_check_fail("xnor_gemm", "K out of range", __FILE__, __LINE__,
                        "K must be in [1, 2^24] (exact integers in float)", NULL);
    xnor_args g = {M, N, K, A, lda, B, ldb, C, ldc, {NULL, NULL, NULL, 0}, 0};
    if (ep) g.ep = *ep;
    xnor_gemm_run(&g, burn_cpu_threads());
}
