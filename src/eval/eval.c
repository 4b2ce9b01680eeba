/* eval.c - stratified folds, stratified holdout and classification
 * metrics; see eval.h.
 *
 * Randomness comes from splitmix64 with a private state per call (and per
 * class), so results depend only on the arguments: the same seed gives the
 * same folds on every machine, for every model and every thread.  Metrics
 * follow scikit-learn 1.2 (accuracy_score, precision_recall_fscore_support
 * with average='macro', zero_division=0), including its operation order, so
 * the figures agree to the last bit or nearly. */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: tiny, fast, and every seed (0 included) gives a good stream;
 * statistical quality is ample for shuffling rows. */
static uint64_t sm64_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, bound), bound >= 1.  Rejection instead of a bare modulo,
 * which would favour small values when bound does not divide 2^64. */
static uint64_t sm64_below(uint64_t *s, uint64_t bound)
{
    uint64_t lim = -bound % bound;      /* 2^64 mod bound */
    for (;;) {
        uint64_t x = sm64_next(s);
        if (x >= lim)
            return x % bound;
    }
}

/* A separate stream per class (mixed from seed and class index): a class's
 * draws then do not depend on how many rows the other classes have, and
 * the holdout can visit the classes in any order with the same result. */
static uint64_t class_stream(uint64_t seed, int c)
{
    uint64_t s = seed ^ ((uint64_t)(uint32_t)c * 0xd1342543de82ef95ull);
    return sm64_next(&s);
}

static int check_labels(const int32_t *y, size_t n, int nclasses, const char *what,
                        snitch_err *e)
{
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= nclasses)
            return err_set(e, "%s label %ld of row %zu is outside 0..%d", what, (long)y[i], i,
                           nclasses - 1);
    }
    return 0;
}

int eval_stratified_folds(const int32_t *y, size_t n, int nclasses, int k, uint64_t seed,
                          int *fold, snitch_err *e)
{
    if (k < 2)
        return err_set(e, "--folds %d: need at least 2 folds", k);
    if ((size_t)k > n)
        return err_set(e, "--folds %d needs at least %d rows, the table has %zu", k, k, n);
    if (nclasses < 1)
        return err_set(e, "stratified folds: no classes");
    if (check_labels(y, n, nclasses, "class", e) < 0)
        return -1;

    /* Counting sort of row indices by class: start[c] .. start[c+1] holds
     * class c's rows in index order, which the shuffle then permutes. */
    size_t *start = calloc((size_t)nclasses + 1, sizeof *start);
    size_t *rows = malloc(n * sizeof *rows);
    if (!start || !rows) {
        free(start);
        free(rows);
        return err_set(e, "stratified folds: out of memory for %zu rows", n);
    }
    for (size_t i = 0; i < n; i++)
        start[y[i] + 1]++;
    for (int c = 0; c < nclasses; c++)
        start[c + 1] += start[c];
    /* start[c] doubles as the fill cursor, then is restored below */
    for (size_t i = 0; i < n; i++)
        rows[start[y[i]]++] = i;
    for (int c = nclasses; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;

    /* Dealing continues across classes: with one counter for all rows the
     * fold sizes differ by at most one, and each class, being a run of
     * consecutive deals, lands floor or ceil(count / k) rows in each fold. */
    size_t deal = 0;
    for (int c = 0; c < nclasses; c++) {
        size_t *r = rows + start[c];
        size_t cnt = start[c + 1] - start[c];
        uint64_t s = class_stream(seed, c);
        for (size_t i = cnt; i > 1; i--) {       /* Fisher-Yates */
            size_t j = (size_t)sm64_below(&s, i);
            size_t t = r[i - 1];
            r[i - 1] = r[j];
            r[j] = t;
        }
        for (size_t i = 0; i < cnt; i++)
            fold[r[i]] = (int)(deal++ % (size_t)k);
    }
    free(start);
    free(rows);
    return 0;
}

/* Rows of one class to hold out: round(share * count), at least one when
 * the class has two or more rows (so every class is validated), never the
 * whole class (so every class is trained on). */
static size_t holdout_count(size_t count, double share)
{
    if (!(share > 0) || count < 2)
        return 0;
    double h = round(share * (double)count);
    if (h < 1)
        return 1;
    if (h > (double)(count - 1))
        return count - 1;
    return (size_t)h;
}

/* Selection sampling (Knuth's Algorithm S) rather than a shuffle of an
 * index array: each row is picked with probability need / left, which
 * chooses a uniformly random subset of the wanted size, in one pass and
 * without an allocation proportional to n - this function cannot report
 * failure, so the per-class state lives in small arrays, and when even
 * those cannot be had, a pass per class with the same streams gives the
 * same mask. */
void eval_stratified_holdout(const int32_t *y, size_t n, int nclasses, double share,
                             uint64_t seed, uint8_t *mask)
{
    for (size_t i = 0; i < n; i++)
        mask[i] = 1;
    if (nclasses < 1)
        return;

    size_t nc = (size_t)nclasses;
    size_t *left = calloc(nc, sizeof *left);
    size_t *need = calloc(nc, sizeof *need);
    uint64_t *state = calloc(nc, sizeof *state);
    if (left && need && state) {
        for (size_t i = 0; i < n; i++) {
            if (y[i] >= 0 && y[i] < nclasses)
                left[y[i]]++;
        }
        for (int c = 0; c < nclasses; c++) {
            need[c] = holdout_count(left[c], share);
            state[c] = class_stream(seed, c);
        }
        for (size_t i = 0; i < n; i++) {
            int32_t c = y[i];
            if (c < 0 || c >= nclasses || need[c] == 0)
                continue;
            if (sm64_below(&state[c], left[c]) < need[c]) {
                mask[i] = 0;
                need[c]--;
            }
            left[c]--;
        }
    } else {
        for (int c = 0; c < nclasses; c++) {
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++)
                cnt += y[i] == c;
            size_t want = holdout_count(cnt, share);
            uint64_t s = class_stream(seed, c);
            for (size_t i = 0; i < n && want > 0; i++) {
                if (y[i] != c)
                    continue;
                if (sm64_below(&s, cnt) < want) {
                    mask[i] = 0;
                    want--;
                }
                cnt--;
            }
        }
    }
    free(left);
    free(need);
    free(state);
}

int eval_compute(const int32_t *y_true, const int32_t *y_pred, size_t n, int nclasses,
                 eval_report *r, snitch_err *e)
{
    memset(r, 0, sizeof *r);
    if (n == 0)
        return err_set(e, "evaluation: no rows");
    if (nclasses < 1)
        return err_set(e, "evaluation: no classes");
    if (check_labels(y_true, n, nclasses, "true", e) < 0 ||
        check_labels(y_pred, n, nclasses, "predicted", e) < 0)
        return -1;
    size_t nc = (size_t)nclasses;
    if (nc > SIZE_MAX / sizeof(uint64_t) / nc)
        return err_set(e, "evaluation: %d classes is too many", nclasses);

    r->nclasses = nclasses;
    r->n = n;
    r->precision = calloc(nc, sizeof *r->precision);
    r->recall = calloc(nc, sizeof *r->recall);
    r->f1 = calloc(nc, sizeof *r->f1);
    r->support = calloc(nc, sizeof *r->support);
    r->predicted = calloc(nc, sizeof *r->predicted);
    r->confusion = calloc(nc * nc, sizeof *r->confusion);
    if (!r->precision || !r->recall || !r->f1 || !r->support || !r->predicted ||
        !r->confusion) {
        eval_report_free(r);
        return err_set(e, "evaluation: out of memory for %d classes", nclasses);
    }

    uint64_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        r->confusion[(size_t)y_true[i] * nc + (size_t)y_pred[i]]++;
        r->support[y_true[i]]++;
        r->predicted[y_pred[i]]++;
        correct += y_true[i] == y_pred[i];
    }
    r->accuracy = (double)correct / (double)n;

    /* scikit-learn's label set is unique_labels(y_true, y_pred): a class
     * neither present nor predicted does not dilute the macro averages. */
    double sp = 0, sr = 0, sf = 0;
    int nl = 0;
    for (size_t c = 0; c < nc; c++) {
        if (r->support[c] == 0 && r->predicted[c] == 0)
            continue;
        double tp = (double)r->confusion[c * nc + c];
        double p = r->predicted[c] ? tp / (double)r->predicted[c] : 0.0;
        double rc = r->support[c] ? tp / (double)r->support[c] : 0.0;
        /* same operation order as sklearn: (1 + beta^2) * P * R / denom */
        double f = p + rc > 0 ? 2.0 * p * rc / (p + rc) : 0.0;
        r->precision[c] = p;
        r->recall[c] = rc;
        r->f1[c] = f;
        sp += p;
        sr += rc;
        sf += f;
        nl++;
    }
    r->nlabels = nl;            /* >= 1, since n > 0 */
    r->macro_precision = sp / nl;
    r->macro_recall = sr / nl;
    r->macro_f1 = sf / nl;
    return 0;
}

void eval_report_free(eval_report *r)
{
    if (!r)
        return;
    free(r->precision);
    free(r->recall);
    free(r->f1);
    free(r->support);
    free(r->predicted);
    free(r->confusion);
    memset(r, 0, sizeof *r);
}

/* NaN counts as the maximum, as in numpy (a NaN probability should not be
 * silently outvoted); k < 1 gives -1, the "no label" value. */
int32_t eval_argmax(const double *p, int k)
{
    if (k < 1)
        return -1;
    int32_t best = 0;
    for (int i = 0; i < k; i++) {
        if (isnan(p[i]))
            return i;
        if (p[i] > p[best])
            best = i;
    }
    return best;
}

void eval_top3(const double *p, int k, int best[3])
{
    best[0] = best[1] = best[2] = -1;
    for (int c = 0; c < k; c++) {
        if (best[0] < 0 || p[c] > p[best[0]]) {
            best[2] = best[1];
            best[1] = best[0];
            best[0] = c;
        } else if (best[1] < 0 || p[c] > p[best[1]]) {
            best[2] = best[1];
            best[1] = c;
        } else if (best[2] < 0 || p[c] > p[best[2]]) {
            best[2] = c;
        }
    }
}
