/* cuda_absent.c — linked instead of kernels/ when make found no CUDA toolkit: the CUDA
 * backend reports itself unavailable. */
#include <stddef.h>

#include "burn/backend.h"

const burn_backend *burn_cuda_backend(void) { return NULL; }
int burn_cuda_device_count(void) { return 0; }
int burn_built_with_cuda(void) { return 0; }
int burn_debug_sync = 0;
