/* test_parity.c — one full BURN step against the PyTorch reference (tools/reference/,
 * fixtures tests/fixtures/burn_step_stage{1,2,1_features}.safetensors): teacher features,
 * student features and logits, the loss terms, EVERY parameter gradient (student, student
 * head, teacher head) and the BN running statistics after the step, for stage 1 (binary
 * activations), stage 2 (binary weights too) and stage 1 with loss.fs_on = features.
 * Tolerance: max|burn − torch| / max|torch| <= 1e-4 per tensor, in FP32; the worst tensor is
 * printed.
 * The comparison lives in src/app/selftest.c (`burn_gpu selftest` runs the same on a GPU).
 * Structurally zero gradients (the bias of a Linear followed by train-mode BN: BN removes
 * the mean, so its gradient is 0 up to rounding, which BN's 1/std amplifies) have no scale
 * of their own: they are checked against the largest gradient instead (<= 1e-4 of it). */
#include <criterion/criterion.h>

#include "burn/burn.h"
#include "burn/selftest.h"
#include "burn/check.h"
#include "burn/log.h"
#include "test_util.h"

#define TOL 1e-4

static void run_parity(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "tests/fixtures/%s.safetensors", name);
    burn_selftest_report r;
    cr_assert_eq(burn_selftest_fixture(path, burn_cpu_backend(), NULL, TOL, NULL, &r), 0, "%s",
                 burn_error());
    printf("parity %s: worst of %d tensors: %s, relative error %.3g\n", name, r.compared,
           r.worst_name, r.worst);
    /* features and logits (3), loss terms (5), every gradient and running statistic */
    cr_assert_geq(r.compared, 3 + 5 + 150, "only %d tensors compared", r.compared);
    if (r.failed) { /* list them */
        burn_selftest_fixture(path, burn_cpu_backend(), NULL, TOL, stdout, &r);
        cr_assert_fail("%d tensors over %g, worst %s at %.3g", r.failed, TOL, r.worst_name, r.worst);
    }
}

Test(parity, burn_step_stage1_binary_activations, .timeout = 60) {
    run_parity("burn_step_stage1");
}
Test(parity, burn_step_stage2_binary_weights, .timeout = 60) { run_parity("burn_step_stage2"); }
/* loss.fs_on = features: the student FC as wide as the teacher's feature, FS between the
 * backbones' features, the teacher head's gradient the KL part alone (issue 16) */
Test(parity, burn_step_fs_on_features, .timeout = 60) {
    run_parity("burn_step_stage1_features");
}

Test(parity, selftest_command_passes_on_the_cpu, .timeout = 60) {
    FILE *p = popen(BURN_GPU " selftest --device cpu", "r");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    cr_assert_eq(WEXITSTATUS(pclose(p)), 0, "%s", buf);
    cr_assert(strstr(buf, "selftest passed"), "%s", buf);
}

/* teacher files: the fixture holds "teacher.*" tensors of ResNet-18 width 1/16 */
static void fixture_config(burn_config *c) {
    burn_config_defaults(c);
    const char *sets[] = {"model.width=0.0625", "model.stem_stride=2", "data.image_size=32",
                          "teacher.arch=resnet18", "teacher.width=0.0625",
                          "teacher.small_input=true", "head.hidden=64", "head.out=64"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        cr_assert_eq(burn_config_set(c, sets[i]), 0, "%s", burn_error());
}

Test(parity, teacher_checkpoint_errors) {
    burn_config c;
    burn_model m;
    fixture_config(&c);
    burn_log_quiet = 1;
    cr_assert_eq(burn_model_init(&m, &c, burn_cpu_backend(), 4), 0, "%s", burn_error());
    cr_assert_neq(burn_model_load_teacher(&m, ""), 0);
    cr_assert(strstr(burn_error(), "never trains against a random one"), "%s", burn_error());
    cr_assert_neq(burn_model_load_teacher(&m, "tests/fixtures/nope.safetensors"), 0);
    cr_assert(strstr(burn_error(), "cannot open"), "%s", burn_error());
    cr_assert_eq(burn_model_load_teacher(&m, "tests/fixtures/burn_step_stage1.safetensors"), 0,
                 "%s", burn_error());
    burn_model_free(&m);
    /* a wider teacher than the file: refused, naming the tensor */
    cr_assert_eq(burn_config_set(&c, "teacher.width=0.125"), 0);
    cr_assert_eq(burn_model_init(&m, &c, burn_cpu_backend(), 4), 0, "%s", burn_error());
    cr_assert_neq(burn_model_load_teacher(&m, "tests/fixtures/burn_step_stage1.safetensors"), 0);
    cr_assert(strstr(burn_error(), "teacher.conv1.weight': shape 4x3x3x3, the model expects shape 8x3x3x3"),
              "%s", burn_error());
    burn_model_free(&m);
    burn_config_free(&c);
}

/* Adam's first step is about lr·sign(g): two backends may step an element whose gradient is
 * 0 within tolerance in opposite directions (2·lr apart). The comparison allows exactly that
 * there and nothing more, and nothing of the kind elsewhere. */
Test(parity, adam_first_step_comparison_allows_sign_flips_only_where_the_gradient_is_zero) {
    const float lr = 1e-3f;
    float want[4] = {0.5f, -0.25f, 0.125f, 1.0f}, grad[4] = {0.3f, 1e-9f, -0.2f, 0.0f};
    float got[4] = {0.5f, -0.25f + 2 * lr, 0.125f + 1e-7f, 1.0f - 2 * lr};
    int64_t und = -1;
    double d = burn_adam_first_step_maxdiff(got, want, grad, 4, lr, 1e-6, &und);
    cr_expect_eq(und, 2);
    cr_expect(fabs(d - 1e-7) < 1e-8, "maxdiff %g over the determined elements", d);
    got[0] += 2 * lr; /* a determined element flipped: an ordinary (large) difference */
    cr_expect_gt(burn_adam_first_step_maxdiff(got, want, grad, 4, lr, 1e-6, NULL), 1.9 * lr);
    got[0] = want[0];
    got[1] = want[1] + 3 * lr; /* undetermined, but further than any step can go */
    cr_expect(isinf(burn_adam_first_step_maxdiff(got, want, grad, 4, lr, 1e-6, NULL)));
    got[1] = NAN;
    cr_expect(isinf(burn_adam_first_step_maxdiff(got, want, grad, 4, lr, 1e-6, NULL)));
}
