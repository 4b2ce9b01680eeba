/* plot.c - gnuplot scripts for the report's figures, the child processes
 * that draw them, and SVG made fit for inlining; see plot.h.
 *
 * Each figure is one script: a common preamble (svg terminal, fonts, no
 * enhanced text, '?' for missing data), data blocks of numbers, then the
 * plot commands.  Scripts are built in memory (open_memstream) and piped
 * to gnuplot; its SVG comes back on stdout.  gnuplot reports a script
 * error on stderr yet may still exit 0 having drawn nothing, so success
 * is "exit 0 and an <svg> element came out". */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "report/child.h"
#include "util/strmap.h"
#include "util/utf8.h"

#define PLOT_TIMEOUT_MS 120000
/* Longest name shown on an axis or in a legend, and longest title, in
 * characters. */
#define LABEL_MAX 48
#define TITLE_MAX 160

void plotter_init(plotter *p, const char *gnuplot, const char *dot)
{
    memset(p, 0, sizeof *p);
    p->gnuplot = gnuplot ? gnuplot : "gnuplot";
    p->dot = dot ? dot : "dot";
    p->timeout_ms = PLOT_TIMEOUT_MS;
}

/* A palette of distinct hues, light and dark pairs after the first ten
 * (after Tableau's category colours). */
static const unsigned palette[] = {
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f,
    0xbcbd22, 0x17becf, 0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94,
    0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5,
};

unsigned plot_color(size_t i)
{
    return palette[i % (sizeof palette / sizeof *palette)];
}

/* A gnuplot single-quoted string: only '' is special inside.  Control
 * characters become spaces, invalid UTF-8 '?', and a long name is cut
 * with "..." so that one SNI cannot push the plot off its canvas. */
static void gp_text(FILE *f, const char *str, size_t max)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    putc('\'', f);
    size_t chars = 0;
    while (*s) {
        if (chars == max) {
            fputs("...", f);
            break;
        }
        size_t l = utf8_seq_len(s, SIZE_MAX, NULL);
        if (!l) {
            putc('?', f);
            s++;
        } else if (*s < 0x20 || *s == 0x7f) {
            putc(' ', f);
            s++;
        } else if (*s == '\'') {
            fputs("''", f);
            s++;
        } else {
            fwrite(s, 1, l, f);
            s += l;
        }
        chars++;
    }
    putc('\'', f);
}

static void gp_str(FILE *f, const char *s)
{
    gp_text(f, s, LABEL_MAX);
}

/* Titles and axis labels are ours and longer: only a bound. */
static void gp_title(FILE *f, const char *s)
{
    gp_text(f, s, TITLE_MAX);
}

static void gp_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.10g", v);
    else
        fputs(" ?", f);
}

static void preamble(FILE *f, int w, int h)
{
    fprintf(f, "set terminal svg size %d,%d noenhanced font 'sans-serif,12' background rgb '#ffffff'\n"
               "set encoding utf8\n"
               "set datafile missing '?'\n"
               "set border lc rgb '#444444'\n"
               "set grid lc rgb '#e0e0e0' lt 1\n"
               "set key noenhanced\n",
            w, h);
}

static void rgb(FILE *f, unsigned c)
{
    fprintf(f, " lc rgb '#%06x'", c & 0xffffff);
}

int plot_check(plotter *p, snitch_err *e)
{
    static const char script[] = "set terminal svg\nset output '/dev/null'\nprint 'ok'\n";
    const char *argv[] = {p->gnuplot, NULL};
    child_out o;
    int r = child_run(argv, script, sizeof script - 1, p->timeout_ms, &o, e);
    if (r == 1) {
        child_out_free(&o);
        return err_set(e, "%s: not found: the report's figures are drawn by gnuplot "
                          "(Debian package gnuplot-nox)", p->gnuplot);
    }
    if (r < 0)
        return -1;
    char line[320];
    if (o.status != 0 || !strstr(o.err, "ok")) {
        err_set(e, "%s: does not draw SVG (exit %d): %s", p->gnuplot, o.status,
                child_error_line(&o, line));
        child_out_free(&o);
        return -1;
    }
    child_out_free(&o);
    return 0;
}

/* ---- SVG for inlining ------------------------------------------------- */

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
}

int plot_svg_inline(const char *svg, size_t len, const char *prefix, char **out, snitch_err *e)
{
    *out = NULL;
    /* The element itself, from "<svg" to the end of the last "</svg>". */
    const char *start = NULL, *end = NULL;
    for (size_t i = 0; i + 4 <= len; i++) {
        if (!memcmp(svg + i, "<svg", 4) && i + 4 < len &&
            (svg[i + 4] == ' ' || svg[i + 4] == '\n' || svg[i + 4] == '\t' || svg[i + 4] == '>' ||
             svg[i + 4] == '\r')) {
            start = svg + i;
            break;
        }
    }
    for (size_t i = len; start && i >= 6 && svg + i - 6 >= start; i--) {
        if (!memcmp(svg + i - 6, "</svg>", 6)) {
            end = svg + i;
            break;
        }
    }
    if (!start || !end)
        return err_set(e, "no <svg> element in the drawing program's output");
    /* Collect the ids. */
    strmap *ids = strmap_new();
    if (!ids)
        return err_set(e, "out of memory");
    for (const char *q = start; q + 4 < end; q++) {
        if ((q[0] == ' ' || q[0] == '\t' || q[0] == '\n') && q[1] == 'i' && q[2] == 'd' && q[3] == '=' &&
            (q[4] == '"' || q[4] == '\'')) {
            const char *s = q + 5, *t = s;
            while (t < end && *t != q[4])
                t++;
            if (t > s && strmap_intern(ids, s, (size_t)(t - s)) < 0) {
                strmap_free(ids);
                return err_set(e, "out of memory");
            }
        }
    }
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f) {
        strmap_free(ids);
        return err_set(e, "out of memory");
    }
    /* The root tag, without namespace declarations. */
    const char *q = start;
    const char *tag_end = memchr(start, '>', (size_t)(end - start));
    if (!tag_end)
        tag_end = end - 1;
    while (q < tag_end) {
        if ((*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') && !strncmp(q + 1, "xmlns", 5)) {
            const char *eq = memchr(q, '=', (size_t)(tag_end - q));
            if (eq && eq + 1 < tag_end && (eq[1] == '"' || eq[1] == '\'')) {
                const char *close = memchr(eq + 2, eq[1], (size_t)(tag_end - (eq + 2)));
                if (close) {
                    q = close + 1;
                    continue;
                }
            }
        }
        putc(*q++, f);
    }
    static const char gp_title[] = "<title>Gnuplot</title>";
    while (q < end) {
        if (*q == '<' && (size_t)(end - q) >= sizeof gp_title - 1 &&
            !memcmp(q, gp_title, sizeof gp_title - 1)) {
            q += sizeof gp_title - 1;
            continue;
        }
        if ((q[0] == ' ' || q[0] == '\t' || q[0] == '\n') && end - q > 4 && q[1] == 'i' && q[2] == 'd' &&
            q[3] == '=' && (q[4] == '"' || q[4] == '\'')) {
            fwrite(q, 1, 5, f);
            fputs(prefix, f);
            q += 5;
            continue;
        }
        if (*q == '#') {
            const char *s = q + 1, *t = s;
            while (t < end && id_char(*t))
                t++;
            if (t > s && t < end && (*t == '"' || *t == '\'' || *t == ')') &&
                strmap_find(ids, s, (size_t)(t - s)) >= 0) {
                putc('#', f);
                fputs(prefix, f);
                q++;
                continue;
            }
        }
        putc(*q++, f);
    }
    strmap_free(ids);
    if (fclose(f) != 0) {
        free(buf);
        return err_set(e, "out of memory");
    }
    *out = buf;
    return 0;
}

/* ---- running the programs ---------------------------------------------- */

int plot_gnuplot(plotter *p, const char *script, size_t len, char **svg, snitch_err *e)
{
    *svg = NULL;
    const char *argv[] = {p->gnuplot, NULL};
    child_out o;
    int r = child_run(argv, script, len, p->timeout_ms, &o, e);
    if (r == 1)
        return err_set(e, "%s: not found: the report's figures are drawn by gnuplot "
                          "(Debian package gnuplot-nox)", p->gnuplot);
    if (r < 0)
        return -1;
    char line[320];
    if (o.status != 0 || !strstr(o.out, "<svg")) {
        err_set(e, "%s failed on figure %u (exit %d): %s", p->gnuplot, p->figures + 1, o.status,
                child_error_line(&o, line));
        child_out_free(&o);
        return -1;
    }
    char prefix[32];
    snprintf(prefix, sizeof prefix, "f%u-", ++p->figures);
    snitch_err e2;
    if (plot_svg_inline(o.out, o.out_len, prefix, svg, &e2) < 0) {
        err_set(e, "%s: figure %u: %s", p->gnuplot, p->figures, e2.msg);
        child_out_free(&o);
        return -1;
    }
    child_out_free(&o);
    return 0;
}

int plot_dot(plotter *p, const char *dot_text, size_t len, char **svg, snitch_err *e)
{
    *svg = NULL;
    const char *argv[] = {p->dot, "-Tsvg", NULL};
    child_out o;
    int r = child_run(argv, dot_text, len, p->timeout_ms, &o, e);
    if (r != 0)
        return r;
    char line[320];
    if (o.status != 0 || !strstr(o.out, "<svg")) {
        err_set(e, "%s -Tsvg failed (exit %d): %s", p->dot, o.status, child_error_line(&o, line));
        child_out_free(&o);
        return -1;
    }
    char prefix[32];
    snprintf(prefix, sizeof prefix, "f%u-", ++p->figures);
    snitch_err e2;
    if (plot_svg_inline(o.out, o.out_len, prefix, svg, &e2) < 0) {
        err_set(e, "%s: %s", p->dot, e2.msg);
        child_out_free(&o);
        return -1;
    }
    child_out_free(&o);
    return 0;
}

/* Finish a script built in f and draw it.  open_memstream publishes the
 * buffer and its length only at fflush/fclose, so both come by address. */
static int draw(plotter *p, FILE *f, char **buf, size_t *len, char **svg, snitch_err *e)
{
    if (fclose(f) != 0) {
        free(*buf);
        return err_set(e, "out of memory");
    }
    int r = plot_gnuplot(p, *buf, *len, svg, e);
    free(*buf);
    return r;
}

#define OPEN_SCRIPT(f, buf, len, e) \
    char *buf = NULL; \
    size_t len = 0; \
    FILE *f = open_memstream(&buf, &len); \
    if (!f) \
        return err_set(e, "out of memory")

/* ---- figures ---------------------------------------------------------- */

int plot_grouped_bars(plotter *p, const plot_bars *b, char **svg, snitch_err *e)
{
    OPEN_SCRIPT(f, buf, len, e);
    preamble(f, b->width, b->height);
    fputs("set style data histograms\n"
          "set style histogram clustered gap 1\n"
          "set style fill solid 0.9 noborder\n"
          "set grid noxtics ytics\n"
          "set key outside right top vertical Left reverse samplen 1.5\n"
          "set tics scale 0.5\n", f);
    fprintf(f, "set yrange [%.10g:%.10g]\n", b->ymin, b->ymax);
    fprintf(f, "set xrange [-0.6:%.10g]\n", (double)b->ngroups - 0.4);
    if (b->ylabel) {
        fputs("set ylabel ", f);
        gp_title(f, b->ylabel);
        putc('\n', f);
    }
    fputs("set xtics (", f);
    for (size_t g = 0; g < b->ngroups; g++) {
        fputs(g ? ", " : "", f);
        gp_str(f, b->groups[g]);
        fprintf(f, " %zu", g);
    }
    fputs(b->rotate ? ") rotate by 45 right font ',10'\n" : ")\n", f);
    fputs("$D << EOD\n", f);
    for (size_t g = 0; g < b->ngroups; g++) {
        fprintf(f, "%zu", g);
        for (size_t s = 0; s < b->nseries; s++)
            gp_num(f, b->v[g * b->nseries + s]);
        putc('\n', f);
    }
    fputs("EOD\nplot ", f);
    for (size_t s = 0; s < b->nseries; s++) {
        fprintf(f, "%s$D using %zu title ", s ? ", \\\n     " : "", s + 2);
        gp_str(f, b->series[s]);
        rgb(f, b->colors[s]);
    }
    putc('\n', f);
    return draw(p, f, &buf, &len, svg, e);
}

int plot_line_chart(plotter *p, const plot_lines *l, char **svg, snitch_err *e)
{
    OPEN_SCRIPT(f, buf, len, e);
    preamble(f, l->width, l->height);
    fputs("set key outside right top vertical Left reverse\n", f);
    fprintf(f, "set yrange [%.10g:%.10g]\n", l->ymin, l->ymax);
    double lo = l->x[0], hi = l->x[l->nx - 1];
    double pad = hi > lo ? (hi - lo) * 0.04 : 1;
    fprintf(f, "set xrange [%.10g:%.10g]\n", lo - pad, hi + pad);
    if (l->nx <= 16) {
        fputs("set xtics (", f);
        for (size_t i = 0; i < l->nx; i++)
            fprintf(f, "%s'%.10g' %.10g", i ? ", " : "", l->x[i], l->x[i]);
        fputs(")\n", f);
    }
    fputs("set xlabel ", f);
    gp_title(f, l->xlabel);
    fputs("\nset ylabel ", f);
    gp_title(f, l->ylabel);
    fputs("\n$D << EOD\n", f);
    for (size_t i = 0; i < l->nx; i++) {
        gp_num(f, l->x[i]);
        for (size_t s = 0; s < l->nseries; s++)
            gp_num(f, l->y[s * l->nx + i]);
        putc('\n', f);
    }
    fputs("EOD\nplot ", f);
    for (size_t s = 0; s < l->nseries; s++) {
        /* gnuplot wants the title before "with" and the style after it */
        fprintf(f, "%s$D using 1:%zu title ", s ? ", \\\n     " : "", s + 2);
        gp_str(f, l->series[s]);
        fputs(" with linespoints lw 2 pt 7 ps 0.7", f);
        rgb(f, l->colors[s]);
    }
    putc('\n', f);
    return draw(p, f, &buf, &len, svg, e);
}

int plot_heatmap(plotter *p, const plot_heat *h, char **svg, snitch_err *e)
{
    OPEN_SCRIPT(f, buf, len, e);
    size_t k = h->k;
    preamble(f, h->size + 160, h->size);
    fputs("set size square\n"
          "unset grid\n"
          "set tics scale 0\n"
          "set palette defined (0 '#ffffff', 0.5 '#6baed6', 1 '#08306b')\n"
          "set cbrange [0:1]\n", f);
    fprintf(f, "set xrange [-0.5:%.1f]\nset yrange [%.1f:-0.5]\n", k - 0.5, k - 0.5);
    const char *font = k > 40 ? "font ',7'" : k > 20 ? "font ',9'" : "";
    fputs("set xtics (", f);
    for (size_t i = 0; i < k; i++) {
        fputs(i ? ", " : "", f);
        gp_str(f, h->labels[i]);
        fprintf(f, " %zu", i);
    }
    fprintf(f, ") rotate by 60 right %s\nset ytics (", font);
    for (size_t i = 0; i < k; i++) {
        fputs(i ? ", " : "", f);
        gp_str(f, h->labels[i]);
        fprintf(f, " %zu", i);
    }
    fprintf(f, ") %s\n", font);
    fputs("set xlabel ", f);
    gp_title(f, h->xlabel);
    fputs("\nset ylabel ", f);
    gp_title(f, h->ylabel);
    fputs("\nset cblabel ", f);
    gp_title(f, h->cblabel);
    fputs("\n$M << EOD\n", f);
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++)
            gp_num(f, h->v[i * k + j]);
        putc('\n', f);
    }
    fputs("EOD\n", f);
    int labels = h->count && k <= 15;
    if (labels) {
        fputs("$L << EOD\n", f);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                if (h->count[i * k + j])
                    fprintf(f, "%zu %zu %llu %.6g\n", j, i, (unsigned long long)h->count[i * k + j],
                            h->v[i * k + j]);
        /* gnuplot cannot plot an empty block: one invisible row */
        fputs("-9 -9 0 0\nEOD\n", f);
    }
    /* pixels: one rectangle per cell, not a bitmap a browser would blur */
    fputs("plot $M matrix with image pixels notitle", f);
    if (labels)
        fputs(", \\\n  $L using 1:2:($4 > 0.5 ? stringcolumn(3) : '') with labels tc rgb '#ffffff' notitle, \\\n"
              "  $L using 1:2:($4 > 0.5 ? '' : stringcolumn(3)) with labels tc rgb '#000000' notitle",
              f);
    putc('\n', f);
    return draw(p, f, &buf, &len, svg, e);
}

int plot_hbars(plotter *p, const char *const *labels, const double *v, size_t n,
               const char *xlabel, unsigned color, char **svg, snitch_err *e)
{
    OPEN_SCRIPT(f, buf, len, e);
    preamble(f, 900, 80 + 24 * (int)n);
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > mx)
            mx = v[i];
    fputs("set style fill solid 0.85 noborder\n"
          "set grid xtics noytics\n"
          "set tics scale 0.5\n"
          "unset key\n", f);
    fprintf(f, "set yrange [-0.6:%.1f]\nset xrange [0:%.10g]\n", n - 0.4, mx > 0 ? mx * 1.05 : 1);
    fputs("set ytics (", f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        gp_str(f, labels[i]);
        fprintf(f, " %zu", n - 1 - i);
    }
    fputs(")\nset xlabel ", f);
    gp_title(f, xlabel);
    fputs("\n$D << EOD\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu", n - 1 - i);
        gp_num(f, v[i]);
        putc('\n', f);
    }
    fputs("EOD\nplot $D using ($2/2):1:($2/2):(0.38) with boxxyerror", f);
    rgb(f, color);
    fputs(" notitle\n", f);
    return draw(p, f, &buf, &len, svg, e);
}

int plot_histograms(plotter *p, const plot_hists *h, char **svg, snitch_err *e)
{
    OPEN_SCRIPT(f, buf, len, e);
    preamble(f, h->width, h->height);
    size_t cols = h->cols ? h->cols : 1, rows = (h->npanels + cols - 1) / cols;
    fputs("set tics scale 0.5\nset key top right Left reverse font ',10' samplen 1.5\n", f);
    /* Data first: the blocks are defined outside the multiplot. */
    for (size_t q = 0; q < h->npanels; q++) {
        const plot_hist_panel *pn = &h->panels[q];
        for (size_t s = 0; s < h->nseries; s++) {
            /* steps from the left edge of each bin, down to 0 at both ends */
            fprintf(f, "$H%zu_%zu << EOD\n", q, s);
            fprintf(f, "%.10g 0\n", pn->edges[0]);
            for (size_t b = 0; b < pn->nbins; b++) {
                gp_num(f, pn->edges[b]);
                gp_num(f, pn->v[s * pn->nbins + b]);
                putc('\n', f);
            }
            fprintf(f, "%.10g 0\nEOD\n", pn->edges[pn->nbins]);
        }
    }
    fprintf(f, "set multiplot layout %zu,%zu\n", rows, cols);
    for (size_t q = 0; q < h->npanels; q++) {
        const plot_hist_panel *pn = &h->panels[q];
        fputs("set title ", f);
        gp_title(f, pn->title);
        fputs("\nset xlabel ", f);
        gp_title(f, pn->xlabel);
        fputs("\nset ylabel ", f);
        gp_title(f, h->ylabel);
        putc('\n', f);
        fputs(pn->logx ? "set logscale x\n" : "unset logscale x\n", f);
        fprintf(f, "set xrange [%.10g:%.10g]\nset yrange [0:*]\n", pn->edges[0], pn->edges[pn->nbins]);
        fputs(q == 0 ? "set key\n" : "unset key\n", f);
        fputs("plot ", f);
        for (size_t s = 0; s < h->nseries; s++) {
            fprintf(f, "%s$H%zu_%zu using 1:2 title ", s ? ", \\\n     " : "", q, s);
            gp_str(f, h->series[s]);
            fputs(" with steps lw 2", f);
            rgb(f, h->colors[s]);
        }
        putc('\n', f);
    }
    fputs("unset multiplot\n", f);
    return draw(p, f, &buf, &len, svg, e);
}
