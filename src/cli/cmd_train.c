/* cmd_train.c - `snitch train`: a feature table in, a model file out. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model/model.h"

static const char usage_text[] =
    "usage: snitch train TABLE.csv -o MODEL.snm [options]\n"
    "\n"
    "Train a Random Forest on a table from snitch extract (stats, seq, stats,seq\n"
    "or window; - reads standard input).  Rows without a label are left out.\n"
    "\n"
    "  -o, --output FILE      the model file (required)\n"
    "      --force            replace FILE if it exists\n"
    "  -q, --quiet            no progress line and no summary\n"
    MODEL_OPTIONS_HELP
    "  --label-mode MODE      record how the labels were made (sni, clean,\n"
    "                         domain, rules:FILE), for snitch classify\n";

typedef struct prog {
    int show;
    double t0;
} prog;

static void on_progress(void *ctx, int done, int total)
{
    prog *p = ctx;
    if (p->show)
        fprintf(stderr, "\r  trees %d/%d  %.1f s   ", done, total, cli_now() - p->t0);
}

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"force", no_argument, 0, 'F'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        MODEL_LONG_OPTIONS,
        {0, 0, 0, 0},
    };
    model_opts mo;
    model_opts_init(&mo);
    const char *out = NULL;
    int force = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        int r = model_opts_parse(&mo, c, optarg, "train");
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case 'o': out = optarg; break;
        case 'F': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !out) {
        fprintf(stderr, "snitch train: give one TABLE.csv and -o MODEL.snm\n%s", usage_text);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    outfile of;
    if (outfile_open(&of, "train", out, force) < 0)
        return EXIT_FAIL;
    table t;
    double t0 = cli_now();
    if (cli_load_training_table("train", path, &mo, &t) < 0) {
        outfile_abort(&of);
        return EXIT_FAIL;
    }
    double t_read = cli_now() - t0;
    prog pg = {!quiet && isatty(2), cli_now()};
    snitch_err e = {""};
    model m;
    memset(&m, 0, sizeof m);
    m.kind = MODEL_FOREST;
    m.label_mode = (char *)(mo.label_mode ? mo.label_mode : "");
    m.train_rows = t.nrows;
    char desc[512];
    snprintf(desc, sizeof desc, "forest trees=%d max_depth=%d max_features=%d min_samples_leaf=%d "
             "class_weight=%s seed=%llu min_flows=%llu table=%s", mo.fp.n_trees, mo.fp.max_depth,
             mo.fp.max_features, mo.fp.min_samples_leaf, mo.fp.balanced ? "balanced" : "none",
             (unsigned long long)mo.fp.seed, (unsigned long long)mo.min_flows, path);
    m.description = desc;
    m.forest = forest_train(t.x, t.nrows, t.nfeat, t.y, (int)t.nclasses, &mo.fp, on_progress, &pg, &e);
    if (pg.show)
        fprintf(stderr, "\r%40s\r", "");
    int rc = EXIT_FAIL;
    mf_buf img = {0};
    if (!m.forest) {
        fprintf(stderr, "snitch train: %s\n", e.msg);
        goto done;
    }
    double t_fit = cli_now() - pg.t0;
    /* names are borrowed from the table for saving */
    m.feat = t.feat;
    m.nfeat = t.nfeat;
    m.classes = t.classes;
    m.nclasses = t.nclasses;
    if (model_save(&m, &img, &e) < 0) {
        fprintf(stderr, "snitch train: %s\n", e.msg);
        goto done;
    }
    if (fwrite(img.p, 1, img.len, of.f) != img.len) {
        fprintf(stderr, "snitch train: writing '%s' failed\n", out);
        goto done;
    }
    if (outfile_commit(&of, "train") < 0)
        goto done_committed;
    rc = EXIT_OK;
    if (!quiet)
        fprintf(stderr, "snitch train: %s: %zu rows, %zu features, %zu classes -> %s "
                        "(%d trees, %zu nodes, %zu bytes); read %.2f s, fit %.2f s\n",
                path, t.nrows, t.nfeat, t.nclasses, out, forest_ntrees(m.forest),
                forest_nnodes(m.forest), img.len, t_read, t_fit);
    goto done_committed;
done:
    outfile_abort(&of);
done_committed:
    mf_buf_free(&img);
    forest_free(m.forest);
    table_free(&t);
    return rc;
}
