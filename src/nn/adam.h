/* adam.h - the Adam optimizer over a parameter list.
 *
 * Owns: nn_adam (its first/second moment estimates and step count).
 * Kingma & Ba's update with bias correction:
 *     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *     w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * Defaults b1 0.9, b2 0.999, eps 1e-7 (Keras' value; note Keras adds eps to
 * the uncorrected sqrt(v), so the two differ slightly in the first steps
 * for tiny gradients -- irrelevant in practice).  The moments are laid out
 * in the order of the nn_params list, which must not change between
 * nn_adam_init and the steps. */
#ifndef SNITCH_NN_ADAM_H
#define SNITCH_NN_ADAM_H

#include "nn/tensor.h"
#include "util/err.h"

typedef struct nn_adam {
    float lr, beta1, beta2, eps;
    long step;
    size_t count;       /* scalars over all parameters at init */
    float *m, *v;       /* one allocation, m first */
} nn_adam;

int nn_adam_init(nn_adam *a, const nn_params *ps, float lr, snitch_err *e);
/* One update from the gradients currently in ps. */
int nn_adam_step(nn_adam *a, const nn_params *ps, snitch_err *e);
void nn_adam_free(nn_adam *a);

#endif
