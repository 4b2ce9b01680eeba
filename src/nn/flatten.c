/* flatten.c - the flatten layer; see flatten.h. */
#include "nn/flatten.h"

#include <stdlib.h>
#include <string.h>

static int flatten_forward(nn_layer *l, const nn_tensor *x, int training, snitch_err *e)
{
    if (nn_tensor_resize(&l->y, x->n, 1, x->t * x->c, e) < 0)
        return -1;
    memcpy(l->y.data, x->data, nn_tensor_size(x) * sizeof(float));
    return 0;
}

static int flatten_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    /* layer.c already shaped dx like the input; the bytes are the same. */
    memcpy(l->dx.data, dy->data, nn_tensor_size(dy) * sizeof(float));
    return 0;
}

static void flatten_destroy(nn_layer *l) { free(l); }

static const nn_layer_ops flatten_ops = {
    "flatten", flatten_forward, flatten_backward, NULL, flatten_destroy
};

nn_layer *nn_flatten_new(snitch_err *e)
{
    nn_layer *l = calloc(1, sizeof *l);
    if (!l) {
        err_set(e, "nn: out of memory for a flatten layer");
        return NULL;
    }
    l->ops = &flatten_ops;
    return l;
}
