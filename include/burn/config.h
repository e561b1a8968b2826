/* config.h — typed run configuration from INI files (burn's own reader, config.c), validated
 * against a schema.
 *
 * Errors name the place: "configs/x.ini:12: train.batch_size: not an integer: 'abc'".
 * The loader is schema-driven (struct burn_cfg_key, offsets into a struct) so tests can use
 * their own small schema; burn's own keys are the list in config_keys.h. */
#ifndef BURN_CONFIG_H
#define BURN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "burn/config_keys.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum burn_cfg_type {
    BURN_CFG_INT, BURN_CFG_FLOAT, BURN_CFG_BOOL, BURN_CFG_STR, BURN_CFG_ENUM
} burn_cfg_type;

typedef struct burn_cfg_key {
    const char *section, *key;
    burn_cfg_type type;
    const char *def;     /* default, as text */
    double min, max;     /* INT and FLOAT */
    const char *choices; /* ENUM: "a|b|c" */
    const char *doc;
    size_t offset;       /* of the value in the config struct */
} burn_cfg_key;

/* Where each value came from, for messages and the resolved config. */
typedef struct burn_cfg_origin {
    const char *file; /* NULL = default, "--set" = command line */
    int line;
} burn_cfg_origin;

#define BURN_CFG_FIELD_INT(s, k, d, lo, hi, doc) int64_t s##_##k;
#define BURN_CFG_FIELD_FLOAT(s, k, d, lo, hi, doc) double s##_##k;
#define BURN_CFG_FIELD_BOOL(s, k, d, doc) int s##_##k;
#define BURN_CFG_FIELD_STR(s, k, d, doc) char *s##_##k;
#define BURN_CFG_FIELD_ENUM(s, k, d, ch, doc) char *s##_##k;
#define BURN_CFG_COUNT_ONE(...) +1

enum { BURN_CFG_NKEYS = 0 BURN_CONFIG_KEYS(BURN_CFG_COUNT_ONE, BURN_CFG_COUNT_ONE,
                                           BURN_CFG_COUNT_ONE, BURN_CFG_COUNT_ONE,
                                           BURN_CFG_COUNT_ONE) };

typedef struct burn_config {
    BURN_CONFIG_KEYS(BURN_CFG_FIELD_INT, BURN_CFG_FIELD_FLOAT, BURN_CFG_FIELD_BOOL,
                     BURN_CFG_FIELD_STR, BURN_CFG_FIELD_ENUM)
    burn_cfg_origin origin[BURN_CFG_NKEYS];
} burn_config;

/* burn's schema (config_keys.h). */
extern const burn_cfg_key burn_config_schema[];
extern const int burn_config_schema_len;

/* ---- generic, schema-driven ---- */
/* Set every key to its default. origin may be NULL. */
void burn_cfg_defaults(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin);
/* Parse an INI file over cfg. 0 ok; -1 with burn_error() = "file:line: section.key: reason". */
int burn_cfg_load(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin,
                  const char *path);
/* Apply "section.key=value". 0 ok; -1 with burn_error() set. */
int burn_cfg_set(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin,
                 const char *assignment);
/* Write cfg as INI (each key with its doc, type and range as comments). */
void burn_cfg_write(const burn_cfg_key *schema, int n, const void *cfg, FILE *f, int with_docs);
void burn_cfg_free(const burn_cfg_key *schema, int n, void *cfg);

/* ---- burn's config ---- */
void burn_config_defaults(burn_config *c);
int burn_config_load(burn_config *c, const char *path);
int burn_config_set(burn_config *c, const char *assignment);
void burn_config_print(const burn_config *c, FILE *f, int with_docs);
/* Write the resolved config atomically to path (the run directory's config.ini). */
int burn_config_save(const burn_config *c, const char *path);
void burn_config_free(burn_config *c);

/* The value of "key = value" under "[section]" in a config text as burn_config_print writes
 * it (a checkpoint's saved config), into buf[len]; 0, or -1 when absent. */
int burn_config_text_value(const char *text, const char *section, const char *key, char *buf,
                           size_t len);

/* One key's value as the resolved config prints it, and where it came from ("FILE:LINE",
 * "--set", "the default"), for messages. 0, or -1 for an unknown key. */
int burn_config_value(const burn_config *c, const char *section, const char *key, char *value,
                      size_t vlen, char *where, size_t wlen);

#ifdef __cplusplus
}
#endif

#endif
