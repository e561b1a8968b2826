/* cli.h — validated command-line parsing shared by every burn_gpu command (and burn_bench).
 *
 * Each command declares its options in a table; anything else is a usage error (exit 2)
 * that names the option and points at --help. Values are kept as text in argv order; the
 * command converts and range-checks them (burn_arg_int, burn_arg_choice). */
#ifndef BURN_CLI_H
#define BURN_CLI_H

#include <stdint.h>

#include "burn/config.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { BURN_EXIT_OK = 0, BURN_EXIT_RUNTIME = 1, BURN_EXIT_USAGE = 2 };

typedef struct burn_opt {
    const char *name;    /* "--config" */
    const char *metavar; /* "FILE"; NULL for a flag */
    const char *help;
    int repeatable;      /* may be given several times (--set) */
} burn_opt;

typedef struct burn_args {
    const char *prog; /* "burn_gpu config" */
    int n;
    const char **names, **values; /* values[i] NULL for flags */
    int npositional;
    const char **positional;
} burn_args;

/* Parse argv (after the command name) against opts; --help/-h prints help and exits 0.
 * Accepts "--opt value" and "--opt=value". Returns 0, or BURN_EXIT_USAGE after printing the
 * error. max_positional: how many bare arguments the command takes. */
int burn_args_parse(burn_args *a, const char *prog, const char *usage, const char *summary,
                    const burn_opt *opts, int max_positional, int argc, char **argv);
void burn_args_free(burn_args *a);
void burn_args_help(const char *prog, const char *usage, const char *summary,
                    const burn_opt *opts);

const char *burn_arg(const burn_args *a, const char *name); /* last value, or NULL */
int burn_arg_flag(const burn_args *a, const char *name);
/* Integer option in [lo, hi] (default def when absent). 0, or BURN_EXIT_USAGE after printing. */
int burn_arg_int(const burn_args *a, const char *name, int64_t lo, int64_t hi, int64_t def,
                 int64_t *out);
/* Option whose value must be one of "a|b|c" (default def when absent). */
int burn_arg_choice(const burn_args *a, const char *name, const char *choices, const char *def,
                    const char **out);

/* Options every config-taking command accepts (--config, --set, --device), and the loader
 * that applies them in that order. Returns 0 or BURN_EXIT_USAGE after printing the error. */
#define BURN_CONFIG_OPTS                                                                    \
    {"--config", "FILE", "INI config file (see burn_gpu config --dump)", 0},                \
        {"--set", "SECTION.KEY=VALUE", "override one config key (repeatable)", 1},          \
    {                                                                                       \
        "--device", "auto|cpu|cuda", "backend (overrides run.device)", 0                    \
    }
int burn_args_config(const burn_args *a, burn_config *cfg);

/* A training command's run-directory options (include/burn/run_dir.h), after BURN_CONFIG_OPTS */
#define BURN_RUN_DIR_OPTS                                                                   \
    {"--resume", NULL, "continue the run in run.dir from its newest valid checkpoint", 0},  \
    {                                                                                       \
        "--overwrite", NULL, "replace the run in run.dir (its metrics and checkpoints)", 0  \
    }
/* --resume / --overwrite / neither as a burn_run_mode (0-2); -1 after printing that both were
 * given (a usage error). */
int burn_args_run_mode(const burn_args *a);

#ifdef __cplusplus
}
#endif

#endif
