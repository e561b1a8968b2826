/* augment.c — augmentation parameters (METHOD.md §7 defaults, config), the per-view random key,
 * RandomResizedCrop's box, flip, Gaussian blur, normalisation, and the whole training and
 * evaluation views. Photometric ops: augment_color.c; resampling: augment_resample.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/augment.h"
#include "burn/check.h"
#include "burn/config.h"
#include "burn/data.h"
#include "burn/rng.h"
#include "data_internal.h"

void burn_aug_params_default(burn_aug_params *p) {
    *p = (burn_aug_params){
        .scale_min = 0.08f, .scale_max = 1.0f, .ratio_min = 3.0f / 4.0f, .ratio_max = 4.0f / 3.0f,
        .interp = BURN_INTERP_BICUBIC, .flip_p = 0.5f,
        .jitter_p = 0.6f, .brightness = 0.4f, .contrast = 0.4f, .saturation = 0.4f, .hue = 0.1f,
        .gray_p = 0.2f,
        .blur_p = 0.2f, .blur_sigma_min = 0.1f, .blur_sigma_max = 2.0f, .blur_kernel_frac = 0.1f,
        .solarize_p = 0.0f, .solarize_threshold = 128,
        .mean = {0.485f, 0.456f, 0.406f}, .std = {0.229f, 0.224f, 0.225f},
        .eval_crop_ratio = 0.875f,
    };
}

void burn_aug_params_from_config(burn_aug_params *p, const burn_config *c) {
    *p = (burn_aug_params){
        .scale_min = (float)c->augment_crop_scale_min, .scale_max = (float)c->augment_crop_scale_max,
        .ratio_min = (float)c->augment_crop_ratio_min, .ratio_max = (float)c->augment_crop_ratio_max,
        .interp = strcmp(c->augment_interpolation, "bilinear") == 0 ? BURN_INTERP_BILINEAR
                                                                    : BURN_INTERP_BICUBIC,
        .flip_p = (float)c->augment_flip_p,
        .jitter_p = (float)c->augment_jitter_p, .brightness = (float)c->augment_jitter_brightness,
        .contrast = (float)c->augment_jitter_contrast,
        .saturation = (float)c->augment_jitter_saturation, .hue = (float)c->augment_jitter_hue,
        .gray_p = (float)c->augment_gray_p,
        .blur_p = (float)c->augment_blur_p, .blur_sigma_min = (float)c->augment_blur_sigma_min,
        .blur_sigma_max = (float)c->augment_blur_sigma_max,
        .blur_kernel_frac = (float)c->augment_blur_kernel_frac,
        .solarize_p = (float)c->augment_solarize_p,
        .solarize_threshold = (int)c->augment_solarize_threshold,
        .mean = {(float)c->augment_mean_r, (float)c->augment_mean_g, (float)c->augment_mean_b},
        .std = {(float)c->augment_std_r, (float)c->augment_std_g, (float)c->augment_std_b},
        .eval_crop_ratio = (float)c->augment_eval_crop_ratio,
    };
}

int burn_aug_params_check(const burn_aug_params *p) {
    if (!(p->scale_min > 0 && p->scale_min <= p->scale_max && p->scale_max <= 1)) {
        burn_error_set("augment.crop_scale_min = %g, crop_scale_max = %g: need 0 < min <= max <= 1",
                       p->scale_min, p->scale_max);
        return -1;
    }
    if (!(p->ratio_min > 0 && p->ratio_min <= p->ratio_max)) {
        burn_error_set("augment.crop_ratio_min = %g, crop_ratio_max = %g: need 0 < min <= max",
                       p->ratio_min, p->ratio_max);
        return -1;
    }
    if (!(p->blur_sigma_min > 0 && p->blur_sigma_min <= p->blur_sigma_max)) {
        burn_error_set("augment.blur_sigma_min = %g, blur_sigma_max = %g: need 0 < min <= max",
                       p->blur_sigma_min, p->blur_sigma_max);
        return -1;
    }
    for (int c = 0; c < 3; c++)
        if (!(p->std[c] > 0)) {
            burn_error_set("augment.std_%c = %g: must be > 0", "rgb"[c], p->std[c]);
            return -1;
        }
    if (!(p->eval_crop_ratio > 0 && p->eval_crop_ratio <= 1)) {
        burn_error_set("augment.eval_crop_ratio = %g: must be in (0, 1]", p->eval_crop_ratio);
        return -1;
    }
    return 0;
}

/* ---- randomness ---- */

burn_aug_key burn_aug_key_make(uint64_t seed, int64_t epoch, int64_t image, int view) {
    /* one Philox block turns (seed, epoch, view) into the stream key; the tag keeps the
     * stream apart from other uses of the same seed (weights, sampler) */
    burn_philox4 r = burn_philox4x32_10((uint32_t)epoch, (uint32_t)((uint64_t)epoch >> 32),
                                        (uint32_t)view, 0x41554721u /* "AUG!" */,
                                        (uint32_t)seed, (uint32_t)(seed >> 32));
    burn_aug_key k = {(uint64_t)r.v[0] | (uint64_t)r.v[1] << 32, (uint64_t)image};
    return k;
}

float burn_aug_u01(burn_aug_key k, int slot) {
    return burn_rng_uniform(k.stream, k.image * BURN_AUG_SLOTS + (uint64_t)slot, 0.0f, 1.0f);
}

uint32_t burn_aug_below(burn_aug_key k, int slot, uint32_t n) {
    /* multiply-shift of a 32-bit word: bias < n / 2^32, irrelevant at image sizes */
    burn_philox4 r = burn_rng_block(k.stream, k.image * BURN_AUG_SLOTS + (uint64_t)slot);
    return (uint32_t)(((uint64_t)r.v[1] * n) >> 32);
}

void burn_aug_scratch_free(burn_aug_scratch *ws) {
    free(ws->img);
    free(ws->tmp);
    free(ws->coef);
    free(ws->bounds);
    memset(ws, 0, sizeof *ws);
}

/* ---- geometry ---- */

burn_box burn_rrc_box(int w, int h, const burn_aug_params *p, burn_aug_key key) {
    double area = (double)w * h;
    double lr0 = log((double)p->ratio_min), lr1 = log((double)p->ratio_max);
    for (int t = 0; t < 10; t++) {
        int s = BURN_AUG_SLOT_CROP + 4 * t;
        double target = area * (p->scale_min + (p->scale_max - p->scale_min) *
                                                   (double)burn_aug_u01(key, s));
        double aspect = exp(lr0 + (lr1 - lr0) * (double)burn_aug_u01(key, s + 1));
        /* Python's round(): half to even, which nearbyint does in the default mode */
        int cw = (int)nearbyint(sqrt(target * aspect));
        int ch = (int)nearbyint(sqrt(target / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            int top = (int)burn_aug_below(key, s + 2, (uint32_t)(h - ch + 1));
            int left = (int)burn_aug_below(key, s + 3, (uint32_t)(w - cw + 1));
            return (burn_box){left, top, cw, ch};
        }
    }
    /* fallback: center crop with the aspect clamped into the ratio range */
    double in_ratio = (double)w / h;
    int cw = w, ch = h;
    if (in_ratio < p->ratio_min) {
        ch = (int)nearbyint(w / (double)p->ratio_min);
    } else if (in_ratio > p->ratio_max) {
        cw = (int)nearbyint(h * (double)p->ratio_max);
    }
    if (cw < 1) cw = 1;
    if (ch < 1) ch = 1;
    if (cw > w) cw = w;
    if (ch > h) ch = h;
    return (burn_box){(w - cw) / 2, (h - ch) / 2, cw, ch};
}

void burn_eval_geometry(int w, int h, int size, float crop_ratio, int *rw, int *rh, int *ox,
                        int *oy) {
    /* torchvision Resize(int): shorter side -> R, longer side int(R · long / short) */
    int r = (int)nearbyint((double)size / crop_ratio);
    if (r < size) r = size;
    if (w <= h) {
        *rw = r;
        *rh = (int)((double)r * h / w);
    } else {
        *rh = r;
        *rw = (int)((double)r * w / h);
    }
    if (*rw < size) *rw = size;
    if (*rh < size) *rh = size;
    /* CenterCrop: int(round((H - size) / 2)) */
    *ox = (int)nearbyint((*rw - size) / 2.0);
    *oy = (int)nearbyint((*rh - size) / 2.0);
}

void burn_hflip(float *img, int w, int h) {
    for (int y = 0; y < h; y++) {
        float *row = img + (size_t)y * w * 3;
        for (int a = 0, b = w - 1; a < b; a++, b--)
            for (int c = 0; c < 3; c++) {
                float t = row[3 * a + c];
                row[3 * a + c] = row[3 * b + c];
                row[3 * b + c] = t;
            }
    }
}

int burn_blur_kernel_size(int side, float frac) {
    int k = (int)((double)frac * side);
    if (k % 2 == 0) k++;
    return k < 3 ? 3 : k;
}

/* numpy/torch "reflect": -1 -> 1, n -> n-2 (edge not repeated), folded as often as needed */
static inline int reflect(int i, int n) {
    if (n == 1) return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

void burn_gaussian_blur(float *img, int w, int h, float sigma, int ksize, float *tmp) {
    int r = ksize / 2;
    float kern[ksize];
    double total = 0.0, kd[ksize];
    for (int i = 0; i < ksize; i++) {
        double x = (double)(i - r) / sigma;
        kd[i] = exp(-0.5 * x * x);
        total += kd[i];
    }
    for (int i = 0; i < ksize; i++) kern[i] = (float)(kd[i] / total);
    /* horizontal: img -> tmp, one reflect-padded copy of each row, then row-wise
     * accumulation over the taps (contiguous: vectorises) */
    int m = w * 3;
    float *pad = burn_xmalloc(sizeof(float) * 3 * (size_t)(w + 2 * r));
    for (int y = 0; y < h; y++) {
        const float *row = img + (size_t)y * m;
        for (int x = -r; x < w + r; x++) {
            const float *p = row + (size_t)reflect(x, w) * 3;
            float *q = pad + (size_t)(x + r) * 3;
            q[0] = p[0], q[1] = p[1], q[2] = p[2];
        }
        float *out = tmp + (size_t)y * m;
        for (int e = 0; e < m; e++) out[e] = 0.0f;
        for (int t = 0; t < ksize; t++) row_axpy(out, pad + 3 * t, kern[t], m);
    }
    free(pad);
    /* vertical: tmp -> img, row-wise accumulation */
    for (int y = 0; y < h; y++) {
        float *out = img + (size_t)y * m;
        for (int e = 0; e < m; e++) out[e] = 0.0f;
        for (int t = 0; t < ksize; t++) row_axpy(out, tmp + (size_t)reflect(y - r + t, h) * m, kern[t], m);
    }
}

void burn_normalize_chw(const float *img, int w, int h, const float mean[3],
                        const float std[3], float *out) {
    size_t plane = (size_t)w * h;
    for (int c = 0; c < 3; c++) {
        float m = mean[c], inv = 1.0f / std[c];
        float *o = out + c * plane;
        for (size_t i = 0; i < plane; i++) o[i] = (img[3 * i + c] - m) * inv;
    }
}

/* ---- whole views ---- */

static float *grow_img(burn_aug_scratch *ws, size_t n) {
    if (n > ws->img_cap) {
        free(ws->img);
        ws->img = burn_xmalloc(n * sizeof(float));
        ws->img_cap = n;
    }
    return ws->img;
}

void burn_aug_train_view(const burn_image *src, int size, const burn_aug_params *p,
                         burn_aug_key key, burn_aug_scratch *ws, float *out) {
    int64_t npix = (int64_t)size * size;
    float *img = grow_img(ws, (size_t)npix * 3);
    burn_box box = burn_rrc_box(src->w, src->h, p, key);
    burn_resample(src, box, size, size, 0, 0, size, size, p->interp, img, ws);
    if (burn_aug_u01(key, BURN_AUG_SLOT_FLIP) < p->flip_p) burn_hflip(img, size, size);
    if (burn_aug_u01(key, BURN_AUG_SLOT_JITTER_APPLY) < p->jitter_p)
        burn_color_jitter(img, npix, p, key);
    if (burn_aug_u01(key, BURN_AUG_SLOT_GRAY) < p->gray_p) burn_grayscale(img, npix);
    if (burn_aug_u01(key, BURN_AUG_SLOT_BLUR_APPLY) < p->blur_p) {
        float sigma = p->blur_sigma_min + (p->blur_sigma_max - p->blur_sigma_min) *
                                              burn_aug_u01(key, BURN_AUG_SLOT_BLUR_SIGMA);
        /* the resample's tmp is free again: reuse it for the blur */
        if (ws->tmp_cap < (size_t)npix * 3) {
            free(ws->tmp);
            ws->tmp = burn_xmalloc((size_t)npix * 3 * sizeof(float));
            ws->tmp_cap = (size_t)npix * 3;
        }
        burn_gaussian_blur(img, size, size, sigma, burn_blur_kernel_size(size, p->blur_kernel_frac),
                           ws->tmp);
    }
    if (burn_aug_u01(key, BURN_AUG_SLOT_SOLARIZE) < p->solarize_p)
        burn_solarize(img, npix, p->solarize_threshold);
    burn_normalize_chw(img, size, size, p->mean, p->std, out);
}

void burn_aug_eval_view(const burn_image *src, int size, const burn_aug_params *p,
                        burn_aug_scratch *ws, float *out) {
    int rw, rh, ox, oy;
    burn_eval_geometry(src->w, src->h, size, p->eval_crop_ratio, &rw, &rh, &ox, &oy);
    float *img = grow_img(ws, (size_t)size * size * 3);
    burn_box whole = {0, 0, src->w, src->h};
    burn_resample(src, whole, rw, rh, ox, oy, size, size, p->interp, img, ws);
    burn_normalize_chw(img, size, size, p->mean, p->std, out);
}
