/* dist.h — data parallelism over processes (DESIGN.md "Distributed"): one process per GPU (or
 * per CPU backend instance), started by an MPI launcher.
 *
 *   bootstrap   burn_dist_init: MPI only when a launcher started us (OMPI_COMM_WORLD_SIZE,
 *               PMI_SIZE, PMIX_RANK, ... in the environment); a plain ./burn_gpu is world 1,
 *               rank 0 and makes no MPI call. The node-local rank (MPI_Comm_split_type
 *               SHARED) picks the GPU: burn_device = local rank (mod the visible devices).
 *   attach      burn_dist_attach: the backend joins the job — CUDA makes an NCCL
 *               communicator (rank 0's ncclUniqueId handed out with MPI_Bcast); the CPU
 *               backend talks MPI directly.
 *   gradients   burn_dist_allreduce_grad: the flat gradient buffer averaged over the ranks once
 *               per optimiser update, in buckets (NCCL on its own stream on CUDA, nonblocking
 *               MPI_Iallreduce + MPI_SUM then 1/world on the CPU).
 *   sync BN     burn_dist_sync_bn_backend: a backend table whose BatchNorm statistics are
 *               summed over the ranks (the heads' BN; every BN with dist.sync_bn = all).
 *   start state burn_dist_bcast_*: rank 0 alone reads checkpoints and hands the state out.
 *   faults      every collective has a deadline (dist.timeout): a dead or hung peer makes the
 *               others stop with a message naming the collective, never an endless hang.
 *
 * All collectives are called by every rank in the same order (the training loop is the same
 * program on every rank). With world 1 every function here is a cheap no-op. */
#ifndef BURN_DIST_H
#define BURN_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "burn/backend.h"
#include "burn/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* burn_rank (check.h), burn_world_size (log.h) and burn_device (check.h) are set by
 * burn_dist_init; these two describe the node. */
extern int burn_dist_local_rank, burn_dist_local_size;

/* Start MPI when launched by mpirun/srun/mpiexec, else stay world 1 without MPI. argc/argv may
 * be NULL. Idempotent. 0, or -1 with burn_error(). */
int burn_dist_init(int *argc, char ***argv);
/* 1 when MPI was initialised by burn_dist_init. */
int burn_dist_active(void);
/* End of the process: detach the backend and MPI_Finalize when rc == 0; when rc != 0 and the
 * world has several ranks, MPI_Abort(rc) so that the other ranks stop too instead of waiting
 * in their next collective. Returns rc (world 1, or MPI never started). */
int burn_dist_finalize(int rc);

typedef struct burn_dist_opts {
    int sync_all_bn;  /* 0: only the heads' BN is synchronised (BURN); 1: every BN */
    int64_t bucket;   /* gradient all-reduce bucket, floats */
    double timeout_s; /* deadline of any one collective */
} burn_dist_opts;

/* dist.sync_bn, dist.bucket_mb, dist.timeout. */
void burn_dist_opts_from_config(burn_dist_opts *o, const burn_config *cfg);
/* Join the job with backend be (collective; once per process, later calls only update the
 * options). 0, or -1 with burn_error(). */
int burn_dist_attach(const burn_backend *be, const burn_dist_opts *o);

/* grad[n] (be's memory) = mean over the ranks of grad[n]. On CUDA the buckets go out on the
 * NCCL stream as soon as the work queued so far (the last backward) is done, and the work
 * queued after this call waits for them; the host does not block. */
void burn_dist_allreduce_grad(const burn_backend *be, float *grad, int64_t n);
/* The same all-reduce, overlapped with the update's last backward:
 *   burn_dist_grad_begin(be, grad, n)   before the last backward of the update;
 *   burn_dist_grad_ready(begin, end)    grad[begin, end) is final (ranges in any order, the
 *                                       same on every rank, none twice): each bucket of
 *                                       dist.bucket_mb goes out once all of it is final;
 *   burn_dist_grad_end()                the other buckets go out (ascending), then as
 *                                       burn_dist_allreduce_grad (which is begin + end).
 * World 1: no-ops. */
void burn_dist_grad_begin(const burn_backend *be, float *grad, int64_t n);
void burn_dist_grad_ready(int64_t begin, int64_t end);
void burn_dist_grad_end(void);

/* x[n] (be's memory, doubles) = Σ over the ranks (the BatchNorm statistics). */
void burn_dist_sum_f64(const burn_backend *be, double *x, int64_t n);
/* x[n] (host doubles) = Σ over the ranks (losses for the progress line, flags). */
void burn_dist_sum_host(double *x, int n);
/* Rank 0's bytes to every rank: host memory, and backend memory (staged through the host). */
void burn_dist_bcast_host(void *buf, size_t bytes);
void burn_dist_bcast_backend(const burn_backend *be, void *x, size_t bytes);

/* be itself in a world of one rank; otherwise a copy of be's table whose bn_finalize and
 * bn_backward_dx first sum the 2·C statistics over the ranks and use the global count
 * (count × world: every rank has the same batch), i.e. layers.h's "Synchronised BN". The
 * train-mode BN layer functions given this table compute the statistics of the global batch;
 * dgamma/dbeta stay the local sums (the gradient all-reduce averages them, as PyTorch's
 * SyncBatchNorm under DDP). Idempotent: the synchronised table maps to itself. */
const burn_backend *burn_dist_sync_bn_backend(const burn_backend *be);

/* Collectives done so far and the host wall time spent in them: sums of doubles (the BN
 * statistics) and gradient all-reduces. On the CPU that is the communication time; on CUDA
 * the calls return once queued, so only the counts mean something (burn_bench allreduce). */
typedef struct burn_dist_counters {
    int64_t sum_calls, grad_calls;
    double sum_seconds, grad_seconds;
    int64_t grad_buckets, grad_buckets_early; /* sent; of them, before burn_dist_grad_end */
} burn_dist_counters;
void burn_dist_get_counters(burn_dist_counters *c);

/* ---- resume across world sizes ----
 * A checkpoint's data position is global micro-batches (each of batch × world images). Rule
 * when the world size (or the per-rank batch, or accum) changes: keep the per-rank batch of
 * the new run's config, recompute steps per epoch, and resume at the same fraction of the
 * run — epoch e plus the same share of the epoch — rounded DOWN to a whole optimiser update
 * (at most one update's data is seen twice). The LR and λ schedules are functions of that
 * fraction, so they continue where they were. With an unchanged layout the mapping is the
 * identity (bit-identical resume on the CPU). */
int64_t burn_dist_resume_update(int64_t micro_saved, int64_t spe_saved, int64_t spe_now,
                                int64_t accum_now);

/* The layout a checkpoint was written with: world_size (metadata) and train.batch_size,
 * train.accum (from its config text). 0, or -1 with burn_error(). */
typedef struct burn_dist_layout {
    int world;
    int64_t batch, accum;
} burn_dist_layout;
int burn_dist_ckpt_layout(const char *path, burn_dist_layout *out);

/* Fault injection for the tests of fault handling:
 * BURN_DIST_FAULT="kill|hang|exit|term|int:RANK:UPDATE" makes rank RANK die by SIGKILL, sleep
 * forever, exit(3), or receive SIGTERM / SIGINT (a preemption: include/burn/preempt.h) when it
 * reaches optimiser update UPDATE. Called by the trainer at the start of every update; unset:
 * nothing happens. */
void burn_dist_fault_point(int64_t update);

#ifdef __cplusplus
}
#endif

#endif
