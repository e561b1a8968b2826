/* test_train.c — the BURN training loop on configs/tiny/burn.ini (CPU, synthetic data):
 * every trainable group moves and the teacher backbone never does; the loss goes down over
 * ~50 updates; an interrupted + resumed run equals an uninterrupted one bit for bit; stage 2
 * starts from stage 1's student and both heads; a missing or mismatched teacher is a clear
 * error; the run directory holds one run (a used one refuses a new run, --overwrite replaces
 * it, --resume with only invalid checkpoints refuses and changes nothing, a second process is
 * locked out, a resumed run logs each update once). */ 
#include <cJSON.h>
#include <dirent.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/ckpt.h"
#include "burn/eval.h"
#include "burn/fileio.h"
#include "burn/log.h"
#include "burn/moco.h"
#include "burn/train.h"
#include "test_ckpt_util.h"
#include "test_util.h"

static void tiny(burn_config *c, const char *dir) {
    burn_config_defaults(c);
    cr_assert_eq(burn_config_load(c, "configs/tiny/burn.ini"), 0, "%s", burn_error());
    char *kv = NULL;
    cr_assert(asprintf(&kv, "run.dir=%s", dir) > 0);
    cr_assert_eq(burn_config_set(c, kv), 0);
    free(kv);
    burn_config_set(c, "log.quiet=true");
    burn_log_quiet = 1;
}

static void set(burn_config *c, const char *kv) {
    cr_assert_eq(burn_config_set(c, kv), 0, "%s: %s", kv, burn_error());
}

static char *tmpdir(const char *tag) {
    char *d = tu_tmp_path(tag), *cmd = NULL;
    cr_assert(asprintf(&cmd, "rm -rf %s", d) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    return d;
}

Test(train, steps_move_every_trainable_group_never_the_teacher, .timeout = 60) {
    burn_config c;
    tiny(&c, "/tmp/unused");
    const burn_backend *be = burn_cpu_backend();
    burn_model m;
    cr_assert_eq(burn_model_init(&m, &c, be, 8), 0, "%s", burn_error());
    cr_assert_eq(burn_model_load_teacher(&m, c.teacher_checkpoint), 0, "%s", burn_error());
    int64_t T = m.params.trainable, TT = m.teacher_params.total;
    float *before = malloc(m.params.total * 4), *tbefore = malloc(TT * 4);
    memcpy(before, m.params.data, m.params.total * 4);
    memcpy(tbefore, m.teacher_params.data, TT * 4);
    float *v1 = malloc(8 * 3 * 32 * 32 * 4), *v2 = malloc(8 * 3 * 32 * 32 * 4);
    float *am = calloc(T, 4), *av = calloc(T, 4);
    for (int step = 1; step <= 3; step++) {
        tu_fill(v1, 8 * 3 * 32 * 32, 10 * step, -2, 2);
        tu_fill(v2, 8 * 3 * 32 * 32, 10 * step + 1, -2, 2);
        be->fill(m.params.grad, 0, T);
        burn_step_stats st;
        cr_assert_eq(burn_model_step(&m, v1, v2, 0.8f, &st), 0, "%s", burn_error());
        cr_assert(isfinite(st.loss));
        burn_adam_hparams h = {1e-3f, 0.9f, 0.999f, 1e-8f, 0, 1, 0, 0};
        burn_adam_prepare(&h, step);
        be->adam_step(m.params.data, m.params.grad, am, av, T, h);
    }
    const char *groups[3] = {"student.", "student_head.", "teacher_head."};
    for (int g = 0; g < 3; g++) {
        int tensors = 0, moved = 0;
        for (int i = 0; i < m.params.n; i++) {
            const burn_param *p = &m.params.p[i];
            if (p->kind != BURN_PARAM_TRAINABLE || strncmp(p->name, groups[g], strlen(groups[g])))
                continue;
            tensors++;
            moved += memcmp(before + p->offset, m.params.data + p->offset, p->numel * 4) != 0;
        }
        /* the bias of a Linear before BN gets a zero gradient: allow those to stay */
        cr_assert_geq(moved, tensors - 1, "%s: %d of %d tensors moved", groups[g], moved, tensors);
    }
    cr_assert(memcmp(tbefore, m.teacher_params.data, TT * 4) == 0, "the teacher backbone moved");
    free(before), free(tbefore), free(v1), free(v2), free(am), free(av);
    burn_model_free(&m);
    burn_config_free(&c);
}

Test(train, loss_goes_down_over_50_updates, .timeout = 120) {
    char *dir = tmpdir("train-loss");
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.epochs=13"); /* 104 updates long schedule, stopped at 52 */
    set(&c, "train.max_steps=52");
    set(&c, "log.every=1");
    set(&c, "train.ckpt_every=0");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 0);
    cr_assert_eq(r.steps, 52);
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/metrics.jsonl", dir) > 0);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file(path, 1 << 24, &text, &n), 0);
    double first = 0, last = 0;
    int line = 0;
    for (char *s = strtok((char *)text, "\n"); s; s = strtok(NULL, "\n"), line++) {
        cJSON *o = cJSON_Parse(s);
        cr_assert_not_null(o, "bad JSONL line %s", s);
        double loss = cJSON_GetObjectItem(o, "loss")->valuedouble;
        if (line < 10) first += loss / 10;
        if (line >= 42) last += loss / 10;
        cJSON_Delete(o);
    }
    cr_assert_eq(line, 52, "one metrics line per update");
    cr_assert_lt(last, 0.8 * first, "loss %g -> %g", first, last);
    free(text), free(path), free(r.final_checkpoint), free(dir);
    burn_config_free(&c);
}

/* train.profile: the phases of each update in ms, each positive, together at most the step. */
Test(train, profile_logs_the_time_of_each_phase, .timeout = 60) {
    char *dir = tmpdir("train-profile");
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.max_steps=6");
    set(&c, "log.every=3");
    set(&c, "train.profile=true");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 0);
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/metrics.jsonl", dir) > 0);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file(path, 1 << 24, &text, &n), 0);
    static const char *phases[] = {"ms_teacher", "ms_student_fwd", "ms_heads", "ms_student_bwd",
                                   "ms_update"};
    int lines = 0;
    for (char *s = strtok((char *)text, "\n"); s; s = strtok(NULL, "\n"), lines++) {
        cJSON *o = cJSON_Parse(s);
        cr_assert_not_null(o, "bad JSONL line %s", s);
        double sum = 0, step_ms = 1e3 * 16 / cJSON_GetObjectItem(o, "img_per_s")->valuedouble;
        for (int p = 0; p < 5; p++) {
            cJSON *v = cJSON_GetObjectItem(o, phases[p]);
            cr_assert_not_null(v, "no %s in %s", phases[p], s);
            cr_assert_gt(v->valuedouble, 0, "%s", s);
            sum += v->valuedouble;
        }
        double other = cJSON_GetObjectItem(o, "ms_other")->valuedouble;
        cr_assert_geq(other, -0.01 * step_ms, "%s", s);
        cr_assert_leq(sum, step_ms * 1.01, "%s", s);
        cr_assert_leq(fabs(sum + other - step_ms), 0.02 * step_ms, "%s", s);
        cJSON_Delete(o);
    }
    cr_assert_eq(lines, 2);
    free(text), free(path), free(r.final_checkpoint), free(dir);
    burn_config_free(&c);
}

Test(train, resume_is_bit_identical, .timeout = 120) {
    char *da = tmpdir("train-a"), *db = tmpdir("train-b");
    burn_config a, b;
    tiny(&a, da);
    tiny(&b, db);
    burn_train_result ra, rb;
    cr_assert_eq(burn_train(&a, burn_cpu_backend(), 0, &ra), 0);
    set(&b, "train.max_steps=13"); /* stop between checkpoints: resume from update 13 */
    cr_assert_eq(burn_train(&b, burn_cpu_backend(), 0, &rb), 0);
    free(rb.final_checkpoint);
    set(&b, "train.max_steps=0");
    cr_assert_eq(burn_train(&b, burn_cpu_backend(), 1, &rb), 0);
    cr_assert_eq(rb.steps, ra.steps);
    char diff[256];
    cr_assert_null(tu_ckpt_diff(ra.final_checkpoint, rb.final_checkpoint, diff, sizeof diff),
                   "%s differs after resume", diff);
    free(ra.final_checkpoint), free(rb.final_checkpoint), free(da), free(db);
    burn_config_free(&a);
    burn_config_free(&b);
}

Test(train, stage2_starts_from_stage1_student_and_both_heads, .timeout = 120) {
    char *d1 = tmpdir("train-s1"), *d2 = tmpdir("train-s2");
    burn_config c1, c2;
    tiny(&c1, d1);
    set(&c1, "train.max_steps=4");
    burn_train_result r1, r2;
    cr_assert_eq(burn_train(&c1, burn_cpu_backend(), 0, &r1), 0);
    tiny(&c2, d2);
    set(&c2, "model.stage=2");
    char *kv = NULL;
    cr_assert(asprintf(&kv, "train.init_from=%s", d1) > 0);
    set(&c2, kv);
    /* the handoff itself: a fresh stage-2 model initialised from stage 1 holds its tensors */
    burn_model m;
    cr_assert_eq(burn_model_init(&m, &c2, burn_cpu_backend(), 16), 0, "%s", burn_error());
    static const char *const prefixes[] = {"student.", "student_head.", "teacher_head.", NULL};
    cr_assert_eq(burn_ckpt_init_from(&(burn_ckpt_source){"train.init_from", d1, NULL, 1}, &m.params, prefixes), 0, "%s", burn_error());
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, r1.final_checkpoint), 0);
    for (int i = 0; i < m.params.n; i++) {
        const burn_st_tensor *t = burn_st_find(&f, m.params.p[i].name);
        cr_assert_not_null(t, "%s", m.params.p[i].name);
        cr_assert(memcmp(t->data, m.params.data + m.params.p[i].offset, m.params.p[i].numel * 4) == 0,
                  "%s not carried over", m.params.p[i].name);
    }
    burn_model_free(&m);
    /* --resume with nothing to resume yet (a preemptible job always passes it) is a new run:
     * train.init_from applies (lr 0: the weights stay stage 1's) */
    set(&c2, "train.max_steps=2");
    set(&c2, "train.lr=0");
    cr_assert_eq(burn_train(&c2, burn_cpu_backend(), BURN_RUN_RESUME, &r2), 0);
    cr_assert_eq(r2.steps, 2);
    burn_st_file g;
    cr_assert_eq(burn_st_open(&g, r2.final_checkpoint), 0);
    const burn_st_tensor *w1 = burn_st_find(&f, "student.stem.conv.weight");
    const burn_st_tensor *w2 = burn_st_find(&g, "student.stem.conv.weight");
    cr_assert(w1 && w2 && memcmp(w1->data, w2->data, w1->end - w1->begin) == 0,
              "--resume into an empty run.dir skipped train.init_from");
    burn_st_close(&g);
    burn_st_close(&f);
    set(&c2, "train.lr=0.002");
    free(r2.final_checkpoint);
    /* a stage-1 checkpoint of another width is refused */
    set(&c2, "model.width=0.125");
    cr_assert_eq(burn_train(&c2, burn_cpu_backend(), BURN_RUN_OVERWRITE, &r2), 2);
    cr_assert(strstr(burn_error(), "train.init_from") && strstr(burn_error(), "model.width"),
              "%s", burn_error());
    free(kv), free(r1.final_checkpoint), free(r2.final_checkpoint), free(d1), free(d2);
    burn_config_free(&c1);
    burn_config_free(&c2);
}

Test(train, missing_or_mismatched_teacher_is_a_clear_error) {
    char *dir = tmpdir("train-teacher");
    burn_config c;
    tiny(&c, dir);
    set(&c, "teacher.checkpoint=");
    burn_train_result r;
    cr_redirect_stderr();
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 2);
    set(&c, "teacher.checkpoint=/nonexistent/teacher.safetensors");
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 2);
    set(&c, "teacher.checkpoint=tests/fixtures/burn_step_stage1.safetensors");
    set(&c, "teacher.arch=resnet34");
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), 0, &r), 2);
    fflush(stderr);
    cr_assert_stderr_eq_str("burn_gpu train: teacher.checkpoint is not set: BURN needs a pretrained "
                            "teacher backbone (tools/convert_teacher.py, or burn_gpu "
                            "pretrain-teacher); it never trains against a random one\n"
                            "burn_gpu train: teacher.checkpoint: /nonexistent/teacher.safetensors: "
                            "cannot open: No such file or directory\n"
                            "burn_gpu train: teacher.checkpoint: tests/fixtures/burn_step_stage1."
                            "safetensors: tensor 'teacher.layer1.2.conv1.weight': missing, the model "
                            "expects shape 4x4x3x3 (teacher.arch/width/small_input must match the file)\n");
    free(dir);
    burn_config_free(&c);
}

Test(train, resume_removes_temporaries_of_dead_writers) {
    char *dir = tmpdir("train-tmpfiles"), *stale = NULL, *live = NULL;
    cr_assert_eq(burn_mkdirs(dir), 0);
    /* a writer pid that cannot exist (above pid_max) and our own, live one */
    cr_assert(asprintf(&stale, "%s/ckpt-00000004.safetensors.tmp.2147483646", dir) > 0);
    cr_assert(asprintf(&live, "%s/ckpt-00000008.safetensors.tmp.%d", dir, (int)getpid()) > 0);
    tu_write_text(stale, "half a checkpoint");
    tu_write_text(live, "being written");
    burn_log_quiet = 1;
    char *latest = burn_ckpt_find_latest(dir, NULL);
    cr_assert_null(latest, "temporaries are never checkpoints");
    cr_assert_neq(access(stale, F_OK), 0, "the dead writer's temporary is removed");
    cr_assert_eq(access(live, F_OK), 0, "a live writer's temporary stays");
    unlink(live);
    free(stale), free(live), free(dir);
}

Test(train, debug_names_the_first_non_finite_layer, .timeout = 60) {
    burn_config c;
    tiny(&c, "/tmp/unused");
    const burn_backend *be = burn_cpu_backend();
    burn_model m;
    cr_assert_eq(burn_model_init(&m, &c, be, 8), 0, "%s", burn_error());
    cr_assert_eq(burn_model_load_teacher(&m, c.teacher_checkpoint), 0, "%s", burn_error());
    float *v1 = malloc(8 * 3 * 32 * 32 * 4), *v2 = malloc(8 * 3 * 32 * 32 * 4);
    tu_fill(v1, 8 * 3 * 32 * 32, 1, -2, 2);
    tu_fill(v2, 8 * 3 * 32 * 32, 2, -2, 2);
    /* one NaN weight in block 3's 3x3 conv (stage 1: real weights) */
    int i = burn_params_find(&m.params, "student.blocks.3.conv3x3.weight");
    cr_assert_geq(i, 0);
    m.params.data[m.params.p[i].offset + 5] = NAN;
    burn_step_stats st;
    cr_assert_eq(burn_model_step(&m, v1, v2, 0.8f, &st), 0, "without debug the step runs on");
    cr_assert(!isfinite(st.loss));
    burn_model_set_debug(&m, 1);
    cr_assert_eq(burn_model_step(&m, v1, v2, 0.8f, &st), -1);
    cr_assert(strstr(burn_error(), "student.blocks.3 (conv3x3)"), "%s", burn_error());
    /* a NaN in the teacher head: named before any student work */
    m.params.data[m.params.p[i].offset + 5] = 0.1f;
    i = burn_params_find(&m.params, "teacher_head.0.weight");
    m.params.data[m.params.p[i].offset] = INFINITY;
    cr_assert_eq(burn_model_step(&m, v1, v2, 0.8f, &st), -1);
    cr_assert(strstr(burn_error(), "teacher head's logits (view 1)"), "%s", burn_error());
    free(v1), free(v2);
    burn_model_free(&m);
    burn_config_free(&c);
}

Test(train, s2bnn_head_init_loads_a_frozen_pretrained_head, .timeout = 120) {
    /* S2-BNN baseline: the teacher head of a finished run, frozen, KL only */
    char *d1 = tmpdir("train-s2h-a"), *d2 = tmpdir("train-s2h-b");
    burn_config c1, c2;
    tiny(&c1, d1);
    set(&c1, "train.max_steps=4");
    burn_train_result r1, r2;
    cr_assert_eq(burn_train(&c1, burn_cpu_backend(), 0, &r1), 0);
    tiny(&c2, d2);
    char *kv = NULL;
    cr_assert(asprintf(&kv, "teacher.head_init=%s", d1) > 0);
    set(&c2, kv);
    set(&c2, "teacher.head_trainable=false");
    set(&c2, "loss.lambda_schedule=constant");
    set(&c2, "loss.lambda_constant=0");
    set(&c2, "train.max_steps=3");
    cr_assert_eq(burn_train(&c2, burn_cpu_backend(), 0, &r2), 0);
    burn_st_file a, b;
    cr_assert_eq(burn_st_open(&a, r1.final_checkpoint), 0);
    cr_assert_eq(burn_st_open(&b, r2.final_checkpoint), 0);
    int heads = 0, student_moved = 0;
    for (int i = 0; i < a.n; i++) {
        const burn_st_tensor *ta = &a.tensors[i], *tb = burn_st_find(&b, ta->name);
        cr_assert_not_null(tb, "%s", ta->name);
        int same = memcmp(ta->data, tb->data, ta->end - ta->begin) == 0;
        if (!strncmp(ta->name, "teacher_head.", 13)) {
            heads++;
            cr_assert(same, "%s: not the pretrained head's", ta->name);
        }
        if (!strncmp(ta->name, "student.", 8)) student_moved += !same;
    }
    cr_assert_geq(heads, 6);
    cr_assert_gt(student_moved, 0);
    burn_st_close(&a), burn_st_close(&b);
    free(r2.final_checkpoint);
    /* a head of another shape is a clear error */
    set(&c2, "head.hidden=32");
    cr_assert_eq(burn_train(&c2, burn_cpu_backend(), BURN_RUN_OVERWRITE, &r2), 2);
    cr_assert(strstr(burn_error(), "teacher.head_init"), "%s", burn_error());
    free(kv), free(r1.final_checkpoint), free(r2.final_checkpoint), free(d1), free(d2);
    burn_config_free(&c1);
    burn_config_free(&c2);
}

Test(train, s2bnn_head_from_a_moco_checkpoint, .timeout = 60) {
    /* S2-BNN's own target: the MoCo teacher's projection head, BN between as identity */
    burn_config c;
    tiny(&c, "/tmp/unused");
    set(&c, "moco.dim=16");
    set(&c, "moco.queue=64");
    set(&c, "moco.batch_size=4");
    const burn_backend *be = burn_cpu_backend();
    burn_moco_config mc;
    cr_assert_eq(burn_moco_config_from(&c, &mc), 0, "%s", burn_error());
    burn_moco moco;
    cr_assert_eq(burn_moco_init(&moco, &mc, be, 4, 7), 0, "%s", burn_error());
    char *dir = tmpdir("train-s2moco"), *path = NULL;
    cr_assert_eq(burn_mkdirs(dir), 0);
    cr_assert(asprintf(&path, "%s/moco-checkpoint.safetensors", dir) > 0);
    cr_assert_eq(burn_moco_save(&moco, path, NULL), 0, "%s", burn_error());
    burn_model m;
    cr_assert_eq(burn_model_init(&m, &c, be, 4), 0, "%s", burn_error());
    cr_assert_eq(burn_model_init_teacher_head(&m, path), -1, "head 64/64 cannot take a 32->16 head");
    cr_assert(strstr(burn_error(), "head.out = moco.dim"), "%s", burn_error());
    burn_model_free(&m);
    set(&c, "head.hidden=32"); /* the teacher's feature width at 1/16 */
    set(&c, "head.out=16");
    cr_assert_eq(burn_model_init(&m, &c, be, 4), 0, "%s", burn_error());
    cr_assert_eq(burn_model_init_teacher_head(&m, path), 0, "%s", burn_error());
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0);
    static const char *const pairs[][2] = {{"teacher_head.0.weight", "encoder_q.fc.0.weight"},
                                           {"teacher_head.0.bias", "encoder_q.fc.0.bias"},
                                           {"teacher_head.3.weight", "encoder_q.fc.2.weight"},
                                           {"teacher_head.3.bias", "encoder_q.fc.2.bias"}};
    for (int k = 0; k < 4; k++) {
        const burn_param *p = &m.params.p[burn_params_find(&m.params, pairs[k][0])];
        const burn_st_tensor *t = burn_st_find(&f, pairs[k][1]);
        cr_assert_not_null(t);
        cr_assert(memcmp(t->data, m.params.data + p->offset, p->numel * 4) == 0, "%s", pairs[k][0]);
    }
    static const char *const bn[] = {"teacher_head.1.weight", "teacher_head.1.bias",
                                     "teacher_head.1.running_mean", "teacher_head.1.running_var"};
    static const float want[] = {1, 0, 0, 1};
    for (int k = 0; k < 4; k++) {
        const burn_param *p = &m.params.p[burn_params_find(&m.params, bn[k])];
        for (int64_t j = 0; j < p->numel; j++)
            cr_assert_eq(m.params.data[p->offset + j], want[k], "%s", bn[k]);
    }
    burn_st_close(&f);
    burn_model_free(&m);
    burn_moco_free(&moco);
    free(path), free(dir);
    burn_config_free(&c);
}

/* ---- the run directory (include/burn/run_dir.h): nothing lost, nothing mixed ---- */

/* Every file of dir but the lock, name and bytes, in name order: what "touched nothing"
 * compares. Caller frees. */
static char *dir_snapshot(const char *dir) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    cr_assert_geq(n, 0, "%s", dir);
    char *snap = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&snap, &len);
    for (int i = 0; i < n; i++) {
        char *p = NULL;
        cr_assert(asprintf(&p, "%s/%s", dir, names[i]->d_name) > 0);
        unsigned char *bytes;
        size_t size;
        if (names[i]->d_type == DT_REG && strcmp(names[i]->d_name, ".lock") != 0 &&
            burn_read_file(p, 1 << 28, &bytes, &size) == 0) {
            fprintf(mem, "%s %zu\n", names[i]->d_name, size);
            fwrite(bytes, 1, size, mem);
            free(bytes);
        }
        free(p);
        free(names[i]);
    }
    free(names);
    fclose(mem);
    return snap;
}

static void flip_header_byte(const char *dir, const char *name) {
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    FILE *f = fopen(p, "r+b");
    cr_assert_not_null(f, "%s", p);
    fseek(f, 8, SEEK_SET); /* the first byte of the JSON header: '{' */
    fputc('#', f);
    fclose(f);
    free(p);
}

/* "step" of each metrics.jsonl row, in order; returns the count. */
static int metrics_steps(const char *dir, long long *steps, int cap) {
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/metrics.jsonl", dir) > 0);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[8192];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f))
        cr_assert_eq(sscanf(line, "{\"step\": %lld", &steps[n++]), 1, "row: %s", line);
    fclose(f);
    free(path);
    return n;
}

Test(train, resume_with_no_valid_checkpoint_refuses_and_touches_nothing, .timeout = 60) {
    char *dir = tmpdir("train-allbad");
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.max_steps=16"); /* checkpoints 8 and 16 */
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_NEW, &r), 0);
    free(r.final_checkpoint);
    flip_header_byte(dir, "ckpt-00000008.safetensors");
    flip_header_byte(dir, "ckpt-00000016.safetensors");
    char *before = dir_snapshot(dir);
    set(&c, "train.max_steps=0");
    cr_redirect_stderr();
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_RESUME, &r), 1);
    cr_assert(strstr(burn_error(), "none of the 2 checkpoint(s)") &&
                  strstr(burn_error(), "nothing was changed"), "%s", burn_error());
    char *after = dir_snapshot(dir);
    cr_assert_str_eq(after, before, "the refused resume changed the run directory");
    free(before), free(after), free(dir);
    burn_config_free(&c);
}

/* Checkpoint metadata are range-checked (issue 17 item 8): a damaged position makes the file
 * invalid (the next older one is used, with a warning), never a restart at another update. */
Test(train, a_damaged_position_invalidates_the_checkpoint, .timeout = 60) {
    char *dir = tmpdir("train-position"), *c8 = NULL, *c16 = NULL;
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.max_steps=16"); /* checkpoints 8 and 16 */
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_NEW, &r), 0);
    free(r.final_checkpoint);
    cr_assert(asprintf(&c8, "%s/ckpt-00000008.safetensors", dir) > 0);
    cr_assert(asprintf(&c16, "%s/ckpt-00000016.safetensors", dir) > 0);
    const struct { const char *key, *value, *why; } bad[] = {
        {"micro_step", "", "not a count"},
        {"micro_step", "0", "is not step 16"},
        {"micro_step", " 16", "not a count"},
        {"step", "9223372036854775807", "not a count in [0, 2^40]"},
        {"step", "15", "is not the file's own (16)"},
        {"stage", "3", "not 1 or 2"},
    };
    cr_redirect_stderr();
    burn_ckpt_state st;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_file_keep(c16);
        tu_ckpt_rewrite(c16, bad[i].key, bad[i].value, NULL, 0, 0);
        burn_model m;
        cr_assert_eq(burn_model_init(&m, &c, burn_cpu_backend(), 4), 0, "%s", burn_error());
        cr_assert_eq(burn_ckpt_load(c16, &m.params, NULL, NULL, &st), -1, "%s = '%s' loaded",
                     bad[i].key, bad[i].value);
        cr_assert(strstr(burn_error(), bad[i].why), "%s = '%s': %s", bad[i].key, bad[i].value,
                  burn_error());
        burn_model_free(&m);
        char *latest = burn_ckpt_find_latest(dir, NULL);
        cr_assert_str_eq(latest, c8, "%s = '%s' is not skipped", bad[i].key, bad[i].value);
        free(latest);
        tu_file_restore(c16);
    }
    /* undamaged: the newest is used again */
    char *latest = burn_ckpt_find_latest(dir, NULL);
    cr_assert_str_eq(latest, c16);
    free(latest), free(c8), free(c16), free(dir);
    burn_config_free(&c);
}

/* Finite but impossible values are refused on load by every reader (issue 17 item 7): a
 * negative BN variance or Adam second moment, a weight of 3e38. */
Test(train, poisonous_finite_tensors_are_refused, .timeout = 60) {
    char *dir = tmpdir("train-poison"), *ck = NULL;
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.max_steps=8");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_NEW, &r), 0);
    ck = r.final_checkpoint;
    char *var = tu_ckpt_tensor_ending(ck, "running_var"), *w = tu_ckpt_tensor_ending(ck, "conv.weight");
    const struct { const char *tensor; float x; const char *why; } bad[] = {
        {var, -1.0f, "a variance is never negative"},
        {"optim.adam_v", -1e-3f, "a variance is never negative"},
        {w, 3e38f, "beyond any trained value"},
    };
    cr_redirect_stderr();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_file_keep(ck);
        tu_ckpt_rewrite(ck, NULL, NULL, bad[i].tensor, 1, bad[i].x);
        /* resume, and the readers of the student (eval knn here; extract and export load the
         * same way) */
        set(&c, "train.max_steps=0");
        burn_train_result r2;
        cr_assert_neq(burn_train(&c, burn_cpu_backend(), BURN_RUN_RESUME, &r2), 0, "%s",
                      bad[i].tensor);
        cr_assert(strstr(burn_error(), bad[i].why), "%s: %s", bad[i].tensor, burn_error());
        double knn;
        if (strncmp(bad[i].tensor, "student.", 8) == 0) {
            cr_assert_eq(burn_eval_knn(&c, burn_cpu_backend(), BURN_BACKBONE_STUDENT, ck, &knn), 2);
            cr_assert(strstr(burn_error(), bad[i].tensor) && strstr(burn_error(), bad[i].why),
                      "%s", burn_error());
        }
        tu_file_restore(ck);
    }
    free(var), free(w), free(ck), free(dir);
    burn_config_free(&c);
}

Test(train, a_used_run_dir_refuses_a_new_run_and_overwrite_replaces_it, .timeout = 60) {
    char *dir = tmpdir("train-reuse"), *notes = NULL;
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.max_steps=16");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_NEW, &r), 0);
    free(r.final_checkpoint);
    cr_assert(asprintf(&notes, "%s/notes.txt", dir) > 0);
    tu_write_text(notes, "the user's own file\n");
    char *before = dir_snapshot(dir);
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_NEW, &r), 2);
    cr_assert(strstr(burn_error(), "already holds a run") && strstr(burn_error(), "--overwrite") &&
                  strstr(burn_error(), "--resume"), "%s", burn_error());
    char *after = dir_snapshot(dir);
    cr_assert_str_eq(after, before, "the refused run changed the run directory");
    /* --overwrite: the old run's checkpoints and rows are gone, the user's file stays */
    set(&c, "train.max_steps=8");
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_OVERWRITE, &r), 0);
    char *old = NULL;
    cr_assert(asprintf(&old, "%s/ckpt-00000016.safetensors", dir) > 0);
    cr_assert_neq(access(old, F_OK), 0, "the old run's checkpoint survived --overwrite");
    cr_assert_eq(access(notes, F_OK), 0, "--overwrite removed a file the run did not write");
    char *latest = burn_ckpt_find_latest(dir, NULL);
    cr_assert_str_eq(latest, r.final_checkpoint);
    long long steps[8];
    cr_assert_eq(metrics_steps(dir, steps, 8), 1, "only the new run's row");
    cr_assert_eq(steps[0], 8);
    free(before), free(after), free(old), free(latest), free(notes), free(r.final_checkpoint);
    free(dir);
    burn_config_free(&c);
}

Test(train, one_process_per_run_dir, .timeout = 60) {
    char *dir = tmpdir("train-lock");
    burn_config c;
    tiny(&c, dir);
    set(&c, "train.max_steps=2");
    static const char *const outputs[] = BURN_RUN_TRAIN_OUTPUTS;
    int code, held = burn_run_dir_claim(dir, BURN_RUN_NEW, outputs, &code);
    cr_assert_geq(held, 0, "%s", burn_error());
    burn_train_result r;
    cr_redirect_stderr();
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_RESUME, &r), 1);
    char pid[64];
    snprintf(pid, sizeof pid, "in use by another process (pid %d)", (int)getpid());
    cr_assert(strstr(burn_error(), pid), "%s", burn_error());
    burn_run_dir_release(held);
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_RESUME, &r), 0, "%s", burn_error());
    free(r.final_checkpoint), free(dir);
    burn_config_free(&c);
}

Test(train, resume_logs_each_update_once, .timeout = 60) {
    char *dir = tmpdir("train-rows"), *ck = NULL, *mp = NULL;
    burn_config c;
    tiny(&c, dir);
    set(&c, "log.every=1");
    set(&c, "train.ckpt_every=4");
    set(&c, "train.max_steps=6");
    burn_train_result r;
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_NEW, &r), 0);
    free(r.final_checkpoint);
    /* a crash after rows 5 and 6 were logged, before checkpoint 6, mid-way through row 7 */
    cr_assert(asprintf(&ck, "%s/ckpt-00000006.safetensors", dir) > 0);
    cr_assert_eq(unlink(ck), 0);
    cr_assert(asprintf(&mp, "%s/metrics.jsonl", dir) > 0);
    FILE *f = fopen(mp, "a");
    fputs("{\"step\": 7, \"lo", f);
    fclose(f);
    set(&c, "train.max_steps=8");
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_RESUME, &r), 0);
    long long steps[16];
    int n = metrics_steps(dir, steps, 16);
    cr_assert_eq(n, 8, "%d rows for 8 updates", n);
    for (int i = 0; i < n; i++) cr_assert_eq(steps[i], i + 1, "row %d is update %lld", i, steps[i]);
    /* --resume of a complete run: nothing trained, nothing rewritten, its final checkpoint */
    free(r.final_checkpoint);
    char *before = dir_snapshot(dir);
    cr_assert_eq(burn_train(&c, burn_cpu_backend(), BURN_RUN_RESUME, &r), 0);
    char *after = dir_snapshot(dir);
    cr_assert_str_eq(after, before, "resuming a complete run changed it");
    cr_assert(r.final_checkpoint && strstr(r.final_checkpoint, "ckpt-00000008.safetensors"));
    free(before), free(after);
    free(ck), free(mp), free(r.final_checkpoint), free(dir);
    burn_config_free(&c);
}

/* `pipeline` claims both stages' run directories: a second pipeline into them is refused
 * (exit 2, nothing changed), --overwrite replaces both runs. */
Test(train, pipeline_refuses_used_run_dirs_and_overwrite_replaces_them, .timeout = 120) {
    char *base = tmpdir("train-pipe"), *ini[2], *cmd = NULL, *dirs[2];
    cr_assert_eq(burn_mkdirs(base), 0);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file("configs/tiny/burn.ini", 1 << 20, &text, &n), 0);
    for (int s = 0; s < 2; s++) { /* the tiny config with its own run.dir and stage */
        cr_assert(asprintf(&dirs[s], "%s/stage%d", base, s + 1) > 0);
        cr_assert(asprintf(&ini[s], "%s/stage%d.ini", base, s + 1) > 0);
        char *a = strstr((char *)text, "\ndir = "), *b = strstr((char *)text, "\nstage = 1");
        cr_assert(a && b && a < b);
        char *out = NULL;
        cr_assert(asprintf(&out, "%.*s\ndir = %s%.*s\nstage = %d%s", (int)(a - (char *)text),
                           (char *)text, dirs[s], (int)(b - strchr(a + 1, '\n')),
                           strchr(a + 1, '\n'), s + 1, b + strlen("\nstage = 1")) > 0);
        tu_write_text(ini[s], out);
        free(out);
    }
    free(text);
    const char *run = BURN_GPU " pipeline --stage1 %s --stage2 %s --set train.max_steps=2 "
                      "--set log.quiet=true %s >/dev/null 2>%s/err";
    cr_assert(asprintf(&cmd, run, ini[0], ini[1], "", base) > 0);
    cr_assert_eq(system(cmd), 0, "the first pipeline failed");
    long long steps[64];
    int rows[2];
    for (int s = 0; s < 2; s++) rows[s] = metrics_steps(dirs[s], steps, 64);
    char *before = dir_snapshot(dirs[1]);
    cr_assert_eq(WEXITSTATUS(system(cmd)), 2, "a second pipeline into used run dirs ran");
    char *after = dir_snapshot(dirs[1]);
    cr_assert_str_eq(after, before);
    free(cmd);
    cr_assert(asprintf(&cmd, run, ini[0], ini[1], "--overwrite", base) > 0);
    cr_assert_eq(system(cmd), 0, "--overwrite failed");
    for (int s = 0; s < 2; s++) /* not appended to the old run's rows */
        cr_assert_eq(metrics_steps(dirs[s], steps, 64), rows[s], "stage %d", s + 1);
    for (int s = 0; s < 2; s++) free(ini[s]), free(dirs[s]);
    free(before), free(after), free(cmd), free(base);
}

/* What a user reads (issue 19 item 6): the plan says where train.max_steps stops the run, and
 * the closing line gives the time, img/s and the loss of the last progress line. */
Test(train, plan_and_closing_lines_agree_with_the_run, .timeout = 60) {
    char *dir = tmpdir("train-lines"), *cmd = NULL, *log = tu_tmp_path("train-lines.log");
    cr_assert(asprintf(&cmd, "%s train --config configs/tiny/burn.ini --set run.dir=%s "
                       "--set train.max_steps=6 --set log.every=4 > %s 2>&1", BURN_GPU, dir,
                       log) > 0);
    cr_assert_eq(system(cmd), 0);
    unsigned char *text;
    size_t n;
    cr_assert_eq(burn_read_file(log, 1 << 20, &text, &n), 0);
    const char *t = (const char *)text;
    cr_assert(strstr(t, "32 updates (4 epochs") && strstr(t, "this run stops at update 6 "
                                                           "(train.max_steps)"), "%s", t);
    const char *last = strstr(t, "step 6/6 | epoch 1/4 | loss ");
    cr_assert(last, "no progress line at the last update: %s", t);
    char loss[32];
    cr_assert_eq(sscanf(last + strlen("step 6/6 | epoch 1/4 | loss "), "%31s", loss), 1);
    char want[96];
    snprintf(want, sizeof want, "img/s), loss %s (as the last progress line)", loss);
    const char *done = strstr(t, "stage 1 done: update 6 in ");
    cr_assert(done && strstr(done, want), "%s", t);
    free(text), free(cmd), free(dir);
    unlink(log);
    free(log);
}
