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
//     .xor.popc), so d = 4·popc(a∧b) − 2·popc(a) − 2·popc(b) + K (burn_xnor_dot_and). A warp
//     owns a 16×32 tile (4 mma per 256-bit k step); fragments are read straight from global
//     memory (L1/L2 serve the reuse) as 32-bit pieces (layout of the PTX ISA, "Matrix
//     Fragments for mma.m16n8k256"): lane (group g = lane/4, t = lane%4) holds
//       A: a0 = row g, 32-bit piece t of the step; a1 = row g+8, piece t; a2, a3 = pieces t+4
//       B: b0 = column g, piece t; b1 = column g, piece t+4
//       C: c0, c1 = row g, columns 2t, 2t+1; c2, c3 = row g+8, same columns.
//     The row and column popcounts come from the same fragments (each lane counts its
//     pieces; the 4 lanes of a group sum theirs with two shuffles), so no extra pass.
//     Small tiles on purpose: on an H200 this kernel and a 128×128 cp.async-staged version
//     both top out near 0.6 POPS on the large-K layers (the b1 mma.sync rate, not the loads),
//     and the large tiles leave SMs idle on the N = 1568/6272 layers (docs/BENCHMARKS.md).
//
// Rows/columns past M/N are clamped to the last one (results not stored); words past
// burn_bits_words(K) read as 0 in both operands, which adds nothing to any popcount.
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
constexpr int MMA_NT = 4;                      // n-tiles of 8 columns per warp
constexpr int MMA_BM = 32, MMA_BN = 64;        // 2×2 warps of 16×32
constexpr unsigned FULL = 0xffffffffu;

__global__ void __launch_bounds__(128)
    xnor_mma_kernel(int M, int N, int K, const uint64_t *__restrict__ A, int lda,
                    const uint64_t *__restrict__ B, int ldb, int64_t strideB,
                    float *__restrict__ C, int ldc, int64_t strideC, burn_xnor_epilogue ep) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    const int mbase = blockIdx.y * MMA_BM + (warp >> 1) * 16;
    const int nbase = blockIdx.x * MMA_BN + (warp & 1) * 32;
    const int64_t U = 2 * burn_bits_words(K); // 32-bit pieces per row
    const uint32_t *arow0 = (const uint32_t *)(A + (int64_t)min(mbase + g, M - 1) * lda);
    const uint32_t *arow8 = (const uint32_t *)(A + (int64_t)min(mbase + g + 8, M - 1) * lda);
    const uint32_t *bcol[MMA_NT];
#pragma unroll
    for (int j = 0; j < MMA_NT; j++)
        bcol[j] = (const uint32_t *)(B + (int64_t)min(nbase + 8 * j + g, N - 1) * ldb);
    int acc[MMA_NT][4];
    int pb[MMA_NT];
#pragma unroll
    for (int j = 0; j < MMA_NT; j++) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = pb[j] = 0;
    int pa0 = 0, pa8 = 0;
    for (int64_t c = 0; c < U; c += 8) { // one k step = 256 bits = 8 pieces
        const int64_t i0 = c + t, i1 = c + t + 4;
        const uint32_t a0 = i0 < U ? __ldg(arow0 + i0) : 0u;
        const uint32_t a1 = i0 < U ? __ldg(arow8 + i0) : 0u;
        const uint32_t a2 = i1 < U ? __ldg(arow0 + i1) : 0u;
        const uint32_t a3 = i1 < U ? __ldg(arow8 + i1) : 0u;
        pa0 += __popc(a0) + __popc(a2);
        pa8 += __popc(a1) + __popc(a3);
#pragma unroll
        for (int j = 0; j < MMA_NT; j++) {
            const uint32_t b0 = i0 < U ? __ldg(bcol[j] + i0) : 0u;
            const uint32_t b1 = i1 < U ? __ldg(bcol[j] + i1) : 0u;
            pb[j] += __popc(b0) + __popc(b1);
            asm volatile(
                "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc "
                "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                : "+r"(acc[j][0]), "+r"(acc[j][1]), "+r"(acc[j][2]), "+r"(acc[j][3])
                : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
        }
    }
    // popc of row g / g+8 and of column g: sum over the 4 lanes of the group
    pa0 += __shfl_xor_sync(FULL, pa0, 1);
    pa0 += __shfl_xor_sync(FULL, pa0, 2);
    pa8 += __shfl_xor_sync(FULL, pa8, 1);
    pa8 += __shfl_xor_sync(FULL, pa8, 2);
#pragma unroll
    for (int j = 0; j < MMA_NT; j++) {
        pb[j] += __shfl_xor_sync(FULL, pb[j], 1);
        pb[j] += __shfl_xor_sync(FULL, pb[j], 2);
        // this lane's columns 2t and 2t+1 are column g' = 2t, 2t+1 of the tile: group g'
        const int pbc0 = __shfl_sync(FULL, pb[j], 4 * (2 * t));
        const int pbc1 = __shfl_sync(FULL, pb[j], 4 * (2 * t + 1));
        const int n = nbase + 8 * j + 2 * t, m = mbase + g;
        if (m < M && n < N)
            C[(int64_t)m * ldc + n] = burn_xnor_out(ep, m, n, burn_xnor_dot_and(K, acc[j][0], pa0, pbc0));
        if (m < M && n + 1 < N)
            C[(int64_t)m * ldc + n + 1] =
                burn_xnor_out(ep, m, n + 1, burn_xnor_dot_and(K, acc[j][1], pa0, pbc1));
        if (m + 8 < M && n < N)
            C[(int64_t)(m + 8) * ldc + n] =
                burn_xnor_out(ep, m + 8, n, burn_xnor_dot_and(K, acc[j][2], pa8, pbc0));
        if (m + 8 < M && n + 1 < N)
            C[(int64_t)(m + 8) * ldc + n + 1] =
                burn_xnor_out(ep, m + 8, n + 1, burn_xnor_dot_and(K, acc[j][3], pa8, pbc1));
    }
#else
    __trap(); // the host refuses the mma kernel below sm_80
#endif
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
        dim3 grid((N + MMA_BN - 1) / MMA_BN, (M + MMA_BM - 1) / MMA_BM, batch);
        xnor_mma_kernel<<<grid, 128, 0, burn_stream>>>(M, N, K, A, lda, B, ldb, strideB, C,
                                                      ldc, strideC, ep);
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
