/* export.h — `burn_gpu export --packed`: a stage-2 ReActNet-A (the "student." tensors of a
 * training checkpoint) -> a deployable safetensors file for the CPU runtime (infer.h); and
 * `burn_gpu export --torch` (at the end): the backbone as a PyTorch state dict.
 *
 * File layout ("burn-packed-1"), tensor names = the student's names without "student.":
 *   <conv>.bits   U64 [O, ldk]  sign(W[o]) packed along K = kh·kw·C in tap-major order
 *                               (k = (ky·kw + kx)·C + c; bitpack.h bit order; bits k ≥ K are 0),
 *                               ldk = ceil(K / 64) — exactly the "bits" part of bconv.h's
 *                               packed weights (the tap sums are recomputed when loading)
 *   <conv>.alpha  F32 [O]       α_o = mean |W[o]| (binarize_weights)
 *   every other student tensor  F32 (or F16 with --fp16) under its own name and shape: stem
 *                               conv, BN (weight, bias, running_mean, running_var), RSign
 *                               thresholds (move*.bias), RPReLU (gamma, slope, zeta), fc.
 *   __metadata__: format = burn-packed-1, arch = reactnet-a, width, image_size, stem_stride,
 *                 feature_fc, feature_dim, fp_dtype (F32 | F16).
 *
 * What is folded: nothing numerically. α_o and BN's γ/σ are both per output channel and could
 * be merged into one scale + shift, but y = α·d then BN(y) rounds differently from (α·γ/σ)·d +
 * shift, and the next layer thresholds that value with sign(): a folded file could flip bits
 * against the trainer's eval forward. The file therefore keeps α and the BN statistics apart
 * and the runtime reproduces the trainer bit for bit; the 1-bit part (the bulk of the bytes)
 * is what shrinks. BN after a binary conv can never absorb the sign itself. */
#ifndef BURN_EXPORT_H
#define BURN_EXPORT_H

#include <stdint.h>

#include "burn/models.h"
#include "burn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BURN_PACKED_FORMAT "burn-packed-1"

typedef struct burn_export_sizes {
    int64_t fp32_student_bytes; /* the student part of an FP32 checkpoint: all its floats */
    int64_t fp32_binary_bytes;  /* of which the latent weights of the binary convs */
    int64_t packed_binary_bytes; /* bits + α in the packed file */
    int64_t packed_fp_bytes;     /* every other tensor in the packed file (F32 or F16) */
} burn_export_sizes;

/* Write the packed file of a stage-2 student whose tensors are registered in ps (host
 * memory: the CPU backend) under prefix ("student."). fp16: the FP layers as F16.
 * 0, or -1 with burn_error(). sizes may be NULL. */
int burn_export_packed(const burn_reactnet *net, const burn_params *ps, const char *prefix,
                       int fp16, const char *out_path, burn_export_sizes *sizes);

/* `burn_gpu export --torch`: the student's tensors under prefix as a PyTorch state dict of
 * tools/reference/burn_reference.py's ReActNetA(width, stem_stride, stage, feature_fc) —
 * same names without the prefix ("stem.conv.weight", "blocks.<b>.conv3x3.weight",
 * "blocks.<b>.bn1.running_var", "blocks.<b>.rprelu1.slope", "fc.weight", ...), all F32, plus a
 * zero I64 scalar "<bn>.num_batches_tracked" for every BatchNorm so that
 * load_state_dict(strict=True) accepts it. Binary convs hold the FP32 latent weights W (the
 * model computes α_o·sign(W) itself in stage 2). __metadata__: format = burn-torch-1, arch,
 * width, image_size, stem_stride, stage, feature_fc, feature_dim. 0, or -1 with burn_error(). */
#define BURN_TORCH_FORMAT "burn-torch-1"
int burn_export_torch(const burn_reactnet *net, const burn_params *ps, const char *prefix,
                      const char *out_path);

#ifdef __cplusplus
}
#endif

#endif
