/* backend_cpu.c — the CPU backend table: host memory (64-byte aligned for AVX) and the
 * src/cpu/ ops. */
#include <stdlib.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "cpu_ops.h"

static void *cpu_alloc(size_t bytes) {
    void *p = NULL;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
        burn_check_fail("libc", "posix_memalign", __FILE__, __LINE__, "out of host memory",
                        burn_errno_hint(ENOMEM));
    return p;
}

static void cpu_free(void *p) { free(p); }

static void cpu_memcpy(void *dst, const void *src, size_t bytes) {
    if (bytes) memcpy(dst, src, bytes);
}

static void cpu_synchronize(void) {}

static const burn_backend cpu_backend = {
    .name = "cpu",
    .is_device = 0,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_memcpy,
    .download = cpu_memcpy,
    .copy = cpu_memcpy,
    .synchronize = cpu_synchronize,
    .host_alloc = cpu_alloc,
    .host_free = cpu_free,
#define BURN_CPU_OP_ENTRY(ret, name, params) .name = cpu_##name,
    BURN_BACKEND_OPS(BURN_CPU_OP_ENTRY)
#undef BURN_CPU_OP_ENTRY
    /* dist_attach, dist_detach: nothing to build over MPI */
};

const burn_backend *burn_cpu_backend(void) { return &cpu_backend; }
