/* data_internal.h — pieces shared by the data sources (src/data_*.c), not public API:
 * a compact table of paths (one arena, offsets) and source construction helpers. */
#ifndef BURN_DATA_INTERNAL_H
#define BURN_DATA_INTERNAL_H

#include <stdint.h>

#include "burn/data.h"

/* n strings in one growing arena; path(i) = arena + off[i]. ImageNet's 1.28M paths cost one
 * allocation of ~80 MB instead of a million small ones. */
typedef struct burn_paths {
    char *arena;
    size_t len, cap;
    int64_t *off;
    int64_t n, ncap;
} burn_paths;

int64_t burn_paths_add(burn_paths *p, const char *s, size_t len); /* returns the index */
static inline const char *burn_paths_get(const burn_paths *p, int64_t i) {
    return p->arena + p->off[i];
}
void burn_paths_free(burn_paths *p);

/* A zeroed source with kind, origin and limits set. */
burn_source *burn_source_new(const char *kind, const char *origin, const burn_image_limits *lim);

/* "a/b" from dir "a" and name "b" ("b" alone when dir is empty or name is absolute). */
char *burn_path_join(const char *dir, const char *name);

/* Inflate a one-member gzip file held in memory into a malloc'd buffer (at most max_out
 * bytes). 0, or -1 with burn_error() naming `name`. (data_image.c: stb's inflate.) */
int burn_gunzip(const uint8_t *gz, size_t n, size_t max_out, const char *name, uint8_t **out,
                size_t *out_n);

#endif
