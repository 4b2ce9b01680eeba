/* cmd_report.c - `snitch report`: one self-contained HTML page with the
 * figures of an experiment run directory (the library's report.h does the
 * work; this file owns the options, the output files and the messages). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report/report.h"

static const char usage_text[] =
    "usage: snitch report RUN_DIR [-o report.html] [options]\n"
    "\n"
    "One self-contained HTML page (inline SVG figures, nothing fetched) from a\n"
    "run directory of snitch experiment (docs/experiment.md): the metric tables\n"
    "per threshold (the paper's Table 1) with grouped bars, accuracy against\n"
    "minimum flows, per-class accuracy, the best model's confusion matrix,\n"
    "feature histograms per class, the forest's feature importances and one of\n"
    "its trees.  Figures are drawn by gnuplot (required) and the tree by\n"
    "Graphviz dot (without it the tree is written as REPORT.tree0.dot beside\n"
    "the page and linked).\n"
    "\n"
    "  -o, --output FILE      the page (default RUN_DIR/report.html; - = stdout)\n"
    "  --max-classes N        classes in the per-class and confusion figures\n"
    "                         (default 30, the largest)\n"
    "  --hist-classes N       classes in the feature histograms (default 8, up to 20)\n"
    "  --top-features N       feature importances shown (default 20)\n"
    "  --tree-depth D         levels of the drawn tree, 0 = all (default 3)\n"
    "  --gnuplot PROG         gnuplot to run (default: gnuplot on PATH)\n"
    "  --dot PROG             Graphviz dot to run (default: dot on PATH)\n"
    "  --force                replace the page (and its .dot file) if they exist\n"
    "  -q, --quiet            no notes on stderr about sections left incomplete\n";

/* REPORT.html -> REPORT.tree0.dot beside it; *href is its name relative
 * to the page's directory. */
static char *dot_path_for(const char *out, const char **href)
{
    size_t n = strlen(out);
    const char *ext = strrchr(out, '.'), *slash = strrchr(out, '/');
    if (ext && (!slash || ext > slash) && (!strcmp(ext, ".html") || !strcmp(ext, ".htm")))
        n = (size_t)(ext - out);
    char *p = malloc(n + 16);
    if (!p)
        return NULL;
    memcpy(p, out, n);
    strcpy(p + n, ".tree0.dot");
    const char *s = strrchr(p, '/');
    *href = s ? s + 1 : p;
    return p;
}

int cmd_report(int argc, char **argv)
{
    enum { O_MAXC = 300, O_HISTC, O_TOPF, O_DEPTH, O_GNUPLOT, O_DOT, O_FORCE };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"max-classes", required_argument, 0, O_MAXC},
        {"hist-classes", required_argument, 0, O_HISTC},
        {"top-features", required_argument, 0, O_TOPF},
        {"tree-depth", required_argument, 0, O_DEPTH},
        {"gnuplot", required_argument, 0, O_GNUPLOT},
        {"dot", required_argument, 0, O_DOT},
        {"force", no_argument, 0, O_FORCE},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    report_opts ro;
    report_opts_init(&ro);
    const char *out = NULL;
    int force = 0, quiet = 0, c;
    uint64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case O_MAXC:
            if (cli_uint("report", "--max-classes", optarg, 1000, &v) < 0)
                return EXIT_USAGE;
            if (v < 1) {
                fprintf(stderr, "snitch report: --max-classes must be at least 1\n");
                return EXIT_USAGE;
            }
            ro.max_classes = v;
            break;
        case O_HISTC:
            if (cli_uint("report", "--hist-classes", optarg, 20, &v) < 0)
                return EXIT_USAGE;
            if (v < 1) {
                fprintf(stderr, "snitch report: --hist-classes must be at least 1\n");
                return EXIT_USAGE;
            }
            ro.hist_classes = v;
            break;
        case O_TOPF:
            if (cli_uint("report", "--top-features", optarg, 10000, &v) < 0)
                return EXIT_USAGE;
            if (v < 1) {
                fprintf(stderr, "snitch report: --top-features must be at least 1\n");
                return EXIT_USAGE;
            }
            ro.top_features = v;
            break;
        case O_DEPTH:
            if (cli_uint("report", "--tree-depth", optarg, 64, &v) < 0)
                return EXIT_USAGE;
            ro.tree_depth = (int)v;
            break;
        case O_GNUPLOT: ro.gnuplot = optarg; break;
        case O_DOT: ro.dot = optarg; break;
        case O_FORCE: force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "snitch report: give one RUN_DIR\n%s", usage_text);
        return EXIT_USAGE;
    }
    ro.run_dir = argv[optind];
    char *default_out = NULL, *dot_path = NULL;
    if (!out) {
        size_t n = strlen(ro.run_dir);
        default_out = malloc(n + 16);
        if (!default_out) {
            fprintf(stderr, "snitch report: out of memory\n");
            return EXIT_FAIL;
        }
        snprintf(default_out, n + 16, "%s%sreport.html", ro.run_dir,
                 n && ro.run_dir[n - 1] == '/' ? "" : "/");
        out = default_out;
    }
    if (strcmp(out, "-")) {
        dot_path = dot_path_for(out, &ro.dot_href);
        if (!dot_path) {
            free(default_out);
            fprintf(stderr, "snitch report: out of memory\n");
            return EXIT_FAIL;
        }
    }
    int rc = EXIT_FAIL;
    outfile of, dof;
    report_info info;
    memset(&info, 0, sizeof info);
    snitch_err e = {""};
    if (outfile_open(&of, "report", out, force) < 0)
        goto done;
    if (report_write(&ro, of.f, &info, &e) < 0) {
        fprintf(stderr, "snitch report: %s\n", e.msg);
        outfile_abort(&of);
        goto done;
    }
    if (info.dot_text && dot_path) {
        if (outfile_open(&dof, "report", dot_path, force) < 0) {
            outfile_abort(&of);
            goto done;
        }
        fwrite(info.dot_text, 1, info.dot_len, dof.f);
        if (outfile_commit(&dof, "report") < 0) {
            outfile_abort(&of);
            goto done;
        }
    }
    if (outfile_commit(&of, "report") < 0)
        goto done;
    if (!quiet)
        for (size_t i = 0; i < info.nnotes; i++)
            fprintf(stderr, "snitch report: note: %s\n", info.notes[i]);
    if (strcmp(out, "-"))
        fprintf(stderr, "snitch report: %s written (%u figures%s)\n", out, info.figures,
                info.nnotes ? ", some sections incomplete: see the notes" : "");
    rc = EXIT_OK;
done:
    report_info_free(&info);
    free(dot_path);
    free(default_out);
    return rc;
}
