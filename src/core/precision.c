/* precision.c — names of the compute precisions (include/burn/precision.h). */
#include "burn/precision.h"

#include <string.h>

static const char *const names[] = {"fp32", "bf16", "fp16"};

int burn_precision_parse(const char *name) {
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0) return i;
    burn_error_set("unknown precision '%s' (fp32, bf16 or fp16)", name ? name : "");
    return -1;
}

const char *burn_precision_name(int precision) {
    return precision >= 0 && precision < 3 ? names[precision] : "?";
}
