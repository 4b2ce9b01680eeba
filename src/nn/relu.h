/* relu.h - elementwise max(0, x).
 *
 * Owns: the ReLU layer (no parameters, any shape).  The derivative at
 * exactly 0 is taken as 0, as in TensorFlow and PyTorch. */
#ifndef SNITCH_NN_RELU_H
#define SNITCH_NN_RELU_H

#include "nn/layer.h"

nn_layer *nn_relu_new(snitch_err *e);

#endif
