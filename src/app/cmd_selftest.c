/* cmd_selftest.c — `burn_gpu selftest [--device cuda]`: how a user (and this project) trusts a
 * backend. One full BURN step of each committed PyTorch fixture (stage 1 and stage 2) on the
 * chosen backend, compared tensor by tensor with PyTorch and, for a GPU, with the CPU backend
 * on the same weights and batch; the worst relative error per tensor is printed and the exit
 * status is 1 above the tolerance. Run from the repository root (it reads tests/fixtures/). */
#include <stdio.h>
#include <string.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/log.h"
#include "burn/selftest.h"

int cmd_selftest(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--device", "auto|cpu|cuda", "backend to test (default auto)", 0},
        {"--fixtures", "DIR", "where burn_step_stage{1,2,1_features}.safetensors are (default "
                              "tests/fixtures)", 0},
        {"--verbose", NULL, "one line per tensor", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu selftest", "[--device cuda] [--verbose]",
                             "Run one BURN step of the PyTorch fixtures on a backend and compare "
                             "every output, gradient, running statistic and updated weight with "
                             "PyTorch and (for CUDA) with the CPU backend.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    const char *device, *dir = burn_arg(&a, "--fixtures");
    if ((rc = burn_arg_choice(&a, "--device", "auto|cpu|cuda", "auto", &device))) return rc;
    const burn_backend *be = burn_backend_select(device), *cpu = burn_cpu_backend();
    if (!be) {
        fprintf(stderr, "burn_gpu selftest: %s\n", burn_error());
        burn_args_free(&a);
        return 1;
    }
    const double tol_ref = 1e-4, tol_cpu = 1e-4;
    int failed = 0;
    /* stage 1, stage 2, and stage 1 with loss.fs_on = features */
    static const char *const fixtures[] = {"stage1", "stage2", "stage1_features"};
    for (int k = 0; k < 3; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/burn_step_%s.safetensors", dir ? dir : "tests/fixtures",
                 fixtures[k]);
        for (int vs_cpu = 0; vs_cpu <= (be != cpu); vs_cpu++) {
            burn_selftest_report r;
            printf("%s, %s vs %s:\n", fixtures[k], be->name, vs_cpu ? "cpu" : "PyTorch");
            if (burn_selftest_fixture(path, be, vs_cpu ? cpu : NULL, vs_cpu ? tol_cpu : tol_ref,
                                      burn_arg_flag(&a, "--verbose") ? stdout : NULL, &r) != 0) {
                fprintf(stderr, "burn_gpu selftest: %s\n", burn_error());
                burn_args_free(&a);
                return 1;
            }
            printf("  %d tensors, worst %s at %.3g, %d over %.0e: %s\n", r.compared,
                   r.worst_name, r.worst, r.failed, vs_cpu ? tol_cpu : tol_ref,
                   r.failed ? "FAIL" : "ok");
            failed += r.failed;
        }
    }
    printf("selftest %s\n", failed ? "FAILED" : "passed");
    burn_args_free(&a);
    return failed ? 1 : 0;
}
