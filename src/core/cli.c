/* cli.c — table-driven option parsing with usage errors that name the option. */
#include "burn/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/run_dir.h"

void burn_args_help(const char *prog, const char *usage, const char *summary,
                    const burn_opt *opts) {
    printf("usage: %s %s\n\n%s\n\noptions:\n", prog, usage, summary);
    for (const burn_opt *o = opts; o && o->name; o++) {
        char left[96];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        printf("  %-34s %s\n", left, o->help);
    }
    printf("  %-34s %s\n", "-h, --help", "show this help");
}

static int usage_error(const char *prog, const char *fmt, const char *what) {
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see %s --help)\n", prog);
    return BURN_EXIT_USAGE;
}

int burn_args_parse(burn_args *a, const char *prog, const char *usage, const char *summary,
                    const burn_opt *opts, int max_positional, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->prog = prog;
    a->names = burn_xcalloc((size_t)argc + 1, sizeof(char *));
    a->values = burn_xcalloc((size_t)argc + 1, sizeof(char *));
    a->positional = burn_xcalloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            burn_args_help(prog, usage, summary, opts);
            burn_args_free(a);
            exit(0);
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (a->npositional >= max_positional) {
                burn_args_free(a);
                return usage_error(prog, "unexpected argument '%s'", arg);
            }
            a->positional[a->npositional++] = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const burn_opt *o = opts;
        for (; o && o->name; o++)
            if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0) break;
        if (!o || !o->name) {
            burn_args_free(a);
            return usage_error(prog, "unknown option '%s'", arg);
        }
        const char *value = NULL;
        if (o->metavar) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                burn_args_free(a);
                return usage_error(prog, "option %s needs a value", o->name);
            }
        } else if (eq) {
            burn_args_free(a);
            return usage_error(prog, "option %s takes no value", o->name);
        }
        if (!o->repeatable && burn_arg(a, o->name)) {
            burn_args_free(a);
            return usage_error(prog, "option %s given twice", o->name);
        }
        a->names[a->n] = o->name;
        a->values[a->n] = value ? value : NULL;
        a->n++;
    }
    return 0;
}

void burn_args_free(burn_args *a) {
    free(a->names);
    free(a->values);
    free(a->positional);
    a->names = a->values = a->positional = NULL;
    a->n = a->npositional = 0;
}

const char *burn_arg(const burn_args *a, const char *name) {
    const char *v = NULL;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0) v = a->values[i] ? a->values[i] : "";
    return v;
}

int burn_arg_flag(const burn_args *a, const char *name) { return burn_arg(a, name) != NULL; }

int burn_arg_int(const burn_args *a, const char *name, int64_t lo, int64_t hi, int64_t def,
                 int64_t *out) {
    const char *v = burn_arg(a, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno) {
        fprintf(stderr, "%s: %s: not an integer: '%s'\n", a->prog, name, v);
        return BURN_EXIT_USAGE;
    }
    if (x < lo || x > hi) {
        fprintf(stderr, "%s: %s: %lld is out of range [%lld, %lld]\n", a->prog, name, x,
                (long long)lo, (long long)hi);
        return BURN_EXIT_USAGE;
    }
    *out = x;
    return 0;
}

int burn_arg_choice(const burn_args *a, const char *name, const char *choices, const char *def,
                    const char **out) {
    const char *v = burn_arg(a, name);
    if (!v) {
        *out = def;
        return 0;
    }
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) {
            *out = v;
            return 0;
        }
        if (!bar) break;
        p = bar + 1;
    }
    fprintf(stderr, "%s: %s: '%s' is not one of %s\n", a->prog, name, v, choices);
    return BURN_EXIT_USAGE;
}

int burn_args_run_mode(const burn_args *a) {
    int resume = burn_arg_flag(a, "--resume"), overwrite = burn_arg_flag(a, "--overwrite");
    if (resume && overwrite) {
        fprintf(stderr, "%s: --resume continues the run in run.dir and --overwrite replaces it: "
                        "give one\n", a->prog);
        return -1;
    }
    return resume ? BURN_RUN_RESUME : overwrite ? BURN_RUN_OVERWRITE : BURN_RUN_NEW;
}

int burn_args_config(const burn_args *a, burn_config *cfg) {
    burn_config_defaults(cfg);
    const char *path = burn_arg(a, "--config");
    if (path && burn_config_load(cfg, path) != 0) {
        fprintf(stderr, "%s: %s\n", a->prog, burn_error());
        burn_config_free(cfg); /* idempotent: callers may free again */
        return BURN_EXIT_USAGE;
    }
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->names[i], "--set") == 0 && burn_config_set(cfg, a->values[i]) != 0) {
            fprintf(stderr, "%s: %s\n", a->prog, burn_error());
            burn_config_free(cfg);
            return BURN_EXIT_USAGE;
        }
    const char *device = burn_arg(a, "--device");
    if (device) {
        char *assign = NULL;
        if (asprintf(&assign, "run.device=%s", device) < 0) return BURN_EXIT_RUNTIME;
        int rc = burn_config_set(cfg, assign);
        free(assign);
        if (rc != 0) {
            fprintf(stderr, "%s: --device %s: not one of auto|cpu|cuda\n", a->prog, device);
            burn_config_free(cfg);
            return BURN_EXIT_USAGE;
        }
    }
    return 0;
}
