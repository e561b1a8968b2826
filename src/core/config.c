/* config.c — schema-driven INI config (our own reader): defaults, file parsing with file:line:key
 * errors, --set overrides, dump/resolved-config writer. burn's keys live in config_keys.h. */
#include "burn/config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "burn/check.h"
#include "burn/fileio.h"

/* ---- burn's schema from the X-macro list ---- */

#define SCHEMA_INT(s, k, d, lo, hi, doc) \
    {#s, #k, BURN_CFG_INT, #d, (double)(lo), (double)(hi), NULL, doc, offsetof(burn_config, s##_##k)},
#define SCHEMA_FLOAT(s, k, d, lo, hi, doc) \
    {#s, #k, BURN_CFG_FLOAT, #d, (lo), (hi), NULL, doc, offsetof(burn_config, s##_##k)},
#define SCHEMA_BOOL(s, k, d, doc) \
    {#s, #k, BURN_CFG_BOOL, #d, 0, 1, NULL, doc, offsetof(burn_config, s##_##k)},
#define SCHEMA_STR(s, k, d, doc) \
    {#s, #k, BURN_CFG_STR, d, 0, 0, NULL, doc, offsetof(burn_config, s##_##k)},
#define SCHEMA_ENUM(s, k, d, ch, doc) \
    {#s, #k, BURN_CFG_ENUM, d, 0, 0, ch, doc, offsetof(burn_config, s##_##k)},

const burn_cfg_key burn_config_schema[] = {
    BURN_CONFIG_KEYS(SCHEMA_INT, SCHEMA_FLOAT, SCHEMA_BOOL, SCHEMA_STR, SCHEMA_ENUM)};
const int burn_config_schema_len = (int)(sizeof burn_config_schema / sizeof burn_config_schema[0]);

/* ---- value parsing ---- */

static int enum_has(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static const char *type_name(burn_cfg_type t) {
    static const char *names[] = {"int", "float", "bool", "string", "choice"};
    return names[t];
}

/* Parse text into the key's slot. On error returns -1 and writes the reason (no location). */
static int parse_value(const burn_cfg_key *k, void *cfg, const char *text) {
    char *slot = (char *)cfg + k->offset;
    char *end = NULL;
    switch (k->type) {
    case BURN_CFG_INT: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno == ERANGE) {
            burn_error_set("not an integer: '%s'", text);
            return -1;
        }
        if ((double)v < k->min || (double)v > k->max) {
            burn_error_set("%lld is out of range [%.0f, %.0f]", v, k->min, k->max);
            return -1;
        }
        *(int64_t *)slot = v;
        return 0;
    }
    case BURN_CFG_FLOAT: {
        errno = 0;
        double v = strtod(text, &end);
        /* ERANGE for 1e-320 too: an underflow is the (tiny) number it reads as; only an
         * overflow or a non-number is refused */
        if (!*text || *end || (errno == ERANGE && fabs(v) >= 1) || !isfinite(v)) {
            burn_error_set("not a finite number: '%s'", text);
            return -1;
        }
        if (v < k->min || v > k->max) {
            burn_error_set("%g is out of range [%g, %g]", v, k->min, k->max);
            return -1;
        }
        *(double *)slot = v;
        return 0;
    }
    case BURN_CFG_BOOL: {
        static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0) { *(int *)slot = 1; return 0; }
            if (strcasecmp(text, no[i]) == 0) { *(int *)slot = 0; return 0; }
        }
        burn_error_set("not a boolean: '%s' (use true or false)", text);
        return -1;
    }
    case BURN_CFG_ENUM:
        if (!enum_has(k->choices, text)) {
            burn_error_set("'%s' is not one of %s", text, k->choices);
            return -1;
        }
        /* fall through */
    case BURN_CFG_STR:
        free(*(char **)slot);
        *(char **)slot = burn_xstrdup(text);
        return 0;
    }
    return -1;
}

static const burn_cfg_key *find_key(const burn_cfg_key *schema, int n, const char *section,
                                    const char *key, int *section_known) {
    *section_known = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(schema[i].section, section) != 0) continue;
        *section_known = 1;
        if (strcmp(schema[i].key, key) == 0) return &schema[i];
    }
    return NULL;
}

void burn_cfg_defaults(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin) {
    for (int i = 0; i < n; i++) {
        if (schema[i].type == BURN_CFG_STR || schema[i].type == BURN_CFG_ENUM)
            *(char **)((char *)cfg + schema[i].offset) = NULL;
        if (parse_value(&schema[i], cfg, schema[i].def) != 0)
            burn_check_fail("burn", "config schema", __FILE__, __LINE__, burn_error(),
                            "a default in config_keys.h violates its own range");
        if (origin) origin[i] = (burn_cfg_origin){NULL, 0};
    }
}

void burn_cfg_free(const burn_cfg_key *schema, int n, void *cfg) {
    for (int i = 0; i < n; i++)
        if (schema[i].type == BURN_CFG_STR || schema[i].type == BURN_CFG_ENUM) {
            char **slot = (char **)((char *)cfg + schema[i].offset);
            free(*slot);
            *slot = NULL;
        }
}

/* ---- INI files ----
 * burn's own reader, so that nothing is cut or merged silently: '[section]' lines,
 * 'key = value' lines (the value is the rest of the line, trimmed, up to an inline comment:
 * a ';' after a space or tab), blank lines and comment lines starting with ';' or '#'. Lines of any length; an
 * indented line is an ordinary line (no continuation lines); CRLF and a UTF-8 BOM are
 * accepted; a NUL byte is an error. A file may start from another: `[config] base = FILE`
 * (relative to the file that names it) as its first key loads FILE first, and the file's
 * own keys then override it; bases chain up to CONFIG_MAX_DEPTH deep. */

#define CONFIG_MAX_BYTES (16u << 20)
#define CONFIG_MAX_DEPTH 8

/* The paths of base files, kept for the origins that point at them (a config's values name
 * their file:line for as long as the process runs). */
static char **base_paths;
static int n_base_paths;
static pthread_mutex_t base_paths_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *intern_path(char *path) {
    pthread_mutex_lock(&base_paths_lock);
    for (int i = 0; i < n_base_paths; i++)
        if (strcmp(base_paths[i], path) == 0) {
            pthread_mutex_unlock(&base_paths_lock);
            free(path);
            return base_paths[i];
        }
    base_paths = burn_xrealloc(base_paths, sizeof(char *) * (size_t)(n_base_paths + 1));
    base_paths[n_base_paths++] = path;
    pthread_mutex_unlock(&base_paths_lock);
    return path;
}

static int cfg_load(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin,
                    const char *path, int depth);

/* [config] base = value, named in `path`: load it (relative to path's directory). */
static int load_base(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin,
                     const char *path, const char *value, int depth) {
    if (depth >= CONFIG_MAX_DEPTH) {
        burn_error_set("config.base: bases chain more than %d deep (a cycle?)", CONFIG_MAX_DEPTH);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    char *base = NULL;
    if (value[0] == '/' || !slash) base = burn_xstrdup(value);
    else if (asprintf(&base, "%.*s/%s", (int)(slash - path), path, value) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    const char *kept = intern_path(base);
    if (cfg_load(schema, n, cfg, origin, kept, depth + 1) == 0) return 0;
    char *why = burn_xstrdup(burn_error());
    burn_error_set("config.base: %s", why);
    free(why);
    return -1;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* One 'key = value' of section on line `line`: the key's index, or -1 with burn_error()
 * "section.key: why". */
static int config_entry(const burn_cfg_key *schema, int n, void *cfg, int *set_at,
                        const char *section, const char *name, const char *value, int line) {
    int section_known;
    const burn_cfg_key *k = find_key(schema, n, section, name, &section_known);
    if (!k) {
        burn_error_set("%s.%s: %s", section, name,
                       section_known ? "unknown key (burn_gpu config --dump lists every key)"
                                     : "unknown section (burn_gpu config --dump lists every "
                                       "section)");
        return -1;
    }
    int idx = (int)(k - schema);
    if (set_at[idx]) {
        burn_error_set("%s.%s: set twice (first at line %d)", section, name, set_at[idx]);
        return -1;
    }
    if (parse_value(k, cfg, value) != 0) {
        char *why = burn_xstrdup(burn_error());
        burn_error_set("%s.%s: %s", section, name, why);
        free(why);
        return -1;
    }
    set_at[idx] = line;
    return idx;
}

int burn_cfg_load(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin,
                  const char *path) {
    return cfg_load(schema, n, cfg, origin, path, 0);
}

static int cfg_load(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin,
                    const char *path, int depth) {
    unsigned char *data;
    size_t size;
    if (burn_read_file(path, CONFIG_MAX_BYTES, &data, &size) != 0) /* regular files only */
        return -1;
    int *set_at = burn_xcalloc((size_t)n, sizeof(int));
    char *p = (char *)data, *end = p + size; /* burn_read_file ends the text with a NUL */
    if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    const char *section = NULL;
    int line = 0, rc = 0, keys = 0;
    while (p < end && rc == 0) {
        line++;
        char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
        if (memchr(p, 0, (size_t)(eol - p))) {
            burn_error_set("a NUL byte (a config is text)");
            rc = -1;
            break;
        }
        *eol = 0;
        char *s = trim(p);
        p = eol + 1;
        if (!*s || *s == ';' || *s == '#') continue;
        if (*s == '[') {
            size_t len = strlen(s);
            if (len < 3 || s[len - 1] != ']') {
                burn_error_set("'%.60s' is not a section header (expected '[section]')", s);
                rc = -1;
                break;
            }
            s[len - 1] = 0;
            section = trim(s + 1);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            burn_error_set("syntax error at '%.60s' (expected '[section]', 'key = value' or a "
                           "comment)", s);
            rc = -1;
            break;
        }
        *eq = 0;
        for (char *c = eq + 1; *c; c++) /* "x = 0.25 ; why": the comment is not the value */
            if (*c == ';' && (c[-1] == ' ' || c[-1] == '\t')) {
                *c = 0;
                break;
            }
        char *key = trim(s), *value = trim(eq + 1);
        if (!section) {
            burn_error_set("%s: key outside any [section]", key);
            rc = -1;
        } else if (strcmp(section, "config") == 0) {
            if (strcmp(key, "base") != 0 || keys > 0) {
                burn_error_set("config.%s: [config] holds one key, base, before any other key",
                               key);
                rc = -1;
            } else {
                rc = load_base(schema, n, cfg, origin, path, value, depth);
            }
        } else {
            int idx = config_entry(schema, n, cfg, set_at, section, key, value, line);
            if (idx < 0) rc = -1;
            else if (origin) origin[idx] = (burn_cfg_origin){path, line};
        }
        keys++;
    }
    free(set_at);
    free(data);
    if (rc != 0) {
        char *why = burn_xstrdup(burn_error());
        burn_error_set("%s:%d: %s", path, line, why);
        free(why);
    } else if (keys == 0) { /* never "trains on defaults" from a file that said nothing */
        burn_error_set("%s: sets no key (an empty file, or one the kernel sizes as 0 bytes, as "
                       "/proc files)", path);
        rc = -1;
    }
    return rc;
}

int burn_cfg_set(const burn_cfg_key *schema, int n, void *cfg, burn_cfg_origin *origin,
                 const char *assignment) {
    const char *eq = strchr(assignment, '=');
    const char *dot = eq ? memchr(assignment, '.', (size_t)(eq - assignment)) : NULL;
    if (!eq || !dot || dot == assignment || dot + 1 == eq) {
        burn_error_set("--set %s: expected section.key=value", assignment);
        return -1;
    }
    char *section = strndup(assignment, (size_t)(dot - assignment));
    char *key = strndup(dot + 1, (size_t)(eq - dot - 1));
    int section_known, rc = -1;
    const burn_cfg_key *k = find_key(schema, n, section, key, &section_known);
    if (!k)
        burn_error_set("--set %s: %s.%s: %s", assignment, section, key,
                       section_known ? "unknown key" : "unknown section");
    else if (parse_value(k, cfg, eq + 1) != 0) {
        char *reason = burn_xstrdup(burn_error());
        burn_error_set("--set %s: %s.%s: %s", assignment, section, key, reason);
        free(reason);
    } else {
        if (origin) origin[k - schema] = (burn_cfg_origin){"--set", 0};
        rc = 0;
    }
    free(section);
    free(key);
    return rc;
}

static void write_value(const burn_cfg_key *k, const void *cfg, FILE *f) {
    const char *slot = (const char *)cfg + k->offset;
    switch (k->type) {
    case BURN_CFG_INT: fprintf(f, "%lld", (long long)*(const int64_t *)slot); break;
    case BURN_CFG_FLOAT: fprintf(f, "%.17g", *(const double *)slot); break;
    case BURN_CFG_BOOL: fputs(*(const int *)slot ? "true" : "false", f); break;
    case BURN_CFG_STR:
    case BURN_CFG_ENUM: fputs(*(char *const *)slot ? *(char *const *)slot : "", f); break;
    }
}

void burn_cfg_write(const burn_cfg_key *schema, int n, const void *cfg, FILE *f, int with_docs) {
    const char *section = NULL;
    for (int i = 0; i < n; i++) {
        const burn_cfg_key *k = &schema[i];
        if (!section || strcmp(section, k->section) != 0) {
            fprintf(f, "%s[%s]\n", section ? "\n" : "", k->section);
            section = k->section;
        }
        if (with_docs) {
            fprintf(f, "; %s\n; %s", k->doc, type_name(k->type));
            if (k->type == BURN_CFG_INT) fprintf(f, " in [%.0f, %.0f]", k->min, k->max);
            if (k->type == BURN_CFG_FLOAT) fprintf(f, " in [%g, %g]", k->min, k->max);
            if (k->type == BURN_CFG_ENUM) fprintf(f, ": %s", k->choices);
            fprintf(f, "; default %s\n", *k->def ? k->def : "(empty)");
        }
        fprintf(f, "%s = ", k->key);
        write_value(k, cfg, f);
        fputc('\n', f);
    }
}

/* ---- burn's config ---- */

void burn_config_defaults(burn_config *c) {
    burn_cfg_defaults(burn_config_schema, burn_config_schema_len, c, c->origin);
}

int burn_config_load(burn_config *c, const char *path) {
    return burn_cfg_load(burn_config_schema, burn_config_schema_len, c, c->origin, path);
}

int burn_config_set(burn_config *c, const char *assignment) {
    return burn_cfg_set(burn_config_schema, burn_config_schema_len, c, c->origin, assignment);
}

void burn_config_print(const burn_config *c, FILE *f, int with_docs) {
    burn_cfg_write(burn_config_schema, burn_config_schema_len, c, f, with_docs);
}

int burn_config_save(const burn_config *c, const char *path) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        burn_error_set("%s: out of memory", path);
        return -1;
    }
    fputs("; resolved configuration written by burn_gpu; usable as --config\n", mem);
    burn_config_print(c, mem, 0);
    fclose(mem);
    int rc = burn_write_file_atomic(path, buf, len);
    free(buf);
    return rc;
}

int burn_config_value(const burn_config *c, const char *section, const char *key, char *value,
                      size_t vlen, char *where, size_t wlen) {
    int known;
    const burn_cfg_key *k = find_key(burn_config_schema, burn_config_schema_len, section, key,
                                     &known);
    if (!k) return -1;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) burn_check_fail("libc", "open_memstream", __FILE__, __LINE__, "out of memory", NULL);
    write_value(k, c, mem);
    fclose(mem);
    snprintf(value, vlen, "%s", text);
    free(text);
    const burn_cfg_origin *o = &c->origin[k - burn_config_schema];
    if (!o->file) snprintf(where, wlen, "the default");
    else if (o->line > 0) snprintf(where, wlen, "%s:%d", o->file, o->line);
    else snprintf(where, wlen, "%s", o->file);
    return 0;
}

int burn_config_text_value(const char *text, const char *section, const char *key, char *buf,
                       size_t len) {
    char head[64];
    snprintf(head, sizeof head, "[%s]\n", section);
    size_t hlen = strlen(head), klen = strlen(key);
    const char *at = text;
    while (at && strncmp(at, head, hlen) != 0) /* the section's line */
        if ((at = strchr(at, '\n'))) at++;
    if (!at) return -1;
    for (at += hlen; *at && *at != '[';) {
        const char *end = strchr(at, '\n');
        size_t n = end ? (size_t)(end - at) : strlen(at);
        if (n >= klen + 3 && strncmp(at, key, klen) == 0 && strncmp(at + klen, " = ", 3) == 0) {
            snprintf(buf, len, "%.*s", (int)(n - klen - 3), at + klen + 3);
            return 0;
        }
        if (!end) break;
        at = end + 1;
    }
    return -1;
}

void burn_config_free(burn_config *c) {
    burn_cfg_free(burn_config_schema, burn_config_schema_len, c);
}
