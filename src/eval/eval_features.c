/* eval_features.c — features of the student, the teacher or the raw pixels over one or more
 * splits, through one model built from the config (linear evaluation, `burn_gpu extract`). */
#include <string.h>

#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/eval.h"

int burn_eval_features(const burn_config *cfg, const burn_backend *be, burn_backbone which,
                       const char *checkpoint, const char *const *splits, int n,
                       burn_features *out) {
    for (int i = 0; i < n; i++) memset(&out[i], 0, sizeof out[i]);
    if (which == BURN_BACKBONE_STUDENT && (!checkpoint || !*checkpoint)) {
        burn_error_set("the student needs --checkpoint (a checkpoint, a run directory, or "
                       "'random' for the untrained network)");
        return -1;
    }
    burn_model m;
    int have_model = which != BURN_BACKBONE_PIXELS;
    if (have_model) {
        if (burn_model_init(&m, cfg, be, (int)cfg->eval_batch_size) != 0) return -1;
        static const char *const student[] = {"student.", NULL};
        int rc = 0;
        if (which == BURN_BACKBONE_TEACHER)
            rc = burn_model_load_teacher(&m, cfg->teacher_checkpoint);
        else if (strcmp(checkpoint, "random") != 0)
            rc = burn_ckpt_init_from(&(burn_ckpt_source){"--checkpoint", checkpoint, cfg, 0},
                                     &m.params, student);
        if (rc != 0) {
            burn_model_free(&m);
            return -1;
        }
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = burn_extract(cfg, have_model ? &m : NULL, which, splits[i], &out[i]);
    if (have_model) burn_model_free(&m);
    if (rc != 0)
        for (int i = 0; i < n; i++) burn_features_free(&out[i]);
    return rc;
}
