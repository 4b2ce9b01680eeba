/* batchnorm.c - per-channel batch normalization; see batchnorm.h. */
#include "nn/batchnorm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct batchnorm {
    nn_layer base;
    size_t ch;
    /* one allocation: gamma, beta, dgamma, dbeta, running mean, running
     * var, inverse std of the last forward, mean of the last forward */
    float *gamma, *beta, *dgamma, *dbeta, *rmean, *rvar, *invstd, *mean;
    nn_tensor xhat;     /* normalized input of the last forward */
    int training;       /* last forward used batch statistics */
    float momentum;     /* weight of the old running statistics */
} batchnorm;

static void batch_stats(batchnorm *bn, const nn_tensor *x, size_t m)
{
    size_t ch = bn->ch;
    /* Two passes, accumulated in double per channel: the mean first, then
     * the centred squares, avoiding the cancellation of E[x^2] - E[x]^2. */
    for (size_t c = 0; c < ch; c++) {
        double s = 0, q = 0;
        for (size_t i = 0; i < m; i++)
            s += x->data[i * ch + c];
        double mean = s / (double)m;
        for (size_t i = 0; i < m; i++) {
            double d = x->data[i * ch + c] - mean;
            q += d * d;
        }
        double var = q / (double)m;
        bn->mean[c] = (float)mean;
        bn->invstd[c] = (float)(1.0 / sqrt(var + NN_BN_EPS));
        double mo = bn->momentum;
        bn->rmean[c] = (float)(mo * bn->rmean[c] + (1.0 - mo) * mean);
        bn->rvar[c] = (float)(mo * bn->rvar[c] + (1.0 - mo) * q / (double)(m - 1));
    }
}

static int bn_forward(nn_layer *l, const nn_tensor *x, int training, snitch_err *e)
{
    batchnorm *bn = (batchnorm *)l;
    size_t ch = bn->ch, m = x->n * x->t;
    if (x->c != ch)
        return err_set(e, "nn: batchnorm expects %zu channels, got %zu", ch, x->c);
    if (training && m < 2)
        return err_set(e, "nn: batchnorm training needs at least 2 positions per channel");
    if (nn_tensor_resize(&l->y, x->n, x->t, ch, e) < 0 ||
        nn_tensor_resize(&bn->xhat, x->n, x->t, ch, e) < 0)
        return -1;
    bn->training = training;
    if (training) {
        batch_stats(bn, x, m);
    } else {
        for (size_t c = 0; c < ch; c++) {
            bn->mean[c] = bn->rmean[c];
            bn->invstd[c] = 1.0f / sqrtf(bn->rvar[c] + NN_BN_EPS);
        }
    }
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < ch; c++) {
            float xh = (x->data[i * ch + c] - bn->mean[c]) * bn->invstd[c];
            bn->xhat.data[i * ch + c] = xh;
            l->y.data[i * ch + c] = bn->gamma[c] * xh + bn->beta[c];
        }
    return 0;
}

static int bn_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    batchnorm *bn = (batchnorm *)l;
    size_t ch = bn->ch, m = dy->n * dy->t;
    const float *xh = bn->xhat.data;
    memset(bn->dgamma, 0, ch * sizeof(float));
    memset(bn->dbeta, 0, ch * sizeof(float));
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < ch; c++) {
            bn->dgamma[c] += dy->data[i * ch + c] * xh[i * ch + c];
            bn->dbeta[c] += dy->data[i * ch + c];
        }
    if (!bn->training) {
        /* Running statistics are constants: a per-channel affine map. */
        for (size_t i = 0; i < m; i++)
            for (size_t c = 0; c < ch; c++)
                l->dx.data[i * ch + c] = dy->data[i * ch + c] * bn->gamma[c] * bn->invstd[c];
        return 0;
    }
    /* The batch mean and variance depend on every x, which adds the two
     * correction terms: dx = gamma*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)),
     * and sum(dy) = dbeta, sum(dy*xhat) = dgamma. */
    float fm = (float)m;
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < ch; c++) {
            float k = bn->gamma[c] * bn->invstd[c] / fm;
            l->dx.data[i * ch + c] = k * (fm * dy->data[i * ch + c] - bn->dbeta[c] -
                                          xh[i * ch + c] * bn->dgamma[c]);
        }
    return 0;
}

static int bn_params(nn_layer *l, nn_params *ps, snitch_err *e)
{
    batchnorm *bn = (batchnorm *)l;
    if (nn_params_add(ps, bn->gamma, bn->dgamma, bn->ch, "batchnorm.gamma", e) < 0)
        return -1;
    return nn_params_add(ps, bn->beta, bn->dbeta, bn->ch, "batchnorm.beta", e);
}

static void bn_destroy(nn_layer *l)
{
    batchnorm *bn = (batchnorm *)l;
    nn_tensor_free(&bn->xhat);
    free(bn->gamma);
    free(bn);
}

static const nn_layer_ops bn_ops = {
    "batchnorm", bn_forward, bn_backward, bn_params, bn_destroy
};

nn_layer *nn_batchnorm_new(size_t channels, snitch_err *e)
{
    if (!channels || channels > 1u << 20) {
        err_set(e, "nn: batchnorm channel count %zu out of range", channels);
        return NULL;
    }
    batchnorm *bn = calloc(1, sizeof *bn);
    float *buf = calloc(8 * channels, sizeof(float));
    if (!bn || !buf) {
        free(bn);
        free(buf);
        err_set(e, "nn: out of memory for a batchnorm layer");
        return NULL;
    }
    bn->base.ops = &bn_ops;
    bn->ch = channels;
    bn->momentum = NN_BN_MOMENTUM;
    bn->gamma = buf;
    bn->beta = buf + channels;
    bn->dgamma = buf + 2 * channels;
    bn->dbeta = buf + 3 * channels;
    bn->rmean = buf + 4 * channels;
    bn->rvar = buf + 5 * channels;
    bn->invstd = buf + 6 * channels;
    bn->mean = buf + 7 * channels;
    for (size_t c = 0; c < channels; c++) {
        bn->gamma[c] = 1.0f;
        bn->rvar[c] = 1.0f;
    }
    return &bn->base;
}

int nn_batchnorm_stats(nn_layer *l, float **mean, float **var)
{
    if (!l || l->ops != &bn_ops)
        return -1;
    batchnorm *bn = (batchnorm *)l;
    *mean = bn->rmean;
    *var = bn->rvar;
    return 0;
}

int nn_batchnorm_set_momentum(nn_layer *l, float momentum)
{
    if (!l || l->ops != &bn_ops || !(momentum >= 0.0f && momentum < 1.0f))
        return -1;
    ((batchnorm *)l)->momentum = momentum;
    return 0;
}

size_t nn_batchnorm_channels(nn_layer *l)
{
    return l && l->ops == &bn_ops ? ((batchnorm *)l)->ch : 0;
}
