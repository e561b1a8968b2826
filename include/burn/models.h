/* models.h — the networks of BURN (METHOD.md §1-2): ReActNet-A (the binary student), ResNet-18/34/50
 * (the FP teacher, torchvision structure and names) and the MLP head.
 *
 * A model is an architecture (shapes, derived from a few numbers) plus indices into a
 * parameter registry (params.h) that it registered its tensors in, under a name prefix, with
 * the PyTorch state-dict names of the reference models (tools/reference/). Several models can
 * share one registry (student, student head and teacher head train together: one buffer, one
 * optimiser step, one all-reduce). */
#ifndef BURN_MODELS_H
#define BURN_MODELS_H

#include <stdint.h>
#include <stdio.h>

#include "burn/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- per-layer accounting, for `burn_gpu summary` (Larq-style) ---- */
typedef struct burn_layer_info {
    const char *name;  /* e.g. "blocks.3.conv3x3" (valid during the callback) */
    const char *type;  /* "BinConv2d 3x3/2", "BatchNorm2d", ... */
    int64_t out_c, out_h, out_w; /* output shape per sample (out_h = out_w = 1 for vectors) */
    int64_t bin_params, fp_params; /* trainable parameters (BN running stats excluded) */
    int64_t bin_macs, fp_macs;     /* per sample */
} burn_layer_info;

typedef void (*burn_layer_visitor)(void *ctx, const burn_layer_info *info);

/* Print the table and totals of a visited model to f. */
typedef struct burn_summary {
    FILE *f;
    int64_t bin_params, fp_params, bin_macs, fp_macs;
    int rows;
} burn_summary;
void burn_summary_begin(burn_summary *s, FILE *f, const char *title);
void burn_summary_row(void *summary, const burn_layer_info *info); /* a burn_layer_visitor */
void burn_summary_end(burn_summary *s);

/* ---- ReActNet-A ---- */
#define BURN_REACTNET_BLOCKS 13

typedef struct burn_reactnet_config {
    double width;    /* multiplier on the channel list [32, 64, ..., 1024]; 1.0 = METHOD.md §2 */
    int image_size;  /* input height = width */
    int stem_stride; /* 2 at 224 (METHOD.md); 1 for small inputs such as 32x32 */
    int stage;       /* 1: binary activations, real weights; 2: binary weights too */
    int feature_fc;  /* 1: pooled -> FC(P->F) + ReLU (the 1024-d feature of METHOD.md §2) */
    int feature_dim; /* F, the FC's output width; 0 = the pooled width P (needed without FC) */
} burn_reactnet_config;

typedef struct burn_reactnet_block {
    int cin, cout, stride, in_hw, out_hw;
    /* parameter indices in the registry */
    int move1, conv3x3, bn1[4], rp1[3], move2, conv1x1[2], bn2[2][4], rp2[3];
} burn_reactnet_block;

typedef struct burn_reactnet {
    burn_reactnet_config cfg;
    int stem_channels, stem_hw;
    int pooled_dim;  /* P: channels of the last block, globally average-pooled */
    int feature_dim; /* F: the backbone's output (the FC's width, else P) */
    burn_reactnet_block blocks[BURN_REACTNET_BLOCKS];
    int stem_conv, stem_bn[4], fc_weight, fc_bias;
} burn_reactnet;

/* Validate the config and derive every shape. 0, or -1 with burn_error(). */
int burn_reactnet_init(burn_reactnet *net, const burn_reactnet_config *cfg);
/* Register the parameters under prefix (e.g. "student."). */
void burn_reactnet_register(burn_reactnet *net, burn_params *ps, const char *prefix);
void burn_reactnet_visit(const burn_reactnet *net, burn_layer_visitor visit, void *ctx);

/* ---- ResNet (torchvision structure; names without the "fc." classifier) ---- */
typedef struct burn_resnet_config {
    int depth;       /* 18, 34 or 50 */
    double width;    /* multiplier on the base width 64 */
    int image_size;
    int small_input; /* 1: stem conv3x3/1 and no max pool (CIFAR-style, for 32x32 inputs) */
} burn_resnet_config;

#define BURN_RESNET_MAX_BLOCKS 16
typedef struct burn_resnet_block {
    int cin, mid, cout, stride, in_hw, out_hw;
    int bottleneck; /* 1: 1x1-3x3-1x1 (ResNet-50); 0: 3x3-3x3 */
    int has_down;   /* projection shortcut (1x1 conv + BN) when the shape changes */
    int conv[3], bn[3][4], down_conv, down_bn[4]; /* parameter indices (after register) */
} burn_resnet_block;

typedef struct burn_resnet {
    burn_resnet_config cfg;
    int stem_channels, stem_hw, pool_hw, feature_dim, nblocks;
    int stem_conv, stem_bn[4];
    burn_resnet_block blocks[BURN_RESNET_MAX_BLOCKS];
} burn_resnet;

int burn_resnet_init(burn_resnet *net, const burn_resnet_config *cfg);
/* trainable = 0 registers every tensor as a buffer (a frozen teacher has no gradients). */
void burn_resnet_register(burn_resnet *net, burn_params *ps, const char *prefix, int trainable);
void burn_resnet_visit(const burn_resnet *net, burn_layer_visitor visit, void *ctx);

/* ---- MLP head (METHOD.md §1): Linear(in->hidden) -> BatchNorm1d -> ReLU -> Linear(hidden->out) ---- */
typedef struct burn_head {
    int in, hidden, out;
    int fc1_weight, fc1_bias, bn[4], fc2_weight, fc2_bias; /* names head.0/1/3 as nn.Sequential */
} burn_head;

int burn_head_init(burn_head *h, int in, int hidden, int out);
void burn_head_register(burn_head *h, burn_params *ps, const char *prefix);
void burn_head_visit(const burn_head *h, const char *prefix, burn_layer_visitor visit, void *ctx);

/* The networks of a resolved config (src/nn/model_config.c); any pointer may be NULL.
 * 0, or -1 with burn_error() naming the offending key. */
struct burn_config;
int burn_models_from_config(const struct burn_config *c, burn_reactnet *student,
                            burn_resnet *teacher, burn_head *student_head,
                            burn_head *teacher_head);

/* BN parameter index order in the int[4] arrays above */
enum { BURN_BN_WEIGHT, BURN_BN_BIAS, BURN_BN_MEAN, BURN_BN_VAR };

#ifdef __cplusplus
}
#endif

#endif
