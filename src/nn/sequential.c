/* sequential.c - chain forward/backward over layers; see sequential.h. */
#include "nn/sequential.h"

#include <stdlib.h>
#include <string.h>

void nn_seq_init(nn_seq *s)
{
    memset(s, 0, sizeof *s);
}

int nn_seq_add(nn_seq *s, nn_layer *l, snitch_err *e)
{
    if (!l)
        return -1;      /* the constructor already said why */
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        nn_layer **p = realloc(s->layer, cap * sizeof *p);
        if (!p) {
            nn_layer_free(l);
            return err_set(e, "nn: out of memory for the layer list");
        }
        s->layer = p;
        s->cap = cap;
    }
    s->layer[s->n++] = l;
    /* Parameters are registered as layers arrive, so the list's order is
     * the layer order and an optimizer set up afterwards stays aligned. */
    return nn_layer_params(l, &s->params, e);
}

const nn_tensor *nn_seq_forward(nn_seq *s, const nn_tensor *x, int training,
                                snitch_err *e)
{
    for (size_t i = 0; i < s->n && x; i++)
        x = nn_layer_forward(s->layer[i], x, training, e);
    return x;
}

const nn_tensor *nn_seq_backward(nn_seq *s, const nn_tensor *dy, snitch_err *e)
{
    for (size_t i = s->n; i-- > 0 && dy;)
        dy = nn_layer_backward(s->layer[i], dy, e);
    return dy;
}

void nn_seq_free(nn_seq *s)
{
    for (size_t i = 0; i < s->n; i++)
        nn_layer_free(s->layer[i]);
    free(s->layer);
    nn_params_free(&s->params);
    memset(s, 0, sizeof *s);
}
