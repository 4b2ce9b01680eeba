/* conv1d.c - valid 1-D convolution as im2col + sgemm; see conv1d.h. */
#include "nn/conv1d.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

typedef struct conv1d {
    nn_layer base;
    size_t cin, f, k;
    float *w, *b, *dw, *db;     /* one allocation, w first */
    nn_tensor col;              /* im2col of the last input: [n*tout][k*cin] */
    nn_tensor dcol;             /* its gradient */
} conv1d;

static int conv1d_forward(nn_layer *l, const nn_tensor *x, int training, snitch_err *e)
{
    conv1d *c = (conv1d *)l;
    if (x->c != c->cin)
        return err_set(e, "nn: conv1d expects %zu input channels, got %zu", c->cin, x->c);
    if (x->t < c->k)
        return err_set(e, "nn: conv1d kernel %zu longer than the sequence (%zu)", c->k, x->t);
    size_t tout = x->t - c->k + 1, kc = c->k * c->cin, rows = x->n * tout;
    if (nn_tensor_resize(&l->y, x->n, tout, c->f, e) < 0 ||
        nn_tensor_resize(&c->col, rows, 1, kc, e) < 0)
        return -1;
    /* With stride 1 and [t][c] rows, the window of output step s is the
     * contiguous run x[b][s..s+k-1][*], so im2col is one memcpy per row. */
    for (size_t b = 0; b < x->n; b++)
        for (size_t s = 0; s < tout; s++)
            memcpy(c->col.data + (b * tout + s) * kc,
                   x->data + (b * x->t + s) * c->cin, kc * sizeof(float));
    for (size_t i = 0; i < rows; i++)
        memcpy(l->y.data + i * c->f, c->b, c->f * sizeof(float));
    if (rows)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)c->f,
                    (int)kc, 1.0f, c->col.data, (int)kc, c->w, (int)c->f, 1.0f,
                    l->y.data, (int)c->f);
    return 0;
}

static int conv1d_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    conv1d *c = (conv1d *)l;
    const nn_tensor *x = l->x;
    size_t tout = dy->t, kc = c->k * c->cin, rows = x->n * tout;
    memset(c->db, 0, c->f * sizeof(float));
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < c->f; j++)
            c->db[j] += dy->data[i * c->f + j];
    nn_tensor_zero(&l->dx);
    if (!rows) {
        memset(c->dw, 0, kc * c->f * sizeof(float));
        return 0;
    }
    if (nn_tensor_resize(&c->dcol, rows, 1, kc, e) < 0)
        return -1;
    /* dW = col^T dy; dcol = dy W^T; then col2im: overlapping windows add up. */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kc, (int)c->f, (int)rows,
                1.0f, c->col.data, (int)kc, dy->data, (int)c->f, 0.0f, c->dw, (int)c->f);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)kc, (int)c->f,
                1.0f, dy->data, (int)c->f, c->w, (int)c->f, 0.0f, c->dcol.data, (int)kc);
    for (size_t b = 0; b < x->n; b++)
        for (size_t s = 0; s < tout; s++) {
            float *dst = l->dx.data + (b * x->t + s) * c->cin;
            const float *src = c->dcol.data + (b * tout + s) * kc;
            for (size_t i = 0; i < kc; i++)
                dst[i] += src[i];
        }
    return 0;
}

static int conv1d_params(nn_layer *l, nn_params *ps, snitch_err *e)
{
    conv1d *c = (conv1d *)l;
    if (nn_params_add(ps, c->w, c->dw, c->k * c->cin * c->f, "conv1d.kernel", e) < 0)
        return -1;
    return nn_params_add(ps, c->b, c->db, c->f, "conv1d.bias", e);
}

static void conv1d_destroy(nn_layer *l)
{
    conv1d *c = (conv1d *)l;
    nn_tensor_free(&c->col);
    nn_tensor_free(&c->dcol);
    free(c->w);
    free(c);
}

static const nn_layer_ops conv1d_ops = {
    "conv1d", conv1d_forward, conv1d_backward, conv1d_params, conv1d_destroy
};

nn_layer *nn_conv1d_new(size_t cin, size_t filters, size_t k, nn_init init,
                        nn_rng *r, snitch_err *e)
{
    if (!cin || !filters || !k || cin > 1u << 16 || filters > 1u << 16 || k > 1u << 10) {
        err_set(e, "nn: conv1d shape cin %zu filters %zu kernel %zu out of range",
                cin, filters, k);
        return NULL;
    }
    size_t nw = k * cin * filters;
    conv1d *c = calloc(1, sizeof *c);
    float *buf = calloc(2 * (nw + filters), sizeof(float));
    if (!c || !buf) {
        free(c);
        free(buf);
        err_set(e, "nn: out of memory for a conv1d layer");
        return NULL;
    }
    c->base.ops = &conv1d_ops;
    c->cin = cin;
    c->f = filters;
    c->k = k;
    c->w = buf;
    c->b = c->w + nw;
    c->dw = c->b + filters;
    c->db = c->dw + nw;
    /* Keras' fans for a conv kernel: receptive field times channels. */
    nn_init_kernel(c->w, nw, k * cin, k * filters, init, r);
    return &c->base;
}
