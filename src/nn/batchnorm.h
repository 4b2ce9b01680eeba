/* batchnorm.h - batch normalization per channel.
 *
 * Owns: the batchnorm layer.  Statistics are taken per channel over all
 * n*t (sample, time) positions, as Keras' BatchNormalization on a
 * [batch][time][channels] input (axis = -1).  y = gamma * xhat + beta with
 * xhat = (x - mean) / sqrt(var + eps), eps = 1e-3 (Keras' default).
 *  - training: mean/var are the batch's (biased variance, used for the
 *    normalization), and the running statistics move towards them:
 *    running = momentum * running + (1 - momentum) * batch, momentum 0.99
 *    (Keras' default; nn_batchnorm_set_momentum changes it, e.g. to 0.9,
 *    PyTorch's default, which settles within a few dozen steps on small
 *    data sets); the running variance gets the unbiased batch
 *    variance (m/(m-1) factor, as PyTorch and TensorFlow's fused kernel).
 *  - inference: the running statistics (start at mean 0, var 1).
 * Backward handles both modes (in inference mode mean/var are constants). */
#ifndef SNITCH_NN_BATCHNORM_H
#define SNITCH_NN_BATCHNORM_H

#include <stddef.h>

#include "nn/layer.h"

#define NN_BN_EPS 1e-3f
#define NN_BN_MOMENTUM 0.99f

nn_layer *nn_batchnorm_new(size_t channels, snitch_err *e);
/* The running statistics, [channels] each (for saving/loading a model).
 * Returns -1 if l is not a batchnorm layer. */
int nn_batchnorm_stats(nn_layer *l, float **mean, float **var);
/* Momentum in [0, 1) of the running statistics; -1 if not a batchnorm or
 * out of range. */
int nn_batchnorm_set_momentum(nn_layer *l, float momentum);
/* Channels of a batchnorm layer; 0 for any other layer. */
size_t nn_batchnorm_channels(nn_layer *l);

#endif
