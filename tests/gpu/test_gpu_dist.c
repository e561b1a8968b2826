/* test_gpu_dist.c — the CUDA backend's NCCL collectives under mpirun with 2 ranks, one GPU
 * each (NCCL refuses two ranks on one GPU): the same worker jobs as tests/test_dist.c on the
 * CPU — gradient mean in uneven buckets, sums of doubles, broadcasts, and synchronised BN
 * against a double-precision BN of the concatenated batch — plus a 2-rank training run on
 * CUDA that must finish with finite losses. Skipped without a device, or with only one; a
 * one-rank communicator runs the NCCL code path on a single GPU. */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include "burn/fileio.h"
#include "gpu_util.h"
#include "test_dist_worker.h"

#define MPIRUN                                                                             \
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 5 300 mpirun "   \
    "--oversubscribe --bind-to none -np 2 "

#define REQUIRE_TWO_GPUS(be_var)                                                           \
    REQUIRE_CUDA(be_var);                                                                  \
    if (burn_cuda_device_count() < 2) cr_skip_test("skipped: needs 2 CUDA devices");

/* Run cmd (stdout + stderr to log); on failure, fail the test with the log. */
static void sh_ok(const char *cmd, const char *log) {
    char *full = NULL;
    cr_assert(asprintf(&full, "(%s) > %s 2>&1", cmd, log) > 0);
    int st = system(full);
    free(full);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        unsigned char *text = NULL;
        size_t n = 0;
        burn_read_file(log, 1 << 20, &text, &n);
        cr_assert_fail("%s failed:\n%s", cmd, text ? (char *)text : "");
    }
}

static void run_worker(const char *job) {
    char exe[4096], *cmd = NULL, *log = tu_tmp_path(job);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = 0;
    cr_assert(asprintf(&cmd, "BURN_TEST_DIST_WORKER=%s " MPIRUN "%s", job, exe) > 0);
    sh_ok(cmd, log);
    free(cmd), free(log);
}

static void no_bcast(void *buf, int bytes) { (void)buf, (void)bytes; } /* one rank: nothing */

/* One GPU is enough for the NCCL code path itself: a communicator of one rank (unique id,
 * ncclCommInitRank, the watchdog thread, bucketed ncclAvg with a tail bucket, ncclSum of
 * doubles, the stream/event ordering, finalize/destroy). The mean and the sum over one rank
 * are the identity, bit for bit. Runs wherever tests/gpu runs; the 2-rank tests below need
 * 2 GPUs. */
Test(gpu_dist, one_rank_nccl_communicator_round_trip, .timeout = 120) {
    REQUIRE_CUDA(g);
    cr_assert_eq(g->dist_attach(0, 1, 30.0, no_bcast), 0, "%s", burn_error());
    const int64_t n = 10007; /* buckets of 1000: ten whole ones and a tail of 7 */
    float *x = malloc(n * 4);
    tu_fill(x, n, 77, -3, 3);
    float *dx = gu_upload(g, x, n);
    g->dist_mean_start(dx, n, 1000);
    g->dist_mean_wait();
    float *back = gu_download(g, dx, n);
    cr_assert(memcmp(back, x, n * 4) == 0, "the mean over one rank must be the identity");
    double h[5] = {1.5, -2.25, 1e300, 3.0e-300, 42.0}, got[5];
    double *dd = g->alloc(sizeof h);
    g->upload(dd, h, sizeof h);
    g->dist_sum_f64(dd, 5);
    g->download(got, dd, sizeof got);
    cr_assert(memcmp(got, h, sizeof h) == 0, "the sum over one rank must be the identity");
    g->dist_detach();
    free(x), free(back);
    g->free(dx), g->free(dd);
}

Test(gpu_dist, nccl_collectives_average_sum_and_broadcast, .timeout = 300) {
    REQUIRE_TWO_GPUS(g);
    (void)g;
    run_worker("collectives:cuda");
}

Test(gpu_dist, nccl_sync_bn_equals_bn_of_the_concatenated_batch, .timeout = 300) {
    REQUIRE_TWO_GPUS(g);
    (void)g;
    run_worker("syncbn:cuda");
}

Test(gpu_dist, two_rank_training_on_cuda_finishes, .timeout = 300) {
    REQUIRE_TWO_GPUS(g);
    (void)g;
    char *dir = tu_tmp_path("gpu-dist-train"), *cmd = NULL, *log = NULL, *ckpt = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s && mkdir -p %s", dir, dir) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    cr_assert(asprintf(&cmd, MPIRUN BURN_GPU " train --config configs/tiny/burn.ini "
                             "--device cuda --set run.dir=%s --set train.max_steps=6",
                       dir) > 0);
    cr_assert(asprintf(&log, "%s/log", dir) > 0);
    sh_ok(cmd, log);
    unsigned char *text = NULL;
    size_t n = 0;
    cr_assert_eq(burn_read_file(log, 1 << 20, &text, &n), 0);
    cr_assert(strstr((char *)text, "NCCL") && strstr((char *)text, "stage 1 done: 6 updates"),
              "%s", (char *)text);
    cr_assert_null(strstr((char *)text, "nan"), "%s", (char *)text);
    cr_assert(asprintf(&ckpt, "%s/ckpt-00000006.safetensors", dir) > 0);
    cr_assert_eq(access(ckpt, R_OK), 0, "no final checkpoint");
    free(text), free(cmd), free(log), free(ckpt), free(dir);
}
