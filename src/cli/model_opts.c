/* model_opts.c - options and table loading shared by train and cv. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void model_opts_init(model_opts *o)
{
    memset(o, 0, sizeof *o);
    learn_default_params(&o->lp);
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
        o->lp.fp.n_trees = (int)v;
        return 1;
    case 1001:
        if (cli_uint(cmd, "--max-depth", arg, 10000, &v) < 0)
            return -1;
        o->lp.fp.max_depth = (int)v;
        return 1;
    case 1002:
        if (!strcmp(arg, "sqrt"))
            o->lp.fp.max_features = FOREST_SQRT;
        else if (!strcmp(arg, "log2"))
            o->lp.fp.max_features = FOREST_LOG2;
        else if (!strcmp(arg, "all"))
            o->lp.fp.max_features = FOREST_ALL;
        else if (cli_uint(cmd, "--max-features", arg, 1000000, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --max-features: sqrt, log2, all or a number >= 1\n", cmd), -1) : -1;
        else
            o->lp.fp.max_features = (int)v;
        return 1;
    case 1003:
        if (cli_uint(cmd, "--min-samples-leaf", arg, 1000000, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --min-samples-leaf must be at least 1\n", cmd), -1) : -1;
        o->lp.fp.min_samples_leaf = (int)v;
        return 1;
    case 1004:
        if (!strcmp(arg, "balanced"))
            o->lp.fp.balanced = 1;
        else if (!strcmp(arg, "none"))
            o->lp.fp.balanced = 0;
        else {
            fprintf(stderr, "snitch %s: --class-weight: none or balanced, got '%s'\n", cmd, arg);
            return -1;
        }
        return 1;
    case 1005:
        if (cli_uint(cmd, "--seed", arg, UINT64_MAX, &v) < 0)
            return -1;
        o->lp.fp.seed = v;
        o->lp.tp.seed = v;
        return 1;
    case 1006:
        if (cli_uint(cmd, "--threads", arg, 1024, &v) < 0)
            return -1;
        o->lp.fp.threads = (int)v;
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
    case 1010: o->model = arg; return 1;
    case 1011:
        if (strcmp(arg, "size") && strcmp(arg, "payload") && strcmp(arg, "iat")) {
            fprintf(stderr, "snitch %s: --channel: size, payload or iat, got '%s'\n", cmd, arg);
            return -1;
        }
        o->channel = arg;
        return 1;
    case 1012: o->dir = 1; return 1;
    case 1013:
        if (cli_uint(cmd, "--epochs", arg, 100000, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --epochs must be at least 1\n", cmd), -1) : -1;
        o->lp.tp.max_epochs = (int)v;
        return 1;
    case 1014:
        if (cli_uint(cmd, "--patience", arg, 100000, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --patience must be at least 1\n", cmd), -1) : -1;
        o->lp.tp.patience = (int)v;
        return 1;
    case 1015: {
        double d;
        if (cli_real(cmd, "--val-share", arg, 0.0, 0.9, &d) < 0)
            return -1;
        o->lp.tp.val_share = d;
        return 1;
    }
    case 1016:
        if (cli_uint(cmd, "--batch", arg, 1000000, &v) < 0 || v < 2)
            return v < 2 ? (fprintf(stderr, "snitch %s: --batch must be at least 2\n", cmd), -1) : -1;
        o->lp.tp.batch = (size_t)v;
        return 1;
    case 1017: {
        double d;
        if (cli_real(cmd, "--dropout", arg, 0.0, 0.99, &d) < 0)
            return -1;
        o->lp.dropout = (float)d;
        return 1;
    }
    case 1018: {
        double d;
        if (cli_real(cmd, "--lr", arg, 1e-9, 10.0, &d) < 0)
            return -1;
        o->lp.tp.lr = (float)d;
        return 1;
    }
    case 1019:
        if (cli_uint(cmd, "--gru-units", arg, 4096, &v) < 0 || v == 0)
            return v == 0 ? (fprintf(stderr, "snitch %s: --gru-units must be at least 1\n", cmd), -1) : -1;
        o->lp.gru_units = (size_t)v;
        return 1;
    case 1020: o->weights = arg; return 1;
    default:
        return 0;
    }
}

int model_opts_finish(model_opts *o, const char *cmd)
{
    char text[512];
    const char *m = o->model ? o->model : "rf";
    snitch_err e = {""};
    /* "--model cnn_rnn --channel iat --dir" is the spelled-out form of
     * "--model cnn_rnn/iat+dir" */
    if (nn_arch_parse(m)) {
        snprintf(text, sizeof text, "%s/%s%s", m, o->channel ? o->channel : "size",
                 o->dir ? "+dir" : "");
        m = text;
    } else if (o->channel || o->dir) {
        fprintf(stderr, "snitch %s: --channel and --dir go with --model cnn_rnn, gru or cnn "
                        "(in a spec, write cnn_rnn/iat+dir)\n", cmd);
        return -1;
    }
    if (model_spec_parse(m, &o->spec, &e) < 0) {
        fprintf(stderr, "snitch %s: --model: %s\n", cmd, e.msg);
        return -1;
    }
    if (o->weights) {
        if (!o->spec.ensemble) {
            fprintf(stderr, "snitch %s: --weights goes with an ensemble model\n", cmd);
            return -1;
        }
        char *copy = strdup(o->weights), *save = NULL;
        size_t i = 0;
        double sum = 0;
        int bad = !copy;
        for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !bad;
             tok = strtok_r(NULL, ",", &save), i++) {
            char *end;
            double w = strtod(tok, &end);
            if (*end || !(w >= 0) || w > 1e9 || i >= o->spec.n)
                bad = 1;
            else
                o->spec.m[i].weight = w, sum += w;
        }
        free(copy);
        if (bad || i != o->spec.n || !(sum > 0)) {
            fprintf(stderr, "snitch %s: --weights: %zu numbers >= 0 (one per member), not all 0\n",
                    cmd, o->spec.n);
            return -1;
        }
        for (size_t j = 0; j < o->spec.n; j++)
            o->spec.m[j].weight /= sum;
    }
    o->lp.forest_families = o->families;
    model_spec_text(&o->spec, -1, o->spec_text, sizeof o->spec_text);
    return 0;
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
    /* A network (alone or in an ensemble) reads sequence columns: keep
     * every family and let each member pick its own (model/learn.c). */
    int nets = model_spec_has_net(&o->spec);
    if (nets && !(present & TABLE_SEQ)) {
        fprintf(stderr, "snitch %s: %s: no sequence columns (size_0, ...) for %s: extract with "
                        "--features seq (or stats,seq for an ensemble with a forest)\n", cmd, path,
                o->spec_text);
        goto fail;
    }
    if (!nets && !(present & want)) {
        fprintf(stderr, "snitch %s: %s: no %s feature columns\n", cmd, path,
                want == TABLE_SEQ ? "sequence" : want == TABLE_WINDOW ? "window" : "statistical");
        goto fail;
    }
    if ((!nets && table_select_families(t, want, &e) < 0) ||
        table_keep_labeled(t, o->min_flows, &e) < 0) {
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

void cli_print_epoch(const char *member, const nn_epoch_info *i)
{
    if (isnan(i->val_loss))
        fprintf(stderr, "  %s epoch %d/%d: loss %.4f acc %.4f  %.1f s\n", member, i->epoch,
                i->max_epochs, i->train_loss, i->train_acc, i->seconds);
    else
        fprintf(stderr, "  %s epoch %d/%d: loss %.4f acc %.4f  val_loss %.4f val_acc %.4f  "
                        "%.1f s%s\n", member, i->epoch, i->max_epochs, i->train_loss,
                i->train_acc, i->val_loss, i->val_acc, i->seconds, i->best ? "  *" : "");
}

void cli_describe_model(const model_opts *o, const char *table_path, char *buf, size_t len)
{
    const learn_params *p = &o->lp;
    size_t at = (size_t)snprintf(buf, len, "model=%s", o->spec_text);
    if (o->spec.ensemble)
        for (size_t i = 0; i < o->spec.n && at < len; i++)
            at += (size_t)snprintf(buf + at, len - at, "%sw%zu=%.6g", i ? "," : " weights:", i + 1,
                                   o->spec.m[i].weight);
    for (size_t i = 0; i < o->spec.n && at < len; i++)
        if (o->spec.m[i].kind == MODEL_FOREST) {
            at += (size_t)snprintf(buf + at, len - at, " trees=%d max_depth=%d max_features=%d "
                                   "min_samples_leaf=%d class_weight=%s", p->fp.n_trees,
                                   p->fp.max_depth, p->fp.max_features, p->fp.min_samples_leaf,
                                   p->fp.balanced ? "balanced" : "none");
            break;
        }
    if (model_spec_has_net(&o->spec) && at < len) {
        char drop[32];
        if (p->dropout >= 0)
            snprintf(drop, sizeof drop, "%g", (double)p->dropout);
        else
            snprintf(drop, sizeof drop, "auto");
        at += (size_t)snprintf(buf + at, len - at, " epochs=%d patience=%d val_share=%g batch=%zu "
                               "lr=%g dropout=%s gru_units=%zu", p->tp.max_epochs, p->tp.patience,
                               p->tp.val_share, p->tp.batch, (double)p->tp.lr, drop, p->gru_units);
    }
    if (at < len)
        snprintf(buf + at, len - at, " seed=%llu min_flows=%llu table=%s",
                 (unsigned long long)p->fp.seed, (unsigned long long)o->min_flows, table_path);
}
