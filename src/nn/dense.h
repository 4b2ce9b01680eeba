/* dense.h - fully connected layer, y = x W + b.
 *
 * Owns: the dense layer.  Input [n][t][in] -> output [n][t][out]: the same
 * W is applied at every time step (Keras' Dense on a 3-D input), and a
 * [batch][features] input is simply t = 1.  W is stored [in][out] (Keras'
 * kernel layout), b is [out] and starts at zero. */
#ifndef SNITCH_NN_DENSE_H
#define SNITCH_NN_DENSE_H

#include <stddef.h>

#include "nn/layer.h"
#include "nn/rng.h"

nn_layer *nn_dense_new(size_t in, size_t out, nn_init init, nn_rng *r, snitch_err *e);

#endif
