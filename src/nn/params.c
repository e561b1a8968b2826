/* params.c — the parameter registry: named views into one contiguous backend buffer,
 * host-side initialisation, and strict safetensors save/load. */
#include "burn/params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/rng.h"

#define ALIGN_FLOATS 16

void burn_params_init_registry(burn_params *ps) { memset(ps, 0, sizeof *ps); }

int burn_params_add(burn_params *ps, const char *name, burn_param_kind kind, int ndim,
                    const int64_t *shape, burn_init init, float init_value) {
    if (ps->data)
        burn_check_fail("burn", "burn_params_add", __FILE__, __LINE__,
                        "registry already finalized", name);
    if (ndim < 0 || ndim > 4)
        burn_check_fail("burn", "burn_params_add", __FILE__, __LINE__, "ndim must be 0..4", name);
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 64;
        ps->p = burn_xrealloc(ps->p, sizeof(burn_param) * (size_t)ps->cap);
    }
    burn_param *p = &ps->p[ps->n];
    memset(p, 0, sizeof *p);
    p->name = burn_xstrdup(name);
    p->ndim = ndim;
    p->numel = 1;
    for (int d = 0; d < ndim; d++) {
        p->shape[d] = shape[d];
        p->numel *= shape[d];
    }
    p->kind = kind;
    p->init = init;
    p->init_value = init_value;
    return ps->n++;
}

void burn_params_finalize(burn_params *ps, const burn_backend *be) {
    for (int i = 0; i < ps->n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(ps->p[i].name, ps->p[j].name) == 0)
                burn_check_fail("burn", "burn_params_finalize", __FILE__, __LINE__,
                                "parameter registered twice", ps->p[i].name);
    int64_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        burn_param_kind want = pass == 0 ? BURN_PARAM_TRAINABLE : BURN_PARAM_BUFFER;
        for (int i = 0; i < ps->n; i++) {
            if (ps->p[i].kind != want) continue;
            ps->p[i].offset = off;
            off += (ps->p[i].numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        }
        if (pass == 0) ps->trainable = off;
    }
    ps->total = off;
    ps->be = be;
    ps->data = be->alloc((size_t)(ps->total ? ps->total : 1) * sizeof(float));
    ps->grad = be->alloc((size_t)(ps->trainable ? ps->trainable : 1) * sizeof(float));
    be->fill(ps->data, 0.0f, ps->total); /* alignment gaps stay 0 */
    be->fill(ps->grad, 0.0f, ps->trainable);
}

void burn_params_free(burn_params *ps) {
    if (ps->data) ps->be->free(ps->data);
    if (ps->grad) ps->be->free(ps->grad);
    for (int i = 0; i < ps->n; i++) free(ps->p[i].name);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

int burn_params_find(const burn_params *ps, const char *name) {
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].name, name) == 0) return i;
    return -1;
}

float *burn_param_data(const burn_params *ps, int i) { return ps->data + ps->p[i].offset; }

float *burn_param_grad(const burn_params *ps, int i) {
    return ps->p[i].kind == BURN_PARAM_TRAINABLE ? ps->grad + ps->p[i].offset : NULL;
}

void burn_params_init(burn_params *ps, uint64_t seed) {
    float *host = burn_xcalloc((size_t)(ps->total ? ps->total : 1), sizeof(float));
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        float *x = host + p->offset;
        switch (p->init) {
        case BURN_INIT_ZERO: break;
        case BURN_INIT_ONE:
            for (int64_t k = 0; k < p->numel; k++) x[k] = 1.0f;
            break;
        case BURN_INIT_CONST:
            for (int64_t k = 0; k < p->numel; k++) x[k] = p->init_value;
            break;
        case BURN_INIT_KAIMING_NORMAL: {
            int64_t fan_in = p->ndim > 0 && p->shape[0] > 0 ? p->numel / p->shape[0] : 1;
            float std = (float)sqrt(2.0 / (double)(fan_in > 0 ? fan_in : 1));
            for (int64_t k = 0; k < p->numel; k++)
                x[k] = burn_rng_normal(seed, (uint64_t)(p->offset + k), 0.0f, std);
            break;
        }
        }
    }
    ps->be->upload(ps->data, host, (size_t)ps->total * sizeof(float));
    free(host);
}

void burn_params_download(const burn_params *ps, float *host) {
    ps->be->download(host, ps->data, (size_t)ps->total * sizeof(float));
}

void burn_params_add_to_writer(const burn_params *ps, burn_st_writer *w, const char *prefix,
                               const float *host) {
    for (int i = 0; i < ps->n; i++) {
        char *name = NULL;
        if (asprintf(&name, "%s%s", prefix, ps->p[i].name) < 0)
            burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
        burn_st_add(w, name, BURN_F32, ps->p[i].ndim, ps->p[i].shape, host + ps->p[i].offset);
        free(name);
    }
}

/* File name of parameter p: add + (p's name without the leading `drop`). Caller frees. */
static char *file_name(const burn_param *p, const char *drop, const char *add) {
    const char *base = p->name;
    size_t dl = strlen(drop);
    if (strncmp(base, drop, dl) == 0) base += dl;
    char *name = NULL;
    if (asprintf(&name, "%s%s", add, base) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    return name;
}

static void shape_text(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t used = 0;
    buf[0] = 0;
    if (ndim == 0) snprintf(buf, n, "scalar");
    for (int d = 0; d < ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? "x" : "", (long long)shape[d]);
}

int burn_params_load_renamed(burn_params *ps, const burn_st_file *f, const char *drop,
                             const char *add, int no_extra) {
    /* 1. every tensor present with the right shape */
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        char *name = file_name(p, drop, add);
        const burn_st_tensor *t = burn_st_find(f, name);
        int ok = t && t->ndim == p->ndim;
        for (int d = 0; ok && d < p->ndim; d++) ok = t->shape[d] == p->shape[d];
        if (!ok) {
            char have[96] = "missing", want[96];
            shape_text(want, sizeof want, p->ndim, p->shape);
            if (t) {
                char dims[90];
                shape_text(dims, sizeof dims, t->ndim, t->shape);
                snprintf(have, sizeof have, "shape %s", dims);
            }
            burn_error_set("%s: tensor '%s': %s, the model expects shape %s", f->path, name,
                           have, want);
            free(name);
            return -1;
        }
        free(name);
    }
    /* 2. nothing extra under the prefix */
    size_t alen = strlen(add);
    if (no_extra)
        for (int j = 0; j < f->n; j++) {
            const char *nm = f->tensors[j].name;
            if (strncmp(nm, add, alen) != 0) continue;
            int found = 0;
            for (int i = 0; i < ps->n && !found; i++) {
                char *name = file_name(&ps->p[i], drop, add);
                found = strcmp(name, nm) == 0;
                free(name);
            }
            if (!found) {
                burn_error_set("%s: tensor '%s' does not belong to this model (wrong "
                               "architecture or width?)",
                               f->path, nm);
                return -1;
            }
        }
    /* 3. convert into a host copy (checks dtype and finiteness), then upload all at once */
    float *host = burn_xcalloc((size_t)(ps->total ? ps->total : 1), sizeof(float));
    for (int i = 0; i < ps->n; i++) {
        char *name = file_name(&ps->p[i], drop, add);
        int rc = burn_st_read_f32(f, name, host + ps->p[i].offset, ps->p[i].numel);
        free(name);
        if (rc != 0) {
            free(host);
            return -1;
        }
    }
    ps->be->upload(ps->data, host, (size_t)ps->total * sizeof(float));
    free(host);
    return 0;
}

int burn_params_load(burn_params *ps, const burn_st_file *f, const char *prefix, int no_extra) {
    return burn_params_load_renamed(ps, f, "", prefix, no_extra);
}

int64_t burn_params_count(const burn_params *ps, int trainable_only, int binary_only) {
    int64_t n = 0;
    for (int i = 0; i < ps->n; i++) {
        if (trainable_only && ps->p[i].kind != BURN_PARAM_TRAINABLE) continue;
        if (binary_only && !ps->p[i].binary) continue;
        n += ps->p[i].numel;
    }
    return n;
}
