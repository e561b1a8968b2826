/* buffers.c — backend allocations released together (see buffers.h). */
#include "burn/buffers.h"

#include <stdlib.h>

#include "burn/check.h"

void *burn_buffers_alloc(burn_buffers *b, size_t bytes) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 128;
        b->ptrs = burn_xrealloc(b->ptrs, sizeof(void *) * (size_t)b->cap);
    }
    void *p = b->be->alloc(bytes ? bytes : 4);
    b->ptrs[b->n++] = p;
    return p;
}

void burn_buffers_free(burn_buffers *b) {
    for (int i = 0; i < b->n; i++) b->be->free(b->ptrs[i]);
    free(b->ptrs);
    b->ptrs = NULL;
    b->n = b->cap = 0;
}
