/* config_keys.h — every config key of burn, in one list: section, key, type, default, range
 * or choices, one-line doc. config.h turns the list into `struct burn_config` fields named
 * section_key and into the schema table the parser, `--set` and `config --dump` use.
 *
 *   CFG_INT(section, key, default, min, max, doc)       int64_t
 *   CFG_FLOAT(section, key, default, min, max, doc)     double, finite, min <= v <= max
 *   CFG_BOOL(section, key, default, doc)                int; true/false/yes/no/on/off/1/0
 *   CFG_STR(section, key, default, doc)                 char * (may be empty)
 *   CFG_ENUM(section, key, default, "a|b|c", doc)       char *, one of the choices
 *
 * Add a key here and it exists everywhere (parser, dump, resolved config). Keep sections in
 * the order a config file reads best; keys of one section together. */
#ifndef BURN_CONFIG_KEYS_H
#define BURN_CONFIG_KEYS_H

#define BURN_CONFIG_KEYS(CFG_INT, CFG_FLOAT, CFG_BOOL, CFG_STR, CFG_ENUM)                      \
    CFG_STR(run, dir, "runs/default",                                                          \
            "run directory: resolved config, metrics.jsonl and checkpoints go here")           \
    CFG_INT(run, seed, 0, 0, 1000000000000000,                                            \
            "global seed: weights, sampling and augmentation all derive from it")              \
    CFG_ENUM(run, device, "auto", "auto|cpu|cuda",                                             \
             "backend: auto = CUDA when a device exists, else CPU (--device overrides)")       \
    CFG_INT(log, every, 10, 1, 1000000000, "print a progress line every N optimiser steps")    \
    CFG_BOOL(log, quiet, false, "silence progress lines on stdout (metrics.jsonl is kept)")

#endif
