/* bconv.c — CPU binary conv2d (bconv.h): geometry validation, stage-2 forward through the
 * packed xnor GEMM, stage-1 forward and the backward through OpenBLAS.
 *
 * Stage 2, per image (images split across threads, each with its own scratch slot):
 *   x_n[C, H·W] --chanpack--> img[H·W, cw]      sign bits, channel c at bit c of the pixel
 *   img --im2col (tap-major, +1 outside)--> cols[Ho·Wo, ldk]
 *   y_n[O, Ho·Wo] = α_o·(Wbits[O, ldk] · colsᵀ − corr[o, class(p)])   (one xnor GEMM)
 * 1×1 stride-1 convs skip the im2col: img is already the GEMM operand.
 * Stage 1 and backward use float im2col of sign(x) in PyTorch's K order (c, ky, kx), so the
 * real weights W[O, C·kh·kw] multiply it directly; a chunk of images shares each GEMM
 * (cols[K, chunk·Ho·Wo], dy and y moved to [O, chunk·Ho·Wo] by row copies). */
#include <stdlib.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/bconv.h"
#include "burn/check.h"
#include "cpu_ops.h"
#include "xnor_gemm.h"

int burn_bconv_init(burn_bconv *cv, int N, int C, int H, int W, int O, int kernel, int stride,
                    int pad) {
    memset(cv, 0, sizeof *cv);
    if (N < 1 || C < 1 || H < 1 || W < 1 || O < 1) {
        burn_error_set("bconv: shape N=%d C=%d H=%d W=%d O=%d must be positive", N, C, H, W, O);
        return -1;
    }
    if (kernel < 1 || kernel > 4) {
        burn_error_set("bconv: kernel %d not supported (1..4)", kernel);
        return -1;
    }
    if (stride < 1 || pad < 0 || pad >= kernel) {
        burn_error_set("bconv: stride %d / pad %d invalid for kernel %d (stride >= 1, "
                       "0 <= pad < kernel)", stride, pad, kernel);
        return -1;
    }
    if (H + 2 * pad < kernel || W + 2 * pad < kernel) {
        burn_error_set("bconv: input %dx%d smaller than kernel %d with pad %d", H, W, kernel, pad);
        return -1;
    }
    int64_t K = (int64_t)C * kernel * kernel;
    if (K > BURN_XNOR_MAX_K) {
        burn_error_set("bconv: K = C*kh*kw = %lld exceeds %d", (long long)K, BURN_XNOR_MAX_K);
        return -1;
    }
    cv->N = N, cv->C = C, cv->H = H, cv->W = W, cv->O = O;
    cv->kh = cv->kw = kernel, cv->stride = stride, cv->pad = pad;
    cv->Ho = (H + 2 * pad - kernel) / stride + 1;
    cv->Wo = (W + 2 * pad - kernel) / stride + 1;
    cv->K = (int)K;
    cv->ldk = (int)burn_bits_words(K);
    cv->n_class = 1 << (2 * kernel);
    return 0;
}

/* ---- workspace ---- */

typedef struct ws_layout {
    int slots;                     /* stage 2: images in flight (one per thread) */
    size_t cls, corr, slot0, slot; /* stage 2 offsets and per-slot bytes */
    size_t img, cols, scratch;     /* within a slot */
    int chunk;                     /* stage 1 / backward: images per GEMM */
    size_t fcols, fdcols, fdy;     /* their float im2col, its gradient, dy (or y) transposed */
    size_t total;
} ws_layout;

static size_t align64(size_t b) { return (b + 63) / 64 * 64; }

/* Stage 1 and the backward run their FP GEMMs over chunks of images: one GEMM per chunk
 * (inner or outer dimension images·Ho·Wo) instead of one per image, whose Ho·Wo can be 4..49
 * on the last stages (per-image GEMMs there were call-overhead bound). */
#define FP_CHUNK_BYTES ((size_t)48 << 20)
int burn_cpu_bconv_max_chunk = 0;

static int direct_1x1(const burn_bconv *cv) {
    return cv->kh == 1 && cv->kw == 1 && cv->stride == 1 && cv->pad == 0;
}

static ws_layout layout(const burn_bconv *cv) {
    ws_layout l;
    int64_t HoWo = (int64_t)cv->Ho * cv->Wo, HW = (int64_t)cv->H * cv->W;
    int64_t cw = burn_bits_words(cv->C);
    l.slots = burn_cpu_threads() < cv->N ? burn_cpu_threads() : cv->N;
    l.cls = 0;
    l.corr = align64((size_t)HoWo);
    l.slot0 = l.corr + align64((size_t)cv->O * (size_t)cv->n_class * 4);
    l.img = 0;
    l.cols = align64((size_t)HW * (size_t)cw * 8);
    l.scratch = l.cols + (direct_1x1(cv) ? 0 : align64((size_t)HoWo * (size_t)cv->ldk * 8));
    l.slot = l.scratch + xnor_gemm_scratch_bytes(cv->K);
    size_t bin = l.slot0 + (size_t)l.slots * l.slot;
    /* chunks of images share each GEMM: [rows][chunk·HoWo] matrices, chunk capped by bytes */
    size_t per_image = (size_t)HoWo * 4 * (2 * (size_t)cv->K + (size_t)cv->O);
    size_t chunk = FP_CHUNK_BYTES / per_image;
    if (burn_cpu_bconv_max_chunk > 0 && chunk > (size_t)burn_cpu_bconv_max_chunk)
        chunk = (size_t)burn_cpu_bconv_max_chunk;
    l.chunk = (int)(chunk < 1 ? 1 : chunk > (size_t)cv->N ? (size_t)cv->N : chunk);
    size_t cols_bytes = align64((size_t)cv->K * (size_t)HoWo * (size_t)l.chunk * 4);
    l.fcols = 0;
    l.fdcols = cols_bytes;
    l.fdy = 2 * cols_bytes;
    size_t real = l.fdy + align64((size_t)cv->O * (size_t)HoWo * (size_t)l.chunk * 4);
    l.total = bin > real ? bin : real;
    return l;
}

size_t cpu_bconv_workspace_bytes(const burn_bconv *cv) { return layout(cv).total; }

/* ---- stage 2 ---- */

/* Appends runs of bits to a packed row through a 128-bit accumulator: each push ORs up to 64
 * bits in above the pending ones and flushes whole words, so runs of any length C land at any
 * bit offset with a few integer operations (no read-modify-write of the row). */
typedef struct bit_writer {
    uint64_t *out;
    unsigned __int128 acc;
    int n; /* pending bits in acc, < 64 between pushes */
} bit_writer;

static inline void bw_push(bit_writer *b, uint64_t bits, int len) { /* len ≤ 64, bits clean */
    b->acc |= (unsigned __int128)bits << b->n;
    b->n += len;
    if (b->n >= 64) {
        *b->out++ = (uint64_t)b->acc;
        b->acc >>= 64;
        b->n -= 64;
    }
}

static inline void bw_run(bit_writer *b, const uint64_t *src, int C) { /* C bits of src */
    int full = C / 64, rem = C % 64;
    for (int i = 0; i < full; i++) bw_push(b, src[i], 64);
    if (rem) bw_push(b, src[full] & (((uint64_t)1 << rem) - 1), rem);
}

static inline void bw_flush(bit_writer *b) {
    if (b->n) *b->out++ = (uint64_t)b->acc;
}

/* cols[p, ldk] for all output positions of one image from its channel-packed image; taps in
 * the padding read `ones` (+1, removed again by the epilogue's correction). */
static void im2col_bits(const burn_bconv *cv, const uint64_t *img, uint64_t *cols,
                        const uint64_t *ones) {
    int C = cv->C, cw = (int)burn_bits_words(C);
    for (int oy = 0; oy < cv->Ho; oy++)
        for (int ox = 0; ox < cv->Wo; ox++) {
            bit_writer b = {cols + ((int64_t)oy * cv->Wo + ox) * cv->ldk, 0, 0};
            for (int ky = 0; ky < cv->kh; ky++) {
                int iy = oy * cv->stride - cv->pad + ky;
                for (int kx = 0; kx < cv->kw; kx++) {
                    int ix = ox * cv->stride - cv->pad + kx;
                    bw_run(&b,
                           iy < 0 || iy >= cv->H || ix < 0 || ix >= cv->W
                               ? ones
                               : img + ((int64_t)iy * cv->W + ix) * cw,
                           C);
                }
            }
            bw_flush(&b);
        }
}

/* ---- packed weights ----
 * W_o[C, T] is a C-channel "image" of T = kh·kw pixels: the channel packer gives each tap's
 * C bits, which the bit writer concatenates in tap order; tap_sum = 2·popc(run) − C. */
typedef struct packw_job {
    const burn_bconv *cv;
    void *Wp;
    const float *W;
    int threads;
} packw_job;

static void packw_part(void *p, int t) {
    packw_job *j = p;
    const burn_bconv *cv = j->cv;
    int T = cv->kh * cv->kw, C = cv->C, cw = (int)burn_bits_words(C);
    uint64_t *bits = j->Wp;
    int32_t *tap_sum = (int32_t *)((char *)j->Wp + burn_bconv_bits_bytes(cv));
    uint64_t *taps = burn_xmalloc(sizeof(uint64_t) * (size_t)T * cw);
    const xnor_impl *impl = xnor_impl_current();
    int o0 = (int)((int64_t)cv->O * t / j->threads), o1 = (int)((int64_t)cv->O * (t + 1) / j->threads);
    for (int o = o0; o < o1; o++) {
        impl->chanpack(taps, j->W + (int64_t)o * cv->K, C, T);
        bit_writer b = {bits + (int64_t)o * cv->ldk, 0, 0};
        for (int tap = 0; tap < T; tap++) {
            const uint64_t *run = taps + (int64_t)tap * cw;
            int ones = 0;
            for (int i = 0; i < cw; i++) ones += __builtin_popcountll(run[i]); /* pad bits 0 */
            tap_sum[(int64_t)o * T + tap] = 2 * ones - C;
            bw_run(&b, run, C);
        }
        bw_flush(&b);
    }
    free(taps);
}

void cpu_bconv_pack_weights(const burn_bconv *cv, void *Wp, const float *W) {
    packw_job j = {cv, Wp, W, (double)cv->O * cv->K >= (1 << 20) ? burn_cpu_threads() : 1};
    if (j.threads > cv->O) j.threads = cv->O;
    xnor_parallel(j.threads, packw_part, &j);
}

typedef struct fwd_bin_job {
    const burn_bconv *cv;
    float *y;
    const float *x;
    const uint64_t *bits;
    burn_xnor_epilogue ep;
    char *ws;
    ws_layout l;
    int threads, gemm_threads;
    const uint64_t *ones;
} fwd_bin_job;

static void fwd_bin_images(void *p, int t) {
    fwd_bin_job *j = p;
    const burn_bconv *cv = j->cv;
    int64_t HW = (int64_t)cv->H * cv->W, HoWo = (int64_t)cv->Ho * cv->Wo;
    char *slot = j->ws + j->l.slot0 + (size_t)t * j->l.slot;
    uint64_t *img = (uint64_t *)(slot + j->l.img), *cols = (uint64_t *)(slot + j->l.cols);
    const xnor_impl *impl = xnor_impl_current();
    for (int n = t; n < cv->N; n += j->threads) {
        impl->chanpack(img, j->x + (int64_t)n * cv->C * HW, cv->C, HW);
        const uint64_t *B = img;
        if (!direct_1x1(cv)) {
            im2col_bits(cv, img, cols, j->ones);
            B = cols;
        }
        xnor_args g = {cv->O, (int)HoWo, cv->K, j->bits, cv->ldk, B, cv->ldk,
                       j->y + (int64_t)n * cv->O * HoWo, (int)HoWo, j->ep, 0};
        if (j->gemm_threads > 1) xnor_gemm_run(&g, j->gemm_threads);
        else xnor_gemm_run1(&g, slot + j->l.scratch);
    }
}

void cpu_bconv_forward_bin(const burn_bconv *cv, float *y, const float *x, const void *Wp,
                           const float *alpha, void *ws) {
    ws_layout l = layout(cv);
    char *w = ws;
    uint8_t *cls = (uint8_t *)(w + l.cls);
    int32_t *corr = (int32_t *)(w + l.corr);
    const int32_t *tap_sum = (const int32_t *)((const char *)Wp + burn_bconv_bits_bytes(cv));
    int T = cv->kh * cv->kw;
    /* border classes of the output positions; corr only for the classes that occur */
    uint8_t used[256] = {0};
    int any = 0;
    for (int oy = 0; oy < cv->Ho; oy++)
        for (int ox = 0; ox < cv->Wo; ox++) {
            int c = burn_bconv_class(cv, oy, ox);
            cls[(int64_t)oy * cv->Wo + ox] = (uint8_t)c;
            used[c] = 1;
            any |= c != 0;
        }
    for (int o = 0; o < cv->O; o++)
        for (int c = 0; c < cv->n_class; c++)
            corr[(int64_t)o * cv->n_class + c] =
                used[c] ? burn_bconv_corr(cv, tap_sum + (int64_t)o * T, c) : 0;
    int cw = (int)burn_bits_words(cv->C);
    uint64_t *ones = burn_xmalloc((size_t)cw * 8); /* one pixel of +1 for padding taps */
    for (int i = 0; i < cw; i++) ones[i] = ~(uint64_t)0;
    fwd_bin_job j = {cv, y, x, (const uint64_t *)Wp,
                     {alpha, any ? corr : NULL, cls, cv->n_class}, w, l, l.slots, 1, ones};
    if (l.slots == 1) j.gemm_threads = burn_cpu_threads();
    xnor_parallel(l.slots, fwd_bin_images, &j);
    free(ones);
}

/* ---- stage 1 and backward: float im2col of sign(x), K order (c, ky, kx) ---- */

/* The float paths' im2col geometry (src/cpu/im2col.c). */
static cpu_im2col_geom geom(const burn_bconv *cv) {
    return (cpu_im2col_geom){cv->C, cv->H, cv->W, cv->kh, cv->kw, cv->stride, cv->pad, cv->Ho,
                             cv->Wo};
}

/* a[rows][n·HoWo + p] <-> b[n][rows][p] for the chunk's images */
void cpu_bconv_forward_real(const burn_bconv *cv, float *y, const float *x, const float *W,
                            void *ws) {
    ws_layout l = layout(cv);
    float *cols = (float *)((char *)ws + l.fcols), *yt = (float *)((char *)ws + l.fdy);
    int64_t HW = (int64_t)cv->H * cv->W, HoWo = (int64_t)cv->Ho * cv->Wo;
    cpu_im2col_geom g = geom(cv);
    for (int n0 = 0; n0 < cv->N; n0 += l.chunk) {
        int chunk = cv->N - n0 < l.chunk ? cv->N - n0 : l.chunk;
        int64_t ld = chunk * HoWo;
#pragma omp parallel for if (ld * cv->K >= CPU_PAR_MIN)
        for (int i = 0; i < chunk; i++)
            cpu_im2col(&g, x + (int64_t)(n0 + i) * cv->C * HW, cols + i * HoWo, ld, 1);
        /* yt[O, chunk·HoWo] = W[O, K] · cols[K, chunk·HoWo] */
        cpu_sgemm(0, 0, cv->O, (int)ld, cv->K, 1.0f, W, cv->K, cols, (int)ld, 0.0f, yt, (int)ld);
        cpu_panel_to_rows(y + (int64_t)n0 * cv->O * HoWo, yt, cv->O, chunk, HoWo);
    }
}

void cpu_bconv_backward(const burn_bconv *cv, float *dx, float *dW, const float *dy,
                        const float *x, const float *W_eff, void *ws) {
    ws_layout l = layout(cv);
    float *cols = (float *)((char *)ws + l.fcols), *dcols = (float *)((char *)ws + l.fdcols);
    float *dyt = (float *)((char *)ws + l.fdy);
    int64_t HW = (int64_t)cv->H * cv->W, HoWo = (int64_t)cv->Ho * cv->Wo;
    cpu_im2col_geom g = geom(cv);
    for (int n0 = 0; n0 < cv->N; n0 += l.chunk) {
        int chunk = cv->N - n0 < l.chunk ? cv->N - n0 : l.chunk;
        int64_t ld = chunk * HoWo;
        cpu_rows_to_panel(dyt, dy + (int64_t)n0 * cv->O * HoWo, cv->O, chunk, HoWo);
        if (dW) { /* dW[O, K] += dyt[O, chunk·HoWo] · cols[K, chunk·HoWo]ᵀ */
#pragma omp parallel for if (ld * cv->K >= CPU_PAR_MIN)
            for (int i = 0; i < chunk; i++)
                cpu_im2col(&g, x + (int64_t)(n0 + i) * cv->C * HW, cols + i * HoWo, ld, 1);
            cpu_sgemm(0, 1, cv->O, cv->K, (int)ld, 1.0f, dyt, (int)ld, cols, (int)ld, 1.0f, dW,
                     cv->K);
        }
        if (dx) { /* dcols[K, chunk·HoWo] = W_effᵀ · dyt, then col2im image by image */
            cpu_sgemm(1, 0, cv->K, (int)ld, cv->O, 1.0f, W_eff, cv->K, dyt, (int)ld, 0.0f, dcols,
                     (int)ld);
#pragma omp parallel for if (ld * cv->K >= CPU_PAR_MIN)
            for (int i = 0; i < chunk; i++)
                cpu_col2im(&g, dcols + i * HoWo, ld, dx + (int64_t)(n0 + i) * cv->C * HW);
        }
    }
}
