/* test_report.c — `burn_gpu report` on fixture JSON files: the markdown table has a row per
 * run and a column per protocol measure with the right numbers ("–" where missing), checked
 * cell by cell; labels, direct files, skipped non-results; runs sharing a label averaged (mean ±
 * sample std, count); clear errors for bad JSON. */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "test_util.h"

static int run(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0;
    *out = calloc(cap, 1);
    for (size_t got; (got = fread(*out + len, 1, cap - 1 - len, p)) > 0;) len += got;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The table of a markdown text: cells[row][col] (row 0: the header), trimmed. */
typedef struct table {
    int rows, cols;
    char cell[16][24][64];
} table;

/* One "| a | b |" line into t's next row. */
static void parse_line(const char *line, table *t) {
    int col = 0;
    const char *c = line + 1;
    while (*c && *c != '\n') {
        const char *end = c;
        while (*end && *end != '\n' && !(*end == '|' && end[-1] != '\\')) end++; /* "\|" */
        if (*end != '|') break;
        const char *a = c, *b = end;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        cr_assert(t->rows < 16 && col < 24);
        snprintf(t->cell[t->rows][col], 64, "%.*s", (int)(b - a), a);
        col++;
        c = end + 1;
    }
    if (t->rows == 0) t->cols = col;
    else cr_assert_eq(col, t->cols, "row %d: %d cells, the header %d", t->rows, col, t->cols);
    t->rows++;
}

static void parse_table(const char *md, table *t) {
    memset(t, 0, sizeof *t);
    for (const char *line = md; line && *line;) {
        if (line[0] == '|' && strncmp(line, "|---", 4) != 0) parse_line(line, t);
        line = strchr(line, '\n');
        if (line) line++;
    }
}

static int col_of(const table *t, const char *header) {
    for (int j = 0; j < t->cols; j++)
        if (strcmp(t->cell[0][j], header) == 0) return j;
    cr_assert_fail("no column '%s'", header);
    return -1;
}

static int row_of(const table *t, const char *name) {
    for (int i = 1; i < t->rows; i++)
        if (strcmp(t->cell[i][0], name) == 0) return i;
    cr_assert_fail("no row '%s'", name);
    return -1;
}

static const char *at(const table *t, const char *row, const char *col) {
    return t->cell[row_of(t, row)][col_of(t, col)];
}

static char *dir;

static void put(const char *rel, const char *text) {
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, rel) > 0);
    char *slash = strrchr(p, '/');
    *slash = 0;
    mkdir(p, 0755);
    *slash = '/';
    tu_write_text(p, text);
    free(p);
}

static void fixtures(void) {
    dir = tu_tmp_path("report");
    mkdir(dir, 0755);
    put("runA/knn.json", "{\"protocol\": \"knn\", \"backbone\": \"student\", \"k\": 20, "
                         "\"temperature\": 0.07, \"top1\": 0.4754}");
    put("runA/linear.json", "{\"protocol\": \"linear\", \"backbone\": \"student\", "
                            "\"top1\": 0.61234, \"top5\": 0.9}");
    put("runA/svm.json",
        "{\"protocol\": \"svm\", \"backbone\": \"student\", \"checkpoint\": \"x\", \"rows\": ["
        "{\"shots\": 0, \"map_mean\": 0.8, \"map_std\": 0, \"acc_mean\": 0.7, "
        "\"acc_std\": 0, \"cost\": 1},"
        "{\"shots\": 2, \"map_mean\": 0.5, \"map_std\": 0.0123, \"acc_mean\": 0.4, "
        "\"acc_std\": 0.01, \"cost\": 1},"
        "{\"shots\": 16, \"map_mean\": 0.6, \"map_std\": 0.01, \"acc_mean\": 0.5, "
        "\"acc_std\": 0.01, \"cost\": 2}]}");
    put("runA/metrics.json", "{\"loss\": 1.5}"); /* no protocol: not a result, skipped */
    put("runA/notes.txt", "not json");
    put("runB/knn_teacher.json", "{\"protocol\": \"knn\", \"backbone\": \"teacher\", \"k\": 20, "
                                 "\"top1\": 0.7289}");
    put("runB/finetune_10.json", "{\"protocol\": \"finetune\", \"fraction\": 0.1, \"top1\": 0.55, "
                                 "\"top5\": 0.8}");
    put("runB/finetune_1.json", "{\"protocol\": \"finetune\", \"fraction\": 0.01, \"top1\": 0.25, "
                                "\"top5\": 0.5}");
    put("runC/svm_s.json",
        "{\"protocol\": \"svm\", \"rows\": [{\"shots\": 2, \"map_mean\": 0.3}]}");
}

static void cleanup(void) {
    char *cmd;
    if (asprintf(&cmd, "rm -rf %s", dir) > 0 && system(cmd) != 0) cr_log_warn("cleanup failed");
    free(cmd);
    free(dir);
}

TestSuite(report, .init = fixtures, .fini = cleanup);

Test(report, table_of_run_directories) {
    /* run inside the fixture directory, so that the rows are named runA, runB, runC */
    char *cmd, *out, *cwd = getcwd(NULL, 0);
    cr_assert(asprintf(&cmd, "cd %s && %s%s" BURN_GPU " report --out out/report.md runA runB/ "
                       "runC/svm_s.json", dir, BURN_GPU[0] == '/' ? "" : cwd,
                       BURN_GPU[0] == '/' ? "" : "/") > 0);
    free(cwd);
    cr_assert_eq(run(cmd, &out), 0, "%s", out);
    table t;
    parse_table(out, &t);
    /* columns: protocol order, then k / shots (full last) / fraction */
    const char *want[] = {"run", "k-NN top-1 (k=20)", "linear top-1", "linear top-5",
                          "SVM mAP k=2", "SVM mAP k=16", "SVM mAP full",
                          "finetune top-1 (1%)", "finetune top-1 (10%)"};
    cr_assert_eq(t.cols, 9, "%s", out);
    for (int j = 0; j < 9; j++) cr_assert_str_eq(t.cell[0][j], want[j]);
    /* runA; runB's files are named <protocol>_<name>: "runB: teacher", "runB: 1", "runB: 10" */
    cr_assert_eq(t.rows, 1 + 5, "%s", out);
    cr_assert_str_eq(at(&t, "runA", "k-NN top-1 (k=20)"), "47.54");
    cr_assert_str_eq(at(&t, "runA", "linear top-1"), "61.23");
    cr_assert_str_eq(at(&t, "runA", "linear top-5"), "90.00");
    cr_assert_str_eq(at(&t, "runA", "SVM mAP k=2"), "50.00 ± 1.23");
    cr_assert_str_eq(at(&t, "runA", "SVM mAP k=16"), "60.00 ± 1.00");
    cr_assert_str_eq(at(&t, "runA", "SVM mAP full"), "80.00");
    cr_assert_str_eq(at(&t, "runA", "finetune top-1 (1%)"), "–");
    cr_assert_str_eq(at(&t, "runB: teacher", "k-NN top-1 (k=20)"), "72.89");
    cr_assert_str_eq(at(&t, "runB: teacher", "linear top-1"), "–");
    cr_assert_str_eq(at(&t, "runB: 1", "finetune top-1 (1%)"), "25.00");
    cr_assert_str_eq(at(&t, "runB: 10", "finetune top-1 (10%)"), "55.00");
    cr_assert_str_eq(at(&t, "runC: s", "SVM mAP k=2"), "30.00");
    cr_assert_str_eq(at(&t, "runC: s", "SVM mAP full"), "–");
    /* --out holds the same text */
    char *path, text[1 << 14] = {0};
    cr_assert(asprintf(&path, "%s/out/report.md", dir) > 0);
    FILE *f = fopen(path, "r");
    cr_assert(f, "no %s", path);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    cr_assert(n > 0 && strcmp(text, out) == 0);
    free(path), free(cmd), free(out);
}

Test(report, labels_name_the_rows) {
    char *cmd, *out;
    cr_assert(asprintf(&cmd, "%s report --label BURN --label 'S2|BNN' %s/runA %s/runC/svm_s.json",
                       BURN_GPU, dir, dir) > 0);
    cr_assert_eq(run(cmd, &out), 0, "%s", out);
    table t;
    parse_table(out, &t);
    cr_assert_eq(t.rows, 3, "%s", out);
    cr_assert_str_eq(at(&t, "BURN", "SVM mAP k=2"), "50.00 ± 1.23");
    cr_assert_str_eq(at(&t, "S2\\|BNN", "SVM mAP k=2"), "30.00"); /* '|' escaped */
    cr_assert_str_eq(at(&t, "S2\\|BNN", "k-NN top-1 (k=20)"), "–");
    free(cmd), free(out);
}

Test(report, runs_sharing_a_label_are_averaged) {
    /* three seeds of one variant: k-NN 70, 72, 74 -> 72.00 ± 2.00 (sample std); linear in two */
    const char *knn = "{\"protocol\": \"knn\", \"k\": 20, \"top1\": %s}";
    const char *top1[] = {"0.70", "0.72", "0.74"};
    for (int s = 0; s < 3; s++) {
        char rel[64], text[128];
        snprintf(rel, sizeof rel, "seeds%d/knn.json", s);
        snprintf(text, sizeof text, knn, top1[s]);
        put(rel, text);
    }
    put("seeds0/linear.json", "{\"protocol\": \"linear\", \"top1\": 0.60}");
    put("seeds1/linear.json", "{\"protocol\": \"linear\", \"top1\": 0.61}");
    char *cmd, *out;
    cr_assert(asprintf(&cmd, "%s report --label V --label V --label V --label one %s/seeds0 "
                       "%s/seeds1 %s/seeds2 %s/runA 2>&1", BURN_GPU, dir, dir, dir, dir) > 0);
    cr_assert_eq(run(cmd, &out), 0, "%s", out);
    cr_assert(!strstr(out, "warning"), "every run directory has results: %s", out);
    table t;
    parse_table(out, &t);
    cr_assert_eq(t.rows, 3, "%s", out);
    cr_assert_str_eq(at(&t, "V", "k-NN top-1 (k=20)"), "72.00 ± 2.00 (3)");
    cr_assert_str_eq(at(&t, "V", "linear top-1"), "60.50 ± 0.71 (2)");
    cr_assert_str_eq(at(&t, "one", "k-NN top-1 (k=20)"), "47.54"); /* a single run: its number */
    free(cmd), free(out);
}

Test(report, bad_json_is_a_clear_error) {
    char *cmd, *out;
    put("bad/knn.json", "{\"protocol\": \"knn\", \"top1\": }");
    cr_assert(asprintf(&cmd, "%s report %s/bad 2>&1", BURN_GPU, dir) > 0);
    cr_assert_eq(run(cmd, &out), 1, "%s", out);
    cr_assert(strstr(out, "bad/knn.json: not valid JSON (error near byte"), "%s", out);
    free(cmd), free(out);

    put("bad2/knn.json", "{\"protocol\": \"knn\", \"top1\": \"high\"}");
    cr_assert(asprintf(&cmd, "%s report %s/bad2 2>&1", BURN_GPU, dir) > 0);
    cr_assert_eq(run(cmd, &out), 1, "%s", out);
    cr_assert(strstr(out, "knn.json: a \"knn\" result needs a finite number \"top1\""), "%s", out);
    free(cmd), free(out);

    put("bad3/svm.json", "{\"protocol\": \"svm\", \"rows\": [{\"shots\": 1}]}");
    cr_assert(asprintf(&cmd, "%s report %s/bad3 2>&1", BURN_GPU, dir) > 0);
    cr_assert_eq(run(cmd, &out), 1, "%s", out);
    cr_assert(strstr(out, "\"map_mean\""), "%s", out);
    free(cmd), free(out);

    /* a file named directly must be a result */
    cr_assert(asprintf(&cmd, "%s report %s/runA/metrics.json 2>&1", BURN_GPU, dir) > 0);
    cr_assert_eq(run(cmd, &out), 1, "%s", out);
    cr_assert(strstr(out, "metrics.json: no \"protocol\""), "%s", out);
    free(cmd), free(out);

    cr_assert(asprintf(&cmd, "%s report %s/missing 2>&1", BURN_GPU, dir) > 0);
    cr_assert_eq(run(cmd, &out), 1, "%s", out);
    cr_assert(strstr(out, "missing: no such file or directory"), "%s", out);
    free(cmd), free(out);

    cr_assert_eq(run(BURN_GPU " report 2>&1", &out), 2, "%s", out);
    free(out);
}
