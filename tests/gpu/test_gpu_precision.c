/* test_gpu_precision.c — BF16/FP16 compute on the CUDA backend (operands rounded by the shared
 * burn_round_to_precision, TF32 tensor cores) against the CPU backend under the same
 * precision: GEMMs of every transpose combination and the cuDNN convolutions. Both sides
 * multiply the same rounded operands exactly and sum in FP32, so they differ only by the
 * summation order: errors relative to the largest value, 1e-5 (GEMM) / 1e-4 (conv). The binary
 * convolution's own GEMMs stay FP32 under any setting.
 * Skipped (visibly) without a CUDA device. */
#include "gpu_util.h"

#include "burn/bconv.h"
#include "burn/layers.h"
#include "burn/precision.h"

Test(gpu_precision, gemm_matches_cpu) {
    REQUIRE_CUDA(g);
    const burn_backend *cpu = burn_cpu_backend();
    uint64_t s = 5;
    for (int prec = BURN_COMPUTE_BF16; prec <= BURN_COMPUTE_FP16; prec++)
        for (int trial = 0; trial < 8; trial++) {
            int M = tu_int(&s, 1, 300), N = tu_int(&s, 1, 200), K = tu_int(&s, 1, 500);
            int ta = trial & 1, tb = (trial >> 1) & 1;
            int lda = ta ? M : K, ldb = tb ? K : N;
            int64_t na = (int64_t)M * K, nb = (int64_t)K * N, nc = (int64_t)M * N;
            float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4);
            tu_fill(A, na, 10 + trial, -2, 2);
            tu_fill(B, nb, 20 + trial, -2, 2);
            tu_fill(C, nc, 30 + trial, -1, 1);
            float *dA = gu_upload(g, A, na), *dB = gu_upload(g, B, nb), *dC = gu_upload(g, C, nc);
            cpu->set_compute_precision(prec);
            g->set_compute_precision(prec);
            cpu->gemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.5f, C, N);
            g->gemm(ta, tb, M, N, K, 1.0f, dA, lda, dB, ldb, 0.5f, dC, N);
            cpu->set_compute_precision(BURN_COMPUTE_FP32);
            g->set_compute_precision(BURN_COMPUTE_FP32);
            float *got = gu_download(g, dC, nc);
            double e = gu_rel_to_max(got, C, nc);
            cr_assert_lt(e, 1e-5, "%s gemm %dx%dx%d ta %d tb %d: rel err %g",
                         burn_precision_name(prec), M, N, K, ta, tb, e);
            free(A), free(B), free(C), free(got);
            g->free(dA), g->free(dB), g->free(dC);
        }
}

Test(gpu_precision, conv2d_matches_cpu) {
    REQUIRE_CUDA(g);
    const burn_backend *cpu = burn_cpu_backend();
    static const int geo[][9] = {{4, 3, 57, 55, 16, 7, 7, 2, 3}, {4, 16, 28, 28, 32, 3, 3, 1, 1},
                                 {5, 64, 7, 7, 96, 1, 1, 1, 0}, {3, 32, 15, 15, 24, 3, 3, 2, 1}};
    for (int prec = BURN_COMPUTE_BF16; prec <= BURN_COMPUTE_FP16; prec++)
        for (int k = 0; k < 4; k++) {
            const int *q = geo[k];
            burn_conv2d cv;
            cr_assert_eq(burn_conv2d_init(&cv, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8]),
                         0, "%s", burn_error());
            int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W, nw = (int64_t)cv.O * cv.C * cv.kh * cv.kw,
                    ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
            float *x = malloc(nx * 4), *w = malloc(nw * 4), *dy = malloc(ny * 4);
            float *y = malloc(ny * 4), *dx = malloc(nx * 4), *dw = calloc(nw, 4);
            tu_fill(x, nx, 1 + k, -2, 2), tu_fill(w, nw, 2 + k, -1, 1), tu_fill(dy, ny, 3 + k, -1, 1);
            float *d_x = gu_upload(g, x, nx), *d_w = gu_upload(g, w, nw), *d_dy = gu_upload(g, dy, ny);
            float *d_y = g->alloc(ny * 4), *d_dx = g->alloc(nx * 4), *d_dw = gu_upload(g, dw, nw);
            cpu->set_compute_precision(prec);
            g->set_compute_precision(prec);
            cpu->conv2d_forward(&cv, y, x, w);
            cpu->conv2d_backward_data(&cv, dx, dy, w);
            cpu->conv2d_backward_filter(&cv, dw, dy, x);
            g->conv2d_forward(&cv, d_y, d_x, d_w);
            g->conv2d_backward_data(&cv, d_dx, d_dy, d_w);
            g->conv2d_backward_filter(&cv, d_dw, d_dy, d_x);
            cpu->set_compute_precision(BURN_COMPUTE_FP32);
            g->set_compute_precision(BURN_COMPUTE_FP32);
            float *gy = gu_download(g, d_y, ny), *gdx = gu_download(g, d_dx, nx),
                  *gdw = gu_download(g, d_dw, nw);
            cr_assert_lt(gu_rel_to_max(gy, y, ny), 1e-4, "%s conv %d forward", burn_precision_name(prec), k);
            cr_assert_lt(gu_rel_to_max(gdx, dx, nx), 1e-4, "%s conv %d data", burn_precision_name(prec), k);
            cr_assert_lt(gu_rel_to_max(gdw, dw, nw), 1e-4, "%s conv %d filter", burn_precision_name(prec), k);
            free(x), free(w), free(dy), free(y), free(dx), free(dw), free(gy), free(gdx), free(gdw);
            g->free(d_x), g->free(d_w), g->free(d_dy), g->free(d_y), g->free(d_dx), g->free(d_dw);
        }
}

Test(gpu_precision, binary_conv_ignores_the_precision) {
    REQUIRE_CUDA(g);
    burn_bconv cv;
    cr_assert_eq(burn_bconv_init(&cv, 3, 16, 9, 9, 8, 3, 1, 1), 0, "%s", burn_error());
    int64_t nx = 3 * 16 * 81, nw = 8 * 16 * 9, ny = (int64_t)3 * 8 * cv.Ho * cv.Wo;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *dy = malloc(ny * 4);
    tu_fill(x, nx, 1, -1, 1), tu_fill(w, nw, 2, -1, 1), tu_fill(dy, ny, 3, -1, 1);
    float *d_x = gu_upload(g, x, nx), *d_w = gu_upload(g, w, nw), *d_dy = gu_upload(g, dy, ny);
    void *ws = g->alloc(g->bconv_workspace_bytes(&cv));
    float *out[2][3];
    for (int pass = 0; pass < 2; pass++) { /* FP32, then FP16: the same bits */
        float *d_y = g->alloc(ny * 4), *d_dx = g->alloc(nx * 4), *d_dw = g->alloc(nw * 4);
        g->fill(d_dw, 0.0f, nw);
        g->set_compute_precision(pass ? BURN_COMPUTE_FP16 : BURN_COMPUTE_FP32);
        g->bconv_forward_real(&cv, d_y, d_x, d_w, ws);
        g->bconv_backward(&cv, d_dx, d_dw, d_dy, d_x, d_w, ws);
        g->set_compute_precision(BURN_COMPUTE_FP32);
        out[pass][0] = gu_download(g, d_y, ny);
        out[pass][1] = gu_download(g, d_dx, nx);
        out[pass][2] = gu_download(g, d_dw, nw);
        g->free(d_y), g->free(d_dx), g->free(d_dw);
    }
    int64_t n[3] = {ny, nx, nw};
    for (int k = 0; k < 3; k++) {
        cr_assert(memcmp(out[0][k], out[1][k], n[k] * 4) == 0, "output %d depends on precision", k);
        free(out[0][k]), free(out[1][k]);
    }
    free(x), free(w), free(dy);
    g->free(d_x), g->free(d_w), g->free(d_dy), g->free(ws);
}
