/* dist_mpi.c — the CPU backend's data-parallel collectives (backend.h "data-parallel
 * collectives"): MPI on host memory. Every call is nonblocking MPI and completes through
 * burn_dist_wait, so a dead or hung peer ends in a message and a stop within dist.timeout.
 *
 * Gradients: one MPI_Iallreduce(MPI_IN_PLACE, MPI_SUM) per bucket, all in flight at once (MPI
 * pipelines them), then x *= 1/world. MPI has no average; summing then scaling is exact up to
 * the one rounding of the scale (world a power of two: exact). */
#include <mpi.h>

#include <stdlib.h>

#include "burn/check.h"
#include "burn/log.h"
#include "cpu/cpu_ops.h"
#include "dist_internal.h"

void cpu_dist_sum_f64(double *x, int64_t n) {
    for (int64_t off = 0; off < n; off += BURN_DIST_MAX_COUNT) {
        int count = (int)(n - off < BURN_DIST_MAX_COUNT ? n - off : BURN_DIST_MAX_COUNT);
        MPI_Request r;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, x + off, count, MPI_DOUBLE, MPI_SUM,
                                burn_dist_comm(), &r);
        if (rc != MPI_SUCCESS) burn_dist_mpi_failed(rc, "BatchNorm statistics all-reduce");
        burn_dist_wait(&r, 1, "BatchNorm statistics all-reduce");
    }
}

/* The all-reduce in flight between dist_mean_start and dist_mean_wait. */
static struct {
    float *x;
    int64_t n;
    MPI_Request *reqs;
    int nreq, cap;
} pending;

void cpu_dist_mean_start(float *x, int64_t n, int64_t bucket) {
    if (pending.x)
        burn_check_fail("dist", "cpu_dist_mean_start", __FILE__, __LINE__,
                        "the previous gradient all-reduce was not waited for", NULL);
    if (bucket > BURN_DIST_MAX_COUNT) bucket = BURN_DIST_MAX_COUNT;
    int nreq = (int)((n + bucket - 1) / bucket);
    if (nreq > pending.cap) {
        pending.reqs = burn_xrealloc(pending.reqs, sizeof(MPI_Request) * (size_t)nreq);
        pending.cap = nreq;
    }
    for (int i = 0; i < nreq; i++) {
        int64_t off = (int64_t)i * bucket;
        int count = (int)(n - off < bucket ? n - off : bucket);
        int rc = MPI_Iallreduce(MPI_IN_PLACE, x + off, count, MPI_FLOAT, MPI_SUM,
                                burn_dist_comm(), &pending.reqs[i]);
        if (rc != MPI_SUCCESS) burn_dist_mpi_failed(rc, "gradient all-reduce");
    }
    pending.x = x;
    pending.n = n;
    pending.nreq = nreq;
}

void cpu_dist_mean_wait(void) {
    if (!pending.x) return;
    burn_dist_wait(pending.reqs, pending.nreq, "gradient all-reduce");
    cpu_scale(pending.x, 1.0f / (float)burn_world_size, pending.n);
    pending.x = NULL;
}
