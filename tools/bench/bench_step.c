/* bench_step.c — `burn_bench step`: one whole BURN training update as `burn_gpu train` runs it
 * (METHOD.md §4: teacher forwards of both views, student forwards, both heads and the fused
 * loss, student backwards, Adam over every trainable parameter) on synthetic inputs, at the
 * shapes of a config (model, teacher, heads, train.batch_size, data.image_size). Reports
 * images per second (one image = its two views), ms per phase (train.profile's phases plus
 * Adam), and the process's peak resident memory. tools/bench/step_vs_torch.sh runs it side by
 * side with the PyTorch eager step of tools/bench/torch_step.py. The teacher backbone keeps
 * its random initialisation unless teacher.checkpoint names a file that exists: the time of a
 * step does not depend on the weights' values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "burn/burn.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/log.h"
#include "burn/optim.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int bench_step(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--steps", "N", "timed updates; medians are reported (default 10)", 0},
        {"--warmup", "N", "untimed updates first (default 2)", 0},
        {"--json", NULL, "print one JSON object", 0},
        {NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(
        &a, "burn_bench step", "--config FILE [--set K=V ...] [--device cpu|cuda] [--steps N] [--json]",
        "One BURN training update (both views, teacher, student, heads, loss, backward, Adam) at\n"
        "the config's shapes on synthetic inputs: img/s, ms per phase, peak memory.",
        opts, 0, argc, argv);
    if (rc) return rc;
    int64_t steps, warmup;
    if ((rc = burn_arg_int(&a, "--steps", 1, 100000, 10, &steps)) ||
        (rc = burn_arg_int(&a, "--warmup", 0, 100000, 2, &warmup))) {
        burn_args_free(&a);
        return rc;
    }
    int json = burn_arg_flag(&a, "--json");
    burn_config cfg;
    if ((rc = burn_args_config(&a, &cfg)) != 0) {
        burn_args_free(&a);
        return rc;
    }
    burn_log_quiet = 1;
    const burn_backend *be = burn_backend_select(cfg.run_device);
    int N = (int)cfg.train_batch_size, S = (int)cfg.data_image_size;
    burn_model m;
    if (!be || burn_model_init(&m, &cfg, be, N) != 0) {
        fprintf(stderr, "burn_bench step: %s\n", burn_error());
        burn_config_free(&cfg);
        burn_args_free(&a);
        return 2;
    }
    if (*cfg.teacher_checkpoint && access(cfg.teacher_checkpoint, R_OK) == 0 &&
        burn_model_load_teacher(&m, cfg.teacher_checkpoint) != 0) {
        fprintf(stderr, "burn_bench step: %s\n", burn_error());
        rc = 2;
        goto done;
    }
    burn_model_set_profile(&m, 1);
    int64_t T = m.params.trainable, px = (int64_t)N * 3 * S * S;
    float *v1 = be->alloc((size_t)px * 4), *v2 = be->alloc((size_t)px * 4);
    float *am = be->alloc((size_t)T * 4), *av = be->alloc((size_t)T * 4);
    be->uniform(v1, px, 11, 0, -2, 2);
    be->uniform(v2, px, 12, 0, -2, 2);
    be->fill(am, 0, T);
    be->fill(av, 0, T);
    double *total = malloc(sizeof(double) * (size_t)steps);
    double *phase[BURN_PHASES + 1];
    for (int p = 0; p <= BURN_PHASES; p++) phase[p] = malloc(sizeof(double) * (size_t)steps);
    double loss = NAN;
    for (int64_t u = 0; u < warmup + steps && rc == 0; u++) {
        for (int p = 0; p < BURN_PHASES; p++) m.phase_seconds[p] = 0;
        be->synchronize();
        double t0 = burn_now();
        be->fill(m.params.grad, 0.0f, T);
        burn_step_stats st;
        if (burn_model_step(&m, v1, v2, 0.8f, &st) != 0) {
            fprintf(stderr, "burn_bench step: %s\n", burn_error());
            rc = 1;
            break;
        }
        double t1 = burn_now();
        burn_adam_hparams h = {(float)cfg.train_lr, (float)cfg.train_beta1, (float)cfg.train_beta2,
                               (float)cfg.train_eps, (float)cfg.train_weight_decay, 1.0f, 0, 0};
        burn_adam_prepare(&h, u + 1);
        be->adam_step(m.params.data, m.params.grad, am, av, T, h);
        be->synchronize();
        double t2 = burn_now();
        if (u == 0) loss = st.loss;
        if (!isfinite(st.loss)) {
            fprintf(stderr, "burn_bench step: non-finite loss %g at update %lld\n", st.loss,
                    (long long)u);
            rc = 1;
        }
        if (u < warmup) continue;
        total[u - warmup] = t2 - t0;
        for (int p = 0; p < BURN_PHASES; p++) phase[p][u - warmup] = m.phase_seconds[p];
        phase[BURN_PHASES][u - warmup] = t2 - t1;
    }
    if (rc == 0) {
        static const char *const names[BURN_PHASES + 1] = {"teacher", "student_fwd", "heads",
                                                            "student_bwd", "adam"};
        double ms[BURN_PHASES + 1], step_s = median(total, (int)steps);
        for (int p = 0; p <= BURN_PHASES; p++) ms[p] = 1e3 * median(phase[p], (int)steps);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double rss_mb = (double)ru.ru_maxrss / 1024.0, img_s = N / step_s;
        if (json) {
            printf("{\"bench\": \"step\", \"program\": \"burn\", \"device\": \"%s\", "
                   "\"stage\": %d, \"batch\": %d, \"image_size\": %d, \"img_per_s\": %.4g, "
                   "\"ms_per_step\": %.4g, \"first_loss\": %.6g, \"peak_rss_mb\": %.1f, \"ms\": {",
                   be->name, (int)cfg.model_stage, N, S, img_s, 1e3 * step_s, loss, rss_mb);
            for (int p = 0; p <= BURN_PHASES; p++)
                printf("%s\"%s\": %.4g", p ? ", " : "", names[p], ms[p]);
            printf("}}\n");
        } else {
            printf("burn step, %s, stage %d, batch %d at %dx%d: %.1f img/s, %.1f ms per update "
                   "(median of %lld), peak RSS %.0f MB\n",
                   be->name, (int)cfg.model_stage, N, S, S, img_s, 1e3 * step_s,
                   (long long)steps, rss_mb);
            for (int p = 0; p <= BURN_PHASES; p++) printf("  %-12s %8.1f ms\n", names[p], ms[p]);
        }
    }
    free(total);
    for (int p = 0; p <= BURN_PHASES; p++) free(phase[p]);
    be->free(v1), be->free(v2), be->free(am), be->free(av);
done:
    burn_model_free(&m);
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
