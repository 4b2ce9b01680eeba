/* tensor.h - the one tensor type of the nn layers, and the parameter list.
 *
 * Owns: nn_tensor (a float array shaped [n][t][c] = batch, time, channels,
 * row-major, so one sample's sequence is contiguous and one time step's
 * channels are contiguous) and nn_params (the list of weight/gradient pairs
 * an optimizer walks).  A [batch][features] matrix is a tensor with t = 1.
 * Tensors keep a capacity so layers can reuse their buffers across batches
 * of different sizes without reallocating every step. */
#ifndef SNITCH_NN_TENSOR_H
#define SNITCH_NN_TENSOR_H

#include <stddef.h>

#include "util/err.h"

typedef struct nn_tensor {
    float *data;
    size_t n, t, c;     /* batch, time, channels */
    size_t cap;         /* floats allocated in data */
} nn_tensor;

/* Element count n*t*c. */
static inline size_t nn_tensor_size(const nn_tensor *x) { return x->n * x->t * x->c; }

/* Allocate a zeroed tensor (an empty tensor {0} is valid to free). */
int nn_tensor_alloc(nn_tensor *x, size_t n, size_t t, size_t c, snitch_err *e);
/* Set the shape, growing the buffer if needed; contents are unspecified. */
int nn_tensor_resize(nn_tensor *x, size_t n, size_t t, size_t c, snitch_err *e);
void nn_tensor_zero(nn_tensor *x);
void nn_tensor_free(nn_tensor *x);

/* One trainable array: its values and the gradient of the loss w.r.t. them
 * (same length).  Both arrays belong to the layer; the list only points. */
typedef struct nn_param {
    float *w, *g;
    size_t n;
    const char *name;   /* static string, for diagnostics */
} nn_param;

typedef struct nn_params {
    nn_param *p;
    size_t n, cap;
} nn_params;

int nn_params_add(nn_params *ps, float *w, float *g, size_t n, const char *name,
                  snitch_err *e);
void nn_params_zero_grad(nn_params *ps);
/* Total number of scalars over all parameters. */
size_t nn_params_count(const nn_params *ps);
void nn_params_free(nn_params *ps);

#endif
