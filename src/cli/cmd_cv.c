/* cmd_cv.c - `snitch cv`: stratified k-fold cross-validation of the forest,
 * with the paper's metrics, a per-class table, a confusion matrix, JSON,
 * and the sweep over minimum flows per label (the paper's Table 1). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eval/eval.h"
#include "output/csv.h"
#include "output/json.h"

static const char usage_text[] =
    "usage: snitch cv TABLE.csv [options]\n"
    "\n"
    "Cross-validate a Random Forest on a table from snitch extract: stratified\n"
    "folds (the same for every model for a given seed), pooled out-of-fold\n"
    "accuracy and macro precision, recall and F1 (as scikit-learn computes them).\n"
    "\n"
    "  --folds K              number of folds (default 10)\n"
    "  --sweep-min-flows L    comma-separated thresholds, e.g. 100,200,500: one\n"
    "                         cross-validation per threshold (the paper's Table 1)\n"
    "  --json FILE            write the results as JSON\n"
    "  --confusion FILE       write the confusion matrix as CSV (rows: true class)\n"
    "  --save-folds FILE      write each kept row's fold as CSV (row,label,fold)\n"
    "  --per-class            print the per-class table (always in --json)\n"
    "  --force                replace output files that exist\n"
    "  -q, --quiet            no progress line\n"
    MODEL_OPTIONS_HELP;

typedef struct cv_result {
    uint64_t min_flows;
    size_t nrows, nclasses;
    char **classes;             /* borrowed from the table */
    int32_t *y, *pred;
    int *fold;
    eval_report rep;
    double fit_s, predict_s;
    double *fold_acc, *fold_f1, *fold_fit, *fold_pred;
    int folds;
} cv_result;

typedef struct progress_ctx {
    int show, fold, folds;
    double t0;
} progress_ctx;

static void on_tree(void *ctx, int done, int total)
{
    progress_ctx *p = ctx;
    if (p->show)
        fprintf(stderr, "\r  fold %d/%d  trees %d/%d  %.1f s   ", p->fold + 1, p->folds, done,
                total, cli_now() - p->t0);
}

/* Cross-validate rows `rows` (indices into t) with classes remapped by
 * cls_map (old class -> new, -1 = dropped). */
static int run_cv(const table *t, const size_t *rows, size_t n, int k, const int32_t *cls_map,
                  const model_opts *mo, int folds, int show, cv_result *r)
{
    snitch_err e = {""};
    size_t f = t->nfeat;
    r->nrows = n;
    r->folds = folds;
    r->y = malloc(n * sizeof *r->y);
    r->pred = malloc(n * sizeof *r->pred);
    r->fold = malloc(n * sizeof *r->fold);
    r->fold_acc = calloc((size_t)folds, sizeof *r->fold_acc);
    r->fold_f1 = calloc((size_t)folds, sizeof *r->fold_f1);
    r->fold_fit = calloc((size_t)folds, sizeof *r->fold_fit);
    r->fold_pred = calloc((size_t)folds, sizeof *r->fold_pred);
    int32_t *yt = malloc(n * sizeof *yt), *yp = malloc(n * sizeof *yp);
    float *xtr = malloc(n * f * sizeof *xtr), *xte = malloc(n * f * sizeof *xte);
    int32_t *ytr = malloc(n * sizeof *ytr);
    size_t *te_idx = malloc(n * sizeof *te_idx);
    double *proba = malloc(n * (size_t)k * sizeof *proba);
    int ok = -1;
    if (!r->y || !r->pred || !r->fold || !r->fold_acc || !r->fold_f1 || !r->fold_fit ||
        !r->fold_pred || !yt || !yp || !xtr || !xte || !ytr || !te_idx || !proba) {
        fprintf(stderr, "snitch cv: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        r->y[i] = cls_map[t->y[rows[i]]];
    if (eval_stratified_folds(r->y, n, k, folds, mo->fp.seed, r->fold, &e) < 0) {
        fprintf(stderr, "snitch cv: %s\n", e.msg);
        goto out;
    }
    progress_ctx pc = {show, 0, folds, cli_now()};
    for (int fo = 0; fo < folds; fo++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            const float *src = t->x + rows[i] * f;
            if (r->fold[i] == fo) {
                memcpy(xte + nte * f, src, f * sizeof *src);
                te_idx[nte++] = i;
            } else {
                memcpy(xtr + ntr * f, src, f * sizeof *src);
                ytr[ntr++] = r->y[i];
            }
        }
        pc.fold = fo;
        double t0 = cli_now();
        forest *m = forest_train(xtr, ntr, f, ytr, k, &mo->fp, on_tree, &pc, &e);
        if (!m) {
            fprintf(stderr, "\nsnitch cv: fold %d: %s\n", fo + 1, e.msg);
            goto out;
        }
        double t1 = cli_now();
        forest_predict_proba(m, xte, nte, proba, mo->fp.threads);
        double t2 = cli_now();
        r->fit_s += t1 - t0;
        r->predict_s += t2 - t1;
        for (size_t j = 0; j < nte; j++) {
            int32_t p = eval_argmax(proba + j * (size_t)k, k);
            r->pred[te_idx[j]] = p;
            yt[j] = r->y[te_idx[j]];
            yp[j] = p;
        }
        eval_report fr;
        if (nte && eval_compute(yt, yp, nte, k, &fr, &e) == 0) {
            r->fold_acc[fo] = fr.accuracy;
            r->fold_f1[fo] = fr.macro_f1;
            eval_report_free(&fr);
        }
        r->fold_fit[fo] = t1 - t0;
        r->fold_pred[fo] = t2 - t1;
        forest_free(m);
    }
    if (show)
        fprintf(stderr, "\r%60s\r", "");
    if (eval_compute(r->y, r->pred, n, k, &r->rep, &e) < 0) {
        fprintf(stderr, "snitch cv: %s\n", e.msg);
        goto out;
    }
    ok = 0;
out:
    free(yt);
    free(yp);
    free(xtr);
    free(xte);
    free(ytr);
    free(te_idx);
    free(proba);
    return ok;
}

static void free_result(cv_result *r)
{
    free(r->y);
    free(r->pred);
    free(r->fold);
    free(r->fold_acc);
    free(r->fold_f1);
    free(r->fold_fit);
    free(r->fold_pred);
    eval_report_free(&r->rep);
    free(r->classes);
}

static void mean_std(const double *v, int n, double *m, double *s)
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

static void print_result(const cv_result *r, int per_class)
{
    double m, s;
    mean_std(r->fold_acc, r->folds, &m, &s);
    printf("  flows      %zu in %zu classes", r->nrows, r->nclasses);
    if (r->min_flows > 1)
        printf(" (labels with >= %llu flows)", (unsigned long long)r->min_flows);
    printf(", %d folds\n", r->folds);
    printf("  accuracy   %.4f   (per fold %.4f +- %.4f)\n", r->rep.accuracy, m, s);
    printf("  precision  %.4f   (macro)\n", r->rep.macro_precision);
    printf("  recall     %.4f   (macro)\n", r->rep.macro_recall);
    printf("  f1         %.4f   (macro)\n", r->rep.macro_f1);
    printf("  time       fit %.2f s, predict %.3f s (all folds)\n", r->fit_s, r->predict_s);
    if (!per_class)
        return;
    size_t w = 5;
    for (size_t c = 0; c < r->nclasses; c++)
        if (strlen(r->classes[c]) > w)
            w = strlen(r->classes[c]);
    if (w > 48)
        w = 48;
    printf("\n  %-*s %8s %9s %7s %7s\n", (int)w, "class", "support", "precision", "recall", "f1");
    for (size_t c = 0; c < r->nclasses; c++)
        printf("  %-*.*s %8llu %9.4f %7.4f %7.4f\n", (int)w, (int)w, r->classes[c],
               (unsigned long long)r->rep.support[c], r->rep.precision[c], r->rep.recall[c],
               r->rep.f1[c]);
}

static void json_result(json_writer *j, const cv_result *r)
{
    double m, s;
    mean_std(r->fold_acc, r->folds, &m, &s);
    json_begin_object(j);
    json_key(j, "min_flows");
    json_i64(j, (int64_t)r->min_flows);
    json_key(j, "flows");
    json_i64(j, (int64_t)r->nrows);
    json_key(j, "classes");
    json_i64(j, (int64_t)r->nclasses);
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
    for (size_t c = 0; c < r->nclasses; c++) {
        json_begin_object(j);
        json_key(j, "class");
        json_str(j, r->classes[c]);
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
    json_end_object(j);
}

static int write_confusion(const cv_result *r, FILE *f)
{
    csv_writer *w = csv_writer_new(f);
    if (!w)
        return -1;
    csv_cstr(w, "true\\predicted");
    for (size_t c = 0; c < r->nclasses; c++)
        csv_cstr(w, r->classes[c]);
    csv_end_row(w);
    for (size_t a = 0; a < r->nclasses; a++) {
        csv_cstr(w, r->classes[a]);
        for (size_t b = 0; b < r->nclasses; b++)
            csv_u64(w, r->rep.confusion[a * r->nclasses + b]);
        csv_end_row(w);
    }
    return csv_writer_close(w);
}

/* Parse "100,200,500" into a sorted list. */
static int parse_list(const char *s, uint64_t **out, size_t *n)
{
    *n = 0;
    *out = NULL;
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        return -1;
    size_t cap = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (cli_uint("cv", "--sweep-min-flows", tok, UINT32_MAX, &v) < 0) {
            free(copy);
            free(*out);
            return -1;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            uint64_t *p = realloc(*out, cap * sizeof *p);
            if (!p) {
                free(copy);
                free(*out);
                return -1;
            }
            *out = p;
        }
        (*out)[(*n)++] = v;
    }
    free(copy);
    return *n ? 0 : -1;
}

int cmd_cv(int argc, char **argv)
{
    enum { O_FOLDS = 300, O_SWEEP, O_JSON, O_CONF, O_SAVE, O_PERCLASS, O_FORCE };
    static const struct option opts[] = {
        {"folds", required_argument, 0, O_FOLDS},
        {"sweep-min-flows", required_argument, 0, O_SWEEP},
        {"json", required_argument, 0, O_JSON},
        {"confusion", required_argument, 0, O_CONF},
        {"save-folds", required_argument, 0, O_SAVE},
        {"per-class", no_argument, 0, O_PERCLASS},
        {"force", no_argument, 0, O_FORCE},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        MODEL_LONG_OPTIONS,
        {0, 0, 0, 0},
    };
    model_opts mo;
    model_opts_init(&mo);
    uint64_t folds = 10, *sweep = NULL;
    size_t nsweep = 0;
    const char *json_path = NULL, *conf_path = NULL, *save_path = NULL;
    int per_class = 0, force = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        int r = model_opts_parse(&mo, c, optarg, "cv");
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case O_FOLDS:
            if (cli_uint("cv", "--folds", optarg, 1000, &folds) < 0)
                return EXIT_USAGE;
            if (folds < 2) {
                fprintf(stderr, "snitch cv: --folds must be at least 2\n");
                return EXIT_USAGE;
            }
            break;
        case O_SWEEP:
            free(sweep);
            if (parse_list(optarg, &sweep, &nsweep) < 0) {
                fprintf(stderr, "snitch cv: --sweep-min-flows: a list like 100,200,500\n");
                return EXIT_USAGE;
            }
            break;
        case O_JSON: json_path = optarg; break;
        case O_CONF: conf_path = optarg; break;
        case O_SAVE: save_path = optarg; break;
        case O_PERCLASS: per_class = 1; break;
        case O_FORCE: force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); free(sweep); return EXIT_OK;
        default: fputs(usage_text, stderr); free(sweep); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "snitch cv: give one TABLE.csv\n%s", usage_text);
        free(sweep);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    if (!sweep) {
        sweep = malloc(sizeof *sweep);
        if (!sweep)
            return EXIT_FAIL;
        sweep[0] = mo.min_flows;
        nsweep = 1;
    } else if (mo.min_flows) {
        fprintf(stderr, "snitch cv: give --min-flows or --sweep-min-flows, not both\n");
        free(sweep);
        return EXIT_USAGE;
    }
    int rc = EXIT_FAIL;
    outfile jo = {0}, co = {0}, so = {0};
    table t;
    memset(&t, 0, sizeof t);
    uint64_t *counts = NULL;
    size_t *rows = NULL;
    int32_t *map = NULL;
    cv_result *res = NULL;
    if ((json_path && outfile_open(&jo, "cv", json_path, force) < 0) ||
        (conf_path && outfile_open(&co, "cv", conf_path, force) < 0) ||
        (save_path && outfile_open(&so, "cv", save_path, force) < 0)) {
        outfile_abort(&jo);
        outfile_abort(&co);
        free(sweep);
        return EXIT_FAIL;
    }
    /* Load once with every labeled row; thresholds select rows below. */
    model_opts base = mo;
    base.min_flows = 0;
    if (cli_load_training_table("cv", path, &base, &t) < 0)
        goto fail_files;
    counts = calloc(t.nclasses, sizeof *counts);
    rows = malloc(t.nrows * sizeof *rows);
    map = malloc(t.nclasses * sizeof *map);
    res = calloc(nsweep, sizeof *res);
    if (!counts || !rows || !map || !res) {
        fprintf(stderr, "snitch cv: out of memory\n");
        goto fail_all;
    }
    table_class_counts(&t, counts);
    json_writer j;
    if (json_path) {
        json_init(&j, jo.f, 1);
        json_begin_object(&j);
        json_key(&j, "table");
        json_str(&j, path);
        json_key(&j, "model");
        json_str(&j, "forest");
        json_key(&j, "trees");
        json_i64(&j, mo.fp.n_trees);
        json_key(&j, "max_depth");
        json_i64(&j, mo.fp.max_depth);
        json_key(&j, "max_features");
        json_i64(&j, mo.fp.max_features);
        json_key(&j, "seed");
        json_i64(&j, (int64_t)mo.fp.seed);
        json_key(&j, "folds");
        json_i64(&j, (int64_t)folds);
        json_key(&j, "features");
        json_i64(&j, (int64_t)t.nfeat);
        json_key(&j, "results");
        json_begin_array(&j);
    }
    int show = !quiet && isatty(2);
    for (size_t s = 0; s < nsweep; s++) {
        cv_result *r = &res[s];
        r->min_flows = sweep[s];
        size_t k = 0, n = 0;
        r->classes = malloc(t.nclasses * sizeof *r->classes);
        if (!r->classes)
            goto fail_all;
        for (size_t cl = 0; cl < t.nclasses; cl++) {
            if (counts[cl] >= (sweep[s] ? sweep[s] : 1)) {
                map[cl] = (int32_t)k;
                r->classes[k++] = t.classes[cl];
            } else {
                map[cl] = -1;
            }
        }
        for (size_t i = 0; i < t.nrows; i++)
            if (map[t.y[i]] >= 0)
                rows[n++] = i;
        r->nclasses = k;
        if (k < 2 || n < folds) {
            fprintf(stderr, "snitch cv: min flows %llu leaves %zu classes and %zu flows: skipped\n",
                    (unsigned long long)sweep[s], k, n);
            continue;
        }
        if (run_cv(&t, rows, n, (int)k, map, &mo, (int)folds, show, r) < 0)
            goto fail_all;
        if (nsweep == 1) {
            printf("snitch cv: forest, %d trees, %s\n", mo.fp.n_trees, path);
            print_result(r, per_class);
        }
        if (json_path)
            json_result(&j, r);
        if (save_path && s == 0) {
            fprintf(so.f, "row,label,fold\n");
            for (size_t i = 0; i < n; i++)
                fprintf(so.f, "%zu,%s,%d\n", i, r->classes[r->y[i]], r->fold[i]);
        }
    }
    if (nsweep > 1) {
        printf("snitch cv: forest, %d trees, %llu folds, %s\n\n", mo.fp.n_trees,
               (unsigned long long)folds, path);
        printf("  %9s %8s %8s %9s %9s %9s %9s %8s\n", "min_flows", "classes", "flows", "accuracy",
               "precision", "recall", "f1", "fit_s");
        for (size_t s = 0; s < nsweep; s++) {
            const cv_result *r = &res[s];
            if (!r->y)
                continue;
            printf("  %9llu %8zu %8zu %9.4f %9.4f %9.4f %9.4f %8.1f\n", (unsigned long long)r->min_flows,
                   r->nclasses, r->nrows, r->rep.accuracy, r->rep.macro_precision, r->rep.macro_recall,
                   r->rep.macro_f1, r->fit_s);
        }
    }
    if (json_path) {
        json_end_array(&j);
        json_end_object(&j);
        fputc('\n', jo.f);
    }
    if (conf_path && res[nsweep - 1].y && write_confusion(&res[nsweep - 1], co.f) < 0)
        goto fail_all;
    rc = EXIT_OK;
    if ((json_path && outfile_commit(&jo, "cv") < 0) | (conf_path && outfile_commit(&co, "cv") < 0) |
        (save_path && outfile_commit(&so, "cv") < 0))
        rc = EXIT_FAIL;
    goto done;
fail_all:
    rc = EXIT_FAIL;
fail_files:
    outfile_abort(&jo);
    outfile_abort(&co);
    outfile_abort(&so);
    if (rc == EXIT_OK)
        rc = EXIT_FAIL;
done:
    if (res)
        for (size_t s = 0; s < nsweep; s++)
            free_result(&res[s]);
    free(res);
    free(counts);
    free(rows);
    free(map);
    table_free(&t);
    free(sweep);
    return rc;
}
