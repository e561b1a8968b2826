/* features_io.c — saved features (`burn_gpu extract`): a safetensors file with "features"
 * F32 [count, dim] and "labels" I32 [count], metadata backbone, split, checkpoint, dim,
 * classes. The reader trusts nothing: shapes agree, values finite, labels in range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/eval.h"
#include "burn/safetensors.h"

int burn_features_save(const burn_features *f, const char *path, const char *backbone,
                       const char *split, const char *checkpoint) {
    burn_st_writer w;
    burn_st_writer_init(&w);
    int64_t xs[2] = {f->count, f->dim}, ls[1] = {f->count};
    burn_st_add(&w, "features", BURN_F32, 2, xs, f->x);
    burn_st_add(&w, "labels", BURN_I32, 1, ls, f->labels);
    char dim[32], classes[32];
    snprintf(dim, sizeof dim, "%d", f->dim);
    snprintf(classes, sizeof classes, "%d", f->num_classes);
    burn_st_add_meta(&w, "backbone", backbone);
    burn_st_add_meta(&w, "split", split);
    burn_st_add_meta(&w, "checkpoint", checkpoint && *checkpoint ? checkpoint : "none");
    burn_st_add_meta(&w, "dim", dim);
    burn_st_add_meta(&w, "classes", classes);
    int rc = burn_st_save(&w, path);
    burn_st_writer_free(&w);
    return rc;
}

/* A positive integer from metadata key, or -1 with burn_error(). */
static long meta_int(const burn_st_file *st, const char *path, const char *key) {
    const char *v = burn_st_meta(st, key);
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : -1;
    if (!v || end == v || *end || n <= 0 || n > 1L << 30) {
        burn_error_set("%s: metadata '%s' is %s (not a features file of burn_gpu extract?)",
                       path, key, v ? "not a positive integer" : "missing");
        return -1;
    }
    return n;
}

int burn_features_load(burn_features *f, const char *path) {
    memset(f, 0, sizeof *f);
    burn_st_file st;
    if (burn_st_open(&st, path) != 0) return -1;
    int rc = -1;
    const burn_st_tensor *x = burn_st_find(&st, "features"), *y = burn_st_find(&st, "labels");
    long dim = meta_int(&st, path, "dim"), classes = dim > 0 ? meta_int(&st, path, "classes") : -1;
    if (dim <= 0 || classes <= 0) goto out;
    if (!x || !y) {
        burn_error_set("%s: no '%s' tensor (not a features file of burn_gpu extract?)", path,
                       x ? "labels" : "features");
        goto out;
    }
    if (x->dtype != BURN_F32 || x->ndim != 2 || x->shape[0] <= 0 || x->shape[1] != dim) {
        burn_error_set("%s: 'features' must be F32 [count > 0, %ld] (metadata dim)", path, dim);
        goto out;
    }
    if (y->dtype != BURN_I32 || y->ndim != 1 || y->shape[0] != x->shape[0]) {
        burn_error_set("%s: 'labels' must be I32 [%lld], one per feature row", path,
                       (long long)x->shape[0]);
        goto out;
    }
    if (classes < 2) {
        burn_error_set("%s: %ld class (at least 2 needed)", path, classes);
        goto out;
    }
    f->count = x->shape[0];
    f->dim = (int)dim;
    f->num_classes = (int)classes;
    f->x = burn_xmalloc((size_t)f->count * (size_t)dim * sizeof(float));
    f->labels = burn_xmalloc((size_t)f->count * sizeof(int32_t));
    if (burn_st_read_f32(&st, "features", f->x, f->count * dim) != 0) goto out; /* finite */
    memcpy(f->labels, y->data, (size_t)f->count * sizeof(int32_t));
    for (int64_t i = 0; i < f->count; i++)
        if (f->labels[i] < 0 || f->labels[i] >= classes) {
            burn_error_set("%s: label %d of row %lld is outside [0, %ld)", path,
                           (int)f->labels[i], (long long)i, classes);
            goto out;
        }
    rc = 0;
out:
    burn_st_close(&st);
    if (rc != 0) burn_features_free(f);
    return rc;
}
