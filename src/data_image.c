/* data_image.c — decoding (stb_image: JPEG and PNG) with size and pixel limits checked before
 * any pixel is decoded, reading image files, and writing PNG/JPEG (stb_image_write).
 * The only translation unit with STB_IMAGE_IMPLEMENTATION / STB_IMAGE_WRITE_IMPLEMENTATION. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/data.h"
#include "data_internal.h"

/* stb is third-party code: keep its warnings out of burn's build. Only the two formats the
 * data pipeline accepts are compiled in; files are read by burn (size checked), not stdio. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wtype-limits"
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

void burn_image_resize(burn_image *img, int w, int h) {
    size_t need = (size_t)w * (size_t)h * 3;
    if (need > img->cap) {
        free(img->rgb);
        img->rgb = burn_xmalloc(need ? need : 1);
        img->cap = need;
    }
    img->w = w;
    img->h = h;
}

void burn_image_free(burn_image *img) {
    free(img->rgb);
    free(img->file);
    memset(img, 0, sizeof *img);
}

static int has_prefix(const uint8_t *d, size_t n, const char *magic, size_t m) {
    return n >= m && memcmp(d, magic, m) == 0;
}

int burn_image_decode(const uint8_t *data, size_t n, const burn_image_limits *lim,
                      const char *name, burn_image *img) {
    if (n == 0) {
        burn_error_set("%s: empty file", name);
        return -1;
    }
    int is_png = has_prefix(data, n, "\x89PNG\r\n\x1a\n", 8);
    int is_jpeg = has_prefix(data, n, "\xff\xd8\xff", 3);
    if (!is_png && !is_jpeg) {
        burn_error_set("%s: not a JPEG or PNG file (unknown signature)", name);
        return -1;
    }
    if (n > (size_t)INT_MAX || (lim && lim->max_bytes > 0 && (int64_t)n > lim->max_bytes)) {
        burn_error_set("%s: %zu bytes, over the limit data.max_image_bytes = %lld", name, n,
                       lim ? (long long)lim->max_bytes : (long long)INT_MAX);
        return -1;
    }
    /* Header only: a tiny file can claim 60000×60000 pixels (a decompression bomb). */
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(data, (int)n, &w, &h, &comp)) {
        burn_error_set("%s: corrupt %s header (%s)", name, is_png ? "PNG" : "JPEG",
                       stbi_failure_reason());
        return -1;
    }
    int64_t pixels = (int64_t)w * h;
    if (w <= 0 || h <= 0 || (lim && lim->max_pixels > 0 && pixels > lim->max_pixels)) {
        burn_error_set("%s: %d x %d = %lld pixels, over the limit data.max_image_pixels = %lld",
                       name, w, h, (long long)pixels, lim ? (long long)lim->max_pixels : 0LL);
        return -1;
    }
    int dw = 0, dh = 0, dc = 0;
    /* req_comp 3: gray -> RGB (replicated), alpha dropped (as PIL's convert("RGB")) */
    uint8_t *pix = stbi_load_from_memory(data, (int)n, &dw, &dh, &dc, 3);
    if (!pix) {
        burn_error_set("%s: corrupt %s data (%s)", name, is_png ? "PNG" : "JPEG",
                       stbi_failure_reason());
        return -1;
    }
    if (dw != w || dh != h) { /* cannot happen with a consistent stb; never trust it blindly */
        stbi_image_free(pix);
        burn_error_set("%s: decoded size %dx%d differs from the header's %dx%d", name, dw, dh, w,
                       h);
        return -1;
    }
    /* take stb's buffer (allocated with malloc) instead of copying it */
    free(img->rgb);
    img->rgb = pix;
    img->cap = (size_t)w * h * 3;
    img->w = w;
    img->h = h;
    return 0;
}

int burn_image_load_file(const char *path, const burn_image_limits *lim, burn_image *img) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        burn_error_set("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        burn_error_set("%s: not a regular file", path);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    if (size == 0) {
        burn_error_set("%s: empty file (0 bytes)", path);
        close(fd);
        return -1;
    }
    if ((lim && lim->max_bytes > 0 && (int64_t)size > lim->max_bytes) || size > (size_t)INT_MAX) {
        burn_error_set("%s: %zu bytes, over the limit data.max_image_bytes = %lld", path, size,
                       lim ? (long long)lim->max_bytes : (long long)INT_MAX);
        close(fd);
        return -1;
    }
    if (size > img->file_cap) {
        free(img->file);
        img->file = burn_xmalloc(size);
        img->file_cap = size;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, img->file + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            burn_error_set("%s: read failed after %zu of %zu bytes: %s", path, got, size,
                           r < 0 ? strerror(errno) : "file shrank while reading");
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    return burn_image_decode(img->file, size, lim, path, img);
}

int burn_image_write_png(const char *path, const uint8_t *rgb, int w, int h, int channels) {
    errno = 0;
    if (!stbi_write_png(path, w, h, channels, rgb, w * channels)) {
        burn_error_set("%s: cannot write PNG: %s", path, errno ? strerror(errno) : "stb failed");
        return -1;
    }
    return 0;
}

int burn_image_write_jpeg(const char *path, const uint8_t *rgb, int w, int h, int quality) {
    errno = 0;
    if (!stbi_write_jpg(path, w, h, 3, rgb, quality)) {
        burn_error_set("%s: cannot write JPEG: %s", path, errno ? strerror(errno) : "stb failed");
        return -1;
    }
    return 0;
}

/* gzip (RFC 1952), one member: header fields skipped, the deflate stream inflated with stb's
 * zlib decoder into a buffer of the size the trailer states. Used for the Debian packages'
 * *.idx?-ubyte.gz files. */
int burn_gunzip(const uint8_t *gz, size_t n, size_t max_out, const char *name, uint8_t **out,
                size_t *out_n) {
    *out = NULL;
    *out_n = 0;
    if (n < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8) {
        burn_error_set("%s: not a gzip (deflate) file", name);
        return -1;
    }
    uint8_t flags = gz[3];
    size_t p = 10;
    if (flags & 4) { /* FEXTRA */
        if (p + 2 > n) goto truncated;
        p += 2 + (size_t)(gz[p] | gz[p + 1] << 8);
    }
    for (int field = 8; field <= 16; field *= 2) /* FNAME, FCOMMENT: zero-terminated */
        if (flags & field) {
            while (p < n && gz[p]) p++;
            p++;
        }
    if (flags & 2) p += 2; /* FHCRC */
    if (p + 8 > n) goto truncated;
    uint32_t isize = (uint32_t)gz[n - 4] | (uint32_t)gz[n - 3] << 8 | (uint32_t)gz[n - 2] << 16 |
                     (uint32_t)gz[n - 1] << 24;
    if ((size_t)isize > max_out || isize > (uint32_t)INT_MAX || n - 8 - p > (size_t)INT_MAX) {
        burn_error_set("%s: decompresses to %u bytes, over the limit of %zu", name, isize, max_out);
        return -1;
    }
    uint8_t *buf = burn_xmalloc((size_t)isize + 1);
    /* the 8 trailer bytes stay in the input: stb's bit reader looks ahead past the end of
     * the deflate stream (as it does into the adler32 of a PNG's zlib stream) */
    int got = stbi_zlib_decode_noheader_buffer((char *)buf, (int)isize, (const char *)gz + p,
                                               (int)(n - p));
    if (got < 0 || (uint32_t)got != isize) {
        free(buf);
        burn_error_set("%s: corrupt gzip data (%s)", name,
                       got < 0 ? stbi_failure_reason() : "size differs from the trailer's");
        return -1;
    }
    *out = buf;
    *out_n = isize;
    return 0;
truncated:
    burn_error_set("%s: truncated gzip header", name);
    return -1;
}
