/* test_data_prepare.c — `burn_gpu prepare-fashion-mnist` on small IDX files of the same
 * format (gzip-compressed, as Debian ships them): the ImageFolder layout and class order,
 * PNG pixels equal to the IDX pixels, idempotence, --force, and a clear error without data. */
#include <criterion/criterion.h>

#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/data.h"
#include "burn/log.h"
#include "test_data_util.h"

/* <dir>/<prefix>-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz, n images of 28x28 */
static void write_split(const char *dir, const char *prefix, int n, uint64_t seed) {
    size_t isz = 16 + (size_t)n * 784;
    uint8_t *im = td_random_pixels((int)isz, 1, 1, seed), *lb = malloc(8 + (size_t)n);
    memcpy(im, "\0\0\x08\x03", 4);
    put_be32(im + 4, (uint32_t)n), put_be32(im + 8, 28), put_be32(im + 12, 28);
    memcpy(lb, "\0\0\x08\x01", 4);
    put_be32(lb + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) lb[8 + i] = (uint8_t)((i * 7) % 10);
    char *ip = NULL, *lp = NULL, *cmd = NULL;
    cr_assert(asprintf(&ip, "%s/%s-images-idx3-ubyte", dir, prefix) > 0);
    cr_assert(asprintf(&lp, "%s/%s-labels-idx1-ubyte", dir, prefix) > 0);
    td_write_bytes(ip, im, isz);
    td_write_bytes(lp, lb, 8 + (size_t)n);
    cr_assert(asprintf(&cmd, "gzip -f '%s' '%s'", ip, lp) > 0);
    cr_assert_eq(system(cmd), 0, "gzip is needed for this test");
    free(ip), free(lp), free(cmd), free(im), free(lb);
}

static int run_prepare(const char *out, const char *idx, int force) {
    char *argv[] = {"--out", (char *)out, "--idx-dir", (char *)idx, "--force", NULL};
    return cmd_prepare_fashion_mnist(force ? 5 : 4, argv);
}

Test(prepare, fashion_mnist_tree, .timeout = 30) {
    burn_log_quiet = 1;
    char *idx = td_tmpdir("prep_idx"), *out = td_tmpdir("prep_out");
    write_split(idx, "train", 23, 1);
    write_split(idx, "t10k", 10, 2);
    cr_assert_eq(run_prepare(out, idx, 0), 0);
    /* the tree reads back as an ImageFolder whose class index is the label */
    burn_image_limits lim = {1 << 20, 1 << 20, NULL};
    char *train = NULL, *idx_images = NULL, *idx_labels = NULL;
    cr_assert(asprintf(&train, "%s/train", out) > 0);
    cr_assert(asprintf(&idx_images, "%s/train-images-idx3-ubyte.gz", idx) > 0);
    cr_assert(asprintf(&idx_labels, "%s/train-labels-idx1-ubyte.gz", idx) > 0);
    burn_source *tree = burn_source_imagefolder(train, &lim), *raw = burn_source_idx(idx_images, idx_labels);
    cr_assert(tree && raw, "%s", burn_error());
    cr_assert_eq(tree->count, 23);
    cr_assert_eq(tree->num_classes, 10);
    cr_assert_str_eq(tree->class_names[0], "0-tshirt-top");
    cr_assert_str_eq(tree->class_names[9], "9-ankle-boot");
    burn_image a = {0}, b = {0};
    char desc[4096];
    for (int64_t i = 0; i < tree->count; i++) {
        tree->describe(tree, i, desc, sizeof desc);
        int64_t k = atoll(strrchr(desc, '/') + 1); /* file name = IDX index */
        cr_assert_eq(tree->labels[i], raw->labels[k]);
        cr_assert_eq(burn_source_load(tree, i, &a), 0, "%s", burn_error());
        cr_assert_eq(burn_source_load(raw, k, &b), 0);
        cr_assert(a.w == 28 && a.h == 28);
        cr_assert_eq(memcmp(a.rgb, b.rgb, 28 * 28 * 3), 0, "%s", desc);
    }
    burn_source_free(tree);
    /* idempotent: a second run does nothing (a removed file stays removed) ... */
    tree = burn_source_imagefolder(train, &lim);
    tree->describe(tree, 0, desc, sizeof desc);
    burn_source_free(tree);
    cr_assert_eq(remove(desc), 0);
    cr_assert_eq(run_prepare(out, idx, 0), 0);
    cr_assert_neq(access(desc, F_OK), 0);
    /* ... and --force rewrites */
    cr_assert_eq(run_prepare(out, idx, 1), 0);
    cr_assert_eq(access(desc, F_OK), 0);
    /* no data: a clear runtime error */
    char *none = td_tmpdir("prep_none");
    char *out2 = td_tmpdir("prep_out2");
    cr_assert_eq(run_prepare(out2, none, 0), BURN_EXIT_RUNTIME);
    burn_image_free(&a), burn_image_free(&b);
    burn_source_free(raw);
    free(train), free(idx_images), free(idx_labels);
    td_rm_rf(idx), td_rm_rf(out), td_rm_rf(none), td_rm_rf(out2);
    free(idx), free(out), free(none), free(out2);
}
