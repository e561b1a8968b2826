/* test_log.c — the JSONL metrics writer (one parseable object per line, non-finite as null),
 * the progress line, duration formatting, atomic writes and mkdir -p. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "burn/check.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "test_util.h"

Test(log, metrics_jsonl_lines_parse) {
    char *path = tu_tmp_path("metrics.jsonl");
    unlink(path);
    burn_metrics m;
    cr_assert_eq(burn_metrics_open(&m, path, INT64_MAX), 0);
    burn_log_quiet = 1;
    burn_metric kv[3] = {{"loss", 1.5, "%.4f"}, {"lr", 3e-4, NULL}, {"bad", NAN, NULL}};
    burn_log_step(&m, 10, 100, 2.0, kv, 3);
    burn_log_step(&m, 20, 100, 4.0, kv, 2);
    burn_metrics_close(&m);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file(path, 1 << 20, &text, &n), 0);
    char *line2 = strchr((char *)text, '\n');
    cr_assert_not_null(line2);
    *line2++ = 0;
    cJSON *a = cJSON_Parse((char *)text), *b = cJSON_Parse(line2);
    cr_assert_not_null(a, "not JSON: %s", text);
    cr_assert_not_null(b, "not JSON: %s", line2);
    cr_assert_eq(cJSON_GetObjectItem(a, "step")->valuedouble, 10);
    cr_assert_eq(cJSON_GetObjectItem(a, "loss")->valuedouble, 1.5);
    cr_assert_float_eq(cJSON_GetObjectItem(a, "lr")->valuedouble, 3e-4, 1e-12);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(a, "bad")));
    cr_assert_float_eq(cJSON_GetObjectItem(a, "eta_s")->valuedouble, 18.0, 1e-9);
    cr_assert_eq(cJSON_GetObjectItem(b, "step")->valuedouble, 20);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(text);
    unlink(path);
    free(path);
}

Test(log, durations) {
    char b[32];
    burn_format_duration(42, b, sizeof b);
    cr_assert_str_eq(b, "42s");
    burn_format_duration(185, b, sizeof b);
    cr_assert_str_eq(b, "3m05s");
    burn_format_duration(3725, b, sizeof b);
    cr_assert_str_eq(b, "1h02m");
    burn_format_duration(NAN, b, sizeof b);
    cr_assert_str_eq(b, "?");
}

Test(log, atomic_write_replaces_whole_file_and_mkdirs) {
    char *dir = tu_tmp_path("dir/a/b");
    cr_assert_eq(burn_mkdirs(dir), 0, "%s", burn_error());
    cr_assert_eq(burn_mkdirs(dir), 0, "idempotent");
    char *file = NULL;
    cr_assert(asprintf(&file, "%s/x.txt", dir) > 0);
    cr_assert_eq(burn_write_file_atomic(file, "first", 5), 0);
    cr_assert_eq(burn_write_file_atomic(file, "second!", 7), 0);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file(file, 100, &text, &n), 0);
    cr_assert_eq(n, 7);
    cr_assert(memcmp(text, "second!", 7) == 0);
    free(text);
    cr_assert_neq(burn_read_file(file, 3, &text, &n), 0, "size limit");
    cr_assert(strstr(burn_error(), "over the limit"), "%s", burn_error());
    /* a read-only directory: clear error, old file intact (skip the check as root: root
     * ignores modes) */
    if (geteuid() != 0) {
        chmod(dir, 0555);
        cr_assert_neq(burn_write_file_atomic(file, "third", 5), 0);
        chmod(dir, 0755);
    }
    cr_assert_neq(burn_mkdirs(file), 0, "a file is not a directory");
    unlink(file);
    free(file);
    free(dir);
}

Test(log, json_quote_escapes) {
    char *q = burn_json_quote("a\"b\\c\nd/é");
    cr_assert_str_eq(q, "\"a\\\"b\\\\c\\u000ad/é\"");
    free(q);
    q = burn_json_quote("");
    cr_assert_str_eq(q, "\"\"");
    free(q);
}

/* A file name with a newline or an ANSI escape cannot forge or hide a line (issue 17 item
 * 14): errors, log lines and warnings escape control characters, and a warning is one line
 * written at once. */
Test(log, control_characters_in_names_are_escaped) {
    const char *evil = "evil\nburn: stage 1 done: FAKE.png\x1b[2K\t.png";
    burn_error_set("%s: cannot open", evil);
    cr_assert_str_eq(burn_error(), "evil\\nburn: stage 1 done: FAKE.png\\x1b[2K\\t.png: cannot open");
    char *path = tu_tmp_path("warn.txt");
    FILE *saved = stderr, *f = fopen(path, "w+");
    cr_assert(f);
    stderr = f;
    burn_warn("skipping %s", evil);
    stderr = saved;
    fclose(f);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file(path, 1 << 16, &text, &n), 0);
    cr_assert_str_eq((char *)text, "burn: warning: skipping evil\\nburn: stage 1 done: FAKE.png"
                                   "\\x1b[2K\\t.png\n");
    free(text);
    unlink(path);
    free(path);
}

/* The progress line's "epoch e/E": the 1-based epoch of the last update, never E + 1 at the
 * end (issue 19 item 6). */
Test(log, epoch_of_the_last_update) {
    cr_assert_eq(burn_epoch_of(0, 78), 0);
    cr_assert_eq(burn_epoch_of(1, 78), 1);
    cr_assert_eq(burn_epoch_of(78, 78), 1);
    cr_assert_eq(burn_epoch_of(79, 78), 2);
    cr_assert_eq(burn_epoch_of(234, 78), 3);
    char fmt[32], line[32];
    snprintf(line, sizeof line, burn_epoch_format(fmt, sizeof fmt, 3), burn_epoch_of(234, 78));
    cr_assert_str_eq(line, "3/3");
}
