/* cmd_eval.c — `burn_gpu eval knn`: weighted k-NN top-1 of a backbone's frozen features
 * (train split = the memory bank, val split = the queries). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/eval.h"
#include "burn/fileio.h"
#include "burn/log.h"

/* k-NN top-1 of one backbone; checkpoint: a BURN checkpoint/run dir for the student, "random"
 * for its initial weights; ignored for the teacher (teacher.checkpoint) and pixels. */
int burn_eval_knn(const burn_config *cfg, const burn_backend *be, burn_backbone which,
                  const char *checkpoint, double *top1) {
    burn_model m;
    int have_model = which != BURN_BACKBONE_PIXELS;
    if (have_model) {
        if (burn_model_init(&m, cfg, be, (int)cfg->eval_batch_size) != 0) return 2;
        if (which == BURN_BACKBONE_TEACHER &&
            burn_model_load_teacher(&m, cfg->teacher_checkpoint) != 0) {
            burn_model_free(&m);
            return 2;
        }
        static const char *const student[] = {"student.", NULL};
        if (which == BURN_BACKBONE_STUDENT) {
            if (!checkpoint) {
                burn_error_set("the student needs --checkpoint (a checkpoint, a run directory, "
                               "or 'random' for the untrained network)");
                burn_model_free(&m);
                return 2;
            }
            if (strcmp(checkpoint, "random") != 0 &&
                burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", checkpoint, cfg, 0},
                                    &m.params, student) != 0) {
                burn_model_free(&m);
                return 2;
            }
        }
    }
    burn_features bank, queries;
    int rc = burn_extract(cfg, have_model ? &m : NULL, which, "train", &bank);
    if (rc == 0) {
        rc = burn_extract(cfg, have_model ? &m : NULL, which, "val", &queries);
        if (rc != 0) burn_features_free(&bank);
    }
    if (have_model) burn_model_free(&m);
    if (rc != 0) return 1;
    *top1 = burn_knn_top1(be, &bank, &queries, (int)cfg->eval_knn_k, cfg->eval_knn_temperature);
    burn_features_free(&bank);
    burn_features_free(&queries);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    /* protocols with options of their own parse their arguments themselves */
    if (argc > 0 && strcmp(argv[0], "svm") == 0) return cmd_eval_svm(argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "linear") == 0) return cmd_eval_linear(argc - 1, argv + 1);
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--backbone", "student|teacher|pixels", "whose features (default student)", 0},
        {"--checkpoint", "PATH", "student weights: checkpoint, run directory, or 'random'", 0},
        {"--json", "FILE", "also write {\"protocol\", \"backbone\", \"checkpoint\", \"k\", "
                           "\"temperature\", \"top1\"} to FILE", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu eval", "knn --config FILE [--backbone B] [--checkpoint P]",
                             "Evaluate frozen features. Protocols: knn (weighted k-NN top-1 on "
                             "L2-normalised features; eval.knn_k, eval.knn_temperature); svm "
                             "(linear SVMs, VOC07 mAP, full- and few-shot: burn_gpu eval svm "
                             "--help); linear (METHOD.md §9 linear evaluation, top-1/top-5: burn_gpu eval "
                             "linear --help).",
                             opts, 1, argc, argv);
    if (rc) return rc;
    if (a.npositional != 1 || strcmp(a.positional[0], "knn") != 0) {
        fprintf(stderr, "burn_gpu eval: name a protocol: knn, svm, linear (see burn_gpu eval --help)\n");
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    const char *which_name;
    burn_config cfg;
    if ((rc = burn_arg_choice(&a, "--backbone", "student|teacher|pixels", "student", &which_name)) ||
        (rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    burn_backbone which = which_name[0] == 's'   ? BURN_BACKBONE_STUDENT
                          : which_name[0] == 't' ? BURN_BACKBONE_TEACHER
                                                 : BURN_BACKBONE_PIXELS;
    const burn_backend *be = burn_backend_select(cfg.run_device);
    double top1 = 0;
    rc = be ? burn_eval_knn(&cfg, be, which, burn_arg(&a, "--checkpoint"), &top1) : 1;
    if (rc != 0) {
        fprintf(stderr, "burn_gpu eval knn: %s\n", burn_error());
    } else {
        printf("k-NN top-1 (k=%d, T=%g) of the %s: %.2f%%\n", (int)cfg.eval_knn_k,
               cfg.eval_knn_temperature, which_name, 100 * top1);
        const char *json = burn_arg(&a, "--json");
        if (json) {
            const char *ck = which == BURN_BACKBONE_TEACHER ? cfg.teacher_checkpoint
                             : which == BURN_BACKBONE_PIXELS  ? "none"
                                                              : burn_arg(&a, "--checkpoint");
            char *text = NULL, *ckq = burn_json_quote(ck ? ck : "none");
            int len = asprintf(&text,
                               "{\"protocol\": \"knn\", \"backbone\": \"%s\", \"checkpoint\": "
                               "%s, \"k\": %d, \"temperature\": %g, \"top1\": %.6f}\n",
                               which_name, ckq, (int)cfg.eval_knn_k, cfg.eval_knn_temperature,
                               top1);
            free(ckq);
            if (len < 0 || burn_write_file_atomic(json, text, (size_t)len) != 0) {
                fprintf(stderr, "burn_gpu eval knn: %s\n", burn_error());
                rc = 1;
            }
            free(text);
        }
    }
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
