/* cv.h - stratified k-fold cross-validation of any model spec.
 *
 * Owns: cv_result (out-of-fold predictions, the pooled report, per-fold
 * figures and times) and cv_run, the one cross-validation every command
 * uses (cv, experiment).  The folds depend only on (labels, k, seed), so
 * every model evaluated with the same seed sees the same folds; a
 * network in fold f is seeded with seed + f (as the reference). */
#ifndef SNITCH_CV_H
#define SNITCH_CV_H

#include <stddef.h>
#include <stdint.h>

#include "eval/eval.h"
#include "model/learn.h"
#include "table/table.h"
#include "util/err.h"

typedef struct cv_result {
    size_t n;                   /* rows evaluated */
    int k, folds;
    int32_t *y, *pred;          /* per row (remapped classes) */
    int *fold;
    eval_report rep;            /* pooled over all folds */
    double fit_s, predict_s;    /* summed over folds */
    double *fold_acc, *fold_f1, *fold_fit, *fold_pred;
} cv_result;

/* Progress between folds (may be NULL): called before fold f trains. */
typedef void (*cv_fold_cb)(void *ctx, int fold, int folds);

/* Cross-validate spec on rows[0..n) of t whose classes (0..k-1, remapped
 * by the caller) are y[i] and names classes[0..k).  0, or -1 with e. */
int cv_run(const model_spec *s, const learn_params *p, const table *t, const size_t *rows,
           size_t n, const int32_t *y, int k, char *const *classes, int folds, uint64_t seed,
           const learn_progress *pg, cv_fold_cb on_fold, void *fold_ctx, cv_result *r,
           snitch_err *e);

void cv_result_free(cv_result *r);

#endif
