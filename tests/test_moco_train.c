/* test_moco_train.c — `burn_gpu pretrain-teacher` end to end on configs/tiny/teacher.ini (CPU):
 * the run lowers the InfoNCE loss once the queue holds real keys, writes the resolved config,
 * metrics, checkpoint and teacher.safetensors; the teacher file loads through
 * burn_model_load_teacher and holds encoder q's backbone; a run interrupted by moco.max_steps
 * and continued with --resume ends bit for bit where an uninterrupted run ends; bad config
 * values are one-line errors with exit code 2. */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/safetensors.h"
#include "test_util.h"

#define TINY BURN_GPU " pretrain-teacher --config configs/tiny/teacher.ini --set log.quiet=true"

static int run(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0;
    char *buf = calloc(cap, 1);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) len += r;
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int runf(char **out, const char *fmt, const char *dir, const char *extra) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, fmt, dir, extra) > 0);
    int rc = run(cmd, out);
    free(cmd);
    return rc;
}

static char *path_in(const char *dir, const char *name) {
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* "loss" of every metrics.jsonl record, in order; returns the count. */
static int read_losses(const char *dir, double *loss, int64_t *step, int cap) {
    char *path = path_in(dir, "metrics.jsonl");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[4096];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        const char *l = strstr(line, "\"loss\":"), *s = strstr(line, "\"step\":");
        cr_assert(l && s, "record without loss/step: %s", line);
        loss[n] = atof(l + 7);
        step[n] = atoll(s + 7);
        n++;
    }
    fclose(f);
    free(path);
    return n;
}

static void rm_run(const char *dir) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
}

static int same_files(const char *a, const char *b) {
    unsigned char *da, *db;
    size_t na, nb;
    cr_assert_eq(burn_read_file(a, 1 << 30, &da, &nb), 0, "%s", burn_error());
    na = nb;
    cr_assert_eq(burn_read_file(b, 1 << 30, &db, &nb), 0, "%s", burn_error());
    int eq = na == nb && memcmp(da, db, na) == 0;
    free(da), free(db);
    return eq;
}

Test(moco_train, tiny_run_lowers_loss_and_writes_a_loadable_teacher, .timeout = 60) {
    char *dir = tu_tmp_path("moco-run"), *out;
    int rc = runf(&out, TINY " --set run.dir=%s%s 2>&1", dir, "");
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    free(out);
    double loss[64];
    int64_t step[64];
    int n = read_losses(dir, loss, step, 64);
    cr_assert_geq(n, 5, "records: %d", n);
    /* the queue (128 keys, 32 per step) holds only real keys from step 5 on: compare the
     * first record after that with the last */
    int first = -1;
    for (int i = 0; i < n && first < 0; i++)
        if (step[i] >= 16) first = i;
    cr_assert_geq(first, 0);
    printf("moco tiny run: loss %.4f at step %lld -> %.4f at step %lld\n", loss[first],
           (long long)step[first], loss[n - 1], (long long)step[n - 1]);
    cr_assert(isfinite(loss[n - 1]));
    cr_assert_lt(loss[n - 1], loss[first] - 0.05, "InfoNCE did not fall: %.4f -> %.4f",
                 loss[first], loss[n - 1]);

    char *cfg_path = path_in(dir, "config.ini"), *teacher = path_in(dir, "teacher.safetensors");
    char *ckpt = path_in(dir, "moco-checkpoint.safetensors");
    burn_config saved;
    burn_config_defaults(&saved);
    cr_assert_eq(burn_config_load(&saved, cfg_path), 0, "%s", burn_error());
    cr_assert_eq(saved.moco_queue, 128);
    burn_config_free(&saved);

    /* the teacher file of a BURN config: configs/tiny/burn.ini with this teacher */
    burn_log_quiet = 1;
    burn_config cfg;
    burn_config_defaults(&cfg);
    cr_assert_eq(burn_config_load(&cfg, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    cr_assert_eq(burn_config_set(&cfg, "teacher.width=0.125"), 0);
    burn_model m;
    cr_assert_eq(burn_model_init(&m, &cfg, burn_cpu_backend(), 4), 0, "%s", burn_error());
    cr_assert_eq(burn_model_load_teacher(&m, teacher), 0, "%s", burn_error());
    /* ... holding the checkpoint's encoder q backbone */
    burn_st_file ck;
    cr_assert_eq(burn_st_open(&ck, ckpt), 0, "%s", burn_error());
    for (int i = 0; i < m.teacher_params.n; i++) {
        const burn_param *p = &m.teacher_params.p[i];
        char name[256];
        snprintf(name, sizeof name, "encoder_q.%s", p->name + strlen("teacher."));
        float *want = malloc((size_t)p->numel * 4);
        cr_assert_eq(burn_st_read_f32(&ck, name, want, p->numel), 0, "%s", burn_error());
        cr_assert_eq(memcmp(want, burn_param_data(&m.teacher_params, i), (size_t)p->numel * 4), 0,
                     "%s", p->name);
        free(want);
    }
    burn_st_close(&ck);
    burn_model_free(&m);
    burn_config_free(&cfg);
    free(cfg_path), free(teacher), free(ckpt);
    rm_run(dir);
    free(dir);
}

/* A run stopped after 3 steps (interrupt: a --set, or an environment for the command; its exit
 * code want_rc), continued with --resume, ends bit for bit where an uninterrupted run ends. */
static void check_resume(const char *tag, const char *env, const char *set, int want_rc) {
    char *full = tu_tmp_path("moco-full"), *part = tu_tmp_path(tag), *out;
    const char *two = " --set moco.epochs=1";
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", full, two), 0, "%s", out);
    free(out);
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "%s" TINY " --set run.dir=%s%s%s 2>&1", env, part, two, set) > 0);
    cr_assert_eq(run(cmd, &out), want_rc, "%s", out);
    if (want_rc) cr_assert(strstr(out, "stopped after step 3 of") && strstr(out, "--resume"),
                           "%s", out);
    free(out), free(cmd);
    char *extra = NULL;
    cr_assert(asprintf(&extra, "%s --resume --set log.quiet=false", two) > 0);
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", part, extra), 0, "%s", out);
    cr_assert(strstr(out, "at step 3"), "%s", out);
    free(out), free(extra);
    char *a = path_in(full, "teacher.safetensors"), *b = path_in(part, "teacher.safetensors");
    char *ca = path_in(full, "moco-checkpoint.safetensors");
    char *cb = path_in(part, "moco-checkpoint.safetensors");
    cr_assert(same_files(a, b), "resumed teacher differs from the uninterrupted run's");
    /* the checkpoints' tensors (their metadata hold the configs, which differ in log.quiet) */
    burn_st_file fa, fb;
    cr_assert_eq(burn_st_open(&fa, ca), 0, "%s", burn_error());
    cr_assert_eq(burn_st_open(&fb, cb), 0, "%s", burn_error());
    cr_assert_eq(fa.n, fb.n);
    cr_assert_str_eq(burn_st_meta(&fa, "step"), burn_st_meta(&fb, "step"));
    cr_assert_str_eq(burn_st_meta(&fa, "queue_ptr"), burn_st_meta(&fb, "queue_ptr"));
    for (int i = 0; i < fa.n; i++) {
        const burn_st_tensor *x = &fa.tensors[i], *y = burn_st_find(&fb, x->name);
        cr_assert_not_null(y, "%s", x->name);
        cr_assert(x->end - x->begin == y->end - y->begin &&
                      memcmp(x->data, y->data, x->end - x->begin) == 0,
                  "checkpoint tensor %s differs from the uninterrupted run's", x->name);
    }
    burn_st_close(&fa);
    burn_st_close(&fb);
    free(a), free(b), free(ca), free(cb);
    rm_run(full);
    rm_run(part);
    free(full), free(part);
}

Test(moco_train, resume_continues_bit_for_bit, .timeout = 60) {
    check_resume("moco-part", "", " --set moco.max_steps=3", 0);
}

/* preemption: SIGTERM at step 2 (0-based) finishes that step, checkpoints, exits 143 */
Test(moco_train, sigterm_checkpoints_and_resume_continues_bit_for_bit, .timeout = 60) {
    check_resume("moco-term", "BURN_DIST_FAULT=term:0:2 ", "", 128 + 15);
}

/* pretrain-teacher claims its run directory like train (include/burn/run_dir.h) */
Test(moco_train, a_used_run_dir_needs_resume_or_overwrite, .timeout = 60) {
    char *dir = tu_tmp_path("moco-reuse"), *out;
    const char *one = " --set moco.max_steps=1";
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", dir, one), 0, "%s", out);
    free(out);
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", dir, one), 2, "%s", out);
    cr_assert(strstr(out, "already holds a run") && strstr(out, "--overwrite"), "%s", out);
    free(out);
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s --resume --overwrite 2>&1", dir, one), 2,
                 "%s", out);
    cr_assert(strstr(out, "give one"), "%s", out);
    free(out);
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s --overwrite 2>&1", dir, one), 0, "%s", out);
    free(out);
    rm_run(dir);
    free(dir);
}

Test(moco_train, bad_config_values_exit_2) {
    char *dir = tu_tmp_path("moco-bad"), *out;
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", dir, " --set moco.temperature=0"), 2,
                 "%s", out);
    cr_assert(strstr(out, "moco.temperature"), "%s", out);
    free(out);
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", dir, " --set moco.queue=16"), 2,
                 "%s", out);
    cr_assert(strstr(out, "moco.queue 16 must hold at least one batch (moco.batch_size 32)"), "%s",
              out);
    free(out);
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", dir, " --set teacher.arch=vgg16"), 2,
                 "%s", out);
    cr_assert(strstr(out, "teacher.arch"), "%s", out);
    free(out);
    cr_assert_eq(runf(&out, TINY " --set run.dir=%s%s 2>&1", dir, " --frobnicate"), 2, "%s", out);
    free(out);
    /* nothing was trained */
    char *t = path_in(dir, "teacher.safetensors");
    cr_assert(access(t, F_OK) != 0);
    free(t);
    rm_run(dir);
    free(dir);
}
