/* sequential.h - a chain of layers, the container the models are built in.
 *
 * Owns: nn_seq (its layers, which it frees, and its parameter list).
 * Forward runs the layers in order, each on the previous one's output;
 * backward runs them in reverse from dL/d(output).  The three models of
 * the issue are plain chains, e.g. cnn_rnn:
 *     conv1d(4,200,3) bn(200) relu conv1d(200,400,3) bn(400) relu
 *     gru(400,200) dense(200,200) relu dropout(p) dense(200,classes)
 * Building: nn_seq_add(&s, nn_dense_new(..., e), e) -- add takes ownership
 * and accepts the NULL of a failed constructor (returning -1, e kept), so
 * construction can be written as one chain of adds. */
#ifndef SNITCH_NN_SEQUENTIAL_H
#define SNITCH_NN_SEQUENTIAL_H

#include <stddef.h>

#include "nn/layer.h"
#include "nn/tensor.h"
#include "util/err.h"

typedef struct nn_seq {
    nn_layer **layer;
    size_t n, cap;
    nn_params params;   /* every layer's parameters, in layer order */
} nn_seq;

void nn_seq_init(nn_seq *s);
/* Append l (owned from now on, freed on failure too). */
int nn_seq_add(nn_seq *s, nn_layer *l, snitch_err *e);
/* Output of the last layer (owned by it), or NULL with e set. */
const nn_tensor *nn_seq_forward(nn_seq *s, const nn_tensor *x, int training,
                                snitch_err *e);
/* dL/dx of the first layer, or NULL; fills every parameter gradient. */
const nn_tensor *nn_seq_backward(nn_seq *s, const nn_tensor *dy, snitch_err *e);
void nn_seq_free(nn_seq *s);

#endif
