/* cmd_svm.c — `burn_gpu eval svm`: linear SVMs on a backbone's frozen features (src/eval/svm.c),
 * full-shot and few-shot, VOC07 mAP and accuracy per k, as a table and as JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/eval.h"
#include "burn/fileio.h"
#include "burn/log.h"

/* "1,2,full" -> shots (0 for "full" or "0"). 0, or -1 with burn_error(). */
static int parse_shots(const char *text, int **out, int *n) {
    char *copy = burn_xstrdup(text), *save = NULL;
    int *v = burn_xmalloc(sizeof(int) * (strlen(text) / 2 + 2));
    int count = 0, rc = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *end;
        long k = strcmp(tok, "full") == 0 ? 0 : strtol(tok, &end, 10);
        if (strcmp(tok, "full") != 0 && (*end || k < 0 || k > 1000000)) {
            burn_error_set("eval.svm_shots: '%s' is not a count of images per class or 'full'",
                           tok);
            rc = -1;
            break;
        }
        v[count++] = (int)k;
    }
    if (rc == 0 && count == 0) {
        burn_error_set("eval.svm_shots is empty (e.g. \"1,2,4,8,16,32,64,96,full\")");
        rc = -1;
    }
    free(copy);
    if (rc) free(v);
    else *out = v, *n = count;
    return rc;
}

/* "0.5,1,2" -> costs. 0, or -1 with burn_error(). */
static int parse_costs(const char *text, double **out, int *n) {
    char *copy = burn_xstrdup(text), *save = NULL;
    double *v = burn_xmalloc(sizeof(double) * (strlen(text) / 2 + 2));
    int count = 0, rc = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *end;
        double c = strtod(tok, &end);
        if (*end || !(c > 0) || !isfinite(c)) {
            burn_error_set("eval.svm_costs: '%s' is not a positive number", tok);
            rc = -1;
            break;
        }
        v[count++] = c;
    }
    if (rc == 0 && count == 0) {
        burn_error_set("eval.svm_costs is empty (e.g. \"0.03125,...,32\")");
        rc = -1;
    }
    free(copy);
    if (rc) free(v);
    else *out = v, *n = count;
    return rc;
}

/* Train and val features of one backbone (as `eval knn` gets them). Exit code, burn_error set. */
static int backbone_features(const burn_config *cfg, const burn_backend *be, burn_backbone which,
                             const char *checkpoint, burn_features *train, burn_features *val) {
    burn_model m;
    int have_model = which != BURN_BACKBONE_PIXELS;
    if (have_model) {
        if (which == BURN_BACKBONE_STUDENT && !checkpoint) {
            burn_error_set("the student needs --checkpoint (a checkpoint, a run directory, or "
                           "'random' for the untrained network)");
            return 2;
        }
        if (burn_model_init(&m, cfg, be, (int)cfg->eval_batch_size) != 0) return 2;
        static const char *const student[] = {"student.", NULL};
        int bad = which == BURN_BACKBONE_TEACHER
                      ? burn_model_load_teacher(&m, cfg->teacher_checkpoint)
                      : strcmp(checkpoint, "random") != 0 &&
                            burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", checkpoint, cfg, 0},
                                                &m.params, student) != 0;
        if (bad) {
            burn_model_free(&m);
            return 2;
        }
    }
    int rc = burn_extract(cfg, have_model ? &m : NULL, which, "train", train);
    if (rc == 0) {
        rc = burn_extract(cfg, have_model ? &m : NULL, which, "val", val);
        if (rc != 0) burn_features_free(train);
    }
    if (have_model) burn_model_free(&m);
    return rc != 0 ? 1 : 0;
}

static void shots_name(int shots, char *buf, size_t len) {
    if (shots > 0) snprintf(buf, len, "%d", shots);
    else snprintf(buf, len, "full");
}

int cmd_eval_svm(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--backbone", "student|teacher|pixels", "whose features (default student)", 0},
        {"--checkpoint", "PATH", "student weights: checkpoint, run directory, or 'random'", 0},
        {"--features-train", "FILE", "saved train features (burn_gpu extract) instead of a "
                                     "backbone; needs --features-val", 0},
        {"--features-val", "FILE", "saved val features (burn_gpu extract)", 0},
        {"--json", "FILE", "also write {\"protocol\": \"svm\", \"backbone\", \"checkpoint\", "
                           "\"rows\": [{\"shots\", \"map_mean\", \"map_std\", \"acc_mean\", "
                           "\"acc_std\", \"cost\"}]} to FILE (shots 0: full)", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(
        &a, "burn_gpu eval svm",
        "--config FILE [--backbone B] [--checkpoint P | --features-train F --features-val F] "
        "[--json OUT]",
        "Linear SVMs on frozen, L2-normalised features (VOC07 protocol): one-vs-rest "
        "L2-regularised L2-loss SVCs (liblinear), the cost cross-validated by mean AP "
        "(eval.svm_costs, eval.svm_folds), for each k of eval.svm_shots images per class "
        "(eval.svm_draws class-balanced draws from run.seed; full = every image). Prints mAP "
        "(11-point AP per class, averaged) and accuracy on the val split, mean +- std.",
        opts, 0, argc, argv);
    if (rc) return rc;
    const char *which_name;
    burn_config cfg;
    if ((rc = burn_arg_choice(&a, "--backbone", "student|teacher|pixels", "student",
                              &which_name)) ||
        (rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    int *shots = NULL, nshots = 0, ncosts = 0;
    double *costs = NULL;
    if (parse_shots(cfg.eval_svm_shots, &shots, &nshots) != 0 ||
        parse_costs(cfg.eval_svm_costs, &costs, &ncosts) != 0) {
        fprintf(stderr, "burn_gpu eval svm: %s\n", burn_error());
        free(shots);
        burn_config_free(&cfg);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    burn_backbone which = which_name[0] == 's'   ? BURN_BACKBONE_STUDENT
                          : which_name[0] == 't' ? BURN_BACKBONE_TEACHER
                                                 : BURN_BACKBONE_PIXELS;
    const char *checkpoint = burn_arg(&a, "--checkpoint");
    const char *ftrain = burn_arg(&a, "--features-train"), *fval = burn_arg(&a, "--features-val");
    if (!ftrain != !fval) {
        fprintf(stderr, "burn_gpu eval svm: --features-train and --features-val go together (see "
                        "burn_gpu eval svm --help)\n");
        free(shots), free(costs);
        burn_config_free(&cfg);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    /* saved features: the JSON names them "features" (unless --backbone says whose) */
    if (ftrain && !burn_arg(&a, "--backbone")) which_name = "features";
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    burn_svm_opts o = {.costs = costs, .ncosts = ncosts, .folds = (int)cfg.eval_svm_folds,
                       .draws = (int)cfg.eval_svm_draws, .pos_weight = cfg.eval_svm_pos_weight,
                       .seed = (uint64_t)cfg.run_seed,
                       .threads = cfg.eval_svm_threads > 0 ? (int)cfg.eval_svm_threads
                                                           : (int)(cores > 0 ? cores : 1)};
    burn_features train = {0}, val = {0};
    /* the --json directory first: a missing one should not cost a whole evaluation */
    const char *json = burn_arg(&a, "--json");
    char *json_dir = json ? burn_xstrdup(json) : NULL;
    char *slash = json_dir ? strrchr(json_dir, '/') : NULL;
    if (slash && slash != json_dir) {
        *slash = 0;
        if (burn_mkdirs(json_dir) != 0) {
            fprintf(stderr, "burn_gpu eval svm: %s\n", burn_error());
            free(json_dir), free(shots), free(costs);
            burn_config_free(&cfg);
            burn_args_free(&a);
            return BURN_EXIT_RUNTIME;
        }
    }
    free(json_dir);
    if (ftrain) {
        rc = burn_features_load(&train, ftrain) != 0 || burn_features_load(&val, fval) != 0;
    } else {
        const burn_backend *be = burn_backend_select(cfg.run_device);
        rc = be ? backbone_features(&cfg, be, which, checkpoint, &train, &val) : 1;
    }
    if (rc == 0) { /* every k is possible before the first SVM trains (not after k = 1 .. 32) */
        int64_t *count = burn_xcalloc((size_t)train.num_classes + 1, sizeof(int64_t));
        for (int64_t i = 0; i < train.count; i++)
            if (train.labels[i] >= 0 && train.labels[i] < train.num_classes)
                count[train.labels[i]]++;
        for (int r = 0; r < nshots && rc == 0; r++)
            for (int c = 0; c < train.num_classes && rc == 0; c++)
                if (shots[r] > count[c]) {
                    burn_error_set("eval.svm_shots: %d images per class, but class %d has only "
                                   "%lld in the training split", shots[r], c, (long long)count[c]);
                    rc = 2;
                }
        free(count);
    }
    burn_svm_row *rows = burn_xcalloc((size_t)nshots, sizeof(burn_svm_row));
    if (rc == 0) {
        printf("linear SVMs on %s features (%lld train, %lld val, dim %d, %d classes)\n",
               which_name, (long long)train.count, (long long)val.count, train.dim,
               train.num_classes);
        printf("%6s  %16s  %16s  %8s\n", "k", "mAP %", "accuracy %", "cost");
        /* one k at a time, so each row shows as soon as it is done */
        for (int r = 0; r < nshots && rc == 0; r++) {
            if (burn_svm_evaluate(&train, &val, &shots[r], 1, &o, &rows[r]) != 0) {
                rc = 1;
                break;
            }
            char k[16];
            shots_name(shots[r], k, sizeof k);
            printf("%6s  %7.2f +- %5.2f  %7.2f +- %5.2f  %8g\n", k, 100 * rows[r].map_mean,
                   100 * rows[r].map_std, 100 * rows[r].acc_mean, 100 * rows[r].acc_std,
                   rows[r].cost);
            fflush(stdout);
        }
        /* a cost at the end of the grid says the best one may lie beyond it */
        double lo = costs[0], hi = costs[0];
        for (int i = 1; i < ncosts; i++) {
            if (costs[i] < lo) lo = costs[i];
            if (costs[i] > hi) hi = costs[i];
        }
        for (int r = 0; rc == 0 && r < nshots && ncosts > 1; r++)
            if (rows[r].cost == lo || rows[r].cost == hi) {
                printf("note: a cross-validated cost is at the end of eval.svm_costs (%g..%g); "
                       "a wider grid may score higher\n", lo, hi);
                break;
            }
    }
    if (rc != 0) fprintf(stderr, "burn_gpu eval svm: %s\n", burn_error());
    if (rc == 0 && json) {
        const char *ck = ftrain                          ? ftrain
                         : which == BURN_BACKBONE_TEACHER ? cfg.teacher_checkpoint
                         : which == BURN_BACKBONE_PIXELS  ? "none"
                                                          : checkpoint;
        char *esc = burn_json_quote(ck);
        size_t cap = 256 + strlen(esc) + 200 * (size_t)nshots, len = 0;
        char *text = burn_xmalloc(cap);
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"protocol\": \"svm\", \"backbone\": \"%s\", \"checkpoint\": "
                                "%s, \"draws\": %d, \"folds\": %d, \"rows\": [",
                                which_name, esc, o.draws, o.folds);
        for (int r = 0; r < nshots; r++)
            len += (size_t)snprintf(text + len, cap - len,
                                    "%s{\"shots\": %d, \"map_mean\": %.6f, \"map_std\": %.6f, "
                                    "\"acc_mean\": %.6f, \"acc_std\": %.6f, \"cost\": %g}",
                                    r ? ", " : "", rows[r].shots, rows[r].map_mean,
                                    rows[r].map_std, rows[r].acc_mean, rows[r].acc_std,
                                    rows[r].cost);
        len += (size_t)snprintf(text + len, cap - len, "]}\n");
        if (burn_write_file_atomic(json, text, len) != 0) {
            fprintf(stderr, "burn_gpu eval svm: %s\n", burn_error());
            rc = 1;
        }
        free(text);
        free(esc);
    }
    burn_features_free(&train);
    burn_features_free(&val);
    free(rows);
    free(shots);
    free(costs);
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
