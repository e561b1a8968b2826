/* test_dist.c — data parallelism on the CPU backend, with real MPI: the tests start mpirun
 * (2 ranks, --oversubscribe: this machine may have fewer free cores) on burn_gpu or on this
 * binary itself as a worker (test_dist_worker.h).
 *
 * Exactness of 2 ranks × batch B against 1 rank × batch 2B: with only the heads' BN
 * synchronised (BURN's recipe) the student's BN normalises each rank's half on its own, so the
 * two runs are different functions and cannot agree. The comparison runs with
 * dist.sync_bn = all, where every BN sees the global batch: then the two runs compute the same
 * mathematical function of the same images (the sampler gives rank r slice r of each global
 * batch, augmentation is keyed by dataset index) and only the FP32 reduction order differs.
 * Adam with its usual tiny ε turns a zero-expectation gradient (a bias before BN: exactly 0 in
 * math, ±1e-10 in floats) into a full ±lr step, so the run uses ε = 1, where the update is
 * ≈ lr·m̂: linear in the gradient, so a wrong average (sum, or mean over the wrong count) shows
 * as a 2× different step. Tolerance per tensor: 1e-3 of that tensor's own change plus 1e-4 of
 * the largest change of the model (the second term covers tensors whose true gradient is 0). */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <sys/wait.h>

#include <signal.h>

#include "burn/burn.h"
#include "burn/ckpt.h"
#include "burn/dist.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/safetensors.h"
#include "test_ckpt_util.h"
#include "test_dist_worker.h"
#include "test_util.h"

#define MPIRUN                                                                             \
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 5 120 mpirun "   \
    "--oversubscribe --bind-to none -np "
#define TINY " train --config configs/tiny/burn.ini --set train.ckpt_every=0 "

static char *tmpdir(const char *tag) {
    char *d = tu_tmp_path(tag), *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s && mkdir -p %s", d, d) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    return d;
}

static char *slurp(const char *path) {
    unsigned char *text = NULL;
    size_t n = 0;
    if (burn_read_file(path, 1 << 24, &text, &n) != 0) return burn_xstrdup("");
    return (char *)text;
}

/* Run cmd through the shell with stdout and stderr into log; the exit status (128 + signal
 * when killed) and the wall time. */
static int sh(const char *cmd, const char *log, double *seconds) {
    char *full = NULL;
    cr_assert(asprintf(&full, "(%s) > %s 2>&1", cmd, log) > 0);
    double t0 = burn_now();
    int st = system(full);
    if (seconds) *seconds = burn_now() - t0;
    free(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* sh() that must succeed; prints the log when it does not. */
static void sh_ok(const char *cmd, const char *log) {
    int rc = sh(cmd, log, NULL);
    if (rc != 0) {
        char *out = slurp(log);
        cr_assert_fail("exit %d: %s\n%s", rc, cmd, out);
    }
}

static void run_worker(const char *job) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = 0;
    char *dir = tmpdir(job), *cmd = NULL, *log = NULL;
    cr_assert(asprintf(&cmd, "BURN_TEST_DIST_WORKER=%s " MPIRUN "2 %s", job, exe) > 0);
    cr_assert(asprintf(&log, "%s/log", dir) > 0);
    sh_ok(cmd, log);
    char *out = slurp(log);
    cr_assert(strstr(out, "rank 0 of 2") && strstr(out, "rank 1 of 2"), "%s", out);
    free(out), free(cmd), free(log), free(dir);
}

Test(dist, plain_process_is_world_one_without_mpi) {
    /* no launcher in the environment: world 1, MPI never started, collectives are no-ops */
    cr_assert_eq(burn_dist_init(NULL, NULL), 0, "%s", burn_error());
    cr_assert_eq(burn_dist_active(), 0);
    cr_assert_eq(burn_world_size, 1);
    cr_assert_eq(burn_rank, 0);
    const burn_backend *cpu = burn_cpu_backend();
    cr_assert_eq(burn_dist_sync_bn_backend(cpu), cpu, "world 1 needs no synchronised table");
    burn_dist_opts o = {0, 4, 10};
    cr_assert_eq(burn_dist_attach(cpu, &o), 0);
    float g[5] = {1, -2, 3, -4, 5};
    burn_dist_allreduce_grad(cpu, g, 5);
    cr_assert(g[0] == 1 && g[4] == 5, "a world of one averages nothing");
    cr_assert_eq(burn_dist_finalize(7), 7, "finalize hands the exit code back");
}

Test(dist, resume_mapping_keeps_the_share_of_the_run) {
    /* unchanged layout: identity (the bit-identical resume) */
    for (int64_t m = 0; m < 50; m++) cr_assert_eq(burn_dist_resume_update(m, 8, 8, 1), m);
    cr_assert_eq(burn_dist_resume_update(12, 8, 8, 2), 6);
    /* 4 ranks -> 2 ranks: twice the steps per epoch */
    cr_assert_eq(burn_dist_resume_update(6, 4, 8, 1), 12);
    /* 1 -> 2 ranks: half; epoch 0 + 5/8 -> 2.5 of 4, rounded down to update 2 */
    cr_assert_eq(burn_dist_resume_update(5, 8, 4, 1), 2);
    /* accum 2 now: micro-batch 12 is update 6 */
    cr_assert_eq(burn_dist_resume_update(6, 4, 8, 2), 6);
    /* epoch boundaries stay boundaries: epoch 3 of 5004 steps -> epoch 3 of 2502 */
    cr_assert_eq(burn_dist_resume_update(3 * 5004, 5004, 2502, 1), 3 * 2502);
    /* long runs: no overflow of micro × spe */
    int64_t big = (int64_t)1 << 40;
    cr_assert_eq(burn_dist_resume_update(big * 3, big, 1 << 30, 1), (int64_t)3 << 30);
}

Test(dist, collectives_average_sum_and_broadcast_across_two_ranks, .timeout = 60) {
    run_worker("collectives:cpu");
}

Test(dist, sync_bn_equals_bn_of_the_concatenated_batch, .timeout = 60) {
    run_worker("syncbn:cpu");
}

/* Largest |a - b| over the floats of tensor t in two checkpoints, and over a and the initial
 * weights w0 (host copy of the registry). */
static void tensor_diffs(const burn_st_file *a, const burn_st_file *b, const burn_params *ps,
                         const float *w0, const char *name, double *d_ab, double *d_a0) {
    int i = burn_params_find(ps, name);
    cr_assert_geq(i, 0, "%s not in the model", name);
    int64_t n = ps->p[i].numel;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    cr_assert_eq(burn_st_read_f32(a, name, x, n), 0, "%s", burn_error());
    cr_assert_eq(burn_st_read_f32(b, name, y, n), 0, "%s", burn_error());
    *d_ab = *d_a0 = 0;
    for (int64_t k = 0; k < n; k++) {
        *d_ab = fmax(*d_ab, fabs((double)x[k] - y[k]));
        *d_a0 = fmax(*d_a0, fabs((double)y[k] - w0[ps->p[i].offset + k]));
    }
    free(x), free(y);
}

static double *metric_column(const char *path, const char *key, int *n) {
    char *text = slurp(path);
    double *v = NULL;
    *n = 0;
    for (char *s = strtok(text, "\n"); s; s = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(s);
        cr_assert_not_null(o, "bad JSONL line %s", s);
        v = realloc(v, sizeof(double) * (*n + 1));
        v[(*n)++] = cJSON_GetObjectItem(o, key)->valuedouble;
        cJSON_Delete(o);
    }
    free(text);
    return v;
}

/* 2 ranks × batch 16 against 1 rank × batch 32 for `updates` updates of `accum` micro-batches
 * (accumulation: the gradient is reduced once per update, after the last micro-batch). */
static void two_ranks_vs_one(const char *tag, int updates, int accum) {
    char t2[64], t1[64];
    snprintf(t2, sizeof t2, "%s-2", tag);
    snprintf(t1, sizeof t1, "%s-1", tag);
    char *d2 = tmpdir(t2), *d1 = tmpdir(t1), *cmd = NULL, *log = NULL, common[256];
    snprintf(common, sizeof common, "--set train.max_steps=%d --set train.accum=%d --set "
             "log.every=1 --set dist.sync_bn=all --set train.eps=1 --set train.lr=0.05",
             updates, accum);
    /* small buckets (13107 floats; the tiny model has 134064): most go out during the
     * backward, the rest at the end */
    cr_assert(asprintf(&cmd, MPIRUN "2 " BURN_GPU TINY "--set run.dir=%s %s "
                             "--set dist.bucket_mb=0.05", d2, common) > 0);
    cr_assert(asprintf(&log, "%s/log", d2) > 0);
    sh_ok(cmd, log);
    unsigned char *text = NULL;
    size_t len = 0;
    cr_assert_eq(burn_read_file(log, 1 << 20, &text, &len), 0);
    long early = -1, all = -1;
    const char *at = strstr((char *)text, "data parallel: ");
    while (at && sscanf(at, "data parallel: %ld of %ld gradient buckets", &early, &all) != 2)
        at = strstr(at + 1, "data parallel: ");
    cr_assert(early > 0 && early < all && all == 11L * updates,
              "buckets during the backward: %ld of %ld\n%s", early, all, (char *)text);
    free(text), free(cmd), free(log);
    cr_assert(asprintf(&cmd, BURN_GPU TINY "--set run.dir=%s %s --set train.batch_size=32", d1,
                       common) > 0);
    cr_assert(asprintf(&log, "%s/log", d1) > 0);
    sh_ok(cmd, log);
    free(cmd), free(log);

    /* the initial weights, to measure how far each tensor moved */
    burn_config c;
    burn_config_defaults(&c);
    cr_assert_eq(burn_config_load(&c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    burn_model m;
    cr_assert_eq(burn_model_init(&m, &c, burn_cpu_backend(), 16), 0, "%s", burn_error());

    char *pa = NULL, *pb = NULL;
    cr_assert(asprintf(&pa, "%s/ckpt-%08d.safetensors", d2, updates) > 0);
    cr_assert(asprintf(&pb, "%s/ckpt-%08d.safetensors", d1, updates) > 0);
    burn_st_file a, b;
    cr_assert_eq(burn_st_open(&a, pa), 0, "%s", burn_error());
    cr_assert_eq(burn_st_open(&b, pb), 0, "%s", burn_error());
    cr_assert_str_eq(burn_st_meta(&a, "world_size"), "2");
    cr_assert_str_eq(burn_st_meta(&b, "world_size"), "1");
    double *dab = calloc(m.params.n, sizeof(double)), *da0 = calloc(m.params.n, sizeof(double));
    double moved = 0;
    for (int i = 0; i < m.params.n; i++) {
        tensor_diffs(&a, &b, &m.params, m.params.data, m.params.p[i].name, &dab[i], &da0[i]);
        if (m.params.p[i].kind == BURN_PARAM_TRAINABLE) moved = fmax(moved, da0[i]);
    }
    cr_assert_gt(moved, 1e-3, "the weights hardly moved (%g): nothing was compared", moved);
    /* A tensor that moved under 1e-4 of the largest move has a gradient that is zero up to
     * rounding (the bias of a Linear before BN): its motion is summation-order noise, which
     * differs between the runs; it must stay at that level. */
    for (int i = 0; i < m.params.n; i++)
        cr_assert_leq(dab[i], da0[i] < 1e-4 * moved ? 2e-4 * moved : 1e-3 * da0[i] + 1e-4 * moved,
                      "%s: 2 ranks vs 1 rank differ by %g (it moved %g; largest move %g)",
                      m.params.p[i].name, dab[i], da0[i], moved);

    /* the logged loss is the average over the global batch on both */
    char *ma = NULL, *mb = NULL;
    cr_assert(asprintf(&ma, "%s/metrics.jsonl", d2) > 0);
    cr_assert(asprintf(&mb, "%s/metrics.jsonl", d1) > 0);
    int na, nb;
    double *la = metric_column(ma, "loss", &na), *lb = metric_column(mb, "loss", &nb);
    cr_assert_eq(na, updates);
    cr_assert_eq(nb, updates);
    for (int i = 0; i < updates; i++)
        cr_assert(fabs(la[i] - lb[i]) <= 1e-5 * fabs(lb[i]), "update %d: loss %.9g vs %.9g",
                  i + 1, la[i], lb[i]);
    burn_st_close(&a);
    burn_st_close(&b);
    burn_model_free(&m);
    burn_config_free(&c);
    free(dab), free(da0), free(la), free(lb), free(ma), free(mb), free(pa), free(pb);
    free(d1), free(d2);
}

Test(dist, two_ranks_equal_one_rank_with_twice_the_batch, .timeout = 120) {
    two_ranks_vs_one("dist-eq", 4, 1);
}

Test(dist, two_ranks_equal_one_rank_with_gradient_accumulation, .timeout = 120) {
    two_ranks_vs_one("dist-acc", 2, 2);
}

/* Train `first` (a command prefix: "" or MPIRUN "2 ") to update `stop`, then resume with
 * `second` to update `until`; the resumed run must start at update `expect`. */
static void world_change(const char *tag, const char *first, int stop, const char *second,
                         int until, int expect) {
    char *d = tmpdir(tag), *cmd = NULL, *log = NULL;
    cr_assert(asprintf(&log, "%s/log", d) > 0);
    cr_assert(asprintf(&cmd, "%s" BURN_GPU TINY "--set run.dir=%s --set train.max_steps=%d",
                       first, d, stop) > 0);
    sh_ok(cmd, log);
    free(cmd);
    cr_assert(asprintf(&cmd, "%s" BURN_GPU TINY "--set run.dir=%s --set train.max_steps=%d "
                             "--resume",
                       second, d, until) > 0);
    sh_ok(cmd, log);
    char *out = slurp(log), *want = NULL;
    cr_assert(asprintf(&want, "resumed from %s/ckpt-%08d.safetensors at update %d", d, stop,
                       expect) > 0);
    cr_assert(strstr(out, want), "expected '%s' in:\n%s", want, out);
    free(want);
    cr_assert(asprintf(&want, "%s/ckpt-%08d.safetensors", d, until) > 0);
    burn_dist_layout lay;
    cr_assert_eq(burn_dist_ckpt_layout(want, &lay), 0, "%s", burn_error());
    cr_assert_eq(lay.batch, 16);
    cr_assert_eq(lay.accum, 1);
    cr_assert_eq(lay.world, strlen(second) ? 2 : 1);
    free(want), free(out), free(cmd), free(log), free(d);
}

Test(dist, resume_on_one_rank_after_two, .timeout = 60) {
    /* 2 ranks: 4 steps per epoch, stopped at update 6 = epoch 1.5; 1 rank: 8 per epoch -> 12 */
    world_change("dist-2to1", MPIRUN "2 ", 6, "", 14, 12);
}

Test(dist, resume_on_two_ranks_after_one, .timeout = 60) {
    /* 1 rank: update 5 of 8 per epoch; 2 ranks: 4 per epoch -> 2.5, rounded down to 2 */
    world_change("dist-1to2", "", 5, MPIRUN "2 ", 4, 2);
}

/* Start 2 ranks with a fault injected into rank 1 at update 5, checkpoints every 2 updates:
 * the job must end non-zero within 60 s and leave checkpoint 4 usable. */
static void fault(const char *tag, const char *kind, const char *extra, const char *expect) {
    char *d = tmpdir(tag), *cmd = NULL, *log = NULL;
    cr_assert(asprintf(&log, "%s/log", d) > 0);
    cr_assert(asprintf(&cmd, "BURN_DIST_FAULT=%s:1:5 " MPIRUN "2 " BURN_GPU " train --config "
                             "configs/tiny/burn.ini --set run.dir=%s --set train.ckpt_every=2 %s",
                       kind, d, extra) > 0);
    double secs;
    int rc = sh(cmd, log, &secs);
    char *out = slurp(log);
    cr_assert_neq(rc, 0, "the job survived a %s rank:\n%s", kind, out);
    cr_assert_lt(secs, 60, "took %.1f s to stop after a %s rank", secs, kind);
    cr_assert(strstr(out, "BURN_DIST_FAULT"), "the fault was not injected:\n%s", out);
    cr_assert(strstr(out, expect), "expected '%s' in:\n%s", expect, out);
    /* the last complete checkpoint loads */
    char *latest = burn_ckpt_find_latest(d, NULL), *want = NULL;
    cr_assert(asprintf(&want, "%s/ckpt-00000004.safetensors", d) > 0);
    cr_assert_not_null(latest);
    cr_assert_str_eq(latest, want);
    burn_config c;
    burn_config_defaults(&c);
    cr_assert_eq(burn_config_load(&c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    burn_model m;
    cr_assert_eq(burn_model_init(&m, &c, burn_cpu_backend(), 16), 0, "%s", burn_error());
    burn_ckpt_state st = {0};
    cr_assert_eq(burn_ckpt_load(latest, &m.params, NULL, NULL, &st), 0, "%s", burn_error());
    cr_assert_eq(st.step, 4);
    burn_model_free(&m);
    burn_config_free(&c);
    free(latest), free(want), free(out), free(cmd), free(log), free(d);
}

/* Preemption under MPI: SIGTERM reaches rank 1 alone at update 5; every rank stops after that
 * update, rank 0 writes its checkpoint, the job exits 143, and --resume on 2 ranks ends bit
 * for bit where an uninterrupted 2-rank run ends. */
Test(dist, sigterm_on_one_rank_stops_every_rank_with_a_checkpoint, .timeout = 120) {
    char *d = tmpdir("dist-term"), *ref = tmpdir("dist-term-ref"), *cmd = NULL, *log = NULL;
    cr_assert(asprintf(&log, "%s/log", d) > 0);
    cr_assert(asprintf(&cmd, MPIRUN "2 " BURN_GPU TINY "--set run.dir=%s", ref) > 0);
    sh_ok(cmd, log);
    free(cmd);
    cr_assert(asprintf(&cmd, "BURN_DIST_FAULT=term:1:5 " MPIRUN "2 " BURN_GPU TINY
                             "--set run.dir=%s", d) > 0);
    int rc = sh(cmd, log, NULL);
    char *out = slurp(log);
    cr_assert_eq(rc, 128 + SIGTERM, "exit %d:\n%s", rc, out);
    cr_assert(strstr(out, "stopped after update 6 of 16"), "%s", out);
    char *ck = NULL, *latest = burn_ckpt_find_latest(d, NULL);
    cr_assert(asprintf(&ck, "%s/ckpt-00000006.safetensors", d) > 0);
    cr_assert_str_eq(latest, ck);
    free(cmd), free(out), free(latest), free(ck);
    cr_assert(asprintf(&cmd, MPIRUN "2 " BURN_GPU TINY "--set run.dir=%s --resume", d) > 0);
    sh_ok(cmd, log);
    char *a = NULL, *b = NULL, diff[256];
    cr_assert(asprintf(&a, "%s/ckpt-00000016.safetensors", ref) > 0);
    cr_assert(asprintf(&b, "%s/ckpt-00000016.safetensors", d) > 0);
    cr_assert_null(tu_ckpt_diff(a, b, diff, sizeof diff), "%s differs after resume", diff);
    free(a), free(b), free(cmd), free(log), free(d), free(ref);
}

Test(dist, a_killed_rank_stops_the_job, .timeout = 90) {
    fault("dist-kill", "kill", "", "rank 1");
}

Test(dist, a_hung_rank_stops_the_job_after_the_timeout, .timeout = 90) {
    fault("dist-hang", "hang", "--set dist.timeout=3", "did not complete within dist.timeout");
}
