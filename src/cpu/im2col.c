/* im2col.c — one image's columns for a convolution GEMM and back, shared by the FP conv
 * (conv2d.c) and the binary conv's float paths (bconv.c: the columns of sign(x)).
 *
 *   cols[k·ld + p] = x[c][iy][ix]   k = (c·kh + ky)·kw + kx, p = oy·Wo + ox,
 *                                   iy = oy·stride − pad + ky, ix = ox·stride − pad + kx,
 *                                   0 where (iy, ix) is padding
 *   col2im: dx[c][iy][ix] = Σ of the cols entries that read it
 *
 * A network's rows are short (2 to 112 floats), so bounds tests per tap and row cost more
 * than the copies: a gather table maps every (tap, output position) to its input position,
 * or to a zero slot kept after each channel's plane. The table and the planes are per thread
 * and reused (no allocation in steady state). col2im adds in the order of the direct loops
 * (taps in (ky, kx) order, then output positions), so its sums are those of the plain loops
 * bit for bit. */
#include <string.h>

#include "burn/check.h"
#include "cpu_ops.h"

typedef struct im2col_scratch {
    float *planes;  /* [C][HW + 1]: the image (or its signs, or the dx sums); slot HW is 0 */
    int32_t *taps;  /* [kh·kw][Ho·Wo]: input position of each tap, HW for padding */
    size_t planes_cap, taps_cap;
    cpu_im2col_geom of; /* the geometry taps is for: the images of one layer reuse it */
} im2col_scratch;
static _Thread_local im2col_scratch tls;

static im2col_scratch *scratch_for(const cpu_im2col_geom *g, size_t planes) {
    im2col_scratch *s = &tls;
    int64_t HW = (int64_t)g->H * g->W, HoWo = (int64_t)g->Ho * g->Wo;
    size_t taps = (size_t)g->kh * g->kw * (size_t)HoWo;
    if (planes > s->planes_cap) {
        s->planes = burn_xrealloc(s->planes, planes * sizeof(float));
        s->planes_cap = planes;
    }
    if (taps > s->taps_cap) {
        s->taps = burn_xrealloc(s->taps, taps * sizeof(int32_t));
        s->taps_cap = taps;
        memset(&s->of, 0, sizeof s->of);
    }
    if (memcmp(&s->of, g, sizeof *g) == 0) return s;
    s->of = *g;
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++) {
            int32_t *t = s->taps + (int64_t)(ky * g->kw + kx) * HoWo;
            for (int oy = 0; oy < g->Ho; oy++) {
                int iy = oy * g->stride - g->pad + ky;
                for (int ox = 0; ox < g->Wo; ox++) {
                    int ix = ox * g->stride - g->pad + kx;
                    int in = iy >= 0 && iy < g->H && ix >= 0 && ix < g->W;
                    t[oy * g->Wo + ox] = in ? (int32_t)(iy * g->W + ix) : (int32_t)HW;
                }
            }
        }
    return s;
}

void cpu_im2col(const cpu_im2col_geom *g, const float *x, float *cols, int64_t ld, int sign) {
    int64_t HW = (int64_t)g->H * g->W, HoWo = (int64_t)g->Ho * g->Wo;
    im2col_scratch *s = scratch_for(g, (size_t)g->C * (size_t)(HW + 1));
    int T = g->kh * g->kw;
    for (int c = 0; c < g->C; c++) {
        float *plane = s->planes + (int64_t)c * (HW + 1);
        const float *xc = x + (int64_t)c * HW;
        if (sign) { /* as burn_sign: >= 0 is +1, NaN −1 */
#pragma omp simd
            for (int64_t i = 0; i < HW; i++) plane[i] = xc[i] >= 0.0f ? 1.0f : -1.0f;
        } else {
            memcpy(plane, xc, sizeof(float) * (size_t)HW);
        }
        plane[HW] = 0.0f;
        for (int t = 0; t < T; t++) {
            float *d = cols + ((int64_t)c * T + t) * ld;
            const int32_t *tap = s->taps + (int64_t)t * HoWo;
            for (int64_t p = 0; p < HoWo; p++) d[p] = plane[tap[p]];
        }
    }
}

void cpu_col2im(const cpu_im2col_geom *g, const float *cols, int64_t ld, float *dx) {
    int64_t HW = (int64_t)g->H * g->W, HoWo = (int64_t)g->Ho * g->Wo;
    im2col_scratch *s = scratch_for(g, (size_t)(HW + 1));
    int T = g->kh * g->kw;
    for (int c = 0; c < g->C; c++) {
        float *sum = s->planes; /* one channel at a time */
        memset(sum, 0, sizeof(float) * (size_t)(HW + 1));
        for (int t = 0; t < T; t++) {
            const float *src = cols + ((int64_t)c * T + t) * ld;
            const int32_t *tap = s->taps + (int64_t)t * HoWo;
            for (int64_t p = 0; p < HoWo; p++) sum[tap[p]] += src[p];
        }
        memcpy(dx + (int64_t)c * HW, sum, sizeof(float) * (size_t)HW);
    }
}
