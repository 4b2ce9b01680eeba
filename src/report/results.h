/* results.h - an experiment run directory's results.json, checked and
 * turned into plain C arrays (docs/experiment.md gives the layout).
 *
 * Owns: run_results (models, thresholds sorted by min_flows, cells, the
 * run's description, and every referenced path resolved against the run
 * directory).  Loading checks everything the report relies on and names
 * the place of any defect as "DIR/results.json:LINE:COL: where: what":
 * a wrong type, a missing member, a cell naming a model or threshold that
 * is not declared, a repeated model id, threshold or cell, a referenced
 * file (table, packets_table, forest_model, a cell's confusion) that does
 * not exist.  Members the report does not use are ignored, so that the
 * experiment command may add some. */
#ifndef SNITCH_RESULTS_H
#define SNITCH_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct rp_model {
    char *id, *name, *spec;     /* name defaults to the id, spec to "" */
} rp_model;

typedef struct rp_threshold {
    uint64_t min_flows;
    int64_t classes, flows;     /* -1 when not given */
} rp_threshold;

typedef struct rp_class {
    char *name;
    uint64_t support;
    double precision, recall, f1;   /* NaN when null */
} rp_class;

typedef struct rp_cell {
    size_t model, thr;          /* indices into models / thresholds */
    char *status;               /* "done" unless it says otherwise */
    int done;
    /* pooled out-of-fold metrics; NaN when null or (not done) absent */
    double accuracy, precision, recall, f1;
    double fit_s, predict_s;    /* NaN when absent */
    rp_class *per_class;
    size_t nper_class;
    char *confusion;            /* resolved path, NULL when not given */
} rp_cell;

typedef struct run_results {
    char *dir;                  /* the run directory as given */
    char *json_path;            /* DIR/results.json */
    char *kind, *label, *tool, *version;    /* NULL when not given */
    char *options;              /* how the models were run, free text */
    char **captures;
    size_t ncaptures;
    int64_t folds, seed;        /* -1 when not given */
    /* referenced files: resolved paths (checked to exist) and the names
     * as results.json writes them; NULL when not given */
    char *table, *table_name;
    char *packets_table, *packets_table_name;
    char *forest_model, *forest_model_name;
    rp_model *models;
    size_t nmodels;
    rp_threshold *thr;          /* sorted by min_flows, distinct */
    size_t nthr;
    rp_cell *cells;
    size_t ncells;
    long *grid;                 /* cell index per (model, threshold), -1 = none */
} run_results;

/* Load DIR/results.json.  A missing directory or file, malformed JSON (the
 * reader's line:column) and every defect listed above fail with e. */
int results_load(const char *dir, run_results *r, snitch_err *e);

void results_free(run_results *r);

/* The cell of model m at threshold t, or NULL. */
const rp_cell *results_cell(const run_results *r, size_t m, size_t t);

/* Join a path from results.json to the run directory (absolute paths are
 * kept).  NULL when out of memory. */
char *results_path(const char *dir, const char *rel);

#endif
