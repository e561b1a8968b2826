/* net_resnet_train.c — trainable ResNet-18/34/50 (torchvision structure, models.h): forward in
 * train mode (batch-statistics BN, running statistics updated) keeping the activations, and
 * backward; used by MoCo v2 to pretrain the FP teacher (METHOD.md §8).
 *
 * A "unit" is conv -> BN (-> ReLU). Per unit the run keeps the conv output a (BN's input) and
 * the unit output y (after the in-place ReLU: ReLU's backward needs only its output), plus
 * BN's batch mean and inverse std:
 *   stem:       y0 = ReLU(BN(conv7x7/2 or 3x3/1 (x)));  p0 = MaxPool3x3/2(y0) (not small_input)
 *   basic:      out = ReLU(BN2(conv2(y1)) + idt),   y1 = ReLU(BN1(conv1(in)))
 *   bottleneck: out = ReLU(BN3(conv3(y2)) + idt),   y2, y1 likewise (1x1, 3x3/s, 1x1)
 *   idt = in, or BN(conv1x1/s(in)) (downsample; its BN output is scratch, only its a is kept)
 *   feature = GlobalAvgPool(out of the last block)
 * The last unit of a block writes BN + idt + ReLU into its y, which is the block's output.
 * Backward walks the blocks in reverse with four scratch gradients of the largest activation
 * (G0 the block output's, G1 BN inputs', G2 the main path's input, G3 the shortcut's). */
#include <stdlib.h>

#include "burn/buffers.h"
#include "burn/check.h"
#include "burn/layers.h"
#include "burn/net.h"

typedef struct rt_unit {
    burn_conv2d cv;
    burn_bn bn;
    float *a, *y, *mean, *istd;
} rt_unit;

typedef struct rt_block {
    rt_unit u[3], down; /* u[0..units-1]; down.y unused (scratch) */
    int units;
    const float *in;    /* the block input (the previous output; not owned) */
} rt_block;

struct burn_resnet_train_run {
    const burn_resnet *net;
    const burn_backend *be;
    int N, trained;
    const float *input;
    rt_unit stem;
    burn_pool2d maxpool;
    float *pooled_stem; /* p0, not small_input */
    rt_block b[BURN_RESNET_MAX_BLOCKS];
    float *feature;
    double *bn_stats;   /* [2·max C] scratch of every BN */
    float *G[4];        /* scratch, each the size of the largest activation */
    burn_buffers mem; /* every buffer above */
};

void burn_resnet_train_run_free(burn_resnet_train_run *r) {
    if (!r) return;
    burn_buffers_free(&r->mem);
    free(r);
}

static int64_t out_numel(const burn_conv2d *cv) {
    return (int64_t)cv->N * cv->O * cv->Ho * cv->Wo;
}

/* Geometry of one unit; keep_y = 0 for the downsample (its BN output is scratch). */
static int unit_init(burn_resnet_train_run *r, rt_unit *u, int cin, int hw, int cout, int k,
                     int stride, int pad, int keep_y, int64_t *max_act, int *max_c) {
    if (burn_conv2d_init(&u->cv, r->N, cin, hw, hw, cout, k, k, stride, pad) ||
        burn_bn_init(&u->bn, r->N, cout, u->cv.Ho * u->cv.Wo))
        return -1;
    int64_t n = out_numel(&u->cv);
    u->a = burn_buffers_floats(&r->mem, n);
    u->y = keep_y ? burn_buffers_floats(&r->mem, n) : NULL;
    u->mean = burn_buffers_floats(&r->mem, cout);
    u->istd = burn_buffers_floats(&r->mem, cout);
    if (n > *max_act) *max_act = n;
    if ((int64_t)r->N * cin * hw * hw > *max_act) *max_act = (int64_t)r->N * cin * hw * hw;
    if (cout > *max_c) *max_c = cout;
    return 0;
}

burn_resnet_train_run *burn_resnet_train_run_new(const burn_resnet *net, const burn_backend *be,
                                                 int N) {
    burn_resnet_train_run *r = burn_xcalloc(1, sizeof *r);
    r->net = net;
    r->be = be;
    r->mem.be = be;
    r->N = N;
    int S = net->cfg.image_size, c0 = net->stem_channels, small = net->cfg.small_input;
    int64_t max_act = 0;
    int max_c = 0;
    if (unit_init(r, &r->stem, 3, S, c0, small ? 3 : 7, small ? 1 : 2, small ? 1 : 3, 1,
                  &max_act, &max_c))
        goto fail;
    if (!small) {
        if (burn_maxpool2d_init(&r->maxpool, N, c0, net->stem_hw, net->stem_hw, 3, 2, 1))
            goto fail;
        r->pooled_stem = burn_buffers_floats(&r->mem, (int64_t)N * c0 * r->maxpool.Ho * r->maxpool.Wo);
    }
    for (int k = 0; k < net->nblocks; k++) {
        const burn_resnet_block *d = &net->blocks[k];
        rt_block *B = &r->b[k];
        int i = d->in_hw, o = d->out_hw, fail;
        if (d->bottleneck) {
            B->units = 3;
            fail = unit_init(r, &B->u[0], d->cin, i, d->mid, 1, 1, 0, 1, &max_act, &max_c) ||
                   unit_init(r, &B->u[1], d->mid, i, d->mid, 3, d->stride, 1, 1, &max_act, &max_c) ||
                   unit_init(r, &B->u[2], d->mid, o, d->cout, 1, 1, 0, 1, &max_act, &max_c);
        } else {
            B->units = 2;
            fail = unit_init(r, &B->u[0], d->cin, i, d->mid, 3, d->stride, 1, 1, &max_act, &max_c) ||
                   unit_init(r, &B->u[1], d->mid, o, d->cout, 3, 1, 1, 1, &max_act, &max_c);
        }
        if (!fail && d->has_down)
            fail = unit_init(r, &B->down, d->cin, i, d->cout, 1, d->stride, 0, 0, &max_act, &max_c);
        if (fail) goto fail;
    }
    r->feature = burn_buffers_floats(&r->mem, (int64_t)N * net->feature_dim);
    r->bn_stats = burn_buffers_alloc(&r->mem, 2 * sizeof(double) * (size_t)max_c);
    for (int g = 0; g < 4; g++) r->G[g] = burn_buffers_floats(&r->mem, max_act);
    return r;
fail:
    burn_resnet_train_run_free(r);
    return NULL;
}

#define P(i) burn_param_data(ps, (i))
#define G(i) burn_param_grad(ps, (i))

/* y = BN(conv(x)) of one unit, train or eval mode; idx = the BN's parameter indices. */
static int unit_fwd(burn_resnet_train_run *r, const burn_params *ps, rt_unit *u, float *y,
                    const float *x, int w_idx, const int idx[4], int train) {
    const burn_backend *be = r->be;
    burn_conv2d_forward(be, &u->cv, u->a, x, P(w_idx));
    if (train)
        return burn_bn_forward_train(be, &u->bn, y, u->mean, u->istd, P(idx[BURN_BN_MEAN]),
                                     P(idx[BURN_BN_VAR]), r->bn_stats, u->a,
                                     P(idx[BURN_BN_WEIGHT]), P(idx[BURN_BN_BIAS]));
    burn_bn_forward_eval(be, &u->bn, y, u->a, P(idx[BURN_BN_WEIGHT]), P(idx[BURN_BN_BIAS]),
                         P(idx[BURN_BN_MEAN]), P(idx[BURN_BN_VAR]));
    return 0;
}

int burn_resnet_train_forward(burn_resnet_train_run *r, const burn_params *ps, const float *x,
                              int train, const float **feature) {
    const burn_backend *be = r->be;
    const burn_resnet *net = r->net;
    r->input = x;
    r->trained = 0;
    if (unit_fwd(r, ps, &r->stem, r->stem.y, x, net->stem_conv, net->stem_bn, train)) return -1;
    burn_relu_forward(be, r->stem.y, r->stem.y, out_numel(&r->stem.cv));
    const float *cur = r->stem.y;
    if (!net->cfg.small_input) {
        burn_maxpool2d_forward(be, &r->maxpool, r->pooled_stem, r->stem.y);
        cur = r->pooled_stem;
    }
    for (int k = 0; k < net->nblocks; k++) {
        const burn_resnet_block *d = &net->blocks[k];
        rt_block *B = &r->b[k];
        B->in = cur;
        const float *in = cur;
        for (int c = 0; c < B->units; c++) {
            rt_unit *u = &B->u[c];
            if (unit_fwd(r, ps, u, u->y, in, d->conv[c], d->bn[c], train)) return -1;
            if (c < B->units - 1) burn_relu_forward(be, u->y, u->y, out_numel(&u->cv));
            in = u->y;
        }
        rt_unit *last = &B->u[B->units - 1];
        int64_t m = out_numel(&last->cv);
        const float *idt = cur;
        if (d->has_down) {
            if (unit_fwd(r, ps, &B->down, r->G[3], cur, d->down_conv, d->down_bn, train))
                return -1;
            idt = r->G[3];
        }
        be->add(last->y, last->y, idt, m);
        burn_relu_forward(be, last->y, last->y, m);
        cur = last->y;
    }
    const burn_resnet_block *d = &net->blocks[net->nblocks - 1];
    burn_global_avgpool_forward(be, r->feature, cur, r->N, net->feature_dim,
                                d->out_hw * d->out_hw);
    r->trained = train;
    *feature = r->feature;
    return 0;
}

/* Backward of y = BN(conv(x)) of one unit from dy (the BN output's gradient): dx written
 * (NULL: skip), weight and BN gradients accumulated. Uses G1 for d(BN input). */
static void unit_bwd(burn_resnet_train_run *r, burn_params *ps, const rt_unit *u, float *dx,
                     const float *dy, const float *x, int w_idx, const int idx[4]) {
    const burn_backend *be = r->be;
    float *da = r->G[1];
    burn_bn_backward(be, &u->bn, da, G(idx[BURN_BN_WEIGHT]), G(idx[BURN_BN_BIAS]), r->bn_stats,
                     dy, u->a, P(idx[BURN_BN_WEIGHT]), u->mean, u->istd);
    burn_conv2d_backward(be, &u->cv, dx, G(w_idx), da, x, P(w_idx));
}

void burn_resnet_train_backward(burn_resnet_train_run *r, burn_params *ps, const float *dfeature,
                                float *dx) {
    if (!r->trained)
        burn_check_fail("burn", "burn_resnet_train_backward", __FILE__, __LINE__,
                        "backward needs a train-mode forward first", NULL);
    const burn_backend *be = r->be;
    const burn_resnet *net = r->net;
    float *g_out = r->G[0], *g_in = r->G[2], *g_sc = r->G[3];
    const burn_resnet_block *lastd = &net->blocks[net->nblocks - 1];
    burn_global_avgpool_backward(be, g_out, dfeature, r->N, net->feature_dim,
                                 lastd->out_hw * lastd->out_hw);
    for (int k = net->nblocks - 1; k >= 0; k--) {
        const burn_resnet_block *d = &net->blocks[k];
        const rt_block *B = &r->b[k];
        const rt_unit *last = &B->u[B->units - 1];
        /* out = ReLU(main + idt): g_out becomes the gradient of the sum */
        burn_relu_backward(be, g_out, g_out, last->y, out_numel(&last->cv));
        /* main path, last unit first; g_in is written by each conv and read by the next BN */
        const float *dy = g_out;
        for (int c = B->units - 1; c >= 0; c--) {
            const rt_unit *u = &B->u[c];
            const float *x = c == 0 ? B->in : B->u[c - 1].y;
            unit_bwd(r, ps, u, g_in, dy, x, d->conv[c], d->bn[c]);
            if (c > 0) burn_relu_backward(be, g_in, g_in, B->u[c - 1].y, out_numel(&B->u[c - 1].cv));
            dy = g_in;
        }
        int64_t n_in = (int64_t)r->N * d->cin * d->in_hw * d->in_hw;
        if (d->has_down) {
            unit_bwd(r, ps, &B->down, g_sc, g_out, B->in, d->down_conv, d->down_bn);
            be->add(g_in, g_in, g_sc, n_in);
        } else {
            be->add(g_in, g_in, g_out, n_in);
        }
        float *t = g_out; /* the block input's gradient is the previous block output's */
        g_out = g_in;
        g_in = t;
    }
    /* stem: [MaxPool] <- ReLU <- BN <- conv(input) */
    float *g_stem = g_out;
    if (!net->cfg.small_input) {
        burn_maxpool2d_backward(be, &r->maxpool, g_in, g_out, r->stem.y);
        g_stem = g_in;
    }
    burn_relu_backward(be, g_stem, g_stem, r->stem.y, out_numel(&r->stem.cv));
    unit_bwd(r, ps, &r->stem, dx, g_stem, r->input, net->stem_conv, net->stem_bn);
}
