/* params.h — all parameters of a model in one contiguous buffer with named views.
 *
 * A model registers each tensor by name (PyTorch state-dict names of the reference models,
 * e.g. "blocks.3.conv3x3.weight", "bn1.running_mean"), then burn_params_finalize allocates:
 *   data[total]        on the backend: trainable tensors first (in registration order), then
 *                      buffers (BN running statistics: saved, never trained);
 *   grad[trainable]    same layout as the trainable prefix of data.
 * One buffer makes the all-reduce, the optimiser and the checkpoint one call each. Tensors
 * are float32; offsets are in floats and 16-float (64-byte) aligned. */
#ifndef BURN_PARAMS_H
#define BURN_PARAMS_H

#include <stdint.h>

#include "burn/backend.h"
#include "burn/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum burn_param_kind {
    BURN_PARAM_TRAINABLE, /* weight, bias, slope, threshold: has a gradient */
    BURN_PARAM_BUFFER     /* running statistics: saved and loaded, no gradient */
} burn_param_kind;

/* How a parameter is initialised by burn_params_init (METHOD.md §1-2). */
typedef enum burn_init {
    BURN_INIT_ZERO,
    BURN_INIT_ONE,
    BURN_INIT_CONST,          /* value */
    BURN_INIT_KAIMING_NORMAL  /* N(0, 2 / fan_in), fan_in = numel / shape[0] */
} burn_init;

typedef struct burn_param {
    char *name;
    int ndim;
    int64_t shape[4];
    int64_t numel;
    int64_t offset; /* in floats, into data (and grad, for trainables) */
    burn_param_kind kind;
    burn_init init;
    float init_value;
    int binary;     /* 1: binarised in the forward pass (1-bit weight of a binary conv) */
} burn_param;

typedef struct burn_params {
    const burn_backend *be;
    int n, cap;
    burn_param *p;
    int64_t trainable; /* floats in the trainable prefix */
    int64_t total;     /* floats in data */
    float *data;       /* backend memory, NULL until finalize */
    float *grad;       /* backend memory [trainable] */
} burn_params;

void burn_params_init_registry(burn_params *ps);
/* Register a tensor; returns its index. Names must be unique (checked at finalize). */
int burn_params_add(burn_params *ps, const char *name, burn_param_kind kind, int ndim,
                    const int64_t *shape, burn_init init, float init_value);
/* Allocate data and grad on be; grad zeroed, data left for burn_params_init/load. */
void burn_params_finalize(burn_params *ps, const burn_backend *be);
void burn_params_free(burn_params *ps);

/* Index of a name, or -1. */
int burn_params_find(const burn_params *ps, const char *name);
/* Backend pointers of tensor i. */
float *burn_param_data(const burn_params *ps, int i);
float *burn_param_grad(const burn_params *ps, int i); /* NULL for buffers */

/* Initialise every tensor by its rule on the host (Philox stream `seed`, tensor i drawing
 * from offset = its data offset, so the result does not depend on the backend) and upload. */
void burn_params_init(burn_params *ps, uint64_t seed);

/* Save: every tensor (downloaded) into the writer under prefix + name. The host copy `host`
 * (total floats, from burn_params_download) must stay valid until the writer is saved. */
void burn_params_download(const burn_params *ps, float *host);
void burn_params_add_to_writer(const burn_params *ps, burn_st_writer *w, const char *prefix,
                               const float *host);
/* Load every tensor from f (names prefix + name). Strict: a missing tensor, a shape mismatch,
 * a non-float or non-finite tensor, or (when no_extra) a tensor in f under prefix that the
 * model lacks, is an error naming the tensor; nothing is modified unless all checks pass. */
int burn_params_load(burn_params *ps, const burn_st_file *f, const char *prefix, int no_extra);
/* The same with renaming: the file name of a parameter is `add` + its name without a leading
 * `drop` (e.g. drop "teacher." to read a converted teacher file with bare torchvision names);
 * no_extra then checks the tensors under `add`. */
int burn_params_load_renamed(burn_params *ps, const burn_st_file *f, const char *drop,
                             const char *add, int no_extra);

/* Number of floats summed over the tensors matching a predicate (for summaries). */
int64_t burn_params_count(const burn_params *ps, int trainable_only, int binary_only);

#ifdef __cplusplus
}
#endif

#endif
