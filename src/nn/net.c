/* net.c - seed 002's sequence models: build, train, predict, save, load;
 * see net.h. */
#include "nn/net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/eval.h"
#include "nn/adam.h"
#include "nn/batchnorm.h"
#include "nn/conv1d.h"
#include "nn/dense.h"
#include "nn/dropout.h"
#include "nn/flatten.h"
#include "nn/gru.h"
#include "nn/loss.h"
#include "nn/relu.h"
#include "nn/rng.h"

#define NNET_VERSION 1u
#define MAX_STEPS 4096
#define MAX_UNITS 4096
#define MAX_CLASSES 1000000
#define PREDICT_CHUNK 256
/* The convolution widths of the paper's figure 6. */
#define CONV1 200
#define CONV2 400
#define RNN 200
#define DENSE 200

const char *nn_arch_name(nn_arch a)
{
    switch (a) {
    case NN_ARCH_CNN_RNN: return "cnn_rnn";
    case NN_ARCH_GRU: return "gru";
    case NN_ARCH_CNN: return "cnn";
    }
    return "unknown";
}

nn_arch nn_arch_parse(const char *s)
{
    if (!strcmp(s, "cnn_rnn"))
        return NN_ARCH_CNN_RNN;
    if (!strcmp(s, "gru"))
        return NN_ARCH_GRU;
    if (!strcmp(s, "cnn"))
        return NN_ARCH_CNN;
    return (nn_arch)0;
}

void nn_train_default_params(nn_train_params *p)
{
    p->max_epochs = 50;
    p->patience = 5;
    p->val_share = 0.1;
    p->batch = 64;
    p->lr = 1e-3f;
    p->bn_momentum = 0.9f;
    p->seed = 0;
}

static int check_config(const nn_net_config *c, snitch_err *e)
{
    if (c->arch != NN_ARCH_CNN_RNN && c->arch != NN_ARCH_GRU && c->arch != NN_ARCH_CNN)
        return err_set(e, "unknown network architecture %d", (int)c->arch);
    if (c->channels < 1 || c->channels > NN_NET_MAX_CHANNELS)
        return err_set(e, "%zu input channels (1 to %d)", c->channels, NN_NET_MAX_CHANNELS);
    size_t min_steps = c->arch == NN_ARCH_GRU ? 1 : 5;
    if (c->steps < min_steps || c->steps > MAX_STEPS)
        return err_set(e, "sequence length %zu out of range (%s needs %zu to %d steps)", c->steps,
                       nn_arch_name(c->arch), min_steps, MAX_STEPS);
    if (c->classes < 2 || c->classes > MAX_CLASSES)
        return err_set(e, "%zu classes (2 to %d)", c->classes, MAX_CLASSES);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return err_set(e, "dropout %g not in [0, 1)", (double)c->dropout);
    if (c->arch == NN_ARCH_GRU && (c->units < 1 || c->units > MAX_UNITS))
        return err_set(e, "%zu GRU units (1 to %d)", c->units, MAX_UNITS);
    return 0;
}

/* Scalars the saved state holds for a configuration (weights, biases,
 * batchnorm gamma/beta and running mean/var), computed from the numbers
 * alone so a loader can check a file's length before allocating a net. */
static size_t state_count(const nn_net_config *c)
{
    size_t C = c->channels, K = c->classes;
    size_t conv = (3 * C * CONV1 + CONV1) + 4 * CONV1 + (3 * CONV1 * CONV2 + CONV2) + 4 * CONV2;
    switch (c->arch) {
    case NN_ARCH_CNN_RNN:
        return conv + (CONV2 * 3 * RNN + RNN * 3 * RNN + 6 * RNN) + (RNN * DENSE + DENSE) +
               (DENSE * K + K);
    case NN_ARCH_GRU: {
        size_t U = c->units;
        return (C * 3 * U + U * 3 * U + 6 * U) + (U * 3 * U + U * 3 * U + 6 * U) + (U * K + K);
    }
    case NN_ARCH_CNN:
        return conv + (CONV2 * (c->steps - 4) * K + K);
    }
    return 0;
}

static int add_conv_block(nn_seq *s, size_t cin, size_t filters, nn_rng *r, snitch_err *e)
{
    if (nn_seq_add(s, nn_conv1d_new(cin, filters, 3, NN_INIT_GLOROT, r, e), e) < 0 ||
        nn_seq_add(s, nn_batchnorm_new(filters, e), e) < 0 ||
        nn_seq_add(s, nn_relu_new(e), e) < 0)
        return -1;
    return 0;
}

nn_net *nn_net_new(const nn_net_config *c, uint64_t seed, snitch_err *e)
{
    if (check_config(c, e) < 0)
        return NULL;
    nn_net *m = calloc(1, sizeof *m);
    if (!m) {
        err_set(e, "out of memory for a network");
        return NULL;
    }
    m->cfg = *c;
    for (size_t i = 0; i < NN_NET_MAX_CHANNELS; i++) {
        m->mean[i] = 0.0f;
        m->sd[i] = 1.0f;
        if (i >= c->channels)
            m->cfg.standardize[i] = 0;
    }
    nn_seq_init(&m->seq);
    nn_rng r;
    nn_rng_seed(&r, seed);
    /* Dropout masks get their own stream so changing the rate does not
     * change the initial weights. */
    uint64_t drop_seed = seed ^ 0x9e3779b97f4a7c15ull;
    nn_seq *s = &m->seq;
    size_t C = c->channels, K = c->classes;
    int rc = 0;
    switch (c->arch) {
    case NN_ARCH_CNN_RNN:
        rc = add_conv_block(s, C, CONV1, &r, e) < 0 || add_conv_block(s, CONV1, CONV2, &r, e) < 0 ||
             nn_seq_add(s, nn_gru_new(CONV2, RNN, 0, &r, e), e) < 0 ||
             nn_seq_add(s, nn_dense_new(RNN, DENSE, NN_INIT_GLOROT, &r, e), e) < 0 ||
             nn_seq_add(s, nn_relu_new(e), e) < 0 ||
             nn_seq_add(s, nn_dropout_new(c->dropout, drop_seed, e), e) < 0 ||
             nn_seq_add(s, nn_dense_new(DENSE, K, NN_INIT_GLOROT, &r, e), e) < 0;
        break;
    case NN_ARCH_GRU:
        rc = nn_seq_add(s, nn_gru_new(C, c->units, 1, &r, e), e) < 0 ||
             nn_seq_add(s, nn_gru_new(c->units, c->units, 0, &r, e), e) < 0 ||
             nn_seq_add(s, nn_dropout_new(c->dropout, drop_seed, e), e) < 0 ||
             nn_seq_add(s, nn_dense_new(c->units, K, NN_INIT_GLOROT, &r, e), e) < 0;
        break;
    case NN_ARCH_CNN:
        rc = add_conv_block(s, C, CONV1, &r, e) < 0 || add_conv_block(s, CONV1, CONV2, &r, e) < 0 ||
             nn_seq_add(s, nn_flatten_new(e), e) < 0 ||
             nn_seq_add(s, nn_dropout_new(c->dropout, drop_seed, e), e) < 0 ||
             nn_seq_add(s, nn_dense_new(CONV2 * (c->steps - 4), K, NN_INIT_GLOROT, &r, e), e) < 0;
        break;
    }
    if (rc) {
        nn_net_free(m);
        return NULL;
    }
    return m;
}

void nn_net_free(nn_net *m)
{
    if (!m)
        return;
    nn_seq_free(&m->seq);
    nn_tensor_free(&m->in);
    free(m);
}

size_t nn_net_nparams(const nn_net *m)
{
    return nn_params_count(&m->seq.params);
}

/* ---- the state: every weight, then every batchnorm's running stats ---- */

/* The arrays of the state in their saved order: the parameter list (layer
 * order), then each batchnorm's running mean and variance.  Returns the
 * number of arrays written (at most max). */
static size_t state_arrays(nn_net *m, float **a, size_t *len, size_t max)
{
    size_t k = 0;
    const nn_params *ps = &m->seq.params;
    for (size_t i = 0; i < ps->n && k < max; i++, k++) {
        a[k] = ps->p[i].w;
        len[k] = ps->p[i].n;
    }
    for (size_t i = 0; i < m->seq.n; i++) {
        size_t ch = nn_batchnorm_channels(m->seq.layer[i]);
        float *mean, *var;
        if (!ch || nn_batchnorm_stats(m->seq.layer[i], &mean, &var) < 0 || k + 2 > max)
            continue;
        a[k] = mean;
        len[k++] = ch;
        a[k] = var;
        len[k++] = ch;
    }
    return k;
}

#define MAX_ARRAYS 64

static size_t state_total(nn_net *m)
{
    float *a[MAX_ARRAYS];
    size_t len[MAX_ARRAYS], t = 0;
    size_t k = state_arrays(m, a, len, MAX_ARRAYS);
    for (size_t i = 0; i < k; i++)
        t += len[i];
    return t;
}

static void state_get(nn_net *m, float *dst)
{
    float *a[MAX_ARRAYS];
    size_t len[MAX_ARRAYS];
    size_t k = state_arrays(m, a, len, MAX_ARRAYS);
    for (size_t i = 0; i < k; i++) {
        memcpy(dst, a[i], len[i] * sizeof *dst);
        dst += len[i];
    }
}

static void state_set(nn_net *m, const float *src)
{
    float *a[MAX_ARRAYS];
    size_t len[MAX_ARRAYS];
    size_t k = state_arrays(m, a, len, MAX_ARRAYS);
    for (size_t i = 0; i < k; i++) {
        memcpy(a[i], src, len[i] * sizeof *src);
        src += len[i];
    }
}

/* ---- input ---- */

/* Standardize rows idx[0..b) of x into m->in ([b][steps][channels]). */
static int load_batch(nn_net *m, const float *x, const size_t *idx, size_t b, snitch_err *e)
{
    size_t L = m->cfg.steps, C = m->cfg.channels, w = L * C;
    if (nn_tensor_resize(&m->in, b, L, C, e) < 0)
        return -1;
    float scale[NN_NET_MAX_CHANNELS], shift[NN_NET_MAX_CHANNELS];
    for (size_t c = 0; c < C; c++) {
        scale[c] = m->cfg.standardize[c] ? 1.0f / m->sd[c] : 1.0f;
        shift[c] = m->cfg.standardize[c] ? m->mean[c] : 0.0f;
    }
    for (size_t i = 0; i < b; i++) {
        const float *src = x + (idx ? idx[i] : i) * w;
        float *dst = m->in.data + i * w;
        for (size_t j = 0; j < w; j++) {
            size_t c = j % C;
            dst[j] = (src[j] - shift[c]) * scale[c];
        }
    }
    return 0;
}

/* Mean and population deviation per standardized channel over the rows
 * with mask[i] = 1 (all positions, padding included, as the reference). */
static void fit_standardization(nn_net *m, const float *x, size_t n, const uint8_t *mask)
{
    size_t L = m->cfg.steps, C = m->cfg.channels, w = L * C;
    for (size_t c = 0; c < C; c++) {
        m->mean[c] = 0.0f;
        m->sd[c] = 1.0f;
        if (!m->cfg.standardize[c])
            continue;
        double s = 0, q = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) {
            if (mask && !mask[i])
                continue;
            for (size_t t = 0; t < L; t++)
                s += x[i * w + t * C + c];
            cnt += L;
        }
        double mean = cnt ? s / (double)cnt : 0.0;
        for (size_t i = 0; i < n; i++) {
            if (mask && !mask[i])
                continue;
            for (size_t t = 0; t < L; t++) {
                double d = x[i * w + t * C + c] - mean;
                q += d * d;
            }
        }
        double sd = cnt ? sqrt(q / (double)cnt) : 0.0;
        m->mean[c] = (float)mean;
        /* a constant channel (all padding, say) is only shifted */
        m->sd[c] = sd > 0 && isfinite(sd) ? (float)sd : 1.0f;
    }
}

/* ---- prediction ---- */

static int forward_chunks(nn_net *m, const float *x, const size_t *idx, size_t n, double *proba,
                          const int32_t *y, double *loss_sum, size_t *correct, snitch_err *e)
{
    nn_tensor probs = {0};
    int32_t lab[PREDICT_CHUNK];
    int rc = -1;
    size_t K = m->cfg.classes;
    for (size_t i = 0; i < n; i += PREDICT_CHUNK) {
        size_t b = n - i < PREDICT_CHUNK ? n - i : PREDICT_CHUNK;
        size_t w = m->cfg.steps * m->cfg.channels;
        if (load_batch(m, idx ? x : x + i * w, idx ? idx + i : NULL, b, e) < 0)
            goto out;
        const nn_tensor *lo = nn_seq_forward(&m->seq, &m->in, 0, e);
        if (!lo)
            goto out;
        if (y) {
            double l;
            for (size_t j = 0; j < b; j++)
                lab[j] = y[idx ? idx[i + j] : i + j];
            if (nn_softmax_xent(lo, lab, &l, NULL, e) < 0)
                goto out;
            *loss_sum += l * (double)b;
            for (size_t j = 0; j < b; j++)
                *correct += nn_argmax_row(lo, j) == lab[j];
        }
        if (proba) {
            if (nn_softmax(lo, &probs, e) < 0)
                goto out;
            for (size_t j = 0; j < b * K; j++) {
                /* finite weights can still overflow (a damaged or hostile
                 * file): say so rather than answer NaN */
                if (!isfinite(probs.data[j])) {
                    err_set(e, "the network's output is not a finite number (row %zu): its "
                            "weights overflow", i + j / K);
                    goto out;
                }
                proba[i * K + j] = probs.data[j];
            }
        }
    }
    rc = 0;
out:
    nn_tensor_free(&probs);
    return rc;
}

int nn_net_predict_proba(nn_net *m, const float *x, size_t n, double *proba, snitch_err *e)
{
    return forward_chunks(m, x, NULL, n, proba, NULL, NULL, NULL, e);
}

/* ---- training ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int nn_net_train(nn_net *m, const float *x, const int32_t *y, size_t n,
                 const nn_train_params *p, nn_epoch_cb cb, void *ctx,
                 nn_train_result *res, snitch_err *e)
{
    size_t K = m->cfg.classes;
    if (n < 2)
        return err_set(e, "a network needs at least 2 training rows, got %zu", n);
    if (p->batch < 2)
        return err_set(e, "batch size %zu: at least 2 (batch normalization)", p->batch);
    if (p->max_epochs < 1)
        return err_set(e, "--epochs must be at least 1");
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || (size_t)y[i] >= K)
            return err_set(e, "row %zu: class %d outside 0..%zu", i, (int)y[i], K - 1);
    for (size_t i = 0; i < m->seq.n; i++)
        if (nn_batchnorm_channels(m->seq.layer[i]))
            nn_batchnorm_set_momentum(m->seq.layer[i], p->bn_momentum);

    uint8_t *mask = malloc(n);
    size_t *tr = malloc(n * sizeof *tr), *va = malloc(n * sizeof *va);
    size_t state_n = state_total(m);
    float *best = malloc(state_n * sizeof *best);
    int32_t *lab = malloc((p->batch ? p->batch : 1) * sizeof *lab);
    nn_tensor dlogits = {0};
    nn_adam opt;
    memset(&opt, 0, sizeof opt);
    int rc = -1;
    if (!mask || !tr || !va || !best || !lab) {
        err_set(e, "out of memory for training");
        goto out;
    }
    if (p->val_share > 0)
        eval_stratified_holdout(y, n, (int)K, p->val_share, p->seed, mask);
    else
        memset(mask, 1, n);
    size_t ntr = 0, nva = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask[i])
            tr[ntr++] = i;
        else
            va[nva++] = i;
    }
    if (ntr < 2) {
        err_set(e, "only %zu training rows left after the validation share", ntr);
        goto out;
    }
    fit_standardization(m, x, n, mask);
    if (nn_adam_init(&opt, &m->seq.params, p->lr, e) < 0)
        goto out;
    nn_rng shuf;
    nn_rng_seed(&shuf, p->seed * 0x2545f4914f6cdd1dull + 7);
    double best_loss = INFINITY, t_start = now_s();
    int bad = 0, best_epoch = 0, ep;
    for (ep = 1; ep <= p->max_epochs; ep++) {
        double t0 = now_s();
        /* Fisher-Yates over the training rows, a new order each epoch */
        for (size_t i = ntr; i > 1; i--) {
            size_t j = (size_t)(nn_rng_u64(&shuf) % i);
            size_t t = tr[i - 1];
            tr[i - 1] = tr[j];
            tr[j] = t;
        }
        double loss_sum = 0;
        size_t seen = 0, correct = 0;
        for (size_t i = 0; i < ntr; i += p->batch) {
            size_t b = ntr - i < p->batch ? ntr - i : p->batch;
            if (b < 2)
                continue;   /* batch normalization needs two rows */
            if (load_batch(m, x, tr + i, b, e) < 0)
                goto out;
            const nn_tensor *lo = nn_seq_forward(&m->seq, &m->in, 1, e);
            if (!lo)
                goto out;
            for (size_t j = 0; j < b; j++)
                lab[j] = y[tr[i + j]];
            double l;
            if (nn_softmax_xent(lo, lab, &l, &dlogits, e) < 0)
                goto out;
            for (size_t j = 0; j < b; j++)
                correct += nn_argmax_row(lo, j) == lab[j];
            if (!nn_seq_backward(&m->seq, &dlogits, e) || nn_adam_step(&opt, &m->seq.params, e) < 0)
                goto out;
            loss_sum += l * (double)b;
            seen += b;
        }
        if (!isfinite(loss_sum)) {
            err_set(e, "epoch %d: the training loss is not finite (diverged)", ep);
            goto out;
        }
        nn_epoch_info info = {ep, p->max_epochs, seen ? loss_sum / (double)seen : 0,
                              seen ? (double)correct / (double)seen : 0, NAN, NAN, 0, 0};
        int stop = 0;
        if (nva) {
            double vl = 0;
            size_t vc = 0;
            if (forward_chunks(m, x, va, nva, NULL, y, &vl, &vc, e) < 0)
                goto out;
            info.val_loss = vl / (double)nva;
            info.val_acc = (double)vc / (double)nva;
            /* as the reference: an improvement must beat the best by 1e-7 */
            if (info.val_loss < best_loss - 1e-7) {
                best_loss = info.val_loss;
                best_epoch = ep;
                state_get(m, best);
                bad = 0;
                info.best = 1;
            } else if (++bad >= p->patience) {
                stop = 1;
            }
        } else {
            best_epoch = ep;
            info.best = 1;
        }
        info.seconds = now_s() - t0;
        if (cb)
            cb(ctx, &info);
        if (stop)
            break;
    }
    if (nva && best_epoch > 0)
        state_set(m, best);
    if (res) {
        res->epochs = ep > p->max_epochs ? p->max_epochs : ep;
        res->best_epoch = best_epoch;
        res->best_val_loss = nva ? best_loss : NAN;
        res->seconds = now_s() - t_start;
    }
    rc = 0;
out:
    nn_adam_free(&opt);
    nn_tensor_free(&dlogits);
    free(mask);
    free(tr);
    free(va);
    free(best);
    free(lab);
    return rc;
}

/* ---- the NNET section ---- */

void nn_net_save(const nn_net *m, mf_buf *out)
{
    nn_net *mm = (nn_net *)m;   /* the walk only reads */
    mf_put_u32(out, NNET_VERSION);
    mf_put_u32(out, (uint32_t)m->cfg.arch);
    mf_put_u32(out, (uint32_t)m->cfg.steps);
    mf_put_u32(out, (uint32_t)m->cfg.channels);
    mf_put_u32(out, (uint32_t)m->cfg.classes);
    mf_put_f32(out, m->cfg.dropout);
    mf_put_u32(out, (uint32_t)m->cfg.units);
    for (size_t c = 0; c < m->cfg.channels; c++) {
        mf_put_u8(out, m->cfg.standardize[c]);
        mf_put_f32(out, m->mean[c]);
        mf_put_f32(out, m->sd[c]);
    }
    float *a[MAX_ARRAYS];
    size_t len[MAX_ARRAYS], total = 0;
    size_t k = state_arrays(mm, a, len, MAX_ARRAYS);
    for (size_t i = 0; i < k; i++)
        total += len[i];
    mf_put_u64(out, total);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < len[i]; j++)
            mf_put_f32(out, a[i][j]);
}

nn_net *nn_net_load(const uint8_t *p, size_t len, snitch_err *e)
{
    mf_cur c = {.p = p, .len = len};
    nn_net_config cfg;
    memset(&cfg, 0, sizeof cfg);
    uint32_t ver = mf_get_u32(&c);
    if (c.bad || ver != NNET_VERSION) {
        err_set(e, "NNET: version %u is not known to this snitch (byte 0)", ver);
        return NULL;
    }
    cfg.arch = (nn_arch)mf_get_u32(&c);
    cfg.steps = mf_get_u32(&c);
    cfg.channels = mf_get_u32(&c);
    cfg.classes = mf_get_u32(&c);
    cfg.dropout = mf_get_f32(&c);
    cfg.units = mf_get_u32(&c);
    snitch_err ce;
    if (c.bad || check_config(&cfg, &ce) < 0) {
        err_set(e, "NNET: bad configuration (byte %zu): %s", c.off, c.bad ? "truncated" : ce.msg);
        return NULL;
    }
    float mean[NN_NET_MAX_CHANNELS], sd[NN_NET_MAX_CHANNELS];
    for (size_t ch = 0; ch < cfg.channels; ch++) {
        size_t at = c.off;
        uint8_t st = mf_get_u8(&c);
        mean[ch] = mf_get_f32(&c);
        sd[ch] = mf_get_f32(&c);
        if (c.bad || st > 1 || !isfinite(mean[ch]) || !isfinite(sd[ch]) || !(sd[ch] > 0)) {
            err_set(e, "NNET: bad standardization of channel %zu (byte %zu)", ch, at);
            return NULL;
        }
        cfg.standardize[ch] = st;
    }
    size_t at = c.off;
    uint64_t total = mf_get_u64(&c);
    size_t want = state_count(&cfg);
    if (c.bad || total != want || (len - c.off) / 4 != want || (len - c.off) % 4) {
        err_set(e, "NNET: %llu weights for a %s of this shape, which has %zu, and %zu bytes "
                "follow (byte %zu)", (unsigned long long)total, nn_arch_name(cfg.arch), want,
                c.bad ? 0 : len - c.off, at);
        return NULL;
    }
    const uint8_t *w = p + c.off;
    for (size_t i = 0; i < want; i++) {
        float v;
        memcpy(&v, w + 4 * i, 4);
        if (!isfinite(v)) {
            err_set(e, "NNET: weight %zu is not a finite number (byte %zu)", i, c.off + 4 * i);
            return NULL;
        }
    }
    nn_net *m = nn_net_new(&cfg, 0, e);
    if (!m)
        return NULL;
    if (state_total(m) != want) {
        err_set(e, "NNET: internal: the %s has %zu state values, expected %zu",
                nn_arch_name(cfg.arch), state_total(m), want);
        nn_net_free(m);
        return NULL;
    }
    float *buf = malloc(want * sizeof *buf);
    if (!buf) {
        err_set(e, "NNET: out of memory");
        nn_net_free(m);
        return NULL;
    }
    mf_cur wc = {.p = w, .len = want * 4};
    for (size_t i = 0; i < want; i++)
        buf[i] = mf_get_f32(&wc);
    state_set(m, buf);
    free(buf);
    for (size_t ch = 0; ch < cfg.channels; ch++) {
        m->mean[ch] = mean[ch];
        m->sd[ch] = sd[ch];
    }
    /* running variances must be >= 0 or inference divides by sqrt(<0) */
    for (size_t i = 0; i < m->seq.n; i++) {
        size_t ch = nn_batchnorm_channels(m->seq.layer[i]);
        float *rm, *rv;
        if (!ch || nn_batchnorm_stats(m->seq.layer[i], &rm, &rv) < 0)
            continue;
        for (size_t j = 0; j < ch; j++)
            if (!(rv[j] >= 0)) {
                err_set(e, "NNET: negative running variance in layer %zu", i);
                nn_net_free(m);
                return NULL;
            }
    }
    return m;
}

