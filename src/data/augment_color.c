/* augment_color.c — photometric augmentations on float RGB [npix][3] in [0, 1], in place:
 * ColorJitter's four adjustments (torchvision's tensor formulas: blend with black, with the
 * mean luma, with the per-pixel luma; hue rotation in HSV), grayscale and solarise.
 * Luma is ITU-R 601-2 (0.299, 0.587, 0.114), as PIL's convert("L"). */
#include <math.h>

#include "burn/augment.h"

static inline float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

static inline float luma(const float *p) { return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]; }

void burn_adjust_brightness(float *img, int64_t npix, float factor) {
    for (int64_t i = 0; i < 3 * npix; i++) img[i] = clamp01(img[i] * factor);
}

void burn_adjust_contrast(float *img, int64_t npix, float factor) {
    double sum = 0.0;
    for (int64_t i = 0; i < npix; i++) sum += luma(img + 3 * i);
    float mean = (float)(sum / (double)npix), add = (1.0f - factor) * mean;
    for (int64_t i = 0; i < 3 * npix; i++) img[i] = clamp01(factor * img[i] + add);
}

void burn_adjust_saturation(float *img, int64_t npix, float factor) {
    for (int64_t i = 0; i < npix; i++) {
        float *p = img + 3 * i, add = (1.0f - factor) * luma(p);
        p[0] = clamp01(factor * p[0] + add);
        p[1] = clamp01(factor * p[1] + add);
        p[2] = clamp01(factor * p[2] + add);
    }
}

void burn_adjust_hue(float *img, int64_t npix, float shift) {
    for (int64_t i = 0; i < npix; i++) {
        float *p = img + 3 * i, r = p[0], g = p[1], b = p[2];
        float maxc = fmaxf(r, fmaxf(g, b)), minc = fminf(r, fminf(g, b));
        if (maxc == minc) continue; /* gray: hue undefined, unchanged */
        float range = maxc - minc, v = maxc, s = range / maxc;
        float rc = (maxc - r) / range, gc = (maxc - g) / range, bc = (maxc - b) / range;
        float h = r == maxc ? bc - gc : g == maxc ? 2.0f + rc - bc : 4.0f + gc - rc;
        h = h / 6.0f + shift;
        h -= floorf(h);
        /* back to RGB */
        float h6 = h * 6.0f;
        int sector = (int)h6;
        float f = h6 - (float)sector;
        sector %= 6;
        float pp = clamp01(v * (1.0f - s)), q = clamp01(v * (1.0f - s * f)),
              t = clamp01(v * (1.0f - s * (1.0f - f)));
        switch (sector) {
        case 0: p[0] = v, p[1] = t, p[2] = pp; break;
        case 1: p[0] = q, p[1] = v, p[2] = pp; break;
        case 2: p[0] = pp, p[1] = v, p[2] = t; break;
        case 3: p[0] = pp, p[1] = q, p[2] = v; break;
        case 4: p[0] = t, p[1] = pp, p[2] = v; break;
        default: p[0] = v, p[1] = pp, p[2] = q; break;
        }
    }
}

void burn_grayscale(float *img, int64_t npix) {
    for (int64_t i = 0; i < npix; i++) {
        float *p = img + 3 * i, l = luma(p);
        p[0] = p[1] = p[2] = l;
    }
}

void burn_solarize(float *img, int64_t npix, int threshold) {
    /* PIL: v >= threshold -> 255 - v on the 0..255 scale */
    float t = (float)threshold / 255.0f;
    for (int64_t i = 0; i < 3 * npix; i++)
        if (img[i] >= t) img[i] = 1.0f - img[i];
}

void burn_color_jitter_draw(const burn_aug_params *p, burn_aug_key key, float factors[4],
                            int order[4]) {
    const float amount[3] = {p->brightness, p->contrast, p->saturation};
    for (int k = 0; k < 3; k++) {
        float lo = fmaxf(0.0f, 1.0f - amount[k]), hi = 1.0f + amount[k];
        factors[k] = lo + (hi - lo) * burn_aug_u01(key, BURN_AUG_SLOT_JITTER_FACTOR + k);
    }
    factors[3] = p->hue * (2.0f * burn_aug_u01(key, BURN_AUG_SLOT_JITTER_FACTOR + 3) - 1.0f);
    /* random order of the four (torchvision: randperm(4)); Fisher-Yates, 3 draws */
    for (int k = 0; k < 4; k++) order[k] = k;
    for (int k = 3; k > 0; k--) {
        int j = (int)burn_aug_below(key, BURN_AUG_SLOT_JITTER_ORDER + (3 - k), (uint32_t)k + 1);
        int t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
}

void burn_color_jitter(float *img, int64_t npix, const burn_aug_params *p, burn_aug_key key) {
    float f[4];
    int order[4];
    burn_color_jitter_draw(p, key, f, order);
    for (int k = 0; k < 4; k++) {
        switch (order[k]) {
        case 0: if (p->brightness > 0) burn_adjust_brightness(img, npix, f[0]); break;
        case 1: if (p->contrast > 0) burn_adjust_contrast(img, npix, f[1]); break;
        case 2: if (p->saturation > 0) burn_adjust_saturation(img, npix, f[2]); break;
        default: if (p->hue > 0) burn_adjust_hue(img, npix, f[3]); break;
        }
    }
}
