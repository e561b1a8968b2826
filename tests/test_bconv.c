/* test_bconv.c — binary conv2d of the CPU backend (bconv.h) against naive double references:
 *   - geometry validation errors;
 *   - stage 2 (packed xnor path) bit-exact against a double conv of the zero-padded sign(x)
 *     with α_o·sign(W), for 3×3 s1/s2 pad 1, 1×1 s1, odd H/W, channel counts off and on the
 *     64-bit word boundary, borders included, for each CPU kernel path;
 *   - stage 1 (sign(x), real W) against the double conv;
 *   - backward: dx and dW against naive double sums (dW accumulates), the adjoint identity
 *     <conv(s, W), g> = <s, dx(g)>, and central finite differences of the map W ↦ <y(W), g>.
 * Workspaces are filled with garbage first: no op may rely on their contents. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/bconv.h"
#include "burn/log.h"
#include "test_util.h"

static const burn_backend *be;
static void setup(void) {
    be = burn_cpu_backend();
    burn_log_quiet = 1;
}
TestSuite(bconv, .init = setup);

#define USE_PATH(name)                                                                     \
    do {                                                                                   \
        if (burn_xnor_cpu_select(name) != 0) cr_skip_test("skipped: %s", burn_error());   \
    } while (0)

static double sgn(float v) { return v >= 0.0f ? 1.0 : -1.0; }

/* y[n,o,oy,ox] = Σ_{c,ky,kx inside} sign(x[n,c,iy,ix])·w[o,c,ky,kx] (zero padding). */
static void ref_conv(const burn_bconv *cv, const float *x, const double *w, double *y) {
    for (int n = 0; n < cv->N; n++)
        for (int o = 0; o < cv->O; o++)
            for (int oy = 0; oy < cv->Ho; oy++)
                for (int ox = 0; ox < cv->Wo; ox++) {
                    double acc = 0;
                    for (int c = 0; c < cv->C; c++)
                        for (int ky = 0; ky < cv->kh; ky++)
                            for (int kx = 0; kx < cv->kw; kx++) {
                                int iy = oy * cv->stride - cv->pad + ky;
                                int ix = ox * cv->stride - cv->pad + kx;
                                if (iy < 0 || iy >= cv->H || ix < 0 || ix >= cv->W) continue;
                                acc += sgn(x[(((int64_t)n * cv->C + c) * cv->H + iy) * cv->W + ix]) *
                                       w[(((int64_t)o * cv->C + c) * cv->kh + ky) * cv->kw + kx];
                            }
                    y[(((int64_t)n * cv->O + o) * cv->Ho + oy) * cv->Wo + ox] = acc;
                }
}

static void *garbage_ws(const burn_bconv *cv) {
    size_t b = be->bconv_workspace_bytes(cv);
    void *ws = be->alloc(b);
    memset(ws, 0x7B, b);
    return ws;
}

typedef struct geo {
    int N, C, H, W, O, k, s, p;
} geo;

static const geo geos[] = {
    {2, 32, 7, 5, 5, 3, 1, 1},  {1, 64, 9, 9, 3, 3, 1, 1},   {2, 65, 6, 7, 4, 3, 1, 1},
    {1, 3, 5, 5, 7, 3, 2, 1},   {3, 100, 8, 8, 2, 3, 2, 1},  {1, 128, 7, 7, 9, 3, 2, 1},
    {2, 17, 1, 1, 3, 3, 1, 1},  {1, 130, 4, 3, 6, 1, 1, 0},  {3, 64, 5, 6, 8, 1, 1, 0},
    {2, 33, 9, 7, 5, 1, 1, 0},  {1, 256, 3, 3, 16, 3, 1, 1}, {1, 20, 6, 6, 4, 2, 1, 1},
    {1, 9, 10, 7, 3, 4, 2, 2},  {2, 40, 6, 5, 3, 3, 1, 0},   {1, 12, 5, 7, 3, 1, 2, 0},
    {5, 96, 14, 14, 33, 3, 1, 1},
};
#define NGEO ((int)(sizeof geos / sizeof geos[0]))

static int init_geo(burn_bconv *cv, const geo *g) {
    return burn_bconv_init(cv, g->N, g->C, g->H, g->W, g->O, g->k, g->s, g->p);
}

static void check_forward_bin(void) {
    for (int gi = 0; gi < NGEO; gi++) {
        burn_bconv cv;
        cr_assert_eq(init_geo(&cv, &geos[gi]), 0, "%s", burn_error());
        int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W, nw = (int64_t)cv.O * cv.K;
        int64_t ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
        float *x = malloc(4 * nx), *W = malloc(4 * nw), *alpha = malloc(4 * (size_t)cv.O);
        float *y = malloc(4 * ny);
        double *ws_ref = malloc(8 * nw), *yref = malloc(8 * ny);
        tu_fill(x, nx, 10 + gi, -1, 1);
        tu_fill(W, nw, 20 + gi, -1, 1);
        tu_fill(alpha, cv.O, 30 + gi, 0.01f, 1.5f);
        for (int64_t i = 0; i < nw; i++) ws_ref[i] = sgn(W[i]);
        ref_conv(&cv, x, ws_ref, yref);
        void *Wp = be->alloc(burn_bconv_packed_bytes(&cv)), *ws = garbage_ws(&cv);
        be->bconv_pack_weights(&cv, Wp, W);
        be->bconv_forward_bin(&cv, y, x, Wp, alpha, ws);
        int64_t HoWo = (int64_t)cv.Ho * cv.Wo;
        for (int64_t i = 0; i < ny; i++) {
            int o = (int)((i / HoWo) % cv.O);
            float want = (float)((double)alpha[o] * yref[i]); /* integer·α: one rounding */
            cr_assert_eq(y[i], want, "%s geo %d (C%d %dx%d k%d s%d p%d) y[%ld] = %.9g, want %.9g",
                         burn_xnor_cpu_selected(), gi, cv.C, cv.H, cv.W, cv.kh, cv.stride,
                         cv.pad, (long)i, y[i], want);
        }
        be->free(Wp), be->free(ws);
        free(x), free(W), free(alpha), free(y), free(ws_ref), free(yref);
    }
}

Test(bconv, forward_bin_portable) { USE_PATH("portable"); check_forward_bin(); }
Test(bconv, forward_bin_avx2) { USE_PATH("avx2"); check_forward_bin(); }
Test(bconv, forward_bin_avx512) { USE_PATH("avx512"); check_forward_bin(); }

/* Packed weights: bits in tap-major order and the per-tap sums. */
Test(bconv, packed_weights_layout) {
    burn_bconv cv;
    cr_assert_eq(burn_bconv_init(&cv, 1, 70, 5, 5, 3, 3, 1, 1), 0);
    int64_t nw = (int64_t)cv.O * cv.K;
    float *W = malloc(4 * nw);
    tu_fill(W, nw, 5, -1, 1);
    W[7] = 0.0f; /* sign(0) = +1 */
    uint64_t *Wp = malloc(burn_bconv_packed_bytes(&cv));
    be->bconv_pack_weights(&cv, Wp, W);
    const int32_t *tap_sum = (const int32_t *)((char *)Wp + burn_bconv_bits_bytes(&cv));
    for (int o = 0; o < cv.O; o++)
        for (int t = 0; t < 9; t++) {
            int sum = 0;
            for (int c = 0; c < cv.C; c++) {
                float v = W[((int64_t)o * cv.C + c) * 9 + t];
                int k = t * cv.C + c;
                int bit = (int)((Wp[(int64_t)o * cv.ldk + k / 64] >> (k % 64)) & 1);
                cr_assert_eq(bit, v >= 0.0f, "o %d tap %d c %d", o, t, c);
                sum += v >= 0.0f ? 1 : -1;
            }
            cr_assert_eq(tap_sum[o * 9 + t], sum);
        }
    for (int o = 0; o < cv.O; o++) /* pad bits of the last word are 0 */
        cr_assert_eq(Wp[(int64_t)o * cv.ldk + cv.ldk - 1] & ~burn_bits_tail_mask(cv.K), 0ull);
    free(W), free(Wp);
}

/* Stage 1 and the backward batch their GEMMs over chunks of images: the whole batch (all
 * these shapes fit one chunk), one image per chunk, and two (an uneven last chunk). */
static void check_forward_real(void) {
    for (int gi = 0; gi < NGEO; gi++) {
        burn_bconv cv;
        cr_assert_eq(init_geo(&cv, &geos[gi]), 0);
        int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W, nw = (int64_t)cv.O * cv.K;
        int64_t ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
        float *x = malloc(4 * nx), *W = malloc(4 * nw), *y = malloc(4 * ny);
        double *wd = malloc(8 * nw), *yref = malloc(8 * ny);
        tu_fill(x, nx, 40 + gi, -1, 1);
        tu_fill(W, nw, 50 + gi, -1, 1);
        for (int64_t i = 0; i < nw; i++) wd[i] = W[i];
        ref_conv(&cv, x, wd, yref);
        void *ws = garbage_ws(&cv);
        be->bconv_forward_real(&cv, y, x, W, ws);
        double err = tu_max_rel(y, yref, ny, 1.0);
        cr_assert_leq(err, 2e-6 * sqrt((double)cv.K), "geo %d (chunks of %d): err %g", gi,
                      burn_cpu_bconv_max_chunk, err);
        be->free(ws);
        free(x), free(W), free(y), free(wd), free(yref);
    }
}

Test(bconv, forward_real) {
    for (int chunk = 0; chunk <= 2; chunk++) {
        burn_cpu_bconv_max_chunk = chunk;
        check_forward_real();
    }
    burn_cpu_bconv_max_chunk = 0;
}

/* dx = ∂<y, g>/∂s and dW += ∂<y, g>/∂W for y = conv(s = sign(x), W), naive double sums. */
static void ref_backward(const burn_bconv *cv, const float *x, const float *W, const float *g,
                         double *dx, double *dW) {
    memset(dx, 0, 8 * (size_t)cv->N * cv->C * cv->H * cv->W);
    memset(dW, 0, 8 * (size_t)cv->O * cv->K);
    for (int n = 0; n < cv->N; n++)
        for (int o = 0; o < cv->O; o++)
            for (int oy = 0; oy < cv->Ho; oy++)
                for (int ox = 0; ox < cv->Wo; ox++) {
                    double gv = g[(((int64_t)n * cv->O + o) * cv->Ho + oy) * cv->Wo + ox];
                    for (int c = 0; c < cv->C; c++)
                        for (int ky = 0; ky < cv->kh; ky++)
                            for (int kx = 0; kx < cv->kw; kx++) {
                                int iy = oy * cv->stride - cv->pad + ky;
                                int ix = ox * cv->stride - cv->pad + kx;
                                if (iy < 0 || iy >= cv->H || ix < 0 || ix >= cv->W) continue;
                                int64_t xi = (((int64_t)n * cv->C + c) * cv->H + iy) * cv->W + ix;
                                int64_t wi = (((int64_t)o * cv->C + c) * cv->kh + ky) * cv->kw + kx;
                                dx[xi] += W[wi] * gv;
                                dW[wi] += sgn(x[xi]) * gv;
                            }
                }
}

static void check_backward(void) {
    for (int gi = 0; gi < NGEO; gi++) {
        burn_bconv cv;
        cr_assert_eq(init_geo(&cv, &geos[gi]), 0);
        int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W, nw = (int64_t)cv.O * cv.K;
        int64_t ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
        float *x = malloc(4 * nx), *W = malloc(4 * nw), *g = malloc(4 * ny);
        float *dx = malloc(4 * nx), *dW = malloc(4 * nw), *dW0 = malloc(4 * nw);
        double *dxr = malloc(8 * nx), *dWr = malloc(8 * nw);
        tu_fill(x, nx, 60 + gi, -1, 1);
        tu_fill(W, nw, 70 + gi, -1, 1);
        tu_fill(g, ny, 80 + gi, -1, 1);
        tu_fill(dW0, nw, 90 + gi, -1, 1);
        memcpy(dW, dW0, 4 * nw);
        memset(dx, 0x7F, 4 * nx); /* WRITTEN, not accumulated */
        ref_backward(&cv, x, W, g, dxr, dWr);
        for (int64_t i = 0; i < nw; i++) dWr[i] += dW0[i]; /* ACCUMULATED */
        void *ws = garbage_ws(&cv);
        be->bconv_backward(&cv, dx, dW, g, x, W, ws);
        double ex = tu_max_rel(dx, dxr, nx, 1.0), ew = tu_max_rel(dW, dWr, nw, 1.0);
        double tol = 2e-6 * sqrt((double)(cv.O * cv.kh * cv.kw + cv.N * cv.Ho * cv.Wo));
        cr_assert_leq(ex, tol, "geo %d (chunks of %d) dx err %g", gi, burn_cpu_bconv_max_chunk,
                      ex);
        cr_assert_leq(ew, tol, "geo %d (chunks of %d) dW err %g", gi, burn_cpu_bconv_max_chunk,
                      ew);
        /* each output alone (NULL skips the other) */
        float *dx2 = malloc(4 * nx), *dW2 = malloc(4 * nw);
        memcpy(dW2, dW0, 4 * nw);
        be->bconv_backward(&cv, dx2, NULL, g, x, W, ws);
        be->bconv_backward(&cv, NULL, dW2, g, x, W, ws);
        cr_assert(memcmp(dx2, dx, 4 * nx) == 0 && memcmp(dW2, dW, 4 * nw) == 0, "NULL outputs");
        be->free(ws);
        free(x), free(W), free(g), free(dx), free(dW), free(dW0), free(dxr), free(dWr);
        free(dx2), free(dW2);
    }
}

Test(bconv, backward) {
    for (int chunk = 0; chunk <= 2; chunk++) {
        burn_cpu_bconv_max_chunk = chunk;
        check_backward();
    }
    burn_cpu_bconv_max_chunk = 0;
}

/* Linear-map checks in double: the adjoint identity for dx, and central differences of
 * L(W) = <conv(sign(x), W), g> along a random direction V for dW. */
Test(bconv, backward_linear_map) {
    for (int gi = 0; gi < NGEO; gi += 2) {
        burn_bconv cv;
        cr_assert_eq(init_geo(&cv, &geos[gi]), 0);
        int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W, nw = (int64_t)cv.O * cv.K;
        int64_t ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
        float *x = malloc(4 * nx), *W = malloc(4 * nw), *g = malloc(4 * ny), *V = malloc(4 * nw);
        float *y = malloc(4 * ny), *dx = malloc(4 * nx), *dW = calloc((size_t)nw, 4);
        float *Wp = malloc(4 * nw);
        tu_fill(x, nx, 110 + gi, -1, 1);
        tu_fill(W, nw, 120 + gi, -1, 1);
        tu_fill(g, ny, 130 + gi, -1, 1);
        tu_fill(V, nw, 140 + gi, -1, 1);
        void *ws = garbage_ws(&cv);
        be->bconv_forward_real(&cv, y, x, W, ws);
        be->bconv_backward(&cv, dx, dW, g, x, W, ws);
        double lhs = 0, rhs = 0, scale = 0;
        for (int64_t i = 0; i < ny; i++) lhs += (double)y[i] * g[i], scale += fabs((double)y[i] * g[i]);
        for (int64_t i = 0; i < nx; i++) rhs += sgn(x[i]) * dx[i];
        cr_assert_leq(fabs(lhs - rhs), 1e-5 * scale + 1e-6, "geo %d adjoint: %g vs %g", gi, lhs, rhs);
        const double eps = 1e-2;
        double Lp = 0, Lm = 0, dir = 0, dscale = 0;
        for (int64_t i = 0; i < nw; i++) Wp[i] = W[i] + (float)eps * V[i];
        be->bconv_forward_real(&cv, y, x, Wp, ws);
        for (int64_t i = 0; i < ny; i++) Lp += (double)y[i] * g[i];
        for (int64_t i = 0; i < nw; i++) Wp[i] = W[i] - (float)eps * V[i];
        be->bconv_forward_real(&cv, y, x, Wp, ws);
        for (int64_t i = 0; i < ny; i++) Lm += (double)y[i] * g[i];
        for (int64_t i = 0; i < nw; i++) dir += (double)V[i] * dW[i], dscale += fabs((double)V[i] * dW[i]);
        double fd = (Lp - Lm) / (2 * eps);
        cr_assert_leq(fabs(fd - dir), 1e-3 * dscale + 1e-4, "geo %d FD %g vs %g", gi, fd, dir);
        be->free(ws);
        free(x), free(W), free(g), free(V), free(y), free(dx), free(dW), free(Wp);
    }
}

Test(bconv, init_rejects_bad_geometry) {
    burn_bconv cv;
    cr_assert_eq(burn_bconv_init(&cv, 1, 8, 5, 5, 4, 5, 1, 1), -1);
    cr_assert(strstr(burn_error(), "kernel 5") != NULL, "%s", burn_error());
    cr_assert_eq(burn_bconv_init(&cv, 1, 8, 5, 5, 4, 3, 0, 1), -1);
    cr_assert(strstr(burn_error(), "stride 0") != NULL, "%s", burn_error());
    cr_assert_eq(burn_bconv_init(&cv, 1, 8, 5, 5, 4, 3, 1, 3), -1);
    cr_assert_eq(burn_bconv_init(&cv, 0, 8, 5, 5, 4, 3, 1, 1), -1);
    cr_assert_eq(burn_bconv_init(&cv, 1, 8, 1, 1, 4, 3, 1, 0), -1);
    cr_assert(strstr(burn_error(), "smaller than kernel") != NULL, "%s", burn_error());
    cr_assert_eq(burn_bconv_init(&cv, 1, 1 << 22, 5, 5, 4, 3, 1, 1), -1);
    cr_assert(strstr(burn_error(), "exceeds") != NULL, "%s", burn_error());
    cr_assert_eq(burn_bconv_init(&cv, 2, 64, 56, 56, 64, 3, 2, 1), 0);
    cr_assert(cv.Ho == 28 && cv.Wo == 28 && cv.K == 576 && cv.ldk == 9 && cv.n_class == 64);
}
