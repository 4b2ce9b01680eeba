/* plot.h - the report's figures: gnuplot scripts written from plain
 * arrays, gnuplot (and Graphviz dot) run as child processes, their SVG
 * made fit to sit inline in an HTML page.
 *
 * Owns: plotter (which programs, a timeout, a figure counter) and the SVG
 * strings it returns (the caller frees them).  Every figure is drawn by
 * gnuplot's svg terminal, never by hand; data goes in `$D << EOD` blocks
 * of numbers only, and every text (class names, model names, feature
 * names) goes in single-quoted gnuplot strings with control characters
 * and invalid UTF-8 replaced, with enhanced text mode off so "_" and "^"
 * in names stay themselves.  Values that are NaN are left out ('?'). */
#ifndef SNITCH_PLOT_H
#define SNITCH_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct plotter {
    const char *gnuplot;        /* program name or path */
    const char *dot;
    int timeout_ms;
    unsigned figures;           /* figures made so far: id prefixes */
} plotter;

void plotter_init(plotter *p, const char *gnuplot, const char *dot);

/* Is gnuplot there, with its svg terminal?  0, or -1 with e saying what
 * to install. */
int plot_check(plotter *p, snitch_err *e);

/* A qualitative colour (0xRRGGBB) for series i: models and classes keep
 * their colour from figure to figure. */
unsigned plot_color(size_t i);

/* Bars in groups (x categories), one bar per series in each group. */
typedef struct plot_bars {
    const char *const *groups;
    size_t ngroups;
    const char *const *series;      /* legend entries */
    size_t nseries;
    const unsigned *colors;         /* per series */
    const double *v;                /* ngroups x nseries, NaN: no bar */
    const char *ylabel;
    double ymin, ymax;
    int width, height;
    int rotate;                     /* slant the group labels */
} plot_bars;
int plot_grouped_bars(plotter *p, const plot_bars *b, char **svg, snitch_err *e);

/* One line (with points) per series over shared x values. */
typedef struct plot_lines {
    const double *x;
    size_t nx;
    const char *const *series;
    size_t nseries;
    const unsigned *colors;
    const double *y;                /* nseries x nx, NaN: no point */
    const char *xlabel, *ylabel;
    double ymin, ymax;
    int width, height;
} plot_lines;
int plot_line_chart(plotter *p, const plot_lines *l, char **svg, snitch_err *e);

/* A k x k heatmap (rows top to bottom), values 0..1; counts written in
 * the cells when k is small (count may be NULL). */
typedef struct plot_heat {
    const char *const *labels;
    size_t k;
    const double *v;                /* k x k, row-major */
    const uint64_t *count;          /* k x k or NULL */
    const char *xlabel, *ylabel, *cblabel;
    int size;                       /* pixels, square */
} plot_heat;
int plot_heatmap(plotter *p, const plot_heat *h, char **svg, snitch_err *e);

/* Horizontal bars, the first label at the top. */
int plot_hbars(plotter *p, const char *const *labels, const double *v, size_t n,
               const char *xlabel, unsigned color, char **svg, snitch_err *e);

/* Histogram panels side by side, one step line per series in each. */
typedef struct plot_hist_panel {
    const char *title, *xlabel;
    size_t nbins;
    const double *edges;            /* nbins + 1, increasing */
    const double *v;                /* nseries x nbins */
    int logx;                       /* edges > 0, log scale */
} plot_hist_panel;
typedef struct plot_hists {
    const plot_hist_panel *panels;
    size_t npanels, cols;
    const char *const *series;
    size_t nseries;
    const unsigned *colors;
    const char *ylabel;
    int width, height;
} plot_hists;
int plot_histograms(plotter *p, const plot_hists *h, char **svg, snitch_err *e);

/* Graphviz dot text -> inline SVG.  0; 1 when dot is not installed (the
 * caller then offers the .dot file instead); -1 with e. */
int plot_dot(plotter *p, const char *dot_text, size_t len, char **svg, snitch_err *e);

/* Run a whole gnuplot script; *svg its figure made inline.  0 or -1. */
int plot_gnuplot(plotter *p, const char *script, size_t len, char **svg, snitch_err *e);

/* An SVG document made fit for inlining in HTML: the XML prolog, DOCTYPE
 * and namespace declarations dropped (an HTML parser puts <svg> in the SVG
 * namespace itself), gnuplot's "Gnuplot" tooltip title dropped, and every
 * id, with every "#id" reference to it, prefixed with prefix, because
 * several figures in one page would otherwise share gnuplot's ids (gpPt0,
 * ...) and one figure's markers would resolve to another's.  0 or -1. */
int plot_svg_inline(const char *svg, size_t len, const char *prefix, char **out, snitch_err *e);

#endif
