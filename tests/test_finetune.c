/* test_finetune.c — semi-supervised fine-tuning and the supervised baseline (METHOD.md §9,
 * include/burn/finetune.h) on configs/tiny and synthetic data, CPU:
 *   the class-balanced subset (per-class counts, reproducible per seed, different across
 *   seeds, errors); list files (indices, paths and file names, comments, every bad entry a
 *   file:line error); the classifier's loss and gradients against a double reference; a few
 *   updates change every tensor of the student (convs, BN, RSign/RPReLU, FC) and the
 *   classifier in stage 1 and 2; the loss falls over 30 updates; loading a BURN checkpoint's
 *   student; the supervised baseline from random weights learns synthetic classes and its
 *   checkpoint is read by eval knn; the CLI writes its JSON and refuses bad options. */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/eval.h"
#include "burn/finetune.h"
#include "burn/log.h"
#include "test_data_util.h"

static void tiny_config(burn_config *c, const char *run_dir) {
    burn_log_quiet = 1;
    burn_config_defaults(c);
    cr_assert_eq(burn_config_load(c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    char *set = NULL;
    cr_assert(asprintf(&set, "run.dir=%s", run_dir) > 0);
    cr_assert_eq(burn_config_set(c, set), 0, "%s", burn_error());
    cr_assert_eq(burn_config_set(c, "log.quiet=true"), 0);
    free(set);
}

static void set(burn_config *c, const char *assignment) {
    cr_assert_eq(burn_config_set(c, assignment), 0, "%s: %s", assignment, burn_error());
}

/* ---- the class-balanced subset ---- */

/* 1237 images of 9 classes with skewed sizes (class c drawn ∝ c + 1) and class 8 of 3 only */
static int32_t *skewed_labels(int64_t count, int classes, uint64_t seed) {
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)count);
    uint64_t s = seed;
    int total_w = (classes - 1) * classes / 2;
    for (int64_t i = 0; i < count; i++) {
        int r = tu_int(&s, 0, total_w - 1), c = 0;
        while (r >= c + 1) r -= ++c;
        labels[i] = c; /* c in [0, classes - 2] */
    }
    for (int k = 0; k < 3; k++) labels[tu_int(&s, 0, (int)count - 1)] = classes - 1;
    return labels;
}

Test(finetune_subset, balanced_per_class_counts) {
    const int64_t count = 1237;
    const int classes = 9;
    int32_t *labels = skewed_labels(count, classes, 11);
    int64_t n_c[9] = {0};
    for (int64_t i = 0; i < count; i++) n_c[labels[i]]++;
    const double fractions[] = {0.01, 0.1, 0.37, 1.0};
    for (int f = 0; f < 4; f++) {
        int64_t *idx = NULL;
        int64_t n = burn_subset_balanced(labels, count, classes, fractions[f], 5, &idx);
        cr_assert_gt(n, 0, "%s", burn_error());
        int64_t got[9] = {0}, want_total = 0;
        for (int64_t k = 0; k < n; k++) {
            cr_assert(idx[k] >= 0 && idx[k] < count);
            if (k > 0) cr_assert_lt(idx[k - 1], idx[k], "ascending, no repeats");
            got[labels[idx[k]]]++;
        }
        for (int c = 0; c < classes; c++) {
            /* round half up, at least one image of every class present */
            int64_t want = (int64_t)floor(fractions[f] * (double)n_c[c] + 0.5);
            if (want < 1 && n_c[c] > 0) want = 1;
            cr_assert_eq(got[c], want, "fraction %g class %d (%lld images): %lld chosen, want %lld",
                         fractions[f], c, (long long)n_c[c], (long long)got[c], (long long)want);
            want_total += want;
        }
        cr_assert_eq(n, want_total);
        free(idx);
    }
    free(labels);
}

Test(finetune_subset, reproducible_per_seed_different_across_seeds) {
    const int64_t count = 1237;
    int32_t *labels = skewed_labels(count, 9, 12);
    int64_t *a, *b, *c;
    int64_t na = burn_subset_balanced(labels, count, 9, 0.1, 42, &a);
    int64_t nb = burn_subset_balanced(labels, count, 9, 0.1, 42, &b);
    int64_t nc = burn_subset_balanced(labels, count, 9, 0.1, 43, &c);
    cr_assert(na > 0 && na == nb && na == nc, "the counts depend on the fraction only");
    cr_assert_eq(memcmp(a, b, sizeof(int64_t) * (size_t)na), 0, "same seed, same subset");
    int64_t shared = 0;
    for (int64_t i = 0, j = 0; i < na && j < nc;) {
        if (a[i] == c[j]) shared++, i++, j++;
        else if (a[i] < c[j]) i++;
        else j++;
    }
    /* two independent 10% draws share about 10% of their images */
    cr_assert_lt(shared, na / 2, "seeds 42 and 43 share %lld of %lld images", (long long)shared,
                 (long long)na);
    free(a), free(b), free(c), free(labels);
}

Test(finetune_subset, bad_fraction_and_labels_are_errors) {
    int32_t labels[6] = {0, 1, 2, 0, 1, 2};
    int64_t *idx;
    const double bad[] = {0.0, -0.1, 1.5, NAN};
    for (int k = 0; k < 4; k++) {
        cr_assert_eq(burn_subset_balanced(labels, 6, 3, bad[k], 1, &idx), -1);
        cr_assert(strstr(burn_error(), "(0, 1]"), "%s", burn_error());
        cr_assert_null(idx);
    }
    labels[4] = 3;
    cr_assert_eq(burn_subset_balanced(labels, 6, 3, 0.5, 1, &idx), -1);
    cr_assert(strstr(burn_error(), "image 4 has label 3"), "%s", burn_error());
}

/* ---- list files ---- */

static int64_t read_list(const char *text, const burn_source *src, int64_t **idx) {
    char *path = tu_tmp_path("list.txt");
    tu_write_text(path, text);
    int64_t n = burn_subset_list_read(path, src, idx);
    unlink(path);
    free(path);
    return n;
}

static void expect_list_error(const char *text, const burn_source *src, const char *what) {
    int64_t *idx = (int64_t *)1;
    cr_assert_eq(read_list(text, src, &idx), -1, "list '%s' should fail", text);
    cr_assert_null(idx);
    cr_assert(strstr(burn_error(), what), "list '%s': error '%s' lacks '%s'", text, burn_error(),
              what);
    cr_assert(strstr(burn_error(), "list.txt"), "the error names the file: %s", burn_error());
}

Test(finetune_list, indices_comments_and_errors) {
    burn_source *src = burn_source_synthetic(3, 50, 5, 8, 8);
    int64_t *idx;
    int64_t n = read_list("  7\n# a comment\n\n3\r\n42 \n", src, &idx);
    cr_assert_eq(n, 3, "%s", burn_error());
    cr_assert(idx[0] == 3 && idx[1] == 7 && idx[2] == 42);
    free(idx);
    expect_list_error("3\n50\n", src, "list.txt:2: index 50 is outside the 50");
    expect_list_error("3\n4\n3\n", src, "list.txt:3: image 3 is listed twice (also line 1)");
    expect_list_error("# nothing\n\n", src, "names no image");
    expect_list_error("1\nfoo.png\n", src, "list.txt:2: 'foo.png' matches no training image");
    expect_list_error("99999999999999999999999\n", src, "outside");
    cr_assert_eq(burn_subset_list_read("/nonexistent/list.txt", src, &idx), -1);
    cr_assert(strstr(burn_error(), "/nonexistent/list.txt: cannot open"), "%s", burn_error());
    burn_source_free(src);
}

Test(finetune_list, paths_and_file_names) {
    char *root = td_tmpdir("ft_list");
    td_png(root, "a/same.png", 4, 4, 1); /* index 0 */
    td_png(root, "a/x.png", 4, 4, 2);    /* 1 */
    td_png(root, "b/same.png", 4, 4, 3); /* 2 */
    td_png(root, "b/y.png", 4, 4, 4);    /* 3 */
    burn_image_limits lim = {1 << 20, 1 << 20, NULL};
    burn_source *src = burn_source_imagefolder(root, &lim);
    cr_assert(src, "%s", burn_error());
    int64_t *idx;
    char *text = NULL, *y = td_path(root, "b/y.png");
    cr_assert(asprintf(&text, "x.png\nb/same.png\n%s\n", y) > 0);
    cr_assert_eq(read_list(text, src, &idx), 3, "%s", burn_error());
    cr_assert(idx[0] == 1 && idx[1] == 2 && idx[2] == 3);
    free(idx);
    expect_list_error("x.png\nsame.png\n", src, "list.txt:2: 'same.png' matches several images");
    expect_list_error("a/x.png\n1\n", src, "listed twice");
    expect_list_error("x.png\nx.png\n", src, "list.txt:2: 'x.png' is listed twice (also line 1)");
    expect_list_error("c/x.png\n", src, "matches no training image");
    /* a source over the listed images: labels and loads follow the inner indices */
    cr_assert_eq(read_list("y.png\na/same.png\n", src, &idx), 2);
    burn_source *sub = burn_source_indexed(src, idx, 2);
    cr_assert_eq(sub->count, 2);
    cr_assert(sub->labels[0] == 0 && sub->labels[1] == 1);
    char desc[4096];
    sub->describe(sub, 1, desc, sizeof desc);
    cr_assert(strstr(desc, "b/y.png"), "%s", desc);
    burn_image img = {0};
    cr_assert_eq(burn_source_load(sub, 1, &img), 0, "%s", burn_error());
    uint8_t *px = td_random_pixels(4, 4, 3, 4);
    cr_assert_eq(memcmp(px, img.rgb, 4 * 4 * 3), 0, "indexed image 1 is b/y.png");
    free(px);
    burn_image_free(&img);
    burn_source_free(sub); /* frees src too */
    td_rm_rf(root);
    free(root), free(text), free(y);
}

Test(finetune_subset, source_from_config) {
    burn_config c;
    tiny_config(&c, "/tmp/unused");
    set(&c, "data.synthetic_count=400"); /* 4 classes of 100 */
    int64_t pool = 0;
    burn_source *src = burn_finetune_source(&c, 0.1, "", 7, &pool);
    cr_assert(src, "%s", burn_error());
    cr_assert_eq(src->count, 40);
    cr_assert_eq(pool, 400);
    int per[4] = {0};
    for (int64_t i = 0; i < src->count; i++) per[src->labels[i]]++;
    for (int k = 0; k < 4; k++) cr_assert_eq(per[k], 10, "class %d: %d", k, per[k]);
    burn_source_free(src);
    src = burn_finetune_source(&c, 1.0, NULL, 7, NULL);
    cr_assert_eq(src->count, 400, "fraction 1: every image");
    burn_source_free(src);
    char *path = tu_tmp_path("cfg_list.txt");
    tu_write_text(path, "5\n9\n");
    src = burn_finetune_source(&c, 0.1, path, 7, NULL);
    cr_assert(src, "%s", burn_error());
    cr_assert(src->count == 2 && src->labels[0] == 5 % 4 && src->labels[1] == 9 % 4);
    burn_source_free(src);
    tu_write_text(path, "5\n400\n");
    cr_assert_null(burn_finetune_source(&c, 0.1, path, 7, NULL));
    cr_assert(strstr(burn_error(), ":2: index 400"), "%s", burn_error());
    unlink(path);
    free(path);
    burn_config_free(&c);
}

/* ---- the network ---- */

static float *host_params(const burn_finetune_model *m) {
    float *h = malloc(sizeof(float) * (size_t)m->params.total);
    burn_params_download(&m->params, h);
    return h;
}

Test(finetune_model, loss_and_classifier_gradients_match_double_reference) {
    burn_config c;
    tiny_config(&c, "/tmp/unused");
    const int N = 6, C = 5, S = 32;
    burn_finetune_model m;
    cr_assert_eq(burn_finetune_model_init(&m, &c, burn_cpu_backend(), N, C, 3), 0, "%s",
                 burn_error());
    int F = m.F;
    float *x = malloc(sizeof(float) * N * 3 * S * S);
    tu_fill(x, (int64_t)N * 3 * S * S, 21, -2.0f, 2.0f);
    int32_t labels[6] = {4, 0, 2, 2, 1, 3};
    /* a classifier with logits of a useful spread: W ~ U(−0.5, 0.5), b ~ U(−0.3, 0.3) */
    float *W = burn_param_data(&m.params, m.cls_w), *b = burn_param_data(&m.params, m.cls_b);
    tu_fill(W, (int64_t)C * F, 22, -0.5f, 0.5f);
    tu_fill(b, C, 23, -0.3f, 0.3f);
    m.be->fill(m.params.grad, 0.0f, m.params.trainable);
    double loss;
    int correct;
    cr_assert_eq(burn_finetune_step(&m, x, labels, &loss, &correct), 0, "%s", burn_error());
    /* reference from the step's own (train-mode) features */
    const float *feat = m.feat;
    double ref_loss = 0, dW[5][64] = {{0}}, db[5] = {0};
    cr_assert_leq(F, 64);
    int ref_correct = 0;
    for (int n = 0; n < N; n++) {
        double z[5], mx = -1e300, se = 0;
        int arg = 0;
        for (int k = 0; k < C; k++) {
            z[k] = b[k];
            for (int f = 0; f < F; f++) z[k] += (double)feat[n * F + f] * W[k * F + f];
            if (z[k] > mx) mx = z[k], arg = k;
        }
        for (int k = 0; k < C; k++) se += exp(z[k] - mx);
        double lse = mx + log(se);
        ref_loss += (lse - z[labels[n]]) / N;
        ref_correct += arg == labels[n];
        for (int k = 0; k < C; k++) {
            double g = (exp(z[k] - lse) - (k == labels[n])) / N;
            db[k] += g;
            for (int f = 0; f < F; f++) dW[k][f] += g * feat[n * F + f];
        }
    }
    cr_assert(fabs(loss - ref_loss) <= 1e-5 * (1 + fabs(ref_loss)), "loss %.7f vs %.7f", loss,
              ref_loss);
    cr_assert_eq(correct, ref_correct);
    const float *gW = burn_param_grad(&m.params, m.cls_w), *gb = burn_param_grad(&m.params, m.cls_b);
    for (int k = 0; k < C; k++) {
        cr_assert(fabs(gb[k] - db[k]) <= 1e-5 + 1e-4 * fabs(db[k]), "db[%d] %g vs %g", k, gb[k],
                  db[k]);
        for (int f = 0; f < F; f++)
            cr_assert(fabs(gW[k * F + f] - dW[k][f]) <= 1e-5 + 1e-4 * fabs(dW[k][f]),
                      "dW[%d][%d] %g vs %g", k, f, gW[k * F + f], dW[k][f]);
    }
    /* the gradient reaches the student */
    double student_sq = 0;
    for (int64_t i = 0; i < m.backbone_end; i++) student_sq += (double)m.params.grad[i] * m.params.grad[i];
    cr_assert_gt(student_sq, 0.0);
    /* a label outside the classifier is an error, not a read out of range */
    labels[2] = C;
    cr_assert_eq(burn_finetune_step(&m, x, labels, NULL, NULL), -1);
    cr_assert(strstr(burn_error(), "label 5 of batch image 2"), "%s", burn_error());
    burn_finetune_model_free(&m);
    free(x);
    burn_config_free(&c);
}

/* A few updates move every tensor: student convs, BN affine and running statistics, RSign and
 * RPReLU parameters, the FC, and the classifier. */
static void every_tensor_moves(int stage, const char *optimizer) {
    burn_config c;
    tiny_config(&c, "/tmp/unused");
    char s[64];
    snprintf(s, sizeof s, "model.stage=%d", stage);
    set(&c, s);
    snprintf(s, sizeof s, "finetune.optimizer=%s", optimizer);
    set(&c, s);
    set(&c, "finetune.backbone_lr=0.5");
    const int N = 8, S = 32, C = 4;
    burn_finetune_model m;
    cr_assert_eq(burn_finetune_model_init(&m, &c, burn_cpu_backend(), N, C, 9), 0, "%s",
                 burn_error());
    float *before = host_params(&m);
    int64_t T = m.params.trainable;
    float *opt_a = calloc((size_t)T, sizeof(float)), *opt_b = calloc((size_t)T, sizeof(float));
    float *x = malloc(sizeof(float) * N * 3 * S * S);
    int32_t labels[8];
    for (int u = 0; u < 3; u++) {
        tu_fill(x, (int64_t)N * 3 * S * S, 100 + (uint64_t)u, -2.0f, 2.0f);
        for (int n = 0; n < N; n++) labels[n] = (n + u) % C;
        m.be->fill(m.params.grad, 0.0f, T);
        cr_assert_eq(burn_finetune_step(&m, x, labels, NULL, NULL), 0, "%s", burn_error());
        burn_finetune_update(&m, &c, opt_a, opt_b, u, 0.01);
    }
    float *after = host_params(&m);
    int groups[4] = {0}; /* conv weights, BN, FC, classifier seen moving */
    for (int i = 0; i < m.params.n; i++) {
        const burn_param *p = &m.params.p[i];
        int64_t moved = 0;
        for (int64_t k = 0; k < p->numel; k++) moved += before[p->offset + k] != after[p->offset + k];
        cr_assert_gt(moved, 0, "stage %d, %s: tensor %s did not change", stage, optimizer, p->name);
        groups[0] += strstr(p->name, "conv") != NULL;
        groups[1] += strstr(p->name, "bn") != NULL;
        groups[2] += strncmp(p->name, "student.fc.", 11) == 0;
        groups[3] += strncmp(p->name, "classifier.", 11) == 0;
    }
    for (int g = 0; g < 4; g++) cr_assert_gt(groups[g], 0, "group %d has no tensor", g);
    free(before), free(after), free(opt_a), free(opt_b), free(x);
    burn_finetune_model_free(&m);
    burn_config_free(&c);
}

Test(finetune_model, updates_move_every_tensor_stage1_adam) { every_tensor_moves(1, "adam"); }
Test(finetune_model, updates_move_every_tensor_stage2_sgd) { every_tensor_moves(2, "sgd"); }

Test(finetune_model, loss_falls_over_30_updates) {
    burn_config c;
    tiny_config(&c, "/tmp/unused");
    set(&c, "augment.crop_scale_min=0.6");
    set(&c, "finetune.backbone_lr=1");
    const int N = 16;
    burn_source *src = burn_source_from_config(&c, "train");
    cr_assert(src, "%s", burn_error());
    burn_finetune_model m;
    cr_assert_eq(burn_finetune_model_init(&m, &c, burn_cpu_backend(), N, src->num_classes, 1), 0,
                 "%s", burn_error());
    burn_loader_opts lo;
    burn_loader_opts_from_config(&lo, &c);
    lo.batch = N, lo.views = 1, lo.train = 1, lo.shuffle = 1, lo.epochs = 0, lo.rank = 0;
    lo.world = 1, lo.be = m.be;
    burn_loader *l = burn_loader_create(src, &lo);
    cr_assert(l, "%s", burn_error());
    int64_t T = m.params.trainable;
    float *opt_a = calloc((size_t)T, sizeof(float)), *opt_b = calloc((size_t)T, sizeof(float));
    double first = 0, last = 0;
    for (int u = 0; u < 30; u++) {
        const burn_batch *b;
        cr_assert_eq(burn_loader_next(l, &b), 0, "%s", burn_error());
        m.be->fill(m.params.grad, 0.0f, T);
        double loss;
        cr_assert_eq(burn_finetune_step(&m, b->x[0], b->labels, &loss, NULL), 0, "%s", burn_error());
        burn_finetune_update(&m, &c, opt_a, opt_b, u, 0.01);
        if (u < 5) first += loss / 5;
        if (u >= 25) last += loss / 5;
    }
    cr_assert_lt(last, 0.9 * first, "mean loss of updates 0-4: %.4f, of 25-29: %.4f", first, last);
    burn_loader_free(l);
    burn_source_free(src);
    free(opt_a), free(opt_b);
    burn_finetune_model_free(&m);
    burn_config_free(&c);
}

Test(finetune_model, loads_the_student_of_a_burn_checkpoint) {
    burn_config c;
    tiny_config(&c, "/tmp/unused");
    char *dir = td_tmpdir("ft_ckpt");
    /* a BURN model whose weights differ from the fine-tuning model's (another seed) */
    burn_model bm;
    set(&c, "run.seed=77");
    cr_assert_eq(burn_model_init(&bm, &c, burn_cpu_backend(), 4), 0, "%s", burn_error());
    burn_ckpt_state st = {.step = 3, .micro_step = 3, .stage = 1, .kind = "burn"};
    char *path = NULL;
    cr_assert_eq(burn_ckpt_save(dir, &bm.params, NULL, NULL, &st, &c, 1, 0, &path), 0, "%s",
                 burn_error());
    burn_finetune_model m;
    cr_assert_eq(burn_finetune_model_init(&m, &c, burn_cpu_backend(), 4, 3, 1), 0);
    float *cls_before = host_params(&m);
    cr_assert_eq(burn_finetune_model_load_student(&m, dir, &c), 0, "%s", burn_error());
    float *ft = host_params(&m), *burn = malloc(sizeof(float) * (size_t)bm.params.total);
    burn_params_download(&bm.params, burn);
    int students = 0;
    for (int i = 0; i < m.params.n; i++) {
        const burn_param *p = &m.params.p[i];
        if (strncmp(p->name, "student.", 8) != 0) { /* the classifier keeps its init */
            cr_assert_eq(memcmp(ft + p->offset, cls_before + p->offset, sizeof(float) * (size_t)p->numel), 0);
            continue;
        }
        int j = burn_params_find(&bm.params, p->name);
        cr_assert_geq(j, 0, "%s", p->name);
        cr_assert_eq(memcmp(ft + p->offset, burn + bm.params.p[j].offset,
                            sizeof(float) * (size_t)p->numel), 0, "%s", p->name);
        students++;
    }
    cr_assert_gt(students, 50);
    burn_finetune_model_free(&m);
    /* another width: the checkpoint's model is named; unchecked, the error names a tensor */
    set(&c, "model.width=0.125");
    cr_assert_eq(burn_finetune_model_init(&m, &c, burn_cpu_backend(), 4, 3, 1), 0);
    cr_assert_eq(burn_finetune_model_load_student(&m, path, &c), -1);
    cr_assert(strstr(burn_error(), "--checkpoint") && strstr(burn_error(), "model.width = 0.0625") &&
              strstr(burn_error(), "--set model.width=0.0625"), "%s", burn_error());
    cr_assert_eq(burn_finetune_model_load_student(&m, path, NULL), -1);
    cr_assert(strstr(burn_error(), "--checkpoint") && strstr(burn_error(), "student."), "%s",
              burn_error());
    burn_finetune_model_free(&m);
    burn_model_free(&bm);
    free(cls_before), free(ft), free(burn), free(path);
    td_rm_rf(dir);
    free(dir);
    burn_config_free(&c);
}

/* ---- the whole protocol ---- */

/* train/ and val/ ImageFolder splits of synthetic images of ONE seed (the config's synthetic
 * source draws its val split's class colours from another seed, so a classifier could not
 * carry over): class k in folder c<k>. */
static void synthetic_tree(const char *root, int classes, int ntrain, int nval, int side) {
    uint8_t *rgb = malloc((size_t)side * side * 3);
    for (int i = 0; i < ntrain + nval; i++) {
        burn_synthetic_render(5, i, classes, side, side, rgb);
        char rel[64];
        snprintf(rel, sizeof rel, "%s/c%d/%04d.png", i < ntrain ? "train" : "val", i % classes, i);
        char *path = td_path(root, rel);
        cr_assert_eq(burn_image_write_png(path, rgb, side, side, 3), 0, "%s", burn_error());
        free(path);
    }
    free(rgb);
}

Test(finetune_protocol, supervised_baseline_learns_and_eval_knn_reads_it, .timeout = 60) {
    char *root = td_tmpdir("ft_data"), *run = tu_tmp_path("ft_run");
    td_rm_rf(run);
    synthetic_tree(root, 4, 192, 64, 36);
    burn_config c;
    tiny_config(&c, run);
    char *s = NULL;
    cr_assert(asprintf(&s, "data.root=%s", root) > 0);
    set(&c, s);
    free(s);
    set(&c, "data.source=imagefolder");
    set(&c, "data.val=val");
    set(&c, "augment.crop_scale_min=0.6");
    set(&c, "finetune.epochs=16");
    set(&c, "finetune.batch_size=16");
    set(&c, "finetune.lr=0.01");
    set(&c, "finetune.backbone_lr=1");
    burn_finetune_opts o = {"random", 1.0, "", 0};
    burn_finetune_result r;
    cr_assert_eq(burn_finetune(&c, burn_cpu_backend(), &o, &r), 0, "%s", burn_error());
    cr_assert_eq(r.labelled, 192);
    cr_assert_eq(r.classes, 4);
    cr_assert_eq(r.steps, 16 * 12);
    cr_assert_lt(r.last_loss, r.first_loss);
    cr_assert_gt(r.top1, 0.5, "val top-1 %.3f: chance is 0.25", r.top1);
    cr_assert_eq(r.top5, 1.0, "4 classes: every label is in the top 5");
    /* eval knn reads the student of the result (student.* names, strictly) */
    double knn = 0;
    cr_assert_eq(burn_eval_knn(&c, burn_cpu_backend(), BURN_BACKBONE_STUDENT, run, &knn), 0, "%s",
                 burn_error());
    cr_assert(knn > 0.25, "k-NN top-1 of the supervised student %.3f", knn);
    char *metrics = NULL;
    cr_assert(asprintf(&metrics, "%s/metrics.jsonl", run) > 0);
    size_t n;
    char *text = (char *)td_read_bytes(metrics, &n);
    text[n] = 0;
    cr_assert(strstr(text, "\"val_top1\""), "%s", text);
    free(text), free(metrics);
    /* one run per run.dir: a second fine-tuning there is refused, --overwrite replaces it */
    set(&c, "finetune.epochs=1");
    burn_finetune_result r2;
    cr_assert_eq(burn_finetune(&c, burn_cpu_backend(), &o, &r2), 2);
    cr_assert(strstr(burn_error(), "already holds a run") && strstr(burn_error(), "--overwrite"),
              "%s", burn_error());
    o.overwrite = 1;
    cr_assert_eq(burn_finetune(&c, burn_cpu_backend(), &o, &r2), 0, "%s", burn_error());
    char *only = burn_ckpt_find_latest(run, NULL);
    cr_assert_str_eq(only, r2.checkpoint_path, "the old run's checkpoint is what eval would read");
    free(only);
    burn_finetune_result_free(&r2);
    o.overwrite = 0;
    /* the 25% subset: 12 images per class */
    o.fraction = 0.25;
    burn_finetune_result_free(&r);
    td_rm_rf(run);
    cr_assert_eq(burn_finetune(&c, burn_cpu_backend(), &o, &r), 0, "%s", burn_error());
    cr_assert_eq(r.labelled, 48);
    burn_finetune_result_free(&r);
    /* a batch larger than the labelled subset is a clear error */
    td_rm_rf(run);
    set(&c, "finetune.batch_size=64");
    o.fraction = 0.1;
    cr_assert_eq(burn_finetune(&c, burn_cpu_backend(), &o, &r), 2);
    cr_assert(strstr(burn_error(), "labelled images at finetune.batch_size 64"), "%s", burn_error());
    td_rm_rf(run);
    td_rm_rf(root);
    free(root), free(run);
    burn_config_free(&c);
}

/* ---- the command line ---- */

static int run_cmd(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0, r;
    char *buf = calloc(cap, 1);
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) len += r;
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define FT BURN_GPU " finetune --config configs/tiny/burn.ini --set log.quiet=true " \
                    "--set finetune.batch_size=16 --set finetune.epochs=2 --set run.dir="

Test(finetune_cli, json_and_usage_errors) {
    char *run = tu_tmp_path("ft_cli"), *json = tu_tmp_path("ft_cli.json"), *cmd = NULL, *out;
    td_rm_rf(run);
    cr_assert(asprintf(&cmd, FT "%s --checkpoint random --fraction 0.5 --json %s 2>&1", run, json) > 0);
    cr_assert_eq(run_cmd(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "top-1"), "%s", out);
    free(out), free(cmd);
    size_t n;
    char *text = (char *)td_read_bytes(json, &n);
    text[n] = 0;
    cr_assert(strstr(text, "\"protocol\": \"finetune\"") && strstr(text, "\"fraction\": 0.5") &&
              strstr(text, "\"checkpoint\": \"random\"") && strstr(text, "\"labelled\": 64") &&
              strstr(text, "\"top1\": ") && strstr(text, "\"top5\": "), "%s", text);
    free(text);
    /* a list file: the JSON names it, and the fraction is the share it names */
    char *list = tu_tmp_path("ft_cli_list.txt");
    tu_write_text(list, "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n");
    td_rm_rf(run);
    cr_assert(asprintf(&cmd, FT "%s --checkpoint random --subset-list %s --json %s 2>&1", run,
                       list, json) > 0);
    cr_assert_eq(run_cmd(cmd, &out), 0, "%s", out);
    free(out), free(cmd);
    text = (char *)td_read_bytes(json, &n);
    text[n] = 0;
    cr_assert(strstr(text, "\"fraction\": 0.125") && strstr(text, "\"labelled\": 16") &&
              strstr(text, "ft_cli_list.txt\""), "%s", text);
    free(text);
    unlink(list);
    free(list);
    const char *bad[][2] = {
        {"", "--checkpoint is required"},
        {"--checkpoint random --fraction 0", "--fraction 0: expected a share in (0, 1]"},
        {"--checkpoint random --fraction 1.5", "expected a share"},
        {"--checkpoint random --fraction 0.5 --subset-list x", "not both"},
        {"--checkpoint random --subset-list /nonexistent.txt", "/nonexistent.txt: cannot open"},
        {"--checkpoint /nonexistent/ckpt.safetensors", "--checkpoint"},
        {"--checkpoint random --set finetune.optimizer=rmsprop", "finetune.optimizer"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) { /* run.dir holds a run: */
        cr_assert(asprintf(&cmd, FT "%s --overwrite %s 2>&1", run, bad[k][0]) > 0);
        int rc = run_cmd(cmd, &out);
        cr_assert_eq(rc, 2, "'%s' exited %d: %s", bad[k][0], rc, out);
        cr_assert(strstr(out, bad[k][1]), "'%s': output lacks '%s': %s", bad[k][0], bad[k][1], out);
        free(out), free(cmd);
    }
    td_rm_rf(run);
    unlink(json);
    free(run), free(json);
}
