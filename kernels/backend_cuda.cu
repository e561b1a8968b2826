// backend_cuda.cu — the CUDA backend table: device setup, memory, stream, cuBLAS handle.
#include <stdio.h>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "burn/log.h"

extern "C" {
cudaStream_t burn_stream = nullptr;
cublasHandle_t burn_cublas = nullptr;
cudnnHandle_t burn_cudnn = nullptr;
int burn_debug_sync = 0;
}

static void *cuda_alloc(size_t bytes) {
    void *p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 256));
    return p;
}

static void cuda_free(void *p) { CUDA_CHECK(cudaFree(p)); }

static void cuda_upload(void *dst, const void *src, size_t bytes) {
    if (!bytes) return;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, burn_stream));
    // the caller may free or reuse src as soon as we return (pageable memory)
    CUDA_CHECK(cudaStreamSynchronize(burn_stream));
}

static void cuda_download(void *dst, const void *src, size_t bytes) {
    if (!bytes) return;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, burn_stream));
    CUDA_CHECK(cudaStreamSynchronize(burn_stream));
}

static void cuda_copy(void *dst, const void *src, size_t bytes) {
    if (!bytes) return;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, burn_stream));
}

static void *cuda_host_alloc(size_t bytes) {
    void *p = nullptr;
    CUDA_CHECK(cudaMallocHost(&p, bytes ? bytes : 64));
    return p;
}

static void cuda_host_free(void *p) { CUDA_CHECK(cudaFreeHost(p)); }

static void cuda_synchronize(void) { CUDA_CHECK(cudaStreamSynchronize(burn_stream)); }

// Filled field by field at first use: robust to the table's field order (C++ has no
// out-of-order designated initialisers).
static burn_backend cuda_backend_table;

static void fill_table(burn_backend *t) {
    t->name = "cuda";
    t->is_device = 1;
    t->alloc = cuda_alloc;
    t->free = cuda_free;
    t->upload = cuda_upload;
    t->download = cuda_download;
    t->copy = cuda_copy;
    t->synchronize = cuda_synchronize;
    t->host_alloc = cuda_host_alloc;
    t->host_free = cuda_host_free;
#define BURN_CUDA_OP_ENTRY(ret, name, params) t->name = cuda_##name;
    BURN_BACKEND_OPS(BURN_CUDA_OP_ENTRY)
#undef BURN_CUDA_OP_ENTRY
    t->dist_attach = cuda_dist_attach;
    t->dist_detach = cuda_dist_detach;
}

extern "C" int burn_built_with_cuda(void) { return 1; }

extern "C" int burn_cuda_device_count(void) {
    static int count = -1;
    if (count < 0) {
        int n = 0;
        // no driver / no device is an answer here, not an error
        count = cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
        cudaGetLastError(); // clear the sticky "no device" error
    }
    return count;
}

extern "C" const burn_backend *burn_cuda_backend(void) {
    if (burn_cuda_device_count() == 0) return nullptr;
    if (!burn_stream) {
        if (burn_device < 0) burn_device = 0;
        CUDA_CHECK(cudaSetDevice(burn_device));
        CUDA_CHECK(cudaStreamCreateWithFlags(&burn_stream, cudaStreamNonBlocking));
        CUBLAS_CHECK(cublasCreate(&burn_cublas));
        CUBLAS_CHECK(cublasSetStream(burn_cublas, burn_stream));
        CUDNN_CHECK(cudnnCreate(&burn_cudnn));
        CUDNN_CHECK(cudnnSetStream(burn_cudnn, burn_stream));
        cudaDeviceProp prop;
        CUDA_CHECK(cudaGetDeviceProperties(&prop, burn_device));
        fill_table(&cuda_backend_table);
        burn_log("CUDA device %d: %s (sm_%d%d, %.1f GiB)", burn_device, prop.name, prop.major,
                 prop.minor, (double)prop.totalGlobalMem / (1 << 30));
    }
    return &cuda_backend_table;
}
