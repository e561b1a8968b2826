/* model_config.c — the networks of a resolved config: student ReActNet-A, teacher ResNet and
 * the two MLP heads, with their shapes from [model], [teacher], [head] and data.image_size. */
#include <string.h>

#include "burn/config.h"
#include "burn/models.h"

int burn_models_from_config(const burn_config *c, burn_reactnet *student, burn_resnet *teacher,
                            burn_head *student_head, burn_head *teacher_head) {
    int depth = strcmp(c->teacher_arch, "resnet18") == 0   ? 18
                : strcmp(c->teacher_arch, "resnet34") == 0 ? 34
                                                           : 50;
    burn_resnet_config tc = {depth, c->teacher_width, (int)c->data_image_size,
                             c->teacher_small_input};
    burn_resnet t;
    if (burn_resnet_init(teacher ? teacher : &t, &tc) != 0) return -1;
    /* the student feature's width: model.feature_dim, else the teacher's when FS compares the
     * two features (loss.fs_on = features), else the pooled width */
    int fdim = (int)c->model_feature_dim;
    if (fdim == 0 && c->model_feature_fc && strcmp(c->loss_fs_on, "features") == 0)
        fdim = (teacher ? teacher : &t)->feature_dim;
    if (!c->model_feature_fc) fdim = 0;
    burn_reactnet_config rc = {c->model_width, (int)c->data_image_size, (int)c->model_stem_stride,
                               (int)c->model_stage, c->model_feature_fc, fdim};
    if (student && burn_reactnet_init(student, &rc) != 0) return -1;
    int sfeat = 0;
    if (student) sfeat = student->feature_dim;
    if (student_head &&
        burn_head_init(student_head, sfeat, (int)c->head_hidden, (int)c->head_out) != 0)
        return -1;
    if (teacher_head && burn_head_init(teacher_head, (teacher ? teacher : &t)->feature_dim,
                                       (int)c->head_hidden, (int)c->head_out) != 0)
        return -1;
    return 0;
}

