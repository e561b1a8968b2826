/* test_dist_worker.h — the MPI side of the data-parallel tests: a test binary re-runs itself
 * under mpirun with BURN_TEST_DIST_WORKER=<job>:<device> in the environment; a constructor
 * sees it before Criterion starts, runs the job on every rank and exits with its verdict
 * (0 = pass; failures print one line naming the rank and the quantity).
 *
 * Jobs:
 *   collectives  gradient mean over ranks in uneven buckets (tail bucket included), sums of
 *                host and backend doubles, broadcasts of host and backend memory from rank 0
 *   syncbn       BatchNorm through burn_dist_sync_bn_backend on this rank's slice of a global
 *                batch equals an independent double-precision BN of the whole batch: batch
 *                mean, inverse std, output, running statistics, dx, and dgamma/dbeta summed
 *                over the ranks (2d: HW = 7, and 1d as in the heads: HW = 1)
 * Every rank makes every rank's data from fixed seeds (test_util.h's generator), so each can
 * compute the expected result alone. */
#ifndef BURN_TEST_DIST_WORKER_H
#define BURN_TEST_DIST_WORKER_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/dist.h"
#include "burn/layers.h"
#include "burn/log.h"
#include "test_util.h"

#define DW_FAIL(...)                                                                       \
    do {                                                                                   \
        fprintf(stderr, "rank %d: ", burn_rank);                                           \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        return 1;                                                                          \
    } while (0)

static float *dw_to_backend(const burn_backend *be, const float *h, int64_t n) {
    float *d = be->alloc((size_t)n * sizeof(float));
    be->upload(d, h, (size_t)n * sizeof(float));
    return d;
}

static void dw_to_host(const burn_backend *be, float *h, const float *d, int64_t n) {
    be->download(h, d, (size_t)n * sizeof(float));
}

static int dw_collectives(const burn_backend *be) {
    const int W = burn_world_size;
    const int64_t n = 10007; /* 11 buckets of 1000 floats, the last one of 7 */
    burn_dist_opts o = {0, 1000, 30.0};
    if (burn_dist_attach(be, &o) != 0) DW_FAIL("attach: %s", burn_error());

    float *mine = malloc(n * sizeof(float)), *other = malloc(n * sizeof(float));
    double *expect = calloc(n, sizeof(double));
    for (int r = 0; r < W; r++) {
        tu_fill(other, n, 1000 + r, -3, 3);
        for (int64_t i = 0; i < n; i++) expect[i] += (double)other[i] / W;
    }
    tu_fill(mine, n, 1000 + burn_rank, -3, 3);
    float *d = dw_to_backend(be, mine, n);
    burn_dist_allreduce_grad(be, d, n);
    dw_to_host(be, mine, d, n);
    double err = tu_max_rel(mine, expect, n, 1e-3);
    if (!(err < 1e-6)) DW_FAIL("gradient mean: max relative error %g", err);

    /* doubles in backend memory (BN statistics) and on the host (logged losses) */
    double hs[3] = {burn_rank + 0.25, 1.0 / (burn_rank + 3), -7.5 * burn_rank}, want[3] = {0};
    for (int r = 0; r < W; r++) {
        want[0] += r + 0.25;
        want[1] += 1.0 / (r + 3);
        want[2] += -7.5 * r;
    }
    double *dd = be->alloc(sizeof hs);
    be->upload(dd, hs, sizeof hs);
    burn_dist_sum_f64(be, dd, 3);
    double got[3];
    be->download(got, dd, sizeof got);
    burn_dist_sum_host(hs, 3);
    for (int i = 0; i < 3; i++) {
        if (fabs(got[i] - want[i]) > 1e-12 * (1 + fabs(want[i])))
            DW_FAIL("backend double sum [%d]: %.17g, expected %.17g", i, got[i], want[i]);
        if (fabs(hs[i] - want[i]) > 1e-12 * (1 + fabs(want[i])))
            DW_FAIL("host double sum [%d]: %.17g, expected %.17g", i, hs[i], want[i]);
    }

    /* rank 0's bytes reach everyone */
    tu_fill(mine, n, 77 + burn_rank, -1, 1);
    tu_fill(other, n, 77, -1, 1); /* rank 0's values */
    be->upload(d, mine, n * sizeof(float));
    burn_dist_bcast_backend(be, d, n * sizeof(float));
    dw_to_host(be, mine, d, n);
    if (memcmp(mine, other, n * sizeof(float)) != 0) DW_FAIL("backend broadcast differs");
    int64_t pos[2] = {burn_rank == 0 ? 123456789012345LL : -1, burn_rank == 0 ? 42 : -1};
    burn_dist_bcast_host(pos, sizeof pos);
    if (pos[0] != 123456789012345LL || pos[1] != 42) DW_FAIL("host broadcast differs");
    be->free(d);
    be->free(dd);
    free(mine), free(other), free(expect);
    return 0;
}

/* One synchronised BN (train mode, forward + backward) of x[N, C, HW] per rank against the
 * double-precision BN of the global x[W·N, C, HW]. */
static int dw_syncbn_case(const burn_backend *be, int N, int C, int HW, uint64_t seed) {
    const int W = burn_world_size, Ng = W * N;
    const int64_t per = (int64_t)N * C * HW, all = (int64_t)Ng * C * HW, M = (int64_t)Ng * HW;
    float *xg = malloc(all * sizeof(float)), *dyg = malloc(all * sizeof(float));
    float gamma[64], beta[64], rmean[64], rvar[64];
    tu_fill(xg, all, seed, -2, 3);
    tu_fill(dyg, all, seed + 1, -1, 1);
    tu_fill(gamma, C, seed + 2, 0.5f, 1.5f);
    tu_fill(beta, C, seed + 3, -0.5f, 0.5f);
    tu_fill(rmean, C, seed + 4, -0.2f, 0.2f);
    tu_fill(rvar, C, seed + 5, 0.5f, 2.0f);

    /* reference over the global batch, in double */
    double *mean = calloc(C, sizeof(double)), *var = calloc(C, sizeof(double));
    double *invstd = calloc(C, sizeof(double)), *sdy = calloc(C, sizeof(double));
    double *sdyx = calloc(C, sizeof(double));
    for (int n = 0; n < Ng; n++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < HW; k++) mean[c] += xg[((int64_t)n * C + c) * HW + k] / (double)M;
    for (int n = 0; n < Ng; n++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < HW; k++) {
                double v = xg[((int64_t)n * C + c) * HW + k] - mean[c];
                var[c] += v * v / (double)M;
            }
    for (int c = 0; c < C; c++) invstd[c] = 1.0 / sqrt(var[c] + 1e-5);
    for (int n = 0; n < Ng; n++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < HW; k++) {
                int64_t i = ((int64_t)n * C + c) * HW + k;
                sdy[c] += dyg[i];
                sdyx[c] += dyg[i] * (xg[i] - mean[c]) * invstd[c];
            }
    double *y_ref = malloc(per * sizeof(double)), *dx_ref = malloc(per * sizeof(double));
    const int64_t base = (int64_t)burn_rank * per; /* this rank's slice of the global batch */
    for (int64_t j = 0; j < per; j++) {
        int c = (int)((j / HW) % C);
        double xhat = (xg[base + j] - mean[c]) * invstd[c];
        y_ref[j] = xhat * gamma[c] + beta[c];
        dx_ref[j] = gamma[c] * invstd[c] * (dyg[base + j] - sdy[c] / M - xhat * sdyx[c] / M);
    }
    double rm_ref[64], rv_ref[64], mean_d[64], invstd_d[64];
    for (int c = 0; c < C; c++) {
        rm_ref[c] = 0.9 * rmean[c] + 0.1 * mean[c];
        rv_ref[c] = 0.9 * rvar[c] + 0.1 * var[c] * M / (M - 1); /* unbiased, global count */
        mean_d[c] = mean[c];
        invstd_d[c] = invstd[c];
    }

    /* this rank's part through the synchronised table */
    const burn_backend *sbe = burn_dist_sync_bn_backend(be);
    if (W > 1 && sbe == be) DW_FAIL("no synchronised table in a world of %d", W);
    burn_bn bn;
    if (burn_bn_init(&bn, N, C, HW) != 0) DW_FAIL("bn init: %s", burn_error());
    float *x = dw_to_backend(be, xg + base, per), *dy = dw_to_backend(be, dyg + base, per);
    float *g = dw_to_backend(be, gamma, C), *b = dw_to_backend(be, beta, C);
    float *rm = dw_to_backend(be, rmean, C), *rv = dw_to_backend(be, rvar, C);
    float zeros[64] = {0};
    float *dg = dw_to_backend(be, zeros, C), *db = dw_to_backend(be, zeros, C);
    float *y = be->alloc(per * sizeof(float)), *dx = be->alloc(per * sizeof(float));
    float *sm = be->alloc(C * sizeof(float)), *si = be->alloc(C * sizeof(float));
    double *stats = be->alloc(burn_bn_stats_bytes(&bn));
    if (burn_bn_forward_train(sbe, &bn, y, sm, si, rm, rv, stats, x, g, b) != 0)
        DW_FAIL("forward: %s", burn_error());
    burn_bn_backward(sbe, &bn, dx, dg, db, stats, dy, x, g, sm, si);

    float *hy = malloc(per * sizeof(float)), *hdx = malloc(per * sizeof(float)), h[64];
    dw_to_host(be, hy, y, per);
    dw_to_host(be, hdx, dx, per);
    double e;
    const char *tag = HW == 1 ? "1d" : "2d";
    if (!((e = tu_max_rel(hy, y_ref, per, 1e-2)) < 2e-5)) DW_FAIL("%s y: error %g", tag, e);
    if (!((e = tu_max_rel(hdx, dx_ref, per, 1e-2)) < 2e-4)) DW_FAIL("%s dx: error %g", tag, e);
    dw_to_host(be, h, sm, C);
    if (!((e = tu_max_rel(h, mean_d, C, 1e-2)) < 1e-5)) DW_FAIL("%s mean: error %g", tag, e);
    dw_to_host(be, h, si, C);
    if (!((e = tu_max_rel(h, invstd_d, C, 1e-2)) < 1e-5)) DW_FAIL("%s invstd: error %g", tag, e);
    dw_to_host(be, h, rm, C);
    if (!((e = tu_max_rel(h, rm_ref, C, 1e-2)) < 1e-5)) DW_FAIL("%s running mean: %g", tag, e);
    dw_to_host(be, h, rv, C);
    if (!((e = tu_max_rel(h, rv_ref, C, 1e-2)) < 1e-5)) DW_FAIL("%s running var: %g", tag, e);
    /* dgamma, dbeta are this rank's sums: over the ranks they make the global ones */
    double sums[128];
    dw_to_host(be, h, dg, C);
    for (int c = 0; c < C; c++) sums[c] = h[c];
    dw_to_host(be, h, db, C);
    for (int c = 0; c < C; c++) sums[C + c] = h[c];
    burn_dist_sum_host(sums, 2 * C);
    for (int c = 0; c < C; c++) {
        if (fabs(sums[c] - sdyx[c]) > 1e-4 * (1 + fabs(sdyx[c])))
            DW_FAIL("%s dgamma[%d]: %g, expected %g", tag, c, sums[c], sdyx[c]);
        if (fabs(sums[C + c] - sdy[c]) > 1e-4 * (1 + fabs(sdy[c])))
            DW_FAIL("%s dbeta[%d]: %g, expected %g", tag, c, sums[C + c], sdy[c]);
    }
    float *bufs[] = {x, dy, g, b, rm, rv, dg, db, y, dx, sm, si};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    be->free(stats);
    free(xg), free(dyg), free(mean), free(var), free(invstd), free(sdy), free(sdyx);
    free(y_ref), free(dx_ref), free(hy), free(hdx);
    return 0;
}

static int dw_syncbn(const burn_backend *be) {
    burn_dist_opts o = {0, 1 << 20, 30.0};
    if (burn_dist_attach(be, &o) != 0) DW_FAIL("attach: %s", burn_error());
    if (dw_syncbn_case(be, 3, 5, 7, 11)) return 1;  /* BatchNorm2d, odd sizes */
    if (dw_syncbn_case(be, 4, 33, 1, 21)) return 1; /* BatchNorm1d of the heads */
    return 0;
}

/* Runs before Criterion's main when the test binary was started as a worker. */
__attribute__((constructor)) static void dw_maybe_worker(void) {
    const char *job = getenv("BURN_TEST_DIST_WORKER");
    if (!job) return;
    burn_log_quiet = 1;
    if (burn_dist_init(NULL, NULL) != 0) {
        fprintf(stderr, "worker: %s\n", burn_error());
        _exit(1);
    }
    const burn_backend *be = strstr(job, ":cuda") ? burn_cuda_backend() : burn_cpu_backend();
    int rc = 1;
    if (!be)
        fprintf(stderr, "rank %d: backend of '%s' unavailable\n", burn_rank, job);
    else if (strncmp(job, "collectives", 11) == 0)
        rc = dw_collectives(be);
    else if (strncmp(job, "syncbn", 6) == 0)
        rc = dw_syncbn(be);
    else
        fprintf(stderr, "unknown worker job '%s'\n", job);
    if (rc == 0) fprintf(stderr, "rank %d of %d: %s passed\n", burn_rank, burn_world_size, job);
    exit(burn_dist_finalize(rc));
}

#endif
