/* fuzz_idx.c — libFuzzer target: the IDX source (MNIST family), plain or gzip-compressed.
 * Input: a 2-byte little-endian split k, then the images file (k bytes) and the labels file
 * (the rest); on success every image is loaded. */
#include <stdlib.h>

#include "burn/data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    fuzz_quiet();
    if (n < 2) return 0;
    size_t k = (size_t)(data[0] | data[1] << 8);
    data += 2, n -= 2;
    if (k > n) k = n;
    const char *images = fuzz_file(0, data, k), *labels = fuzz_file(1, data + k, n - k);
    burn_source *s = burn_source_idx(images, labels);
    if (!s) return 0;
    burn_image img = {0};
    for (int64_t i = 0; i < s->count && i < 64; i++)
        if (burn_source_load(s, i, &img) != 0) abort(); /* validated: every image loads */
    if (s->num_classes < 1 || s->num_classes > 256) abort();
    burn_image_free(&img);
    burn_source_free(s);
    return 0;
}
