/* train_ssl.c — the training loop of the BYOL and MoCo v2 baselines on the binary student
 * (train.method = byol|moco; include/burn/ssl.h). It is BURN's loop (src/train/train.c) with the
 * model swapped (the scaffolding of both is include/burn/train_plan.h), so the comparison is like with like: the same loader and augmentations, the
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
#include "burn/dist.h"
#include "burn/log.h"
#include "burn/ssl.h"
#include "burn/train_plan.h"

int burn_ssl_train(const burn_config *cfg, const burn_backend *be, burn_run_mode mode,
                   burn_train_result *result) {
    memset(result, 0, sizeof *result);
    const char *dir = cfg->run_dir, *prog = "burn_gpu train";
    char kept[512]; /* what a stopped run leaves (burn_ckpt_kept_text) */
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
    burn_train_plan plan;
    int rc = burn_train_plan_init(&plan, cfg, be, mode, prog);
    if (rc != 0) {
        burn_train_plan_free(&plan);
        return rc;
    }
    rc = 1;
    int N = plan.N, accum = plan.accum;
    int64_t spe = plan.spe, total = plan.total, stop = plan.stop;

    burn_ssl m;
    const burn_backend *model_be = plan.sync_all_bn ? burn_dist_sync_bn_backend(be) : be;
    if (burn_ssl_init(&m, cfg, method, model_be, N) != 0) {
        fprintf(stderr, "%s: %s\n", prog, burn_error());
        burn_train_plan_free(&plan);
        return 2;
    }
    float *adam_m = NULL, *adam_v = NULL, *scratch = NULL;
    if (cfg->train_profile)
        burn_warn("train.profile times BURN's step phases only; train.method = %s logs none",
                  cfg->train_method);
    if (cfg->train_debug) {
        burn_debug_sync = 1;
        burn_reactnet_set_debug(m.srun, 1);
        burn_reactnet_set_debug(m.trun, 1);
    }
    /* stage 2 (or any warm start): the online networks of a run of the same method */
    static const char *const handoff_byol[] = {"student.", "projector.", "predictor.", NULL};
    static const char *const handoff_moco[] = {"student.", "projector.", NULL};
    if (*cfg->train_init_from && plan.mode != BURN_RUN_RESUME && burn_rank == 0) {
        burn_ckpt_source from = {"train.init_from", cfg->train_init_from, cfg, 1};
        if (burn_ckpt_init_from(&from, &m.params,
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
    if (burn_train_plan_resume(&plan, &m.params, adam_m, adam_v, &st) != 0 ||
        burn_train_plan_start(&plan, &st) != 0)
        goto done;
    if (method == BURN_SSL_MOCO) m.queue_ptr = (st.micro_step * N) % m.K;
    burn_log("training %s (stage %d) on the binary student: %lld updates (%lld epochs × %lld "
             "micro-batches / accum %d), batch %d per rank, %d rank(s), run dir %s",
             kind, (int)cfg->model_stage, (long long)total, (long long)cfg->train_epochs,
             (long long)spe, accum, N, burn_world_size, dir);

    double t_start = burn_now(), t_last = t_start, wait_last = 0;
    double acc_loss = 0, acc_cos = 0;
    int acc_n = 0;
    int64_t first_update = st.step;
    for (int64_t u = st.step; u < stop; u++) {
        burn_dist_fault_point(u);
        float tau = method == BURN_SSL_BYOL
                        ? (float)burn_byol_tau(cfg->byol_ema_start, u, total)
                        : (float)cfg->moco_ema;
        burn_ssl_begin_update(&m, tau);
        be->fill(m.params.grad, 0.0f, T);
        double step_loss = 0, step_cos = 0;
        for (int a = 0; a < accum; a++) {
            const float *v[2];
            burn_ssl_stats ss;
            if (burn_train_plan_next(&plan, v) != 0) goto done;
            if (burn_ssl_step(&m, v[0], v[1], &ss) != 0) {
                fprintf(stderr, "%s: %s\n", prog, burn_error());
                goto done;
            }
            if (!isfinite(ss.loss)) {
                burn_ckpt_kept_text(dir, kept, sizeof kept);
                fprintf(stderr, "%s: non-finite %s loss (%g) at update %lld, micro-batch %d: "
                                "stopping; %s\n",
                        prog, kind, ss.loss, (long long)u, a, kept);
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
        double gn_student = burn_backend_norm(be, m.params.grad, m.student_len, scratch) / accum;
        double gn_heads = burn_backend_norm(be, m.params.grad + m.student_len, A - m.student_len,
                                            scratch) / accum;
        if (!isfinite(gn_student + gn_heads)) {
            burn_ckpt_kept_text(dir, kept, sizeof kept);
            fprintf(stderr, "%s: non-finite gradient (%s) at update %lld: stopping; %s\n", prog,
                    isfinite(gn_student) ? "projection heads" : "student", (long long)u, kept);
            goto done;
        }
        double lr = burn_lr_at(cfg->train_lr, u, plan.warmup, total, cfg->train_warmup_start);
        burn_adam_hparams h = {(float)lr, (float)cfg->train_beta1, (float)cfg->train_beta2,
                               (float)cfg->train_eps, (float)cfg->train_weight_decay,
                               1.0f / (float)accum, 0, 0};
        burn_adam_prepare(&h, u + 1);
        be->adam_step(m.params.data, m.params.grad, adam_m, adam_v, A, h);
        if (u == first_update) result->first_loss = step_loss;
        result->last_loss = step_loss;
        acc_loss += step_loss;
        acc_cos += step_cos;
        acc_n++;
        st.step = u + 1;
        st.micro_step = st.step * accum;
        if (st.step % cfg->log_every == 0 || st.step == stop) {
            double now = burn_now(), dt = now - t_last;
            double wait = burn_loader_wait_seconds(plan.loader);
            char efmt[32]; /* "e/E" */
            burn_metric kv[] = {
                {"epoch", burn_epoch_of(st.micro_step, spe),
                 burn_epoch_format(efmt, sizeof efmt, cfg->train_epochs)},
                {"loss", acc_loss / acc_n, "%.4f"},
                {"cos", acc_cos / acc_n, "%.4f"},
                {"tau", tau, "%.5f"},
                {"lr", lr, "%.3g"},
                {"gn_student", gn_student, "%.3g"},
                {"gn_heads", gn_heads, "%.3g"},
                {"img_per_s", (double)acc_n * accum * N * burn_world_size / dt, "%.1f"},
                {"data_wait", dt > 0 ? (wait - wait_last) / dt : 0, "%.2f"},
            };
            burn_log_step(&plan.metrics, st.step, stop, now - t_start, kv,
                          (int)(sizeof kv / sizeof kv[0]));
            t_last = now;
            wait_last = wait;
            acc_loss = acc_cos = 0;
            acc_n = 0;
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
    burn_log("%s done: %lld updates, last loss %.4f, checkpoint %s", kind, (long long)st.step,
             result->last_loss, result->final_checkpoint ? result->final_checkpoint : "(none)");
    rc = 0;
done:
    burn_train_plan_free(&plan);
    if (adam_m) be->free(adam_m);
    if (adam_v) be->free(adam_v);
    if (scratch) be->free(scratch);
    burn_ssl_free(&m);
    return rc;
}
