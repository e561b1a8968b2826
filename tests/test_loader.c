/* test_loader.c — the threaded batch loader: identical batches for 0, 1 and 4 workers and any
 * prefetch depth; batch contents equal the augmentation applied directly; evaluation order
 * and padding; resume mid-epoch; bad images skipped, counted and deterministic, and the run
 * stopped past max_bad_fraction; a stalled worker reported instead of hanging; clean
 * shutdown while workers are busy. */
#include <criterion/criterion.h>
#include <unistd.h>

#include "burn/data.h"
#include "burn/log.h"
#include "test_data_util.h"

static burn_loader_opts base_opts(void) {
    burn_loader_opts o = {0};
    o.batch = 5;
    o.views = 2;
    o.train = 1;
    o.size = 16;
    o.workers = 1;
    o.prefetch = 2;
    o.rank = 0;
    o.world = 1;
    o.shuffle = 1;
    o.drop_last = 1;
    o.epochs = 2;
    o.seed = 31;
    o.max_bad_fraction = 0;
    o.stall_timeout_s = 30;
    burn_aug_params_default(&o.aug);
    o.be = burn_cpu_backend();
    return o;
}

/* All batches of a loader, concatenated: x views, labels, indices, epoch·1000 + step. */
typedef struct run {
    int nb;
    float *x;
    int32_t *labels;
    int64_t *indices, *pos;
} run;

static run collect(const burn_source *src, burn_loader_opts o) {
    burn_loader *l = burn_loader_create(src, &o);
    cr_assert(l, "%s", burn_error());
    run r = {0};
    size_t per = (size_t)o.views * o.batch * 3 * o.size * o.size;
    const burn_batch *b;
    int rc;
    while ((rc = burn_loader_next(l, &b)) == 0) {
        r.x = realloc(r.x, (r.nb + 1) * per * sizeof(float));
        r.labels = realloc(r.labels, (r.nb + 1) * o.batch * sizeof(int32_t));
        r.indices = realloc(r.indices, (r.nb + 1) * o.batch * sizeof(int64_t));
        r.pos = realloc(r.pos, (r.nb + 1) * sizeof(int64_t));
        size_t pv = per / o.views;
        for (int v = 0; v < o.views; v++)
            memcpy(r.x + r.nb * per + v * pv, b->x[v], pv * sizeof(float));
        memcpy(r.labels + r.nb * o.batch, b->labels, o.batch * sizeof(int32_t));
        memcpy(r.indices + r.nb * o.batch, b->indices, o.batch * sizeof(int64_t));
        r.pos[r.nb] = b->epoch * 1000 + b->step;
        r.nb++;
    }
    cr_assert_eq(rc, 1, "loader failed: %s", burn_error());
    cr_assert_eq(burn_loader_next(l, &b), 1, "stays at the end");
    burn_loader_free(l);
    return r;
}

static void run_free(run *r) {
    free(r->x), free(r->labels), free(r->indices), free(r->pos);
}

static void assert_same(const run *a, const run *b, const burn_loader_opts *o, const char *what) {
    cr_assert_eq(a->nb, b->nb, "%s: batch count", what);
    size_t per = (size_t)o->views * o->batch * 3 * o->size * o->size;
    cr_assert_eq(memcmp(a->x, b->x, a->nb * per * sizeof(float)), 0, "%s: pixels differ", what);
    cr_assert_eq(memcmp(a->labels, b->labels, a->nb * o->batch * sizeof(int32_t)), 0, "%s", what);
    cr_assert_eq(memcmp(a->indices, b->indices, a->nb * o->batch * sizeof(int64_t)), 0, "%s", what);
    cr_assert_eq(memcmp(a->pos, b->pos, a->nb * sizeof(int64_t)), 0, "%s", what);
}

Test(loader, same_batches_for_any_worker_count, .timeout = 30) {
    burn_source *src = burn_source_synthetic(4, 37, 5, 20, 17);
    burn_loader_opts o = base_opts();
    run one = collect(src, o);
    cr_assert_eq(one.nb, 2 * 7); /* 37 / 5 = 7 full batches per epoch, 2 epochs */
    o.workers = 4;
    run four = collect(src, o);
    assert_same(&one, &four, &o, "1 vs 4 workers");
    o.workers = 0;
    run inl = collect(src, o);
    assert_same(&one, &inl, &o, "1 worker vs inline");
    o.workers = 3;
    o.prefetch = 1;
    run p1 = collect(src, o);
    assert_same(&one, &p1, &o, "prefetch 1");
    /* another seed: other batches */
    o.seed = 32;
    run other = collect(src, o);
    cr_assert_neq(memcmp(one.indices, other.indices, 14 * 5 * sizeof(int64_t)), 0);
    run_free(&one), run_free(&four), run_free(&inl), run_free(&p1), run_free(&other);
    burn_source_free(src);
}

Test(loader, batches_hold_the_augmented_views, .timeout = 30) {
    burn_source *src = burn_source_synthetic(9, 23, 4, 24, 18);
    burn_loader_opts o = base_opts();
    o.workers = 2;
    o.epochs = 1;
    burn_loader *l = burn_loader_create(src, &o);
    cr_assert(l, "%s", burn_error());
    cr_assert_eq(burn_loader_steps_per_epoch(l), 4);
    const burn_batch *b;
    burn_image img = {0};
    burn_aug_scratch ws = {0};
    float *ref = malloc(sizeof(float) * 3 * 16 * 16);
    int64_t sampler_idx[5];
    burn_sampler s;
    burn_sampler_init(&s, 23, 5, 0, 1, 1, 1, 31);
    for (int step = 0; step < 4; step++) {
        cr_assert_eq(burn_loader_next(l, &b), 0, "%s", burn_error());
        cr_assert(b->n == 5 && b->n_real == 5 && b->views == 2 && b->h == 16 && b->w == 16);
        cr_assert(b->epoch == 0 && b->step == step);
        burn_sampler_batch(&s, 0, step, sampler_idx, NULL);
        for (int k = 0; k < 5; k++) {
            cr_assert_eq(b->indices[k], sampler_idx[k]);
            cr_assert_eq(b->labels[k], src->labels[b->indices[k]]);
            burn_source_load(src, b->indices[k], &img);
            for (int v = 0; v < 2; v++) {
                burn_aug_train_view(&img, 16, &o.aug, burn_aug_key_make(31, 0, b->indices[k], v),
                                    &ws, ref);
                cr_assert_eq(memcmp(ref, b->x[v] + k * 3 * 16 * 16, sizeof(float) * 3 * 256), 0,
                             "step %d image %d view %d", step, k, v);
            }
        }
        /* two views of one image differ */
        cr_assert_neq(memcmp(b->x[0], b->x[1], sizeof(float) * 3 * 256), 0);
    }
    cr_assert_eq(burn_loader_next(l, &b), 1);
    cr_assert_eq(burn_loader_bad_count(l), 0);
    cr_assert_geq(burn_loader_wait_seconds(l), 0);
    burn_sampler_free(&s);
    free(ref);
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
    burn_loader_free(l);
    burn_source_free(src);
}

Test(loader, evaluation_order_and_padding, .timeout = 30) {
    burn_source *src = burn_source_synthetic(2, 12, 3, 30, 20);
    burn_loader_opts o = base_opts();
    o.train = 0;
    o.views = 1;
    o.shuffle = 0;
    o.drop_last = 0;
    o.epochs = 1;
    o.workers = 2;
    burn_loader *l = burn_loader_create(src, &o);
    cr_assert(l, "%s", burn_error());
    const burn_batch *b;
    burn_image img = {0};
    burn_aug_scratch ws = {0};
    float *ref = malloc(sizeof(float) * 3 * 256);
    int seen = 0;
    for (int step = 0; step < 3; step++) {
        cr_assert_eq(burn_loader_next(l, &b), 0, "%s", burn_error());
        cr_assert_null(b->x[1]);
        for (int k = 0; k < 5; k++) {
            int64_t want = step * 5 + k;
            cr_assert_eq(b->is_pad[k], want >= 12);
            cr_assert_eq(b->indices[k], want % 12);
            burn_source_load(src, b->indices[k], &img);
            burn_aug_eval_view(&img, 16, &o.aug, &ws, ref);
            cr_assert_eq(memcmp(ref, b->x[0] + k * 768, sizeof(float) * 768), 0);
        }
        seen += b->n_real;
    }
    cr_assert_eq(seen, 12);
    cr_assert_eq(burn_loader_next(l, &b), 1);
    free(ref);
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
    burn_loader_free(l);
    burn_source_free(src);
}

Test(loader, resume_mid_epoch, .timeout = 30) {
    burn_source *src = burn_source_synthetic(6, 31, 4, 16, 16);
    burn_loader_opts o = base_opts();
    o.size = 8;
    o.epochs = 3;
    o.workers = 2;
    run full = collect(src, o); /* 6 batches per epoch, 18 in all */
    o.start_epoch = 1;
    o.start_step = 4;
    run resumed = collect(src, o);
    cr_assert_eq(resumed.nb, 18 - 10);
    size_t per = (size_t)o.views * o.batch * 3 * 8 * 8;
    cr_assert_eq(memcmp(resumed.x, full.x + 10 * per, resumed.nb * per * sizeof(float)), 0);
    cr_assert_eq(memcmp(resumed.indices, full.indices + 10 * 5, resumed.nb * 5 * 8), 0);
    cr_assert_eq(resumed.pos[0], 1004);
    o.start_step = 6;
    cr_assert_null(burn_loader_create(src, &o));
    cr_assert(strstr(burn_error(), "resume step"), "%s", burn_error());
    run_free(&full), run_free(&resumed);
    burn_source_free(src);
}

/* a folder of 20 good images and 3 bad ones: corrupt PNG, zero bytes, text named .png */
static char *bad_tree(void) {
    char *root = td_tmpdir("loader_bad");
    for (int i = 0; i < 20; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "c%d/img%02d.png", i % 2, i);
        td_png(root, rel, 9 + i % 3, 8, i);
    }
    td_png(root, "c0/corrupt.png", 30, 30, 99);
    char *p = td_path(root, "c0/corrupt.png");
    size_t n;
    uint8_t *bytes = td_read_bytes(p, &n);
    td_write_bytes(p, bytes, n / 3);
    free(bytes), free(p);
    td_text(root, "c1/empty.png", "");
    td_text(root, "c1/notes.png", "these are notes, not pixels");
    return root;
}

Test(loader, bad_images_are_skipped_counted_and_deterministic, .timeout = 30) {
    char *root = bad_tree();
    burn_image_limits lim = {1 << 20, 1 << 20, NULL};
    burn_source *src = burn_source_imagefolder(root, &lim);
    cr_assert(src, "%s", burn_error());
    cr_assert_eq(src->count, 23);
    burn_loader_opts o = base_opts();
    o.batch = 4;
    o.size = 8;
    o.epochs = 2;
    o.max_bad_fraction = 0.15; /* up to 3 of 23 */
    burn_loader *l = burn_loader_create(src, &o);
    cr_assert(l, "%s", burn_error());
    const burn_batch *b;
    int rc, batches = 0;
    char desc[4096];
    while ((rc = burn_loader_next(l, &b)) == 0) {
        batches++;
        for (int k = 0; k < b->n; k++) {
            src->describe(src, b->indices[k], desc, sizeof desc);
            cr_assert(strstr(desc, "img"), "a bad image was served: %s", desc);
            cr_assert_eq(b->labels[k], src->labels[b->indices[k]]);
        }
    }
    cr_assert_eq(rc, 1, "%s", burn_error());
    cr_assert_eq(batches, 10);
    cr_assert_eq(burn_loader_bad_count(l), 3);
    burn_loader_free(l);
    /* substitutes are deterministic: 1 and 3 workers agree */
    o.workers = 1;
    run a = collect(src, o);
    o.workers = 3;
    run c = collect(src, o);
    assert_same(&a, &c, &o, "bad images, 1 vs 3 workers");
    run_free(&a), run_free(&c);
    /* past the limit the loader stops with a clear error */
    o.max_bad_fraction = 0.1; /* 2 of 23 */
    l = burn_loader_create(src, &o);
    while ((rc = burn_loader_next(l, &b)) == 0) {}
    cr_assert_eq(rc, -1);
    cr_assert(strstr(burn_error(), "3 of 23 images could not be loaded") &&
                  strstr(burn_error(), "data.max_bad_fraction"), "%s", burn_error());
    cr_assert_eq(burn_loader_next(l, &b), -1, "the error stays");
    burn_loader_free(l);
    burn_source_free(src);
    td_rm_rf(root);
    free(root);
}

Test(loader, missing_list_entry_is_a_counted_skip, .timeout = 30) {
    char *root = td_tmpdir("loader_list");
    char text[4096] = "";
    for (int i = 0; i < 9; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "i%d.png", i);
        td_png(root, rel, 8, 8, i);
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s %d\n", rel, i % 3);
    }
    strcat(text, "gone.png 1\n");
    td_text(root, "list.txt", text);
    char *list = td_path(root, "list.txt");
    burn_image_limits lim = {1 << 20, 1 << 20, NULL};
    burn_source *src = burn_source_list(list, "", &lim);
    cr_assert(src, "%s", burn_error());
    burn_loader_opts o = base_opts();
    o.batch = 10;
    o.size = 8;
    o.epochs = 1;
    o.max_bad_fraction = 0.1;
    burn_loader *l = burn_loader_create(src, &o);
    const burn_batch *b;
    cr_assert_eq(burn_loader_next(l, &b), 0, "%s", burn_error());
    for (int k = 0; k < 10; k++) cr_assert_neq(b->indices[k], 9);
    cr_assert_eq(burn_loader_bad_count(l), 1);
    burn_loader_free(l);
    burn_source_free(src);
    free(list);
    td_rm_rf(root);
    free(root);
}

/* A source whose image 3 takes 2 s: with a 0.5 s stall timeout the consumer must get an
 * error naming it instead of waiting. */
static int slow_load(const burn_source *s, int64_t i, burn_image *img) {
    if (i == 3) usleep(2000 * 1000);
    burn_image_resize(img, 4, 4);
    memset(img->rgb, (int)i, 48);
    return 0;
}

static void slow_describe(const burn_source *s, int64_t i, char *buf, size_t len) {
    snprintf(buf, len, "slow[%lld]", (long long)i);
}

Test(loader, stalled_worker_is_reported, .timeout = 30) {
    burn_source src = {0};
    int32_t labels[8] = {0};
    src.kind = "slow";
    src.origin = "slow";
    src.count = 8;
    src.num_classes = 1;
    src.labels = labels;
    src.load = slow_load;
    src.describe = slow_describe;
    burn_loader_opts o = base_opts();
    o.shuffle = 0;
    o.batch = 8;
    o.size = 4;
    o.workers = 2;
    o.stall_timeout_s = 0.5;
    burn_loader *l = burn_loader_create(&src, &o);
    cr_assert(l, "%s", burn_error());
    const burn_batch *b;
    double t0 = burn_now();
    cr_assert_eq(burn_loader_next(l, &b), -1);
    cr_assert_lt(burn_now() - t0, 1.9, "the stall must be reported before the image arrives");
    cr_assert(strstr(burn_error(), "stalled") && strstr(burn_error(), "slow[3]"), "%s",
              burn_error());
    burn_loader_free(l);
    usleep(2100 * 1000); /* let a worker still in slow_load finish before src goes away */
}

Test(loader, shutdown_while_busy_and_bad_options, .timeout = 30) {
    burn_source *src = burn_source_synthetic(1, 200, 10, 64, 64);
    burn_loader_opts o = base_opts();
    o.batch = 16;
    o.size = 32;
    o.workers = 4;
    o.prefetch = 4;
    o.epochs = 0; /* endless */
    burn_loader *l = burn_loader_create(src, &o);
    const burn_batch *b;
    cr_assert_eq(burn_loader_next(l, &b), 0, "%s", burn_error());
    burn_loader_free(l); /* workers are mid-batch: must stop and join */
    l = burn_loader_create(src, &o);
    burn_loader_free(l); /* never consumed */
    o.views = 3;
    cr_assert_null(burn_loader_create(src, &o));
    cr_assert(strstr(burn_error(), "bad options"), "%s", burn_error());
    o.views = 2;
    o.aug.ratio_min = 2;
    o.aug.ratio_max = 1;
    cr_assert_null(burn_loader_create(src, &o));
    cr_assert(strstr(burn_error(), "crop_ratio"), "%s", burn_error());
    burn_source_free(src);
}

Test(loader, options_from_config) {
    burn_config cfg;
    burn_config_defaults(&cfg);
    cr_assert_eq(burn_config_set(&cfg, "data.workers=3"), 0);
    cr_assert_eq(burn_config_set(&cfg, "augment.flip_p=0.25"), 0);
    cr_assert_eq(burn_config_set(&cfg, "run.seed=17"), 0);
    burn_loader_opts o;
    burn_loader_opts_from_config(&o, &cfg);
    cr_assert_eq(o.workers, 3);
    cr_assert_eq(o.seed, 17);
    cr_assert_eq(o.size, 224);
    cr_assert_eq(o.views, 2);
    cr_assert_float_eq(o.aug.flip_p, 0.25f, 1e-7);
    /* every other augmentation default is METHOD.md §7's */
    burn_aug_params d;
    burn_aug_params_default(&d);
    o.aug.flip_p = d.flip_p;
    cr_assert_eq(memcmp(&o.aug, &d, sizeof d), 0, "config defaults differ from METHOD.md §7");
    burn_config_free(&cfg);
}
