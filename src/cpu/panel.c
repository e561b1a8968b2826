/* panel.c — the layout change a GEMM over a group of images needs: the rows [R, P] of B
 * images (image b at src + b·R·P, NCHW) side by side in one panel [R, B·P] (image b's
 * columns b·P .. b·P + P − 1), and back. Rows copy in parallel above CPU_PAR_MIN floats. */
#include <string.h>

#include "cpu_ops.h"

void cpu_rows_to_panel(float *panel, const float *src, int R, int B, int64_t P) {
#pragma omp parallel for collapse(2) if ((int64_t)R * B * P >= CPU_PAR_MIN)
    for (int b = 0; b < B; b++)
        for (int r = 0; r < R; r++)
            memcpy(panel + (int64_t)r * B * P + b * P, src + ((int64_t)b * R + r) * P,
                   sizeof(float) * (size_t)P);
}

void cpu_panel_to_rows(float *dst, const float *panel, int R, int B, int64_t P) {
#pragma omp parallel for collapse(2) if ((int64_t)R * B * P >= CPU_PAR_MIN)
    for (int b = 0; b < B; b++)
        for (int r = 0; r < R; r++)
            memcpy(dst + ((int64_t)b * R + r) * P, panel + (int64_t)r * B * P + b * P,
                   sizeof(float) * (size_t)P);
}
