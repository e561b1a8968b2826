/* cmd_extract.c — `burn_gpu extract`: the features of one split through the student, the
 * teacher or as raw pixels (evaluation transform, dataset order), saved as safetensors for
 * `eval linear --features-train/--features-val` and the SVMs (src/eval/features_io.c format). */
#include <stdio.h>
#include <string.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/eval.h"
#include "burn/log.h"

int cmd_extract(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--backbone", "student|teacher|pixels", "whose features (default student)", 0},
        {"--checkpoint", "PATH",
         "student weights: a checkpoint, a run directory, or 'random' (required for the "
         "student)", 0},
        {"--split", "train|val", "which split of [data] (default train)", 0},
        {"--out", "FILE", "output .safetensors: features [count, dim] F32, labels [count] I32", 0},
        {NULL, NULL, NULL, 0},
    };
    const char *prog = "burn_gpu extract";
    burn_args a;
    int rc = burn_args_parse(&a, prog,
                             "--config FILE --backbone B [--checkpoint P] --split S --out FILE",
                             "Features of every image of a split (evaluation transform, dataset "
                             "order) with their labels, for eval linear/svm on saved features.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    const char *which_name, *split, *out = burn_arg(&a, "--out"),
                            *checkpoint = burn_arg(&a, "--checkpoint");
    if ((rc = burn_arg_choice(&a, "--backbone", "student|teacher|pixels", "student",
                              &which_name)) ||
        (rc = burn_arg_choice(&a, "--split", "train|val", "train", &split))) {
        burn_args_free(&a);
        return rc;
    }
    const char *missing = !burn_arg(&a, "--config") ? "--config FILE"
                          : !out                    ? "--out FILE"
                          : which_name[0] == 's' && !checkpoint
                              ? "--checkpoint (the student's weights, or 'random')"
                              : NULL;
    if (missing) {
        fprintf(stderr, "%s: %s is required (see --help)\n", prog, missing);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    burn_config cfg;
    if ((rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    burn_backbone which = which_name[0] == 's'   ? BURN_BACKBONE_STUDENT
                          : which_name[0] == 't' ? BURN_BACKBONE_TEACHER
                                                 : BURN_BACKBONE_PIXELS;
    const burn_backend *be = burn_backend_select(cfg.run_device);
    burn_features f;
    const char *splits[1] = {split};
    rc = !be || burn_eval_features(&cfg, be, which, checkpoint, splits, 1, &f) != 0;
    if (!rc) {
        const char *source = which == BURN_BACKBONE_STUDENT   ? checkpoint
                             : which == BURN_BACKBONE_TEACHER ? cfg.teacher_checkpoint
                                                              : NULL;
        rc = burn_features_save(&f, out, which_name, split, source) != 0;
        if (!rc)
            printf("%s features of %lld %s images (%d-d, %d classes) -> %s\n", which_name,
                   (long long)f.count, split, f.dim, f.num_classes, out);
        burn_features_free(&f);
    }
    if (rc) fprintf(stderr, "%s: %s\n", prog, burn_error());
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc ? BURN_EXIT_RUNTIME : 0;
}
