/* train_ssl.c — the training loop of the BYOL and MoCo v2 baselines on the binary student
 * (train.method = byol|moco; include/burn/ssl.h). It is BURN's loop (src/train.c) with the
 * model swapped, so the comparison is like with like: the same loader and augmentations, the
 * same Adam with warm-up + cosine LR over [0, online_len), gradient accumulation, metrics,
 * checkpoints and resume. Per optimiser update u of U:
 *   τ(u) (BYOL: cosine from byol.ema_start to 1; MoCo: moco.ema); target ← EMA;
 *   grads = 0; accum micro-batches of burn_ssl_step; all-reduce; Adam.
 * Every random number derives from (run.seed, data position), so a resumed run equals an
 * uninterrupted one; MoCo's queue is in the checkpoint and its pointer follows from the
 * position. Data parallel as BURN: rank 0 writes and reads, broadcasts the state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/data.h"
#include "burn/dist.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/ssl.h"

static double range_norm(const burn_backend *be, const float *x, int64_t n, float *scratch) {
    float h;
    be->sumsq(scratch, x, n);
    be->download(&h, scratch, sizeof h);
    return sqrt((double)h);
}

int burn_ssl_train(const burn_config *cfg, const burn_backend *be, int resume,
                   burn_train_result *result) {
    memset(result, 0, sizeof *result);
    const char *dir = cfg->run_dir, *prog = "burn_gpu train";
    int method = burn_ssl_method_parse(cfg->train_method);
    if (method <= 0) {
        fprintf(stderr, "%s: %s\n", prog, method < 0 ? burn_error() : "train.method = burn");
        return 2;
    }
    const char *kind = method == BURN_SSL_BYOL ? "byol" : "moco";
    if (strcmp(cfg->train_precision, "fp32") != 0) { /* precision.h is BURN's loop only */
        fprintf(stderr, "%s: train.precision = %s: the %s baseline trains in fp32 only\n", prog,
                cfg->train_precision, kind);
        return 2;
    }
    int N = (int)cfg->train_batch_size, accum = (int)cfg->train_accum, rc = 1;
    burn_dist_opts dopts;
    burn_dist_opts_from_config(&dopts, cfg);
    if (burn_dist_attach(be, &dopts) != 0 || (burn_rank == 0 && burn_mkdirs(dir) != 0)) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        return 1;
    }
    char *path = NULL;
    if (burn_rank == 0 &&
        (asprintf(&path, "%s/config.ini", dir) < 0 || burn_config_save(cfg, path) != 0)) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        free(path);
        return 1;
    }
    free(path);

    burn_source *src = burn_source_from_config(cfg, "train");
    if (!src) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        return 2;
    }
    burn_loader_opts lo;
    burn_loader_opts_from_config(&lo, cfg);
    lo.batch = N;
    lo.views = 2;
    lo.train = 1;
    lo.rank = burn_rank;
    lo.world = burn_world_size;
    lo.shuffle = 1;
    lo.epochs = 0;
    lo.be = be;
    burn_sampler sampler;
    if (burn_sampler_init(&sampler, src->count, N, lo.rank, lo.world, 1, lo.drop_last, lo.seed)) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        burn_source_free(src);
        return 2;
    }
    int64_t spe = sampler.steps_per_epoch;
    burn_sampler_free(&sampler);
    int64_t total = cfg->train_epochs * spe / accum;
    if (total < 1) {
        fprintf(stderr, "%s: %lld images at batch %d × accum %d give no optimiser update per "
                        "run; lower train.batch_size or train.accum\n",
                prog, (long long)src->count, N, accum);
        burn_source_free(src);
        return 2;
    }
    int64_t stop = cfg->train_max_steps > 0 && cfg->train_max_steps < total ? cfg->train_max_steps
                                                                             : total;
    int64_t warmup = (int64_t)(cfg->train_warmup_epochs * (double)spe / accum);

    burn_ssl m;
    const burn_backend *model_be = dopts.sync_all_bn ? burn_dist_sync_bn_backend(be) : be;
    if (burn_ssl_init(&m, cfg, method, model_be, N) != 0) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        burn_source_free(src);
        return 2;
    }
    burn_loader *loader = NULL;
    burn_metrics metrics = {0};
    float *adam_m = NULL, *adam_v = NULL, *scratch = NULL, *dv[2] = {0};
    if (cfg->train_debug) {
        burn_debug_sync = 1;
        burn_reactnet_set_debug(m.srun, 1);
        burn_reactnet_set_debug(m.trun, 1);
    }
    /* stage 2 (or any warm start): the online networks of a run of the same method */
    static const char *const handoff_byol[] = {"student.", "projector.", "predictor.", NULL};
    static const char *const handoff_moco[] = {"student.", "projector.", NULL};
    if (*cfg->train_init_from && !resume && burn_rank == 0) {
        if (burn_ckpt_init_from(cfg->train_init_from, &m.params,
                                method == BURN_SSL_BYOL ? handoff_byol : handoff_moco) != 0) {
            fprintf(stderr, "%s: %s (train.init_from must be a %s run)\n", prog, burn_error(),
                    kind);
            rc = 2;
            goto done;
        }
        burn_ssl_sync_target(&m);
    }
    if (cfg->model_stage == 2 && !*cfg->train_init_from)
        burn_warn("stage 2 without train.init_from: the student starts from random weights");

    int64_t T = m.params.trainable, A = m.online_len;
    adam_m = be->alloc((size_t)T * sizeof(float));
    adam_v = be->alloc((size_t)T * sizeof(float));
    be->fill(adam_m, 0.0f, T);
    be->fill(adam_v, 0.0f, T);
    scratch = be->alloc(sizeof(float));
    burn_ckpt_state st = {.stage = (int)cfg->model_stage, .kind = kind};
    if (resume && burn_rank == 0) {
        char *latest = burn_ckpt_find_latest(dir);
        if (!latest) {
            burn_log("--resume: no checkpoint in %s, starting from the beginning", dir);
        } else {
            burn_dist_layout saved;
            if (burn_ckpt_load(latest, &m.params, adam_m, adam_v, &st) != 0 ||
                burn_dist_ckpt_layout(latest, &saved) != 0) {
                fprintf(stderr, "%s: %s\n", prog, burn_error());
                free(latest);
                goto done;
            }
            st.kind = kind;
            int64_t spe_saved = spe;
            if (saved.world != burn_world_size || saved.batch != N) {
                burn_sampler s;
                if (burn_sampler_init(&s, src->count, (int)saved.batch, 0, saved.world, 1,
                                      lo.drop_last, lo.seed) != 0) {
                    fprintf(stderr, "%s: %s: %s\n", prog, latest, burn_error());
                    free(latest);
                    goto done;
                }
                spe_saved = s.steps_per_epoch;
                burn_sampler_free(&s);
            }
            st.step = burn_dist_resume_update(st.micro_step, spe_saved, spe, accum);
            st.micro_step = st.step * accum;
            burn_log("resumed from %s at update %lld", latest, (long long)st.step);
            free(latest);
        }
    }
    if (burn_world_size > 1) {
        int64_t pos[2] = {st.step, st.micro_step};
        burn_dist_bcast_host(pos, sizeof pos);
        st.step = pos[0];
        st.micro_step = pos[1];
        burn_dist_bcast_backend(be, m.params.data, (size_t)m.params.total * sizeof(float));
        burn_dist_bcast_backend(be, adam_m, (size_t)T * sizeof(float));
        burn_dist_bcast_backend(be, adam_v, (size_t)T * sizeof(float));
    }
    if (method == BURN_SSL_MOCO) m.queue_ptr = (st.micro_step * N) % m.K;
    lo.start_epoch = st.micro_step / spe;
    lo.start_step = st.micro_step % spe;
    loader = burn_loader_create(src, &lo);
    if (!loader) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        goto done;
    }
    char *mpath = NULL;
    if (burn_rank == 0 &&
        (asprintf(&mpath, "%s/metrics.jsonl", dir) < 0 || burn_metrics_open(&metrics, mpath))) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        free(mpath);
        goto done;
    }
    free(mpath);
    if (be->is_device) {
        size_t bytes = (size_t)N * 3 * lo.size * lo.size * sizeof(float);
        dv[0] = be->alloc(bytes);
        dv[1] = be->alloc(bytes);
    }
    burn_log("training %s (stage %d) on the binary student: %lld updates (%lld epochs × %lld "
             "micro-batches / accum %d), batch %d per rank, %d rank(s), run dir %s",
             kind, (int)cfg->model_stage, (long long)total, (long long)cfg->train_epochs,
             (long long)spe, accum, N, burn_world_size, dir);

    double t_start = burn_now(), t_last = t_start, wait_last = 0;
    double acc_loss = 0, acc_cos = 0;
    int acc_n = 0;
    for (int64_t u = st.step; u < stop; u++) {
        burn_dist_fault_point(u);
        float tau = method == BURN_SSL_BYOL
                        ? (float)burn_byol_tau(cfg->byol_ema_start, u, total)
                        : (float)cfg->moco_ema;
        burn_ssl_begin_update(&m, tau);
        be->fill(m.params.grad, 0.0f, T);
        double step_loss = 0, step_cos = 0;
        for (int a = 0; a < accum; a++) {
            const burn_batch *b;
            if (burn_loader_next(loader, &b) != 0) {
                fprintf(stderr, "%s: %s\n", prog, burn_error());
                goto done;
            }
            const float *v1 = b->x[0], *v2 = b->x[1];
            if (be->is_device) {
                size_t bytes = (size_t)N * 3 * b->h * b->w * sizeof(float);
                be->upload(dv[0], b->x[0], bytes);
                be->upload(dv[1], b->x[1], bytes);
                v1 = dv[0];
                v2 = dv[1];
            }
            burn_ssl_stats ss;
            if (burn_ssl_step(&m, v1, v2, &ss) != 0) {
                fprintf(stderr, "%s: %s\n", prog, burn_error());
                goto done;
            }
            if (!isfinite(ss.loss)) {
                fprintf(stderr, "%s: non-finite %s loss (%g) at update %lld, micro-batch %d: "
                                "stopping; the last checkpoint in %s is intact\n",
                        prog, kind, ss.loss, (long long)u, a, dir);
                goto done;
            }
            step_loss += ss.loss / accum;
            step_cos += ss.cos / accum;
        }
        burn_dist_allreduce_grad(be, m.params.grad, A);
        if (burn_world_size > 1) {
            double sums[2] = {step_loss, step_cos};
            burn_dist_sum_host(sums, 2);
            step_loss = sums[0] / burn_world_size;
            step_cos = sums[1] / burn_world_size;
        }
        double gn_student = range_norm(be, m.params.grad, m.student_len, scratch) / accum;
        double gn_heads = range_norm(be, m.params.grad + m.student_len, A - m.student_len,
                                     scratch) / accum;
        if (!isfinite(gn_student + gn_heads)) {
            fprintf(stderr, "%s: non-finite gradient (%s) at update %lld: stopping; the last "
                            "checkpoint in %s is intact\n",
                    prog, isfinite(gn_student) ? "projection heads" : "student", (long long)u,
                    dir);
            goto done;
        }
        double lr = burn_lr_at(cfg->train_lr, u, warmup, total, cfg->train_warmup_start);
        burn_adam_hparams h = {(float)lr, (float)cfg->train_beta1, (float)cfg->train_beta2,
                               (float)cfg->train_eps, (float)cfg->train_weight_decay,
                               1.0f / (float)accum, 0, 0};
        burn_adam_prepare(&h, u + 1);
        be->adam_step(m.params.data, m.params.grad, adam_m, adam_v, A, h);
        if (u == st.step) result->first_loss = step_loss;
        result->last_loss = step_loss;
        acc_loss += step_loss;
        acc_cos += step_cos;
        acc_n++;
        st.step = u + 1;
        st.micro_step = st.step * accum;
        if (st.step % cfg->log_every == 0 || st.step == stop) {
            double now = burn_now(), dt = now - t_last, wait = burn_loader_wait_seconds(loader);
            burn_metric kv[] = {
                {"epoch", (double)(st.micro_step / spe), "%.0f"},
                {"loss", acc_loss / acc_n, "%.4f"},
                {"cos", acc_cos / acc_n, "%.4f"},
                {"tau", tau, "%.5f"},
                {"lr", lr, "%.3g"},
                {"gn_student", gn_student, "%.3g"},
                {"gn_heads", gn_heads, "%.3g"},
                {"img_per_s", (double)acc_n * accum * N * burn_world_size / dt, "%.1f"},
                {"data_wait", dt > 0 ? (wait - wait_last) / dt : 0, "%.2f"},
            };
            burn_log_step(&metrics, st.step, stop, now - t_start, kv, (int)(sizeof kv / sizeof kv[0]));
            t_last = now;
            wait_last = wait;
            acc_loss = acc_cos = 0;
            acc_n = 0;
        }
        int ckpt_now = st.step == stop || (cfg->train_ckpt_every > 0 && st.step % cfg->train_ckpt_every == 0);
        if (ckpt_now && burn_rank == 0) {
            char *written = NULL;
            if (burn_ckpt_save(dir, &m.params, adam_m, adam_v, &st, cfg, burn_world_size,
                               (int)cfg->train_keep_ckpts, &written) != 0) {
                fprintf(stderr, "%s: checkpoint failed: %s\n", prog, burn_error());
                goto done;
            }
            free(result->final_checkpoint);
            result->final_checkpoint = written;
        }
    }
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
    result->steps = st.step;
    if (burn_loader_bad_count(loader) > 0)
        burn_warn("%lld unreadable images were skipped", (long long)burn_loader_bad_count(loader));
    burn_log("%s done: %lld updates, last loss %.4f, checkpoint %s", kind, (long long)st.step,
             result->last_loss, result->final_checkpoint ? result->final_checkpoint : "(none)");
    rc = 0;
done:
    burn_metrics_close(&metrics);
    if (loader) burn_loader_free(loader);
    if (src) burn_source_free(src);
    if (adam_m) be->free(adam_m);
    if (adam_v) be->free(adam_v);
    if (scratch) be->free(scratch);
    for (int i = 0; i < 2; i++)
        if (dv[i]) be->free(dv[i]);
    burn_ssl_free(&m);
    return rc;
}
