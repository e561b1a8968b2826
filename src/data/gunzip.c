/* gunzip.c — a gzip file (RFC 1952) inflated in memory by zlib: every member of a
 * multi-member file (as `cat a.gz b.gz` or pigz make them), each member's CRC-32 and length
 * checked, so a flipped byte is an error and not silently different data. Used for the
 * Debian packages' *.idx?-ubyte.gz files. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "burn/check.h"
#include "data_internal.h"

int burn_gunzip(const uint8_t *gz, size_t n, size_t max_out, const char *name, uint8_t **out,
                size_t *out_n) {
    *out = NULL;
    *out_n = 0;
    if (n < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8) {
        burn_error_set("%s: not a gzip (deflate) file", name);
        return -1;
    }
    /* the buffer grows with what really comes out: deflate expands at most 1032:1, so a tiny
     * file whose trailer claims gigabytes allocates nothing of the kind (found by fuzz_idx) */
    uint32_t isize = (uint32_t)gz[n - 4] | (uint32_t)gz[n - 3] << 8 | (uint32_t)gz[n - 2] << 16 |
                     (uint32_t)gz[n - 1] << 24;
    size_t cap = isize < 1032 * (uint64_t)n ? (size_t)isize + 1 : n;
    if (cap > max_out + 1) cap = max_out + 1;
    uint8_t *buf = burn_xmalloc(cap);
    size_t len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) { /* 16: a gzip wrapper, checked */
        free(buf);
        burn_error_set("%s: zlib: cannot initialise", name);
        return -1;
    }
    const uint8_t *in = gz, *end = gz + n;
    const char *why = NULL; /* corrupt data: why */
    for (;;) {
        if (len == cap) {
            if (cap > max_out) break; /* over the limit: below */
            cap = cap > max_out / 2 ? max_out + 1 : 2 * cap;
            buf = burn_xrealloc(buf, cap);
        }
        size_t in_left = (size_t)(end - in), out_left = cap - len;
        z.next_in = (Bytef *)in;
        z.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        z.next_out = buf + len;
        z.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        int rc = inflate(&z, Z_NO_FLUSH);
        in = z.next_in;
        len = (size_t)(z.next_out - buf);
        if (rc == Z_STREAM_END) { /* one member done, CRC-32 and length verified */
            if (in == end) break;
            if (end - in < 18 || in[0] != 0x1f || in[1] != 0x8b) {
                why = "bytes after the last gzip member";
                break;
            }
            inflateReset(&z); /* the next member */
            continue;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && in == end) why = "truncated";
        else if (rc == Z_BUF_ERROR) continue; /* the output was full: grow it */
        else why = z.msg ? z.msg : "invalid deflate data";
        break;
    }
    inflateEnd(&z);
    if (why) {
        burn_error_set("%s: corrupt gzip data (%s)", name, why);
        free(buf);
        return -1;
    }
    if (len > max_out) {
        burn_error_set("%s: decompresses to more than the limit of %zu bytes", name, max_out);
        free(buf);
        return -1;
    }
    *out = buf;
    *out_n = len;
    return 0;
}
