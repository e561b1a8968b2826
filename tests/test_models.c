/* test_models.c — architecture bookkeeping of the networks: ReActNet-A at full width and 224
 * must reproduce METHOD.md §2's counts exactly, ResNet-18/50 torchvision's parameter counts, the
 * MLP head METHOD.md §1's; reduced widths and small inputs derive consistent shapes; bad sizes are
 * clear errors; `burn_gpu summary` prints the totals. */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include "burn/check.h"
#include "burn/models.h"
#include "test_util.h"

typedef struct totals {
    int64_t bin_p, fp_p, bin_m, fp_m;
} totals;

static void add_row(void *ctx, const burn_layer_info *in) {
    totals *t = ctx;
    t->bin_p += in->bin_params;
    t->fp_p += in->fp_params;
    t->bin_m += in->bin_macs;
    t->fp_m += in->fp_macs;
}

Test(models, reactnet_a_full_matches_spec_counts) {
    burn_reactnet net;
    burn_reactnet_config cfg = {1.0, 224, 2, 2, 1, 0};
    cr_assert_eq(burn_reactnet_init(&net, &cfg), 0, "%s", burn_error());
    cr_assert_eq(net.stem_hw, 112);
    cr_assert_eq(net.blocks[12].out_hw, 7);
    cr_assert_eq(net.feature_dim, 1024);
    burn_params ps;
    burn_params_init_registry(&ps);
    burn_reactnet_register(&net, &ps, "student.");
    cr_assert_eq(burn_params_count(&ps, 1, 1), 28253184, "binary conv weights");
    cr_assert_eq(burn_params_count(&ps, 1, 0), 29368192, "parameters with the FC");
    cr_assert_eq(burn_params_count(&ps, 1, 0) - (1024 * 1024 + 1024), 28318592,
                 "backbone to the pooled feature");
    totals t = {0};
    burn_reactnet_visit(&net, add_row, &t);
    cr_assert_eq(t.bin_p, 28253184);
    cr_assert_eq(t.bin_p + t.fp_p, 29368192, "visitor and registry agree");
    cr_assert_eq((t.bin_m + 500000) / 1000000, 4817, "binary MACs %lld", (long long)t.bin_m);
    cr_assert_eq(burn_params_find(&ps, "student.blocks.0.conv1x1_a.weight") >= 0, 1);
    cr_assert_eq(burn_params_find(&ps, "student.blocks.12.conv1x1.weight") >= 0, 1);
    cr_assert_eq(burn_params_find(&ps, "student.blocks.5.rprelu2.slope") >= 0, 1);
    for (int i = 0; i < ps.n; i++) free(ps.p[i].name);
    free(ps.p);
}

Test(models, reactnet_stem_macs_and_stage1_counts_weights_as_fp) {
    burn_reactnet net;
    burn_reactnet_config cfg = {1.0, 224, 2, 1, 1, 0};
    cr_assert_eq(burn_reactnet_init(&net, &cfg), 0);
    totals t = {0};
    burn_reactnet_visit(&net, add_row, &t);
    cr_assert_eq(t.bin_p, 0, "stage 1 weights are real");
    cr_assert_eq(t.fp_p, 29368192);
    /* stem 10.8M MACs = 27 * 32 * 112^2 */
    cr_assert_eq(27LL * 32 * 112 * 112, 10838016);
}

Test(models, reactnet_reduced_width_small_input) {
    burn_reactnet net;
    burn_reactnet_config cfg = {0.25, 32, 1, 2, 1, 0};
    cr_assert_eq(burn_reactnet_init(&net, &cfg), 0, "%s", burn_error());
    cr_assert_eq(net.stem_channels, 8);
    cr_assert_eq(net.feature_dim, 256);
    cr_assert_eq(net.blocks[0].out_hw, 32);
    cr_assert_eq(net.blocks[12].out_hw, 2);
    for (int b = 0; b < BURN_REACTNET_BLOCKS; b++)
        cr_assert(net.blocks[b].cout == net.blocks[b].cin || net.blocks[b].cout == 2 * net.blocks[b].cin);
    cfg.width = 0.3; /* odd widths still double exactly */
    cr_assert_eq(burn_reactnet_init(&net, &cfg), 0);
    cr_assert_eq(net.blocks[1].cout, 2 * net.blocks[1].cin);
    cfg.image_size = 28; /* 28 -> 14 -> 7: odd input to a stride-2 block */
    cr_assert_neq(burn_reactnet_init(&net, &cfg), 0);
    cr_assert(strstr(burn_error(), "odd 7x7 input to stride-2 block 6"), "%s", burn_error());
    cfg.image_size = 32;
    cfg.stage = 3;
    cr_assert_neq(burn_reactnet_init(&net, &cfg), 0);
    cr_assert(strstr(burn_error(), "model.stage 3"), "%s", burn_error());
}

static int64_t resnet_params(int depth, double width, int image, int small) {
    burn_resnet net;
    burn_resnet_config cfg = {depth, width, image, small};
    cr_assert_eq(burn_resnet_init(&net, &cfg), 0, "%s", burn_error());
    burn_params ps;
    burn_params_init_registry(&ps);
    burn_resnet_register(&net, &ps, "", 1);
    int64_t n = burn_params_count(&ps, 1, 0);
    totals t = {0};
    burn_resnet_visit(&net, add_row, &t);
    cr_assert_eq(t.fp_p, n, "visitor %lld vs registry %lld", (long long)t.fp_p, (long long)n);
    for (int i = 0; i < ps.n; i++) free(ps.p[i].name);
    free(ps.p);
    return n;
}

Test(models, resnet_parameter_counts_match_torchvision) {
    /* torchvision's totals minus the fc classifier (2048*1000+1000, 512*1000+1000) */
    cr_assert_eq(resnet_params(50, 1.0, 224, 0), 25557032 - 2049000);
    cr_assert_eq(resnet_params(18, 1.0, 224, 0), 11689512 - 513000);
    cr_assert_eq(resnet_params(34, 1.0, 224, 0), 21797672 - 513000);
    burn_resnet net;
    burn_resnet_config cfg = {50, 1.0, 224, 0};
    burn_resnet_init(&net, &cfg);
    cr_assert_eq(net.feature_dim, 2048);
    cr_assert_eq(net.blocks[net.nblocks - 1].out_hw, 7);
    totals t = {0};
    burn_resnet_visit(&net, add_row, &t);
    cr_assert_eq((t.fp_m + 5000000) / 10000000, 409, "ResNet-50 MACs %lld", (long long)t.fp_m);
    cfg = (burn_resnet_config){18, 0.25, 32, 1};
    cr_assert_eq(burn_resnet_init(&net, &cfg), 0);
    cr_assert_eq(net.feature_dim, 128);
    cr_assert_eq(net.blocks[net.nblocks - 1].out_hw, 4);
    cfg.depth = 101;
    cr_assert_neq(burn_resnet_init(&net, &cfg), 0);
    cr_assert(strstr(burn_error(), "depth 101"), "%s", burn_error());
}

Test(models, head_counts) {
    burn_head h;
    cr_assert_eq(burn_head_init(&h, 2048, 2000, 2000), 0);
    burn_params ps;
    burn_params_init_registry(&ps);
    burn_head_register(&h, &ps, "teacher_head.");
    cr_assert_eq(burn_params_count(&ps, 1, 0), 2048 * 2000 + 2000 + 4000 + 2000 * 2000 + 2000);
    cr_assert_eq(burn_params_find(&ps, "teacher_head.1.running_var"), h.bn[BURN_BN_VAR]);
    cr_assert_eq(ps.p[h.bn[BURN_BN_VAR]].kind, BURN_PARAM_BUFFER);
    for (int i = 0; i < ps.n; i++) free(ps.p[i].name);
    free(ps.p);
}

Test(models, summary_command_prints_spec_totals) {
    FILE *p = popen(BURN_GPU " summary --set model.stage=2 --set data.image_size=224 --model all", "r");
    cr_assert_not_null(p);
    char *buf = calloc(1 << 20, 1);
    size_t len = fread(buf, 1, (1 << 20) - 1, p);
    buf[len] = 0;
    int status = pclose(p);
    cr_assert_eq(WEXITSTATUS(status), 0, "%s", buf);
    cr_assert(strstr(buf, "total: 29368192 parameters (28253184 1-bit, 1115008 32-bit); 4.817G binary MACs"),
              "%s", buf);
    cr_assert(strstr(buf, "blocks.12.conv3x3"), "per-layer rows missing");
    cr_assert(strstr(buf, "teacher: resnet50"), "teacher table missing");
    free(buf);
    p = popen(BURN_GPU " summary --set data.image_size=28 --set model.stem_stride=1 2>&1", "r");
    len = fread((buf = calloc(4096, 1)), 1, 4095, p);
    status = pclose(p);
    cr_assert_eq(WEXITSTATUS(status), 2);
    cr_assert(strstr(buf, "odd 7x7 input"), "%s", buf);
    free(buf);
}
