/* check.c — the failure path of the check macros, recoverable error messages and checked
 * allocation. */
#include "burn/check.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int burn_rank = 0;
int burn_device = -1;

void burn_check_fail(const char *family, const char *call, const char *file, int line,
                     const char *detail, const char *hint) {
    char where[32];
    if (burn_device >= 0)
        snprintf(where, sizeof where, "GPU %d", burn_device);
    else
        snprintf(where, sizeof where, "CPU");
    fprintf(stderr, "burn: %s error: %s failed at %s:%d (rank %d, %s): %s%s%s\n", family, call,
            file, line, burn_rank, where, detail ? detail : "unknown error",
            hint ? "\n  hint: " : "", hint ? hint : "");
    fflush(stderr);
    exit(1);
}

const char *burn_errno_hint(int err) {
    switch (err) {
    case ENOSPC: return "the disk is full: free space or choose another run directory";
    case EACCES:
    case EPERM: return "permission denied: check the path's owner and mode";
    case ENOENT: return "no such file or directory: check the path";
    case ENOMEM: return "out of host memory: lower the batch size or data.workers";
    default: return NULL;
    }
}

/* One message per thread, in a pthread key so a worker thread's last message is freed when
 * the thread exits; the thread-local copy of the pointer keeps the main thread's message
 * reachable until the process ends (LeakSanitizer does not look into pthread keys). */
static _Thread_local char *error_message;
static pthread_key_t error_key;
static pthread_once_t error_once = PTHREAD_ONCE_INIT;

static void error_key_init(void) { pthread_key_create(&error_key, free); }

char *burn_escape_controls(const char *s) {
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        n += *c < 0x20 || *c == 0x7f ? 4 : 1;
    char *out = burn_xmalloc(n + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c >= 0x20 && *c != 0x7f) *o++ = (char)*c;
        else if (*c == '\n') o += sprintf(o, "\\n");
        else if (*c == '\r') o += sprintf(o, "\\r");
        else if (*c == '\t') o += sprintf(o, "\\t");
        else o += sprintf(o, "\\x%02x", *c);
    }
    *o = 0;
    return out;
}

void burn_error_set(const char *fmt, ...) {
    pthread_once(&error_once, error_key_init);
    va_list ap;
    va_start(ap, fmt);
    char *raw = NULL, *msg = NULL;
    if (vasprintf(&raw, fmt, ap) < 0) raw = NULL;
    va_end(ap);
    if (raw) msg = burn_escape_controls(raw); /* names from disk: no forged lines */
    free(raw);
    free(pthread_getspecific(error_key));
    pthread_setspecific(error_key, msg);
    error_message = msg;
}

const char *burn_error(void) {
    pthread_once(&error_once, error_key_init);
    const char *msg = pthread_getspecific(error_key);
    return msg ? msg : "unknown error";
}

void *burn_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        char detail[64];
        snprintf(detail, sizeof detail, "could not allocate %zu bytes", bytes);
        burn_check_fail("libc", "malloc", __FILE__, __LINE__, detail, burn_errno_hint(ENOMEM));
    }
    return p;
}

void *burn_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) burn_check_fail("libc", "calloc", __FILE__, __LINE__, "out of memory", NULL);
    return p;
}

void *burn_xrealloc(void *p, size_t bytes) {
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) burn_check_fail("libc", "realloc", __FILE__, __LINE__, "out of memory", NULL);
    return q;
}

char *burn_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = burn_xmalloc(n);
    memcpy(p, s, n);
    return p;
}
