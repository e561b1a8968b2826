// concat.cu — strided 2-D copy on CUDA (mirrors src/cpu/concat.c): one cudaMemcpy2DAsync on
// burn_stream, which channel concat / split of NCHW tensors use with one row per image.
#include "cuda_common.cuh"
#include "cuda_ops.h"

extern "C" void cuda_copy2d(void *dst, size_t dst_pitch, const void *src, size_t src_pitch,
                            size_t row_bytes, size_t rows) {
    if (!row_bytes || !rows) return;
    CUDA_CHECK(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, row_bytes, rows,
                                 cudaMemcpyDeviceToDevice, burn_stream));
}
