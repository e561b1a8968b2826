/* buffers.h — a list of backend allocations freed together: the activation and scratch
 * buffers of a network run (net_reactnet.c, net_resnet_train.c) are allocated once per batch
 * size and released in one call. */
#ifndef BURN_BUFFERS_H
#define BURN_BUFFERS_H

#include <stddef.h>
#include <stdint.h>

#include "burn/backend.h"

typedef struct burn_buffers {
    const burn_backend *be;
    int n, cap;
    void **ptrs;
} burn_buffers;

/* bytes of backend memory (aborts when out of memory, as be->alloc). */
void *burn_buffers_alloc(burn_buffers *b, size_t bytes);
static inline float *burn_buffers_floats(burn_buffers *b, int64_t n) {
    return (float *)burn_buffers_alloc(b, (size_t)n * sizeof(float));
}
void burn_buffers_free(burn_buffers *b);

#endif
