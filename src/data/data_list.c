/* data_list.c — the list-file source: one "relative/path label" per line.
 *
 * The label is the last whitespace-separated field (so paths may contain spaces), a
 * non-negative decimal integer; the path is the rest of the line, trimmed, relative to the
 * root; absolute paths and ".." components are refused (list:line), so a list file cannot
 * point the loader outside the root. Blank lines and lines starting with '#' are
 * skipped; CRLF line ends are accepted. num_classes = largest label + 1. A malformed line is
 * an error naming list:line; a listed file that is missing or unreadable is found when it is
 * loaded, and then skipped and counted like any bad image. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/fileio.h"
#include "data_internal.h"

#define MAX_LIST_BYTES ((size_t)4 << 30)
/* num_classes = largest label + 1 sizes the classifiers and the class tables: a label past any
 * real data set (ImageNet-21k: 21 841 classes) is a typo, not a million-wide classifier. */
#define MAX_LABEL 999999LL

typedef struct list_impl {
    burn_paths paths;
} list_impl;

/* Why rel would reach outside the root (absolute, or a ".." component), or NULL. A list file
 * comes from elsewhere: it must not make the loader read arbitrary files of this machine. */
static const char *path_escapes_root(const char *rel) {
    if (rel[0] == '/') return "an absolute path";
    for (const char *c = rel; *c;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 2 && c[0] == '.' && c[1] == '.') return "a '..' component";
        c += len;
        while (*c == '/') c++;
    }
    return NULL;
}

static int list_load(const burn_source *s, int64_t i, burn_image *img) {
    const list_impl *l = s->impl;
    return burn_image_load_file(burn_paths_get(&l->paths, i), &s->limits, img);
}

static void list_describe(const burn_source *s, int64_t i, char *buf, size_t len) {
    const list_impl *l = s->impl;
    snprintf(buf, len, "%s", burn_paths_get(&l->paths, i));
}

static void list_destroy(burn_source *s) {
    list_impl *l = s->impl;
    if (l) burn_paths_free(&l->paths);
    free(l);
    s->impl = NULL;
}

burn_source *burn_source_list(const char *list_path, const char *root,
                              const burn_image_limits *lim) {
    unsigned char *text = NULL;
    size_t size = 0;
    if (burn_read_file(list_path, MAX_LIST_BYTES, &text, &size) != 0) return NULL;
    char *base;
    if (root && *root) {
        base = burn_xstrdup(root);
    } else {
        char *tmp = burn_xstrdup(list_path);
        base = burn_xstrdup(dirname(tmp));
        free(tmp);
    }
    burn_source *s = burn_source_new("list", list_path, lim);
    list_impl *l = burn_xcalloc(1, sizeof *l);
    s->impl = l;
    s->load = list_load;
    s->describe = list_describe;
    s->destroy = list_destroy;
    int64_t cap = 0;
    int64_t max_label = -1;
    int line_no = 0;
    const char *p = (const char *)text, *end = (const char *)text + size;
    while (p < end) {
        line_no++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *a = p, *b = nl ? nl : end;
        p = nl ? nl + 1 : end;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--; /* also drops '\r' */
        if (a == b || *a == '#') continue;
        if (memchr(a, '\0', (size_t)(b - a))) {
            burn_error_set("%s:%d: NUL byte in the line (not a text list file?)", list_path,
                           line_no);
            goto fail;
        }
        const char *lab = b;
        while (lab > a && !isspace((unsigned char)lab[-1])) lab--;
        const char *pe = lab;
        while (pe > a && isspace((unsigned char)pe[-1])) pe--;
        if (pe == a) {
            burn_error_set("%s:%d: expected 'path label', found one field '%.*s'", list_path,
                           line_no, (int)(b - a), a);
            goto fail;
        }
        char label_text[32];
        size_t ll = (size_t)(b - lab);
        int ok = ll > 0 && ll < sizeof label_text;
        long long v = -1;
        if (ok) {
            memcpy(label_text, lab, ll);
            label_text[ll] = '\0';
            char *e = NULL;
            errno = 0;
            v = strtoll(label_text, &e, 10);
            ok = isdigit((unsigned char)label_text[0]) && *e == '\0' && errno == 0 && v >= 0 &&
                 v <= MAX_LABEL;
        }
        if (!ok) {
            burn_error_set("%s:%d: label '%.*s' is not an integer in [0, %lld] (labels are class "
                           "indices 0, 1, ...)", list_path, line_no, (int)ll, lab, MAX_LABEL);
            goto fail;
        }
        char *rel = strndup(a, (size_t)(pe - a));
        const char *escape = path_escapes_root(rel);
        if (escape) {
            burn_error_set("%s:%d: path '%s' refused: %s (list paths stay inside the data root)",
                           list_path, line_no, rel, escape);
            free(rel);
            goto fail;
        }
        char *full = burn_path_join(base, rel);
        burn_paths_add(&l->paths, full, strlen(full));
        free(rel);
        free(full);
        if (s->count == cap) {
            cap = cap ? 2 * cap : 4096;
            s->labels = burn_xrealloc(s->labels, (size_t)cap * sizeof(int32_t));
        }
        s->labels[s->count++] = (int32_t)v;
        if (v > max_label) max_label = v;
    }
    if (s->count == 0) {
        burn_error_set("%s: no entries (expected lines 'relative/path label')", list_path);
        goto fail;
    }
    s->num_classes = (int)(max_label + 1);
    free(base);
    free(text);
    return s;
fail:
    free(base);
    free(text);
    burn_source_free(s);
    return NULL;
}
