/* test_ckpt_util.h — for tests: two checkpoint files compared tensor by tensor. */
#ifndef BURN_TEST_CKPT_UTIL_H
#define BURN_TEST_CKPT_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
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

#endif
