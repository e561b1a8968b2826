/* test_loss.c — the CPU BURN loss (METHOD.md §4) against a naive double reference: per-row KL, FS
 * and L for every FS choice and several λ, on random odd shapes (D = 1 .. 2001); ds and dt by
 * central finite differences of the double reference; fused against unfused; zero loss at
 * s = t; large logits; the λ(t) schedules at their landmarks; config names. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/config.h"
#include "burn/loss.h"
#include "test_util.h"

static const burn_backend *be;
static void setup(void) { be = burn_cpu_backend(); }
TestSuite(loss, .init = setup);

/* ---- the double reference: one row, straight from the definitions ---- */
static void ref_log_softmax(double *lp, const double *z, int D, double T) {
    double max = -INFINITY, sum = 0;
    for (int c = 0; c < D; c++) max = fmax(max, z[c] / T);
    for (int c = 0; c < D; c++) sum += exp(z[c] / T - max);
    for (int c = 0; c < D; c++) lp[c] = z[c] / T - max - log(sum);
}

/* L of one row; kl_out/fs_out may be NULL */
static double ref_row(const double *s, const double *t, int D, double T, double lambda, int fs,
                      double *kl_out, double *fs_out) {
    double *lps = malloc(8 * D), *lpt = malloc(8 * D);
    ref_log_softmax(lps, s, D, T);
    ref_log_softmax(lpt, t, D, T);
    double kl = 0, f = 0, ns = 0, nt = 0;
    for (int c = 0; c < D; c++) kl += exp(lpt[c]) * (lpt[c] - lps[c]);
    for (int c = 0; c < D; c++) ns += s[c] * s[c], nt += t[c] * t[c];
    ns = sqrt(ns), nt = sqrt(nt);
    for (int c = 0; c < D; c++) {
        double d = fs == BURN_FS_COSINE ? s[c] / ns - t[c] / nt : s[c] - t[c];
        f += fs == BURN_FS_L1 ? fabs(d) : d * d;
    }
    free(lps), free(lpt);
    if (kl_out) *kl_out = kl;
    if (fs_out) *fs_out = f;
    return (1 - lambda) * kl + lambda * f;
}

/* Random logits for N rows of D: s uniform in ±amp, t = s + an offset of at least 0.05 in
 * magnitude (keeps l1 away from its kink at s = t), so student and teacher are related. */
static void make_logits(float *s, float *t, int64_t n, uint64_t seed, float amp) {
    uint64_t r = seed;
    for (int64_t i = 0; i < n; i++) {
        s[i] = tu_uniform(&r, -amp, amp);
        float off = tu_uniform(&r, 0.05f, 1.0f);
        t[i] = s[i] + (tu_next(&r) & 1 ? off : -off);
    }
}

typedef struct loss_out {
    float *kl, *fs, *loss, *ds, *dt;
} loss_out;

static loss_out run_loss(int fused, const float *s, const float *t, int N, int D,
                         burn_loss_hparams h) {
    loss_out o = {malloc(4 * N), malloc(4 * N), malloc(4 * N), malloc(4L * N * D),
                  malloc(4L * N * D)};
    if (fused) {
        be->loss_fused(o.kl, o.fs, o.loss, o.ds, o.dt, s, t, N, D, h);
    } else {
        float *work = malloc(4 * burn_loss_unfused_work_floats(N, D));
        be->loss_unfused(o.kl, o.fs, o.loss, o.ds, o.dt, s, t, N, D, h, work);
        free(work);
    }
    return o;
}

static void free_out(loss_out o) { free(o.kl), free(o.fs), free(o.loss), free(o.ds), free(o.dt); }

static const char *fs_name[3] = {"cosine", "l1", "l2"};

/* Check one call's outputs against the double reference; gradients by central differences
 * on `checks` elements per row (all when checks >= D). */
static void check_against_reference(loss_out o, const float *s, const float *t, int N, int D,
                                    burn_loss_hparams h, int checks, const char *what) {
    double T = h.temperature, lam = h.lambda;
    double *sr = malloc(8 * D), *tr = malloc(8 * D), *gs = malloc(8 * D), *gt = malloc(8 * D);
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < D; c++) sr[c] = s[(int64_t)n * D + c], tr[c] = t[(int64_t)n * D + c];
        double kl, fs, L = ref_row(sr, tr, D, T, lam, h.fs, &kl, &fs);
        /* float logits divided by T = 0.2 reach |z/T| ~ 15-40: absolute errors of a few
         * float ulps of that size in the log-sum-exp terms */
        double zmax = 0;
        for (int c = 0; c < D; c++) zmax = fmax(zmax, fmax(fabs(sr[c]), fabs(tr[c])) / T);
        double tol = 1e-6 * (1 + zmax);
        cr_assert_leq(fabs(o.kl[n] - kl), tol + 1e-5 * kl, "%s %s λ=%g N=%d D=%d row %d: KL %.9g vs %.9g",
                      what, fs_name[h.fs], lam, N, D, n, o.kl[n], kl);
        cr_assert_leq(fabs(o.fs[n] - fs), 1e-6 + 1e-5 * fs, "%s %s D=%d row %d: FS %.9g vs %.9g", what,
                      fs_name[h.fs], D, n, o.fs[n], fs);
        cr_assert_leq(fabs(o.loss[n] - L), tol + 1e-5 * fabs(L), "%s %s D=%d row %d: L %.9g vs %.9g",
                      what, fs_name[h.fs], D, n, o.loss[n], L);

        /* central differences of grad_scale·L in double */
        double eps = 1e-6, gmax = 0;
        int stride = checks >= D ? 1 : D / checks;
        for (int c = 0; c < D; c += stride) {
            double keep = sr[c];
            sr[c] = keep + eps;
            double up = ref_row(sr, tr, D, T, lam, h.fs, NULL, NULL);
            sr[c] = keep - eps;
            double dn = ref_row(sr, tr, D, T, lam, h.fs, NULL, NULL);
            sr[c] = keep;
            gs[c] = h.grad_scale * (up - dn) / (2 * eps);
            keep = tr[c];
            tr[c] = keep + eps;
            up = ref_row(sr, tr, D, T, lam, h.fs, NULL, NULL);
            tr[c] = keep - eps;
            dn = ref_row(sr, tr, D, T, lam, h.fs, NULL, NULL);
            tr[c] = keep;
            gt[c] = h.grad_scale * (up - dn) / (2 * eps);
            gmax = fmax(gmax, fmax(fabs(gs[c]), fabs(gt[c])));
        }
        /* float gradient entries carry errors relative to the row's largest entry (they share
         * the row statistics), and absolute ones of a few float ulps of the probabilities
         * times 1/T (p_s − p_t cancels when the rows nearly agree); the FD's own are ~1e-9 */
        double gtol = 2e-5 * gmax + h.grad_scale * 1e-6 * (1 + 1 / T);
        for (int c = 0; c < D; c += stride) {
            int64_t i = (int64_t)n * D + c;
            cr_assert_leq(fabs(o.ds[i] - gs[c]), gtol, "%s %s λ=%g D=%d ds[%d,%d]: %.9g vs fd %.9g",
                          what, fs_name[h.fs], lam, D, n, c, o.ds[i], gs[c]);
            cr_assert_leq(fabs(o.dt[i] - gt[c]), gtol, "%s %s λ=%g D=%d dt[%d,%d]: %.9g vs fd %.9g",
                          what, fs_name[h.fs], lam, D, n, c, o.dt[i], gt[c]);
        }
    }
    free(sr), free(tr), free(gs), free(gt);
}

Test(loss, small_odd_shapes_every_fs_and_lambda_against_reference_and_fd) {
    static const int dims[] = {1, 2, 3, 17, 37};
    static const float lambdas[] = {0.0f, 0.3f, 0.7f, 1.0f};
    uint64_t seed = 100;
    for (int fused = 0; fused < 2; fused++)
        for (int fs = 0; fs < 3; fs++)
            for (int li = 0; li < 4; li++)
                for (int di = 0; di < 5; di++) {
                    int N = 1 + (int)(tu_next(&seed) % 5), D = dims[di];
                    burn_loss_hparams h = {.temperature = 0.2f, .lambda = lambdas[li],
                                           .grad_scale = 1.0f / N, .fs = fs};
                    float *s = malloc(4L * N * D), *t = malloc(4L * N * D);
                    make_logits(s, t, (int64_t)N * D, tu_next(&seed), 3.0f);
                    loss_out o = run_loss(fused, s, t, N, D, h);
                    check_against_reference(o, s, t, N, D, h, D, fused ? "fused" : "unfused");
                    free_out(o), free(s), free(t);
                }
}

Test(loss, production_width_against_reference_and_fd) {
    /* D = 2000 (METHOD.md) and an odd 2001, other temperatures; gradients checked on 40 entries
     * per row */
    uint64_t seed = 200;
    static const int dims[] = {2000, 2001};
    static const float temps[] = {0.2f, 1.0f, 0.07f};
    for (int fs = 0; fs < 3; fs++)
        for (int k = 0; k < 2; k++) {
            int N = 2, D = dims[k];
            burn_loss_hparams h = {.temperature = temps[(fs + k) % 3], .lambda = 0.8f,
                                   .grad_scale = 0.25f, .fs = fs};
            float *s = malloc(4L * N * D), *t = malloc(4L * N * D);
            make_logits(s, t, (int64_t)N * D, tu_next(&seed), 4.0f);
            loss_out o = run_loss(1, s, t, N, D, h);
            check_against_reference(o, s, t, N, D, h, 40, "fused");
            free_out(o), free(s), free(t);
        }
}

Test(loss, fused_equals_unfused) {
    uint64_t seed = 300;
    for (int fs = 0; fs < 3; fs++) {
        int N = 7, D = 2000;
        burn_loss_hparams h = {.temperature = 0.2f, .lambda = 0.75f, .grad_scale = 1.0f / N, .fs = fs};
        float *s = malloc(4L * N * D), *t = malloc(4L * N * D);
        make_logits(s, t, (int64_t)N * D, tu_next(&seed), 5.0f);
        loss_out a = run_loss(1, s, t, N, D, h), b = run_loss(0, s, t, N, D, h);
        cr_assert_leq(tu_max_rel_f(a.loss, b.loss, N, 1e-3), 1e-5, "%s loss", fs_name[fs]);
        cr_assert_leq(tu_max_rel_f(a.kl, b.kl, N, 1e-3), 1e-5, "%s kl", fs_name[fs]);
        cr_assert_leq(tu_max_rel_f(a.fs, b.fs, N, 1e-3), 1e-5, "%s fs", fs_name[fs]);
        float gmax = 0;
        for (int64_t i = 0; i < (int64_t)N * D; i++) gmax = fmaxf(gmax, fmaxf(fabsf(b.ds[i]), fabsf(b.dt[i])));
        cr_assert_leq(tu_max_rel_f(a.ds, b.ds, (int64_t)N * D, gmax), 1e-5, "%s ds", fs_name[fs]);
        cr_assert_leq(tu_max_rel_f(a.dt, b.dt, (int64_t)N * D, gmax), 1e-5, "%s dt", fs_name[fs]);
        free_out(a), free_out(b), free(s), free(t);
    }
}

Test(loss, zero_at_s_equals_t) {
    uint64_t seed = 400;
    for (int fused = 0; fused < 2; fused++)
        for (int fs = 0; fs < 3; fs++) {
            int N = 3, D = 2000;
            float *s = malloc(4L * N * D);
            tu_fill(s, (int64_t)N * D, tu_next(&seed), -4, 4);
            burn_loss_hparams h = {.temperature = 0.2f, .lambda = 0.7f, .grad_scale = 1.0f, .fs = fs};
            loss_out o = run_loss(fused, s, s, N, D, h);
            for (int n = 0; n < N; n++) {
                cr_assert_leq(fabsf(o.kl[n]), 1e-6f, "%s KL(s, s) = %g", fs_name[fs], o.kl[n]);
                cr_assert_leq(fabsf(o.fs[n]), 1e-6f, "%s FS(s, s) = %g", fs_name[fs], o.fs[n]);
                cr_assert_leq(fabsf(o.loss[n]), 1e-6f, "%s L(s, s) = %g", fs_name[fs], o.loss[n]);
            }
            for (int64_t i = 0; i < (int64_t)N * D; i++) {
                cr_assert_leq(fabsf(o.ds[i]), 1e-5f, "%s ds[%ld] = %g at s = t", fs_name[fs], (long)i, o.ds[i]);
                cr_assert_leq(fabsf(o.dt[i]), 1e-5f, "%s dt[%ld] = %g at s = t", fs_name[fs], (long)i, o.dt[i]);
            }
            free_out(o), free(s);
        }
}

Test(loss, large_logits_stay_finite_and_accurate) {
    /* |z/T| up to 5000: exp without the max subtraction would overflow */
    int N = 2, D = 301;
    float *s = malloc(4L * N * D), *t = malloc(4L * N * D);
    make_logits(s, t, (int64_t)N * D, 500, 1000.0f);
    for (int fused = 0; fused < 2; fused++) {
        burn_loss_hparams h = {.temperature = 0.2f, .lambda = 0.5f, .grad_scale = 1.0f, .fs = BURN_FS_COSINE};
        loss_out o = run_loss(fused, s, t, N, D, h);
        for (int64_t i = 0; i < (int64_t)N * D; i++)
            cr_assert(isfinite(o.ds[i]) && isfinite(o.dt[i]), "non-finite gradient at %ld", (long)i);
        double *sr = malloc(8 * D), *tr = malloc(8 * D);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < D; c++) sr[c] = s[(int64_t)n * D + c], tr[c] = t[(int64_t)n * D + c];
            double kl, L = ref_row(sr, tr, D, 0.2, 0.5, BURN_FS_COSINE, &kl, NULL);
            cr_assert(isfinite(o.loss[n]), "loss not finite");
            /* absolute error bounded by float ulps of |z/T| ~ 5000 */
            cr_assert_leq(fabs(o.kl[n] - kl), 5000 * 1e-6 + 1e-5 * kl, "KL %.9g vs %.9g", o.kl[n], kl);
            cr_assert_leq(fabs(o.loss[n] - L), 5000 * 1e-6 + 1e-5 * L, "L %.9g vs %.9g", o.loss[n], L);
        }
        free(sr), free(tr);
        free_out(o);
    }
    free(s), free(t);
}

Test(loss, null_outputs_are_skipped_and_others_unchanged) {
    int N = 3, D = 50;
    float *s = malloc(4L * N * D), *t = malloc(4L * N * D), *ds = malloc(4L * N * D);
    make_logits(s, t, (int64_t)N * D, 600, 2.0f);
    burn_loss_hparams h = {.temperature = 0.2f, .lambda = 0.7f, .grad_scale = 0.5f, .fs = BURN_FS_L2};
    loss_out full = run_loss(1, s, t, N, D, h);
    be->loss_fused(NULL, NULL, NULL, ds, NULL, s, t, N, D, h);
    cr_assert(memcmp(ds, full.ds, 4L * N * D) == 0, "ds alone differs from ds with everything");
    float *work = malloc(4 * burn_loss_unfused_work_floats(N, D)), loss[3];
    be->loss_unfused(NULL, NULL, loss, NULL, NULL, s, t, N, D, h, work);
    cr_assert_leq(tu_max_rel_f(loss, full.loss, N, 1e-3), 1e-5, "unfused loss alone");
    free(work), free(ds), free(s), free(t), free_out(full);
}

Test(loss, lambda_schedules_at_landmarks) {
    const int64_t T = 1000;
    const double l0 = 0.9, lT = 0.7, lc = 0.65;
    /* cosine: λ_0 at 0, the midpoint at T/2, λ_T at T (METHOD.md §4, paper Eq. 3) */
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_COSINE, 0, T, l0, lT, lc), 0.9, 1e-12);
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_COSINE, T / 2, T, l0, lT, lc), 0.8, 1e-12);
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_COSINE, T, T, l0, lT, lc), 0.7, 1e-12);
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_COSINE, T / 4, T, l0, lT, lc),
                       0.7 + 0.2 * (cos(M_PI / 4) + 1) / 2, 1e-12);
    /* constant */
    for (int64_t t = 0; t <= T; t += T / 2)
        cr_assert_float_eq(burn_lambda(BURN_LAMBDA_CONSTANT, t, T, l0, lT, lc), 0.65, 1e-15);
    /* step: λ_0 before T/2, λ_T from T/2 on */
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_STEP, 0, T, l0, lT, lc), 0.9, 1e-15);
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_STEP, T / 2 - 1, T, l0, lT, lc), 0.9, 1e-15);
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_STEP, T / 2, T, l0, lT, lc), 0.7, 1e-15);
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_STEP, T, T, l0, lT, lc), 0.7, 1e-15);
    /* cosine falls monotonically; beyond the ends it holds its end values */
    double prev = 1.0;
    for (int64_t t = 0; t <= T; t += 7) {
        double l = burn_lambda(BURN_LAMBDA_COSINE, t, T, l0, lT, lc);
        cr_assert_leq(l, prev, "λ(%ld) = %g rose", (long)t, l);
        prev = l;
    }
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_COSINE, 2 * T, T, l0, lT, lc), 0.7, 1e-12);
    cr_assert_float_eq(burn_lambda(BURN_LAMBDA_COSINE, -5, T, l0, lT, lc), 0.9, 1e-12);
}

Test(loss, config_defaults_map_to_spec_values) {
    burn_config c;
    burn_config_defaults(&c);
    cr_assert_float_eq(c.loss_temperature, 0.2, 1e-12);
    cr_assert_eq(burn_fs_parse(c.loss_fs), BURN_FS_COSINE);
    cr_assert_eq(burn_lambda_schedule_parse(c.loss_lambda_schedule), BURN_LAMBDA_COSINE);
    cr_assert_float_eq(c.loss_lambda_start, 0.9, 1e-12);
    cr_assert_float_eq(c.loss_lambda_end, 0.7, 1e-12);
    cr_assert_float_eq(c.loss_lambda_constant, 0.7, 1e-12);
    cr_assert_str_eq(c.binary_act_grad, "clip");
    cr_assert_str_eq(c.binary_weight_grad, "identity");
    cr_assert_eq(burn_config_set(&c, "loss.fs=l1"), 0);
    cr_assert_eq(burn_fs_parse(c.loss_fs), BURN_FS_L1);
    cr_assert_eq(burn_config_set(&c, "loss.lambda_schedule=step"), 0);
    cr_assert_eq(burn_lambda_schedule_parse(c.loss_lambda_schedule), BURN_LAMBDA_STEP);
    cr_assert_neq(burn_config_set(&c, "loss.fs=cos"), 0, "an unknown FS choice is rejected");
    cr_assert_neq(burn_config_set(&c, "loss.temperature=0"), 0, "T = 0 is rejected");
    cr_assert_eq(burn_fs_parse("l3"), -1);
    cr_assert(strstr(burn_error(), "loss.fs"), "%s", burn_error());
    cr_assert_eq(burn_lambda_schedule_parse("linear"), -1);
    burn_config_free(&c);
}
