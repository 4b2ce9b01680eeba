/* report.h - one self-contained HTML page from an experiment's run
 * directory (docs/experiment.md): `snitch report`.
 *
 * Owns: report_info (what the caller still has to do or say).  Sections,
 * each with its figure drawn by gnuplot (plot.h) and inlined as SVG:
 *   1. the metric tables per threshold (the paper's Table 1 layout) and
 *      grouped bars of the four metrics at the smallest threshold (fig. 11);
 *   2. accuracy against minimum flows per label, one line per model
 *      (figs. 5, 8, 9);
 *   3. per-class accuracy (recall) by model at the largest threshold
 *      (figs. 7, 10), the largest classes only;
 *   4. the confusion matrix of the best model at the largest threshold;
 *   5. feature histograms per class: packets received per 10 ms (seed 000)
 *      from a window table, else a few flow statistics;
 *   6. the forest's feature importances;
 *   7. one tree of the forest, depth-limited, drawn by Graphviz dot.
 * The page loads nothing: no scripts, no external style, fonts or images,
 * and a Content-Security-Policy that forbids fetching anything.
 *
 * Errors (returned, not printed): the run directory, results.json or a
 * file it references missing or malformed, gnuplot missing or failing.
 * A piece that results.json simply does not have (no forest model, no
 * table, no confusion matrix, no finished cell) gives a section that says
 * what is missing, and a note in report_info. */
#ifndef SNITCH_REPORT_H
#define SNITCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

typedef struct report_opts {
    const char *run_dir;
    const char *gnuplot, *dot;  /* programs; NULL = "gnuplot", "dot" on PATH */
    /* Where the caller writes the tree's dot text when dot is missing,
     * relative to the report (the page links it); NULL: not written. */
    const char *dot_href;
    size_t max_classes;         /* per-class and confusion figures (30) */
    size_t hist_classes;        /* classes in the histograms (8, at most 20) */
    size_t top_features;        /* importances shown (20) */
    int tree_depth;             /* levels of the drawn tree, 0 = all (3) */
} report_opts;

typedef struct report_info {
    char *dot_text;             /* the tree in dot form when dot was not */
    size_t dot_len;             /* installed: write it to dot_href */
    char **notes;               /* one line per section that is incomplete */
    size_t nnotes;
    unsigned figures;           /* figures drawn */
} report_info;

void report_opts_init(report_opts *o);

/* Write the page to out.  0, or -1 with e (out then holds a partial page
 * the caller discards).  info is filled in either case; free it with
 * report_info_free. */
int report_write(const report_opts *o, FILE *out, report_info *info, snitch_err *e);

void report_info_free(report_info *info);

#endif
