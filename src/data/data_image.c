/* data_image.c — decoding (stb_image: JPEG and PNG) with size and pixel limits checked before
 * any pixel is decoded, reading image files, and writing PNG/JPEG (stb_image_write).
 * The only translation unit with STB_IMAGE_IMPLEMENTATION / STB_IMAGE_WRITE_IMPLEMENTATION. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "burn/check.h"
#include "burn/data.h"
#include "burn/fileio.h"
#include "data_internal.h"

/* stb_image 2.27 assert()s on some corrupt files (JPEGs, found by tests/fuzz/fuzz_image; JPEG
 * now goes through libjpeg-turbo, PNG still through stb): an assert must not abort a run. While burn decodes, a
 * failed stb assertion jumps back to the decode call, which frees what stb had allocated
 * (tracked through STBI_MALLOC / STBI_REALLOC / STBI_FREE) and reports a corrupt file.
 * Per thread: the loader's workers decode in parallel. */
typedef struct stb_guard {
    jmp_buf env;
    void **live; /* stb's allocations not yet freed */
    int n, cap;
} stb_guard;
static _Thread_local stb_guard stb_g;
static _Thread_local int stb_guarded;

static void stb_track(void *p) {
    if (stb_g.n == stb_g.cap) {
        stb_g.cap = stb_g.cap ? 2 * stb_g.cap : 16;
        stb_g.live = burn_xrealloc(stb_g.live, (size_t)stb_g.cap * sizeof(void *));
    }
    stb_g.live[stb_g.n++] = p;
}

/* by address: after a realloc the old pointer may only be compared, never used */
static void stb_untrack(uintptr_t p) {
    for (int i = 0; i < stb_g.n; i++)
        if ((uintptr_t)stb_g.live[i] == p) {
            stb_g.live[i] = stb_g.live[--stb_g.n];
            return;
        }
}

static void *stb_malloc(size_t n) {
    void *p = malloc(n);
    if (p && stb_guarded) stb_track(p);
    return p;
}

#if defined(__GNUC__) && !defined(__clang__) /* GCC's -Wuse-after-free flags the address kept */
#pragma GCC diagnostic push                   /* for stb_untrack, which only compares it */
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
static void *stb_realloc(void *p, size_t n) {
    uintptr_t old = (uintptr_t)p;
    void *q = realloc(p, n);
    if (q && stb_guarded) {
        if (old) stb_untrack(old);
        stb_track(q);
    }
    return q;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static void stb_free(void *p) {
    if (p && stb_guarded) stb_untrack((uintptr_t)p);
    free(p);
}

static void stb_assert_failed(void) {
    if (stb_guarded) longjmp(stb_g.env, 1);
    abort(); /* outside a guarded decode (cannot happen: stb asserts only while decoding) */
}

#define STBI_MALLOC(n) stb_malloc(n)
#define STBI_REALLOC(p, n) stb_realloc(p, n)
#define STBI_FREE(p) stb_free(p)
#define STBI_ASSERT(x) ((x) ? (void)0 : stb_assert_failed())

/* stb is third-party code: keep its warnings out of burn's build. Only the two formats the
 * data pipeline accepts are compiled in; files are read by burn (size checked), not stdio. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wtype-limits"
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

void burn_image_limit_text(const burn_image_limits *lim, int pixels, char *buf, size_t len) {
    long long v = !lim ? INT_MAX : pixels ? (long long)lim->max_pixels : (long long)lim->max_bytes;
    if (lim && lim->owner) snprintf(buf, len, "%s's limit of %lld", lim->owner, v);
    else snprintf(buf, len, "data.max_image_%s = %lld", pixels ? "pixels" : "bytes", v);
}

void burn_image_adopt(burn_image *img, uint8_t *rgb, int w, int h) {
    free(img->rgb);
    img->rgb = rgb;
    img->cap = (size_t)w * h * 3;
    img->w = w;
    img->h = h;
}

void burn_image_free(burn_image *img) {
    free(img->rgb);
    free(img->file);
    memset(img, 0, sizeof *img);
}

/* stbi_load_from_memory to RGB under the assertion guard; NULL with *asserted = 1 when stb's
 * own consistency check failed (everything it had allocated is freed). */
static uint8_t *stb_load_guarded(const uint8_t *data, int n, int *w, int *h, int *asserted) {
    int comp = 0;
    *asserted = 0;
    if (setjmp(stb_g.env)) {
        stb_guarded = 0;
        for (int i = 0; i < stb_g.n; i++) free(stb_g.live[i]);
        free(stb_g.live);
        memset(&stb_g, 0, sizeof stb_g);
        *asserted = 1;
        return NULL;
    }
    stb_guarded = 1;
    /* req_comp 3: gray -> RGB (replicated), alpha dropped (as PIL's convert("RGB")) */
    uint8_t *pix = stbi_load_from_memory(data, n, w, h, &comp, 3);
    stb_guarded = 0;
    free(stb_g.live); /* what stb still holds (the pixels) is the caller's now */
    memset(&stb_g, 0, sizeof stb_g);
    return pix;
}

static int has_prefix(const uint8_t *d, size_t n, const char *magic, size_t m) {
    return n >= m && memcmp(d, magic, m) == 0;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every chunk's CRC-32 up to IEND (stb checks none: a flipped bit in IDAT decodes to other
 * pixels without a word). 0, or -1 with burn_error(). */
static int png_crcs_ok(const uint8_t *d, size_t n, const char *name) {
    for (size_t p = 8; p + 12 <= n;) {
        uint32_t len = be32(d + p);
        if (len > n - p - 12) break; /* truncated: stb's own error says so */
        uint32_t want = be32(d + p + 8 + len);
        uint32_t got = (uint32_t)crc32(crc32(0L, Z_NULL, 0), d + p + 4, len + 4);
        if (got != want) {
            char type[5] = {0};
            for (int i = 0; i < 4; i++) {
                uint8_t c = d[p + 4 + i];
                type[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
            }
            burn_error_set("%s: corrupt PNG data (chunk %s at byte %zu: CRC mismatch)", name,
                           type, p);
            return -1;
        }
        if (memcmp(d + p + 4, "IEND", 4) == 0) break;
        p += 12 + len;
    }
    return 0;
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
        char limit[96];
        burn_image_limit_text(lim, 0, limit, sizeof limit);
        burn_error_set("%s: %zu bytes, over %s", name, n, limit);
        return -1;
    }
    if (is_jpeg) return burn_jpeg_decode(data, n, lim, name, img); /* libjpeg-turbo */
    /* PNG through stb. Header only first: a tiny file can claim 60000×60000 pixels (a
     * decompression bomb). */
    int w = 0, h = 0, comp = 0;
    if (png_crcs_ok(data, n, name) != 0) return -1;
    if (is_png && n >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        /* stb refuses PNGs over 2^30 bytes of pixels with a vague "unknown image type": read
         * the IHDR size (big-endian u32s at 16 and 20; the product fits in 64 bits unsigned)
         * to say what is wrong */
        uint64_t iw = (uint64_t)data[16] << 24 | data[17] << 16 | data[18] << 8 | data[19];
        uint64_t ih = (uint64_t)data[20] << 24 | data[21] << 16 | data[22] << 8 | data[23];
        if (lim && lim->max_pixels > 0 && iw * ih > (uint64_t)lim->max_pixels) {
            char limit[96];
            burn_image_limit_text(lim, 1, limit, sizeof limit);
            burn_error_set("%s: %llu x %llu = %llu pixels, over %s", name, (unsigned long long)iw,
                           (unsigned long long)ih, (unsigned long long)(iw * ih), limit);
            return -1;
        }
    }
    if (!stbi_info_from_memory(data, (int)n, &w, &h, &comp)) {
        const char *why = stbi_failure_reason();
        burn_error_set("%s: corrupt PNG header (%s)", name, why && *why ? why : "undecodable");
        return -1;
    }
    int64_t pixels = (int64_t)w * h;
    if (w <= 0 || h <= 0 || (lim && lim->max_pixels > 0 && pixels > lim->max_pixels)) {
        char limit[96];
        burn_image_limit_text(lim, 1, limit, sizeof limit);
        burn_error_set("%s: %d x %d = %lld pixels, over %s", name, w, h, (long long)pixels, limit);
        return -1;
    }
    int dw = 0, dh = 0, asserted = 0;
    uint8_t *pix = stb_load_guarded(data, (int)n, &dw, &dh, &asserted);
    if (!pix) {
        const char *why = asserted ? "inconsistent data" : stbi_failure_reason();
        burn_error_set("%s: corrupt PNG data (%s)", name, why && *why ? why : "undecodable");
        return -1;
    }
    if (dw != w || dh != h) { /* cannot happen with a consistent stb; never trust it blindly */
        stbi_image_free(pix);
        burn_error_set("%s: decoded size %dx%d differs from the header's %dx%d", name, dw, dh, w,
                       h);
        return -1;
    }
    burn_image_adopt(img, pix, w, h); /* stb's buffer (malloc'd), not a copy */
    return 0;
}

int burn_image_load_file(const char *path, const burn_image_limits *lim, burn_image *img) {
    int fd = burn_open_regular(path); /* a FIFO in a dataset: a bad image, not a stall */
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        burn_error_set("%s: cannot stat: %s", path, strerror(errno));
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
        char limit[96];
        burn_image_limit_text(lim, 0, limit, sizeof limit);
        burn_error_set("%s: %zu bytes, over %s", path, size, limit);
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

