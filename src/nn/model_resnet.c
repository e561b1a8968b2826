/* model_resnet.c — ResNet-18/34/50 with torchvision's structure and parameter names (v1.5:
 * the stride sits on the 3x3 conv of a bottleneck), optional width multiplier and a
 * CIFAR-style small-input stem; the teacher backbone up to the global average pool. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "burn/check.h"
#include "burn/models.h"

static const int layer_blocks[3][4] = {{2, 2, 2, 2}, {3, 4, 6, 3}, {3, 4, 6, 3}};

static int conv_out(int hw, int k, int stride, int pad) { return (hw + 2 * pad - k) / stride + 1; }

int burn_resnet_init(burn_resnet *net, const burn_resnet_config *cfg) {
    memset(net, 0, sizeof *net);
    net->cfg = *cfg;
    int which = cfg->depth == 18 ? 0 : cfg->depth == 34 ? 1 : cfg->depth == 50 ? 2 : -1;
    if (which < 0) {
        burn_error_set("teacher.arch: ResNet depth %d is not one of 18, 34, 50", cfg->depth);
        return -1;
    }
    if (!(cfg->width > 0) || cfg->width > 16) {
        burn_error_set("teacher.width %g: must be in (0, 16]", cfg->width);
        return -1;
    }
    int base = (int)lround(64.0 * cfg->width);
    if (base < 1) base = 1;
    int bottleneck = cfg->depth == 50, expansion = bottleneck ? 4 : 1;
    net->stem_channels = base;
    net->stem_hw = cfg->small_input ? cfg->image_size : conv_out(cfg->image_size, 7, 2, 3);
    net->pool_hw = cfg->small_input ? net->stem_hw : conv_out(net->stem_hw, 3, 2, 1);
    if (net->pool_hw < 1) {
        burn_error_set("data.image_size %d is too small for this ResNet", cfg->image_size);
        return -1;
    }
    int hw = net->pool_hw, cin = base, n = 0;
    for (int L = 0; L < 4; L++) {
        int mid = base << L;
        for (int b = 0; b < layer_blocks[which][L]; b++) {
            burn_resnet_block *k = &net->blocks[n++];
            k->bottleneck = bottleneck;
            k->cin = cin;
            k->mid = mid;
            k->cout = mid * expansion;
            k->stride = (L > 0 && b == 0) ? 2 : 1;
            k->in_hw = hw;
            k->out_hw = conv_out(hw, 3, k->stride, 1);
            k->has_down = k->stride != 1 || k->cin != k->cout;
            hw = k->out_hw;
            cin = k->cout;
        }
    }
    net->nblocks = n;
    net->feature_dim = cin;
    return 0;
}

static int add_named(burn_params *ps, const char *prefix, const char *name, burn_param_kind kind,
                     int ndim, const int64_t *shape, burn_init init) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return burn_params_add(ps, full, kind, ndim, shape, init, 0);
}

static int add_conv(burn_params *ps, const char *prefix, const char *name, int cout, int cin,
                    int k, burn_param_kind kind) {
    int64_t s[4] = {cout, cin, k, k};
    char n[200];
    snprintf(n, sizeof n, "%s.weight", name);
    return add_named(ps, prefix, n, kind, 4, s, BURN_INIT_KAIMING_NORMAL);
}

static void add_bn(burn_params *ps, const char *prefix, const char *name, int c,
                   burn_param_kind kind, int idx[4]) {
    static const char *suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    static const burn_init init[4] = {BURN_INIT_ONE, BURN_INIT_ZERO, BURN_INIT_ZERO, BURN_INIT_ONE};
    int64_t s[1] = {c};
    for (int i = 0; i < 4; i++) {
        char n[200];
        snprintf(n, sizeof n, "%s.%s", name, suffix[i]);
        idx[i] = add_named(ps, prefix, n, i < 2 ? kind : BURN_PARAM_BUFFER, 1, s, init[i]);
    }
}

void burn_resnet_register(burn_resnet *net, burn_params *ps, const char *prefix, int trainable) {
    burn_param_kind kind = trainable ? BURN_PARAM_TRAINABLE : BURN_PARAM_BUFFER;
    net->stem_conv = add_conv(ps, prefix, "conv1", net->stem_channels, 3,
                              net->cfg.small_input ? 3 : 7, kind);
    add_bn(ps, prefix, "bn1", net->stem_channels, kind, net->stem_bn);
    int which = net->cfg.depth == 18 ? 0 : 1, n = 0;
    for (int L = 0; L < 4; L++)
        for (int b = 0; b < layer_blocks[which][L]; b++) {
            burn_resnet_block *k = &net->blocks[n++];
            char name[64];
            int convs = k->bottleneck ? 3 : 2;
            for (int c = 0; c < convs; c++) {
                int cin = c == 0 ? k->cin : k->mid, cout = c == convs - 1 ? k->cout : k->mid;
                int ksize = k->bottleneck && c != 1 ? 1 : 3;
                snprintf(name, sizeof name, "layer%d.%d.conv%d", L + 1, b, c + 1);
                k->conv[c] = add_conv(ps, prefix, name, cout, cin, ksize, kind);
                snprintf(name, sizeof name, "layer%d.%d.bn%d", L + 1, b, c + 1);
                add_bn(ps, prefix, name, cout, kind, k->bn[c]);
            }
            k->down_conv = -1;
            if (k->has_down) {
                snprintf(name, sizeof name, "layer%d.%d.downsample.0", L + 1, b);
                k->down_conv = add_conv(ps, prefix, name, k->cout, k->cin, 1, kind);
                snprintf(name, sizeof name, "layer%d.%d.downsample.1", L + 1, b);
                add_bn(ps, prefix, name, k->cout, kind, k->down_bn);
            }
        }
}

void burn_resnet_visit(const burn_resnet *net, burn_layer_visitor visit, void *ctx) {
    char name[64], type[48];
    int k0 = net->cfg.small_input ? 3 : 7, c0 = net->stem_channels, s = net->stem_hw;
    snprintf(type, sizeof type, "Conv2d %dx%d/%d", k0, k0, net->cfg.small_input ? 1 : 2);
    int64_t w = 3LL * c0 * k0 * k0;
    burn_layer_info info = {"conv1", type, c0, s, s, 0, w, 0, w * s * s};
    visit(ctx, &info);
    info = (burn_layer_info){"bn1 + relu", "BatchNorm2d", c0, s, s, 0, 2LL * c0, 0, 0};
    visit(ctx, &info);
    if (!net->cfg.small_input) {
        info = (burn_layer_info){"maxpool", "MaxPool2d 3x3/2", c0, net->pool_hw, net->pool_hw, 0, 0, 0, 0};
        visit(ctx, &info);
    }
    int which = net->cfg.depth == 18 ? 0 : 1, n = 0;
    for (int L = 0; L < 4; L++)
        for (int b = 0; b < layer_blocks[which][L]; b++) {
            const burn_resnet_block *k = &net->blocks[n++];
            int64_t o = k->out_hw, params = 0, macs = 0;
            if (k->bottleneck) {
                int64_t c1 = (int64_t)k->cin * k->mid, c2 = (int64_t)k->mid * k->mid * 9,
                        c3 = (int64_t)k->mid * k->cout;
                params = c1 + c2 + c3 + 2LL * (2 * k->mid + k->cout);
                macs = c1 * k->in_hw * k->in_hw + (c2 + c3) * o * o;
            } else {
                int64_t c1 = (int64_t)k->cin * k->mid * 9, c2 = (int64_t)k->mid * k->cout * 9;
                params = c1 + c2 + 2LL * (k->mid + k->cout);
                macs = (c1 + c2) * o * o;
            }
            if (k->has_down) {
                params += (int64_t)k->cin * k->cout + 2LL * k->cout;
                macs += (int64_t)k->cin * k->cout * o * o;
            }
            snprintf(name, sizeof name, "layer%d.%d", L + 1, b);
            snprintf(type, sizeof type, "%s%s", k->bottleneck ? "Bottleneck" : "BasicBlock",
                     k->has_down ? " + downsample" : "");
            info = (burn_layer_info){name, type, k->cout, o, o, 0, params, 0, macs};
            visit(ctx, &info);
        }
    info = (burn_layer_info){"avgpool", "GlobalAvgPool", net->feature_dim, 1, 1, 0, 0, 0, 0};
    visit(ctx, &info);
}
