/* finetune_subset.c — the labelled subset of semi-supervised fine-tuning (METHOD.md §9): a
 * class-balanced share of every class chosen by seed, or the images a list file names (by
 * index or by path), and a source that shows only those images of another. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/fileio.h"
#include "burn/finetune.h"
#include "data_internal.h"

/* Philox key of the subset draws ("ftsubset"): independent of the sampler's epoch stream */
#define SUBSET_STREAM 0x6674737562736574ull

int64_t burn_subset_balanced(const int32_t *labels, int64_t count, int num_classes,
                             double fraction, uint64_t seed, int64_t **out) {
    *out = NULL;
    if (!(fraction > 0.0 && fraction <= 1.0)) {
        burn_error_set("labelled fraction %g: expected a share in (0, 1]", fraction);
        return -1;
    }
    if (count < 1 || num_classes < 1) {
        burn_error_set("labelled subset of an empty dataset (%lld images, %d classes)",
                       (long long)count, num_classes);
        return -1;
    }
    /* members of each class, ascending: members[start[c] .. start[c] + n[c]) */
    int64_t *n = burn_xcalloc((size_t)num_classes, sizeof(int64_t));
    int64_t *start = burn_xcalloc((size_t)num_classes + 1, sizeof(int64_t));
    for (int64_t i = 0; i < count; i++) {
        if (labels[i] < 0 || labels[i] >= num_classes) {
            burn_error_set("image %lld has label %d outside [0, %d)", (long long)i,
                           (int)labels[i], num_classes);
            free(n), free(start);
            return -1;
        }
        n[labels[i]]++;
    }
    int64_t largest = 0;
    for (int c = 0; c < num_classes; c++) {
        start[c + 1] = start[c] + n[c];
        if (n[c] > largest) largest = n[c];
    }
    int64_t *members = burn_xmalloc(sizeof(int64_t) * (size_t)count);
    int64_t *fill = burn_xcalloc((size_t)num_classes, sizeof(int64_t));
    for (int64_t i = 0; i < count; i++) members[start[labels[i]] + fill[labels[i]]++] = i;
    uint8_t *keep = burn_xcalloc((size_t)count, 1);
    int64_t *perm = burn_xmalloc(sizeof(int64_t) * (size_t)largest);
    int64_t total = 0;
    for (int c = 0; c < num_classes; c++) {
        if (n[c] == 0) continue;
        /* round half away from zero; a class present in the data is never left unlabelled */
        int64_t k = llround(fraction * (double)n[c]);
        if (k < 1) k = 1;
        if (k > n[c]) k = n[c];
        burn_sampler_permutation(seed ^ SUBSET_STREAM, c, n[c], 1, perm);
        for (int64_t j = 0; j < k; j++) keep[members[start[c] + perm[j]]] = 1;
        total += k;
    }
    int64_t *idx = burn_xmalloc(sizeof(int64_t) * (size_t)total), m = 0;
    for (int64_t i = 0; i < count; i++)
        if (keep[i]) idx[m++] = i;
    free(n), free(start), free(members), free(fill), free(keep), free(perm);
    *out = idx;
    return total;
}

/* ---- list files ---- */

typedef struct list_entry {
    char *name;   /* NULL: an empty hash slot */
    int line;
    int64_t match; /* -1 until an image matches */
} list_entry;

static uint64_t hash_str(const char *s) { /* FNV-1a */
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static list_entry *table_find(list_entry *t, size_t cap, const char *name) {
    for (size_t i = hash_str(name) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!t[i].name || strcmp(t[i].name, name) == 0) return &t[i];
}

/* Only digits: an index (a file name always has an extension). */
static int is_index(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

int64_t burn_subset_list_read(const char *path, const burn_source *src, int64_t **out) {
    *out = NULL;
    int fd = burn_open_regular(path);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        char *why = burn_xstrdup(burn_error());
        burn_error_set("the subset list %s", why);
        free(why);
        return -1;
    }
    /* pass 1: indices directly, names into a hash table resolved against the source below */
    int *line_of = burn_xcalloc((size_t)src->count, sizeof(int)); /* 0: not chosen */
    size_t cap = 64, names = 0;
    list_entry *table = burn_xcalloc(cap, sizeof *table);
    char *buf = NULL, desc[4096];
    size_t bufcap = 0;
    int64_t rc = 0, chosen = 0;
    int line = 0;
    for (ssize_t len; rc == 0 && (len = getline(&buf, &bufcap, f)) >= 0;) {
        line++;
        char *s = buf, *e = buf + len;
        while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
        while (isspace((unsigned char)*s)) s++;
        if (!*s || *s == '#') continue;
        if (is_index(s)) {
            errno = 0;
            long long i = strtoll(s, NULL, 10);
            if (errno || i >= src->count) {
                burn_error_set("%s:%d: index %s is outside the %lld training images", path, line,
                               s, (long long)src->count);
                rc = -1;
            } else if (line_of[i]) {
                burn_error_set("%s:%d: image %lld is listed twice (also line %d)", path, line, i,
                               line_of[i]);
                rc = -1;
            } else {
                line_of[i] = line;
                chosen++;
            }
            continue;
        }
        if (2 * (names + 1) > cap) { /* grow: rehash */
            size_t ncap = 2 * cap;
            list_entry *nt = burn_xcalloc(ncap, sizeof *nt);
            for (size_t k = 0; k < cap; k++)
                if (table[k].name) *table_find(nt, ncap, table[k].name) = table[k];
            free(table);
            table = nt;
            cap = ncap;
        }
        list_entry *slot = table_find(table, cap, s);
        if (slot->name) {
            burn_error_set("%s:%d: '%s' is listed twice (also line %d)", path, line, s, slot->line);
            rc = -1;
            continue;
        }
        *slot = (list_entry){burn_xstrdup(s), line, -1};
        names++;
    }
    if (rc == 0 && ferror(f)) {
        burn_error_set("%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    free(buf);
    /* pass 2: every image's description and its tails after each '/' against the names */
    for (int64_t i = 0; rc == 0 && names > 0 && i < src->count; i++) {
        src->describe(src, i, desc, sizeof desc);
        for (const char *p = desc; p && rc == 0;) {
            list_entry *hit = table_find(table, cap, p);
            if (hit->name && hit->match >= 0 && hit->match != i) {
                char other[4096];
                src->describe(src, hit->match, other, sizeof other);
                burn_error_set("%s:%d: '%s' matches several images (%s and %s): give more of "
                               "the path", path, hit->line, hit->name, other, desc);
                rc = -1;
            } else if (hit->name) {
                hit->match = i;
            }
            p = strchr(p, '/');
            if (p) p++;
        }
    }
    for (size_t k = 0; rc == 0 && k < cap; k++) {
        list_entry *t = &table[k];
        if (!t->name) continue;
        if (t->match < 0) {
            burn_error_set("%s:%d: '%s' matches no training image (%s %s): an index, a path or "
                           "a file name expected", path, t->line, t->name, src->kind, src->origin);
            rc = -1;
        } else if (line_of[t->match]) {
            burn_error_set("%s:%d: image %lld (%s) is listed twice (also line %d)", path,
                           t->line, (long long)t->match, t->name, line_of[t->match]);
            rc = -1;
        } else {
            line_of[t->match] = t->line;
            chosen++;
        }
    }
    if (rc == 0 && chosen == 0) {
        burn_error_set("%s: the subset list names no image", path);
        rc = -1;
    }
    int64_t *idx = NULL;
    if (rc == 0) {
        idx = burn_xmalloc(sizeof(int64_t) * (size_t)chosen);
        int64_t m = 0;
        for (int64_t i = 0; i < src->count; i++)
            if (line_of[i]) idx[m++] = i;
        rc = chosen;
    }
    for (size_t k = 0; k < cap; k++) free(table[k].name);
    free(table);
    free(line_of);
    *out = idx;
    return rc;
}

/* ---- a source over chosen images of another ---- */

typedef struct indexed_impl {
    burn_source *inner;
    int64_t *map; /* subset index -> inner index */
} indexed_impl;

static int indexed_load(const burn_source *s, int64_t i, burn_image *img) {
    const indexed_impl *p = s->impl;
    return burn_source_load(p->inner, p->map[i], img);
}

static void indexed_describe(const burn_source *s, int64_t i, char *buf, size_t len) {
    const indexed_impl *p = s->impl;
    p->inner->describe(p->inner, p->map[i], buf, len);
}

static void indexed_destroy(burn_source *s) {
    indexed_impl *p = s->impl;
    burn_source_free(p->inner);
    free(p->map);
    free(p);
}

burn_source *burn_source_indexed(burn_source *inner, int64_t *idx, int64_t n) {
    burn_source *s = burn_source_new(inner->kind, inner->origin, &inner->limits);
    indexed_impl *p = burn_xcalloc(1, sizeof *p);
    p->inner = inner;
    p->map = idx;
    s->count = n;
    s->num_classes = inner->num_classes;
    s->labels = burn_xmalloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++) s->labels[i] = inner->labels[idx[i]];
    if (inner->class_names) {
        s->class_names = burn_xcalloc((size_t)inner->num_classes, sizeof(char *));
        for (int c = 0; c < inner->num_classes; c++)
            s->class_names[c] = burn_xstrdup(inner->class_names[c]);
    }
    s->load = indexed_load;
    s->describe = indexed_describe;
    s->destroy = indexed_destroy;
    s->impl = p;
    return s;
}

burn_source *burn_finetune_source(const burn_config *cfg, double fraction, const char *list,
                                  uint64_t seed, int64_t *pool) {
    burn_source *src = burn_source_from_config(cfg, "train");
    if (!src) return NULL;
    if (pool) *pool = src->count;
    int64_t *idx = NULL, n;
    if (list && *list)
        n = burn_subset_list_read(list, src, &idx);
    else if (fraction == 1.0)
        return src;
    else
        n = burn_subset_balanced(src->labels, src->count, src->num_classes, fraction, seed, &idx);
    if (n < 0) {
        burn_source_free(src);
        return NULL;
    }
    if (n == src->count) { /* every image: the source itself */
        free(idx);
        return src;
    }
    return burn_source_indexed(src, idx, n);
}
