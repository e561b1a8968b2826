/* s2bnn_head.c — the S2-BNN baseline's piece of the BURN trainer (teacher.head_init): the
 * teacher head g_θ starts from a pretrained classifier instead of random weights. With
 * teacher.head_trainable = false (eval-mode BN, no Adam on it) and λ = 0 this is S2-BNN's
 * KL to a frozen pretrained teacher distribution; include/burn/burn.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/log.h"
#include "burn/safetensors.h"
#include "burn/ssl.h"

#define HEAD_PREFIX "teacher_head."

int burn_model_init_teacher_head(burn_model *m, const char *path) {
    if (!path || !*path) {
        burn_error_set("teacher.head_init: empty path");
        return -1;
    }
    struct stat sb;
    char *file = NULL;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        file = burn_ckpt_find_latest(path);
        if (!file) {
            burn_error_set("teacher.head_init: no checkpoint in directory %s", path);
            return -1;
        }
    } else {
        file = burn_xstrdup(path);
    }
    burn_st_file f;
    if (burn_st_open(&f, file) != 0) {
        char *why = burn_xstrdup(burn_error());
        burn_error_set("teacher.head_init: %s", why);
        free(why);
        free(file);
        return -1;
    }
    /* check and read everything on the host; upload only when every tensor is right */
    const burn_params *ps = &m->params;
    float *host = burn_xmalloc((size_t)(ps->total ? ps->total : 1) * sizeof(float));
    burn_params_download(ps, host);
    int rc = 0, loaded = 0;
    for (int i = 0; i < ps->n && rc == 0; i++) {
        const burn_param *p = &ps->p[i];
        if (strncmp(p->name, HEAD_PREFIX, strlen(HEAD_PREFIX)) != 0) continue;
        const burn_st_tensor *t = burn_st_find(&f, p->name);
        int same = t && t->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++) same = t->shape[d] == p->shape[d];
        if (!same) {
            burn_error_set("teacher.head_init %s: tensor '%s' is %s (the head must have this "
                           "config's teacher width and head.hidden/head.out)",
                           file, p->name, t ? "of another shape" : "missing");
            rc = -1;
            break;
        }
        rc = burn_st_read_f32(&f, p->name, host + p->offset, p->numel);
        loaded++;
    }
    if (rc == 0 && loaded == 0) {
        burn_error_set("teacher.head_init: this model has no teacher head");
        rc = -1;
    }
    if (rc == 0) {
        ps->be->upload(ps->data, host, (size_t)ps->total * sizeof(float));
        burn_log("teacher head: %d tensors from %s", loaded, file);
    }
    free(host);
    burn_st_close(&f);
    free(file);
    return rc;
}
