/* s2bnn_head.c — the S2-BNN baseline's piece of the BURN trainer (teacher.head_init): the
 * teacher head g_θ starts from a pretrained classifier instead of random weights. With
 * teacher.head_trainable = false (eval-mode BN, no Adam on it) and λ = 0 this is S2-BNN's
 * KL to a frozen pretrained teacher distribution; include/burn/burn.h.
 *
 * Two kinds of file: one with "teacher_head.*" tensors (a BURN checkpoint or run directory),
 * or the MoCo v2 checkpoint of `pretrain-teacher` (moco-checkpoint.safetensors), whose
 * projection head Linear(F→F)-ReLU-Linear(F→dim) ("encoder_q.fc.0", "fc.2") becomes the
 * head's two Linear layers with an identity BatchNorm between them (weight 1, bias 0, running
 * mean 0, variance 1: y = x/sqrt(1 + eps) in eval mode) — S2-BNN's own target, the SSL
 * teacher's output distribution. That needs head.hidden = F and head.out = moco.dim. */
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
#define MOCO_HEAD "encoder_q.fc."

/* A MoCo file's source for head tensor `name` (after the prefix): the tensor to read into
 * src (NULL: the identity-BN constant *fill instead). */
static void moco_source(const char *name, char *src, size_t n, const char **use, float *fill) {
    *use = NULL;
    if (strncmp(name, "1.", 2) == 0) { /* BatchNorm: identity */
        *fill = strcmp(name, "1.weight") == 0 || strcmp(name, "1.running_var") == 0 ? 1.0f : 0.0f;
        return;
    }
    snprintf(src, n, MOCO_HEAD "%s%s", name[0] == '3' ? "2" : "0", name + 1);
    *use = src;
}

int burn_model_init_teacher_head(burn_model *m, const char *path) {
    if (!path || !*path) {
        burn_error_set("teacher.head_init: empty path");
        return -1;
    }
    struct stat sb;
    char *file = NULL;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        file = burn_ckpt_find_latest(path, NULL);
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
    int rc = 0, loaded = 0, moco = burn_st_find(&f, MOCO_HEAD "0.weight") != NULL;
    for (int i = 0; i < ps->n && rc == 0; i++) {
        const burn_param *p = &ps->p[i];
        if (strncmp(p->name, HEAD_PREFIX, strlen(HEAD_PREFIX)) != 0) continue;
        const char *name = p->name;
        char src[128];
        if (moco) {
            float fill = 0;
            moco_source(p->name + strlen(HEAD_PREFIX), src, sizeof src, &name, &fill);
            if (!name) {
                for (int64_t k = 0; k < p->numel; k++) host[p->offset + k] = fill;
                loaded++;
                continue;
            }
        }
        const burn_st_tensor *t = burn_st_find(&f, name);
        int same = t && t->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++) same = t->shape[d] == p->shape[d];
        if (!same) {
            burn_error_set("teacher.head_init %s: tensor '%s' is %s (the head must have this "
                           "config's teacher width and head.hidden/head.out%s)",
                           file, name, t ? "of another shape" : "missing",
                           moco ? "; a MoCo head needs head.hidden = the teacher's feature "
                                  "width and head.out = moco.dim" : "");
            rc = -1;
            break;
        }
        rc = burn_st_read_f32(&f, name, host + p->offset, p->numel);
        loaded++;
    }
    if (rc == 0 && loaded == 0) {
        burn_error_set("teacher.head_init: this model has no teacher head");
        rc = -1;
    }
    if (rc == 0) {
        ps->be->upload(ps->data, host, (size_t)ps->total * sizeof(float));
        burn_log("teacher head: %d tensors from %s%s", loaded, file,
                 moco ? " (the MoCo projection head, identity BN)" : "");
    }
    free(host);
    burn_st_close(&f);
    free(file);
    return rc;
}
