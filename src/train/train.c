/* train.c — the BURN training loop of one stage.
 *
 * Per optimiser update u (0-based) of U = epochs·steps_per_epoch / accum:
 *   grads = 0; for each of `accum` micro-batches: burn_model_step with λ(u) (grads add up);
 *   norms of the three trainable groups; non-finite -> stop, naming the tensor (FP32, BF16),
 *   or skip the update and halve the loss scale S (FP16, include/burn/precision.h);
 *   Adam with grad_scale 1/(accum·S) and lr(u) (linear warm-up from warmup_start·lr, then
 *   cosine), its bias correction counting the updates applied.
 * The data position is micro = u·accum micro-batches; every random number derives from
 * (run.seed, position), so a resumed run is bit-identical to an uninterrupted one on the CPU.
 *
 * Data parallel (include/burn/dist.h; world > 1 under mpirun): every rank runs this loop on its
 * slice of each global batch (the sampler shards it); the heads' BN statistics are global
 * (net_head.c); the gradient is averaged over the ranks once per update, after the last
 * micro-batch; the logged loss, KL and FS are rank averages. Rank 0 alone writes the run
 * directory and reads checkpoints, then broadcasts the weights, the Adam moments and the
 * position; a position saved with another world size maps by burn_dist_resume_update. */
#include "burn/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/dist.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/precision.h"
#include "burn/train_plan.h"

typedef struct group {
    const char *name;
    int64_t begin, end; /* float range of the trainable buffer */
} group;

/* First tensor with a non-finite gradient (or value), for the error message. */
static const char *find_non_finite(const burn_params *ps, const float *host_grad) {
    for (int i = 0; i < ps->n; i++) {
        const burn_param *p = &ps->p[i];
        if (p->kind != BURN_PARAM_TRAINABLE) continue;
        for (int64_t k = 0; k < p->numel; k++)
            if (!isfinite(host_grad[p->offset + k])) return p->name;
    }
    return NULL;
}

/* run.dir/summary.json: the end-of-stage verdict that tools (make demo) read. */
static int write_summary(const char *dir, const burn_config *cfg, const burn_train_result *r) {
    char *path = NULL, *text = NULL;
    if (asprintf(&path, "%s/summary.json", dir) < 0 ||
        asprintf(&text,
                 "{\"stage\": %d, \"updates\": %lld, \"first_loss\": %.6g, \"last_loss\": %.6g, "
                 "\"collapsed\": %s, \"teacher_head\": {\"logit_std\": %.6g, \"entropy\": %.6g}, "
                 "\"student_head\": {\"logit_std\": %.6g, \"entropy\": %.6g}}\n",
                 (int)cfg->model_stage, (long long)r->steps, r->first_loss, r->last_loss,
                 r->collapsed ? "true" : "false", r->head_stats[0].logit_std,
                 r->head_stats[0].entropy, r->head_stats[1].logit_std,
                 r->head_stats[1].entropy) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    int rc = burn_write_file_atomic(path, text, strlen(text));
    free(path);
    free(text);
    return rc;
}

int burn_train(const burn_config *cfg, const burn_backend *be, burn_run_mode mode,
               burn_train_result *result) {
    memset(result, 0, sizeof *result);
    const char *dir = cfg->run_dir;
    char kept[512]; /* what a stopped run leaves (burn_ckpt_kept_text) */
    int rc = 1;
    int precision = burn_precision_parse(cfg->train_precision);
    if (precision < 0) {
        fprintf(stderr, "burn_gpu train: train.precision: %s\n", burn_error());
        return 2;
    }
    burn_train_plan plan;
    if ((rc = burn_train_plan_init(&plan, cfg, be, mode, "burn_gpu train")) != 0) {
        burn_train_plan_free(&plan);
        return rc;
    }
    rc = 1;
    int N = plan.N, accum = plan.accum;
    int64_t spe = plan.spe, total = plan.total, stop = plan.stop;

    burn_model m;
    /* dist.sync_bn = all: the student's BN too sees global-batch statistics */
    const burn_backend *model_be = plan.sync_all_bn ? burn_dist_sync_bn_backend(be) : be;
    if (burn_model_init(&m, cfg, model_be, N) != 0) {
        fprintf(stderr, "burn_gpu train: %s\n", burn_error());
        burn_train_plan_free(&plan);
        return 2;
    }
    float *adam_m = NULL, *adam_v = NULL, *scratch = NULL, *host_grad = NULL;
    float *bn_backup = NULL; /* FP16: the BN running statistics before the update */
    burn_model_set_profile(&m, cfg->train_profile);
    if (cfg->train_debug) { /* every launch synchronised, every layer checked */
        burn_debug_sync = 1;
        burn_model_set_debug(&m, 1);
    }
    if (burn_model_load_teacher(&m, cfg->teacher_checkpoint) != 0) {
        fprintf(stderr, "burn_gpu train: %s\n", burn_error());
        rc = 2;
        goto done;
    }
    static const char *const handoff[] = {"student.", "student_head.", "teacher_head.", NULL};
    /* rank 0 reads, the broadcast of burn_train_plan_resume hands the weights out */
    if (*cfg->train_init_from && plan.mode != BURN_RUN_RESUME && burn_rank == 0 &&
        burn_ckpt_init_from(&(burn_ckpt_source){"train.init_from", cfg->train_init_from, cfg, 1},
                            &m.params, handoff) != 0) {
        fprintf(stderr, "burn_gpu train: %s\n", burn_error());
        rc = 2;
        goto done;
    }
    /* S2-BNN baseline: a pretrained teacher head (after init_from: the explicit head wins) */
    if (*cfg->teacher_head_init && plan.mode != BURN_RUN_RESUME && burn_rank == 0 &&
        burn_model_init_teacher_head(&m, cfg->teacher_head_init) != 0) {
        fprintf(stderr, "burn_gpu train: %s\n", burn_error());
        rc = 2;
        goto done;
    }
    if (cfg->model_stage == 2 && !*cfg->train_init_from)
        burn_warn("stage 2 without train.init_from: the student and heads start from random "
                  "weights, not from stage 1 (METHOD.md §5)");

    int64_t T = m.params.trainable;
    adam_m = be->alloc((size_t)T * sizeof(float));
    adam_v = be->alloc((size_t)T * sizeof(float));
    be->fill(adam_m, 0.0f, T);
    be->fill(adam_v, 0.0f, T);
    scratch = be->alloc(sizeof(float));
    burn_ckpt_state st = {0, 0, (int)cfg->model_stage, "burn", 0, 0, 0};
    burn_loss_scaler scaler;
    burn_loss_scaler_init(&scaler, precision, cfg->train_loss_scale,
                          cfg->train_loss_scale_growth_interval);
    if (scaler.enabled)
        bn_backup = be->alloc((size_t)(m.params.total - T + 1) * sizeof(float));
    if (burn_train_plan_resume(&plan, &m.params, adam_m, adam_v, &st) != 0 ||
        burn_train_plan_start(&plan, &st) != 0)
        goto done;
    if (scaler.enabled && st.loss_scale > 0) { /* a resumed FP16 run's scaler goes on */
        scaler.scale = st.loss_scale;
        scaler.good = st.loss_scale_good;
        scaler.skipped = st.skipped;
    }
    group groups[3] = {
        {"student", 0, m.params.p[burn_params_find(&m.params, "student_head.0.weight")].offset},
        {"student_head", 0, m.params.p[burn_params_find(&m.params, "teacher_head.0.weight")].offset},
        {"teacher_head", 0, T}};
    groups[1].begin = groups[0].end;
    groups[2].begin = groups[1].end;
    int64_t adam_len = m.head_trainable ? T : groups[2].begin;
    int schedule = burn_lambda_schedule_parse(cfg->loss_lambda_schedule);
    host_grad = burn_xmalloc((size_t)T * sizeof(float));
    char until[96] = ""; /* train.max_steps: the schedule stays the whole run's */
    if (stop < total)
        snprintf(until, sizeof until, ", this run stops at update %lld (train.max_steps)",
                 (long long)stop);
    burn_log("training stage %d: %lld updates (%lld epochs × %lld micro-batches / accum %d)%s, "
             "batch %d per rank, %d rank(s) (global batch %d), %s compute, run dir %s",
             (int)cfg->model_stage, (long long)total, (long long)cfg->train_epochs,
             (long long)spe, accum, until, N, burn_world_size, N * burn_world_size,
             burn_precision_name(precision), dir);
    be->set_compute_precision(precision);

    double t_start = burn_now(), t_last = t_start, wait_last = 0;
    double acc_loss = 0, acc_kl = 0, acc_fs = 0, update_seconds = 0;
    double logged_loss = NAN; /* the last progress line's loss, for the closing line */
    int acc_n = 0, win_updates = 0; /* finite updates, all updates in the log window */
    int64_t first_update = st.step;
    int warned_collapse = 0;
    for (int64_t u = st.step; u < stop; u++) {
        burn_dist_fault_point(u);
        be->fill(m.params.grad, 0.0f, T);
        float lambda = (float)burn_lambda(schedule, u, total, cfg->loss_lambda_start,
                                          cfg->loss_lambda_end, cfg->loss_lambda_constant);
        double step_loss = 0, step_kl = 0, step_fs = 0;
        burn_step_stats heads = {0};
        m.loss.grad_scale = (float)(scaler.scale / N); /* the loss scale enters at the loss */
        if (scaler.enabled) /* a skipped update must not keep its forwards' BN statistics */
            be->copy(bn_backup, m.params.data + T, (size_t)(m.params.total - T) * sizeof(float));
        for (int a = 0; a < accum; a++) {
            const float *v[2];
            burn_step_stats ss;
            if (burn_train_plan_next(&plan, v) != 0) goto done;
            /* the last micro-batch's backward sends gradient buckets as they are final */
            m.last_backward = a == accum - 1;
            /* the collapse statistics: of the last micro-batch of a logged update */
            m.want_stats = m.last_backward && ((u + 1) % cfg->log_every == 0 || u + 1 == stop);
            if (m.last_backward) burn_dist_grad_begin(be, m.params.grad, adam_len);
            if (burn_model_step(&m, v[0], v[1], lambda, &ss) != 0) {
                fprintf(stderr, "burn_gpu train: %s\n", burn_error());
                goto done;
            }
            if (!isfinite(ss.loss) && !scaler.enabled) { /* backward ran too: name where */
                be->download(host_grad, m.params.grad, (size_t)T * sizeof(float));
                const char *bad = find_non_finite(&m.params, host_grad);
                const char *teacher = burn_model_teacher_fault(&m); /* before any blame */
                burn_ckpt_kept_text(dir, kept, sizeof kept);
                fprintf(stderr, "burn_gpu train: non-finite loss (%g) at update %lld, "
                                "micro-batch %d%s%s%s%s: stopping; %s\n",
                        ss.loss, (long long)u, a,
                        teacher ? ": the teacher's features overflow (teacher.checkpoint holds "
                                  "weights too large for its forward)" : "",
                        bad ? " (first non-finite gradient: " : "", bad ? bad : "",
                        bad ? ")" : "", kept);
                goto done;
            }
            if (ss.has_heads) heads = ss;
            step_loss += ss.loss / accum;
            step_kl += 0.5 * (ss.kl[0] + ss.kl[1]) / accum;
            step_fs += 0.5 * (ss.fs[0] + ss.fs[1]) / accum;
        }
        double t_update = burn_now(); /* profile: the steps synchronised at their end */
        /* once per update: the rest of the mean gradient over the ranks, then wait for all */
        burn_dist_grad_end();
        if (burn_world_size > 1) { /* the logged values: averages over the global batch */
            double sums[3] = {step_loss, step_kl, step_fs};
            burn_dist_sum_host(sums, 3);
            step_loss = sums[0] / burn_world_size;
            step_kl = sums[1] / burn_world_size;
            step_fs = sums[2] / burn_world_size;
        }
        double norms[3];
        for (int g = 0; g < 3; g++)
            norms[g] = burn_backend_norm(be, m.params.grad + groups[g].begin,
                                         groups[g].end - groups[g].begin, scratch) /
                       accum / scaler.scale;
        int finite = isfinite(step_loss) && isfinite(norms[0] + norms[1] + norms[2]);
        if (!finite || cfg->train_debug) {
            be->download(host_grad, m.params.grad, (size_t)T * sizeof(float));
            const char *bad = find_non_finite(&m.params, host_grad);
            if (!finite && scaler.enabled) { /* FP16 overflow: skip this update */
                double was = scaler.scale;
                burn_loss_scaler_update(&scaler, 0);
                be->copy(m.params.data + T, bn_backup, (size_t)(m.params.total - T) * sizeof(float));
                burn_warn("update %lld skipped: non-finite %s under FP16 (loss scale %g -> %g; "
                          "%lld skipped so far)", (long long)u,
                          bad ? bad : isfinite(step_loss) ? "gradient norm" : "loss", was,
                          scaler.scale, (long long)scaler.skipped);
                if (scaler.scale < BURN_LOSS_SCALE_MIN) {
                    burn_ckpt_kept_text(dir, kept, sizeof kept);
                    fprintf(stderr, "burn_gpu train: FP16 overflow persists at loss scale %g: "
                                    "the forward values exceed FP16's range (65504); use "
                                    "train.precision = bf16; %s\n", scaler.scale, kept);
                    goto done;
                }
            } else if (bad) {
                burn_ckpt_kept_text(dir, kept, sizeof kept);
                fprintf(stderr, "burn_gpu train: non-finite gradient in %s at update %lld: "
                                "stopping (%s); %s\n",
                        bad, (long long)u, burn_precision_name(precision), kept);
                goto done;
            }
        }
        double lr = burn_lr_at(cfg->train_lr, u, plan.warmup, total, cfg->train_warmup_start);
        if (finite || !scaler.enabled) {
            burn_adam_hparams h = {(float)lr, (float)cfg->train_beta1, (float)cfg->train_beta2,
                                   (float)cfg->train_eps, (float)cfg->train_weight_decay,
                                   (float)(1.0 / (accum * scaler.scale)), 0, 0};
            burn_adam_prepare(&h, u + 1 - scaler.skipped);
            /* the student and its head; then θ at its own rate (teacher.head_lr_mult: Adam is
             * per element, so the split changes nothing at 1; 0 leaves θ and its moments) */
            int64_t th0 = groups[2].begin;
            be->adam_step(m.params.data, m.params.grad, adam_m, adam_v, th0, h);
            if (adam_len > th0 && cfg->teacher_head_lr_mult > 0) {
                h.lr = (float)(lr * cfg->teacher_head_lr_mult);
                be->adam_step(m.params.data + th0, m.params.grad + th0, adam_m + th0, adam_v + th0,
                              adam_len - th0, h);
            }
            if (scaler.enabled) burn_loss_scaler_update(&scaler, 1);
        }
        if (cfg->train_profile) {
            be->synchronize();
            update_seconds += burn_now() - t_update;
        }
        if (u == first_update) result->first_loss = step_loss;
        result->last_loss = step_loss;
        if (finite) { /* a skipped FP16 update's values are not averaged in */
            acc_loss += step_loss;
            acc_kl += step_kl;
            acc_fs += step_fs;
            acc_n++;
        }
        win_updates++;
        st.step = u + 1;
        st.micro_step = st.step * accum;
        if (scaler.enabled) {
            st.loss_scale = scaler.scale;
            st.loss_scale_good = scaler.good;
            st.skipped = scaler.skipped;
        }
        if (st.step % cfg->log_every == 0 || st.step == stop) {
            double now = burn_now(), dt = now - t_last;
            double wait = burn_loader_wait_seconds(plan.loader);
            char efmt[32]; /* "e/E" */
            burn_metric kv[] = {
                {"epoch", burn_epoch_of(st.micro_step, spe),
                 burn_epoch_format(efmt, sizeof efmt, cfg->train_epochs)},
                {"loss", acc_loss / acc_n, "%.4f"},
                {"kl", acc_kl / acc_n, "%.4f"},
                {"fs", acc_fs / acc_n, "%.4f"},
                {"lambda", lambda, "%.3f"},
                {"lr", lr, "%.3g"},
                {"gn_student_head", norms[1], "%.3g"},
                {"gn_student", norms[0], "%.3g"},
                {"gn_teacher_head", norms[2], "%.3g"},
                {"img_per_s", (double)win_updates * accum * N * burn_world_size / dt, "%.1f"},
                {"data_wait", dt > 0 ? (wait - wait_last) / dt : 0, "%.2f"},
                {"loss_scale", scaler.scale, "%g"},
                {"skipped", (double)scaler.skipped, "%.0f"},
            };
            int nkv = (int)(sizeof kv / sizeof kv[0]) - (scaler.enabled ? 0 : 2);
            burn_metric all[40];
            memcpy(all, kv, sizeof kv);
            if (heads.has_heads) { /* include/burn/collapse.h */
                int D = m.student_head.out;
                double T = cfg->loss_temperature;
                int tc = burn_head_collapsed(&heads.heads[0], D, T);
                int sc = burn_head_collapsed(&heads.heads[1], D, T);
                all[nkv++] = (burn_metric){"t_std", heads.heads[0].logit_std, "%.3g"};
                all[nkv++] = (burn_metric){"t_H", heads.heads[0].entropy, "%.3f"};
                all[nkv++] = (burn_metric){"s_std", heads.heads[1].logit_std, "%.3g"};
                all[nkv++] = (burn_metric){"s_H", heads.heads[1].entropy, "%.3f"};
                all[nkv++] = (burn_metric){"collapsed", (double)(tc || sc), "%.0f"};
                if (m.info_max > 0) all[nkv++] = (burn_metric){"t_im", heads.im / 2, "%.3f"};
                if ((tc || sc) && !warned_collapse) {
                    burn_warn("stage %d, update %lld: the %s head%s collapsed (logit std %.3g, "
                              "H(p̄) %.3f of log D = %.3f; rule: std < %g·T or H(p̄) < %g·log D, "
                              "docs/METHOD.md): the binary network learns little from here on",
                              (int)cfg->model_stage, (long long)st.step,
                              tc && sc ? "teacher and student" : tc ? "teacher" : "student",
                              tc && sc ? "s" : "", heads.heads[tc ? 0 : 1].logit_std,
                              heads.heads[tc ? 0 : 1].entropy, log((double)D), BURN_COLLAPSE_STD,
                              BURN_COLLAPSE_ENTROPY);
                    warned_collapse = 1;
                }
                result->collapsed = tc || sc;
                result->head_stats[0] = heads.heads[0];
                result->head_stats[1] = heads.heads[1];
            }
            if (cfg->train_profile) { /* ms per update: the phases, then what is left */
                static const char *names[BURN_PHASES] = {"ms_teacher", "ms_student_fwd",
                                                         "ms_heads", "ms_student_bwd"};
                double per = 1e3 / win_updates, rest = dt * per - update_seconds * per;
                for (int p = 0; p < BURN_PHASES; p++) {
                    all[nkv++] = (burn_metric){names[p], m.phase_seconds[p] * per, "%.1f"};
                    rest -= m.phase_seconds[p] * per;
                    m.phase_seconds[p] = 0;
                }
                all[nkv++] = (burn_metric){"ms_update", update_seconds * per, "%.1f"};
                all[nkv++] = (burn_metric){"ms_other", rest, "%.1f"}; /* data, logging, host */
                update_seconds = 0;
            }
            burn_log_step(&plan.metrics, st.step, stop, now - t_start, all, nkv);
            logged_loss = acc_loss / acc_n;
            t_last = now;
            wait_last = wait;
            acc_loss = acc_kl = acc_fs = 0;
            acc_n = win_updates = 0;
        }
        int after = burn_train_plan_after_update(&plan, cfg, &m.params, adam_m, adam_v, &st,
                                                 result);
        if (after != 0) {
            if (after > 0) rc = after;
            goto done;
        }
    }
    burn_train_plan_finish(&plan, result);
    result->steps = st.step;
    if (burn_world_size > 1) {
        burn_dist_counters dc;
        burn_dist_get_counters(&dc);
        burn_log("data parallel: %lld of %lld gradient buckets went out during the backward",
                 (long long)dc.grad_buckets_early, (long long)dc.grad_buckets);
    }
    if (st.step > first_update) { /* a resumed run that was complete keeps its summary */
        double took = burn_now() - t_start;
        char d[32];
        burn_format_duration(took, d, sizeof d);
        burn_log("stage %d done: update %lld in %s (%.1f img/s), loss %.4f (as the last progress "
                 "line), collapsed %s (teacher head: logit std %.3g, H(p̄) %.3f; student head: "
                 "%.3g, %.3f), checkpoint %s",
                 (int)cfg->model_stage, (long long)st.step, d,
                 (double)(st.step - first_update) * accum * N * burn_world_size / took,
                 logged_loss,
                 result->collapsed ? "true" : "false", result->head_stats[0].logit_std,
                 result->head_stats[0].entropy, result->head_stats[1].logit_std,
                 result->head_stats[1].entropy,
                 result->final_checkpoint ? result->final_checkpoint : "(none)");
        if (burn_rank == 0 && write_summary(dir, cfg, result) != 0) {
            fprintf(stderr, "burn_gpu train: %s\n", burn_error());
            goto done;
        }
    }
    rc = 0;
done:
    be->set_compute_precision(BURN_COMPUTE_FP32);
    burn_train_plan_free(&plan);
    if (adam_m) be->free(adam_m);
    if (adam_v) be->free(adam_v);
    if (scratch) be->free(scratch);
    if (bn_backup) be->free(bn_backup);
    free(host_grad);
    burn_model_free(&m);
    return rc;
}
