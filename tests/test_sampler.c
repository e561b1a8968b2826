/* test_sampler.c — the epoch sampler: permutations (valid, seeded, uniform), ranks that see
 * disjoint shards covering the epoch, drop_last vs padding, world-size independence of the
 * global batch, and resuming mid-epoch. */
#include <criterion/criterion.h>

#include "burn/data.h"
#include "test_util.h"

Test(sampler, permutations_valid_and_seeded) {
    int64_t sizes[] = {1, 2, 7, 1000};
    for (int t = 0; t < 4; t++) {
        int64_t n = sizes[t];
        int64_t *a = malloc(n * 8), *b = malloc(n * 8);
        uint8_t *seen = calloc(n, 1);
        burn_sampler_permutation(42, 3, n, 1, a);
        for (int64_t i = 0; i < n; i++) {
            cr_assert(a[i] >= 0 && a[i] < n && !seen[a[i]], "n %lld: not a permutation", (long long)n);
            seen[a[i]] = 1;
        }
        burn_sampler_permutation(42, 3, n, 1, b);
        cr_assert_eq(memcmp(a, b, n * 8), 0, "same seed and epoch, same order");
        if (n >= 7) {
            burn_sampler_permutation(42, 4, n, 1, b);
            cr_assert_neq(memcmp(a, b, n * 8), 0, "epochs must reshuffle");
            burn_sampler_permutation(43, 3, n, 1, b);
            cr_assert_neq(memcmp(a, b, n * 8), 0, "seeds must differ");
        }
        burn_sampler_permutation(42, 3, n, 0, b);
        for (int64_t i = 0; i < n; i++) cr_assert_eq(b[i], i, "shuffle off = identity");
        free(a), free(b), free(seen);
    }
}

Test(sampler, permutations_uniform) {
    /* all 24 orders of 4 items, 24000 epochs: chi-square with 23 dof, 0.1% critical 49.7 */
    int counts[24] = {0};
    for (int e = 0; e < 24000; e++) {
        int64_t p[4];
        burn_sampler_permutation(7, e, 4, 1, p);
        int code = 0, used = 0;
        for (int i = 0; i < 4; i++) { /* Lehmer code */
            int smaller = 0;
            for (int j = 0; j < p[i]; j++) smaller += !(used >> j & 1);
            used |= 1 << p[i];
            code = code * (4 - i) + smaller;
        }
        counts[code]++;
    }
    double chi = 0;
    for (int i = 0; i < 24; i++) chi += pow(counts[i] - 1000.0, 2) / 1000.0;
    cr_assert_lt(chi, 49.7, "chi-square %g", chi);
}

/* every (rank, step) of an epoch; counts how often each index appears as real / padding */
static void sweep(int64_t n, int batch, int world, int drop_last, int64_t epoch, int *real,
                  int *pad, int64_t *steps) {
    memset(real, 0, n * sizeof(int));
    memset(pad, 0, n * sizeof(int));
    for (int r = 0; r < world; r++) {
        burn_sampler s;
        cr_assert_eq(burn_sampler_init(&s, n, batch, r, world, 1, drop_last, 99), 0, "%s", burn_error());
        *steps = s.steps_per_epoch;
        int64_t idx[64];
        uint8_t is_pad[64];
        for (int64_t st = 0; st < s.steps_per_epoch; st++) {
            int nr = burn_sampler_batch(&s, epoch, st, idx, is_pad);
            int counted = 0;
            for (int k = 0; k < batch; k++) {
                cr_assert(idx[k] >= 0 && idx[k] < n);
                if (is_pad[k]) pad[idx[k]]++;
                else real[idx[k]]++, counted++;
                if (k > 0) cr_assert(is_pad[k] >= is_pad[k - 1], "padding only at the end");
            }
            cr_assert_eq(nr, counted);
        }
        burn_sampler_free(&s);
    }
}

Test(sampler, ranks_disjoint_and_covering) {
    int64_t n = 103;
    int real[103], pad[103];
    int64_t steps;
    /* drop_last: 5 steps of 4 ranks x 5 = 100 images, each at most once; 3 left out */
    sweep(n, 5, 4, 1, 2, real, pad, &steps);
    cr_assert_eq(steps, 5);
    int once = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_leq(real[i], 1);
        cr_assert_eq(pad[i], 0);
        once += real[i];
    }
    cr_assert_eq(once, 100);
    /* padded: 6 steps, every image exactly once as real, 17 pad slots */
    sweep(n, 5, 4, 0, 2, real, pad, &steps);
    cr_assert_eq(steps, 6);
    int pads = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_eq(real[i], 1, "image %d seen %d times", i, real[i]);
        pads += pad[i];
    }
    cr_assert_eq(pads, 17);
    /* the images left out by drop_last change with the epoch */
    int left_a[103], left_b[103], pa[103];
    sweep(n, 5, 4, 1, 0, left_a, pa, &steps);
    sweep(n, 5, 4, 1, 1, left_b, pa, &steps);
    cr_assert_neq(memcmp(left_a, left_b, sizeof left_a), 0);
}

Test(sampler, global_batch_independent_of_world_size) {
    burn_sampler one, r0, r1;
    cr_assert_eq(burn_sampler_init(&one, 50, 8, 0, 1, 1, 1, 5), 0);
    cr_assert_eq(burn_sampler_init(&r0, 50, 4, 0, 2, 1, 1, 5), 0);
    cr_assert_eq(burn_sampler_init(&r1, 50, 4, 1, 2, 1, 1, 5), 0);
    cr_assert_eq(one.steps_per_epoch, r0.steps_per_epoch);
    for (int64_t e = 0; e < 3; e++)
        for (int64_t st = 0; st < one.steps_per_epoch; st++) {
            int64_t a[8], b[8];
            burn_sampler_batch(&one, e, st, a, NULL);
            burn_sampler_batch(&r0, e, st, b, NULL);
            burn_sampler_batch(&r1, e, st, b + 4, NULL);
            cr_assert_eq(memcmp(a, b, sizeof a), 0, "epoch %lld step %lld", (long long)e, (long long)st);
        }
    burn_sampler_free(&one), burn_sampler_free(&r0), burn_sampler_free(&r1);
}

Test(sampler, resume_mid_epoch_continues_the_order) {
    burn_sampler run, resumed;
    cr_assert_eq(burn_sampler_init(&run, 77, 6, 1, 3, 1, 0, 2024), 0);
    int64_t spe = run.steps_per_epoch, all[3][5][6];
    for (int64_t e = 0; e < 3; e++)
        for (int64_t st = 0; st < spe; st++) burn_sampler_batch(&run, e, st, all[e][st], NULL);
    /* a fresh sampler started at (epoch 1, step 3), after visiting other epochs */
    cr_assert_eq(burn_sampler_init(&resumed, 77, 6, 1, 3, 1, 0, 2024), 0);
    int64_t tmp[6];
    burn_sampler_batch(&resumed, 7, 0, tmp, NULL);
    for (int64_t e = 1, st = 3; e < 3; st = (st + 1) % spe, e += st == 0) {
        burn_sampler_batch(&resumed, e, st, tmp, NULL);
        cr_assert_eq(memcmp(tmp, all[e][st], sizeof tmp), 0);
    }
    burn_sampler_free(&run), burn_sampler_free(&resumed);
}

Test(sampler, errors) {
    burn_sampler s;
    cr_assert_eq(burn_sampler_init(&s, 0, 4, 0, 1, 1, 1, 0), -1);
    cr_assert(strstr(burn_error(), "empty"), "%s", burn_error());
    cr_assert_eq(burn_sampler_init(&s, 10, 4, 2, 2, 1, 1, 0), -1);
    cr_assert(strstr(burn_error(), "rank"), "%s", burn_error());
    cr_assert_eq(burn_sampler_init(&s, 10, 4, 0, 3, 1, 1, 0), -1);
    cr_assert(strstr(burn_error(), "no full global batch of 12"), "%s", burn_error());
    cr_assert_eq(burn_sampler_init(&s, 10, 4, 0, 3, 1, 0, 0), 0, "padding makes it work");
    cr_assert_eq(s.steps_per_epoch, 1);
    burn_sampler_free(&s);
}
