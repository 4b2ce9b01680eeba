/* rng.h - the nn layers' deterministic random numbers and weight inits.
 *
 * Owns: nn_rng (splitmix64: one 64-bit word of state, fast, good enough for
 * initialization and dropout masks, identical on every platform so a seed
 * gives the same network everywhere) and the initializers built on it.
 * No global state: every user carries its own nn_rng. */
#ifndef SNITCH_NN_RNG_H
#define SNITCH_NN_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct nn_rng { uint64_t s; } nn_rng;

/* How a layer's kernel is drawn.  GLOROT = Keras' glorot_uniform (its
 * default, limit sqrt(6/(fan_in+fan_out))); HE = he_uniform (limit
 * sqrt(6/fan_in)), the usual choice in front of a ReLU. */
typedef enum nn_init { NN_INIT_GLOROT = 0, NN_INIT_HE = 1 } nn_init;

static inline void nn_rng_seed(nn_rng *r, uint64_t seed) { r->s = seed; }
uint64_t nn_rng_u64(nn_rng *r);
/* Uniform in [0, 1), 24 random bits (exactly representable as float). */
float nn_rng_uniform(nn_rng *r);
/* Standard normal (Box-Muller, one value per call so the state stays one word). */
double nn_rng_normal(nn_rng *r);

/* Fill w[0..n) uniformly in [-limit, limit]. */
void nn_init_uniform(float *w, size_t n, double limit, nn_rng *r);
/* Kernel init by kind for a weight with the given fans. */
void nn_init_kernel(float *w, size_t n, size_t fan_in, size_t fan_out,
                    nn_init kind, nn_rng *r);
/* Keras' orthogonal initializer for a rows x cols row-major matrix: the
 * rows (if rows <= cols) or the columns are orthonormal.  Used for the
 * GRU's recurrent kernel. */
int nn_init_orthogonal(float *w, size_t rows, size_t cols, nn_rng *r, snitch_err *e);

#endif
