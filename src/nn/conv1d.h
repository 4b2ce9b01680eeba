/* conv1d.h - 1-D convolution over time, 'valid' padding, stride 1.
 *
 * Owns: the conv1d layer.  Input [n][t][cin] -> output [n][t-k+1][filters],
 * y[b][s][f] = bias[f] + sum_{j<k, c<cin} x[b][s+j][c] W[j][c][f]
 * (a cross-correlation, as in Keras and PyTorch).  W is stored
 * [k][cin][filters], Keras' kernel layout, which is exactly the
 * [k*cin][filters] matrix the im2col product needs.  Computed as im2col
 * (each output step's k*cin input window laid out as one row) followed by
 * one cblas_sgemm over all rows of the batch. */
#ifndef SNITCH_NN_CONV1D_H
#define SNITCH_NN_CONV1D_H

#include <stddef.h>

#include "nn/layer.h"
#include "nn/rng.h"

nn_layer *nn_conv1d_new(size_t cin, size_t filters, size_t k, nn_init init,
                        nn_rng *r, snitch_err *e);

#endif
