/* adam.c - Adam with bias correction; see adam.h. */
#include "nn/adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nn_adam_init(nn_adam *a, const nn_params *ps, float lr, snitch_err *e)
{
    memset(a, 0, sizeof *a);
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-7f;
    a->count = nn_params_count(ps);
    a->m = calloc(2 * a->count + 1, sizeof(float));
    if (!a->m)
        return err_set(e, "nn: out of memory for Adam's moments (%zu parameters)", a->count);
    a->v = a->m + a->count;
    return 0;
}

int nn_adam_step(nn_adam *a, const nn_params *ps, snitch_err *e)
{
    if (nn_params_count(ps) != a->count)
        return err_set(e, "nn: Adam was set up for %zu parameters, got %zu",
                       a->count, nn_params_count(ps));
    a->step++;
    /* Bias corrections in double: b^t underflows gracefully to 0. */
    double c1 = 1.0 - pow(a->beta1, (double)a->step);
    double c2 = 1.0 - pow(a->beta2, (double)a->step);
    float b1 = a->beta1, b2 = a->beta2;
    float lr1 = (float)(a->lr / c1), ic2 = (float)(1.0 / c2);
    size_t k = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const nn_param *p = &ps->p[i];
        for (size_t j = 0; j < p->n; j++, k++) {
            float g = p->g[j];
            a->m[k] = b1 * a->m[k] + (1.0f - b1) * g;
            a->v[k] = b2 * a->v[k] + (1.0f - b2) * g * g;
            p->w[j] -= lr1 * a->m[k] / (sqrtf(a->v[k] * ic2) + a->eps);
        }
    }
    return 0;
}

void nn_adam_free(nn_adam *a)
{
    free(a->m);
    memset(a, 0, sizeof *a);
}
