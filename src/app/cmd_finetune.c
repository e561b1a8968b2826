/* cmd_finetune.c — `burn_gpu finetune`: semi-supervised fine-tuning of the whole binary network
 * on a labelled subset (METHOD.md §9), or, from `--checkpoint random --fraction 1`, the supervised
 * baseline (include/burn/finetune.h). Prints top-1/top-5 on the val split; --json writes
 * {"protocol": "finetune", "fraction", "checkpoint", "top1", "top5", ...}. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/fileio.h"
#include "burn/finetune.h"
#include "burn/log.h"

#define PROG "burn_gpu finetune"

static int write_json(const char *path, const burn_config *cfg, const burn_finetune_opts *o,
                      const burn_finetune_result *r) {
    /* with a list file, the share of the train split it names (ImageNet's 1% list: 0.01) */
    int from_list = *o->subset_list != 0;
    double share = from_list ? (double)r->labelled / (double)r->pool : o->fraction;
    char *ckpt = burn_json_quote(o->checkpoint), *dir = burn_json_quote(cfg->run_dir),
         *out = burn_json_quote(r->checkpoint_path),
         *list = from_list ? burn_json_quote(o->subset_list) : burn_xstrdup("null"), *text = NULL;
    int len = asprintf(&text,
                       "{\"protocol\": \"finetune\", \"fraction\": %.4g, \"subset_list\": %s, "
                       "\"checkpoint\": %s, \"labelled\": %lld, \"classes\": %d, \"epochs\": %lld, "
                       "\"optimizer\": \"%s\", \"top1\": %.6f, \"top5\": %.6f, \"run_dir\": %s, "
                       "\"output\": %s}\n",
                       share, list, ckpt, (long long)r->labelled, r->classes,
                       (long long)cfg->finetune_epochs, cfg->finetune_optimizer, r->top1, r->top5,
                       dir, out);
    if (len < 0) burn_error_set("%s: out of memory", path);
    int rc = len < 0 ? -1 : burn_write_file_atomic(path, text, (size_t)len);
    free(ckpt), free(list), free(dir), free(out), free(text);
    return rc;
}

int cmd_finetune(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--checkpoint", "PATH|random",
         "starting student: a BURN checkpoint or run directory, or 'random' (supervised "
         "baseline)", 0},
        {"--fraction", "F", "labelled share of the train split, class-balanced (overrides "
                            "finetune.fraction; 1 = every image)", 0},
        {"--subset-list", "FILE", "labelled images, one index or path per line (overrides "
                                  "finetune.subset_list and the fraction)", 0},
        {"--json", "FILE", "also write the result as one JSON object to FILE", 0},
        {"--overwrite", NULL, "replace the run in run.dir (its metrics and checkpoint)", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, PROG,
                             "--config FILE --checkpoint PATH|random [--fraction F | "
                             "--subset-list FILE] [--json OUT]",
                             "Fine-tune the whole binary network (student + a new linear "
                             "classifier) with labels on a class-balanced share of the train "
                             "split (METHOD.md §9: 1% or 10%) and report top-1/top-5 on the val "
                             "split. From --checkpoint random --fraction 1 it is the "
                             "supervised baseline. Hyper-parameters: [finetune]; student "
                             "+ classifier checkpoint, metrics.jsonl, config.ini in run.dir.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    burn_config cfg;
    if ((rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    if (cfg.log_quiet) burn_log_quiet = 1;
    burn_finetune_opts o = {burn_arg(&a, "--checkpoint"), cfg.finetune_fraction,
                            cfg.finetune_subset_list, burn_arg_flag(&a, "--overwrite")};
    const char *frac = burn_arg(&a, "--fraction"), *list = burn_arg(&a, "--subset-list");
    rc = BURN_EXIT_USAGE;
    if (frac) {
        char *end;
        errno = 0;
        o.fraction = strtod(frac, &end);
        if (end == frac || *end || errno || !(o.fraction > 0 && o.fraction <= 1)) {
            fprintf(stderr, "%s: --fraction %s: expected a share in (0, 1] (0.01 = 1%%)\n",
                    PROG, frac);
            goto out;
        }
    }
    if (frac && list) {
        fprintf(stderr, "%s: give --fraction or --subset-list, not both\n", PROG);
        goto out;
    }
    if (list) o.subset_list = list;
    if (frac) o.subset_list = ""; /* the command line's fraction beats the config's list */
    if (!o.checkpoint) {
        fprintf(stderr, "%s: --checkpoint is required: a BURN checkpoint or run directory, or "
                        "'random' for the supervised baseline\n", PROG);
        goto out;
    }
    if (burn_world_size > 1) { /* every rank would train its own copy and write the same files */
        fprintf(stderr, "%s: fine-tuning runs in one process; start it without mpirun (this "
                        "job has %d ranks)\n", PROG, burn_world_size);
        goto out;
    }
    const burn_backend *be = burn_backend_select(cfg.run_device);
    if (!be) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        goto out;
    }
    burn_finetune_result r;
    rc = burn_finetune(&cfg, be, &o, &r);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
    } else {
        printf("fine-tuned from %s on %lld of %lld training images (%s): top-1 %.2f%%, "
               "top-5 %.2f%%\n", o.checkpoint, (long long)r.labelled, (long long)r.pool,
               *o.subset_list ? o.subset_list : "class-balanced", 100 * r.top1, 100 * r.top5);
        const char *json = burn_arg(&a, "--json");
        if (json && write_json(json, &cfg, &o, &r) != 0) {
            fprintf(stderr, "%s: %s\n", PROG, burn_error());
            rc = BURN_EXIT_RUNTIME;
        }
    }
    burn_finetune_result_free(&r);
out:
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
