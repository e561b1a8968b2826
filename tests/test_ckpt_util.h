/* test_ckpt_util.h — for tests: two checkpoint files compared tensor by tensor; a checkpoint
 * damaged on purpose (one metadata value, one tensor element). */
#ifndef BURN_TEST_CKPT_UTIL_H
#define BURN_TEST_CKPT_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/safetensors.h"

/* NULL when checkpoints a and b hold the same tensors, byte for byte, at the same step; else
 * what differs first (a tensor name, "the tensor count" or "the step"), written into buf. */
static inline const char *tu_ckpt_diff(const char *a, const char *b, char *buf, size_t n) {
    burn_st_file fa, fb;
    cr_assert_eq(burn_st_open(&fa, a), 0, "%s", burn_error());
    cr_assert_eq(burn_st_open(&fb, b), 0, "%s", burn_error());
    const char *what = fa.n != fb.n ? "the tensor count" : NULL;
    for (int i = 0; i < fa.n && !what; i++) {
        const burn_st_tensor *ta = &fa.tensors[i], *tb = burn_st_find(&fb, ta->name);
        if (!tb || tb->end - tb->begin != ta->end - ta->begin ||
            memcmp(ta->data, tb->data, ta->end - ta->begin) != 0)
            what = ta->name;
    }
    const char *sa = burn_st_meta(&fa, "step"), *sb = burn_st_meta(&fb, "step");
    if (!what && (!sa || !sb || strcmp(sa, sb) != 0)) what = "the step";
    if (what) snprintf(buf, n, "%s", what);
    burn_st_close(&fa);
    burn_st_close(&fb);
    return what ? buf : NULL;
}

/* Rewrite the checkpoint at path with metadata key = value (key NULL: unchanged) and, when
 * tensor is given (the exact name of an F32 tensor), its element `at` set to x. */
static inline void tu_ckpt_rewrite(const char *path, const char *key, const char *value,
                                   const char *tensor, int64_t at, float x) {
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    burn_st_writer w;
    burn_st_writer_init(&w);
    void **copies = calloc((size_t)f.n + 1, sizeof(void *));
    int changed = tensor == NULL;
    for (int i = 0; i < f.n; i++) {
        const burn_st_tensor *t = &f.tensors[i];
        copies[i] = malloc(t->end - t->begin + 1);
        memcpy(copies[i], t->data, t->end - t->begin);
        if (tensor && strcmp(t->name, tensor) == 0) {
            cr_assert(t->dtype == BURN_F32 && (uint64_t)(at + 1) * 4 <= t->end - t->begin);
            memcpy((char *)copies[i] + 4 * at, &x, 4);
            changed = 1;
        }
        burn_st_add(&w, t->name, t->dtype, t->ndim, t->shape, copies[i]);
    }
    cr_assert(changed, "%s: no tensor %s", path, tensor);
    for (int i = 0; i < f.n_meta; i++)
        burn_st_add_meta(&w, f.meta_keys[i],
                         key && strcmp(f.meta_keys[i], key) == 0 ? value : f.meta_values[i]);
    cr_assert_eq(burn_st_save(&w, path), 0, "%s", burn_error());
    burn_st_writer_free(&w);
    for (int i = 0; i < f.n; i++) free(copies[i]);
    free(copies);
    burn_st_close(&f);
}

/* Keep a copy of path beside it (path.orig), and put it back: around a damaging rewrite. */
static inline void tu_file_keep(const char *path) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "cp '%s' '%s.orig'", path, path) > 0 && system(cmd) == 0);
    free(cmd);
}
static inline void tu_file_restore(const char *path) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "mv '%s.orig' '%s'", path, path) > 0 && system(cmd) == 0);
    free(cmd);
}

/* The name of the first tensor of the file at path whose name ends with suffix (caller frees). */
static inline char *tu_ckpt_tensor_ending(const char *path, const char *suffix) {
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    char *name = NULL;
    size_t sl = strlen(suffix);
    for (int i = 0; i < f.n && !name; i++) {
        size_t l = strlen(f.tensors[i].name);
        if (l >= sl && strcmp(f.tensors[i].name + l - sl, suffix) == 0)
            name = strdup(f.tensors[i].name);
    }
    burn_st_close(&f);
    cr_assert(name, "%s: no tensor named *%s", path, suffix);
    return name;
}

#endif
