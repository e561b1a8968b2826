/* fuzz_safetensors.c — libFuzzer target: the validating safetensors reader (burn_st_open),
 * then every accessor on what it accepted: metadata lookups, tensor lookups and the float32
 * conversion of every tensor (F32/F16/BF16, finiteness check). */
#include <stdlib.h>

#include "burn/safetensors.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    fuzz_quiet();
    burn_st_file f;
    if (burn_st_open(&f, fuzz_file(0, data, n)) != 0) return 0;
    (void)burn_st_meta(&f, "format");
    (void)burn_st_meta(&f, "step");
    for (int i = 0; i < f.n; i++) {
        const burn_st_tensor *t = &f.tensors[i];
        if (burn_st_find(&f, t->name) != t) abort(); /* names are unique: found is itself */
        int64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        if (numel > (1 << 20)) continue;
        float *dst = malloc((size_t)(numel ? numel : 1) * sizeof(float));
        (void)burn_st_read_f32(&f, t->name, dst, numel);
        free(dst);
    }
    burn_st_close(&f);
    return 0;
}
