/* fileio.c — atomic file writes (tmp + fsync + rename + directory fsync), mkdir -p, whole-file
 * reads. */
#include "burn/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "burn/check.h"

int burn_atomic_open(burn_atomic_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (asprintf(&f->tmp, "%s.tmp.%d", path, (int)getpid()) < 0) f->tmp = NULL;
    if (!f->tmp) {
        burn_error_set("%s: out of memory", path);
        return -1;
    }
    f->path = burn_xstrdup(path);
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        burn_error_set("%s: cannot create temporary file %s: %s", path, f->tmp, strerror(errno));
        free(f->tmp);
        free(f->path);
        f->tmp = f->path = NULL;
        return -1;
    }
    return 0;
}

void burn_atomic_abort(burn_atomic_file *f) {
    if (f->fd >= 0) close(f->fd);
    if (f->tmp) unlink(f->tmp);
    free(f->tmp);
    free(f->path);
    f->fd = -1;
    f->tmp = f->path = NULL;
}

/* A failed write's message: the reason, "disk full" for ENOSPC, and that the file under the
 * final name is intact only when there is one. */
static void write_failed(const burn_atomic_file *f, const char *what, int err) {
    int previous = access(f->path, F_OK) == 0;
    burn_error_set("%s: %s failed: %s%s%s", f->path, what, err ? strerror(err) : "no progress",
                   err == ENOSPC ? " (disk full)" : "",
                   previous ? " (the previous file is intact)" : "");
}

int burn_atomic_write(burn_atomic_file *f, const void *data, size_t bytes) {
    const char *p = data;
    while (bytes > 0) {
        ssize_t w = write(f->fd, p, bytes);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            write_failed(f, "write", w < 0 ? errno : 0);
            burn_atomic_abort(f);
            return -1;
        }
        p += w;
        bytes -= (size_t)w;
    }
    return 0;
}

static void fsync_parent_dir(const char *path) {
    char *copy = burn_xstrdup(path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* best effort: some filesystems refuse fsync on directories */
        close(dfd);
    }
    free(copy);
}

int burn_atomic_commit(burn_atomic_file *f) {
    if (fsync(f->fd) != 0) {
        write_failed(f, "fsync", errno);
        burn_atomic_abort(f);
        return -1;
    }
    if (close(f->fd) != 0) {
        f->fd = -1;
        write_failed(f, "close", errno);
        burn_atomic_abort(f);
        return -1;
    }
    f->fd = -1;
    if (rename(f->tmp, f->path) != 0) {
        burn_error_set("%s: rename from %s failed: %s", f->path, f->tmp, strerror(errno));
        burn_atomic_abort(f);
        return -1;
    }
    fsync_parent_dir(f->path);
    free(f->tmp);
    free(f->path);
    f->tmp = f->path = NULL;
    return 0;
}

int burn_write_file_atomic(const char *path, const void *data, size_t bytes) {
    burn_atomic_file f;
    if (burn_atomic_open(&f, path) != 0) return -1;
    if (burn_atomic_write(&f, data, bytes) != 0) return -1;
    return burn_atomic_commit(&f);
}

int burn_mkdirs(const char *path) {
    char *p = burn_xstrdup(path);
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c == '/' || c == '\0') {
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                burn_error_set("%s: cannot create directory %s: %s", path, p, strerror(errno));
                free(p);
                return -1;
            }
            *s = c;
            if (c == '\0') break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        burn_error_set("%s: exists and is not a directory", path);
        free(p);
        return -1;
    }
    free(p);
    return 0;
}

int burn_open_regular(const char *path) {
    /* O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        burn_error_set("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        burn_error_set("%s: not a regular file (%s)", path,
                       S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a named pipe"
                                              : "a device or socket");
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

int burn_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size) {
    *data = NULL;
    *size = 0;
    int fd = burn_open_regular(path);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        burn_error_set("%s: cannot stat: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        burn_error_set("%s: file is %lld bytes, over the limit of %zu", path,
                       (long long)st.st_size, max_bytes);
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = burn_xmalloc(n + 1);
    if (n && fread(buf, 1, n, f) != n) {
        burn_error_set("%s: read failed (file changed or I/O error)", path);
        free(buf);
        fclose(f);
        return -1;
    }
    buf[n] = 0;
    fclose(f);
    *data = buf;
    *size = n;
    return 0;
}
