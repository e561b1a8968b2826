/* test_knn.c — weighted k-NN on features with a known answer: separable classes give ~100%,
 * random labels give chance; the vote is weighted (a close minority beats a far majority);
 * and the `eval knn` command's errors. */
#include <criterion/criterion.h>

#include "burn/eval.h"
#include "burn/log.h"
#include "test_features_util.h"
#include "test_util.h"

Test(knn, separable_classes_are_found) {
    burn_features bank = tu_class_features(500, 16, 10, 1.0f, 0.3, 1, 0);
    burn_features q = tu_class_features(200, 16, 10, 1.0f, 0.3, 2, 0);
    double top1 = burn_knn_top1(burn_cpu_backend(), &bank, &q, 20, 0.07);
    cr_assert_geq(top1, 0.99, "top1 %g", top1);
    burn_features_free(&bank);
    burn_features_free(&q);
}

Test(knn, random_labels_give_chance) {
    burn_features bank = tu_class_features(2000, 16, 10, 1.0f, 0.3, 3, 1);
    burn_features q = tu_class_features(2000, 16, 10, 1.0f, 0.3, 4, 1);
    double top1 = burn_knn_top1(burn_cpu_backend(), &bank, &q, 20, 0.07);
    cr_assert(top1 > 0.05 && top1 < 0.15, "top1 %g not near chance 0.1", top1);
    burn_features_free(&bank);
    burn_features_free(&q);
}

Test(knn, votes_are_weighted_by_similarity) {
    /* query along e0; one bank point of class 1 at e0, two of class 0 far off: with k = 3 and a
     * small temperature the single close neighbour wins */
    float bx[] = {1, 0, 0.3f, 1, 0.3f, 1.1f}, qx[] = {1, 0};
    int32_t bl[] = {1, 0, 0}, ql[] = {1};
    burn_features bank = {3, 2, 2, malloc(sizeof bx), malloc(sizeof bl)};
    burn_features q = {1, 2, 2, malloc(sizeof qx), malloc(sizeof ql)};
    memcpy(bank.x, bx, sizeof bx), memcpy(bank.labels, bl, sizeof bl);
    memcpy(q.x, qx, sizeof qx), memcpy(q.labels, ql, sizeof ql);
    cr_assert_eq(burn_knn_top1(burn_cpu_backend(), &bank, &q, 3, 0.07), 1.0);
    burn_features_free(&bank);
    burn_features_free(&q);
}
