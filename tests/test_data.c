/* test_data.c — the image sources: ImageFolder (class order, file order, ignored and hidden
 * files, errors), list files (parsing, errors with line numbers), IDX (header checks),
 * synthetic (deterministic, any size), and opening a source from the config. Files are made
 * under /tmp at run time. */
#include <criterion/criterion.h>

#include "burn/config.h"
#include "burn/data.h"
#include "test_data_util.h"

static const burn_image_limits LIM = {1 << 20, 1 << 20, NULL};

static const char *ends(const burn_source *s, int64_t i) {
    static char buf[4096];
    s->describe(s, i, buf, sizeof buf);
    const char *p = buf + strlen(buf);
    int slashes = 0;
    while (p > buf && slashes < 2)
        if (*--p == '/') slashes++;
    return slashes == 2 ? p + 1 : buf; /* "class/file" or "class/sub" tail */
}

Test(data, imagefolder_classes_files_and_order) {
    char *root = td_tmpdir("if");
    td_png(root, "b_cls/1.png", 5, 4, 1);
    td_png(root, "a_cls/z.png", 6, 3, 2);
    td_jpeg(root, "a_cls/b.jpg", 8, 8, 3);
    td_png(root, "a_cls/A.PNG", 2, 2, 4);
    td_png(root, "a_cls/sub/x.png", 3, 3, 5);
    td_png(root, "a_cls/.hidden.png", 3, 3, 6);
    td_text(root, "a_cls/readme.txt", "not an image\n");
    td_png(root, "c_cls/img.jpeg.png", 4, 4, 7);
    td_png(root, "c_cls/sub-a/y.png", 4, 4, 8);
    td_png(root, "c_cls/sub/q.png", 4, 4, 9);
    td_text(root, "loose_file.png", "files directly in root are not classes");
    td_png(root, ".git/objects/p.png", 4, 4, 10); /* hidden folder: not a class */
    burn_source *s = burn_source_imagefolder(root, &LIM);
    cr_assert(s, "%s", burn_error());
    cr_assert_eq(s->count, 8);
    cr_assert_eq(s->num_classes, 3);
    cr_assert_str_eq(s->class_names[0], "a_cls");
    cr_assert_str_eq(s->class_names[1], "b_cls");
    cr_assert_str_eq(s->class_names[2], "c_cls");
    /* torchvision order: (folder path, file name) by byte comparison */
    const char *want[] = {"a_cls/A.PNG", "a_cls/b.jpg", "a_cls/z.png", "sub/x.png",
                          "b_cls/1.png", "c_cls/img.jpeg.png", "sub/q.png", "sub-a/y.png"};
    const int labels[] = {0, 0, 0, 0, 1, 2, 2, 2};
    for (int i = 0; i < 8; i++) {
        cr_assert_str_eq(ends(s, i), want[i], "item %d", i);
        cr_assert_eq(burn_source_label(s, i), labels[i], "label of %d", i);
    }
    burn_image img = {0};
    cr_assert_eq(burn_source_load(s, 2, &img), 0, "%s", burn_error());
    cr_assert(img.w == 6 && img.h == 3);
    uint8_t *px = td_random_pixels(6, 3, 3, 2);
    cr_assert_eq(memcmp(px, img.rgb, 6 * 3 * 3), 0, "PNG pixels must round-trip exactly");
    free(px);
    cr_assert_eq(burn_source_load(s, 1, &img), 0, "%s", burn_error());
    cr_assert(img.w == 8 && img.h == 8);
    cr_assert_eq(burn_source_load(s, 8, &img), -1);
    cr_assert(strstr(burn_error(), "outside"), "%s", burn_error());
    burn_image_free(&img);
    burn_source_free(s);
    td_rm_rf(root);
    free(root);
}

Test(data, imagefolder_errors) {
    char *root = td_tmpdir("if_err");
    cr_assert_null(burn_source_imagefolder(root, &LIM));
    cr_assert(strstr(burn_error(), "no class folders"), "%s", burn_error());
    td_png(root, "cat/1.png", 3, 3, 1);
    td_text(root, "dog/notes.txt", "x");
    cr_assert_null(burn_source_imagefolder(root, &LIM));
    cr_assert(strstr(burn_error(), "'dog' has no .jpg/.jpeg/.png"), "%s", burn_error());
    char *missing = td_path(root, "nope/none");
    cr_assert_null(burn_source_imagefolder(missing, &LIM));
    cr_assert(strstr(burn_error(), "cannot open"), "%s", burn_error());
    free(missing);
    td_rm_rf(root);
    free(root);
}

Test(data, list_file_parsing) {
    char *root = td_tmpdir("list");
    td_png(root, "imgs/a.png", 3, 2, 1);
    td_png(root, "imgs/with space.png", 2, 2, 2);
    char *abs = td_path(root, "elsewhere/c.png");
    td_png(root, "elsewhere/c.png", 4, 1, 3);
    char *text = NULL;
    (void)abs; /* absolute paths are refused (tests/test_hostile.c): a relative one instead */
    cr_assert(asprintf(&text, "# comment\n\nimgs/a.png 3\r\n  imgs/with space.png\t0  \n%s 7\n"
                              "imgs/missing.png 1", "elsewhere/c.png") > 0);
    td_text(root, "train.txt", text);
    char *list = td_path(root, "train.txt");
    burn_source *s = burn_source_list(list, "", &LIM); /* relative to the list's folder */
    cr_assert(s, "%s", burn_error());
    cr_assert_eq(s->count, 4);
    cr_assert_eq(s->num_classes, 8);
    const int labels[] = {3, 0, 7, 1};
    for (int i = 0; i < 4; i++) cr_assert_eq(s->labels[i], labels[i]);
    burn_image img = {0};
    for (int i = 0; i < 3; i++) cr_assert_eq(burn_source_load(s, i, &img), 0, "%s", burn_error());
    cr_assert(img.w == 4 && img.h == 1);
    /* a missing entry is found when loaded: an error naming the file (the loader skips it) */
    cr_assert_eq(burn_source_load(s, 3, &img), -1);
    cr_assert(strstr(burn_error(), "missing.png") && strstr(burn_error(), "cannot open"), "%s",
              burn_error());
    burn_image_free(&img);
    burn_source_free(s);
    /* an explicit root */
    td_text(root, "rooted.txt", "a.png 2\n");
    char *rooted = td_path(root, "rooted.txt"), *imgs = NULL;
    cr_assert(asprintf(&imgs, "%s/imgs", root) > 0);
    s = burn_source_list(rooted, imgs, &LIM);
    cr_assert(s, "%s", burn_error());
    burn_image one = {0};
    cr_assert_eq(burn_source_load(s, 0, &one), 0, "%s", burn_error());
    burn_image_free(&one);
    burn_source_free(s);
    free(rooted);
    free(imgs);
    free(text);
    free(abs);
    free(list);
    td_rm_rf(root);
    free(root);
}

static void expect_list_error(const char *dir, const char *text, const char *needle) {
    td_text(dir, "bad.txt", text);
    char *p = td_path(dir, "bad.txt");
    cr_assert_null(burn_source_list(p, "", &LIM), "accepted: %s", text);
    cr_assert(strstr(burn_error(), needle), "error '%s' lacks '%s'", burn_error(), needle);
    free(p);
}

Test(data, list_file_errors_name_the_line) {
    char *root = td_tmpdir("list_err");
    expect_list_error(root, "a.png 1\n\nonlyonefield\n", "bad.txt:3: expected 'path label'");
    expect_list_error(root, "a.png x\n", "bad.txt:1: label 'x' is not an integer");
    expect_list_error(root, "# c\na.png 1\nb.png -2\n", "bad.txt:3: label '-2'");
    expect_list_error(root, "a.png 1\nb.png 99999999999\n", "bad.txt:2: label");
    expect_list_error(root, "a.png 1.5\n", "bad.txt:1: label '1.5'");
    /* a label past any real data set would size a 2-billion-class classifier (issue 17 item 11) */
    expect_list_error(root, "a.png 1\nb.png 2000000000\n",
                      "bad.txt:2: label '2000000000' is not an integer in [0, 999999]");
    expect_list_error(root, "# only comments\n\n", "no entries");
    cr_assert_null(burn_source_list("/nonexistent/list.txt", "", &LIM));
    cr_assert(strstr(burn_error(), "cannot open"), "%s", burn_error());
    td_rm_rf(root);
    free(root);
}

/* ---- IDX ---- */

/* images: magic, N, rows, cols, pixels; labels: magic, N, labels */
static void write_idx(const char *dir, int n, int rows, int cols, int labels_n) {
    size_t isz = 16 + (size_t)n * rows * cols;
    uint8_t *im = malloc(isz);
    im[0] = im[1] = 0, im[2] = 8, im[3] = 3;
    put_be32(im + 4, (uint32_t)n), put_be32(im + 8, (uint32_t)rows), put_be32(im + 12, (uint32_t)cols);
    for (size_t i = 16; i < isz; i++) im[i] = (uint8_t)(i * 7);
    uint8_t *lb = malloc(8 + (size_t)labels_n);
    lb[0] = lb[1] = 0, lb[2] = 8, lb[3] = 1;
    put_be32(lb + 4, (uint32_t)labels_n);
    for (int i = 0; i < labels_n; i++) lb[8 + i] = (uint8_t)((i * 3) % 5);
    char *ip = td_path(dir, "images.idx"), *lp = td_path(dir, "labels.idx");
    td_write_bytes(ip, im, isz);
    td_write_bytes(lp, lb, 8 + (size_t)labels_n);
    free(ip), free(lp), free(im), free(lb);
}

Test(data, idx_source) {
    char *dir = td_tmpdir("idx");
    write_idx(dir, 6, 3, 4, 6);
    char *ip = td_path(dir, "images.idx"), *lp = td_path(dir, "labels.idx");
    burn_source *s = burn_source_idx(ip, lp);
    cr_assert(s, "%s", burn_error());
    cr_assert_eq(s->count, 6);
    cr_assert_eq(s->num_classes, 5); /* labels (3i mod 5): max 4 */
    for (int i = 0; i < 6; i++) cr_assert_eq(s->labels[i], (i * 3) % 5);
    burn_image img = {0};
    cr_assert_eq(burn_source_load(s, 4, &img), 0);
    cr_assert(img.w == 4 && img.h == 3);
    for (int p = 0; p < 12; p++)
        for (int c = 0; c < 3; c++)
            cr_assert_eq(img.rgb[3 * p + c], (uint8_t)((16 + 4 * 12 + p) * 7));
    burn_image_free(&img);
    burn_source_free(s);
    /* gzip-compressed files (as Debian ships MNIST-family data) load the same */
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "gzip -c '%s' > '%s.gz' && gzip -c '%s' > '%s.gz'", ip, ip, lp, lp) > 0);
    cr_assert_eq(system(cmd), 0, "gzip is needed for this test");
    char *ipz = NULL, *lpz = NULL;
    cr_assert(asprintf(&ipz, "%s.gz", ip) > 0 && asprintf(&lpz, "%s.gz", lp) > 0);
    s = burn_source_idx(ipz, lpz);
    cr_assert(s, "%s", burn_error());
    cr_assert_eq(s->count, 6);
    cr_assert_eq(burn_source_load(s, 4, &img), 0);
    cr_assert_eq(img.rgb[0], (uint8_t)((16 + 4 * 12) * 7));
    burn_image_free(&img);
    burn_source_free(s);
    /* a multi-member file (the first 30 bytes, then the rest) loads the same */
    free(cmd);
    cr_assert(asprintf(&cmd, "(head -c 30 '%s' | gzip -c; tail -c +31 '%s' | gzip -c) > '%s'", ip,
                       ip, ipz) > 0);
    cr_assert_eq(system(cmd), 0);
    s = burn_source_idx(ipz, lpz);
    cr_assert(s, "%s", burn_error());
    cr_assert_eq(burn_source_load(s, 4, &img), 0);
    cr_assert_eq(img.rgb[0], (uint8_t)((16 + 4 * 12) * 7));
    burn_image_free(&img);
    burn_source_free(s);
    /* one flipped bit of a member's CRC-32: refused (once loaded as if nothing happened) */
    size_t n;
    uint8_t *gz = td_read_bytes(ipz, &n);
    gz[n - 8] ^= 1;
    td_write_bytes(ipz, gz, n);
    cr_assert_null(burn_source_idx(ipz, lpz));
    cr_assert(strstr(burn_error(), "corrupt gzip data (incorrect data check)"), "%s", burn_error());
    /* bytes after the last member */
    gz[n - 8] ^= 1;
    gz = realloc(gz, n + 5);
    memcpy(gz + n, "junk!", 5);
    td_write_bytes(ipz, gz, n + 5);
    cr_assert_null(burn_source_idx(ipz, lpz));
    cr_assert(strstr(burn_error(), "bytes after the last gzip member"), "%s", burn_error());
    free(gz);
    free(cmd), free(ipz), free(lpz);
    free(ip), free(lp);
    td_rm_rf(dir);
    free(dir);
}

static void expect_idx_error(const char *dir, const uint8_t *bytes, size_t n, int which,
                             const char *needle) {
    write_idx(dir, 6, 3, 4, 6);
    char *ip = td_path(dir, "images.idx"), *lp = td_path(dir, "labels.idx");
    td_write_bytes(which == 0 ? ip : lp, bytes, n);
    cr_assert_null(burn_source_idx(ip, lp), "accepted a bad file (%s)", needle);
    cr_assert(strstr(burn_error(), needle), "error '%s' lacks '%s'", burn_error(), needle);
    free(ip), free(lp);
}

Test(data, idx_header_errors) {
    char *dir = td_tmpdir("idx_err");
    uint8_t b[64] = {0};
    /* images */
    memcpy(b, "\x01\x00\x08\x03", 4);
    expect_idx_error(dir, b, 28, 0, "bad IDX magic");
    memcpy(b, "\x00\x00\x0d\x03", 4);
    expect_idx_error(dir, b, 28, 0, "element type 0x0d");
    memcpy(b, "\x00\x00\x08\x02", 4);
    expect_idx_error(dir, b, 28, 0, "2 dimensions, expected 3");
    memcpy(b, "\x00\x00\x08\x03", 4);
    put_be32(b + 4, 2), put_be32(b + 8, 2), put_be32(b + 12, 2);
    expect_idx_error(dir, b, 16 + 7, 0, "truncated");
    expect_idx_error(dir, b, 16 + 9, 0, "trailing bytes");
    put_be32(b + 8, 0);
    expect_idx_error(dir, b, 16, 0, "dimension 1 is 0");
    expect_idx_error(dir, b, 10, 0, "truncated IDX header");
    expect_idx_error(dir, (const uint8_t *)"\x1f\x8b\x08\x00", 4, 0, "not a gzip");
    expect_idx_error(dir, (const uint8_t *)"\x1f\x8b\x08\x00\0\0\0\0\0\3garbage-garbage!\1\0\0\0", 30, 0,
                     "corrupt gzip");
    expect_idx_error(dir, b, 2, 0, "too short");
    /* labels: another count than the images */
    memcpy(b, "\x00\x00\x08\x01", 4);
    put_be32(b + 4, 5);
    expect_idx_error(dir, b, 8 + 5, 1, "has 6 images but");
    memcpy(b, "\x00\x00\x08\x03", 4);
    expect_idx_error(dir, b, 8 + 5, 1, "3 dimensions, expected 1");
    td_rm_rf(dir);
    free(dir);
}

/* ---- synthetic ---- */

Test(data, synthetic_source) {
    burn_source *a = burn_source_synthetic(7, 50, 10, 37, 21);
    burn_source *b = burn_source_synthetic(7, 50, 10, 37, 21);
    burn_source *c = burn_source_synthetic(8, 50, 10, 37, 21);
    cr_assert(a && b && c);
    cr_assert_eq(a->count, 50);
    cr_assert_eq(a->num_classes, 10);
    burn_image x = {0}, y = {0};
    int differ_seed = 0;
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(a->labels[i], i % 10);
        cr_assert_eq(burn_source_load(a, i, &x), 0);
        cr_assert_eq(burn_source_load(b, i, &y), 0);
        cr_assert(x.w == 37 && x.h == 21);
        cr_assert_eq(memcmp(x.rgb, y.rgb, 37 * 21 * 3), 0, "same seed, same image");
        cr_assert_eq(burn_source_load(c, i, &y), 0);
        differ_seed += memcmp(x.rgb, y.rgb, 37 * 21 * 3) != 0;
        /* not flat: the image has structure */
        int lo = 255, hi = 0;
        for (int p = 0; p < 37 * 21 * 3; p++) lo = x.rgb[p] < lo ? x.rgb[p] : lo, hi = x.rgb[p] > hi ? x.rgb[p] : hi;
        cr_assert_gt(hi - lo, 60, "image %d is nearly flat", i);
    }
    cr_assert_eq(differ_seed, 50);
    /* two images of one class differ (nuisance), and the render is a pure function */
    uint8_t *r1 = malloc(37 * 21 * 3), *r2 = malloc(37 * 21 * 3);
    burn_synthetic_render(7, 3, 10, 37, 21, r1);
    burn_synthetic_render(7, 13, 10, 37, 21, r2);
    cr_assert_neq(memcmp(r1, r2, 37 * 21 * 3), 0);
    burn_synthetic_render(7, 3, 10, 37, 21, r2);
    cr_assert_eq(memcmp(r1, r2, 37 * 21 * 3), 0);
    free(r1), free(r2);
    cr_assert_null(burn_source_synthetic(1, 0, 10, 8, 8));
    cr_assert(strstr(burn_error(), "synthetic"));
    burn_image_free(&x), burn_image_free(&y);
    burn_source_free(a), burn_source_free(b), burn_source_free(c);
}

/* A nearest-class-mean classifier on 4x4 thumbnails, fitted on the training split (seed 2k),
 * must beat chance by far on the evaluation split (seed 2k+1): the classes are visible in the
 * pixels and mean the same in both splits (what training and evaluation smoke runs rely on). */
Test(data, synthetic_classes_are_learnable) {
    int classes = 6, per = 40, S = 24, T = 4;
    burn_source *split[2] = {burn_source_synthetic(2, (int64_t)classes * per, classes, S, S),
                             burn_source_synthetic(3, (int64_t)classes * per, classes, S, S)};
    double mean[6][4 * 4 * 3] = {{0}};
    burn_image img = {0};
    float thumb[4 * 4 * 3];
    int correct = 0, tested = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < classes * per; i++) {
            burn_source *s = split[pass];
            burn_source_load(s, i, &img);
            memset(thumb, 0, sizeof thumb);
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                    for (int c = 0; c < 3; c++)
                        thumb[((y * T / S) * T + x * T / S) * 3 + c] += img.rgb[(y * S + x) * 3 + c];
            int label = s->labels[i];
            if (pass == 0) {
                for (int k = 0; k < T * T * 3; k++) mean[label][k] += thumb[k] / per;
            } else {
                int best = 0;
                double bd = 1e300;
                for (int c = 0; c < classes; c++) {
                    double d = 0;
                    for (int k = 0; k < T * T * 3; k++) d += pow(thumb[k] - mean[c][k], 2);
                    if (d < bd) bd = d, best = c;
                }
                correct += best == label;
                tested++;
            }
        }
    cr_assert_gt(correct, tested / 2, "nearest mean: %d of %d (chance %d)", correct, tested,
                 tested / classes);
    burn_image_free(&img);
    burn_source_free(split[0]);
    burn_source_free(split[1]);
}

Test(data, source_from_config) {
    burn_config cfg;
    burn_config_defaults(&cfg);
    cr_assert_eq(burn_config_set(&cfg, "data.synthetic_count=30"), 0);
    cr_assert_eq(burn_config_set(&cfg, "data.synthetic_size=16"), 0);
    burn_source *tr = burn_source_from_config(&cfg, "train");
    burn_source *va = burn_source_from_config(&cfg, "val");
    cr_assert(tr && va, "%s", burn_error());
    cr_assert_eq(tr->count, 30);
    cr_assert_eq(va->count, 1000);
    burn_image a = {0}, b = {0};
    burn_source_load(tr, 0, &a);
    burn_source_load(va, 0, &b);
    cr_assert_neq(memcmp(a.rgb, b.rgb, 16 * 16 * 3), 0, "val must not repeat train");
    burn_source_free(tr), burn_source_free(va);

    char *root = td_tmpdir("cfg");
    td_png(root, "train/x/1.png", 3, 3, 1);
    td_png(root, "train/y/1.png", 3, 3, 2);
    char *set = NULL;
    cr_assert(asprintf(&set, "data.root=%s", root) > 0);
    cr_assert_eq(burn_config_set(&cfg, set), 0);
    cr_assert_eq(burn_config_set(&cfg, "data.source=imagefolder"), 0);
    tr = burn_source_from_config(&cfg, "train");
    cr_assert(tr, "%s", burn_error());
    cr_assert_eq(tr->num_classes, 2);
    burn_source_free(tr);
    cr_assert_null(burn_source_from_config(&cfg, "val")); /* root/val does not exist */
    cr_assert(strstr(burn_error(), "val"), "%s", burn_error());
    cr_assert_null(burn_source_from_config(&cfg, "test"));
    cr_assert_eq(burn_config_set(&cfg, "data.source=idx"), 0);
    cr_assert_null(burn_source_from_config(&cfg, "train"));
    cr_assert_neq(burn_config_set(&cfg, "data.source=folders"), 0);
    burn_image_free(&a), burn_image_free(&b);
    burn_config_free(&cfg);
    free(set);
    td_rm_rf(root);
    free(root);
}
