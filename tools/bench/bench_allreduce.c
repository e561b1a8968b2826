/* bench_allreduce.c — `mpirun -np N burn_bench allreduce [--device cpu|cuda]`: the gradient
 * all-reduce of data-parallel training (burn_dist_allreduce_grad: mean over the ranks, in
 * buckets of dist.bucket_mb) for buffer sizes from 1K floats up to the gradient of the full
 * ReActNet-A + heads of the default config, side by side with one plain call (CPU: a blocking
 * MPI_Allreduce + 1/N; CUDA: burn's path with a single bucket, one ncclAllReduce), and the
 * share of a training step spent communicating for a small config (configs/tiny/burn.ini).
 *
 * Bus bandwidth as nccl-tests defines it: 2·(N−1)/N · bytes / time (what each link carries in
 * a ring all-reduce; comparable across rank counts). Each timed run starts after a barrier and
 * counts until the slowest rank is done (the max over ranks); the median of the repeats is
 * reported. The results are checked (every rank holds the mean) before anything is printed. */
#include <mpi.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "burn/burn.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/dist.h"
#include "burn/log.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*reduce_fn)(const burn_backend *be, float *x, int64_t n);

static void burn_path(const burn_backend *be, float *x, int64_t n) {
    burn_dist_allreduce_grad(be, x, n);
}

/* CPU reference: one blocking MPI call, then the 1/N that makes it a mean */
static void one_mpi_call(const burn_backend *be, float *x, int64_t n) {
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
    be->scale(x, 1.0f / (float)burn_world_size, n);
}

/* Median over repeats of the slowest rank's time for fn(x[n]). */
static double time_reduce(const burn_backend *be, reduce_fn fn, float *x, int64_t n,
                          int repeats) {
    double *t = malloc(sizeof(double) * (size_t)repeats);
    fn(be, x, n); /* warm-up: connections, NCCL buffers, page faults */
    be->synchronize();
    for (int r = 0; r < repeats; r++) {
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        double t0 = burn_now();
        fn(be, x, n);
        be->synchronize();
        double mine = burn_now() - t0;
        MPI_CHECK(MPI_Allreduce(&mine, &t[r], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    }
    qsort(t, (size_t)repeats, sizeof(double), cmp_double);
    double med = repeats % 2 ? t[repeats / 2] : 0.5 * (t[repeats / 2 - 1] + t[repeats / 2]);
    free(t);
    return med;
}

/* x[i] = (rank + 1)·(1 + i mod 7): the mean is (N + 1)/2·(1 + i mod 7), and stays so under
 * repeated averaging. Returns the largest relative error of x against it. */
static void fill_pattern(const burn_backend *be, float *x, int64_t n, float *host) {
    for (int64_t i = 0; i < n; i++) host[i] = (float)(burn_rank + 1) * (float)(1 + i % 7);
    be->upload(x, host, (size_t)n * sizeof(float));
}

static double pattern_error(const burn_backend *be, const float *x, int64_t n, float *host) {
    be->download(host, x, (size_t)n * sizeof(float));
    double worst = 0, mean = 0.5 * (burn_world_size + 1);
    for (int64_t i = 0; i < n; i++) {
        double want = mean * (double)(1 + i % 7), e = fabs(host[i] - want) / want;
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

/* Trainable floats of the default config (full ReActNet-A, 2000-wide heads): the registry
 * alone, nothing allocated. */
static int64_t full_gradient_floats(void) {
    burn_config c;
    burn_config_defaults(&c);
    burn_reactnet s;
    burn_resnet t;
    burn_head sh, th;
    int64_t n = 0;
    if (burn_models_from_config(&c, &s, &t, &sh, &th) == 0) {
        burn_params ps;
        burn_params_init_registry(&ps);
        burn_reactnet_register(&s, &ps, "student.");
        burn_head_register(&sh, &ps, "student_head.");
        burn_head_register(&th, &ps, "teacher_head.");
        for (int i = 0; i < ps.n; i++)
            if (ps.p[i].kind == BURN_PARAM_TRAINABLE) n += ps.p[i].numel;
        burn_params_free(&ps);
    }
    burn_config_free(&c);
    return n;
}

/* One BURN step of cfg on random views, and the communication it needs. */
static int step_share(const burn_backend *be, const char *config, int repeats, int json) {
    burn_config c;
    burn_config_defaults(&c);
    if (burn_config_load(&c, config) != 0) {
        fprintf(stderr, "burn_bench: %s\n", burn_error());
        return 2;
    }
    int N = (int)c.train_batch_size, S = (int)c.data_image_size;
    burn_model m;
    if (burn_model_init(&m, &c, be, N) != 0 ||
        burn_model_load_teacher(&m, c.teacher_checkpoint) != 0) {
        fprintf(stderr, "burn_bench: %s\n", burn_error());
        burn_config_free(&c);
        return 2;
    }
    int64_t nv = (int64_t)N * 3 * S * S, T = m.params.trainable;
    float *v1 = be->alloc((size_t)nv * sizeof(float)), *v2 = be->alloc((size_t)nv * sizeof(float));
    be->uniform(v1, nv, 11, 0, -2, 2);
    be->uniform(v2, nv, 12, 0, -2, 2);
    double *steps = malloc(sizeof(double) * (size_t)repeats);
    burn_dist_counters before, after;
    int status = 0;
    for (int r = -1; r < repeats && status == 0; r++) { /* r = -1: warm-up */
        be->fill(m.params.grad, 0.0f, T);
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        burn_dist_get_counters(&before);
        double t0 = burn_now();
        burn_step_stats st;
        if (burn_model_step(&m, v1, v2, 0.8f, &st) != 0) {
            fprintf(stderr, "burn_bench: %s\n", burn_error());
            status = 1;
        }
        be->synchronize();
        double mine = burn_now() - t0;
        burn_dist_get_counters(&after);
        if (r >= 0) MPI_CHECK(MPI_Allreduce(&mine, &steps[r], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    }
    if (status == 0) {
        qsort(steps, (size_t)repeats, sizeof(double), cmp_double);
        double t_step = steps[repeats / 2];
        /* the step's BN synchronisations, timed alone: as many sums of 2·hidden doubles */
        int64_t bn_calls = after.sum_calls - before.sum_calls, C2 = 2 * c.head_hidden;
        double *stats = be->alloc((size_t)C2 * sizeof(double));
        be->fill((float *)stats, 0.0f, 2 * C2);
        double t_bn = 0;
        for (int r = -1; r < repeats; r++) {
            MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
            double t0 = burn_now();
            for (int64_t k = 0; k < bn_calls; k++) burn_dist_sum_f64(be, stats, C2);
            be->synchronize();
            double mine = burn_now() - t0, slowest;
            MPI_CHECK(MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
            if (r >= 0) steps[r] = slowest;
        }
        qsort(steps, (size_t)repeats, sizeof(double), cmp_double);
        t_bn = steps[repeats / 2];
        be->free(stats);
        double t_grad = time_reduce(be, burn_path, m.params.grad, T, repeats);
        double share = (t_bn + t_grad) / (t_step + t_grad);
        if (burn_rank == 0) {
            if (json)
                printf("{\"bench\": \"allreduce_step\", \"config\": \"%s\", \"ranks\": %d, "
                       "\"batch_per_rank\": %d, \"step_ms\": %.3f, \"bn_sync_calls\": %lld, "
                       "\"bn_sync_ms\": %.3f, \"grad_floats\": %lld, \"grad_allreduce_ms\": %.3f, "
                       "\"comm_share\": %.4f}\n",
                       config, burn_world_size, N, t_step * 1e3, (long long)bn_calls, t_bn * 1e3,
                       (long long)T, t_grad * 1e3, share);
            else
                printf("\nstep of %s (batch %d per rank, %d ranks): forward + backward %.2f ms "
                       "(of which %lld BN synchronisations of %lld doubles: %.2f ms), gradient "
                       "all-reduce of %lld floats %.2f ms -> communication %.1f%% of the "
                       "step\n",
                       config, N, burn_world_size, t_step * 1e3, (long long)bn_calls,
                       (long long)C2, t_bn * 1e3, (long long)T, t_grad * 1e3, 100 * share);
        }
    }
    free(steps);
    be->free(v1);
    be->free(v2);
    burn_model_free(&m);
    burn_config_free(&c);
    return status;
}

static int run(const burn_backend *be, const char *device, int repeats, int json,
               const char *config) {
    burn_dist_opts o = {0, 25 << 18, 600.0}; /* dist.bucket_mb = 25, the default */
    if (burn_dist_attach(be, &o) != 0) {
        fprintf(stderr, "burn_bench: %s\n", burn_error());
        return 1;
    }
    int64_t full = full_gradient_floats();
    int64_t sizes[] = {1 << 10, 1 << 14, 1 << 18, 1 << 20, 1 << 22, 1 << 24, full};
    int nsizes = full > (1 << 24) ? 7 : 6;
    float *x = be->alloc((size_t)sizes[nsizes - 1] * sizeof(float));
    float *host = malloc((size_t)sizes[nsizes - 1] * sizeof(float));
    const char *ref_name = be->is_device ? "one NCCL call" : "one MPI_Allreduce";
    double bus = 2.0 * (burn_world_size - 1) / burn_world_size;
    if (burn_rank == 0 && !json)
        printf("all-reduce (mean) over %d ranks, %s, buckets of 25 MiB; bus bandwidth GB/s "
               "(median of %d)\n%-10s %9s %11s %11s %20s %8s\n",
               burn_world_size, device, repeats, "floats", "MiB", "burn ms", "burn GB/s",
               ref_name, "ratio");
    if (burn_rank == 0 && json)
        printf("{\"bench\": \"allreduce\", \"device\": \"%s\", \"ranks\": %d, \"rows\": [",
               device, burn_world_size);
    int status = 0;
    for (int k = 0; k < nsizes && status == 0; k++) {
        int64_t n = sizes[k];
        double bytes = (double)n * sizeof(float);
        fill_pattern(be, x, n, host);
        double t_burn = time_reduce(be, burn_path, x, n, repeats);
        double e_burn = pattern_error(be, x, n, host);
        double t_ref;
        if (be->is_device) {
            burn_dist_opts one = o;
            one.bucket = n;
            burn_dist_attach(be, &one);
            t_ref = time_reduce(be, burn_path, x, n, repeats);
            burn_dist_attach(be, &o);
        } else {
            t_ref = time_reduce(be, one_mpi_call, x, n, repeats);
        }
        if (!(e_burn < 1e-6)) {
            fprintf(stderr, "burn_bench: rank %d: all-reduce of %lld floats is wrong (relative "
                            "error %g)\n", burn_rank, (long long)n, e_burn);
            status = 1;
        }
        if (burn_rank == 0 && json)
            printf("%s{\"floats\": %lld, \"burn_ms\": %.4f, \"burn_busbw_gbs\": %.3f, "
                   "\"ref_ms\": %.4f, \"ref_busbw_gbs\": %.3f}",
                   k ? ", " : "", (long long)n, t_burn * 1e3, bus * bytes / t_burn * 1e-9,
                   t_ref * 1e3, bus * bytes / t_ref * 1e-9);
        else if (burn_rank == 0)
            printf("%-10lld %9.2f %11.3f %11.2f %11.3f ms %5.2f %7.2fx\n", (long long)n,
                   bytes / (1 << 20), t_burn * 1e3, bus * bytes / t_burn * 1e-9, t_ref * 1e3,
                   bus * bytes / t_ref * 1e-9, t_ref / t_burn);
    }
    if (burn_rank == 0 && json) printf("]}\n");
    if (burn_rank == 0 && !json)
        printf("(largest size: the trainable floats of the default config, ReActNet-A + heads; "
               "ratio = reference time / burn time)\n");
    fflush(stdout);
    be->free(x);
    free(host);
    if (status == 0) status = step_share(be, config, repeats, json);
    return status;
}

int bench_allreduce(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--device", "cpu|cuda", "backend whose buffers are reduced (default cpu)", 0},
        {"--repeats", "N", "timed runs per size; the median is reported (default 5)", 0},
        {"--config", "FILE", "config of the step-share measurement (default "
                             "configs/tiny/burn.ini)", 0},
        {"--json", NULL, "print JSON objects", 0},
        {NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(
        &a, "burn_bench allreduce", "[--device cpu|cuda] [--repeats N] [--config FILE] [--json]",
        "Gradient all-reduce of data-parallel training, run under an MPI launcher:\n"
        "  mpirun -np 2 burn_bench allreduce --device cpu\n"
        "Bus bandwidth per buffer size up to the full ReActNet-A gradient, burn's bucketed path\n"
        "against one plain call, then the communication share of one training step.",
        opts, 0, argc, argv);
    if (rc) return rc;
    const char *device, *config = burn_arg(&a, "--config");
    int64_t repeats;
    if ((rc = burn_arg_choice(&a, "--device", "cpu|cuda", "cpu", &device)) ||
        (rc = burn_arg_int(&a, "--repeats", 1, 1000, 5, &repeats))) {
        burn_args_free(&a);
        return rc;
    }
    int json = burn_arg_flag(&a, "--json");
    if (burn_dist_init(NULL, NULL) != 0) {
        fprintf(stderr, "burn_bench: %s\n", burn_error());
        burn_args_free(&a);
        return 1;
    }
    if (burn_world_size < 2) {
        fprintf(stderr, "burn_bench allreduce: needs several ranks: start it with an MPI "
                        "launcher, e.g. mpirun -np 2 burn_bench allreduce\n");
        burn_args_free(&a);
        return burn_dist_finalize(BURN_EXIT_USAGE);
    }
    burn_log_quiet = 1;
    const burn_backend *be = burn_backend_select(device);
    int status = 1;
    if (!be)
        fprintf(stderr, "burn_bench: %s\n", burn_error());
    else
        status = run(be, device, (int)repeats, json, config ? config : "configs/tiny/burn.ini");
    burn_args_free(&a);
    return burn_dist_finalize(status);
}
