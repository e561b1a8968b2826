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
    t->fill = cuda_fill;
    t->scale = cuda_scale;
    t->axpy = cuda_axpy;
    t->add = cuda_add;
    t->mul = cuda_mul;
    t->sum = cuda_sum;
    t->sumsq = cuda_sumsq;
    t->gemm = cuda_gemm;
    t->set_compute_precision = cuda_set_compute_precision;
    t->uniform = cuda_uniform;
    t->normal = cuda_normal;
    t->adam_step = cuda_adam_step;
    t->sign_forward = cuda_sign_forward;
    t->sign_backward = cuda_sign_backward;
    t->rsign_forward = cuda_rsign_forward;
    t->rsign_backward = cuda_rsign_backward;
    t->rprelu_forward = cuda_rprelu_forward;
    t->rprelu_backward = cuda_rprelu_backward;
    t->binarize_weights = cuda_binarize_weights;
    t->binarize_weights_backward = cuda_binarize_weights_backward;
    t->loss_fused = cuda_loss_fused;
    t->loss_unfused = cuda_loss_unfused;
    t->conv2d_forward = cuda_conv2d_forward;
    t->conv2d_backward_data = cuda_conv2d_backward_data;
    t->conv2d_backward_filter = cuda_conv2d_backward_filter;
    t->bn_stats = cuda_bn_stats;
    t->bn_finalize = cuda_bn_finalize;
    t->bn_normalize = cuda_bn_normalize;
    t->bn_eval = cuda_bn_eval;
    t->bn_backward_stats = cuda_bn_backward_stats;
    t->bn_backward_dx = cuda_bn_backward_dx;
    t->relu_forward = cuda_relu_forward;
    t->relu_backward = cuda_relu_backward;
    t->prelu_forward = cuda_prelu_forward;
    t->prelu_backward = cuda_prelu_backward;
    t->bias_forward = cuda_bias_forward;
    t->channel_sum = cuda_channel_sum;
    t->maxpool2d_forward = cuda_maxpool2d_forward;
    t->maxpool2d_backward = cuda_maxpool2d_backward;
    t->avgpool2d_forward = cuda_avgpool2d_forward;
    t->avgpool2d_backward = cuda_avgpool2d_backward;
    t->global_avgpool_forward = cuda_global_avgpool_forward;
    t->global_avgpool_backward = cuda_global_avgpool_backward;
    t->copy2d = cuda_copy2d;
    t->l2norm_rows_forward = cuda_l2norm_rows_forward;
    t->l2norm_rows_backward = cuda_l2norm_rows_backward;
    t->infonce = cuda_infonce;
    t->row_dot = cuda_row_dot;
    t->row_scale_add = cuda_row_scale_add;
    t->sgd_step = cuda_sgd_step;
    t->dist_attach = cuda_dist_attach;
    t->dist_detach = cuda_dist_detach;
    t->dist_sum_f64 = cuda_dist_sum_f64;
    t->dist_mean_start = cuda_dist_mean_start;
    t->dist_mean_wait = cuda_dist_mean_wait;
    t->bits_pack = cuda_bits_pack;
    t->bits_unpack = cuda_bits_unpack;
    t->xnor_gemm = cuda_xnor_gemm;
    t->bconv_workspace_bytes = cuda_bconv_workspace_bytes;
    t->bconv_pack_weights = cuda_bconv_pack_weights;
    t->bconv_forward_bin = cuda_bconv_forward_bin;
    t->bconv_forward_real = cuda_bconv_forward_real;
    t->bconv_backward = cuda_bconv_backward;
    t->lowp_convert = cuda_lowp_convert;
    t->lowp_gemm = cuda_lowp_gemm;
    t->softmax_xent = cuda_softmax_xent;
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
