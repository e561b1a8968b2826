/* cmd_linear.c — `burn_gpu eval linear`: linear evaluation of a frozen backbone (METHOD.md §9),
 * top-1 / top-5 on the val split. The student with eval.linear_train_fc trains its FC + ReLU
 * and the classifier on images (src/eval/linear_eval.c, images path); otherwise the classifier
 * alone on features extracted once, or read from `burn_gpu extract` files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/eval.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/safetensors.h"

/* metadata `key` of a features file (a copy), or a copy of fallback */
static char *features_meta(const char *path, const char *key, const char *fallback) {
    burn_st_file st;
    if (burn_st_open(&st, path) != 0) return burn_xstrdup(fallback);
    const char *v = burn_st_meta(&st, key);
    char *out = burn_xstrdup(v ? v : fallback);
    burn_st_close(&st);
    return out;
}

static int write_json(const char *path, const char *backbone, const char *checkpoint,
                      int train_fc, int epochs, const burn_linear_result *r,
                      const char *dataset) {
    char *b = burn_json_quote(backbone), *c = burn_json_quote(checkpoint), *d = burn_json_quote(dataset);
    char *text = NULL;
    int len = asprintf(&text,
                       "{\"protocol\": \"linear\", \"backbone\": %s, \"checkpoint\": %s, "
                       "\"train_fc\": %s, \"epochs\": %d, \"top1\": %.6f, \"top5\": %.6f, "
                       "\"val_count\": %lld, \"train_loss\": %.6f, \"dataset\": %s}\n",
                       b, c, train_fc ? "true" : "false", epochs, r->top1, r->top5,
                       (long long)r->val_count, r->train_loss, d);
    int rc = len < 0 || burn_write_file_atomic(path, text, (size_t)len) != 0 ? -1 : 0;
    free(b), free(c), free(d), free(text);
    return rc;
}

int cmd_eval_linear(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--backbone", "student|teacher|pixels", "whose features (default student)", 0},
        {"--checkpoint", "PATH",
         "student weights: a checkpoint, a run directory, or 'random' (required for the "
         "student)", 0},
        {"--features-train", "FILE", "train features from burn_gpu extract (with "
                                     "--features-val: no model is run)", 0},
        {"--features-val", "FILE", "val features from burn_gpu extract", 0},
        {"--json", "FILE", "also write {\"protocol\": \"linear\", \"backbone\", \"checkpoint\", "
                           "\"train_fc\", \"epochs\", \"top1\", \"top5\", \"dataset\"} to FILE", 0},
        {NULL, NULL, NULL, 0},
    };
    const char *prog = "burn_gpu eval linear";
    burn_args a;
    int rc = burn_args_parse(
        &a, prog, "--config FILE [--backbone B] --checkpoint P | --features-train A --features-val B",
        "Linear evaluation (METHOD.md §9): a Linear(F -> classes) on the frozen backbone, SGD with "
        "momentum, LR x0.1 at eval.linear_milestones; top-1 and top-5 on the val split. The "
        "student with eval.linear_train_fc also trains its FC + ReLU on augmented images.",
        opts, 0, argc, argv);
    if (rc) return rc;
    const char *which_name, *ftrain = burn_arg(&a, "--features-train"),
                            *fval = burn_arg(&a, "--features-val");
    burn_config cfg;
    if ((rc = burn_arg_choice(&a, "--backbone", "student|teacher|pixels", "student",
                              &which_name))) {
        burn_args_free(&a);
        return rc;
    }
    if (!ftrain != !fval) {
        fprintf(stderr, "%s: --features-train and --features-val go together\n", prog);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    if (!ftrain && !burn_arg(&a, "--config")) {
        fprintf(stderr, "%s: --config is required (or --features-train and --features-val)\n",
                prog);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    burn_backbone which = which_name[0] == 's'   ? BURN_BACKBONE_STUDENT
                          : which_name[0] == 't' ? BURN_BACKBONE_TEACHER
                                                 : BURN_BACKBONE_PIXELS;
    const char *checkpoint = burn_arg(&a, "--checkpoint");
    if (!ftrain && which == BURN_BACKBONE_STUDENT && !checkpoint) {
        fprintf(stderr, "%s: the student needs --checkpoint (a checkpoint, a run directory, or "
                        "'random' for the untrained network)\n", prog);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    if ((rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    burn_linear_opts o;
    if (burn_linear_opts_from_config(&o, &cfg) != 0) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        burn_config_free(&cfg);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    int images = !ftrain && which == BURN_BACKBONE_STUDENT && cfg.eval_linear_train_fc;
    const burn_backend *be = burn_backend_select(cfg.run_device);
    burn_linear_result res;
    char *backbone = NULL, *ckpt_name = NULL;
    if (!be) {
        rc = BURN_EXIT_RUNTIME;
    } else if (images) {
        rc = burn_linear_train_images(&cfg, be, checkpoint, &o, &res, NULL, NULL) ? 1 : 0;
        backbone = burn_xstrdup(which_name);
        ckpt_name = burn_xstrdup(checkpoint);
    } else {
        burn_features f[2];
        if (ftrain) {
            rc = burn_features_load(&f[0], ftrain);
            if (rc == 0 && (rc = burn_features_load(&f[1], fval)) != 0) burn_features_free(&f[0]);
            backbone = features_meta(ftrain, "backbone", "unknown");
            ckpt_name = features_meta(ftrain, "checkpoint", "none");
        } else {
            static const char *const splits[] = {"train", "val"};
            rc = burn_eval_features(&cfg, be, which, checkpoint, splits, 2, f);
            backbone = burn_xstrdup(which_name);
            ckpt_name = burn_xstrdup(which == BURN_BACKBONE_STUDENT   ? checkpoint
                                     : which == BURN_BACKBONE_TEACHER ? cfg.teacher_checkpoint
                                                                      : "none");
        }
        if (rc == 0) {
            rc = burn_linear_train_features(be, &o, &f[0], &f[1], &res) ? 1 : 0;
            burn_features_free(&f[0]);
            burn_features_free(&f[1]);
        } else {
            rc = 1;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
    } else {
        printf("linear eval of the %s (%s, %d epochs, %s): top-1 %.2f%%  top-5 %.2f%% on %lld "
               "val images\n",
               backbone, ckpt_name, o.epochs, images ? "FC + classifier on images"
                                                     : "classifier on fixed features",
               100 * res.top1, 100 * res.top5, (long long)res.val_count);
        const char *json = burn_arg(&a, "--json");
        if (json && write_json(json, backbone, ckpt_name, images, o.epochs, &res,
                               burn_arg(&a, "--config") ? cfg.data_root : ftrain) != 0) {
            fprintf(stderr, "%s: %s\n", prog, burn_error());
            rc = 1;
        }
    }
    free(backbone), free(ckpt_name);
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
