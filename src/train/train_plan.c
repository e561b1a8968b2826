/* train_plan.c — the scaffolding the training loops share (include/burn/train_plan.h): run
 * directory, data and schedule, resume and the rank-0 broadcast, batches, checkpoints. */
#include "burn/train_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/dist.h"
#include "burn/fileio.h"
#include "burn/preempt.h"
#include "burn/run_dir.h"

static int fail(const burn_train_plan *p, int code) {
    fprintf(stderr, "%s: %s\n", p->prog, burn_error());
    return code;
}

int burn_train_plan_init(burn_train_plan *p, const burn_config *cfg, const burn_backend *be,
                         burn_run_mode mode, const char *prog) {
    memset(p, 0, sizeof *p);
    p->prog = prog;
    p->mode = mode;
    p->lock_fd = -1;
    p->dir = cfg->run_dir;
    p->be = be;
    p->N = (int)cfg->train_batch_size;
    p->accum = (int)cfg->train_accum;
    burn_dist_opts dopts;
    burn_dist_opts_from_config(&dopts, cfg);
    p->sync_all_bn = dopts.sync_all_bn;
    if (burn_dist_attach(be, &dopts) != 0) return fail(p, 1);
    /* rank 0 writes: it alone claims run.dir, before it touches anything there */
    static const char *const outputs[] = BURN_RUN_TRAIN_OUTPUTS;
    int code = 0;
    if (burn_rank == 0 && (p->lock_fd = burn_run_dir_claim(p->dir, mode, outputs, &code)) < 0)
        return fail(p, code);
    if (burn_rank == 0 && mode == BURN_RUN_RESUME) { /* the one lookup of what to resume */
        int files = 0;
        p->resume_from = burn_ckpt_find_latest(p->dir, &files);
        if (!p->resume_from && files > 0) { /* never restart a corrupt run over its files */
            burn_error_set("--resume: none of the %d checkpoint(s) in %s is valid (each is "
                           "named above with its reason); nothing was changed: remove or "
                           "repair them, or pass --overwrite to start again", files, p->dir);
            return fail(p, 1);
        }
        burn_st_file f; /* the run goes on with its own model, or not at all */
        if (p->resume_from && burn_st_open(&f, p->resume_from) == 0) {
            int other = burn_ckpt_check_model(&f, "--resume:", cfg, 0);
            burn_st_close(&f);
            if (other) return fail(p, 2);
        }
        if (!p->resume_from) { /* nothing yet: a new run, whose train.init_from applies */
            burn_log("--resume: no checkpoint in %s, starting from the beginning", p->dir);
            p->mode = BURN_RUN_NEW;
        }
    }
    char *path = NULL;
    if (burn_rank == 0 &&
        (asprintf(&path, "%s/config.ini", p->dir) < 0 || burn_config_save(cfg, path) != 0)) {
        free(path);
        return fail(p, 1);
    }
    free(path);

    /* the data and the schedule first: a batch larger than the data set is a clear error
     * before a model allocates activations for it */
    p->src = burn_source_from_config(cfg, "train");
    if (!p->src) return fail(p, 2);
    burn_loader_opts *lo = &p->lo;
    burn_loader_opts_from_config(lo, cfg);
    lo->batch = p->N;
    lo->views = 2;
    lo->train = 1;
    lo->rank = burn_rank;
    lo->world = burn_world_size;
    lo->shuffle = 1;
    lo->epochs = 0;
    lo->be = be;
    burn_sampler sampler;
    if (burn_sampler_init(&sampler, p->src->count, p->N, lo->rank, lo->world, 1, lo->drop_last,
                          lo->seed))
        return fail(p, 2);
    p->spe = sampler.steps_per_epoch;
    burn_sampler_free(&sampler);
    p->total = cfg->train_epochs * p->spe / p->accum;
    if (p->total < 1) {
        fprintf(stderr, "%s: %lld images at batch %d × accum %d give no optimiser update per "
                        "run; lower train.batch_size or train.accum\n",
                prog, (long long)p->src->count, p->N, p->accum);
        return 2;
    }
    p->stop = cfg->train_max_steps > 0 && cfg->train_max_steps < p->total ? cfg->train_max_steps
                                                                          : p->total;
    p->warmup = (int64_t)(cfg->train_warmup_epochs * (double)p->spe / p->accum);
    return 0;
}

/* Rank 0: load the newest checkpoint (found by burn_train_plan_init) and map its position
 * onto this run's layout. */
static int load_latest(burn_train_plan *p, burn_params *ps, float *adam_m, float *adam_v,
                       burn_ckpt_state *st) {
    const char *latest = p->resume_from;
    const char *kind = st->kind; /* the loop's own; the file's is checked by the tensor names */
    burn_dist_layout saved;
    if (burn_ckpt_load(latest, ps, adam_m, adam_v, st) != 0 ||
        burn_dist_ckpt_layout(latest, &saved) != 0) {
        fail(p, 1);
        return -1;
    }
    st->kind = kind;
    /* the same share of the run under this run's world size, batch and accum */
    int64_t spe_saved = p->spe;
    if (saved.world != burn_world_size || saved.batch != p->N) {
        burn_sampler s;
        if (burn_sampler_init(&s, p->src->count, (int)saved.batch, 0, saved.world, 1,
                              p->lo.drop_last, p->lo.seed) != 0) {
            fprintf(stderr, "%s: %s: %s\n", p->prog, latest, burn_error());
            return -1;
        }
        spe_saved = s.steps_per_epoch;
        burn_sampler_free(&s);
    }
    int64_t u0 = burn_dist_resume_update(st->micro_step, spe_saved, p->spe, p->accum);
    if (u0 != st->step)
        burn_log("%s was written by %d rank(s) × batch %lld × accum %lld at update %lld "
                 "(epoch %.3f); here %d rank(s) × batch %d × accum %d: update %lld",
                 latest, saved.world, (long long)saved.batch, (long long)saved.accum,
                 (long long)st->step, (double)st->micro_step / (double)spe_saved,
                 burn_world_size, p->N, p->accum, (long long)u0);
    st->step = u0;
    st->micro_step = u0 * p->accum;
    burn_log("resumed from %s at update %lld", latest, (long long)st->step);
    if (st->step >= p->stop)
        burn_log("the run in %s is complete (update %lld of %lld): nothing to train", p->dir,
                 (long long)st->step, (long long)p->stop);
    return 0;
}

int burn_train_plan_resume(burn_train_plan *p, burn_params *ps, float *adam_m, float *adam_v,
                           burn_ckpt_state *st) {
    if (p->mode == BURN_RUN_RESUME && burn_rank == 0 && load_latest(p, ps, adam_m, adam_v, st) != 0)
        return -1;
    if (burn_world_size > 1) { /* rank 0's start state to everyone (numbers only: kind is a
                                * pointer of this process) */
        int64_t pos[4] = {st->step, st->micro_step, st->loss_scale_good, st->skipped};
        burn_dist_bcast_host(pos, sizeof pos);
        burn_dist_bcast_host(&st->loss_scale, sizeof st->loss_scale);
        st->step = pos[0];
        st->micro_step = pos[1];
        st->loss_scale_good = pos[2];
        st->skipped = pos[3];
        const burn_backend *be = p->be;
        burn_dist_bcast_backend(be, ps->data, (size_t)ps->total * sizeof(float));
        burn_dist_bcast_backend(be, adam_m, (size_t)ps->trainable * sizeof(float));
        burn_dist_bcast_backend(be, adam_v, (size_t)ps->trainable * sizeof(float));
    }
    return 0;
}

int burn_train_plan_start(burn_train_plan *p, const burn_ckpt_state *st) {
    p->lo.start_epoch = st->micro_step / p->spe;
    p->lo.start_step = st->micro_step % p->spe;
    p->loader = burn_loader_create(p->src, &p->lo);
    if (!p->loader) return fail(p, -1);
    char *mpath = NULL;
    if (burn_rank == 0 && (asprintf(&mpath, "%s/metrics.jsonl", p->dir) < 0 ||
                           burn_metrics_open(&p->metrics, mpath, st->step))) {
        free(mpath);
        return fail(p, -1);
    }
    free(mpath);
    burn_preempt_install();
    if (p->be->is_device) {
        size_t bytes = (size_t)p->N * 3 * p->lo.size * p->lo.size * sizeof(float);
        p->dv[0] = p->be->alloc(bytes);
        p->dv[1] = p->be->alloc(bytes);
    }
    return 0;
}

int burn_train_plan_next(burn_train_plan *p, const float *v[2]) {
    const burn_batch *b;
    if (burn_loader_next(p->loader, &b) != 0) return fail(p, -1);
    for (int i = 0; i < 2; i++) {
        v[i] = b->x[i];
        if (p->be->is_device) {
            p->be->upload(p->dv[i], b->x[i], (size_t)p->N * 3 * b->h * b->w * sizeof(float));
            v[i] = p->dv[i];
        }
    }
    return 0;
}

static int write_checkpoint(burn_train_plan *p, const burn_config *cfg, const burn_params *ps,
                            const float *adam_m, const float *adam_v, const burn_ckpt_state *st,
                            burn_train_result *result) {
    if (burn_rank != 0) return 0;
    char *written = NULL;
    if (burn_ckpt_save(p->dir, ps, adam_m, adam_v, st, cfg, burn_world_size,
                       (int)cfg->train_keep_ckpts, &written) != 0) {
        fprintf(stderr, "%s: checkpoint failed: %s\n", p->prog, burn_error());
        return -1;
    }
    free(result->final_checkpoint);
    result->final_checkpoint = written;
    return 0;
}

int burn_train_plan_after_update(burn_train_plan *p, const burn_config *cfg,
                                 const burn_params *ps, const float *adam_m, const float *adam_v,
                                 const burn_ckpt_state *st, burn_train_result *result) {
    int due = st->step == p->stop ||
              (cfg->train_ckpt_every > 0 && st->step % cfg->train_ckpt_every == 0);
    int sig = burn_preempt_pending();
    if ((due || sig) && write_checkpoint(p, cfg, ps, adam_m, adam_v, st, result) != 0) return -1;
    if (!sig || st->step == p->stop) return 0; /* the run is complete anyway */
    if (burn_rank == 0)
        fprintf(stderr, "%s: %s: stopped after update %lld of %lld, checkpoint %s; the same "
                        "command with --resume continues\n", p->prog, strsignal(sig),
                (long long)st->step, (long long)p->stop, result->final_checkpoint);
    return 128 + sig;
}

void burn_train_plan_finish(burn_train_plan *p, burn_train_result *result) {
    if (!result->final_checkpoint && p->resume_from) /* resumed a complete run */
        result->final_checkpoint = burn_xstrdup(p->resume_from);
    if (burn_world_size > 1) { /* every rank returns the path (the pipeline's stage 2 needs it) */
        int64_t len = burn_rank == 0 && result->final_checkpoint
                          ? (int64_t)strlen(result->final_checkpoint) + 1 : 0;
        burn_dist_bcast_host(&len, sizeof len);
        if (burn_rank != 0 && len > 0) {
            free(result->final_checkpoint);
            result->final_checkpoint = burn_xmalloc((size_t)len);
        }
        if (len > 0) burn_dist_bcast_host(result->final_checkpoint, (size_t)len);
    }
    if (p->loader && burn_loader_bad_count(p->loader) > 0)
        burn_warn("%lld unreadable images were skipped", (long long)burn_loader_bad_count(p->loader));
}

void burn_train_plan_free(burn_train_plan *p) {
    burn_metrics_close(&p->metrics);
    if (p->loader) burn_loader_free(p->loader);
    if (p->src) burn_source_free(p->src);
    for (int i = 0; i < 2; i++)
        if (p->dv[i]) p->be->free(p->dv[i]);
    burn_preempt_uninstall();
    burn_run_dir_release(p->lock_fd);
    free(p->resume_from);
    memset(p, 0, sizeof *p);
    p->lock_fd = -1;
}

double burn_backend_norm(const burn_backend *be, const float *x, int64_t n, float *scratch) {
    float h;
    be->sumsq(scratch, x, n);
    be->download(&h, scratch, sizeof h);
    return sqrt((double)h);
}
