/* decode_jpeg.c — JPEG files to RGB with libjpeg-turbo: gray replicated, CMYK/YCCK (about
 * two dozen ImageNet files) converted as stb_image did, size checked from the header before
 * any pixel is allocated. Whatever libjpeg only warns about — data that ends mid-scan (a
 * truncated file, even with its EOI marker put back), a corrupt segment — makes the image
 * corrupt: the loader skips and counts it instead of training on grey filler. */
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which needs size_t and FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "burn/check.h"
#include "data_internal.h"

/* libjpeg's error manager, made to jump back instead of exit()ing, and to keep the first
 * warning's text. */
typedef struct jpeg_guard {
    struct jpeg_error_mgr mgr;
    jmp_buf env;
    int warnings;
    char msg[JMSG_LENGTH_MAX];
} jpeg_guard;

static void on_error(j_common_ptr c) {
    jpeg_guard *g = (jpeg_guard *)c->err;
    c->err->format_message(c, g->msg);
    longjmp(g->env, 1);
}

static void on_message(j_common_ptr c, int level) {
    jpeg_guard *g = (jpeg_guard *)c->err;
    if (level < 0 && g->warnings++ == 0) c->err->format_message(c, g->msg); /* -1: warning */
}

/* Ink to light, as stb_image: Adobe files store CMYK inverted (255 = no ink). */
static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, int w, int inverted) {
    for (int x = 0; x < w; x++) {
        unsigned k = inverted ? cmyk[4 * x + 3] : 255u - cmyk[4 * x + 3];
        for (int c = 0; c < 3; c++) {
            unsigned v = inverted ? cmyk[4 * x + c] : 255u - cmyk[4 * x + c];
            rgb[3 * x + c] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

int burn_jpeg_decode(const uint8_t *data, size_t n, const burn_image_limits *lim,
                     const char *name, burn_image *img) {
    struct jpeg_decompress_struct d;
    jpeg_guard g;
    memset(&g, 0, sizeof g);
    d.err = jpeg_std_error(&g.mgr);
    g.mgr.error_exit = on_error;
    g.mgr.emit_message = on_message;
    uint8_t *volatile pix = NULL, *volatile row = NULL;
    volatile int in_header = 1;
    if (setjmp(g.env)) {
        jpeg_destroy_decompress(&d);
        free(pix), free(row);
        burn_error_set("%s: corrupt JPEG %s (%s)", name, in_header ? "header" : "data", g.msg);
        return -1;
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)n);
    jpeg_read_header(&d, TRUE);
    int w = (int)d.image_width, h = (int)d.image_height;
    int64_t pixels = (int64_t)w * h;
    if (lim && lim->max_pixels > 0 && pixels > lim->max_pixels) {
        jpeg_destroy_decompress(&d);
        char limit[96];
        burn_image_limit_text(lim, 1, limit, sizeof limit);
        burn_error_set("%s: %d x %d = %lld pixels, over %s", name, w, h, (long long)pixels, limit);
        return -1;
    }
    /* every 8x8 block of a scan takes at least one bit (its DC code): a 2 KB file cannot
     * hold 9000 x 9000 pixels, whatever its header says (a decompression bomb) */
    if ((uint64_t)pixels > 512 * (uint64_t)n) {
        jpeg_destroy_decompress(&d);
        burn_error_set("%s: corrupt JPEG header (%d x %d pixels cannot come from %zu bytes)",
                       name, w, h, n);
        return -1;
    }
    int cmyk = d.jpeg_color_space == JCS_CMYK || d.jpeg_color_space == JCS_YCCK;
    d.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    in_header = 0;
    jpeg_start_decompress(&d);
    pix = burn_xmalloc((size_t)w * h * 3);
    if (cmyk) row = burn_xmalloc((size_t)w * 4);
    while (d.output_scanline < d.output_height) {
        JSAMPROW out = cmyk ? row : pix + (size_t)d.output_scanline * w * 3;
        unsigned y = d.output_scanline;
        if (jpeg_read_scanlines(&d, &out, 1) != 1) break;
        if (cmyk) cmyk_to_rgb(row, pix + (size_t)y * w * 3, w, d.saw_Adobe_marker);
    }
    int complete = d.output_scanline == d.output_height;
    if (complete) jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    free(row);
    if (!complete || g.warnings) {
        free(pix);
        burn_error_set("%s: corrupt JPEG data (%s)", name,
                       g.warnings ? g.msg : "the scan ended early");
        return -1;
    }
    burn_image_adopt(img, pix, w, h);
    return 0;
}
