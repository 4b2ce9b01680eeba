/* cmd_experiment.c - `snitch experiment`: the seeds' studies in one
 * command.  Extracts once (by running `snitch extract`), then for every
 * minimum-flows threshold cross-validates every chosen model of the
 * paper's legend (A-O) on the same folds with the one cv of eval/cv.c,
 * and writes the run directory of docs/experiment.md: results.json,
 * table1.txt, one file per finished cell (so an interrupted run resumes
 * where it stopped) and a forest for the report.  --packets runs seed
 * 000's per-packet study instead (window features, forest of depth 15). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "output/json_read.h"

static const char usage_text[] =
    "usage: snitch experiment -r CAPTURE... -o RUN_DIR [options]\n"
    "\n"
    "Seed 002's study on your captures: extract once, then cross-validate every\n"
    "chosen model (the paper's legend A-O) at every minimum-flows threshold on\n"
    "the same folds.  Writes RUN_DIR/results.json, table1.txt (the paper's\n"
    "appendix layout), flows.csv, cells/ and forest.snm; `snitch report RUN_DIR`\n"
    "draws them.  Run it again with the same options to resume: finished cells\n"
    "are kept.  --packets: seed 000's per-packet study (window features, forest\n"
    "of 200 trees of depth 15, accuracy).\n"
    "\n"
    "  -r, --read FILE        capture (pcap/pcapng); repeatable\n"
    "  -o, --output DIR       the run directory (required)\n"
    "      --label MODE       sni, clean (default), domain, rules:FILE\n"
    "      --min-flows LIST   thresholds, e.g. 100,200,500 (default 0: every label)\n"
    "      --models LIST      model ids, e.g. A,B,K, or all (default)\n"
    "      --folds K          folds (default 10)\n"
    "      --packets          seed 000's per-packet study\n"
    "      --force            start over in a run directory made with other options\n"
    "  -v, --verbose          one line per network epoch\n"
    "  -q, --quiet            no progress\n"
    "\n"
    "Model options (as snitch cv; --model and --channel are set per model id):\n"
    MODEL_OPTIONS_HELP;

/* The paper's legend (seed 002, appendix), as in docs/experiment.md. */
static const struct { char id; const char *name, *spec; } legend[] = {
    {'A', "Ensemble B + C", "ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat"},
    {'B', "Random Forest", "rf"},
    {'C', "Ensemble K + L + M", "ensemble:cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat"},
    {'D', "Ensemble H + I + J", "ensemble:cnn_rnn/size+dir+cnn_rnn/payload+dir+cnn_rnn/iat+dir"},
    {'E', "Ensemble K + L", "ensemble:cnn_rnn/size+cnn_rnn/payload"},
    {'F', "Ensemble K + M", "ensemble:cnn_rnn/size+cnn_rnn/iat"},
    {'G', "Ensemble L + M", "ensemble:cnn_rnn/payload+cnn_rnn/iat"},
    {'H', "CNN-RNN (Packet + Directional features)", "cnn_rnn/size+dir"},
    {'I', "CNN-RNN (Payload + Directional features)", "cnn_rnn/payload+dir"},
    {'J', "CNN-RNN (Inter-Arrival Time + Directional features)", "cnn_rnn/iat+dir"},
    {'K', "CNN-RNN (Packet)", "cnn_rnn/size"},
    {'L', "CNN-RNN (Payload)", "cnn_rnn/payload"},
    {'M', "CNN-RNN (Inter-Arrival Time)", "cnn_rnn/iat"},
    {'N', "Baseline RNN (Packet)", "gru/size"},
    {'O', "Baseline CNN (Packet)", "cnn/size"},
};
#define NLEGEND (sizeof legend / sizeof *legend)

typedef struct xp {
    const char *dir;
    int quiet, verbose, packets;
    double t0;
    int cell, ncells;
} xp;

static void on_tree(void *ctx, const char *member, int done, int total)
{
    xp *x = ctx;
    if (!x->quiet && isatty(2))
        fprintf(stderr, "\r  [%d/%d] %s: trees %d/%d   ", x->cell, x->ncells, member, done, total);
}

static void on_epoch(void *ctx, const char *member, const nn_epoch_info *i)
{
    xp *x = ctx;
    if (x->verbose)
        cli_print_epoch(member, i);
    else if (!x->quiet && isatty(2))
        fprintf(stderr, "\r  [%d/%d] %s: epoch %d   ", x->cell, x->ncells, member, i->epoch);
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int parse_thresholds(const char *s, uint64_t **out, size_t *n)
{
    char *copy = strdup(s), *save = NULL;
    *n = 0;
    *out = malloc((strlen(s) / 2 + 2) * sizeof **out);
    if (!copy || !*out) {
        free(copy);
        return -1;
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (cli_uint("experiment", "--min-flows", t, UINT32_MAX, &v) < 0) {
            free(copy);
            return -1;
        }
        /* keep them sorted and unique: the table's columns */
        size_t at = *n;
        while (at > 0 && (*out)[at - 1] > v)
            at--;
        if (at > 0 && (*out)[at - 1] == v)
            continue;
        memmove(*out + at + 1, *out + at, (*n - at) * sizeof **out);
        (*out)[at] = v;
        (*n)++;
    }
    free(copy);
    return *n ? 0 : -1;
}

/* Model ids from "A,B,K" or "all" into ids[] (legend indices). */
static int parse_models(const char *s, int *ids, size_t *n)
{
    *n = 0;
    if (!strcmp(s, "all")) {
        for (size_t i = 0; i < NLEGEND; i++)
            ids[(*n)++] = (int)i;
        return 0;
    }
    int seen[NLEGEND] = {0};
    for (const char *p = s; *p; p++) {
        if (*p == ',' || *p == ' ')
            continue;
        char c = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (c < 'A' || c >= 'A' + (int)NLEGEND || (p[1] && p[1] != ',' && p[1] != ' ')) {
            fprintf(stderr, "snitch experiment: --models: ids A to O separated by commas, or "
                            "all; got '%s'\n", s);
            return -1;
        }
        if (!seen[c - 'A']++)
            ids[(*n)++] = c - 'A';
    }
    return *n ? 0 : -1;
}

/* Re-emit a parsed JSON value (a finished cell read back on resume). */
static void emit(json_writer *j, const json_value *v)
{
    switch (v->type) {
    case JSON_NULL: json_null(j); break;
    case JSON_BOOL: json_bool(j, v->u.boolean); break;
    case JSON_NUMBER: json_double(j, v->u.number); break;
    case JSON_STRING: json_str(j, v->u.string.s); break;
    case JSON_ARRAY:
        json_begin_array(j);
        for (size_t i = 0; i < v->u.array.n; i++)
            emit(j, &v->u.array.items[i]);
        json_end_array(j);
        break;
    case JSON_OBJECT:
        json_begin_object(j);
        for (size_t i = 0; i < v->u.object.n; i++) {
            json_key(j, v->u.object.members[i].key);
            emit(j, &v->u.object.members[i].value);
        }
        json_end_object(j);
        break;
    }
}

static double num(const json_value *o, const char *key)
{
    const json_value *v = json_object_get(o, key);
    return v && v->type == JSON_NUMBER ? v->u.number : -1;
}

/* Write one finished cell: cells/M_T.json and cells/M_T.confusion.csv,
 * each under a temporary name renamed into place (a crash leaves no half
 * cell, so resuming never trusts a damaged one). */
static int write_cell(const char *dir, int id, uint64_t t, const char *spec, char *const *classes,
                      const cv_result *r)
{
    char name[96], cname[96];
    snprintf(name, sizeof name, "cells/%c_%llu.json", legend[id].id, (unsigned long long)t);
    snprintf(cname, sizeof cname, "cells/%c_%llu.confusion.csv", legend[id].id,
             (unsigned long long)t);
    char *p = path_in(dir, name), *cp = path_in(dir, cname);
    outfile jo, co;
    int rc = -1;
    if (!p || !cp)
        goto out;
    if (outfile_open(&co, "experiment", cp, 1) < 0)
        goto out;
    if (cli_write_confusion(co.f, classes, r) < 0 || outfile_commit(&co, "experiment") < 0) {
        outfile_abort(&co);
        goto out;
    }
    if (outfile_open(&jo, "experiment", p, 1) < 0)
        goto out;
    json_writer j;
    json_init(&j, jo.f, 1);
    json_begin_object(&j);
    char idtxt[2] = {legend[id].id, 0};
    json_key(&j, "model");
    json_str(&j, idtxt);
    json_key(&j, "spec");
    json_str(&j, spec);
    json_key(&j, "min_flows");
    json_i64(&j, (int64_t)t);
    json_key(&j, "status");
    json_str(&j, "done");
    json_key(&j, "flows");
    json_i64(&j, (int64_t)r->n);
    json_key(&j, "classes");
    json_i64(&j, (int64_t)r->k);
    cli_json_cv_fields(&j, classes, r);
    json_key(&j, "confusion");
    json_str(&j, cname);
    json_end_object(&j);
    fputc('\n', jo.f);
    rc = outfile_commit(&jo, "experiment");
out:
    free(p);
    free(cp);
    return rc;
}

typedef struct thr {
    uint64_t t;
    size_t classes, flows;
} thr;

/* table1.txt: one block per metric, a column per threshold, models
 * sorted by score in each column ("93.5% A"), as the paper's appendix. */
static void write_table1(FILE *f, json_value **cells, size_t ncells, const thr *th, size_t nth)
{
    static const char *metric[] = {"accuracy", "macro_precision", "macro_recall", "macro_f1"};
    static const char *title[] = {"Accuracy", "Precision", "Recall", "F1-Score"};
    for (int m = 0; m < 4; m++) {
        fprintf(f, "%s%s\n\n", m ? "\n" : "", title[m]);
        for (size_t c = 0; c < nth; c++) {
            char h[48];
            snprintf(h, sizeof h, "%llu / %zu", (unsigned long long)th[c].t, th[c].classes);
            fprintf(f, "%-12s", h);
        }
        fputc('\n', f);
        /* per column: the cells of that threshold, best first */
        size_t rows = 0;
        const json_value **col = calloc(nth * (ncells ? ncells : 1), sizeof *col);
        size_t *cnt = calloc(nth ? nth : 1, sizeof *cnt);
        if (!col || !cnt) {
            free(col);
            free(cnt);
            return;
        }
        for (size_t c = 0; c < nth; c++) {
            for (size_t i = 0; i < ncells; i++)
                if (cells[i] && num(cells[i], "min_flows") == (double)th[c].t)
                    col[c * ncells + cnt[c]++] = cells[i];
            const json_value **v = col + c * ncells;
            for (size_t a = 1; a < cnt[c]; a++)     /* insertion sort, descending */
                for (size_t b = a; b > 0 && num(v[b], metric[m]) > num(v[b - 1], metric[m]); b--) {
                    const json_value *tmp = v[b];
                    v[b] = v[b - 1];
                    v[b - 1] = tmp;
                }
            if (cnt[c] > rows)
                rows = cnt[c];
        }
        for (size_t r = 0; r < rows; r++) {
            for (size_t c = 0; c < nth; c++) {
                char s[48] = "";
                if (r < cnt[c]) {
                    const json_value *cell = col[c * ncells + r];
                    const json_value *id = json_object_get(cell, "model");
                    snprintf(s, sizeof s, "%.1f%% %s", 100 * num(cell, metric[m]),
                             id && id->type == JSON_STRING ? id->u.string.s : "?");
                }
                fprintf(f, "%-12s", s);
            }
            fputc('\n', f);
        }
        free(col);
        free(cnt);
    }
    fprintf(f, "\nLegend:\n");
    for (size_t i = 0; i < NLEGEND; i++)
        fprintf(f, "- %c: %s (%s)\n", legend[i].id, legend[i].name, legend[i].spec);
}

int cmd_experiment(int argc, char **argv)
{
    enum { O_LABEL = 400, O_MINF, O_MODELS, O_FOLDS, O_PACKETS, O_FORCE };
    static const struct option opts[] = {
        {"read", required_argument, 0, 'r'},
        {"output", required_argument, 0, 'o'},
        {"label", required_argument, 0, O_LABEL},
        {"models", required_argument, 0, O_MODELS},
        {"folds", required_argument, 0, O_FOLDS},
        {"packets", no_argument, 0, O_PACKETS},
        {"force", no_argument, 0, O_FORCE},
        {"verbose", no_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        MODEL_LONG_OPTIONS,
        {0, 0, 0, 0},
    };
    model_opts mo;
    model_opts_init(&mo);
    const char **caps = calloc((size_t)argc + 1, sizeof *caps);
    size_t ncaps = 0;
    const char *label = "clean", *minf = "0", *models = "all";
    uint64_t folds = 10;
    int force = 0, depth_given = 0, c;
    xp x = {NULL, 0, 0, 0, 0, 0, 0};
    if (!caps)
        return EXIT_FAIL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:o:vqh", opts, NULL)) != -1) {
        if (c == 1007) {     /* --min-flows is a list here */
            minf = optarg;
            continue;
        }
        if (c == 1010 || c == 1011 || c == 1012) {
            fprintf(stderr, "snitch experiment: --model/--channel/--dir are set per model id; "
                            "use --models\n");
            free(caps);
            return EXIT_USAGE;
        }
        int r = model_opts_parse(&mo, c, optarg, "experiment");
        if (r < 0) {
            free(caps);
            return EXIT_USAGE;
        }
        if (r > 0) {
            depth_given |= c == 1001;
            continue;
        }
        switch (c) {
        case 'r': caps[ncaps++] = optarg; break;
        case 'o': x.dir = optarg; break;
        case O_LABEL: label = optarg; break;
        case O_MINF: minf = optarg; break;
        case O_MODELS: models = optarg; break;
        case O_FOLDS:
            if (cli_uint("experiment", "--folds", optarg, 1000, &folds) < 0 || folds < 2) {
                fprintf(stderr, "snitch experiment: --folds must be at least 2\n");
                free(caps);
                return EXIT_USAGE;
            }
            break;
        case O_PACKETS: x.packets = 1; break;
        case O_FORCE: force = 1; break;
        case 'v': x.verbose = 1; break;
        case 'q': x.quiet = 1; break;
        case 'h': fputs(usage_text, stdout); free(caps); return EXIT_OK;
        default: fputs(usage_text, stderr); free(caps); return EXIT_USAGE;
        }
    }
    if (optind != argc || !ncaps || !x.dir) {
        fprintf(stderr, "snitch experiment: give -r CAPTURE... and -o RUN_DIR\n%s", usage_text);
        free(caps);
        return EXIT_USAGE;
    }
    uint64_t *th_list = NULL;
    size_t nth = 0, nmod = 0;
    int ids[NLEGEND];
    if (parse_thresholds(minf, &th_list, &nth) < 0 ||
        (x.packets ? (ids[0] = 1, nmod = 1, 0) : parse_models(models, ids, &nmod)) < 0) {
        if (!nth)
            fprintf(stderr, "snitch experiment: --min-flows: a list like 100,200,500\n");
        free(caps);
        free(th_list);
        return EXIT_USAGE;
    }
    if (x.packets && !depth_given)
        mo.lp.fp.max_depth = 15;    /* seed 000: 200 trees of depth 15 */
    int rc = EXIT_FAIL;
    char *cfg_path = path_in(x.dir, "config.txt");
    char *table_path = path_in(x.dir, x.packets ? "packets.csv" : "flows.csv");
    char *cells_dir = path_in(x.dir, "cells");
    table t;
    memset(&t, 0, sizeof t);
    json_value **cells = NULL;
    thr *th = NULL;

    /* What makes two runs the same experiment: resuming is only allowed
     * into a directory whose config.txt says exactly this. */
    char desc[1024], cfg[8192];
    /* described as a forest + network spec so every training option (the
     * forest's and the networks') is part of the text */
    mo.model = "ensemble:rf+cnn_rnn/size";
    model_opts_finish(&mo, "experiment");
    cli_describe_model(&mo, x.packets ? "packets.csv" : "flows.csv", desc, sizeof desc);
    {
        /* keep the options, not the describing spec and its weights */
        char *opt = strstr(desc, " trees=");
        if (opt)
            memmove(desc, opt + 1, strlen(opt + 1) + 1);
    }
    size_t at = (size_t)snprintf(cfg, sizeof cfg, "snitch experiment\nkind=%s\nlabel=%s\nfolds=%llu\n"
                                 "options=%s\ncaptures=", x.packets ? "packets" : "flows", label,
                                 (unsigned long long)folds, desc);
    /* a capture rewritten since (size or time) is another experiment */
    for (size_t i = 0; i < ncaps && at < sizeof cfg; i++) {
        struct stat st;
        int have = stat(caps[i], &st) == 0;
        at += (size_t)snprintf(cfg + at, sizeof cfg - at, "%s%s (%lld bytes, mtime %lld)",
                               i ? " " : "", caps[i], have ? (long long)st.st_size : -1LL,
                               have ? (long long)st.st_mtime : -1LL);
    }
    if (at < sizeof cfg)
        snprintf(cfg + at, sizeof cfg - at, "\n");
    if (mkdir(x.dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "snitch experiment: cannot create '%s': %s\n", x.dir, strerror(errno));
        goto out;
    }
    if (file_exists(cfg_path)) {
        FILE *f = fopen(cfg_path, "r");
        char old[4096] = "";
        size_t n = f ? fread(old, 1, sizeof old - 1, f) : 0;
        if (f)
            fclose(f);
        old[n] = 0;
        if (strcmp(old, cfg)) {
            if (!force) {
                fprintf(stderr, "snitch experiment: '%s' holds an experiment with other options "
                                "(see %s); use another -o, or --force to start over there\n",
                        x.dir, cfg_path);
                goto out;
            }
            /* start over: the old table, cells and forest do not belong
             * to this run (only snitch's own files are removed) */
            unlink(table_path);
            char *fp = path_in(x.dir, "forest.snm");
            if (fp)
                unlink(fp);
            free(fp);
            DIR *d = opendir(cells_dir);
            struct dirent *de;
            while (d && (de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if ((l > 5 && !strcmp(de->d_name + l - 5, ".json")) ||
                    (l > 14 && !strcmp(de->d_name + l - 14, ".confusion.csv"))) {
                    char *cp = path_in(cells_dir, de->d_name);
                    if (cp)
                        unlink(cp);
                    free(cp);
                }
            }
            if (d)
                closedir(d);
        } else if (!x.quiet) {
            fprintf(stderr, "snitch experiment: resuming in %s (finished cells are kept)\n", x.dir);
        }
    }
    mkdir(cells_dir, 0777);
    {
        FILE *f = fopen(cfg_path, "w");
        if (!f || fputs(cfg, f) < 0 || fclose(f) != 0) {
            fprintf(stderr, "snitch experiment: cannot write '%s'\n", cfg_path);
            goto out;
        }
    }
    /* 1. extract once */
    if (!file_exists(table_path)) {
        const char **ev = calloc(2 * ncaps + 12, sizeof *ev);
        if (!ev)
            goto out;
        int n = 0;
        ev[n++] = "extract";
        for (size_t i = 0; i < ncaps; i++) {
            ev[n++] = "-r";
            ev[n++] = caps[i];
        }
        ev[n++] = "--features";
        ev[n++] = x.packets ? "window" : "stats,seq";
        ev[n++] = "--label";
        ev[n++] = label;
        ev[n++] = "-o";
        ev[n++] = table_path;
        if (x.quiet)
            ev[n++] = "-q";
        if (!x.quiet)
            fprintf(stderr, "snitch experiment: extracting %zu capture%s -> %s\n", ncaps,
                    ncaps > 1 ? "s" : "", table_path);
        int er = cmd_extract(n, (char **)ev);
        free(ev);
        if (er != EXIT_OK) {
            fprintf(stderr, "snitch experiment: extraction failed\n");
            goto out;
        }
    }
    /* 2. the table, every family; thresholds pick rows below */
    model_opts base = mo;
    base.min_flows = 0;
    model_spec_parse(x.packets ? "rf" : "ensemble:rf+cnn_rnn/size", &base.spec, &(snitch_err){""});
    if (cli_load_training_table("experiment", table_path, &base, &t) < 0)
        goto out;
    uint64_t *counts = calloc(t.nclasses, sizeof *counts);
    int32_t *map = malloc(t.nclasses * sizeof *map), *ysel = malloc(t.nrows * sizeof *ysel);
    size_t *rows = malloc(t.nrows * sizeof *rows);
    char **cls = malloc(t.nclasses * sizeof *cls);
    th = calloc(nth, sizeof *th);
    cells = calloc(nth * nmod, sizeof *cells);
    if (!counts || !map || !ysel || !rows || !cls || !th || !cells) {
        fprintf(stderr, "snitch experiment: out of memory\n");
        goto out2;
    }
    table_class_counts(&t, counts);
    x.ncells = (int)(nth * nmod);
    x.t0 = cli_now();
    learn_progress lpg = {on_tree, on_epoch, &x};
    size_t best_th = nth;       /* the largest threshold with two classes */
    for (size_t ti = 0; ti < nth; ti++) {
        size_t n, k = cli_threshold_rows(&t, counts, th_list[ti], map, cls, ysel, rows, &n);
        th[ti] = (thr){th_list[ti], k, n};
        if (k < 2 || n < folds) {
            fprintf(stderr, "snitch experiment: min flows %llu leaves %zu classes and %zu flows: "
                            "no cells\n", (unsigned long long)th_list[ti], k, n);
            x.cell += (int)nmod;
            continue;
        }
        best_th = ti;
        for (size_t mi = 0; mi < nmod; mi++) {
            int id = ids[mi];
            x.cell++;
            char name[64];
            snprintf(name, sizeof name, "cells/%c_%llu.json", legend[id].id,
                     (unsigned long long)th_list[ti]);
            char *cp = path_in(x.dir, name);
            snitch_err e = {""};
            json_value *done = cp && file_exists(cp) ? json_parse_file(cp, &e) : NULL;
            if (done && num(done, "flows") == (double)n && num(done, "classes") == (double)k) {
                cells[ti * nmod + mi] = done;
                if (!x.quiet)
                    fprintf(stderr, "  [%d/%d] %c, min flows %llu: kept (accuracy %.4f)\n", x.cell,
                            x.ncells, legend[id].id, (unsigned long long)th_list[ti],
                            num(done, "accuracy"));
                free(cp);
                continue;
            }
            json_value_free(done);
            model_opts cm = mo;
            cm.model = legend[id].spec;
            cm.weights = NULL;
            if (model_opts_finish(&cm, "experiment") < 0) {
                free(cp);
                goto out2;
            }
            double c0 = cli_now();
            cv_result r;
            if (cv_run(&cm.spec, &cm.lp, &t, rows, n, ysel, (int)k, cls, (int)folds, cm.lp.fp.seed,
                       &lpg, NULL, NULL, &r, &e) < 0) {
                fprintf(stderr, "\nsnitch experiment: %c (%s), min flows %llu: %s\n", legend[id].id,
                        legend[id].spec, (unsigned long long)th_list[ti], e.msg);
                free(cp);
                goto out2;
            }
            int w = write_cell(x.dir, id, th_list[ti], cm.spec_text, cls, &r);
            if (!x.quiet)
                fprintf(stderr, "%s  [%d/%d] %c %-18s min flows %llu (%zu classes, %zu flows): "
                                "accuracy %.4f, f1 %.4f, %.1f s\n", isatty(2) ? "\r" : "", x.cell,
                        x.ncells, legend[id].id, cm.spec_text, (unsigned long long)th_list[ti], k,
                        n, r.rep.accuracy, r.rep.macro_f1, cli_now() - c0);
            cv_result_free(&r);
            if (w < 0) {
                free(cp);
                goto out2;
            }
            cells[ti * nmod + mi] = json_parse_file(cp, &e);
            free(cp);
            if (!cells[ti * nmod + mi]) {
                fprintf(stderr, "snitch experiment: %s\n", e.msg);
                goto out2;
            }
        }
    }
    /* 3. a forest on every row of the largest threshold, for the report */
    char *fpath = path_in(x.dir, "forest.snm");
    if (best_th < nth && fpath && !file_exists(fpath)) {
        size_t n, k = cli_threshold_rows(&t, counts, th_list[best_th], map, cls, ysel, rows, &n);
        model_opts fm = mo;
        fm.model = "rf";
        model_opts_finish(&fm, "experiment");
        snitch_err e = {""};
        model *m = model_train(&fm.spec, &fm.lp, &t, rows, n, ysel, (int)k, cls, 0, NULL, &e);
        mf_buf img = {0};
        outfile of;
        if (m) {
            m->label_mode = strdup(label);
            char fdesc[1024];
            cli_describe_model(&fm, x.packets ? "packets.csv" : "flows.csv", fdesc, sizeof fdesc);
            m->description = strdup(fdesc);
        }
        if (!m || model_save(m, &img, &e) < 0 || outfile_open(&of, "experiment", fpath, 1) < 0 ||
            fwrite(img.p, 1, img.len, of.f) != img.len || outfile_commit(&of, "experiment") < 0) {
            fprintf(stderr, "snitch experiment: forest.snm: %s\n", e.msg[0] ? e.msg : "write failed");
            model_free(m);
            mf_buf_free(&img);
            free(fpath);
            goto out2;
        }
        model_free(m);
        mf_buf_free(&img);
    }
    free(fpath);
    /* 4. results.json and table1.txt */
    {
        char *rp = path_in(x.dir, "results.json"), *tp = path_in(x.dir, "table1.txt");
        outfile ro, to;
        int ok = rp && tp && outfile_open(&ro, "experiment", rp, 1) == 0;
        if (ok) {
            json_writer j;
            json_init(&j, ro.f, 1);
            json_begin_object(&j);
            json_key(&j, "tool");
            json_str(&j, "snitch");
            json_key(&j, "version");
            json_str(&j, SNITCH_VERSION);
            json_key(&j, "kind");
            json_str(&j, x.packets ? "packets" : "flows");
            json_key(&j, "captures");
            json_begin_array(&j);
            for (size_t i = 0; i < ncaps; i++)
                json_str(&j, caps[i]);
            json_end_array(&j);
            json_key(&j, "label");
            json_str(&j, label);
            json_key(&j, "folds");
            json_i64(&j, (int64_t)folds);
            json_key(&j, "seed");
            json_i64(&j, (int64_t)mo.lp.fp.seed);
            json_key(&j, "options");
            json_str(&j, desc);
            json_key(&j, "table");
            json_str(&j, x.packets ? "packets.csv" : "flows.csv");
            if (x.packets) {
                json_key(&j, "packets_table");
                json_str(&j, "packets.csv");
            }
            if (best_th < nth) {
                json_key(&j, "forest_model");
                json_str(&j, "forest.snm");
            }
            json_key(&j, "models");
            json_begin_array(&j);
            for (size_t mi = 0; mi < nmod; mi++) {
                char idtxt[2] = {legend[ids[mi]].id, 0};
                json_begin_object(&j);
                json_key(&j, "id");
                json_str(&j, idtxt);
                json_key(&j, "name");
                json_str(&j, x.packets ? "Random Forest (200 trees, depth 15)" : legend[ids[mi]].name);
                json_key(&j, "spec");
                json_str(&j, legend[ids[mi]].spec);
                json_end_object(&j);
            }
            json_end_array(&j);
            json_key(&j, "thresholds");
            json_begin_array(&j);
            for (size_t ti = 0; ti < nth; ti++) {
                json_begin_object(&j);
                json_key(&j, "min_flows");
                json_i64(&j, (int64_t)th[ti].t);
                json_key(&j, "classes");
                json_i64(&j, (int64_t)th[ti].classes);
                json_key(&j, "flows");
                json_i64(&j, (int64_t)th[ti].flows);
                json_end_object(&j);
            }
            json_end_array(&j);
            json_key(&j, "cells");
            json_begin_array(&j);
            for (size_t i = 0; i < nth * nmod; i++)
                if (cells[i])
                    emit(&j, cells[i]);
            json_end_array(&j);
            json_end_object(&j);
            fputc('\n', ro.f);
            ok = outfile_commit(&ro, "experiment") == 0;
        }
        if (ok && outfile_open(&to, "experiment", tp, 1) == 0) {
            write_table1(to.f, cells, nth * nmod, th, nth);
            ok = outfile_commit(&to, "experiment") == 0;
        } else {
            ok = 0;
        }
        if (ok && !x.quiet) {
            fprintf(stderr, "snitch experiment: %s/results.json, %s/table1.txt (%.1f s)\n", x.dir,
                    x.dir, cli_now() - x.t0);
            FILE *f = fopen(tp, "r");
            char line[512];
            int shown = 0;
            while (f && fgets(line, sizeof line, f) && shown < 20 && strncmp(line, "Precision", 9)) {
                fputs(line, stdout);
                shown++;
            }
            if (f)
                fclose(f);
        }
        free(rp);
        free(tp);
        if (!ok)
            goto out2;
    }
    rc = EXIT_OK;
out2:
    free(counts);
    free(map);
    free(ysel);
    free(rows);
    free(cls);
out:
    if (cells)
        for (size_t i = 0; i < nth * nmod; i++)
            json_value_free(cells[i]);
    free(cells);
    free(th);
    table_free(&t);
    free(cfg_path);
    free(table_path);
    free(cells_dir);
    free(th_list);
    free(caps);
    return rc;
}
