/* dropout.c - inverted dropout with a seeded mask; see dropout.h. */
#include "nn/dropout.h"

#include <stdlib.h>
#include <string.h>

#include "nn/rng.h"

typedef struct dropout {
    nn_layer base;
    float rate;
    nn_rng rng;
    float *mask;        /* 0 or 1/(1-rate) per element of the last training forward */
    size_t mask_cap;
    int masked;         /* last forward was a training one */
} dropout;

static int dropout_forward(nn_layer *l, const nn_tensor *x, int training, snitch_err *e)
{
    dropout *d = (dropout *)l;
    if (nn_tensor_resize(&l->y, x->n, x->t, x->c, e) < 0)
        return -1;
    size_t k = nn_tensor_size(x);
    d->masked = training && d->rate > 0.0f;
    if (!d->masked) {
        memcpy(l->y.data, x->data, k * sizeof(float));
        return 0;
    }
    if (k > d->mask_cap) {
        float *m = malloc(k * sizeof(float));
        if (!m)
            return err_set(e, "nn: out of memory for a dropout mask");
        free(d->mask);
        d->mask = m;
        d->mask_cap = k;
    }
    float scale = 1.0f / (1.0f - d->rate);
    for (size_t i = 0; i < k; i++) {
        d->mask[i] = nn_rng_uniform(&d->rng) >= d->rate ? scale : 0.0f;
        l->y.data[i] = x->data[i] * d->mask[i];
    }
    return 0;
}

static int dropout_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    dropout *d = (dropout *)l;
    size_t k = nn_tensor_size(dy);
    for (size_t i = 0; i < k; i++)
        l->dx.data[i] = d->masked ? dy->data[i] * d->mask[i] : dy->data[i];
    return 0;
}

static void dropout_destroy(nn_layer *l)
{
    dropout *d = (dropout *)l;
    free(d->mask);
    free(d);
}

static const nn_layer_ops dropout_ops = {
    "dropout", dropout_forward, dropout_backward, NULL, dropout_destroy
};

nn_layer *nn_dropout_new(float rate, uint64_t seed, snitch_err *e)
{
    if (!(rate >= 0.0f && rate < 1.0f)) {
        err_set(e, "nn: dropout rate %g not in [0, 1)", (double)rate);
        return NULL;
    }
    dropout *d = calloc(1, sizeof *d);
    if (!d) {
        err_set(e, "nn: out of memory for a dropout layer");
        return NULL;
    }
    d->base.ops = &dropout_ops;
    d->rate = rate;
    nn_rng_seed(&d->rng, seed);
    return &d->base;
}

void nn_dropout_reseed(nn_layer *l, uint64_t seed)
{
    if (l && l->ops == &dropout_ops)    /* ignore other layer kinds */
        nn_rng_seed(&((dropout *)l)->rng, seed);
}
