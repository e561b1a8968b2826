// xnor_gemm.cu — xnor-popcount GEMM on CUDA (mirrors src/cpu/xnor_gemm.c): C[M, N] =
// epilogue(A[M, K] · B[N, K]ᵀ) for packed ±1 rows (include/burn/bitpack.h). Two kernels,
// chosen by burn_xnor_cuda_select (auto: mma on sm_80 and newer, popc below):
//
//   popc (any architecture): 64×64 output tiles per block of 256 threads; 8-word slices of A
//     and B staged in shared memory (word-major, so a warp reads 16 consecutive words of B
//     and broadcasts 2 of A: no bank conflicts); each thread keeps 4×4 accumulators of
//     __popcll(a ⊕ b) and applies d = K − 2·popc (burn_xnor_dot).
//
//   mma (tensor cores, sm_80+): mma.sync m16n8k256 on b1 with .and.popc (Hopper has no
//     .xor.popc), so d = 4·popc(a∧b) − 2·popc(a) − 2·popc(b) + K (burn_xnor_dot_and), the
//     row popcounts from a separate pass. 128×128 tiles staged through shared memory by
//     cp.async, three stages deep (details at the kernel). Fragment layout (PTX ISA, "Matrix
//     Fragments for mma.m16n8k256"): lane (group g = lane/4, t = lane%4) holds
//       A: a0 = row g, 32-bit piece t of the step; a1 = row g+8, piece t; a2, a3 = pieces t+4
//       B: b0 = column g, piece t; b1 = column g, piece t+4
//       C: c0, c1 = row g, columns 2t, 2t+1; c2, c3 = row g+8, same columns.
//
// Words past burn_bits_words(K) read as 0 in both operands, which adds nothing to any
// popcount; rows past M/N are never stored.
#include "cuda_common.cuh" // first: check.h defines CUDA_CHECK only after the CUDA headers
#include "burn/bitpack.h"
#include "cuda_ops.h"
#include "xnor_gemm.cuh"

// ---- popc kernel ----
constexpr int PT_BM = 64, PT_BN = 64, PT_KW = 8, PT_THREADS = 256;

__global__ void __launch_bounds__(PT_THREADS)
    xnor_popc_kernel(int M, int N, int K, const uint64_t *__restrict__ A, int lda,
                     const uint64_t *__restrict__ B, int ldb, int64_t strideB,
                     float *__restrict__ C, int ldc, int64_t strideC, burn_xnor_epilogue ep) {
    __shared__ uint64_t As[PT_KW][PT_BM];
    __shared__ uint64_t Bs[PT_KW][PT_BN];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int m0 = blockIdx.y * PT_BM, n0 = blockIdx.x * PT_BN;
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    const int64_t W = burn_bits_words(K);
    int acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0;
    for (int64_t w0 = 0; w0 < W; w0 += PT_KW) {
        for (int i = threadIdx.x; i < PT_BM * PT_KW; i += PT_THREADS) {
            const int r = i / PT_KW, kw = i % PT_KW;
            const int64_t w = w0 + kw;
            const int m = m0 + r, n = n0 + r;
            As[kw][r] = m < M && w < W ? A[(int64_t)m * lda + w] : 0;
            Bs[kw][r] = n < N && w < W ? B[(int64_t)n * ldb + w] : 0;
        }
        __syncthreads();
#pragma unroll
        for (int kw = 0; kw < PT_KW; kw++) {
            uint64_t a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[kw][ty + 16 * i], b[i] = Bs[kw][tx + 16 * i];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += __popcll(a[i] ^ b[j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
            if (m < M && n < N)
                C[(int64_t)m * ldc + n] = burn_xnor_out(ep, m, n, burn_xnor_dot(K, acc[i][j]));
        }
}

// ---- mma kernel ----
// Block tile TM×TN of C, 8 warps as 2 (m) × 4 (n), each warp 64×32 = 4×4 mma tiles. k moves
// through shared memory TKW words (512 bits) at a time, TSTAGES deep, by cp.async of 8-byte
// words (rows are 8-byte aligned for any ld; src-size 0 zero-fills rows past M/N and words
// past burn_bits_words(K)). In shared memory a row is 4 chunks of 16 bytes, chunk c stored at
// c ^ ((row >> 1) & 3): the fragment reads (8 rows × 4 consecutive 32-bit pieces per
// instruction) then hit 32 distinct banks. popc(a) and popc(b) of whole rows come from
// row_popc_kernel beforehand (one pass over each operand instead of one per tile).
constexpr int TM = 128, TN = 128, TKW = 8, TSTAGES = 3, TTHREADS = 256;

// 32-bit piece p (0..15) of row r in a stage's [rows][TKW words] tile
__device__ __forceinline__ int swz32(int r, int p) {
    return r * (2 * TKW) + (((p >> 2) ^ ((r >> 1) & 3)) << 2) + (p & 3);
}

__device__ __forceinline__ void cp_async8(void *smem, const void *gmem, bool valid) {
    const unsigned dst = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(dst), "l"(gmem),
                 "r"(valid ? 8 : 0));
}

// Stage kt of A rows [m0, m0+TM) and B rows [n0, n0+TN) into shared memory.
__device__ __forceinline__ void load_stage(uint32_t *As, uint32_t *Bs, const uint64_t *A, int lda,
                                           const uint64_t *B, int ldb, int M, int N, int64_t W,
                                           int m0, int n0, int64_t kt) {
#pragma unroll
    for (int i = 0; i < TM * TKW / TTHREADS; i++) {
        const int q = threadIdx.x + i * TTHREADS, r = q / TKW, w = q % TKW;
        const int64_t gw = kt * TKW + w;
        const bool va = m0 + r < M && gw < W, vb = n0 + r < N && gw < W;
        cp_async8(As + swz32(r, 2 * w), va ? A + (int64_t)(m0 + r) * lda + gw : A, va);
        cp_async8(Bs + swz32(r, 2 * w), vb ? B + (int64_t)(n0 + r) * ldb + gw : B, vb);
    }
    asm volatile("cp.async.commit_group;\n" ::);
}

__global__ void __launch_bounds__(TTHREADS)
    xnor_mma_kernel(int M, int N, int K, const uint64_t *__restrict__ A, int lda,
                    const uint64_t *__restrict__ B, int ldb, int64_t strideB,
                    const int *__restrict__ popc_a, const int *__restrict__ popc_b,
                    float *__restrict__ C, int ldc, int64_t strideC, burn_xnor_epilogue ep) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    __shared__ __align__(16) uint32_t As[TSTAGES][TM * 2 * TKW];
    __shared__ __align__(16) uint32_t Bs[TSTAGES][TN * 2 * TKW];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int wm = (warp >> 2) * 64, wn = (warp & 3) * 32;
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    popc_b += (int64_t)blockIdx.z * N;
    const int64_t W = burn_bits_words(K), KT = (W + TKW - 1) / TKW;
    const bool active = m0 + wm < M && n0 + wn < N; // warps wholly past M or N skip the mma
    int acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0;
#pragma unroll
    for (int s = 0; s < TSTAGES - 1; s++) {
        if (s < KT) load_stage(As[s], Bs[s], A, lda, B, ldb, M, N, W, m0, n0, s);
        else asm volatile("cp.async.commit_group;\n" ::);
    }
    for (int64_t kt = 0; kt < KT; kt++) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(TSTAGES - 2));
        __syncthreads(); // stage kt landed for every thread; slot (kt - 1) % TSTAGES is free
        const int64_t next = kt + TSTAGES - 1;
        if (next < KT) load_stage(As[next % TSTAGES], Bs[next % TSTAGES], A, lda, B, ldb, M, N, W,
                                  m0, n0, next);
        else asm volatile("cp.async.commit_group;\n" ::);
        if (!active) continue;
        const uint32_t *as = As[kt % TSTAGES], *bs = Bs[kt % TSTAGES];
#pragma unroll
        for (int h = 0; h < 2; h++) { // two 256-bit k steps per stage: pieces 8h .. 8h+7
            uint32_t a[4][4], b[4][2];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const int r = wm + 16 * i + g;
                a[i][0] = as[swz32(r, 8 * h + t)];
                a[i][1] = as[swz32(r + 8, 8 * h + t)];
                a[i][2] = as[swz32(r, 8 * h + t + 4)];
                a[i][3] = as[swz32(r + 8, 8 * h + t + 4)];
            }
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int r = wn + 8 * j + g;
                b[j][0] = bs[swz32(r, 8 * h + t)];
                b[j][1] = bs[swz32(r, 8 * h + t + 4)];
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++)
                    asm volatile(
                        "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc "
                        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                        : "+r"(acc[i][j][0]), "+r"(acc[i][j][1]), "+r"(acc[i][j][2]),
                          "+r"(acc[i][j][3])
                        : "r"(a[i][0]), "r"(a[i][1]), "r"(a[i][2]), "r"(a[i][3]), "r"(b[j][0]),
                          "r"(b[j][1]));
        }
    }
    asm volatile("cp.async.wait_group 0;\n" ::);
    if (!active) return;
    // lane holds, per tile (i, j): rows g and g+8, columns 2t and 2t+1
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int hr = 0; hr < 2; hr++) {
            const int m = m0 + wm + 16 * i + g + 8 * hr;
            if (m >= M) continue;
            const int pa = popc_a[m];
#pragma unroll
            for (int j = 0; j < 4; j++)
#pragma unroll
                for (int hc = 0; hc < 2; hc++) {
                    const int n = n0 + wn + 8 * j + 2 * t + hc;
                    if (n < N)
                        C[(int64_t)m * ldc + n] = burn_xnor_out(
                            ep, m, n, burn_xnor_dot_and(K, acc[i][j][2 * hr + hc], pa, popc_b[n]));
                }
        }
#else
    __trap(); // the host refuses the mma kernel below sm_80
#endif
}

// out[z·rows + r] = popc of row r of X_z = X + z·stride (W words per row, rows ld apart)
__global__ void row_popc_kernel(int *out, const uint64_t *X, int ld, int64_t stride, int rows,
                                int batch, int64_t W) {
    GRID_STRIDE(i, (int64_t)rows * batch) {
        const uint64_t *x = X + (i / rows) * stride + (i % rows) * (int64_t)ld;
        int c = 0;
        for (int64_t w = 0; w < W; w++) c += __popcll(x[w]);
        out[i] = c;
    }
}

// Device scratch for the row popcounts, grown on demand (stream-ordered, like the rest).
static int *popc_scratch(int64_t n) {
    static int *buf;
    static int64_t cap;
    if (n > cap) {
        if (buf) CUDA_CHECK(cudaFreeAsync(buf, burn_stream));
        CUDA_CHECK(cudaMallocAsync((void **)&buf, (size_t)n * sizeof(int), burn_stream));
        cap = n;
    }
    return buf;
}

static int device_major(void) {
    static int major = -1;
    if (major < 0) CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor,
                                                     burn_device < 0 ? 0 : burn_device));
    return major;
}

void xnor_gemm_launch(int M, int N, int K, const uint64_t *A, int lda, const uint64_t *B,
                      int ldb, int64_t strideB, float *C, int ldc, int64_t strideC, int batch,
                      burn_xnor_epilogue ep) {
    if (M <= 0 || N <= 0 || batch <= 0) return;
    if (K <= 0 || K > BURN_XNOR_MAX_K)
        burn_check_fail("xnor_gemm", "K out of range", __FILE__, __LINE__,
                        "K must be in [1, 2^24] (exact integers in float)", NULL);
    if (batch > 65535 || (M + PT_BM - 1) / PT_BM > 65535)
        burn_check_fail("xnor_gemm", "grid", __FILE__, __LINE__, "batch or M too large", NULL);
    const int kernel = burn_xnor_cuda_kernel == BURN_XNOR_CUDA_AUTO
                           ? (device_major() >= 8 ? BURN_XNOR_CUDA_MMA : BURN_XNOR_CUDA_POPC)
                           : burn_xnor_cuda_kernel;
    if (kernel == BURN_XNOR_CUDA_MMA) {
        if (device_major() < 8)
            burn_check_fail("xnor_gemm", "mma kernel", __FILE__, __LINE__,
                            "mma.m16n8k256 b1 needs compute capability 8.0 or newer",
                            "select the popc kernel (burn_xnor_cuda_select(\"popc\")) or auto");
        const int64_t W = burn_bits_words(K);
        int *popc = popc_scratch(M + (int64_t)batch * N);
        row_popc_kernel<<<burn_grid(M, 256), 256, 0, burn_stream>>>(popc, A, lda, 0, M, 1, W);
        BURN_LAUNCH_CHECK();
        row_popc_kernel<<<burn_grid((int64_t)batch * N, 256), 256, 0, burn_stream>>>(
            popc + M, B, ldb, strideB, N, batch, W);
        BURN_LAUNCH_CHECK();
        dim3 grid((N + TN - 1) / TN, (M + TM - 1) / TM, batch);
        xnor_mma_kernel<<<grid, TTHREADS, 0, burn_stream>>>(M, N, K, A, lda, B, ldb, strideB, popc,
                                                           popc + M, C, ldc, strideC, ep);
    } else {
        dim3 grid((N + PT_BN - 1) / PT_BN, (M + PT_BM - 1) / PT_BM, batch);
        xnor_popc_kernel<<<grid, PT_THREADS, 0, burn_stream>>>(M, N, K, A, lda, B, ldb, strideB,
                                                               C, ldc, strideC, ep);
    }
    BURN_LAUNCH_CHECK();
}

extern "C" void cuda_xnor_gemm(int M, int N, int K, const uint64_t *A, int lda,
                               const uint64_t *B, int ldb, float *C, int ldc,
                               const burn_xnor_epilogue *ep) {
    burn_xnor_epilogue e = {nullptr, nullptr, nullptr, 0};
    if (ep) e = *ep;
    xnor_gemm_launch(M, N, K, A, lda, B, ldb, 0, C, ldc, 0, 1, e);
}
