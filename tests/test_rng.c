/* test_rng.c — Philox4x32-10 against the published known-answer vectors, and the random fills:
 * range, moments, and that element i depends only on (seed, offset + i). */
#include <criterion/criterion.h>

#include "burn/backend.h"
#include "burn/rng.h"
#include "test_util.h"

Test(rng, philox_known_answers) {
    /* Random123's kat_vectors for philox4x32_10 */
    burn_philox4 r = burn_philox4x32_10(0, 0, 0, 0, 0, 0);
    cr_assert_eq(r.v[0], 0x6627e8d5u);
    cr_assert_eq(r.v[1], 0xe169c58du);
    cr_assert_eq(r.v[2], 0xbc57ac4cu);
    cr_assert_eq(r.v[3], 0x9b00dbd8u);
    r = burn_philox4x32_10(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                           0xffffffffu);
    cr_assert_eq(r.v[0], 0x408f276du);
    cr_assert_eq(r.v[1], 0x41c83b0eu);
    cr_assert_eq(r.v[2], 0xa20bc7c6u);
    cr_assert_eq(r.v[3], 0x6d5451fdu);
    r = burn_philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u,
                           0x299f31d0u);
    cr_assert_eq(r.v[0], 0xd16cfe09u);
    cr_assert_eq(r.v[1], 0x94fdccebu);
    cr_assert_eq(r.v[2], 0x5001e420u);
    cr_assert_eq(r.v[3], 0x24126ea1u);
}

Test(rng, uniform_range_and_moments) {
    const burn_backend *be = burn_cpu_backend();
    int64_t n = 1 << 20;
    float *x = malloc(n * 4);
    be->uniform(x, n, 123, 0, -3.0f, 5.0f);
    double s = 0, q = 0;
    for (int64_t i = 0; i < n; i++) {
        cr_assert(x[i] >= -3.0f && x[i] < 5.0f);
        s += x[i];
        q += (double)x[i] * x[i];
    }
    double mean = s / n, var = q / n - mean * mean;
    cr_assert_leq(fabs(mean - 1.0), 0.02, "mean %g", mean);
    cr_assert_leq(fabs(var - 64.0 / 12.0), 0.05, "var %g", var);
    free(x);
}

Test(rng, normal_moments) {
    const burn_backend *be = burn_cpu_backend();
    int64_t n = 1 << 20;
    float *x = malloc(n * 4);
    be->normal(x, n, 9, 0, 0.5f, 2.0f);
    double s = 0, q = 0, c4 = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    double mean = s / n;
    for (int64_t i = 0; i < n; i++) {
        double d = (x[i] - mean) / 2.0;
        q += d * d;
        c4 += d * d * d * d;
    }
    cr_assert_leq(fabs(mean - 0.5), 0.01, "mean %g", mean);
    cr_assert_leq(fabs(q / n - 1.0), 0.01, "var %g", q / n);
    cr_assert_leq(fabs(c4 / n - 3.0), 0.05, "kurtosis %g", c4 / n); /* Gaussian: 3 */
    free(x);
}

Test(rng, element_depends_only_on_seed_and_index) {
    const burn_backend *be = burn_cpu_backend();
    float big[1000], part[300], other[1000];
    be->uniform(big, 1000, 77, 5000, 0, 1);
    be->uniform(part, 300, 77, 5400, 0, 1);
    cr_assert(memcmp(big + 400, part, sizeof part) == 0);
    be->normal(big, 1000, 77, 0, 0, 1);
    be->normal(part, 300, 77, 700, 0, 1);
    cr_assert(memcmp(big + 700, part, sizeof part) == 0);
    be->normal(other, 1000, 78, 0, 0, 1); /* another seed, other numbers */
    int same = 0;
    for (int i = 0; i < 1000; i++) same += big[i] == other[i];
    cr_assert_lt(same, 5);
}
