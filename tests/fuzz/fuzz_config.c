/* fuzz_config.c — libFuzzer target: the INI config parser (burn_config_load) on arbitrary
 * text, then the printer on what it accepted and a reload of the printed text, which must
 * parse again (the writer only produces what the reader accepts). */
#include <stdlib.h>
#include <string.h>

#include "burn/config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    fuzz_quiet();
    burn_config c;
    burn_config_defaults(&c);
    if (burn_config_load(&c, fuzz_file(0, data, n)) == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        burn_config_print(&c, mem, 0);
        fclose(mem);
        burn_config again;
        burn_config_defaults(&again);
        if (burn_config_load(&again, fuzz_file(1, (const uint8_t *)buf, len)) != 0) abort();
        burn_config_free(&again);
        free(buf);
    }
    burn_config_free(&c);
    return 0;
}
