/* cv.c - k-fold cross-validation over model_train; see cv.h. */
#include "eval/cv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cv_result_free(cv_result *r)
{
    free(r->y);
    free(r->pred);
    free(r->fold);
    free(r->fold_acc);
    free(r->fold_f1);
    free(r->fold_fit);
    free(r->fold_pred);
    eval_report_free(&r->rep);
    memset(r, 0, sizeof *r);
}

int cv_run(const model_spec *s, const learn_params *p, const table *t, const size_t *rows,
           size_t n, const int32_t *y, int k, char *const *classes, int folds, uint64_t seed,
           const learn_progress *pg, cv_fold_cb on_fold, void *fold_ctx, cv_result *r,
           snitch_err *e)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->k = k;
    r->folds = folds;
    r->y = malloc((n ? n : 1) * sizeof *r->y);
    r->pred = malloc((n ? n : 1) * sizeof *r->pred);
    r->fold = malloc((n ? n : 1) * sizeof *r->fold);
    r->fold_acc = calloc((size_t)folds, sizeof *r->fold_acc);
    r->fold_f1 = calloc((size_t)folds, sizeof *r->fold_f1);
    r->fold_fit = calloc((size_t)folds, sizeof *r->fold_fit);
    r->fold_pred = calloc((size_t)folds, sizeof *r->fold_pred);
    size_t *tr = malloc((n ? n : 1) * sizeof *tr), *te = malloc((n ? n : 1) * sizeof *te);
    size_t *te_pos = malloc((n ? n : 1) * sizeof *te_pos);
    int32_t *ytr = malloc((n ? n : 1) * sizeof *ytr), *yt = malloc((n ? n : 1) * sizeof *yt);
    int32_t *yp = malloc((n ? n : 1) * sizeof *yp);
    float *x = NULL;
    double *proba = NULL;
    model *m = NULL;
    int ok = -1;
    if (!r->y || !r->pred || !r->fold || !r->fold_acc || !r->fold_f1 || !r->fold_fit ||
        !r->fold_pred || !tr || !te || !te_pos || !ytr || !yt || !yp) {
        err_set(e, "out of memory");
        goto out;
    }
    memcpy(r->y, y, n * sizeof *y);
    if (eval_stratified_folds(r->y, n, k, folds, seed, r->fold, e) < 0)
        goto out;
    for (int fo = 0; fo < folds; fo++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (r->fold[i] == fo) {
                te_pos[nte] = i;
                te[nte++] = rows[i];
            } else {
                ytr[ntr] = r->y[i];
                tr[ntr++] = rows[i];
            }
        }
        if (on_fold)
            on_fold(fold_ctx, fo, folds);
        double t0 = now_s();
        m = model_train(s, p, t, tr, ntr, ytr, k, classes, (uint64_t)fo, pg, e);
        if (!m) {
            char tmp[sizeof e->msg];
            snprintf(tmp, sizeof tmp, "%s", e->msg);
            err_set(e, "fold %d: %s", fo + 1, tmp);
            goto out;
        }
        double t1 = now_s();
        free(x);
        free(proba);
        x = malloc((nte ? nte : 1) * m->nfeat * sizeof *x);
        proba = malloc((nte ? nte : 1) * (size_t)k * sizeof *proba);
        if (!x || !proba) {
            err_set(e, "out of memory");
            goto out;
        }
        if (learn_gather(m, t, te, nte, x, e) < 0 ||
            model_predict_proba(m, x, nte, proba, p->fp.threads, e) < 0)
            goto out;
        double t2 = now_s();
        r->fit_s += t1 - t0;
        r->predict_s += t2 - t1;
        r->fold_fit[fo] = t1 - t0;
        r->fold_pred[fo] = t2 - t1;
        for (size_t j = 0; j < nte; j++) {
            int32_t pr = eval_argmax(proba + j * (size_t)k, k);
            r->pred[te_pos[j]] = pr;
            yt[j] = r->y[te_pos[j]];
            yp[j] = pr;
        }
        eval_report fr;
        snitch_err fe;
        if (nte && eval_compute(yt, yp, nte, k, &fr, &fe) == 0) {
            r->fold_acc[fo] = fr.accuracy;
            r->fold_f1[fo] = fr.macro_f1;
            eval_report_free(&fr);
        }
        model_free(m);
        m = NULL;
    }
    if (eval_compute(r->y, r->pred, n, k, &r->rep, e) < 0)
        goto out;
    ok = 0;
out:
    model_free(m);
    free(tr);
    free(te);
    free(te_pos);
    free(ytr);
    free(yt);
    free(yp);
    free(x);
    free(proba);
    if (ok < 0)
        cv_result_free(r);
    return ok;
}
