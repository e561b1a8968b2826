/* test_binarize.c — the CPU binarisation ops (METHOD.md §3) against naive double references on
 * random odd shapes: sign and its two STE modes, RSign, RPReLU, weight binarisation.
 *
 * The straight-through gradients are, by definition, the exact gradients of a surrogate
 * forward (clip: hardtanh(v); approx: ReActNet's ApproxSign polynomial; weights: α·W with α
 * frozen, or hardtanh(W)). The finite-difference checks differentiate those surrogates, and
 * the real RPReLU, in double, at inputs kept a margin away from every kink. */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/binarize.h"
#include "test_util.h"

static const burn_backend *be;
static void setup(void) { be = burn_cpu_backend(); }
TestSuite(binarize, .init = setup);

#define FD_H 1e-4
#define KINK_MARGIN 0.01

/* the forward functions whose exact derivatives the STE modes are */
static double surrogate(double v, int mode) {
    if (v <= -1.0) return -1.0;
    if (v >= 1.0) return 1.0;
    if (mode == BURN_ACT_GRAD_CLIP) return v;
    return v < 0 ? 2 * v + v * v : 2 * v - v * v;
}

static double fd_surrogate(double v, int mode) {
    return (surrogate(v + FD_H, mode) - surrogate(v - FD_H, mode)) / (2 * FD_H);
}

/* a random float whose distance to the kinks of the STE surrogates (0, ±1) after subtracting
 * `shift` is at least KINK_MARGIN */
static float away_from_kinks(uint64_t *s, float lo, float hi, float shift) {
    for (;;) {
        float x = tu_uniform(s, lo, hi);
        double v = (double)x - shift;
        if (fabs(v) > KINK_MARGIN && fabs(fabs(v) - 1.0) > KINK_MARGIN) return x;
    }
}

static const int hw_choices[] = {1, 3, 7, 49, 97};

Test(binarize, sign_is_plus_one_at_zero_and_never_zero) {
    float x[6] = {0.0f, -0.0f, 1e-30f, -1e-30f, 3.5f, -2.0f}, y[6];
    float expect[6] = {1, 1, 1, -1, 1, -1};
    be->sign_forward(y, x, 6);
    for (int i = 0; i < 6; i++) cr_assert_eq(y[i], expect[i], "sign(%g) = %g", x[i], y[i]);
    /* RSign at x == beta, and weight binarisation of a 0 weight, give +1 too */
    float xr[4] = {0.25f, 0.25f, -0.5f, -0.5f}, beta[2] = {0.25f, -0.5f}, yr[4];
    be->rsign_forward(yr, xr, beta, 1, 2, 2);
    for (int i = 0; i < 4; i++) cr_assert_eq(yr[i], 1.0f, "rsign at x == beta: %g", yr[i]);
    float W[3] = {0.0f, -0.6f, 0.3f}, Wb[3], alpha;
    be->binarize_weights(Wb, &alpha, W, 1, 3);
    cr_assert_float_eq(alpha, 0.3f, 1e-7f);
    cr_assert_eq(Wb[0], alpha);
    cr_assert_eq(Wb[1], -alpha);
    cr_assert_eq(Wb[2], alpha);
}

Test(binarize, sign_forward_random) {
    uint64_t s = 1;
    for (int64_t n = 1; n <= 20000; n = n * 3 + 5) {
        float *x = malloc(n * 4), *y = malloc(n * 4);
        tu_fill(x, n, tu_next(&s), -3, 3);
        be->sign_forward(y, x, n);
        for (int64_t i = 0; i < n; i++)
            cr_assert_eq(y[i], x[i] >= 0 ? 1.0f : -1.0f, "n=%ld i=%ld x=%g", (long)n, (long)i, x[i]);
        free(x), free(y);
    }
}

Test(binarize, ste_modes_at_landmarks) {
    /* v:        -1.5  -1   -0.5  0    0.5  1    1.5 */
    float v[7] = {-1.5f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}, g[7], dx[7];
    float clip[7] = {0, 1, 1, 1, 1, 1, 0}, approx[7] = {0, 0, 1, 2, 1, 0, 0};
    for (int i = 0; i < 7; i++) g[i] = 1.0f;
    be->sign_backward(dx, g, v, 7, BURN_ACT_GRAD_CLIP);
    for (int i = 0; i < 7; i++) cr_assert_eq(dx[i], clip[i], "clip at %g: %g", v[i], dx[i]);
    be->sign_backward(dx, g, v, 7, BURN_ACT_GRAD_APPROX);
    for (int i = 0; i < 7; i++) cr_assert_eq(dx[i], approx[i], "approx at %g: %g", v[i], dx[i]);
}

Test(binarize, sign_backward_matches_reference_and_finite_differences) {
    uint64_t s = 2;
    for (int mode = 0; mode < 2; mode++)
        for (int64_t n = 1; n <= 5000; n = n * 4 + 3) {
            float *x = malloc(n * 4), *g = malloc(n * 4), *dx = malloc(n * 4);
            for (int64_t i = 0; i < n; i++) x[i] = away_from_kinks(&s, -2, 2, 0);
            tu_fill(g, n, tu_next(&s), -1, 1);
            be->sign_backward(dx, g, x, n, mode);
            for (int64_t i = 0; i < n; i++) {
                double a = fabs((double)x[i]);
                double ste = mode == BURN_ACT_GRAD_CLIP ? (a <= 1) : (a < 1 ? 2 - 2 * a : 0);
                double ref = g[i] * ste, fd = g[i] * fd_surrogate(x[i], mode);
                cr_assert_leq(fabs(dx[i] - ref), 1e-6, "mode %d x=%g: %g vs %g", mode, x[i], dx[i], ref);
                cr_assert_leq(fabs(dx[i] - fd), 1e-6, "mode %d x=%g: %g vs fd %g", mode, x[i], dx[i], fd);
            }
            free(x), free(g), free(dx);
        }
}

Test(binarize, rsign_forward_and_backward) {
    uint64_t s = 3;
    for (int trial = 0; trial < 24; trial++) {
        int mode = trial & 1;
        int N = tu_int(&s, 1, 5), C = tu_int(&s, 1, 9), HW = hw_choices[tu_int(&s, 0, 4)];
        int64_t n = (int64_t)N * C * HW;
        float *x = malloc(n * 4), *g = malloc(n * 4), *y = malloc(n * 4), *dx = malloc(n * 4);
        float *beta = malloc(C * 4), *dbeta = malloc(C * 4), *dbeta0 = malloc(C * 4);
        tu_fill(beta, C, tu_next(&s), -0.5f, 0.5f);
        tu_fill(dbeta0, C, tu_next(&s), -1, 1);
        memcpy(dbeta, dbeta0, C * 4);
        for (int64_t i = 0; i < n; i++) x[i] = away_from_kinks(&s, -2, 2, beta[(i / HW) % C]);
        tu_fill(g, n, tu_next(&s), -1, 1);

        be->rsign_forward(y, x, beta, N, C, HW);
        be->rsign_backward(dx, dbeta, g, x, beta, N, C, HW, mode);

        double *sum = calloc(C, 8), *fd_beta = calloc(C, 8);
        for (int64_t i = 0; i < n; i++) {
            int c = (int)((i / HW) % C);
            double v = (double)x[i] - beta[c];
            cr_assert_eq(y[i], v >= 0 ? 1.0f : -1.0f, "rsign y at %ld", (long)i);
            /* J = Σ g·surrogate(x − β): ∂J/∂x_i by central differences */
            double fd = g[i] * fd_surrogate(v, mode);
            cr_assert_leq(fabs(dx[i] - fd), 1e-6, "rsign dx[%ld] mode %d: %g vs %g", (long)i, mode, dx[i], fd);
            sum[c] += dx[i];
            /* ∂J/∂β_c: perturbing β_c moves every v of channel c the other way */
            fd_beta[c] += g[i] * (surrogate(v - FD_H, mode) - surrogate(v + FD_H, mode)) / (2 * FD_H);
        }
        for (int c = 0; c < C; c++) {
            double ref = dbeta0[c] - sum[c], want = dbeta0[c] + fd_beta[c];
            double tol = 1e-5 * (1 + fabs(want));
            cr_assert_leq(fabs(dbeta[c] - ref), tol, "dbeta[%d]: %g vs %g", c, dbeta[c], ref);
            cr_assert_leq(fabs(dbeta[c] - want), tol, "dbeta[%d] vs fd: %g vs %g", c, dbeta[c], want);
        }
        free(x), free(g), free(y), free(dx), free(beta), free(dbeta), free(dbeta0), free(sum),
            free(fd_beta);
    }
}

/* double RPReLU */
static double ref_rprelu(double x, double gamma, double slope, double zeta) {
    double v = x - gamma;
    return (v >= 0 ? v : slope * v) + zeta;
}

Test(binarize, rprelu_forward_and_backward) {
    uint64_t s = 4;
    for (int trial = 0; trial < 24; trial++) {
        int N = tu_int(&s, 1, 5), C = tu_int(&s, 1, 9), HW = hw_choices[tu_int(&s, 0, 4)];
        int64_t n = (int64_t)N * C * HW;
        float *x = malloc(n * 4), *g = malloc(n * 4), *y = malloc(n * 4), *dx = malloc(n * 4);
        float *prm = malloc(3 * C * 4), *grads = malloc(3 * C * 4), *grads0 = malloc(3 * C * 4);
        float *gamma = prm, *slope = prm + C, *zeta = prm + 2 * C;
        tu_fill(gamma, C, tu_next(&s), -0.5f, 0.5f);
        tu_fill(slope, C, tu_next(&s), 0.05f, 0.5f);
        tu_fill(zeta, C, tu_next(&s), -0.5f, 0.5f);
        tu_fill(grads0, 3 * C, tu_next(&s), -1, 1);
        memcpy(grads, grads0, 3 * C * 4);
        for (int64_t i = 0; i < n; i++) {
            float gm = gamma[(i / HW) % C];
            do x[i] = tu_uniform(&s, -2, 2);
            while (fabs((double)x[i] - gm) <= KINK_MARGIN);
        }
        tu_fill(g, n, tu_next(&s), -1, 1);

        be->rprelu_forward(y, x, gamma, slope, zeta, N, C, HW);
        be->rprelu_backward(dx, grads, grads + C, grads + 2 * C, g, x, gamma, slope, N, C, HW);

        /* J = Σ g·y; every derivative by central differences of the double function */
        double *fd_p = calloc(3 * C, 8);
        for (int64_t i = 0; i < n; i++) {
            int c = (int)((i / HW) % C);
            double xi = x[i], gm = gamma[c], sl = slope[c], zt = zeta[c], h = FD_H;
            double ref = ref_rprelu(xi, gm, sl, zt);
            cr_assert_leq(fabs(y[i] - ref), 1e-6 * (1 + fabs(ref)), "rprelu y[%ld]", (long)i);
            double fd_x = g[i] * (ref_rprelu(xi + h, gm, sl, zt) - ref_rprelu(xi - h, gm, sl, zt)) / (2 * h);
            cr_assert_leq(fabs(dx[i] - fd_x), 1e-6, "rprelu dx[%ld]: %g vs %g", (long)i, dx[i], fd_x);
            fd_p[c] += g[i] * (ref_rprelu(xi, gm + h, sl, zt) - ref_rprelu(xi, gm - h, sl, zt)) / (2 * h);
            fd_p[C + c] += g[i] * (ref_rprelu(xi, gm, sl + h, zt) - ref_rprelu(xi, gm, sl - h, zt)) / (2 * h);
            fd_p[2 * C + c] += g[i] * (ref_rprelu(xi, gm, sl, zt + h) - ref_rprelu(xi, gm, sl, zt - h)) / (2 * h);
        }
        static const char *names[3] = {"dgamma", "dslope", "dzeta"};
        for (int k = 0; k < 3 * C; k++) {
            double want = grads0[k] + fd_p[k];
            cr_assert_leq(fabs(grads[k] - want), 1e-5 * (1 + fabs(want)), "%s[%d]: %g vs %g",
                          names[k / C], k % C, grads[k], want);
        }
        free(x), free(g), free(y), free(dx), free(prm), free(grads), free(grads0), free(fd_p);
    }
}

Test(binarize, weight_binarisation_forward_and_both_backward_modes) {
    uint64_t s = 5;
    for (int trial = 0; trial < 16; trial++) {
        int mode = trial & 1;
        int O = tu_int(&s, 1, 17), K = tu_int(&s, 1, 300);
        if (trial == 15) O = 3, K = 9216; /* the widest ReActNet-A 3x3: 1024·3·3 */
        int64_t n = (int64_t)O * K;
        float *W = malloc(n * 4), *Wb = malloc(n * 4), *dWb = malloc(n * 4);
        float *dW = malloc(n * 4), *dW0 = malloc(n * 4), *alpha = malloc(O * 4);
        for (int64_t i = 0; i < n; i++) {
            do W[i] = tu_uniform(&s, -1.6f, 1.6f);
            while (fabs(fabs((double)W[i]) - 1.0) <= KINK_MARGIN);
        }
        tu_fill(dWb, n, tu_next(&s), -1, 1);
        tu_fill(dW0, n, tu_next(&s), -1, 1);
        memcpy(dW, dW0, n * 4);

        be->binarize_weights(Wb, alpha, W, O, K);
        be->binarize_weights_backward(dW, dWb, W, alpha, O, K, mode);

        for (int o = 0; o < O; o++) {
            double a = 0;
            for (int k = 0; k < K; k++) a += fabs((double)W[(int64_t)o * K + k]);
            a /= K;
            cr_assert_leq(fabs(alpha[o] - a), 1e-6 * a, "alpha[%d]: %g vs %g", o, alpha[o], a);
            for (int k = 0; k < K; k++) {
                int64_t i = (int64_t)o * K + k;
                double ref = W[i] >= 0 ? a : -a;
                cr_assert_leq(fabs(Wb[i] - ref), 1e-6 * a, "Wb[%d,%d]", o, k);
                /* J = Σ dWb·surrogate(W): α·W (α frozen) or hardtanh(W); central differences */
                double w = W[i], h = FD_H;
                double fd = mode == BURN_WEIGHT_GRAD_IDENTITY
                                ? dWb[i] * (a * (w + h) - a * (w - h)) / (2 * h)
                                : dWb[i] * (surrogate(w + h, BURN_ACT_GRAD_CLIP) -
                                            surrogate(w - h, BURN_ACT_GRAD_CLIP)) / (2 * h);
                double want = dW0[i] + fd;
                cr_assert_leq(fabs(dW[i] - want), 1e-6 * (1 + fabs(want)),
                              "mode %d dW[%d,%d]: %g vs %g (W %g)", mode, o, k, dW[i], want, w);
            }
        }
        free(W), free(Wb), free(dWb), free(dW), free(dW0), free(alpha);
    }
}

Test(binarize, weight_grad_clip_ignores_alpha_and_cuts_outside_one) {
    float W[4] = {0.5f, -1.0f, 1.5f, -3.0f}, Wb[4], alpha, dWb[4] = {1, 1, 1, 1};
    float dW[4] = {0, 0, 0, 0};
    be->binarize_weights(Wb, &alpha, W, 1, 4);
    cr_assert_float_eq(alpha, 1.5f, 1e-7f);
    be->binarize_weights_backward(dW, dWb, W, &alpha, 1, 4, BURN_WEIGHT_GRAD_CLIP);
    float clip[4] = {1, 1, 0, 0};
    for (int i = 0; i < 4; i++) cr_assert_eq(dW[i], clip[i], "clip dW[%d] = %g", i, dW[i]);
    be->binarize_weights_backward(dW, dWb, W, &alpha, 1, 4, BURN_WEIGHT_GRAD_IDENTITY);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(dW[i], clip[i] + 1.5f, "identity adds alpha: dW[%d] = %g", i, dW[i]);
}

Test(binarize, null_parameter_gradients_are_skipped) {
    float x[6] = {0.3f, -0.7f, 1.2f, -0.1f, 0.9f, -2.0f}, g[6] = {1, -1, 0.5f, 2, -0.3f, 1};
    float p[3] = {0.1f, 0.25f, 0.0f}, dx[6], dx2[6], dslope = 0;
    be->rsign_backward(dx, NULL, g, x, p, 2, 1, 3, BURN_ACT_GRAD_CLIP);
    be->rprelu_backward(dx2, NULL, &dslope, NULL, g, x, p, p + 1, 2, 1, 3);
    cr_assert_eq(dx[0], 1.0f);
    cr_assert_eq(dx2[1], -0.25f); /* v = −0.8 < 0: slope·g */
    cr_assert_neq(dslope, 0.0f);
}

Test(binarize, config_names_map_to_modes) {
    cr_assert_eq(burn_act_grad_parse("clip"), BURN_ACT_GRAD_CLIP);
    cr_assert_eq(burn_act_grad_parse("approx"), BURN_ACT_GRAD_APPROX);
    cr_assert_eq(burn_weight_grad_parse("identity"), BURN_WEIGHT_GRAD_IDENTITY);
    cr_assert_eq(burn_weight_grad_parse("clip"), BURN_WEIGHT_GRAD_CLIP);
    cr_assert_eq(burn_act_grad_parse("tanh"), -1);
    cr_assert(strstr(burn_error(), "binary.act_grad") && strstr(burn_error(), "tanh"), "%s",
              burn_error());
    cr_assert_eq(burn_weight_grad_parse("sign"), -1);
}
