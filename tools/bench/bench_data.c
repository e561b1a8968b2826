/* bench_data.c — `burn_bench data`: throughput of the input pipeline, decoded + augmented
 * images per second (two training views per image, METHOD.md §7 augmentations), for
 *   jpeg224: JPEG files of 500x375 (ImageNet's typical size) -> 224x224 crops
 *   png32:   PNG files of 32x32 (CIFAR-like, the CPU demo) -> 32x32 crops
 * Test files are synthetic images encoded with stb_image_write into a temporary folder.
 * Reports the single-thread cost of decoding and of augmenting (and decode's share), the
 * loader's images/s with 1 worker and with N workers (and per worker), and, with --python,
 * a Python PIL + numpy pipeline doing the same work on the same files in the same run
 * (tools/bench/data_pil.py), as a ratio. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "burn/check.h"
#include "burn/cli.h"
#include "burn/data.h"
#include "burn/fileio.h"
#include "burn/log.h"

typedef struct data_set {
    const char *name, *ext;
    int w, h, size, count, batch;
} data_set;

typedef struct data_row {
    double decode_ms, augment_ms, one_worker, n_worker, pil;
    int workers;
} data_row;

static int write_set(const char *dir, const data_set *d) {
    uint8_t *rgb = burn_xmalloc((size_t)d->w * d->h * 3);
    int rc = 0;
    for (int i = 0; i < d->count && rc == 0; i++) {
        char *path = NULL;
        if (asprintf(&path, "%s/c%d", dir, i % 10) < 0 || burn_mkdirs(path) != 0) rc = -1;
        free(path);
        if (asprintf(&path, "%s/c%d/%04d.%s", dir, i % 10, i, d->ext) < 0) return -1;
        burn_synthetic_render(1234, i, 10, d->w, d->h, rgb);
        if (rc == 0)
            rc = strcmp(d->ext, "jpg") == 0 ? burn_image_write_jpeg(path, rgb, d->w, d->h, 90)
                                            : burn_image_write_png(path, rgb, d->w, d->h, 3);
        free(path);
    }
    free(rgb);
    return rc;
}

/* images/s of the loader over src after one warm-up batch */
static double loader_rate(const burn_source *src, const data_set *d, int workers,
                          const burn_backend *be, int batches) {
    burn_loader_opts o = {0};
    o.batch = d->batch;
    o.views = 2;
    o.train = 1;
    o.size = d->size;
    o.workers = workers;
    o.prefetch = workers > 2 ? workers : 2;
    o.world = 1;
    o.shuffle = 1;
    o.drop_last = 1;
    o.seed = 7;
    o.max_bad_fraction = 0;
    o.stall_timeout_s = 600;
    burn_aug_params_default(&o.aug);
    o.be = be;
    burn_loader *l = burn_loader_create(src, &o);
    if (!l) return -1;
    const burn_batch *b;
    if (burn_loader_next(l, &b) != 0) return -1;
    double t0 = burn_now();
    for (int i = 0; i < batches; i++)
        if (burn_loader_next(l, &b) != 0) return -1;
    double t = burn_now() - t0;
    burn_loader_free(l);
    return batches * (double)d->batch / t;
}

static double python_rate(const char *dir, const data_set *d, int *ok) {
    char *cmd = NULL;
    *ok = 0;
    if (asprintf(&cmd, "python3 tools/bench/data_pil.py --dir '%s' --size %d --min-seconds 3 2>&1",
                 dir, d->size) < 0)
        return 0;
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (!p) return 0;
    char line[1024];
    double rate = 0;
    while (fgets(line, sizeof line, p)) {
        const char *k = strstr(line, "\"images_per_s\":");
        if (k && sscanf(k + 15, "%lf", &rate) == 1) *ok = 1;
        else fprintf(stderr, "data_pil.py: %s", line);
    }
    pclose(p);
    return rate;
}

static int bench_set(const data_set *d, const char *dir, int workers, int python,
                     const burn_backend *be, data_row *row) {
    memset(row, 0, sizeof *row);
    row->workers = workers;
    if (write_set(dir, d) != 0) return -1;
    burn_image_limits lim = {1 << 26, 1 << 26, NULL};
    burn_source *src = burn_source_imagefolder(dir, &lim);
    if (!src) return -1;
    /* single thread: decode everything (3 passes, best), then augment the decoded images */
    burn_image *imgs = burn_xcalloc((size_t)d->count, sizeof(burn_image));
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = burn_now();
        for (int i = 0; i < d->count; i++)
            if (burn_source_load(src, i, &imgs[i]) != 0) return -1;
        double t = burn_now() - t0;
        if (t < best) best = t;
    }
    row->decode_ms = best / d->count * 1e3;
    burn_aug_params p;
    burn_aug_params_default(&p);
    burn_aug_scratch ws = {0};
    float *out = burn_xmalloc(sizeof(float) * 3 * d->size * d->size);
    best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = burn_now();
        for (int i = 0; i < d->count; i++)
            for (int v = 0; v < 2; v++)
                burn_aug_train_view(&imgs[i], d->size, &p, burn_aug_key_make(1, rep, i, v), &ws,
                                    out);
        double t = burn_now() - t0;
        if (t < best) best = t;
    }
    row->augment_ms = best / d->count * 1e3;
    for (int i = 0; i < d->count; i++) burn_image_free(&imgs[i]);
    free(imgs);
    free(out);
    burn_aug_scratch_free(&ws);
    /* the loader: enough batches for ~2 s of single-worker work */
    double per_image_s = (row->decode_ms + row->augment_ms) * 1e-3;
    int batches = (int)(2.0 / (per_image_s * d->batch)) + 2;
    row->one_worker = loader_rate(src, d, 1, be, batches);
    row->n_worker = workers == 1 ? row->one_worker : loader_rate(src, d, workers, be, batches * workers);
    burn_source_free(src);
    if (row->one_worker < 0 || row->n_worker < 0) return -1;
    if (python) {
        int ok;
        row->pil = python_rate(dir, d, &ok);
        if (!ok) row->pil = 0;
    }
    return 0;
}

int bench_data(int argc, char **argv) {
    static const burn_opt opts[] = {
        {"--device", "cpu|cuda", "backend whose host_alloc holds the batches (default cpu)", 0},
        {"--workers", "N", "loader threads of the multi-worker run (default: online CPUs)", 0},
        {"--jpeg-images", "N", "JPEG files of 500x375 (default 48)", 0},
        {"--png-images", "N", "PNG files of 32x32 (default 512)", 0},
        {"--python", NULL, "also time tools/bench/data_pil.py (PIL + numpy) on the same files", 0},
        {"--json", NULL, "print one JSON object", 0},
        {NULL, NULL, NULL, 0}};
    burn_args a;
    int rc = burn_args_parse(&a, "burn_bench data", "[--workers N] [--python] [--json]",
                             "Decoded + augmented images/s of the data pipeline.", opts, 0, argc,
                             argv);
    if (rc) return rc;
    const char *device;
    int64_t workers, njpeg, npng;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if ((rc = burn_arg_choice(&a, "--device", "cpu|cuda", "cpu", &device)) ||
        (rc = burn_arg_int(&a, "--workers", 1, 1024, ncpu > 0 ? ncpu : 1, &workers)) ||
        (rc = burn_arg_int(&a, "--jpeg-images", 8, 100000, 48, &njpeg)) ||
        (rc = burn_arg_int(&a, "--png-images", 64, 1000000, 512, &npng)))
        return rc;
    int json = burn_arg_flag(&a, "--json"), python = burn_arg_flag(&a, "--python");
    burn_log_quiet = json;
    const burn_backend *be = burn_backend_select(device);
    if (!be) {
        fprintf(stderr, "burn_bench: %s\n", burn_error());
        return 1;
    }
    data_set sets[2] = {{"jpeg224", "jpg", 500, 375, 224, (int)njpeg, 16},
                        {"png32", "png", 32, 32, 32, (int)npng, 64}};
    char root[] = "/tmp/burn-bench-data-XXXXXX";
    if (!mkdtemp(root)) {
        fprintf(stderr, "burn_bench: cannot make a temporary folder: %s\n", strerror(errno));
        return 1;
    }
    data_row rows[2];
    for (int s = 0; s < 2 && rc == 0; s++) {
        char *dir = NULL;
        if (asprintf(&dir, "%s/%s", root, sets[s].name) < 0) return 1;
        if (bench_set(&sets[s], dir, (int)workers, python, be, &rows[s]) != 0) {
            fprintf(stderr, "burn_bench data: %s: %s\n", sets[s].name, burn_error());
            rc = 1;
        }
        free(dir);
    }
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", root) > 0 && system(cmd) != 0)
        fprintf(stderr, "burn_bench: could not remove %s\n", root);
    free(cmd);
    if (rc) return rc;
    if (json) {
        printf("{\"bench\": \"data\", \"device\": \"%s\", \"rows\": [", device);
        for (int s = 0; s < 2; s++)
            printf("%s{\"set\": \"%s\", \"decode_ms\": %.4f, \"augment_ms\": %.4f, "
                   "\"decode_share\": %.3f, \"workers\": %d, \"images_per_s_1\": %.1f, "
                   "\"images_per_s_n\": %.1f, \"pil_images_per_s\": %.1f}",
                   s ? ", " : "", sets[s].name, rows[s].decode_ms, rows[s].augment_ms,
                   rows[s].decode_ms / (rows[s].decode_ms + rows[s].augment_ms), rows[s].workers,
                   rows[s].one_worker, rows[s].n_worker, rows[s].pil);
        printf("]}\n");
    } else {
        printf("%-8s %10s %12s %7s %12s %14s %11s %10s %8s\n", "set", "decode ms",
               "augment ms", "decode", "1 worker", "N workers", "per worker", "PIL", "burn/PIL");
        printf("%-8s %10s %12s %7s %12s %14s %11s %10s %8s\n", "", "/image", "/image (2v)",
               "share", "images/s", "images/s", "images/s", "images/s", "1 thread");
        for (int s = 0; s < 2; s++) {
            data_row *r = &rows[s];
            char nw[32], pil[32] = "-", ratio[32] = "-";
            snprintf(nw, sizeof nw, "%.0f (%d)", r->n_worker, r->workers);
            if (r->pil > 0) {
                snprintf(pil, sizeof pil, "%.0f", r->pil);
                snprintf(ratio, sizeof ratio, "%.2fx", r->one_worker / r->pil);
            }
            printf("%-8s %10.3f %12.3f %6.0f%% %12.0f %14s %11.0f %10s %8s\n", sets[s].name,
                   r->decode_ms, r->augment_ms, 100 * r->decode_ms / (r->decode_ms + r->augment_ms),
                   r->one_worker, nw, r->n_worker / r->workers, pil, ratio);
        }
        printf("images/s: decoded + 2 augmented views (METHOD.md §7) per image; jpeg224 = 500x375 JPEG "
               "-> 224, png32 = 32x32 PNG -> 32\n");
    }
    burn_args_free(&a);
    return 0;
}
