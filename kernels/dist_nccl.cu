// dist_nccl.cu — the CUDA backend's data-parallel collectives (backend.h "data-parallel
// collectives") over NCCL, and a watchdog thread that turns a dead or hung peer into a stop.
//
// Streams: every NCCL call goes out on one communication stream `comm_stream`, in issue order
// (one communicator, one stream: the order NCCL requires is the program order). A collective
// waits for the work queued on burn_stream so far (event `ready`), and burn_stream's later work
// waits for it (event after it): the host never blocks here.
//
// What overlaps: each gradient bucket goes out as one ncclAllReduce (ncclAvg, in place) as
// soon as the backward has queued all of it (dist.c burn_dist_grad_ready, fed by the student
// network's per-block hook: the head, the FC and the top blocks first), so NCCL reduces them on
// comm_stream while burn_stream computes the lower blocks' gradients; the buckets that are
// final only at the end (the stem's, the teacher head's) follow then. What does not: BN
// statistics (the heads' synchronised BN sits on the critical path by nature).
//
// Faults: the watchdog polls every 100 ms. ncclCommGetAsyncError reporting an error (a peer's
// connection broke), or the newest collective not complete dist.timeout seconds after it was
// queued (a peer is dead or hung: the stream stalls, the host soon blocks in a download and
// queues nothing newer), prints one line, aborts the communicator and _exit(1)s; the launcher
// then stops the other ranks. (MPI_Abort is not allowed from this thread: MPI runs FUNNELED.)
#include <nccl.h> // before check.h (through cuda_common.cuh), which then defines NCCL_CHECK

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "burn/log.h"

static ncclComm_t comm = nullptr;
static cudaStream_t comm_stream = nullptr;
static cudaEvent_t ev_ready = nullptr, ev_sum = nullptr, ev_mean = nullptr;

// Watchdog state, under `lock`: the event recorded after the newest collective and when.
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t watchdog;
static cudaEvent_t ev_watch = nullptr;
static int watch_pending = 0, watch_stop = 0;
static double watch_since = 0, watch_timeout = 600;
static const char *watch_what = "";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fail_now(const char *why, const char *what) {
    fprintf(stderr, "burn[rank %d, GPU %d]: %s%s%s; stopping this rank and so the job (the last "
                    "complete checkpoint stays usable: --resume)\n",
            burn_rank, burn_device, why, *what ? " in " : "", what);
    fflush(stderr);
    ncclCommAbort(comm); // frees peers blocked on us; no return code worth checking now
    _exit(1);
}

static void *watchdog_main(void *) {
    // a new thread starts on device 0: without this its first CUDA call would make a context
    // on GPU 0 in every rank's process
    cudaError_t dev = cudaSetDevice(burn_device);
    if (dev != cudaSuccess) fail_now(cudaGetErrorString(dev), "the NCCL watchdog's cudaSetDevice");
    for (;;) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, nullptr);
        pthread_mutex_lock(&lock);
        if (watch_stop) {
            pthread_mutex_unlock(&lock);
            return nullptr;
        }
        ncclResult_t async = ncclSuccess;
        ncclResult_t r = ncclCommGetAsyncError(comm, &async);
        if (r != ncclSuccess || (async != ncclSuccess && async != ncclInProgress)) {
            char why[256];
            snprintf(why, sizeof why, "NCCL reported an asynchronous error (%s): a peer rank "
                                      "probably died",
                     ncclGetErrorString(r != ncclSuccess ? r : async));
            fail_now(why, watch_what);
        }
        if (watch_pending) {
            cudaError_t q = cudaEventQuery(ev_watch);
            if (q == cudaSuccess) {
                watch_pending = 0;
            } else if (q != cudaErrorNotReady) {
                fail_now(cudaGetErrorString(q), watch_what);
            } else if (now_s() - watch_since > watch_timeout) {
                char why[256];
                snprintf(why, sizeof why, "a collective did not complete within dist.timeout = "
                                          "%g s: another rank is dead or hung",
                         watch_timeout);
                fail_now(why, watch_what);
            }
        }
        pthread_mutex_unlock(&lock);
    }
}

// After queueing a collective on comm_stream: the watchdog follows it from now on.
static void watch(const char *what) {
    pthread_mutex_lock(&lock);
    CUDA_CHECK(cudaEventRecord(ev_watch, comm_stream));
    watch_pending = 1;
    watch_since = now_s();
    watch_what = what;
    pthread_mutex_unlock(&lock);
}

extern "C" int cuda_dist_attach(int rank, int world, double timeout_s,
                                void (*bcast)(void *buf, int bytes)) {
    ncclUniqueId id;
    if (rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    bcast(&id, (int)sizeof id);
    // blocking init: a rank that never arrives makes the launcher stop the job
    NCCL_CHECK(ncclCommInitRank(&comm, world, id, rank));
    CUDA_CHECK(cudaStreamCreateWithFlags(&comm_stream, cudaStreamNonBlocking));
    cudaEvent_t *evs[] = {&ev_ready, &ev_sum, &ev_mean, &ev_watch};
    for (cudaEvent_t *e : evs) CUDA_CHECK(cudaEventCreateWithFlags(e, cudaEventDisableTiming));
    watch_timeout = timeout_s;
    watch_stop = 0;
    if (pthread_create(&watchdog, nullptr, watchdog_main, nullptr) != 0) {
        burn_error_set("data parallel: cannot start the NCCL watchdog thread");
        return -1;
    }
    burn_log("NCCL %d.%d.%d: communicator of %d ranks", NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH,
             world);
    return 0;
}

extern "C" void cuda_dist_detach(void) {
    if (!comm) return;
    CUDA_CHECK(cudaStreamSynchronize(comm_stream));
    pthread_mutex_lock(&lock);
    watch_stop = 1;
    pthread_mutex_unlock(&lock);
    pthread_join(watchdog, nullptr);
    NCCL_CHECK(ncclCommFinalize(comm));
    NCCL_CHECK(ncclCommDestroy(comm));
    comm = nullptr;
    cudaEvent_t evs[] = {ev_ready, ev_sum, ev_mean, ev_watch};
    for (cudaEvent_t e : evs) CUDA_CHECK(cudaEventDestroy(e));
    CUDA_CHECK(cudaStreamDestroy(comm_stream));
    comm_stream = nullptr;
}

// comm_stream waits for everything queued on burn_stream so far.
static void comm_after_compute(void) {
    CUDA_CHECK(cudaEventRecord(ev_ready, burn_stream));
    CUDA_CHECK(cudaStreamWaitEvent(comm_stream, ev_ready, 0));
}

extern "C" void cuda_dist_sum_f64(double *x, int64_t n) {
    comm_after_compute();
    NCCL_CHECK(ncclAllReduce(x, x, (size_t)n, ncclDouble, ncclSum, comm, comm_stream));
    watch("the BatchNorm statistics all-reduce");
    CUDA_CHECK(cudaEventRecord(ev_sum, comm_stream));
    CUDA_CHECK(cudaStreamWaitEvent(burn_stream, ev_sum, 0));
}

extern "C" void cuda_dist_mean_start(float *x, int64_t n, int64_t bucket) {
    comm_after_compute();
    // NCCL keeps a bucket's ring/tree pipeline full; successive buckets queue back to back
    for (int64_t off = 0; off < n; off += bucket) {
        size_t count = (size_t)(n - off < bucket ? n - off : bucket);
        NCCL_CHECK(ncclAllReduce(x + off, x + off, count, ncclFloat, ncclAvg, comm, comm_stream));
    }
    watch("the gradient all-reduce");
    CUDA_CHECK(cudaEventRecord(ev_mean, comm_stream));
}

extern "C" void cuda_dist_mean_wait(void) {
    CUDA_CHECK(cudaStreamWaitEvent(burn_stream, ev_mean, 0));
}
