/* test_gpu_model.c — whole models on CUDA against the CPU: one full BURN step of each PyTorch
 * fixture (teacher ResNet, ReActNet-A stage 1 and 2, both heads, the loss, every gradient,
 * the running statistics and one Adam update) on the GPU, compared tensor by tensor with the
 * same step on the CPU backend and with PyTorch (src/app/selftest.c; `burn_gpu selftest --device
 * cuda` prints the same per tensor). Skipped visibly without a device. */
#include "burn/selftest.h"
#include "gpu_util.h"

static void check(int stage, const burn_backend *g, const burn_backend *against) {
    char path[128];
    snprintf(path, sizeof path, "tests/fixtures/burn_step_stage%d.safetensors", stage);
    burn_selftest_report r;
    cr_assert_eq(burn_selftest_fixture(path, g, against, 1e-4, NULL, &r), 0, "%s", burn_error());
    cr_assert_gt(r.compared, 150);
    cr_assert_eq(r.failed, 0, "stage %d vs %s: %d tensors over 1e-4, worst %s at %.3g", stage,
                 against ? "cpu" : "PyTorch", r.failed, r.worst_name, r.worst);
}

Test(gpu_model, burn_step_stage1_matches_cpu_and_pytorch, .timeout = 120) {
    REQUIRE_CUDA(g);
    check(1, g, burn_cpu_backend());
    check(1, g, NULL);
}

Test(gpu_model, burn_step_stage2_matches_cpu_and_pytorch, .timeout = 120) {
    REQUIRE_CUDA(g);
    check(2, g, burn_cpu_backend());
    check(2, g, NULL);
}
