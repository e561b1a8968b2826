/* safetensors.c — validating safetensors reader (mmap) and atomic writer (cJSON header). */
#include "burn/safetensors.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/fileio.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53: larger JSON numbers are not exact */

static uint64_t read_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0) || d > MAX_SAFE_INT || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int by_begin(const void *a, const void *b) {
    const burn_st_tensor *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

void burn_st_close(burn_st_file *f) {
    if (f->map) munmap(f->map, f->map_size);
    for (int i = 0; i < f->n; i++) free(f->tensors[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_values);
    free(f->path);
    memset(f, 0, sizeof *f);
}

/* Fail: set "<path>: <message>", release everything. */
#define FAIL(...)                                                       \
    do {                                                                \
        char *m_ = NULL;                                                \
        if (asprintf(&m_, __VA_ARGS__) < 0) m_ = NULL;                  \
        burn_error_set("%s: %s", path, m_ ? m_ : "invalid safetensors file"); \
        free(m_);                                                       \
        free(sorted);                                                   \
        cJSON_Delete(root);                                             \
        burn_st_close(f);                                               \
        return -1;                                                      \
    } while (0)

static int parse_metadata(burn_st_file *f, const cJSON *meta, const char *path, char **why) {
    if (!cJSON_IsObject(meta)) {
        *why = "__metadata__ is not an object";
        return -1;
    }
    int n = cJSON_GetArraySize(meta);
    f->meta_keys = burn_xcalloc((size_t)n, sizeof(char *));
    f->meta_values = burn_xcalloc((size_t)n, sizeof(char *));
    const cJSON *it;
    cJSON_ArrayForEach(it, meta) {
        if (!cJSON_IsString(it)) {
            *why = "__metadata__ values must be strings";
            return -1;
        }
        f->meta_keys[f->n_meta] = burn_xstrdup(it->string);
        f->meta_values[f->n_meta] = burn_xstrdup(it->valuestring);
        f->n_meta++;
    }
    (void)path;
    return 0;
}

int burn_st_open(burn_st_file *f, const char *path) {
    cJSON *root = NULL;
    burn_st_tensor *sorted = NULL; /* freed by FAIL */
    memset(f, 0, sizeof *f);
    f->path = burn_xstrdup(path);
    int fd = burn_open_regular(path);
    if (fd < 0) {
        free(f->path); /* burn_error() already names the path */
        f->path = NULL;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        FAIL("cannot stat: %s", strerror(errno));
    }
    size_t size = (size_t)st.st_size;
    if (size < 8) {
        close(fd);
        FAIL("truncated: %zu bytes, shorter than the 8-byte header length", size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) FAIL("cannot map: %s", strerror(errno));
    f->map = map;
    f->map_size = size;
    const unsigned char *bytes = map;
    uint64_t hlen = read_le64(bytes);
    if (hlen > size - 8)
        FAIL("header length %llu runs past the end of the file (%zu bytes)",
             (unsigned long long)hlen, size);
    if (hlen > BURN_ST_MAX_HEADER)
        FAIL("header length %llu is over the %u-byte limit", (unsigned long long)hlen,
             BURN_ST_MAX_HEADER);
    if (hlen < 2) FAIL("header of %llu bytes cannot hold a JSON object", (unsigned long long)hlen);
    const char *json = (const char *)bytes + 8;
    uint64_t data_size = size - 8 - hlen;
    const char *parse_end = NULL;
    root = cJSON_ParseWithLengthOpts(json, hlen, &parse_end, 0);
    if (!root) FAIL("header is not valid JSON (near byte %ld of the header)",
                    parse_end ? (long)(parse_end - json) : 0L);
    for (const char *p = parse_end; p < json + hlen; p++) /* trailing padding: spaces only */
        if (*p != ' ' && *p != '\0' && *p != '\n') FAIL("unexpected bytes after the JSON header");
    if (!cJSON_IsObject(root)) FAIL("header is not a JSON object");

    int count = cJSON_GetArraySize(root);
    f->tensors = burn_xcalloc((size_t)count, sizeof(burn_st_tensor));
    const cJSON *it;
    int seen_meta = 0;
    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "__metadata__") == 0) {
            /* cJSON keeps duplicate keys: a second one would overrun the first's arrays */
            if (seen_meta++) FAIL("duplicate __metadata__ entry");
            char *why = NULL;
            if (parse_metadata(f, it, path, &why) != 0) FAIL("%s", why);
            continue;
        }
        const char *name = it->string;
        if (!cJSON_IsObject(it)) FAIL("tensor '%s': entry is not an object", name);
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsString(dt)) FAIL("tensor '%s': missing or non-string dtype", name);
        burn_st_tensor *t = &f->tensors[f->n];
        if (burn_dtype_parse(dt->valuestring, &t->dtype) != 0)
            FAIL("tensor '%s': unknown dtype '%s'", name, dt->valuestring);
        if (!cJSON_IsArray(shape)) FAIL("tensor '%s': missing or non-array shape", name);
        int ndim = cJSON_GetArraySize(shape);
        if (ndim > BURN_MAX_DIMS)
            FAIL("tensor '%s': %d dimensions, more than the supported %d", name, ndim, BURN_MAX_DIMS);
        uint64_t numel = 1;
        for (int d = 0; d < ndim; d++) {
            uint64_t dim;
            if (json_uint(cJSON_GetArrayItem(shape, d), &dim) != 0)
                FAIL("tensor '%s': dimension %d is not an integer in [0, 2^53]", name, d);
            if (__builtin_mul_overflow(numel, dim, &numel) || numel > (uint64_t)MAX_SAFE_INT)
                FAIL("tensor '%s': shape overflows (dimension %d)", name, d);
            t->shape[d] = (int64_t)dim;
        }
        t->ndim = ndim;
        if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
            FAIL("tensor '%s': data_offsets must be [begin, end]", name);
        if (json_uint(cJSON_GetArrayItem(offs, 0), &t->begin) != 0 ||
            json_uint(cJSON_GetArrayItem(offs, 1), &t->end) != 0)
            FAIL("tensor '%s': data_offsets are not integers in [0, 2^53]", name);
        if (t->end < t->begin) FAIL("tensor '%s': data_offsets end before they begin", name);
        if (t->end > data_size)
            FAIL("tensor '%s': data_offsets [%llu, %llu] run past the data section (%llu bytes)",
                 name, (unsigned long long)t->begin, (unsigned long long)t->end,
                 (unsigned long long)data_size);
        uint64_t bytes_needed;
        if (__builtin_mul_overflow(numel, (uint64_t)burn_dtype_size(t->dtype), &bytes_needed) ||
            bytes_needed != t->end - t->begin)
            FAIL("tensor '%s': shape and dtype need %llu bytes but data_offsets span %llu", name,
                 (unsigned long long)(numel * burn_dtype_size(t->dtype)),
                 (unsigned long long)(t->end - t->begin));
        for (int j = 0; j < f->n; j++)
            if (strcmp(f->tensors[j].name, name) == 0) FAIL("tensor '%s' appears twice", name);
        t->name = burn_xstrdup(name);
        t->data = bytes + 8 + hlen + t->begin;
        f->n++;
    }
    /* spans must tile the data section: sorted, each starting where the previous ended */
    sorted = burn_xmalloc(sizeof(burn_st_tensor) * (size_t)(f->n ? f->n : 1));
    memcpy(sorted, f->tensors, sizeof(burn_st_tensor) * (size_t)f->n);
    qsort(sorted, (size_t)f->n, sizeof *sorted, by_begin);
    uint64_t pos = 0;
    for (int i = 0; i < f->n; i++) {
        if (sorted[i].begin < pos) FAIL("tensor '%s' overlaps another tensor's bytes", sorted[i].name);
        if (sorted[i].begin > pos)
            FAIL("data section has a hole of %llu bytes at offset %llu",
                 (unsigned long long)(sorted[i].begin - pos), (unsigned long long)pos);
        pos = sorted[i].end;
    }
    if (pos != data_size)
        FAIL("%llu bytes after the last tensor are not described by the header",
             (unsigned long long)(data_size - pos));
    free(sorted);
    cJSON_Delete(root);
    return 0;
}

const burn_st_tensor *burn_st_find(const burn_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *burn_st_meta(const burn_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

int burn_st_read_f32(const burn_st_file *f, const char *name, float *dst, int64_t numel) {
    const burn_st_tensor *t = burn_st_find(f, name);
    if (!t) {
        burn_error_set("%s: tensor '%s' is missing", f->path, name);
        return -1;
    }
    int64_t have = burn_numel(t->ndim, t->shape);
    if (have != numel) {
        burn_error_set("%s: tensor '%s' has %lld elements, expected %lld", f->path, name,
                       (long long)have, (long long)numel);
        return -1;
    }
    const unsigned char *src = t->data;
    /* what holds in every file burn reads, whoever reads it: BN running variances and Adam's
     * second moments are never negative */
    size_t len = strlen(name);
    int nonneg = (len >= 11 && strcmp(name + len - 11, "running_var") == 0) ||
                 strcmp(name, "optim.adam_v") == 0;
    for (int64_t i = 0; i < numel; i++) {
        float v;
        uint16_t h;
        switch (t->dtype) {
        case BURN_F32: memcpy(&v, src + 4 * i, 4); break;
        case BURN_F16: memcpy(&h, src + 2 * i, 2); v = burn_f16_to_f32(h); break;
        case BURN_BF16: memcpy(&h, src + 2 * i, 2); v = burn_bf16_to_f32(h); break;
        default:
            burn_error_set("%s: tensor '%s' is %s, expected a float dtype (F32, F16, BF16)",
                           f->path, name, burn_dtype_name(t->dtype));
            return -1;
        }
        if (!isfinite(v)) {
            burn_error_set("%s: tensor '%s' holds a non-finite value at element %lld", f->path,
                           name, (long long)i);
            return -1;
        }
        if (fabsf(v) > BURN_ST_MAX_ABS || (v < 0 && nonneg)) {
            burn_error_set("%s: tensor '%s' holds %g at element %lld: %s (the file is damaged)",
                           f->path, name, (double)v, (long long)i,
                           v < 0 && nonneg ? "a variance is never negative"
                                           : "beyond any trained value (|x| <= 1e15)");
            return -1;
        }
        dst[i] = v;
    }
    return 0;
}

/* ---- writer ---- */

void burn_st_writer_init(burn_st_writer *w) { memset(w, 0, sizeof *w); }

void burn_st_add(burn_st_writer *w, const char *name, burn_dtype dt, int ndim,
                 const int64_t *shape, const void *host_data) {
    if (ndim < 0 || ndim > BURN_MAX_DIMS)
        burn_check_fail("burn", "burn_st_add", __FILE__, __LINE__, "too many dimensions", name);
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->entries = burn_xrealloc(w->entries, sizeof(*w->entries) * (size_t)w->cap);
    }
    struct burn_st_wentry *e = &w->entries[w->n++];
    memset(e, 0, sizeof *e);
    e->name = burn_xstrdup(name);
    e->dtype = dt;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->data = host_data;
}

void burn_st_add_meta(burn_st_writer *w, const char *key, const char *value) {
    w->meta_keys = burn_xrealloc(w->meta_keys, sizeof(char *) * (size_t)(w->n_meta + 1));
    w->meta_values = burn_xrealloc(w->meta_values, sizeof(char *) * (size_t)(w->n_meta + 1));
    w->meta_keys[w->n_meta] = burn_xstrdup(key);
    w->meta_values[w->n_meta] = burn_xstrdup(value);
    w->n_meta++;
}

void burn_st_writer_free(burn_st_writer *w) {
    for (int i = 0; i < w->n; i++) free(w->entries[i].name);
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->entries);
    free(w->meta_keys);
    free(w->meta_values);
    memset(w, 0, sizeof *w);
}

int burn_st_save(const burn_st_writer *w, const char *path) {
    cJSON *root = cJSON_CreateObject();
    if (w->n_meta) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; i < w->n_meta; i++)
            cJSON_AddStringToObject(meta, w->meta_keys[i], w->meta_values[i]);
    }
    uint64_t offset = 0;
    for (int i = 0; i < w->n; i++) {
        const struct burn_st_wentry *e = &w->entries[i];
        uint64_t bytes = (uint64_t)burn_numel(e->ndim, e->shape) * burn_dtype_size(e->dtype);
        cJSON *t = cJSON_AddObjectToObject(root, e->name);
        cJSON_AddStringToObject(t, "dtype", burn_dtype_name(e->dtype));
        cJSON *shape = cJSON_AddArrayToObject(t, "shape");
        for (int d = 0; d < e->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)e->shape[d]));
        cJSON *offs = cJSON_AddArrayToObject(t, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(offset + bytes)));
        offset += bytes;
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) {
        burn_error_set("%s: could not build the header", path);
        return -1;
    }
    size_t jlen = strlen(json);
    size_t padded = (jlen + 7) / 8 * 8; /* keep the data section 8-byte aligned */
    unsigned char head[8];
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    burn_atomic_file af;
    int rc = burn_atomic_open(&af, path);
    if (rc == 0) rc = burn_atomic_write(&af, head, 8);
    if (rc == 0) rc = burn_atomic_write(&af, json, jlen);
    if (rc == 0 && padded > jlen) rc = burn_atomic_write(&af, "        ", padded - jlen);
    for (int i = 0; rc == 0 && i < w->n; i++) {
        const struct burn_st_wentry *e = &w->entries[i];
        size_t bytes = (size_t)burn_numel(e->ndim, e->shape) * burn_dtype_size(e->dtype);
        if (bytes) rc = burn_atomic_write(&af, e->data, bytes);
    }
    if (rc == 0) rc = burn_atomic_commit(&af);
    free(json);
    return rc;
}
