/* report.c - the HTML report of an experiment run; see report.h.
 *
 * The page is written top to bottom into the caller's FILE: the run's
 * description, then one <section> per figure.  Each section gathers its
 * numbers from results.json (results.c) or the files it references, hands
 * them to a figure in plot.c, and writes the SVG inline with a caption
 * saying what is drawn and which of the paper's figures it mirrors.  A
 * section whose input the run does not have says so in place of its
 * figure, so one missing piece never costs the rest of the report.
 *
 * "Smallest" and "largest" threshold mean the smallest and largest
 * min_flows that have at least one finished cell: a threshold that left
 * fewer than two classes has no cells and nothing to draw. */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "report/csvin.h"
#include "report/plot.h"
#include "report/results.h"
#include "table/table.h"
#include "util/utf8.h"

#define NONE ((size_t)-1)

typedef struct ctx {
    const report_opts *o;
    run_results r;
    plotter pl;
    FILE *out;
    report_info *info;
    snitch_err *e;
    size_t smallest, largest;   /* thresholds with finished cells, or NONE */
    model *forest;              /* the run's forest model, loaded once */
} ctx;

void report_opts_init(report_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_classes = 30;
    o->hist_classes = 8;
    o->top_features = 20;
    o->tree_depth = 3;
}

void report_info_free(report_info *info)
{
    free(info->dot_text);
    for (size_t i = 0; i < info->nnotes; i++)
        free(info->notes[i]);
    free(info->notes);
    memset(info, 0, sizeof *info);
}

static int oom(ctx *c)
{
    return err_set(c->e, "out of memory");
}

/* ---- HTML ------------------------------------------------------------- */

/* Text for HTML: markup characters escaped, control characters as spaces,
 * invalid UTF-8 as U+FFFD (the page declares UTF-8). */
static void h_text(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    while (*s) {
        unsigned char b = *s;
        if (b < 0x80) {
            switch (b) {
            case '&': fputs("&amp;", f); break;
            case '<': fputs("&lt;", f); break;
            case '>': fputs("&gt;", f); break;
            case '"': fputs("&quot;", f); break;
            case '\'': fputs("&#39;", f); break;
            default: putc(b < 0x20 && b != '\n' && b != '\t' ? ' ' : b, f); break;
            }
            s++;
            continue;
        }
        size_t len = utf8_seq_len(s, SIZE_MAX, NULL);
        if (len) {
            fwrite(s, 1, len, f);
            s += len;
        } else {
            fputs("\xEF\xBF\xBD", f);
            s++;
        }
    }
}

static void h_printf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formatted text, escaped as h_text does. */
static void h_printf(FILE *f, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    h_text(f, buf);
}

static int add_note(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add_note(ctx *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **n = realloc(c->info->notes, (c->info->nnotes + 1) * sizeof *n);
    if (!n)
        return oom(c);
    c->info->notes = n;
    if (!(n[c->info->nnotes] = strdup(buf)))
        return oom(c);
    c->info->nnotes++;
    return 0;
}

/* The section says what it lacks; the caller hears it too. */
static int missing(ctx *c, const char *section, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int missing(ctx *c, const char *section, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("<p class=\"missing\">Not shown: ", c->out);
    h_text(c->out, buf);
    fputs("</p>\n", c->out);
    return add_note(c, "%s: %s", section, buf);
}

static void section_open(ctx *c, const char *id, const char *title)
{
    fprintf(c->out, "<section id=\"%s\">\n<h2>", id);
    h_text(c->out, title);
    fputs("</h2>\n", c->out);
}

static void section_close(ctx *c)
{
    fputs("</section>\n\n", c->out);
}

/* <figure> with the SVG inline, then its caption (escaped text). */
static void figure(ctx *c, const char *id, const char *svg, const char *caption)
{
    fprintf(c->out, "<figure id=\"%s\">\n<div class=\"plot\">\n", id);
    fputs(svg, c->out);
    fputs("\n</div>\n<figcaption>", c->out);
    h_text(c->out, caption);
    fputs("</figcaption>\n</figure>\n", c->out);
    c->info->figures++;
}

static const char *model_label(const rp_model *m, char *buf, size_t n)
{
    if (!strcmp(m->id, m->name))
        snprintf(buf, n, "%s", m->id);
    else
        snprintf(buf, n, "%s: %s", m->id, m->name);
    return buf;
}

static void thr_label(const rp_threshold *t, char *buf, size_t n)
{
    if (t->classes >= 0)
        snprintf(buf, n, "%llu / %lld", (unsigned long long)t->min_flows, (long long)t->classes);
    else
        snprintf(buf, n, "%llu / ?", (unsigned long long)t->min_flows);
}

/* Bottom of a [ymin, 1] score axis: a round value a little under the
 * lowest score, so differences near the top stay visible (the paper's
 * figure 9 shows [0.9, 1.0]). */
static double axis_floor(double lo)
{
    if (!isfinite(lo))
        return 0;
    double y = floor((lo - 0.02) * 20) / 20;
    return y < 0 ? 0 : y > 0.95 ? 0.95 : y;
}

/* ---- run description --------------------------------------------------- */

static void head(ctx *c)
{
    const run_results *r = &c->r;
    FILE *f = c->out;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>snitch report: ",
          f);
    h_text(f, r->dir);
    fputs("</title>\n<style>\n"
          "body { font-family: sans-serif; margin: 0 auto; max-width: 1400px; padding: 0 1.5em 3em; color: #222; }\n"
          "h1 { margin-top: 0.8em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }\n"
          "table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }\n"
          "th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }\n"
          "th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
          "table.t1 td { white-space: nowrap; font-variant-numeric: tabular-nums; }\n"
          "table.t1 caption { text-align: left; font-weight: bold; padding: 0.3em 0; }\n"
          "figure { margin: 1em 0; } figcaption { color: #444; font-size: 0.9em; max-width: 60em; }\n"
          "div.plot svg { max-width: 100%; height: auto; display: block; }\n"
          "p.missing { background: #fff4e5; border-left: 4px solid #f0a030; padding: 0.6em 1em; }\n"
          "nav ol { columns: 2; } code, pre { font-size: 0.9em; } pre { overflow-x: auto; background: #f6f6f6; padding: 0.6em; }\n"
          ".status { color: #a33; font-style: italic; }\n"
          "</style>\n</head>\n<body>\n<h1>snitch report</h1>\n",
          f);
    fputs("<table class=\"run\">\n<tr><th>run directory</th><td><code>", f);
    h_text(f, r->dir);
    fputs("</code></td></tr>\n", f);
    if (r->tool || r->version) {
        fputs("<tr><th>written by</th><td>", f);
        h_printf(f, "%s %s", r->tool ? r->tool : "", r->version ? r->version : "");
        fputs("</td></tr>\n", f);
    }
    if (r->kind) {
        fputs("<tr><th>kind</th><td>", f);
        h_text(f, r->kind);
        fputs("</td></tr>\n", f);
    }
    if (r->ncaptures) {
        fputs("<tr><th>captures</th><td>", f);
        for (size_t i = 0; i < r->ncaptures && i < 10; i++) {
            fputs(i ? ", <code>" : "<code>", f);
            h_text(f, r->captures[i]);
            fputs("</code>", f);
        }
        if (r->ncaptures > 10)
            fprintf(f, " and %zu more", r->ncaptures - 10);
        fputs("</td></tr>\n", f);
    }
    if (r->label) {
        fputs("<tr><th>labels</th><td>", f);
        h_text(f, r->label);
        fputs("</td></tr>\n", f);
    }
    if (r->options) {
        fputs("<tr><th>options</th><td><code>", f);
        h_text(f, r->options);
        fputs("</code></td></tr>\n", f);
    }
    if (r->folds >= 0 || r->seed >= 0) {
        fputs("<tr><th>cross-validation</th><td>", f);
        if (r->folds >= 0)
            fprintf(f, "%lld stratified folds", (long long)r->folds);
        if (r->seed >= 0)
            fprintf(f, "%sseed %lld", r->folds >= 0 ? ", " : "", (long long)r->seed);
        fputs("</td></tr>\n", f);
    }
    const char *names[3] = {r->table_name, r->packets_table_name, r->forest_model_name};
    const char *what[3] = {"flow table", "packet table", "forest model"};
    for (int i = 0; i < 3; i++) {
        if (!names[i])
            continue;
        fprintf(f, "<tr><th>%s</th><td><code>", what[i]);
        h_text(f, names[i]);
        fputs("</code></td></tr>\n", f);
    }
    fputs("<tr><th>thresholds</th><td>", f);
    if (!r->nthr)
        fputs("none", f);
    for (size_t t = 0; t < r->nthr; t++) {
        fprintf(f, "%s%llu", t ? "; " : "", (unsigned long long)r->thr[t].min_flows);
        if (r->thr[t].classes >= 0 || r->thr[t].flows >= 0) {
            fputs(" (", f);
            if (r->thr[t].classes >= 0)
                fprintf(f, "%lld classes", (long long)r->thr[t].classes);
            if (r->thr[t].flows >= 0)
                fprintf(f, "%s%lld flows", r->thr[t].classes >= 0 ? ", " : "", (long long)r->thr[t].flows);
            fputs(")", f);
        }
    }
    fputs(" minimum flows per label</td></tr>\n", f);
    size_t done = 0;
    for (size_t i = 0; i < r->ncells; i++)
        done += r->cells[i].done;
    fprintf(f, "<tr><th>cells</th><td>%zu models &times; %zu thresholds: %zu cells, %zu finished</td></tr>\n",
            r->nmodels, r->nthr, r->ncells, done);
    fputs("</table>\n<nav><ol>\n"
          "<li><a href=\"#sec-metrics\">Metrics per threshold</a></li>\n"
          "<li><a href=\"#sec-accuracy\">Accuracy against minimum flows</a></li>\n"
          "<li><a href=\"#sec-perclass\">Per-class accuracy</a></li>\n"
          "<li><a href=\"#sec-confusion\">Confusion matrix of the best model</a></li>\n"
          "<li><a href=\"#sec-features\">Feature histograms per class</a></li>\n"
          "<li><a href=\"#sec-importance\">Feature importances</a></li>\n"
          "<li><a href=\"#sec-tree\">A tree of the forest</a></li>\n"
          "</ol></nav>\n\n",
          f);
}

/* ---- 1. metrics per threshold ------------------------------------------ */

static const char *const metric_names[4] = {"Accuracy", "Precision (macro)", "Recall (macro)",
                                            "F1 (macro)"};

static double metric(const rp_cell *cell, int m)
{
    switch (m) {
    case 0: return cell->accuracy;
    case 1: return cell->precision;
    case 2: return cell->recall;
    default: return cell->f1;
    }
}

typedef struct ranked {
    double v;
    size_t model;
} ranked;

static int by_score(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    int xf = isfinite(x->v), yf = isfinite(y->v);
    if (xf != yf)
        return yf - xf;
    if (xf && x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return (x->model > y->model) - (x->model < y->model);
}

/* The paper's Table 1 layout: one table per metric, a column per
 * threshold, each column the models best first ("93.8% A"). */
static int metric_tables(ctx *c)
{
    const run_results *r = &c->r;
    FILE *f = c->out;
    ranked *rk = malloc((r->nmodels ? r->nmodels : 1) * sizeof *rk);
    size_t ncol = r->nmodels * r->nthr;
    ranked *col = malloc((ncol ? ncol : 1) * sizeof *col);
    size_t *nrk = calloc(r->nthr ? r->nthr : 1, sizeof *nrk);
    if (!rk || !col || !nrk) {
        free(rk);
        free(col);
        free(nrk);
        return oom(c);
    }
    for (int m = 0; m < 4; m++) {
        size_t rows = 0;
        for (size_t t = 0; t < r->nthr; t++) {
            size_t n = 0;
            for (size_t i = 0; i < r->nmodels; i++) {
                const rp_cell *cell = results_cell(r, i, t);
                if (cell)
                    rk[n++] = (ranked){cell->done ? metric(cell, m) : NAN, i};
            }
            qsort(rk, n, sizeof *rk, by_score);
            memcpy(col + t * r->nmodels, rk, n * sizeof *rk);
            nrk[t] = n;
            if (n > rows)
                rows = n;
        }
        fprintf(f, "<table class=\"t1\" id=\"table-%d\">\n<caption>", m + 1);
        h_text(f, metric_names[m]);
        fputs("</caption>\n<tr>", f);
        for (size_t t = 0; t < r->nthr; t++) {
            char tl[64];
            thr_label(&r->thr[t], tl, sizeof tl);
            fputs("<th>", f);
            h_text(f, tl);
            fputs("</th>", f);
        }
        fputs("</tr>\n", f);
        for (size_t row = 0; row < rows; row++) {
            fputs("<tr>", f);
            for (size_t t = 0; t < r->nthr; t++) {
                if (row >= nrk[t]) {
                    fputs("<td></td>", f);
                    continue;
                }
                const ranked *x = &col[t * r->nmodels + row];
                const rp_model *md = &r->models[x->model];
                const rp_cell *cell = results_cell(r, x->model, t);
                char lb[256];
                fputs("<td title=\"", f);
                h_text(f, model_label(md, lb, sizeof lb));
                fputs("\">", f);
                if (isfinite(x->v)) {
                    fprintf(f, "%.1f%% ", 100 * x->v);
                    h_text(f, md->id);
                } else {
                    h_text(f, md->id);
                    fputs(" <span class=\"status\">", f);
                    h_text(f, cell->done ? "no value" : cell->status);
                    fputs("</span>", f);
                }
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    free(rk);
    free(col);
    free(nrk);
    fputs("<table class=\"legend\">\n<tr><th>id</th><th>model</th><th>spec</th></tr>\n", f);
    for (size_t i = 0; i < r->nmodels; i++) {
        fputs("<tr><td>", f);
        h_text(f, r->models[i].id);
        fputs("</td><td>", f);
        h_text(f, r->models[i].name);
        fputs("</td><td><code>", f);
        h_text(f, r->models[i].spec);
        fputs("</code></td></tr>\n", f);
    }
    fputs("</table>\n", f);
    return 0;
}

static int sec_metrics(ctx *c)
{
    const run_results *r = &c->r;
    section_open(c, "sec-metrics", "1. Metrics per threshold");
    if (c->smallest == NONE) {
        int rc = missing(c, "metrics", "results.json has no finished cell (no model scored at any threshold)");
        if (rc == 0 && r->nthr && r->ncells)
            rc = metric_tables(c);
        section_close(c);
        return rc;
    }
    size_t t = c->smallest, ns = 0;
    const char **series = malloc(r->nmodels * sizeof *series);
    char (*labels)[256] = malloc(r->nmodels * sizeof *labels);
    unsigned *colors = malloc(r->nmodels * sizeof *colors);
    double *v = malloc(4 * r->nmodels * sizeof *v);
    if (!series || !labels || !colors || !v) {
        free(series), free(labels), free(colors), free(v);
        return oom(c);
    }
    double lo = INFINITY;
    size_t *cols = malloc(r->nmodels * sizeof *cols);
    if (!cols) {
        free(series), free(labels), free(colors), free(v);
        return oom(c);
    }
    for (size_t i = 0; i < r->nmodels; i++) {
        const rp_cell *cell = results_cell(r, i, t);
        if (!cell || !cell->done)
            continue;
        series[ns] = model_label(&r->models[i], labels[ns], sizeof labels[ns]);
        colors[ns] = plot_color(i);
        cols[ns++] = i;
    }
    for (int m = 0; m < 4; m++)
        for (size_t s = 0; s < ns; s++) {
            double x = metric(results_cell(r, cols[s], t), m);
            v[m * ns + s] = x;
            if (isfinite(x) && x < lo)
                lo = x;
        }
    plot_bars b = {metric_names, 4, series, ns, colors, v, "score", axis_floor(lo), 1.0,
                   720 + 12 * (int)(ns > 15 ? 15 : ns), 420, 0};
    char *svg = NULL;
    int rc = plot_grouped_bars(&c->pl, &b, &svg, c->e);
    if (rc == 0) {
        char cap[512];
        char tl[64];
        thr_label(&r->thr[t], tl, sizeof tl);
        snprintf(cap, sizeof cap,
                 "Figure 1. Accuracy and macro-averaged precision, recall and F1 of each model at the "
                 "smallest threshold, %s (minimum flows per label / classes), as the paper's figure 11. "
                 "Pooled out-of-fold scores of the cross-validation. The tables below give every "
                 "threshold in the layout of the paper's Table 1: each column lists the models best first.",
                 tl);
        figure(c, "fig-metrics", svg, cap);
        rc = metric_tables(c);
    }
    free(svg);
    free(series);
    free(labels);
    free(colors);
    free(v);
    free(cols);
    section_close(c);
    return rc;
}

/* ---- 2. accuracy against minimum flows --------------------------------- */

static int sec_accuracy(ctx *c)
{
    const run_results *r = &c->r;
    section_open(c, "sec-accuracy", "2. Accuracy against minimum flows per label");
    if (c->smallest == NONE) {
        int rc = missing(c, "accuracy", "results.json has no finished cell");
        section_close(c);
        return rc;
    }
    size_t nx = 0, ns = 0;
    double *x = malloc(r->nthr * sizeof *x);
    size_t *tix = malloc(r->nthr * sizeof *tix);
    const char **series = malloc(r->nmodels * sizeof *series);
    char (*labels)[256] = malloc(r->nmodels * sizeof *labels);
    unsigned *colors = malloc(r->nmodels * sizeof *colors);
    double *y = malloc(r->nmodels * r->nthr * sizeof *y);
    if (!x || !tix || !series || !labels || !colors || !y) {
        free(x), free(tix), free(series), free(labels), free(colors), free(y);
        return oom(c);
    }
    for (size_t t = 0; t < r->nthr; t++) {
        int any = 0;
        for (size_t i = 0; i < r->nmodels; i++) {
            const rp_cell *cell = results_cell(r, i, t);
            any |= cell && cell->done && isfinite(cell->accuracy);
        }
        if (any) {
            x[nx] = (double)r->thr[t].min_flows;
            tix[nx++] = t;
        }
    }
    double lo = INFINITY;
    for (size_t i = 0; i < r->nmodels; i++) {
        int any = 0;
        for (size_t q = 0; q < nx; q++) {
            const rp_cell *cell = results_cell(r, i, tix[q]);
            double a = cell && cell->done ? cell->accuracy : NAN;
            y[ns * nx + q] = a;
            if (isfinite(a)) {
                any = 1;
                if (a < lo)
                    lo = a;
            }
        }
        if (any) {
            series[ns] = model_label(&r->models[i], labels[ns], sizeof labels[ns]);
            colors[ns++] = plot_color(i);
        }
    }
    int rc = 0;
    if (nx == 0) {
        rc = missing(c, "accuracy", "no finished cell has an accuracy");
    } else {
        plot_lines l = {x, nx, series, ns, colors, y, "minimum flows per label", "accuracy",
                        axis_floor(lo), 1.0, 900, 460};
        char *svg = NULL;
        rc = plot_line_chart(&c->pl, &l, &svg, c->e);
        if (rc == 0) {
            char cap[512];
            snprintf(cap, sizeof cap,
                     "Figure 2. Cross-validated accuracy of each model as the minimum number of flows a "
                     "label needs to be kept grows (fewer, larger classes to the right), as the paper's "
                     "figures 5, 8 and 9.%s",
                     nx == 1 ? " Only one threshold has results, so each model is a single point." : "");
            figure(c, "fig-accuracy", svg, cap);
        }
        free(svg);
    }
    free(x), free(tix), free(series), free(labels), free(colors), free(y);
    section_close(c);
    return rc;
}

/* ---- 3. per-class accuracy ---------------------------------------------- */

typedef struct cls_sup {
    const char *name;
    uint64_t support;
} cls_sup;

static int by_support(const void *a, const void *b)
{
    const cls_sup *x = a, *y = b;
    if (x->support != y->support)
        return x->support < y->support ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int sec_perclass(ctx *c)
{
    const run_results *r = &c->r;
    section_open(c, "sec-perclass", "3. Per-class accuracy");
    if (c->largest == NONE) {
        int rc = missing(c, "per-class", "results.json has no finished cell");
        section_close(c);
        return rc;
    }
    size_t t = c->largest;
    /* The classes: every name in the finished cells' per-class lists. */
    size_t ncls = 0, ccap = 0, nm = 0;
    cls_sup *cls = NULL;
    size_t *mods = malloc(r->nmodels * sizeof *mods);
    if (!mods)
        return oom(c);
    for (size_t i = 0; i < r->nmodels; i++) {
        const rp_cell *cell = results_cell(r, i, t);
        if (!cell || !cell->done || !cell->nper_class)
            continue;
        mods[nm++] = i;
        for (size_t k = 0; k < cell->nper_class; k++) {
            size_t j = 0;
            while (j < ncls && strcmp(cls[j].name, cell->per_class[k].name))
                j++;
            if (j < ncls)
                continue;
            if (ncls == ccap) {
                ccap = ccap ? 2 * ccap : 64;
                cls_sup *n = realloc(cls, ccap * sizeof *cls);
                if (!n) {
                    free(cls), free(mods);
                    return oom(c);
                }
                cls = n;
            }
            cls[ncls++] = (cls_sup){cell->per_class[k].name, cell->per_class[k].support};
        }
    }
    char tl[64];
    thr_label(&r->thr[t], tl, sizeof tl);
    int rc = 0;
    if (nm == 0) {
        rc = missing(c, "per-class", "no finished cell at min flows %llu has a per_class list",
                     (unsigned long long)r->thr[t].min_flows);
        free(cls), free(mods);
        section_close(c);
        return rc;
    }
    qsort(cls, ncls, sizeof *cls, by_support);
    size_t shown = ncls < c->o->max_classes ? ncls : c->o->max_classes;
    const char **groups = malloc(shown * sizeof *groups);
    const char **series = malloc(nm * sizeof *series);
    char (*labels)[256] = malloc(nm * sizeof *labels);
    unsigned *colors = malloc(nm * sizeof *colors);
    double *v = malloc(shown * nm * sizeof *v);
    if (!groups || !series || !labels || !colors || !v) {
        rc = oom(c);
        goto out;
    }
    double lo = INFINITY;
    for (size_t g = 0; g < shown; g++) {
        groups[g] = cls[g].name;
        for (size_t s = 0; s < nm; s++) {
            const rp_cell *cell = results_cell(r, mods[s], t);
            double x = NAN;
            for (size_t k = 0; k < cell->nper_class; k++)
                if (!strcmp(cell->per_class[k].name, cls[g].name))
                    x = cell->per_class[k].recall;
            v[g * nm + s] = x;
            if (isfinite(x) && x < lo)
                lo = x;
        }
    }
    for (size_t s = 0; s < nm; s++) {
        series[s] = model_label(&r->models[mods[s]], labels[s], sizeof labels[s]);
        colors[s] = plot_color(mods[s]);
    }
    int width = 260 + (int)(shown * (nm * 9 + 16));
    width = width < 900 ? 900 : width > 1800 ? 1800 : width;
    plot_bars b = {groups, shown, series, nm, colors, v, "accuracy (recall) of the class",
                   lo < 0.5 ? 0 : axis_floor(lo), 1.0, width, 560, 1};
    char *svg = NULL;
    rc = plot_grouped_bars(&c->pl, &b, &svg, c->e);
    if (rc == 0) {
        char cap[768], which[160];
        if (shown < ncls)
            snprintf(which, sizeof which, "The %zu largest of the %zu classes (by flows) are shown. ",
                     shown, ncls);
        else
            snprintf(which, sizeof which, "All %zu classes, largest first. ", ncls);
        snprintf(cap, sizeof cap,
                 "Figure 3. Per-class accuracy of each model at the largest threshold, %s (minimum flows "
                 "/ classes), as the paper's figures 7 and 10: the share of a class's flows that the "
                 "model labels right (the class's recall). %s",
                 tl, which);
        figure(c, "fig-perclass", svg, cap);
        /* The numbers, folded away. */
        FILE *f = c->out;
        fputs("<details><summary>per-class table</summary>\n<table>\n<tr><th>class</th><th>flows</th>", f);
        for (size_t s = 0; s < nm; s++) {
            fputs("<th>", f);
            h_text(f, r->models[mods[s]].id);
            fputs("</th>", f);
        }
        fputs("</tr>\n", f);
        for (size_t g = 0; g < shown; g++) {
            fputs("<tr><td>", f);
            h_text(f, cls[g].name);
            fprintf(f, "</td><td class=\"num\">%llu</td>", (unsigned long long)cls[g].support);
            for (size_t s = 0; s < nm; s++) {
                double x = v[g * nm + s];
                if (isfinite(x))
                    fprintf(f, "<td class=\"num\">%.1f%%</td>", 100 * x);
                else
                    fputs("<td></td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n</details>\n", f);
    }
    free(svg);
out:
    free(groups), free(series), free(labels), free(colors), free(v), free(cls), free(mods);
    section_close(c);
    return rc;
}

/* ---- 4. confusion matrix ------------------------------------------------- */

typedef struct row_sum {
    uint64_t n;
    size_t i;
} row_sum;

static int by_rowsum(const void *a, const void *b)
{
    const row_sum *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

static int sec_confusion(ctx *c)
{
    const run_results *r = &c->r;
    section_open(c, "sec-confusion", "4. Confusion matrix of the best model");
    if (c->largest == NONE) {
        int rc = missing(c, "confusion", "results.json has no finished cell");
        section_close(c);
        return rc;
    }
    size_t t = c->largest, best = NONE;
    for (size_t i = 0; i < r->nmodels; i++) {
        const rp_cell *cell = results_cell(r, i, t);
        if (cell && cell->done && isfinite(cell->accuracy) &&
            (best == NONE || cell->accuracy > results_cell(r, best, t)->accuracy))
            best = i;
    }
    int rc = 0;
    if (best == NONE) {
        rc = missing(c, "confusion", "no finished cell at min flows %llu has an accuracy",
                     (unsigned long long)r->thr[t].min_flows);
        section_close(c);
        return rc;
    }
    const rp_cell *cell = results_cell(r, best, t);
    char ml[256];
    model_label(&r->models[best], ml, sizeof ml);
    if (!cell->confusion) {
        rc = missing(c, "confusion", "the best model at min flows %llu (%s) has no confusion matrix in results.json",
                     (unsigned long long)r->thr[t].min_flows, ml);
        section_close(c);
        return rc;
    }
    confusion cf;
    if (confusion_read(cell->confusion, &cf, c->e) < 0) {
        section_close(c);
        return -1;
    }
    size_t k = cf.k, shown = k < c->o->max_classes ? k : c->o->max_classes;
    row_sum *rs = malloc(k * sizeof *rs);
    double *v = malloc(shown * shown * sizeof *v);
    uint64_t *cnt = malloc(shown * shown * sizeof *cnt);
    const char **labels = malloc(shown * sizeof *labels);
    if (!rs || !v || !cnt || !labels) {
        rc = oom(c);
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        rs[i] = (row_sum){0, i};
        for (size_t j = 0; j < k; j++)
            rs[i].n += cf.n[i * k + j];
    }
    qsort(rs, k, sizeof *rs, by_rowsum);
    for (size_t a = 0; a < shown; a++) {
        labels[a] = cf.classes[rs[a].i];
        for (size_t b = 0; b < shown; b++) {
            uint64_t n = cf.n[rs[a].i * k + rs[b].i];
            cnt[a * shown + b] = n;
            /* share of the whole true class, also its flows predicted as
             * classes not shown */
            v[a * shown + b] = rs[a].n ? (double)n / (double)rs[a].n : 0;
        }
    }
    int size = 260 + 20 * (int)shown;
    size = size < 560 ? 560 : size > 1100 ? 1100 : size;
    plot_heat h = {labels, shown, v, cnt, "predicted class", "true class",
                   "share of the true class's flows", size};
    char *svg = NULL;
    rc = plot_heatmap(&c->pl, &h, &svg, c->e);
    if (rc == 0) {
        char tl[64], cap[1024], which[200];
        thr_label(&r->thr[t], tl, sizeof tl);
        if (shown < k)
            snprintf(which, sizeof which,
                     " The %zu largest of the %zu classes are shown; flows predicted as a class not shown "
                     "count in their row's total but are not drawn.",
                     shown, k);
        else
            which[0] = 0;
        snprintf(cap, sizeof cap,
                 "Figure 4. Confusion matrix of the most accurate model at the largest threshold, %s "
                 "(accuracy %.1f%%, threshold %s): rows are the true classes, columns the predicted "
                 "ones, largest classes first; the colour is the share of the row's flows%s.%s",
                 ml, 100 * cell->accuracy, tl, shown <= 15 ? ", the numbers are flows" : "", which);
        figure(c, "fig-confusion", svg, cap);
    }
    free(svg);
out:
    free(rs), free(v), free(cnt), free(labels);
    confusion_free(&cf);
    section_close(c);
    return rc;
}

/* ---- 5. feature histograms ------------------------------------------------ */

typedef struct cls_n {
    uint64_t n;
    int32_t k;
} cls_n;

static int by_count(const void *a, const void *b)
{
    const cls_n *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return (x->k > y->k) - (x->k < y->k);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n). */
static double quantile(const double *v, size_t n, double q)
{
    if (!n)
        return 0;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (v[i + 1] - v[i]) * (pos - (double)i);
}

typedef struct hist_feature {
    const char *name;           /* column, or NULL for a product */
    const char *a, *b;          /* product of two columns */
    const char *title, *xlabel;
    int logx;                   /* try a log scale */
} hist_feature;

/* The statistics shown when there is no per-packet table. */
static const hist_feature stat_features[] = {
    {"pkt_bwd_num", NULL, NULL, "packets server to client (pkt_bwd_num)", "packets", 1},
    {NULL, "pkt_bwd_num", "pkt_bwd_mean", "bytes server to client (pkt_bwd_num x pkt_bwd_mean)", "bytes", 1},
    {"pkt_bwd_mean", NULL, NULL, "mean packet size server to client (pkt_bwd_mean)", "bytes", 0},
    {"iat_all_p50", NULL, NULL, "median inter-arrival time (iat_all_p50)", "seconds", 1},
};

/* Bin edges for values sorted[0..n): maxb bins between the 0.5th and
 * 99.5th percentiles, on a log scale when asked and the values span more
 * than a factor 20 (positive ones only); integral values in a range of at
 * most maxb get one bin per integer.  Returns bins, edges in e[0..bins]. */
static size_t bin_edges(const double *sorted, size_t n, int logx, int *used_log, double *e, size_t maxb)
{
    *used_log = 0;
    int integral = 1;
    for (size_t i = 0; i < n && integral; i++)
        integral = sorted[i] == floor(sorted[i]);
    double lo = quantile(sorted, n, 0.005), hi = quantile(sorted, n, 0.995);
    if (logx) {
        size_t p = 0;
        while (p < n && !(sorted[p] > 0))
            p++;
        if (p < n) {
            double plo = quantile(sorted + p, n - p, 0.005), phi = quantile(sorted + p, n - p, 0.995);
            if (plo > 0 && phi / plo > 20) {
                *used_log = 1;
                double a = log10(plo), b = log10(phi);
                for (size_t i = 0; i <= maxb; i++)
                    e[i] = pow(10, a + (b - a) * (double)i / (double)maxb);
                return maxb;
            }
        }
    }
    if (integral && hi - lo <= (double)maxb) {
        size_t nb = (size_t)(hi - lo) + 1;
        for (size_t i = 0; i <= nb; i++)
            e[i] = lo + (double)i;
        return nb;
    }
    if (!(hi > lo))
        hi = lo + 1;
    for (size_t i = 0; i <= maxb; i++)
        e[i] = lo + (hi - lo) * (double)i / (double)maxb;
    return maxb;
}

/* Bin of x (values outside go to the end bins). */
static size_t bin_of(const double *e, size_t nb, double x)
{
    if (!(x >= e[1]))
        return 0;
    if (x >= e[nb - 1])
        return nb - 1;
    size_t lo = 1, hi = nb - 1;     /* e[lo] <= x < e[hi] */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (x >= e[mid])
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

#define HIST_BINS 40
#define HIST_MAX_INT_BINS 80
/* More step lines than this in one panel cannot be told apart. */
#define HIST_MAX_CLASSES 20

static int sec_features(ctx *c)
{
    const run_results *r = &c->r;
    section_open(c, "sec-features", "5. Feature histograms per class");
    /* Which table and which columns. */
    const char *path = r->packets_table, *shown_name = r->packets_table_name;
    int window = path != NULL;
    char **hdr = NULL;
    size_t nh = 0;
    if (!path && r->table) {
        path = r->table;
        shown_name = r->table_name;
        if (csv_header(path, &hdr, &nh, c->e) < 0) {
            section_close(c);
            return -1;
        }
        for (size_t i = 0; i < nh; i++)
            window |= !strcmp(hdr[i], "rx_pkts");
    }
    if (!path) {
        int rc = missing(c, "features", "results.json names no table (\"table\" or \"packets_table\")");
        section_close(c);
        return rc;
    }
    const hist_feature win_feature = {"rx_pkts", NULL, NULL,
                                      "packets received in the 10 ms before each packet (rx_pkts)",
                                      "packets received in the previous 10 ms", 0};
    const hist_feature *feats[4];
    size_t nf = 0;
    if (window) {
        feats[nf++] = &win_feature;
    } else {
        for (size_t q = 0; q < sizeof stat_features / sizeof *stat_features; q++) {
            const hist_feature *hf = &stat_features[q];
            int have_a = 0, have_b = 0;
            for (size_t i = 0; i < nh; i++) {
                have_a |= !strcmp(hdr[i], hf->name ? hf->name : hf->a);
                have_b |= hf->b && !strcmp(hdr[i], hf->b);
            }
            if (have_a && (!hf->b || have_b))
                feats[nf++] = hf;
        }
    }
    free(hdr);
    if (nf == 0) {
        int rc = missing(c, "features", "%s has neither the window column rx_pkts nor the statistics "
                         "pkt_bwd_num, pkt_bwd_mean, iat_all_p50", shown_name);
        section_close(c);
        return rc;
    }
    /* The columns to read, each once. */
    const char *cols[8];
    size_t ncols = 0;
    for (size_t q = 0; q < nf; q++) {
        const char *need[2] = {feats[q]->name ? feats[q]->name : feats[q]->a, feats[q]->b};
        for (int u = 0; u < 2; u++) {
            if (!need[u])
                continue;
            size_t j = 0;
            while (j < ncols && strcmp(cols[j], need[u]))
                j++;
            if (j == ncols)
                cols[ncols++] = need[u];
        }
    }
    table tb;
    table_spec spec = {cols, ncols, 0, 0};
    if (table_read(path, &spec, &tb, c->e) < 0) {
        section_close(c);
        return -1;
    }
    int rc = 0;
    cls_n *cn = calloc(tb.nclasses ? tb.nclasses : 1, sizeof *cn);
    double *vals = NULL, *ev = NULL, *share = NULL;
    plot_hist_panel panels[4];
    memset(panels, 0, sizeof panels);
    const char **series = NULL;
    unsigned *colors = NULL;
    int32_t *slot = NULL;
    if (!cn) {
        rc = oom(c);
        goto out;
    }
    for (size_t k = 0; k < tb.nclasses; k++)
        cn[k].k = (int32_t)k;
    for (size_t i = 0; i < tb.nrows; i++)
        if (tb.y[i] >= 0)
            cn[tb.y[i]].n++;
    qsort(cn, tb.nclasses, sizeof *cn, by_count);
    size_t ns = tb.nclasses < c->o->hist_classes ? tb.nclasses : c->o->hist_classes;
    if (ns > HIST_MAX_CLASSES)
        ns = HIST_MAX_CLASSES;
    while (ns > 0 && cn[ns - 1].n == 0)
        ns--;
    if (ns == 0) {
        rc = missing(c, "features", "%s has no labeled rows", shown_name);
        goto out;
    }
    /* slot[class] = its series, -1 when not shown */
    slot = malloc(tb.nclasses * sizeof *slot);
    series = malloc(ns * sizeof *series);
    colors = malloc(ns * sizeof *colors);
    size_t nsel = 0;
    if (!slot || !series || !colors) {
        rc = oom(c);
        goto out;
    }
    for (size_t k = 0; k < tb.nclasses; k++)
        slot[k] = -1;
    for (size_t s = 0; s < ns; s++) {
        slot[cn[s].k] = (int32_t)s;
        series[s] = tb.classes[cn[s].k];
        colors[s] = plot_color(s);
        nsel += cn[s].n;
    }
    vals = malloc((nsel ? nsel : 1) * sizeof *vals);
    ev = malloc(nf * (HIST_MAX_INT_BINS + 2) * sizeof *ev);
    share = calloc(nf * ns * (HIST_MAX_INT_BINS + 1), sizeof *share);
    if (!vals || !ev || !share) {
        rc = oom(c);
        goto out;
    }
    double means[HIST_MAX_CLASSES];
    char xlabels[4][96];
    for (size_t q = 0; q < nf; q++) {
        const hist_feature *hf = feats[q];
        size_t ja = 0, jb = 0;
        for (size_t j = 0; j < tb.nfeat; j++) {
            if (!strcmp(tb.feat[j], hf->name ? hf->name : hf->a))
                ja = j;
            if (hf->b && !strcmp(tb.feat[j], hf->b))
                jb = j;
        }
        size_t n = 0;
        for (size_t i = 0; i < tb.nrows; i++) {
            if (tb.y[i] < 0 || slot[tb.y[i]] < 0)
                continue;
            double x = tb.x[i * tb.nfeat + ja];
            if (hf->b)
                x *= tb.x[i * tb.nfeat + jb];
            vals[n++] = x;
        }
        qsort(vals, n, sizeof *vals, cmp_double);
        double *e = ev + q * (HIST_MAX_INT_BINS + 2);
        int used_log;
        /* Rice's rule (2 n^(1/3) bins) within [10, 40]: a few hundred flows
         * spread over 40 bins would be mostly noise. */
        size_t rice = (size_t)ceil(2 * cbrt((double)n));
        rice = rice < 10 ? 10 : rice > HIST_BINS ? HIST_BINS : rice;
        size_t nb = bin_edges(vals, n, hf->logx, &used_log, e, window ? HIST_MAX_INT_BINS : rice);
        double *sh = share + q * ns * (HIST_MAX_INT_BINS + 1);
        /* shares per class (each class sums to 1), and means */
        double sum[HIST_MAX_CLASSES] = {0};
        for (size_t i = 0; i < tb.nrows; i++) {
            if (tb.y[i] < 0 || slot[tb.y[i]] < 0)
                continue;
            size_t s = (size_t)slot[tb.y[i]];
            double x = tb.x[i * tb.nfeat + ja];
            if (hf->b)
                x *= tb.x[i * tb.nfeat + jb];
            sh[s * nb + bin_of(e, nb, x)] += 1;
            sum[s] += x;
        }
        for (size_t s = 0; s < ns; s++) {
            for (size_t b = 0; b < nb; b++)
                sh[s * nb + b] /= (double)cn[s].n;
            if (q == 0)
                means[s] = sum[s] / (double)cn[s].n;
        }
        snprintf(xlabels[q], sizeof xlabels[q], "%s%s", hf->xlabel, used_log ? " (log scale)" : "");
        panels[q] = (plot_hist_panel){hf->title, xlabels[q], nb, e, sh, used_log};
    }
    plot_hists hs = {panels, nf, nf > 1 ? 2 : 1, series, ns, colors,
                     window ? "share of the class's packets" : "share of the class's flows",
                     nf > 1 ? 1300 : 1000, nf > 2 ? 900 : 480};
    char *svg = NULL;
    rc = plot_histograms(&c->pl, &hs, &svg, c->e);
    if (rc == 0) {
        char cap[1024], which[200];
        if (ns < tb.nclasses)
            snprintf(which, sizeof which, "The %zu largest of the %zu classes are drawn. ", ns, tb.nclasses);
        else
            snprintf(which, sizeof which, "All %zu classes are drawn. ", ns);
        if (window)
            snprintf(cap, sizeof cap,
                     "Figure 5. Packets received (server to client) in the 10 ms before each packet, per "
                     "class, from %s: seed 000's histograms of YouTube against Spotify. Each class's bars "
                     "add up to 1, so classes of different sizes compare; the last bin also holds the "
                     "values above it. %s",
                     shown_name, which);
        else
            snprintf(cap, sizeof cap,
                     "Figure 5. Distributions of flow statistics per class, from %s (no per-packet table "
                     "in this run, so not seed 000's packets per 10 ms). Each class's histogram adds up "
                     "to 1; bins span the 0.5th to 99.5th percentiles, values beyond them count in the end "
                     "bins; wide-ranging features on a log scale. %s",
                     shown_name, which);
        figure(c, "fig-features", svg, cap);
        FILE *f = c->out;
        fputs("<table>\n<tr><th>class</th><th>", f);
        fputs(window ? "packets" : "flows", f);
        fputs("</th><th>mean ", f);
        h_text(f, feats[0]->name ? feats[0]->name : feats[0]->title);
        fputs("</th></tr>\n", f);
        for (size_t s = 0; s < ns; s++) {
            fputs("<tr><td>", f);
            h_text(f, series[s]);
            fprintf(f, "</td><td class=\"num\">%llu</td><td class=\"num\">%.4g</td></tr>\n",
                    (unsigned long long)cn[s].n, means[s]);
        }
        fputs("</table>\n", f);
    }
    free(svg);
out:
    free(cn), free(vals), free(ev), free(share), free(series), free(colors), free(slot);
    table_free(&tb);
    section_close(c);
    return rc;
}

/* ---- 6. importances ------------------------------------------------------- */

typedef struct imp {
    double v;
    size_t i;
} imp;

static int by_imp(const void *a, const void *b)
{
    const imp *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The run's forest, loaded on first use: NULL (a section said why) when
 * there is none or it is not a forest; -1 in *rc on a load error. */
static model *get_forest(ctx *c, const char *section, int *rc)
{
    *rc = 0;
    if (c->forest)
        return c->forest;
    if (!c->r.forest_model) {
        *rc = missing(c, section, "results.json names no forest_model");
        return NULL;
    }
    model *m = model_load(c->r.forest_model, c->e);
    if (!m) {
        *rc = -1;
        return NULL;
    }
    if (m->kind != MODEL_FOREST || !m->forest) {
        *rc = missing(c, section, "%s is a %s model, not a forest", c->r.forest_model_name,
                      model_kind_name(m->kind));
        model_free(m);
        return NULL;
    }
    c->forest = m;
    return m;
}

static int sec_importance(ctx *c)
{
    section_open(c, "sec-importance", "6. Feature importances of the forest");
    int rc;
    model *m = get_forest(c, "importances", &rc);
    if (!m) {
        section_close(c);
        return rc;
    }
    size_t nf = m->nfeat, shown = nf < c->o->top_features ? nf : c->o->top_features;
    double *v = malloc(nf * sizeof *v), *top = malloc(nf * sizeof *top);
    imp *order = malloc(nf * sizeof *order);
    const char **labels = malloc(nf * sizeof *labels);
    if (!v || !top || !order || !labels) {
        free(v), free(top), free(order), free(labels);
        section_close(c);
        return oom(c);
    }
    forest_importances(m->forest, v);
    for (size_t i = 0; i < nf; i++)
        order[i] = (imp){v[i], i};
    qsort(order, nf, sizeof *order, by_imp);
    double covered = 0;
    for (size_t i = 0; i < shown; i++) {
        labels[i] = m->feat[order[i].i];
        top[i] = order[i].v;
        covered += order[i].v;
    }
    char *svg = NULL;
    rc = plot_hbars(&c->pl, labels, top, shown, "importance (mean decrease in Gini impurity)",
                    plot_color(0), &svg, c->e);
    if (rc == 0) {
        char cap[768];
        snprintf(cap, sizeof cap,
                 "Figure 6. The %zu most important of the forest's %zu features (%s: %d trees, trained on "
                 "%llu flows of %zu classes): mean decrease in Gini impurity, normalized to add up to 1 "
                 "over all features (scikit-learn's feature_importances_); the ones shown hold %.1f%% of "
                 "it.",
                 shown, nf, c->r.forest_model_name, forest_ntrees(m->forest),
                 (unsigned long long)m->train_rows, m->nclasses, 100 * covered);
        figure(c, "fig-importance", svg, cap);
    }
    free(svg);
    free(v), free(top), free(order), free(labels);
    section_close(c);
    return rc;
}

/* ---- 7. one tree ------------------------------------------------------------ */

static int sec_tree(ctx *c)
{
    section_open(c, "sec-tree", "7. A tree of the forest");
    int rc;
    model *m = get_forest(c, "tree", &rc);
    if (!m) {
        section_close(c);
        return rc;
    }
    char *dot = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&dot, &len);
    if (!mf) {
        section_close(c);
        return oom(c);
    }
    int d = forest_tree_dot_limited(m->forest, 0, (const char *const *)m->feat,
                                    (const char *const *)m->classes, c->o->tree_depth, 1, mf);
    if (fclose(mf) != 0 || d < 0) {
        free(dot);
        section_close(c);
        return err_set(c->e, "%s: cannot write tree 0 as dot", c->r.forest_model_name);
    }
    char depth[64];
    if (c->o->tree_depth > 0)
        snprintf(depth, sizeof depth, "its first %d levels", c->o->tree_depth);
    else
        snprintf(depth, sizeof depth, "all of it");
    char cap[1024];
    snprintf(cap, sizeof cap,
             "Figure 7. Tree 0 of the forest's %d (%s), %s, as seed 000 draws one. Each box: the split "
             "(feature <= threshold; the left branch is true), Gini impurity, distinct bootstrap rows, "
             "the class distribution and its majority class; colour by majority class, stronger when "
             "purer; (...) stands for a subtree left out.",
             forest_ntrees(m->forest), c->r.forest_model_name, depth);
    char *svg = NULL;
    rc = plot_dot(&c->pl, dot, len, &svg, c->e);
    if (rc == 0) {
        figure(c, "fig-tree", svg, cap);
    } else if (rc == 1) {
        FILE *f = c->out;
        if (c->o->dot_href) {
            fputs("<p class=\"missing\">Graphviz <code>dot</code> is not installed, so the tree is not "
                  "drawn here: it is in <a href=\"",
                  f);
            h_text(f, c->o->dot_href);
            fputs("\">", f);
            h_text(f, c->o->dot_href);
            fputs("</a> (draw it with <code>dot -Tsvg ", f);
            h_text(f, c->o->dot_href);
            fputs(" -o tree.svg</code>), and its text is below.</p>\n", f);
            rc = add_note(c, "tree: Graphviz dot is not installed: the tree is in %s", c->o->dot_href);
        } else {
            fputs("<p class=\"missing\">Graphviz <code>dot</code> is not installed, so the tree is not "
                  "drawn here; its dot text is below.</p>\n",
                  f);
            rc = add_note(c, "tree: Graphviz dot is not installed: the tree is given as dot text");
        }
        fputs("<details><summary>tree 0 in dot form</summary><pre>", f);
        h_text(f, dot);
        fputs("</pre></details>\n<p>", f);
        h_text(f, cap);
        fputs("</p>\n", f);
        c->info->dot_text = dot;
        c->info->dot_len = len;
        dot = NULL;
    }
    free(svg);
    free(dot);
    section_close(c);
    return rc;
}

/* ---- the page ------------------------------------------------------------ */

int report_write(const report_opts *o, FILE *out, report_info *info, snitch_err *e)
{
    memset(info, 0, sizeof *info);
    ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.out = out;
    c.info = info;
    c.e = e;
    if (results_load(o->run_dir, &c.r, e) < 0)
        return -1;
    plotter_init(&c.pl, o->gnuplot, o->dot);
    int rc = plot_check(&c.pl, e);
    if (rc == 0) {
        c.smallest = c.largest = NONE;
        for (size_t t = 0; t < c.r.nthr; t++)
            for (size_t i = 0; i < c.r.nmodels; i++) {
                const rp_cell *cell = results_cell(&c.r, i, t);
                if (cell && cell->done) {
                    if (c.smallest == NONE)
                        c.smallest = t;
                    c.largest = t;
                }
            }
        head(&c);
        int (*const sections[])(ctx *) = {sec_metrics, sec_accuracy, sec_perclass, sec_confusion,
                                          sec_features, sec_importance, sec_tree};
        for (size_t s = 0; rc == 0 && s < sizeof sections / sizeof *sections; s++)
            rc = sections[s](&c);
    }
    if (rc == 0) {
        fputs("<footer><p>Written by <code>snitch report</code>. The page is self-contained: every "
              "figure is inline SVG drawn by gnuplot (the tree by Graphviz), and it loads nothing.</p>"
              "</footer>\n</body>\n</html>\n",
              out);
        if (ferror(out))
            rc = err_set(e, "writing the report failed");
    }
    info->figures = c.info->figures;
    model_free(c.forest);
    results_free(&c.r);
    return rc < 0 ? -1 : 0;
}
