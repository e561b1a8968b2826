/* data_synthetic.c — the built-in synthetic source: procedural RGB images whose class shows in
 * the shape, the colour and the background texture, with per-image nuisance (position, size,
 * rotation, colour shifts, background colour, pixel noise). Image i is a pure function of
 * (seed, i, classes, w, h): no files, any size, identical on every machine and thread.
 * label(i) = i mod classes. Seeds 2k and 2k+1 (data_source.c: the training and evaluation
 * splits of run.seed k) share the classes' looks, not the images. Used by tests, smoke runs, demos and the data benchmark.
 *
 * Class c: shape = c mod 6 (disk, square, triangle, ring, cross, diamond), texture =
 * (c / 6) mod 3 (stripes, checkerboard, radial waves), hue = frac(0.618·c + class offset),
 * texture frequency and orientation from the class's own Philox draws. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/rng.h"
#include "data_internal.h"

typedef struct synth_impl {
    uint64_t seed;
    int w, h;
} synth_impl;

/* Tag that separates the class and image draws from other users of the seed. */
#define SYNTH_TAG 0x53594e54ull /* "SYNT" */

static float draw(uint64_t seed, uint64_t a, int slot) {
    return burn_rng_uniform(seed ^ (SYNTH_TAG << 32), a * 16 + (uint64_t)slot, 0.0f, 1.0f);
}

static void hsv_to_rgb(float hue, float s, float v, float rgb[3]) {
    float h6 = (hue - floorf(hue)) * 6.0f;
    int i = (int)h6 % 6;
    float f = h6 - floorf(h6);
    float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    float r[6] = {v, q, p, p, t, v}, g[6] = {t, v, v, q, p, p}, b[6] = {p, p, t, v, v, q};
    rgb[0] = r[i];
    rgb[1] = g[i];
    rgb[2] = b[i];
}

/* Signed "inside" measure of a shape in its own frame (unit size): > 0 inside. */
static float shape_inside(int shape, float x, float y) {
    float ax = fabsf(x), ay = fabsf(y);
    switch (shape) {
    case 0: return 1.0f - sqrtf(x * x + y * y);                              /* disk */
    case 1: return 0.8f - fmaxf(ax, ay);                                     /* square */
    case 2: return fminf(0.6f + y, fminf(0.9f - y - 1.7f * x, 0.9f - y + 1.7f * x)) * 0.6f;
    case 3: return 0.25f - fabsf(sqrtf(x * x + y * y) - 0.7f);               /* ring */
    case 4: return fmaxf(fminf(0.3f - ax, 0.9f - ay), fminf(0.3f - ay, 0.9f - ax)); /* cross */
    default: return 1.0f - (ax + ay);                                        /* diamond */
    }
}

static uint32_t hash32(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)(z ^ (z >> 31));
}

void burn_synthetic_render(uint64_t seed, int64_t index, int classes, int w, int h,
                           uint8_t *rgb) {
    int c = (int)(index % classes);
    uint64_t cls = (uint64_t)c, img = (1ull << 40) + (uint64_t)index;
    int shape = c % 6, texture = (c / 6) % 3;
    /* the class look ignores the seed's bit 0, which tells the splits apart (data_source.c):
     * the evaluation split's classes are the training split's */
    uint64_t cls_seed = seed & ~1ull;
    float cls_hue = 0.618034f * (float)c + draw(cls_seed, cls, 0);
    float freq = 3.0f + 5.0f * draw(cls_seed, cls, 1);
    float orient = 3.14159265f * draw(cls_seed, cls, 2);
    /* per image */
    float cx = 0.3f + 0.4f * draw(seed, img, 0), cy = 0.3f + 0.4f * draw(seed, img, 1);
    float radius = (0.18f + 0.17f * draw(seed, img, 2)) * (float)(w < h ? w : h);
    float rot = 6.2831853f * draw(seed, img, 3);
    float fg[3], bg1[3], bg2[3];
    hsv_to_rgb(cls_hue + 0.1f * (draw(seed, img, 4) - 0.5f), 0.55f + 0.4f * draw(seed, img, 5),
               0.6f + 0.4f * draw(seed, img, 6), fg);
    float bg_hue = draw(seed, img, 7);
    hsv_to_rgb(bg_hue, 0.2f + 0.3f * draw(seed, img, 8), 0.25f + 0.35f * draw(seed, img, 9), bg1);
    hsv_to_rgb(bg_hue + 0.5f, 0.2f + 0.3f * draw(seed, img, 10), 0.25f + 0.35f * draw(seed, img, 11),
               bg2);
    float phase = 6.2831853f * draw(seed, img, 12);
    float noise_amp = 0.02f + 0.06f * draw(seed, img, 13);
    float co = cosf(orient), so = sinf(orient), cr = cosf(rot), sr = sinf(rot);
    float scale = (float)(w > h ? w : h);
    uint64_t noise_key = (seed * 0x100000001B3ull) ^ ((uint64_t)index << 20);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float u = ((float)x + 0.5f) / scale, v = ((float)y + 0.5f) / scale;
            float t;
            if (texture == 0) {
                t = 0.5f + 0.5f * sinf(6.2831853f * freq * (u * co + v * so) + phase);
            } else if (texture == 1) {
                int cu = (int)floorf(freq * (u * co - v * so) + 8), cv = (int)floorf(freq * (u * so + v * co) + 8);
                t = (float)((cu + cv) & 1);
            } else {
                float du = u - 0.5f, dv = v - 0.5f;
                t = 0.5f + 0.5f * sinf(6.2831853f * freq * sqrtf(du * du + dv * dv) + phase);
            }
            float px[3];
            for (int k = 0; k < 3; k++) px[k] = bg1[k] + (bg2[k] - bg1[k]) * t;
            /* shape in its rotated unit frame; a one-pixel soft edge */
            float dx = ((float)x + 0.5f - cx * (float)w) / radius;
            float dy = ((float)y + 0.5f - cy * (float)h) / radius;
            float sx = cr * dx + sr * dy, sy = -sr * dx + cr * dy;
            float inside = shape_inside(shape, sx, sy) * radius;
            float a = inside > 0.5f ? 1.0f : inside < -0.5f ? 0.0f : inside + 0.5f;
            uint32_t hsh = hash32(noise_key + (uint64_t)y * (uint64_t)w + (uint64_t)x);
            float noise = noise_amp * ((float)(hsh >> 8) * (1.0f / 16777216.0f) - 0.5f);
            for (int k = 0; k < 3; k++) {
                float val = px[k] + (fg[k] - px[k]) * a + noise;
                val = val < 0 ? 0 : val > 1 ? 1 : val;
                rgb[((size_t)y * w + x) * 3 + k] = (uint8_t)(val * 255.0f + 0.5f);
            }
        }
}

static int synth_load(const burn_source *s, int64_t i, burn_image *img) {
    const synth_impl *x = s->impl;
    burn_image_resize(img, x->w, x->h);
    burn_synthetic_render(x->seed, i, s->num_classes, x->w, x->h, img->rgb);
    return 0;
}

static void synth_describe(const burn_source *s, int64_t i, char *buf, size_t len) {
    snprintf(buf, len, "synthetic[%lld]", (long long)i);
}

static void synth_destroy(burn_source *s) {
    free(s->impl);
    s->impl = NULL;
}

burn_source *burn_source_synthetic(uint64_t seed, int64_t count, int classes, int w, int h) {
    if (count < 1 || classes < 1 || w < 1 || h < 1 || w > 65536 || h > 65536) {
        burn_error_set("synthetic source: count %lld, classes %d, size %dx%d: each must be >= 1 "
                       "(sides <= 65536)", (long long)count, classes, w, h);
        return NULL;
    }
    burn_source *s = burn_source_new("synthetic", "synthetic", NULL);
    synth_impl *x = burn_xcalloc(1, sizeof *x);
    x->seed = seed;
    x->w = w;
    x->h = h;
    s->impl = x;
    s->load = synth_load;
    s->describe = synth_describe;
    s->destroy = synth_destroy;
    s->count = count;
    s->num_classes = classes;
    s->labels = burn_xmalloc((size_t)count * sizeof(int32_t));
    for (int64_t i = 0; i < count; i++) s->labels[i] = (int32_t)(i % classes);
    return s;
}
