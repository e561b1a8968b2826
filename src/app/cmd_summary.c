/* cmd_summary.c — `burn_gpu summary`: per-layer table of the configured networks (student
 * ReActNet-A with its FC, the MLP heads, the teacher ResNet) with parameter, MAC and memory
 * totals. Shapes come from the config ([model], [teacher], [head], data.image_size). */
#include <stdio.h>
#include <string.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/models.h"

int cmd_summary(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--model", "student|teacher|all", "which networks to list (default student)", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu summary", "--config FILE [--model student|teacher|all]",
                             "Per-layer table of the configured networks: output shape, 1-bit "
                             "and 32-bit parameters, binary and FP MACs per sample, weight "
                             "memory as FP32 and bit-packed.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    const char *which;
    burn_config cfg;
    if ((rc = burn_arg_choice(&a, "--model", "student|teacher|all", "student", &which)) ||
        (rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    burn_reactnet student;
    burn_resnet teacher;
    burn_head shead, thead;
    if (burn_models_from_config(&cfg, &student, &teacher, &shead, &thead) != 0) {
        fprintf(stderr, "burn_gpu summary: %s\n", burn_error());
        burn_config_free(&cfg);
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    burn_summary s;
    char title[256];
    if (strcmp(which, "teacher") != 0) {
        snprintf(title, sizeof title,
                 "student: ReActNet-A stage %d, width %g, %dx%d input (stem stride %d)",
                 student.cfg.stage, student.cfg.width, student.cfg.image_size,
                 student.cfg.image_size, student.cfg.stem_stride);
        burn_summary_begin(&s, stdout, title);
        burn_reactnet_visit(&student, burn_summary_row, &s);
        burn_summary_end(&s);
    }
    if (strcmp(which, "all") == 0) {
        printf("\n");
        burn_summary_begin(&s, stdout, "heads: student classifier and teacher classifier (MLP)");
        burn_head_visit(&shead, "student_head.", burn_summary_row, &s);
        burn_head_visit(&thead, "teacher_head.", burn_summary_row, &s);
        burn_summary_end(&s);
        printf("\n");
    }
    if (strcmp(which, "student") != 0) {
        snprintf(title, sizeof title, "teacher: %s, width %g, %dx%d input%s", cfg.teacher_arch,
                 cfg.teacher_width, (int)cfg.data_image_size, (int)cfg.data_image_size,
                 cfg.teacher_small_input ? " (small-input stem)" : "");
        burn_summary_begin(&s, stdout, title);
        burn_resnet_visit(&teacher, burn_summary_row, &s);
        burn_summary_end(&s);
    }
    burn_config_free(&cfg);
    burn_args_free(&a);
    return 0;
}
