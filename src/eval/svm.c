/* svm.c — linear SVMs on frozen features, the VOC07 protocol of Goyal et al. 2019 (METHOD.md §9):
 * features L2-normalised; one-vs-rest L2-regularised L2-loss SVCs (liblinear's primal
 * L2R_L2LOSS_SVC, a bias feature of 1, positive-class loss weight eval.svm_pos_weight); the cost
 * C chosen from a grid by stratified k-fold cross-validation on the training features,
 * maximising the mean AP; then mAP (VOC07 11-point AP per class, averaged over classes) and
 * accuracy (argmax of the per-class scores) on the val split. Few-shot: random class-balanced
 * draws of k images per class, mean ± std over draws.
 *
 * The primal solver is deterministic (no rand()), so results do not depend on the thread count.
 * The independent SVMs (cost x fold x class, then one per class) run on a small thread pool. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linear.h>

#include "burn/check.h"
#include "burn/eval.h"
#include "burn/rng.h"

#define SVM_EPS 0.01 /* liblinear's default stopping tolerance of the primal solver */

/* ---- VOC07 11-point AP ---- */

typedef struct scored {
    double score;
    int positive;
} scored;

static int by_score_desc(const void *pa, const void *pb) {
    double a = ((const scored *)pa)->score, b = ((const scored *)pb)->score;
    if (isnan(a)) a = -INFINITY; /* a NaN score ranks last */
    if (isnan(b)) b = -INFINITY;
    return (a < b) - (a > b);
}

double burn_voc07_ap(const double *scores, const unsigned char *positive, int64_t n) {
    int64_t npos = 0;
    for (int64_t i = 0; i < n; i++) npos += positive[i] != 0;
    if (npos == 0) return NAN;
    scored *s = burn_xmalloc(sizeof(scored) * (size_t)n);
    for (int64_t i = 0; i < n; i++) s[i] = (scored){scores[i], positive[i] != 0};
    qsort(s, (size_t)n, sizeof *s, by_score_desc);
    /* best[t]: the highest precision at any threshold whose recall reaches t/10. Equal scores
     * form one threshold (their order must not matter). Recall >= t/10 is tested exactly in
     * integers: 10 * tp >= t * npos. */
    double best[11] = {0};
    int64_t tp = 0, fp = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && (s[j].score == s[i].score || (isnan(s[j].score) && isnan(s[i].score)))) {
            tp += s[j].positive;
            fp += !s[j].positive;
            j++;
        }
        double precision = (double)tp / (double)(tp + fp);
        for (int t = 0; t <= 10; t++)
            if (10 * tp >= t * npos && precision > best[t]) best[t] = precision;
        i = j;
    }
    free(s);
    double ap = 0;
    for (int t = 0; t <= 10; t++) ap += best[t];
    return ap / 11.0;
}

/* ---- class-balanced few-shot draws ---- */

/* Uniform integer in [0, range): 64 random bits modulo range (bias below 2^-40 for any split
 * size here). Stream (seed; shots, draw), element `counter`. */
static uint64_t draw_below(uint64_t seed, int shots, int draw, uint64_t counter, uint64_t range) {
    burn_philox4 r = burn_philox4x32_10((uint32_t)counter, (uint32_t)(counter >> 32),
                                        (uint32_t)shots, (uint32_t)draw, (uint32_t)seed,
                                        (uint32_t)(seed >> 32));
    return (((uint64_t)r.v[0] << 32) | r.v[1]) % range;
}

int burn_svm_draw(const int32_t *labels, int64_t n, int num_classes, int shots, uint64_t seed,
                  int draw, int64_t *picked) {
    if (shots < 1) {
        burn_error_set("svm: %d shots per class (need at least 1)", shots);
        return -1;
    }
    int64_t *members = burn_xmalloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    uint64_t counter = 0;
    for (int c = 0; c < num_classes; c++) {
        int64_t count = 0;
        for (int64_t i = 0; i < n; i++)
            if (labels[i] == c) members[count++] = i;
        if (count < shots) {
            burn_error_set("svm: %d shots per class, but class %d has only %lld training images",
                           shots, c, (long long)count);
            free(members);
            return -1;
        }
        /* partial Fisher-Yates: the first `shots` members become a uniform random subset */
        for (int j = 0; j < shots; j++) {
            uint64_t r = draw_below(seed, shots, draw, counter++, (uint64_t)(count - j));
            int64_t k = j + (int64_t)r;
            int64_t t = members[j];
            members[j] = members[k];
            members[k] = t;
            picked[(int64_t)c * shots + j] = members[j];
        }
    }
    free(members);
    return 0;
}

/* ---- one binary SVM through liblinear ---- */

typedef struct svm_ctx {
    const burn_features *train;
    struct feature_node **rows; /* [train->count] sparse rows, bias node, index -1 terminator */
    const burn_svm_opts *o;
} svm_ctx;

static void liblinear_silent(const char *msg) { (void)msg; }

/* Sparse liblinear rows of every training feature (exact zeros left out: ReLU features have
 * many), each ending with the bias feature (index dim + 1, value 1). One allocation. */
static struct feature_node **build_rows(const burn_features *f, struct feature_node **storage) {
    int64_t nnz = 0;
    for (int64_t i = 0; i < f->count * f->dim; i++) nnz += f->x[i] != 0.0f;
    struct feature_node *node = burn_xmalloc(sizeof(struct feature_node) *
                                             (size_t)(nnz + 2 * f->count + 1));
    struct feature_node **rows = burn_xmalloc(sizeof(*rows) * (size_t)(f->count + 1));
    *storage = node;
    for (int64_t i = 0; i < f->count; i++) {
        rows[i] = node;
        const float *x = f->x + i * f->dim;
        for (int d = 0; d < f->dim; d++)
            if (x[d] != 0.0f) *node++ = (struct feature_node){d + 1, x[d]};
        *node++ = (struct feature_node){f->dim + 1, 1.0}; /* bias */
        *node++ = (struct feature_node){-1, 0.0};
    }
    return rows;
}

/* Train "class cls vs the rest" on the samples idx[0..n) with cost C; w[dim + 1] gets the
 * decision function of the positive side (w[dim]: the bias weight, for a feature of 1).
 * 0, or -1 with err filled. */
static int train_binary(const svm_ctx *ctx, const int64_t *idx, int64_t n, int cls, double cost,
                        double *w, char *err, size_t errlen) {
    const burn_features *f = ctx->train;
    double *y = burn_xmalloc(sizeof(double) * (size_t)n);
    struct feature_node **x = burn_xmalloc(sizeof(*x) * (size_t)n);
    int64_t npos = 0;
    for (int64_t i = 0; i < n; i++) {
        y[i] = f->labels[idx[i]] == cls ? 1.0 : -1.0;
        npos += y[i] > 0;
        x[i] = ctx->rows[idx[i]];
    }
    int rc = 0;
    if (npos == 0 || npos == n) {
        snprintf(err, errlen, "svm: class %d has %s in a training set of %lld", cls,
                 npos ? "every sample" : "no sample", (long long)n);
        rc = -1;
    }
    struct problem prob = {.l = (int)n, .n = f->dim + 1, .y = y, .x = x, .bias = 1.0};
    int weight_label = 1;
    double weight = ctx->o->pos_weight;
    struct parameter param = {.solver_type = L2R_L2LOSS_SVC, .eps = SVM_EPS, .C = cost,
                              .nr_weight = 1, .weight_label = &weight_label, .weight = &weight,
                              .p = 0.1, .init_sol = NULL};
    const char *bad = rc == 0 ? check_parameter(&prob, &param) : NULL;
    if (bad) {
        snprintf(err, errlen, "svm: liblinear rejects the problem: %s", bad);
        rc = -1;
    }
    if (rc == 0) {
        struct model *m = train(&prob, &param);
        /* liblinear orders labels by first appearance; take the side whose label is +1 */
        int side = m->label[0] == 1 ? 0 : 1;
        for (int d = 0; d < f->dim; d++) w[d] = get_decfun_coef(m, d + 1, side);
        w[f->dim] = get_decfun_bias(m, side);
        free_and_destroy_model(&m);
    }
    free(y);
    free(x);
    return rc;
}

static double decision(const float *x, const double *w, int dim) {
    double s = w[dim];
    for (int d = 0; d < dim; d++) s += (double)x[d] * w[d];
    return s;
}

/* ---- a pool of independent jobs ---- */

typedef struct job_pool {
    int njobs, next, failed;
    pthread_mutex_t lock;
    char err[256];
    void *arg;
    int (*run)(void *arg, int job, char *err, size_t errlen);
} job_pool;

static void *pool_worker(void *p_) {
    job_pool *p = p_;
    char err[256];
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int job = p->failed ? p->njobs : p->next++;
        pthread_mutex_unlock(&p->lock);
        if (job >= p->njobs) return NULL;
        if (p->run(p->arg, job, err, sizeof err) != 0) {
            pthread_mutex_lock(&p->lock);
            if (!p->failed) memcpy(p->err, err, sizeof err);
            p->failed = 1;
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Run jobs 0..njobs-1 on `threads` threads (this one included). 0, or -1 with burn_error(). */
static int pool_run(int threads, int njobs, int (*run)(void *, int, char *, size_t), void *arg) {
    job_pool p = {.njobs = njobs, .arg = arg, .run = run};
    pthread_mutex_init(&p.lock, NULL);
    if (threads > njobs) threads = njobs;
    if (threads < 1) threads = 1;
    pthread_t *tid = burn_xmalloc(sizeof(pthread_t) * (size_t)threads);
    int started = 0;
    for (; started < threads - 1; started++)
        if (pthread_create(&tid[started], NULL, pool_worker, &p) != 0) break; /* fewer is fine */
    pool_worker(&p);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    free(tid);
    pthread_mutex_destroy(&p.lock);
    if (p.failed) {
        burn_error_set("%s", p.err);
        return -1;
    }
    return 0;
}

/* ---- cross-validation of the cost, then the final SVMs of one training subset ---- */

typedef struct subset_task {
    const svm_ctx *ctx;
    const int64_t *idx; /* the training subset, [n] */
    int64_t n;
    const int *fold;    /* [n] fold of each subset member */
    int folds, classes;
    const double *costs; /* ascending */
    double *ap;          /* CV: [ncosts, folds, classes] AP on the held-out fold (NaN: none) */
    double *w;           /* final: [classes, dim + 1] */
    double best_cost;
} subset_task;

static int cv_job(void *arg, int job, char *err, size_t errlen) {
    subset_task *t = arg;
    /* job = (ci * folds + f) * classes + cls */
    int cls = job % t->classes, f = (job / t->classes) % t->folds;
    int ci = job / (t->classes * t->folds);
    int dim = t->ctx->train->dim;
    int64_t *fit = burn_xmalloc(sizeof(int64_t) * (size_t)t->n);
    int64_t *held = burn_xmalloc(sizeof(int64_t) * (size_t)t->n);
    int64_t nfit = 0, nheld = 0;
    for (int64_t i = 0; i < t->n; i++) {
        if (t->fold[i] == f) held[nheld++] = t->idx[i];
        else fit[nfit++] = t->idx[i];
    }
    double *w = burn_xmalloc(sizeof(double) * (size_t)(dim + 1));
    int rc = train_binary(t->ctx, fit, nfit, cls, t->costs[ci], w, err, errlen);
    if (rc == 0) {
        double *score = burn_xmalloc(sizeof(double) * (size_t)nheld);
        unsigned char *pos = burn_xmalloc((size_t)nheld);
        for (int64_t i = 0; i < nheld; i++) {
            score[i] = decision(t->ctx->train->x + held[i] * dim, w, dim);
            pos[i] = t->ctx->train->labels[held[i]] == cls;
        }
        t->ap[job] = burn_voc07_ap(score, pos, nheld);
        free(score);
        free(pos);
    }
    free(w);
    free(fit);
    free(held);
    return rc;
}

static int final_job(void *arg, int cls, char *err, size_t errlen) {
    subset_task *t = arg;
    int dim = t->ctx->train->dim;
    return train_binary(t->ctx, t->idx, t->n, cls, t->best_cost,
                        t->w + (int64_t)cls * (dim + 1), err, errlen);
}

/* Stratified folds: each class's members of the subset, in a seeded random order, dealt
 * round-robin (so every fold holds about count/folds of each class). */
static void assign_folds(const burn_features *f, const int64_t *idx, int64_t n, int folds,
                         uint64_t seed, int shots, int draw, int *fold) {
    int64_t *members = burn_xmalloc(sizeof(int64_t) * (size_t)n);
    uint64_t counter = 1ull << 62; /* a part of the draw's stream the sampler never reaches */
    for (int c = 0; c < f->num_classes; c++) {
        int64_t count = 0;
        for (int64_t i = 0; i < n; i++)
            if (f->labels[idx[i]] == c) members[count++] = i;
        for (int64_t j = count - 1; j > 0; j--) {
            int64_t k = (int64_t)draw_below(seed, shots, draw, counter++, (uint64_t)(j + 1));
            int64_t t = members[j];
            members[j] = members[k];
            members[k] = t;
        }
        for (int64_t j = 0; j < count; j++) fold[members[j]] = (int)(j % folds);
    }
    free(members);
}

/* One training subset: choose the cost, train the final SVMs, score val. */
static int eval_subset(const svm_ctx *ctx, const burn_features *val, const int64_t *idx,
                       int64_t n, int shots, int draw, double *map, double *acc, double *cost) {
    const burn_features *tr = ctx->train;
    const burn_svm_opts *o = ctx->o;
    int classes = tr->num_classes, dim = tr->dim;
    int64_t min_count = INT64_MAX;
    for (int c = 0; c < classes; c++) {
        int64_t count = 0;
        for (int64_t i = 0; i < n; i++) count += tr->labels[idx[i]] == c;
        if (count < min_count) min_count = count;
    }
    if (min_count == 0) {
        burn_error_set("svm: a class has no training image (every class needs one)");
        return -1;
    }
    double *costs = burn_xmalloc(sizeof(double) * (size_t)o->ncosts);
    memcpy(costs, o->costs, sizeof(double) * (size_t)o->ncosts);
    for (int i = 1; i < o->ncosts; i++) /* ascending (insertion sort: a short list) */
        for (int j = i; j > 0 && costs[j - 1] > costs[j]; j--) {
            double t = costs[j];
            costs[j] = costs[j - 1];
            costs[j - 1] = t;
        }
    int folds = o->folds < min_count ? o->folds : (int)min_count;
    subset_task t = {.ctx = ctx, .idx = idx, .n = n, .folds = folds, .classes = classes,
                     .costs = costs};
    int rc = 0;
    if (folds < 2 || o->ncosts == 1) {
        /* one image per class cannot be cross-validated (a held-out positive leaves none to
         * train on): the middle of the grid */
        t.best_cost = costs[(o->ncosts - 1) / 2];
    } else {
        int *fold = burn_xmalloc(sizeof(int) * (size_t)n);
        assign_folds(tr, idx, n, folds, o->seed, shots, draw, fold);
        t.fold = fold;
        int njobs = o->ncosts * folds * classes;
        t.ap = burn_xmalloc(sizeof(double) * (size_t)njobs);
        rc = pool_run(o->threads, njobs, cv_job, &t);
        double best = -1;
        for (int ci = 0; rc == 0 && ci < o->ncosts; ci++) {
            double sum = 0;
            int count = 0;
            for (int j = 0; j < folds * classes; j++) {
                double ap = t.ap[ci * folds * classes + j];
                if (!isnan(ap)) sum += ap, count++;
            }
            double mean = count ? sum / count : 0;
            if (mean > best) best = mean, t.best_cost = costs[ci]; /* ties: the smaller cost */
        }
        free(t.ap);
        free(fold);
    }
    if (rc == 0) {
        t.w = burn_xmalloc(sizeof(double) * (size_t)classes * (size_t)(dim + 1));
        rc = pool_run(o->threads, classes, final_job, &t);
    }
    if (rc == 0) {
        /* scores [val->count, classes] */
        double *score = burn_xmalloc(sizeof(double) * (size_t)val->count * (size_t)classes);
        int64_t correct = 0;
        for (int64_t i = 0; i < val->count; i++) {
            double *s = score + i * classes;
            int best = 0;
            for (int c = 0; c < classes; c++) {
                s[c] = decision(val->x + i * dim, t.w + (int64_t)c * (dim + 1), dim);
                if (s[c] > s[best]) best = c;
            }
            correct += best == val->labels[i];
        }
        double *col = burn_xmalloc(sizeof(double) * (size_t)(val->count + 1));
        unsigned char *pos = burn_xmalloc((size_t)(val->count + 1));
        double sum = 0;
        int counted = 0;
        for (int c = 0; c < classes; c++) {
            for (int64_t i = 0; i < val->count; i++) {
                col[i] = score[i * classes + c];
                pos[i] = val->labels[i] == c;
            }
            double ap = burn_voc07_ap(col, pos, val->count);
            if (!isnan(ap)) sum += ap, counted++; /* a class absent from val has no AP */
        }
        *map = counted ? sum / counted : NAN;
        *acc = val->count ? (double)correct / (double)val->count : NAN;
        *cost = t.best_cost;
        free(col), free(pos), free(score);
    }
    free(t.w);
    free(costs);
    return rc;
}

static void l2_normalise(float *x, int64_t n, int dim) {
    for (int64_t i = 0; i < n; i++) {
        float *row = x + i * dim;
        double s = 0;
        for (int d = 0; d < dim; d++) s += (double)row[d] * row[d];
        double inv = 1.0 / (sqrt(s) + 1e-12);
        for (int d = 0; d < dim; d++) row[d] = (float)(row[d] * inv);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int burn_svm_evaluate(burn_features *train, burn_features *val, const int *shots, int nshots,
                      const burn_svm_opts *o, burn_svm_row *rows) {
    if (train->dim != val->dim) {
        burn_error_set("svm: train features have dim %d, val features %d", train->dim, val->dim);
        return -1;
    }
    if (train->num_classes < 2 || val->num_classes > train->num_classes) {
        burn_error_set("svm: %d training classes, %d val classes (need 2 or more, val within "
                       "train)", train->num_classes, val->num_classes);
        return -1;
    }
    if (train->count < 1 || val->count < 1) {
        burn_error_set("svm: %lld training and %lld val features (need some of each)",
                       (long long)train->count, (long long)val->count);
        return -1;
    }
    if (o->ncosts < 1 || o->folds < 2 || o->draws < 1) {
        burn_error_set("svm: need a cost, 2 or more folds and 1 or more draws");
        return -1;
    }
    for (int i = 0; i < o->ncosts; i++)
        if (!(o->costs[i] > 0) || !isfinite(o->costs[i])) {
            burn_error_set("svm: cost %g is not a positive number", o->costs[i]);
            return -1;
        }
    for (int64_t i = 0; i < train->count; i++)
        if (train->labels[i] < 0 || train->labels[i] >= train->num_classes) {
            burn_error_set("svm: training label %d outside [0, %d)", train->labels[i],
                           train->num_classes);
            return -1;
        }
    set_print_string_function(liblinear_silent);
    l2_normalise(train->x, train->count, train->dim);
    l2_normalise(val->x, val->count, val->dim);
    svm_ctx ctx = {.train = train, .o = o};
    struct feature_node *storage;
    ctx.rows = build_rows(train, &storage);
    int64_t *idx = burn_xmalloc(sizeof(int64_t) * (size_t)(train->count > 0 ? train->count : 1));
    int rc = 0;
    for (int r = 0; rc == 0 && r < nshots; r++) {
        int k = shots[r], draws = k > 0 ? o->draws : 1;
        burn_svm_row *row = &rows[r];
        memset(row, 0, sizeof *row);
        row->shots = k;
        row->draws = draws;
        double *map = burn_xmalloc(sizeof(double) * (size_t)draws * 3);
        double *acc = map + draws, *cost = acc + draws;
        for (int d = 0; rc == 0 && d < draws; d++) {
            int64_t n = train->count;
            if (k > 0) {
                rc = burn_svm_draw(train->labels, train->count, train->num_classes, k, o->seed, d,
                                   idx);
                n = (int64_t)k * train->num_classes;
            } else {
                for (int64_t i = 0; i < n; i++) idx[i] = i;
            }
            if (rc == 0) rc = eval_subset(&ctx, val, idx, n, k, d, &map[d], &acc[d], &cost[d]);
        }
        if (rc == 0) {
            double sm = 0, sa = 0, vm = 0, va = 0;
            for (int d = 0; d < draws; d++) sm += map[d], sa += acc[d];
            row->map_mean = sm / draws;
            row->acc_mean = sa / draws;
            for (int d = 0; d < draws; d++) {
                vm += (map[d] - row->map_mean) * (map[d] - row->map_mean);
                va += (acc[d] - row->acc_mean) * (acc[d] - row->acc_mean);
            }
            /* sample standard deviation over the draws (0 for one) */
            row->map_std = draws > 1 ? sqrt(vm / (draws - 1)) : 0;
            row->acc_std = draws > 1 ? sqrt(va / (draws - 1)) : 0;
            qsort(cost, (size_t)draws, sizeof(double), cmp_double);
            row->cost = cost[(draws - 1) / 2]; /* the (lower) median of the chosen costs */
        }
        free(map);
    }
    free(idx);
    free(ctx.rows);
    free(storage);
    return rc;
}
