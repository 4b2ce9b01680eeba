/* gru.c - GRU forward and backprop through time; see gru.h for the maths. */
#include "nn/gru.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct gru {
    nn_layer base;
    size_t in, h;
    int seq;                    /* return_sequences */
    /* one allocation: W, U, bx, bh, then their gradients in the same order */
    float *w, *u, *bx, *bh, *dw, *du, *dbx, *dbh;
    /* caches of the last forward */
    nn_tensor xp;               /* [n*t][3H]  x W + bx, sample-major like x */
    nn_tensor hp;               /* [t][n][3H] h U + bh per step */
    nn_tensor gate;             /* [t][n][3H] z, r, c after their activations */
    nn_tensor hs;               /* [t+1][n][H] hidden states, hs[0] = 0 */
    /* backward scratch */
    nn_tensor dxp, dhp, dh, dh2;
} gru;

static float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

static void fill_rows(float *dst, const float *row, size_t rows, size_t len)
{
    for (size_t i = 0; i < rows; i++)
        memcpy(dst + i * len, row, len * sizeof(float));
}

static int gru_forward(nn_layer *l, const nn_tensor *x, int training, snitch_err *e)
{
    gru *g = (gru *)l;
    size_t n = x->n, T = x->t, H = g->h, H3 = 3 * g->h;
    if (x->c != g->in)
        return err_set(e, "nn: gru expects %zu input channels, got %zu", g->in, x->c);
    if (!T)
        return err_set(e, "nn: gru needs at least one time step");
    if (nn_tensor_resize(&l->y, n, g->seq ? T : 1, H, e) < 0 ||
        nn_tensor_resize(&g->xp, n * T, 1, H3, e) < 0 ||
        nn_tensor_resize(&g->hp, T, n, H3, e) < 0 ||
        nn_tensor_resize(&g->gate, T, n, H3, e) < 0 ||
        nn_tensor_resize(&g->hs, T + 1, n, H, e) < 0)
        return -1;
    if (!n)
        return 0;
    fill_rows(g->xp.data, g->bx, n * T, H3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(n * T), (int)H3,
                (int)g->in, 1.0f, x->data, (int)g->in, g->w, (int)H3, 1.0f,
                g->xp.data, (int)H3);
    memset(g->hs.data, 0, n * H * sizeof(float));
    for (size_t t = 0; t < T; t++) {
        const float *hprev = g->hs.data + t * n * H;
        float *hnext = g->hs.data + (t + 1) * n * H;
        float *hp = g->hp.data + t * n * H3, *gt = g->gate.data + t * n * H3;
        fill_rows(hp, g->bh, n, H3);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)H3, (int)H,
                    1.0f, hprev, (int)H, g->u, (int)H3, 1.0f, hp, (int)H3);
        for (size_t b = 0; b < n; b++) {
            const float *xr = g->xp.data + (b * T + t) * H3, *hr = hp + b * H3;
            float *gr = gt + b * H3;
            for (size_t j = 0; j < H; j++) {
                float z = sigm(xr[j] + hr[j]);
                float r = sigm(xr[H + j] + hr[H + j]);
                float c = tanhf(xr[2 * H + j] + r * hr[2 * H + j]);
                gr[j] = z;
                gr[H + j] = r;
                gr[2 * H + j] = c;
                hnext[b * H + j] = z * hprev[b * H + j] + (1.0f - z) * c;
            }
        }
    }
    for (size_t b = 0; b < n; b++) {
        if (g->seq) {
            for (size_t t = 0; t < T; t++)
                memcpy(l->y.data + (b * T + t) * H, g->hs.data + ((t + 1) * n + b) * H,
                       H * sizeof(float));
        } else {
            memcpy(l->y.data + b * H, g->hs.data + (T * n + b) * H, H * sizeof(float));
        }
    }
    return 0;
}

static int gru_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    gru *g = (gru *)l;
    const nn_tensor *x = l->x;
    size_t n = x->n, T = x->t, H = g->h, H3 = 3 * g->h;
    /* The gradients are one contiguous block; dU and the biases accumulate
     * over steps, so start them all from zero. */
    memset(g->dw, 0, (g->in * H3 + H * H3 + 2 * H3) * sizeof(float));
    if (!n)
        return 0;
    if (nn_tensor_resize(&g->dxp, n * T, 1, H3, e) < 0 ||
        nn_tensor_resize(&g->dhp, n, 1, H3, e) < 0 ||
        nn_tensor_resize(&g->dh, n, 1, H, e) < 0 ||
        nn_tensor_resize(&g->dh2, n, 1, H, e) < 0)
        return -1;
    float *dh = g->dh.data, *dh2 = g->dh2.data, *dhp = g->dhp.data;
    nn_tensor_zero(&g->dh);
    for (size_t t = T; t-- > 0;) {
        /* dL/dh_t: what flows back from step t+1 plus the output's share. */
        if (g->seq) {
            for (size_t b = 0; b < n; b++)
                for (size_t j = 0; j < H; j++)
                    dh[b * H + j] += dy->data[(b * T + t) * H + j];
        } else if (t == T - 1) {
            memcpy(dh, dy->data, n * H * sizeof(float));
        }
        const float *hprev = g->hs.data + t * n * H;
        const float *hp = g->hp.data + t * n * H3, *gt = g->gate.data + t * n * H3;
        for (size_t b = 0; b < n; b++) {
            const float *gr = gt + b * H3, *hr = hp + b * H3;
            float *dxr = g->dxp.data + (b * T + t) * H3, *dhr = dhp + b * H3;
            for (size_t j = 0; j < H; j++) {
                float z = gr[j], r = gr[H + j], c = gr[2 * H + j];
                float d = dh[b * H + j];
                float daz = d * (hprev[b * H + j] - c) * z * (1.0f - z);
                float dan = d * (1.0f - z) * (1.0f - c * c);   /* at c's pre-activation */
                float dar = dan * hr[2 * H + j] * r * (1.0f - r);
                dxr[j] = daz;
                dxr[H + j] = dar;
                dxr[2 * H + j] = dan;
                /* r scales the recurrent candidate projection, so its
                 * gradient reaches U_n and bhn multiplied by r. */
                dhr[j] = daz;
                dhr[H + j] = dar;
                dhr[2 * H + j] = dan * r;
                dh2[b * H + j] = d * z;     /* direct path h' = z*h + ... */
            }
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)H3, (int)n,
                    1.0f, hprev, (int)H, dhp, (int)H3, 1.0f, g->du, (int)H3);
        for (size_t b = 0; b < n; b++)
            for (size_t j = 0; j < H3; j++)
                g->dbh[j] += dhp[b * H3 + j];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)H, (int)H3,
                    1.0f, dhp, (int)H3, g->u, (int)H3, 1.0f, dh2, (int)H);
        float *tmp = dh;
        dh = dh2;
        dh2 = tmp;
    }
    /* Input side, all steps at once: dW = x^T dxp, dx = dxp W^T. */
    for (size_t i = 0; i < n * T; i++)
        for (size_t j = 0; j < H3; j++)
            g->dbx[j] += g->dxp.data[i * H3 + j];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g->in, (int)H3, (int)(n * T),
                1.0f, x->data, (int)g->in, g->dxp.data, (int)H3, 0.0f, g->dw, (int)H3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(n * T), (int)g->in, (int)H3,
                1.0f, g->dxp.data, (int)H3, g->w, (int)H3, 0.0f, l->dx.data, (int)g->in);
    return 0;
}

static int gru_params(nn_layer *l, nn_params *ps, snitch_err *e)
{
    gru *g = (gru *)l;
    size_t H3 = 3 * g->h;
    if (nn_params_add(ps, g->w, g->dw, g->in * H3, "gru.kernel", e) < 0 ||
        nn_params_add(ps, g->u, g->du, g->h * H3, "gru.recurrent_kernel", e) < 0 ||
        nn_params_add(ps, g->bx, g->dbx, H3, "gru.input_bias", e) < 0)
        return -1;
    return nn_params_add(ps, g->bh, g->dbh, H3, "gru.recurrent_bias", e);
}

static void gru_destroy(nn_layer *l)
{
    gru *g = (gru *)l;
    nn_tensor *ts[] = { &g->xp, &g->hp, &g->gate, &g->hs, &g->dxp, &g->dhp, &g->dh, &g->dh2 };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        nn_tensor_free(ts[i]);
    free(g->w);
    free(g);
}

static const nn_layer_ops gru_ops = {
    "gru", gru_forward, gru_backward, gru_params, gru_destroy
};

nn_layer *nn_gru_new(size_t in, size_t hidden, int return_sequences, nn_rng *r,
                     snitch_err *e)
{
    if (!in || !hidden || in > 1u << 16 || hidden > 1u << 14) {
        err_set(e, "nn: gru size %zu -> %zu out of range", in, hidden);
        return NULL;
    }
    size_t H3 = 3 * hidden, np = in * H3 + hidden * H3 + 2 * H3;
    gru *g = calloc(1, sizeof *g);
    float *buf = calloc(2 * np, sizeof(float));
    if (!g || !buf) {
        free(g);
        free(buf);
        err_set(e, "nn: out of memory for a gru layer");
        return NULL;
    }
    g->base.ops = &gru_ops;
    g->in = in;
    g->h = hidden;
    g->seq = return_sequences;
    g->w = buf;
    g->u = g->w + in * H3;
    g->bx = g->u + hidden * H3;
    g->bh = g->bx + H3;
    g->dw = g->bh + H3;     /* gradients: one contiguous block of np floats */
    g->du = g->dw + in * H3;
    g->dbx = g->du + hidden * H3;
    g->dbh = g->dbx + H3;
    nn_init_kernel(g->w, in * H3, in, H3, NN_INIT_GLOROT, r);
    if (nn_init_orthogonal(g->u, hidden, H3, r, e) < 0) {
        free(buf);
        free(g);
        return NULL;
    }
    return &g->base;
}
