/* test_net.c - the assembled networks (nn/net.c), model specs and
 * ensembles (model/learn.c, model/model.c): save/load round trips give
 * identical outputs, training is reproducible for a seed, early stopping
 * restores the best epoch, a network learns a toy sequence task, damaged
 * NNET/ENSM sections are refused; a forest file read front to back
 * (model_load_streamed) is the forest read whole, and every other file is
 * left to the whole read, which gives the messages. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval/cv.h"
#include "eval/eval.h"
#include "model/learn.h"
#include "model/model.h"
#include "nn/flatten.h"
#include "nn/net.h"
#include "nn/rng.h"
#include "model/modelfile.h"

#include <unistd.h>

/* ---- specs ---- */

static void test_spec_parse(void)
{
    model_spec s;
    snitch_err e;
    CHECK(model_spec_parse("rf", &s, &e) == 0);
    CHECK(!s.ensemble && s.n == 1 && s.m[0].kind == MODEL_FOREST && s.m[0].weight == 1.0);
    CHECK(model_spec_parse("cnn_rnn/size+dir", &s, &e) == 0);
    CHECK(s.n == 1 && s.m[0].kind == MODEL_NET && s.m[0].arch == NN_ARCH_CNN_RNN && s.m[0].dir);
    CHECK_EQ_STR(s.m[0].channel, "size");
    CHECK(model_spec_parse("gru/iat", &s, &e) == 0 && s.m[0].arch == NN_ARCH_GRU && !s.m[0].dir);
    CHECK(model_spec_parse("ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat", &s, &e) == 0);
    CHECK(s.ensemble && s.n == 4);
    CHECK_NEAR(s.m[0].weight, 0.5, 1e-12);
    for (int i = 1; i < 4; i++)
        CHECK_NEAR(s.m[i].weight, 1.0 / 6.0, 1e-12);
    char buf[256];
    model_spec_text(&s, -1, buf, sizeof buf);
    CHECK_EQ_STR(buf, "ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat");
    CHECK(model_spec_parse("ensemble:cnn_rnn/size+dir+cnn_rnn/iat+dir", &s, &e) == 0);
    CHECK(s.n == 2 && s.m[0].dir && s.m[1].dir);
    CHECK_NEAR(s.m[0].weight, 0.5, 1e-12);
    model_spec_text(&s, 1, buf, sizeof buf);
    CHECK_EQ_STR(buf, "cnn_rnn/iat+dir");
    CHECK(model_spec_parse("ensemble:rf*1+gru/size*3", &s, &e) == 0);
    CHECK_NEAR(s.m[0].weight, 0.25, 1e-12);
    CHECK_NEAR(s.m[1].weight, 0.75, 1e-12);
    const char *bad[] = {"bogus", "cnn_rnn", "cnn_rnn/foo", "+dir", "rf+dir",
                         "rf+cnn_rnn/size", "ensemble:rf*1+gru/size", "ensemble:rf*x+gru/size*1",
                         "ensemble:", "ensemble:rf*0+gru/size*0", "cnn_rnn/size+dir+dir", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        e.msg[0] = 0;
        CHECK(model_spec_parse(bad[i], &s, &e) < 0);
        CHECK(e.msg[0] != 0);
    }
}

/* ---- data ---- */

/* n rows of a toy sequence task: class c has a bump of height 3 at steps
 * [2c, 2c+2) over small noise, plus a direction channel. */
static void toy_data(size_t n, size_t steps, size_t ch, int k, uint64_t seed, float *x,
                     int32_t *y)
{
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % (size_t)k);
        y[i] = c;
        for (size_t t = 0; t < steps; t++) {
            float v = 0.3f * (nn_rng_uniform(&r) - 0.5f);
            if ((int)t >= 2 * c && (int)t < 2 * c + 2)
                v += 3.0f;
            x[(i * steps + t) * ch] = v * 100.0f + 500.0f;   /* raw scale: standardized inside */
            if (ch > 1)
                x[(i * steps + t) * ch + 1] = nn_rng_uniform(&r) < 0.5f ? -1.0f : 1.0f;
        }
    }
}

static nn_net_config small_config(nn_arch a, size_t steps, size_t ch, size_t k)
{
    nn_net_config c;
    memset(&c, 0, sizeof c);
    c.arch = a;
    c.steps = steps;
    c.channels = ch;
    c.classes = k;
    c.dropout = 0.25f;
    c.units = 12;
    c.standardize[0] = 1;
    return c;
}

static nn_train_params quick_params(int epochs)
{
    nn_train_params p;
    nn_train_default_params(&p);
    p.max_epochs = epochs;
    p.batch = 16;
    p.seed = 7;
    return p;
}

static int same_doubles(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* ---- networks ---- */

static void test_flatten(void)
{
    snitch_err e;
    nn_layer *f = nn_flatten_new(&e);
    nn_tensor x = {0}, dy = {0};
    CHECK(f && nn_tensor_alloc(&x, 2, 3, 4, &e) == 0 && nn_tensor_alloc(&dy, 2, 1, 12, &e) == 0);
    for (size_t i = 0; i < 24; i++) {
        x.data[i] = (float)i;
        dy.data[i] = (float)(100 + i);
    }
    const nn_tensor *y = nn_layer_forward(f, &x, 1, &e);
    CHECK(y && y->n == 2 && y->t == 1 && y->c == 12 && y->data[13] == 13.0f);
    const nn_tensor *dx = nn_layer_backward(f, &dy, &e);
    CHECK(dx && dx->n == 2 && dx->t == 3 && dx->c == 4 && dx->data[23] == 123.0f);
    nn_tensor_free(&x);
    nn_tensor_free(&dy);
    nn_layer_free(f);
}

static void test_net_roundtrip(void)
{
    const nn_arch archs[] = {NN_ARCH_CNN_RNN, NN_ARCH_GRU, NN_ARCH_CNN};
    size_t n = 48, steps = 7, ch = 2, k = 3;
    float *x = malloc(n * steps * ch * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    double *p1 = malloc(n * k * sizeof *p1), *p2 = malloc(n * k * sizeof *p2);
    toy_data(n, steps, ch, (int)k, 3, x, y);
    for (size_t a = 0; a < 3; a++) {
        snitch_err e;
        nn_net_config c = small_config(archs[a], steps, ch, k);
        nn_net *m = nn_net_new(&c, 11, &e);
        CHECK(m != NULL);
        if (!m)
            continue;
        nn_train_params tp = quick_params(2);
        nn_train_result res;
        CHECK(nn_net_train(m, x, y, n, &tp, NULL, NULL, &res, &e) == 0);
        CHECK(res.epochs >= 1 && res.epochs <= 2);
        CHECK(nn_net_predict_proba(m, x, n, p1, &e) == 0);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < k; j++)
                s += p1[i * k + j];
            CHECK_NEAR(s, 1.0, 1e-5);
        }
        mf_buf b = {0}, b2 = {0};
        nn_net_save(m, &b);
        CHECK(!b.oom);
        nn_net *m2 = nn_net_load(b.p, b.len, &e);
        CHECK(m2 != NULL);
        if (m2) {
            CHECK(nn_net_predict_proba(m2, x, n, p2, &e) == 0);
            CHECK(same_doubles(p1, p2, n * k));
            CHECK(m2->mean[0] == m->mean[0] && m2->sd[0] == m->sd[0]);
            nn_net_save(m2, &b2);
            CHECK(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0);
        }
        /* damaged sections are refused with a message, never loaded */
        size_t cuts[] = {0, 3, 20, 40, b.len / 2, b.len - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
            e.msg[0] = 0;
            nn_net *bad = nn_net_load(b.p, cuts[i], &e);
            CHECK(bad == NULL && e.msg[0] != 0);
            nn_net_free(bad);
        }
        uint8_t *cp = malloc(b.len);
        memcpy(cp, b.p, b.len);
        float nanv = NAN;
        memcpy(cp + b.len - 8, &nanv, 4);           /* a weight */
        CHECK(nn_net_load(cp, b.len, &e) == NULL && strstr(e.msg, "finite"));
        memcpy(cp, b.p, b.len);
        cp[4] = 9;                                  /* architecture */
        CHECK(nn_net_load(cp, b.len, &e) == NULL && strstr(e.msg, "configuration"));
        memcpy(cp, b.p, b.len);
        cp[12] = 3;                                 /* channels: length no longer fits */
        CHECK(nn_net_load(cp, b.len, &e) == NULL);
        memcpy(cp, b.p, b.len);
        cp[0] = 2;                                  /* version */
        CHECK(nn_net_load(cp, b.len, &e) == NULL && strstr(e.msg, "version"));
        if (archs[a] != NN_ARCH_GRU) {
            /* the last state values are the second batchnorm's running variance */
            memcpy(cp, b.p, b.len);
            float neg = -1.0f;
            memcpy(cp + b.len - 4, &neg, 4);
            CHECK(nn_net_load(cp, b.len, &e) == NULL && strstr(e.msg, "variance"));
        }
        free(cp);
        mf_buf_free(&b);
        mf_buf_free(&b2);
        nn_net_free(m2);
        nn_net_free(m);
    }
    free(x);
    free(y);
    free(p1);
    free(p2);
}

static void test_net_reproducible(void)
{
    size_t n = 40, steps = 6, ch = 1, k = 2;
    float *x = malloc(n * steps * ch * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    double *p[3];
    toy_data(n, steps, ch, (int)k, 5, x, y);
    for (int run = 0; run < 3; run++) {
        snitch_err e;
        nn_net_config c = small_config(NN_ARCH_CNN_RNN, steps, ch, k);
        nn_net *m = nn_net_new(&c, run < 2 ? 21 : 22, &e);
        nn_train_params tp = quick_params(2);
        tp.seed = run < 2 ? 21 : 22;
        p[run] = malloc(n * k * sizeof *p[run]);
        CHECK(m && nn_net_train(m, x, y, n, &tp, NULL, NULL, NULL, &e) == 0);
        CHECK(m && nn_net_predict_proba(m, x, n, p[run], &e) == 0);
        nn_net_free(m);
    }
    CHECK(same_doubles(p[0], p[1], n * k));
    CHECK(!same_doubles(p[0], p[2], n * k));
    for (int i = 0; i < 3; i++)
        free(p[i]);
    free(x);
    free(y);
}

typedef struct epochs_seen {
    int n, best_epoch;
    double best;
} epochs_seen;

static void count_epoch(void *ctx, const nn_epoch_info *i)
{
    epochs_seen *s = ctx;
    s->n++;
    CHECK(i->epoch == s->n && isfinite(i->val_loss) && i->seconds >= 0);
    if (i->best) {
        CHECK(i->val_loss < s->best);
        s->best = i->val_loss;
        s->best_epoch = i->epoch;
    }
}

static void test_early_stopping(void)
{
    /* Random labels: nothing to learn, so the validation loss stops
     * improving and patience ends training long before max_epochs. */
    size_t n = 120, steps = 6, ch = 1, k = 3;
    float *x = malloc(n * steps * ch * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    toy_data(n, steps, ch, (int)k, 9, x, y);
    nn_rng r;
    nn_rng_seed(&r, 99);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(nn_rng_u64(&r) % k);
    snitch_err e;
    nn_net_config c = small_config(NN_ARCH_GRU, steps, ch, k);
    c.units = 32;
    c.dropout = 0;
    nn_net *m = nn_net_new(&c, 3, &e);
    nn_train_params tp = quick_params(200);
    tp.patience = 3;
    tp.val_share = 0.25;
    tp.lr = 1e-2f;
    nn_train_result res;
    epochs_seen seen = {0, 0, INFINITY};
    CHECK(m && nn_net_train(m, x, y, n, &tp, count_epoch, &seen, &res, &e) == 0);
    CHECK(res.epochs < 200 && res.epochs == seen.n);
    CHECK_EQ_INT(res.best_epoch, seen.best_epoch);
    CHECK_EQ_INT(res.epochs, res.best_epoch + tp.patience);
    /* the restored weights are the best epoch's: recompute its loss */
    uint8_t *mask = malloc(n);
    eval_stratified_holdout(y, n, (int)k, tp.val_share, tp.seed, mask);
    double *p = malloc(n * k * sizeof *p), loss = 0;
    size_t nv = 0;
    CHECK(nn_net_predict_proba(m, x, n, p, &e) == 0);
    for (size_t i = 0; i < n; i++)
        if (!mask[i]) {
            loss -= log(p[i * k + (size_t)y[i]]);
            nv++;
        }
    CHECK(nv > 0);
    CHECK_NEAR(loss / (double)nv, res.best_val_loss, 1e-4);
    free(mask);
    free(p);
    nn_net_free(m);
    free(x);
    free(y);
}

static void test_net_learns_toy(void)
{
    /* The bump's position decides the class: a sequence task (the same
     * values in another order are another class). */
    size_t n = 60, steps = 8, ch = 1, k = 4;
    float *x = malloc(n * steps * ch * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    double *p = malloc(n * k * sizeof *p);
    toy_data(n, steps, ch, (int)k, 1, x, y);
    snitch_err e;
    nn_net_config c = small_config(NN_ARCH_GRU, steps, ch, k);
    c.units = 16;
    c.dropout = 0;
    nn_net *m = nn_net_new(&c, 1, &e);
    nn_train_params tp = quick_params(60);
    tp.val_share = 0;
    tp.lr = 1e-2f;
    CHECK(m && nn_net_train(m, x, y, n, &tp, NULL, NULL, NULL, &e) == 0);
    CHECK(m && nn_net_predict_proba(m, x, n, p, &e) == 0);
    size_t right = 0;
    for (size_t i = 0; i < n; i++)
        right += eval_argmax(p + i * k, (int)k) == y[i];
    CHECK_EQ_INT(right, n);
    nn_net_free(m);
    free(x);
    free(y);
    free(p);
}

static void test_net_bad_input(void)
{
    snitch_err e;
    nn_net_config c = small_config(NN_ARCH_CNN, 4, 1, 2);   /* too short for two convolutions */
    CHECK(nn_net_new(&c, 1, &e) == NULL && strstr(e.msg, "sequence length"));
    c = small_config(NN_ARCH_GRU, 4, 1, 1);
    CHECK(nn_net_new(&c, 1, &e) == NULL && strstr(e.msg, "classes"));
    c = small_config(NN_ARCH_GRU, 4, 1, 2);
    nn_net *m = nn_net_new(&c, 1, &e);
    float x[4 * 4] = {0};
    int32_t y[4] = {0, 1, 2, 0};
    nn_train_params tp = quick_params(1);
    CHECK(m && nn_net_train(m, x, y, 4, &tp, NULL, NULL, NULL, &e) < 0 && strstr(e.msg, "class"));
    nn_net_free(m);
}

/* ---- ensembles through model_train ---- */

static void make_table(table *t, size_t n, int k)
{
    /* 2 statistics + size_0..5 + dir_0..5 */
    static const char *names[] = {"pkt_fwd_num", "pkt_bwd_num", "size_0", "size_1", "size_2",
                                  "size_3", "size_4", "size_5", "dir_0", "dir_1", "dir_2",
                                  "dir_3", "dir_4", "dir_5"};
    static const char *cls[] = {"a.example", "b.example", "c.example"};
    memset(t, 0, sizeof *t);
    t->nrows = n;
    t->nfeat = 14;
    t->feat = (char **)names;
    t->nclasses = (size_t)k;
    t->classes = (char **)cls;
    t->x = malloc(n * t->nfeat * sizeof *t->x);
    t->y = malloc(n * sizeof *t->y);
    float seq[6];
    int32_t cl;
    for (size_t i = 0; i < n; i++) {
        toy_data(1, 6, 1, k, 100 + i, seq, &cl);
        cl = (int32_t)(i % (size_t)k);
        float *row = t->x + i * t->nfeat;
        row[0] = (float)(cl * 3 + (int)(i % 2));
        row[1] = (float)(i % 5);
        for (int s = 0; s < 6; s++) {
            row[2 + s] = (float)(200 * cl + 10 * s + (int)(i % 7));
            row[8 + s] = s % 2 ? 1.0f : -1.0f;
        }
        t->y[i] = cl;
    }
}

static void test_ensemble(void)
{
    table t;
    size_t n = 60;
    int k = 3;
    make_table(&t, n, k);
    model_spec s;
    snitch_err e;
    CHECK(model_spec_parse("ensemble:rf+cnn_rnn/size+dir+gru/size", &s, &e) == 0);
    learn_params lp;
    learn_default_params(&lp);
    lp.fp.n_trees = 5;
    lp.fp.threads = 1;
    lp.tp.max_epochs = 2;
    lp.tp.batch = 16;
    lp.gru_units = 8;
    size_t *rows = malloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = i;
    model *m = model_train(&s, &lp, &t, rows, n, t.y, k, t.classes, 0, NULL, &e);
    CHECK(m != NULL);
    if (!m)
        goto out;
    CHECK(m->kind == MODEL_ENSEMBLE && m->nmembers == 3);
    /* the union of the members' columns, in order of first use */
    CHECK_EQ_INT(m->nfeat, 14);
    CHECK_EQ_STR(m->feat[0], "pkt_fwd_num");
    CHECK_EQ_STR(m->feat[2], "size_0");
    CHECK_EQ_STR(m->feat[3], "dir_0");
    CHECK_EQ_INT(m->members[1]->nfeat, 12);
    CHECK_EQ_INT(m->members[2]->nfeat, 6);
    CHECK_EQ_INT(m->member_cols[2][1], 4);     /* gru's size_1 = ensemble feature 4 */
    float *x = malloc(n * m->nfeat * sizeof *x);
    double *p1 = malloc(n * (size_t)k * sizeof *p1), *p2 = malloc(n * (size_t)k * sizeof *p2);
    double *pm = malloc(n * (size_t)k * sizeof *pm);
    CHECK(learn_gather(m, &t, NULL, n, x, &e) == 0);
    CHECK(model_predict_proba(m, x, n, p1, 1, &e) == 0);
    /* the ensemble is the weighted sum of its members */
    double w[3] = {0.5, 0.25, 0.25};
    for (size_t i = 0; i < 3; i++)
        CHECK_NEAR(m->weights[i], w[i], 1e-12);
    double *acc = calloc(n * (size_t)k, sizeof *acc);
    for (size_t mi = 0; mi < 3; mi++) {
        float *xs = malloc(n * m->members[mi]->nfeat * sizeof *xs);
        CHECK(learn_gather(m->members[mi], &t, NULL, n, xs, &e) == 0);
        CHECK(model_predict_proba(m->members[mi], xs, n, pm, 1, &e) == 0);
        for (size_t q = 0; q < n * (size_t)k; q++)
            acc[q] += w[mi] * pm[q];
        free(xs);
    }
    for (size_t q = 0; q < n * (size_t)k; q++)
        CHECK_NEAR(acc[q], p1[q], 1e-12);
    /* save -> load gives the same answers and the same bytes */
    m->label_mode = strdup("sni");
    m->description = strdup("test");
    mf_buf b = {0}, b2 = {0};
    CHECK(model_save(m, &b, &e) == 0);
    model *m2 = model_load_image(b.p, b.len, "ens.snm", &e);
    CHECK(m2 != NULL);
    if (m2) {
        CHECK(m2->kind == MODEL_ENSEMBLE && m2->nmembers == 3);
        CHECK(model_predict_proba(m2, x, n, p2, 1, &e) == 0);
        CHECK(same_doubles(p1, p2, n * (size_t)k));
        CHECK(model_save(m2, &b2, &e) == 0 && b2.len == b.len && !memcmp(b.p, b2.p, b.len));
    }
    model_free(m2);
    /* truncations anywhere are refused with the name in the message */
    for (size_t cut = 0; cut < b.len; cut += b.len / 23 + 1) {
        e.msg[0] = 0;
        model *bad = model_load_image(b.p, cut, "ens.snm", &e);
        CHECK(bad == NULL && strstr(e.msg, "ens.snm"));
        model_free(bad);
    }
    /* a member whose classes differ from the ensemble's */
    free(m->members[2]->classes[1]);
    m->members[2]->classes[1] = strdup("zzz");
    CHECK(model_link(m, &e) < 0 && strstr(e.msg, "member 3"));
    mf_buf_free(&b);
    mf_buf_free(&b2);
    free(x);
    free(p1);
    free(p2);
    free(pm);
    free(acc);
    model_free(m);
out:
    free(rows);
    free(t.x);
    free(t.y);
}

/* Write b to a new temporary file; its path in path (unlink after). */
static int tmp_file(const mf_buf *b, char *path, size_t n)
{
    const char *t = getenv("TMPDIR");
    snprintf(path, n, "%s/snitch-net-XXXXXX", t && *t ? t : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    int ok = write(fd, b->p, b->len) == (ssize_t)b->len;
    return close(fd) == 0 && ok ? 0 : -1;
}

static model *train_spec(const char *spec, table *t, size_t n, int k)
{
    model_spec s;
    snitch_err e;
    learn_params lp;
    learn_default_params(&lp);
    lp.fp.n_trees = 9;
    lp.fp.threads = 1;
    lp.tp.max_epochs = 1;
    lp.tp.batch = 16;
    lp.gru_units = 4;
    size_t rows[80];
    for (size_t i = 0; i < n; i++)
        rows[i] = i;
    if (model_spec_parse(spec, &s, &e) < 0)
        return NULL;
    model *m = model_train(&s, &lp, t, rows, n, t->y, k, t->classes, 0, NULL, &e);
    if (m) {
        m->label_mode = strdup("sni");
        m->description = strdup("streamed");
    }
    return m;
}

static void test_streamed_load(void)
{
    table t;
    size_t n = 80;
    int k = 3;
    make_table(&t, n, k);
    snitch_err e;
    char path[600];
    model *m = train_spec("rf", &t, n, k);
    model *net = train_spec("gru/size", &t, n, k);
    CHECK(m && net);
    mf_buf b = {0}, bn = {0};
    if (!m || !net || model_save(m, &b, &e) < 0 || model_save(net, &bn, &e) < 0) {
        CHECK(0);
        goto out;
    }
    double *p1 = malloc(n * (size_t)k * sizeof *p1), *p2 = malloc(n * (size_t)k * sizeof *p2);
    float *x = malloc(n * m->nfeat * sizeof *x);
    CHECK(learn_gather(m, &t, NULL, n, x, &e) == 0);
    CHECK(model_predict_proba(m, x, n, p1, 1, &e) == 0);
    /* A forest: the same model through windows of any size. */
    CHECK(tmp_file(&b, path, sizeof path) == 0);
    static const size_t wins[] = {1, 3, 100, 0};
    for (size_t w = 0; w < sizeof wins / sizeof *wins; w++) {
        model *s = model_load_streamed(path, MODEL_LOAD_LEAN, wins[w]);
        CHECK(s != NULL);
        if (!s)
            continue;
        CHECK(s->kind == MODEL_FOREST && s->nfeat == m->nfeat && s->nclasses == m->nclasses);
        CHECK(!strcmp(s->label_mode, "sni") && !strcmp(s->description, "streamed"));
        CHECK(forest_is_lean(s->forest));
        CHECK(model_predict_proba(s, x, n, p2, 1, &e) == 0);
        CHECK(same_doubles(p1, p2, n * (size_t)k));
        model_free(s);
    }
    /* Without LEAN: a full forest that saves to the same bytes. */
    model *full = model_load_streamed(path, 0, 7);
    mf_buf b2 = {0};
    CHECK(full && !forest_is_lean(full->forest) && model_save(full, &b2, &e) == 0);
    CHECK(b2.len == b.len && !memcmp(b2.p, b.p, b.len));
    mf_buf_free(&b2);
    model_free(full);
    /* Damage anywhere: no from the stream, and model_load_flags says what
     * model_load says. */
    int bad = 0;
    for (size_t pos = 0; pos < b.len; pos += b.len / 37 + 1) {
        b.p[pos] ^= 0x04;
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(b.p, 1, b.len, f) == b.len && fclose(f) == 0);
        snitch_err e1 = {""}, e2 = {""};
        model *s = model_load_streamed(path, MODEL_LOAD_LEAN, 64);
        model *l1 = model_load_flags(path, MODEL_LOAD_LEAN, &e1);
        model *l2 = model_load(path, &e2);
        if (s || l1 || l2 || strcmp(e1.msg, e2.msg) || strncmp(e1.msg, path, strlen(path)))
            bad++;
        model_free(s);
        model_free(l1);
        model_free(l2);
        b.p[pos] ^= 0x04;
    }
    CHECK_EQ_INT(bad, 0);
    unlink(path);
    /* A network: not streamed; the whole read loads it. */
    CHECK(tmp_file(&bn, path, sizeof path) == 0);
    CHECK(model_load_streamed(path, MODEL_LOAD_LEAN, 0) == NULL);
    model *ln = model_load_flags(path, MODEL_LOAD_LEAN, &e);
    CHECK(ln && ln->kind == MODEL_NET);
    model_free(ln);
    unlink(path);
    /* FRST before META (not how snitch writes it, but valid): the same. */
    mf_file f;
    CHECK(mf_parse(b.p, b.len, &f, &e) == 0 && f.nsec == 2);
    mf_section rev[2] = {f.sec[1], f.sec[0]};
    mf_buf br = {0};
    CHECK(mf_build(rev, 2, &br) == 0);
    mf_file_free(&f);
    CHECK(tmp_file(&br, path, sizeof path) == 0);
    CHECK(model_load_streamed(path, MODEL_LOAD_LEAN, 0) == NULL);
    model *lr = model_load_flags(path, MODEL_LOAD_LEAN, &e);
    CHECK(lr != NULL && lr->kind == MODEL_FOREST);
    if (lr) {
        CHECK(model_predict_proba(lr, x, n, p2, 1, &e) == 0);
        CHECK(same_doubles(p1, p2, n * (size_t)k));
    }
    model_free(lr);
    unlink(path);
    mf_buf_free(&br);
    free(p1);
    free(p2);
    free(x);
out:
    mf_buf_free(&b);
    mf_buf_free(&bn);
    model_free(m);
    model_free(net);
    free(t.x);
    free(t.y);
}

static void test_cv_net(void)
{
    /* cv of a network: every row predicted once, folds as eval gives them */
    table t;
    size_t n = 45;
    make_table(&t, n, 3);
    model_spec s;
    snitch_err e;
    CHECK(model_spec_parse("gru/size", &s, &e) == 0);
    learn_params lp;
    learn_default_params(&lp);
    lp.tp.max_epochs = 3;
    lp.tp.batch = 8;
    lp.gru_units = 8;
    size_t rows[45];
    for (size_t i = 0; i < n; i++)
        rows[i] = i;
    cv_result r;
    CHECK(cv_run(&s, &lp, &t, rows, n, t.y, 3, t.classes, 3, 5, NULL, NULL, NULL, &r, &e) == 0);
    CHECK(r.n == n && r.rep.n == n);
    int fold[45];
    CHECK(eval_stratified_folds(t.y, n, 3, 3, 5, fold, &e) == 0);
    CHECK(memcmp(fold, r.fold, sizeof fold) == 0);
    uint64_t total = 0;
    for (int i = 0; i < 9; i++)
        total += r.rep.confusion[i];
    CHECK_EQ_INT(total, n);
    cv_result_free(&r);
    free(t.x);
    free(t.y);
}

int main(void)
{
    RUN(test_spec_parse);
    RUN(test_flatten);
    RUN(test_net_roundtrip);
    RUN(test_net_reproducible);
    RUN(test_early_stopping);
    RUN(test_net_learns_toy);
    RUN(test_net_bad_input);
    RUN(test_ensemble);
    RUN(test_streamed_load);
    RUN(test_cv_net);
    return check_summary();
}
