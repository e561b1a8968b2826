/* test_moco.c — MoCo v2 (src/train/moco.c) against PyTorch: two full steps of the fixture
 * tests/fixtures/moco_step.safetensors (tools/reference/make_resnet_fixture.py: key-encoder
 * EMA, keys, queries, InfoNCE over [positive, queue], backward, SGD with momentum and weight
 * decay, the queue ring wrapping around). Compared: both losses, every gradient of the first
 * step (1e-4 of the tensor's largest value), and after two steps the CHANGE of every tensor
 * of both encoders (weights and BN running statistics) and of the queue (1e-4 of the largest
 * change; the change, not the value, so that the update itself is what is checked).
 * Also: checkpoint save/load round trip continues bit for bit, the load refuses a foreign or
 * mismatched file, the exported teacher loads through burn_model_load_teacher. */
#include <criterion/criterion.h>

#include "burn/burn.h"
#include "burn/check.h"
#include "burn/log.h"
#include "burn/moco.h"
#include "test_util.h"

#define TOL 1e-4
#define FIXTURE "tests/fixtures/moco_step.safetensors"

static burn_st_file fx;

static float *read_host(const char *name, int64_t n) {
    float *h = malloc((size_t)n * 4);
    cr_assert_eq(burn_st_read_f32(&fx, name, h, n), 0, "%s", burn_error());
    return h;
}

static double meta_num(const char *key) {
    const char *v = burn_st_meta(&fx, key);
    cr_assert_not_null(v, "fixture metadata lacks %s", key);
    return atof(v);
}

/* MoCo of the fixture's sizes, state loaded from the fixture. */
static void fixture_moco(burn_moco *m) {
    burn_log_quiet = 1;
    cr_assert_eq(burn_st_open(&fx, FIXTURE), 0, "%s", burn_error());
    burn_moco_config c = {{18, meta_num("width"), (int)meta_num("image_size"), 1},
                          (int)meta_num("dim"), (int)meta_num("queue"),
                          (float)meta_num("temperature"), (float)meta_num("ema"),
                          (float)meta_num("momentum"), (float)meta_num("weight_decay")};
    cr_assert_eq(burn_moco_init(m, &c, burn_cpu_backend(), (int)meta_num("batch"), 5), 0, "%s",
                 burn_error());
    cr_assert_eq(burn_params_load(&m->q, &fx, "", 0), 0, "%s", burn_error());
    cr_assert_eq(burn_params_load(&m->k, &fx, "", 0), 0, "%s", burn_error());
    int64_t nq = (int64_t)c.queue * c.dim;
    float *queue = read_host("queue", nq);
    memcpy(m->queue, queue, (size_t)nq * 4);
    free(queue);
}

/* max|got − want| / max|want| for fixture tensor name. When base is given, both sides are
 * changes from base (got − base, want − base), and the FP32 storage of the values themselves
 * (rounding of 1e-7 of their size, e.g. the key encoder's EMA moves a weight of 1 by 5e-4)
 * is allowed on top: error = max|got − want| / (max|Δwant| + 1e-2·max|want|), so 1e-4 of
 * it is 1e-4 of the change plus 1e-6 of the value. */
static double rel_error(const char *name, const float *got, const float *base, int64_t n) {
    const burn_st_tensor *t = burn_st_find(&fx, name);
    cr_assert_not_null(t, "fixture lacks %s", name);
    cr_assert_eq(burn_numel(t->ndim, t->shape), n, "%s: size", name);
    float *want = read_host(name, n);
    double maxref = 0, maxval = 0, maxdiff = 0;
    for (int64_t i = 0; i < n; i++) {
        double w = base ? (double)want[i] - base[i] : want[i];
        double g = base ? (double)got[i] - base[i] : got[i];
        maxref = fmax(maxref, fabs(w));
        maxval = fmax(maxval, fabs(want[i]));
        double d = fabs(g - w);
        if (!(d <= maxdiff)) maxdiff = d;
    }
    free(want);
    cr_assert_gt(maxref, 0, "%s: the reference does not change", name);
    return maxdiff / (maxref + (base ? 1e-2 * maxval : 0.0));
}

static void step_input(burn_moco *m, const char *q, const char *k, float lr, double *loss) {
    int64_t n = (int64_t)m->N * 3 * m->cfg.backbone.image_size * m->cfg.backbone.image_size;
    float *xq = read_host(q, n), *xk = read_host(k, n);
    burn_moco_stats st;
    cr_assert_eq(burn_moco_step(m, xq, xk, lr, &st), 0, "%s", burn_error());
    *loss = st.loss;
    free(xq), free(xk);
}

Test(moco, two_steps_match_pytorch, .timeout = 30) {
    burn_moco m;
    fixture_moco(&m);
    float lr = (float)meta_num("lr");
    float *q0 = malloc((size_t)m.q.total * 4), *k0 = malloc((size_t)m.k.total * 4);
    int64_t nq = (int64_t)m.cfg.queue * m.cfg.dim;
    float *queue0 = malloc((size_t)nq * 4);
    memcpy(q0, m.q.data, (size_t)m.q.total * 4);
    memcpy(k0, m.k.data, (size_t)m.k.total * 4);
    memcpy(queue0, m.queue, (size_t)nq * 4);
    double worst = 0, loss;
    char worst_name[300] = "";
#define CHECK(name, got, base, n)                                                          \
    do {                                                                                   \
        double e_ = rel_error(name, got, base, n);                                         \
        if (!(e_ <= worst)) worst = e_, snprintf(worst_name, sizeof worst_name, "%s", name); \
        cr_expect_leq(e_, TOL, "%s: relative error %.3g", name, e_);                       \
    } while (0)

    step_input(&m, "input.q1", "input.k1", lr, &loss);
    float l1 = (float)loss;
    CHECK("out.loss1", &l1, NULL, 1);
    int ngrad = 0;
    for (int i = 0; i < m.q.n; i++) {
        const burn_param *p = &m.q.p[i];
        if (p->kind != BURN_PARAM_TRAINABLE) continue;
        char name[256];
        snprintf(name, sizeof name, "grad1.%s", p->name);
        CHECK(name, burn_param_grad(&m.q, i), NULL, p->numel);
        ngrad++;
    }
    cr_assert_gt(ngrad, 60, "every trainable tensor of encoder q (%d)", ngrad);
    step_input(&m, "input.q2", "input.k2", lr, &loss);
    float l2 = (float)loss;
    CHECK("out.loss2", &l2, NULL, 1);
    for (int e = 0; e < 2; e++) {
        const burn_params *ps = e ? &m.k : &m.q;
        const float *base = e ? k0 : q0;
        for (int i = 0; i < ps->n; i++) {
            const burn_param *p = &ps->p[i];
            char name[256];
            snprintf(name, sizeof name, "after.%s", p->name);
            CHECK(name, burn_param_data(ps, i), base + p->offset, p->numel);
        }
    }
    CHECK("after.queue", m.queue, queue0, nq);
    cr_assert_eq(m.queue_ptr, (int64_t)meta_num("queue_ptr_after"), "queue_ptr %lld",
                 (long long)m.queue_ptr);
    cr_assert_eq(m.step, 2);
    printf("moco parity: losses %.6f %.6f; worst tensor %s, relative error %.3g\n", l1, l2,
           worst_name, worst);
#undef CHECK
    free(q0), free(k0), free(queue0);
    burn_moco_free(&m);
    burn_st_close(&fx);
}

static int same(const float *a, const float *b, int64_t n) { return memcmp(a, b, (size_t)n * 4) == 0; }

Test(moco, checkpoint_round_trip_continues_bit_for_bit, .timeout = 30) {
    burn_moco a, b;
    fixture_moco(&a);
    double loss;
    step_input(&a, "input.q1", "input.k1", 0.1f, &loss);
    char *path = tu_tmp_path("moco-ckpt.safetensors");
    cr_assert_eq(burn_moco_save(&a, path, "[run]\nseed = 5\n"), 0, "%s", burn_error());
    burn_moco_config c = a.cfg;
    cr_assert_eq(burn_moco_init(&b, &c, burn_cpu_backend(), a.N, 99), 0, "%s", burn_error());
    cr_assert(!same(a.q.data, b.q.data, a.q.total), "another seed, other weights");
    cr_assert_eq(burn_moco_load(&b, path), 0, "%s", burn_error());
    cr_assert_eq(b.step, 1);
    cr_assert_eq(b.queue_ptr, a.queue_ptr);
    cr_assert(same(a.q.data, b.q.data, a.q.total) && same(a.k.data, b.k.data, a.k.total));
    cr_assert(same(a.queue, b.queue, (int64_t)c.queue * c.dim));
    cr_assert(same(a.sgd_buf, b.sgd_buf, a.q.trainable));
    double la, lb;
    step_input(&a, "input.q2", "input.k2", 0.1f, &la);
    step_input(&b, "input.q2", "input.k2", 0.1f, &lb);
    cr_assert_eq(la, lb);
    cr_assert(same(a.q.data, b.q.data, a.q.total) && same(a.k.data, b.k.data, a.k.total));
    cr_assert(same(a.queue, b.queue, (int64_t)c.queue * c.dim));

    /* a checkpoint of other sizes is refused, naming the tensor, and changes nothing */
    burn_moco w;
    c.queue = 8;
    cr_assert_eq(burn_moco_init(&w, &c, burn_cpu_backend(), a.N, 99), 0, "%s", burn_error());
    float *before = malloc((size_t)w.q.total * 4);
    memcpy(before, w.q.data, (size_t)w.q.total * 4);
    cr_assert_neq(burn_moco_load(&w, path), 0);
    cr_assert(strstr(burn_error(), "'queue'"), "%s", burn_error());
    cr_assert(same(before, w.q.data, w.q.total), "a failed load modified the weights");
    cr_assert_eq(w.step, 0);
    /* a safetensors file that is not a MoCo checkpoint, and a missing file */
    cr_assert_neq(burn_moco_load(&w, FIXTURE), 0);
    cr_assert(strstr(burn_error(), "not a MoCo checkpoint"), "%s", burn_error());
    cr_assert_neq(burn_moco_load(&w, "/nonexistent/moco.safetensors"), 0);
    free(before);
    burn_moco_free(&w);
    unlink(path);
    free(path);
    burn_moco_free(&a);
    burn_moco_free(&b);
    burn_st_close(&fx);
}

/* The exported backbone is what a BURN config's teacher.checkpoint takes: it loads through
 * burn_model_load_teacher (strict: every tensor, nothing extra) and holds encoder q's values. */
Test(moco, exported_teacher_loads_as_burn_teacher, .timeout = 30) {
    burn_moco m;
    fixture_moco(&m);
    char *path = tu_tmp_path("teacher.safetensors");
    cr_assert_eq(burn_moco_export_teacher(&m, path), 0, "%s", burn_error());
    burn_st_file f;
    cr_assert_eq(burn_st_open(&f, path), 0, "%s", burn_error());
    cr_assert_str_eq(burn_st_meta(&f, "arch"), "resnet18");
    cr_assert_str_eq(burn_st_meta(&f, "width"), "0.03125");
    cr_assert_str_eq(burn_st_meta(&f, "small_input"), "true");
    cr_assert_null(burn_st_find(&f, "fc.0.weight"), "the projection head is not exported");
    burn_st_close(&f);

    burn_config cfg;
    burn_config_defaults(&cfg);
    const char *sets[] = {"model.width=0.0625", "model.stem_stride=2", "data.image_size=32",
                          "teacher.arch=resnet18", "teacher.width=0.03125",
                          "teacher.small_input=true", "head.hidden=16", "head.out=16"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        cr_assert_eq(burn_config_set(&cfg, sets[i]), 0, "%s", burn_error());
    burn_model bm;
    cr_assert_eq(burn_model_init(&bm, &cfg, burn_cpu_backend(), 2), 0, "%s", burn_error());
    cr_assert_eq(burn_model_load_teacher(&bm, path), 0, "%s", burn_error());
    int checked = 0;
    for (int i = 0; i < bm.teacher_params.n; i++) {
        const burn_param *p = &bm.teacher_params.p[i];
        char qname[256];
        snprintf(qname, sizeof qname, "encoder_q.%s", p->name + strlen("teacher."));
        int j = burn_params_find(&m.q, qname);
        cr_assert_geq(j, 0, "%s", qname);
        cr_assert(same(burn_param_data(&bm.teacher_params, i), burn_param_data(&m.q, j), p->numel),
                  "%s differs from %s", p->name, qname);
        checked++;
    }
    cr_assert_eq(checked, bm.teacher_params.n);
    burn_model_free(&bm);
    /* a teacher of another width refuses the file */
    cr_assert_eq(burn_config_set(&cfg, "teacher.width=0.0625"), 0);
    cr_assert_eq(burn_model_init(&bm, &cfg, burn_cpu_backend(), 2), 0, "%s", burn_error());
    cr_assert_neq(burn_model_load_teacher(&bm, path), 0);
    burn_model_free(&bm);
    burn_config_free(&cfg);
    unlink(path);
    free(path);
    burn_moco_free(&m);
    burn_st_close(&fx);
}

Test(moco, bad_sizes_are_errors) {
    burn_log_quiet = 1;
    burn_moco m;
    burn_moco_config c = {{18, 0.03125, 16, 1}, 16, 8, 0.2f, 0.99f, 0.9f, 1e-4f};
    cr_assert_neq(burn_moco_init(&m, &c, burn_cpu_backend(), 1, 1), 0);
    cr_assert(strstr(burn_error(), "at least 2 images"), "%s", burn_error());
    cr_assert_neq(burn_moco_init(&m, &c, burn_cpu_backend(), 16, 1), 0);
    cr_assert(strstr(burn_error(), "queue 8 for batch 16"), "%s", burn_error());
    c.backbone.depth = 20;
    cr_assert_neq(burn_moco_init(&m, &c, burn_cpu_backend(), 4, 1), 0);
    cr_assert(strstr(burn_error(), "not one of 18, 34, 50"), "%s", burn_error());
}

