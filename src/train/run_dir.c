/* run_dir.c — claiming a run directory for one run (include/burn/run_dir.h): the advisory
 * lock, the check of what a new run would mix with, and --overwrite's removal of the old
 * run's own files. */
#include "burn/run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/fileio.h"
#include "burn/log.h"

/* One of the files a run writes: a name in outputs, or a checkpoint of it or a temporary of
 * either ("<output>.tmp.<pid>"): entries ending in '-' are prefixes (ckpt-<step>...). */
static int is_run_file(const char *name, const char *const *outputs) {
    for (const char *const *o = outputs; *o; o++) {
        size_t n = strlen(*o);
        if (strncmp(name, *o, n) == 0 &&
            ((*o)[n - 1] == '-' || name[n] == '\0' || strncmp(name + n, ".tmp.", 5) == 0))
            return 1;
    }
    return 0;
}

/* Names the first of the run's files in dir (into first) and, with remove, deletes them all. The count, or -1 with burn_error(). */
static int scan_run_files(const char *dir, const char *const *outputs, int remove, char *first,
                          size_t first_len) {
    DIR *d = opendir(dir);
    if (!d) {
        burn_error_set("run.dir %s: cannot list: %s", dir, strerror(errno));
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_run_file(e->d_name, outputs)) continue;
        if (n++ == 0 && first) snprintf(first, first_len, "%s", e->d_name);
        if (!remove) continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
            burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
        if (unlink(p) != 0 && errno != ENOENT) {
            burn_error_set("--overwrite: cannot remove %s: %s", p, strerror(errno));
            free(p);
            closedir(d);
            return -1;
        }
        free(p);
    }
    closedir(d);
    return n;
}

static int take_lock(const char *dir) {
    char *path = NULL;
    if (asprintf(&path, "%s/.lock", dir) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        burn_error_set("run.dir %s: cannot create the lock %s: %s", dir, path, strerror(errno));
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char pid[32] = ""; /* the holder wrote its pid */
        ssize_t got = pread(fd, pid, sizeof pid - 1, 0);
        pid[got > 0 ? got : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (err == EWOULDBLOCK)
            burn_error_set("run.dir %s is in use by another process%s%s%s: one run per "
                           "directory (wait for it, or choose another run.dir)",
                           dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
        else
            burn_error_set("run.dir %s: cannot lock %s: %s", dir, path, strerror(err));
        close(fd);
        fd = -1;
    } else { /* the holder's pid, for the message above (best effort: the lock holds without) */
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) == 0) {
            ssize_t written = pwrite(fd, pid, (size_t)len, 0);
            (void)written;
        }
    }
    free(path);
    return fd;
}

int burn_run_dir_claim(const char *dir, burn_run_mode mode, const char *const *outputs,
                       int *exit_code) {
    *exit_code = 1;
    if (burn_mkdirs(dir) != 0) return -1;
    int fd = take_lock(dir);
    if (fd < 0) return -1;
    char first[256] = "";
    int n = scan_run_files(dir, outputs, mode == BURN_RUN_OVERWRITE, first, sizeof first);
    if (n < 0) goto refuse;
    if (mode == BURN_RUN_OVERWRITE && n > 0) {
        burn_log("--overwrite: removed %d file(s) of the previous run in %s", n, dir);
    } else if (mode == BURN_RUN_NEW && n > 0) {
        *exit_code = 2;
        burn_error_set("run.dir %s already holds a run (%s): pass --resume to continue it or "
                       "--overwrite to replace it, or choose another run.dir", dir, first);
        goto refuse;
    }
    return fd;
refuse:
    close(fd);
    return -1;
}

void burn_run_dir_release(int lock_fd) {
    if (lock_fd >= 0) close(lock_fd);
}
