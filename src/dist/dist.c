/* dist.c — data parallelism (include/burn/dist.h): MPI bootstrap only under a launcher, the
 * backend's attach to the job, the gradient and statistics all-reduces, rank-0 broadcasts,
 * the synchronised-BN backend table, the resume mapping between world sizes and the
 * deadline that turns a dead or hung peer into a clean stop of the job. */
#include <mpi.h>

#include "burn/dist.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/config.h"
#include "burn/log.h"
#include "burn/safetensors.h"
#include "dist_internal.h"

int burn_dist_local_rank = 0, burn_dist_local_size = 1;

static int mpi_on;                     /* MPI_Init_thread done here */
static MPI_Comm comm = MPI_COMM_NULL;  /* dup of MPI_COMM_WORLD, MPI_ERRORS_RETURN */
static const burn_backend *attached;   /* the backend that joined the job */
static burn_dist_opts opts = {0, 25 << 18, 600.0};
static burn_dist_counters counters;

/* ---- bootstrap ---- */

/* Set by the launchers burn supports: Open MPI's mpirun, MPICH / Intel MPI (Hydra: PMI_*),
 * PMIx-based launchers (srun --mpi=pmix, prrte), MVAPICH. A plain ./burn_gpu sees none. */
static int launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK",
                                       "PMIX_RANK", "MV2_COMM_WORLD_SIZE", NULL};
    for (const char *const *v = vars; *v; v++)
        if (getenv(*v)) return 1;
    return 0;
}

int burn_dist_init(int *argc, char ***argv) {
    if (mpi_on || !launched_by_mpi()) return 0;
    /* Open MPI's nonblocking all-reduce (libnbc) picks reduce-to-root + broadcast for in-place
     * buffers or fewer than 4 ranks: 2-3x slower than its blocking one on gradient-sized
     * buffers. The ring is bandwidth-optimal and correct for any count; a value the user set
     * (environment, mpirun --mca) is kept. Other MPIs ignore the variable. */
    setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0);
    /* FUNNELED: loader threads never call MPI; every collective is on the main thread */
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
        burn_error_set("MPI_Init_thread failed (error %d) although an MPI launcher's "
                       "environment is set; run without mpirun for a single process", rc);
        return -1;
    }
    mpi_on = 1;
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
    MPI_CHECK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(comm, &burn_rank));
    MPI_CHECK(MPI_Comm_size(comm, &burn_world_size));
    MPI_Comm node;
    MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, burn_rank, MPI_INFO_NULL, &node));
    MPI_CHECK(MPI_Comm_rank(node, &burn_dist_local_rank));
    MPI_CHECK(MPI_Comm_size(node, &burn_dist_local_size));
    MPI_CHECK(MPI_Comm_free(&node));
    /* one GPU per rank on its node; a launcher that hands each rank its own
     * CUDA_VISIBLE_DEVICES leaves one visible device: the modulo picks it */
    int devices = burn_cuda_device_count();
    if (devices > 0) burn_device = burn_dist_local_rank % devices;
    return 0;
}

int burn_dist_active(void) { return mpi_on; }

MPI_Comm burn_dist_comm(void) { return comm; }

void burn_dist_mpi_failed(int rc, const char *what) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fprintf(stderr, "burn[rank %d]: %s failed: %s — a peer rank probably died; stopping the "
                    "job (the last complete checkpoint stays usable: --resume)\n",
            burn_rank, what, msg);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1); /* MPI_Abort does not return; this is for the compiler */
}

void burn_dist_wait(MPI_Request *reqs, int n, const char *what) {
    double t0 = burn_now();
    for (;;) {
        int done = 0, rc = MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) burn_dist_mpi_failed(rc, what);
        if (done) return;
        /* MPI_Testall drives the progress of nonblocking collectives: poll hard for the first
         * millisecond (a step's small all-reduces finish in microseconds), then yield the
         * core between polls so that a waiting rank does not starve its peers or the loader
         * threads on a shared or oversubscribed node */
        double waited = burn_now() - t0;
        if (waited > 1e-3) sched_yield();
        if (waited > opts.timeout_s) {
            fprintf(stderr, "burn[rank %d]: %s did not complete within dist.timeout = %g s: "
                            "another rank is dead or hung; stopping the job (the last complete "
                            "checkpoint stays usable: --resume)\n",
                    burn_rank, what, opts.timeout_s);
            fflush(stderr);
            MPI_Abort(MPI_COMM_WORLD, 1);
            _exit(1);
        }
    }
}

/* Every rank reaches the end: a peer that hangs after the last collective still cannot make
 * MPI_Finalize wait forever. */
static void barrier_with_deadline(void) {
    MPI_Request r;
    int rc = MPI_Ibarrier(comm, &r);
    if (rc != MPI_SUCCESS) burn_dist_mpi_failed(rc, "final barrier");
    burn_dist_wait(&r, 1, "final barrier");
}

int burn_dist_finalize(int rc) {
    if (!mpi_on) return rc;
    if (rc != 0 && burn_world_size > 1) {
        fprintf(stderr, "burn[rank %d]: exiting with code %d: stopping the other ranks\n",
                burn_rank, rc);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    if (burn_world_size > 1) barrier_with_deadline();
    if (attached && attached->dist_detach && burn_world_size > 1) attached->dist_detach();
    attached = NULL;
    MPI_Comm_free(&comm);
    MPI_Finalize();
    mpi_on = 0;
    return rc;
}

/* ---- attach ---- */

void burn_dist_opts_from_config(burn_dist_opts *o, const burn_config *cfg) {
    o->sync_all_bn = strcmp(cfg->dist_sync_bn, "all") == 0;
    o->bucket = (int64_t)(cfg->dist_bucket_mb * (double)(1 << 20) / sizeof(float));
    if (o->bucket < 1) o->bucket = 1;
    o->timeout_s = cfg->dist_timeout;
}

static void bcast_for_backend(void *buf, int bytes) { burn_dist_bcast_host(buf, (size_t)bytes); }

int burn_dist_attach(const burn_backend *be, const burn_dist_opts *o) {
    opts = *o;
    if (!be->is_device) burn_device = -1; /* messages say "CPU", not a GPU this rank never uses */
    if (burn_world_size <= 1 || attached == be) return 0;
    if (attached) {
        burn_error_set("data parallel: this process already joined the job with the %s "
                       "backend; one backend per process", attached->name);
        return -1;
    }
    if (!be->dist_sum_f64 || !be->dist_mean_start || !be->dist_mean_wait) {
        burn_error_set("data parallel: the %s backend has no collectives", be->name);
        return -1;
    }
    if (be->dist_attach && be->dist_attach(burn_rank, burn_world_size, opts.timeout_s,
                                           bcast_for_backend) != 0)
        return -1;
    attached = be;
    burn_log("data parallel: %d ranks (%d on this node), %s collectives, gradient buckets of "
             "%.3g MiB, %s BN synchronised, collective timeout %g s",
             burn_world_size, burn_dist_local_size, be->is_device ? "NCCL" : "MPI",
             (double)opts.bucket * sizeof(float) / (1 << 20),
             opts.sync_all_bn ? "every" : "the heads'", opts.timeout_s);
    return 0;
}

static void require_attached(const burn_backend *be, const char *what) {
    if (attached != be)
        burn_check_fail("dist", what, __FILE__, __LINE__,
                        "the backend has not joined the job (burn_dist_attach)", NULL);
}

/* ---- collectives ---- */

/* The gradient all-reduce of the current update: buckets of opts.bucket floats, each with
 * the count of its floats not yet final (-1 once sent). */
static struct {
    const burn_backend *be;
    float *grad;
    int64_t n, nb, *left;
    double seconds; /* host time in the calls */
} g;

static void send_bucket(int64_t b, int early) {
    int64_t off = b * opts.bucket, count = g.n - off < opts.bucket ? g.n - off : opts.bucket;
    g.be->dist_mean_start(g.grad + off, count, count);
    g.left[b] = -1;
    counters.grad_buckets++;
    counters.grad_buckets_early += early;
}

void burn_dist_grad_begin(const burn_backend *be, float *grad, int64_t n) {
    if (burn_world_size <= 1 || n <= 0) return;
    require_attached(be, "burn_dist_grad_begin");
    if (g.be) burn_check_fail("dist", "burn_dist_grad_begin", __FILE__, __LINE__,
                              "the previous gradient all-reduce did not end", NULL);
    g.be = be, g.grad = grad, g.n = n, g.nb = (n + opts.bucket - 1) / opts.bucket;
    g.left = burn_xrealloc(g.left, sizeof(int64_t) * (size_t)g.nb);
    for (int64_t b = 0; b < g.nb; b++)
        g.left[b] = (b + 1) * opts.bucket <= n ? opts.bucket : n - b * opts.bucket;
    g.seconds = 0;
}

void burn_dist_grad_ready(int64_t begin, int64_t end) {
    if (!g.be) return;
    double t0 = burn_now();
    if (begin < 0) begin = 0;
    if (end > g.n) end = g.n;
    for (int64_t b = begin / opts.bucket; b < g.nb && b * opts.bucket < end; b++) {
        int64_t lo = b * opts.bucket > begin ? b * opts.bucket : begin;
        int64_t hi = (b + 1) * opts.bucket < end ? (b + 1) * opts.bucket : end;
        if (g.left[b] < hi - lo)
            burn_check_fail("dist", "burn_dist_grad_ready", __FILE__, __LINE__,
                            "a gradient range was reported final twice", NULL);
        if ((g.left[b] -= hi - lo) == 0) send_bucket(b, 1);
    }
    g.seconds += burn_now() - t0;
}

void burn_dist_grad_end(void) {
    if (!g.be) return;
    double t0 = burn_now();
    for (int64_t b = 0; b < g.nb; b++)
        if (g.left[b] >= 0) send_bucket(b, 0);
    g.be->dist_mean_wait();
    counters.grad_calls++;
    counters.grad_seconds += g.seconds + burn_now() - t0;
    g.be = NULL;
}

void burn_dist_allreduce_grad(const burn_backend *be, float *grad, int64_t n) {
    burn_dist_grad_begin(be, grad, n);
    burn_dist_grad_end();
}

void burn_dist_sum_f64(const burn_backend *be, double *x, int64_t n) {
    if (burn_world_size <= 1 || n <= 0) return;
    require_attached(be, "burn_dist_sum_f64");
    double t0 = burn_now();
    be->dist_sum_f64(x, n);
    counters.sum_calls++;
    counters.sum_seconds += burn_now() - t0;
}

void burn_dist_get_counters(burn_dist_counters *c) { *c = counters; }

void burn_dist_sum_host(double *x, int n) {
    if (burn_world_size <= 1 || n <= 0) return;
    MPI_Request r;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, comm, &r);
    if (rc != MPI_SUCCESS) burn_dist_mpi_failed(rc, "all-reduce of host values");
    burn_dist_wait(&r, 1, "all-reduce of host values");
}

void burn_dist_bcast_host(void *buf, size_t bytes) {
    if (burn_world_size <= 1) return;
    for (size_t off = 0; off < bytes; off += BURN_DIST_MAX_COUNT) {
        size_t chunk = bytes - off < BURN_DIST_MAX_COUNT ? bytes - off : BURN_DIST_MAX_COUNT;
        MPI_Request r;
        int rc = MPI_Ibcast((char *)buf + off, (int)chunk, MPI_BYTE, 0, comm, &r);
        if (rc != MPI_SUCCESS) burn_dist_mpi_failed(rc, "broadcast from rank 0");
        burn_dist_wait(&r, 1, "broadcast from rank 0");
    }
}

void burn_dist_bcast_backend(const burn_backend *be, void *x, size_t bytes) {
    if (burn_world_size <= 1) return;
    if (!be->is_device) {
        burn_dist_bcast_host(x, bytes);
        return;
    }
    /* device memory: staged through a bounded host buffer (a one-off at start-up) */
    size_t chunk = bytes < ((size_t)64 << 20) ? bytes : ((size_t)64 << 20);
    char *host = burn_xmalloc(chunk ? chunk : 1);
    for (size_t off = 0; off < bytes; off += chunk) {
        size_t len = bytes - off < chunk ? bytes - off : chunk;
        if (burn_rank == 0) be->download(host, (char *)x + off, len);
        burn_dist_bcast_host(host, len);
        if (burn_rank != 0) be->upload((char *)x + off, host, len);
    }
    free(host);
}

/* ---- synchronised BatchNorm: a backend table with two ops wrapped ---- */

static burn_backend sync_table;
static const burn_backend *sync_base;

/* stats is the layer's scratch buffer (layers.h): writable, only typed const in the op */
static void sync_bn_finalize(float *mean, float *invstd, float *running_mean,
                             float *running_var, const double *stats, int C, int64_t count,
                             float eps, float momentum) {
    burn_dist_sum_f64(sync_base, (double *)stats, 2 * (int64_t)C);
    sync_base->bn_finalize(mean, invstd, running_mean, running_var, stats, C,
                           count * burn_world_size, eps, momentum);
}

static void sync_bn_backward_dx(float *dx, const float *dy, const float *x, const float *mean,
                                const float *invstd, const float *gamma, const double *red,
                                int64_t count, int N, int C, int HW) {
    burn_dist_sum_f64(sync_base, (double *)red, 2 * (int64_t)C);
    sync_base->bn_backward_dx(dx, dy, x, mean, invstd, gamma, red, count * burn_world_size, N,
                              C, HW);
}

const burn_backend *burn_dist_sync_bn_backend(const burn_backend *be) {
    if (burn_world_size <= 1 || be == &sync_table) return be;
    if (sync_base && sync_base != be)
        burn_check_fail("dist", "burn_dist_sync_bn_backend", __FILE__, __LINE__,
                        "a second backend in one process", NULL);
    if (!sync_base) {
        sync_table = *be;
        sync_table.bn_finalize = sync_bn_finalize;
        sync_table.bn_backward_dx = sync_bn_backward_dx;
        sync_base = be;
    }
    return &sync_table;
}

/* ---- resume across world sizes ---- */

int64_t burn_dist_resume_update(int64_t micro_saved, int64_t spe_saved, int64_t spe_now,
                                int64_t accum_now) {
    /* epoch e = micro / spe and the share of it both carry over: micro·spe_now/spe_saved,
     * in 128 bits (positions of long runs times steps per epoch can pass 2^63) */
    __int128 micro = (__int128)micro_saved * spe_now / spe_saved;
    return (int64_t)(micro / accum_now);
}

/* A saved count: digits only, in [1, max]; else 0. */
static int64_t saved_count(const char *text, const char *section, const char *key, int64_t max) {
    char buf[32];
    if (!text || burn_config_text_value(text, section, key, buf, sizeof buf) != 0) return 0;
    int64_t v = 0;
    for (const char *c = buf; *c; c++) {
        if (*c < '0' || *c > '9' || v > max) return 0;
        v = 10 * v + (*c - '0');
    }
    return v >= 1 && v <= max ? v : 0;
}

int burn_dist_ckpt_layout(const char *path, burn_dist_layout *out) {
    burn_st_file f;
    if (burn_st_open(&f, path) != 0) return -1;
    const char *world = burn_st_meta(&f, "world_size"), *config = burn_st_meta(&f, "config");
    /* bounds far past any cluster, so that no product below overflows */
    int64_t w = 0, batch = saved_count(config, "train", "batch_size", 1 << 24),
            accum = saved_count(config, "train", "accum", 1 << 20);
    for (const char *c = world; c && *c && w <= (1 << 20); c++)
        w = *c >= '0' && *c <= '9' ? 10 * w + (*c - '0') : (1 << 21);
    int rc = 0;
    if (!world || !config || w < 1 || w > (1 << 20)) {
        burn_error_set("%s: metadata world_size / config missing or damaged: cannot map its data "
                       "position to this run", path);
        rc = -1;
    } else if (!batch || !accum) {
        burn_error_set("%s: the saved config has no valid train.batch_size (1 .. 2^24) / "
                       "train.accum (1 .. 2^20)", path);
        rc = -1;
    } else {
        *out = (burn_dist_layout){(int)w, batch, accum};
    }
    burn_st_close(&f);
    return rc;
}

/* ---- fault injection (tests) ---- */

void burn_dist_fault_point(int64_t update) {
    static int parsed, rank = -1;
    static long long at = -1;
    static char kind[8];
    if (!parsed) {
        parsed = 1;
        const char *s = getenv("BURN_DIST_FAULT");
        if (s && sscanf(s, "%7[a-z]:%d:%lld", kind, &rank, &at) != 3) {
            burn_warn("BURN_DIST_FAULT='%s' is not kill|hang|exit|term|int:RANK:UPDATE: ignored", s);
            rank = -1;
        }
    }
    if (rank != burn_rank || update != at) return;
    fprintf(stderr, "burn[rank %d]: BURN_DIST_FAULT: %s at update %lld\n", burn_rank, kind, at);
    fflush(stderr);
    if (strcmp(kind, "kill") == 0) raise(SIGKILL);
    if (strcmp(kind, "term") == 0 || strcmp(kind, "int") == 0) { /* a preemption: go on */
        raise(kind[0] == 't' ? SIGTERM : SIGINT);
        return;
    }
    if (strcmp(kind, "exit") == 0) exit(3);
    if (strcmp(kind, "hang") == 0)
        for (;;) pause();
    burn_warn("BURN_DIST_FAULT kind '%s' unknown (kill|hang|exit|term|int): ignored", kind);
}
