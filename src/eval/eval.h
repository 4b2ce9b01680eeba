/* eval.h - cross-validation folds and classification metrics.
 *
 * Owns: the stratified fold assignment and eval_report (accuracy, macro
 * precision/recall/F1, per-class figures, confusion matrix), computed as
 * scikit-learn computes them: macro averages over the classes present in
 * the true or the predicted labels, a class with no predicted (or no true)
 * rows has precision (recall) 0 - zero_division=0. */
#ifndef SNITCH_EVAL_H
#define SNITCH_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Stratified k-fold: fold[i] in 0..k-1 for each of n rows with classes
 * y[i] in 0..nclasses-1.  Each class's rows are shuffled (seeded) and dealt
 * round-robin, continuing where the previous class stopped, so folds differ
 * in size by at most one and every class is spread as evenly as possible.
 * Depends only on (y, k, seed): the same folds for every model.  Returns
 * 0, or -1 with e if k < 2 or k > n. */
int eval_stratified_folds(const int32_t *y, size_t n, int nclasses, int k, uint64_t seed,
                          int *fold, snitch_err *e);

/* A stratified split of rows into train (1) and validation (0) with
 * about `share` of every class held out (at least one row of each class
 * with >= 2 rows).  For early stopping.  mask[i] = 1 train, 0 validation. */
void eval_stratified_holdout(const int32_t *y, size_t n, int nclasses, double share,
                             uint64_t seed, uint8_t *mask);

typedef struct eval_report {
    int nclasses;
    size_t n;
    double accuracy;
    double macro_precision, macro_recall, macro_f1;
    int nlabels;            /* classes counted in the macro averages */
    double *precision, *recall, *f1;    /* per class */
    uint64_t *support;      /* true rows per class */
    uint64_t *predicted;    /* predicted rows per class */
    uint64_t *confusion;    /* nclasses x nclasses: [true * k + pred] */
} eval_report;

int eval_compute(const int32_t *y_true, const int32_t *y_pred, size_t n, int nclasses,
                 eval_report *r, snitch_err *e);
void eval_report_free(eval_report *r);

/* Index of the largest probability (first on ties, like numpy argmax). */
int32_t eval_argmax(const double *p, int k);

/* Indices of the three largest probabilities, best first (first on ties);
 * -1 where k < 3. */
void eval_top3(const double *p, int k, int best[3]);

#endif
