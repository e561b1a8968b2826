/* extract.c — features of a whole split through the student, the teacher or as raw pixels,
 * with the evaluation transform, in dataset order (padding of the last batch dropped). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/data.h"
#include "burn/eval.h"
#include "burn/log.h"

void burn_features_free(burn_features *f) {
    free(f->x);
    free(f->labels);
    memset(f, 0, sizeof *f);
}

int burn_extract(const burn_config *cfg, burn_model *m, burn_backbone which, const char *split,
                 burn_features *out) {
    memset(out, 0, sizeof *out);
    const burn_backend *be = m ? m->be : burn_cpu_backend();
    burn_source *src = burn_source_from_config(cfg, split);
    if (!src) return -1;
    int N = m ? m->N : 64, S = (int)cfg->data_image_size;
    int dim = which == BURN_BACKBONE_STUDENT   ? m->student.feature_dim
              : which == BURN_BACKBONE_TEACHER ? m->teacher.feature_dim
                                               : 3 * S * S;
    burn_loader_opts lo;
    burn_loader_opts_from_config(&lo, cfg);
    lo.batch = N;
    lo.views = 1;
    lo.train = 0;
    lo.shuffle = 0;
    lo.drop_last = 0;
    lo.epochs = 1;
    lo.rank = 0;
    lo.world = 1;
    lo.be = be;
    burn_loader *loader = burn_loader_create(src, &lo);
    if (!loader) {
        burn_source_free(src);
        return -1;
    }
    out->count = src->count;
    out->dim = dim;
    out->num_classes = src->num_classes;
    out->x = burn_xmalloc((size_t)out->count * (size_t)dim * sizeof(float));
    out->labels = burn_xmalloc((size_t)out->count * sizeof(int32_t));
    float *dev_in = be->is_device ? be->alloc((size_t)N * 3 * S * S * sizeof(float)) : NULL;
    float *dev_feat = which == BURN_BACKBONE_TEACHER ? be->alloc((size_t)N * dim * sizeof(float)) : NULL;
    float *host = burn_xmalloc((size_t)N * dim * sizeof(float));
    int64_t filled = 0;
    int rc = 0;
    for (;;) {
        const burn_batch *b;
        const float *x, *feat = NULL;
        int r = burn_loader_next_view(loader, be, 0, dev_in, &b, &x);
        if (r == 1) break;
        if (r != 0) {
            rc = -1;
            break;
        }
        if (which == BURN_BACKBONE_STUDENT) {
            if (burn_model_student_features(m, x, &feat) != 0) {
                rc = -1;
                break;
            }
            be->download(host, feat, (size_t)N * dim * sizeof(float));
        } else if (which == BURN_BACKBONE_TEACHER) {
            burn_resnet_forward_eval(m->trun, &m->teacher_params, x, dev_feat);
            be->download(host, dev_feat, (size_t)N * dim * sizeof(float));
        } else {
            memcpy(host, b->x[0], (size_t)N * dim * sizeof(float));
        }
        for (int64_t i = 0; i < (int64_t)b->n * dim && rc == 0; i++)
            if (!b->is_pad[i / dim] && !isfinite(host[i])) { /* no k-NN "25%" of NaNs */
                burn_error_set("extract %s: feature %lld of image %lld is not finite (the weights "
                               "or the data hold extreme values)", split, (long long)(i % dim),
                               (long long)(b->step * N + i / dim));
                rc = -1;
            }
        if (rc != 0) break;
        for (int i = 0; i < b->n; i++) {
            if (b->is_pad[i]) continue;
            int64_t idx = b->step * N + i; /* dataset order: unshuffled, one rank */
            if (idx >= out->count) continue;
            memcpy(out->x + idx * dim, host + (size_t)i * dim, (size_t)dim * sizeof(float));
            out->labels[idx] = b->labels[i];
            filled++;
        }
    }
    if (rc == 0 && filled != out->count) {
        burn_error_set("extract %s: %lld of %lld images came back", split, (long long)filled,
                       (long long)out->count);
        rc = -1;
    }
    if (burn_loader_bad_count(loader) > 0)
        burn_warn("extract %s: %lld unreadable images replaced by substitutes", split,
                  (long long)burn_loader_bad_count(loader));
    free(host);
    if (dev_in) be->free(dev_in);
    if (dev_feat) be->free(dev_feat);
    burn_loader_free(loader);
    burn_source_free(src);
    if (rc != 0) burn_features_free(out);
    return rc;
}
