/* dist_mpi.c — the CPU backend's data-parallel collectives (backend.h "data-parallel
 * collectives"): MPI on host memory. Every call is nonblocking MPI and completes through
 * burn_dist_wait, so a dead or hung peer ends in a message and a stop within dist.timeout.
 *
 * Gradients: one MPI_Iallreduce(MPI_IN_PLACE, MPI_SUM) per bucket, started as the buckets
 * become final (several dist_mean_start calls before one wait; MPI pipelines them), then
 * x *= 1/world. MPI has no average; summing then scaling is exact up to
 * the one rounding of the scale (world a power of two: exact). */
#include <mpi.h>

#include <stdlib.h>

#include "burn/check.h"
#include "burn/log.h"
#include "../cpu/cpu_ops.h"
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

/* The all-reduces in flight between the dist_mean_start calls (one per bucket, or all buckets
 * at once) and dist_mean_wait: requests, and the ranges to scale by 1/world once complete. */
static struct {
    MPI_Request *reqs;
    float **x;
    int *n;
    int nreq, cap;
} pending;

void cpu_dist_mean_start(float *x, int64_t n, int64_t bucket) {
    if (bucket > BURN_DIST_MAX_COUNT) bucket = BURN_DIST_MAX_COUNT;
    for (int64_t off = 0; off < n; off += bucket) {
        if (pending.nreq == pending.cap) {
            pending.cap = pending.cap ? 2 * pending.cap : 16;
            pending.reqs = burn_xrealloc(pending.reqs, sizeof(MPI_Request) * (size_t)pending.cap);
            pending.x = burn_xrealloc(pending.x, sizeof(float *) * (size_t)pending.cap);
            pending.n = burn_xrealloc(pending.n, sizeof(int) * (size_t)pending.cap);
        }
        int i = pending.nreq++, count = (int)(n - off < bucket ? n - off : bucket);
        pending.x[i] = x + off;
        pending.n[i] = count;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, x + off, count, MPI_FLOAT, MPI_SUM,
                                burn_dist_comm(), &pending.reqs[i]);
        if (rc != MPI_SUCCESS) burn_dist_mpi_failed(rc, "gradient all-reduce");
    }
}

void cpu_dist_mean_wait(void) {
    if (!pending.nreq) return;
    burn_dist_wait(pending.reqs, pending.nreq, "gradient all-reduce");
    for (int i = 0; i < pending.nreq; i++)
        cpu_scale(pending.x[i], 1.0f / (float)burn_world_size, pending.n[i]);
    pending.nreq = 0;
}
