/* augment.h — the BURN / BYOL / MoCo v2 image augmentations (METHOD.md §7) and the evaluation
 * transform, as small functions over RGB images.
 *
 * Images: the decoded source is uint8 RGB (burn_image, data.h); everything after the crop
 * works on float RGB, interleaved [h][w][3], values in [0, 1] (no rounding to uint8 between
 * steps, unlike PIL; docs/DATA.md lists every difference from PIL / torchvision). The last
 * step normalises and transposes to the network's [3][h][w].
 *
 * Training view (METHOD.md §7, each parameter a config key in [augment]):
 *   RandomResizedCrop(size, scale, ratio, bicubic) -> horizontal flip (p) -> ColorJitter
 *   (brightness, contrast, saturation, hue in random order, with p) -> grayscale (p) ->
 *   Gaussian blur (sigma range, p) -> solarise (threshold, p) -> normalise (mean, std)
 * Evaluation view: resize the shorter side to round(size / eval_crop_ratio) -> center crop
 * size -> normalise.
 *
 * Randomness: every draw comes from Philox (rng.h) keyed by (seed, epoch, image index, view)
 * and a fixed slot per decision, so a view depends on nothing else: not the thread that makes
 * it, not the order, not the other augmentations' parameters. */
#ifndef BURN_AUGMENT_H
#define BURN_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct burn_image;
struct burn_config;

typedef enum burn_interp { BURN_INTERP_BICUBIC = 0, BURN_INTERP_BILINEAR = 1 } burn_interp;

typedef struct burn_aug_params {
    /* RandomResizedCrop: area share and aspect ratio (w/h) of the crop */
    float scale_min, scale_max, ratio_min, ratio_max;
    burn_interp interp;
    float flip_p;
    /* ColorJitter: factors drawn from [max(0, 1-b), 1+b] (b, c, s) and [-hue, hue] */
    float jitter_p, brightness, contrast, saturation, hue;
    float gray_p;
    /* Gaussian blur: sigma ~ U(min, max), kernel side = odd(kernel_frac * image side) */
    float blur_p, blur_sigma_min, blur_sigma_max, blur_kernel_frac;
    float solarize_p;
    int solarize_threshold; /* on the 0..255 scale: v >= threshold -> 255 - v */
    float mean[3], std[3];
    float eval_crop_ratio;  /* evaluation: crop / resized shorter side (224/256) */
} burn_aug_params;

/* METHOD.md §7's values. */
void burn_aug_params_default(burn_aug_params *p);
/* From the [augment] section of a config. */
void burn_aug_params_from_config(burn_aug_params *p, const struct burn_config *cfg);
/* Cross-key checks (min <= max, std > 0, ...). 0, or -1 with burn_error() naming the keys. */
int burn_aug_params_check(const burn_aug_params *p);

/* ---- randomness ---- */

/* Decision slots of one view; each draw is Philox(stream, image * BURN_AUG_SLOTS + slot). */
enum {
    BURN_AUG_SLOT_CROP = 0,          /* 4 per try (area, log-ratio, top, left), 10 tries */
    BURN_AUG_SLOT_FLIP = 40,
    BURN_AUG_SLOT_JITTER_APPLY = 41,
    BURN_AUG_SLOT_JITTER_FACTOR = 42, /* 4: brightness, contrast, saturation, hue */
    BURN_AUG_SLOT_JITTER_ORDER = 46,  /* 3 Fisher-Yates draws */
    BURN_AUG_SLOT_GRAY = 50,
    BURN_AUG_SLOT_BLUR_APPLY = 51,
    BURN_AUG_SLOT_BLUR_SIGMA = 52,
    BURN_AUG_SLOT_SOLARIZE = 53,
    BURN_AUG_SLOTS = 64
};

typedef struct burn_aug_key {
    uint64_t stream; /* derived from (seed, epoch, view) */
    uint64_t image;  /* dataset index */
} burn_aug_key;

burn_aug_key burn_aug_key_make(uint64_t seed, int64_t epoch, int64_t image, int view);
/* Uniform in [0, 1) (24 bits) and a uniform integer in [0, n) for one slot. */
float burn_aug_u01(burn_aug_key k, int slot);
uint32_t burn_aug_below(burn_aug_key k, int slot, uint32_t n);

/* ---- scratch memory of one thread (grown on demand, reused) ---- */
typedef struct burn_aug_scratch {
    float *img, *tmp, *coef;
    int *bounds;
    size_t img_cap, tmp_cap, coef_cap, bounds_cap; /* elements */
} burn_aug_scratch;
void burn_aug_scratch_free(burn_aug_scratch *ws);

/* ---- the pieces ---- */

typedef struct burn_box {
    int x, y, w, h; /* left, top, width, height in source pixels */
} burn_box;

/* torchvision's RandomResizedCrop.get_params: up to 10 tries of area ~ U(scale) · w·h and
 * log aspect ~ U(log ratio), sides rounded half-to-even, accepted when they fit; then a
 * uniform position. Otherwise the center crop of the largest box whose aspect is clamped to
 * the ratio range. */
burn_box burn_rrc_box(int w, int h, const burn_aug_params *p, burn_aug_key key);

/* Resample box of the uint8 RGB src as if to a whole out_w × out_h image (PIL's separable
 * filter: taps within the box, support widened by the scale when shrinking = antialiasing;
 * bicubic a = -0.5 or bilinear), computing only the window [ox, ox+ow) × [oy, oy+oh).
 * dst: [oh][ow][3] float, clamped to [0, 1]. */
void burn_resample(const struct burn_image *src, burn_box box, int out_w, int out_h, int ox,
                   int oy, int ow, int oh, burn_interp interp, float *dst,
                   burn_aug_scratch *ws);

/* In place on img [h][w][3] or [npix][3], values in [0, 1]. */
void burn_hflip(float *img, int w, int h);
void burn_adjust_brightness(float *img, int64_t npix, float factor); /* clamp(f·x) */
/* clamp(f·x + (1-f)·m), m = mean luma of the image */
void burn_adjust_contrast(float *img, int64_t npix, float factor);
void burn_adjust_saturation(float *img, int64_t npix, float factor); /* toward luma */
void burn_adjust_hue(float *img, int64_t npix, float shift); /* HSV hue + shift (turns) */
/* ITU-R 601-2 luma L = 0.299 R + 0.587 G + 0.114 B, written to all three channels */
void burn_grayscale(float *img, int64_t npix);
/* The 4 ColorJitter factors and their order for a key (what burn_color_jitter applies):
 * factors = {brightness, contrast, saturation, hue shift}, order = permutation of 0..3. */
void burn_color_jitter_draw(const burn_aug_params *p, burn_aug_key key, float factors[4],
                            int order[4]);
void burn_color_jitter(float *img, int64_t npix, const burn_aug_params *p, burn_aug_key key);
/* Kernel side for an image side: floor(frac·side), plus 1 when even, at least 3 (BYOL's 23
 * at 224 with frac 0.1; 7 at 64, 3 at 32). */
int burn_blur_kernel_size(int side, float frac);
/* Separable Gaussian, kernel exp(-x²/2σ²) over x = -(k-1)/2 .. (k-1)/2, normalised, reflect
 * padding (torchvision's gaussian_blur). tmp: w·h·3 floats. */
void burn_gaussian_blur(float *img, int w, int h, float sigma, int ksize, float *tmp);
void burn_solarize(float *img, int64_t npix, int threshold);
/* out[3][h][w] = (img[h][w][c] - mean[c]) / std[c] */
void burn_normalize_chw(const float *img, int w, int h, const float mean[3],
                        const float std[3], float *out);

/* ---- whole views: out[3][size][size], normalised ---- */
void burn_aug_train_view(const struct burn_image *src, int size, const burn_aug_params *p,
                         burn_aug_key key, burn_aug_scratch *ws, float *out);
void burn_aug_eval_view(const struct burn_image *src, int size, const burn_aug_params *p,
                        burn_aug_scratch *ws, float *out);
/* The evaluation geometry: resized size (rw, rh) and the crop's top-left (ox, oy). */
void burn_eval_geometry(int w, int h, int size, float crop_ratio, int *rw, int *rh, int *ox,
                        int *oy);

#ifdef __cplusplus
}
#endif

#endif
