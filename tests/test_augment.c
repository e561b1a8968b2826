/* test_augment.c — each augmentation against a straightforward double-precision reference
 * written here, on fresh random images of odd sizes; RandomResizedCrop's box against a
 * re-implementation of torchvision's sampling fed the same draws; the probability knobs at 0
 * and 1; output shape and normalisation; the draws' independence from everything but the key.
 * (tests/test_augment_ref.c compares with Pillow itself.) */
#include <criterion/criterion.h>

#include "burn/augment.h"
#include "burn/data.h"
#include "test_util.h"

static void random_image(burn_image *img, int w, int h, uint64_t seed) {
    uint64_t s = seed;
    burn_image_resize(img, w, h);
    for (int64_t i = 0; i < (int64_t)w * h * 3; i++) img->rgb[i] = (uint8_t)(tu_next(&s) >> 56);
}

static float *random_float_image(int64_t npix, uint64_t seed) {
    float *f = malloc((size_t)npix * 3 * 4);
    tu_fill(f, npix * 3, seed, 0.0f, 1.0f);
    return f;
}

/* ---- resampling ---- */

static double ref_filter(double x, int bilinear) {
    x = fabs(x);
    if (bilinear) return x < 1 ? 1 - x : 0;
    /* Keys cubic with a = -0.5 written out */
    if (x < 1) return 1.5 * x * x * x - 2.5 * x * x + 1;
    if (x < 2) return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
    return 0;
}

/* weights of source positions [0, in) for output position o (PIL's definition) */
static void ref_weights(int in, int out, int o, int bilinear, double *w) {
    double scale = (double)in / out, fs = scale > 1 ? scale : 1;
    double support = (bilinear ? 1.0 : 2.0) * fs, center = (o + 0.5) * scale, total = 0;
    for (int x = 0; x < in; x++) {
        /* a tap counts when its index is within [center - support, center + support)
         * after PIL's rounding of the bounds */
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        w[x] = (x >= lo && x < hi) ? ref_filter((x - center + 0.5) / fs, bilinear) : 0.0;
        total += w[x];
    }
    for (int x = 0; x < in; x++) w[x] /= total;
}

Test(augment, resample_matches_double_reference) {
    uint64_t s = 11;
    burn_aug_scratch ws = {0};
    burn_image img = {0};
    for (int trial = 0; trial < 24; trial++) {
        int w = tu_int(&s, 3, 41), h = tu_int(&s, 3, 37);
        random_image(&img, w, h, 100 + trial);
        burn_box box = {0, 0, 0, 0};
        box.w = tu_int(&s, 1, w), box.h = tu_int(&s, 1, h);
        box.x = tu_int(&s, 0, w - box.w), box.y = tu_int(&s, 0, h - box.h);
        int out_w = tu_int(&s, 1, 60), out_h = tu_int(&s, 1, 60);
        int ow = tu_int(&s, 1, out_w), oh = tu_int(&s, 1, out_h);
        int ox = tu_int(&s, 0, out_w - ow), oy = tu_int(&s, 0, out_h - oh);
        int bilinear = trial % 3 == 2;
        float *dst = malloc(sizeof(float) * 3 * ow * oh);
        burn_resample(&img, box, out_w, out_h, ox, oy, ow, oh,
                      bilinear ? BURN_INTERP_BILINEAR : BURN_INTERP_BICUBIC, dst, &ws);
        double *wx = malloc(sizeof(double) * box.w), *wy = malloc(sizeof(double) * box.h);
        double *mid = malloc(sizeof(double) * box.h * 3);
        double worst = 0;
        for (int i = 0; i < ow; i++) {
            ref_weights(box.w, out_w, ox + i, bilinear, wx);
            /* the horizontal pass of column i for every source row, clamped like PIL's
             * uint8 intermediate image */
            for (int y = 0; y < box.h; y++)
                for (int c = 0; c < 3; c++) {
                    double a = 0;
                    for (int x = 0; x < box.w; x++)
                        a += wx[x] * img.rgb[((size_t)(box.y + y) * w + box.x + x) * 3 + c];
                    mid[y * 3 + c] = fmin(fmax(a, 0), 255);
                }
            for (int j = 0; j < oh; j++) {
                ref_weights(box.h, out_h, oy + j, bilinear, wy);
                for (int c = 0; c < 3; c++) {
                    double a = 0;
                    for (int y = 0; y < box.h; y++) a += wy[y] * mid[y * 3 + c];
                    a = fmin(fmax(a / 255.0, 0), 1);
                    worst = fmax(worst, fabs(a - dst[((size_t)j * ow + i) * 3 + c]));
                }
            }
        }
        cr_assert_leq(worst, 2e-5, "trial %d: %dx%d box %d,%d %dx%d -> %dx%d window %d,%d "
                      "%dx%d: error %g", trial, w, h, box.x, box.y, box.w, box.h, out_w, out_h,
                      ox, oy, ow, oh, worst);
        free(dst);
        free(wx);
        free(wy);
        free(mid);
    }
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
}

Test(augment, resample_identity_and_constant) {
    burn_image img = {0};
    burn_aug_scratch ws = {0};
    random_image(&img, 19, 7, 5);
    float *dst = malloc(sizeof(float) * 3 * 19 * 7);
    burn_resample(&img, (burn_box){0, 0, 19, 7}, 19, 7, 0, 0, 19, 7, BURN_INTERP_BICUBIC, dst, &ws);
    for (int i = 0; i < 19 * 7 * 3; i++) cr_assert_float_eq(dst[i], img.rgb[i] / 255.0f, 1e-6);
    memset(img.rgb, 77, 19 * 7 * 3);
    burn_resample(&img, (burn_box){2, 1, 13, 5}, 31, 3, 0, 0, 31, 3, BURN_INTERP_BICUBIC, dst, &ws);
    for (int i = 0; i < 31 * 3 * 3; i++) cr_assert_float_eq(dst[i], 77 / 255.0f, 1e-6);
    free(dst);
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
}

/* ---- RandomResizedCrop box ---- */

/* Python's round(): half to even, spelled out */
static int py_round(double v) {
    double f = floor(v + 0.5);
    if (f - v == 0.5 && fmod(f, 2.0) != 0) f -= 1; /* a tie that went to the odd side */
    return (int)f;
}

/* torchvision's get_params, written from its documentation, drawing the same slots */
static burn_box ref_rrc(int w, int h, const burn_aug_params *p, burn_aug_key k) {
    double area = (double)w * h;
    for (int t = 0; t < 10; t++) {
        double target = area * (p->scale_min + (p->scale_max - p->scale_min) *
                                                   (double)burn_aug_u01(k, 4 * t));
        double ar = exp(log(p->ratio_min) + (log(p->ratio_max) - log(p->ratio_min)) *
                                                (double)burn_aug_u01(k, 4 * t + 1));
        int cw = py_round(sqrt(target * ar)), ch = py_round(sqrt(target / ar));
        if (cw > 0 && ch > 0 && cw <= w && ch <= h)
            return (burn_box){(int)burn_aug_below(k, 4 * t + 3, (uint32_t)(w - cw + 1)),
                              (int)burn_aug_below(k, 4 * t + 2, (uint32_t)(h - ch + 1)), cw, ch};
    }
    double r = (double)w / h;
    int cw = w, ch = h;
    if (r < p->ratio_min) ch = py_round(w / (double)p->ratio_min);
    else if (r > p->ratio_max) cw = py_round(h * (double)p->ratio_max);
    return (burn_box){(w - cw) / 2, (h - ch) / 2, cw, ch};
}

Test(augment, rrc_box_matches_torchvision_sampling) {
    burn_aug_params p;
    burn_aug_params_default(&p);
    uint64_t s = 3;
    int n = 3000;
    for (int i = 0; i < n; i++) {
        int w = tu_int(&s, 1, 400), h = tu_int(&s, 1, 400);
        burn_aug_key k = burn_aug_key_make(77, i % 7, i, i % 2);
        burn_box b = burn_rrc_box(w, h, &p, k), r = ref_rrc(w, h, &p, k);
        cr_assert(b.x == r.x && b.y == r.y && b.w == r.w && b.h == r.h,
                  "%dx%d: box %d,%d %dx%d vs reference %d,%d %dx%d", w, h, b.x, b.y, b.w, b.h,
                  r.x, r.y, r.w, r.h);
        cr_assert(b.w >= 1 && b.h >= 1 && b.x >= 0 && b.y >= 0 && b.x + b.w <= w &&
                  b.y + b.h <= h);
    }
    cr_assert_eq(py_round(2.5), 2);
    cr_assert_eq(py_round(3.5), 4);
    cr_assert_eq(py_round(-0.5), 0);
}

Test(augment, rrc_box_statistics_and_fallback) {
    burn_aug_params p;
    burn_aug_params_default(&p);
    /* a large image: the area share's mean against a Monte Carlo of the same rule with an
     * independent generator (not U(0.08, 1)'s 0.54: large wide boxes do not fit and are
     * redrawn), aspect within [3/4, 4/3] */
    double sum = 0, mc = 0;
    int n = 4000;
    uint64_t s = 99;
    for (int i = 0; i < 200000; i++) {
        double frac = 1;
        for (int t = 0; t < 10; t++) {
            double a = 1e6 * tu_uniform(&s, 0.08f, 1.0f);
            double ar = exp(tu_uniform(&s, (float)log(0.75), (float)log(4.0 / 3.0)));
            double cw = nearbyint(sqrt(a * ar)), ch = nearbyint(sqrt(a / ar));
            if (cw <= 1000 && ch <= 1000) {
                frac = cw * ch / 1e6;
                break;
            }
        }
        mc += frac;
    }
    mc /= 200000;
    for (int i = 0; i < n; i++) {
        burn_box b = burn_rrc_box(1000, 1000, &p, burn_aug_key_make(1, 0, i, 0));
        double frac = b.w * (double)b.h / 1e6, ar = (double)b.w / b.h;
        sum += frac;
        cr_assert(frac >= 0.079 && frac <= 1.0, "area share %g", frac);
        cr_assert(ar >= 0.74 && ar <= 1.35, "aspect %g", ar);
    }
    /* std of the share is ~0.26: 4 standard errors of 4000 draws = 0.017 */
    cr_assert_float_eq(sum / n, mc, 0.017, "mean area share %g, Monte Carlo %g", sum / n, mc);
    /* nothing fits: ratio [3, 4] in a square with area >= 90% -> center crop, w/h clamped */
    p.ratio_min = 3;
    p.ratio_max = 4;
    p.scale_min = 0.9f;
    burn_box b = burn_rrc_box(100, 100, &p, burn_aug_key_make(1, 0, 5, 0));
    cr_assert(b.x == 0 && b.y == 33 && b.w == 100 && b.h == 33, "%d,%d %dx%d", b.x, b.y, b.w, b.h);
    /* scale [1, 1] and the image's own aspect: the whole image, for any key */
    burn_aug_params_default(&p);
    p.scale_min = p.scale_max = 1;
    p.ratio_min = p.ratio_max = 4.0f / 3.0f;
    for (int i = 0; i < 50; i++) {
        b = burn_rrc_box(40, 30, &p, burn_aug_key_make(2, 0, i, 0));
        cr_assert(b.x == 0 && b.y == 0 && b.w == 40 && b.h == 30);
    }
}

/* ---- geometry and photometric ops ---- */

Test(augment, hflip) {
    int w = 7, h = 5;
    float *a = random_float_image(w * h, 9), *b = malloc(sizeof(float) * 3 * w * h);
    memcpy(b, a, sizeof(float) * 3 * w * h);
    burn_hflip(b, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                cr_assert_eq(b[(y * w + x) * 3 + c], a[(y * w + (w - 1 - x)) * 3 + c]);
    free(a);
    free(b);
}

static double dlum(const float *p) { return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]; }
static double dclamp(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

Test(augment, brightness_contrast_saturation_gray_solarize) {
    int64_t n = 23 * 17;
    float *src = random_float_image(n, 21), *x = malloc((size_t)n * 12), *ref = malloc((size_t)n * 12);
    float factors[] = {0.63f, 1.37f};
    for (int fi = 0; fi < 2; fi++) {
        float f = factors[fi];
        /* brightness */
        memcpy(x, src, (size_t)n * 12);
        burn_adjust_brightness(x, n, f);
        for (int64_t i = 0; i < 3 * n; i++) ref[i] = (float)dclamp(f * (double)src[i]);
        cr_assert_leq(tu_max_rel_f(x, ref, 3 * n, 1), 1e-6);
        /* contrast */
        double mean = 0;
        for (int64_t i = 0; i < n; i++) mean += dlum(src + 3 * i);
        mean /= n;
        memcpy(x, src, (size_t)n * 12);
        burn_adjust_contrast(x, n, f);
        for (int64_t i = 0; i < 3 * n; i++) ref[i] = (float)dclamp(f * src[i] + (1 - f) * mean);
        cr_assert_leq(tu_max_rel_f(x, ref, 3 * n, 1), 2e-6);
        /* saturation */
        memcpy(x, src, (size_t)n * 12);
        burn_adjust_saturation(x, n, f);
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                ref[3 * i + c] = (float)dclamp(f * src[3 * i + c] + (1 - f) * dlum(src + 3 * i));
        cr_assert_leq(tu_max_rel_f(x, ref, 3 * n, 1), 2e-6);
    }
    memcpy(x, src, (size_t)n * 12);
    burn_grayscale(x, n);
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) ref[3 * i + c] = (float)dlum(src + 3 * i);
    cr_assert_leq(tu_max_rel_f(x, ref, 3 * n, 1), 1e-6);
    int thresholds[] = {0, 77, 128, 256};
    for (int t = 0; t < 4; t++) {
        memcpy(x, src, (size_t)n * 12);
        burn_solarize(x, n, thresholds[t]);
        for (int64_t i = 0; i < 3 * n; i++)
            ref[i] = 255.0 * src[i] >= thresholds[t] ? 1.0f - src[i] : src[i];
        cr_assert_leq(tu_max_rel_f(x, ref, 3 * n, 1), 1e-6, "threshold %d", thresholds[t]);
    }
    free(src);
    free(x);
    free(ref);
}

/* HSV rotation by the textbook definitions in double */
static void ref_hue(const float *in, float *out, double shift) {
    double r = in[0], g = in[1], b = in[2];
    double mx = fmax(r, fmax(g, b)), mn = fmin(r, fmin(g, b)), d = mx - mn;
    if (d == 0) {
        out[0] = in[0], out[1] = in[1], out[2] = in[2];
        return;
    }
    double hdeg;
    if (mx == r) hdeg = 60 * fmod((g - b) / d + 6, 6);
    else if (mx == g) hdeg = 60 * ((b - r) / d + 2);
    else hdeg = 60 * ((r - g) / d + 4);
    hdeg = fmod(hdeg + 360 * shift + 720, 360);
    double s = d / mx, v = mx, c = v * s, x = c * (1 - fabs(fmod(hdeg / 60, 2) - 1)), m = v - c;
    double rgb[3];
    if (hdeg < 60) rgb[0] = c, rgb[1] = x, rgb[2] = 0;
    else if (hdeg < 120) rgb[0] = x, rgb[1] = c, rgb[2] = 0;
    else if (hdeg < 180) rgb[0] = 0, rgb[1] = c, rgb[2] = x;
    else if (hdeg < 240) rgb[0] = 0, rgb[1] = x, rgb[2] = c;
    else if (hdeg < 300) rgb[0] = x, rgb[1] = 0, rgb[2] = c;
    else rgb[0] = c, rgb[1] = 0, rgb[2] = x;
    for (int k = 0; k < 3; k++) out[k] = (float)(rgb[k] + m);
}

Test(augment, hue_matches_hsv_reference) {
    int64_t n = 31 * 9;
    float *src = random_float_image(n, 33), *x = malloc((size_t)n * 12), *ref = malloc((size_t)n * 12);
    /* include gray pixels and pure colours */
    src[0] = src[1] = src[2] = 0.4f;
    src[3] = 1, src[4] = 0, src[5] = 0;
    float shifts[] = {-0.5f, -0.1f, 0.037f, 0.25f, 0.49f};
    for (int t = 0; t < 5; t++) {
        memcpy(x, src, (size_t)n * 12);
        burn_adjust_hue(x, n, shifts[t]);
        for (int64_t i = 0; i < n; i++) ref_hue(src + 3 * i, ref + 3 * i, shifts[t]);
        double worst = 0;
        for (int64_t i = 0; i < 3 * n; i++) worst = fmax(worst, fabs(x[i] - ref[i]));
        cr_assert_leq(worst, 3e-6, "shift %g: %g", shifts[t], worst);
    }
    free(src);
    free(x);
    free(ref);
}

static int reflect_ref(int i, int n) {
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

Test(augment, gaussian_blur_matches_direct_convolution) {
    int sizes[][3] = {{13, 11, 5}, {8, 21, 7}, {30, 30, 3}, {5, 6, 9}};
    for (int t = 0; t < 4; t++) {
        int w = sizes[t][0], h = sizes[t][1], k = sizes[t][2];
        float sigma = 0.3f + 0.6f * t;
        int64_t n = (int64_t)w * h;
        float *src = random_float_image(n, 40 + t), *x = malloc((size_t)n * 12),
              *tmp = malloc((size_t)n * 12);
        memcpy(x, src, (size_t)n * 12);
        burn_gaussian_blur(x, w, h, sigma, k, tmp);
        double kern[16], total = 0;
        for (int i = 0; i < k; i++) total += kern[i] = exp(-pow(i - k / 2, 2) / (2.0 * sigma * sigma));
        double worst = 0;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                for (int c = 0; c < 3; c++) {
                    double a = 0;
                    for (int dy = 0; dy < k; dy++)
                        for (int dx = 0; dx < k; dx++)
                            a += kern[dy] * kern[dx] / (total * total) *
                                 src[((size_t)reflect_ref(y + dy - k / 2, h) * w +
                                      reflect_ref(xx + dx - k / 2, w)) * 3 + c];
                    worst = fmax(worst, fabs(a - x[((size_t)y * w + xx) * 3 + c]));
                }
        cr_assert_leq(worst, 2e-6, "%dx%d k %d: %g", w, h, k, worst);
        free(src);
        free(x);
        free(tmp);
    }
    cr_assert_eq(burn_blur_kernel_size(224, 0.1f), 23); /* BYOL's 23 at 224 */
    cr_assert_eq(burn_blur_kernel_size(32, 0.1f), 3);
    cr_assert_eq(burn_blur_kernel_size(64, 0.1f), 7);
    cr_assert_eq(burn_blur_kernel_size(96, 0.1f), 9);
}

Test(augment, normalize_chw) {
    int w = 5, h = 3;
    float *img = random_float_image(w * h, 50), out[3 * 15];
    float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    burn_normalize_chw(img, w, h, mean, std, out);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < w * h; i++) {
            double ref = ((double)img[3 * i + c] - mean[c]) / std[c];
            cr_assert_float_eq(out[c * w * h + i], ref, 1e-5 * (1 + fabs(ref)));
        }
    free(img);
}

Test(augment, color_jitter_draws_and_composition) {
    burn_aug_params p;
    burn_aug_params_default(&p);
    int64_t n = 9 * 7;
    float *src = random_float_image(n, 60), *x = malloc((size_t)n * 12), *ref = malloc((size_t)n * 12);
    int seen_first[4] = {0};
    for (int i = 0; i < 400; i++) {
        burn_aug_key k = burn_aug_key_make(9, 1, i, 0);
        float f[4];
        int order[4], used[4] = {0};
        burn_color_jitter_draw(&p, k, f, order);
        for (int j = 0; j < 3; j++) cr_assert(f[j] >= 0.6f && f[j] <= 1.4f);
        cr_assert(f[3] >= -0.1f && f[3] <= 0.1f);
        for (int j = 0; j < 4; j++) used[order[j]]++;
        for (int j = 0; j < 4; j++) cr_assert_eq(used[j], 1, "order is not a permutation");
        seen_first[order[0]]++;
        if (i < 20) { /* the jitter equals the four ops applied in the drawn order */
            memcpy(x, src, (size_t)n * 12);
            burn_color_jitter(x, n, &p, k);
            memcpy(ref, src, (size_t)n * 12);
            for (int j = 0; j < 4; j++) {
                if (order[j] == 0) burn_adjust_brightness(ref, n, f[0]);
                if (order[j] == 1) burn_adjust_contrast(ref, n, f[1]);
                if (order[j] == 2) burn_adjust_saturation(ref, n, f[2]);
                if (order[j] == 3) burn_adjust_hue(ref, n, f[3]);
            }
            for (int64_t e = 0; e < 3 * n; e++) cr_assert_eq(x[e], ref[e]);
        }
    }
    for (int j = 0; j < 4; j++) cr_assert(seen_first[j] > 60, "op %d first %d/400", j, seen_first[j]);
    free(src);
    free(x);
    free(ref);
}

/* ---- whole views and the probability knobs ---- */

static burn_aug_params identity_params(void) {
    burn_aug_params p;
    burn_aug_params_default(&p);
    p.scale_min = p.scale_max = 1;
    p.ratio_min = p.ratio_max = 4.0f / 3.0f; /* the test image's aspect: the crop is the image */
    p.flip_p = p.jitter_p = p.gray_p = p.blur_p = p.solarize_p = 0;
    for (int c = 0; c < 3; c++) p.mean[c] = 0, p.std[c] = 1;
    return p;
}

Test(augment, train_view_knobs_at_zero_and_one) {
    int S = 12;
    burn_image img = {0};
    random_image(&img, 16, 12, 70); /* 4:3, inside the ratio range: full-image crop */
    burn_aug_scratch ws = {0};
    float *base = malloc(sizeof(float) * 3 * S * S), *out = malloc(sizeof(float) * 3 * S * S),
          *hwc = malloc(sizeof(float) * 3 * S * S);
    burn_resample(&img, (burn_box){0, 0, 16, 12}, S, S, 0, 0, S, S, BURN_INTERP_BICUBIC, hwc, &ws);
    float m0[3] = {0, 0, 0}, s1[3] = {1, 1, 1};
    burn_normalize_chw(hwc, S, S, m0, s1, base);
    for (int i = 0; i < 50; i++) {
        burn_aug_key k = burn_aug_key_make(4, 2, i, 1);
        burn_aug_params p = identity_params();
        /* all probabilities 0: plain resize, whatever the key */
        burn_aug_train_view(&img, S, &p, k, &ws, out);
        for (int e = 0; e < 3 * S * S; e++) cr_assert_eq(out[e], base[e]);
        /* flip at 1: always mirrored */
        p.flip_p = 1;
        burn_aug_train_view(&img, S, &p, k, &ws, out);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                    cr_assert_eq(out[(c * S + y) * S + x], base[(c * S + y) * S + S - 1 - x]);
        /* gray at 1: three equal channels */
        p = identity_params();
        p.gray_p = 1;
        burn_aug_train_view(&img, S, &p, k, &ws, out);
        for (int e = 0; e < S * S; e++) {
            cr_assert_eq(out[e], out[S * S + e]);
            cr_assert_eq(out[e], out[2 * S * S + e]);
        }
        /* solarize at 1 with threshold 0: every value inverted */
        p = identity_params();
        p.solarize_p = 1;
        p.solarize_threshold = 0;
        burn_aug_train_view(&img, S, &p, k, &ws, out);
        for (int e = 0; e < 3 * S * S; e++) cr_assert_float_eq(out[e], 1.0f - base[e], 1e-6);
        /* jitter at 1: exactly burn_color_jitter with this key */
        p = identity_params();
        p.jitter_p = 1;
        burn_aug_train_view(&img, S, &p, k, &ws, out);
        float *ref_hwc = malloc(sizeof(float) * 3 * S * S), *ref = malloc(sizeof(float) * 3 * S * S);
        burn_resample(&img, (burn_box){0, 0, 16, 12}, S, S, 0, 0, S, S, BURN_INTERP_BICUBIC,
                      ref_hwc, &ws);
        burn_color_jitter(ref_hwc, S * S, &p, k);
        burn_normalize_chw(ref_hwc, S, S, m0, s1, ref);
        for (int e = 0; e < 3 * S * S; e++) cr_assert_eq(out[e], ref[e]);
        /* blur at 1: a blur with the drawn sigma and the 10% kernel (3 at 12 px) */
        p = identity_params();
        p.blur_p = 1;
        burn_aug_train_view(&img, S, &p, k, &ws, out);
        burn_resample(&img, (burn_box){0, 0, 16, 12}, S, S, 0, 0, S, S, BURN_INTERP_BICUBIC,
                      ref_hwc, &ws);
        float sigma = 0.1f + 1.9f * burn_aug_u01(k, BURN_AUG_SLOT_BLUR_SIGMA);
        float *tmp = malloc(sizeof(float) * 3 * S * S);
        burn_gaussian_blur(ref_hwc, S, S, sigma, 3, tmp);
        burn_normalize_chw(ref_hwc, S, S, m0, s1, ref);
        for (int e = 0; e < 3 * S * S; e++) cr_assert_eq(out[e], ref[e]);
        free(tmp);
        free(ref_hwc);
        free(ref);
    }
    free(base);
    free(out);
    free(hwc);
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
}

Test(augment, probabilities_are_honoured) {
    burn_aug_params p;
    burn_aug_params_default(&p);
    int n = 4000, flips = 0, grays = 0, jit = 0, blur = 0;
    for (int i = 0; i < n; i++) {
        burn_aug_key k = burn_aug_key_make(123, 0, i, i & 1);
        flips += burn_aug_u01(k, BURN_AUG_SLOT_FLIP) < p.flip_p;
        jit += burn_aug_u01(k, BURN_AUG_SLOT_JITTER_APPLY) < p.jitter_p;
        grays += burn_aug_u01(k, BURN_AUG_SLOT_GRAY) < p.gray_p;
        blur += burn_aug_u01(k, BURN_AUG_SLOT_BLUR_APPLY) < p.blur_p;
    }
    /* binomial: 4 standard deviations */
    cr_assert_float_eq(flips / (double)n, 0.5, 4 * sqrt(0.25 / n));
    cr_assert_float_eq(jit / (double)n, 0.6, 4 * sqrt(0.24 / n));
    cr_assert_float_eq(grays / (double)n, 0.2, 4 * sqrt(0.16 / n));
    cr_assert_float_eq(blur / (double)n, 0.2, 4 * sqrt(0.16 / n));
}

Test(augment, keys_separate_views_epochs_images) {
    burn_aug_key a = burn_aug_key_make(1, 0, 5, 0);
    burn_aug_key b = burn_aug_key_make(1, 0, 5, 0);
    cr_assert_eq(burn_aug_u01(a, 3), burn_aug_u01(b, 3));
    burn_aug_key others[] = {burn_aug_key_make(1, 0, 5, 1), burn_aug_key_make(1, 1, 5, 0),
                             burn_aug_key_make(1, 0, 6, 0), burn_aug_key_make(2, 0, 5, 0)};
    for (int i = 0; i < 4; i++) {
        int same = 0;
        for (int s = 0; s < BURN_AUG_SLOTS; s++) same += burn_aug_u01(a, s) == burn_aug_u01(others[i], s);
        cr_assert_lt(same, 3, "key %d shares %d draws", i, same);
    }
    for (int s = 0; s < 1000; s++) {
        float u = burn_aug_u01(burn_aug_key_make(7, s, s, 0), s % BURN_AUG_SLOTS);
        cr_assert(u >= 0 && u < 1);
        cr_assert_lt(burn_aug_below(burn_aug_key_make(7, 0, s, 0), 1, 7), 7u);
    }
}

Test(augment, output_range_and_eval_view) {
    burn_aug_params p;
    burn_aug_params_default(&p);
    burn_image img = {0};
    burn_aug_scratch ws = {0};
    random_image(&img, 37, 23, 90);
    int S = 16;
    float *out = malloc(sizeof(float) * 3 * S * S);
    for (int i = 0; i < 40; i++) {
        burn_aug_train_view(&img, S, &p, burn_aug_key_make(5, 0, i, 0), &ws, out);
        for (int c = 0; c < 3; c++)
            for (int e = 0; e < S * S; e++) {
                float v = out[c * S * S + e];
                cr_assert(v >= -p.mean[c] / p.std[c] - 1e-5f &&
                          v <= (1 - p.mean[c]) / p.std[c] + 1e-5f);
            }
    }
    /* eval on a constant image: every value (77/255 - mean) / std */
    memset(img.rgb, 77, (size_t)37 * 23 * 3);
    burn_aug_eval_view(&img, S, &p, &ws, out);
    for (int c = 0; c < 3; c++)
        for (int e = 0; e < S * S; e++)
            cr_assert_float_eq(out[c * S * S + e], (77 / 255.0f - p.mean[c]) / p.std[c], 1e-5);
    /* eval geometry: torchvision's Resize(256) + CenterCrop(224) on a 500x375 image */
    int rw, rh, ox, oy;
    burn_eval_geometry(500, 375, 224, 0.875f, &rw, &rh, &ox, &oy);
    cr_assert(rw == 341 && rh == 256 && ox == 58 && oy == 16, "%d %d %d %d", rw, rh, ox, oy);
    burn_eval_geometry(375, 500, 224, 0.875f, &rw, &rh, &ox, &oy);
    cr_assert(rw == 256 && rh == 341 && ox == 16 && oy == 58, "%d %d %d %d", rw, rh, ox, oy);
    free(out);
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
}

Test(augment, params_check) {
    burn_aug_params p;
    burn_aug_params_default(&p);
    cr_assert_eq(burn_aug_params_check(&p), 0);
    p.scale_min = 0.9f;
    p.scale_max = 0.5f;
    cr_assert_eq(burn_aug_params_check(&p), -1);
    cr_assert(strstr(burn_error(), "crop_scale"), "%s", burn_error());
    burn_aug_params_default(&p);
    p.blur_sigma_min = 3;
    cr_assert_eq(burn_aug_params_check(&p), -1);
    cr_assert(strstr(burn_error(), "blur_sigma"), "%s", burn_error());
}
