/* layer.c - dispatch through nn_layer_ops and the shared checks; see layer.h. */
#include "nn/layer.h"

#include <stdlib.h>

const nn_tensor *nn_layer_forward(nn_layer *l, const nn_tensor *x, int training,
                                  snitch_err *e)
{
    l->x = x;
    if (l->ops->forward(l, x, training, e) < 0)
        return NULL;
    return &l->y;
}

const nn_tensor *nn_layer_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e)
{
    /* The gradient must match the output the layer produced; checking it
     * here saves every layer from doing so. */
    if (!l->x || dy->n != l->y.n || dy->t != l->y.t || dy->c != l->y.c) {
        err_set(e, "nn: %s backward: gradient shape %zux%zux%zu does not match "
                "output %zux%zux%zu", l->ops->kind, dy->n, dy->t, dy->c,
                l->y.n, l->y.t, l->y.c);
        return NULL;
    }
    if (nn_tensor_resize(&l->dx, l->x->n, l->x->t, l->x->c, e) < 0)
        return NULL;
    if (l->ops->backward(l, dy, e) < 0)
        return NULL;
    return &l->dx;
}

int nn_layer_params(nn_layer *l, nn_params *ps, snitch_err *e)
{
    return l->ops->params ? l->ops->params(l, ps, e) : 0;
}

void nn_layer_free(nn_layer *l)
{
    if (!l)
        return;
    nn_tensor_free(&l->y);
    nn_tensor_free(&l->dx);
    l->ops->destroy(l);
}
