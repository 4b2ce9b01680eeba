/* test_report.c - the pieces of `snitch report` below the page: results.json
 * loading with its exact complaints, the confusion-matrix and header CSV
 * reads, SVG made inline (ids prefixed), running helper programs (large
 * input and output at once, missing programs, exit status, timeouts), the
 * depth-limited tree export, and, when gnuplot is installed, every figure
 * and a whole page from a run directory that lacks its optional parts. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forest/forest.h"
#include "report/child.h"
#include "report/csvin.h"
#include "report/plot.h"
#include "report/report.h"
#include "report/results.h"

static char dir[64];

static void put_file(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static int have_program(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* ---- results.json ------------------------------------------------------ */

static const char good_results[] =
    "{\n"
    "  \"tool\": \"snitch\", \"version\": \"0.1\", \"kind\": \"flows\",\n"
    "  \"captures\": [\"a.pcap\", \"b.pcap\"], \"label\": \"clean\", \"folds\": 10, \"seed\": 1,\n"
    "  \"table\": \"flows.csv\", \"options\": \"--trees 20\",\n"
    "  \"models\": [ {\"id\": \"A\", \"name\": \"Ensemble B + C\", \"spec\": \"ensemble:rf+cnn_rnn/size\"},\n"
    "              {\"id\": \"B\"} ],\n"
    "  \"thresholds\": [ {\"min_flows\": 200, \"classes\": 9, \"flows\": 4000},\n"
    "                  {\"min_flows\": 100, \"classes\": 20, \"flows\": 6000},\n"
    "                  {\"min_flows\": 900} ],\n"
    "  \"cells\": [\n"
    "    {\"model\": \"B\", \"min_flows\": 100, \"status\": \"done\", \"accuracy\": 0.9,\n"
    "     \"macro_precision\": 0.8, \"macro_recall\": null, \"macro_f1\": 0.7, \"fit_seconds\": 3,\n"
    "     \"per_class\": [{\"class\": \"x.com\", \"support\": 120, \"precision\": 1, \"recall\": 0.5, \"f1\": 0.66}],\n"
    "     \"confusion\": \"cells/B_100.confusion.csv\"},\n"
    "    {\"model\": \"A\", \"min_flows\": 200, \"status\": \"failed\"},\n"
    "    {\"model\": \"A\", \"min_flows\": 100, \"accuracy\": 0.95, \"macro_precision\": 0.9,\n"
    "     \"macro_recall\": 0.9, \"macro_f1\": 0.9, \"extra\": {\"ignored\": [1, 2]}}\n"
    "  ]\n"
    "}\n";

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_report.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char p[256];
    snprintf(p, sizeof p, "%s/cells", dir);
    mkdir(p, 0755);
    put_file("flows.csv", "flow_id,label,pkt_bwd_num\n1,a,3\n");
    put_file("cells/B_100.confusion.csv", "true\\predicted,a,b\na,3,1\nb,0,4\n");
}

static void test_results_good(void)
{
    put_file("results.json", good_results);
    run_results r;
    snitch_err e = {""};
    int rc = results_load(dir, &r, &e);
    CHECK_EQ_INT(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "    %s\n", e.msg);
        return;
    }
    CHECK_EQ_STR(r.kind, "flows");
    CHECK_EQ_STR(r.options, "--trees 20");
    CHECK_EQ_INT(r.ncaptures, 2);
    CHECK_EQ_INT(r.folds, 10);
    CHECK_EQ_STR(r.table_name, "flows.csv");
    char want[256];
    snprintf(want, sizeof want, "%s/flows.csv", dir);
    CHECK_EQ_STR(r.table, want);
    CHECK(r.packets_table == NULL && r.forest_model == NULL);
    CHECK_EQ_INT(r.nmodels, 2);
    CHECK_EQ_STR(r.models[1].name, "B");        /* the id when no name */
    CHECK_EQ_STR(r.models[1].spec, "");
    /* thresholds sorted by min_flows; absent counts are -1 */
    CHECK_EQ_INT(r.nthr, 3);
    CHECK_EQ_INT(r.thr[0].min_flows, 100);
    CHECK_EQ_INT(r.thr[0].classes, 20);
    CHECK_EQ_INT(r.thr[2].min_flows, 900);
    CHECK_EQ_INT(r.thr[2].classes, -1);
    const rp_cell *b100 = results_cell(&r, 1, 0), *a200 = results_cell(&r, 0, 1);
    CHECK(b100 && a200 && results_cell(&r, 1, 1) == NULL && results_cell(&r, 5, 0) == NULL);
    if (b100 && a200) {
        CHECK(b100->done && b100->accuracy == 0.9 && isnan(b100->recall) && b100->fit_s == 3);
        CHECK(isnan(b100->predict_s));
        CHECK_EQ_INT(b100->nper_class, 1);
        CHECK_EQ_STR(b100->per_class[0].name, "x.com");
        CHECK_EQ_INT(b100->per_class[0].support, 120);
        CHECK(b100->confusion && strstr(b100->confusion, "/cells/B_100.confusion.csv"));
        CHECK(!a200->done && !strcmp(a200->status, "failed") && isnan(a200->accuracy));
    }
    const rp_cell *a100 = results_cell(&r, 0, 0);
    CHECK(a100 && a100->done && !strcmp(a100->status, "done"));   /* status defaults to done */
    results_free(&r);
    results_free(&r);       /* twice is harmless */
}

/* Load results.json = text; return the message (or "" on success) with
 * the directory prefix cut off. */
static const char *load_msg(const char *text)
{
    static snitch_err e;
    put_file("results.json", text);
    run_results r;
    e.msg[0] = 0;
    if (results_load(dir, &r, &e) == 0) {
        results_free(&r);
        return "";
    }
    size_t n = strlen(dir);
    return !strncmp(e.msg, dir, n) ? e.msg + n + 1 : e.msg;
}

static void test_results_errors(void)
{
    const char *base = "\"models\": [{\"id\": \"B\"}], \"thresholds\": [{\"min_flows\": 10}]";
    char doc[1024];
    /* the message names the file, the line and column, the member */
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": []"),
                 "results.json:1:32: expected ',' or '}' after an object member, found the end of the input");
    CHECK_EQ_STR(load_msg("[]"), "results.json:1:1: results: expected an object, found an array");
    CHECK_EQ_STR(load_msg("{\"thresholds\": [], \"cells\": []}"), "results.json:1:1: results: no \"models\" member");
    snprintf(doc, sizeof doc, "{%s,\n \"cells\": [{\"model\": \"B\", \"min_flows\": 10,\n   \"accuracy\": \"high\"}]}", base);
    CHECK_EQ_STR(load_msg(doc), "results.json:3:16: cells[0].accuracy: expected a number or null, found a string");
    snprintf(doc, sizeof doc, "{%s, \"cells\": [{\"model\": \"B\", \"min_flows\": 10, \"accuracy\": 1}]}", base);
    CHECK_EQ_STR(load_msg(doc), "results.json:1:72: cells[0]: no \"macro_precision\" member");
    snprintf(doc, sizeof doc, "{%s, \"cells\": [{\"model\": \"Z\", \"min_flows\": 10}]}", base);
    CHECK_EQ_STR(load_msg(doc), "results.json:1:82: cells[0]: model \"Z\" is not in \"models\"");
    snprintf(doc, sizeof doc, "{%s, \"cells\": [{\"model\": \"B\", \"min_flows\": 20, \"status\": \"x\"}]}", base);
    CHECK_EQ_STR(load_msg(doc), "results.json:1:100: cells[0]: min_flows 20 is not in \"thresholds\"");
    snprintf(doc, sizeof doc, "{%s, \"cells\": [{\"model\": \"B\", \"min_flows\": 10, \"status\": \"x\"},\n"
                              "{\"model\": \"B\", \"min_flows\": 10, \"status\": \"y\"}]}", base);
    CHECK_EQ_STR(load_msg(doc), "results.json:2:1: cells[1]: a second cell for model B at min_flows 10 (cells[0] is the first)");
    CHECK_EQ_STR(load_msg("{\"models\": [{\"id\": \"B\"}, {\"id\": \"B\"}], \"thresholds\": [], \"cells\": []}"),
                 "results.json:1:33: models[1]: model id \"B\" again (models[0] has it)");
    CHECK_EQ_STR(load_msg("{\"models\": [{\"id\": \"\"}], \"thresholds\": [], \"cells\": []}"),
                 "results.json:1:20: models[0]: an empty or unprintable model id");
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": [{\"min_flows\": 5}, {\"min_flows\": 5}], \"cells\": []}"),
                 "results.json:1:49: thresholds: min_flows 5 is listed twice");
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": [{\"min_flows\": -5}], \"cells\": []}"),
                 "results.json:1:45: thresholds[0].min_flows: expected a whole number >= 0, found -5");
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": [{\"min_flows\": 2.5}], \"cells\": []}"),
                 "results.json:1:45: thresholds[0].min_flows: expected a whole number >= 0, found 2.5");
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": [], \"cells\": [], \"captures\": [\"a\", 3]}"),
                 "results.json:1:65: captures: expected a string, found a number");
    /* referenced files must exist: the message names the missing one */
    char want[512];
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": [], \"cells\": [],\n \"forest_model\": \"forest.snm\"}"),
                 (snprintf(want, sizeof want, "results.json:2:18: forest_model: %s/forest.snm: No such file or directory", dir), want));
    snprintf(doc, sizeof doc, "{%s, \"cells\": [{\"model\": \"B\", \"min_flows\": 10, \"status\": \"x\", "
                              "\"confusion\": \"cells/gone.csv\"}]}", base);
    CHECK_EQ_STR(load_msg(doc), (snprintf(want, sizeof want, "results.json:1:132: cells[0].confusion: "
                                          "%s/cells/gone.csv: No such file or directory", dir), want));
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": [], \"cells\": [], \"table\": \"cells\"}"),
                 (snprintf(want, sizeof want, "results.json:1:56: table: %s/cells: is a directory, not a file", dir), want));
    CHECK_EQ_STR(load_msg("{\"models\": [], \"thresholds\": [], \"cells\": [], \"table\": \"\"}"),
                 "results.json:1:56: table: not a file name");
    /* the directory itself */
    run_results r;
    snitch_err e;
    CHECK(results_load("/nonexistent/run", &r, &e) < 0);
    CHECK_EQ_STR(e.msg, "/nonexistent/run: No such file or directory (the run directory)");
    char p[256];
    snprintf(p, sizeof p, "%s/flows.csv", dir);
    CHECK(results_load(p, &r, &e) < 0);
    CHECK(strstr(e.msg, "flows.csv: not a directory") != NULL);
    snprintf(p, sizeof p, "%s/cells", dir);
    CHECK(results_load(p, &r, &e) < 0);
    snprintf(want, sizeof want, "%s/cells/results.json: No such file or directory (not a run directory written by snitch experiment?)", dir);
    CHECK_EQ_STR(e.msg, want);
    /* results_path: joins, keeps absolute paths, one slash */
    char *j = results_path("run/", "cells/x.csv");
    CHECK_EQ_STR(j, "run/cells/x.csv");
    free(j);
    j = results_path("run", "/abs/x");
    CHECK_EQ_STR(j, "/abs/x");
    free(j);
}

/* ---- CSV ------------------------------------------------------------------ */

static void test_confusion(void)
{
    confusion c;
    snitch_err e;
    const char *t = "true\\predicted,a.com,\"b,\"\"q\"\"\",c\r\na.com,5,0,1\r\n\"b,\"\"q\"\"\",2,7,0\r\nc,0,0,9\r\n";
    CHECK_EQ_INT(confusion_parse(t, strlen(t), "c.csv", &c, &e), 0);
    CHECK_EQ_INT(c.k, 3);
    if (c.k == 3) {
        CHECK_EQ_STR(c.classes[1], "b,\"q\"");
        CHECK_EQ_INT(c.n[0 * 3 + 2], 1);
        CHECK_EQ_INT(c.n[1 * 3 + 0], 2);
        CHECK_EQ_INT(c.n[2 * 3 + 2], 9);
    }
    confusion_free(&c);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"", "c.csv: empty file (no confusion matrix)"},
        {"x,a\na,1\n", "c.csv:1: a confusion matrix header names at least two classes"},
        {"x,a,b\na,1,2\n", "c.csv: 1 rows for the 2 classes of the header"},
        {"x,a,b\na,1\nb,1,2\n", "c.csv:2: 2 fields, the header has 3"},
        {"x,a,b\nb,1,2\na,1,2\n", "c.csv:2: row for class 'b' where the header's order has 'a'"},
        {"x,a,b\na,1,-2\nb,1,2\n", "c.csv:2: column 'b': '-2' is not a count"},
        {"x,a,b\na,1,2.5\nb,1,2\n", "c.csv:2: column 'b': '2.5' is not a count"},
        {"x,a,b\na,1,\nb,1,2\n", "c.csv:2: column 'b': '' is not a count"},
        {"x,a,b\na,1,2\nb,1,2\nc,1,1\n", "c.csv:4: more rows than the 2 classes of the header"},
        {"x,\"a,b\n", "c.csv:1: a quoted field is not closed"},
        {"x,\"a\"b,c\n", "c.csv:1: text after a closing quote"},
        {"x,a\"b,c\n", "c.csv:1: a quote inside an unquoted field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        e.msg[0] = 0;
        CHECK(confusion_parse(bad[i].text, strlen(bad[i].text), "c.csv", &c, &e) < 0);
        CHECK_EQ_STR(e.msg, bad[i].msg);
        CHECK(c.classes == NULL && c.n == NULL);
    }
    /* a file, and a missing one */
    char p[256];
    snprintf(p, sizeof p, "%s/cells/B_100.confusion.csv", dir);
    CHECK_EQ_INT(confusion_read(p, &c, &e), 0);
    CHECK(c.k == 2 && c.n[3] == 4);
    confusion_free(&c);
    snprintf(p, sizeof p, "%s/none.csv", dir);
    CHECK(confusion_read(p, &c, &e) < 0 && strstr(e.msg, "none.csv: No such file or directory"));
}

static void test_header(void)
{
    put_file("h.csv", "flow_id,\"a,b\",\"multi\nline\",rx_pkts\n1,2,3,4\n");
    char p[256];
    snprintf(p, sizeof p, "%s/h.csv", dir);
    char **names;
    size_t n;
    snitch_err e;
    CHECK_EQ_INT(csv_header(p, &names, &n, &e), 0);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_EQ_STR(names[1], "a,b");
        CHECK_EQ_STR(names[2], "multi\nline");
        CHECK_EQ_STR(names[3], "rx_pkts");
    }
    free(names);
    put_file("e.csv", "");
    snprintf(p, sizeof p, "%s/e.csv", dir);
    CHECK(csv_header(p, &names, &n, &e) < 0 && strstr(e.msg, "e.csv: empty file (no header)"));
    /* a header without a final newline */
    put_file("n.csv", "a,b");
    snprintf(p, sizeof p, "%s/n.csv", dir);
    CHECK_EQ_INT(csv_header(p, &names, &n, &e), 0);
    CHECK(n == 2 && !strcmp(names[1], "b"));
    free(names);
}

/* ---- SVG --------------------------------------------------------------------- */

static void test_svg_inline(void)
{
    const char *svg =
        "<?xml version=\"1.0\" encoding=\"utf-8\"  standalone=\"no\"?>\n"
        "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/x.dtd\">\n"
        "<svg \n width=\"600\" height=\"480\"\n xmlns=\"http://www.w3.org/2000/svg\"\n"
        " xmlns:xlink='http://www.w3.org/1999/xlink'\n>\n<title>Gnuplot</title>\n"
        "<g id=\"gnuplot_canvas\"><defs><path id='gpPt0' d='M0'/>"
        "<use xlink:href='#gpPt0' id='gpPt1'/></defs>"
        "<rect fill=\"#ffffff\" clip-path=\"url(#gpPt1)\"/><text>#gpPt0 as text</text>"
        "<a href='#elsewhere'/></g>\n</svg>\ntrailing junk";
    char *out = NULL;
    snitch_err e;
    CHECK_EQ_INT(plot_svg_inline(svg, strlen(svg), "f7-", &out, &e), 0);
    if (!out)
        return;
    CHECK(!strncmp(out, "<svg \n width=\"600\" height=\"480\"\n>", 32));
    CHECK(strstr(out, "http") == NULL);
    CHECK(strstr(out, "Gnuplot") == NULL);
    CHECK(strstr(out, "id=\"f7-gnuplot_canvas\"") != NULL);
    CHECK(strstr(out, "id='f7-gpPt0'") && strstr(out, "xlink:href='#f7-gpPt0'") && strstr(out, "id='f7-gpPt1'"));
    CHECK(strstr(out, "url(#f7-gpPt1)") != NULL);
    CHECK(strstr(out, "fill=\"#ffffff\"") != NULL);            /* a colour, not an id */
    CHECK(strstr(out, "#gpPt0 as text") != NULL);             /* text stays */
    CHECK(strstr(out, "href='#elsewhere'") != NULL);          /* not an id of this figure */
    size_t n = strlen(out);
    CHECK(n >= 6 && !strcmp(out + n - 6, "</svg>"));
    free(out);
    CHECK(plot_svg_inline("no figure", 9, "x", &out, &e) < 0);
    CHECK_EQ_STR(e.msg, "no <svg> element in the drawing program's output");
    CHECK(plot_svg_inline("<svg>", 5, "x", &out, &e) < 0);
}

/* ---- child processes ------------------------------------------------------- */

static void test_child(void)
{
    /* 8 MB through cat: input and output at once, no deadlock */
    size_t n = 8u << 20;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)('a' + i % 26);
    const char *cat[] = {"cat", NULL};
    child_out o;
    snitch_err e;
    CHECK_EQ_INT(child_run(cat, in, n, 20000, &o, &e), 0);
    CHECK(o.out_len == n && !memcmp(o.out, in, n) && o.status == 0 && o.err_len == 0);
    child_out_free(&o);
    free(in);
    /* not installed */
    const char *none[] = {"snitch-no-such-program", NULL};
    CHECK_EQ_INT(child_run(none, "x", 1, 1000, &o, &e), 1);
    child_out_free(&o);
    const char *abs_none[] = {"/nonexistent/gnuplot", NULL};
    CHECK_EQ_INT(child_run(abs_none, "x", 1, 1000, &o, &e), 1);
    child_out_free(&o);
    /* exit status and standard error; input it never reads */
    const char *sh[] = {"sh", "-c", "echo first >&2; echo '\"-\", line 3: bad thing' >&2; exit 3", NULL};
    CHECK_EQ_INT(child_run(sh, "ignored input\n", 14, 5000, &o, &e), 0);
    CHECK_EQ_INT(o.status, 3);
    char line[320];
    CHECK_EQ_STR(child_error_line(&o, line), "\"-\", line 3: bad thing");
    child_out_free(&o);
    const char *sh2[] = {"sh", "-c", "echo; echo '  only this' >&2; kill -9 $$", NULL};
    CHECK_EQ_INT(child_run(sh2, NULL, 0, 5000, &o, &e), 0);
    CHECK_EQ_INT(o.status, 128 + 9);
    CHECK_EQ_STR(child_error_line(&o, line), "only this");
    child_out_free(&o);
    /* a helper that stops reading early, with much input left: no SIGPIPE */
    const char *head1[] = {"head", "-c", "10", NULL};
    n = 4u << 20;
    in = calloc(n, 1);
    CHECK_EQ_INT(child_run(head1, in, n, 20000, &o, &e), 0);
    CHECK_EQ_INT(o.out_len, 10);
    child_out_free(&o);
    free(in);
    /* too slow: stopped */
    const char *slow[] = {"sleep", "10", NULL};
    CHECK_EQ_INT(child_run(slow, NULL, 0, 300, &o, &e), -1);
    CHECK_EQ_STR(e.msg, "sleep: no answer within 0.3 s: stopped");
    child_out_free(&o);
}

/* ---- the tree ------------------------------------------------------------------ */

static char *tree_dot(const forest *m, int depth, int filled, int *rc)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    const char *fn[2] = {"f_zero", "we\"ird"};
    const char *cn[3] = {"a.com", "b.com", "c.com"};
    *rc = forest_tree_dot_limited(m, 0, fn, cn, depth, filled, f);
    fclose(f);
    return s;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *q = s; (q = strstr(q, what)); q++)
        n++;
    return n;
}

static void test_tree_dot(void)
{
    /* three classes on two features, with noise: a tree of some depth */
    size_t n = 600;
    float *x = malloc(n * 2 * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        x[2 * i] = (float)((s >> 33) % 1000) / 10.0f;
        x[2 * i + 1] = (float)((s >> 13) % 1000) / 10.0f;
        y[i] = x[2 * i] < 33 ? 0 : x[2 * i + 1] < 50 ? 1 : 2;
        if ((s >> 50) % 7 == 0)
            y[i] = (int32_t)((s >> 40) % 3);
    }
    forest_params fp;
    forest_default_params(&fp);
    fp.n_trees = 3;
    fp.seed = 7;
    fp.threads = 1;
    snitch_err e;
    forest *m = forest_train(x, n, 2, y, 3, &fp, NULL, NULL, &e);
    CHECK(m != NULL);
    free(x);
    free(y);
    if (!m)
        return;
    int rc;
    /* depth 0: the whole tree, as many boxes as forest_tree_dot draws */
    char *full = tree_dot(m, 0, 0, &rc), *ref = NULL;
    CHECK_EQ_INT(rc, 0);
    size_t rl = 0;
    FILE *f = open_memstream(&ref, &rl);
    forest_tree_dot(m, 0, NULL, NULL, f);
    fclose(f);
    int nodes = count(ref, "[label=");
    CHECK_EQ_INT(count(full, "[label="), nodes);
    CHECK_EQ_INT(count(full, " -> "), nodes - 1);
    CHECK_EQ_INT(count(full, "(...)"), 0);
    CHECK(nodes > 15);          /* deep enough for the limits below to cut */
    CHECK(strstr(full, "we\\\"ird") != NULL || strstr(full, "f_zero") != NULL);
    CHECK(strstr(full, "value = [") != NULL);     /* 3 classes: all counts */
    CHECK(strstr(full, "fillcolor") == NULL);
    free(full);
    free(ref);
    /* depth 1: the root and its two children, markers under inner ones */
    char *d1 = tree_dot(m, 1, 1, &rc);
    CHECK_EQ_INT(rc, 0);
    int boxes = count(d1, "[label=\"") - count(d1, "[label=\"(...)\"");
    CHECK_EQ_INT(boxes, 3);
    int markers = count(d1, "(...)");
    CHECK(markers >= 1 && markers <= 2);
    CHECK_EQ_INT(count(d1, " -> "), 2 + markers);
    CHECK(strstr(d1, "headlabel=\"True\"") && strstr(d1, "headlabel=\"False\""));
    CHECK_EQ_INT(count(d1, "fillcolor=\"#"), 3);
    CHECK(strstr(d1, "style=\"filled, rounded\"") != NULL);
    free(d1);
    /* depth 3: at most 15 boxes, every box within three levels */
    char *d3 = tree_dot(m, 3, 1, &rc);
    boxes = count(d3, "[label=\"") - count(d3, "[label=\"(...)\"");
    CHECK(boxes > 3 && boxes <= 15);
    free(d3);
    /* bad arguments */
    char *bad = tree_dot(m, -1, 0, &rc);
    CHECK_EQ_INT(rc, -1);
    free(bad);
    f = open_memstream(&bad, &rl);
    CHECK_EQ_INT(forest_tree_dot_limited(m, 3, NULL, NULL, 2, 0, f), -1);
    CHECK_EQ_INT(forest_tree_dot_limited(NULL, 0, NULL, NULL, 2, 0, f), -1);
    fclose(f);
    free(bad);
    forest_free(m);
}

/* ---- figures (need gnuplot) -------------------------------------------------- */

static int gnuplot_ok;

static void test_figures(void)
{
    if (!gnuplot_ok) {
        printf("NOTE: gnuplot not installed: figure tests skipped\n");
        return;
    }
    plotter p;
    plotter_init(&p, NULL, NULL);
    snitch_err e;
    CHECK_EQ_INT(plot_check(&p, &e), 0);
    /* names with quotes, underscores, carets, a newline, bad UTF-8, and a
     * very long one: all must reach gnuplot as plain text */
    const char *groups[3] = {"it's_a^name", "bad\xff\nbyte",
                             "a-very-long-class-name-that-goes-on.and-on.and-on.example.com"};
    const char *series[2] = {"B: Random Forest", "S: 'quoted'"};
    unsigned colors[2] = {plot_color(0), plot_color(1)};
    double v[6] = {0.9, 0.8, NAN, 0.7, 1.0, 0.95};
    plot_bars b = {groups, 3, series, 2, colors, v, "score", 0.5, 1.0, 700, 400, 1};
    char *svg = NULL;
    CHECK_EQ_INT(plot_grouped_bars(&p, &b, &svg, &e), 0);
    CHECK(svg && !strncmp(svg, "<svg", 4) && strstr(svg, "f1-gnuplot_canvas"));
    CHECK(svg && strstr(svg, "it&apos;s_a^name") == NULL && strstr(svg, "it's_a^name"));
    CHECK(svg && strstr(svg, "a-very-long-class-name-that-goes-on.and-on.and-o...") != NULL);
    free(svg);
    double x[3] = {100, 200, 300}, y[6] = {0.8, 0.85, 0.9, NAN, 0.7, 0.75};
    plot_lines l = {x, 3, series, 2, colors, y, "minimum flows", "accuracy", 0.5, 1.0, 800, 400};
    CHECK_EQ_INT(plot_line_chart(&p, &l, &svg, &e), 0);
    CHECK(svg && strstr(svg, "f2-"));
    free(svg);
    double hv[4] = {0.75, 0.25, 0.1, 0.9};
    uint64_t hc[4] = {3, 1, 1, 9};
    const char *hl[2] = {"a.com", "b.com"};
    plot_heat h = {hl, 2, hv, hc, "predicted", "true", "share", 500};
    CHECK_EQ_INT(plot_heatmap(&p, &h, &svg, &e), 0);
    CHECK(svg && strstr(svg, ">9<") != NULL);        /* counts written in cells */
    free(svg);
    const char *fl[3] = {"pkt_bwd_num", "iat_all_p50", "size_3"};
    double fv[3] = {0.5, 0.3, 0.2};
    CHECK_EQ_INT(plot_hbars(&p, fl, fv, 3, "importance", plot_color(0), &svg, &e), 0);
    CHECK(svg && strstr(svg, "pkt_bwd_num"));
    free(svg);
    double edges[4] = {1, 10, 100, 1000}, hs[6] = {0.5, 0.5, 0, 0.1, 0.2, 0.7};
    plot_hist_panel pn[2] = {{"log panel", "bytes", 3, edges, hs, 1}, {"linear panel", "x", 3, edges, hs, 0}};
    plot_hists hh = {pn, 2, 2, series, 2, colors, "share", 1000, 400};
    CHECK_EQ_INT(plot_histograms(&p, &hh, &svg, &e), 0);
    CHECK(svg && strstr(svg, "log panel") && strstr(svg, "linear panel"));
    free(svg);
    CHECK_EQ_INT(p.figures, 5);
    /* a script error comes back with gnuplot's line */
    CHECK(plot_gnuplot(&p, "set terminal svg\nplot $NOPE using 1\n", 36, &svg, &e) < 0);
    CHECK(strstr(e.msg, "gnuplot failed on figure 6") != NULL);
    /* a gnuplot that is not there */
    plotter q;
    plotter_init(&q, "/nonexistent/gnuplot", NULL);
    CHECK(plot_check(&q, &e) < 0);
    CHECK_EQ_STR(e.msg, "/nonexistent/gnuplot: not found: the report's figures are drawn by gnuplot (Debian package gnuplot-nox)");
    /* dot, when there: 0 and SVG; when not: 1 */
    if (have_program("dot")) {
        CHECK_EQ_INT(plot_dot(&p, "digraph T { a -> b; }", 21, &svg, &e), 0);
        CHECK(svg && strstr(svg, "id=\"f6-graph0\"") && !strstr(svg, "DOCTYPE"));
        free(svg);
    }
    plotter_init(&q, NULL, "/nonexistent/dot");
    CHECK_EQ_INT(plot_dot(&q, "digraph T { a -> b; }", 21, &svg, &e), 1);
    CHECK(svg == NULL);
}

/* A run with cells but no table, no forest, no confusion matrix: every
 * section is there, the ones without their input say so. */
static void test_page_without_extras(void)
{
    if (!gnuplot_ok)
        return;
    put_file("results.json",
             "{\"models\": [{\"id\": \"B\", \"name\": \"Random <Forest>\"}, {\"id\": \"K\"}],\n"
             " \"thresholds\": [{\"min_flows\": 10, \"classes\": 3}, {\"min_flows\": 20, \"classes\": 2},"
             " {\"min_flows\": 90, \"classes\": 1}],\n"
             " \"cells\": [\n"
             "  {\"model\": \"B\", \"min_flows\": 10, \"accuracy\": 0.8, \"macro_precision\": 0.7, \"macro_recall\": 0.6, \"macro_f1\": 0.65},\n"
             "  {\"model\": \"K\", \"min_flows\": 10, \"accuracy\": 0.9, \"macro_precision\": 0.9, \"macro_recall\": 0.9, \"macro_f1\": 0.9},\n"
             "  {\"model\": \"B\", \"min_flows\": 20, \"accuracy\": 0.95, \"macro_precision\": 0.9, \"macro_recall\": 0.9, \"macro_f1\": 0.9},\n"
             "  {\"model\": \"K\", \"min_flows\": 20, \"status\": \"failed\"}]}\n");
    report_opts o;
    report_opts_init(&o);
    o.run_dir = dir;
    char *html = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&html, &len);
    report_info info;
    snitch_err e = {""};
    int rc = report_write(&o, f, &info, &e);
    fclose(f);
    CHECK_EQ_INT(rc, 0);
    if (rc < 0)
        fprintf(stderr, "    %s\n", e.msg);
    CHECK_EQ_INT(info.figures, 2);      /* metrics and accuracy only */
    CHECK_EQ_INT(info.nnotes, 5);
    const char *ids[] = {"sec-metrics", "sec-accuracy", "sec-perclass", "sec-confusion", "sec-features",
                         "sec-importance", "sec-tree", "fig-metrics", "fig-accuracy"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        CHECK(html && strstr(html, ids[i]));
    CHECK(html && strstr(html, "Random &lt;Forest&gt;") && !strstr(html, "Random <Forest>"));
    /* Table 1 order: at 10, K (90%) above B (80%); at 20, K failed */
    CHECK(html && strstr(html, "<tr><th>10 / 3</th><th>20 / 2</th><th>90 / 1</th></tr>\n"
                               "<tr><td title=\"K\">90.0% K</td><td title=\"B: Random &lt;Forest&gt;\">95.0% B</td><td></td></tr>\n"
                               "<tr><td title=\"B: Random &lt;Forest&gt;\">80.0% B</td>"));
    CHECK(html && strstr(html, "K <span class=\"status\">failed</span>"));
    CHECK(html && strstr(html, "Not shown: results.json names no forest_model"));
    CHECK(html && strstr(html, "no finished cell at min flows 20 has a per_class list"));
    CHECK(html && strstr(html, "(B: Random <Forest>) has no confusion matrix") == NULL);
    CHECK(html && strstr(html, "has no confusion matrix in results.json"));
    CHECK(html && strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
    CHECK(html && strstr(html, "<script") == NULL);
    size_t n = html ? strlen(html) : 0;
    CHECK(n > 7 && !strcmp(html + n - 8, "</html>\n"));
    report_info_free(&info);
    free(html);
}

int main(void)
{
    setup_dir();
    gnuplot_ok = have_program("gnuplot");
    RUN(test_results_good);
    RUN(test_results_errors);
    RUN(test_confusion);
    RUN(test_header);
    RUN(test_svg_inline);
    RUN(test_child);
    RUN(test_tree_dot);
    RUN(test_figures);
    RUN(test_page_without_extras);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
