// cuda_ops.h — the CUDA backend's op functions: cuda_<name> for every entry of the backend
// table, declared from its one list (BURN_BACKEND_OPS, include/burn/backend.h; mirrors
// src/cpu/cpu_ops.h), plus the optional entries CUDA fills. backend_cuda.cu puts them into
// the table; each .cu file in kernels/ defines some of them.
#pragma once
#include <stdint.h>

#include "burn/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BURN_CUDA_OP_DECL(ret, name, params) ret cuda_##name params;
BURN_BACKEND_OPS(BURN_CUDA_OP_DECL)
#undef BURN_CUDA_OP_DECL

// dist_nccl.cu (data-parallel collectives over NCCL): the optional entries
int cuda_dist_attach(int rank, int world, double timeout_s, void (*bcast)(void *buf, int bytes));
void cuda_dist_detach(void);

#ifdef __cplusplus
}
#endif
