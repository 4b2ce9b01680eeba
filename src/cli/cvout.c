/* cvout.c - what cv and experiment share so both give the same numbers:
 * the rows of a minimum-flows threshold, and how a cross-validation result
 * is written (JSON object, confusion CSV). */
#include <math.h>

#include "cli.h"
#include "output/csv.h"

void cli_mean_std(const double *v, int n, double *m, double *s)
{
    double a = 0, b = 0;
    for (int i = 0; i < n; i++)
        a += v[i];
    a /= n;
    for (int i = 0; i < n; i++)
        b += (v[i] - a) * (v[i] - a);
    *m = a;
    *s = n > 0 ? sqrt(b / n) : 0;
}

void cli_json_cv(json_writer *j, uint64_t min_flows, char *const *classes, const cv_result *r)
{
    json_begin_object(j);
    json_key(j, "min_flows");
    json_i64(j, (int64_t)min_flows);
    json_key(j, "flows");
    json_i64(j, (int64_t)r->n);
    json_key(j, "classes");
    json_i64(j, (int64_t)r->k);
    cli_json_cv_fields(j, classes, r);
    json_end_object(j);
}

void cli_json_cv_fields(json_writer *j, char *const *classes, const cv_result *r)
{
    double m, s;
    cli_mean_std(r->fold_acc, r->folds, &m, &s);
    json_key(j, "accuracy");
    json_double(j, r->rep.accuracy);
    json_key(j, "macro_precision");
    json_double(j, r->rep.macro_precision);
    json_key(j, "macro_recall");
    json_double(j, r->rep.macro_recall);
    json_key(j, "macro_f1");
    json_double(j, r->rep.macro_f1);
    json_key(j, "fold_accuracy_mean");
    json_double(j, m);
    json_key(j, "fold_accuracy_std");
    json_double(j, s);
    json_key(j, "fit_seconds");
    json_double(j, r->fit_s);
    json_key(j, "predict_seconds");
    json_double(j, r->predict_s);
    json_key(j, "per_fold");
    json_begin_array(j);
    for (int fo = 0; fo < r->folds; fo++) {
        json_begin_object(j);
        json_key(j, "fold");
        json_i64(j, fo);
        json_key(j, "accuracy");
        json_double(j, r->fold_acc[fo]);
        json_key(j, "macro_f1");
        json_double(j, r->fold_f1[fo]);
        json_key(j, "fit_seconds");
        json_double(j, r->fold_fit[fo]);
        json_key(j, "predict_seconds");
        json_double(j, r->fold_pred[fo]);
        json_end_object(j);
    }
    json_end_array(j);
    json_key(j, "per_class");
    json_begin_array(j);
    for (size_t c = 0; c < (size_t)r->k; c++) {
        json_begin_object(j);
        json_key(j, "class");
        json_str(j, classes[c]);
        json_key(j, "support");
        json_i64(j, (int64_t)r->rep.support[c]);
        json_key(j, "precision");
        json_double(j, r->rep.precision[c]);
        json_key(j, "recall");
        json_double(j, r->rep.recall[c]);
        json_key(j, "f1");
        json_double(j, r->rep.f1[c]);
        json_end_object(j);
    }
    json_end_array(j);
}

int cli_write_confusion(FILE *f, char *const *classes, const cv_result *r)
{
    size_t k = (size_t)r->k;
    csv_writer *w = csv_writer_new(f);
    if (!w)
        return -1;
    csv_cstr(w, "true\\predicted");
    for (size_t c = 0; c < k; c++)
        csv_cstr(w, classes[c]);
    csv_end_row(w);
    for (size_t a = 0; a < k; a++) {
        csv_cstr(w, classes[a]);
        for (size_t b = 0; b < k; b++)
            csv_u64(w, r->rep.confusion[a * k + b]);
        csv_end_row(w);
    }
    return csv_writer_close(w);
}

size_t cli_threshold_rows(const table *t, const uint64_t *counts, uint64_t min_rows, int32_t *map,
                          char **cls, int32_t *y, size_t *rows, size_t *n)
{
    size_t k = 0;
    *n = 0;
    for (size_t cl = 0; cl < t->nclasses; cl++) {
        map[cl] = counts[cl] >= (min_rows ? min_rows : 1) ? (int32_t)k : -1;
        if (map[cl] >= 0)
            cls[k++] = t->classes[cl];
    }
    for (size_t i = 0; i < t->nrows; i++)
        if (map[t->y[i]] >= 0) {
            y[*n] = map[t->y[i]];
            rows[(*n)++] = i;
        }
    return k;
}
