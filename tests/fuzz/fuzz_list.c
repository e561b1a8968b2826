/* fuzz_list.c — libFuzzer target: the list-file parser ("relative/path label" lines).
 * Accepted lists have labels in range and no path leaving the root. */
#include <stdlib.h>
#include <string.h>

#include "burn/data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    fuzz_quiet();
    static const burn_image_limits lim = {1 << 24, 1 << 22, NULL};
    burn_source *s = burn_source_list(fuzz_file(0, data, n), "/nonexistent-root", &lim);
    if (!s) return 0;
    for (int64_t i = 0; i < s->count; i++) {
        if (s->labels[i] < 0 || s->labels[i] >= s->num_classes) abort();
        char path[4096];
        s->describe(s, i, path, sizeof path);
        if (strncmp(path, "/nonexistent-root/", 18) != 0 || strstr(path, "/../")) abort();
    }
    burn_source_free(s);
    return 0;
}
