/* main.c — burn_gpu: BURN training of binary networks on CPU or CUDA.
 * `burn_gpu <command> [options]`; every command has --help. Exit codes: 0 ok, 1 runtime
 * error, 2 usage or config error. Under an MPI launcher (mpirun -np N burn_gpu ...) every
 * process is one rank of a data-parallel job (include/burn/dist.h); alone it is world 1. */
#include <stdio.h>
#include <string.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/dist.h"
#include "burn/openmp_env.h"

#ifndef BURN_GIT_REV
#define BURN_GIT_REV "unknown"
#endif

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"config", cmd_config, "check a config and print it resolved; --dump lists every key"},
    {"train", cmd_train, "train one BURN stage (--resume continues a run)"},
    {"pipeline", cmd_pipeline, "BURN stage 1 then stage 2, initialised from stage 1"},
    {"pretrain-teacher", cmd_pretrain_teacher,
     "pretrain the FP teacher backbone with MoCo v2 (writes teacher.safetensors)"},
    {"finetune", cmd_finetune,
     "fine-tune the student + a classifier on 1%/10% labels (or all: supervised baseline)"},
    {"prepare-fashion-mnist", cmd_prepare_fashion_mnist,
     "write Fashion-MNIST (Debian package) as an ImageFolder tree of PNG files"},
    {"eval", cmd_eval,
     "evaluate frozen features: eval knn (weighted k-NN top-1), eval svm, eval linear"},
    {"extract", cmd_extract, "features of a split (student, teacher or pixels) to a safetensors file"},
    {"report", cmd_report, "markdown table of evaluation JSON files (k-NN, linear, SVM, finetune)"},
    {"export", cmd_export, "export --packed: the stage-2 student, bit-packed, for burn_infer"},
    {"selftest", cmd_selftest, "one BURN step vs PyTorch (and vs the CPU): trust a backend"},
    {"info", cmd_info, "build features, backends and devices of this binary"},
    {"summary", cmd_summary, "per-layer table of the configured networks (params, MACs, memory)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: burn_gpu <command> [options]   (burn_gpu <command> --help)\n\n"
               "BURN: unsupervised training of binary (1-bit) networks, CPU or CUDA.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version          print the version\n  --help             this text\n");
}

static int run_command(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return BURN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return BURN_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        burn_print_version("burn_gpu");
        return BURN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "burn_gpu: unknown command '%s' (burn_gpu --help lists them)\n", argv[1]);
    return BURN_EXIT_USAGE;
}

int main(int argc, char **argv) {
    burn_openmp_env(argv);
    if (burn_dist_init(&argc, &argv) != 0) {
        fprintf(stderr, "burn_gpu: %s\n", burn_error());
        return BURN_EXIT_RUNTIME;
    }
    /* a failing rank stops the whole job instead of leaving the others waiting */
    return burn_dist_finalize(run_command(argc, argv));
}
