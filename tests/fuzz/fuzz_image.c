/* fuzz_image.c — libFuzzer target: the image decode path (signature sniffing, header-only
 * size check, stb_image JPEG/PNG decode) under a 4-megapixel limit; an accepted image has the
 * size its buffer holds. */
#include <stdlib.h>

#include "burn/data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    fuzz_quiet();
    static const burn_image_limits lim = {1 << 24, 1 << 22, NULL};
    burn_image img = {0};
    if (burn_image_decode(data, n, &lim, "fuzz", &img) == 0) {
        if (img.w <= 0 || img.h <= 0 || (int64_t)img.w * img.h > lim.max_pixels) abort();
        volatile uint8_t last = img.rgb[(size_t)img.w * img.h * 3 - 1]; /* ASan checks the span */
        (void)last;
    }
    burn_image_free(&img);
    return 0;
}
