/* relu.c - the ReLU layer; see relu.h. */
#include "nn/relu.h"

#include <stdlib.h>

static int relu_forward(nn_layer *l, const nn_tensor *x, int training, snitch_err *e)
{
    if (nn_tensor_resize(&l->y, x->n, x->t, x->c, e) < 0)
        return -1;
    size_t k = nn_tensor_size(x);
    for (size_t i = 0; i < k; i++)
        l->y.data[i] = x->data[i] > 0.0f ? x->data[i] : 0.0f;
    return 0;
}

static int relu_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    /* y > 0 exactly where x > 0, so the output doubles as the mask. */
    size_t k = nn_tensor_size(dy);
    for (size_t i = 0; i < k; i++)
        l->dx.data[i] = l->y.data[i] > 0.0f ? dy->data[i] : 0.0f;
    return 0;
}

static void relu_destroy(nn_layer *l) { free(l); }

static const nn_layer_ops relu_ops = {
    "relu", relu_forward, relu_backward, NULL, relu_destroy
};

nn_layer *nn_relu_new(snitch_err *e)
{
    nn_layer *l = calloc(1, sizeof *l);
    if (!l) {
        err_set(e, "nn: out of memory for a relu layer");
        return NULL;
    }
    l->ops = &relu_ops;
    return l;
}
