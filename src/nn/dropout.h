/* dropout.h - inverted dropout.
 *
 * Owns: the dropout layer.  In training each element is kept with
 * probability 1 - rate and scaled by 1/(1 - rate), so the expected output
 * equals the input and inference needs no rescaling: at inference the
 * layer is the identity.  The mask comes from the layer's own nn_rng, which
 * advances with every training forward, so a seed fixes the whole sequence
 * of masks. */
#ifndef SNITCH_NN_DROPOUT_H
#define SNITCH_NN_DROPOUT_H

#include <stdint.h>

#include "nn/layer.h"

/* rate in [0, 1). */
nn_layer *nn_dropout_new(float rate, uint64_t seed, snitch_err *e);
/* Restart the mask sequence (tests use it to repeat one mask). */
void nn_dropout_reseed(nn_layer *l, uint64_t seed);

#endif
