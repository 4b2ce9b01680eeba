/* loss.c - stable softmax cross-entropy; see loss.h. */
#include "nn/loss.h"

#include <math.h>

/* log sum_j exp(row[j]) and the row maximum, shifted for stability. */
static double row_lse(const float *row, size_t c, double *max)
{
    double m = row[0];
    for (size_t j = 1; j < c; j++)
        if (row[j] > m)
            m = row[j];
    double s = 0;
    for (size_t j = 0; j < c; j++)
        s += exp((double)row[j] - m);
    *max = m;
    return m + log(s);
}

int nn_softmax_xent(const nn_tensor *logits, const int *labels, double *loss,
                    nn_tensor *dlogits, snitch_err *e)
{
    size_t n = logits->n * logits->t, c = logits->c;
    if (logits->t != 1 || !n || !c)
        return err_set(e, "nn: loss needs [n][1][classes] logits, got %zux%zux%zu",
                       logits->n, logits->t, logits->c);
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= c)
            return err_set(e, "nn: label %d of sample %zu not in [0, %zu)", labels[i], i, c);
    if (dlogits && nn_tensor_resize(dlogits, logits->n, 1, c, e) < 0)
        return -1;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const float *row = logits->data + i * c;
        double m, lse = row_lse(row, c, &m);
        total += lse - row[labels[i]];
        if (dlogits)
            for (size_t j = 0; j < c; j++)
                dlogits->data[i * c + j] = (float)((exp((double)row[j] - lse) -
                                                    ((size_t)labels[i] == j)) / (double)n);
    }
    *loss = total / (double)n;
    return 0;
}

int nn_softmax(const nn_tensor *logits, nn_tensor *probs, snitch_err *e)
{
    size_t n = logits->n * logits->t, c = logits->c;
    if (!c)
        return err_set(e, "nn: softmax over zero classes");
    if (nn_tensor_resize(probs, logits->n, logits->t, c, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        double m, lse = row_lse(logits->data + i * c, c, &m);
        for (size_t j = 0; j < c; j++)
            probs->data[i * c + j] = (float)exp((double)logits->data[i * c + j] - lse);
    }
    return 0;
}

int nn_argmax_row(const nn_tensor *logits, size_t i)
{
    const float *row = logits->data + i * logits->c;
    size_t best = 0;
    for (size_t j = 1; j < logits->c; j++)
        if (row[j] > row[best])
            best = j;
    return (int)best;
}
