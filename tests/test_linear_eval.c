/* test_linear_eval.c — linear evaluation (src/eval/linear_eval.c) and saved features
 * (src/eval/features_io.c): separable synthetic features are classified ~perfectly, random labels
 * give chance, the LR schedule and its config parsing, the images path on configs/tiny leaves
 * every backbone tensor bit-identical to the checkpoint while it trains student.fc, features
 * files round-trip and bad ones are refused, and the CLI's errors (`eval linear`, `extract`). */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include "burn/burn.h"
#include "burn/eval.h"
#include "burn/log.h"
#include "burn/safetensors.h"
#include "test_features_util.h"
#include "test_util.h"

#define TINY "configs/tiny/burn.ini"

static void quiet(void) { burn_log_quiet = 1; }

static burn_linear_opts opts(int epochs, int batch, double lr) {
    burn_linear_opts o = {.epochs = epochs, .batch_size = batch, .lr = lr, .momentum = 0.9,
                          .weight_decay = 0, .n_milestones = 1, .milestones = {epochs - 2},
                          .augment = 1, .seed = 3};
    return o;
}

Test(linear_eval, separable_features_are_classified, .init = quiet) {
    burn_features tr = tu_class_features(700, 20, 10, 2.0f, 0.8, 1, 0);
    burn_features va = tu_class_features(300, 20, 10, 2.0f, 0.8, 2, 0);
    burn_linear_opts o = opts(15, 64, 0.05);
    burn_linear_result r;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &r), 0, "%s",
                 burn_error());
    cr_assert_eq(r.val_count, 300);
    cr_assert_geq(r.top1, 0.99, "top1 %g", r.top1);
    cr_assert_geq(r.top5, r.top1);
    cr_assert_lt(r.train_loss, 0.1, "train loss %g", r.train_loss);
    burn_features_free(&tr);
    burn_features_free(&va);
}

Test(linear_eval, random_labels_give_chance, .init = quiet) {
    burn_features tr = tu_class_features(1000, 20, 10, 2.0f, 0.8, 3, 1);
    burn_features va = tu_class_features(2000, 20, 10, 2.0f, 0.8, 4, 1);
    burn_linear_opts o = opts(5, 100, 0.05);
    burn_linear_result r;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &r), 0, "%s",
                 burn_error());
    cr_assert(r.top1 > 0.05 && r.top1 < 0.15, "top1 %g not near chance 0.1", r.top1);
    cr_assert(r.top5 > 0.4 && r.top5 < 0.6, "top5 %g not near chance 0.5", r.top5);
    burn_features_free(&tr);
    burn_features_free(&va);
}

/* the same seed gives the same classifier; another seed shuffles differently */
Test(linear_eval, features_path_is_deterministic, .init = quiet) {
    burn_features tr = tu_class_features(200, 8, 5, 2.0f, 1.5, 5, 0);
    burn_features va = tu_class_features(100, 8, 5, 2.0f, 1.5, 6, 0);
    burn_linear_opts o = opts(3, 32, 0.05);
    burn_linear_result a, b, c;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &a), 0);
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &b), 0);
    o.seed = 4;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &c), 0);
    cr_assert_eq(a.train_loss, b.train_loss);
    cr_assert_eq(a.top1, b.top1);
    cr_assert_neq(a.train_loss, c.train_loss);
    burn_features_free(&tr);
    burn_features_free(&va);
}

Test(linear_eval, mismatched_features_are_refused) {
    burn_features tr = tu_class_features(50, 8, 4, 2.0f, 0.1, 7, 0);
    burn_features va = tu_class_features(20, 9, 4, 2.0f, 0.1, 8, 0);
    burn_linear_opts o = opts(3, 16, 0.01);
    burn_linear_result r;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &r), -1);
    cr_assert(strstr(burn_error(), "8-d") && strstr(burn_error(), "9-d"), "%s", burn_error());
    va.dim = 8;
    va.num_classes = 5;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &r), -1);
    cr_assert(strstr(burn_error(), "classes"), "%s", burn_error());
    va.num_classes = 4;
    tr.labels[3] = 4;
    cr_assert_eq(burn_linear_train_features(burn_cpu_backend(), &o, &tr, &va, &r), -1);
    cr_assert(strstr(burn_error(), "label 4"), "%s", burn_error());
    burn_features_free(&tr);
    burn_features_free(&va);
}

Test(linear_eval, milestones_and_lr_schedule) {
    burn_config cfg;
    burn_config_defaults(&cfg);
    burn_linear_opts o;
    cr_assert_eq(burn_linear_opts_from_config(&o, &cfg), 0, "%s", burn_error());
    cr_assert_eq(o.epochs, 100);
    cr_assert_eq(o.batch_size, 256);
    cr_assert_eq(o.n_milestones, 2);
    cr_assert_eq(o.milestones[0], 60);
    cr_assert_eq(o.milestones[1], 80);
    cr_assert_float_eq(burn_linear_lr(&o, 0), 0.01, 1e-12);
    cr_assert_float_eq(burn_linear_lr(&o, 59), 0.01, 1e-12);
    cr_assert_float_eq(burn_linear_lr(&o, 60), 0.001, 1e-12);
    cr_assert_float_eq(burn_linear_lr(&o, 79), 0.001, 1e-12);
    cr_assert_float_eq(burn_linear_lr(&o, 80), 0.0001, 1e-12);
    static const char *const bad[] = {"80,60", "abc", "60;80", "-5", "60,60", "0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *set = NULL;
        cr_assert(asprintf(&set, "eval.linear_milestones=%s", bad[i]) > 0);
        cr_assert_eq(burn_config_set(&cfg, set), 0);
        cr_assert_eq(burn_linear_opts_from_config(&o, &cfg), -1, "'%s' accepted", bad[i]);
        cr_assert(strstr(burn_error(), "eval.linear_milestones"), "%s", burn_error());
        free(set);
    }
    cr_assert_eq(burn_config_set(&cfg, "eval.linear_milestones= 12, 16"), 0);
    cr_assert_eq(burn_linear_opts_from_config(&o, &cfg), 0, "%s", burn_error());
    cr_assert_eq(o.n_milestones, 2);
    cr_assert_eq(o.milestones[1], 16);
    cr_assert_eq(burn_config_set(&cfg, "eval.linear_milestones="), 0);
    cr_assert_eq(burn_linear_opts_from_config(&o, &cfg), 0, "%s", burn_error());
    cr_assert_eq(o.n_milestones, 0);
    cr_assert_float_eq(burn_linear_lr(&o, 1000), 0.01, 1e-12);
    burn_config_free(&cfg);
}

/* ---- images path ---- */

/* A checkpoint of the tiny model's freshly initialised weights (its "student.*" tensors and
 * the rest), with student.fc perturbed away from the init so loading it is visible. */
static char *write_tiny_checkpoint(const burn_config *cfg, const char *tag) {
    burn_model m;
    cr_assert_eq(burn_model_init(&m, cfg, burn_cpu_backend(), 4), 0, "%s", burn_error());
    float *host = malloc((size_t)m.params.total * 4);
    burn_params_download(&m.params, host);
    int fcb = burn_params_find(&m.params, "student.fc.bias");
    cr_assert_geq(fcb, 0);
    tu_fill(host + m.params.p[fcb].offset, m.params.p[fcb].numel, 77, -0.5f, 0.5f);
    burn_st_writer w;
    burn_st_writer_init(&w);
    burn_params_add_to_writer(&m.params, &w, "", host);
    char *path = tu_tmp_path(tag);
    cr_assert_eq(burn_st_save(&w, path), 0, "%s", burn_error());
    burn_st_writer_free(&w);
    free(host);
    burn_model_free(&m);
    return path;
}

/* Every tensor of ps equals (bit for bit, or differs from: same = 0) the file's tensor of
 * the same name; returns how many were compared. */
static int compare_with_file(const burn_params *ps, const char *path, int same) {
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    float *host = malloc((size_t)ps->total * 4);
    burn_params_download(ps, host);
    int compared = 0;
    for (int i = 0; i < ps->n; i++) {
        if (!burn_st_find(&f, ps->p[i].name)) continue;
        float *want = malloc((size_t)ps->p[i].numel * 4);
        cr_assert_eq(burn_st_read_f32(&f, ps->p[i].name, want, ps->p[i].numel), 0);
        int eq = memcmp(want, host + ps->p[i].offset, (size_t)ps->p[i].numel * 4) == 0;
        cr_assert_eq(eq, same, "%s %s the checkpoint", ps->p[i].name,
                     same ? "differs from" : "still equals");
        compared++;
        free(want);
    }
    free(host);
    burn_st_close(&f);
    return compared;
}

/* stage 3 here: stage 1 with loss.fs_on = features (the FC maps to the teacher's width) */
static void images_path_keeps_backbone(int stage) {
    burn_config cfg;
    burn_config_defaults(&cfg);
    cr_assert_eq(burn_config_load(&cfg, TINY), 0, "%s", burn_error());
    if (stage == 2) cr_assert_eq(burn_config_set(&cfg, "model.stage=2"), 0);
    if (stage == 3) cr_assert_eq(burn_config_set(&cfg, "loss.fs_on=features"), 0);
    char *ckpt = write_tiny_checkpoint(&cfg, stage == 2 ? "lin-ckpt2" : "lin-ckpt1");
    burn_linear_opts o;
    cr_assert_eq(burn_linear_opts_from_config(&o, &cfg), 0);
    o.epochs = 2;
    o.batch_size = 48; /* 128 images: the last batch of each epoch is padded */
    o.lr = 0.5;
    o.n_milestones = 0;
    burn_linear_result r;
    burn_params backbone, head;
    cr_assert_eq(burn_linear_train_images(&cfg, burn_cpu_backend(), ckpt, &o, &r, &backbone,
                                          &head),
                 0, "%s", burn_error());
    cr_assert_eq(r.val_count, cfg.data_synthetic_val_count);
    cr_assert(r.top1 >= 0 && r.top1 <= 1 && r.top5 >= r.top1, "top1 %g top5 %g", r.top1, r.top5);
    cr_assert(isfinite(r.train_loss) && r.train_loss > 0);
    /* the frozen backbone: every tensor (weights, BN running statistics) bit-identical */
    int nb = compare_with_file(&backbone, ckpt, 1);
    cr_assert_eq(nb, backbone.n, "backbone tensors compared %d of %d", nb, backbone.n);
    cr_assert_gt(nb, 50);
    cr_assert_lt(burn_params_find(&backbone, "student.fc.weight"), 0);
    /* the trained FC moved away from the checkpoint's */
    cr_assert_eq(compare_with_file(&head, ckpt, 0), 2, "student.fc.weight and .bias");
    int lw = burn_params_find(&head, "linear.weight");
    cr_assert_geq(lw, 0);
    burn_reactnet full;
    cr_assert_eq(burn_models_from_config(&cfg, &full, NULL, NULL, NULL), 0);
    cr_assert_eq(head.p[lw].shape[1], full.feature_dim, "the classifier reads the FC's width");
    burn_params_free(&backbone);
    burn_params_free(&head);
    unlink(ckpt);
    free(ckpt);
    burn_config_free(&cfg);
}

Test(linear_eval, images_path_trains_fc_and_keeps_backbone_stage1, .init = quiet) {
    images_path_keeps_backbone(1);
}

Test(linear_eval, images_path_trains_fc_and_keeps_backbone_stage2, .init = quiet) {
    images_path_keeps_backbone(2);
}

Test(linear_eval, images_path_with_the_teacher_width_feature, .init = quiet) {
    images_path_keeps_backbone(3);
}

Test(linear_eval, images_path_needs_a_readable_checkpoint, .init = quiet) {
    burn_config cfg;
    burn_config_defaults(&cfg);
    cr_assert_eq(burn_config_load(&cfg, TINY), 0, "%s", burn_error());
    burn_linear_opts o;
    cr_assert_eq(burn_linear_opts_from_config(&o, &cfg), 0);
    burn_linear_result r;
    cr_assert_eq(burn_linear_train_images(&cfg, burn_cpu_backend(), NULL, &o, &r, NULL, NULL), -1);
    cr_assert(strstr(burn_error(), "--checkpoint"), "%s", burn_error());
    cr_assert_eq(burn_linear_train_images(&cfg, burn_cpu_backend(), "/nonexistent/ckpt", &o, &r,
                                          NULL, NULL),
                 -1);
    cr_assert(strstr(burn_error(), "/nonexistent/ckpt"), "%s", burn_error());
    burn_config_free(&cfg);
}

/* ---- saved features ---- */

Test(linear_eval, features_file_round_trip) {
    burn_features f = tu_class_features(37, 5, 3, 2.0f, 0.5, 9, 1), g;
    char *path = tu_tmp_path("lin-feat.safetensors");
    cr_assert_eq(burn_features_save(&f, path, "student", "train", "runs/x"), 0, "%s", burn_error());
    cr_assert_eq(burn_features_load(&g, path), 0, "%s", burn_error());
    cr_assert_eq(g.count, 37);
    cr_assert_eq(g.dim, 5);
    cr_assert_eq(g.num_classes, 3);
    cr_assert_eq(memcmp(g.x, f.x, 37 * 5 * 4), 0);
    cr_assert_eq(memcmp(g.labels, f.labels, 37 * 4), 0);
    burn_st_file st;
    cr_assert_eq(burn_st_open(&st, path), 0);
    cr_assert_str_eq(burn_st_meta(&st, "backbone"), "student");
    cr_assert_str_eq(burn_st_meta(&st, "split"), "train");
    cr_assert_str_eq(burn_st_meta(&st, "checkpoint"), "runs/x");
    burn_st_close(&st);
    burn_features_free(&f);
    burn_features_free(&g);
    unlink(path);
    free(path);
}

/* A features file written by hand: tensors and metadata as given. */
static char *write_raw(const char *tag, const float *x, int64_t rows, int64_t dim,
                       const int32_t *y, int64_t nlabels, const char *meta_dim,
                       const char *meta_classes) {
    burn_st_writer w;
    burn_st_writer_init(&w);
    int64_t xs[2] = {rows, dim}, ys[1] = {nlabels};
    burn_st_add(&w, "features", BURN_F32, 2, xs, x);
    burn_st_add(&w, "labels", BURN_I32, 1, ys, y);
    if (meta_dim) burn_st_add_meta(&w, "dim", meta_dim);
    if (meta_classes) burn_st_add_meta(&w, "classes", meta_classes);
    char *path = tu_tmp_path(tag);
    cr_assert_eq(burn_st_save(&w, path), 0, "%s", burn_error());
    burn_st_writer_free(&w);
    return path;
}

Test(linear_eval, bad_features_files_are_refused) {
    float x[12];
    tu_fill(x, 12, 4, -1, 1);
    int32_t y[4] = {0, 1, 2, 1};
    struct {
        const char *what;
        int64_t rows, dim, nlabels;
        const char *mdim, *mclasses;
        int bad_value, bad_label;
    } cases[] = {
        {"labels", 4, 3, 3, "3", "3", 0, 0},      /* one label short */
        {"dim", 4, 3, 4, "4", "3", 0, 0},         /* metadata dim disagrees */
        {"classes", 4, 3, 4, "3", NULL, 0, 0},    /* no class count */
        {"at least 2", 4, 3, 4, "3", "1", 0, 0},  /* one class */
        {"non-finite", 4, 3, 4, "3", "3", 1, 0},  /* a NaN feature */
        {"outside", 4, 3, 4, "3", "3", 0, 1},     /* label 3 of 3 classes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float xc[12];
        int32_t yc[4];
        memcpy(xc, x, sizeof xc);
        memcpy(yc, y, sizeof yc);
        if (cases[i].bad_value) xc[7] = NAN;
        if (cases[i].bad_label) yc[2] = 3;
        char *path = write_raw("lin-bad.safetensors", xc, cases[i].rows, cases[i].dim, yc,
                               cases[i].nlabels, cases[i].mdim, cases[i].mclasses);
        burn_features f;
        cr_assert_eq(burn_features_load(&f, path), -1, "case %zu accepted", i);
        cr_assert(strstr(burn_error(), cases[i].what) && strstr(burn_error(), path),
                  "case %zu: '%s' lacks '%s'", i, burn_error(), cases[i].what);
        cr_assert_null(f.x);
        unlink(path);
        free(path);
    }
    burn_features f;
    cr_assert_eq(burn_features_load(&f, "/nonexistent/features.safetensors"), -1);
    cr_assert(strstr(burn_error(), "/nonexistent/features.safetensors"), "%s", burn_error());
}

/* ---- the commands ---- */

static int run(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0;
    char *buf = calloc(cap, 1);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) len += r;
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(linear_eval, cli_errors_are_clear) {
    char *out;
    cr_assert_eq(run(BURN_GPU " eval linear --config " TINY " 2>&1", &out), 2);
    cr_assert(strstr(out, "--checkpoint"), "%s", out);
    free(out);
    cr_assert_eq(run(BURN_GPU " eval linear --features-train a.safetensors 2>&1", &out), 2);
    cr_assert(strstr(out, "--features-val"), "%s", out);
    free(out);
    cr_assert_eq(run(BURN_GPU " eval linear --config " TINY " --checkpoint random "
                     "--set eval.linear_milestones=9,3 2>&1", &out), 2);
    cr_assert(strstr(out, "eval.linear_milestones"), "%s", out);
    free(out);
    cr_assert_eq(run(BURN_GPU " extract --config " TINY " --backbone student --out x.st 2>&1",
                     &out), 2);
    cr_assert(strstr(out, "--checkpoint"), "%s", out);
    free(out);
    cr_assert_eq(run(BURN_GPU " extract --config " TINY " --backbone pixels 2>&1", &out), 2);
    cr_assert(strstr(out, "--out"), "%s", out);
    free(out);
    /* feature files of different backbones (dims) */
    burn_features a = tu_class_features(30, 6, 3, 2.0f, 0.1, 1, 0);
    burn_features b = tu_class_features(30, 7, 3, 2.0f, 0.1, 2, 0);
    char *pa = tu_tmp_path("lin-a.safetensors"), *pb = tu_tmp_path("lin-b.safetensors");
    cr_assert_eq(burn_features_save(&a, pa, "student", "train", "ckpt"), 0);
    cr_assert_eq(burn_features_save(&b, pb, "teacher", "val", NULL), 0);
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, BURN_GPU " eval linear --features-train %s --features-val %s 2>&1",
                       pa, pb) > 0);
    cr_assert_eq(run(cmd, &out), 1);
    cr_assert(strstr(out, "6-d") && strstr(out, "7-d"), "%s", out);
    free(out), free(cmd);
    unlink(pa), unlink(pb), free(pa), free(pb);
    burn_features_free(&a);
    burn_features_free(&b);
}

/* extract pixels of the tiny synthetic data, then eval linear on the two files: the JSON
 * carries the protocol's fields */
Test(linear_eval, extract_then_linear_on_files) {
    char *tr = tu_tmp_path("lin-tr.safetensors"), *va = tu_tmp_path("lin-va.safetensors"),
         *js = tu_tmp_path("lin.json"), *cmd = NULL, *out;
    cr_assert(asprintf(&cmd,
                       BURN_GPU " extract --config " TINY " --backbone pixels --split train "
                                "--out %s 2>&1 && " BURN_GPU " extract --config " TINY
                                " --backbone pixels --split val --out %s 2>&1 && " BURN_GPU
                                " eval linear --features-train %s --features-val %s --set "
                                "eval.linear_epochs=2 --json %s 2>&1",
                       tr, va, tr, va, js) > 0);
    cr_assert_eq(run(cmd, &out), 0, "%s", out);
    free(out);
    burn_features f;
    cr_assert_eq(burn_features_load(&f, va), 0, "%s", burn_error());
    cr_assert_eq(f.count, 64);
    cr_assert_eq(f.dim, 3 * 32 * 32);
    cr_assert_eq(f.num_classes, 4);
    burn_features_free(&f);
    FILE *jf = fopen(js, "r");
    cr_assert(jf);
    char text[1024] = {0};
    cr_assert_gt(fread(text, 1, sizeof text - 1, jf), 0);
    fclose(jf);
    static const char *const keys[] = {"\"protocol\": \"linear\"", "\"backbone\": \"pixels\"",
                                       "\"checkpoint\": \"none\"", "\"train_fc\": false",
                                       "\"epochs\": 2", "\"top1\": ", "\"top5\": ",
                                       "\"dataset\": "};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(strstr(text, keys[i]), "JSON lacks %s: %s", keys[i], text);
    unlink(tr), unlink(va), unlink(js);
    free(tr), free(va), free(js), free(cmd);
}
