/* test_features_util.h — for tests: synthetic feature sets with a known answer. */
#ifndef BURN_TEST_FEATURES_UTIL_H
#define BURN_TEST_FEATURES_UTIL_H

#include "burn/eval.h"
#include "test_util.h"

/* n rows of dim features: class c = i mod classes sits at signal·e_c plus uniform noise in
 * [-noise, noise]; labels are the classes, or uniformly random (a problem with no answer). */
static inline burn_features tu_class_features(int64_t n, int dim, int classes, float signal,
                                              double noise, uint64_t seed, int random_labels) {
    burn_features f = {n, dim, classes, malloc(n * dim * 4), malloc(n * 4)};
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        int c = (int)(i % classes);
        f.labels[i] = random_labels ? tu_int(&s, 0, classes - 1) : c;
        for (int d = 0; d < dim; d++)
            f.x[i * dim + d] = (d == c ? signal : 0.0f) + (float)noise * tu_uniform(&s, -1, 1);
    }
    return f;
}

#endif
