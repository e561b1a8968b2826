/* data_prepare.c — `burn_gpu prepare-fashion-mnist`: Fashion-MNIST's IDX files (Debian's
 * dataset-fashion-mnist package puts them, gzip-compressed, in /usr/share/datasets/
 * fashion-mnist) -> an ImageFolder tree of gray PNG files, so that demos and tests exercise
 * the real decode path:
 *
 *   OUT/train/<k>-<name>/<index>.png   60000 images
 *   OUT/test/<k>-<name>/<index>.png    10000 images
 *
 * Class folders are named "<label>-<name>" so that their sorted order is the label order
 * (class index = Fashion-MNIST label). Idempotent: OUT/.complete is written last and names
 * the counts (60000 and 10000 for the real data); when it is present, nothing is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/data.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "data_internal.h"

static const char *const class_dirs[10] = {
    "0-tshirt-top", "1-trouser", "2-pullover", "3-dress", "4-coat",
    "5-sandal",     "6-shirt",   "7-sneaker",  "8-bag",   "9-ankle-boot"};

/* "<dir>/<stem>" or, when only the gzip-compressed file exists, "<dir>/<stem>.gz" */
static char *find_idx(const char *dir, const char *stem) {
    char *plain = NULL, *gz = NULL;
    if (asprintf(&plain, "%s/%s", dir, stem) < 0 || asprintf(&gz, "%s/%s.gz", dir, stem) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    if (access(plain, R_OK) == 0 || access(gz, R_OK) != 0) {
        free(gz);
        return plain;
    }
    free(plain);
    return gz;
}

/* Write one split; 0 or -1 with burn_error(). */
static int write_split(const char *idx_dir, const char *prefix, const char *out,
                       const char *split, int64_t *count) {
    char stem_img[64], stem_lab[64];
    snprintf(stem_img, sizeof stem_img, "%s-images-idx3-ubyte", prefix);
    snprintf(stem_lab, sizeof stem_lab, "%s-labels-idx1-ubyte", prefix);
    char *ip = find_idx(idx_dir, stem_img), *lp = find_idx(idx_dir, stem_lab);
    burn_source *src = burn_source_idx(ip, lp);
    free(ip);
    free(lp);
    if (!src) return -1;
    int rc = 0;
    if (src->num_classes > 10) {
        burn_error_set("%s: labels up to %d; Fashion-MNIST has 10 classes", src->origin,
                       src->num_classes - 1);
        rc = -1;
    }
    char *split_dir = burn_path_join(out, split);
    for (int c = 0; c < 10 && rc == 0; c++) {
        char *d = burn_path_join(split_dir, class_dirs[c]);
        rc = burn_mkdirs(d);
        free(d);
    }
    burn_image img = {0};
    uint8_t gray[28 * 28];
    for (int64_t i = 0; i < src->count && rc == 0; i++) {
        burn_source_load(src, i, &img); /* in memory: cannot fail */
        if (img.w * img.h > (int)sizeof gray) {
            burn_error_set("%s: images are %dx%d, expected 28x28", src->origin, img.w, img.h);
            rc = -1;
            break;
        }
        for (int p = 0; p < img.w * img.h; p++) gray[p] = img.rgb[3 * p];
        char *path = NULL;
        if (asprintf(&path, "%s/%s/%05lld.png", split_dir, class_dirs[src->labels[i]],
                     (long long)i) < 0)
            burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
        rc = burn_image_write_png(path, gray, img.w, img.h, 1);
        free(path);
    }
    *count = src->count;
    burn_image_free(&img);
    free(split_dir);
    burn_source_free(src);
    return rc;
}

int cmd_prepare_fashion_mnist(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--out", "DIR", "output folder (train/ and test/ are made in it)", 0},
        {"--idx-dir", "DIR",
         "folder with the IDX files, plain or .gz (default /usr/share/datasets/fashion-mnist, "
         "from Debian's dataset-fashion-mnist)", 0},
        {"--force", NULL, "rewrite even when OUT is already complete", 0},
        {NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(&a, "burn_gpu prepare-fashion-mnist", "--out DIR [--idx-dir DIR]",
                             "Write Fashion-MNIST as an ImageFolder tree of PNG files.", opts, 0,
                             argc, argv);
    if (rc) return rc;
    const char *out = burn_arg(&a, "--out");
    const char *idx_dir = burn_arg(&a, "--idx-dir");
    if (!idx_dir) idx_dir = "/usr/share/datasets/fashion-mnist";
    if (!out || !*out) {
        fprintf(stderr, "burn_gpu prepare-fashion-mnist: --out DIR is required\n");
        burn_args_free(&a);
        return BURN_EXIT_USAGE;
    }
    char *marker = burn_path_join(out, ".complete");
    const char *tag = "fashion-mnist png";
    unsigned char *have = NULL;
    size_t have_n = 0;
    if (!burn_arg_flag(&a, "--force") && burn_read_file(marker, 4096, &have, &have_n) == 0 &&
        have_n > strlen(tag) && memcmp(have, tag, strlen(tag)) == 0) {
        burn_log("%s: Fashion-MNIST already prepared (%.*s; remove %s or pass --force to redo)",
                 out, (int)(have_n - 1), (const char *)have, marker);
        free(have);
        free(marker);
        burn_args_free(&a);
        return BURN_EXIT_OK;
    }
    free(have);
    unlink(marker); /* a partial tree stays marked incomplete while it is rewritten */
    double t0 = burn_now();
    int64_t ntrain = 0, ntest = 0;
    rc = burn_mkdirs(out);
    if (rc == 0) rc = write_split(idx_dir, "train", out, "train", &ntrain);
    if (rc == 0) rc = write_split(idx_dir, "t10k", out, "test", &ntest);
    char expect[128];
    snprintf(expect, sizeof expect, "%s train %lld test %lld\n", tag, (long long)ntrain,
             (long long)ntest);
    if (rc == 0) rc = burn_write_file_atomic(marker, expect, strlen(expect));
    free(marker);
    burn_args_free(&a);
    if (rc != 0) {
        fprintf(stderr, "burn_gpu prepare-fashion-mnist: %s\n", burn_error());
        return BURN_EXIT_RUNTIME;
    }
    burn_log("%s: wrote %lld train and %lld test PNG files in %.1f s", out, (long long)ntrain,
             (long long)ntest, burn_now() - t0);
    return BURN_EXIT_OK;
}
