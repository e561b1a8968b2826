/* test_precision.c — mixed precision (include/burn/precision.h) on the CPU backend:
 * - BF16/FP16 rounding against independent references (the compiler's _Float16 conversion;
 *   a double-precision nearest-even computation for BF16), over every magnitude range;
 * - be->gemm and conv2d under BF16/FP16 compute = FP32 compute on pre-rounded operands,
 *   bit for bit; the binary convolution is unaffected; FP16 overflow gives Inf;
 * - the loss scaler's rule (halve + count on overflow, double after the growth interval);
 * - training on configs/tiny: FP16 with an absurd initial scale skips and recovers, resume
 *   restores the scaler bit for bit, BF16 trains, a forward overflow stops the run. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "burn/backend.h"
#include "burn/bconv.h"
#include "burn/check.h"
#include "burn/config.h"
#include "burn/layers.h"
#include "burn/log.h"
#include "burn/precision.h"
#include "burn/safetensors.h"
#include "burn/train.h"
#include "test_ckpt_util.h"
#include "test_util.h"

/* A float spread over magnitudes 2^-30 .. 2^20 with random sign and significand. */
static float any_magnitude(uint64_t *s) {
    float f = tu_uniform(s, 1.0f, 2.0f) * ldexpf(1.0f, tu_int(s, -30, 20));
    return tu_int(s, 0, 1) ? -f : f;
}

static uint32_t bits(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

Test(precision, fp16_rounding_matches_the_compiler) {
    uint64_t s = 11;
    static const float edge[] = {0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f, -65520.0f, 1e30f,
                                 5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, 8.940697e-08f,
                                 6.1035156e-05f, 6.1028e-05f, 1.0f + 1.0f / 2048, 3.0f / 2048};
    for (int i = 0; i < 2000000 + (int)(sizeof edge / sizeof edge[0]); i++) {
        float x = i < (int)(sizeof edge / sizeof edge[0]) ? edge[i] : any_magnitude(&s);
        float want = (float)(_Float16)x, got = burn_round_fp16(x);
        cr_assert_eq(bits(got), bits(want), "fp16(%a): %a, the compiler says %a", x, got, want);
    }
    cr_assert(isinf(burn_round_fp16(INFINITY)) && isnan(burn_round_fp16(NAN)));
}

/* BF16 by definition: the nearest multiple of the quantum 2^(e-7), ties to even (double). */
static float bf16_reference(float x) {
    if (x == 0 || !isfinite(x)) return x;
    int e;
    frexp(fabs((double)x), &e); /* |x| in [2^(e-1), 2^e) */
    if (e - 1 < -126) e = -125;  /* subnormals: the quantum of the smallest binade */
    double q = ldexp(1.0, e - 1 - 7), k = fabs((double)x) / q, r = floor(k);
    if (k - r > 0.5 || (k - r == 0.5 && fmod(r, 2.0) != 0)) r += 1;
    double v = r * q;
    if (v >= ldexp(1.0, 128)) v = INFINITY;
    return (float)(x < 0 ? -v : v);
}

Test(precision, bf16_rounding_matches_the_definition) {
    uint64_t s = 12;
    static const float edge[] = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, 3.4028235e38f, -1e-40f,
                                 1.17549435e-38f, 1.00390625f, 1.01171875f};
    for (int i = 0; i < 1000000 + (int)(sizeof edge / sizeof edge[0]); i++) {
        float x = i < (int)(sizeof edge / sizeof edge[0]) ? edge[i]
                  : i % 7 == 0 ? tu_uniform(&s, -1, 1) * 1e-39f /* subnormals */
                               : any_magnitude(&s);
        float want = bf16_reference(x), got = burn_round_bf16(x);
        cr_assert_eq(bits(got), bits(want), "bf16(%a): %a, expected %a", x, got, want);
    }
    cr_assert(isinf(burn_round_bf16(3.4e38f * 1.0f + 3.0e36f)));
}

static void round_all(float *dst, const float *src, int64_t n, int precision) {
    for (int64_t i = 0; i < n; i++) dst[i] = burn_round_to_precision(src[i], precision);
}

Test(precision, gemm_rounds_its_operands_only) {
    const burn_backend *be = burn_cpu_backend();
    uint64_t s = 13;
    for (int prec = BURN_COMPUTE_BF16; prec <= BURN_COMPUTE_FP16; prec++)
        for (int trial = 0; trial < 12; trial++) {
            int M = tu_int(&s, 1, 37), N = tu_int(&s, 1, 29), K = tu_int(&s, 1, 45);
            int ta = trial & 1, tb = (trial >> 1) & 1, pad = tu_int(&s, 0, 3);
            int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
            int64_t na = (int64_t)(ta ? K : M) * lda, nb = (int64_t)(tb ? N : K) * ldb;
            float *A = malloc(na * 4), *B = malloc(nb * 4), *Ar = malloc(na * 4),
                  *Br = malloc(nb * 4), *C = malloc((int64_t)M * ldc * 4),
                  *Cref = malloc((int64_t)M * ldc * 4), *C32 = malloc((int64_t)M * ldc * 4);
            tu_fill(A, na, 100 + trial, -3, 3);
            tu_fill(B, nb, 200 + trial, -3, 3);
            tu_fill(C, (int64_t)M * ldc, 300 + trial, -1, 1);
            memcpy(Cref, C, (int64_t)M * ldc * 4);
            memcpy(C32, C, (int64_t)M * ldc * 4);
            round_all(Ar, A, na, prec);
            round_all(Br, B, nb, prec);
            be->gemm(ta, tb, M, N, K, 0.75f, Ar, lda, Br, ldb, 0.5f, Cref, ldc); /* FP32 */
            be->gemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, 0.5f, C32, ldc);
            be->set_compute_precision(prec);
            be->gemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, 0.5f, C, ldc);
            be->set_compute_precision(BURN_COMPUTE_FP32);
            cr_assert(memcmp(C, Cref, (int64_t)M * ldc * 4) == 0,
                      "%s gemm %dx%dx%d ta %d tb %d differs from FP32 on rounded operands",
                      burn_precision_name(prec), M, N, K, ta, tb);
            if ((int64_t)M * N * K > 64) /* and the rounding really happened */
                cr_assert(memcmp(C, C32, (int64_t)M * ldc * 4) != 0, "no rounding under %s",
                          burn_precision_name(prec));
            free(A), free(B), free(Ar), free(Br), free(C), free(Cref), free(C32);
        }
    /* FP16: an operand beyond 65504 is Inf */
    float a[2] = {70000.0f, 1.0f}, b[2] = {1.0f, 1.0f}, c = 0;
    be->set_compute_precision(BURN_COMPUTE_FP16);
    be->gemm(0, 1, 1, 1, 2, 1.0f, a, 2, b, 2, 0.0f, &c, 1);
    be->set_compute_precision(BURN_COMPUTE_FP32);
    cr_assert(isinf(c), "70000 in FP16 must overflow, got %g", c);
    be->set_compute_precision(BURN_COMPUTE_BF16);
    be->gemm(0, 1, 1, 1, 2, 1.0f, a, 2, b, 2, 0.0f, &c, 1);
    be->set_compute_precision(BURN_COMPUTE_FP32);
    cr_assert(isfinite(c) && fabsf(c - 70001.0f) < 300, "bf16 keeps the range, got %g", c);
}

Test(precision, conv2d_rounds_its_operands_bconv_does_not) {
    const burn_backend *be = burn_cpu_backend();
    static const int geo[][9] = {{2, 5, 9, 11, 7, 3, 3, 1, 1}, {3, 4, 8, 8, 6, 1, 1, 1, 0},
                                 {2, 3, 10, 9, 4, 3, 3, 2, 1}};
    for (int prec = BURN_COMPUTE_BF16; prec <= BURN_COMPUTE_FP16; prec++)
        for (int k = 0; k < 3; k++) {
            const int *q = geo[k];
            burn_conv2d cv;
            cr_assert_eq(burn_conv2d_init(&cv, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8]),
                         0, "%s", burn_error());
            int64_t nx = (int64_t)cv.N * cv.C * cv.H * cv.W, nw = (int64_t)cv.O * cv.C * cv.kh * cv.kw,
                    ny = (int64_t)cv.N * cv.O * cv.Ho * cv.Wo;
            float *x = malloc(nx * 4), *w = malloc(nw * 4), *dy = malloc(ny * 4);
            float *xr = malloc(nx * 4), *wr = malloc(nw * 4), *dyr = malloc(ny * 4);
            float *y = malloc(ny * 4), *yr = malloc(ny * 4), *dx = malloc(nx * 4),
                  *dxr = malloc(nx * 4), *dw = calloc(nw, 4), *dwr = calloc(nw, 4);
            tu_fill(x, nx, 1 + k, -2, 2), tu_fill(w, nw, 2 + k, -1, 1), tu_fill(dy, ny, 3 + k, -1, 1);
            round_all(xr, x, nx, prec), round_all(wr, w, nw, prec), round_all(dyr, dy, ny, prec);
            be->conv2d_forward(&cv, yr, xr, wr);
            be->conv2d_backward_data(&cv, dxr, dyr, wr);
            be->conv2d_backward_filter(&cv, dwr, dyr, xr);
            be->set_compute_precision(prec);
            be->conv2d_forward(&cv, y, x, w);
            be->conv2d_backward_data(&cv, dx, dy, w);
            be->conv2d_backward_filter(&cv, dw, dy, x);
            be->set_compute_precision(BURN_COMPUTE_FP32);
            cr_assert(memcmp(y, yr, ny * 4) == 0, "forward %d", k);
            cr_assert(memcmp(dx, dxr, nx * 4) == 0, "backward data %d", k);
            cr_assert(memcmp(dw, dwr, nw * 4) == 0, "backward filter %d", k);
            free(x), free(w), free(dy), free(xr), free(wr), free(dyr);
            free(y), free(yr), free(dx), free(dxr), free(dw), free(dwr);
        }
    /* the binary conv's real-weight GEMM (stage 1) stays FP32 */
    burn_bconv bc;
    cr_assert_eq(burn_bconv_init(&bc, 2, 8, 6, 6, 5, 3, 1, 1), 0, "%s", burn_error());
    int64_t nx = 2 * 8 * 36, nw = 5 * 8 * 9, ny = 2 * 5 * bc.Ho * bc.Wo;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *y1 = malloc(ny * 4), *y2 = malloc(ny * 4);
    tu_fill(x, nx, 7, -1, 1), tu_fill(w, nw, 8, -1, 1);
    void *ws = malloc(be->bconv_workspace_bytes(&bc));
    be->bconv_forward_real(&bc, y1, x, w, ws);
    be->set_compute_precision(BURN_COMPUTE_FP16);
    be->bconv_forward_real(&bc, y2, x, w, ws);
    be->set_compute_precision(BURN_COMPUTE_FP32);
    cr_assert(memcmp(y1, y2, ny * 4) == 0, "the binary conv must not depend on the precision");
    free(x), free(w), free(y1), free(y2), free(ws);
}

Test(precision, loss_scaler_rule) {
    burn_loss_scaler s;
    burn_loss_scaler_init(&s, BURN_COMPUTE_BF16, 1024, 3);
    cr_assert(!s.enabled && s.scale == 1.0);
    burn_loss_scaler_init(&s, BURN_COMPUTE_FP16, 1024, 3);
    cr_assert(s.enabled && s.scale == 1024);
    cr_assert_eq(burn_loss_scaler_update(&s, 1), 1);
    cr_assert_eq(burn_loss_scaler_update(&s, 0), 0); /* overflow: halve, reset the streak */
    cr_assert(s.scale == 512 && s.skipped == 1 && s.good == 0);
    for (int i = 0; i < 2; i++) burn_loss_scaler_update(&s, 1);
    cr_assert(s.scale == 512, "grows only after 3 in a row");
    burn_loss_scaler_update(&s, 1);
    cr_assert(s.scale == 1024 && s.good == 0 && s.skipped == 1);
    cr_assert_eq(burn_precision_parse("fp16"), BURN_COMPUTE_FP16);
    cr_assert_eq(burn_precision_parse("half"), -1);
    cr_assert(strstr(burn_error(), "fp32, bf16 or fp16"));
}

/* ---- training ---- */
static void tiny(burn_config *c, const char *dir, const char *precision) {
    burn_config_defaults(c);
    cr_assert_eq(burn_config_load(c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    char kv[512];
    snprintf(kv, sizeof kv, "run.dir=%s", dir);
    cr_assert_eq(burn_config_set(c, kv), 0);
    snprintf(kv, sizeof kv, "train.precision=%s", precision);
    cr_assert_eq(burn_config_set(c, kv), 0);
    burn_config_set(c, "log.quiet=true");
    burn_log_quiet = 1;
}

static void set(burn_config *c, const char *kv) {
    cr_assert_eq(burn_config_set(c, kv), 0, "%s: %s", kv, burn_error());
}

static char *fresh_dir(const char *tag) {
    char *d = tu_tmp_path(tag), *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s", d) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    return d;
}

/* The last metrics record's number under key. */
static double last_metric(const char *dir, const char *key) {
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/metrics.jsonl", dir) > 0);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[4096], last[4096] = "";
    while (fgets(line, sizeof line, f)) strcpy(last, line);
    fclose(f);
    free(path);
    cJSON *j = cJSON_Parse(last);
    cr_assert_not_null(j);
    cJSON *v = cJSON_GetObjectItem(j, key);
    cr_assert(cJSON_IsNumber(v), "no number '%s' in %s", key, last);
    double x = v->valuedouble;
    cJSON_Delete(j);
    return x;
}

/* Asserts every float of checkpoint a is finite. */
static void assert_finite(const char *a) {
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, a), 0, "%s", burn_error());
    for (int i = 0; i < f.n; i++)
        if (f.tensors[i].dtype == BURN_F32) {
            const float *d = (const float *)f.tensors[i].data;
            for (int64_t k = 0; k < (int64_t)(f.tensors[i].end - f.tensors[i].begin) / 4; k++)
                cr_assert(isfinite(d[k]), "%s: %s non-finite", a, f.tensors[i].name);
        }
    burn_st_close(&f);
}

/* 1 when checkpoints a and b are equal tensor for tensor; a's values must be finite. */
static int ckpts_equal(const char *a, const char *b) {
    char diff[256];
    assert_finite(a);
    return tu_ckpt_diff(a, b, diff, sizeof diff) == NULL;
}

Test(precision, fp16_overflow_skips_lowers_the_scale_and_resumes_exactly, .timeout = 180) {
    char *da = fresh_dir("prec-a"), *db = fresh_dir("prec-b"), *d32 = fresh_dir("prec-32");
    burn_config a, b, c32;
    tiny(&a, da, "fp16");
    tiny(&b, db, "fp16");
    tiny(&c32, d32, "fp32");
    set(&a, "train.loss_scale=1e9"); /* far too large: the first updates overflow */
    set(&b, "train.loss_scale=1e9");
    set(&a, "train.loss_scale_growth_interval=6");
    set(&b, "train.loss_scale_growth_interval=6");
    burn_train_result ra, rb, r32;
    cr_assert_eq(burn_train(&a, burn_cpu_backend(), 0, &ra), 0);
    double skipped = last_metric(da, "skipped"), scale = last_metric(da, "loss_scale");
    cr_assert_geq(skipped, 5, "1e9 overflows FP16 for several updates, %g skipped", skipped);
    cr_assert_lt(skipped, 32, "but training resumes, %g of 32 skipped", skipped);
    cr_assert_lt(scale, 1e9, "the scale came down: %g", scale);
    cr_assert(isfinite(ra.last_loss));
    /* interrupted after 13 updates (mid-overflow or after) and resumed: bit-identical */
    set(&b, "train.max_steps=13");
    cr_assert_eq(burn_train(&b, burn_cpu_backend(), 0, &rb), 0);
    free(rb.final_checkpoint);
    set(&b, "train.max_steps=0");
    cr_assert_eq(burn_train(&b, burn_cpu_backend(), 1, &rb), 0);
    cr_assert(ckpts_equal(ra.final_checkpoint, rb.final_checkpoint),
              "an FP16 run resumed differs from the uninterrupted one");
    cr_assert_eq(last_metric(db, "skipped"), skipped);
    /* and FP16 is not FP32 */
    cr_assert_eq(burn_train(&c32, burn_cpu_backend(), 0, &r32), 0);
    cr_assert(!ckpts_equal(ra.final_checkpoint, r32.final_checkpoint));
    free(ra.final_checkpoint), free(rb.final_checkpoint), free(r32.final_checkpoint);
    free(da), free(db), free(d32);
    burn_config_free(&a), burn_config_free(&b), burn_config_free(&c32);
}

Test(precision, bf16_trains_and_differs_from_fp32, .timeout = 120) {
    char *d = fresh_dir("prec-bf16");
    burn_config c;
    tiny(&c, d, "bf16");
    set(&c, "train.max_steps=16");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 0);
    cr_assert(isfinite(r.first_loss) && isfinite(r.last_loss));
    cr_assert_lt(r.last_loss, r.first_loss, "loss %g -> %g", r.first_loss, r.last_loss);
    free(r.final_checkpoint), free(d);
    burn_config_free(&c);
}

Test(precision, fp16_forward_overflow_stops_with_a_clear_error, .timeout = 120) {
    char *d = fresh_dir("prec-ovf");
    burn_config c;
    tiny(&c, d, "fp16");
    /* inputs normalised by std 1e-6 reach ~5e5: beyond FP16 at the first convolution,
     * whatever the loss scale */
    set(&c, "augment.std_r=0.000001");
    set(&c, "augment.std_g=0.000001");
    set(&c, "augment.std_b=0.000001");
    set(&c, "train.loss_scale=1");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 1, "stops as a runtime error");
    if (r.final_checkpoint) /* a checkpoint of the skipped updates: intact and finite */
        assert_finite(r.final_checkpoint);
    free(r.final_checkpoint);
    free(d);
    burn_config_free(&c);
}
