/* test_augment_ref.c — the augmentations against Pillow / torchvision, through the fixture
 * tests/fixtures/augment_ref.safetensors written by tools/reference/augment_ref.py (a random
 * 17x13 image and what PIL / numpy make of it). PIL works in uint8 and rounds after each
 * step (and between the two resampling passes); burn stays in float, so the uint8 cases
 * allow the rounding that PIL adds: the bounds are stated per case, on the 0..255 scale. */
#include <criterion/criterion.h>

#include "burn/augment.h"
#include "burn/data.h"
#include "burn/safetensors.h"
#include "test_util.h"

#define FIXTURE "tests/fixtures/augment_ref.safetensors"

static burn_st_file fx;
static burn_image src;

static void setup(void) {
    cr_assert_eq(burn_st_open(&fx, FIXTURE), 0, "%s", burn_error());
    const burn_st_tensor *t = burn_st_find(&fx, "src");
    cr_assert(t && t->dtype == BURN_U8 && t->ndim == 3 && t->shape[2] == 3);
    burn_image_resize(&src, (int)t->shape[1], (int)t->shape[0]);
    memcpy(src.rgb, t->data, (size_t)(t->end - t->begin));
}

static void teardown(void) {
    burn_image_free(&src);
    burn_st_close(&fx);
}

static const burn_st_tensor *get(const char *name) {
    const burn_st_tensor *t = burn_st_find(&fx, name);
    cr_assert(t, "fixture has no tensor '%s'", name);
    return t;
}

static void args(const char *c, float *a, int n) {
    char name[96];
    snprintf(name, sizeof name, "%s.arg", c);
    const burn_st_tensor *t = get(name);
    cr_assert_eq(t->shape[0], n);
    memcpy(a, t->data, (size_t)n * 4);
}

/* src as float [npix][3] in [0, 1] */
static float *src_float(void) {
    int64_t n = (int64_t)src.w * src.h * 3;
    float *f = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) f[i] = src.rgb[i] / 255.0f;
    return f;
}

/* max |255·got - ref| against a uint8 reference of `n` values with the given channel count
 * (gray refs have 1 channel: compared with channel 0 of got) */
static double max_err_u8(const float *got, const char *c, int64_t npix, int ref_channels) {
    char name[96];
    snprintf(name, sizeof name, "%s.out", c);
    const burn_st_tensor *t = get(name);
    cr_assert_eq(t->dtype, BURN_U8);
    cr_assert_eq((int64_t)(t->end - t->begin), npix * ref_channels, "%s: size", c);
    const uint8_t *ref = t->data;
    double worst = 0;
    for (int64_t i = 0; i < npix; i++)
        for (int k = 0; k < 3; k++) {
            double r = ref[i * ref_channels + (ref_channels == 3 ? k : 0)];
            double e = fabs(255.0 * got[i * 3 + k] - r);
            if (!(e <= worst)) worst = e;
        }
    return worst;
}

TestSuite(augment_ref, .init = setup, .fini = teardown);

Test(augment_ref, resize_matches_pil) {
    const char *cases[] = {"resize_bicubic_down", "resize_bicubic_up", "resize_bicubic_box",
                           "resize_bicubic_box_up", "resize_bilinear_down",
                           "resize_bilinear_box_up"};
    burn_aug_scratch ws = {0};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float a[7];
        args(cases[c], a, 7);
        burn_box box = {(int)a[0], (int)a[1], (int)a[2], (int)a[3]};
        int ow = (int)a[4], oh = (int)a[5];
        float *dst = malloc(sizeof(float) * 3 * ow * oh);
        burn_resample(&src, box, ow, oh, 0, 0, ow, oh, a[6] == 0 ? BURN_INTERP_BICUBIC
                                                                 : BURN_INTERP_BILINEAR,
                      dst, &ws);
        /* PIL rounds after the horizontal pass (±0.5, carried by the vertical taps whose
         * weights sum to 1) and at the end (±0.5); burn rounds neither */
        double e = max_err_u8(dst, cases[c], (int64_t)ow * oh, 3);
        cr_expect_leq(e, 1.2, "%s: max error %.3f / 255", cases[c], e);
        free(dst);
    }
    burn_aug_scratch_free(&ws);
}

Test(augment_ref, eval_transform_matches_torchvision_pil) {
    float a[6];
    args("eval", a, 6);
    int size = (int)a[0], rw, rh, ox, oy;
    burn_eval_geometry(src.w, src.h, size, a[1], &rw, &rh, &ox, &oy);
    cr_assert_eq(rw, (int)a[2]);
    cr_assert_eq(rh, (int)a[3]);
    cr_assert_eq(ox, (int)a[4]);
    cr_assert_eq(oy, (int)a[5]);
    burn_aug_params p;
    burn_aug_params_default(&p);
    p.eval_crop_ratio = a[1];
    for (int c = 0; c < 3; c++) p.mean[c] = 0, p.std[c] = 1;
    burn_aug_scratch ws = {0};
    float *chw = malloc(sizeof(float) * 3 * size * size), *hwc = malloc(sizeof(float) * 3 * size * size);
    burn_aug_eval_view(&src, size, &p, &ws, chw);
    for (int i = 0; i < size * size; i++)
        for (int c = 0; c < 3; c++) hwc[3 * i + c] = chw[c * size * size + i];
    double e = max_err_u8(hwc, "eval", (int64_t)size * size, 3);
    cr_expect_leq(e, 1.2, "eval: max error %.3f / 255", e);
    free(chw);
    free(hwc);
    burn_aug_scratch_free(&ws);
}

/* one photometric op on src vs PIL; tol on the 0..255 scale */
static void check_op(const char *c, void (*op)(float *, int64_t, float), double tol) {
    float a;
    args(c, &a, 1);
    float *f = src_float();
    int64_t npix = (int64_t)src.w * src.h;
    op(f, npix, a);
    double e = max_err_u8(f, c, npix, 3);
    cr_expect_leq(e, tol, "%s: max error %.3f / 255 (allowed %.2f)", c, e, tol);
    free(f);
}

Test(augment_ref, color_ops_match_pil) {
    /* PIL's blend truncates its float result to uint8: up to 1 */
    check_op("brightness", burn_adjust_brightness, 1.0 + 1e-3);
    /* PIL also rounds the mean luma to an integer: + |1 - f|·0.5 */
    check_op("contrast_low", burn_adjust_contrast, 1.0 + 0.4 * 0.5 + 1e-3);
    check_op("contrast_high", burn_adjust_contrast, 1.0 + 0.4 * 0.5 + 1e-3);
    /* PIL's luma image is integer (rounded): + |1 - f|·0.5 */
    check_op("saturation_low", burn_adjust_saturation, 1.0 + 0.5 * 0.5 + 1e-3);
    check_op("saturation_high", burn_adjust_saturation, 1.0 + 0.6 * 0.5 + 1e-3);
}

static void solarize_op(float *img, int64_t npix, float t) { burn_solarize(img, npix, (int)t); }

Test(augment_ref, gray_and_solarize_match_pil) {
    float *f = src_float();
    int64_t npix = (int64_t)src.w * src.h;
    burn_grayscale(f, npix);
    /* PIL computes (19595 R + 38470 G + 7471 B + 0x8000) >> 16: the exact luma, rounded */
    double e = max_err_u8(f, "gray", npix, 1);
    cr_expect_leq(e, 0.5 + 1e-3, "gray: max error %.3f / 255", e);
    free(f);
    check_op("solarize", solarize_op, 1e-3);
}

Test(augment_ref, hue_matches_torchvision) {
    float shift;
    int64_t npix = (int64_t)src.w * src.h;
    /* float formulas: tight */
    args("hue_float", &shift, 1);
    float *f = src_float();
    burn_adjust_hue(f, npix, shift);
    const burn_st_tensor *t = get("hue_float.out");
    float *ref = malloc((size_t)npix * 3 * 4);
    memcpy(ref, t->data, (size_t)npix * 3 * 4);
    double worst = 0;
    for (int64_t i = 0; i < npix * 3; i++) worst = fmax(worst, fabs(f[i] - ref[i]));
    cr_expect_leq(worst, 2e-6, "hue vs float reference: %.3g", worst);
    free(f);
    free(ref);
    /* PIL: H, S, V each quantised to uint8 on the way in and out; its HSV round trip alone
     * (no shift) is off by up to 5/255 on this image (mean 0.66/255), and each hue step of
     * 1/255 turn moves a channel by up to 6/255 of V. So: loose on the max, tight-ish on
     * the mean. */
    args("hue_pil", &shift, 1);
    f = src_float();
    burn_adjust_hue(f, npix, shift);
    const burn_st_tensor *tp = get("hue_pil.out");
    const uint8_t *pil = tp->data;
    double sum = 0, big = 0;
    for (int64_t i = 0; i < npix * 3; i++) {
        double e = fabs(255.0 * f[i] - pil[i]);
        sum += e;
        big = fmax(big, e);
    }
    cr_expect_leq(sum / (double)(npix * 3), 1.0, "hue vs PIL: mean error %.3f / 255",
                  sum / (double)(npix * 3));
    cr_expect_leq(big, 12.0, "hue vs PIL: max error %.3f / 255", big);
    free(f);
}

Test(augment_ref, blur_matches_torchvision) {
    float a[2];
    args("blur", a, 2);
    float *f = src_float();
    float *tmp = malloc(sizeof(float) * 3 * src.w * src.h);
    burn_gaussian_blur(f, src.w, src.h, a[0], (int)a[1], tmp);
    const burn_st_tensor *t = get("blur.out");
    int64_t n = (int64_t)src.w * src.h * 3;
    float *ref = malloc((size_t)n * 4);
    memcpy(ref, t->data, (size_t)n * 4);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(f[i] - ref[i]));
    cr_expect_leq(worst, 2e-6, "blur: max error %.3g", worst);
    free(f);
    free(tmp);
    free(ref);
}
