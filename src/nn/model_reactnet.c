/* model_reactnet.c — ReActNet-A (METHOD.md §2): shapes from the config, parameter registration
 * with the reference names, and per-layer accounting for the summary. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "burn/check.h"
#include "burn/models.h"

/* METHOD.md §2 channel list, divided by the stem's 32: stem, then the output of each block. */
static const int channel_mult[BURN_REACTNET_BLOCKS + 1] = {1, 2, 4, 4, 8, 8, 16, 16, 16, 16,
                                                           16, 16, 32, 32};

int burn_reactnet_init(burn_reactnet *net, const burn_reactnet_config *cfg) {
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    if (!(cfg->width > 0) || cfg->width > 16) {
        burn_error_set("model.width %g: must be in (0, 16]", cfg->width);
        return -1;
    }
    if (cfg->stem_stride != 1 && cfg->stem_stride != 2) {
        burn_error_set("model.stem_stride %d: must be 1 or 2", cfg->stem_stride);
        return -1;
    }
    if (cfg->stage != 1 && cfg->stage != 2) {
        burn_error_set("model.stage %d: must be 1 or 2", cfg->stage);
        return -1;
    }
    /* scale the stem width and keep the list's ratios exact, so doubling blocks double */
    int c0 = (int)lround(32.0 * cfg->width);
    if (c0 < 1) c0 = 1;
    net->stem_channels = c0;
    net->stem_hw = (cfg->image_size - 1) / cfg->stem_stride + 1; /* 3x3, pad 1 */
    int hw = net->stem_hw;
    for (int b = 0; b < BURN_REACTNET_BLOCKS; b++) {
        burn_reactnet_block *k = &net->blocks[b];
        k->cin = c0 * channel_mult[b];
        k->cout = c0 * channel_mult[b + 1];
        k->stride = (k->cout == 2 * k->cin && b > 0) ? 2 : 1;
        k->in_hw = hw;
        if (k->stride == 2 && hw % 2 != 0) {
            burn_error_set("data.image_size %d with model.stem_stride %d gives an odd %dx%d input "
                           "to stride-2 block %d: the 3x3/2 conv and the 2x2 average-pool "
                           "shortcut would disagree; use a size divisible by %d",
                           cfg->image_size, cfg->stem_stride, hw, hw, b + 1,
                           16 * cfg->stem_stride);
            return -1;
        }
        k->out_hw = hw / k->stride;
        hw = k->out_hw;
    }
    if (hw < 1) {
        burn_error_set("data.image_size %d is too small for ReActNet-A", cfg->image_size);
        return -1;
    }
    net->pooled_dim = net->blocks[BURN_REACTNET_BLOCKS - 1].cout;
    net->feature_dim = cfg->feature_dim > 0 ? cfg->feature_dim : net->pooled_dim;
    if (!cfg->feature_fc && net->feature_dim != net->pooled_dim) {
        burn_error_set("model.feature_dim %d needs model.feature_fc (without the FC the feature "
                       "is the pooled %d channels)", cfg->feature_dim, net->pooled_dim);
        return -1;
    }
    return 0;
}

static int add(burn_params *ps, const char *prefix, const char *name, burn_param_kind kind,
               int ndim, const int64_t *shape, burn_init init, float value) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return burn_params_add(ps, full, kind, ndim, shape, init, value);
}

/* BatchNorm2d/1d: weight 1, bias 0, running mean 0, running var 1 (PyTorch). */
static void add_bn(burn_params *ps, const char *prefix, const char *name, int64_t c, int idx[4]) {
    char n[200];
    int64_t s[1] = {c};
    snprintf(n, sizeof n, "%s.weight", name);
    idx[BURN_BN_WEIGHT] = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 1, s, BURN_INIT_ONE, 0);
    snprintf(n, sizeof n, "%s.bias", name);
    idx[BURN_BN_BIAS] = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 1, s, BURN_INIT_ZERO, 0);
    snprintf(n, sizeof n, "%s.running_mean", name);
    idx[BURN_BN_MEAN] = add(ps, prefix, n, BURN_PARAM_BUFFER, 1, s, BURN_INIT_ZERO, 0);
    snprintf(n, sizeof n, "%s.running_var", name);
    idx[BURN_BN_VAR] = add(ps, prefix, n, BURN_PARAM_BUFFER, 1, s, BURN_INIT_ONE, 0);
}

/* RPReLU: gamma (shift in, 0), slope (PReLU, 0.25), zeta (shift out, 0), each [C]. */
static void add_rprelu(burn_params *ps, const char *prefix, const char *name, int64_t c, int idx[3]) {
    char n[200];
    int64_t s[1] = {c};
    snprintf(n, sizeof n, "%s.gamma", name);
    idx[0] = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 1, s, BURN_INIT_ZERO, 0);
    snprintf(n, sizeof n, "%s.slope", name);
    idx[1] = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 1, s, BURN_INIT_CONST, 0.25f);
    snprintf(n, sizeof n, "%s.zeta", name);
    idx[2] = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 1, s, BURN_INIT_ZERO, 0);
}

static int add_conv(burn_params *ps, const char *prefix, const char *name, int64_t cout,
                    int64_t cin, int64_t k, int binary) {
    char n[200];
    int64_t s[4] = {cout, cin, k, k};
    snprintf(n, sizeof n, "%s.weight", name);
    int i = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 4, s, BURN_INIT_KAIMING_NORMAL, 0);
    ps->p[i].binary = binary;
    return i;
}

void burn_reactnet_register(burn_reactnet *net, burn_params *ps, const char *prefix) {
    int c0 = net->stem_channels;
    net->stem_conv = add_conv(ps, prefix, "stem.conv", c0, 3, 3, 0);
    add_bn(ps, prefix, "stem.bn", c0, net->stem_bn);
    for (int b = 0; b < BURN_REACTNET_BLOCKS; b++) {
        burn_reactnet_block *k = &net->blocks[b];
        char n[64];
        int64_t c[1] = {k->cin};
        int binary_weights = net->cfg.stage == 2;
        snprintf(n, sizeof n, "blocks.%d.move1.bias", b);
        k->move1 = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 1, c, BURN_INIT_ZERO, 0);
        snprintf(n, sizeof n, "blocks.%d.conv3x3", b);
        k->conv3x3 = add_conv(ps, prefix, n, k->cin, k->cin, 3, binary_weights);
        snprintf(n, sizeof n, "blocks.%d.bn1", b);
        add_bn(ps, prefix, n, k->cin, k->bn1);
        snprintf(n, sizeof n, "blocks.%d.rprelu1", b);
        add_rprelu(ps, prefix, n, k->cin, k->rp1);
        snprintf(n, sizeof n, "blocks.%d.move2.bias", b);
        k->move2 = add(ps, prefix, n, BURN_PARAM_TRAINABLE, 1, c, BURN_INIT_ZERO, 0);
        if (k->cout == k->cin) {
            snprintf(n, sizeof n, "blocks.%d.conv1x1", b);
            k->conv1x1[0] = add_conv(ps, prefix, n, k->cin, k->cin, 1, binary_weights);
            snprintf(n, sizeof n, "blocks.%d.bn2", b);
            add_bn(ps, prefix, n, k->cin, k->bn2[0]);
            k->conv1x1[1] = -1;
        } else {
            for (int h = 0; h < 2; h++) {
                snprintf(n, sizeof n, "blocks.%d.conv1x1_%c", b, "ab"[h]);
                k->conv1x1[h] = add_conv(ps, prefix, n, k->cin, k->cin, 1, binary_weights);
                snprintf(n, sizeof n, "blocks.%d.bn2_%c", b, "ab"[h]);
                add_bn(ps, prefix, n, k->cin, k->bn2[h]);
            }
        }
        snprintf(n, sizeof n, "blocks.%d.rprelu2", b);
        add_rprelu(ps, prefix, n, k->cout, k->rp2);
    }
    net->fc_weight = net->fc_bias = -1;
    if (net->cfg.feature_fc) {
        int64_t w[2] = {net->feature_dim, net->pooled_dim}, bsz[1] = {net->feature_dim};
        net->fc_weight = add(ps, prefix, "fc.weight", BURN_PARAM_TRAINABLE, 2, w,
                             BURN_INIT_KAIMING_NORMAL, 0);
        net->fc_bias = add(ps, prefix, "fc.bias", BURN_PARAM_TRAINABLE, 1, bsz, BURN_INIT_ZERO, 0);
    }
}

static void row(burn_layer_visitor visit, void *ctx, const char *name, const char *type,
                int64_t c, int64_t hw, int64_t bin_p, int64_t fp_p, int64_t bin_m, int64_t fp_m) {
    burn_layer_info info = {name, type, c, hw, hw, bin_p, fp_p, bin_m, fp_m};
    visit(ctx, &info);
}

void burn_reactnet_visit(const burn_reactnet *net, burn_layer_visitor visit, void *ctx) {
    int c0 = net->stem_channels, s = net->stem_hw;
    char type[48], n[64];
    snprintf(type, sizeof type, "Conv2d 3x3/%d", net->cfg.stem_stride);
    row(visit, ctx, "stem.conv", type, c0, s, 0, 3LL * 9 * c0, 0, 27LL * c0 * s * s);
    row(visit, ctx, "stem.bn", "BatchNorm2d", c0, s, 0, 2LL * c0, 0, 0);
    int stage2 = net->cfg.stage == 2;
    for (int b = 0; b < BURN_REACTNET_BLOCKS; b++) {
        const burn_reactnet_block *k = &net->blocks[b];
        int64_t C = k->cin, o = k->out_hw, w3 = C * C * 9, w1 = C * C;
        const char *conv_kind = stage2 ? "BinConv2d" : "BinActConv2d"; /* stage 1: real weights */
        snprintf(n, sizeof n, "blocks.%d.move1", b);
        row(visit, ctx, n, "RSign", C, k->in_hw, 0, C, 0, 0);
        snprintf(n, sizeof n, "blocks.%d.conv3x3", b);
        snprintf(type, sizeof type, "%s 3x3/%d", conv_kind, k->stride);
        row(visit, ctx, n, type, C, o, stage2 ? w3 : 0, stage2 ? 0 : w3, stage2 ? w3 * o * o : 0,
            stage2 ? 0 : w3 * o * o);
        snprintf(n, sizeof n, "blocks.%d.bn1", b);
        row(visit, ctx, n, "BatchNorm2d", C, o, 0, 2 * C, 0, 0);
        if (k->stride == 2) {
            snprintf(n, sizeof n, "blocks.%d.shortcut", b);
            row(visit, ctx, n, "AvgPool2d 2x2 + add", C, o, 0, 0, 0, 0);
        }
        snprintf(n, sizeof n, "blocks.%d.rprelu1", b);
        row(visit, ctx, n, "RPReLU", C, o, 0, 3 * C, 0, 0);
        snprintf(n, sizeof n, "blocks.%d.move2", b);
        row(visit, ctx, n, "RSign", C, o, 0, C, 0, 0);
        int halves = k->cout == k->cin ? 1 : 2;
        for (int h = 0; h < halves; h++) {
            snprintf(n, sizeof n, halves == 1 ? "blocks.%d.conv1x1" : "blocks.%d.conv1x1_%c", b,
                     "ab"[h]);
            snprintf(type, sizeof type, "%s 1x1", conv_kind);
            row(visit, ctx, n, type, C, o, stage2 ? w1 : 0, stage2 ? 0 : w1,
                stage2 ? w1 * o * o : 0, stage2 ? 0 : w1 * o * o);
            snprintf(n, sizeof n, halves == 1 ? "blocks.%d.bn2" : "blocks.%d.bn2_%c", b, "ab"[h]);
            row(visit, ctx, n, "BatchNorm2d + add", C, o, 0, 2 * C, 0, 0);
        }
        snprintf(n, sizeof n, "blocks.%d.rprelu2", b);
        row(visit, ctx, n, halves == 2 ? "concat + RPReLU" : "RPReLU", k->cout, o, 0,
            3LL * k->cout, 0, 0);
    }
    int64_t P = net->pooled_dim, F = net->feature_dim;
    row(visit, ctx, "pool", "GlobalAvgPool", P, 1, 0, 0, 0, 0);
    if (net->cfg.feature_fc) row(visit, ctx, "fc", "Linear + ReLU", F, 1, 0, F * P + F, 0, F * P);
}
