/* log.h — human log lines (rank 0 only), warnings (every rank), and the per-step progress
 * line that is also written as one JSON object per line (JSONL) to the run directory. */
#ifndef BURN_LOG_H
#define BURN_LOG_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "burn: ..." on stdout, rank 0 only. */
void burn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "burn: warning: ..." on stderr, every rank (prefixed with the rank when world > 1). */
void burn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 silences burn_log (tests, --quiet). */
extern int burn_log_quiet;
extern int burn_world_size;

/* One named value of a progress record. fmt is a printf format for the human line
 * (e.g. "%.4f"); NULL uses "%.4g". */
typedef struct burn_metric {
    const char *key;
    double value;
    const char *fmt;
} burn_metric;

/* JSONL metrics file: one object per line, flushed after each line. */
typedef struct burn_metrics {
    FILE *f;
    char *path;
} burn_metrics;

/* Open path to append, first removing the rows whose step is past keep_through (a resumed run
 * logs them again; INT64_MAX keeps all) and a last line torn by a crash. 0, or -1 with
 * burn_error() set. */
int burn_metrics_open(burn_metrics *m, const char *path, int64_t keep_through);
void burn_metrics_close(burn_metrics *m);
/* Write {"k": v, ...} as one line. Non-finite values are written as null (JSON has no NaN). */
void burn_metrics_write(burn_metrics *m, const burn_metric *kv, int n);

/* s as a JSON string literal, quotes included (", \ and control characters escaped), for the
 * evaluation commands' --json files. malloc'd. */
char *burn_json_quote(const char *s);

/* Print "step s/total | key value | ... | ETA 1h02m" (rank 0) and, when m is open, write the
 * same record plus step, total, elapsed_s and eta_s to it. */
void burn_log_step(burn_metrics *m, int64_t step, int64_t total, double elapsed_s,
                   const burn_metric *kv, int n);

/* Seconds from a monotonic clock. */
double burn_now(void);

/* Format seconds as "1h02m", "3m05s" or "42s" into buf. */
void burn_format_duration(double seconds, char *buf, size_t len);

/* The progress line's epoch: the 1-based epoch of the last unit done (done units of
 * per_epoch each; 0 before the first), and its format "%.0f/E" into fmt[len]. */
double burn_epoch_of(int64_t done, int64_t per_epoch);
const char *burn_epoch_format(char *fmt, size_t len, int64_t epochs);

#ifdef __cplusplus
}
#endif

#endif
