/* cmd_report.c — `burn_gpu report`: the evaluation JSON files of one or more runs as one
 * markdown table like the paper's Tables 2-5: a row per run, a column per protocol measure
 * (k-NN top-1, linear top-1/top-5, SVM mAP at each k, finetune top-1 at each labelled
 * fraction), "–" where a run has no number. Printed, and written to --out.
 *
 * Inputs: JSON files, or run directories whose *.json files with a "protocol" key are read
 * (not recursively). A file's row: its --label or directory, then ": suffix" when the file is
 * named <protocol>_<suffix>.json (runs/demo/knn_teacher.json -> "runs/demo: teacher"), so the
 * several backbones evaluated in one run directory get a row each. Runs that share a row name
 * (the seeds of one variant, given one --label each) are one row: every cell then shows the
 * mean ± the sample standard deviation over them and how many there were. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/fileio.h"
#include "burn/log.h"

#define REPORT_MAX_JSON (64u << 20)

/* Column order: protocol, then its parameter (k, shots with full last, fraction). */
enum { COL_KNN, COL_LINEAR, COL_SVM, COL_FINETUNE };

typedef struct column {
    int protocol;
    double sub;
    char header[64];
} column;

/* The values of one row's measure, one per run with that row name; own_sd: the spread a
 * single result reports itself (few-shot SVM over its draws), < 0 when none. */
typedef struct cell {
    int row, col;
    double *values;
    int n;
    double own_sd;
} cell;

typedef struct report {
    char **rows;
    int nrows;
    column *cols;
    int ncols;
    cell *cells;
    int ncells;
    int nvalues; /* over all cells */
} report;

static int find_row(report *r, const char *name) {
    for (int i = 0; i < r->nrows; i++)
        if (strcmp(r->rows[i], name) == 0) return i;
    r->rows = burn_xrealloc(r->rows, sizeof(char *) * (size_t)(r->nrows + 1));
    r->rows[r->nrows] = burn_xstrdup(name);
    return r->nrows++;
}

static int find_col(report *r, int protocol, double sub, const char *header) {
    for (int i = 0; i < r->ncols; i++)
        if (r->cols[i].protocol == protocol && strcmp(r->cols[i].header, header) == 0) return i;
    r->cols = burn_xrealloc(r->cols, sizeof(column) * (size_t)(r->ncols + 1));
    column *c = &r->cols[r->ncols];
    c->protocol = protocol;
    c->sub = sub;
    snprintf(c->header, sizeof c->header, "%s", header);
    return r->ncols++;
}

/* One value of one row's measure (a fraction: 0.5 is 50%), added to that cell's values. */
static void put(report *r, int row, int protocol, double sub, const char *header, double value,
                double own_sd) {
    int col = find_col(r, protocol, sub, header);
    cell *c = NULL;
    for (int i = 0; i < r->ncells && !c; i++)
        if (r->cells[i].row == row && r->cells[i].col == col) c = &r->cells[i];
    if (!c) {
        r->cells = burn_xrealloc(r->cells, sizeof(cell) * (size_t)(r->ncells + 1));
        c = &r->cells[r->ncells++];
        *c = (cell){.row = row, .col = col, .own_sd = own_sd};
    }
    c->values = burn_xrealloc(c->values, sizeof(double) * (size_t)(c->n + 1));
    c->values[c->n++] = value;
    r->nvalues++;
}

/* A cell's text in %: one value ("61.23", or "50.00 ± 1.23" with its own spread), or the mean
 * ± sample std over the runs and their count ("69.96 ± 0.89 (3)"). */
static void cell_text(const cell *c, char *buf, size_t len) {
    double mean = 0, ss = 0;
    for (int i = 0; i < c->n; i++) mean += c->values[i] / c->n;
    for (int i = 0; i < c->n; i++) ss += (c->values[i] - mean) * (c->values[i] - mean);
    if (c->n > 1)
        snprintf(buf, len, "%.2f ± %.2f (%d)", 100 * mean, 100 * sqrt(ss / (c->n - 1)), c->n);
    else if (c->own_sd >= 0)
        snprintf(buf, len, "%.2f ± %.2f", 100 * mean, 100 * c->own_sd);
    else
        snprintf(buf, len, "%.2f", 100 * mean);
}

static const cJSON *number(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v : NULL;
}

/* A required number: 0, or -1 with burn_error() naming the file and the key. */
static int need(const cJSON *obj, const char *key, const char *file, const char *protocol,
                double *out) {
    const cJSON *v = number(obj, key);
    if (!v) {
        burn_error_set("%s: a \"%s\" result needs a finite number \"%s\"", file, protocol, key);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

/* Row name of one file: base (label or directory), plus ": suffix" for <protocol>_<suffix>. */
static char *row_name(const char *base, const char *path, const char *protocol, int labelled_file) {
    const char *slash = strrchr(path, '/');
    const char *stem = slash ? slash + 1 : path;
    size_t stem_len = strlen(stem), plen = strlen(protocol);
    if (stem_len > 5 && strcmp(stem + stem_len - 5, ".json") == 0) stem_len -= 5;
    char *name = NULL;
    if (!labelled_file && stem_len > plen + 1 && strncmp(stem, protocol, plen) == 0 &&
        (stem[plen] == '_' || stem[plen] == '-')) {
        if (asprintf(&name, "%s: %.*s", base, (int)(stem_len - plen - 1), stem + plen + 1) < 0)
            name = NULL;
    } else {
        name = burn_xstrdup(base);
    }
    if (!name) burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    return name;
}

/* Read one JSON file into the report. direct: given on the command line (a file that is not a
 * result is an error then; in a directory it is skipped). 0, or -1 with burn_error(). */
static int add_file(report *r, const char *path, const char *base, int labelled_file, int direct) {
    unsigned char *data;
    size_t size;
    if (burn_read_file(path, REPORT_MAX_JSON, &data, &size) != 0) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - (const char *)data) : 0;
        burn_error_set("%s: not valid JSON (error near byte %zu)", path, at);
        free(data);
        return -1;
    }
    free(data);
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(root, "protocol");
    int rc = 0;
    if (!cJSON_IsString(proto)) {
        if (direct) {
            burn_error_set("%s: no \"protocol\" string: not an evaluation result (burn_gpu eval "
                           "--json writes those)", path);
            rc = -1;
        }
        cJSON_Delete(root);
        return rc;
    }
    const char *p = proto->valuestring;
    char *name = row_name(base, path, p, labelled_file);
    int row = find_row(r, name);
    free(name);
    char header[64];
    double top1, v;
    if (strcmp(p, "knn") == 0) {
        rc = need(root, "top1", path, p, &top1);
        if (rc == 0) {
            const cJSON *k = number(root, "k");
            if (k) snprintf(header, sizeof header, "k-NN top-1 (k=%g)", k->valuedouble);
            else snprintf(header, sizeof header, "k-NN top-1");
            put(r, row, COL_KNN, k ? k->valuedouble : 0, header, top1, -1);
        }
    } else if (strcmp(p, "linear") == 0) {
        rc = need(root, "top1", path, p, &top1);
        if (rc == 0) {
            put(r, row, COL_LINEAR, 1, "linear top-1", top1, -1);
            if (number(root, "top5"))
                put(r, row, COL_LINEAR, 5, "linear top-5", number(root, "top5")->valuedouble, -1);
        }
    } else if (strcmp(p, "svm") == 0) {
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows"), *item;
        if (!cJSON_IsArray(rows)) {
            burn_error_set("%s: an \"svm\" result needs an array \"rows\"", path);
            rc = -1;
        }
        cJSON_ArrayForEach(item, rows) {
            double shots, map;
            if (rc || (rc = need(item, "shots", path, p, &shots)) ||
                (rc = need(item, "map_mean", path, p, &map)))
                break;
            if (shots > 0) snprintf(header, sizeof header, "SVM mAP k=%g", shots);
            else snprintf(header, sizeof header, "SVM mAP full");
            const cJSON *sd = number(item, "map_std");
            put(r, row, COL_SVM, shots > 0 ? shots : INFINITY, header, map,
                shots > 0 && sd ? sd->valuedouble : -1);
        }
    } else if (strcmp(p, "finetune") == 0) {
        rc = need(root, "fraction", path, p, &v);
        if (rc == 0) rc = need(root, "top1", path, p, &top1);
        if (rc == 0) {
            /* a fraction of the labels: 0.01 -> "1%" */
            if (v <= 1) snprintf(header, sizeof header, "finetune top-1 (%g%%)", 100 * v);
            else snprintf(header, sizeof header, "finetune top-1 (%g)", v);
            put(r, row, COL_FINETUNE, v, header, top1, -1);
        }
    } else {
        burn_warn("report: %s: protocol \"%s\" has no column; skipped", path, p);
    }
    cJSON_Delete(root);
    return rc;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json file directly in dir, in name order. */
static int add_dir(report *r, const char *dir, const char *base, int *found) {
    DIR *d = opendir(dir);
    if (!d) {
        burn_error_set("%s: cannot open directory", dir);
        return -1;
    }
    char **names = NULL;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        names = burn_xrealloc(names, sizeof(char *) * (size_t)(n + 1));
        if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0)
            burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
        n++;
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof(char *), by_name);
    int rc = 0, before = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            before = r->nvalues;
            rc = add_file(r, names[i], base, 0, 0);
            *found += r->nvalues > before;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int col_order(const void *a, const void *b) {
    const column *x = a, *y = b;
    if (x->protocol != y->protocol) return x->protocol - y->protocol;
    return (x->sub > y->sub) - (x->sub < y->sub);
}

/* Markdown: a title, the table, a note on the units. Caller frees. */
static char *render(report *r) {
    /* sort the columns, remapping the cells' column indices */
    int *old_to_new = burn_xmalloc(sizeof(int) * (size_t)(r->ncols + 1));
    column *sorted = burn_xmalloc(sizeof(column) * (size_t)(r->ncols + 1));
    memcpy(sorted, r->cols, sizeof(column) * (size_t)r->ncols);
    qsort(sorted, (size_t)r->ncols, sizeof(column), col_order);
    for (int i = 0; i < r->ncols; i++)
        for (int j = 0; j < r->ncols; j++)
            if (strcmp(r->cols[i].header, sorted[j].header) == 0 &&
                r->cols[i].protocol == sorted[j].protocol)
                old_to_new[i] = j;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) burn_check_fail("libc", "open_memstream", __FILE__, __LINE__, "out of memory", NULL);
    fprintf(f, "# Evaluation report\n\n| run |");
    for (int j = 0; j < r->ncols; j++) fprintf(f, " %s |", sorted[j].header);
    fprintf(f, "\n|---|");
    for (int j = 0; j < r->ncols; j++) fprintf(f, "---:|");
    fprintf(f, "\n");
    for (int i = 0; i < r->nrows; i++) {
        fputs("| ", f);
        for (const char *c = r->rows[i]; *c; c++) { /* a '|' would split the cell */
            if (*c == '|') fputc('\\', f);
            fputc(*c, f);
        }
        fputs(" |", f);
        for (int j = 0; j < r->ncols; j++) {
            char text[64] = "–";
            for (int k = 0; k < r->ncells; k++)
                if (r->cells[k].row == i && old_to_new[r->cells[k].col] == j)
                    cell_text(&r->cells[k], text, sizeof text);
            fprintf(f, " %s |", text);
        }
        fputc('\n', f);
    }
    fprintf(f, "\nAccuracies (top-1, top-5) and SVM mAP (VOC07 11-point) in %% on the val split; "
               "few-shot SVM: mean ± std over the draws; a row of several runs: mean ± std over "
               "them (how many); – : not evaluated.\n");
    fclose(f);
    free(old_to_new);
    free(sorted);
    return out;
}

int cmd_report(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--out", "FILE", "also write the markdown table to FILE (its directory is created)", 0},
        {"--label", "NAME", "row name of the n-th RUN_OR_JSON (repeatable, in order)", 1},
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(
        &a, "burn_gpu report", "[--out DIR/report.md] [--label NAME]... RUN_OR_JSON...",
        "Collect evaluation results (the --json files of burn_gpu eval knn/linear/svm and "
        "finetune, given directly or found as *.json in run directories) into one markdown table: "
        "a row per run (its directory or --label; <protocol>_<name>.json adds ': name'), a "
        "column per protocol measure, '–' where missing. Runs given the same --label (e.g. the "
        "seeds of one variant) make one row: mean ± std over them (their count).",
        opts, 1 << 20, argc, argv);
    if (rc) return rc;
    if (a.npositional == 0) {
        fprintf(stderr, "burn_gpu report: name run directories or JSON files (see burn_gpu "
                        "report --help)\n");
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    const char **labels = burn_xcalloc((size_t)a.npositional + 1, sizeof(char *));
    int nlabels = 0;
    for (int i = 0; i < a.n; i++)
        if (strcmp(a.names[i], "--label") == 0) {
            if (nlabels == a.npositional) {
                fprintf(stderr, "burn_gpu report: more --label than runs (see burn_gpu report "
                                "--help)\n");
                free(labels);
                burn_args_free(&a);
                return BURN_EXIT_USAGE;
            }
            labels[nlabels++] = a.values[i];
        }
    report r = {0};
    for (int i = 0; i < a.npositional && rc == 0; i++) {
        const char *arg = a.positional[i];
        struct stat st;
        if (stat(arg, &st) != 0) {
            burn_error_set("%s: no such file or directory", arg);
            rc = 1;
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            char *dir = burn_xstrdup(arg);
            for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--) dir[n - 1] = 0;
            int found = 0;
            if (add_dir(&r, dir, labels[i] ? labels[i] : dir, &found) != 0) rc = 1;
            else if (!found) burn_warn("report: %s has no evaluation *.json", dir);
            free(dir);
        } else {
            /* a file's row: its label, else its directory */
            char *dir = burn_xstrdup(arg), *slash = strrchr(dir, '/');
            if (slash) *slash = 0;
            const char *base = labels[i] ? labels[i] : slash ? (dir[0] ? dir : "/") : ".";
            if (add_file(&r, arg, base, labels[i] != NULL, 1) != 0) rc = 1;
            free(dir);
        }
    }
    if (rc == 0 && r.ncells == 0) {
        burn_error_set("no evaluation results found (JSON files with a \"protocol\" key)");
        rc = 1;
    }
    char *md = rc == 0 ? render(&r) : NULL;
    if (md) {
        fputs(md, stdout);
        const char *out = burn_arg(&a, "--out");
        if (out) {
            char *dir = burn_xstrdup(out), *slash = strrchr(dir, '/');
            if (slash && slash != dir) {
                *slash = 0;
                if (burn_mkdirs(dir) != 0) rc = 1;
            }
            if (rc == 0 && burn_write_file_atomic(out, md, strlen(md)) != 0) rc = 1;
            free(dir);
        }
    }
    if (rc != 0) fprintf(stderr, "burn_gpu report: %s\n", burn_error());
    free(md);
    for (int i = 0; i < r.nrows; i++) free(r.rows[i]);
    free(r.rows);
    free(r.cols);
    for (int i = 0; i < r.ncells; i++) free(r.cells[i].values);
    free(r.cells);
    free(labels);
    burn_args_free(&a);
    return rc;
}
