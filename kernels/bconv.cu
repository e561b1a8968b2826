// bconv.cu — binary conv2d on CUDA (mirrors src/cpu/bconv.c; geometry, packed-weight layout
// and per-element helpers from include/burn/bconv.h).
//
// Stage 2, for a chunk of images at once (the whole batch unless the scratch would pass
// 256 MiB):
//   chanpack:  img[n, p, wi]  = sign bits of 64 channels of pixel p    (burn_bconv_chan_word)
//   im2col:    cols[n, q, wi] = packed tap-major row of output q, +1 outside (burn_bconv_col_word)
//   GEMM:      y_n = α_o·(Wbits · cols_nᵀ − corr[o, class(q)])  one batched xnor GEMM launch
// The border classes and the correction table are made on the device by two small kernels.
// Stage 1 / backward: float im2col of sign(x) (burn_bconv_sign_tap) and cuBLAS SGEMM, strided
// over the images (FP32, no TF32, like cuda_gemm); dW accumulates image by image; col2im is a
// gather (one thread per input element), so it needs no atomics and is deterministic.
#include "cuda_common.cuh" // first: check.h defines CUBLAS_CHECK only after cublas_v2.h
#include "burn/bconv.h"
#include "cuda_ops.h"
#include "xnor_gemm.cuh"

static const size_t CHUNK_BUDGET = 256u << 20;

struct ws_layout {
    size_t cls, corr, region; // byte offsets
    int chunk_bin, chunk_fp;  // images per pass
    size_t total;
};

static size_t align256(size_t b) { return (b + 255) / 256 * 256; }

static bool direct_1x1(const burn_bconv *cv) {
    return cv->kh == 1 && cv->kw == 1 && cv->stride == 1 && cv->pad == 0;
}

static ws_layout layout(const burn_bconv *cv) {
    ws_layout l;
    const size_t HW = (size_t)cv->H * cv->W, HoWo = (size_t)cv->Ho * cv->Wo;
    const size_t cw = (size_t)burn_bits_words(cv->C);
    const size_t bin = HW * cw * 8 + (direct_1x1(cv) ? 0 : HoWo * (size_t)cv->ldk * 8);
    const size_t fp = (size_t)cv->K * HoWo * 4;
    size_t cb = CHUNK_BUDGET / bin, cf = CHUNK_BUDGET / fp;
    l.chunk_bin = (int)(cb < 1 ? 1 : cb > (size_t)cv->N ? cv->N : cb);
    l.chunk_fp = (int)(cf < 1 ? 1 : cf > (size_t)cv->N ? cv->N : cf);
    if (l.chunk_bin > 65535) l.chunk_bin = 65535; // grid z of the batched GEMM
    if (l.chunk_fp > 65535) l.chunk_fp = 65535;
    l.cls = 0;
    l.corr = align256(HoWo);
    l.region = l.corr + align256((size_t)cv->O * (size_t)cv->n_class * 4);
    const size_t rb = (size_t)l.chunk_bin * bin, rf = (size_t)l.chunk_fp * fp;
    l.total = l.region + align256(rb > rf ? rb : rf);
    return l;
}

extern "C" size_t cuda_bconv_workspace_bytes(const burn_bconv *cv) { return layout(cv).total; }

// ---- packed weights ----

__global__ void pack_weights_kernel(uint64_t *bits, const float *W, burn_bconv cv) {
    const int T = cv.kh * cv.kw;
    GRID_STRIDE(i, (int64_t)cv.O * cv.ldk) {
        const int64_t o = i / cv.ldk, wi = i % cv.ldk;
        const int64_t k0 = wi * 64, k1 = k0 + 64 < cv.K ? k0 + 64 : cv.K;
        const float *w = W + o * cv.K;
        uint64_t word = 0;
        for (int64_t k = k0; k < k1; k++) { // tap-major k = t·C + c <- W[o, c, t]
            const int64_t t = k / cv.C, c = k % cv.C;
            word |= burn_sign_bit(w[c * T + t]) << (k - k0);
        }
        bits[i] = word;
    }
}

__global__ void tap_sum_kernel(int32_t *tap_sum, const float *W, burn_bconv cv) {
    const int T = cv.kh * cv.kw;
    GRID_STRIDE(i, (int64_t)cv.O * T) {
        const int64_t o = i / T, t = i % T;
        int32_t s = 0;
        for (int c = 0; c < cv.C; c++) s += W[o * cv.K + (int64_t)c * T + t] >= 0.0f ? 1 : -1;
        tap_sum[i] = s;
    }
}

extern "C" void cuda_bconv_pack_weights(const burn_bconv *cv, void *Wp, const float *W) {
    uint64_t *bits = (uint64_t *)Wp;
    int32_t *tap_sum = (int32_t *)((char *)Wp + burn_bconv_bits_bytes(cv));
    const int64_t nb = (int64_t)cv->O * cv->ldk, nt = (int64_t)cv->O * cv->kh * cv->kw;
    pack_weights_kernel<<<burn_grid(nb, 256), 256, 0, burn_stream>>>(bits, W, *cv);
    BURN_LAUNCH_CHECK();
    tap_sum_kernel<<<burn_grid(nt, 256), 256, 0, burn_stream>>>(tap_sum, W, *cv);
    BURN_LAUNCH_CHECK();
}

// ---- stage 2 ----

__global__ void class_kernel(uint8_t *cls, burn_bconv cv) {
    GRID_STRIDE(p, (int64_t)cv.Ho * cv.Wo)
    cls[p] = (uint8_t)burn_bconv_class(&cv, (int)(p / cv.Wo), (int)(p % cv.Wo));
}

__global__ void corr_kernel(int32_t *corr, const int32_t *tap_sum, burn_bconv cv) {
    const int T = cv.kh * cv.kw;
    GRID_STRIDE(i, (int64_t)cv.O * cv.n_class) {
        const int64_t o = i / cv.n_class;
        corr[i] = burn_bconv_corr(&cv, tap_sum + o * T, (int)(i % cv.n_class));
    }
}

// img[n, p, wi] for the images of the chunk; pixel fastest so reads of x coalesce
__global__ void chanpack_kernel(uint64_t *img, const float *x, burn_bconv cv, int chunk) {
    const int64_t HW = (int64_t)cv.H * cv.W, cw = burn_bits_words(cv.C);
    GRID_STRIDE(i, (int64_t)chunk * cw * HW) {
        const int64_t p = i % HW, r = i / HW, wi = r % cw, n = r / cw;
        img[(n * HW + p) * cw + wi] =
            burn_bconv_chan_word(x + n * cv.C * HW, cv.C, HW, p, (int)wi);
    }
}

__global__ void im2col_bits_kernel(uint64_t *cols, const uint64_t *img, burn_bconv cv,
                                   int chunk) {
    const int64_t HW = (int64_t)cv.H * cv.W, HoWo = (int64_t)cv.Ho * cv.Wo;
    const int64_t cw = burn_bits_words(cv.C);
    GRID_STRIDE(i, (int64_t)chunk * cv.ldk * HoWo) {
        const int64_t q = i % HoWo, r = i / HoWo, wi = r % cv.ldk, n = r / cv.ldk;
        cols[(n * HoWo + q) * cv.ldk + wi] = burn_bconv_col_word(
            &cv, img + n * HW * cw, (int)(q / cv.Wo), (int)(q % cv.Wo), (int)wi);
    }
}

extern "C" void cuda_bconv_forward_bin(const burn_bconv *cv, float *y, const float *x,
                                       const void *Wp, const float *alpha, void *ws) {
    const ws_layout l = layout(cv);
    char *w = (char *)ws;
    uint8_t *cls = (uint8_t *)(w + l.cls);
    int32_t *corr = (int32_t *)(w + l.corr);
    const uint64_t *bits = (const uint64_t *)Wp;
    const int32_t *tap_sum = (const int32_t *)((const char *)Wp + burn_bconv_bits_bytes(cv));
    const int64_t HW = (int64_t)cv->H * cv->W, HoWo = (int64_t)cv->Ho * cv->Wo;
    const int64_t cw = burn_bits_words(cv->C);
    class_kernel<<<burn_grid(HoWo, 256), 256, 0, burn_stream>>>(cls, *cv);
    BURN_LAUNCH_CHECK();
    corr_kernel<<<burn_grid((int64_t)cv->O * cv->n_class, 256), 256, 0, burn_stream>>>(
        corr, tap_sum, *cv);
    BURN_LAUNCH_CHECK();
    // no padding, no border: the correction is skipped
    const burn_xnor_epilogue ep = {alpha, cv->pad > 0 ? corr : nullptr, cls, cv->n_class};
    uint64_t *img = (uint64_t *)(w + l.region);
    uint64_t *cols = img + (size_t)l.chunk_bin * HW * cw;
    for (int n0 = 0; n0 < cv->N; n0 += l.chunk_bin) {
        const int chunk = cv->N - n0 < l.chunk_bin ? cv->N - n0 : l.chunk_bin;
        chanpack_kernel<<<burn_grid((int64_t)chunk * cw * HW, 256), 256, 0, burn_stream>>>(
            img, x + (int64_t)n0 * cv->C * HW, *cv, chunk);
        BURN_LAUNCH_CHECK();
        const uint64_t *B = img;
        if (!direct_1x1(cv)) {
            im2col_bits_kernel<<<burn_grid((int64_t)chunk * cv->ldk * HoWo, 256), 256, 0,
                                 burn_stream>>>(cols, img, *cv, chunk);
            BURN_LAUNCH_CHECK();
            B = cols;
        }
        // direct 1×1: img rows are the GEMM rows (HW = HoWo, cw = ldk)
        xnor_gemm_launch(cv->O, (int)HoWo, cv->K, bits, cv->ldk, B, cv->ldk, HoWo * cv->ldk,
                         y + (int64_t)n0 * cv->O * HoWo, (int)HoWo, (int64_t)cv->O * HoWo,
                         chunk, ep);
    }
}

// ---- stage 1 and backward ----

// cols[n, k, q] = sign(x_n) at tap k of output q (0 in the padding), k = (c·kh + ky)·kw + kx
__global__ void sign_im2col_kernel(float *cols, const float *x, burn_bconv cv, int chunk) {
    const int64_t HW = (int64_t)cv.H * cv.W, HoWo = (int64_t)cv.Ho * cv.Wo;
    const int T = cv.kh * cv.kw;
    GRID_STRIDE(i, (int64_t)chunk * cv.K * HoWo) {
        const int64_t q = i % HoWo, r = i / HoWo, k = r % cv.K, n = r / cv.K;
        const int c = (int)(k / T), t = (int)(k % T);
        cols[i] = burn_bconv_sign_tap(&cv, x + n * cv.C * HW, c, t / cv.kw, t % cv.kw,
                                      (int)(q / cv.Wo), (int)(q % cv.Wo));
    }
}

// dx[n, c, iy, ix] = Σ over taps that read it of dcols[n, k, q]; padding taps read nothing
__global__ void col2im_kernel(float *dx, const float *dcols, burn_bconv cv, int chunk) {
    const int64_t HW = (int64_t)cv.H * cv.W, HoWo = (int64_t)cv.Ho * cv.Wo;
    const int T = cv.kh * cv.kw;
    GRID_STRIDE(i, (int64_t)chunk * cv.C * HW) {
        const int64_t p = i % HW, r = i / HW, c = r % cv.C, n = r / cv.C;
        const int iy = (int)(p / cv.W), ix = (int)(p % cv.W);
        const float *d = dcols + n * cv.K * HoWo + c * T * HoWo;
        float s = 0.0f;
        for (int ky = 0; ky < cv.kh; ky++) {
            const int ny = iy + cv.pad - ky;
            if (ny < 0 || ny % cv.stride) continue;
            const int oy = ny / cv.stride;
            if (oy >= cv.Ho) continue;
            for (int kx = 0; kx < cv.kw; kx++) {
                const int nx = ix + cv.pad - kx;
                if (nx < 0 || nx % cv.stride) continue;
                const int ox = nx / cv.stride;
                if (ox >= cv.Wo) continue;
                s += d[(int64_t)(ky * cv.kw + kx) * HoWo + (int64_t)oy * cv.Wo + ox];
            }
        }
        dx[i] = s;
    }
}

// y_n[O, HoWo] = W[O, K] · cols_n[K, HoWo] for `chunk` images (column-major: Cᵀ = colsᵀ·Wᵀ)
static void fp_forward_gemm(const burn_bconv *cv, float *y, const float *cols, const float *W,
                            int chunk) {
    const int HoWo = cv->Ho * cv->Wo;
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSetMathMode(burn_cublas, CUBLAS_PEDANTIC_MATH));
    CUBLAS_CHECK(cublasSgemmStridedBatched(burn_cublas, CUBLAS_OP_N, CUBLAS_OP_N, HoWo, cv->O,
                                           cv->K, &one, cols, HoWo, (long long)cv->K * HoWo, W,
                                           cv->K, 0, &zero, y, HoWo, (long long)cv->O * HoWo,
                                           chunk));
}

extern "C" void cuda_bconv_forward_real(const burn_bconv *cv, float *y, const float *x,
                                        const float *W, void *ws) {
    const ws_layout l = layout(cv);
    float *cols = (float *)((char *)ws + l.region);
    const int64_t HW = (int64_t)cv->H * cv->W, HoWo = (int64_t)cv->Ho * cv->Wo;
    for (int n0 = 0; n0 < cv->N; n0 += l.chunk_fp) {
        const int chunk = cv->N - n0 < l.chunk_fp ? cv->N - n0 : l.chunk_fp;
        const int64_t n = (int64_t)chunk * cv->K * HoWo;
        sign_im2col_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(
            cols, x + (int64_t)n0 * cv->C * HW, *cv, chunk);
        BURN_LAUNCH_CHECK();
        fp_forward_gemm(cv, y + (int64_t)n0 * cv->O * HoWo, cols, W, chunk);
    }
}

extern "C" void cuda_bconv_backward(const burn_bconv *cv, float *dx, float *dW, const float *dy,
                                    const float *x, const float *W_eff, void *ws) {
    const ws_layout l = layout(cv);
    float *cols = (float *)((char *)ws + l.region);
    const int64_t HW = (int64_t)cv->H * cv->W, HoWo = (int64_t)cv->Ho * cv->Wo;
    const float one = 1.0f, zero = 0.0f;
    for (int n0 = 0; n0 < cv->N; n0 += l.chunk_fp) {
        const int chunk = cv->N - n0 < l.chunk_fp ? cv->N - n0 : l.chunk_fp;
        const float *dyc = dy + (int64_t)n0 * cv->O * HoWo;
        if (dW) { // dW[O, K] += dy_n[O, HoWo] · cols_n[K, HoWo]ᵀ, image by image
            const int64_t n = (int64_t)chunk * cv->K * HoWo;
            sign_im2col_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(
                cols, x + (int64_t)n0 * cv->C * HW, *cv, chunk);
            BURN_LAUNCH_CHECK();
            for (int i = 0; i < chunk; i++)
                cuda_sgemm(0, 1, cv->O, cv->K, (int)HoWo, 1.0f, dyc + (int64_t)i * cv->O * HoWo,
                           (int)HoWo, cols + (int64_t)i * cv->K * HoWo, (int)HoWo, 1.0f, dW,
                           cv->K);
        }
        if (dx) { // dcols_n[K, HoWo] = W_effᵀ · dy_n (column-major: dcolsᵀ = dyᵀ·W), col2im
            float *dxc = dx + (int64_t)n0 * cv->C * HW;
            float *dcols = direct_1x1(cv) ? dxc : cols;
            CUBLAS_CHECK(cublasSetMathMode(burn_cublas, CUBLAS_PEDANTIC_MATH));
            CUBLAS_CHECK(cublasSgemmStridedBatched(
                burn_cublas, CUBLAS_OP_N, CUBLAS_OP_T, (int)HoWo, cv->K, cv->O, &one, dyc,
                (int)HoWo, (long long)cv->O * HoWo, W_eff, cv->K, 0, &zero, dcols, (int)HoWo,
                (long long)cv->K * HoWo, chunk));
            if (!direct_1x1(cv)) {
                const int64_t n = (int64_t)chunk * cv->C * HW;
                col2im_kernel<<<burn_grid(n, 256), 256, 0, burn_stream>>>(dxc, dcols, *cv, chunk);
                BURN_LAUNCH_CHECK();
            }
        }
    }
}
