/* layer.h - the common interface every nn layer implements.
 *
 * Owns: nn_layer (a small vtable plus the buffers every layer has) and the
 * dispatch functions.  A concrete layer is a struct whose first member is
 * an nn_layer, created by its own nn_<kind>_new() and used only through
 * these functions afterwards.
 *
 * Contract:
 *  - forward(x) computes l->y (owned by the layer, valid until the next
 *    forward) and keeps whatever backward needs.  x is borrowed: it must
 *    stay unchanged until backward has run (in a sequential it is the
 *    previous layer's y, so this holds for free).
 *  - backward(dy) takes dL/dy for the last forward's output and computes
 *    l->dx = dL/dx and the parameter gradients.  Parameter gradients are
 *    OVERWRITTEN, not accumulated: one backward = one batch's gradient.
 *  - training selects batch statistics (batchnorm) and masking (dropout);
 *    backward is only meaningful after a training forward.
 *  - params() appends the layer's (weight, gradient) pairs to a list. */
#ifndef SNITCH_NN_LAYER_H
#define SNITCH_NN_LAYER_H

#include "nn/tensor.h"
#include "util/err.h"

typedef struct nn_layer nn_layer;

typedef struct nn_layer_ops {
    const char *kind;
    int (*forward)(nn_layer *l, const nn_tensor *x, int training, snitch_err *e);
    int (*backward)(nn_layer *l, const nn_tensor *dy, snitch_err *e);
    int (*params)(nn_layer *l, nn_params *ps, snitch_err *e);   /* may be NULL */
    void (*destroy)(nn_layer *l);   /* frees the layer's own parts and itself */
} nn_layer_ops;

struct nn_layer {
    const nn_layer_ops *ops;
    const nn_tensor *x;     /* input of the last forward (borrowed) */
    nn_tensor y;            /* output of the last forward */
    nn_tensor dx;           /* input gradient of the last backward */
};

/* Run the layer; returns its output (owned by l) or NULL with e set. */
const nn_tensor *nn_layer_forward(nn_layer *l, const nn_tensor *x, int training,
                                  snitch_err *e);
/* Backpropagate dy; returns dL/dx (owned by l) or NULL with e set. */
const nn_tensor *nn_layer_backward(nn_layer *l, const nn_tensor *dy, snitch_err *e);
int nn_layer_params(nn_layer *l, nn_params *ps, snitch_err *e);
/* Free the layer and everything it owns; NULL is fine. */
void nn_layer_free(nn_layer *l);

#endif
