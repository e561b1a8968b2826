/* infer.c — the CPU inference runtime of infer.h: load and validate a bit-packed ReActNet-A
 * (export.h) and run its eval-mode forward through the CPU backend's kernels.
 *
 * The architecture comes from the file's metadata (burn_reactnet_init, stage 2); the
 * parameter registry of burn_reactnet_register gives every expected name and shape without
 * allocating it (no FP32 latent weights are ever held). Weights live in host memory, one
 * array per registry index: FP tensors as float, each binary conv as the bconv.h packed
 * buffer (bits from the file + tap sums recomputed here) with its α. The forward computes
 * net_reactnet.c's eval path with the same per-element expressions (the BURN_HD helpers of
 * layers_math.h and binarize.h), so the result is the trainer's to the bit; only the
 * elementwise chain after each binary conv — BN (running statistics) + residual + RPReLU +
 * the next RSign — is fused into one pass over the activations (fused_tail), which roughly
 * halves the time of a forward that the separate passes dominated. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "burn/backend.h"
#include "burn/bconv.h"
#include "burn/binarize.h"
#include "burn/buffers.h"
#include "burn/check.h"
#include "burn/export.h"
#include "burn/infer.h"
#include "burn/layers.h"
#include "burn/layers_math.h"
#include "burn/models.h"
#include "burn/safetensors.h"

/* activations of one batch size; every op of a block reads and writes these */
typedef struct infer_run {
    int N;
    burn_conv2d stem_cv;
    burn_bn stem_bn;
    struct {
        burn_bconv cv3, cv1;
        burn_bn bn1, bn2;
        burn_pool2d pool;
    } b[BURN_REACTNET_BLOCKS];
    burn_linear fc;
    float *X[2], *U, *A, *R, *Z, *T[2]; /* each the size of the largest activation */
    float *pooled, *feat;
    void *ws;
    burn_buffers mem;
} infer_run;

struct burn_infer {
    const burn_backend *be;
    burn_reactnet net;
    burn_params reg;  /* names and shapes only: never finalised */
    void **w;         /* [reg.n] FP: float[numel]; binary: bconv packed buffer */
    float **alpha;    /* [reg.n] binary convs: α [O] */
    infer_run run;
};

int burn_infer_feature_dim(const burn_infer *m) { return m->net.feature_dim; }
int burn_infer_image_size(const burn_infer *m) { return m->net.cfg.image_size; }

static void run_free(infer_run *r) {
    burn_buffers_free(&r->mem);
    memset(r, 0, sizeof *r);
}

void burn_infer_free(burn_infer *m) {
    if (!m) return;
    run_free(&m->run);
    for (int i = 0; i < m->reg.n; i++) {
        free(m->w ? m->w[i] : NULL);
        free(m->alpha ? m->alpha[i] : NULL);
    }
    free(m->w);
    free(m->alpha);
    burn_params_free(&m->reg);
    free(m);
}

/* ---- loading ---- */

static int meta_long(const burn_st_file *f, const char *key, long lo, long hi, long *out) {
    const char *s = burn_st_meta(f, key);
    if (!s) {
        burn_error_set("%s: not a packed model: metadata '%s' is missing", f->path, key);
        return -1;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        burn_error_set("%s: metadata %s = '%s': expected an integer in [%ld, %ld]", f->path, key,
                       s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int check_shape(const burn_st_file *f, const burn_st_tensor *t, int ndim,
                       const int64_t *shape) {
    int ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
    if (!ok) {
        char want[96] = "", *p = want;
        for (int d = 0; d < ndim; d++)
            p += snprintf(p, (size_t)(want + sizeof want - p), d ? ", %lld" : "%lld",
                          (long long)shape[d]);
        burn_error_set("%s: tensor %s has the wrong shape (expected [%s])", f->path, t->name,
                       want);
        return -1;
    }
    return 0;
}

static const burn_st_tensor *need(const burn_st_file *f, const char *name) {
    const burn_st_tensor *t = burn_st_find(f, name);
    if (!t) burn_error_set("%s: tensor %s is missing", f->path, name);
    return t;
}

/* Binary conv `base` (registry name without ".weight"): bits U64 [O, ldk] with zero pad
 * bits, α F32 [O]; builds the bconv.h packed buffer (bits, then the tap sums). */
static int load_binary(burn_infer *m, const burn_st_file *f, int i, const char base[200],
                       const burn_bconv *cv) {
    char name[232];
    snprintf(name, sizeof name, "%s.bits", base);
    const burn_st_tensor *t = need(f, name);
    int64_t sb[2] = {cv->O, cv->ldk}, sa[1] = {cv->O};
    if (!t || check_shape(f, t, 2, sb)) return -1;
    if (t->dtype != BURN_U64) {
        burn_error_set("%s: tensor %s must be U64 (packed sign bits)", f->path, name);
        return -1;
    }
    size_t bits_bytes = burn_bconv_bits_bytes(cv);
    uint8_t *packed = burn_xcalloc(1, burn_bconv_packed_bytes(cv));
    m->w[i] = packed;
    memcpy(packed, t->data, bits_bytes);
    const uint64_t *bits = (const uint64_t *)packed;
    uint64_t tail = burn_bits_tail_mask(cv->K);
    for (int o = 0; o < cv->O; o++)
        if (bits[(int64_t)o * cv->ldk + cv->ldk - 1] & ~tail) {
            burn_error_set("%s: tensor %s: row %d has bits set past K = %d (corrupted)",
                           f->path, name, o, cv->K);
            return -1;
        }
    /* tap_sum[o, tap] = Σ_c sign(W[o, c, tap]) = 2·popcount(run of C bits) − C */
    int T = cv->kh * cv->kw, C = cv->C;
    int32_t *tap_sum = (int32_t *)(packed + bits_bytes);
    for (int o = 0; o < cv->O; o++)
        for (int tap = 0; tap < T; tap++) {
            int ones = 0;
            for (int c = 0; c < C; c += 64) {
                int len = C - c < 64 ? C - c : 64;
                ones += __builtin_popcountll(
                    burn_bits_get(bits + (int64_t)o * cv->ldk, (int64_t)tap * C + c, len));
            }
            tap_sum[(int64_t)o * T + tap] = 2 * ones - C;
        }
    snprintf(name, sizeof name, "%s.alpha", base);
    t = need(f, name);
    if (!t || check_shape(f, t, 1, sa)) return -1;
    if (t->dtype != BURN_F32) {
        burn_error_set("%s: tensor %s must be F32", f->path, name);
        return -1;
    }
    m->alpha[i] = burn_xcalloc((size_t)cv->O, sizeof(float));
    if (burn_st_read_f32(f, name, m->alpha[i], cv->O) != 0) return -1;
    return 0;
}

/* The binary conv geometry of registry index i (N = 1: packing ignores N), or 0 if i is FP. */
static int binary_conv(const burn_reactnet *net, int i, burn_bconv *cv) {
    for (int b = 0; b < BURN_REACTNET_BLOCKS; b++) {
        const burn_reactnet_block *k = &net->blocks[b];
        if (i == k->conv3x3)
            return burn_bconv_init(cv, 1, k->cin, k->in_hw, k->in_hw, k->cin, 3, k->stride, 1)
                       ? -1 : 1;
        if (i == k->conv1x1[0] || i == k->conv1x1[1])
            return burn_bconv_init(cv, 1, k->cin, k->out_hw, k->out_hw, k->cin, 1, 1, 0) ? -1
                                                                                         : 1;
    }
    return 0;
}

static int load_all(burn_infer *m, const burn_st_file *f) {
    const char *fmt = burn_st_meta(f, "format"), *arch = burn_st_meta(f, "arch");
    if (!fmt || strcmp(fmt, BURN_PACKED_FORMAT) != 0) {
        burn_error_set("%s: not a packed burn model (metadata format = '%s', expected '%s'; "
                       "make one with burn_gpu export --packed)",
                       f->path, fmt ? fmt : "(none)", BURN_PACKED_FORMAT);
        return -1;
    }
    if (!arch || strcmp(arch, "reactnet-a") != 0) {
        burn_error_set("%s: unsupported architecture '%s' (expected reactnet-a)", f->path,
                       arch ? arch : "(none)");
        return -1;
    }
    const char *ws = burn_st_meta(f, "width");
    char *end = NULL;
    double width = ws ? strtod(ws, &end) : 0;
    if (!ws || end == ws || *end) {
        burn_error_set("%s: metadata width = '%s' is not a number", f->path, ws ? ws : "(none)");
        return -1;
    }
    long size, stride, fc, fdim;
    if (meta_long(f, "image_size", 1, 4096, &size) || meta_long(f, "stem_stride", 1, 2, &stride) ||
        meta_long(f, "feature_fc", 0, 1, &fc) || meta_long(f, "feature_dim", 1, 1 << 20, &fdim))
        return -1;
    burn_reactnet_config cfg = {width, (int)size, (int)stride, 2, (int)fc, fc ? (int)fdim : 0};
    if (burn_reactnet_init(&m->net, &cfg) != 0) {
        burn_error_set("%s: bad architecture metadata: %s", f->path, burn_error());
        return -1;
    }
    if (m->net.feature_dim != fdim) {
        burn_error_set("%s: metadata feature_dim = %ld, but the architecture gives %d", f->path,
                       fdim, m->net.feature_dim);
        return -1;
    }
    burn_params_init_registry(&m->reg);
    burn_reactnet_register(&m->net, &m->reg, "");
    m->w = burn_xcalloc((size_t)m->reg.n, sizeof *m->w);
    m->alpha = burn_xcalloc((size_t)m->reg.n, sizeof *m->alpha);
    int expected = 0;
    for (int i = 0; i < m->reg.n; i++) {
        const burn_param *p = &m->reg.p[i];
        burn_bconv cv;
        int bin = binary_conv(&m->net, i, &cv);
        if (bin < 0) {
            burn_error_set("%s: unsupported architecture: %s", f->path, burn_error());
            return -1;
        }
        if (bin) {
            char base[200];
            snprintf(base, sizeof base, "%.*s", (int)strlen(p->name) - 7, p->name); /* .weight */
            if (load_binary(m, f, i, base, &cv) != 0) return -1;
            expected += 2;
            continue;
        }
        const burn_st_tensor *t = need(f, p->name);
        if (!t || check_shape(f, t, p->ndim, p->shape)) return -1;
        if (t->dtype != BURN_F32 && t->dtype != BURN_F16) {
            burn_error_set("%s: tensor %s must be F32 or F16", f->path, p->name);
            return -1;
        }
        m->w[i] = burn_xcalloc((size_t)p->numel, sizeof(float));
        if (burn_st_read_f32(f, p->name, m->w[i], p->numel) != 0) return -1;
        expected++;
    }
    if (f->n != expected) {
        burn_error_set("%s: %d tensors, expected %d (unknown extra tensors)", f->path, f->n,
                       expected);
        return -1;
    }
    return 0;
}

burn_infer *burn_infer_load(const char *path) {
    burn_st_file f;
    if (burn_st_open(&f, path) != 0) return NULL;
    burn_infer *m = burn_xcalloc(1, sizeof *m);
    m->be = burn_cpu_backend();
    int rc = load_all(m, &f);
    burn_st_close(&f);
    if (rc != 0) {
        burn_infer_free(m);
        return NULL;
    }
    return m;
}

/* ---- forward ---- */

static int run_init(burn_infer *m, int N) {
    infer_run *r = &m->run;
    run_free(r);
    r->mem.be = m->be;
    const burn_reactnet *net = &m->net;
    int S = net->cfg.image_size, c0 = net->stem_channels, hw0 = net->stem_hw;
    if (burn_conv2d_init(&r->stem_cv, N, 3, S, S, c0, 3, 3, net->cfg.stem_stride, 1) ||
        burn_bn_init(&r->stem_bn, N, c0, hw0 * hw0))
        return -1;
    int64_t max_act = (int64_t)N * c0 * hw0 * hw0;
    size_t ws = 0;
    for (int k = 0; k < BURN_REACTNET_BLOCKS; k++) {
        const burn_reactnet_block *d = &net->blocks[k];
        int C = d->cin;
        if (burn_bconv_init(&r->b[k].cv3, N, C, d->in_hw, d->in_hw, C, 3, d->stride, 1) ||
            burn_bconv_init(&r->b[k].cv1, N, C, d->out_hw, d->out_hw, C, 1, 1, 0) ||
            burn_bn_init(&r->b[k].bn1, N, C, d->out_hw * d->out_hw) ||
            burn_bn_init(&r->b[k].bn2, N, C, d->out_hw * d->out_hw))
            return -1;
        if (d->stride == 2 &&
            burn_avgpool2d_init(&r->b[k].pool, N, C, d->in_hw, d->in_hw, 2, 2))
            return -1;
        int64_t n_in = (int64_t)N * C * d->in_hw * d->in_hw;
        int64_t n_out = (int64_t)N * d->cout * d->out_hw * d->out_hw;
        if (n_in > max_act) max_act = n_in;
        if (n_out > max_act) max_act = n_out;
        size_t w3 = m->be->bconv_workspace_bytes(&r->b[k].cv3);
        size_t w1 = m->be->bconv_workspace_bytes(&r->b[k].cv1);
        if (w3 > ws) ws = w3;
        if (w1 > ws) ws = w1;
    }
    int F = net->feature_dim, P = net->pooled_dim;
    if (net->cfg.feature_fc && burn_linear_init(&r->fc, N, P, F)) return -1;
    float **bufs[] = {&r->X[0], &r->X[1], &r->U, &r->A, &r->R, &r->Z, &r->T[0], &r->T[1]};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        *bufs[i] = burn_buffers_floats(&r->mem, max_act);
    r->pooled = burn_buffers_floats(&r->mem, (int64_t)N * P);
    r->feat = burn_buffers_floats(&r->mem, (int64_t)N * F);
    r->ws = burn_buffers_alloc(&r->mem, ws ? ws : 1);
    r->N = N;
    return 0;
}

/* One pass of the elementwise chain after a binary conv, for a[N, C, HW] (the conv output)
 * and the residual res[N, C, HW]:
 *   z[n, c0 + c] = RPReLU_{c0+c}(BN_c(a[n, c]) + res[n, c])     (z has Co channels: the
 *                                                               concat of two halves)
 *   u[n, c0 + c] = sign(z[n, c0 + c] − β[c0 + c])                (u NULL: skipped)
 * with exactly the expressions of cpu_bn_eval, cpu_add, cpu_rprelu_forward and
 * cpu_rsign_forward, in the same order: the values are the unfused ones bit for bit. */
typedef struct tail_params {
    const float *mean, *var, *gamma, *beta; /* BN [C] */
    float eps;
    const float *rp_gamma, *rp_slope, *rp_zeta; /* RPReLU [Co] */
    const float *sign_beta;                     /* next RSign [Co], or NULL */
} tail_params;

static void fused_tail(float *restrict z, float *restrict u, const float *restrict a,
                       const float *restrict res, const tail_params *p, int N, int C, int HW,
                       int c0, int Co) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int oc = c0 + c;
            const float *ac = a + ((int64_t)n * C + c) * HW, *rc = res + ((int64_t)n * C + c) * HW;
            float *zc = z + ((int64_t)n * Co + oc) * HW;
            float mean = p->mean[c], invstd = burn_bn_eval_invstd(p->var[c], p->eps);
            float g = p->gamma[c], b = p->beta[c];
            float rg = p->rp_gamma[oc], rs = p->rp_slope[oc], rz = p->rp_zeta[oc];
            float *uc = u ? u + ((int64_t)n * Co + oc) * HW : NULL;
            float sb = u ? p->sign_beta[oc] : 0.0f;
            int i = 0;
#ifdef __SSE2__
            /* 4 lanes of the scalar expressions below, op for op (IEEE single, no FMA): -O2
             * leaves the scalar loop unvectorised, and its `v >= 0 ? ...` on activations of
             * random sign mispredicts half the time */
            __m128 vmean = _mm_set1_ps(mean), vinv = _mm_set1_ps(invstd), vg = _mm_set1_ps(g),
                   vb = _mm_set1_ps(b), vrg = _mm_set1_ps(rg), vrs = _mm_set1_ps(rs),
                   vrz = _mm_set1_ps(rz), vsb = _mm_set1_ps(sb), zero = _mm_setzero_ps(),
                   one = _mm_set1_ps(1.0f), minus = _mm_set1_ps(-1.0f);
            for (; i + 4 <= HW; i += 4) {
                __m128 bn = _mm_add_ps(
                    _mm_mul_ps(_mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(ac + i), vmean), vinv), vg), vb);
                __m128 v = _mm_sub_ps(_mm_add_ps(bn, _mm_loadu_ps(rc + i)), vrg);
                __m128 pos = _mm_cmpge_ps(v, zero);
                __m128 sel = _mm_or_ps(_mm_and_ps(pos, v), _mm_andnot_ps(pos, _mm_mul_ps(vrs, v)));
                __m128 zz = _mm_add_ps(sel, vrz);
                _mm_storeu_ps(zc + i, zz);
                if (uc) {
                    __m128 up = _mm_cmpge_ps(_mm_sub_ps(zz, vsb), zero);
                    _mm_storeu_ps(uc + i, _mm_or_ps(_mm_and_ps(up, one), _mm_andnot_ps(up, minus)));
                }
            }
#endif
            for (; i < HW; i++) {
                zc[i] = burn_rprelu(burn_bn_apply(ac[i], mean, invstd, g, b) + rc[i], rg, rs, rz);
                if (uc) uc[i] = burn_sign(zc[i] - sb);
            }
        }
}

#define W(i) ((const float *)m->w[(i)])

static void bn_eval(const burn_infer *m, const burn_bn *bn, const int idx[4], float *y,
                    const float *x) {
    burn_bn_forward_eval(m->be, bn, y, x, W(idx[BURN_BN_WEIGHT]), W(idx[BURN_BN_BIAS]),
                         W(idx[BURN_BN_MEAN]), W(idx[BURN_BN_VAR]));
}

int burn_infer_run(burn_infer *m, const float *images, int n, float *features) {
    if (n < 1) {
        burn_error_set("burn_infer_run: batch size %d must be >= 1", n);
        return -1;
    }
    if (m->run.N != n && run_init(m, n) != 0) return -1;
    const burn_backend *be = m->be;
    const burn_reactnet *net = &m->net;
    infer_run *r = &m->run;
    int N = n;
    burn_conv2d_forward(be, &r->stem_cv, r->A, images, W(net->stem_conv));
    bn_eval(m, &r->stem_bn, net->stem_bn, r->X[0], r->A);
    int cur = 0; /* the block input is X[cur]; its output goes to X[!cur] */
    /* U holds the signs entering the next binary conv; block 0's come from the stem */
    be->rsign_forward(r->U, r->X[0], W(net->blocks[0].move1), N, net->blocks[0].cin,
                      net->blocks[0].in_hw * net->blocks[0].in_hw);
    for (int k = 0; k < BURN_REACTNET_BLOCKS; k++) {
        const burn_reactnet_block *d = &net->blocks[k];
        int C = d->cin, hw = d->out_hw * d->out_hw;
        int halves = d->cout == d->cin ? 1 : 2;
        const float *x = r->X[cur];
        /* z1 = RPReLU1(BN1(α·xnor(U, W3)) + shortcut(x));  U = sign(z1 − β2) */
        be->bconv_forward_bin(&r->b[k].cv3, r->A, r->U, m->w[d->conv3x3], m->alpha[d->conv3x3],
                              r->ws);
        const float *shortcut = x;
        if (d->stride == 2) {
            burn_avgpool2d_forward(be, &r->b[k].pool, r->T[0], x);
            shortcut = r->T[0];
        }
        tail_params t1 = {W(d->bn1[BURN_BN_MEAN]), W(d->bn1[BURN_BN_VAR]),
                          W(d->bn1[BURN_BN_WEIGHT]), W(d->bn1[BURN_BN_BIAS]), r->b[k].bn1.eps,
                          W(d->rp1[0]), W(d->rp1[1]), W(d->rp1[2]), W(d->move2)};
        fused_tail(r->Z, r->U, r->A, shortcut, &t1, N, C, hw, 0, C);
        /* out = RPReLU2(BN2(α·xnor(U, W1)) + z1) (or the concat of two halves);
         * U = sign(out − β1 of the next block). Both convs read U before it is rewritten. */
        float *a2[2] = {r->A, r->R};
        for (int h = 0; h < halves; h++) {
            int wi = d->conv1x1[h];
            be->bconv_forward_bin(&r->b[k].cv1, a2[h], r->U, m->w[wi], m->alpha[wi], r->ws);
        }
        const float *next_beta = k + 1 < BURN_REACTNET_BLOCKS ? W(net->blocks[k + 1].move1) : NULL;
        for (int h = 0; h < halves; h++) {
            const int *bn = d->bn2[h];
            tail_params t2 = {W(bn[BURN_BN_MEAN]), W(bn[BURN_BN_VAR]), W(bn[BURN_BN_WEIGHT]),
                              W(bn[BURN_BN_BIAS]), r->b[k].bn2.eps, W(d->rp2[0]), W(d->rp2[1]),
                              W(d->rp2[2]), next_beta};
            fused_tail(r->X[!cur], next_beta ? r->U : NULL, a2[h], r->Z, &t2, N, C, hw, h * C,
                       d->cout);
        }
        cur = !cur;
    }
    const burn_reactnet_block *L = &net->blocks[BURN_REACTNET_BLOCKS - 1];
    int F = net->feature_dim;
    burn_global_avgpool_forward(be, r->pooled, r->X[cur], N, net->pooled_dim, L->out_hw * L->out_hw);
    const float *out = r->pooled;
    if (net->cfg.feature_fc) {
        burn_linear_forward(be, &r->fc, r->feat, r->pooled, W(net->fc_weight), W(net->fc_bias));
        burn_relu_forward(be, r->feat, r->feat, (int64_t)N * F);
        out = r->feat;
    }
    be->download(features, out, (size_t)N * F * sizeof(float));
    for (int64_t i = 0; i < (int64_t)N * F; i++) /* never a NaN result that looks like one */
        if (!isfinite(features[i])) {
            burn_error_set("burn_infer_run: feature %lld of image %lld is not finite (the model "
                           "or the input holds extreme values)", (long long)(i % F),
                           (long long)(i / F));
            return -1;
        }
    return 0;
}
