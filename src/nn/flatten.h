/* flatten.h - [n][t][c] -> [n][1][t*c], the step from convolutions to a
 * dense layer over the whole sequence (the baseline CNN's head).
 *
 * Owns: the flatten layer.  The tensor layout already keeps one sample's
 * steps and channels contiguous, so flattening is a copy with a new shape
 * (and backward the same copy back); no parameters. */
#ifndef SNITCH_NN_FLATTEN_H
#define SNITCH_NN_FLATTEN_H

#include "nn/layer.h"

nn_layer *nn_flatten_new(snitch_err *e);

#endif
