/* test_infer.c — the bit-packed export (export.h) and the CPU inference runtime (infer.h):
 * the file's sign bits and α against an independent reference computed from the latent
 * weights; the runtime's features against the trainer's eval-mode stage-2 forward
 * (burn_reactnet_forward, train = 0) on random weights, BN statistics and images, for odd
 * widths and both feature heads; corrupted, truncated and mislabelled files rejected with a
 * clear error; the binary part >= 30x smaller than FP32 at full width. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn/backend.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/fileio.h"
#include "burn/export.h"
#include "burn/infer.h"
#include "burn/models.h"
#include "burn/net.h"
#include "burn/params.h"
#include "burn/safetensors.h"
#include "test_util.h"

/* A stage-2 student with random weights and non-trivial BN statistics, RSign thresholds and
 * RPReLU parameters (the defaults 0/1 would hide a wrong order of operations). */
typedef struct student {
    burn_reactnet net;
    burn_params ps;
} student;

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* fdim: the FC's width (0 = the pooled width) */
static void student_make_fdim(student *s, double width, int size, int stride, int fc, int fdim,
                              uint64_t seed) {
    burn_reactnet_config cfg = {width, size, stride, 2, fc, fdim};
    cr_assert_eq(burn_reactnet_init(&s->net, &cfg), 0, "%s", burn_error());
    burn_params_init_registry(&s->ps);
    burn_reactnet_register(&s->net, &s->ps, "student.");
    burn_params_finalize(&s->ps, burn_cpu_backend());
    burn_params_init(&s->ps, seed);
    for (int i = 0; i < s->ps.n; i++) {
        const burn_param *p = &s->ps.p[i];
        float *d = burn_param_data(&s->ps, i);
        uint64_t sd = seed * 1000 + (uint64_t)i;
        if (p->ndim != 1) continue; /* conv and fc weights keep their Kaiming init */
        if (ends_with(p->name, "running_var")) tu_fill(d, p->numel, sd, 0.5f, 2.0f);
        else if (ends_with(p->name, "running_mean")) tu_fill(d, p->numel, sd, -0.5f, 0.5f);
        else if (ends_with(p->name, "slope")) tu_fill(d, p->numel, sd, 0.05f, 0.5f);
        else if (strstr(p->name, ".bn") && ends_with(p->name, ".weight"))
            tu_fill(d, p->numel, sd, 0.5f, 1.5f);
        else tu_fill(d, p->numel, sd, -0.3f, 0.3f); /* BN/fc bias, move*.bias, gamma, zeta */
    }
}

static void student_make(student *s, double width, int size, int stride, int fc, uint64_t seed) {
    student_make_fdim(s, width, size, stride, fc, 0, seed);
}

static void student_free(student *s) { burn_params_free(&s->ps); }

/* features [N, F] of the trainer's eval-mode forward */
static float *trainer_features(student *s, const float *x, int N) {
    burn_reactnet_run *r = burn_reactnet_run_new(&s->net, burn_cpu_backend(), N, 0, 0);
    cr_assert_not_null(r, "%s", burn_error());
    burn_reactnet_prepare(r, &s->ps);
    const float *feat;
    cr_assert_eq(burn_reactnet_forward(r, &s->ps, x, 0, &feat), 0, "%s", burn_error());
    int F = s->net.feature_dim;
    float *out = malloc((size_t)N * F * sizeof *out);
    memcpy(out, feat, (size_t)N * F * sizeof *out);
    burn_reactnet_run_free(r);
    return out;
}

static char *export_tmp(student *s, const char *tag, int fp16, burn_export_sizes *sz) {
    char *path = tu_tmp_path(tag);
    cr_assert_eq(burn_export_packed(&s->net, &s->ps, "student.", fp16, path, sz), 0, "%s",
                 burn_error());
    return path;
}

static void check_parity_fdim(double width, int size, int stride, int fc, int fdim,
                              uint64_t seed) {
    student s;
    student_make_fdim(&s, width, size, stride, fc, fdim, seed);
    char *path = export_tmp(&s, "parity.safetensors", 0, NULL);
    burn_infer *m = burn_infer_load(path);
    cr_assert_not_null(m, "%s", burn_error());
    int F = burn_infer_feature_dim(m), S = burn_infer_image_size(m), N = 3;
    cr_assert_eq(F, s.net.feature_dim);
    cr_assert_eq(S, size);
    float *x = malloc((size_t)N * 3 * S * S * sizeof *x);
    tu_fill(x, (int64_t)N * 3 * S * S, seed + 7, -2.0f, 2.0f);
    float *ref = trainer_features(&s, x, N);
    float *got = malloc((size_t)N * F * sizeof *got);
    /* a first run at another batch size: the handle must rebuild its buffers */
    cr_assert_eq(burn_infer_run(m, x, 2, got), 0, "%s", burn_error());
    cr_assert_eq(burn_infer_run(m, x, N, got), 0, "%s", burn_error());
    double nz = 0;
    for (int i = 0; i < N * F; i++) nz += fabs(ref[i]);
    cr_assert_gt(nz, 0.0, "degenerate test: all-zero features");
    double rel = tu_max_rel_f(got, ref, (int64_t)N * F, 1e-3);
    cr_assert_leq(rel, 1e-5, "width %g size %d fc %d: max rel error %g", width, size, fc, rel);
    /* same kernels in the same order: the features are the trainer's to the bit */
    cr_assert_eq(memcmp(got, ref, (size_t)N * F * sizeof *got), 0,
                 "runtime features differ from the trainer's (max rel %g)", rel);
    free(x);
    free(ref);
    free(got);
    burn_infer_free(m);
    unlink(path);
    free(path);
    student_free(&s);
}

static void check_parity(double width, int size, int stride, int fc, uint64_t seed) {
    check_parity_fdim(width, size, stride, fc, 0, seed);
}

/* loss.fs_on = features: the FC maps the pooled 64 channels to the teacher's width (here 80) */
Test(infer, parity_fc_wider_than_pooled) { check_parity_fdim(0.0625, 32, 1, 1, 80, 15); }
Test(infer, parity_odd_width_with_fc) { check_parity(0.09375, 32, 2, 1, 11); } /* c0 = 3 */
Test(infer, parity_small_width_pooled) { check_parity(0.0625, 32, 1, 0, 12); } /* c0 = 2 */
Test(infer, parity_wider_stride1) { check_parity(0.15625, 16, 1, 1, 13); }     /* c0 = 5 */
/* 48 -> ... -> 6x6 (HW 36) and 3x3 (HW 9): the fused pass's 4-lane loop plus a scalar tail */
Test(infer, parity_odd_spatial_tails) { check_parity(0.0625, 48, 1, 1, 14); }

/* The file's bits and α against a reference from the latent weights: bit k = (ky·kw + kx)·C
 * + c of row o is W[o, c, ky, kx] >= 0, pad bits 0; α_o = mean |W[o]| (double). */
Test(infer, packed_bits_and_alpha_match_reference) {
    student s;
    student_make(&s, 0.09375, 32, 2, 1, 21);
    char *path = export_tmp(&s, "bits.safetensors", 0, NULL);
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    int nbin = 0;
    for (int i = 0; i < s.ps.n; i++) {
        const burn_param *p = &s.ps.p[i];
        if (!p->binary) continue;
        nbin++;
        int O = (int)p->shape[0], C = (int)p->shape[1], kh = (int)p->shape[2],
            kw = (int)p->shape[3], K = C * kh * kw, ldk = (K + 63) / 64;
        char name[256];
        snprintf(name, sizeof name, "%.*s.bits", (int)(strlen(p->name) - 7 - 8), p->name + 8);
        const burn_st_tensor *t = burn_st_find(&f, name);
        cr_assert_not_null(t, "missing %s", name);
        cr_assert_eq(t->dtype, BURN_U64);
        cr_assert_eq(t->shape[0], O);
        cr_assert_eq(t->shape[1], ldk);
        uint64_t *bits = malloc((size_t)O * ldk * 8);
        memcpy(bits, t->data, (size_t)O * ldk * 8);
        const float *Wt = burn_param_data(&s.ps, i);
        for (int o = 0; o < O; o++)
            for (int k = 0; k < ldk * 64; k++) {
                int want = 0;
                if (k < K) {
                    int tap = k / C, c = k % C, ky = tap / kw, kx = tap % kw;
                    want = Wt[(((int64_t)o * C + c) * kh + ky) * kw + kx] >= 0.0f;
                }
                int got = (int)((bits[(int64_t)o * ldk + k / 64] >> (k % 64)) & 1);
                cr_assert_eq(got, want, "%s row %d bit %d", name, o, k);
            }
        free(bits);
        snprintf(name, sizeof name, "%.*s.alpha", (int)(strlen(p->name) - 7 - 8), p->name + 8);
        float *alpha = malloc((size_t)O * sizeof *alpha);
        cr_assert_eq(burn_st_read_f32(&f, name, alpha, O), 0, "%s", burn_error());
        for (int o = 0; o < O; o++) {
            double a = 0;
            for (int k = 0; k < K; k++) a += fabs((double)Wt[(int64_t)o * K + k]);
            a /= K;
            cr_assert_leq(fabs(alpha[o] - a), 1e-6 * a, "%s[%d] = %g, want %g", name, o,
                          alpha[o], a);
        }
        free(alpha);
    }
    cr_assert_eq(nbin, 13 + 13 + 5, "3x3 and 1x1 convs (5 doubling blocks have two 1x1)");
    const char *fmt = burn_st_meta(&f, "format");
    cr_assert(fmt && strcmp(fmt, BURN_PACKED_FORMAT) == 0);
    burn_st_close(&f);
    unlink(path);
    free(path);
    student_free(&s);
}

/* ---- rejection of bad files ---- */

static void *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc(*len);
    cr_assert_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *b, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* byte offset in the file of tensor `name`'s data */
static size_t data_offset(const char *path, const char *name) {
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    const burn_st_tensor *t = burn_st_find(&f, name);
    cr_assert_not_null(t, "missing %s", name);
    size_t off = (size_t)((const char *)t->data - (const char *)f.map);
    burn_st_close(&f);
    return off;
}

static void expect_rejected(const char *path, const char *needle) {
    burn_infer *m = burn_infer_load(path);
    if (m) burn_infer_free(m);
    cr_assert_null(m, "a bad file was accepted (expected an error with '%s')", needle);
    cr_assert(strstr(burn_error(), needle), "error '%s' does not mention '%s'", burn_error(),
              needle);
    cr_assert(strstr(burn_error(), path), "error '%s' does not name the file", burn_error());
}

Test(infer, rejects_corrupted_and_truncated_files) {
    student s;
    student_make(&s, 0.09375, 32, 2, 1, 31);
    char *path = export_tmp(&s, "good.safetensors", 0, NULL);
    size_t len;
    unsigned char *good = read_all(path, &len);
    char *bad = tu_tmp_path("bad.safetensors");

    write_all(bad, good, len - 13); /* truncated */
    expect_rejected(bad, bad);

    unsigned char *b = malloc(len);
    memcpy(b, good, len); /* a pad bit set past K = 27 in row 0 of the first 3x3 conv */
    size_t off = data_offset(path, "blocks.0.conv3x3.bits");
    b[off + 7] |= 0x80;
    write_all(bad, b, len);
    expect_rejected(bad, "past K");

    memcpy(b, good, len); /* α overwritten with a NaN */
    off = data_offset(path, "blocks.3.conv1x1_a.alpha");
    memset(b + off, 0xff, 4);
    write_all(bad, b, len);
    expect_rejected(bad, "blocks.3.conv1x1_a.alpha");

    memcpy(b, good, len); /* another format name in the header */
    unsigned char *fmt = memmem(b, len, BURN_PACKED_FORMAT, strlen(BURN_PACKED_FORMAT));
    cr_assert_not_null(fmt);
    fmt[strlen(BURN_PACKED_FORMAT) - 1] = '9';
    write_all(bad, b, len);
    expect_rejected(bad, "not a packed burn model");

    memcpy(b, good, len); /* a width that does not match the tensors */
    unsigned char *w = memmem(b, len, "\"0.09375\"", 9);
    cr_assert_not_null(w);
    memcpy(w, "\"0.12500\"", 9);
    write_all(bad, b, len);
    expect_rejected(bad, "wrong shape"); /* feature_dim is the FC's own width: the tensors tell */

    /* a training checkpoint (FP32 latent weights) is not a packed model */
    burn_st_writer wr;
    burn_st_writer_init(&wr);
    float v[2] = {1, 2};
    int64_t sh[1] = {2};
    burn_st_add(&wr, "student.fc.bias", BURN_F32, 1, sh, v);
    cr_assert_eq(burn_st_save(&wr, bad), 0, "%s", burn_error());
    burn_st_writer_free(&wr);
    expect_rejected(bad, "not a packed burn model");

    unlink(bad);
    unlink(path);
    free(b);
    free(good);
    free(bad);
    free(path);
    student_free(&s);
}

/* ---- sizes ---- */

/* Full-width ReActNet-A at 224 (METHOD.md §2): the binary convs' bits + α against their FP32
 * latent weights, by the same arithmetic as the exporter (registry only, nothing allocated). */
Test(infer, full_width_binary_part_is_30x_smaller) {
    burn_reactnet net;
    burn_reactnet_config cfg = {1.0, 224, 2, 2, 1, 0};
    cr_assert_eq(burn_reactnet_init(&net, &cfg), 0, "%s", burn_error());
    burn_params ps;
    burn_params_init_registry(&ps);
    burn_reactnet_register(&net, &ps, "");
    int64_t fp32 = 0, packed = 0;
    for (int i = 0; i < ps.n; i++) {
        const burn_param *p = &ps.p[i];
        if (!p->binary) continue;
        int64_t O = p->shape[0], K = p->numel / O;
        fp32 += 4 * p->numel;
        packed += O * ((K + 63) / 64) * 8 + 4 * O;
    }
    double ratio = (double)fp32 / (double)packed;
    cr_assert_geq(ratio, 30.0, "binary part only %.2fx smaller", ratio);
    cr_assert_lt(ratio, 32.0); /* 1 bit for 32, minus α: a larger ratio would be a bug */
    burn_params_free(&ps);
}

/* The exporter's reported sizes are those of the file's tensors; F16 halves the FP part. */
Test(infer, export_sizes_and_fp16) {
    student s;
    student_make(&s, 0.125, 32, 2, 1, 41);
    burn_export_sizes a, b;
    char *p32 = export_tmp(&s, "f32.safetensors", 0, &a);
    char *p16 = export_tmp(&s, "f16.safetensors", 1, &b);
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, p32), 0, "%s", burn_error());
    int64_t bin = 0, fp = 0;
    for (int i = 0; i < f.n; i++) {
        const burn_st_tensor *t = &f.tensors[i];
        int64_t bytes = (int64_t)(t->end - t->begin);
        if (ends_with(t->name, ".bits") || ends_with(t->name, ".alpha")) bin += bytes;
        else fp += bytes;
    }
    burn_st_close(&f);
    cr_assert_eq(bin, a.packed_binary_bytes);
    cr_assert_eq(fp, a.packed_fp_bytes);
    cr_assert_eq(b.packed_binary_bytes, a.packed_binary_bytes);
    cr_assert_eq(2 * b.packed_fp_bytes, a.packed_fp_bytes);
    int64_t all = 0;
    for (int i = 0; i < s.ps.n; i++) all += 4 * s.ps.p[i].numel;
    cr_assert_eq(a.fp32_student_bytes, all);
    /* the F16 file loads and runs; its features are close, not equal (rounded FP layers) */
    burn_infer *m = burn_infer_load(p16);
    cr_assert_not_null(m, "%s", burn_error());
    int F = burn_infer_feature_dim(m);
    float x[3 * 32 * 32], *feat = malloc((size_t)F * sizeof *feat);
    tu_fill(x, 3 * 32 * 32, 5, -2.0f, 2.0f);
    cr_assert_eq(burn_infer_run(m, x, 1, feat), 0, "%s", burn_error());
    for (int i = 0; i < F; i++) cr_assert(isfinite(feat[i]));
    cr_assert_eq(burn_infer_run(m, x, 0, feat), -1, "n = 0 must be an error");
    burn_infer_free(m);
    free(feat);
    unlink(p32);
    unlink(p16);
    free(p32);
    free(p16);
    student_free(&s);
}

/* ---- the burn_infer CLI ---- */

#include "burn/augment.h"
#include "burn/data.h"

static int run_cmd(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The CLI's norms are those of the runtime's features of the evaluation view of each image
 * (a directory's PNGs, sorted); usage errors exit 2, a bad model file 1. */
Test(infer, cli_norms_match_runtime) {
    student s;
    student_make(&s, 0.09375, 32, 2, 1, 51);
    char *model = export_tmp(&s, "cli.safetensors", 0, NULL);
    char *dir = tu_tmp_path("cli-images");
    cr_assert_eq(mkdir(dir, 0755), 0);
    int w[2] = {40, 29}, h[2] = {33, 50};
    uint64_t rs = 77;
    char *paths[2];
    for (int i = 0; i < 2; i++) {
        uint8_t *rgb = malloc((size_t)w[i] * h[i] * 3);
        for (int j = 0; j < w[i] * h[i] * 3; j++) rgb[j] = (uint8_t)tu_int(&rs, 0, 255);
        cr_assert_neq(asprintf(&paths[i], "%s/img%d.png", dir, i), -1);
        cr_assert_eq(burn_image_write_png(paths[i], rgb, w[i], h[i], 3), 0, "%s", burn_error());
        free(rgb);
    }
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "%s %s --batch 2 %s 2>&1", BURN_INFER, model, dir);
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 0, "%s", out);
    burn_infer *m = burn_infer_load(model);
    cr_assert_not_null(m, "%s", burn_error());
    int F = burn_infer_feature_dim(m);
    float x[3 * 32 * 32], *feat = malloc((size_t)F * sizeof *feat);
    burn_image img = {0};
    burn_aug_scratch ws = {0};
    burn_aug_params p;
    burn_aug_params_default(&p);
    burn_image_limits lim = {1 << 20, 1 << 20, NULL};
    /* the features themselves: --out .npy and .safetensors, --json's vectors (issue 19 item 3) */
    char *npy = tu_tmp_path("cli-features.npy"), *stf = tu_tmp_path("cli-features.safetensors");
    char jout[1 << 16];
    snprintf(cmd, sizeof cmd, "%s %s --out %s %s 2>&1 && %s %s --out %s --json %s 2>&1",
             BURN_INFER, model, npy, dir, BURN_INFER, model, stf, dir);
    cr_assert_eq(run_cmd(cmd, jout, sizeof jout), 0, "%s", jout);
    unsigned char *npy_bytes;
    size_t npy_n;
    cr_assert_eq(burn_read_file(npy, 1 << 24, &npy_bytes, &npy_n), 0, "%s", burn_error());
    cr_assert(npy_n > 10 && memcmp(npy_bytes, "\x93NUMPY\x01\x00", 8) == 0);
    size_t data_at = 10 + (size_t)(npy_bytes[8] | npy_bytes[9] << 8);
    char shape[64];
    snprintf(shape, sizeof shape, "'shape': (2, %d)", F);
    const char *header = (const char *)npy_bytes + 10; /* after the magic and its NUL */
    size_t hn = data_at - 10;
    cr_assert(memmem(header, hn, "'descr': '<f4'", 14) && memmem(header, hn, shape, strlen(shape)),
              "%.*s", (int)hn, header);
    cr_assert_eq(data_at % 64, 0);
    cr_assert_eq(npy_n, data_at + sizeof(float) * 2 * (size_t)F);
    burn_st_file st;
    cr_assert_eq(burn_st_open(&st, stf), 0, "%s", burn_error());
    const burn_st_tensor *t = burn_st_find(&st, "features");
    cr_assert(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == F);
    cr_assert(strstr(burn_st_meta(&st, "images"), paths[1]));
    const char *line = out, *jline = jout;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(burn_image_load_file(paths[i], &lim, &img), 0, "%s", burn_error());
        burn_aug_eval_view(&img, 32, &p, &ws, x);
        cr_assert_eq(burn_infer_run(m, x, 1, feat), 0, "%s", burn_error());
        /* image i's row of both files and its JSON vector: the runtime's features */
        float row[4096];
        cr_assert_leq(F, 4096);
        memcpy(row, npy_bytes + data_at + sizeof(float) * (size_t)i * F, sizeof(float) * F);
        cr_assert_eq(memcmp(row, feat, sizeof(float) * F), 0, ".npy row %d", i);
        memcpy(row, (const char *)t->data + sizeof(float) * (size_t)i * F, sizeof(float) * F);
        cr_assert_eq(memcmp(row, feat, sizeof(float) * F), 0, ".safetensors row %d", i);
        const char *v = strstr(jline, "\"features\": [");
        cr_assert(v, "%s", jline);
        jline = strchr(v, '\n') + 1; /* the next image's object follows */
        v += strlen("\"features\": [");
        for (int k = 0; k < F; k++) {
            char *end;
            double got = strtod(v, &end);
            cr_assert_eq((float)got, feat[k], "json image %d feature %d", i, k);
            v = end + (k + 1 < F ? 2 : 0);
        }
        double ss = 0;
        for (int k = 0; k < F; k++) ss += (double)feat[k] * feat[k];
        cr_assert_gt(ss, 0.0);
        char want_path[512];
        double norm;
        cr_assert_eq(sscanf(line, "%511s %lf", want_path, &norm), 2, "output: %s", out);
        cr_assert_str_eq(want_path, paths[i]);
        cr_assert_leq(fabs(norm - sqrt(ss)), 1e-5 * sqrt(ss), "%s: %g vs %g", paths[i], norm,
                      sqrt(ss));
        line = strchr(line, '\n') + 1;
    }
    burn_image_free(&img);
    burn_aug_scratch_free(&ws);
    free(feat);
    burn_infer_free(m);
    burn_st_close(&st);
    free(npy_bytes);
    unlink(npy), unlink(stf);
    free(npy), free(stf);
    snprintf(cmd, sizeof cmd, "%s %s --out x.txt %s 2>&1", BURN_INFER, model, dir);
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "--out needs a FILE.npy or FILE.safetensors"), "%s", out);

    snprintf(cmd, sizeof cmd, "%s %s --bench --batch 2 --json 2>&1", BURN_INFER, model);
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "\"images_per_s\""), "%s", out);
    snprintf(cmd, sizeof cmd, "%s %s --batch 0 --bench 2>&1", BURN_INFER, model);
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 2, "%s", out);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", BURN_INFER, model); /* no images, no --bench */
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 2, "%s", out);
    cr_assert(strstr(out, "name the images or directories to run, or --bench"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s %s --bench 2>&1", BURN_INFER, paths[0]); /* a PNG as model */
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, paths[0]), "%s", out);

    for (int i = 0; i < 2; i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
    rmdir(dir);
    free(dir);
    unlink(model);
    free(model);
    student_free(&s);
}

/* ---- export --torch ---- */

/* The torch export holds every student tensor under its name without the prefix, the same
 * values, and a num_batches_tracked per BN; loaded into the PyTorch reference model (strict)
 * it gives the features of the packed runtime on the same images. */
Test(infer, torch_export_matches_runtime_in_pytorch) {
    student s;
    student_make(&s, 0.09375, 32, 2, 1, 61);
    char *tpath = tu_tmp_path("torch.safetensors"), *feat_path = tu_tmp_path("torch.f32");
    cr_assert_eq(burn_export_torch(&s.net, &s.ps, "student.", tpath), 0, "%s", burn_error());
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, tpath), 0, "%s", burn_error());
    int nbn = 0;
    for (int i = 0; i < s.ps.n; i++) {
        const burn_param *p = &s.ps.p[i];
        const burn_st_tensor *t = burn_st_find(&f, p->name + 8);
        cr_assert_not_null(t, "missing %s", p->name + 8);
        cr_assert_eq(t->dtype, BURN_F32);
        cr_assert_eq(t->ndim, p->ndim);
        cr_assert_eq(memcmp(t->data, burn_param_data(&s.ps, i), (size_t)p->numel * 4), 0);
        if (ends_with(p->name, ".running_var")) nbn++;
    }
    cr_assert_eq(f.n, s.ps.n + nbn, "tensors: %d, expected %d + %d BN counters", f.n, s.ps.n,
                 nbn);
    const burn_st_tensor *nb = burn_st_find(&f, "blocks.0.bn1.num_batches_tracked");
    cr_assert(nb && nb->dtype == BURN_I64 && nb->ndim == 0);
    burn_st_close(&f);

    int N = 2, S = 32;
    char *ppath = export_tmp(&s, "torch-packed.safetensors", 0, NULL);
    burn_infer *m = burn_infer_load(ppath);
    cr_assert_not_null(m, "%s", burn_error());
    int F = burn_infer_feature_dim(m);
    float *x = malloc((size_t)N * 3 * S * S * sizeof *x), *got = malloc((size_t)N * F * 4);
    for (int i = 0; i < N * 3 * S * S; i++) x[i] = (float)((int64_t)i * 37 % 101 - 50) / 25.0f;
    cr_assert_eq(burn_infer_run(m, x, N, got), 0, "%s", burn_error());
    /* the detectron2 conversion keeps the backbone's tensors, drops fc by default */
    char cmd[1024], *pkl = tu_tmp_path("d2.pkl"), out[4096];
    snprintf(cmd, sizeof cmd,
             "python3 tools/export_detectron2.py %s %s --prefix backbone.bottom_up. 2>&1 && "
             "python3 -c \"import pickle; d = pickle.load(open('%s', 'rb')); m = d['model']; "
             "assert d['matching_heuristics'] and not any('fc.' in k for k in m); "
             "print(len(m), m['backbone.bottom_up.blocks.0.conv3x3.weight'].shape)\" 2>&1",
             tpath, pkl, pkl);
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 0, "%s", out);
    char want[64];
    snprintf(want, sizeof want, "%d (3, 3, 3, 3)", s.ps.n + nbn - 2);
    cr_assert(strstr(out, want), "expected '%s' in: %s", want, out);
    snprintf(cmd, sizeof cmd, "python3 tools/export_detectron2.py %s %s 2>&1", ppath, pkl);
    cr_assert_eq(run_cmd(cmd, out, sizeof out), 1, "%s", out); /* a packed file is refused */
    cr_assert(strstr(out, "burn-torch-1"), "%s", out);

    unlink(pkl);
    free(pkl);

    /* the checks above ran; the PyTorch comparison needs torch, which only the fixture tools
     * install (tools/reference/): without it this test reports itself skipped */
    if (system("python3 -c 'import torch' >/dev/null 2>&1") != 0)
        cr_skip_test("skipped: PyTorch not installed (pip install torch to run the comparison)");
    snprintf(cmd, sizeof cmd, "python3 tests/torch_export_check.py %s %d %s", tpath, N,
             feat_path);
    cr_assert_eq(system(cmd), 0, "%s failed (python3 + torch + safetensors: tools/install-deps.sh)",
                 cmd);
    size_t len;
    float *ref = read_all(feat_path, &len);
    cr_assert_eq(len, (size_t)N * F * 4);
    /* FP32 in another summation order: errors relative to the largest feature (a flipped
     * sign anywhere would move features by O(1) of it) */
    double big = 0, diff = 0;
    for (int i = 0; i < N * F; i++) {
        if (fabs(ref[i]) > big) big = fabs(ref[i]);
        if (!(fabs((double)got[i] - ref[i]) <= diff)) diff = fabs((double)got[i] - ref[i]);
    }
    cr_assert_gt(big, 0.0);
    cr_assert_leq(diff / big, 1e-5, "PyTorch reference vs packed runtime: max error %g of the "
                  "largest feature", diff / big);

    free(x);
    free(got);
    free(ref);
    burn_infer_free(m);
    unlink(ppath);
    unlink(tpath);
    unlink(feat_path);
    free(ppath);
    free(tpath);
    free(feat_path);
    student_free(&s);
}

/* ---- burn_gpu export on a trained checkpoint ---- */

/* A few stage-2 steps of the tiny config, exported through the command: the sizes are
 * printed, the file loads and runs; usage errors exit 2 (no format, both formats, a stage-1
 * config, a missing checkpoint); every reader names a model that is not the checkpoint's. */
Test(infer, export_command_on_trained_checkpoint) {
    char *dir = tu_tmp_path("export-run"), *out = tu_tmp_path("export.safetensors");
    char cmd[2048], log[8192];
    const char *cfg = "--config configs/tiny/burn.ini --set model.stage=2";
    snprintf(cmd, sizeof cmd, "%s train %s --set run.dir=%s --set train.epochs=1 2>&1", BURN_GPU,
             cfg, dir);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 0, "%s", log);
    snprintf(cmd, sizeof cmd, "%s export --packed %s --checkpoint %s --out %s 2>&1", BURN_GPU,
             cfg, dir, out);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 0, "%s", log);
    cr_assert(strstr(log, "binary part:") && strstr(log, "FP layers:"), "%s", log);
    burn_infer *m = burn_infer_load(out);
    cr_assert_not_null(m, "%s", burn_error());
    int F = burn_infer_feature_dim(m), S = burn_infer_image_size(m);
    float *x = malloc((size_t)3 * S * S * sizeof *x), *feat = malloc((size_t)F * sizeof *feat);
    tu_fill(x, 3 * S * S, 3, -2.0f, 2.0f);
    cr_assert_eq(burn_infer_run(m, x, 1, feat), 0, "%s", burn_error());
    double ss = 0;
    for (int i = 0; i < F; i++) ss += (double)feat[i] * feat[i];
    cr_assert(isfinite(ss) && ss > 0, "features of a trained model: norm² %g", ss);
    burn_infer_free(m);
    free(x);
    free(feat);

    snprintf(cmd, sizeof cmd, "%s export %s --checkpoint %s --out %s 2>&1", BURN_GPU, cfg, dir,
             out);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 2, "%s", log);
    snprintf(cmd, sizeof cmd, "%s export --packed --torch %s --checkpoint %s --out %s 2>&1",
             BURN_GPU, cfg, dir, out);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 2, "%s", log);
    snprintf(cmd, sizeof cmd,
             "%s export --packed --config configs/tiny/burn.ini --checkpoint %s --out %s 2>&1",
             BURN_GPU, dir, out);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 2, "%s", log);
    cr_assert(strstr(log, "model.stage"), "%s", log);
    snprintf(cmd, sizeof cmd, "%s export --packed %s --checkpoint %s/nothing --out %s 2>&1",
             BURN_GPU, cfg, dir, out);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 2, "%s", log); /* as eval and train */

    /* --out never replaces a training checkpoint: its own input here (issue 17 item 10) */
    char *latest = burn_ckpt_find_latest(dir, NULL);
    size_t n_before, n_after;
    unsigned char *before, *after;
    cr_assert_eq(burn_read_file(latest, 1 << 28, &before, &n_before), 0);
    snprintf(cmd, sizeof cmd, "%s export --packed %s --checkpoint %s --out %s 2>&1", BURN_GPU,
             cfg, dir, latest);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 2, "%s", log);
    cr_assert(strstr(log, "is a training checkpoint"), "%s", log);
    cr_assert_eq(burn_read_file(latest, 1 << 28, &after, &n_after), 0);
    cr_assert(n_before == n_after && memcmp(before, after, n_after) == 0, "the input changed");
    free(before), free(after), free(latest);

    /* the checkpoint carries its model: a stage-1 config on this stage-2 checkpoint is named,
     * for every reader (issue 17 item 6), instead of computing another network */
    const char *readers[] = {"eval knn", "export --torch --out /dev/null", "extract --backbone "
                             "student --split val --out /dev/null", "train --resume --set run.dir="};
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "%s %s%s --config configs/tiny/burn.ini %s%s 2>&1", BURN_GPU,
                 readers[i], i == 3 ? dir : "", i == 3 ? "" : "--checkpoint ", i == 3 ? "" : dir);
        int rc = run_cmd(cmd, log, sizeof log);
        cr_assert(rc != 0 && strstr(log, "was trained with model.stage = 2, the config says 1 "
                                         "(configs/tiny/burn.ini:"), "%s: rc %d: %s", cmd, rc, log);
    }
    /* and a stage-1 checkpoint is not binarised by an export that says stage 2 */
    char *dir1 = tu_tmp_path("export-run1");
    snprintf(cmd, sizeof cmd, "%s train --config configs/tiny/burn.ini --set run.dir=%s "
             "--set train.max_steps=2 2>&1", BURN_GPU, dir1);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 0, "%s", log);
    snprintf(cmd, sizeof cmd, "%s export --packed %s --checkpoint %s --out %s 2>&1", BURN_GPU,
             cfg, dir1, out);
    cr_assert_eq(run_cmd(cmd, log, sizeof log), 2, "%s", log);
    cr_assert(strstr(log, "model.stage = 1, the config says 2 (--set)"), "%s", log);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir1);
    cr_assert_eq(system(cmd), 0);
    free(dir1);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    unlink(out);
    free(dir);
    free(out);
}
