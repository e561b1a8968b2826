/* ckpt.c — training checkpoints: atomic save with rotation (never of non-finite values),
 * newest-valid lookup, strict restore of parameters, optimiser moments and position. */
#include "burn/ckpt.h"

#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/log.h"
#include "burn/safetensors.h"

#define CKPT_FORMAT "burn-ckpt-1"

static char *config_text(const burn_config *cfg) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return burn_xstrdup("");
    burn_config_print(cfg, mem, 0);
    fclose(mem);
    return buf;
}

/* Steps of the checkpoints in dir, ascending. Returns the count; *steps malloc'd. */
static int list_ckpts(const char *dir, int64_t **steps) {
    *steps = NULL;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long long s;
        char tail[8];
        /* exactly ckpt-<digits>.safetensors: temporaries (".tmp.<pid>") do not match */
        if (sscanf(e->d_name, "ckpt-%lld.safetensor%1s", &s, tail) != 2 || strcmp(tail, "s") != 0)
            continue;
        char expect[64];
        snprintf(expect, sizeof expect, "ckpt-%08lld.safetensors", s);
        if (strcmp(expect, e->d_name) != 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            *steps = burn_xrealloc(*steps, sizeof(int64_t) * (size_t)cap);
        }
        (*steps)[n++] = s;
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort: few files */
        for (int j = i; j > 0 && (*steps)[j - 1] > (*steps)[j]; j--) {
            int64_t t = (*steps)[j];
            (*steps)[j] = (*steps)[j - 1];
            (*steps)[j - 1] = t;
        }
    return n;
}

static char *ckpt_path(const char *dir, int64_t step) {
    char *p = NULL;
    if (asprintf(&p, "%s/ckpt-%08" PRId64 ".safetensors", dir, step) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    return p;
}

int burn_ckpt_save(const char *dir, const burn_params *ps, const float *adam_m,
                   const float *adam_v, const burn_ckpt_state *st, const burn_config *cfg,
                   int world_size, int keep, char **written_path) {
    float *host = burn_xmalloc((size_t)(ps->total ? ps->total : 1) * sizeof(float));
    float *hm = NULL, *hv = NULL;
    burn_params_download(ps, host);
    /* A diverged run (e.g. BN running statistics overflowing while the loss stays finite)
     * must not replace a good checkpoint with one that --resume would refuse. */
    for (int i = 0; i < ps->n; i++)
        for (int64_t k = 0; k < ps->p[i].numel; k++)
            if (!isfinite(host[ps->p[i].offset + k])) {
                burn_error_set("%s: not written: tensor '%s' holds a non-finite value at element "
                               "%lld (the run diverged; the previous checkpoints are intact)",
                               dir, ps->p[i].name, (long long)k);
                free(host);
                return -1;
            }
    burn_st_writer w;
    burn_st_writer_init(&w);
    burn_params_add_to_writer(ps, &w, "", host);
    int64_t flat[1] = {ps->trainable};
    if (adam_m && adam_v) {
        hm = burn_xmalloc((size_t)(ps->trainable ? ps->trainable : 1) * sizeof(float));
        hv = burn_xmalloc((size_t)(ps->trainable ? ps->trainable : 1) * sizeof(float));
        ps->be->download(hm, adam_m, (size_t)ps->trainable * sizeof(float));
        ps->be->download(hv, adam_v, (size_t)ps->trainable * sizeof(float));
        for (int64_t k = 0; k < ps->trainable; k++)
            if (!isfinite(hm[k]) || !isfinite(hv[k])) {
                burn_error_set("%s: not written: tensor 'optim.adam_%c' holds a non-finite value "
                               "at element %lld (the run diverged; the previous checkpoints are "
                               "intact)", dir, isfinite(hm[k]) ? 'v' : 'm', (long long)k);
                burn_st_writer_free(&w);
                free(host), free(hm), free(hv);
                return -1;
            }
        burn_st_add(&w, "optim.adam_m", BURN_F32, 1, flat, hm);
        burn_st_add(&w, "optim.adam_v", BURN_F32, 1, flat, hv);
    }
    char num[32], *cfg_text = config_text(cfg);
    burn_st_add_meta(&w, "format", CKPT_FORMAT);
    burn_st_add_meta(&w, "kind", st->kind ? st->kind : "burn");
    snprintf(num, sizeof num, "%" PRId64, st->step);
    burn_st_add_meta(&w, "step", num);
    snprintf(num, sizeof num, "%" PRId64, st->micro_step);
    burn_st_add_meta(&w, "micro_step", num);
    snprintf(num, sizeof num, "%d", st->stage);
    burn_st_add_meta(&w, "stage", num);
    snprintf(num, sizeof num, "%d", world_size);
    burn_st_add_meta(&w, "world_size", num);
    if (st->loss_scale > 0) {
        snprintf(num, sizeof num, "%.17g", st->loss_scale);
        burn_st_add_meta(&w, "loss_scale", num);
        snprintf(num, sizeof num, "%" PRId64, st->loss_scale_good);
        burn_st_add_meta(&w, "loss_scale_good", num);
        snprintf(num, sizeof num, "%" PRId64, st->skipped);
        burn_st_add_meta(&w, "skipped_updates", num);
    }
    burn_st_add_meta(&w, "config", cfg_text);
    char *path = ckpt_path(dir, st->step);
    int rc = burn_st_save(&w, path);
    burn_st_writer_free(&w);
    free(host), free(hm), free(hv), free(cfg_text);
    if (rc != 0) {
        free(path);
        return -1;
    }
    if (keep > 0) { /* rotation: only after the new file is safely in place */
        int64_t *steps;
        int n = list_ckpts(dir, &steps);
        for (int i = 0; i < n - keep; i++) {
            char *old = ckpt_path(dir, steps[i]);
            if (steps[i] != st->step && unlink(old) != 0)
                burn_warn("%s: could not remove old checkpoint: %s", old, strerror(errno));
            free(old);
        }
        free(steps);
    }
    if (written_path)
        *written_path = path;
    else
        free(path);
    return 0;
}

/* No run takes more updates than this: a larger count is a damaged file, not a position. */
#define CKPT_MAX_COUNT ((int64_t)1 << 40)

static int parse_meta_i64(const burn_st_file *f, const char *key, int64_t *out) {
    const char *v = burn_st_meta(f, key);
    if (!v) {
        burn_error_set("%s: metadata '%s' missing", f->path, key);
        return -1;
    }
    int64_t x = 0;
    const char *c = v;
    for (; *c >= '0' && *c <= '9' && x <= CKPT_MAX_COUNT; c++) x = 10 * x + (*c - '0');
    if (c == v || *c || x > CKPT_MAX_COUNT) {
        burn_error_set("%s: metadata '%s' is not a count in [0, 2^40]: '%s' (the file is damaged)",
                       f->path, key, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* The keys that say what the student's tensors compute. Shapes catch most differences on
 * load; these can agree in shape and still mean another network (stage 2 binarises the
 * weights; the stem stride changes every feature map). */
static const char *const model_keys[] = {"width", "stem_stride", "stage", "feature_fc",
                                         "feature_dim"};

int burn_ckpt_check_model(const burn_st_file *f, const char *option, const burn_config *cfg,
                          int any_stage) {
    const char *saved = burn_st_meta(f, "config");
    if (!saved || !cfg) return 0;
    for (size_t i = 0; i < sizeof model_keys / sizeof model_keys[0]; i++) {
        char was[128], is[128], where[256];
        if (any_stage && strcmp(model_keys[i], "stage") == 0) continue;
        if (burn_config_text_value(saved, "model", model_keys[i], was, sizeof was) != 0) continue;
        if (burn_config_value(cfg, "model", model_keys[i], is, sizeof is, where, sizeof where) != 0)
            continue;
        if (strcmp(was, is) == 0) continue;
        char *dir = burn_xstrdup(f->path), *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        burn_error_set("%s %s was trained with model.%s = %s, the config says %s (%s): use the "
                       "run's own config (%s/config.ini) or --set model.%s=%s",
                       option, f->path, model_keys[i], was, is, where, slash ? dir : ".",
                       model_keys[i], was);
        free(dir);
        return -1;
    }
    return 0;
}

static int check_format(const burn_st_file *f) {
    const char *fmt = burn_st_meta(f, "format");
    if (!fmt || strcmp(fmt, CKPT_FORMAT) != 0) {
        burn_error_set("%s: not a burn training checkpoint (format '%s', expected '%s')",
                       f->path, fmt ? fmt : "(none)", CKPT_FORMAT);
        return -1;
    }
    return 0;
}

/* The position metadata agree with each other and with the file's name: a damaged position
 * would restart the run at another update and overwrite good checkpoints. */
static int check_position(const burn_st_file *f, const burn_ckpt_state *st, int64_t stage) {
    const char *base = strrchr(f->path, '/');
    base = base ? base + 1 : f->path;
    long long named;
    char tail[8];
    if (sscanf(base, "ckpt-%lld.safetensor%1s", &named, tail) == 2 && named != st->step) {
        burn_error_set("%s: metadata step %lld is not the file's own (%lld): the file is damaged",
                       f->path, (long long)st->step, named);
        return -1;
    }
    if (stage != 1 && stage != 2) {
        burn_error_set("%s: metadata stage %lld is not 1 or 2 (the file is damaged)", f->path,
                       (long long)stage);
        return -1;
    }
    char accum[32]; /* the training loops' position (fine-tuning counts its own updates) */
    const char *saved = burn_st_meta(f, "config"), *kind = burn_st_meta(f, "kind");
    if (saved && !(kind && strcmp(kind, "finetune") == 0) &&
        burn_config_text_value(saved, "train", "accum", accum, sizeof accum) == 0 &&
        st->micro_step != st->step * atoll(accum)) {
        burn_error_set("%s: metadata micro_step %lld is not step %lld × train.accum %s (the file "
                       "is damaged)", f->path, (long long)st->micro_step, (long long)st->step,
                       accum);
        return -1;
    }
    return 0;
}

/* What makes an open file a checkpoint to trust: its format and a sane position (into st). */
static int validate(const burn_st_file *f, burn_ckpt_state *st) {
    int64_t stage = 0;
    int rc = check_format(f);
    if (rc == 0) rc = parse_meta_i64(f, "step", &st->step);
    if (rc == 0) rc = parse_meta_i64(f, "micro_step", &st->micro_step);
    if (rc == 0) rc = parse_meta_i64(f, "stage", &stage);
    if (rc == 0) rc = check_position(f, st, stage);
    st->stage = (int)stage;
    return rc;
}

/* Temporaries "ckpt-*.safetensors.tmp.<pid>" left by a process that died mid-write: remove
 * those whose writer no longer exists (a live writer's file is left alone). */
static void remove_stale_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *tmp = strstr(e->d_name, ".safetensors.tmp.");
        if (strncmp(e->d_name, "ckpt-", 5) != 0 || !tmp) continue;
        char *end;
        long pid = strtol(tmp + strlen(".safetensors.tmp."), &end, 10);
        if (*end || pid <= 0) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* the writer is alive */
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, e->d_name) >= 0) {
            if (unlink(path) == 0) burn_log("removed %s, left by an interrupted write", path);
            free(path);
        }
    }
    closedir(d);
}

void burn_ckpt_kept_text(const char *dir, char *buf, size_t len) {
    int64_t *steps;
    int n = list_ckpts(dir, &steps);
    if (n == 0) {
        snprintf(buf, len, "no checkpoint was written yet");
    } else {
        char *last = ckpt_path(dir, steps[n - 1]);
        snprintf(buf, len, "the last checkpoint, %s, is intact", last);
        free(last);
    }
    free(steps);
}

char *burn_ckpt_find_latest(const char *dir, int *n_files) {
    remove_stale_temporaries(dir);
    int64_t *steps;
    int n = list_ckpts(dir, &steps);
    if (n_files) *n_files = n;
    char *found = NULL;
    for (int i = n - 1; i >= 0 && !found; i--) {
        char *p = ckpt_path(dir, steps[i]);
        burn_st_file f;
        burn_ckpt_state st;
        if (burn_st_open(&f, p) == 0 && validate(&f, &st) == 0) {
            found = p;
        } else {
            burn_warn("skipping checkpoint %s: %s", p, burn_error());
            free(p);
        }
        if (f.path) burn_st_close(&f);
    }
    free(steps);
    return found;
}

int burn_ckpt_load(const char *path, burn_params *ps, float *adam_m, float *adam_v,
                   burn_ckpt_state *st) {
    burn_st_file f;
    if (burn_st_open(&f, path) != 0) return -1;
    int rc = validate(&f, st);
    st->loss_scale = 0;
    st->loss_scale_good = st->skipped = 0;
    if (rc == 0 && burn_st_meta(&f, "loss_scale")) { /* an FP16 run's scaler */
        const char *v = burn_st_meta(&f, "loss_scale");
        char *end;
        st->loss_scale = strtod(v, &end);
        if (*end || !(st->loss_scale > 0) || !isfinite(st->loss_scale)) {
            burn_error_set("%s: metadata 'loss_scale' is not a positive number: '%s'", path, v);
            rc = -1;
        }
        if (rc == 0) rc = parse_meta_i64(&f, "loss_scale_good", &st->loss_scale_good);
        if (rc == 0) rc = parse_meta_i64(&f, "skipped_updates", &st->skipped);
    }
    if (rc == 0) rc = burn_params_load(ps, &f, "", 0);
    for (int j = 0; rc == 0 && j < f.n; j++) /* nothing unknown besides the optimiser state */
        if (strncmp(f.tensors[j].name, "optim.", 6) != 0 &&
            burn_params_find(ps, f.tensors[j].name) < 0) {
            burn_error_set("%s: tensor '%s' does not belong to this model (another config?)",
                           path, f.tensors[j].name);
            rc = -1;
        }
    if (rc == 0 && adam_m && adam_v) {
        float *h = burn_xmalloc((size_t)(ps->trainable ? ps->trainable : 1) * sizeof(float));
        rc = burn_st_read_f32(&f, "optim.adam_m", h, ps->trainable);
        if (rc == 0) ps->be->upload(adam_m, h, (size_t)ps->trainable * sizeof(float));
        if (rc == 0) rc = burn_st_read_f32(&f, "optim.adam_v", h, ps->trainable);
        if (rc == 0) ps->be->upload(adam_v, h, (size_t)ps->trainable * sizeof(float));
        free(h);
    }
    burn_st_close(&f);
    return rc;
}

int burn_ckpt_init_from(const burn_ckpt_source *src, burn_params *ps,
                        const char *const *prefixes) {
    struct stat sb;
    char *path = NULL;
    if (stat(src->path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        path = burn_ckpt_find_latest(src->path, NULL);
        if (!path) {
            burn_error_set("%s: no valid checkpoint in %s", src->option, src->path);
            return -1;
        }
    } else {
        path = burn_xstrdup(src->path);
    }
    burn_st_file f;
    if (burn_st_open(&f, path) != 0) {
        char *why = burn_xstrdup(burn_error());
        burn_error_set("%s: %s", src->option, why);
        free(why);
        free(path);
        return -1;
    }
    if (burn_ckpt_check_model(&f, src->option, src->model, src->any_stage) != 0) {
        burn_st_close(&f);
        free(path);
        return -1;
    }
    /* a registry holding only the tensors under the prefixes, viewing ps's memory */
    float *host = burn_xmalloc((size_t)(ps->total ? ps->total : 1) * sizeof(float));
    burn_params_download(ps, host);
    int rc = 0, loaded = 0;
    for (int i = 0; i < ps->n && rc == 0; i++) {
        int match = 0;
        for (const char *const *p = prefixes; *p && !match; p++)
            match = strncmp(ps->p[i].name, *p, strlen(*p)) == 0;
        if (!match) continue;
        const burn_st_tensor *t = burn_st_find(&f, ps->p[i].name);
        int same = t && t->ndim == ps->p[i].ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == ps->p[i].shape[d];
        if (!same) {
            burn_error_set("%s %s: tensor '%s' is %s (trained with another model config?)",
                           src->option, path, ps->p[i].name, t ? "of another shape" : "missing");
            rc = -1;
            break;
        }
        rc = burn_st_read_f32(&f, ps->p[i].name, host + ps->p[i].offset, ps->p[i].numel);
        loaded++;
    }
    if (rc == 0) ps->be->upload(ps->data, host, (size_t)ps->total * sizeof(float));
    if (rc == 0) burn_log("initialised %d tensors from %s", loaded, path);
    free(host);
    burn_st_close(&f);
    free(path);
    return rc;
}
