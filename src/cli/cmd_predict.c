/* cmd_predict.c - `snitch predict`: a model and a table in, one prediction
 * per row out (label, probability, top 3), identity columns carried over. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval/eval.h"
#include "model/model.h"
#include "output/csv.h"

static const char usage_text[] =
    "usage: snitch predict MODEL.snm TABLE.csv -o OUT.csv [options]\n"
    "\n"
    "Predict the label of every row of a table from snitch extract (- reads\n"
    "standard input: snitch extract ... -o - | snitch predict m.snm - -o p.csv).\n"
    "The table must hold the feature columns the model was trained with.\n"
    "Output: the table's identity columns, then predicted, probability, and the\n"
    "second and third most likely labels with their probabilities.\n"
    "\n"
    "  -o, --output FILE      predictions CSV, - for standard output (required)\n"
    "      --proba            add one probability column per class (p_<class>)\n"
    "      --threads N        prediction threads (default: one per core)\n"
    "      --force            replace FILE if it exists\n"
    "  -q, --quiet            no summary\n";


int cmd_predict(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"proba", no_argument, 0, 'P'},
        {"threads", required_argument, 0, 'T'},
        {"force", no_argument, 0, 'F'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL;
    int proba_cols = 0, force = 0, quiet = 0, c;
    uint64_t threads = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'P': proba_cols = 1; break;
        case 'T':
            if (cli_uint("predict", "--threads", optarg, 1024, &threads) < 0)
                return EXIT_USAGE;
            break;
        case 'F': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 2 || !out) {
        fprintf(stderr, "snitch predict: give MODEL.snm TABLE.csv and -o OUT.csv\n%s", usage_text);
        return EXIT_USAGE;
    }
    const char *mpath = argv[optind], *tpath = argv[optind + 1];
    snitch_err e = {""};
    model *m = model_load_flags(mpath, MODEL_LOAD_LEAN, &e);
    if (!m) {
        fprintf(stderr, "snitch predict: %s\n", e.msg);
        return EXIT_FAIL;
    }
    outfile of;
    if (outfile_open(&of, "predict", out, force) < 0) {
        model_free(m);
        return EXIT_FAIL;
    }
    table t;
    memset(&t, 0, sizeof t);
    table_spec spec = {(const char *const *)m->feat, m->nfeat, 0, 1};
    int rc = EXIT_FAIL;
    double *p = NULL;
    csv_writer *w = NULL;
    if (table_read(tpath, &spec, &t, &e) < 0) {
        fprintf(stderr, "snitch predict: %s\n", e.msg);
        memset(&t, 0, sizeof t);
        goto fail;
    }
    int k = (int)m->nclasses;
    p = malloc((t.nrows ? t.nrows : 1) * (size_t)k * sizeof *p);
    w = csv_writer_new(of.f);
    if (!p || !w) {
        fprintf(stderr, "snitch predict: out of memory\n");
        goto fail;
    }
    double t0 = cli_now();
    if (model_predict_proba(m, t.x, t.nrows, p, (int)threads, &e) < 0) {
        fprintf(stderr, "snitch predict: %s\n", e.msg);
        goto fail;
    }
    double secs = cli_now() - t0;
    /* Table classes -> model classes, to score rows that carry a label. */
    int32_t *tmap = malloc((t.nclasses ? t.nclasses : 1) * sizeof *tmap);
    if (!tmap)
        goto fail;
    for (size_t i = 0; i < t.nclasses; i++) {
        tmap[i] = -1;
        for (size_t j = 0; j < m->nclasses; j++)
            if (!strcmp(t.classes[i], m->classes[j]))
                tmap[i] = (int32_t)j;
    }
    for (size_t i = 0; i < t.nid; i++)
        csv_cstr(w, t.id_names[i]);
    const char *cols[] = {"predicted", "probability", "second", "second_probability", "third",
                          "third_probability"};
    for (size_t i = 0; i < 6; i++)
        csv_cstr(w, cols[i]);
    if (proba_cols)
        for (int cl = 0; cl < k; cl++) {
            size_t n = strlen(m->classes[cl]) + 3;
            char *name = malloc(n);
            if (!name)
                goto fail_map;
            snprintf(name, n, "p_%s", m->classes[cl]);
            csv_cstr(w, name);
            free(name);
        }
    csv_end_row(w);
    uint64_t labeled = 0, known = 0, right = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        const double *pr = p + r * (size_t)k;
        int best[3];
        eval_top3(pr, k, best);
        if (t.nid) {
            /* id_text is already CSV: append it raw, then our fields */
            csv_raw(w, t.id_text[r], strlen(t.id_text[r]));
            csv_raw(w, ",", 1);
        }
        for (int b = 0; b < 3; b++) {
            if (best[b] >= 0) {
                csv_cstr(w, m->classes[best[b]]);
                csv_double(w, pr[best[b]]);
            } else {
                csv_cstr(w, "");
                csv_cstr(w, "");
            }
        }
        if (proba_cols)
            for (int cl = 0; cl < k; cl++)
                csv_double(w, pr[cl]);
        csv_end_row(w);
        if (t.y[r] >= 0) {
            labeled++;
            if (tmap[t.y[r]] >= 0) {
                known++;
                right += tmap[t.y[r]] == best[0];
            }
        }
    }
    free(tmap);
    if (csv_writer_close(w) < 0) {
        w = NULL;
        fprintf(stderr, "snitch predict: writing '%s' failed\n", out);
        goto fail;
    }
    w = NULL;
    if (outfile_commit(&of, "predict") < 0)
        goto done;
    rc = EXIT_OK;
    if (!quiet) {
        fprintf(stderr, "snitch predict: %zu rows in %.3f s (%.0f rows/s)", t.nrows, secs,
                secs > 0 ? (double)t.nrows / secs : 0.0);
        if (labeled)
            fprintf(stderr, "; %llu rows carry a label, %llu of a class the model knows, "
                            "accuracy on those %.4f",
                    (unsigned long long)labeled, (unsigned long long)known,
                    known ? (double)right / (double)known : 0.0);
        fputc('\n', stderr);
    }
    goto done;
fail_map:
    free(tmap);
fail:
    csv_writer_close(w);
    outfile_abort(&of);
done:
    free(p);
    table_free(&t);
    model_free(m);
    return rc;
}
