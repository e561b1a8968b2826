/* net_reactnet.c — ReActNet-A forward and backward (METHOD.md §2-3) over the backend table.
 *
 * Block (input x[N, C, H, H], stride s, output [N, Co, H/s, H/s]):
 *   u1 = RSign1(x) = sign(x − β1)            a1 = BinConv3x3_s(u1)
 *   r1 = BN1(a1) + (s = 2 ? AvgPool2x2(x) : x)
 *   z1 = RPReLU1(r1)                         u2 = RSign2(z1)
 *   r2 = BN2(BinConv1x1(u2)) + z1            (same width)
 *      | [BN2a(BinConv1x1a(u2)) + z1, BN2b(BinConv1x1b(u2)) + z1]   (doubling, channel concat)
 *   out = RPReLU2(r2)
 * Stage 1 convolves the signs with real weights; stage 2 with α_o·sign(W_o) through the
 * packed xnor path. The straight-through estimators sit in RSign's backward (act_grad) and in
 * the weight binarisation's backward (weight_grad). Kept per block for backward: x (the
 * previous block's out), u1, a1, r1, z1, u2, a2, r2 and the BN batch statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/bconv.h"
#include "burn/buffers.h"
#include "burn/check.h"
#include "burn/layers.h"
#include "burn/net.h"

typedef struct rn_block {
    burn_bconv cv3, cv1;
    burn_bn bn1, bn2;
    burn_pool2d pool;    /* the stride-2 shortcut */
    int C, Co, hw_in, hw_out, halves;
    const float *x;      /* block input: the previous block's out (not owned) */
    float *u1, *a1, *r1, *z1, *u2, *a2[2], *r2, *out;
    float *mean1, *istd1, *mean2[2], *istd2[2];
    void *wp3, *wp1[2];  /* stage 2: packed sign bits */
    float *alpha3, *alpha1[2], *wb3, *wb1[2]; /* stage 2: α and W_b = α·sign(W) */
} rn_block;

#define NSCRATCH 8

struct burn_reactnet_run {
    const burn_reactnet *net;
    const burn_backend *be;
    int N, act_grad, weight_grad, stage2;
    int debug;          /* check every layer's output and gradient for non-finite values */
    int grad_fault;     /* debug: backward met a non-finite gradient (burn_error() names it) */
    void (*grad_final)(void *ctx, int part); /* burn_reactnet_set_grad_hook */
    void *grad_final_ctx;
    burn_conv2d stem_cv;
    burn_bn stem_bn;
    const float *input;
    float *stem_a, *stem_out, *stem_mean, *stem_istd;
    rn_block b[BURN_REACTNET_BLOCKS];
    burn_linear fc;
    float *pooled, *feat, *dfc;
    double *bn_stats;
    void *ws;
    float *S[NSCRATCH]; /* scratch, each the size of the largest activation */
    float *dwb;         /* stage 2: ∂L/∂W_b of one conv */
    burn_buffers mem; /* every buffer above */
};

void burn_reactnet_run_free(burn_reactnet_run *r) {
    if (!r) return;
    burn_buffers_free(&r->mem);
    free(r);
}

burn_reactnet_run *burn_reactnet_run_new(const burn_reactnet *net, const burn_backend *be,
                                         int N, int act_grad, int weight_grad) {
    burn_reactnet_run *r = burn_xcalloc(1, sizeof *r);
    r->net = net;
    r->be = be;
    r->mem.be = be;
    r->N = N;
    r->act_grad = act_grad;
    r->weight_grad = weight_grad;
    r->stage2 = net->cfg.stage == 2;
    int S = net->cfg.image_size, c0 = net->stem_channels, hw0 = net->stem_hw;
    if (burn_conv2d_init(&r->stem_cv, N, 3, S, S, c0, 3, 3, net->cfg.stem_stride, 1) ||
        burn_bn_init(&r->stem_bn, N, c0, hw0 * hw0))
        goto fail;
    int64_t max_act = (int64_t)N * c0 * hw0 * hw0, max_c = c0, max_ok = 0;
    size_t ws = 0;
    for (int k = 0; k < BURN_REACTNET_BLOCKS; k++) {
        const burn_reactnet_block *d = &net->blocks[k];
        rn_block *B = &r->b[k];
        B->C = d->cin;
        B->Co = d->cout;
        B->hw_in = d->in_hw;
        B->hw_out = d->out_hw;
        B->halves = d->cout == d->cin ? 1 : 2;
        if (burn_bconv_init(&B->cv3, N, B->C, B->hw_in, B->hw_in, B->C, 3, d->stride, 1) ||
            burn_bconv_init(&B->cv1, N, B->C, B->hw_out, B->hw_out, B->C, 1, 1, 0) ||
            burn_bn_init(&B->bn1, N, B->C, B->hw_out * B->hw_out) ||
            burn_bn_init(&B->bn2, N, B->C, B->hw_out * B->hw_out))
            goto fail;
        if (d->stride == 2 && burn_avgpool2d_init(&B->pool, N, B->C, B->hw_in, B->hw_in, 2, 2))
            goto fail;
        int64_t n_in = (int64_t)N * B->C * B->hw_in * B->hw_in;
        int64_t n_mid = (int64_t)N * B->C * B->hw_out * B->hw_out;
        int64_t n_out = (int64_t)N * B->Co * B->hw_out * B->hw_out;
        if (n_in > max_act) max_act = n_in;
        if (n_out > max_act) max_act = n_out;
        if (B->Co > max_c) max_c = B->Co;
        size_t w3 = be->bconv_workspace_bytes(&B->cv3), w1 = be->bconv_workspace_bytes(&B->cv1);
        if (w3 > ws) ws = w3;
        if (w1 > ws) ws = w1;
        B->u1 = burn_buffers_floats(&r->mem, n_in);
        B->a1 = burn_buffers_floats(&r->mem, n_mid);
        B->r1 = burn_buffers_floats(&r->mem, n_mid);
        B->z1 = burn_buffers_floats(&r->mem, n_mid);
        B->u2 = burn_buffers_floats(&r->mem, n_mid);
        for (int h = 0; h < B->halves; h++) {
            B->a2[h] = burn_buffers_floats(&r->mem, n_mid);
            B->mean2[h] = burn_buffers_floats(&r->mem, B->C);
            B->istd2[h] = burn_buffers_floats(&r->mem, B->C);
        }
        B->r2 = burn_buffers_floats(&r->mem, n_out);
        B->out = burn_buffers_floats(&r->mem, n_out);
        B->mean1 = burn_buffers_floats(&r->mem, B->C);
        B->istd1 = burn_buffers_floats(&r->mem, B->C);
        if (r->stage2) {
            int64_t K3 = (int64_t)B->C * 9;
            B->wp3 = burn_buffers_alloc(&r->mem, burn_bconv_packed_bytes(&B->cv3));
            B->alpha3 = burn_buffers_floats(&r->mem, B->C);
            B->wb3 = burn_buffers_floats(&r->mem, (int64_t)B->C * K3);
            if ((int64_t)B->C * K3 > max_ok) max_ok = (int64_t)B->C * K3;
            for (int h = 0; h < B->halves; h++) {
                B->wp1[h] = burn_buffers_alloc(&r->mem, burn_bconv_packed_bytes(&B->cv1));
                B->alpha1[h] = burn_buffers_floats(&r->mem, B->C);
                B->wb1[h] = burn_buffers_floats(&r->mem, (int64_t)B->C * B->C);
            }
        }
    }
    int F = net->feature_dim, P = net->pooled_dim;
    if (net->cfg.feature_fc && burn_linear_init(&r->fc, N, P, F)) goto fail;
    r->stem_a = burn_buffers_floats(&r->mem, (int64_t)N * c0 * hw0 * hw0);
    r->stem_out = burn_buffers_floats(&r->mem, (int64_t)N * c0 * hw0 * hw0);
    r->stem_mean = burn_buffers_floats(&r->mem, c0);
    r->stem_istd = burn_buffers_floats(&r->mem, c0);
    r->pooled = burn_buffers_floats(&r->mem, (int64_t)N * P);
    r->feat = burn_buffers_floats(&r->mem, (int64_t)N * F);
    r->dfc = burn_buffers_floats(&r->mem, (int64_t)N * F);
    r->bn_stats = burn_buffers_alloc(&r->mem, 2 * sizeof(double) * (size_t)max_c);
    r->ws = burn_buffers_alloc(&r->mem, ws);
    for (int i = 0; i < NSCRATCH; i++) r->S[i] = burn_buffers_floats(&r->mem, max_act);
    if (r->stage2) r->dwb = burn_buffers_floats(&r->mem, max_ok);
    return r;
fail:
    burn_reactnet_run_free(r);
    return NULL;
}

#define P(i) burn_param_data(ps, (i))
#define G(i) burn_param_grad(ps, (i))

void burn_reactnet_prepare(burn_reactnet_run *r, const burn_params *ps) {
    if (!r->stage2) return;
    const burn_backend *be = r->be;
    for (int k = 0; k < BURN_REACTNET_BLOCKS; k++) {
        const burn_reactnet_block *d = &r->net->blocks[k];
        rn_block *B = &r->b[k];
        be->binarize_weights(B->wb3, B->alpha3, P(d->conv3x3), B->C, B->C * 9);
        be->bconv_pack_weights(&B->cv3, B->wp3, P(d->conv3x3));
        for (int h = 0; h < B->halves; h++) {
            be->binarize_weights(B->wb1[h], B->alpha1[h], P(d->conv1x1[h]), B->C, B->C);
            be->bconv_pack_weights(&B->cv1, B->wp1[h], P(d->conv1x1[h]));
        }
    }
}

/* BN forward in train or eval mode; idx = the BN's parameter indices. */
static int bn_fwd(burn_reactnet_run *r, const burn_params *ps, const burn_bn *bn, const int idx[4],
                  float *y, float *mean, float *istd, const float *x, int train) {
    if (train)
        return burn_bn_forward_train(r->be, bn, y, mean, istd, P(idx[BURN_BN_MEAN]),
                                     P(idx[BURN_BN_VAR]), r->bn_stats, x, P(idx[BURN_BN_WEIGHT]),
                                     P(idx[BURN_BN_BIAS]));
    burn_bn_forward_eval(r->be, bn, y, x, P(idx[BURN_BN_WEIGHT]), P(idx[BURN_BN_BIAS]),
                         P(idx[BURN_BN_MEAN]), P(idx[BURN_BN_VAR]));
    return 0;
}

void burn_reactnet_set_debug(burn_reactnet_run *r, int on) { r->debug = on; }

void burn_reactnet_set_grad_hook(burn_reactnet_run *r, void (*fn)(void *ctx, int part),
                                 void *ctx) {
    r->grad_final = fn;
    r->grad_final_ctx = ctx;
}

static void grad_done(burn_reactnet_run *r, int part) {
    if (r->grad_final) r->grad_final(r->grad_final_ctx, part);
}

int burn_reactnet_grad_fault(burn_reactnet_run *r) {
    int f = r->grad_fault;
    r->grad_fault = 0;
    return f;
}

/* train.debug: -1 with burn_error() naming the tensor when x[n] holds a NaN or an Inf. */
static int check_finite(burn_reactnet_run *r, const float *x, int64_t n, const char *what, int k) {
    if (!r->debug) return 0;
    float s;
    r->be->sumsq(r->S[5], x, n);
    r->be->download(&s, r->S[5], sizeof s);
    if (isfinite(s)) return 0;
    if (k >= 0)
        burn_error_set("non-finite values in the output of student.blocks.%d (%s)", k, what);
    else
        burn_error_set("non-finite values in the student's %s", what);
    return -1;
}

static void bconv_fwd(burn_reactnet_run *r, const burn_params *ps, const burn_bconv *cv,
                      float *y, const float *u, int w_idx, const void *wp, const float *alpha) {
    if (r->stage2)
        r->be->bconv_forward_bin(cv, y, u, wp, alpha, r->ws);
    else
        r->be->bconv_forward_real(cv, y, u, P(w_idx), r->ws);
}

int burn_reactnet_forward(burn_reactnet_run *r, const burn_params *ps, const float *x, int train,
                          const float **feature) {
    const burn_backend *be = r->be;
    const burn_reactnet *net = r->net;
    int N = r->N;
    r->input = x;
    burn_conv2d_forward(be, &r->stem_cv, r->stem_a, x, P(net->stem_conv));
    if (bn_fwd(r, ps, &r->stem_bn, net->stem_bn, r->stem_out, r->stem_mean, r->stem_istd,
               r->stem_a, train) ||
        check_finite(r, r->stem_out, (int64_t)N * r->stem_cv.O * r->stem_cv.Ho * r->stem_cv.Wo,
                     "stem output", -1))
        return -1;
    const float *cur = r->stem_out;
    for (int k = 0; k < BURN_REACTNET_BLOCKS; k++) {
        const burn_reactnet_block *d = &net->blocks[k];
        rn_block *B = &r->b[k];
        int hw_in = B->hw_in * B->hw_in, hw = B->hw_out * B->hw_out;
        int64_t n_mid = (int64_t)N * B->C * hw;
        B->x = cur;
        be->rsign_forward(B->u1, cur, P(d->move1), N, B->C, hw_in);
        bconv_fwd(r, ps, &B->cv3, B->a1, B->u1, d->conv3x3, B->wp3, B->alpha3);
        if (check_finite(r, B->a1, n_mid, "conv3x3", k) ||
            bn_fwd(r, ps, &B->bn1, d->bn1, B->r1, B->mean1, B->istd1, B->a1, train))
            return -1;
        if (d->stride == 2) {
            burn_avgpool2d_forward(be, &B->pool, r->S[6], cur);
            be->add(B->r1, B->r1, r->S[6], n_mid);
        } else {
            be->add(B->r1, B->r1, cur, n_mid);
        }
        if (check_finite(r, B->r1, n_mid, "bn1 + shortcut", k)) return -1;
        be->rprelu_forward(B->z1, B->r1, P(d->rp1[0]), P(d->rp1[1]), P(d->rp1[2]), N, B->C, hw);
        if (check_finite(r, B->z1, n_mid, "rprelu1", k)) return -1;
        be->rsign_forward(B->u2, B->z1, P(d->move2), N, B->C, hw);
        for (int h = 0; h < B->halves; h++) {
            bconv_fwd(r, ps, &B->cv1, B->a2[h], B->u2, d->conv1x1[h], B->wp1[h], B->alpha1[h]);
            float *dst = B->halves == 1 ? B->r2 : r->S[6 + h];
            if (check_finite(r, B->a2[h], n_mid, h ? "conv1x1 (second half)" : "conv1x1", k) ||
                bn_fwd(r, ps, &B->bn2, d->bn2[h], dst, B->mean2[h], B->istd2[h], B->a2[h], train))
                return -1;
            be->add(dst, dst, B->z1, n_mid);
            if (check_finite(r, dst, n_mid, h ? "bn2 + z1 (second half)" : "bn2 + z1", k))
                return -1;
        }
        if (B->halves == 2) burn_concat_forward(be, B->r2, r->S[6], r->S[7], N, B->C, B->C, hw);
        be->rprelu_forward(B->out, B->r2, P(d->rp2[0]), P(d->rp2[1]), P(d->rp2[2]), N, B->Co, hw);
        if (check_finite(r, B->out, (int64_t)N * B->Co * hw, "rprelu2", k)) return -1;
        cur = B->out;
    }
    const rn_block *L = &r->b[BURN_REACTNET_BLOCKS - 1];
    int F = net->feature_dim;
    burn_global_avgpool_forward(be, r->pooled, cur, N, net->pooled_dim, L->hw_out * L->hw_out);
    if (net->cfg.feature_fc) {
        burn_linear_forward(be, &r->fc, r->feat, r->pooled, P(net->fc_weight), P(net->fc_bias));
        burn_relu_forward(be, r->feat, r->feat, (int64_t)N * F);
        *feature = r->feat;
        if (check_finite(r, r->feat, (int64_t)N * F, "feature (fc + relu)", -1)) return -1;
    } else {
        *feature = r->pooled;
    }
    return 0;
}

static void bn_bwd(burn_reactnet_run *r, burn_params *ps, const burn_bn *bn, const int idx[4],
                   float *dx, const float *dy, const float *x, const float *mean,
                   const float *istd) {
    burn_bn_backward(r->be, bn, dx, G(idx[BURN_BN_WEIGHT]), G(idx[BURN_BN_BIAS]), r->bn_stats,
                     dy, x, P(idx[BURN_BN_WEIGHT]), mean, istd);
}

/* ∂L/∂u (written) and the weight gradient of one binary conv from dy. */
static void bconv_bwd(burn_reactnet_run *r, burn_params *ps, const burn_bconv *cv, float *du,
                      const float *dy, const float *u, int w_idx, const float *wb,
                      const float *alpha) {
    const burn_backend *be = r->be;
    if (!r->stage2) {
        be->bconv_backward(cv, du, G(w_idx), dy, u, P(w_idx), r->ws);
        return;
    }
    int64_t n = (int64_t)cv->O * cv->K;
    be->fill(r->dwb, 0.0f, n);
    be->bconv_backward(cv, du, r->dwb, dy, u, wb, r->ws);
    be->binarize_weights_backward(G(w_idx), r->dwb, P(w_idx), alpha, cv->O, cv->K,
                                  r->weight_grad);
}

void burn_reactnet_backward(burn_reactnet_run *r, burn_params *ps, const float *dfeature) {
    const burn_backend *be = r->be;
    const burn_reactnet *net = r->net;
    int N = r->N, F = net->feature_dim;
    float **S = r->S; /* S0 dcur/dx, S1 dr2/dr1, S2 dz1, S3 da, S4 du, S5 tmp, S6/S7 halves */
    const rn_block *L = &r->b[BURN_REACTNET_BLOCKS - 1];
    const float *dpooled = dfeature;
    if (net->cfg.feature_fc) {
        burn_relu_backward(be, r->dfc, dfeature, r->feat, (int64_t)N * F);
        burn_linear_backward(be, &r->fc, S[1], G(net->fc_weight), G(net->fc_bias), r->dfc,
                             r->pooled, P(net->fc_weight));
        dpooled = S[1];
        grad_done(r, BURN_REACTNET_BLOCKS);
    }
    burn_global_avgpool_backward(be, S[0], dpooled, N, net->pooled_dim, L->hw_out * L->hw_out);
    for (int k = BURN_REACTNET_BLOCKS - 1; k >= 0; k--) {
        const burn_reactnet_block *d = &net->blocks[k];
        const rn_block *B = &r->b[k];
        int hw_in = B->hw_in * B->hw_in, hw = B->hw_out * B->hw_out;
        int64_t n_in = (int64_t)N * B->C * hw_in, n_mid = (int64_t)N * B->C * hw;
        /* out = RPReLU2(r2) */
        be->rprelu_backward(S[1], G(d->rp2[0]), G(d->rp2[1]), G(d->rp2[2]), S[0], B->r2,
                            P(d->rp2[0]), P(d->rp2[1]), N, B->Co, hw);
        /* r2 = BN2(conv1x1(u2)) + z1, or the concat of two such halves */
        if (B->halves == 1) {
            be->copy(S[2], S[1], (size_t)n_mid * sizeof(float));
            bn_bwd(r, ps, &B->bn2, d->bn2[0], S[3], S[1], B->a2[0], B->mean2[0], B->istd2[0]);
            bconv_bwd(r, ps, &B->cv1, S[4], S[3], B->u2, d->conv1x1[0], B->wb1[0], B->alpha1[0]);
        } else {
            burn_concat_backward(be, S[6], S[7], S[1], N, B->C, B->C, hw);
            be->add(S[2], S[6], S[7], n_mid);
            for (int h = 0; h < 2; h++) {
                bn_bwd(r, ps, &B->bn2, d->bn2[h], S[3], S[6 + h], B->a2[h], B->mean2[h],
                       B->istd2[h]);
                bconv_bwd(r, ps, &B->cv1, h == 0 ? S[4] : S[5], S[3], B->u2, d->conv1x1[h],
                          B->wb1[h], B->alpha1[h]);
            }
            be->add(S[4], S[4], S[5], n_mid);
        }
        /* u2 = RSign2(z1) */
        be->rsign_backward(S[5], G(d->move2), S[4], B->z1, P(d->move2), N, B->C, hw, r->act_grad);
        be->add(S[2], S[2], S[5], n_mid);
        /* z1 = RPReLU1(r1) */
        be->rprelu_backward(S[1], G(d->rp1[0]), G(d->rp1[1]), G(d->rp1[2]), S[2], B->r1,
                            P(d->rp1[0]), P(d->rp1[1]), N, B->C, hw);
        /* r1 = BN1(conv3x3(u1)) + shortcut(x) */
        if (d->stride == 2)
            burn_avgpool2d_backward(be, &B->pool, S[0], S[1]);
        else
            be->copy(S[0], S[1], (size_t)n_mid * sizeof(float));
        bn_bwd(r, ps, &B->bn1, d->bn1, S[3], S[1], B->a1, B->mean1, B->istd1);
        bconv_bwd(r, ps, &B->cv3, S[4], S[3], B->u1, d->conv3x3, B->wb3, B->alpha3);
        /* u1 = RSign1(x) */
        be->rsign_backward(S[5], G(d->move1), S[4], B->x, P(d->move1), N, B->C, hw_in,
                           r->act_grad);
        be->add(S[0], S[0], S[5], n_in);
        if (!r->grad_fault && check_finite(r, S[0], n_in, "gradient w.r.t. the input", k))
            r->grad_fault = 1; /* the first (deepest) non-finite layer gradient is named */
        grad_done(r, k);
    }
    /* stem: BN(conv(input)); the input needs no gradient */
    bn_bwd(r, ps, &r->stem_bn, net->stem_bn, S[3], S[0], r->stem_a, r->stem_mean, r->stem_istd);
    burn_conv2d_backward(be, &r->stem_cv, NULL, G(net->stem_conv), S[3], r->input,
                         P(net->stem_conv));
    grad_done(r, -1);
}
