/* safetensors.h — read and write the safetensors format (checkpoints, exported weights,
 * fixtures, features).
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v", ...}, "name": {"dtype": "F32", "shape": [..],
 *    "data_offsets": [begin, end]}, ...}
 * then the data: each tensor's raw little-endian bytes at [begin, end) relative to the end of
 * the header. The reader checks the header length, the JSON, every dtype, shape × dtype size
 * = byte span, offsets inside the file, no overlaps and no holes, and duplicate names, before
 * it hands out any data. Every failure names the file and the problem. */
#ifndef BURN_SAFETENSORS_H
#define BURN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "burn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BURN_ST_MAX_HEADER (100u << 20) /* 100 MiB, as the reference implementation */

typedef struct burn_st_tensor {
    char *name;
    burn_dtype dtype;
    int ndim;
    int64_t shape[BURN_MAX_DIMS];
    uint64_t begin, end;  /* byte span within the data section */
    const void *data;     /* into the mapping; may be unaligned: copy out with memcpy */
} burn_st_tensor;

typedef struct burn_st_file {
    char *path;
    void *map;
    size_t map_size;
    int n;
    burn_st_tensor *tensors;
    int n_meta;
    char **meta_keys, **meta_values;
} burn_st_file;

/* Map and validate path. 0, or -1 with burn_error() = "<path>: <problem>". */
int burn_st_open(burn_st_file *f, const char *path);
void burn_st_close(burn_st_file *f);
const burn_st_tensor *burn_st_find(const burn_st_file *f, const char *name);
const char *burn_st_meta(const burn_st_file *f, const char *key); /* NULL when absent */

/* No tensor of a trained network holds a larger magnitude: a finite 3e38 is a damaged file
 * whose forward pass would overflow to NaN. */
#define BURN_ST_MAX_ABS 1e15f

/* Copy tensor `name` into dst[numel] as float32 (from F32, F16 or BF16). Fails with a message
 * naming the tensor when it is missing, has another element count, another dtype, or holds
 * a non-finite value, a magnitude above BURN_ST_MAX_ABS, or a negative value where none can
 * be (*running_var, optim.adam_v): checkpoints are checked before they are trusted. */
int burn_st_read_f32(const burn_st_file *f, const char *name, float *dst, int64_t numel);

typedef struct burn_st_writer {
    int n, cap;
    struct burn_st_wentry {
        char *name;
        burn_dtype dtype;
        int ndim;
        int64_t shape[BURN_MAX_DIMS];
        const void *data; /* host memory, must stay valid until burn_st_save returns */
    } *entries;
    int n_meta;
    char **meta_keys, **meta_values;
} burn_st_writer;

void burn_st_writer_init(burn_st_writer *w);
void burn_st_add(burn_st_writer *w, const char *name, burn_dtype dt, int ndim,
                 const int64_t *shape, const void *host_data);
void burn_st_add_meta(burn_st_writer *w, const char *key, const char *value);
/* Write atomically (tmp, fsync, rename). 0, or -1 with burn_error(). */
int burn_st_save(const burn_st_writer *w, const char *path);
void burn_st_writer_free(burn_st_writer *w);

#ifdef __cplusplus
}
#endif

#endif
