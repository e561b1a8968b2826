/* bench_conv.c — `burn_bench conv`: the whole stage-2 binary conv layer against the FP conv
 * layer at the ReActNet-A layer shapes (3×3 pad 1 at stride 1 or 2, 1×1), side by side.
 *
 *   binary: bconv_pack_weights (sign(W) bits + tap sums, once per step in training) and
 *           bconv_forward_bin (sign-packing of x, packed im2col, xnor GEMM, α and the exact
 *           zero-padding correction in the epilogue) — everything a forward pass pays;
 *   FP:     the project's FP conv layer (burn_conv2d_forward: im2col + OpenBLAS SGEMM on the
 *           CPU, cuDNN on CUDA) on the same ±1 input with the weights α_o·sign(W_o).
 * Both compute the same numbers: the outputs are compared element for element (the FP sum
 * rounds, so within α_o/2, while any wrong bit would be off by at least 2·α_o). Each timing
 * is the median of --repeats back-to-back runs after one warm-up, the FP layer first, then
 * the binary one (bench_median_pair); GOPS = 2·O·N·Ho·Wo·K / s. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "burn/bconv.h"
#include "burn/bitpack.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/layers.h"
#include "burn/log.h"

typedef struct conv_case {
    const burn_backend *be;
    burn_bconv bc;
    burn_conv2d fc;
    float *x, *xpm, *W, *Wb, *alpha, *y, *yref;
    void *Wp, *ws;
} conv_case;

static void run_binary(void *p) {
    conv_case *c = p;
    c->be->bconv_pack_weights(&c->bc, c->Wp, c->W);
    c->be->bconv_forward_bin(&c->bc, c->y, c->x, c->Wp, c->alpha, c->ws);
}

static void run_fp(void *p) {
    conv_case *c = p;
    burn_conv2d_forward(c->be, &c->fc, c->yref, c->xpm, c->Wb);
}

/* Host-side α·sign(W) and ±1 copies (setup only, not timed). */
static void make_fp_inputs(conv_case *c, int64_t nx, int64_t nw) {
    const burn_backend *be = c->be;
    float *h = burn_xmalloc((size_t)(nx > nw ? nx : nw) * 4);
    float *alpha = burn_xmalloc((size_t)c->bc.O * 4);
    be->download(h, c->x, (size_t)nx * 4);
    for (int64_t i = 0; i < nx; i++) h[i] = h[i] >= 0.0f ? 1.0f : -1.0f;
    be->upload(c->xpm, h, (size_t)nx * 4);
    be->download(h, c->W, (size_t)nw * 4);
    be->download(alpha, c->alpha, (size_t)c->bc.O * 4);
    int64_t K = c->bc.K;
    for (int64_t i = 0; i < nw; i++) h[i] = alpha[i / K] * (h[i] >= 0.0f ? 1.0f : -1.0f);
    be->upload(c->Wb, h, (size_t)nw * 4);
    free(h);
    free(alpha);
}

static int check_close(conv_case *c, int64_t ny, const bench_shape *s) {
    float *a = burn_xmalloc((size_t)ny * 4), *b = burn_xmalloc((size_t)ny * 4);
    float *alpha = burn_xmalloc((size_t)c->bc.O * 4);
    c->be->download(a, c->y, (size_t)ny * 4);
    c->be->download(b, c->yref, (size_t)ny * 4);
    c->be->download(alpha, c->alpha, (size_t)c->bc.O * 4);
    int64_t HoWo = (int64_t)c->bc.Ho * c->bc.Wo, bad = -1;
    for (int64_t i = 0; i < ny && bad < 0; i++)
        if (!(fabsf(a[i] - b[i]) <= 0.5f * alpha[(i / HoWo) % c->bc.O])) bad = i;
    if (bad >= 0)
        fprintf(stderr, "burn_bench conv: binary and FP conv differ at %dx%dx%d (k%d s%d), "
                "element %lld: %g vs %g\n", s->M, s->N, s->K, s->kernel, s->stride,
                (long long)bad, a[bad], b[bad]);
    free(a), free(b), free(alpha);
    return bad >= 0 ? -1 : 0;
}

int bench_conv(int argc, char **argv) {
    static const burn_opt opts[] = {BENCH_XNOR_OPTS("print one JSON object")};
    burn_args a;
    int rc = burn_args_parse(&a, "burn_bench conv",
                             "[--device cpu|cuda] [--batch N] [--repeats N] [--kernel NAME] [--json]",
                             "binary conv layer vs the FP conv layer at ReActNet-A shapes.", opts,
                             0, argc, argv);
    if (rc) return rc;
    bench_xnor_opts o;
    if ((rc = bench_xnor_setup(&a, "burn_bench conv", &o))) return rc;
    const char *device = o.device, *kname = o.kernel_name;
    int64_t batch = o.batch, repeats = o.repeats;
    int json = o.json, cuda = o.cuda;
    const burn_backend *be = o.be;
    burn_log("xnor kernel %s, %d CPU threads, batch %d, median of %d; FP reference: %s", kname,
             burn_cpu_threads(), (int)batch, (int)repeats,
             cuda ? "burn_conv2d_forward (cuDNN)" : "burn_conv2d_forward (im2col + OpenBLAS)");

    bench_shape shapes[32];
    int n = bench_reactnet_shapes((int)batch, shapes, 32);
    bench_row *rows = burn_xcalloc((size_t)n, sizeof(bench_row));
    int failed = 0;
    for (int s = 0; s < n && !failed; s++) {
        const bench_shape *sh = &shapes[s];
        conv_case c;
        memset(&c, 0, sizeof c);
        c.be = be;
        int pad = sh->kernel / 2;
        if (burn_bconv_init(&c.bc, sh->batch, sh->cin, sh->in_hw, sh->in_hw, sh->cout,
                            sh->kernel, sh->stride, pad) ||
            burn_conv2d_init(&c.fc, sh->batch, sh->cin, sh->in_hw, sh->in_hw, sh->cout,
                             sh->kernel, sh->kernel, sh->stride, pad)) {
            fprintf(stderr, "burn_bench conv: %s\n", burn_error());
            failed = 1;
            break;
        }
        int64_t nx = (int64_t)c.bc.N * c.bc.C * c.bc.H * c.bc.W, nw = (int64_t)c.bc.O * c.bc.K;
        int64_t ny = (int64_t)c.bc.N * c.bc.O * c.bc.Ho * c.bc.Wo;
        c.x = be->alloc((size_t)nx * 4);
        c.xpm = be->alloc((size_t)nx * 4);
        c.W = be->alloc((size_t)nw * 4);
        c.Wb = be->alloc((size_t)nw * 4);
        c.alpha = be->alloc((size_t)c.bc.O * 4);
        c.y = be->alloc((size_t)ny * 4);
        c.yref = be->alloc((size_t)ny * 4);
        c.Wp = be->alloc(burn_bconv_packed_bytes(&c.bc));
        c.ws = be->alloc(be->bconv_workspace_bytes(&c.bc));
        be->uniform(c.x, nx, 3000 + s, 0, -1.0f, 1.0f);
        be->uniform(c.W, nw, 4000 + s, 0, -0.1f, 0.1f);
        be->uniform(c.alpha, c.bc.O, 5000 + s, 0, 0.02f, 0.08f);
        make_fp_inputs(&c, nx, nw);
        double t_bin, t_fp;
        bench_median_pair(run_binary, run_fp, &c, be, 1, (int)repeats, &t_bin, &t_fp);
        failed = check_close(&c, ny, sh);
        double ops = 2.0 * (double)ny * c.bc.K;
        snprintf(rows[s].shape, sizeof rows[s].shape, "%dx%dx%d k%ds%d", sh->M, sh->N, sh->K,
                 sh->kernel, sh->stride);
        rows[s].binary_gops = ops / t_bin * 1e-9;
        rows[s].ref_gops = ops / t_fp * 1e-9;
        be->free(c.x), be->free(c.xpm), be->free(c.W), be->free(c.Wb), be->free(c.alpha);
        be->free(c.y), be->free(c.yref), be->free(c.Wp), be->free(c.ws);
    }
    if (!failed) {
        char bname[32];
        snprintf(bname, sizeof bname, "bconv/%s GOPS", kname);
        if (!json) printf("binary conv layer (%s) vs FP conv layer\n", kname);
        bench_report("conv", device, bname, cuda ? "cudnn GOPS" : "fp conv GOPS", rows, n, json);
    }
    free(rows);
    burn_args_free(&a);
    return failed ? BURN_EXIT_RUNTIME : 0;
}
