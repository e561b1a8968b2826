/* commands.h — the burn_gpu subcommands; src/app/main.c dispatches on argv[1]. Each takes the
 * arguments after its name and returns the process exit code (0 ok, 1 runtime, 2 usage). */
#ifndef BURN_COMMANDS_H
#define BURN_COMMANDS_H

#define BURN_VERSION "0.1.0"

/* "<prog> 0.1.0 (<commit>): backends cpu[, cuda]" — every program's --version
 * (src/app/cmd_info.c; `burn_gpu info` says more). */
void burn_print_version(const char *prog);

int cmd_config(int argc, char **argv); /* src/app/cmd_config.c */
int cmd_info(int argc, char **argv);   /* src/app/cmd_info.c */
int cmd_summary(int argc, char **argv); /* src/app/cmd_summary.c */
int cmd_train(int argc, char **argv);   /* src/app/cmd_train.c */
int cmd_pipeline(int argc, char **argv); /* src/app/cmd_train.c */
int cmd_eval(int argc, char **argv);    /* src/app/cmd_eval.c */
int cmd_eval_svm(int argc, char **argv); /* src/app/cmd_svm.c: `eval svm` */
int cmd_eval_linear(int argc, char **argv); /* src/app/cmd_linear.c: `eval linear` */
int cmd_extract(int argc, char **argv); /* src/app/cmd_extract.c */
int cmd_report(int argc, char **argv);  /* src/app/cmd_report.c */
int cmd_export(int argc, char **argv);  /* src/app/cmd_export.c */
int cmd_selftest(int argc, char **argv); /* src/app/cmd_selftest.c */
int cmd_prepare_fashion_mnist(int argc, char **argv); /* src/data/data_prepare.c */
int cmd_pretrain_teacher(int argc, char **argv); /* src/app/cmd_pretrain.c */
int cmd_finetune(int argc, char **argv); /* src/app/cmd_finetune.c */

#endif
