/* concat.c — CPU strided 2-D copy: `rows` rows of row_bytes each, between buffers whose rows
 * are dst_pitch / src_pitch bytes apart. Channel concat of NCHW tensors is two such copies
 * (one row per image), and its backward split the reverse (include/burn/layers.h). */
#include <string.h>

#include "cpu_ops.h"

void cpu_copy2d(void *dst, size_t dst_pitch, const void *src, size_t src_pitch,
                size_t row_bytes, size_t rows) {
    if (!row_bytes) return;
    for (size_t r = 0; r < rows; r++)
        memcpy((char *)dst + r * dst_pitch, (const char *)src + r * src_pitch, row_bytes);
}
