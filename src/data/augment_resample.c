/* augment_resample.c — separable resampling of a box of a uint8 RGB image to float RGB, the
 * way PIL's Image.resize does it (libImaging/Resample.c, reimplemented here): for output
 * pixel xx the source centre is (xx + 0.5)·scale, scale = in/out; when shrinking, the filter
 * is stretched by the scale (support × scale), which antialiases; taps outside the box are
 * dropped and the weights renormalised. Bicubic uses a = -0.5 (as PIL; not PyTorch's -0.75).
 * The horizontal pass runs first, then the vertical one, like PIL, and the intermediate is
 * clamped to [0, 255] as PIL's uint8 intermediate image is (bicubic overshoots) — but it stays
 * float: no rounding in between or at the end (results are clamped to [0, 1]).
 *
 * Only a window of the virtual output is computed, so "resize the shorter side, then center
 * crop" costs what the crop costs. */
#include <math.h>
#include <stdlib.h>

#include "burn/augment.h"
#include "burn/check.h"
#include "burn/data.h"
#include "data_internal.h"

static double filter_bicubic(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

static double filter_triangle(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Taps of output positions [o0, o0+on) of an axis resampled from in_size to out_size:
 * bounds[2i] = first source index, bounds[2i+1] = number of taps, coef[i*ksize + t].
 * Returns ksize. */
static int axis_coeffs(int in_size, int out_size, int o0, int on, burn_interp interp,
                       int *bounds, float *coef) {
    double (*filter)(double) = interp == BURN_INTERP_BILINEAR ? filter_triangle : filter_bicubic;
    double fsupport = interp == BURN_INTERP_BILINEAR ? 1.0 : 2.0;
    double scale = (double)in_size / out_size;
    double filterscale = scale > 1.0 ? scale : 1.0;
    double support = fsupport * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double inv = 1.0 / filterscale;
    for (int i = 0; i < on; i++) {
        double center = (o0 + i + 0.5) * scale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        int n = xmax - xmin;
        if (n > ksize) n = ksize;
        double w[n > 0 ? n : 1], total = 0.0;
        for (int t = 0; t < n; t++) {
            w[t] = filter((t + xmin - center + 0.5) * inv);
            total += w[t];
        }
        for (int t = 0; t < ksize; t++)
            coef[(size_t)i * ksize + t] = t < n ? (float)(total != 0.0 ? w[t] / total : 0.0) : 0.0f;
        bounds[2 * i] = xmin;
        bounds[2 * i + 1] = n;
    }
    return ksize;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return p;
    free(p);
    *cap = need;
    return burn_xmalloc(need * elem);
}

void burn_resample(const burn_image *src, burn_box box, int out_w, int out_h, int ox, int oy,
                   int ow, int oh, burn_interp interp, float *dst, burn_aug_scratch *ws) {
    /* coefficient tables: x then y; ksize is bounded by 2·ceil(2·scale)+1 */
    double sx = (double)box.w / out_w, sy = (double)box.h / out_h;
    size_t kx_max = (size_t)ceil(2.0 * (sx > 1 ? sx : 1)) * 2 + 1;
    size_t ky_max = (size_t)ceil(2.0 * (sy > 1 ? sy : 1)) * 2 + 1;
    ws->coef = grow(ws->coef, &ws->coef_cap, (size_t)ow * kx_max + (size_t)oh * ky_max,
                    sizeof(float));
    ws->bounds = grow(ws->bounds, &ws->bounds_cap, 2 * (size_t)(ow + oh), sizeof(int));
    float *cx = ws->coef, *cy = ws->coef + (size_t)ow * kx_max;
    int *bx = ws->bounds, *by = ws->bounds + 2 * ow;
    int kx = axis_coeffs(box.w, out_w, ox, ow, interp, bx, cx);
    int ky = axis_coeffs(box.h, out_h, oy, oh, interp, by, cy);

    /* source rows the vertical pass reads: [y0, y1) within the box */
    int y0 = by[0], y1 = by[2 * (oh - 1)] + by[2 * (oh - 1) + 1];
    for (int i = 0; i < oh; i++) {
        if (by[2 * i] < y0) y0 = by[2 * i];
        if (by[2 * i] + by[2 * i + 1] > y1) y1 = by[2 * i] + by[2 * i + 1];
    }
    int rows = y1 - y0;
    ws->tmp = grow(ws->tmp, &ws->tmp_cap, (size_t)rows * ow * 3, sizeof(float));
    float *tmp = ws->tmp; /* [rows][ow][3], on the 0..255 scale */

    /* horizontal: tmp[r][i] = Σ_t cx[i][t] · src[box.y + y0 + r][box.x + bx[i] + t] */
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = src->rgb + ((size_t)(box.y + y0 + r) * src->w + box.x) * 3;
        float *out = tmp + (size_t)r * ow * 3;
        for (int i = 0; i < ow; i++) {
            const uint8_t *p = row + (size_t)bx[2 * i] * 3;
            const float *k = cx + (size_t)i * kx;
            float a0 = 0, a1 = 0, a2 = 0;
            for (int t = 0, n = bx[2 * i + 1]; t < n; t++) {
                a0 += k[t] * p[3 * t];
                a1 += k[t] * p[3 * t + 1];
                a2 += k[t] * p[3 * t + 2];
            }
            /* PIL stores the intermediate as an image: clamp (but do not round) */
            out[3 * i] = a0 < 0.0f ? 0.0f : a0 > 255.0f ? 255.0f : a0;
            out[3 * i + 1] = a1 < 0.0f ? 0.0f : a1 > 255.0f ? 255.0f : a1;
            out[3 * i + 2] = a2 < 0.0f ? 0.0f : a2 > 255.0f ? 255.0f : a2;
        }
    }
    /* vertical: dst[j][i] = Σ_t cy[j][t] · tmp[by[j] + t - y0][i], scaled to [0, 1] */
    const float inv255 = 1.0f / 255.0f;
    for (int j = 0; j < oh; j++) {
        const float *k = cy + (size_t)j * ky;
        const float *base = tmp + (size_t)(by[2 * j] - y0) * ow * 3;
        float *out = dst + (size_t)j * ow * 3;
        int n = by[2 * j + 1], m = ow * 3;
        /* row-wise accumulation: contiguous, vectorises */
        for (int e = 0; e < m; e++) out[e] = 0.0f;
        for (int t = 0; t < n; t++) row_axpy(out, base + (size_t)t * m, k[t], m);
        for (int e = 0; e < m; e++) {
            float a = out[e] * inv255;
            out[e] = a < 0.0f ? 0.0f : a > 1.0f ? 1.0f : a;
        }
    }
}
