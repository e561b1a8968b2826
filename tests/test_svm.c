/* test_svm.c — the SVM protocol of `eval svm` (src/eval/svm.c): VOC07 11-point AP against
 * hand-computed examples and a naive reference; few-shot draws are class-balanced, uniform,
 * reproducible per seed and different between draws; separable features give mAP and
 * accuracy ~1 and random labels chance; results do not depend on the thread count; and the
 * command's output and errors. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "burn/eval.h"
#include "test_util.h"

/* ---- VOC07 AP ---- */

Test(svm, voc07_ap_hand_example) {
    /* ranking P N P N N: (recall, precision) = (.5, 1) (.5, .5) (1, 2/3) (1, .5) (1, .4);
     * t = 0...0.5 (6 points) -> 1, t = 0.6...1 (5 points) -> 2/3: AP = (6 + 5 * 2/3) / 11 */
    double s[] = {0.9, 0.8, 0.7, 0.6, 0.5};
    unsigned char p[] = {1, 0, 1, 0, 0};
    cr_assert_float_eq(burn_voc07_ap(s, p, 5), 28.0 / 33.0, 1e-12);
    /* the same samples in another order: only the scores matter */
    double s2[] = {0.6, 0.7, 0.5, 0.9, 0.8};
    unsigned char p2[] = {0, 1, 0, 1, 0};
    cr_assert_float_eq(burn_voc07_ap(s2, p2, 5), 28.0 / 33.0, 1e-12);
}

Test(svm, voc07_ap_recall_at_exact_tenths) {
    /* 10 positives of 20: P P P N, then 7 P, then 9 N. Recall 0.3 is reached at precision 1
     * (a float threshold 0.1 * 3 > 0.3 would miss it); t >= 0.4 gets 10/11 at recall 1.
     * AP = (4 * 1 + 7 * 10/11) / 11 */
    double s[20];
    unsigned char p[20] = {1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1};
    for (int i = 0; i < 20; i++) s[i] = 20 - i;
    cr_assert_float_eq(burn_voc07_ap(s, p, 20), 114.0 / 121.0, 1e-12);
}

Test(svm, voc07_ap_ties_and_edges) {
    double tie[] = {1, 1};
    unsigned char pn[] = {1, 0}, np_[] = {0, 1};
    /* equal scores are one threshold: recall 1 at precision 1/2, whatever their order */
    cr_assert_float_eq(burn_voc07_ap(tie, pn, 2), 0.5, 1e-12);
    cr_assert_float_eq(burn_voc07_ap(tie, np_, 2), 0.5, 1e-12);
    double s[] = {3, 2, 1};
    unsigned char first[] = {1, 0, 0}, last[] = {0, 0, 1}, none[] = {0, 0, 0};
    cr_assert_float_eq(burn_voc07_ap(s, first, 3), 1.0, 1e-12);
    cr_assert_float_eq(burn_voc07_ap(s, last, 3), 1.0 / 3.0, 1e-12);
    cr_assert(isnan(burn_voc07_ap(s, none, 3)));
}

/* Naive reference: every distinct score θ is a threshold (predict positive when score >= θ). */
static double naive_ap(const double *s, const unsigned char *p, int n) {
    int npos = 0;
    for (int i = 0; i < n; i++) npos += p[i];
    double best[11] = {0};
    for (int i = 0; i < n; i++) {
        int tp = 0, pred = 0;
        for (int j = 0; j < n; j++)
            if (s[j] >= s[i]) pred++, tp += p[j];
        double recall = (double)tp / npos, precision = (double)tp / pred;
        for (int t = 0; t <= 10; t++)
            if (recall >= t / 10.0 - 1e-12 && precision > best[t]) best[t] = precision;
    }
    double ap = 0;
    for (int t = 0; t <= 10; t++) ap += best[t];
    return ap / 11;
}

Test(svm, voc07_ap_matches_naive_reference) {
    uint64_t rs = 11;
    for (int trial = 0; trial < 200; trial++) {
        int n = tu_int(&rs, 1, 97);
        double *s = malloc(sizeof(double) * n);
        unsigned char *p = malloc(n);
        int npos = 0;
        for (int i = 0; i < n; i++) {
            /* coarse scores give ties in about half the trials */
            s[i] = trial % 2 ? tu_int(&rs, 0, 9) * 0.25 : tu_uniform(&rs, -3, 3);
            p[i] = tu_int(&rs, 0, 3) == 0;
            npos += p[i];
        }
        if (npos == 0) p[0] = 1;
        double got = burn_voc07_ap(s, p, n), want = naive_ap(s, p, n);
        cr_assert_float_eq(got, want, 1e-12, "trial %d n %d: %g vs %g", trial, n, got, want);
        free(s);
        free(p);
    }
}

/* ---- few-shot draws ---- */

static int32_t *random_labels(int64_t n, int classes, uint64_t seed) {
    int32_t *l = malloc(sizeof(int32_t) * n);
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++) l[i] = i < classes ? (int32_t)i : tu_int(&s, 0, classes - 1);
    return l;
}

Test(svm, draws_are_class_balanced_reproducible_and_different) {
    const int64_t n = 700;
    const int classes = 7, k = 5;
    int32_t *labels = random_labels(n, classes, 3);
    int64_t a[35], b[35], c[35], d[35];
    cr_assert_eq(burn_svm_draw(labels, n, classes, k, 42, 0, a), 0);
    cr_assert_eq(burn_svm_draw(labels, n, classes, k, 42, 0, b), 0);
    cr_assert_eq(burn_svm_draw(labels, n, classes, k, 42, 1, c), 0);
    cr_assert_eq(burn_svm_draw(labels, n, classes, k, 43, 0, d), 0);
    cr_assert_arr_eq(a, b, sizeof a, "the same seed and draw must give the same images");
    cr_assert(memcmp(a, c, sizeof a) != 0, "draws 0 and 1 must differ");
    cr_assert(memcmp(a, d, sizeof a) != 0, "seeds 42 and 43 must differ");
    for (int cls = 0; cls < classes; cls++)
        for (int j = 0; j < k; j++) {
            int64_t i = a[cls * k + j];
            cr_assert(i >= 0 && i < n);
            cr_assert_eq(labels[i], cls, "pick %d of class %d has label %d", j, cls, labels[i]);
            for (int j2 = 0; j2 < j; j2++) cr_assert_neq(a[cls * k + j2], i, "a repeated image");
        }
    free(labels);
}

Test(svm, draws_are_uniform) {
    /* 12 images of one class, 3 drawn, 2400 draws: each image ~600 times */
    int32_t labels[24];
    for (int i = 0; i < 24; i++) labels[i] = i % 2;
    int hits[24] = {0};
    int64_t pick[6];
    for (int draw = 0; draw < 2400; draw++) {
        cr_assert_eq(burn_svm_draw(labels, 24, 2, 3, 5, draw, pick), 0);
        for (int j = 0; j < 3; j++) hits[pick[j]]++;
    }
    for (int i = 0; i < 24; i += 2)
        cr_assert(hits[i] > 500 && hits[i] < 700, "image %d: %d", i, hits[i]);
}

Test(svm, draw_needs_enough_images) {
    int32_t labels[] = {0, 1, 1, 0, 1};
    int64_t pick[6];
    cr_assert_eq(burn_svm_draw(labels, 5, 2, 3, 0, 0, pick), -1);
    cr_assert(strstr(burn_error(), "class 0 has only 2"), "%s", burn_error());
    cr_assert_eq(burn_svm_draw(labels, 5, 3, 1, 0, 0, pick), -1); /* class 2: none */
}

/* ---- the protocol on synthetic features ---- */

/* class c around e_c (plus noise), or random labels on random features */
static burn_features make(int64_t n, int dim, int classes, double noise, uint64_t seed,
                          int random) {
    burn_features f = {n, dim, classes, malloc(n * dim * 4), malloc(n * 4)};
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        int c = (int)(i % classes);
        f.labels[i] = random ? tu_int(&s, 0, classes - 1) : c;
        for (int d = 0; d < dim; d++)
            f.x[i * dim + d] =
                (!random && d == c ? 1.0f : 0.0f) + (float)noise * tu_uniform(&s, -1, 1);
    }
    return f;
}

static const double costs[] = {0.1, 1, 10};

Test(svm, separable_classes_give_map_and_accuracy_near_one) {
    burn_features tr = make(500, 16, 10, 0.3, 1, 0), val = make(300, 16, 10, 0.3, 2, 0);
    burn_svm_opts o = {costs, 3, 3, 2, 2.0, 7, 2};
    int shots[] = {2, 0};
    burn_svm_row rows[2];
    cr_assert_eq(burn_svm_evaluate(&tr, &val, shots, 2, &o, rows), 0, "%s", burn_error());
    for (int r = 0; r < 2; r++) {
        cr_assert_eq(rows[r].shots, shots[r]);
        cr_assert_geq(rows[r].map_mean, 0.98, "k %d: mAP %g", shots[r], rows[r].map_mean);
        cr_assert_geq(rows[r].acc_mean, 0.97, "k %d: acc %g", shots[r], rows[r].acc_mean);
        cr_assert(rows[r].cost == 0.1 || rows[r].cost == 1 || rows[r].cost == 10);
    }
    cr_assert_eq(rows[0].draws, 2);
    cr_assert_eq(rows[1].draws, 1);
    cr_assert_eq(rows[1].map_std, 0.0);
    burn_features_free(&tr);
    burn_features_free(&val);
}

Test(svm, random_labels_give_chance) {
    burn_features tr = make(1000, 16, 10, 1.0, 3, 1), val = make(1000, 16, 10, 1.0, 4, 1);
    burn_svm_opts o = {costs, 3, 3, 1, 2.0, 7, 2};
    int shots[] = {0};
    burn_svm_row row;
    cr_assert_eq(burn_svm_evaluate(&tr, &val, shots, 1, &o, &row), 0, "%s", burn_error());
    /* chance: accuracy 1/10; the AP of a random ranking is near the prevalence 0.1 (the
     * interpolation lifts it a little) */
    cr_assert(row.acc_mean > 0.05 && row.acc_mean < 0.16, "acc %g not near 0.1", row.acc_mean);
    cr_assert(row.map_mean > 0.08 && row.map_mean < 0.2, "mAP %g not near chance", row.map_mean);
    burn_features_free(&tr);
    burn_features_free(&val);
}

Test(svm, results_do_not_depend_on_threads) {
    burn_features tr1 = make(300, 12, 5, 0.8, 5, 0), val1 = make(200, 12, 5, 0.8, 6, 0);
    burn_features tr2 = make(300, 12, 5, 0.8, 5, 0), val2 = make(200, 12, 5, 0.8, 6, 0);
    int shots[] = {4, 0};
    burn_svm_row one[2], two[2];
    burn_svm_opts o = {costs, 3, 3, 3, 2.0, 9, 1};
    cr_assert_eq(burn_svm_evaluate(&tr1, &val1, shots, 2, &o, one), 0);
    o.threads = 3;
    cr_assert_eq(burn_svm_evaluate(&tr2, &val2, shots, 2, &o, two), 0);
    for (int r = 0; r < 2; r++) {
        cr_assert_eq(one[r].map_mean, two[r].map_mean);
        cr_assert_eq(one[r].acc_mean, two[r].acc_mean);
        cr_assert_eq(one[r].map_std, two[r].map_std);
        cr_assert_eq(one[r].cost, two[r].cost);
    }
    /* the noisy problem is neither trivial nor hopeless */
    cr_assert(one[1].map_mean > 0.3 && one[1].map_mean < 0.999, "mAP %g", one[1].map_mean);
    burn_features_free(&tr1), burn_features_free(&val1);
    burn_features_free(&tr2), burn_features_free(&val2);
}

Test(svm, bad_input_is_an_error) {
    burn_features tr = make(40, 4, 4, 0.3, 1, 0), val = make(20, 5, 4, 0.3, 2, 0);
    burn_svm_opts o = {costs, 3, 3, 1, 2.0, 7, 1};
    int shots[] = {0}, many[] = {20};
    burn_svm_row row;
    cr_assert_eq(burn_svm_evaluate(&tr, &val, shots, 1, &o, &row), -1);
    cr_assert(strstr(burn_error(), "dim"), "%s", burn_error());
    val.dim = 4;
    cr_assert_eq(burn_svm_evaluate(&tr, &val, many, 1, &o, &row), -1);
    cr_assert(strstr(burn_error(), "has only 10"), "%s", burn_error());
    double bad_cost[] = {-1};
    o.costs = bad_cost, o.ncosts = 1;
    cr_assert_eq(burn_svm_evaluate(&tr, &val, shots, 1, &o, &row), -1);
    cr_assert(strstr(burn_error(), "cost"), "%s", burn_error());
    burn_features_free(&tr);
    burn_features_free(&val);
}

/* ---- the command ---- */

static int run(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0;
    *out = calloc(cap, 1);
    for (size_t got; (got = fread(*out + len, 1, cap - 1 - len, p)) > 0;) len += got;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define TINY BURN_GPU " eval svm --config configs/tiny/burn.ini --set eval.svm_threads=2 "

Test(svm, command_writes_json_rows) {
    char *json = tu_tmp_path("svm.json"), *cmd, *out;
    cr_assert(asprintf(&cmd, TINY "--backbone pixels --set eval.svm_shots=1,full "
                                  "--set eval.svm_draws=2 --json %s 2>&1", json) > 0);
    cr_assert_eq(run(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "full"), "%s", out);
    unsigned char *text;
    size_t size;
    FILE *f = fopen(json, "rb");
    cr_assert(f);
    text = calloc(1 << 16, 1);
    size = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    cJSON *root = cJSON_ParseWithLength((char *)text, size);
    cr_assert(root, "%s", text);
    cr_assert_str_eq(cJSON_GetObjectItem(root, "protocol")->valuestring, "svm");
    cr_assert_str_eq(cJSON_GetObjectItem(root, "backbone")->valuestring, "pixels");
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(root, "checkpoint")));
    cJSON *rows = cJSON_GetObjectItem(root, "rows");
    cr_assert_eq(cJSON_GetArraySize(rows), 2);
    const char *keys[] = {"shots", "map_mean", "map_std", "acc_mean", "acc_std", "cost"};
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 6; k++)
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, r), keys[k])),
                      "row %d lacks %s", r, keys[k]);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "shots")->valueint, 1);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "shots")->valueint, 0);
    double map = cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "map_mean")->valuedouble;
    cr_assert(map > 0 && map <= 1, "mAP %g", map);
    cJSON_Delete(root);
    unlink(json);
    free(text), free(json), free(cmd), free(out);
}

Test(svm, command_errors_are_clear) {
    char *out;
    cr_assert_eq(run(TINY "--backbone pixels --set eval.svm_shots=1,x 2>&1", &out), 2);
    cr_assert(strstr(out, "eval.svm_shots: 'x'"), "%s", out);
    free(out);
    cr_assert_eq(run(TINY "--backbone pixels --set eval.svm_costs=1,-2 2>&1", &out), 2);
    cr_assert(strstr(out, "eval.svm_costs: '-2'"), "%s", out);
    free(out);
    /* refused before any SVM trains: no row of k = 1 first (issue 17 item 15) */
    cr_assert_eq(run(TINY "--backbone pixels --set eval.svm_shots=1,500 2>&1", &out), 2);
    cr_assert(strstr(out, "eval.svm_shots: 500 images per class, but class"), "%s", out);
    cr_assert(!strstr(out, "mAP"), "rows were computed before the refusal: %s", out);
    free(out);
    cr_assert_eq(run(TINY "2>&1", &out), 2); /* the student needs a checkpoint */
    cr_assert(strstr(out, "--checkpoint"), "%s", out);
    free(out);
    cr_assert_eq(run(BURN_GPU " eval svm --bogus 2>&1", &out), 2);
    cr_assert(strstr(out, "--bogus"), "%s", out);
    free(out);
}

Test(svm, command_reads_saved_features) {
    /* separable features saved as `burn_gpu extract` writes them */
    burn_features tr = make(200, 8, 4, 0.2, 21, 0), val = make(100, 8, 4, 0.2, 22, 0);
    char *ptr = tu_tmp_path("ftrain.safetensors"), *pval = tu_tmp_path("fval.safetensors");
    char *json = tu_tmp_path("fsvm.json"), *cmd, *out;
    cr_assert_eq(burn_features_save(&tr, ptr, "student", "train", NULL), 0, "%s", burn_error());
    cr_assert_eq(burn_features_save(&val, pval, "student", "val", NULL), 0, "%s", burn_error());
    cr_assert(asprintf(&cmd, BURN_GPU " eval svm --set eval.svm_shots=4,full --set "
                       "eval.svm_threads=2 --features-train %s --features-val %s --json %s 2>&1",
                       ptr, pval, json) > 0);
    cr_assert_eq(run(cmd, &out), 0, "%s", out);
    char text[4096] = {0};
    FILE *f = fopen(json, "r");
    cr_assert(f);
    cr_assert(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    cr_assert(root, "%s", text);
    cr_assert_str_eq(cJSON_GetObjectItem(root, "backbone")->valuestring, "features");
    cr_assert_str_eq(cJSON_GetObjectItem(root, "checkpoint")->valuestring, ptr);
    cJSON *rows = cJSON_GetObjectItem(root, "rows");
    for (int r = 0; r < 2; r++) {
        double map = cJSON_GetObjectItem(cJSON_GetArrayItem(rows, r), "map_mean")->valuedouble;
        cr_assert_geq(map, 0.97, "row %d: mAP %g", r, map);
    }
    cJSON_Delete(root);
    free(out);
    /* one file without the other is a usage error */
    free(cmd);
    cr_assert(asprintf(&cmd, BURN_GPU " eval svm --features-train %s 2>&1", ptr) > 0);
    cr_assert_eq(run(cmd, &out), 2, "%s", out);
    cr_assert(strstr(out, "go together"), "%s", out);
    unlink(ptr), unlink(pval), unlink(json);
    burn_features_free(&tr), burn_features_free(&val);
    free(ptr), free(pval), free(json), free(cmd), free(out);
}
