/* reduce.c — CPU sum and sum of squares of float arrays [n] -> one float.
 * Accumulates in double so the result is the correctly rounded value for any n we meet. */
#include "cpu_ops.h"

void cpu_sum(float *out, const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    *out = (float)s;
}

void cpu_sumsq(float *out, const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    *out = (float)s;
}
