// conv2d_cudnn.cu — FP conv2d forward, backward-data and backward-filter through cuDNN
// (mirrors src/cpu/conv2d.c). x[N, C, H, W], w[O, C, kh, kw], y[N, O, Ho, Wo], NCHW float32,
// cross-correlation as PyTorch's Conv2d.
//
// Per distinct geometry a "plan" is made once and cached: the tensor, filter and convolution
// descriptors and one algorithm for each direction, chosen from cuDNN's heuristic ranking
// (cudnnGet*Algorithm_v7). The convolution descriptor is set to CUDNN_FMA_MATH: pure FP32,
// never TF32 tensor cores, so results match the CPU's to float rounding. Among the ranked
// algorithms we take the first that runs under that math mode with a workspace within
// CONV_WORKSPACE_LIMIT, deterministic ones first (backward-filter's atomics variants would
// make runs differ bit-wise). Under BF16/FP16 compute (include/burn/precision.h) the operands
// are rounded to that format first and the plan (one per geometry and math) allows tensor-op
// math: TF32 tensor cores, whose products of BF16/FP16 values are exact. One workspace, owned here, grows (stream-ordered) to the
// largest need, so steady-state calls do not allocate.
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"
#include "cuda_ops.h"

#define CONV_WORKSPACE_LIMIT ((size_t)1 << 30)

struct conv_plan {
    burn_conv2d geo;
    bool tensor_ops; // BF16/FP16-valued operands: TF32 tensor cores allowed
    cudnnTensorDescriptor_t x_desc, y_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t conv_desc;
    cudnnConvolutionFwdAlgo_t fwd_algo;
    cudnnConvolutionBwdDataAlgo_t data_algo;
    cudnnConvolutionBwdFilterAlgo_t filter_algo;
    size_t fwd_ws, data_ws, filter_ws; // workspace bytes of each
};

static conv_plan **plans;
static int nplans, plans_cap;

static void *workspace_buf;
static size_t workspace_cap;

static void *workspace(size_t bytes) {
    if (bytes == 0) return nullptr;
    if (bytes > workspace_cap) {
        if (workspace_buf) CUDA_CHECK(cudaFreeAsync(workspace_buf, burn_stream));
        CUDA_CHECK(cudaMallocAsync(&workspace_buf, bytes, burn_stream));
        workspace_cap = bytes;
    }
    return workspace_buf;
}

// train.debug: like BURN_LAUNCH_CHECK for kernels, surface asynchronous faults at the call
static void debug_sync(void) {
    if (burn_debug_sync) CUDA_CHECK(cudaStreamSynchronize(burn_stream));
}

static int64_t x_numel(const burn_conv2d *cv) { return (int64_t)cv->N * cv->C * cv->H * cv->W; }
static int64_t y_numel(const burn_conv2d *cv) { return (int64_t)cv->N * cv->O * cv->Ho * cv->Wo; }
static int64_t w_numel(const burn_conv2d *cv) { return (int64_t)cv->O * cv->C * cv->kh * cv->kw; }

static int same_geometry(const burn_conv2d *a, const burn_conv2d *b) {
    return a->N == b->N && a->C == b->C && a->H == b->H && a->W == b->W && a->O == b->O &&
           a->kh == b->kh && a->kw == b->kw && a->stride == b->stride && a->pad == b->pad;
}

static bool tensor_op_math(cudnnMathType_t m) {
    return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

// The first acceptable entry of cuDNN's ranked list `perf[n]` (see the file comment), else the
// first of `fallback[nfallback]` whose workspace query succeeds. workspace_of(algo, &bytes)
// returns the cuDNN status of the workspace query for algo under our descriptors.
template <class Perf, class Algo, class WorkspaceOf>
static Algo choose_algo(const Perf *perf, int n, bool tensor_ops, WorkspaceOf workspace_of,
                        const Algo *fallback, int nfallback, size_t *ws, const char *direction) {
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const Perf &p = perf[i];
            if (p.status != CUDNN_STATUS_SUCCESS) continue;
            if (!tensor_ops && tensor_op_math(p.mathType)) continue;
            if (pass == 0 && p.determinism != CUDNN_DETERMINISTIC) continue;
            size_t bytes = 0;
            if (workspace_of(p.algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
            if (bytes > CONV_WORKSPACE_LIMIT) continue;
            *ws = bytes;
            return p.algo;
        }
    for (int i = 0; i < nfallback; i++) {
        size_t bytes = 0;
        if (workspace_of(fallback[i], &bytes) == CUDNN_STATUS_SUCCESS) {
            *ws = bytes;
            return fallback[i];
        }
    }
    burn_check_fail("cuDNN", direction, __FILE__, __LINE__,
                    "no convolution algorithm supports this geometry in FP32",
                    "check the conv2d shapes");
}

static conv_plan *make_plan(const burn_conv2d *cv, bool tensor_ops) {
    conv_plan *p = (conv_plan *)calloc(1, sizeof *p);
    if (!p) burn_check_fail("libc", "calloc", __FILE__, __LINE__, "out of host memory", NULL);
    p->geo = *cv;
    p->tensor_ops = tensor_ops;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x_desc));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y_desc));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w_desc));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv_desc));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, cv->N,
                                           cv->C, cv->H, cv->W));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cv->O,
                                           cv->C, cv->kh, cv->kw));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv_desc, cv->pad, cv->pad, cv->stride,
                                                cv->stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv_desc,
                                            tensor_ops ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
    int n_out, c_out, h_out, w_out;
    CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(p->conv_desc, p->x_desc, p->w_desc, &n_out,
                                                      &c_out, &h_out, &w_out));
    if (n_out != cv->N || c_out != cv->O || h_out != cv->Ho || w_out != cv->Wo)
        burn_check_fail("cuDNN", "cudnnGetConvolution2dForwardOutputDim", __FILE__, __LINE__,
                        "cuDNN's output shape differs from burn_conv2d_init's",
                        "was the descriptor filled by burn_conv2d_init?");
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, cv->N,
                                           cv->O, cv->Ho, cv->Wo));

    int max_count = 0, returned = 0;
    { // forward
        CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(burn_cudnn, &max_count));
        cudnnConvolutionFwdAlgoPerf_t perf[32];
        if (max_count > 32) max_count = 32;
        CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(burn_cudnn, p->x_desc, p->w_desc,
                                                           p->conv_desc, p->y_desc, max_count,
                                                           &returned, perf));
        const cudnnConvolutionFwdAlgo_t fallback[] = {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM};
        p->fwd_algo = choose_algo(
            perf, returned, tensor_ops,
            [p](cudnnConvolutionFwdAlgo_t a, size_t *bytes) {
                return cudnnGetConvolutionForwardWorkspaceSize(burn_cudnn, p->x_desc, p->w_desc,
                                                               p->conv_desc, p->y_desc, a, bytes);
            },
            fallback, 1, &p->fwd_ws, "conv2d forward algorithm");
    }
    { // backward data: dx from dy and w
        CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(burn_cudnn, &max_count));
        cudnnConvolutionBwdDataAlgoPerf_t perf[32];
        if (max_count > 32) max_count = 32;
        CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(burn_cudnn, p->w_desc, p->y_desc,
                                                                p->conv_desc, p->x_desc,
                                                                max_count, &returned, perf));
        const cudnnConvolutionBwdDataAlgo_t fallback[] = {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_0};
        p->data_algo = choose_algo(
            perf, returned, tensor_ops,
            [p](cudnnConvolutionBwdDataAlgo_t a, size_t *bytes) {
                return cudnnGetConvolutionBackwardDataWorkspaceSize(
                    burn_cudnn, p->w_desc, p->y_desc, p->conv_desc, p->x_desc, a, bytes);
            },
            fallback, 2, &p->data_ws, "conv2d backward-data algorithm");
    }
    { // backward filter: dw from x and dy
        CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(burn_cudnn, &max_count));
        cudnnConvolutionBwdFilterAlgoPerf_t perf[32];
        if (max_count > 32) max_count = 32;
        CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(burn_cudnn, p->x_desc,
                                                                  p->y_desc, p->conv_desc,
                                                                  p->w_desc, max_count,
                                                                  &returned, perf));
        const cudnnConvolutionBwdFilterAlgo_t fallback[] = {
            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0};
        p->filter_algo = choose_algo(
            perf, returned, tensor_ops,
            [p](cudnnConvolutionBwdFilterAlgo_t a, size_t *bytes) {
                return cudnnGetConvolutionBackwardFilterWorkspaceSize(
                    burn_cudnn, p->x_desc, p->y_desc, p->conv_desc, p->w_desc, a, bytes);
            },
            fallback, 2, &p->filter_ws, "conv2d backward-filter algorithm");
    }
    return p;
}

static conv_plan *plan_for(const burn_conv2d *cv) {
    bool tensor_ops = cuda_precision != BURN_COMPUTE_FP32;
    for (int i = 0; i < nplans; i++)
        if (same_geometry(&plans[i]->geo, cv) && plans[i]->tensor_ops == tensor_ops)
            return plans[i];
    if (nplans == plans_cap) {
        plans_cap = plans_cap ? 2 * plans_cap : 16;
        plans = (conv_plan **)realloc(plans, plans_cap * sizeof *plans);
        if (!plans) burn_check_fail("libc", "realloc", __FILE__, __LINE__, "out of host memory",
                                    NULL);
    }
    plans[nplans] = make_plan(cv, tensor_ops);
    return plans[nplans++];
}

extern "C" void cuda_conv2d_forward(const burn_conv2d *cv, float *y, const float *x,
                                    const float *w) {
    conv_plan *p = plan_for(cv);
    if (p->tensor_ops) {
        x = cuda_rounded_operand(0, x, x_numel(cv));
        w = cuda_rounded_operand(1, w, w_numel(cv));
    }
    const float one = 1.0f, zero = 0.0f;
    void *ws = workspace(p->fwd_ws);
    CUDNN_CHECK(cudnnConvolutionForward(burn_cudnn, &one, p->x_desc, x, p->w_desc, w,
                                        p->conv_desc, p->fwd_algo, ws, p->fwd_ws, &zero,
                                        p->y_desc, y));
    debug_sync();
}

extern "C" void cuda_conv2d_backward_data(const burn_conv2d *cv, float *dx, const float *dy,
                                          const float *w) {
    conv_plan *p = plan_for(cv);
    if (p->tensor_ops) {
        dy = cuda_rounded_operand(0, dy, y_numel(cv));
        w = cuda_rounded_operand(1, w, w_numel(cv));
    }
    const float one = 1.0f, zero = 0.0f;
    void *ws = workspace(p->data_ws);
    CUDNN_CHECK(cudnnConvolutionBackwardData(burn_cudnn, &one, p->w_desc, w, p->y_desc, dy,
                                             p->conv_desc, p->data_algo, ws, p->data_ws, &zero,
                                             p->x_desc, dx));
    debug_sync();
}

// dw += ...: beta = 1 blends into the existing gradient (accumulation over micro-batches).
extern "C" void cuda_conv2d_backward_filter(const burn_conv2d *cv, float *dw, const float *dy,
                                            const float *x) {
    conv_plan *p = plan_for(cv);
    if (p->tensor_ops) {
        x = cuda_rounded_operand(0, x, x_numel(cv));
        dy = cuda_rounded_operand(1, dy, y_numel(cv));
    }
    const float one = 1.0f;
    void *ws = workspace(p->filter_ws);
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(burn_cudnn, &one, p->x_desc, x, p->y_desc, dy,
                                               p->conv_desc, p->filter_algo, ws, p->filter_ws,
                                               &one, p->w_desc, dw));
    debug_sync();
}
