/* dense.c - fully connected layer over all (sample, time) rows; see dense.h. */
#include "nn/dense.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

typedef struct dense {
    nn_layer base;
    size_t in, out;
    float *w, *b, *dw, *db;     /* one allocation, w first */
} dense;

static int dense_forward(nn_layer *l, const nn_tensor *x, int training, snitch_err *e)
{
    dense *d = (dense *)l;
    if (x->c != d->in)
        return err_set(e, "nn: dense expects %zu input channels, got %zu", d->in, x->c);
    if (nn_tensor_resize(&l->y, x->n, x->t, d->out, e) < 0)
        return -1;
    size_t rows = x->n * x->t;
    /* Rows of y start as b, then sgemm adds x W on top (beta = 1). */
    for (size_t i = 0; i < rows; i++)
        memcpy(l->y.data + i * d->out, d->b, d->out * sizeof(float));
    if (rows)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)d->out,
                    (int)d->in, 1.0f, x->data, (int)d->in, d->w, (int)d->out, 1.0f,
                    l->y.data, (int)d->out);
    return 0;
}

static int dense_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    dense *d = (dense *)l;
    const nn_tensor *x = l->x;
    size_t rows = x->n * x->t;
    memset(d->db, 0, d->out * sizeof(float));
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < d->out; j++)
            d->db[j] += dy->data[i * d->out + j];
    if (!rows) {
        memset(d->dw, 0, d->in * d->out * sizeof(float));
        return 0;
    }
    /* dW = x^T dy, dx = dy W^T */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d->in, (int)d->out,
                (int)rows, 1.0f, x->data, (int)d->in, dy->data, (int)d->out, 0.0f,
                d->dw, (int)d->out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)d->in,
                (int)d->out, 1.0f, dy->data, (int)d->out, d->w, (int)d->out, 0.0f,
                l->dx.data, (int)d->in);
    return 0;
}

static int dense_params(nn_layer *l, nn_params *ps, snitch_err *e)
{
    dense *d = (dense *)l;
    if (nn_params_add(ps, d->w, d->dw, d->in * d->out, "dense.kernel", e) < 0)
        return -1;
    return nn_params_add(ps, d->b, d->db, d->out, "dense.bias", e);
}

static void dense_destroy(nn_layer *l)
{
    dense *d = (dense *)l;
    free(d->w);
    free(d);
}

static const nn_layer_ops dense_ops = {
    "dense", dense_forward, dense_backward, dense_params, dense_destroy
};

nn_layer *nn_dense_new(size_t in, size_t out, nn_init init, nn_rng *r, snitch_err *e)
{
    if (!in || !out || in > 1u << 20 || out > 1u << 20) {
        err_set(e, "nn: dense size %zu -> %zu out of range", in, out);
        return NULL;
    }
    dense *d = calloc(1, sizeof *d);
    float *buf = calloc(2 * (in * out + out), sizeof(float));
    if (!d || !buf) {
        free(d);
        free(buf);
        err_set(e, "nn: out of memory for a dense layer %zu -> %zu", in, out);
        return NULL;
    }
    d->base.ops = &dense_ops;
    d->in = in;
    d->out = out;
    d->w = buf;
    d->b = d->w + in * out;
    d->dw = d->b + out;
    d->db = d->dw + in * out;
    nn_init_kernel(d->w, in * out, in, out, init, r);
    return &d->base;
}
