/* test_gpu_dist.c — the CUDA backend's NCCL collectives under mpirun with 2 ranks, one GPU
 * each (NCCL refuses two ranks on one GPU): the same worker jobs as tests/test_dist.c on the
 * CPU — gradient mean in uneven buckets, sums of doubles, broadcasts, and synchronised BN
 * against a double-precision BN of the concatenated batch — plus a 2-rank training run on
 * CUDA that must finish with finite losses. Skipped without a device, or with only one. */
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
