/* rng.c - splitmix64 and weight initializers; see rng.h. */
#include "nn/rng.h"

#include <math.h>
#include <stdlib.h>

uint64_t nn_rng_u64(nn_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

float nn_rng_uniform(nn_rng *r)
{
    return (float)(nn_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

double nn_rng_normal(nn_rng *r)
{
    /* 53-bit uniforms; u1 in (0,1] so log() is finite. */
    double u1 = ((double)(nn_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(nn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void nn_init_uniform(float *w, size_t n, double limit, nn_rng *r)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * nn_rng_uniform(r) - 1.0) * limit);
}

void nn_init_kernel(float *w, size_t n, size_t fan_in, size_t fan_out,
                    nn_init kind, nn_rng *r)
{
    double limit = kind == NN_INIT_HE ? sqrt(6.0 / (double)fan_in)
                                      : sqrt(6.0 / (double)(fan_in + fan_out));
    nn_init_uniform(w, n, limit, r);
}

int nn_init_orthogonal(float *w, size_t rows, size_t cols, nn_rng *r, snitch_err *e)
{
    /* Modified Gram-Schmidt on k random normal vectors of length m, in
     * double; the result is the same as Keras' QR up to signs. */
    size_t k = rows <= cols ? rows : cols, m = rows <= cols ? cols : rows;
    double *q = malloc(k * m * sizeof *q);
    if (!q)
        return err_set(e, "nn: out of memory for an orthogonal init");
    for (size_t i = 0; i < k * m; i++)
        q[i] = nn_rng_normal(r);
    for (size_t i = 0; i < k; i++) {
        double *v = q + i * m;
        for (size_t j = 0; j < i; j++) {
            const double *u = q + j * m;
            double d = 0;
            for (size_t a = 0; a < m; a++)
                d += u[a] * v[a];
            for (size_t a = 0; a < m; a++)
                v[a] -= d * u[a];
        }
        double nrm = 0;
        for (size_t a = 0; a < m; a++)
            nrm += v[a] * v[a];
        nrm = sqrt(nrm);
        if (nrm < 1e-12) {
            free(q);
            return err_set(e, "nn: degenerate orthogonal init");
        }
        for (size_t a = 0; a < m; a++)
            v[a] /= nrm;
    }
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            w[i * cols + j] = (float)(rows <= cols ? q[i * m + j] : q[j * m + i]);
    free(q);
    return 0;
}
