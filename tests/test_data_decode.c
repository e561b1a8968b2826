/* test_data_decode.c — decoding (PNG: stb_image, JPEG: libjpeg-turbo): gray and alpha to
 * RGB, CMYK JPEGs, the size and pixel limits (refused from the header, before decoding: a
 * decompression bomb costs nothing), and every kind of bad file giving a clear error —
 * truncated scans, impossible sizes, bad CRCs included. Files under /tmp. */
#include <criterion/criterion.h>
#include <stdio.h>

#include <jpeglib.h>

#include "burn/data.h"
#include "burn/log.h"
#include "test_data_util.h"

static const burn_image_limits LIM = {1 << 20, 1 << 20, NULL};

Test(decode, png_channels_to_rgb) {
    char *dir = td_tmpdir("dec_png");
    int w = 7, h = 5;
    for (int ch = 1; ch <= 4; ch++) {
        uint8_t *px = td_random_pixels(w, h, ch, 10 + ch);
        char name[32];
        snprintf(name, sizeof name, "c%d.png", ch);
        char *path = td_path(dir, name);
        cr_assert_eq(burn_image_write_png(path, px, w, h, ch), 0, "%s", burn_error());
        burn_image img = {0};
        cr_assert_eq(burn_image_load_file(path, &LIM, &img), 0, "%s", burn_error());
        cr_assert(img.w == w && img.h == h);
        for (int p = 0; p < w * h; p++)
            for (int c = 0; c < 3; c++) {
                /* gray (1, 2 channels) replicated; alpha (2, 4) dropped */
                uint8_t want = ch <= 2 ? px[p * ch] : px[p * ch + c];
                cr_assert_eq(img.rgb[3 * p + c], want, "%d channels, pixel %d", ch, p);
            }
        burn_image_free(&img);
        free(px);
        free(path);
    }
    td_rm_rf(dir);
    free(dir);
}

Test(decode, jpeg_decodes_close_to_the_source) {
    char *dir = td_tmpdir("dec_jpg");
    int w = 48, h = 40;
    uint8_t *px = malloc((size_t)w * h * 3);
    burn_synthetic_render(5, 2, 10, w, h, px); /* smooth content: JPEG is accurate on it */
    char *path = td_path(dir, "a.jpg");
    cr_assert_eq(burn_image_write_jpeg(path, px, w, h, 95), 0);
    burn_image img = {0};
    cr_assert_eq(burn_image_load_file(path, &LIM, &img), 0, "%s", burn_error());
    cr_assert(img.w == w && img.h == h);
    double err = 0;
    for (int i = 0; i < w * h * 3; i++) err += abs((int)img.rgb[i] - px[i]);
    err /= w * h * 3;
    cr_assert_leq(err, 6.0, "mean abs error %.2f", err);
    burn_image_free(&img);
    free(px);
    free(path);
    td_rm_rf(dir);
    free(dir);
}

Test(decode, limits_on_bytes_and_pixels) {
    char *dir = td_tmpdir("dec_lim");
    td_png(dir, "a.png", 40, 30, 1);
    char *path = td_path(dir, "a.png");
    size_t n;
    uint8_t *bytes = td_read_bytes(path, &n);
    burn_image img = {0};
    burn_image_limits small_file = {(int64_t)n - 1, 1 << 20, NULL};
    cr_assert_eq(burn_image_load_file(path, &small_file, &img), -1);
    cr_assert(strstr(burn_error(), "data.max_image_bytes"), "%s", burn_error());
    cr_assert_eq(burn_image_decode(bytes, n, &small_file, "mem", &img), -1);
    burn_image_limits few_pixels = {1 << 20, 40 * 30 - 1, NULL};
    cr_assert_eq(burn_image_load_file(path, &few_pixels, &img), -1);
    cr_assert(strstr(burn_error(), "40 x 30 = 1200 pixels") &&
                  strstr(burn_error(), "data.max_image_pixels"), "%s", burn_error());
    burn_image_limits exact = {(int64_t)n, 40 * 30, NULL};
    cr_assert_eq(burn_image_load_file(path, &exact, &img), 0, "%s", burn_error());
    burn_image_free(&img);
    free(bytes);
    free(path);
    td_rm_rf(dir);
    free(dir);
}

/* A real 4x4 PNG whose IHDR is rewritten to claim 15000 x 15000 RGB (675 MB decoded), CRC
 * fixed: a few hundred bytes. The limit must refuse it from the header alone. */
Test(decode, decompression_bomb_refused_from_header) {
    char *dir = td_tmpdir("dec_bomb");
    td_png(dir, "small.png", 4, 4, 1);
    char *path = td_path(dir, "small.png");
    size_t n;
    uint8_t *png = td_read_bytes(path, &n);
    cr_assert_eq(memcmp(png + 12, "IHDR", 4), 0);
    put_be32(png + 16, 15000);
    put_be32(png + 20, 15000);
    put_be32(png + 29, crc32_png(png + 12, 17));
    burn_image img = {0};
    double t0 = burn_now();
    cr_assert_eq(burn_image_decode(png, n, &LIM, "bomb.png", &img), -1);
    cr_assert(strstr(burn_error(), "15000 x 15000") && strstr(burn_error(), "max_image_pixels"),
              "%s", burn_error());
    cr_assert_lt(burn_now() - t0, 0.05, "the header check must not decode");
    cr_assert_null(img.rgb, "nothing may be allocated for a refused image");
    free(png);
    free(path);
    td_rm_rf(dir);
    free(dir);
}

Test(decode, bad_files_give_clear_errors) {
    char *dir = td_tmpdir("dec_bad");
    burn_image img = {0};
    /* zero bytes */
    char *empty = td_path(dir, "empty.png");
    td_write_bytes(empty, "", 0);
    cr_assert_eq(burn_image_load_file(empty, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "empty.png") && strstr(burn_error(), "empty file"), "%s",
              burn_error());
    /* not an image */
    td_text(dir, "text.jpg", "hello, I am not a JPEG\n");
    char *text = td_path(dir, "text.jpg");
    cr_assert_eq(burn_image_load_file(text, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "not a JPEG or PNG"), "%s", burn_error());
    /* truncated PNG: header fine, pixel data cut */
    td_png(dir, "full.png", 32, 32, 3);
    char *full = td_path(dir, "full.png"), *cut = td_path(dir, "cut.png");
    size_t n;
    uint8_t *bytes = td_read_bytes(full, &n);
    td_write_bytes(cut, bytes, n / 2);
    cr_assert_eq(burn_image_load_file(cut, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "cut.png") && strstr(burn_error(), "corrupt PNG"), "%s",
              burn_error());
    /* PNG signature followed by garbage */
    memset(bytes + 8, 0x5a, n - 8);
    td_write_bytes(cut, bytes, n);
    cr_assert_eq(burn_image_load_file(cut, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "corrupt PNG"), "%s", burn_error());
    /* JPEG signature, then nothing useful */
    td_write_bytes(cut, "\xff\xd8\xff\xe0\x00\x10JFIF", 10);
    cr_assert_eq(burn_image_load_file(cut, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "corrupt JPEG"), "%s", burn_error());
    /* missing file, folder */
    char *missing = td_path(dir, "missing.png");
    cr_assert_eq(burn_image_load_file(missing, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "cannot open"), "%s", burn_error());
    char *inside = td_path(dir, "folder.png/x"), *folder = NULL; /* makes folder.png/ */
    cr_assert(asprintf(&folder, "%s/folder.png", dir) > 0);
    free(inside);
    cr_assert_eq(burn_image_load_file(folder, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "not a regular file"), "%s", burn_error());
    burn_image_free(&img);
    free(empty), free(text), free(full), free(cut), free(bytes), free(missing), free(folder);
    td_rm_rf(dir);
    free(dir);
}

/* A w x h JPEG of one CMYK colour, written by libjpeg itself (Adobe marker, YCCK inside, the
 * inverted CMYK convention: 255 = no ink). */
static void write_cmyk_jpeg(const char *path, int w, int h, const uint8_t cmyk[4]) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 4;
    c.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * 4);
    for (int x = 0; x < w; x++) memcpy(row + 4 * x, cmyk, 4);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(row);
}

Test(decode, cmyk_jpeg_to_rgb) {
    char *dir = td_tmpdir("dec_cmyk"), *path = td_path(dir, "cmyk.jpg");
    const uint8_t cmyk[4] = {200, 120, 40, 180}; /* inverted: R = C·K/255 ... */
    write_cmyk_jpeg(path, 16, 16, cmyk);
    burn_image img = {0};
    cr_assert_eq(burn_image_load_file(path, &LIM, &img), 0, "%s", burn_error());
    cr_assert(img.w == 16 && img.h == 16);
    for (int c = 0; c < 3; c++) {
        int want = (cmyk[c] * cmyk[3] + 127) / 255;
        cr_assert_leq(abs((int)img.rgb[3 * 40 + c] - want), 4, "channel %d: %d, want %d", c,
                      img.rgb[3 * 40 + c], want);
    }
    burn_image_free(&img);
    td_rm_rf(dir);
    free(path), free(dir);
}

/* What stb_image decoded without a word (issue 17 item 13): each is a corrupt image now. */
Test(decode, truncated_scans_impossible_sizes_and_bad_crcs_are_corrupt) {
    char *dir = td_tmpdir("dec_bad");
    burn_image img = {0};
    /* a JPEG cut mid-scan with its EOI marker put back */
    td_jpeg(dir, "cut.jpg", 64, 64, 3);
    char *path = td_path(dir, "cut.jpg");
    size_t n;
    uint8_t *jpg = td_read_bytes(path, &n);
    size_t keep = n * 2 / 3;
    jpg[keep] = 0xff, jpg[keep + 1] = 0xd9;
    td_write_bytes(path, jpg, keep + 2);
    cr_assert_eq(burn_image_load_file(path, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "cut.jpg: corrupt JPEG data"), "%s", burn_error());
    free(jpg), free(path);
    /* a small JPEG whose frame header claims 9000 x 9000 (under the pixel limit here) */
    td_jpeg(dir, "big.jpg", 16, 16, 4);
    path = td_path(dir, "big.jpg");
    jpg = td_read_bytes(path, &n);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < n && !sof; i++)
        if (jpg[i] == 0xff && (jpg[i + 1] == 0xc0 || jpg[i + 1] == 0xc2)) sof = i;
    cr_assert(sof, "no SOF marker");
    jpg[sof + 5] = 9000 >> 8, jpg[sof + 6] = 9000 & 255; /* height */
    jpg[sof + 7] = 9000 >> 8, jpg[sof + 8] = 9000 & 255; /* width */
    td_write_bytes(path, jpg, n);
    const burn_image_limits roomy = {1 << 20, (int64_t)1 << 28, NULL};
    cr_assert_eq(burn_image_load_file(path, &roomy, &img), -1);
    cr_assert(strstr(burn_error(), "9000 x 9000 pixels cannot come from"), "%s", burn_error());
    free(jpg), free(path);
    /* a PNG with one bit of its pixel data flipped (the CRC no longer matches) */
    td_png(dir, "crc.png", 12, 12, 5);
    path = td_path(dir, "crc.png");
    uint8_t *png = td_read_bytes(path, &n);
    size_t idat = 0;
    for (size_t i = 8; i + 8 < n && !idat; i++)
        if (memcmp(png + i, "IDAT", 4) == 0) idat = i;
    cr_assert(idat);
    png[idat + 6] ^= 1;
    td_write_bytes(path, png, n);
    cr_assert_eq(burn_image_load_file(path, &LIM, &img), -1);
    cr_assert(strstr(burn_error(), "chunk IDAT") && strstr(burn_error(), "CRC mismatch"), "%s",
              burn_error());
    free(png), free(path);
    td_rm_rf(dir);
    free(dir);
}
