/* test_params.c — the parameter registry: layout (trainables first, aligned), initialisation
 * rules, and strict safetensors save/load (missing, wrong shape, extra, non-finite tensors are
 * refused and leave the parameters untouched). */
#include <criterion/criterion.h>

#include "burn/check.h"
#include "burn/params.h"
#include "test_util.h"

static void build(burn_params *ps, int64_t width) {
    burn_params_init_registry(ps);
    int64_t w[4] = {width, 3, 3, 3}, c[1] = {width};
    burn_params_add(ps, "conv.weight", BURN_PARAM_TRAINABLE, 4, w, BURN_INIT_KAIMING_NORMAL, 0);
    burn_params_add(ps, "bn.running_mean", BURN_PARAM_BUFFER, 1, c, BURN_INIT_ZERO, 0);
    burn_params_add(ps, "bn.weight", BURN_PARAM_TRAINABLE, 1, c, BURN_INIT_ONE, 0);
    burn_params_add(ps, "bn.running_var", BURN_PARAM_BUFFER, 1, c, BURN_INIT_ONE, 0);
    burn_params_add(ps, "act.slope", BURN_PARAM_TRAINABLE, 1, c, BURN_INIT_CONST, 0.25f);
    burn_params_finalize(ps, burn_cpu_backend());
}

Test(params, layout_and_init) {
    burn_params ps;
    build(&ps, 70);
    cr_assert_eq(ps.n, 5);
    for (int i = 0; i < ps.n; i++) {
        cr_assert_eq(ps.p[i].offset % 16, 0, "%s not aligned", ps.p[i].name);
        if (ps.p[i].kind == BURN_PARAM_TRAINABLE)
            cr_assert_leq(ps.p[i].offset + ps.p[i].numel, ps.trainable);
        else
            cr_assert_geq(ps.p[i].offset, ps.trainable);
    }
    burn_params_init(&ps, 3);
    const float *w = burn_param_data(&ps, 0);
    double q = 0;
    for (int k = 0; k < 70 * 27; k++) q += (double)w[k] * w[k];
    double std = sqrt(q / (70 * 27));
    cr_assert_leq(fabs(std - sqrt(2.0 / 27)), 0.03 * sqrt(2.0 / 27), "kaiming std %g", std);
    cr_assert_eq(burn_param_data(&ps, 2)[69], 1.0f);
    cr_assert_eq(burn_param_data(&ps, 4)[0], 0.25f);
    cr_assert_eq(burn_param_data(&ps, 1)[5], 0.0f);
    cr_assert_null(burn_param_grad(&ps, 1));
    cr_assert_eq(burn_params_find(&ps, "bn.weight"), 2);
    cr_assert_eq(burn_params_find(&ps, "nope"), -1);
    cr_assert_eq(burn_params_count(&ps, 1, 0), 70 * 27 + 140);
    burn_params_free(&ps);
}

static void save(const burn_params *ps, const char *path, const char *prefix) {
    float *host = malloc(ps->total * 4);
    burn_params_download(ps, host);
    burn_st_writer w;
    burn_st_writer_init(&w);
    burn_params_add_to_writer(ps, &w, prefix, host);
    cr_assert_eq(burn_st_save(&w, path), 0, "%s", burn_error());
    burn_st_writer_free(&w);
    free(host);
}

Test(params, save_load_round_trip_and_strict_errors) {
    char *path = tu_tmp_path("params.safetensors");
    burn_params a, b;
    build(&a, 8);
    burn_params_init(&a, 11);
    save(&a, path, "student.");
    build(&b, 8);
    burn_params_init(&b, 12); /* different weights */
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    cr_assert_eq(burn_params_load(&b, &f, "student.", 1), 0, "%s", burn_error());
    cr_assert(memcmp(a.data, b.data, a.total * 4) == 0);
    /* wrong prefix: everything is missing */
    cr_assert_neq(burn_params_load(&b, &f, "teacher.", 1), 0);
    cr_assert(strstr(burn_error(), "'teacher.conv.weight': missing"), "%s", burn_error());
    burn_st_close(&f);

    /* a wider model: shape mismatch named, nothing modified */
    burn_params wide;
    build(&wide, 9);
    burn_params_init(&wide, 5);
    float *before = malloc(wide.total * 4);
    memcpy(before, wide.data, wide.total * 4);
    cr_assert_eq(burn_st_open(&f, path), 0);
    cr_assert_neq(burn_params_load(&wide, &f, "student.", 1), 0);
    cr_assert(strstr(burn_error(), "'student.conv.weight': shape 8x3x3x3, the model expects shape 9x3x3x3"),
              "%s", burn_error());
    cr_assert(memcmp(before, wide.data, wide.total * 4) == 0, "failed load modified parameters");
    burn_st_close(&f);
    free(before);

    /* extra tensor under the prefix */
    burn_params small;
    burn_params_init_registry(&small);
    int64_t w[4] = {8, 3, 3, 3};
    burn_params_add(&small, "conv.weight", BURN_PARAM_TRAINABLE, 4, w, BURN_INIT_ZERO, 0);
    burn_params_finalize(&small, burn_cpu_backend());
    cr_assert_eq(burn_st_open(&f, path), 0);
    cr_assert_neq(burn_params_load(&small, &f, "student.", 1), 0);
    cr_assert(strstr(burn_error(), "does not belong to this model"), "%s", burn_error());
    cr_assert_eq(burn_params_load(&small, &f, "student.", 0), 0, "partial load when allowed");
    burn_st_close(&f);

    /* non-finite value */
    burn_param_data(&a, 2)[3] = INFINITY;
    save(&a, path, "");
    cr_assert_eq(burn_st_open(&f, path), 0);
    cr_assert_neq(burn_params_load(&b, &f, "", 1), 0);
    cr_assert(strstr(burn_error(), "'bn.weight' holds a non-finite value at element 3"), "%s",
              burn_error());
    burn_st_close(&f);
    burn_params_free(&a), burn_params_free(&b), burn_params_free(&wide), burn_params_free(&small);
    unlink(path);
    free(path);
}
