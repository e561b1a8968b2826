/* cmd_config.c — `burn_gpu config`: validate a config (file + --set) and print it resolved;
 * `--dump` prints every key with its doc, type, range and default. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "burn/cli.h"
#include "burn/commands.h"

/* The keys that name files or directories the commands read: a config is valid only if they
 * exist (relative paths are from the current directory, as the commands read them), except
 * train.init_from, which an earlier stage may still have to write (a note then). */
static int paths_exist(const burn_config *cfg) {
    static const struct { const char *section, *key; int later; } keys[] = {
        {"teacher", "checkpoint", 0}, {"teacher", "head_init", 0}, {"train", "init_from", 1},
        {"data", "root", 0}};
    int bad = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char value[4096], where[512];
        struct stat st;
        if (burn_config_value(cfg, keys[i].section, keys[i].key, value, sizeof value, where,
                              sizeof where) != 0 || !*value || stat(value, &st) == 0)
            continue;
        char *cwd = getcwd(NULL, 0);
        fprintf(stderr, "burn_gpu config: %s%s.%s = %s (%s): no such file or directory (relative "
                        "to the current directory, %s)%s\n", keys[i].later ? "note: " : "",
                keys[i].section, keys[i].key, value, where, cwd ? cwd : "?",
                keys[i].later ? "; the run that writes it must come first" : "");
        free(cwd);
        bad |= !keys[i].later;
    }
    return bad;
}

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
    if (rc == 0 && !burn_arg_flag(&a, "--dump") && paths_exist(&cfg)) rc = 2;
    if (rc == 0) burn_config_print(&cfg, stdout, burn_arg_flag(&a, "--dump"));
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
