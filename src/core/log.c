/* log.c — rank-0 log lines, warnings, progress lines and the JSONL metrics writer. */
#include "burn/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/fileio.h"

int burn_log_quiet = 0;
int burn_world_size = 1;

/* prefix + the message with its control characters escaped + '\n', in one write: another
 * thread's line cannot land inside it, a name from disk cannot forge a line. */
static void write_line(FILE *f, const char *prefix, const char *fmt, va_list ap) {
    char *raw = NULL;
    if (vasprintf(&raw, fmt, ap) < 0) return;
    char *msg = burn_escape_controls(raw), *line = NULL;
    int n = asprintf(&line, "%s%s\n", prefix, msg);
    if (n > 0) {
        fwrite(line, 1, (size_t)n, f);
        fflush(f);
    }
    free(raw), free(msg), free(line);
}

void burn_log(const char *fmt, ...) {
    if (burn_rank != 0 || burn_log_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    write_line(stdout, "burn: ", fmt, ap);
    va_end(ap);
}

void burn_warn(const char *fmt, ...) {
    char prefix[48];
    if (burn_world_size > 1) snprintf(prefix, sizeof prefix, "burn[rank %d]: warning: ", burn_rank);
    else snprintf(prefix, sizeof prefix, "burn: warning: ");
    va_list ap;
    va_start(ap, fmt);
    write_line(stderr, prefix, fmt, ap);
    va_end(ap);
}

double burn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void burn_format_duration(double s, char *buf, size_t len) {
    if (!isfinite(s) || s < 0) {
        snprintf(buf, len, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

double burn_epoch_of(int64_t done, int64_t per_epoch) {
    return per_epoch > 0 ? (double)((done + per_epoch - 1) / per_epoch) : 0.0;
}

const char *burn_epoch_format(char *fmt, size_t len, int64_t epochs) {
    snprintf(fmt, len, "%%.0f/%lld", (long long)epochs);
    return fmt;
}

/* Rewrite path without the rows past keep_through (a resumed run writes them again) and
 * without a last line torn by a crash. */
static int drop_rows_after(const char *path, int64_t keep_through) {
    unsigned char *text = NULL;
    size_t size = 0;
    if (access(path, F_OK) != 0) return 0;
    if (burn_read_file(path, (size_t)1 << 32, &text, &size) != 0) return -1;
    char *out = burn_xmalloc(size + 1);
    size_t used = 0;
    int dropped = 0;
    for (size_t i = 0; i < size;) {
        const char *line = (const char *)text + i, *nl = memchr(line, '\n', size - i);
        size_t len = nl ? (size_t)(nl - line) + 1 : size - i;
        long long step;
        int past = sscanf(line, "{\"step\": %lld", &step) == 1 && step > keep_through;
        if (nl && !past) {
            memcpy(out + used, line, len);
            used += len;
        } else {
            dropped++;
        }
        i += len;
    }
    int rc = dropped ? burn_write_file_atomic(path, out, used) : 0;
    free(out);
    free(text);
    return rc;
}

int burn_metrics_open(burn_metrics *m, const char *path, int64_t keep_through) {
    if (drop_rows_after(path, keep_through) != 0) return -1;
    m->f = fopen(path, "a");
    if (!m->f) {
        burn_error_set("%s: cannot open metrics file: %s", path, strerror(errno));
        return -1;
    }
    m->path = burn_xstrdup(path);
    return 0;
}

void burn_metrics_close(burn_metrics *m) {
    if (m->f) fclose(m->f);
    free(m->path);
    m->f = NULL;
    m->path = NULL;
}

static void write_json_number(FILE *f, double v) {
    if (!isfinite(v))
        fputs("null", f);
    else if (v == floor(v) && fabs(v) < 9e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.9g", v);
}

void burn_metrics_write(burn_metrics *m, const burn_metric *kv, int n) {
    if (!m || !m->f) return;
    fputc('{', m->f);
    for (int i = 0; i < n; i++) {
        fprintf(m->f, "%s\"%s\": ", i ? ", " : "", kv[i].key); /* keys are program constants */
        write_json_number(m->f, kv[i].value);
    }
    fputs("}\n", m->f);
    if (fflush(m->f) != 0) burn_warn("%s: metrics write failed: %s", m->path, strerror(errno));
}

void burn_log_step(burn_metrics *m, int64_t step, int64_t total, double elapsed_s,
                   const burn_metric *kv, int n) {
    double eta = step > 0 ? elapsed_s / (double)step * (double)(total - step) : NAN;
    if (burn_rank == 0 && !burn_log_quiet) {
        char line[2048];
        size_t used = (size_t)snprintf(line, sizeof line, "step %lld/%lld",
                                       (long long)step, (long long)total);
        for (int i = 0; i < n && used < sizeof line; i++) {
            used += (size_t)snprintf(line + used, sizeof line - used, " | %s ", kv[i].key);
            if (used < sizeof line)
                used += (size_t)snprintf(line + used, sizeof line - used,
                                         kv[i].fmt ? kv[i].fmt : "%.4g", kv[i].value);
        }
        char d[32];
        burn_format_duration(eta, d, sizeof d);
        if (used < sizeof line) snprintf(line + used, sizeof line - used, " | ETA %s", d);
        puts(line);
        fflush(stdout);
    }
    if (m && m->f && burn_rank == 0) {
        burn_metric *all = burn_xmalloc(sizeof(burn_metric) * (size_t)(n + 4));
        all[0] = (burn_metric){"step", (double)step, NULL};
        all[1] = (burn_metric){"total", (double)total, NULL};
        for (int i = 0; i < n; i++) all[2 + i] = kv[i];
        all[n + 2] = (burn_metric){"elapsed_s", elapsed_s, NULL};
        all[n + 3] = (burn_metric){"eta_s", eta, NULL};
        burn_metrics_write(m, all, n + 4);
        free(all);
    }
}

char *burn_json_quote(const char *s) {
    size_t n = strlen(s);
    char *out = burn_xmalloc(6 * n + 3), *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = 0;
    return out;
}
