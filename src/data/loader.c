/* loader.c — the batch loader: worker threads decode and augment images ahead of the consumer
 * into a ring of batch buffers (be->host_alloc: page-locked on CUDA).
 *
 * Work is handed out one image at a time in global order (image g = batch g / B, slot g % B),
 * so every worker helps with the oldest unfinished batch. Batch q lives in ring slot
 * q mod nslots and may be started once the consumer has released batch q - nslots. What an
 * image slot receives depends only on (seed, epoch, step, rank, slot): the sampler fixes the
 * dataset index, the augmentation key is (seed, epoch, index, view). Hence identical batches
 * for any number of workers, any prefetch depth and any timing.
 *
 * Bad images (unreadable, corrupt, over a limit) are replaced by a deterministic substitute,
 * warned about once, counted (distinct indices); more than max_bad_fraction of the dataset
 * stops the loader with an error. Errors reach the consumer as -1 from burn_loader_next.
 * Waiting is on condition variables (no polling loops); the consumer wakes once a second (or
 * every quarter of the timeout) to check for a stall: no image finished for stall_timeout
 * seconds is an error that names what each busy worker is stuck on. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "burn/check.h"
#include "burn/data.h"
#include "burn/log.h"
#include "burn/rng.h"

enum { MAX_SUBSTITUTES = 16 };

typedef struct slot {
    int64_t seq; /* batch held or being built; -1 = none yet */
    int done;    /* images finished */
    burn_batch b;
    void *mem;   /* host_alloc block behind b's arrays */
} slot;

typedef struct worker {
    struct burn_loader *l;
    pthread_t thread;
    int started, exited;
    burn_image img;
    burn_aug_scratch ws;
    int64_t busy_index; /* dataset index being processed, -1 idle */
    double busy_since;
} worker;

struct burn_loader {
    const burn_source *src;
    burn_loader_opts o;
    burn_sampler sampler;
    int nslots;
    slot *slots;
    int nworkers;
    worker *workers;
    worker inline_worker; /* workers = 0: the consumer's own scratch */

    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* workers: new work may be claimable, or stop */
    pthread_cond_t ready_cv; /* consumer: a batch finished, or an error */
    pthread_cond_t exit_cv;  /* free: a worker has exited */
    int64_t next_image;      /* next global image to claim */
    int64_t released;        /* batches [0, released) are given back by the consumer */
    int64_t consumer_seq;    /* next batch for the consumer */
    int64_t held;            /* batch the consumer holds, -1 none */
    int64_t total_batches;   /* -1 = endless */
    int stop;
    char *error;
    double last_progress;
    double wait_seconds;

    uint8_t *bad;      /* [count] bitmap of indices that failed */
    int64_t bad_count, bad_limit;
};

/* ---- helpers (mu held where said) ---- */

static double now_s(void) { return burn_now(); }

/* mu held. The first error wins; everyone is woken. */
static void fail_locked(burn_loader *l, const char *msg) {
    if (!l->error) l->error = burn_xstrdup(msg);
    l->stop = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_cond_broadcast(&l->ready_cv);
}

/* mu held. Fill the slot for batch q: position, indices, padding flags. */
static void open_batch_locked(burn_loader *l, int64_t q) {
    slot *s = &l->slots[q % l->nslots];
    int64_t spe = l->sampler.steps_per_epoch;
    int64_t pos = l->o.start_step + q;
    s->seq = q;
    s->done = 0;
    s->b.epoch = l->o.start_epoch + pos / spe;
    s->b.step = pos % spe;
    s->b.n_real = burn_sampler_batch(&l->sampler, s->b.epoch, s->b.step, s->b.indices,
                                     s->b.is_pad);
}

/* mu held. Record that index i failed; 0 to go on, -1 once past the limit (error set). */
static int record_bad_locked(burn_loader *l, int64_t i, const char *why) {
    if (!(l->bad[i / 8] & (1u << (i % 8)))) {
        l->bad[i / 8] |= (uint8_t)(1u << (i % 8));
        l->bad_count++;
        burn_warn("data: skipping bad image %lld (%lld so far, at most %lld allowed): %s",
                  (long long)i, (long long)l->bad_count, (long long)l->bad_limit, why);
    }
    if (l->bad_count > l->bad_limit) {
        char *msg = NULL;
        if (asprintf(&msg, "data: %lld of %lld images could not be loaded, more than "
                     "data.max_bad_fraction = %g allows (last: %s)",
                     (long long)l->bad_count, (long long)l->src->count, l->o.max_bad_fraction,
                     why) < 0)
            msg = NULL;
        fail_locked(l, msg ? msg : "data: too many bad images");
        free(msg);
        return -1;
    }
    return 0;
}

/* A deterministic stand-in for a bad image: depends on (seed, epoch, index, attempt). */
static int64_t substitute(const burn_loader *l, int64_t epoch, int64_t index, int attempt) {
    burn_philox4 r = burn_philox4x32_10((uint32_t)index, (uint32_t)((uint64_t)index >> 32),
                                        (uint32_t)epoch, 0x53554200u + (uint32_t)attempt,
                                        (uint32_t)l->o.seed, (uint32_t)(l->o.seed >> 32));
    uint64_t word = (uint64_t)r.v[0] | (uint64_t)r.v[1] << 32;
    return (int64_t)(((unsigned __int128)word * (uint64_t)l->src->count) >> 64);
}

/* Make image slot k of batch slot s (mu NOT held). 0, or -1 after fail_locked. */
static int make_image(burn_loader *l, worker *w, slot *s, int k) {
    int64_t index = s->b.indices[k], epoch = s->b.epoch;
    int attempt = 0;
    for (;;) {
        int rc = burn_source_load(l->src, index, &w->img);
        if (rc == 0 && w->img.w > 0 && w->img.h > 0) break;
        char why[1024];
        if (rc == 0) /* a source's bug, not the data's: still never crash on it */
            snprintf(why, sizeof why, "%s[%lld]: empty image (%dx%d)", l->src->kind,
                     (long long)index, w->img.w, w->img.h);
        else
            snprintf(why, sizeof why, "%s", burn_error());
        pthread_mutex_lock(&l->mu);
        int failed = record_bad_locked(l, index, why);
        if (!failed && attempt == MAX_SUBSTITUTES) {
            fail_locked(l, "data: 16 substitutes in a row failed to load; is the dataset "
                           "readable at all?");
            failed = 1;
        }
        index = substitute(l, epoch, s->b.indices[k], attempt++);
        w->busy_index = index; /* read by the stall report, under mu */
        pthread_mutex_unlock(&l->mu);
        if (failed) return -1;
    }
    s->b.indices[k] = index;
    s->b.labels[k] = l->src->labels[index];
    size_t per_image = (size_t)3 * l->o.size * l->o.size;
    for (int v = 0; v < l->o.views; v++) {
        float *out = s->b.x[v] + (size_t)k * per_image;
        if (l->o.train)
            burn_aug_train_view(&w->img, l->o.size, &l->o.aug,
                                burn_aug_key_make(l->o.seed, epoch, index, v), &w->ws, out);
        else
            burn_aug_eval_view(&w->img, l->o.size, &l->o.aug, &w->ws, out);
    }
    return 0;
}

/* mu held: can the next image be claimed? */
static int claimable_locked(const burn_loader *l) {
    int64_t b = l->o.batch;
    int64_t q = l->next_image / b;
    if (l->total_batches >= 0 && q >= l->total_batches) return 0;
    return q < l->released + l->nslots;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    burn_loader *l = w->l;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && !claimable_locked(l)) pthread_cond_wait(&l->work_cv, &l->mu);
        if (l->stop) break;
        int64_t g = l->next_image++;
        int64_t q = g / l->o.batch;
        int k = (int)(g % l->o.batch);
        if (k == 0) open_batch_locked(l, q); /* claims are in order: k = 0 comes first */
        slot *s = &l->slots[q % l->nslots];
        w->busy_index = s->b.indices[k];
        w->busy_since = now_s();
        pthread_mutex_unlock(&l->mu);

        int rc = make_image(l, w, s, k);

        pthread_mutex_lock(&l->mu);
        w->busy_index = -1;
        if (rc != 0) break; /* make_image has set the error and stop */
        l->last_progress = now_s();
        if (++s->done == l->o.batch) pthread_cond_broadcast(&l->ready_cv);
    }
    w->exited = 1;
    pthread_cond_broadcast(&l->exit_cv);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- public ---- */

void burn_loader_opts_from_config(burn_loader_opts *o, const burn_config *cfg) {
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->views = (int)cfg->data_views;
    o->train = 1;
    o->size = (int)cfg->data_image_size;
    o->workers = (int)cfg->data_workers;
    o->prefetch = (int)cfg->data_prefetch;
    o->rank = 0;
    o->world = 1;
    o->shuffle = 1;
    o->drop_last = cfg->data_drop_last;
    o->seed = (uint64_t)cfg->run_seed;
    o->max_bad_fraction = cfg->data_max_bad_fraction;
    o->stall_timeout_s = cfg->data_stall_timeout;
    burn_aug_params_from_config(&o->aug, cfg);
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

burn_loader *burn_loader_create(const burn_source *src, const burn_loader_opts *o) {
    if (o->views < 1 || o->views > 2 || o->size < 1 || o->size > 16384 || o->workers < 0 ||
        o->workers > 1024 || o->prefetch < 1 || o->batch < 1 || !o->be ||
        !(o->max_bad_fraction >= 0 && o->max_bad_fraction <= 1) || o->start_epoch < 0 ||
        o->start_step < 0) {
        burn_error_set("data loader: bad options (views %d, size %d, workers %d, prefetch %d, "
                       "batch %d, max_bad_fraction %g, start %lld/%lld)",
                       o->views, o->size, o->workers, o->prefetch, o->batch,
                       o->max_bad_fraction, (long long)o->start_epoch, (long long)o->start_step);
        return NULL;
    }
    if (burn_aug_params_check(&o->aug) != 0) return NULL;
    burn_loader *l = burn_xcalloc(1, sizeof *l);
    l->src = src;
    l->o = *o;
    if (l->o.stall_timeout_s <= 0) l->o.stall_timeout_s = 120.0;
    if (burn_sampler_init(&l->sampler, src->count, o->batch, o->rank, o->world, o->shuffle,
                          o->drop_last, o->seed) != 0) {
        free(l);
        return NULL;
    }
    int64_t spe = l->sampler.steps_per_epoch;
    if (o->start_step >= spe) {
        burn_error_set("data loader: resume step %lld is past the %lld steps of an epoch",
                       (long long)o->start_step, (long long)spe);
        burn_sampler_free(&l->sampler);
        free(l);
        return NULL;
    }
    l->total_batches = -1;
    if (o->epochs > 0) {
        int64_t t = o->epochs * spe - (o->start_epoch * spe + o->start_step);
        l->total_batches = t > 0 ? t : 0;
    }
    l->bad_limit = (int64_t)(o->max_bad_fraction * (double)src->count);
    l->bad = burn_xcalloc((size_t)(src->count + 7) / 8, 1);

    /* one host block per slot: views × [B][3][S][S] floats, then indices, labels, pad flags */
    l->nslots = o->prefetch + 1; /* + the one the consumer holds */
    l->slots = burn_xcalloc((size_t)l->nslots, sizeof(slot));
    size_t per_view = (size_t)o->batch * 3 * o->size * o->size * sizeof(float);
    size_t off_idx = align64(per_view * o->views);
    size_t off_lab = off_idx + align64((size_t)o->batch * sizeof(int64_t));
    size_t off_pad = off_lab + align64((size_t)o->batch * sizeof(int32_t));
    size_t bytes = off_pad + align64((size_t)o->batch);
    for (int i = 0; i < l->nslots; i++) {
        slot *s = &l->slots[i];
        s->seq = -1;
        s->mem = o->be->host_alloc(bytes);
        char *m = s->mem;
        s->b.n = o->batch;
        s->b.views = o->views;
        s->b.h = s->b.w = o->size;
        for (int v = 0; v < o->views; v++) s->b.x[v] = (float *)(m + per_view * v);
        s->b.indices = (int64_t *)(m + off_idx);
        s->b.labels = (int32_t *)(m + off_lab);
        s->b.is_pad = (uint8_t *)(m + off_pad);
    }
    l->held = -1;
    l->inline_worker.l = l;
    l->inline_worker.busy_index = -1;
    l->last_progress = now_s();

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->ready_cv, &ca);
    pthread_cond_init(&l->exit_cv, &ca);
    pthread_condattr_destroy(&ca);

    l->nworkers = o->workers;
    l->workers = burn_xcalloc((size_t)(o->workers ? o->workers : 1), sizeof(worker));
    for (int i = 0; i < o->workers; i++) {
        worker *w = &l->workers[i];
        w->l = l;
        w->busy_index = -1;
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            burn_error_set("data loader: cannot start worker thread %d: %s", i, strerror(e));
            l->nworkers = i;
            burn_loader_free(l);
            return NULL;
        }
        w->started = 1;
    }
    return l;
}

/* workers = 0: build batch q on the calling thread. */
static int build_inline(burn_loader *l, int64_t q) {
    pthread_mutex_lock(&l->mu);
    open_batch_locked(l, q);
    pthread_mutex_unlock(&l->mu);
    slot *s = &l->slots[q % l->nslots];
    for (int k = 0; k < l->o.batch; k++)
        if (make_image(l, &l->inline_worker, s, k) != 0) return -1;
    s->done = l->o.batch;
    return 0;
}

static void stall_message_locked(burn_loader *l, double waited) {
    char msg[2048];
    int n = snprintf(msg, sizeof msg,
                     "data loader stalled: no image finished for %.1f s (data.stall_timeout)",
                     waited);
    for (int i = 0; i < l->nworkers && n < (int)sizeof msg - 200; i++) {
        worker *w = &l->workers[i];
        if (w->busy_index < 0) continue;
        char what[512];
        l->src->describe(l->src, w->busy_index, what, sizeof what);
        n += snprintf(msg + n, sizeof msg - (size_t)n, "; worker %d has been on %s for %.1f s",
                      i, what, now_s() - w->busy_since);
    }
    fail_locked(l, msg);
}

int burn_loader_next(burn_loader *l, const burn_batch **out) {
    *out = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->held >= 0) { /* give the previous batch's buffer back to the workers */
        l->released = l->held + 1;
        l->held = -1;
        pthread_cond_broadcast(&l->work_cv);
    }
    if (l->error) {
        burn_error_set("%s", l->error);
        pthread_mutex_unlock(&l->mu);
        return -1;
    }
    int64_t q = l->consumer_seq;
    if (l->total_batches >= 0 && q >= l->total_batches) {
        pthread_mutex_unlock(&l->mu);
        return 1;
    }
    slot *s = &l->slots[q % l->nslots];
    double t0 = now_s();
    if (l->nworkers == 0) {
        pthread_mutex_unlock(&l->mu);
        int rc = build_inline(l, q);
        pthread_mutex_lock(&l->mu);
        if (rc != 0) {
            burn_error_set("%s", l->error ? l->error : "data loader failed");
            pthread_mutex_unlock(&l->mu);
            return -1;
        }
    } else {
        while (!l->error && !(s->seq == q && s->done == l->o.batch)) {
            /* wake at most once a second (a quarter of the timeout when that is shorter) */
            double nap = l->o.stall_timeout_s / 4 < 1.0 ? l->o.stall_timeout_s / 4 : 1.0;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            long ns = ts.tv_nsec + (long)(nap * 1e9);
            ts.tv_sec += ns / 1000000000L;
            ts.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&l->ready_cv, &l->mu, &ts);
            /* progress is measured from when waiting began or the last image, whichever
             * is later: idle workers with a full ring are not stalled */
            double since = now_s() - (l->last_progress > t0 ? l->last_progress : t0);
            if (!l->error && since > l->o.stall_timeout_s) stall_message_locked(l, since);
        }
        if (l->error) {
            burn_error_set("%s", l->error);
            pthread_mutex_unlock(&l->mu);
            return -1;
        }
    }
    l->wait_seconds += now_s() - t0;
    l->held = q;
    l->consumer_seq = q + 1;
    *out = &s->b;
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int64_t burn_loader_bad_count(const burn_loader *l) {
    pthread_mutex_lock((pthread_mutex_t *)&l->mu);
    int64_t n = l->bad_count;
    pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
    return n;
}

int64_t burn_loader_steps_per_epoch(const burn_loader *l) { return l->sampler.steps_per_epoch; }

double burn_loader_wait_seconds(const burn_loader *l) { return l->wait_seconds; }

void burn_loader_free(burn_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->work_cv);
    /* wait for the workers to leave, but not forever: one stuck in a read of a dead network
     * file system must not hang the program's exit */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(l->o.stall_timeout_s > 10 ? 10 : l->o.stall_timeout_s) + 1;
    int stuck = 0;
    for (int i = 0; i < l->nworkers; i++) {
        while (!l->workers[i].exited)
            if (pthread_cond_timedwait(&l->exit_cv, &l->mu, &deadline) == ETIMEDOUT) break;
        if (!l->workers[i].exited) stuck++;
    }
    pthread_mutex_unlock(&l->mu);
    if (stuck) {
        burn_warn("data loader: %d worker(s) did not stop in time; they are left running and "
                  "the loader's memory is not freed", stuck);
        for (int i = 0; i < l->nworkers; i++) pthread_detach(l->workers[i].thread);
        return;
    }
    for (int i = 0; i < l->nworkers; i++) {
        pthread_join(l->workers[i].thread, NULL);
        burn_image_free(&l->workers[i].img);
        burn_aug_scratch_free(&l->workers[i].ws);
    }
    burn_image_free(&l->inline_worker.img);
    burn_aug_scratch_free(&l->inline_worker.ws);
    for (int i = 0; i < l->nslots; i++)
        if (l->slots[i].mem) l->o.be->host_free(l->slots[i].mem);
    free(l->slots);
    free(l->workers);
    free(l->bad);
    free(l->error);
    burn_sampler_free(&l->sampler);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work_cv);
    pthread_cond_destroy(&l->ready_cv);
    pthread_cond_destroy(&l->exit_cv);
    free(l);
}

int burn_loader_next_view(burn_loader *l, const burn_backend *be, int v, float *dev,
                          const burn_batch **out, const float **x) {
    int r = burn_loader_next(l, out);
    if (r != 0) return r;
    const burn_batch *b = *out;
    *x = b->x[v];
    if (be->is_device) {
        be->upload(dev, b->x[v], (size_t)b->n * 3 * b->h * b->w * sizeof(float));
        *x = dev;
    }
    return 0;
}
