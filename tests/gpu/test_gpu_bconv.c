/* test_gpu_bconv.c — the CUDA binary conv2d against the CPU backend on random inputs: packed
 * weights and the stage-2 forward bit for bit (both xnor kernels), stage 1 and the backward
 * within float tolerance. Skipped (visibly) without a device. */
#include "burn/bconv.h"
#include "gpu_util.h"

static const burn_backend *cpu;
static void setup(void) { cpu = burn_cpu_backend(); }
TestSuite(gpu_bconv, .init = setup);

typedef struct geo {
    int N, C, H, W, O, k, s, p;
} geo;

static const geo geos[] = {
    {2, 32, 7, 5, 5, 3, 1, 1},  {1, 64, 9, 9, 3, 3, 1, 1},    {2, 65, 6, 7, 4, 3, 1, 1},
    {1, 3, 5, 5, 7, 3, 2, 1},   {3, 100, 8, 8, 2, 3, 2, 1},   {2, 17, 1, 1, 3, 3, 1, 1},
    {1, 130, 4, 3, 6, 1, 1, 0}, {3, 64, 5, 6, 8, 1, 1, 0},    {1, 9, 10, 7, 3, 4, 2, 2},
    {1, 12, 5, 7, 3, 1, 2, 0},  {4, 128, 14, 14, 40, 3, 2, 1}, {2, 256, 7, 7, 70, 1, 1, 0},
};
#define NGEO ((int)(sizeof geos / sizeof geos[0]))

typedef struct bufs {
    burn_bconv cv;
    int64_t nx, nw, ny;
    float *x, *W, *alpha, *dy;       /* host */
    float *dx_, *dW_, *dalpha, *ddy; /* device copies */
    void *ws_c, *ws_g;
} bufs;

static void make(const burn_backend *g, bufs *b, const geo *q, uint64_t seed) {
    cr_assert_eq(burn_bconv_init(&b->cv, q->N, q->C, q->H, q->W, q->O, q->k, q->s, q->p), 0);
    b->nx = (int64_t)b->cv.N * b->cv.C * b->cv.H * b->cv.W;
    b->nw = (int64_t)b->cv.O * b->cv.K;
    b->ny = (int64_t)b->cv.N * b->cv.O * b->cv.Ho * b->cv.Wo;
    b->x = malloc(4 * b->nx), b->W = malloc(4 * b->nw), b->dy = malloc(4 * b->ny);
    b->alpha = malloc(4 * (size_t)b->cv.O);
    tu_fill(b->x, b->nx, seed, -1, 1);
    tu_fill(b->W, b->nw, seed + 1, -1, 1);
    tu_fill(b->dy, b->ny, seed + 2, -1, 1);
    tu_fill(b->alpha, b->cv.O, seed + 3, 0.01f, 1.0f);
    b->dx_ = gu_upload(g, b->x, b->nx);
    b->dW_ = gu_upload(g, b->W, b->nw);
    b->ddy = gu_upload(g, b->dy, b->ny);
    b->dalpha = gu_upload(g, b->alpha, b->cv.O);
    b->ws_c = cpu->alloc(cpu->bconv_workspace_bytes(&b->cv));
    b->ws_g = g->alloc(g->bconv_workspace_bytes(&b->cv));
}

static void release(const burn_backend *g, bufs *b) {
    free(b->x), free(b->W), free(b->dy), free(b->alpha);
    g->free(b->dx_), g->free(b->dW_), g->free(b->ddy), g->free(b->dalpha), g->free(b->ws_g);
    cpu->free(b->ws_c);
}

static void check_forward_bin(const burn_backend *g, const char *kernel) {
    cr_assert_eq(burn_xnor_cuda_select(kernel), 0);
    for (int gi = 0; gi < NGEO; gi++) {
        bufs b;
        make(g, &b, &geos[gi], 100 + 10 * gi);
        size_t pb = burn_bconv_packed_bytes(&b.cv);
        void *Wpc = malloc(pb), *dWp = g->alloc(pb);
        cpu->bconv_pack_weights(&b.cv, Wpc, b.W);
        g->bconv_pack_weights(&b.cv, dWp, b.dW_);
        void *Wpg = malloc(pb);
        g->download(Wpg, dWp, pb);
        cr_assert(memcmp(Wpg, Wpc, pb) == 0, "geo %d: packed weights differ from the CPU", gi);
        float *yc = malloc(4 * b.ny), *dy = g->alloc(4 * b.ny);
        cpu->bconv_forward_bin(&b.cv, yc, b.x, Wpc, b.alpha, b.ws_c);
        g->bconv_forward_bin(&b.cv, dy, b.dx_, dWp, b.dalpha, b.ws_g);
        float *yg = gu_download(g, dy, b.ny);
        for (int64_t i = 0; i < b.ny; i++)
            cr_assert_eq(yg[i], yc[i], "%s geo %d: y[%ld] = %.9g, CPU %.9g", kernel, gi, (long)i,
                         yg[i], yc[i]);
        free(Wpc), free(Wpg), free(yc), free(yg);
        g->free(dWp), g->free(dy);
        release(g, &b);
    }
    burn_xnor_cuda_select("auto");
}

Test(gpu_bconv, forward_bin_popc) {
    REQUIRE_CUDA(g);
    check_forward_bin(g, "popc");
}

Test(gpu_bconv, forward_bin_mma) {
    REQUIRE_CUDA(g);
    check_forward_bin(g, "mma");
}

Test(gpu_bconv, forward_real) {
    REQUIRE_CUDA(g);
    for (int gi = 0; gi < NGEO; gi++) {
        bufs b;
        make(g, &b, &geos[gi], 500 + 10 * gi);
        float *yc = malloc(4 * b.ny), *dy = g->alloc(4 * b.ny);
        cpu->bconv_forward_real(&b.cv, yc, b.x, b.W, b.ws_c);
        g->bconv_forward_real(&b.cv, dy, b.dx_, b.dW_, b.ws_g);
        float *yg = gu_download(g, dy, b.ny);
        double err = tu_max_rel_f(yg, yc, b.ny, 1.0);
        cr_assert_leq(err, 2e-6 * sqrt((double)b.cv.K), "geo %d: err %g", gi, err);
        free(yc), free(yg);
        g->free(dy);
        release(g, &b);
    }
}

Test(gpu_bconv, backward) {
    REQUIRE_CUDA(g);
    for (int gi = 0; gi < NGEO; gi++) {
        bufs b;
        make(g, &b, &geos[gi], 900 + 10 * gi);
        float *dxc = malloc(4 * b.nx), *dWc = malloc(4 * b.nw);
        tu_fill(dWc, b.nw, 77 + gi, -1, 1); /* dW accumulates */
        float *ddx = g->alloc(4 * b.nx), *ddW = gu_upload(g, dWc, b.nw);
        cpu->bconv_backward(&b.cv, dxc, dWc, b.dy, b.x, b.W, b.ws_c);
        g->bconv_backward(&b.cv, ddx, ddW, b.ddy, b.dx_, b.dW_, b.ws_g);
        float *dxg = gu_download(g, ddx, b.nx), *dWg = gu_download(g, ddW, b.nw);
        double tol = 2e-6 * sqrt((double)(b.cv.O * b.cv.kh * b.cv.kw + b.cv.N * b.cv.Ho * b.cv.Wo));
        double ex = tu_max_rel_f(dxg, dxc, b.nx, 1.0), ew = tu_max_rel_f(dWg, dWc, b.nw, 1.0);
        cr_assert_leq(ex, tol, "geo %d dx err %g", gi, ex);
        cr_assert_leq(ew, tol, "geo %d dW err %g", gi, ew);
        free(dxc), free(dWc), free(dxg), free(dWg);
        g->free(ddx), g->free(ddW);
        release(g, &b);
    }
}
