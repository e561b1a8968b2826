/* cmd_config.c — `burn_gpu config`: validate a config (file + --set) and print it resolved;
 * `--dump` prints every key with its doc, type, range and default. */
#include <stdio.h>

#include "burn/cli.h"
#include "burn/commands.h"

int cmd_config(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        {"--dump", NULL, "print every key with its doc, type, range and default", 0},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu config", "[--dump] [--config FILE] [--set K=V ...]",
                             "Check a configuration and print it resolved (defaults, then the "
                             "file, then --set). The output is itself a valid config file.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    burn_config cfg;
    rc = burn_args_config(&a, &cfg);
    if (rc == 0) burn_config_print(&cfg, stdout, burn_arg_flag(&a, "--dump"));
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
