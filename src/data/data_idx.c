/* data_idx.c — the IDX source (MNIST, Fashion-MNIST, KMNIST, ...): an images file of unsigned
 * bytes N×rows×cols and a labels file of N unsigned bytes.
 *
 * IDX header: two zero bytes, the element type (0x08 = unsigned byte, the only one accepted
 * here), the number of dimensions, then each dimension as a big-endian uint32; the data
 * follows, row-major. Both files are checked in full (magic, type, dimensions, exact size,
 * matching counts) before any image is served. Files may be gzip-compressed (*.gz, as the
 * Debian dataset packages ship them): they are inflated in memory first. The images are kept in memory (Fashion-MNIST train: 47 MB) and served
 * as gray replicated to RGB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/fileio.h"
#include "data_internal.h"

#define MAX_IDX_BYTES ((size_t)8 << 30)

typedef struct idx_impl {
    unsigned char *images; /* whole file; pixels at images + header */
    size_t header;
    int rows, cols;
} idx_impl;

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Validate an IDX file's header against the expected number of dimensions; dims[ndim]. */
static int idx_parse(const char *path, const unsigned char *d, size_t size, int want_ndim,
                     int64_t *dims, size_t *header) {
    if (size < 4) {
        burn_error_set("%s: %zu bytes, too short for an IDX header", path, size);
        return -1;
    }
    if (d[0] != 0 || d[1] != 0) {
        burn_error_set("%s: bad IDX magic %02x %02x %02x %02x (expected 00 00 08 %02x)", path,
                       d[0], d[1], d[2], d[3], want_ndim);
        return -1;
    }
    if (d[2] != 0x08) {
        burn_error_set("%s: IDX element type 0x%02x is not supported (only unsigned bytes, 0x08)",
                       path, d[2]);
        return -1;
    }
    if (d[3] != want_ndim) {
        burn_error_set("%s: IDX file has %d dimensions, expected %d (%s)", path, d[3], want_ndim,
                       want_ndim == 1 ? "labels: N" : "images: N x rows x cols");
        return -1;
    }
    *header = 4 + 4 * (size_t)want_ndim;
    if (size < *header) {
        burn_error_set("%s: truncated IDX header (%zu of %zu bytes)", path, size, *header);
        return -1;
    }
    uint64_t total = 1;
    for (int k = 0; k < want_ndim; k++) {
        dims[k] = be32(d + 4 + 4 * k);
        if (dims[k] == 0) {
            burn_error_set("%s: IDX dimension %d is 0", path, k);
            return -1;
        }
        if (k > 0 && dims[k] > 65536) {
            burn_error_set("%s: IDX image side %lld is implausibly large", path,
                           (long long)dims[k]);
            return -1;
        }
        total *= (uint64_t)dims[k];
    }
    if (total + *header != size) {
        burn_error_set("%s: IDX data should be %llu bytes after the header, file has %zu "
                       "(%s)", path, (unsigned long long)total, size - *header,
                       total + *header > size ? "truncated" : "trailing bytes");
        return -1;
    }
    return 0;
}

/* Read an IDX file, inflating it when it is gzip-compressed. */
static int read_idx(const char *path, unsigned char **data, size_t *size) {
    if (burn_read_file(path, MAX_IDX_BYTES, data, size) != 0) return -1;
    if (*size >= 2 && (*data)[0] == 0x1f && (*data)[1] == 0x8b) {
        uint8_t *raw = NULL;
        size_t n = 0;
        int rc = burn_gunzip(*data, *size, MAX_IDX_BYTES, path, &raw, &n);
        free(*data);
        *data = raw;
        *size = n;
        return rc;
    }
    return 0;
}

static int idx_load(const burn_source *s, int64_t i, burn_image *img) {
    const idx_impl *x = s->impl;
    burn_image_resize(img, x->cols, x->rows);
    const unsigned char *src = x->images + x->header + (size_t)i * x->rows * x->cols;
    for (size_t p = 0, n = (size_t)x->rows * x->cols; p < n; p++)
        img->rgb[3 * p] = img->rgb[3 * p + 1] = img->rgb[3 * p + 2] = src[p];
    return 0;
}

static void idx_describe(const burn_source *s, int64_t i, char *buf, size_t len) {
    snprintf(buf, len, "%s[%lld]", s->origin, (long long)i);
}

static void idx_destroy(burn_source *s) {
    idx_impl *x = s->impl;
    if (x) free(x->images);
    free(x);
    s->impl = NULL;
}

burn_source *burn_source_idx(const char *images_path, const char *labels_path) {
    unsigned char *img = NULL, *lab = NULL;
    size_t img_size = 0, lab_size = 0, img_header = 0, lab_header = 0;
    int64_t idims[3], ldims[1];
    if (read_idx(images_path, &img, &img_size) != 0) return NULL;
    if (idx_parse(images_path, img, img_size, 3, idims, &img_header) != 0 ||
        read_idx(labels_path, &lab, &lab_size) != 0 ||
        idx_parse(labels_path, lab, lab_size, 1, ldims, &lab_header) != 0) {
        free(img);
        free(lab);
        return NULL;
    }
    if (idims[0] != ldims[0]) {
        burn_error_set("%s has %lld images but %s has %lld labels", images_path,
                       (long long)idims[0], labels_path, (long long)ldims[0]);
        free(img);
        free(lab);
        return NULL;
    }
    burn_source *s = burn_source_new("idx", images_path, NULL);
    idx_impl *x = burn_xcalloc(1, sizeof *x);
    x->images = img;
    x->header = img_header;
    x->rows = (int)idims[1];
    x->cols = (int)idims[2];
    s->impl = x;
    s->load = idx_load;
    s->describe = idx_describe;
    s->destroy = idx_destroy;
    s->count = idims[0];
    s->labels = burn_xmalloc((size_t)s->count * sizeof(int32_t));
    int maxl = 0;
    for (int64_t i = 0; i < s->count; i++) {
        s->labels[i] = lab[lab_header + i];
        if (s->labels[i] > maxl) maxl = s->labels[i];
    }
    s->num_classes = maxl + 1;
    free(lab);
    return s;
}
