/* model_head.c — the MLP head of METHOD.md §1: Linear(in->hidden, bias) -> BatchNorm1d(hidden) ->
 * ReLU -> Linear(hidden->out, bias); names follow nn.Sequential indices (head.0, .1, .3). */
#include <stdio.h>
#include <string.h>

#include "burn/check.h"
#include "burn/models.h"

int burn_head_init(burn_head *h, int in, int hidden, int out) {
    memset(h, 0, sizeof *h);
    if (in < 1 || hidden < 1 || out < 1) {
        burn_error_set("head sizes must be positive (in %d, hidden %d, out %d)", in, hidden, out);
        return -1;
    }
    h->in = in;
    h->hidden = hidden;
    h->out = out;
    return 0;
}

static int add(burn_params *ps, const char *prefix, const char *name, burn_param_kind kind,
               int ndim, int64_t d0, int64_t d1, burn_init init) {
    char full[256];
    int64_t s[2] = {d0, d1};
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return burn_params_add(ps, full, kind, ndim, s, init, 0);
}

void burn_head_register(burn_head *h, burn_params *ps, const char *prefix) {
    h->fc1_weight = add(ps, prefix, "0.weight", BURN_PARAM_TRAINABLE, 2, h->hidden, h->in,
                        BURN_INIT_KAIMING_NORMAL);
    h->fc1_bias = add(ps, prefix, "0.bias", BURN_PARAM_TRAINABLE, 1, h->hidden, 0, BURN_INIT_ZERO);
    h->bn[BURN_BN_WEIGHT] = add(ps, prefix, "1.weight", BURN_PARAM_TRAINABLE, 1, h->hidden, 0, BURN_INIT_ONE);
    h->bn[BURN_BN_BIAS] = add(ps, prefix, "1.bias", BURN_PARAM_TRAINABLE, 1, h->hidden, 0, BURN_INIT_ZERO);
    h->bn[BURN_BN_MEAN] = add(ps, prefix, "1.running_mean", BURN_PARAM_BUFFER, 1, h->hidden, 0, BURN_INIT_ZERO);
    h->bn[BURN_BN_VAR] = add(ps, prefix, "1.running_var", BURN_PARAM_BUFFER, 1, h->hidden, 0, BURN_INIT_ONE);
    h->fc2_weight = add(ps, prefix, "3.weight", BURN_PARAM_TRAINABLE, 2, h->out, h->hidden,
                        BURN_INIT_KAIMING_NORMAL);
    h->fc2_bias = add(ps, prefix, "3.bias", BURN_PARAM_TRAINABLE, 1, h->out, 0, BURN_INIT_ZERO);
}

void burn_head_visit(const burn_head *h, const char *prefix, burn_layer_visitor visit, void *ctx) {
    char n[3][96];
    snprintf(n[0], sizeof n[0], "%s0", prefix);
    snprintf(n[1], sizeof n[1], "%s1 + relu", prefix);
    snprintf(n[2], sizeof n[2], "%s3", prefix);
    int64_t a = (int64_t)h->in * h->hidden, b = (int64_t)h->hidden * h->out;
    burn_layer_info rows[3] = {
        {n[0], "Linear", h->hidden, 1, 1, 0, a + h->hidden, 0, a},
        {n[1], "BatchNorm1d", h->hidden, 1, 1, 0, 2LL * h->hidden, 0, 0},
        {n[2], "Linear", h->out, 1, 1, 0, b + h->out, 0, b},
    };
    for (int i = 0; i < 3; i++) visit(ctx, &rows[i]);
}
