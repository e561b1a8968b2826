/* net_resnet.c — ResNet forward with eval-mode BN, keeping no activations: the frozen teacher
 * backbone h_ζ (METHOD.md §1, §8). Five buffers of the largest activation: the block input, the
 * main path ping-ponging between two (conv -> t1, BN -> t2), and two for the projection:
 *   basic:      out = ReLU(BN2(conv2(ReLU(BN1(conv1(x))))) + idt)
 *   bottleneck: out = ReLU(BN3(conv3(ReLU(BN2(conv2(ReLU(BN1(conv1(x)))))))) + idt)
 *   idt = x, or BN(conv1x1_s(x)) (downsample). */
#include <stdlib.h>

#include "burn/check.h"
#include "burn/layers.h"
#include "burn/net.h"

typedef struct rs_block {
    burn_conv2d cv[3], down;
    burn_bn bn[3], down_bn;
} rs_block;

struct burn_resnet_run {
    const burn_resnet *net;
    const burn_backend *be;
    int N;
    burn_conv2d stem;
    burn_bn stem_bn;
    burn_pool2d maxpool;
    rs_block b[BURN_RESNET_MAX_BLOCKS];
    float *buf[5];
};

burn_resnet_run *burn_resnet_run_new(const burn_resnet *net, const burn_backend *be, int N) {
    burn_resnet_run *r = burn_xcalloc(1, sizeof *r);
    r->net = net;
    r->be = be;
    r->N = N;
    int S = net->cfg.image_size, c0 = net->stem_channels, small = net->cfg.small_input;
    int fail = burn_conv2d_init(&r->stem, N, 3, S, S, c0, small ? 3 : 7, small ? 3 : 7,
                                small ? 1 : 2, small ? 1 : 3) ||
               burn_bn_init(&r->stem_bn, N, c0, net->stem_hw * net->stem_hw) ||
               (!small && burn_maxpool2d_init(&r->maxpool, N, c0, net->stem_hw, net->stem_hw, 3, 2, 1));
    int64_t max_act = (int64_t)N * c0 * net->stem_hw * net->stem_hw;
    for (int k = 0; k < net->nblocks && !fail; k++) {
        const burn_resnet_block *d = &net->blocks[k];
        rs_block *B = &r->b[k];
        int i = d->in_hw, o = d->out_hw;
        if (d->bottleneck)
            fail = burn_conv2d_init(&B->cv[0], N, d->cin, i, i, d->mid, 1, 1, 1, 0) ||
                   burn_conv2d_init(&B->cv[1], N, d->mid, i, i, d->mid, 3, 3, d->stride, 1) ||
                   burn_conv2d_init(&B->cv[2], N, d->mid, o, o, d->cout, 1, 1, 1, 0) ||
                   burn_bn_init(&B->bn[0], N, d->mid, i * i) ||
                   burn_bn_init(&B->bn[1], N, d->mid, o * o) ||
                   burn_bn_init(&B->bn[2], N, d->cout, o * o);
        else
            fail = burn_conv2d_init(&B->cv[0], N, d->cin, i, i, d->mid, 3, 3, d->stride, 1) ||
                   burn_conv2d_init(&B->cv[1], N, d->mid, o, o, d->cout, 3, 3, 1, 1) ||
                   burn_bn_init(&B->bn[0], N, d->mid, o * o) ||
                   burn_bn_init(&B->bn[1], N, d->cout, o * o);
        if (!fail && d->has_down)
            fail = burn_conv2d_init(&B->down, N, d->cin, i, i, d->cout, 1, 1, d->stride, 0) ||
                   burn_bn_init(&B->down_bn, N, d->cout, o * o);
        int64_t sizes[3] = {(int64_t)N * d->mid * i * i, (int64_t)N * d->cout * o * o,
                            (int64_t)N * d->cin * i * i};
        for (int s = 0; s < 3; s++)
            if (sizes[s] > max_act) max_act = sizes[s];
    }
    if (fail) {
        free(r);
        return NULL;
    }
    for (int i = 0; i < 5; i++) r->buf[i] = be->alloc((size_t)max_act * sizeof(float));
    return r;
}

void burn_resnet_run_free(burn_resnet_run *r) {
    if (!r) return;
    for (int i = 0; i < 5; i++) r->be->free(r->buf[i]);
    free(r);
}

#define P(i) burn_param_data(ps, (i))

static void bn_eval(const burn_backend *be, const burn_params *ps, const burn_bn *bn,
                    const int idx[4], float *y, const float *x) {
    burn_bn_forward_eval(be, bn, y, x, P(idx[BURN_BN_WEIGHT]), P(idx[BURN_BN_BIAS]),
                         P(idx[BURN_BN_MEAN]), P(idx[BURN_BN_VAR]));
}

void burn_resnet_forward_eval(burn_resnet_run *r, const burn_params *ps, const float *x,
                              float *feature) {
    const burn_backend *be = r->be;
    const burn_resnet *net = r->net;
    int N = r->N;
    float *cur = r->buf[0], *t1 = r->buf[1], *t2 = r->buf[2], *t3 = r->buf[3], *t4 = r->buf[4];
    int64_t n = (int64_t)N * net->stem_channels * net->stem_hw * net->stem_hw;
    burn_conv2d_forward(be, &r->stem, t1, x, P(net->stem_conv));
    bn_eval(be, ps, &r->stem_bn, net->stem_bn, cur, t1);
    burn_relu_forward(be, cur, cur, n);
    if (!net->cfg.small_input) {
        burn_maxpool2d_forward(be, &r->maxpool, t1, cur);
        float *s = cur;
        cur = t1;
        t1 = s;
    }
    for (int k = 0; k < net->nblocks; k++) {
        const burn_resnet_block *d = &net->blocks[k];
        const rs_block *B = &r->b[k];
        int convs = d->bottleneck ? 3 : 2;
        const float *in = cur;
        for (int c = 0; c < convs; c++) { /* t1 <- conv(in); t2 <- BN(t1); ReLU but the last */
            burn_conv2d_forward(be, &B->cv[c], t1, in, P(d->conv[c]));
            bn_eval(be, ps, &B->bn[c], d->bn[c], t2, t1);
            if (c < convs - 1)
                burn_relu_forward(be, t2, t2, (int64_t)N * B->cv[c].O * B->cv[c].Ho * B->cv[c].Wo);
            in = t2;
        }
        int64_t m = (int64_t)N * d->cout * d->out_hw * d->out_hw;
        const float *idt = cur;
        if (d->has_down) {
            burn_conv2d_forward(be, &B->down, t3, cur, P(d->down_conv));
            bn_eval(be, ps, &B->down_bn, d->down_bn, t4, t3);
            idt = t4;
        }
        be->add(t2, t2, idt, m);
        burn_relu_forward(be, t2, t2, m);
        float *s = cur; /* the block output becomes the next input */
        cur = t2;
        t2 = s;
    }
    const burn_resnet_block *last = &net->blocks[net->nblocks - 1];
    burn_global_avgpool_forward(be, feature, cur, N, net->feature_dim,
                                last->out_hw * last->out_hw);
}
