/* test_nn.c - unit tests of src/nn: finite-difference gradient checks of
 * every layer, the loss and a small whole network; batchnorm inference and
 * dropout behaviour; a toy sequence task learnt to 100 %; determinism. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

#include "nn/adam.h"
#include "nn/batchnorm.h"
#include "nn/conv1d.h"
#include "nn/dense.h"
#include "nn/dropout.h"
#include "nn/gru.h"
#include "nn/loss.h"
#include "nn/relu.h"
#include "nn/rng.h"
#include "nn/sequential.h"

/* ---- finite-difference machinery ------------------------------------ */

#define FD_EPS 3e-3f        /* step of the central difference: the error
                             * measured is float rounding noise / eps (it
                             * falls ~3x from eps 1e-3 to 3e-3 and again to
                             * 1e-2), so 3e-3 balances noise and truncation */
#define FD_FLOOR 1e-2       /* denominators below this count as this: the
                             * float noise of a difference quotient is ~1e-4
                             * absolute, so tiny gradients are compared in
                             * absolute terms */
#define FD_TOL 1e-2         /* required relative agreement */
#define FD_COORDS 150       /* random coordinates per checked array */

typedef struct gc {
    nn_seq *s;
    const nn_tensor *x;
    int training;
    const int *labels;      /* loss on the output if set ... */
    nn_tensor r;            /* ... else the objective is sum(y * r) */
} gc;

/* The scalar objective, accumulated in double. */
static double objective(gc *g)
{
    snitch_err e;
    for (size_t i = 0; i < g->s->n; i++)
        nn_dropout_reseed(g->s->layer[i], 77);  /* the same mask every time */
    const nn_tensor *y = nn_seq_forward(g->s, g->x, g->training, &e);
    if (!y)
        return NAN;
    if (g->labels) {
        double loss;
        return nn_softmax_xent(y, g->labels, &loss, NULL, &e) < 0 ? NAN : loss;
    }
    double f = 0;
    for (size_t i = 0; i < nn_tensor_size(y); i++)
        f += (double)y->data[i] * g->r.data[i];
    return f;
}

typedef struct gc_result { double max_rel; int bad, checked; } gc_result;

/* Compare analytic gradient ga of array v against central differences at
 * up to FD_COORDS random coordinates (all of them if fewer). */
static void check_array(gc *g, float *v, const float *ga, size_t n, nn_rng *pick,
                        gc_result *res)
{
    size_t k = n < FD_COORDS ? n : FD_COORDS;
    for (size_t c = 0; c < k; c++) {
        size_t i = n <= FD_COORDS ? c : (size_t)(nn_rng_u64(pick) % n);
        float old = v[i];
        v[i] = old + FD_EPS;
        double fp = objective(g);
        v[i] = old - FD_EPS;
        double fm = objective(g);
        v[i] = old;
        double num = (fp - fm) / (2.0 * (double)FD_EPS), a = ga[i];
        double den = fmax(fmax(fabs(num), fabs(a)), FD_FLOOR);
        double rel = fabs(num - a) / den;
        if (!(rel <= res->max_rel))
            res->max_rel = isnan(rel) ? INFINITY : rel;
        res->bad += !(rel < FD_TOL);
        res->checked++;
    }
}

/* Check dL/dx and every parameter's gradient of s at x; returns the worst
 * relative error over all checked coordinates. */
static gc_result gradcheck(const char *what, nn_seq *s, nn_tensor *x, int training,
                           const int *labels, uint64_t seed)
{
    gc g = { .s = s, .x = x, .training = training, .labels = labels };
    gc_result res = { 0, 0, 0 };
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (size_t i = 0; i < s->n; i++)
        nn_dropout_reseed(s->layer[i], 77);
    const nn_tensor *y = nn_seq_forward(s, x, training, &e);
    CHECK(y != NULL);
    if (!y)
        return res;
    nn_tensor dy = { 0 };
    if (labels) {
        double loss;
        CHECK(nn_softmax_xent(y, labels, &loss, &dy, &e) == 0);
    } else {
        CHECK(nn_tensor_alloc(&g.r, y->n, y->t, y->c, &e) == 0);
        nn_init_uniform(g.r.data, nn_tensor_size(&g.r), 1.0, &r);
        CHECK(nn_tensor_resize(&dy, y->n, y->t, y->c, &e) == 0);
        memcpy(dy.data, g.r.data, nn_tensor_size(&dy) * sizeof(float));
    }
    const nn_tensor *dx = nn_seq_backward(s, &dy, &e);
    CHECK(dx != NULL);
    /* Copy the analytic gradients: the probing forwards reuse the caches. */
    size_t np = nn_params_count(&s->params), nx = nn_tensor_size(x);
    float *ga = malloc((np + nx + 1) * sizeof(float));
    CHECK(ga != NULL);
    if (dx && ga) {
        memcpy(ga, dx->data, nx * sizeof(float));
        size_t off = nx;
        for (size_t i = 0; i < s->params.n; i++) {
            memcpy(ga + off, s->params.p[i].g, s->params.p[i].n * sizeof(float));
            off += s->params.p[i].n;
        }
        check_array(&g, x->data, ga, nx, &r, &res);
        off = nx;
        for (size_t i = 0; i < s->params.n; i++) {
            gc_result pr = { 0, 0, 0 };
            check_array(&g, s->params.p[i].w, ga + off, s->params.p[i].n, &r, &pr);
            off += s->params.p[i].n;
            res.max_rel = fmax(res.max_rel, pr.max_rel);
            res.bad += pr.bad;
            res.checked += pr.checked;
        }
    }
    printf("gradcheck %-28s %4d coords, max rel err %.2e, %d over %.0e\n", what,
           res.checked, res.max_rel, res.bad, FD_TOL);
    free(ga);
    nn_tensor_free(&dy);
    nn_tensor_free(&g.r);
    return res;
}

/* A [n][t][c] tensor of uniform values in [-a, a]. */
static nn_tensor rand_tensor(size_t n, size_t t, size_t c, double a, uint64_t seed)
{
    nn_tensor x;
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, seed);
    if (nn_tensor_alloc(&x, n, t, c, &e) == 0)
        nn_init_uniform(x.data, nn_tensor_size(&x), a, &r);
    return x;
}

/* Single-layer check: the layer alone, objective sum(y * R). */
static void check_layer(const char *what, nn_layer *l, nn_tensor x, int training)
{
    snitch_err e;
    nn_seq s;
    nn_seq_init(&s);
    CHECK(x.data != NULL);
    CHECK(nn_seq_add(&s, l, &e) == 0);
    gc_result res = gradcheck(what, &s, &x, training, NULL, 1234);
    CHECK(res.checked > 0);
    CHECK(res.bad == 0);
    nn_seq_free(&s);
    nn_tensor_free(&x);
}

/* ---- per-layer gradient checks -------------------------------------- */

static void test_grad_dense(void)
{
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, 1);
    check_layer("dense [n][t][c]", nn_dense_new(7, 5, NN_INIT_GLOROT, &r, &e),
                rand_tensor(4, 3, 7, 1.0, 11), 1);
    check_layer("dense [n][features]", nn_dense_new(9, 4, NN_INIT_HE, &r, &e),
                rand_tensor(5, 1, 9, 1.0, 12), 1);
}

static void test_grad_relu(void)
{
    snitch_err e;
    /* Keep inputs away from the kink, where the derivative jumps and a
     * central difference straddling 0 would be meaningless. */
    nn_tensor x = rand_tensor(3, 4, 5, 1.0, 13);
    for (size_t i = 0; i < nn_tensor_size(&x); i++)
        if (fabsf(x.data[i]) < 0.05f)
            x.data[i] = x.data[i] < 0 ? -0.1f : 0.1f;
    check_layer("relu", nn_relu_new(&e), x, 1);
}

static void test_grad_conv1d(void)
{
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, 2);
    check_layer("conv1d k3", nn_conv1d_new(4, 6, 3, NN_INIT_GLOROT, &r, &e),
                rand_tensor(3, 9, 4, 1.0, 14), 1);
    check_layer("conv1d k1", nn_conv1d_new(3, 2, 1, NN_INIT_HE, &r, &e),
                rand_tensor(2, 5, 3, 1.0, 15), 1);
    check_layer("conv1d k=t", nn_conv1d_new(2, 3, 6, NN_INIT_GLOROT, &r, &e),
                rand_tensor(3, 6, 2, 1.0, 16), 1);
}

static void test_grad_batchnorm(void)
{
    snitch_err e;
    /* Non-trivial gamma/beta, so their gradients matter in dx too. */
    nn_layer *bn = nn_batchnorm_new(5, &e);
    nn_params ps = { 0 };
    CHECK(bn && nn_layer_params(bn, &ps, &e) == 0);
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (size_t i = 0; i < ps.n; i++)
        for (size_t j = 0; j < ps.p[i].n; j++)
            ps.p[i].w[j] += 0.5f * (2.0f * nn_rng_uniform(&r) - 1.0f);
    nn_params_free(&ps);
    nn_tensor x = rand_tensor(4, 6, 5, 2.0, 17);
    for (size_t i = 0; i < nn_tensor_size(&x); i++)
        x.data[i] += (float)(i % 5);        /* channel means differ */
    check_layer("batchnorm (training)", bn, x, 1);
    check_layer("batchnorm (inference)", nn_batchnorm_new(3, &e),
                rand_tensor(3, 4, 3, 1.0, 18), 0);
}

static void test_grad_dropout(void)
{
    snitch_err e;
    check_layer("dropout (training)", nn_dropout_new(0.4f, 5, &e),
                rand_tensor(4, 3, 6, 1.0, 19), 1);
    check_layer("dropout (inference)", nn_dropout_new(0.4f, 5, &e),
                rand_tensor(4, 3, 6, 1.0, 20), 0);
}

static void test_grad_gru(void)
{
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, 4);
    /* Non-zero biases so every bias path is exercised. */
    nn_layer *g = nn_gru_new(3, 5, 0, &r, &e);
    nn_params ps = { 0 };
    CHECK(g && nn_layer_params(g, &ps, &e) == 0);
    for (size_t i = 2; i < ps.n; i++)
        nn_init_uniform(ps.p[i].w, ps.p[i].n, 0.5, &r);
    nn_params_free(&ps);
    check_layer("gru (last state)", g, rand_tensor(4, 6, 3, 1.0, 21), 1);
    check_layer("gru (sequences)", nn_gru_new(2, 4, 1, &r, &e),
                rand_tensor(3, 5, 2, 1.0, 22), 1);
    check_layer("gru (one step)", nn_gru_new(3, 3, 0, &r, &e),
                rand_tensor(2, 1, 3, 1.0, 23), 1);
}

static void test_grad_loss(void)
{
    snitch_err e;
    nn_tensor lg = rand_tensor(6, 1, 4, 3.0, 24);
    int labels[6] = { 0, 3, 1, 2, 2, 0 };
    double loss;
    nn_tensor d = { 0 };
    CHECK(nn_softmax_xent(&lg, labels, &loss, &d, &e) == 0);
    double maxrel = 0;
    for (size_t i = 0; i < nn_tensor_size(&lg); i++) {
        double fp, fm;
        float old = lg.data[i];
        lg.data[i] = old + FD_EPS;
        nn_softmax_xent(&lg, labels, &fp, NULL, &e);
        lg.data[i] = old - FD_EPS;
        nn_softmax_xent(&lg, labels, &fm, NULL, &e);
        lg.data[i] = old;
        double num = (fp - fm) / (2.0 * (double)FD_EPS);
        maxrel = fmax(maxrel, fabs(num - d.data[i]) /
                              fmax(fmax(fabs(num), fabs(d.data[i])), FD_FLOOR));
    }
    printf("gradcheck %-28s %4zu coords, max rel err %.2e\n", "softmax xent",
           nn_tensor_size(&lg), maxrel);
    CHECK(maxrel < FD_TOL);
    /* Huge logits: finite loss, the gradient still a difference of
     * probabilities, and a confidently right row costs ~0. */
    lg.data[0] = 1e30f;
    lg.data[1] = -1e30f;
    CHECK(nn_softmax_xent(&lg, labels, &loss, &d, &e) == 0);
    CHECK(isfinite(loss));
    for (size_t i = 0; i < nn_tensor_size(&d); i++)
        CHECK(isfinite(d.data[i]) && fabsf(d.data[i]) <= 1.0f / 6 + 1e-6f);
    CHECK_NEAR(d.data[0], 0.0, 1e-7);
    /* Uniform logits over 4 classes cost log 4. */
    nn_tensor_zero(&lg);
    CHECK(nn_softmax_xent(&lg, labels, &loss, NULL, &e) == 0);
    CHECK_NEAR(loss, log(4.0), 1e-6);
    labels[2] = 4;
    CHECK(nn_softmax_xent(&lg, labels, &loss, NULL, &e) < 0);
    nn_tensor_free(&lg);
    nn_tensor_free(&d);
}

/* conv1d -> batchnorm -> relu -> gru -> dense -> loss, end to end. */
static int build_small_net(nn_seq *s, size_t cin, size_t classes, uint64_t seed,
                           float dropout)
{
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, seed);
    nn_seq_init(s);
    if (nn_seq_add(s, nn_conv1d_new(cin, 8, 3, NN_INIT_HE, &r, &e), &e) < 0 ||
        nn_seq_add(s, nn_batchnorm_new(8, &e), &e) < 0 ||
        nn_seq_add(s, nn_relu_new(&e), &e) < 0 ||
        nn_seq_add(s, nn_gru_new(8, 12, 0, &r, &e), &e) < 0 ||
        (dropout > 0 && nn_seq_add(s, nn_dropout_new(dropout, seed + 1, &e), &e) < 0) ||
        nn_seq_add(s, nn_dense_new(12, classes, NN_INIT_GLOROT, &r, &e), &e) < 0)
        return -1;
    return 0;
}

static void test_grad_network(void)
{
    nn_seq s;
    CHECK(build_small_net(&s, 3, 4, 9, 0.25f) == 0);
    nn_tensor x = rand_tensor(6, 10, 3, 1.0, 25);
    int labels[6] = { 0, 1, 2, 3, 1, 0 };
    gc_result res = gradcheck("network + loss", &s, &x, 1, labels, 99);
    /* The ReLU's kink can sit within FD_EPS of a probed point: tolerate
     * a handful of such coordinates, not a systematic error. */
    CHECK(res.checked > 500);
    CHECK(res.bad * 100 <= res.checked);
    nn_seq_free(&s);
    nn_tensor_free(&x);
}

/* ---- behaviour ------------------------------------------------------ */

static void test_batchnorm_inference(void)
{
    snitch_err e;
    nn_layer *bn = nn_batchnorm_new(2, &e);
    CHECK(bn != NULL);
    nn_tensor x = rand_tensor(8, 5, 2, 1.0, 26);
    for (size_t i = 0; i < nn_tensor_size(&x); i++)
        x.data[i] = x.data[i] * (i % 2 ? 3.0f : 0.5f) + (i % 2 ? -2.0f : 4.0f);
    /* Fresh layer, inference: running mean 0, var 1 -> y = x / sqrt(1+eps). */
    const nn_tensor *y = nn_layer_forward(bn, &x, 0, &e);
    CHECK(y != NULL);
    CHECK_NEAR(y->data[3], x.data[3] / sqrt(1.0 + NN_BN_EPS), 1e-5);
    /* Training: outputs have per-channel mean 0, var ~1 (eps aside). */
    y = nn_layer_forward(bn, &x, 1, &e);
    /* channel 0 = the even indices: 40 positions (8 samples x 5 steps) */
    double m0 = 0, v0 = 0, mx = 0, vx = 0;
    for (size_t i = 0; i < 80; i += 2) {
        m0 += y->data[i] / 40.0;
        mx += x.data[i] / 40.0;
    }
    for (size_t i = 0; i < 80; i += 2) {
        v0 += (y->data[i] - m0) * (y->data[i] - m0) / 40.0;
        vx += (x.data[i] - mx) * (x.data[i] - mx) / 40.0;
    }
    CHECK_NEAR(m0, 0.0, 1e-5);
    CHECK_NEAR(v0, vx / (vx + NN_BN_EPS), 1e-4);
    /* Many training passes: running stats converge to the batch's (the
     * variance unbiased), and inference then reproduces training output
     * up to that m/(m-1) factor. */
    for (int k = 0; k < 2000; k++)
        nn_layer_forward(bn, &x, 1, &e);
    float *rm, *rv;
    CHECK(nn_batchnorm_stats(bn, &rm, &rv) == 0);
    CHECK_NEAR(rm[0], mx, 1e-3);
    CHECK_NEAR(rv[0], vx * 40.0 / 39.0, 1e-3 * vx);
    y = nn_layer_forward(bn, &x, 0, &e);
    CHECK_NEAR(y->data[4], (x.data[4] - mx) / sqrt(vx * 40.0 / 39.0 + NN_BN_EPS), 1e-3);
    /* Inference does not move the running stats. */
    float before = rm[1];
    nn_layer_forward(bn, &x, 0, &e);
    CHECK(rm[1] == before);
    CHECK(nn_batchnorm_stats(NULL, &rm, &rv) < 0);
    nn_layer_free(bn);
    nn_tensor_free(&x);
}

static void test_dropout_behaviour(void)
{
    snitch_err e;
    nn_layer *a = nn_dropout_new(0.5f, 42, &e), *b = nn_dropout_new(0.5f, 42, &e);
    nn_layer *c = nn_dropout_new(0.5f, 43, &e);
    CHECK(a && b && c);
    nn_tensor x = rand_tensor(10, 10, 10, 1.0, 27);
    for (size_t i = 0; i < nn_tensor_size(&x); i++)
        x.data[i] += 2.0f;                  /* no zeros in x itself */
    /* Inference: identity. */
    const nn_tensor *y = nn_layer_forward(a, &x, 0, &e);
    CHECK(y && memcmp(y->data, x.data, nn_tensor_size(&x) * sizeof(float)) == 0);
    /* Training: same seed same mask, other seed another; kept elements
     * doubled, about half dropped; a second pass draws a new mask. */
    const nn_tensor *ya = nn_layer_forward(a, &x, 1, &e);
    const nn_tensor *yb = nn_layer_forward(b, &x, 1, &e);
    const nn_tensor *yc = nn_layer_forward(c, &x, 1, &e);
    size_t n = nn_tensor_size(&x), zeros = 0, diff_c = 0;
    CHECK(memcmp(ya->data, yb->data, n * sizeof(float)) == 0);
    for (size_t i = 0; i < n; i++) {
        zeros += ya->data[i] == 0.0f;
        diff_c += (ya->data[i] == 0.0f) != (yc->data[i] == 0.0f);
        CHECK(ya->data[i] == 0.0f || ya->data[i] == 2.0f * x.data[i]);
    }
    CHECK(zeros > 400 && zeros < 600);
    CHECK(diff_c > 300);
    float keep[1000];
    memcpy(keep, ya->data, sizeof keep);
    ya = nn_layer_forward(a, &x, 1, &e);
    CHECK(memcmp(keep, ya->data, sizeof keep) != 0);
    CHECK(nn_dropout_new(1.0f, 1, &e) == NULL);
    nn_layer_free(a);
    nn_layer_free(b);
    nn_layer_free(c);
    nn_tensor_free(&x);
}

static void test_shape_errors(void)
{
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, 5);
    nn_layer *d = nn_dense_new(3, 2, NN_INIT_GLOROT, &r, &e);
    nn_layer *cv = nn_conv1d_new(3, 2, 4, NN_INIT_GLOROT, &r, &e);
    nn_tensor x = rand_tensor(2, 3, 4, 1.0, 28);
    e.msg[0] = 0;
    CHECK(nn_layer_forward(d, &x, 1, &e) == NULL);
    CHECK(strstr(e.msg, "dense") != NULL);
    nn_tensor x3 = rand_tensor(2, 3, 3, 1.0, 29);
    CHECK(nn_layer_forward(cv, &x3, 1, &e) == NULL);   /* kernel > time */
    const nn_tensor *y = nn_layer_forward(d, &x3, 1, &e);
    CHECK(y && y->n == 2 && y->t == 3 && y->c == 2);
    CHECK(nn_layer_backward(d, &x3, &e) == NULL);     /* wrong dy shape */
    CHECK(nn_dense_new(0, 2, NN_INIT_GLOROT, &r, &e) == NULL);
    nn_seq s;
    nn_seq_init(&s);
    CHECK(nn_seq_add(&s, NULL, &e) < 0);
    nn_seq_free(&s);
    nn_layer_free(d);
    nn_layer_free(cv);
    nn_tensor_free(&x);
    nn_tensor_free(&x3);
}

static void test_orthogonal_init(void)
{
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, 6);
    float w[6 * 18];
    CHECK(nn_init_orthogonal(w, 6, 18, &r, &e) == 0);
    double worst = 0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            double d = 0;
            for (int k = 0; k < 18; k++)
                d += (double)w[i * 18 + k] * w[j * 18 + k];
            worst = fmax(worst, fabs(d - (i == j)));
        }
    CHECK(worst < 1e-5);
}

/* ---- learning ------------------------------------------------------- */

#define TOY_N 300
#define TOY_T 12

/* Class 0: a marker (value 1) in the first half of a noise sequence;
 * class 1: in the second half; class 2: no marker. */
static void toy_data(nn_tensor *x, int *labels)
{
    snitch_err e;
    nn_rng r;
    nn_rng_seed(&r, 2024);
    nn_tensor_alloc(x, TOY_N, TOY_T, 1, &e);
    for (size_t i = 0; i < TOY_N; i++) {
        for (size_t t = 0; t < TOY_T; t++)
            x->data[i * TOY_T + t] = 0.4f * nn_rng_uniform(&r);
        labels[i] = (int)(i % 3);
        if (labels[i] < 2) {
            size_t pos = (size_t)(nn_rng_u64(&r) % (TOY_T / 2)) + (labels[i] ? TOY_T / 2 : 0);
            x->data[i * TOY_T + pos] = 1.0f;
        }
    }
}

/* Train a fresh small net on the toy task; returns training accuracy
 * (inference mode) and leaves the trained net in s. */
static double toy_train(nn_seq *s, uint64_t seed, int steps)
{
    snitch_err e;
    nn_tensor x, xb = { 0 }, dl = { 0 };
    int labels[TOY_N], lb[64], order[TOY_N];
    toy_data(&x, labels);
    if (build_small_net(s, 1, 3, seed, 0.1f) < 0)
        return -1;
    nn_adam opt;
    if (nn_adam_init(&opt, &s->params, 1e-2f, &e) < 0)
        return -1;
    nn_rng r;
    nn_rng_seed(&r, seed ^ 0xabcdef);
    for (int i = 0; i < TOY_N; i++)
        order[i] = i;
    size_t pos = TOY_N;
    double loss = 0;
    for (int step = 0; step < steps; step++) {
        size_t bs = 64;
        if (nn_tensor_resize(&xb, bs, TOY_T, 1, &e) < 0)
            return -1;
        for (size_t b = 0; b < bs; b++) {
            if (pos == TOY_N) {     /* new epoch: Fisher-Yates shuffle */
                for (size_t i = TOY_N - 1; i > 0; i--) {
                    size_t j = (size_t)(nn_rng_u64(&r) % (i + 1));
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                pos = 0;
            }
            int k = order[pos++];
            memcpy(xb.data + b * TOY_T, x.data + (size_t)k * TOY_T, TOY_T * sizeof(float));
            lb[b] = labels[k];
        }
        const nn_tensor *y = nn_seq_forward(s, &xb, 1, &e);
        if (!y || nn_softmax_xent(y, lb, &loss, &dl, &e) < 0 ||
            !nn_seq_backward(s, &dl, &e) || nn_adam_step(&opt, &s->params, &e) < 0)
            return -1;
    }
    const nn_tensor *y = nn_seq_forward(s, &x, 0, &e);
    int correct = 0;
    for (size_t i = 0; y && i < TOY_N; i++)
        correct += nn_argmax_row(y, i) == labels[i];
    nn_adam_free(&opt);
    nn_tensor_free(&x);
    nn_tensor_free(&xb);
    nn_tensor_free(&dl);
    return (double)correct / TOY_N;
}

static void test_toy_task(void)
{
    nn_seq a, b;
    double acc = toy_train(&a, 7, 300);
    printf("toy task: training accuracy %.1f %% after 300 Adam steps\n", 100 * acc);
    CHECK(acc == 1.0);
    /* Same seed, same weights, bit for bit. */
    double acc2 = toy_train(&b, 7, 300);
    CHECK(acc2 == acc);
    CHECK(a.params.n == b.params.n && a.params.n > 0);
    for (size_t i = 0; i < a.params.n && i < b.params.n; i++)
        CHECK(memcmp(a.params.p[i].w, b.params.p[i].w, a.params.p[i].n * sizeof(float)) == 0);
    nn_seq_free(&a);
    nn_seq_free(&b);
}

int main(void)
{
    RUN(test_grad_dense);
    RUN(test_grad_relu);
    RUN(test_grad_conv1d);
    RUN(test_grad_batchnorm);
    RUN(test_grad_dropout);
    RUN(test_grad_gru);
    RUN(test_grad_loss);
    RUN(test_grad_network);
    RUN(test_batchnorm_inference);
    RUN(test_dropout_behaviour);
    RUN(test_shape_errors);
    RUN(test_orthogonal_init);
    RUN(test_toy_task);
    return check_summary();
}
