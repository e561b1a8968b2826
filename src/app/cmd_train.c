/* cmd_train.c — `burn_gpu train` (one stage) and `burn_gpu pipeline` (stage 1, then stage 2
 * initialised from stage 1's student and both heads, METHOD.md §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/log.h"
#include "burn/ssl.h"
#include "burn/train.h"

static const burn_backend *pick_backend(const burn_config *cfg, const char *prog) {
    const burn_backend *be = burn_backend_select(cfg->run_device);
    if (!be) fprintf(stderr, "%s: %s\n", prog, burn_error());
    return be;
}

/* train.method: BURN (src/train/train.c) or a baseline on the binary student (src/train/train_ssl.c) */
static int train_method(const burn_config *cfg, const burn_backend *be, burn_run_mode mode,
                        burn_train_result *res) {
    return strcmp(cfg->train_method, "burn") == 0 ? burn_train(cfg, be, mode, res)
                                                  : burn_ssl_train(cfg, be, mode, res);
}

int cmd_train(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        BURN_RUN_DIR_OPTS,
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu train",
                             "--config FILE [--set K=V ...] [--resume | --overwrite]",
                             "Train one BURN stage (METHOD.md §4-6): the binary student and both "
                             "heads against the frozen teacher (train.method = byol|moco: that "
                             "baseline on the student instead). Progress on stdout, metrics in "
                             "run.dir/metrics.jsonl, checkpoints in run.dir.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    int mode = burn_args_run_mode(&a);
    if (mode < 0) {
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    burn_config cfg;
    if ((rc = burn_args_config(&a, &cfg)) == 0) {
        const burn_backend *be = pick_backend(&cfg, "burn_gpu train");
        burn_train_result res;
        rc = be ? train_method(&cfg, be, (burn_run_mode)mode, &res) : 1;
        if (be) free(res.final_checkpoint);
    }
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}

int cmd_pipeline(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--stage1", "FILE", "stage-1 config (binary activations)", 0},
        {"--stage2", "FILE", "stage-2 config (binary weights); train.init_from is set to stage "
                             "1's final checkpoint (train.method may be byol|moco too)", 0},
        {"--set", "SECTION.KEY=VALUE", "override a key in both stages (repeatable)", 1},
        {"--device", "auto|cpu|cuda", "backend (overrides run.device)", 0},
        {"--overwrite", NULL, "replace the runs in both stages' run.dir", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu pipeline",
                             "--stage1 FILE --stage2 FILE [--set K=V ...] [--overwrite]",
                             "Run BURN stage 1, then stage 2 initialised from stage 1's "
                             "student, student head and teacher head (METHOD.md §5).",
                             opts, 0, argc, argv);
    if (rc) return rc;
    const char *files[2] = {burn_arg(&a, "--stage1"), burn_arg(&a, "--stage2")};
    if (!files[0] || !files[1]) {
        fprintf(stderr, "burn_gpu pipeline: --stage1 and --stage2 are both required\n");
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    burn_config cfg[2];
    int loaded = 0;
    for (int s = 0; s < 2 && rc == 0; s++) {
        /* the same option parsing as every command: defaults, file, --set, --device */
        burn_args one = a;
        const char *names[64], *values[64];
        int n = 0;
        names[n] = "--config";
        values[n++] = files[s];
        for (int i = 0; i < a.n && n < 63; i++)
            if (strcmp(a.names[i], "--set") == 0 || strcmp(a.names[i], "--device") == 0) {
                names[n] = a.names[i];
                values[n++] = a.values[i];
            }
        one.n = n;
        one.names = names;
        one.values = values;
        rc = burn_args_config(&one, &cfg[s]);
        loaded = s + 1;
    }
    if (rc == 0 && (cfg[0].model_stage != 1 || cfg[1].model_stage != 2)) {
        fprintf(stderr, "burn_gpu pipeline: --stage1 needs model.stage = 1 and --stage2 "
                        "model.stage = 2 (got %d and %d)\n",
                (int)cfg[0].model_stage, (int)cfg[1].model_stage);
        rc = BURN_EXIT_USAGE;
    }
    if (rc == 0 && strcmp(cfg[0].run_dir, cfg[1].run_dir) == 0) {
        fprintf(stderr, "burn_gpu pipeline: both stages use run.dir %s; give each its own\n",
                cfg[0].run_dir);
        rc = BURN_EXIT_USAGE;
    }
    const burn_backend *be = rc == 0 ? pick_backend(&cfg[0], "burn_gpu pipeline") : NULL;
    if (rc == 0 && !be) rc = 1;
    burn_train_result res = {0};
    burn_run_mode mode = burn_arg_flag(&a, "--overwrite") ? BURN_RUN_OVERWRITE : BURN_RUN_NEW;
    if (rc == 0) rc = train_method(&cfg[0], be, mode, &res);
    if (rc == 0) {
        free(cfg[1].train_init_from);
        cfg[1].train_init_from = burn_xstrdup(res.final_checkpoint);
        free(res.final_checkpoint);
        res.final_checkpoint = NULL;
        rc = train_method(&cfg[1], be, mode, &res);
    }
    free(res.final_checkpoint);
    for (int s = 0; s < loaded; s++) burn_config_free(&cfg[s]);
    burn_args_free(&a);
    return rc;
}
