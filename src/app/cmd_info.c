/* cmd_info.c — `burn_gpu info`: what this binary was built with and what it can use here. */
#include <cblas.h>
#include <stdio.h>

#include "burn/backend.h"
#include "burn/cli.h"
#include "burn/commands.h"

#ifndef BURN_GIT_REV
#define BURN_GIT_REV "unknown"
#endif

void burn_print_version(const char *prog) {
    printf("%s %s (%s): backends cpu%s\n", prog, BURN_VERSION, BURN_GIT_REV,
           burn_built_with_cuda() ? ", cuda" : "");
}

int cmd_info(int argc, char **argv) {
    static const burn_opt opts[] = {{NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu info", "", "Print build features and devices.", opts,
                             0, argc, argv);
    if (rc) return rc;
    burn_print_version("burn_gpu");
    printf("cpu backend:  yes (OpenBLAS: %s)\n", openblas_get_config());
    printf("cpu features: avx2 %s, avx512 vpopcntdq %s\n",
           __builtin_cpu_supports("avx2") ? "yes" : "no",
           __builtin_cpu_supports("avx512vpopcntdq") ? "yes" : "no");
    printf("cuda backend: %s\n", burn_built_with_cuda() ? "built in" : "not built");
    if (burn_built_with_cuda()) printf("cuda devices: %d\n", burn_cuda_device_count());
    burn_args_free(&a);
    return 0;
}
