/* model_opts.c - options and table loading shared by train and cv. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void model_opts_init(model_opts *o)
{
    memset(o, 0, sizeof *o);
    forest_default_params(&o->fp);
    o->fp.threads = 0;
}

static int parse_families(const char *s, unsigned *out)
{
    if (!strcmp(s, "stats"))
        *out = TABLE_STATS;
    else if (!strcmp(s, "seq"))
        *out = TABLE_SEQ;
    else if (!strcmp(s, "window"))
        *out = TABLE_WINDOW;
    else if (!strcmp(s, "all"))
        *out = TABLE_STATS | TABLE_SEQ | TABLE_WINDOW;
    else
        return -1;
    return 0;
}

int model_opts_parse(model_opts *o, int code, const char *arg, const char *cmd)
{
    uint64_t v;
    switch (code) {
    case 1000:
        if (cli_uint(cmd, "--trees", arg, 100000, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --trees must be at least 1\n", cmd), -1) : -1;
        o->fp.n_trees = (int)v;
        return 1;
    case 1001:
        if (cli_uint(cmd, "--max-depth", arg, 10000, &v) < 0)
            return -1;
        o->fp.max_depth = (int)v;
        return 1;
    case 1002:
        if (!strcmp(arg, "sqrt"))
            o->fp.max_features = FOREST_SQRT;
        else if (!strcmp(arg, "log2"))
            o->fp.max_features = FOREST_LOG2;
        else if (!strcmp(arg, "all"))
            o->fp.max_features = FOREST_ALL;
        else if (cli_uint(cmd, "--max-features", arg, 1000000, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --max-features: sqrt, log2, all or a number >= 1\n", cmd), -1) : -1;
        else
            o->fp.max_features = (int)v;
        return 1;
    case 1003:
        if (cli_uint(cmd, "--min-samples-leaf", arg, 1000000, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --min-samples-leaf must be at least 1\n", cmd), -1) : -1;
        o->fp.min_samples_leaf = (int)v;
        return 1;
    case 1004:
        if (!strcmp(arg, "balanced"))
            o->fp.balanced = 1;
        else if (!strcmp(arg, "none"))
            o->fp.balanced = 0;
        else {
            fprintf(stderr, "snitch %s: --class-weight: none or balanced, got '%s'\n", cmd, arg);
            return -1;
        }
        return 1;
    case 1005:
        if (cli_uint(cmd, "--seed", arg, UINT64_MAX, &v) < 0)
            return -1;
        o->fp.seed = v;
        return 1;
    case 1006:
        if (cli_uint(cmd, "--threads", arg, 1024, &v) < 0)
            return -1;
        o->fp.threads = (int)v;
        return 1;
    case 1007:
        if (cli_uint(cmd, "--min-flows", arg, UINT32_MAX, &o->min_flows) < 0)
            return -1;
        return 1;
    case 1008:
        if (parse_families(arg, &o->families) < 0) {
            fprintf(stderr, "snitch %s: --features: stats, seq, window or all, got '%s'\n", cmd, arg);
            return -1;
        }
        return 1;
    case 1009:
        o->label_mode = arg;
        return 1;
    default:
        return 0;
    }
}

int cli_load_training_table(const char *cmd, const char *path, const model_opts *o, table *t)
{
    snitch_err e = {""};
    table_spec spec = {NULL, 0, 0, 0};
    memset(t, 0, sizeof *t);
    if (table_read(path, &spec, t, &e) < 0) {
        fprintf(stderr, "snitch %s: %s\n", cmd, e.msg);
        memset(t, 0, sizeof *t);
        return -1;
    }
    unsigned present = table_families_present(t);
    unsigned want = o->families;
    if (!want)
        want = present & TABLE_STATS ? TABLE_STATS : present & TABLE_WINDOW ? TABLE_WINDOW : TABLE_SEQ;
    if (!(present & want)) {
        fprintf(stderr, "snitch %s: %s: no %s feature columns\n", cmd, path,
                want == TABLE_SEQ ? "sequence" : want == TABLE_WINDOW ? "window" : "statistical");
        goto fail;
    }
    if (table_select_families(t, want, &e) < 0 || table_keep_labeled(t, o->min_flows, &e) < 0) {
        fprintf(stderr, "snitch %s: %s\n", cmd, e.msg);
        goto fail;
    }
    if (t->nrows == 0) {
        fprintf(stderr, "snitch %s: %s: no labeled rows%s\n", cmd, path,
                o->min_flows > 1 ? " left after --min-flows" : "");
        goto fail;
    }
    if (t->nclasses < 2) {
        fprintf(stderr, "snitch %s: %s: only one class ('%s')%s; a classifier needs at least two\n", cmd,
                path, t->classes[0], o->min_flows > 1 ? " left after --min-flows" : "");
        goto fail;
    }
    return 0;
fail:
    table_free(t);
    memset(t, 0, sizeof *t);
    return -1;
}
