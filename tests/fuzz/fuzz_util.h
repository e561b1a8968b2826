/* fuzz_util.h — shared by the libFuzzer targets: the readers under test take file paths, so
 * each input is written to an in-memory file (memfd) and handed over as /proc/self/fd/N. */
#ifndef BURN_FUZZ_UTIL_H
#define BURN_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "burn/log.h"

/* A path whose file holds exactly data[n]; the same memfd (per slot) is reused every run. */
static inline const char *fuzz_file(int slot, const uint8_t *data, size_t n) {
    static int fds[4] = {-1, -1, -1, -1};
    static char paths[4][64];
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("burn-fuzz", 0);
        if (fds[slot] < 0) abort();
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    if (ftruncate(fds[slot], 0) != 0) abort();
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fds[slot], data + done, n - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    return paths[slot];
}

/* burn's progress lines would flood the fuzzer's output (stderr stays: sanitizers report
 * there; tests/fuzz/run.sh passes -close_fd_mask=1 for stdout) */
static inline void fuzz_quiet(void) { burn_log_quiet = 1; }

#endif
