/* tensor.c - nn_tensor buffers and the parameter list; see tensor.h. */
#include "nn/tensor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int shape_bytes(size_t n, size_t t, size_t c, size_t *out)
{
    if (t && c && n > SIZE_MAX / t / c)
        return -1;
    size_t k = n * t * c;
    if (k > SIZE_MAX / sizeof(float))
        return -1;
    *out = k;
    return 0;
}

int nn_tensor_resize(nn_tensor *x, size_t n, size_t t, size_t c, snitch_err *e)
{
    size_t k;
    if (shape_bytes(n, t, c, &k) < 0)
        return err_set(e, "nn: tensor shape %zux%zux%zu overflows", n, t, c);
    if (k > x->cap) {
        /* malloc + free rather than realloc: the old contents are never
         * needed, so copying them would be wasted work. */
        float *d = malloc(k * sizeof(float));
        if (!d)
            return err_set(e, "nn: out of memory for a %zux%zux%zu tensor", n, t, c);
        free(x->data);
        x->data = d;
        x->cap = k;
    }
    x->n = n;
    x->t = t;
    x->c = c;
    return 0;
}

int nn_tensor_alloc(nn_tensor *x, size_t n, size_t t, size_t c, snitch_err *e)
{
    memset(x, 0, sizeof *x);
    if (nn_tensor_resize(x, n, t, c, e) < 0)
        return -1;
    nn_tensor_zero(x);
    return 0;
}

void nn_tensor_zero(nn_tensor *x)
{
    if (x->data)
        memset(x->data, 0, nn_tensor_size(x) * sizeof(float));
}

void nn_tensor_free(nn_tensor *x)
{
    free(x->data);
    memset(x, 0, sizeof *x);
}

int nn_params_add(nn_params *ps, float *w, float *g, size_t n, const char *name,
                  snitch_err *e)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 16;
        nn_param *p = realloc(ps->p, cap * sizeof *p);
        if (!p)
            return err_set(e, "nn: out of memory for the parameter list");
        ps->p = p;
        ps->cap = cap;
    }
    ps->p[ps->n++] = (nn_param){ .w = w, .g = g, .n = n, .name = name };
    return 0;
}

void nn_params_zero_grad(nn_params *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        memset(ps->p[i].g, 0, ps->p[i].n * sizeof(float));
}

size_t nn_params_count(const nn_params *ps)
{
    size_t k = 0;
    for (size_t i = 0; i < ps->n; i++)
        k += ps->p[i].n;
    return k;
}

void nn_params_free(nn_params *ps)
{
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}
