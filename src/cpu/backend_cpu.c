/* backend_cpu.c — the CPU backend table: host memory (64-byte aligned for AVX) and the
 * src/cpu/ ops. */
#include <stdlib.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "cpu_ops.h"

static void *cpu_alloc(size_t bytes) {
    void *p = NULL;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
        burn_check_fail("libc", "posix_memalign", __FILE__, __LINE__, "out of host memory",
                        burn_errno_hint(ENOMEM));
    return p;
}

static void cpu_free(void *p) { free(p); }

static void cpu_memcpy(void *dst, const void *src, size_t bytes) {
    if (bytes) memcpy(dst, src, bytes);
}

static void cpu_synchronize(void) {}

static const burn_backend cpu_backend = {
    .name = "cpu",
    .is_device = 0,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_memcpy,
    .download = cpu_memcpy,
    .copy = cpu_memcpy,
    .synchronize = cpu_synchronize,
    .host_alloc = cpu_alloc,
    .host_free = cpu_free,
    .fill = cpu_fill,
    .scale = cpu_scale,
    .axpy = cpu_axpy,
    .add = cpu_add,
    .mul = cpu_mul,
    .sum = cpu_sum,
    .sumsq = cpu_sumsq,
    .gemm = cpu_gemm,
    .set_compute_precision = cpu_set_compute_precision,
    .uniform = cpu_uniform,
    .normal = cpu_normal,
    .adam_step = cpu_adam_step,
    .sign_forward = cpu_sign_forward,
    .sign_backward = cpu_sign_backward,
    .rsign_forward = cpu_rsign_forward,
    .rsign_backward = cpu_rsign_backward,
    .rprelu_forward = cpu_rprelu_forward,
    .rprelu_backward = cpu_rprelu_backward,
    .binarize_weights = cpu_binarize_weights,
    .binarize_weights_backward = cpu_binarize_weights_backward,
    .loss_fused = cpu_loss_fused,
    .loss_unfused = cpu_loss_unfused,
    .conv2d_forward = cpu_conv2d_forward,
    .conv2d_backward_data = cpu_conv2d_backward_data,
    .conv2d_backward_filter = cpu_conv2d_backward_filter,
    .bn_stats = cpu_bn_stats,
    .bn_finalize = cpu_bn_finalize,
    .bn_normalize = cpu_bn_normalize,
    .bn_eval = cpu_bn_eval,
    .bn_backward_stats = cpu_bn_backward_stats,
    .bn_backward_dx = cpu_bn_backward_dx,
    .relu_forward = cpu_relu_forward,
    .relu_backward = cpu_relu_backward,
    .prelu_forward = cpu_prelu_forward,
    .prelu_backward = cpu_prelu_backward,
    .bias_forward = cpu_bias_forward,
    .channel_sum = cpu_channel_sum,
    .maxpool2d_forward = cpu_maxpool2d_forward,
    .maxpool2d_backward = cpu_maxpool2d_backward,
    .avgpool2d_forward = cpu_avgpool2d_forward,
    .avgpool2d_backward = cpu_avgpool2d_backward,
    .global_avgpool_forward = cpu_global_avgpool_forward,
    .global_avgpool_backward = cpu_global_avgpool_backward,
    .copy2d = cpu_copy2d,
    .bits_pack = cpu_bits_pack,
    .bits_unpack = cpu_bits_unpack,
    .xnor_gemm = cpu_xnor_gemm,
    .bconv_workspace_bytes = cpu_bconv_workspace_bytes,
    .bconv_pack_weights = cpu_bconv_pack_weights,
    .bconv_forward_bin = cpu_bconv_forward_bin,
    .bconv_forward_real = cpu_bconv_forward_real,
    .bconv_backward = cpu_bconv_backward,
    .lowp_convert = cpu_lowp_convert,
    .lowp_gemm = cpu_lowp_gemm,
    .l2norm_rows_forward = cpu_l2norm_rows_forward,
    .l2norm_rows_backward = cpu_l2norm_rows_backward,
    .infonce = cpu_infonce,
    .row_dot = cpu_row_dot,
    .row_scale_add = cpu_row_scale_add,
    .sgd_step = cpu_sgd_step,
    .dist_sum_f64 = cpu_dist_sum_f64,
    .dist_mean_start = cpu_dist_mean_start,
    .dist_mean_wait = cpu_dist_mean_wait,
    .softmax_xent = cpu_softmax_xent,
};

const burn_backend *burn_cpu_backend(void) { return &cpu_backend; }
