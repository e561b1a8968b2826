/* data_imagefolder.c — the ImageFolder source: root/<class>/[sub/]name.{jpg,jpeg,png}.
 *
 * As torchvision's ImageFolder: classes are the sub-folders of root sorted by name (byte
 * order), class index = rank in that order; each class folder is walked recursively
 * (symlinks followed; a folder reached again through a link, e.g. a symlink loop, is walked
 * once) and its files sorted by (folder path, file name); extensions are matched
 * case-insensitively. Differences: entries whose name starts with '.' are skipped (.DS_Store,
 * .ipynb_checkpoints), and only JPEG/PNG extensions count (other files are ignored and
 * reported in one warning). An empty class folder is an error, as in torchvision. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "burn/check.h"
#include "burn/log.h"
#include "data_internal.h"

enum { MAX_DEPTH = 64 };

typedef struct folder_impl {
    burn_paths paths; /* full path of each image, in dataset order */
} folder_impl;

typedef struct entry {
    const char *dir; /* owned by the dirs list */
    char *name;
} entry;

typedef struct walk_state {
    entry *e;
    int64_t n, cap;
    char **dirs;
    int64_t ndirs, dcap;
    int64_t ignored;
    struct dir_id { dev_t dev; ino_t ino; } *seen; /* every folder walked: loops end there */
    int64_t nseen, seencap, loops;
} walk_state;

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0);
}

/* Is `path` (reached through entry d) a directory / regular file? Follows symlinks. */
static int entry_kind(const char *path, const struct dirent *d, int *is_dir, int *is_file) {
    if (d->d_type == DT_DIR || d->d_type == DT_REG) {
        *is_dir = d->d_type == DT_DIR;
        *is_file = d->d_type == DT_REG;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) != 0) return -1; /* dangling symlink: ignore */
    *is_dir = S_ISDIR(st.st_mode);
    *is_file = S_ISREG(st.st_mode);
    return 0;
}

static int walk(walk_state *w, const char *dir, int depth) {
    if (depth > MAX_DEPTH) {
        burn_error_set("%s: folders nested deeper than %d (a symlink loop?)", dir, MAX_DEPTH);
        return -1;
    }
    /* A folder reached twice (a symlink loop, or links fanning into the same folder) is
     * walked once: with two links to ".." per level, walking each path would never end. */
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        burn_error_set("%s: cannot stat folder: %s", dir, strerror(errno));
        return -1;
    }
    for (int64_t i = 0; i < w->nseen; i++)
        if (w->seen[i].dev == sb.st_dev && w->seen[i].ino == sb.st_ino) {
            w->loops++;
            return 0;
        }
    if (w->nseen == w->seencap) {
        w->seencap = w->seencap ? 2 * w->seencap : 64;
        w->seen = burn_xrealloc(w->seen, (size_t)w->seencap * sizeof *w->seen);
    }
    w->seen[w->nseen++] = (struct dir_id){sb.st_dev, sb.st_ino};
    DIR *d = opendir(dir);
    if (!d) {
        burn_error_set("%s: cannot open folder: %s", dir, strerror(errno));
        return -1;
    }
    if (w->ndirs == w->dcap) {
        w->dcap = w->dcap ? 2 * w->dcap : 64;
        w->dirs = burn_xrealloc(w->dirs, (size_t)w->dcap * sizeof(char *));
    }
    char *mydir = burn_xstrdup(dir);
    w->dirs[w->ndirs++] = mydir;
    char **subdirs = NULL;
    int64_t nsub = 0, subcap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char *path = burn_path_join(dir, de->d_name);
        int is_dir = 0, is_file = 0;
        if (entry_kind(path, de, &is_dir, &is_file) == 0) {
            if (is_dir) {
                if (nsub == subcap) {
                    subcap = subcap ? 2 * subcap : 16;
                    subdirs = burn_xrealloc(subdirs, (size_t)subcap * sizeof(char *));
                }
                subdirs[nsub++] = path;
                path = NULL;
            } else if (is_file && is_image_name(de->d_name)) {
                if (w->n == w->cap) {
                    w->cap = w->cap ? 2 * w->cap : 1024;
                    w->e = burn_xrealloc(w->e, (size_t)w->cap * sizeof(entry));
                }
                w->e[w->n++] = (entry){mydir, burn_xstrdup(de->d_name)};
            } else {
                w->ignored++;
            }
        }
        free(path);
    }
    closedir(d);
    int rc = 0;
    for (int64_t i = 0; i < nsub; i++) {
        if (rc == 0) rc = walk(w, subdirs[i], depth + 1);
        free(subdirs[i]);
    }
    free(subdirs);
    return rc;
}

/* torchvision sorts os.walk's (dirpath, ...) tuples, then each folder's file names: the order
 * is (dirpath, name) by string comparison. */
static int cmp_entry(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = strcmp(x->dir, y->dir);
    return c ? c : strcmp(x->name, y->name);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_free(walk_state *w) {
    for (int64_t i = 0; i < w->n; i++) free(w->e[i].name);
    for (int64_t i = 0; i < w->ndirs; i++) free(w->dirs[i]);
    free(w->e);
    free(w->dirs);
    free(w->seen);
    memset(w, 0, sizeof *w);
}

static int folder_load(const burn_source *s, int64_t i, burn_image *img) {
    const folder_impl *f = s->impl;
    return burn_image_load_file(burn_paths_get(&f->paths, i), &s->limits, img);
}

static void folder_describe(const burn_source *s, int64_t i, char *buf, size_t len) {
    const folder_impl *f = s->impl;
    snprintf(buf, len, "%s", burn_paths_get(&f->paths, i));
}

static void folder_destroy(burn_source *s) {
    folder_impl *f = s->impl;
    if (f) burn_paths_free(&f->paths);
    free(f);
    s->impl = NULL;
}

burn_source *burn_source_imagefolder(const char *root, const burn_image_limits *lim) {
    DIR *d = opendir(root);
    if (!d) {
        burn_error_set("%s: cannot open the image folder: %s", root, strerror(errno));
        return NULL;
    }
    char **classes = NULL;
    int nclass = 0, ccap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char *path = burn_path_join(root, de->d_name);
        int is_dir = 0, is_file = 0;
        if (entry_kind(path, de, &is_dir, &is_file) == 0 && is_dir) {
            if (nclass == ccap) {
                ccap = ccap ? 2 * ccap : 64;
                classes = burn_xrealloc(classes, (size_t)ccap * sizeof(char *));
            }
            classes[nclass++] = burn_xstrdup(de->d_name);
        }
        free(path);
    }
    closedir(d);
    if (nclass == 0) {
        free(classes);
        burn_error_set("%s: no class folders (expected %s/<class>/<image>.jpg|jpeg|png)", root,
                       root);
        return NULL;
    }
    qsort(classes, (size_t)nclass, sizeof(char *), cmp_str);

    burn_source *s = burn_source_new("imagefolder", root, lim);
    folder_impl *f = burn_xcalloc(1, sizeof *f);
    s->impl = f;
    s->load = folder_load;
    s->describe = folder_describe;
    s->destroy = folder_destroy;
    s->num_classes = nclass;
    s->class_names = classes;
    int64_t label_cap = 0, ignored = 0, loops = 0;
    for (int c = 0; c < nclass; c++) {
        walk_state w = {0};
        char *cdir = burn_path_join(root, classes[c]);
        int rc = walk(&w, cdir, 0);
        if (rc == 0 && w.n == 0)
            burn_error_set("%s: class folder '%s' has no .jpg/.jpeg/.png files", root,
                           classes[c]);
        if (rc != 0 || w.n == 0) {
            free(cdir);
            walk_free(&w);
            burn_source_free(s);
            return NULL;
        }
        qsort(w.e, (size_t)w.n, sizeof(entry), cmp_entry);
        if (s->count + w.n > label_cap) {
            while (label_cap < s->count + w.n) label_cap = label_cap ? 2 * label_cap : 4096;
            s->labels = burn_xrealloc(s->labels, (size_t)label_cap * sizeof(int32_t));
        }
        for (int64_t i = 0; i < w.n; i++) {
            char *p = burn_path_join(w.e[i].dir, w.e[i].name);
            burn_paths_add(&f->paths, p, strlen(p));
            free(p);
            s->labels[s->count++] = c;
        }
        ignored += w.ignored;
        loops += w.loops;
        free(cdir);
        walk_free(&w);
    }
    if (loops)
        burn_warn("%s: %lld folder links lead to folders already walked (symlink loops?): "
                  "each folder was read once", root, (long long)loops);
    if (ignored)
        burn_warn("%s: ignored %lld files that are not .jpg/.jpeg/.png", root,
                  (long long)ignored);
    return s;
}
