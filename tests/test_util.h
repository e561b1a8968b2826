/* test_util.h — helpers for the C tests: an independent random source (splitmix64, not burn's
 * Philox, so a bug there cannot hide itself), error measures, and temp paths. */
#ifndef BURN_TEST_UTIL_H
#define BURN_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline uint64_t tu_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in [lo, hi), never exactly 0 (tests never run on zeros) */
static inline float tu_uniform(uint64_t *s, float lo, float hi) {
    for (;;) {
        float v = lo + (hi - lo) * (float)((tu_next(s) >> 40) * (1.0 / 16777216.0));
        if (v != 0.0f) return v;
    }
}

static inline void tu_fill(float *x, int64_t n, uint64_t seed, float lo, float hi) {
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++) x[i] = tu_uniform(&s, lo, hi);
}

static inline int tu_int(uint64_t *s, int lo, int hi) { /* inclusive */
    return lo + (int)(tu_next(s) % (uint64_t)(hi - lo + 1));
}

/* max_i |a_i - b_i| / (|b_i| + floor) */
static inline double tu_max_rel(const float *a, const double *b, int64_t n, double floor_) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (fabs(b[i]) + floor_);
        if (!(e <= worst)) worst = e; /* NaN propagates as worst */
    }
    return worst;
}

static inline double tu_max_rel_f(const float *a, const float *b, int64_t n, double floor_) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]) / (fabs((double)b[i]) + floor_);
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

/* A fresh path under /tmp for this process: "/tmp/burn-test-<pid>-<tag>". Caller frees. */
static inline char *tu_tmp_path(const char *tag) {
    char *p = NULL;
    if (asprintf(&p, "/tmp/burn-test-%d-%s", (int)getpid(), tag) < 0) return NULL;
    return p;
}

static inline void tu_write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

#endif
