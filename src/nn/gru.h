/* gru.h - gated recurrent unit layer with backpropagation through time.
 *
 * Owns: the GRU layer.  Formulation: Keras' GRU with reset_after=True (its
 * default since TF 2, and the cuDNN one), which is the same function as
 * PyTorch's nn.GRU -- the reset gate multiplies the recurrent projection
 * AFTER the matrix product:
 *     z = sigmoid(x Wz + bxz + h Uz + bhz)          update gate
 *     r = sigmoid(x Wr + bxr + h Ur + bhr)          reset gate
 *     c = tanh   (x Wn + bxn + r * (h Un + bhn))    candidate
 *     h' = z * h + (1 - z) * c
 * (PyTorch writes h' = (1 - z) * n + z * h: identical.)  h starts at 0.
 * Storage follows Keras: W [in][3H] and U [H][3H] with the gate blocks in
 * the order z, r, n along the columns; two biases bx, bh of [3H] (Keras
 * keeps them as one (2, 3H) array).  Init as Keras: W glorot_uniform,
 * U orthogonal, biases zero.
 * Input [n][t][in] -> output [n][1][H] (last hidden state) or, with
 * return_sequences, [n][t][H] (every step, to stack GRUs).  The input
 * projection is one cblas_sgemm over all (sample, step) rows; the
 * recurrent one is one sgemm over the batch per step. */
#ifndef SNITCH_NN_GRU_H
#define SNITCH_NN_GRU_H

#include <stddef.h>

#include "nn/layer.h"
#include "nn/rng.h"

nn_layer *nn_gru_new(size_t in, size_t hidden, int return_sequences, nn_rng *r,
                     snitch_err *e);

#endif
