/* fileio.h — crash-safe file writing: write to "<path>.tmp.<pid>", fsync, rename over path,
 * fsync the directory. A crash or a full disk leaves the previous file intact and never a
 * half-written one under the final name. */
#ifndef BURN_FILEIO_H
#define BURN_FILEIO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct burn_atomic_file {
    int fd;
    char *path, *tmp;
} burn_atomic_file;

/* Each returns 0, or -1 with burn_error() naming the path and the reason (and removes the
 * temporary file). */
int burn_atomic_open(burn_atomic_file *f, const char *path);
int burn_atomic_write(burn_atomic_file *f, const void *data, size_t bytes);
int burn_atomic_commit(burn_atomic_file *f);
void burn_atomic_abort(burn_atomic_file *f);

/* Whole buffer -> path, atomically. */
int burn_write_file_atomic(const char *path, const void *data, size_t bytes);

/* mkdir -p. 0 or -1 with burn_error(). */
int burn_mkdirs(const char *path);

/* Open path for reading only if it is a regular file, without blocking on the way: a FIFO
 * (which open() would wait on forever), a device or a directory is refused. The fd, or -1
 * with burn_error() "<path>: cannot open: ..." / "<path>: not a regular file (...)". */
int burn_open_regular(const char *path);

/* Read a whole file (up to max_bytes) into a malloc'd buffer. 0 or -1 with burn_error(). */
int burn_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size);

#ifdef __cplusplus
}
#endif

#endif
