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
    "Train a model on a table from snitch extract (- reads standard input): a\n"
    "Random Forest (stats, window or seq columns), a sequence network (seq\n"
    "columns) or an ensemble of them (stats,seq).  Rows without a label are left\n"
    "out.  Networks print one line per epoch on stderr.\n"
    "\n"
    "  -o, --output FILE      the model file (required)\n"
    "      --force            replace FILE if it exists\n"
    "  -q, --quiet            no progress line and no summary\n"
    MODEL_OPTIONS_HELP
    "  --label-mode MODE      record how the labels were made (sni, clean,\n"
    "                         domain, rules:FILE), for snitch classify\n";

typedef struct prog {
    int show, quiet;
    double t0;
} prog;

static void on_tree(void *ctx, const char *member, int done, int total)
{
    prog *p = ctx;
    if (p->show)
        fprintf(stderr, "\r  %s: trees %d/%d  %.1f s   ", member, done, total, cli_now() - p->t0);
}

static void on_epoch(void *ctx, const char *member, const nn_epoch_info *i)
{
    prog *p = ctx;
    if (p->quiet)
        return;
    if (p->show)
        fprintf(stderr, "\r%60s\r", "");
    cli_print_epoch(member, i);
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
    if (model_opts_finish(&mo, "train") < 0)
        return EXIT_USAGE;
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
    prog pg = {!quiet && isatty(2), quiet, cli_now()};
    learn_progress lpg = {on_tree, on_epoch, &pg};
    snitch_err e = {""};
    int rc = EXIT_FAIL;
    mf_buf img = {0};
    size_t *rows = malloc(t.nrows * sizeof *rows);
    model *m = NULL;
    if (!rows) {
        fprintf(stderr, "snitch train: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < t.nrows; i++)
        rows[i] = i;
    m = model_train(&mo.spec, &mo.lp, &t, rows, t.nrows, t.y, (int)t.nclasses, t.classes, 0, &lpg,
                    &e);
    if (pg.show)
        fprintf(stderr, "\r%60s\r", "");
    if (!m) {
        fprintf(stderr, "snitch train: %s: %s\n", path, e.msg);
        goto done;
    }
    double t_fit = cli_now() - pg.t0;
    char desc[1024];
    cli_describe_model(&mo, path, desc, sizeof desc);
    m->label_mode = strdup(mo.label_mode ? mo.label_mode : "");
    m->description = strdup(desc);
    if (!m->label_mode || !m->description || model_save(m, &img, &e) < 0) {
        fprintf(stderr, "snitch train: %s\n", m->description ? e.msg : "out of memory");
        goto done;
    }
    if (fwrite(img.p, 1, img.len, of.f) != img.len) {
        fprintf(stderr, "snitch train: writing '%s' failed\n", out);
        goto done;
    }
    if (outfile_commit(&of, "train") < 0)
        goto done_committed;
    rc = EXIT_OK;
    if (!quiet) {
        char what[128];
        if (m->kind == MODEL_FOREST)
            snprintf(what, sizeof what, "%d trees, %zu nodes", forest_ntrees(m->forest),
                     forest_nnodes(m->forest));
        else if (m->kind == MODEL_NET)
            snprintf(what, sizeof what, "%s, %zu weights", nn_arch_name(m->net->cfg.arch),
                     nn_net_nparams(m->net));
        else
            snprintf(what, sizeof what, "ensemble of %zu", m->nmembers);
        fprintf(stderr, "snitch train: %s: %zu rows, %zu features, %zu classes -> %s "
                        "(%s: %s, %zu bytes); read %.2f s, fit %.2f s\n",
                path, t.nrows, m->nfeat, t.nclasses, out, mo.spec_text, what, img.len, t_read,
                t_fit);
    }
    goto done_committed;
done:
    outfile_abort(&of);
done_committed:
    mf_buf_free(&img);
    model_free(m);
    free(rows);
    table_free(&t);
    return rc;
}
