/* gpu_util.h — for tests/gpu: skip visibly without a device, and CPU/CUDA comparison helpers. */
#ifndef BURN_GPU_UTIL_H
#define BURN_GPU_UTIL_H

#include <criterion/criterion.h>

#include "burn/backend.h"
#include "test_util.h"

/* Every GPU test starts with this: without a usable device the test is reported as skipped
 * (TAP "# SKIP"), never as passed. */
#define REQUIRE_CUDA(be_var)                                              \
    const burn_backend *be_var = burn_cuda_backend();                     \
    if (!be_var) cr_skip_test("skipped: no CUDA device");

/* Upload host floats to a fresh device buffer. */
static inline float *gu_upload(const burn_backend *g, const float *h, int64_t n) {
    float *d = g->alloc((size_t)n * 4);
    g->upload(d, h, (size_t)n * 4);
    return d;
}

/* max |a − b| / max |b| (NaN counts as the worst): the error of a CUDA result a against the
 * CPU's b, relative to the largest value (entries share row or tensor statistics). */
static inline double gu_rel_to_max(const float *a, const float *b, int64_t n) {
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (!(e <= worst)) worst = e;
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return worst / (scale > 0 ? scale : 1e-300);
}

/* Download a device buffer into a fresh host array (caller frees). */
static inline float *gu_download(const burn_backend *g, const float *d, int64_t n) {
    float *h = malloc((size_t)n * 4);
    g->download(h, d, (size_t)n * 4);
    return h;
}

#endif
