/* test_threads.c — the CPU backend's parallel loops (OpenMP, src/cpu/) give the same bits at
 * 1, 2 and 3 threads: each splits independent outputs (elements, channels, images) and keeps
 * every reduction in its serial order, so the thread count never changes a result. Shapes are
 * above CPU_PAR_MIN so the loops do run in parallel; the values themselves are checked against
 * references by test_ops and test_layers_*. The convolution's own loops (im2col, panels,
 * col2im) are the same, but its OpenBLAS GEMMs block their sums differently for another
 * thread count: the conv outputs are compared to 1e-5 of their largest value, not by bits. */
#include <criterion/criterion.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/layers.h"
#include "burn/optim.h"
#include "test_layers_ref.h"

enum { N = 8, C = 24, HW = 20 * 20, NCHW = N * C * HW };

/* Every output of the ops under test, in one buffer per thread count. */
typedef struct outputs {
    float dx[5][NCHW], chan[6][C], adam[3][NCHW];
    double stats[2][2 * C];
    float conv[N * 16 * HW + NCHW + 16 * C * 9]; /* y, dx, dw */
} outputs;

static void run_all(outputs *o) {
    const burn_backend *be = burn_cpu_backend();
    memset(o, 0, sizeof *o);
    float *x = lr_rand(NCHW, 1, -2, 2), *g = lr_rand(NCHW, 2, -1, 1);
    float *p1 = lr_rand(C, 3, -0.5f, 0.5f), *p2 = lr_rand(C, 4, 0.1f, 0.9f);
    float *p3 = lr_rand(C, 5, -0.5f, 0.5f), *inv = lr_rand(C, 6, 0.5f, 2.0f);
    be->rsign_backward(o->dx[0], o->chan[0], g, x, p1, N, C, HW, 0);
    be->rprelu_backward(o->dx[1], o->chan[1], o->chan[2], o->chan[3], g, x, p1, p2, N, C, HW);
    be->prelu_backward(o->dx[2], o->chan[4], g, x, p2, N, C, HW);
    be->channel_sum(o->chan[5], g, N, C, HW);
    be->bn_stats(o->stats[0], x, N, C, HW);
    float dgamma[C] = {0}, dbeta[C] = {0};
    be->bn_backward_stats(o->stats[1], dgamma, dbeta, g, x, p1, inv, N, C, HW);
    be->bn_backward_dx(o->dx[3], g, x, p1, inv, p2, o->stats[1], (int64_t)N * HW, N, C, HW);
    be->rprelu_forward(o->dx[4], x, p1, p2, p3, N, C, HW);
    memcpy(o->adam[0], x, sizeof o->adam[0]);
    burn_adam_hparams h = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f, 0, 0};
    burn_adam_prepare(&h, 3);
    be->adam_step(o->adam[0], g, o->adam[1], o->adam[2], NCHW, h);
    burn_conv2d cv;
    cr_assert_eq(burn_conv2d_init(&cv, N, C, 20, 20, 16, 3, 3, 1, 1), 0);
    float *w = lr_rand(16 * C * 9, 7, -0.3f, 0.3f), *dy = lr_rand(N * 16 * HW, 8, -1, 1);
    float *y = o->conv, *cdx = y + N * 16 * HW, *dw = cdx + NCHW;
    burn_conv2d_forward(be, &cv, y, x, w);
    burn_conv2d_backward(be, &cv, cdx, dw, dy, x, w);
    free(x), free(g), free(p1), free(p2), free(p3), free(inv), free(w), free(dy);
}

Test(threads, one_two_and_three_threads_give_the_same_bits, .timeout = 60) {
    static outputs ref, got;
    omp_set_num_threads(1);
    run_all(&ref);
    for (int t = 2; t <= 3; t++) {
        omp_set_num_threads(t);
        run_all(&got);
        const unsigned char *a = (const unsigned char *)&ref, *b = (const unsigned char *)&got;
        size_t first = 0, bits = offsetof(outputs, conv);
        while (first < bits && a[first] == b[first]) first++;
        cr_assert_eq(first, bits, "%d threads differ from 1 at byte %zu of %zu", t, first, bits);
        int64_t nc = (int64_t)(sizeof ref.conv / sizeof ref.conv[0]);
        double *want = lr_to_double(ref.conv, nc), e = lr_err(got.conv, want, nc);
        free(want);
        cr_assert_leq(e, 1e-5, "conv at %d threads: relative error %g", t, e);
    }
}
