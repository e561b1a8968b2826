/* burn_infer — run a bit-packed ReActNet-A (burn_gpu export --packed) on the CPU.
 *
 *   burn_infer MODEL.safetensors [--out FILE.npy|FILE.safetensors] [--json] IMAGE|DIR ...
 *        the features of each image: their L2 norm printed (with --json one object per image
 *        holding the whole vector), and with --out all of them in one file: a NumPy .npy
 *        float32 [images, F] array, or a safetensors file with "features" [images, F] and the
 *        image paths (a JSON list) in its metadata "images"
 *   burn_infer MODEL.safetensors --bench [--batch N] [--json]
 *                                    latency at batch 1 and images/s at batch N (random input)
 *
 * Images (JPEG/PNG; a directory: its *.jpg, *.jpeg, *.png, sorted) go through the evaluation
 * view of training (resize the shorter side to size/0.875, center crop, ImageNet mean/std). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "burn/augment.h"
#include "burn/check.h"
#include "burn/commands.h"
#include "burn/data.h"
#include "burn/infer.h"
#include "burn/log.h"
#include "burn/safetensors.h"

static void usage(FILE *f) {
    fprintf(f, "usage: burn_infer MODEL.safetensors [--out FILE.npy|FILE.safetensors] [--json] "
               "[--batch N] IMAGE|DIR ...\n"
               "       burn_infer MODEL.safetensors --bench [--batch N] [--json]\n"
               "  the features of each image (JPEG/PNG; a directory: its images): their L2 norm,\n"
               "  with --json the whole vector, with --out all of them in one file; or with\n"
               "  --bench the latency at batch 1 and the throughput at batch N (default 16)\n"
               "  MODEL: a file of burn_gpu export --packed\n");
}

/* features[n, F] as a NumPy .npy file (format 1.0, little-endian float32, C order). */
static int write_npy(const char *path, const float *x, int n, int F) {
    char header[128];
    int len = snprintf(header, sizeof header,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, F);
    int total = 10 + len + 1, pad = (64 - total % 64) % 64; /* the data 64-byte aligned */
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "burn_infer: --out %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    unsigned short hlen = (unsigned short)(len + pad + 1);
    unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 255),
                               (unsigned char)(hlen >> 8)};
    int ok = fwrite(magic, 1, 10, f) == 10 && fwrite(header, 1, (size_t)len, f) == (size_t)len;
    for (int i = 0; i < pad && ok; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF &&
         fwrite(x, sizeof *x, (size_t)n * F, f) == (size_t)n * F; /* x86-64, aarch64: LE */
    ok = fclose(f) == 0 && ok;
    if (!ok) fprintf(stderr, "burn_infer: --out %s: write failed\n", path);
    return ok ? 0 : -1;
}

/* features[n, F] as safetensors: "features" F32 [n, F], metadata "images" (a JSON list). */
static int write_safetensors(const char *path, const float *x, char **paths, int n, int F) {
    burn_st_writer w;
    burn_st_writer_init(&w);
    int64_t shape[2] = {n, F};
    burn_st_add(&w, "features", BURN_F32, 2, shape, x);
    size_t cap = 16, len = 0;
    char *list = malloc(cap);
    list[len++] = '[';
    for (int i = 0; i < n; i++) {
        char *q = burn_json_quote(paths[i]);
        size_t ql = strlen(q);
        while (len + ql + 4 > cap) list = realloc(list, cap *= 2);
        if (i) list[len++] = ',';
        memcpy(list + len, q, ql);
        len += ql;
        free(q);
    }
    list[len++] = ']';
    list[len] = 0;
    burn_st_add_meta(&w, "images", list);
    burn_st_add_meta(&w, "format", "burn-infer-features-1");
    int rc = burn_st_save(&w, path);
    if (rc != 0) fprintf(stderr, "burn_infer: --out %s: %s\n", path, burn_error());
    burn_st_writer_free(&w);
    free(list);
    return rc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *n) {
    const char *dot = strrchr(n, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

/* Append path, or the image files of directory path, to *list. -1 when path is unreadable. */
static int collect(const char *path, char ***list, int *n, int *cap) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "burn_infer: %s: no such file or directory\n", path);
        return -1;
    }
    int first = *n;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            fprintf(stderr, "burn_infer: %s: cannot open the directory\n", path);
            return -1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || !is_image_name(e->d_name)) continue;
            if (*n == *cap) *list = realloc(*list, sizeof **list * (size_t)(*cap = *cap * 2 + 16));
            if (asprintf(&(*list)[*n], "%s/%s", path, e->d_name) < 0) abort();
            (*n)++;
        }
        closedir(d);
        qsort(*list + first, (size_t)(*n - first), sizeof **list, cmp_str);
    } else {
        if (*n == *cap) *list = realloc(*list, sizeof **list * (size_t)(*cap = *cap * 2 + 16));
        (*list)[(*n)++] = strdup(path);
    }
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median seconds of `reps` runs at batch n (after one warm-up run that sizes the buffers) */
static double time_runs(burn_infer *m, const float *x, int n, float *feat, int reps) {
    double *t = malloc(sizeof *t * (size_t)reps);
    if (burn_infer_run(m, x, n, feat) != 0) return -1;
    for (int r = 0; r < reps; r++) {
        double t0 = burn_now();
        if (burn_infer_run(m, x, n, feat) != 0) return -1;
        t[r] = burn_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = t[reps / 2];
    free(t);
    return med;
}

static int bench(burn_infer *m, const char *model, int batch, int json) {
    int S = burn_infer_image_size(m), F = burn_infer_feature_dim(m);
    size_t per = (size_t)3 * S * S;
    float *x = malloc(sizeof *x * per * (size_t)batch), *feat = malloc(sizeof *feat * (size_t)F * batch);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < per * (size_t)batch; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 4.0 - 2.0);
    }
    double t1 = time_runs(m, x, 1, feat, 9);
    double tn = t1 >= 0 ? time_runs(m, x, batch, feat, 3) : -1;
    free(x);
    free(feat);
    if (t1 < 0 || tn < 0) {
        fprintf(stderr, "burn_infer: %s\n", burn_error());
        return 1;
    }
    if (json)
        printf("{\"model\": \"%s\", \"image_size\": %d, \"feature_dim\": %d, \"latency_ms\": %.3f, "
               "\"batch\": %d, \"images_per_s\": %.2f}\n",
               model, S, F, 1e3 * t1, batch, batch / tn);
    else
        printf("%s (%dx%d, %d-d features): latency %.2f ms at batch 1 (median of 9), "
               "%.1f images/s at batch %d (median of 3)\n",
               model, S, S, F, 1e3 * t1, batch / tn, batch);
    return 0;
}

static int features(burn_infer *m, char **paths, int npaths, int batch, int json,
                    const char *out) {
    int S = burn_infer_image_size(m), F = burn_infer_feature_dim(m);
    size_t per = (size_t)3 * S * S;
    float *x = malloc(sizeof *x * per * (size_t)batch), *feat = malloc(sizeof *feat * (size_t)F * batch);
    float *all = out ? malloc(sizeof *all * (size_t)F * (size_t)npaths) : NULL;
    burn_image img = {0};
    burn_aug_scratch ws = {0};
    burn_aug_params p;
    burn_aug_params_default(&p);
    burn_image_limits lim = {64ll << 20, 100ll << 20, "burn_infer"};
    int rc = 0;
    for (int i0 = 0; i0 < npaths && rc == 0; i0 += batch) {
        int n = npaths - i0 < batch ? npaths - i0 : batch;
        for (int j = 0; j < n && rc == 0; j++) {
            if (burn_image_load_file(paths[i0 + j], &lim, &img) != 0) {
                fprintf(stderr, "burn_infer: %s\n", burn_error());
                rc = 1;
                break;
            }
            burn_aug_eval_view(&img, S, &p, &ws, x + per * (size_t)j);
        }
        if (rc == 0 && burn_infer_run(m, x, n, feat) != 0) {
            fprintf(stderr, "burn_infer: %s\n", burn_error());
            rc = 1;
        }
        for (int j = 0; j < n && rc == 0; j++) {
            const float *v = feat + (size_t)j * F;
            double ss = 0;
            for (int k = 0; k < F; k++) ss += (double)v[k] * v[k];
            if (all) memcpy(all + (size_t)(i0 + j) * F, v, sizeof *v * (size_t)F);
            if (json) {
                char *q = burn_json_quote(paths[i0 + j]);
                printf("{\"image\": %s, \"feature_dim\": %d, \"norm\": %.9g, \"features\": [",
                       q, F, sqrt(ss));
                for (int k = 0; k < F; k++) printf(k ? ", %.9g" : "%.9g", (double)v[k]);
                printf("]}\n");
                free(q);
            } else {
                printf("%s\t%.6g\n", paths[i0 + j], sqrt(ss));
            }
        }
    }
    if (rc == 0 && out) {
        size_t ol = strlen(out);
        rc = ol > 4 && strcmp(out + ol - 4, ".npy") == 0
                 ? write_npy(out, all, npaths, F) != 0
                 : write_safetensors(out, all, paths, npaths, F) != 0;
    }
    free(all);
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
    free(x);
    free(feat);
    return rc;
}

int main(int argc, char **argv) {
    const char *model = NULL, *out = NULL;
    int do_bench = 0, json = 0, batch = 16, npaths = 0, cap = 0;
    char **paths = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            burn_print_version("burn_infer");
            return 0;
        } else if (!strcmp(argv[i], "--bench")) {
            do_bench = 1;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--out")) {
            size_t ol = i + 1 < argc ? strlen(argv[i + 1]) : 0;
            if (i + 1 >= argc || !((ol > 4 && !strcmp(argv[i + 1] + ol - 4, ".npy")) ||
                                   (ol > 12 && !strcmp(argv[i + 1] + ol - 12, ".safetensors")))) {
                fprintf(stderr, "burn_infer: --out needs a FILE.npy or FILE.safetensors\n");
                return 2;
            }
            out = argv[++i];
        } else if (!strcmp(argv[i], "--batch")) {
            char *end = NULL;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || v < 1 || v > 4096) {
                fprintf(stderr, "burn_infer: --batch needs an integer in [1, 4096]\n");
                return 2;
            }
            batch = (int)v;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "burn_infer: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!model) {
            model = argv[i];
        } else if (collect(argv[i], &paths, &npaths, &cap) != 0) {
            return 2;
        }
    }
    if (!model || (!do_bench && npaths == 0)) {
        fprintf(stderr, "burn_infer: %s\n",
                !model ? "name the model (a file of burn_gpu export --packed)"
                       : "name the images or directories to run, or --bench");
        usage(stderr);
        return 2;
    }
    if (do_bench && out) {
        fprintf(stderr, "burn_infer: --out goes with images, not --bench\n");
        return 2;
    }
    burn_infer *m = burn_infer_load(model);
    if (!m) {
        fprintf(stderr, "burn_infer: %s\n", burn_error());
        return 1;
    }
    int rc = do_bench ? bench(m, model, batch, json)
                      : features(m, paths, npaths, batch, json, out);
    burn_infer_free(m);
    for (int i = 0; i < npaths; i++) free(paths[i]);
    free(paths);
    return rc;
}
