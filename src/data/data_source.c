/* data_source.c — what every image source shares: the path table, construction, range-checked
 * loads, freeing, and opening the source a config describes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "burn/check.h"
#include "burn/config.h"
#include "data_internal.h"

int64_t burn_paths_add(burn_paths *p, const char *s, size_t len) {
    if (p->len + len + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + len + 1) cap *= 2;
        p->arena = burn_xrealloc(p->arena, cap);
        p->cap = cap;
    }
    if (p->n == p->ncap) {
        p->ncap = p->ncap ? 2 * p->ncap : 1024;
        p->off = burn_xrealloc(p->off, (size_t)p->ncap * sizeof(int64_t));
    }
    memcpy(p->arena + p->len, s, len);
    p->arena[p->len + len] = '\0';
    p->off[p->n] = (int64_t)p->len;
    p->len += len + 1;
    return p->n++;
}

void burn_paths_free(burn_paths *p) {
    free(p->arena);
    free(p->off);
    memset(p, 0, sizeof *p);
}

char *burn_path_join(const char *dir, const char *name) {
    if (!dir || !*dir || name[0] == '/') return burn_xstrdup(name);
    size_t n = strlen(dir);
    char *out = NULL;
    if (asprintf(&out, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    return out;
}

burn_source *burn_source_new(const char *kind, const char *origin, const burn_image_limits *lim) {
    burn_source *s = burn_xcalloc(1, sizeof *s);
    s->kind = kind;
    s->origin = burn_xstrdup(origin ? origin : "");
    if (lim) s->limits = *lim;
    return s;
}

int burn_source_load(const burn_source *s, int64_t i, burn_image *img) {
    if (i < 0 || i >= s->count) {
        burn_error_set("%s %s: index %lld outside [0, %lld)", s->kind, s->origin, (long long)i,
                       (long long)s->count);
        return -1;
    }
    return s->load(s, i, img);
}

void burn_source_free(burn_source *s) {
    if (!s) return;
    if (s->destroy) s->destroy(s);
    if (s->class_names)
        for (int c = 0; c < s->num_classes; c++) free(s->class_names[c]);
    free(s->class_names);
    free(s->labels);
    free(s->origin);
    free(s);
}

burn_image_limits burn_image_limits_from_config(const burn_config *cfg) {
    burn_image_limits lim = {cfg->data_max_image_bytes, cfg->data_max_image_pixels, NULL};
    return lim;
}

burn_source *burn_source_from_config(const burn_config *cfg, const char *split) {
    int train = strcmp(split, "train") == 0;
    if (!train && strcmp(split, "val") != 0) {
        burn_error_set("data split '%s': expected train or val", split);
        return NULL;
    }
    burn_image_limits lim = burn_image_limits_from_config(cfg);
    const char *src = cfg->data_source;
    if (strcmp(src, "synthetic") == 0) {
        int64_t count = train ? cfg->data_synthetic_count : cfg->data_synthetic_val_count;
        /* the evaluation split is a different set of images: another seed stream */
        uint64_t seed = (uint64_t)cfg->run_seed * 2 + (train ? 0 : 1);
        burn_source *s = burn_source_synthetic(seed, count, (int)cfg->data_synthetic_classes,
                                               (int)cfg->data_synthetic_size,
                                               (int)cfg->data_synthetic_size);
        if (s) s->limits = lim;
        return s;
    }
    const char *rel = train ? cfg->data_train : cfg->data_val;
    if (!rel || !*rel) {
        burn_error_set("data.%s is empty: name the %s split (data.source = %s)", split, split,
                       src);
        return NULL;
    }
    char *path = burn_path_join(cfg->data_root, rel);
    struct stat st; /* a split that is not there names its keys: the path may be relative */
    if (stat(path, &st) != 0) {
        burn_error_set("data.root + data.%s = %s: %s", split, path, strerror(errno));
        free(path);
        return NULL;
    }
    burn_source *s = NULL;
    if (strcmp(src, "imagefolder") == 0) {
        s = burn_source_imagefolder(path, &lim);
    } else if (strcmp(src, "list") == 0) {
        s = burn_source_list(path, cfg->data_root, &lim);
    } else if (strcmp(src, "idx") == 0) {
        const char *lab = train ? cfg->data_train_labels : cfg->data_val_labels;
        if (!lab || !*lab) {
            burn_error_set("data.%s_labels is empty: the idx source needs a labels file", split);
        } else {
            char *lpath = burn_path_join(cfg->data_root, lab);
            s = burn_source_idx(path, lpath);
            free(lpath);
        }
    } else {
        burn_error_set("data.source = %s: unknown source", src);
    }
    free(path);
    if (s) s = burn_source_subset(s, train ? cfg->data_train_subset : cfg->data_val_subset,
                                  (uint64_t)cfg->run_seed * 2 + (train ? 0 : 1));
    return s;
}
