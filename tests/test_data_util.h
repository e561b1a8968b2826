/* test_data_util.h — file helpers for the data tests: temporary trees under /tmp, raw files,
 * random PNG/JPEG images (written with stb_image_write through burn_image_write_*). */
#ifndef BURN_TEST_DATA_UTIL_H
#define BURN_TEST_DATA_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "burn/data.h"
#include "test_util.h"

static inline void td_mkdirs(const char *path) {
    char *p = strdup(path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
    free(p);
}

/* path = dir + "/" + rel; creates the parent folders. Caller frees. */
static inline char *td_path(const char *dir, const char *rel) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, rel) < 0) abort();
    char *slash = strrchr(p, '/');
    *slash = 0;
    td_mkdirs(p);
    *slash = '/';
    return p;
}

static inline void td_write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
}

static inline uint8_t *td_read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) abort();
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(*n + 1);
    if (fread(d, 1, *n, f) != *n) abort();
    fclose(f);
    return d;
}

/* random pixels, seed-determined; caller frees */
static inline uint8_t *td_random_pixels(int w, int h, int channels, uint64_t seed) {
    uint8_t *p = malloc((size_t)w * h * channels);
    uint64_t s = seed;
    for (size_t i = 0; i < (size_t)w * h * channels; i++) p[i] = (uint8_t)(tu_next(&s) >> 56);
    return p;
}

static inline void td_png(const char *dir, const char *rel, int w, int h, uint64_t seed) {
    char *path = td_path(dir, rel);
    uint8_t *px = td_random_pixels(w, h, 3, seed);
    if (burn_image_write_png(path, px, w, h, 3) != 0) abort();
    free(px);
    free(path);
}

static inline void td_jpeg(const char *dir, const char *rel, int w, int h, uint64_t seed) {
    char *path = td_path(dir, rel);
    uint8_t *px = td_random_pixels(w, h, 3, seed);
    if (burn_image_write_jpeg(path, px, w, h, 90) != 0) abort();
    free(px);
    free(path);
}

static inline void td_text(const char *dir, const char *rel, const char *text) {
    char *path = td_path(dir, rel);
    td_write_bytes(path, text, strlen(text));
    free(path);
}

static inline int td_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static inline void td_rm_rf(const char *dir) { nftw(dir, td_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* a fresh empty temp dir for this test process; caller frees (and removes with td_rm_rf) */
static inline char *td_tmpdir(const char *tag) {
    char *d = tu_tmp_path(tag);
    td_rm_rf(d);
    td_mkdirs(d);
    return d;
}

/* Big-endian fields and PNG CRCs for hand-made IDX and PNG files (corrupt, huge, truncated). */
static inline void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static inline uint32_t crc32_png(const uint8_t *d, size_t n) { /* PNG's CRC-32, bit by bit */
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= d[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

#endif
