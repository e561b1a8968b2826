/* tensor.h — dtypes and a small n-d tensor handle over backend memory.
 *
 * Most of burn works on flat float buffers with shapes in comments (llm.c style); a
 * burn_tensor is the handle used where the shape travels with the data: checkpoints, tests,
 * parameter views. The data pointer lives in the memory of `be` (host for the CPU backend,
 * device for CUDA). */
#ifndef BURN_TENSOR_H
#define BURN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct burn_backend;

/* Element types; the names are safetensors' dtype strings. */
typedef enum burn_dtype {
    BURN_F32, BURN_F16, BURN_BF16, BURN_I32, BURN_I64, BURN_U8, BURN_U32, BURN_U64,
    BURN_DTYPE_COUNT
} burn_dtype;

size_t burn_dtype_size(burn_dtype dt);
const char *burn_dtype_name(burn_dtype dt);            /* "F32", "BF16", ... */
int burn_dtype_parse(const char *name, burn_dtype *out); /* 0 ok, -1 unknown */

#define BURN_MAX_DIMS 8

typedef struct burn_tensor {
    const struct burn_backend *be; /* whose memory `data` is in */
    void *data;
    burn_dtype dtype;
    int ndim;
    int64_t shape[BURN_MAX_DIMS];
    int owns_data; /* 1: burn_tensor_free releases data */
} burn_tensor;

/* Allocate an uninitialised tensor of the given shape on backend `be`. */
burn_tensor burn_tensor_new(const struct burn_backend *be, burn_dtype dt, int ndim,
                            const int64_t *shape);
/* A non-owning view of existing backend memory. */
burn_tensor burn_tensor_view(const struct burn_backend *be, void *data, burn_dtype dt, int ndim,
                             const int64_t *shape);
void burn_tensor_free(burn_tensor *t);

int64_t burn_numel(int ndim, const int64_t *shape);
int64_t burn_tensor_numel(const burn_tensor *t);
size_t burn_tensor_bytes(const burn_tensor *t);

/* Host <-> tensor copies of the whole tensor (bytes = burn_tensor_bytes). */
void burn_tensor_upload(burn_tensor *t, const void *host);
void burn_tensor_download(const burn_tensor *t, void *host);

/* IEEE half / bfloat16 conversions (round to nearest even), used by checkpoints and tests. */
uint16_t burn_f32_to_f16(float f);
float burn_f16_to_f32(uint16_t h);
uint16_t burn_f32_to_bf16(float f);
float burn_bf16_to_f32(uint16_t b);

#ifdef __cplusplus
}
#endif

#endif
