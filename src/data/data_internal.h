/* data_internal.h — pieces shared by the data sources (src/data_*.c), not public API:
 * a compact table of paths (one arena, offsets) and source construction helpers. */
#ifndef BURN_DATA_INTERNAL_H
#define BURN_DATA_INTERNAL_H

#include <stdint.h>

#include "burn/data.h"

/* n strings in one growing arena; path(i) = arena + off[i]. ImageNet's 1.28M paths cost one
 * allocation of ~80 MB instead of a million small ones. */
typedef struct burn_paths {
    char *arena;
    size_t len, cap;
    int64_t *off;
    int64_t n, ncap;
} burn_paths;

int64_t burn_paths_add(burn_paths *p, const char *s, size_t len); /* returns the index */
static inline const char *burn_paths_get(const burn_paths *p, int64_t i) {
    return p->arena + p->off[i];
}
void burn_paths_free(burn_paths *p);

/* A zeroed source with kind, origin and limits set. */
burn_source *burn_source_new(const char *kind, const char *origin, const burn_image_limits *lim);

/* "a/b" from dir "a" and name "b" ("b" alone when dir is empty or name is absolute). */
char *burn_path_join(const char *dir, const char *name);

/* img takes rgb[w·h·3] (malloc'd) as its pixels, freeing its old ones. */
void burn_image_adopt(burn_image *img, uint8_t *rgb, int w, int h);

/* A JPEG held in memory into img (RGB); a file libjpeg-turbo only warns about is corrupt
 * too. 0, or -1 with burn_error() naming `name`. (decode_jpeg.c) */
int burn_jpeg_decode(const uint8_t *data, size_t n, const burn_image_limits *lim,
                     const char *name, burn_image *img);

/* Inflate a gzip file held in memory (every member, CRC-32 checked) into a malloc'd buffer
 * (at most max_out bytes). 0, or -1 with burn_error() naming `name`. (gunzip.c: zlib.) */
int burn_gunzip(const uint8_t *gz, size_t n, size_t max_out, const char *name, uint8_t **out,
                size_t *out_n);

/* Shared by the augmentations (augment.c, augment_resample.c): */
/* out[e] += k·src[e]. Written in blocks of 8 so that -O2 (GCC's "very cheap" vectoriser,
 * which skips loops of unknown length) still turns each block into vector instructions. */
static inline void row_axpy(float *restrict out, const float *restrict src, float k, int m) {
    int e = 0;
    for (; e + 8 <= m; e += 8) {
        out[e + 0] += k * src[e + 0];
        out[e + 1] += k * src[e + 1];
        out[e + 2] += k * src[e + 2];
        out[e + 3] += k * src[e + 3];
        out[e + 4] += k * src[e + 4];
        out[e + 5] += k * src[e + 5];
        out[e + 6] += k * src[e + 6];
        out[e + 7] += k * src[e + 7];
    }
    for (; e < m; e++) out[e] += k * src[e];
}

#endif
