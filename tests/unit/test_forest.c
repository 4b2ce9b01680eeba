/* test_forest.c - the Random Forest: it learns simple rules exactly,
 * respects max_depth / min_samples_leaf, never splits on constants, is
 * deterministic for a seed whatever the thread count, round-trips through
 * its serialized form bit for bit, and forest_load rejects damaged or
 * hostile input with an error naming the tree and node.  Tree structure is
 * inspected through the documented serialized layout (forest.c). */
#include "check.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#include "forest/forest.h"

/* ---- helpers ---------------------------------------------------------- */

/* A small deterministic generator for test data (independent of the one
 * inside the forest). */
static uint64_t tr_state;
static void tr_seed(uint64_t s) { tr_state = s * 0x9E3779B97F4A7C15ull + 1; }
static double tr_unif(void)
{
    tr_state ^= tr_state << 13;
    tr_state ^= tr_state >> 7;
    tr_state ^= tr_state << 17;
    return (double)(tr_state >> 11) / 9007199254740992.0;
}

static forest_params params(int trees, uint64_t seed, int threads)
{
    forest_params p;
    forest_default_params(&p);
    p.n_trees = trees;
    p.seed = seed;
    p.threads = threads;
    return p;
}

static int argmax(const double *p, int k)
{
    int b = 0;
    for (int c = 1; c < k; c++)
        if (p[c] > p[b])
            b = c;
    return b;
}

static double accuracy(const forest *m, const float *x, size_t n, const int32_t *y, int threads)
{
    int k = forest_nclasses(m);
    double *p = malloc(n * (size_t)k * sizeof *p);
    size_t ok = 0;
    forest_predict_proba(m, x, n, p, threads);
    for (size_t i = 0; i < n; i++)
        ok += argmax(p + i * (size_t)k, k) == y[i];
    free(p);
    return (double)ok / (double)n;
}

/* The separable rule: class = (x0 > 0.3) + 2 * (x2 > 0.7), 5 features. */
static void rule_data(size_t n, float *x, int32_t *y)
{
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < 5; j++)
            x[i * 5 + j] = (float)tr_unif();
        y[i] = (x[i * 5] > 0.3f) + 2 * (x[i * 5 + 2] > 0.7f);
    }
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }

/* Offsets into the FRST layout documented in forest.c. */
#define HDR 41
#define NODE 36

typedef struct tnode {
    int32_t feat;
    float thr;
    uint32_t l, r, ns;
} tnode;

/* Offset of tree t's node count in a saved forest. */
static size_t tree_off(const mf_buf *b, int t)
{
    size_t off = HDR;
    for (int i = 0; i < t; i++) {
        uint32_t nn = rd32(b->p + off);
        size_t leaves_at = off + 4 + (size_t)nn * NODE;
        size_t q = leaves_at;
        for (uint32_t j = 0; j < nn; j++)
            if ((int32_t)rd32(b->p + off + 4 + (size_t)j * NODE) < 0)
                q += 4 + 12 * (size_t)rd32(b->p + q);
        off = q;
    }
    return off;
}

/* Nodes of tree t (malloc'd, count in *nn). */
static tnode *tree_nodes(const mf_buf *b, int t, uint32_t *nn)
{
    size_t off = tree_off(b, t);
    *nn = rd32(b->p + off);
    tnode *v = malloc(*nn * sizeof *v);
    for (uint32_t i = 0; i < *nn; i++) {
        const uint8_t *q = b->p + off + 4 + (size_t)i * NODE;
        v[i].feat = (int32_t)rd32(q);
        memcpy(&v[i].thr, q + 4, 4);
        v[i].l = rd32(q + 8);
        v[i].r = rd32(q + 12);
        v[i].ns = rd32(q + 16);
    }
    return v;
}

static int tree_depth(const tnode *v, uint32_t i)
{
    if (v[i].feat < 0)
        return 0;
    int a = tree_depth(v, v[i].l), b = tree_depth(v, v[i].r);
    return 1 + (a > b ? a : b);
}

/* ---- learning --------------------------------------------------------- */

static void test_separable_rule(void)
{
    enum { N = 800, M = 2000 };
    static float x[N * 5], xt[M * 5];
    static int32_t y[N], yt[M];
    tr_seed(1);
    rule_data(N, x, y);
    rule_data(M, xt, yt);
    forest_params p = params(50, 7, 2);
    snitch_err e = { "" };
    forest *m = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK_EQ_INT(forest_nfeatures(m), 5);
    CHECK_EQ_INT(forest_nclasses(m), 4);
    CHECK_EQ_INT(forest_ntrees(m), 50);
    CHECK(forest_nnodes(m) >= 50 * 7);
    CHECK_NEAR(accuracy(m, x, N, y, 1), 1.0, 0);
    CHECK(accuracy(m, xt, M, yt, 2) >= 0.98);

    /* Importances: sum 1, x0 and x2 carry nearly everything. */
    double imp[5];
    forest_importances(m, imp);
    double s = 0;
    for (int j = 0; j < 5; j++) {
        s += imp[j];
        CHECK(imp[j] >= 0);
    }
    CHECK_NEAR(s, 1.0, 1e-12);
    CHECK(imp[0] + imp[2] > 0.85);
    CHECK(imp[0] > imp[1] && imp[0] > imp[3] && imp[0] > imp[4]);
    CHECK(imp[2] > imp[1] && imp[2] > imp[3] && imp[2] > imp[4]);
    forest_free(m);
}

/* Quadrant counts chosen so that the first split is informative but one
 * split cannot separate the classes: depth 2 is needed and enough. */
static void test_xor_needs_depth_two(void)
{
    enum { N = 200 };
    static float x[N * 2];
    static int32_t y[N];
    const int count[4] = { 90, 20, 50, 40 };   /* (x0, x1) = 00, 01, 10, 11 */
    size_t n = 0;
    for (int q = 0; q < 4; q++)
        for (int i = 0; i < count[q]; i++, n++) {
            x[n * 2] = (float)(q >> 1);
            x[n * 2 + 1] = (float)(q & 1);
            y[n] = (q >> 1) ^ (q & 1);
        }
    forest_params p = params(20, 3, 2);
    p.max_features = FOREST_ALL;
    p.max_depth = 1;
    snitch_err e;
    forest *m1 = forest_train(x, N, 2, y, 2, &p, NULL, NULL, &e);
    p.max_depth = 2;
    forest *m2 = forest_train(x, N, 2, y, 2, &p, NULL, NULL, &e);
    CHECK(m1 && m2);
    if (m1 && m2) {
        CHECK(accuracy(m1, x, N, y, 1) < 0.9);
        CHECK_NEAR(accuracy(m2, x, N, y, 1), 1.0, 0);
    }
    forest_free(m1);
    forest_free(m2);
}

static void test_probabilities(void)
{
    enum { N = 300 };
    static float x[N * 5];
    static int32_t y[N];
    static double pr[N * 4];
    tr_seed(2);
    rule_data(N, x, y);
    /* Noisy labels so that leaves are mixed when min_samples_leaf > 1. */
    for (size_t i = 0; i < N; i += 7)
        y[i] = (y[i] + 1) % 4;
    forest_params p = params(30, 1, 2);
    p.min_samples_leaf = 5;
    snitch_err e;
    forest *m = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    forest_predict_proba(m, x, N, pr, 0);
    int bad = 0, fractional = 0;
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (int c = 0; c < 4; c++) {
            double v = pr[i * 4 + c];
            bad += !(v >= 0 && v <= 1);
            fractional += v > 0 && v < 1;
            s += v;
        }
        bad += fabs(s - 1) > 1e-9;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(fractional > 0);
    forest_free(m);
}

static void test_threshold_between_adjacent_floats(void)
{
    /* a and b are adjacent floats whose midpoint rounds (to even) up to
     * b: the threshold must fall back to a, else b would go left. */
    float a = nextafterf(100.0f, 200.0f), b = nextafterf(a, 200.0f);
    CHECK((float)((double)a / 2 + (double)b / 2) == b);
    enum { N = 40 };
    float x[N];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        x[i] = i % 2 ? b : a;
        y[i] = i % 2;
    }
    forest_params p = params(5, 1, 1);
    snitch_err e;
    forest *m = forest_train(x, N, 1, y, 2, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK_NEAR(accuracy(m, x, N, y, 1), 1.0, 0);
    mf_buf b0 = { 0 };
    forest_save(m, &b0);
    uint32_t nn;
    tnode *v = tree_nodes(&b0, 0, &nn);
    CHECK_EQ_INT(nn, 3);
    CHECK(v[0].thr == a);
    free(v);
    mf_buf_free(&b0);
    forest_free(m);
}

/* ---- structure and parameters ----------------------------------------- */

static void test_max_depth_and_min_samples_leaf(void)
{
    enum { N = 500 };
    static float x[N * 5];
    static int32_t y[N];
    tr_seed(3);
    rule_data(N, x, y);
    for (size_t i = 0; i < N; i += 5)
        y[i] = (y[i] + 2) % 4;          /* noise: full trees get deep */
    snitch_err e;
    for (int d = 1; d <= 4; d++) {
        forest_params p = params(4, 9, 1);
        p.max_depth = d;
        forest *m = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
        CHECK(m != NULL);
        if (!m)
            continue;
        mf_buf b = { 0 };
        forest_save(m, &b);
        for (int t = 0; t < 4; t++) {
            uint32_t nn;
            tnode *v = tree_nodes(&b, t, &nn);
            CHECK(tree_depth(v, 0) <= d);
            CHECK(nn <= (2u << d) - 1);
            free(v);
        }
        mf_buf_free(&b);
        forest_free(m);
    }
    /* Unlimited depth on noisy data goes deeper than 4. */
    forest_params p = params(1, 9, 1);
    forest *m = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    mf_buf b = { 0 };
    forest_save(m, &b);
    uint32_t nn;
    tnode *v = tree_nodes(&b, 0, &nn);
    CHECK(tree_depth(v, 0) > 4);
    free(v);
    mf_buf_free(&b);
    forest_free(m);

    for (int msl = 1; msl <= 20; msl *= 4) {
        p = params(3, 5, 1);
        p.min_samples_leaf = msl;
        m = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
        CHECK(m != NULL);
        mf_buf bb = { 0 };
        forest_save(m, &bb);
        int small = 0, at_min = 0;
        for (int t = 0; t < 3; t++) {
            v = tree_nodes(&bb, t, &nn);
            for (uint32_t i = 0; i < nn; i++)
                if (v[i].feat < 0) {
                    small += v[i].ns < (uint32_t)msl;
                    at_min += v[i].ns == (uint32_t)msl;
                }
            free(v);
        }
        CHECK_EQ_INT(small, 0);
        CHECK(at_min > 0);
        mf_buf_free(&bb);
        forest_free(m);
    }
}

static void test_constant_features_unused(void)
{
    enum { N = 400, F = 6 };
    static float x[N * F];
    static int32_t y[N];
    tr_seed(4);
    for (size_t i = 0; i < N; i++) {
        x[i * F + 0] = (float)tr_unif();
        x[i * F + 1] = 3.5f;                        /* constant */
        x[i * F + 2] = (float)tr_unif();
        x[i * F + 3] = i % 2 ? -0.0f : 0.0f;        /* constant too */
        x[i * F + 4] = 7.0f + (i % 3) * 1e-8f;      /* equal within 1e-7 */
        x[i * F + 5] = (float)tr_unif();
        y[i] = (x[i * F] + x[i * F + 2] > 1.0f) ^ (tr_unif() < 0.1);
    }
    forest_params p = params(40, 11, 2);
    p.max_features = 1;         /* constants drawn often: must draw on */
    snitch_err e;
    forest *m = forest_train(x, N, F, y, 2, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    mf_buf b = { 0 };
    forest_save(m, &b);
    int used_const = 0;
    for (int t = 0; t < 40; t++) {
        uint32_t nn;
        tnode *v = tree_nodes(&b, t, &nn);
        CHECK(nn > 1);
        for (uint32_t i = 0; i < nn; i++)
            used_const += v[i].feat == 1 || v[i].feat == 3 || v[i].feat == 4;
        free(v);
    }
    CHECK_EQ_INT(used_const, 0);
    double imp[F];
    forest_importances(m, imp);
    CHECK(imp[1] == 0 && imp[3] == 0 && imp[4] == 0);
    CHECK(imp[0] > imp[5] && imp[2] > imp[5]);
    mf_buf_free(&b);
    forest_free(m);
}

static void test_balanced_weights(void)
{
    enum { N = 1000 };
    static float x[N * 3];
    static int32_t y[N];
    tr_seed(5);
    /* 5% minority, overlapping the majority. */
    for (size_t i = 0; i < N; i++) {
        y[i] = i % 20 == 0;
        for (int j = 0; j < 3; j++)
            x[i * 3 + j] = (float)(tr_unif() + (y[i] ? 0.3 : 0.0));
    }
    forest_params p = params(30, 1, 2);
    p.min_samples_leaf = 20;
    snitch_err e;
    forest *m0 = forest_train(x, N, 3, y, 2, &p, NULL, NULL, &e);
    p.balanced = 1;
    forest *m1 = forest_train(x, N, 3, y, 2, &p, NULL, NULL, &e);
    CHECK(m0 && m1);
    if (m0 && m1) {
        static double p0[N * 2], p1[N * 2];
        forest_predict_proba(m0, x, N, p0, 1);
        forest_predict_proba(m1, x, N, p1, 1);
        double s0 = 0, s1 = 0;
        for (size_t i = 0; i < N; i++) {
            s0 += p0[i * 2 + 1];
            s1 += p1[i * 2 + 1];
        }
        /* Unweighted, the minority's mean probability is about its 5%
         * share; balanced weights raise it severalfold (0.048 -> 0.18). */
        CHECK(s0 / N < 0.08);
        CHECK(s1 > 3 * s0);
    }
    forest_free(m0);
    forest_free(m1);
}

static void test_one_class(void)
{
    float x[20 * 2];
    int32_t y[20];
    for (int i = 0; i < 20; i++) {
        x[i * 2] = (float)i;
        x[i * 2 + 1] = (float)(i % 3);
        y[i] = 0;
    }
    forest_params p = params(5, 1, 2);
    snitch_err e;
    forest *m = forest_train(x, 20, 2, y, 1, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK_EQ_INT(forest_nnodes(m), 5);
    double pr[20];
    forest_predict_proba(m, x, 20, pr, 1);
    for (int i = 0; i < 20; i++)
        CHECK(pr[i] == 1.0);
    double imp[2];
    forest_importances(m, imp);
    CHECK(imp[0] == 0 && imp[1] == 0);
    forest_free(m);
}

/* A class absent from the training rows gets probability 0. */
static void test_absent_class(void)
{
    enum { N = 100 };
    float x[N];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = i < 50 ? 0 : 2;
    }
    forest_params p = params(5, 1, 1);
    p.balanced = 1;
    snitch_err e;
    forest *m = forest_train(x, N, 1, y, 3, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    double pr[N * 3];
    forest_predict_proba(m, x, N, pr, 1);
    /* A bootstrap may miss the rows next to the boundary: allow a miss
     * there, but the absent class never gets any probability. */
    int wrong = 0, absent = 0;
    for (int i = 0; i < N; i++) {
        wrong += argmax(pr + i * 3, 3) != y[i];
        absent += pr[i * 3 + 1] != 0;
    }
    CHECK(wrong <= 2);
    CHECK_EQ_INT(absent, 0);
    forest_free(m);
}

static void test_bad_input(void)
{
    float x[4] = { 1, 2, 3, 4 };
    int32_t y[4] = { 0, 1, 0, 1 };
    forest_params p = params(3, 1, 1);
    snitch_err e = { "" };
    CHECK(forest_train(x, 0, 1, y, 2, &p, NULL, NULL, &e) == NULL);
    CHECK(strstr(e.msg, "no training rows") != NULL);
    CHECK(forest_train(x, 4, 1, y, 0, &p, NULL, NULL, &e) == NULL);
    CHECK(e.msg[0] != 0);
    y[2] = 2;
    e.msg[0] = 0;
    CHECK(forest_train(x, 4, 1, y, 2, &p, NULL, NULL, &e) == NULL);
    CHECK(strstr(e.msg, "row 2") != NULL);
    y[2] = 0;
    x[1] = NAN;
    e.msg[0] = 0;
    CHECK(forest_train(x, 4, 1, y, 2, &p, NULL, NULL, &e) == NULL);
    CHECK(strstr(e.msg, "row 1") != NULL);
    x[1] = 2;
    p.max_features = 2;
    CHECK(forest_train(x, 4, 1, y, 2, &p, NULL, NULL, &e) == NULL);
    p = params(0, 1, 1);
    CHECK(forest_train(x, 4, 1, y, 2, &p, NULL, NULL, &e) == NULL);
    p = params(2, 1, 1);
    p.min_samples_leaf = 0;
    CHECK(forest_train(x, 4, 1, y, 2, &p, NULL, NULL, &e) == NULL);
    /* NULL params: the defaults. */
    forest *m = forest_train(x, 4, 1, y, 2, NULL, NULL, NULL, &e);
    CHECK(m != NULL);
    if (m)
        CHECK_EQ_INT(forest_ntrees(m), 200);
    forest_free(m);
}

typedef struct prog {
    int calls, last, total, monotone;
} prog;

static void on_progress(void *ctx, int done, int total)
{
    prog *g = ctx;
    g->calls++;
    g->monotone &= done == g->last + 1;
    g->last = done;
    g->total = total;
}

static void test_progress(void)
{
    enum { N = 200 };
    static float x[N * 5];
    static int32_t y[N];
    tr_seed(6);
    rule_data(N, x, y);
    forest_params p = params(17, 1, 2);
    prog g = { 0, 0, 0, 1 };
    snitch_err e;
    forest *m = forest_train(x, N, 5, y, 4, &p, on_progress, &g, &e);
    CHECK(m != NULL);
    CHECK_EQ_INT(g.calls, 17);
    CHECK_EQ_INT(g.last, 17);
    CHECK_EQ_INT(g.total, 17);
    CHECK(g.monotone);
    forest_free(m);
}

/* More than 65536 rows: ranks no longer fit 16 bits. */
static void test_many_rows(void)
{
    enum { N = 70000 };
    float *x = malloc(N * 2 * sizeof *x);
    int32_t *y = malloc(N * sizeof *y);
    tr_seed(11);
    for (size_t i = 0; i < N; i++) {
        x[i * 2] = (float)tr_unif();
        x[i * 2 + 1] = (float)tr_unif();
        y[i] = x[i * 2] > 0.5f;
    }
    forest_params p = params(2, 1, 2);
    p.max_depth = 1;
    p.max_features = FOREST_ALL;
    snitch_err e;
    forest *m = forest_train(x, N, 2, y, 2, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (m) {
        CHECK_EQ_INT(forest_nnodes(m), 6);
        CHECK(accuracy(m, x, N, y, 2) > 0.9995);
        mf_buf b = { 0 };
        forest_save(m, &b);
        uint32_t nn;
        tnode *v = tree_nodes(&b, 0, &nn);
        CHECK_EQ_INT(v[0].feat, 0);
        CHECK_NEAR(v[0].thr, 0.5, 1e-3);
        free(v);
        mf_buf_free(&b);
    }
    forest_free(m);
    free(x);
    free(y);
}

/* Fully grown trees on distinct rows have only pure leaves, and batches
 * then count votes: the probabilities must be those of the walk one row at
 * a time (which adds 1.0 per tree in doubles), to the bit; so must a forest
 * with mixed leaves (duplicate rows with different classes), which keeps
 * adding probabilities.  With 300 trees (more than a byte of votes). */
static void test_votes_equal_probabilities(void)
{
    enum { N = 600, M = 333, F = 4, K = 7 };
    static float x[N * F], xt[M * F];
    static int32_t y[N];
    static double pb[M * K], p1[K];
    for (int mixed = 0; mixed < 2; mixed++) {
        tr_seed(21 + (uint64_t)mixed);
        for (size_t i = 0; i < N; i++) {
            for (int j = 0; j < F; j++)
                x[i * F + j] = (float)tr_unif();
            y[i] = (int32_t)(tr_unif() * K);      /* noise: deep trees */
            if (mixed && i % 3 == 1) {              /* a duplicate, another class */
                memcpy(&x[i * F], &x[(i - 1) * F], F * sizeof *x);
                y[i] = (y[i - 1] + 1) % K;
            }
        }
        for (size_t i = 0; i < M * F; i++)
            xt[i] = (float)tr_unif();
        xt[5] = NAN;
        forest_params p = params(300, 4, 1);
        snitch_err e;
        forest *m = forest_train(x, N, F, y, K, &p, NULL, NULL, &e);
        CHECK(m != NULL);
        if (!m)
            continue;
        forest_predict_proba(m, xt, M, pb, 1);
        int same = 1, sums = 1;
        for (size_t r = 0; r < M; r++) {
            forest_predict_proba(m, xt + r * F, 1, p1, 1);
            same &= memcmp(p1, pb + r * K, sizeof p1) == 0;
            double t = 0;
            for (int c = 0; c < K; c++)
                t += pb[r * K + c];
            sums &= fabs(t - 1) < 1e-9;
        }
        CHECK(same);
        CHECK(sums);
        /* pure leaves give multiples of 1/300 */
        if (!mixed) {
            int multiples = 1;
            for (size_t q = 0; q < M * K; q++)
                multiples &= pb[q] == (double)(long)(pb[q] * 300 + 0.5) / 300.0;
            CHECK(multiples);
        }
        forest_free(m);
    }
}

/* ---- determinism and serialization ------------------------------------ */

static void test_determinism(void)
{
    /* Big enough that prediction really runs on several threads. */
    enum { N = 2000 };
    static float x[N * 5];
    static int32_t y[N];
    static double p1[N * 4], p2[N * 4], p3[N * 4];
    tr_seed(7);
    rule_data(N, x, y);
    for (size_t i = 0; i < N; i += 9)
        y[i] = (y[i] + 1) % 4;
    snitch_err e;
    forest_params p = params(24, 42, 1);
    forest *a = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    p.threads = 2;
    forest *b = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    p.threads = 5;
    forest *c = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    p.seed = 43;
    forest *d = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    CHECK(a && b && c && d);
    if (!(a && b && c && d))
        return;
    forest_predict_proba(a, x, N, p1, 1);
    forest_predict_proba(b, x, N, p2, 2);
    forest_predict_proba(c, x, N, p3, 3);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    CHECK(memcmp(p1, p3, sizeof p1) == 0);
    mf_buf ba = { 0 }, bb = { 0 }, bd = { 0 };
    forest_save(a, &ba);
    forest_save(b, &bb);
    forest_save(d, &bd);
    CHECK(!ba.oom && ba.len == bb.len && memcmp(ba.p, bb.p, ba.len) == 0);
    CHECK(ba.len != bd.len || memcmp(ba.p, bd.p, ba.len) != 0);
    forest_predict_proba(d, x, N, p3, 2);
    CHECK(memcmp(p1, p3, sizeof p1) != 0);
    mf_buf_free(&ba);
    mf_buf_free(&bb);
    mf_buf_free(&bd);
    forest_free(a);
    forest_free(b);
    forest_free(c);
    forest_free(d);
}

static void test_save_load_roundtrip(void)
{
    enum { N = 500, M = 300 };
    static float x[N * 5], xt[M * 5];
    static int32_t y[N], yt[M];
    static double p1[M * 4], p2[M * 4];
    tr_seed(8);
    rule_data(N, x, y);
    rule_data(M, xt, yt);
    for (size_t i = 0; i < N; i += 6)
        y[i] = (y[i] + 3) % 4;
    forest_params p = params(12, 5, 2);
    p.balanced = 1;
    p.min_samples_leaf = 2;
    snitch_err e = { "" };
    forest *m = forest_train(x, N, 5, y, 4, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        return;
    mf_buf b = { 0 };
    forest_save(m, &b);
    CHECK(!b.oom);
    forest *l = forest_load(b.p, b.len, 5, 4, 0, &e);
    CHECK(l != NULL);
    if (l) {
        CHECK_EQ_INT(forest_ntrees(l), 12);
        CHECK_EQ_INT(forest_nnodes(l), forest_nnodes(m));
        forest_predict_proba(m, xt, M, p1, 2);
        forest_predict_proba(l, xt, M, p2, 1);
        CHECK(memcmp(p1, p2, sizeof p1) == 0);
        double i1[5], i2[5];
        forest_importances(m, i1);
        forest_importances(l, i2);
        CHECK(memcmp(i1, i2, sizeof i1) == 0);
        mf_buf b2 = { 0 };
        forest_save(l, &b2);
        CHECK(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0);
        mf_buf_free(&b2);
        /* Row by row (the single-row walk) gives the batch's answers. */
        for (size_t r = 0; r < M; r++) {
            double one[4];
            forest_predict_proba(l, xt + r * 5, 1, one, 1);
            CHECK(memcmp(one, p2 + r * 4, sizeof one) == 0);
        }
    }
    forest_free(l);
    /* Lean: the same predictions, no importances, no drawing. */
    forest *lean = forest_load(b.p, b.len, 5, 4, FOREST_LOAD_LEAN, &e);
    CHECK(lean != NULL);
    if (lean) {
        CHECK(forest_is_lean(lean) && !forest_is_lean(m));
        CHECK_EQ_INT(forest_nnodes(lean), forest_nnodes(m));
        forest_predict_proba(lean, xt, M, p2, 1);
        CHECK(memcmp(p1, p2, sizeof p1) == 0);
        for (size_t r = 0; r < M; r += 7) {
            double one[4];
            forest_predict_proba(lean, xt + r * 5, 1, one, 1);
            CHECK(memcmp(one, p2 + r * 4, sizeof one) == 0);
        }
        double i3[5];
        forest_importances(lean, i3);
        CHECK(i3[0] == 0 && i3[1] == 0 && i3[2] == 0 && i3[3] == 0 && i3[4] == 0);
        FILE *dn = fopen("/dev/null", "w");
        CHECK(dn != NULL);
        if (dn) {
            CHECK(forest_tree_dot(lean, 0, NULL, NULL, dn) == -1);
            CHECK(forest_tree_dot_limited(lean, 0, NULL, NULL, 3, 1, dn) == -1);
            CHECK(forest_tree_dot(m, 0, NULL, NULL, dn) == 0);
            fclose(dn);
        }
    }
    forest_free(lean);
    mf_buf_free(&b);
    forest_free(m);
}

/* A small saved forest to damage. */
static forest *small_forest(mf_buf *b)
{
    enum { N = 60 };
    static float x[N * 3];
    static int32_t y[N];
    tr_seed(9);
    for (size_t i = 0; i < N; i++) {
        for (int j = 0; j < 3; j++)
            x[i * 3 + j] = (float)tr_unif();
        y[i] = (x[i * 3] > 0.5f) + (x[i * 3 + 1] > 0.5f);
    }
    forest_params p = params(3, 2, 1);
    snitch_err e;
    forest *m = forest_train(x, N, 3, y, 3, &p, NULL, NULL, &e);
    memset(b, 0, sizeof *b);
    if (m)
        forest_save(m, b);
    return m;
}

/* forest_load on a damaged copy must fail with a message containing want. */
static int rejects(const mf_buf *b, size_t nfeat, int k, const char *want)
{
    /* A lean load checks exactly as much. */
    for (int flags = 0; flags <= FOREST_LOAD_LEAN; flags += FOREST_LOAD_LEAN) {
        snitch_err e = { "" };
        forest *m = forest_load(b->p, b->len, nfeat, k, flags, &e);
        if (m) {
            forest_free(m);
            fprintf(stderr, "  accepted (flags %d), expected an error with '%s'\n", flags, want);
            return 0;
        }
        if (!strstr(e.msg, want)) {
            fprintf(stderr, "  error '%s' (flags %d) lacks '%s'\n", e.msg, flags, want);
            return 0;
        }
    }
    return 1;
}

static void test_load_rejects(void)
{
    mf_buf b;
    forest *m = small_forest(&b);
    CHECK(m != NULL && !b.oom);
    if (!m)
        return;
    snitch_err e;
    forest *ok = forest_load(b.p, b.len, 3, 3, 0, &e);
    CHECK(ok != NULL);
    forest_free(ok);

    /* Every truncation fails, with a message. */
    int accepted = 0, silent = 0;
    for (size_t len = 0; len < b.len; len++) {
        e.msg[0] = 0;
        forest *t = forest_load(b.p, len, 3, 3, 0, &e);
        accepted += t != NULL;
        silent += t == NULL && e.msg[0] == 0;
        forest_free(t);
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(silent, 0);
    /* And so does a trailing byte. */
    mf_put_u8(&b, 0);
    CHECK(rejects(&b, 3, 3, "trailing"));
    b.len--;

    CHECK(rejects(&b, 4, 3, "features"));
    CHECK(rejects(&b, 3, 2, "classes"));
    CHECK(rejects(&b, 3, 4, "classes"));

    uint8_t *save = malloc(b.len);
    memcpy(save, b.p, b.len);
#define RESTORE() memcpy(b.p, save, b.len)

    /* Tree 1's root must split (60 rows, 3 classes, full depth). */
    size_t t1 = tree_off(&b, 1);
    uint32_t nn1 = rd32(b.p + t1);
    CHECK(nn1 > 3);
    uint8_t *root1 = b.p + t1 + 4;
    CHECK((int32_t)rd32(root1) >= 0);

    wr32(root1 + 8, 0);                     /* left child = itself */
    CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    RESTORE();
    wr32(root1 + 12, nn1);                  /* right child out of range */
    CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    RESTORE();
    wr32(root1 + 12, rd32(root1 + 8));      /* both children the same */
    CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    RESTORE();
    /* A child pointing backwards: node 1 (inner or leaf) -> node 1's
     * left made 0 if inner; otherwise make the root's right point to 0. */
    uint8_t *n1 = root1 + NODE;
    if ((int32_t)rd32(n1) >= 0) {
        wr32(n1 + 12, 0);
        CHECK(rejects(&b, 3, 3, "tree 1 node 1"));
    } else {
        wr32(root1 + 12, 0);
        CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    }
    RESTORE();
    wr32(root1, 3);                         /* feature out of range */
    CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    RESTORE();
    wr32(root1, (uint32_t)-2);
    CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    RESTORE();
    float nanv = NAN, infv = INFINITY;
    memcpy(root1 + 4, &nanv, 4);            /* NaN threshold */
    CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    RESTORE();
    memcpy(root1 + 4, &infv, 4);
    CHECK(rejects(&b, 3, 3, "tree 1 node 0"));
    RESTORE();

    /* A leaf marked inconsistently: give the last node (a leaf) children. */
    uint8_t *last = root1 + (size_t)(nn1 - 1) * NODE;
    CHECK((int32_t)rd32(last) < 0);
    wr32(last + 8, nn1 - 1);
    {
        char want[64];
        snprintf(want, sizeof want, "tree 1 node %u", nn1 - 1);
        CHECK(rejects(&b, 3, 3, want));
    }
    RESTORE();
    /* An orphan: the root's left child replaced by a leaf's id breaks the
     * single-parent rule or leaves a node unreachable. */
    wr32(root1 + 8, nn1 - 1);
    CHECK(rejects(&b, 3, 3, "tree 1 node"));
    RESTORE();

    /* Absurd node and tree counts: rejected before any allocation. */
    wr32(b.p + t1, 0xFFFFFFFFu);
    CHECK(rejects(&b, 3, 3, "tree 1"));
    RESTORE();
    wr32(b.p + t1, 1u << 29);
    CHECK(rejects(&b, 3, 3, "tree 1"));
    RESTORE();
    wr32(b.p + t1, 0);
    CHECK(rejects(&b, 3, 3, "tree 1"));
    RESTORE();
    wr32(b.p + 12, 0x7FFFFFFFu);
    CHECK(rejects(&b, 3, 3, "tree count"));
    RESTORE();
    wr32(b.p + 12, 1000);
    CHECK(rejects(&b, 3, 3, "trees"));
    RESTORE();
    wr32(b.p + 0, 99);                      /* layout version */
    CHECK(rejects(&b, 3, 3, "version"));
    RESTORE();

    /* Class distributions: tree 0's first leaf. */
    size_t t0 = tree_off(&b, 0);
    uint32_t nn0 = rd32(b.p + t0);
    uint32_t first_leaf = 0;
    while ((int32_t)rd32(b.p + t0 + 4 + (size_t)first_leaf * NODE) >= 0)
        first_leaf++;
    char want[64];
    snprintf(want, sizeof want, "tree 0 node %u", first_leaf);
    uint8_t *dist = b.p + t0 + 4 + (size_t)nn0 * NODE;
    uint32_t cnt = rd32(dist);
    CHECK(cnt >= 1 && cnt <= 3);
    wr32(dist, 0);
    CHECK(rejects(&b, 3, 3, want));
    RESTORE();
    wr32(dist, 4);
    CHECK(rejects(&b, 3, 3, want));
    RESTORE();
    wr32(dist, 0x40000000u);
    CHECK(rejects(&b, 3, 3, want));
    RESTORE();
    wr32(dist + 4, 3);                      /* class out of range */
    CHECK(rejects(&b, 3, 3, want));
    RESTORE();
    double dv = NAN;
    memcpy(dist + 8, &dv, 8);
    CHECK(rejects(&b, 3, 3, want));
    RESTORE();
    dv = -0.5;
    memcpy(dist + 8, &dv, 8);
    CHECK(rejects(&b, 3, 3, want));
    RESTORE();
    dv = 0.5;                               /* no longer sums to 1 */
    memcpy(dist + 8, &dv, 8);
    if (cnt == 1)
        CHECK(rejects(&b, 3, 3, want));
    RESTORE();
    /* NaN impurity, negative weight on tree 0's root. */
    dv = NAN;
    memcpy(b.p + t0 + 4 + 28, &dv, 8);
    CHECK(rejects(&b, 3, 3, "tree 0 node 0"));
    RESTORE();
    dv = -1;
    memcpy(b.p + t0 + 4 + 20, &dv, 8);
    CHECK(rejects(&b, 3, 3, "tree 0 node 0"));
    RESTORE();

    /* Still intact after all that. */
    ok = forest_load(b.p, b.len, 3, 3, 0, &e);
    CHECK(ok != NULL);
    forest_free(ok);
#undef RESTORE
    free(save);
    mf_buf_free(&b);
    forest_free(m);
}

/* Random byte damage never crashes (ASan/valgrind would tell) and any
 * forest that loads still predicts within [0, 1]. */
static void test_load_random_damage(void)
{
    mf_buf b;
    forest *m = small_forest(&b);
    CHECK(m != NULL);
    if (!m)
        return;
    uint8_t *cp = malloc(b.len);
    tr_seed(10);
    int loaded = 0, bad = 0;
    float row[3] = { 0.2f, 0.7f, 0.4f };
    for (int it = 0; it < 3000; it++) {
        memcpy(cp, b.p, b.len);
        int nflip = 1 + (int)(tr_unif() * 4);
        for (int q = 0; q < nflip; q++)
            cp[(size_t)(tr_unif() * (double)b.len)] ^= (uint8_t)(1u << (int)(tr_unif() * 8));
        snitch_err e = { "" };
        forest *l = forest_load(cp, b.len, 3, 3, 0, &e);
        if (!l) {
            bad += e.msg[0] == 0;
            continue;
        }
        loaded++;
        double pr[3];
        forest_predict_proba(l, row, 1, pr, 1);
        for (int c = 0; c < 3; c++)
            bad += !(pr[c] >= 0 && pr[c] <= 1 + 1e-9);
        forest_free(l);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(loaded < 3000);
    free(cp);
    mf_buf_free(&b);
    forest_free(m);
}

/* ---- Graphviz --------------------------------------------------------- */

static char *dot_of(const forest *m, int t, const char *const *fn, const char *const *cn, int *rc)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    *rc = forest_tree_dot(m, t, fn, cn, f);
    fclose(f);
    return s;
}

static void test_dot(void)
{
    mf_buf b;
    forest *m = small_forest(&b);
    CHECK(m != NULL);
    if (!m)
        return;
    const char *fn[3] = { "pkt_fwd_mean", "we\"ird\\name", NULL };
    const char *cn[3] = { "www.x.com", "b", "c" };
    int rc;
    char *s = dot_of(m, 0, fn, cn, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK(strncmp(s, "digraph Tree {\nnode [shape=box] ;\n", 34) == 0);
    CHECK(strstr(s, "0 [label=\"") != NULL);
    CHECK(strstr(s, "headlabel=\"True\"") != NULL);
    CHECK(strstr(s, "headlabel=\"False\"") != NULL);
    CHECK(strstr(s, "gini = ") != NULL);
    CHECK(strstr(s, "samples = ") != NULL);
    CHECK(strstr(s, "value = [") != NULL);
    CHECK(strstr(s, "class = ") != NULL);
    CHECK(strstr(s, "}\n") != NULL);
    /* Quotes and backslashes in names escaped; no raw quote inside. */
    if (strstr(s, "ird"))
        CHECK(strstr(s, "we\\\"ird\\\\name") != NULL);
    /* Node count: one label per node. */
    uint32_t nn;
    tnode *v = tree_nodes(&b, 0, &nn);
    int labels = 0, edges = 0;
    for (const char *q = s; (q = strstr(q, "[label=")); q++)
        labels++;
    for (const char *q = s; (q = strstr(q, " -> ")); q++)
        edges++;
    CHECK_EQ_INT(labels, nn);
    CHECK_EQ_INT(edges, nn - 1);
    free(v);
    free(s);
    /* Default names. */
    s = dot_of(m, 2, NULL, NULL, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(s, "class = class ") != NULL);
    CHECK(strstr(s, " <= ") != NULL && strstr(s, "[label=\"f") != NULL);
    free(s);
    s = dot_of(m, 3, NULL, NULL, &rc);
    CHECK_EQ_INT(rc, -1);
    free(s);
    s = dot_of(m, -1, NULL, NULL, &rc);
    CHECK_EQ_INT(rc, -1);
    free(s);
    mf_buf_free(&b);
    forest_free(m);

    /* Many classes: the value line shows the top class's share. */
    enum { N = 120 };
    static float x[N];
    static int32_t y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = i / 10;
    }
    forest_params p = params(1, 1, 1);
    snitch_err e;
    m = forest_train(x, N, 1, y, 12, &p, NULL, NULL, &e);
    CHECK(m != NULL);
    s = dot_of(m, 0, NULL, NULL, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(s, "value = [") == NULL);
    CHECK(strstr(s, "top class") != NULL);
    free(s);
    forest_free(m);
}

int main(void)
{
    RUN(test_separable_rule);
    RUN(test_xor_needs_depth_two);
    RUN(test_probabilities);
    RUN(test_threshold_between_adjacent_floats);
    RUN(test_max_depth_and_min_samples_leaf);
    RUN(test_constant_features_unused);
    RUN(test_balanced_weights);
    RUN(test_one_class);
    RUN(test_absent_class);
    RUN(test_bad_input);
    RUN(test_progress);
    RUN(test_many_rows);
    RUN(test_votes_equal_probabilities);
    RUN(test_determinism);
    RUN(test_save_load_roundtrip);
    RUN(test_load_rejects);
    RUN(test_load_random_damage);
    RUN(test_dot);
    return check_summary();
}
