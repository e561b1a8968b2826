/* cmd_pretrain.c — `burn_gpu pretrain-teacher`: MoCo v2 pretraining of the FP teacher backbone
 * (METHOD.md §8, include/burn/moco.h) on [data] with two [augment]ed views per image, architecture
 * from [teacher], hyper-parameters from [moco], everything written to run.dir:
 *   config.ini                  the resolved config
 *   metrics.jsonl               one record per log.every steps (loss, positive cosine, lr, ...)
 *   moco-checkpoint.safetensors the whole state (both encoders, queue, SGD momentum, step),
 *                               atomically replaced every moco.ckpt_every epochs and at the end
 *   teacher.safetensors         encoder q's backbone, bare torchvision names: the file
 *                               teacher.checkpoint of a BURN config takes
 * Learning rate at step t of T = epochs·steps_per_epoch: moco.lr·batch/256, linear warm-up
 * from 0 over moco.warmup_epochs, then cosine to 0 (MoCo v2). Every random number derives from
 * (run.seed, step), so --resume continues the run exactly (bit for bit on the CPU).
 * One process on one device: under an MPI launcher with several ranks it refuses to start. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burn/check.h"
#include "burn/cli.h"
#include "burn/commands.h"
#include "burn/data.h"
#include "burn/dist.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/moco.h"
#include "burn/optim.h"
#include "burn/preempt.h"
#include "burn/run_dir.h"

#define PROG "burn_gpu pretrain-teacher"

static char *join(const char *dir, const char *name) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        burn_check_fail("libc", "asprintf", __FILE__, __LINE__, "out of memory", NULL);
    return p;
}

static char *config_text(const burn_config *cfg) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return NULL;
    burn_config_print(cfg, mem, 0);
    fclose(mem);
    return buf;
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* The training loop; returns the exit code. */
static int pretrain(const burn_config *cfg, const burn_backend *be, burn_run_mode mode) {
    const char *dir = cfg->run_dir;
    int N = (int)cfg->moco_batch_size, rc = BURN_EXIT_RUNTIME;
    burn_moco_config mc;
    if (burn_moco_config_from(cfg, &mc) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        return BURN_EXIT_USAGE;
    }
    char *cfg_path = join(dir, "config.ini"), *ckpt = join(dir, "moco-checkpoint.safetensors");
    char *teacher = join(dir, "teacher.safetensors"), *mpath = join(dir, "metrics.jsonl");
    char *ctext = config_text(cfg);
    burn_source *src = NULL;
    burn_loader *loader = NULL;
    burn_metrics metrics = {0};
    burn_moco m = {0};
    float *dv[2] = {NULL, NULL};
    static const char *const outputs[] = {"metrics.jsonl", "moco-checkpoint.safetensors",
                                          "teacher.safetensors", NULL};
    int lock = burn_run_dir_claim(dir, mode, outputs, &rc);
    if (lock < 0 || burn_config_save(cfg, cfg_path) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        if (lock >= 0) rc = BURN_EXIT_RUNTIME;
        goto done;
    }
    src = burn_source_from_config(cfg, "train");
    if (!src) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        rc = BURN_EXIT_USAGE;
        goto done;
    }
    burn_sampler sampler;
    if (burn_sampler_init(&sampler, src->count, N, 0, 1, 1, cfg->data_drop_last,
                          (uint64_t)cfg->run_seed) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        rc = BURN_EXIT_USAGE;
        goto done;
    }
    int64_t spe = sampler.steps_per_epoch;
    burn_sampler_free(&sampler);
    int64_t total = cfg->moco_epochs * spe;
    int64_t stop = cfg->moco_max_steps > 0 && cfg->moco_max_steps < total ? cfg->moco_max_steps
                                                                          : total;
    int64_t warmup = (int64_t)(cfg->moco_warmup_epochs * (double)spe);
    double base_lr = cfg->moco_lr * (double)N / 256.0;

    if (burn_moco_init(&m, &mc, be, N, (uint64_t)cfg->run_seed) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        rc = BURN_EXIT_USAGE;
        goto done;
    }
    if (mode == BURN_RUN_RESUME) {
        if (!file_exists(ckpt)) {
            burn_log("--resume: no checkpoint %s, starting from the beginning", ckpt);
        } else if (burn_moco_load(&m, ckpt) != 0) {
            fprintf(stderr, "%s: --resume: %s\n", PROG, burn_error());
            goto done;
        } else {
            burn_log("resumed from %s at step %lld", ckpt, (long long)m.step);
        }
    }
    burn_loader_opts lo;
    burn_loader_opts_from_config(&lo, cfg);
    lo.batch = N;
    lo.views = 2; /* query and key views of each image */
    lo.train = 1;
    lo.shuffle = 1;
    lo.epochs = 0; /* the loop counts the steps */
    lo.start_epoch = m.step / spe;
    lo.start_step = m.step % spe;
    lo.be = be;
    loader = burn_loader_create(src, &lo);
    if (!loader) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        rc = BURN_EXIT_USAGE;
        goto done;
    }
    burn_preempt_install();
    if (burn_metrics_open(&metrics, mpath, m.step) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        goto done;
    }
    if (be->is_device)
        for (int v = 0; v < 2; v++)
            dv[v] = be->alloc((size_t)N * 3 * lo.size * lo.size * sizeof(float));
    burn_log("MoCo v2 teacher: %s width %g%s, %dx%d, feature %d -> head %d -> %d; queue %d, "
             "tau %g, ema %g; SGD lr %g (batch %d), %lld steps (%lld epochs x %lld); run dir %s",
             cfg->teacher_arch, cfg->teacher_width, cfg->teacher_small_input ? " small-input" : "",
             lo.size, lo.size, m.F, m.F, mc.dim, mc.queue, mc.temperature, mc.ema, base_lr, N,
             (long long)total, (long long)cfg->moco_epochs, (long long)spe, dir);

    double t_start = burn_now(), t_last = t_start, wait_last = 0, acc_loss = 0, acc_pos = 0;
    int acc_n = 0;
    int64_t first = m.step;
    while (m.step < stop) {
        burn_dist_fault_point(m.step);
        const burn_batch *b;
        if (burn_loader_next(loader, &b) != 0) {
            fprintf(stderr, "%s: %s\n", PROG, burn_error());
            goto done;
        }
        const float *v[2] = {b->x[0], b->x[1]};
        if (be->is_device)
            for (int k = 0; k < 2; k++) {
                be->upload(dv[k], b->x[k], (size_t)N * 3 * b->h * b->w * sizeof(float));
                v[k] = dv[k];
            }
        double lr = burn_lr_at(base_lr, m.step, warmup, total, 0.0);
        burn_moco_stats st;
        if (burn_moco_step(&m, v[0], v[1], (float)lr, &st) != 0) {
            fprintf(stderr, "%s: %s\n", PROG, burn_error());
            goto done;
        }
        if (!isfinite(st.loss)) {
            fprintf(stderr, "%s: non-finite loss (%g) at step %lld: stopping; %s\n", PROG,
                    st.loss, (long long)m.step,
                    file_exists(ckpt) ? "the last checkpoint, moco-checkpoint.safetensors, is "
                                        "intact" : "no checkpoint was written yet");
            goto done;
        }
        acc_loss += st.loss;
        acc_pos += st.pos;
        acc_n++;
        if (m.step % cfg->log_every == 0 || m.step == stop) {
            double now = burn_now(), dt = now - t_last, wait = burn_loader_wait_seconds(loader);
            char efmt[32]; /* "e/E" */
            burn_metric kv[] = {
                {"epoch", burn_epoch_of(m.step, spe),
                 burn_epoch_format(efmt, sizeof efmt, cfg->moco_epochs)},
                {"loss", acc_loss / acc_n, "%.4f"},
                {"pos_cos", acc_pos / acc_n, "%.3f"},
                {"lr", lr, "%.3g"},
                {"img_per_s", dt > 0 ? (double)acc_n * N / dt : 0, "%.1f"},
                {"data_wait", dt > 0 ? (wait - wait_last) / dt : 0, "%.2f"},
            };
            burn_log_step(&metrics, m.step, stop, now - t_start, kv, (int)(sizeof kv / sizeof kv[0]));
            t_last = now;
            wait_last = wait;
            acc_loss = acc_pos = 0;
            acc_n = 0;
        }
        int epoch_end = m.step % spe == 0, sig = burn_preempt_pending();
        if (m.step == stop || sig ||
            (epoch_end && cfg->moco_ckpt_every > 0 && (m.step / spe) % cfg->moco_ckpt_every == 0)) {
            if (burn_moco_save(&m, ckpt, ctext) != 0) {
                fprintf(stderr, "%s: checkpoint failed: %s\n", PROG, burn_error());
                goto done;
            }
        }
        if (sig && m.step < stop) {
            fprintf(stderr, "%s: %s: stopped after step %lld of %lld, checkpoint %s; the same "
                            "command with --resume continues\n",
                    PROG, strsignal(sig), (long long)m.step, (long long)stop, ckpt);
            rc = 128 + sig;
            goto done;
        }
    }
    if (burn_moco_export_teacher(&m, teacher) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        goto done;
    }
    if (burn_loader_bad_count(loader) > 0)
        burn_warn("%lld unreadable images were skipped", (long long)burn_loader_bad_count(loader));
    burn_log("done: %lld steps (%lld this run)%s; teacher backbone %s (teacher.arch = %s, "
             "teacher.width = %g, teacher.small_input = %s)",
             (long long)m.step, (long long)(m.step - first),
             m.step < total ? ", stopped early by moco.max_steps" : "", teacher, cfg->teacher_arch,
             cfg->teacher_width, cfg->teacher_small_input ? "true" : "false");
    rc = BURN_EXIT_OK;
done:
    burn_preempt_uninstall();
    burn_run_dir_release(lock);
    burn_metrics_close(&metrics);
    if (loader) burn_loader_free(loader);
    if (src) burn_source_free(src);
    for (int v = 0; v < 2; v++)
        if (dv[v]) be->free(dv[v]);
    burn_moco_free(&m);
    free(cfg_path), free(ckpt), free(teacher), free(mpath), free(ctext);
    return rc;
}

int cmd_pretrain_teacher(int argc, char **argv) {
    static const burn_opt opts[] = {
        BURN_CONFIG_OPTS,
        BURN_RUN_DIR_OPTS,
        {NULL, NULL, NULL, 0},
    };
    burn_args a;
    int rc = burn_args_parse(&a, PROG, "--config FILE [--set SECTION.KEY=VALUE] [--resume | --overwrite]",
                             "Pretrain the FP teacher backbone with MoCo v2 (METHOD.md §8): "
                             "[teacher] architecture, [data]/[augment] two views per image, "
                             "[moco] hyper-parameters; writes <run.dir>/teacher.safetensors "
                             "for teacher.checkpoint.",
                             opts, 0, argc, argv);
    if (rc) return rc;
    burn_config cfg;
    if ((rc = burn_args_config(&a, &cfg))) {
        burn_args_free(&a);
        return rc;
    }
    if (cfg.log_quiet) burn_log_quiet = 1;
    const burn_backend *be = NULL;
    if (burn_world_size > 1) {
        /* every rank would train its own copy and write the same files */
        fprintf(stderr, "%s: MoCo pretraining runs in one process; start it without mpirun "
                        "(this job has %d ranks)\n", PROG, burn_world_size);
        rc = BURN_EXIT_USAGE;
    } else if (!(be = burn_backend_select(cfg.run_device))) {
        fprintf(stderr, "%s: %s\n", PROG, burn_error());
        rc = BURN_EXIT_USAGE;
    } else {
        int mode = burn_args_run_mode(&a);
        rc = mode < 0 ? BURN_EXIT_USAGE : pretrain(&cfg, be, (burn_run_mode)mode);
    }
    burn_config_free(&cfg);
    burn_args_free(&a);
    return rc;
}
