/* topk.c — top-1 / top-5 accuracy counts from host logits (linear evaluation, fine-tuning). */
#include <math.h>

#include "burn/check.h"
#include "burn/eval.h"

int burn_topk_correct(const float *logits, const int32_t *labels, int N, int C, int64_t *top1,
                      int64_t *top5) {
    int64_t c1 = 0, c5 = 0;
    for (int n = 0; n < N; n++) {
        int32_t y = labels[n];
        if (y < 0 || y >= C) {
            burn_error_set("accuracy: label %d of row %d is outside [0, %d)", (int)y, n, C);
            return -1;
        }
        const float *z = logits + (int64_t)n * C;
        float zy = z[y];
        if (isnan(zy)) continue;
        /* rank of the label: classes that beat it (higher, or equal with a lower index) */
        int better = 0;
        for (int c = 0; c < C && better < 5; c++)
            if (z[c] > zy || (z[c] == zy && c < y)) better++;
        c1 += better < 1;
        c5 += better < 5;
    }
    if (top1) *top1 = c1;
    if (top5) *top5 = c5;
    return 0;
}
