/* test_safetensors.c — safetensors round trips for every dtype, 15 kinds of malformed file
 * each rejected with its own message, non-finite values caught on load, and interoperability
 * with Python's `safetensors` package in both directions. */
#include <criterion/criterion.h>

#include "burn/check.h"
#include "burn/safetensors.h"
#include "test_util.h"

static char *path;
static void setup(void) { path = tu_tmp_path("t.safetensors"); }
static void teardown(void) {
    unlink(path);
    free(path);
}
TestSuite(safetensors, .init = setup, .fini = teardown);

Test(safetensors, round_trip_every_dtype) {
    uint64_t s = 5;
    unsigned char data[BURN_DTYPE_COUNT][6 * 8];
    int64_t shape[2] = {2, 3};
    burn_st_writer w;
    burn_st_writer_init(&w);
    for (int d = 0; d < BURN_DTYPE_COUNT; d++) {
        for (size_t i = 0; i < sizeof data[d]; i++) data[d][i] = (unsigned char)tu_next(&s);
        if (d == BURN_F32) /* keep float bits finite so read_f32 can be checked too */
            for (int i = 0; i < 6; i++) ((float *)data[d])[i] = tu_uniform(&s, -9, 9);
        burn_st_add(&w, burn_dtype_name(d), d, 2, shape, data[d]);
    }
    int64_t scalar_shape[1];
    float scalar = 2.5f;
    burn_st_add(&w, "scalar", BURN_F32, 0, scalar_shape, &scalar);
    burn_st_add_meta(&w, "stage", "2");
    cr_assert_eq(burn_st_save(&w, path), 0, "%s", burn_error());
    burn_st_writer_free(&w);

    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    cr_assert_eq(f.n, BURN_DTYPE_COUNT + 1);
    cr_assert_str_eq(burn_st_meta(&f, "stage"), "2");
    cr_assert_null(burn_st_meta(&f, "nope"));
    for (int d = 0; d < BURN_DTYPE_COUNT; d++) {
        const burn_st_tensor *t = burn_st_find(&f, burn_dtype_name(d));
        cr_assert_not_null(t);
        cr_assert_eq(t->dtype, d);
        cr_assert_eq(t->ndim, 2);
        cr_assert_eq(t->shape[0], 2);
        cr_assert_eq(t->shape[1], 3);
        cr_assert(memcmp(t->data, data[d], 6 * burn_dtype_size(d)) == 0, "%s differs",
                  burn_dtype_name(d));
    }
    float back[6];
    cr_assert_eq(burn_st_read_f32(&f, "F32", back, 6), 0, "%s", burn_error());
    cr_assert(memcmp(back, data[BURN_F32], 24) == 0);
    cr_assert_eq(burn_st_read_f32(&f, "scalar", back, 1), 0, "%s", burn_error());
    cr_assert_eq(back[0], 2.5f);
    cr_assert_neq(burn_st_read_f32(&f, "F32", back, 5), 0);
    cr_assert(strstr(burn_error(), "has 6 elements, expected 5"), "%s", burn_error());
    cr_assert_neq(burn_st_read_f32(&f, "I32", back, 6), 0);
    cr_assert(strstr(burn_error(), "expected a float dtype"), "%s", burn_error());
    cr_assert_neq(burn_st_read_f32(&f, "missing", back, 6), 0);
    cr_assert(strstr(burn_error(), "'missing' is missing"), "%s", burn_error());
    burn_st_close(&f);
}

Test(safetensors, half_conversions_are_exact_round_trips) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = burn_f16_to_f32((uint16_t)h);
        if (f != f) continue; /* NaN payloads need not survive */
        cr_assert_eq(burn_f32_to_f16(f), h, "f16 %04x -> %g", h, f);
        float g = burn_bf16_to_f32((uint16_t)h);
        if (g == g) cr_assert_eq(burn_f32_to_bf16(g), h, "bf16 %04x", h);
    }
    cr_assert_eq(burn_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie to even: down */
    cr_assert_eq(burn_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02); /* tie to even: up */
    cr_assert_eq(burn_f32_to_f16(70000.0f), 0x7c00);          /* overflow to inf */
    cr_assert_eq(burn_f32_to_f16(1e-8f), 0x0000);             /* underflow */
    cr_assert_eq(burn_f32_to_f16(6e-8f), 0x0001);             /* smallest subnormal */
}

/* Write a raw file: 8-byte header length (as given), header text, then data bytes. */
static void write_raw(uint64_t hlen, const char *header, const void *data, size_t nbytes) {
    FILE *f = fopen(path, "wb");
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(hlen >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    if (nbytes) fwrite(data, 1, nbytes, f);
    fclose(f);
}

static void expect_reject(const char *header, size_t nbytes, const char *needle) {
    static const unsigned char zeros[256];
    write_raw(strlen(header), header, zeros, nbytes);
    burn_st_file f;
    cr_assert_neq(burn_st_open(&f, path), 0, "accepted header %s", header);
    cr_assert(strncmp(burn_error(), path, strlen(path)) == 0, "message lacks the file: %s",
              burn_error());
    cr_assert(strstr(burn_error(), needle), "'%s' lacks '%s'", burn_error(), needle);
}

Test(safetensors, malformed_files_rejected_each_with_its_message) {
    /* truncated: shorter than the length field */
    FILE *fp = fopen(path, "wb");
    fwrite("\x10\x00\x00", 1, 3, fp);
    fclose(fp);
    burn_st_file f;
    cr_assert_neq(burn_st_open(&f, path), 0);
    cr_assert(strstr(burn_error(), "truncated"), "%s", burn_error());
    /* header length past the end of the file */
    write_raw(1000, "{}", NULL, 0);
    cr_assert_neq(burn_st_open(&f, path), 0);
    cr_assert(strstr(burn_error(), "runs past the end of the file"), "%s", burn_error());

    expect_reject("{\"a\": {\"dtype\": \"F32\", ", 0, "not valid JSON");
    expect_reject("[1, 2]", 0, "not a JSON object");
    expect_reject("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "unknown dtype 'F128'");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12,
                  "need 16 bytes but data_offsets span 12");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
                  "run past the data section");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                  "dimension 0 is not an integer in [0, 2^53]");
    expect_reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                  "\"data_offsets\":[0,4]}}", 4, "shape overflows");
    expect_reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                  "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, "appears twice");
    expect_reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]}}", 5, "hole");
    expect_reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 9,
                  "8 bytes after the last tensor");
    expect_reject("{\"__metadata__\":{\"k\":3}}", 0, "__metadata__ values must be strings");
    expect_reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]}}", 1,
                  "end before they begin");
    expect_reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, "data_offsets must be [begin, end]");
    expect_reject("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "missing or non-string dtype");
    expect_reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
                  1, "more than the supported 8");
    /* a directory is not a checkpoint */
    cr_assert_neq(burn_st_open(&f, "/tmp"), 0);
    cr_assert(strstr(burn_error(), "not a regular file"), "%s", burn_error());
    cr_assert_neq(burn_st_open(&f, "/nonexistent.safetensors"), 0);
    cr_assert(strstr(burn_error(), "cannot open"), "%s", burn_error());
}

Test(safetensors, non_finite_values_are_refused_on_load) {
    float v[3] = {1.0f, NAN, 2.0f};
    int64_t shape[1] = {3};
    burn_st_writer w;
    burn_st_writer_init(&w);
    burn_st_add(&w, "weights", BURN_F32, 1, shape, v);
    cr_assert_eq(burn_st_save(&w, path), 0);
    burn_st_writer_free(&w);
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0);
    float out[3];
    cr_assert_neq(burn_st_read_f32(&f, "weights", out, 3), 0);
    cr_assert(strstr(burn_error(), "'weights' holds a non-finite value at element 1"), "%s",
              burn_error());
    burn_st_close(&f);
}

Test(safetensors, save_into_missing_directory_fails_cleanly) {
    burn_st_writer w;
    burn_st_writer_init(&w);
    cr_assert_neq(burn_st_save(&w, "/nonexistent-dir/x.safetensors"), 0);
    cr_assert(strstr(burn_error(), "/nonexistent-dir/x.safetensors"), "%s", burn_error());
    burn_st_writer_free(&w);
}

Test(safetensors, python_package_reads_burn_files) {
    float wv[6] = {0, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f};
    int64_t iv[4] = {0, 1000000000000LL, 2000000000000LL, 3000000000000LL};
    unsigned char uv[3] = {1, 2, 250};
    uint16_t hv[3] = {burn_f32_to_f16(1.0f), burn_f32_to_f16(-0.5f), burn_f32_to_f16(2048.0f)};
    int64_t s23[2] = {2, 3}, s4[1] = {4}, s3[1] = {3}, s05[2] = {0, 5};
    burn_st_writer w;
    burn_st_writer_init(&w);
    burn_st_add(&w, "w", BURN_F32, 2, s23, wv);
    burn_st_add(&w, "i", BURN_I64, 1, s4, iv);
    burn_st_add(&w, "u", BURN_U8, 1, s3, uv);
    burn_st_add(&w, "h", BURN_F16, 1, s3, hv);
    burn_st_add(&w, "empty", BURN_F32, 2, s05, NULL);
    burn_st_add_meta(&w, "who", "burn");
    burn_st_add_meta(&w, "step", "12");
    cr_assert_eq(burn_st_save(&w, path), 0, "%s", burn_error());
    burn_st_writer_free(&w);
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "python3 tests/st_interop.py check %s", path) > 0);
    cr_assert_eq(system(cmd), 0, "the safetensors package rejected burn's file (see output)");
    free(cmd);
}

Test(safetensors, burn_reads_python_package_files) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "python3 tests/st_interop.py write %s", path) > 0);
    cr_assert_eq(system(cmd), 0, "python3 + safetensors missing? run tools/install-deps.sh");
    free(cmd);
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    cr_assert_str_eq(burn_st_meta(&f, "who"), "python");
    float a[12], h[5], h_ref[5];
    cr_assert_eq(burn_st_read_f32(&f, "a", a, 12), 0, "%s", burn_error());
    for (int i = 0; i < 12; i++) cr_assert_eq(a[i], i * 0.5f - 1.0f);
    cr_assert_eq(burn_st_read_f32(&f, "h", h, 5), 0, "%s", burn_error());
    cr_assert_eq(burn_st_read_f32(&f, "h_as_f32", h_ref, 5), 0, "%s", burn_error());
    for (int i = 0; i < 5; i++) cr_assert_eq(h[i], h_ref[i], "half %d: %g vs numpy %g", i, h[i], h_ref[i]);
    const burn_st_tensor *t = burn_st_find(&f, "l");
    cr_assert_eq(t->dtype, BURN_I64);
    int64_t l[2];
    memcpy(l, t->data, 16);
    cr_assert_eq(l[0], -(1LL << 40));
    t = burn_st_find(&f, "i");
    cr_assert_eq(t->dtype, BURN_I32);
    t = burn_st_find(&f, "u");
    cr_assert_eq(t->dtype, BURN_U8);
    cr_assert_eq(((const unsigned char *)t->data)[1], 200);
    burn_st_close(&f);
}
