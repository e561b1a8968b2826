/* test_convert_teacher.c — tools/convert_teacher.py on committed PyTorch checkpoints (MoCo v2
 * zip layout and the legacy format, made by tools/reference/make_fixtures.py from the stage-1
 * fixture's teacher): the converted file holds exactly the fixture's teacher tensors, under
 * burn's names; a wrong architecture or a non-checkpoint is refused with a clear message and
 * no output file. */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "burn/check.h"
#include "burn/fileio.h"
#include "burn/safetensors.h"
#include "test_util.h"

static int sh(const char *cmd) {
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void check_converted(const char *pth) {
    char *out = tu_tmp_path("teacher.safetensors"), *cmd = NULL;
    cr_assert(asprintf(&cmd, "python3 tools/convert_teacher.py tests/fixtures/%s %s --arch resnet18 "
                             "--width 0.0625 --small-input >/dev/null", pth, out) > 0);
    cr_assert_eq(sh(cmd), 0, "converter failed on %s", pth);
    burn_st_file conv, fix;
    cr_assert_eq(burn_st_open(&conv, out), 0, "%s", burn_error());
    cr_assert_eq(burn_st_open(&fix, "tests/fixtures/burn_step_stage1.safetensors"), 0, "%s", burn_error());
    cr_assert_eq(conv.n, 100, "ResNet-18 has 100 tensors without num_batches_tracked and fc");
    for (int i = 0; i < conv.n; i++) {
        char name[256];
        snprintf(name, sizeof name, "teacher.%s", conv.tensors[i].name);
        const burn_st_tensor *t = burn_st_find(&fix, name);
        cr_assert_not_null(t, "%s not in the fixture", name);
        cr_assert_eq(t->end - t->begin, conv.tensors[i].end - conv.tensors[i].begin);
        cr_assert(memcmp(t->data, conv.tensors[i].data, t->end - t->begin) == 0, "%s differs", name);
    }
    cr_assert_str_eq(burn_st_meta(&conv, "arch"), "resnet18");
    burn_st_close(&conv);
    burn_st_close(&fix);
    unlink(out);
    free(out);
    free(cmd);
}

Test(convert_teacher, moco_zip_checkpoint) { check_converted("teacher_moco.pth"); }

/* Without --arch/--width/--small-input the converter reads them off the tensor shapes
 * (issue 19 item 4): the fixture's ResNet-18 at width 1/16 with the small-input stem. */
Test(convert_teacher, architecture_from_the_shapes) {
    char *out = tu_tmp_path("teacher-auto.safetensors"), *cmd = NULL;
    cr_assert(asprintf(&cmd, "python3 tools/convert_teacher.py tests/fixtures/teacher_legacy.pth %s "
                             ">/dev/null", out) > 0);
    cr_assert_eq(sh(cmd), 0);
    burn_st_file conv;
    cr_assert_eq(burn_st_open(&conv, out), 0, "%s", burn_error());
    cr_assert_eq(conv.n, 100);
    cr_assert_str_eq(burn_st_meta(&conv, "arch"), "resnet18");
    cr_assert_str_eq(burn_st_meta(&conv, "width"), "0.0625");
    cr_assert_str_eq(burn_st_meta(&conv, "small_input"), "true");
    burn_st_close(&conv);
    unlink(out);
    free(out), free(cmd);
}
Test(convert_teacher, legacy_checkpoint) { check_converted("teacher_legacy.pth"); }

static char *run_logged(const char *args, int *rc) {
    char *log = tu_tmp_path("convert.log"), *cmd = NULL;
    cr_assert(asprintf(&cmd, "python3 tools/convert_teacher.py %s > %s 2>&1", args, log) > 0);
    *rc = sh(cmd);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file(log, 1 << 20, &text, &n), 0);
    unlink(log);
    free(log), free(cmd);
    return (char *)text;
}

Test(convert_teacher, mismatch_and_garbage_are_refused_without_output) {
    char *out = tu_tmp_path("bad.safetensors"), *args = NULL;
    struct stat st;
    int rc;
    cr_assert(asprintf(&args, "tests/fixtures/teacher_moco.pth %s --arch resnet50", out) > 0);
    char *text = run_logged(args, &rc);
    cr_assert_eq(rc, 1, "%s", text);
    cr_assert(strstr(text, "missing") && strstr(text, "check --arch"), "%s", text);
    cr_assert_neq(stat(out, &st), 0, "no output on failure");
    free(text), free(args);
    cr_assert(asprintf(&args, "tests/fixtures/teacher_moco.pth %s --arch resnet18 --width 0.125 "
                              "--small-input", out) > 0);
    text = run_logged(args, &rc);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(text, "conv1.weight: checkpoint (4, 3, 3, 3), expected (8, 3, 3, 3)"), "%s", text);
    free(text), free(args);
    cr_assert(asprintf(&args, "tests/fixtures/burn_step_stage1.safetensors %s", out) > 0);
    text = run_logged(args, &rc);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(text, "not a PyTorch checkpoint"), "%s", text);
    cr_assert_neq(stat(out, &st), 0, "no output on failure");
    free(text), free(args), free(out);
}
