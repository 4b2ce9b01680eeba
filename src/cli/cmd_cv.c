/* cmd_cv.c - `snitch cv`: stratified k-fold cross-validation of any model
 * (eval/cv.c), with the paper's metrics, a per-class table, a confusion
 * matrix, JSON, and the sweep over minimum flows per label (Table 1). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eval/cv.h"
#include "eval/eval.h"
#include "output/csv.h"
#include "output/json.h"

static const char usage_text[] =
    "usage: snitch cv TABLE.csv [options]\n"
    "\n"
    "Cross-validate a model (the forest by default; see --model) on a table from\n"
    "snitch extract: stratified folds (the same for every model for a given\n"
    "seed), pooled out-of-fold accuracy and macro precision, recall and F1 (as\n"
    "scikit-learn computes them).\n"
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

/* One threshold of the sweep: its classes and its cross-validation. */
typedef struct cell {
    uint64_t min_flows;
    size_t nrows, nclasses;
    char **classes;             /* borrowed from the table */
    cv_result cv;
    int done;
} cell;

typedef struct progress_ctx {
    int show, quiet, fold, folds;
    double t0;
} progress_ctx;

static void on_tree(void *ctx, const char *member, int done, int total)
{
    progress_ctx *p = ctx;
    if (p->show)
        fprintf(stderr, "\r  fold %d/%d  %s: trees %d/%d  %.1f s   ", p->fold + 1, p->folds,
                member, done, total, cli_now() - p->t0);
}

static void on_epoch(void *ctx, const char *member, const nn_epoch_info *i)
{
    progress_ctx *p = ctx;
    if (p->quiet)
        return;
    if (p->show)
        fprintf(stderr, "\r%70s\r", "");
    fprintf(stderr, "  fold %d/%d", p->fold + 1, p->folds);
    cli_print_epoch(member, i);
}

static void on_fold(void *ctx, int fold, int folds)
{
    progress_ctx *p = ctx;
    p->fold = fold;
    p->folds = folds;
}

static void print_result(const cell *r, int per_class)
{
    double m, s;
    cli_mean_std(r->cv.fold_acc, r->cv.folds, &m, &s);
    printf("  flows      %zu in %zu classes", r->nrows, r->nclasses);
    if (r->min_flows > 1)
        printf(" (labels with >= %llu flows)", (unsigned long long)r->min_flows);
    printf(", %d folds\n", r->cv.folds);
    printf("  accuracy   %.4f   (per fold %.4f +- %.4f)\n", r->cv.rep.accuracy, m, s);
    printf("  precision  %.4f   (macro)\n", r->cv.rep.macro_precision);
    printf("  recall     %.4f   (macro)\n", r->cv.rep.macro_recall);
    printf("  f1         %.4f   (macro)\n", r->cv.rep.macro_f1);
    printf("  time       fit %.2f s, predict %.3f s (all folds)\n", r->cv.fit_s, r->cv.predict_s);
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
               (unsigned long long)r->cv.rep.support[c], r->cv.rep.precision[c],
               r->cv.rep.recall[c], r->cv.rep.f1[c]);
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
    if (model_opts_finish(&mo, "cv") < 0) {
        free(sweep);
        return EXIT_USAGE;
    }
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
    cell *res = NULL;
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
        json_str(&j, mo.spec.n == 1 && mo.spec.m[0].kind == MODEL_FOREST ? "forest" : mo.spec_text);
        json_key(&j, "spec");
        json_str(&j, mo.spec_text);
        json_key(&j, "trees");
        json_i64(&j, mo.lp.fp.n_trees);
        json_key(&j, "max_depth");
        json_i64(&j, mo.lp.fp.max_depth);
        json_key(&j, "max_features");
        json_i64(&j, mo.lp.fp.max_features);
        json_key(&j, "seed");
        json_i64(&j, (int64_t)mo.lp.fp.seed);
        json_key(&j, "folds");
        json_i64(&j, (int64_t)folds);
        json_key(&j, "features");
        json_i64(&j, (int64_t)t.nfeat);
        json_key(&j, "results");
        json_begin_array(&j);
    }
    int show = !quiet && isatty(2);
    progress_ctx pc = {show, quiet, 0, (int)folds, cli_now()};
    learn_progress lpg = {on_tree, on_epoch, &pc};
    int32_t *ysel = malloc(t.nrows * sizeof *ysel);
    if (!ysel) {
        fprintf(stderr, "snitch cv: out of memory\n");
        goto fail_all;
    }
    for (size_t s = 0; s < nsweep; s++) {
        cell *r = &res[s];
        r->min_flows = sweep[s];
        r->classes = malloc(t.nclasses * sizeof *r->classes);
        if (!r->classes) {
            free(ysel);
            goto fail_all;
        }
        size_t n, k = cli_threshold_rows(&t, counts, sweep[s], map, r->classes, ysel, rows, &n);
        r->nclasses = k;
        r->nrows = n;
        if (k < 2 || n < folds) {
            fprintf(stderr, "snitch cv: min flows %llu leaves %zu classes and %zu flows: skipped\n",
                    (unsigned long long)sweep[s], k, n);
            continue;
        }
        snitch_err e = {""};
        if (cv_run(&mo.spec, &mo.lp, &t, rows, n, ysel, (int)k, r->classes, (int)folds,
                   mo.lp.fp.seed, &lpg, on_fold, &pc, &r->cv, &e) < 0) {
            if (show)
                fprintf(stderr, "\r%70s\r", "");
            fprintf(stderr, "snitch cv: %s: %s\n", path, e.msg);
            free(ysel);
            goto fail_all;
        }
        r->done = 1;
        if (show)
            fprintf(stderr, "\r%70s\r", "");
        if (nsweep == 1) {
            printf("snitch cv: %s, %s\n", mo.spec_text, path);
            print_result(r, per_class);
        }
        if (json_path)
            cli_json_cv(&j, r->min_flows, r->classes, &r->cv);
        if (save_path && s == 0) {
            fprintf(so.f, "row,label,fold\n");
            for (size_t i = 0; i < n; i++)
                fprintf(so.f, "%zu,%s,%d\n", i, r->classes[r->cv.y[i]], r->cv.fold[i]);
        }
    }
    free(ysel);
    if (nsweep > 1) {
        printf("snitch cv: %s, %llu folds, %s\n\n", mo.spec_text, (unsigned long long)folds, path);
        printf("  %9s %8s %8s %9s %9s %9s %9s %8s\n", "min_flows", "classes", "flows", "accuracy",
               "precision", "recall", "f1", "fit_s");
        for (size_t s = 0; s < nsweep; s++) {
            const cell *r = &res[s];
            if (!r->done)
                continue;
            printf("  %9llu %8zu %8zu %9.4f %9.4f %9.4f %9.4f %8.1f\n", (unsigned long long)r->min_flows,
                   r->nclasses, r->nrows, r->cv.rep.accuracy, r->cv.rep.macro_precision,
                   r->cv.rep.macro_recall, r->cv.rep.macro_f1, r->cv.fit_s);
        }
    }
    if (json_path) {
        json_end_array(&j);
        json_end_object(&j);
        fputc('\n', jo.f);
    }
    if (conf_path && res[nsweep - 1].done && 
        cli_write_confusion(co.f, res[nsweep - 1].classes, &res[nsweep - 1].cv) < 0)
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
        {
            cv_result_free(&res[s].cv);
            free(res[s].classes);
        }
    free(res);
    free(counts);
    free(rows);
    free(map);
    table_free(&t);
    free(sweep);
    return rc;
}
