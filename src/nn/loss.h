/* loss.h - softmax and sparse categorical cross-entropy.
 *
 * Owns: the classification loss.  Logits are [n][1][classes] (or any
 * [n][t][c] with t = 1); labels are class indices.  The loss is the mean
 * over the batch of -log softmax(logits)[label] (Keras'
 * SparseCategoricalCrossentropy(from_logits=True)); its gradient w.r.t. the
 * logits is (softmax - onehot) / n.  Computed as log-sum-exp with the row
 * maximum subtracted, in double, so large logits neither overflow nor lose
 * the small probabilities. */
#ifndef SNITCH_NN_LOSS_H
#define SNITCH_NN_LOSS_H

#include "nn/tensor.h"
#include "util/err.h"

/* Mean loss into *loss; dlogits (resized to the logits' shape) gets
 * dL/dlogits unless it is NULL. */
int nn_softmax_xent(const nn_tensor *logits, const int *labels, double *loss,
                    nn_tensor *dlogits, snitch_err *e);
/* Class probabilities per row (probs resized to the logits' shape). */
int nn_softmax(const nn_tensor *logits, nn_tensor *probs, snitch_err *e);
/* Index of the largest logit of row i. */
int nn_argmax_row(const nn_tensor *logits, size_t i);

#endif
