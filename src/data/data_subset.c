/* data_subset.c — a seeded random subset of another source (data.train_subset /
 * data.val_subset): quick runs and demos on part of a dataset. The subset is the first n
 * entries of the Philox permutation of the source's indices under the run seed (the same
 * permutation the sampler uses), kept in ascending index order. */
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/data.h"
#include "data_internal.h"

typedef struct subset_impl {
    burn_source *inner;
    int64_t *map; /* subset index -> inner index */
} subset_impl;

static int subset_load(const burn_source *s, int64_t i, burn_image *img) {
    const subset_impl *p = s->impl;
    return burn_source_load(p->inner, p->map[i], img);
}

static void subset_describe(const burn_source *s, int64_t i, char *buf, size_t len) {
    const subset_impl *p = s->impl;
    p->inner->describe(p->inner, p->map[i], buf, len);
}

static void subset_destroy(burn_source *s) {
    subset_impl *p = s->impl;
    burn_source_free(p->inner);
    free(p->map);
    free(p);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

burn_source *burn_source_subset(burn_source *inner, int64_t n, uint64_t seed) {
    if (n <= 0 || n >= inner->count) return inner;
    burn_source *s = burn_source_new(inner->kind, inner->origin, &inner->limits);
    subset_impl *p = burn_xcalloc(1, sizeof *p);
    int64_t *perm = burn_xmalloc(sizeof(int64_t) * (size_t)inner->count);
    burn_sampler_permutation(seed, -1 /* a stream of its own, not an epoch */, inner->count, 1, perm);
    qsort(perm, (size_t)n, sizeof(int64_t), cmp_i64);
    p->inner = inner;
    p->map = burn_xrealloc(perm, sizeof(int64_t) * (size_t)n);
    s->count = n;
    s->num_classes = inner->num_classes;
    s->labels = burn_xmalloc(sizeof(int32_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) s->labels[i] = inner->labels[p->map[i]];
    if (inner->class_names) {
        s->class_names = burn_xcalloc((size_t)inner->num_classes, sizeof(char *));
        for (int c = 0; c < inner->num_classes; c++)
            s->class_names[c] = burn_xstrdup(inner->class_names[c]);
    }
    s->load = subset_load;
    s->describe = subset_describe;
    s->destroy = subset_destroy;
    s->impl = p;
    return s;
}
