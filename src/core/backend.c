/* backend.c — --device auto|cpu|cuda resolution, and host-side helpers over any backend. */
#include <stdlib.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/log.h"

const char *burn_backend_missing(const burn_backend *be) {
    const struct { const void *entry; const char *name; } memory[] = {
        {(const void *)be->alloc, "alloc"},       {(const void *)be->free, "free"},
        {(const void *)be->upload, "upload"},     {(const void *)be->download, "download"},
        {(const void *)be->copy, "copy"},         {(const void *)be->synchronize, "synchronize"},
        {(const void *)be->host_alloc, "host_alloc"}, {(const void *)be->host_free, "host_free"}};
    for (size_t i = 0; i < sizeof memory / sizeof memory[0]; i++)
        if (!memory[i].entry) return memory[i].name;
#define BURN_OP_PRESENT(ret, name, params) \
    if (!be->name) return #name;
    BURN_BACKEND_OPS(BURN_OP_PRESENT)
#undef BURN_OP_PRESENT
    return NULL;
}

/* be, when its table is complete; else NULL with burn_error() naming the missing entry. */
static const burn_backend *complete(const burn_backend *be) {
    const char *missing = be ? burn_backend_missing(be) : NULL;
    if (!missing) return be;
    burn_error_set("the %s backend has no '%s' (an incomplete backend table)", be->name, missing);
    return NULL;
}

static const burn_backend *select_device(const char *device);

const burn_backend *burn_backend_select(const char *device) {
    return complete(select_device(device));
}

static const burn_backend *select_device(const char *device) {
    if (strcmp(device, "cpu") == 0) {
        burn_log("device: cpu (asked for)");
        return burn_cpu_backend();
    }
    if (strcmp(device, "cuda") == 0) {
        if (!burn_built_with_cuda()) {
            burn_error_set("--device cuda: this burn_gpu was built without CUDA (make found no "
                           "nvcc/cuBLAS/cuDNN/NCCL); rebuild, or use --device cpu");
            return NULL;
        }
        if (burn_cuda_device_count() == 0) {
            burn_error_set("--device cuda: no usable CUDA device (driver missing or no GPU); "
                           "use --device cpu or auto");
            return NULL;
        }
        burn_log("device: cuda (asked for)");
        return burn_cuda_backend();
    }
    if (strcmp(device, "auto") == 0) {
        if (!burn_built_with_cuda()) {
            burn_log("device: cpu (auto: built without CUDA)");
            return burn_cpu_backend();
        }
        if (burn_cuda_device_count() == 0) {
            burn_log("device: cpu (auto: no CUDA device found)");
            return burn_cpu_backend();
        }
        burn_log("device: cuda (auto: %d CUDA device(s) found)", burn_cuda_device_count());
        return burn_cuda_backend();
    }
    burn_error_set("--device %s: unknown device; choose auto, cpu or cuda", device);
    return NULL;
}

double burn_backend_mean(const burn_backend *be, const float *x, int64_t n) {
    float *h = burn_xmalloc((size_t)(n ? n : 1) * sizeof(float));
    be->download(h, x, (size_t)n * sizeof(float));
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += h[i];
    free(h);
    return n ? s / (double)n : 0.0;
}
