/* test_eval.c - stratified folds and holdout, metrics checked against
 * values printed by scikit-learn 1.2.1 (accuracy_score and
 * precision_recall_fscore_support, average='macro' and average=None with
 * zero_division=0), argmax. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

#include "eval/eval.h"

/* A fixed pseudo-random label vector (LCG) with uneven class sizes. */
static void make_labels(int32_t *y, size_t n, int nclasses, uint32_t seed)
{
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        /* squaring skews the draw, so classes get different sizes */
        double u = (double)(s >> 8) / (double)(1u << 24);
        y[i] = (int32_t)(u * u * nclasses);
    }
}

/* Every row in one fold, fold sizes within one, every class's per-fold
 * counts within one. */
static void check_fold_properties(const int32_t *y, size_t n, int nclasses, int k,
                                  const int *fold)
{
    size_t *per = calloc((size_t)nclasses * (size_t)k, sizeof *per);
    size_t *size = calloc((size_t)k, sizeof *size);
    for (size_t i = 0; i < n; i++) {
        CHECK(fold[i] >= 0 && fold[i] < k);
        if (fold[i] < 0 || fold[i] >= k)
            continue;
        size[fold[i]]++;
        per[(size_t)y[i] * (size_t)k + (size_t)fold[i]]++;
    }
    size_t lo = SIZE_MAX, hi = 0, total = 0;
    for (int f = 0; f < k; f++) {
        lo = size[f] < lo ? size[f] : lo;
        hi = size[f] > hi ? size[f] : hi;
        total += size[f];
    }
    CHECK_EQ_INT(total, n);
    CHECK(hi - lo <= 1);
    for (int c = 0; c < nclasses; c++) {
        size_t clo = SIZE_MAX, chi = 0;
        for (int f = 0; f < k; f++) {
            size_t v = per[(size_t)c * (size_t)k + (size_t)f];
            clo = v < clo ? v : clo;
            chi = v > chi ? v : chi;
        }
        CHECK(chi - clo <= 1);
    }
    free(per);
    free(size);
}

static void test_folds_properties(void)
{
    static const struct { size_t n; int nclasses, k; } cases[] = {
        {10, 1, 10}, {7, 3, 2}, {100, 4, 5}, {101, 6, 10}, {1000, 9, 7}, {33, 40, 3},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t n = cases[t].n;
        int32_t *y = malloc(n * sizeof *y);
        int *fold = malloc(n * sizeof *fold);
        make_labels(y, n, cases[t].nclasses, (uint32_t)t + 1);
        snitch_err e = {{0}};
        CHECK_EQ_INT(eval_stratified_folds(y, n, cases[t].nclasses, cases[t].k, 42, fold, &e), 0);
        check_fold_properties(y, n, cases[t].nclasses, cases[t].k, fold);
        free(y);
        free(fold);
    }
}

static void test_folds_deterministic(void)
{
    enum { N = 500, C = 5, K = 10 };
    int32_t y[N];
    int a[N], b[N], c[N];
    make_labels(y, N, C, 99);
    snitch_err e = {{0}};
    CHECK_EQ_INT(eval_stratified_folds(y, N, C, K, 12345, a, &e), 0);
    CHECK_EQ_INT(eval_stratified_folds(y, N, C, K, 12345, b, &e), 0);
    CHECK_EQ_INT(eval_stratified_folds(y, N, C, K, 12346, c, &e), 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
    size_t differ = 0;
    for (int i = 0; i < N; i++)
        differ += a[i] != c[i];
    CHECK(differ > N / 2);      /* a new seed reshuffles most rows */
}

static void test_folds_errors(void)
{
    int32_t y[7] = {0, 1, 0, 1, 2, 2, 0};
    int fold[7];
    snitch_err e = {{0}};
    CHECK_EQ_INT(eval_stratified_folds(y, 7, 3, 10, 1, fold, &e), -1);
    CHECK_EQ_STR(e.msg, "--folds 10 needs at least 10 rows, the table has 7");
    CHECK_EQ_INT(eval_stratified_folds(y, 7, 3, 1, 1, fold, &e), -1);
    CHECK_EQ_INT(eval_stratified_folds(y, 7, 3, 0, 1, fold, &e), -1);
    CHECK_EQ_INT(eval_stratified_folds(y, 7, 3, 7, 1, fold, &e), 0);   /* k == n */
    y[3] = -1;                  /* unlabeled rows are the caller's to drop */
    CHECK_EQ_INT(eval_stratified_folds(y, 7, 3, 2, 1, fold, &e), -1);
    y[3] = 3;                   /* outside nclasses */
    CHECK_EQ_INT(eval_stratified_folds(y, 7, 3, 2, 1, fold, &e), -1);
}

static void test_holdout(void)
{
    /* class sizes 1, 2, 10, 37; share 0.2 -> 0, 1, 2, 7 held out */
    enum { N = 50 };
    int32_t y[N];
    size_t i = 0;
    y[i++] = 0;
    for (int j = 0; j < 2; j++) y[i++] = 1;
    for (int j = 0; j < 10; j++) y[i++] = 2;
    for (int j = 0; j < 37; j++) y[i++] = 3;
    /* interleave so classes are not in runs */
    for (size_t j = 0; j < N; j += 3) {
        int32_t t = y[j];
        y[j] = y[N - 1 - j];
        y[N - 1 - j] = t;
    }
    uint8_t m[N], m2[N], m3[N];
    eval_stratified_holdout(y, N, 4, 0.2, 7, m);
    size_t held[4] = {0};
    for (i = 0; i < N; i++) {
        CHECK(m[i] == 0 || m[i] == 1);
        held[y[i]] += m[i] == 0;
    }
    CHECK_EQ_INT(held[0], 0);
    CHECK_EQ_INT(held[1], 1);
    CHECK_EQ_INT(held[2], 2);
    CHECK_EQ_INT(held[3], 7);

    eval_stratified_holdout(y, N, 4, 0.2, 7, m2);
    CHECK(memcmp(m, m2, N) == 0);
    eval_stratified_holdout(y, N, 4, 0.2, 8, m3);
    CHECK(memcmp(m, m3, N) != 0);

    /* share 0.99: never a whole class; tiny share: still one per class */
    eval_stratified_holdout(y, N, 4, 0.99, 7, m);
    size_t train[4] = {0};
    for (i = 0; i < N; i++)
        train[y[i]] += m[i];
    CHECK_EQ_INT(train[0], 1);
    CHECK_EQ_INT(train[1], 1);
    CHECK_EQ_INT(train[2], 1);
    CHECK_EQ_INT(train[3], 1);
    eval_stratified_holdout(y, N, 4, 0.001, 7, m);
    memset(held, 0, sizeof held);
    for (i = 0; i < N; i++)
        held[y[i]] += m[i] == 0;
    CHECK_EQ_INT(held[0], 0);
    CHECK_EQ_INT(held[1], 1);
    CHECK_EQ_INT(held[2], 1);
    CHECK_EQ_INT(held[3], 1);
}

/* Values from scikit-learn 1.2.1; the macro figures average over the
 * classes in y_true or y_pred only (nlabels). */
struct sk_case {
    const char *name;
    int k;
    size_t n;
    int32_t yt[24], yp[24];
    double acc, mp, mr, mf;
    int nlabels;
    double p[8], r[8], f[8];
};

static const struct sk_case SK[] = {
    {"single_class", 1, 4,
     {0, 0, 0, 0},
     {0, 0, 0, 0},
     1.0, 1.0, 1.0, 1.0, 1,
     {1.0},
     {1.0},
     {1.0}},
    {"absent_from_pred", 3, 7,
     {0, 0, 1, 1, 2, 2, 2},
     {0, 0, 0, 1, 0, 1, 0},
     0.42857142857142855, 0.3, 0.5, 0.3571428571428572, 3,
     {0.4, 0.5, 0.0},
     {1.0, 0.5, 0.0},
     {0.5714285714285715, 0.5, 0.0}},
    {"only_predicted", 4, 6,
     {0, 0, 1, 1, 1, 0},
     {0, 3, 1, 1, 3, 0},
     0.6666666666666666, 0.6666666666666666, 0.4444444444444444, 0.5333333333333333, 3,
     {1.0, 1.0, 0.0, 0.0},
     {0.6666666666666666, 0.6666666666666666, 0.0, 0.0},
     {0.8, 0.8, 0.0, 0.0}},
    {"all_wrong", 2, 4,
     {0, 1, 0, 1},
     {1, 0, 1, 0},
     0.0, 0.0, 0.0, 0.0, 2,
     {0.0, 0.0},
     {0.0, 0.0},
     {0.0, 0.0}},
    {"random0", 6, 19,
     {4, 5, 3, 4, 5, 1, 0, 1, 1, 5, 5, 0, 2, 4, 0, 4, 0, 2, 4},
     {4, 5, 3, 4, 5, 5, 0, 0, 1, 5, 5, 5, 2, 4, 0, 4, 0, 3, 4},
     0.7894736842105263, 0.8194444444444445, 0.7638888888888888, 0.7305555555555555, 6,
     {0.75, 1.0, 1.0, 0.5, 1.0, 0.6666666666666666},
     {0.75, 0.3333333333333333, 0.5, 1.0, 1.0, 1.0},
     {0.75, 0.5, 0.6666666666666666, 0.6666666666666666, 1.0, 0.8}},
    {"random1", 5, 12,
     {2, 1, 4, 4, 0, 2, 4, 4, 3, 3, 0, 3},
     {2, 1, 4, 2, 0, 2, 4, 4, 3, 3, 4, 3},
     0.8333333333333334, 0.8833333333333332, 0.85, 0.8433333333333334, 5,
     {1.0, 1.0, 0.6666666666666666, 1.0, 0.75},
     {0.5, 1.0, 1.0, 1.0, 0.75},
     {0.6666666666666666, 1.0, 0.8, 1.0, 0.75}},
    {"random2", 5, 16,
     {1, 1, 0, 2, 4, 0, 2, 4, 4, 1, 0, 3, 0, 1, 2, 4},
     {1, 1, 3, 0, 4, 0, 2, 4, 3, 1, 0, 1, 2, 1, 2, 4},
     0.6875, 0.6266666666666667, 0.5833333333333333, 0.5968253968253968, 5,
     {0.6666666666666666, 0.8, 0.6666666666666666, 0.0, 1.0},
     {0.5, 1.0, 0.6666666666666666, 0.0, 0.75},
     {0.5714285714285715, 0.888888888888889, 0.6666666666666666, 0.0, 0.8571428571428571}},
};

static void test_metrics_sklearn(void)
{
    const double tol = 1e-15;
    for (size_t t = 0; t < sizeof SK / sizeof SK[0]; t++) {
        const struct sk_case *c = &SK[t];
        eval_report r;
        snitch_err e = {{0}};
        CHECK_EQ_INT(eval_compute(c->yt, c->yp, c->n, c->k, &r, &e), 0);
        if (r.nclasses != c->k) {
            fprintf(stderr, "  case %s: no report (%s)\n", c->name, e.msg);
            check_cur_failed_ = 1;
            continue;
        }
        CHECK_EQ_INT(r.n, c->n);
        CHECK_NEAR(r.accuracy, c->acc, tol);
        CHECK_NEAR(r.macro_precision, c->mp, tol);
        CHECK_NEAR(r.macro_recall, c->mr, tol);
        CHECK_NEAR(r.macro_f1, c->mf, tol);
        CHECK_EQ_INT(r.nlabels, c->nlabels);
        for (int j = 0; j < c->k; j++) {
            CHECK_NEAR(r.precision[j], c->p[j], tol);
            CHECK_NEAR(r.recall[j], c->r[j], tol);
            CHECK_NEAR(r.f1[j], c->f[j], tol);
        }
        /* support, predicted and the confusion matrix agree with the rows */
        uint64_t sum = 0;
        for (int j = 0; j < c->k; j++) {
            uint64_t s = 0, p = 0;
            for (size_t i = 0; i < c->n; i++) {
                s += c->yt[i] == j;
                p += c->yp[i] == j;
            }
            CHECK_EQ_INT(r.support[j], s);
            CHECK_EQ_INT(r.predicted[j], p);
            for (int q = 0; q < c->k; q++)
                sum += r.confusion[j * c->k + q];
        }
        CHECK_EQ_INT(sum, c->n);
        eval_report_free(&r);
        CHECK(r.confusion == NULL && r.precision == NULL);
    }
}

static void test_confusion(void)
{
    /* SK[1]: rows true 0,0,1,1,2,2,2 predicted 0,0,0,1,0,1,0 */
    static const uint64_t want[9] = {2, 0, 0, 1, 1, 0, 2, 1, 0};
    eval_report r;
    snitch_err e = {{0}};
    CHECK_EQ_INT(eval_compute(SK[1].yt, SK[1].yp, SK[1].n, 3, &r, &e), 0);
    for (int i = 0; i < 9; i++)
        CHECK_EQ_INT(r.confusion[i], want[i]);
    eval_report_free(&r);
}

static void test_metrics_errors(void)
{
    int32_t yt[3] = {0, 1, 2}, yp[3] = {0, 1, 2};
    eval_report r;
    snitch_err e = {{0}};
    CHECK_EQ_INT(eval_compute(yt, yp, 0, 3, &r, &e), -1);
    CHECK_EQ_INT(eval_compute(yt, yp, 3, 2, &r, &e), -1);     /* true 2 >= nclasses */
    yp[1] = -1;
    CHECK_EQ_INT(eval_compute(yt, yp, 3, 3, &r, &e), -1);
    CHECK(r.confusion == NULL);
    eval_report_free(&r);       /* harmless on a failed report */
}

static void test_argmax(void)
{
    const double a[] = {0.1, 0.4, 0.4, 0.1};
    const double b[] = {0.9};
    const double c[] = {-1.0, -0.5, -2.0};
    const double d[] = {0.2, NAN, 0.9};
    CHECK_EQ_INT(eval_argmax(a, 4), 1);         /* first of the tied maxima */
    CHECK_EQ_INT(eval_argmax(b, 1), 0);
    CHECK_EQ_INT(eval_argmax(c, 3), 1);
    CHECK_EQ_INT(eval_argmax(d, 3), 1);         /* NaN wins, as in numpy */
    CHECK_EQ_INT(eval_argmax(a, 0), -1);
}

static void test_top3(void)
{
    const double p[5] = {0.1, 0.4, 0.2, 0.4, 0.0};
    int b[3];
    eval_top3(p, 5, b);
    CHECK_EQ_INT(b[0], 1);      /* ties: the first one wins */
    CHECK_EQ_INT(b[1], 3);
    CHECK_EQ_INT(b[2], 2);
    eval_top3(p, 2, b);
    CHECK_EQ_INT(b[0], 1);
    CHECK_EQ_INT(b[1], 0);
    CHECK_EQ_INT(b[2], -1);
}

int main(void)
{
    RUN(test_folds_properties);
    RUN(test_folds_deterministic);
    RUN(test_folds_errors);
    RUN(test_holdout);
    RUN(test_metrics_sklearn);
    RUN(test_confusion);
    RUN(test_metrics_errors);
    RUN(test_argmax);
    RUN(test_top3);
    return check_summary();
}
