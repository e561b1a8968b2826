/* test_config.c — the INI config: a good file, each class of error with its file:line:key
 * message, --set overrides, the dump (every key, re-parses to the defaults), and the CLI's
 * exit codes. Uses a small schema of every type plus burn's own schema. */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include "burn/check.h"
#include "burn/config.h"
#include "test_util.h"

typedef struct tcfg {
    int64_t a_n;
    double a_x;
    int a_on;
    char *b_name;
    char *b_mode;
} tcfg;

static const burn_cfg_key schema[] = {
    {"a", "n", BURN_CFG_INT, "4", 1, 100, NULL, "an int", offsetof(tcfg, a_n)},
    {"a", "x", BURN_CFG_FLOAT, "0.5", 0, 1, NULL, "a float", offsetof(tcfg, a_x)},
    {"a", "on", BURN_CFG_BOOL, "false", 0, 1, NULL, "a bool", offsetof(tcfg, a_on)},
    {"b", "name", BURN_CFG_STR, "none", 0, 0, NULL, "a string", offsetof(tcfg, b_name)},
    {"b", "mode", BURN_CFG_ENUM, "fast", 0, 0, "fast|slow|auto", "a choice", offsetof(tcfg, b_mode)},
};
#define NS ((int)(sizeof schema / sizeof schema[0]))

static char *path;
static tcfg cfg;
static burn_cfg_origin origin[NS];

static void setup(void) {
    path = tu_tmp_path("cfg.ini");
    burn_cfg_defaults(schema, NS, &cfg, origin);
}
static void teardown(void) {
    burn_cfg_free(schema, NS, &cfg);
    unlink(path);
    free(path);
}
TestSuite(config, .init = setup, .fini = teardown);

Test(config, defaults) {
    cr_assert_eq(cfg.a_n, 4);
    cr_assert_float_eq(cfg.a_x, 0.5, 0);
    cr_assert_eq(cfg.a_on, 0);
    cr_assert_str_eq(cfg.b_name, "none");
    cr_assert_str_eq(cfg.b_mode, "fast");
}

Test(config, good_file_with_comments) {
    tu_write_text(path, "; a comment\n# another\n[a]\nn = 17\nx = 0.25 ; inline\non = yes\n\n"
                        "[b]\nname = hello world\nmode = slow\n");
    cr_assert_eq(burn_cfg_load(schema, NS, &cfg, origin, path), 0, "%s", burn_error());
    cr_assert_eq(cfg.a_n, 17);
    cr_assert_float_eq(cfg.a_x, 0.25, 0);
    cr_assert_eq(cfg.a_on, 1);
    cr_assert_str_eq(cfg.b_name, "hello world");
    cr_assert_str_eq(cfg.b_mode, "slow");
    cr_assert_eq(origin[0].line, 4);
    cr_assert_str_eq(origin[0].file, path);
}

/* Load text, expect failure with message "<path>:<line>: <what>: ...<needle>..." */
static void expect_error(const char *text, int line, const char *what, const char *needle) {
    tu_write_text(path, text);
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, path), 0, "accepted: %s", text);
    char *prefix = NULL;
    cr_assert(asprintf(&prefix, "%s:%d: %s", path, line, what) > 0);
    cr_assert(strncmp(burn_error(), prefix, strlen(prefix)) == 0, "message '%s' does not start with '%s'",
              burn_error(), prefix);
    cr_assert(strstr(burn_error(), needle), "message '%s' lacks '%s'", burn_error(), needle);
    free(prefix);
}

Test(config, each_error_class_names_file_line_key) {
    expect_error("[a]\nn = 3\n[zzz]\nq = 1\n", 4, "zzz.q", "unknown section");
    expect_error("[a]\nnope = 3\n", 2, "a.nope", "unknown key");
    expect_error("[a]\n\nn = abc\n", 3, "a.n", "not an integer");
    expect_error("[a]\nn = 3.5\n", 2, "a.n", "not an integer");
    expect_error("[a]\nn = 0\n", 2, "a.n", "out of range");
    expect_error("[a]\nn = 99999999999999999999999\n", 2, "a.n", "not an integer");
    expect_error("[a]\nx = 1.5\n", 2, "a.x", "out of range");
    expect_error("[a]\nx = nan\n", 2, "a.x", "not a finite number");
    expect_error("[a]\nx = 0.1abc\n", 2, "a.x", "not a finite number");
    expect_error("[a]\non = maybe\n", 2, "a.on", "not a boolean");
    expect_error("[b]\nmode = turbo\n", 2, "b.mode", "is not one of fast|slow|auto");
    expect_error("[a]\nn = 3\nn = 4\n", 3, "a.n", "set twice (first at line 2)");
    expect_error("n = 3\n", 1, "n", "outside any [section]");
    /* issue 17 items 12 and 15: what inih got wrong */
    expect_error("[a\nn = 3\n", 1, "'[a' is not a section header", "expected '[section]'");
    FILE *f = fopen(path, "wb"); /* a NUL once cut the value short silently */
    fwrite("[a]\nn = 3\nx = 0.5\0junk\n", 1, 23, f);
    fclose(f);
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, path), 0);
    cr_assert(strstr(burn_error(), ":3: a NUL byte"), "%s", burn_error());
    expect_error("[a]\nx = 1e999\n", 2, "a.x", "not a finite number");
    tu_write_text(path, "[a]\nx = 1e-320\n"); /* an underflow is a number, not "not finite" */
    cr_assert_eq(burn_cfg_load(schema, NS, &cfg, origin, path), 0, "%s", burn_error());
    cr_assert(cfg.a_x > 0 && cfg.a_x < 1e-300);
}

/* An indented line is an ordinary key (no continuation lines); a line of any length loads. */
Test(config, indented_keys_and_long_lines) {
    tu_write_text(path, "[a]\n  n = 3\n\tx = 0.25\r\n");
    cr_assert_eq(burn_cfg_load(schema, NS, &cfg, origin, path), 0, "%s", burn_error());
    cr_assert_eq(cfg.a_n, 3);
    cr_assert_eq(cfg.a_x, 0.25);
    size_t len = 100000;
    char *text = malloc(len + 32);
    strcpy(text, "[b]\nname = ");
    size_t at = strlen(text);
    memset(text + at, 'x', len);
    strcpy(text + at + len, "\n");
    tu_write_text(path, text);
    cr_assert_eq(burn_cfg_load(schema, NS, &cfg, origin, path), 0, "%s", burn_error());
    cr_assert_eq(strlen(cfg.b_name), len);
    free(text);
}

Test(config, syntax_errors_and_missing_file) {
    tu_write_text(path, "[a]\nn = 3\nthis line has no equals sign\n");
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, path), 0);
    cr_assert(strstr(burn_error(), ":3: syntax error"), "%s", burn_error());

    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, "/nonexistent/x.ini"), 0);
    cr_assert(strstr(burn_error(), "/nonexistent/x.ini: cannot open"), "%s", burn_error());
    /* a directory (once read as an empty config: every key at its default) */
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, "/tmp"), 0);
    cr_assert(strstr(burn_error(), "/tmp: not a regular file (a directory)"), "%s", burn_error());
    /* an empty file, and a /proc file (regular, sized 0 by the kernel), set no key: refused */
    tu_write_text(path, "; nothing\n");
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, path), 0);
    cr_assert(strstr(burn_error(), "sets no key"), "%s", burn_error());
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, "/proc/self/status"), 0);
    cr_assert(strstr(burn_error(), "sets no key"), "%s", burn_error());
}

Test(config, set_overrides) {
    cr_assert_eq(burn_cfg_set(schema, NS, &cfg, origin, "a.n=9"), 0);
    cr_assert_eq(cfg.a_n, 9);
    cr_assert_str_eq(origin[0].file, "--set");
    cr_assert_eq(burn_cfg_set(schema, NS, &cfg, origin, "b.name=a=b"), 0); /* value may hold '=' */
    cr_assert_str_eq(cfg.b_name, "a=b");
    cr_assert_eq(burn_cfg_set(schema, NS, &cfg, origin, "b.name="), 0);
    cr_assert_str_eq(cfg.b_name, "");
    cr_assert_neq(burn_cfg_set(schema, NS, &cfg, origin, "a.n=1000"), 0);
    cr_assert(strstr(burn_error(), "a.n: 1000 is out of range"), "%s", burn_error());
    cr_assert_neq(burn_cfg_set(schema, NS, &cfg, origin, "a.zz=1"), 0);
    cr_assert(strstr(burn_error(), "unknown key"), "%s", burn_error());
    cr_assert_neq(burn_cfg_set(schema, NS, &cfg, origin, "nodot=1"), 0);
    cr_assert(strstr(burn_error(), "expected section.key=value"), "%s", burn_error());
    cr_assert_neq(burn_cfg_set(schema, NS, &cfg, origin, "a.n"), 0);
    cr_assert_eq(cfg.a_n, 9, "a failed --set leaves the value alone");
}

Test(config, write_then_reload_round_trips) {
    burn_cfg_set(schema, NS, &cfg, origin, "a.x=0.123456789012345");
    burn_cfg_set(schema, NS, &cfg, origin, "b.mode=auto");
    FILE *f = fopen(path, "w");
    burn_cfg_write(schema, NS, &cfg, f, 1);
    fclose(f);
    tcfg again;
    burn_cfg_defaults(schema, NS, &again, NULL);
    cr_assert_eq(burn_cfg_load(schema, NS, &again, NULL, path), 0, "%s", burn_error());
    cr_assert_eq(again.a_x, cfg.a_x);
    cr_assert_str_eq(again.b_mode, "auto");
    burn_cfg_free(schema, NS, &again);
}

/* ---- burn's own schema and the CLI ---- */

static int run(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0;
    char *buf = calloc(cap, 1);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) len += r;
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(config, dump_lists_every_key_and_reparses_to_defaults) {
    char *out;
    cr_assert_eq(run(BURN_GPU " config --dump", &out), 0);
    for (int i = 0; i < burn_config_schema_len; i++) {
        char *line = NULL;
        cr_assert(asprintf(&line, "\n%s = ", burn_config_schema[i].key) > 0);
        cr_assert(strstr(out, line), "dump lacks %s.%s", burn_config_schema[i].section,
                  burn_config_schema[i].key);
        cr_assert(strstr(out, burn_config_schema[i].doc), "dump lacks the doc of %s",
                  burn_config_schema[i].key);
        free(line);
    }
    tu_write_text(path, out);
    burn_config c;
    burn_config_defaults(&c);
    cr_assert_eq(burn_config_load(&c, path), 0, "dump does not parse: %s", burn_error());
    burn_config_free(&c);
    free(out);
}

Test(config, cli_errors_exit_2_with_location) {
    char *out, *cmd;
    tu_write_text(path, "[run]\nseed = 1\n[log]\nevery = -5\n");
    cr_assert(asprintf(&cmd, BURN_GPU " config --config %s 2>&1", path) > 0);
    cr_assert_eq(run(cmd, &out), 2);
    cr_assert(strstr(out, ":4: log.every: -5 is out of range"), "%s", out);
    free(out), free(cmd);

    cr_assert_eq(run(BURN_GPU " config --set run.device=tpu 2>&1", &out), 2);
    cr_assert(strstr(out, "run.device: 'tpu' is not one of auto|cpu|cuda"), "%s", out);
    free(out);

    cr_assert_eq(run(BURN_GPU " config --bogus 2>&1", &out), 2);
    cr_assert(strstr(out, "unknown option '--bogus'"), "%s", out);
    free(out);

    cr_assert_eq(run(BURN_GPU " frobnicate 2>&1", &out), 2);
    cr_assert(strstr(out, "unknown command 'frobnicate'"), "%s", out);
    free(out);

    cr_assert_eq(run(BURN_GPU " config --set run.seed=7 --set log.quiet=on", &out), 0);
    cr_assert(strstr(out, "seed = 7\n"), "%s", out);
    cr_assert(strstr(out, "quiet = true\n"), "%s", out);
    free(out);

    /* every program says its version, commit and backends */
    const char *progs[][2] = {{BURN_GPU, "burn_gpu 0."}, {BURN_BENCH, "burn_bench 0."},
                              {BURN_INFER, "burn_infer 0."}};
    for (int i = 0; i < 3; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s --version", progs[i][0]);
        cr_assert_eq(run(cmd, &out), 0, "%s", cmd);
        cr_assert(strstr(out, progs[i][1]) && strstr(out, "backends cpu"), "%s", out);
        free(out);
    }
    cr_assert_eq(run(BURN_GPU " config --help", &out), 0);
    cr_assert(strstr(out, "--dump"), "%s", out);
    free(out);
}

Test(config, save_writes_resolved_config_atomically) {
    burn_config c;
    burn_config_defaults(&c);
    cr_assert_eq(burn_config_set(&c, "run.seed=99"), 0);
    cr_assert_eq(burn_config_save(&c, path), 0, "%s", burn_error());
    burn_config d;
    burn_config_defaults(&d);
    cr_assert_eq(burn_config_load(&d, path), 0, "%s", burn_error());
    cr_assert_eq(d.run_seed, 99);
    cr_assert_neq(burn_config_save(&c, "/nonexistent-dir/config.ini"), 0);
    cr_assert(strstr(burn_error(), "/nonexistent-dir/config.ini"), "%s", burn_error());
    burn_config_free(&c);
    burn_config_free(&d);
}

/* [config] base = FILE: the base first, then the file's own keys over it; relative to the
 * file that names it; errors in the base name the base's line; cycles end. */
Test(config, a_file_starts_from_its_base) {
    char *base = tu_tmp_path("base.ini"), *name = strrchr(base, '/') + 1, *text = NULL;
    tu_write_text(base, "[a]\nn = 5\nx = 0.25\n[b]\nname = from base\n");
    cr_assert(asprintf(&text, "; only the differences\n[config]\nbase = %s\n\n[a]\nn = 7\n", name) > 0);
    tu_write_text(path, text);
    cr_assert_eq(burn_cfg_load(schema, NS, &cfg, origin, path), 0, "%s", burn_error());
    cr_assert_eq(cfg.a_n, 7);
    cr_assert_eq(cfg.a_x, 0.25);
    cr_assert_str_eq(cfg.b_name, "from base");
    cr_assert_str_eq(origin[0].file, path); /* n: the file's own line */
    cr_assert_eq(origin[0].line, 6);
    cr_assert_str_eq(origin[1].file, base); /* x: the base's */
    cr_assert_eq(origin[1].line, 3);
    /* an error inside the base names the base's file and line */
    tu_write_text(base, "[a]\nn = many\n");
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, path), 0);
    char *want = NULL;
    cr_assert(asprintf(&want, "%s:3: config.base: %s:2: a.n: not an integer", path, base) > 0);
    cr_assert(strstr(burn_error(), want), "%s", burn_error());
    free(want);
    /* base after another key; a file that is its own base */
    tu_write_text(path, "[a]\nn = 1\n[config]\nbase = x.ini\n");
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, path), 0);
    cr_assert(strstr(burn_error(), "before any other key"), "%s", burn_error());
    free(text);
    cr_assert(asprintf(&text, "[config]\nbase = %s\n", strrchr(path, '/') + 1) > 0);
    tu_write_text(path, text);
    cr_assert_neq(burn_cfg_load(schema, NS, &cfg, origin, path), 0);
    cr_assert(strstr(burn_error(), "more than 8 deep (a cycle?)"), "%s", burn_error());
    unlink(base);
    free(base), free(text);
}
