/* results.c - load and check an experiment's results.json; see results.h.
 *
 * The JSON tree (json_read) keeps each value's line and column, so every
 * complaint points into the file: "run/results.json:41:20: cells[3].
 * accuracy: expected a number, found a string".  The checks are those a
 * report needs to be right, not a schema for its own sake: the identities
 * that join cells to models and thresholds, the numbers plotted, and the
 * files read later (checked here, up front, so that a dangling reference
 * fails before any figure is drawn). */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "output/json_read.h"

typedef struct loader {
    const char *file;
    run_results *r;
    snitch_err *e;
} loader;

static int bad(loader *L, const json_value *at, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad(loader *L, const json_value *at, const char *where, const char *fmt, ...)
{
    char msg[SNITCH_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(L->e, "%s:%u:%u: %s: %s", L->file, at->line, at->col, where, msg);
}

static int oom(loader *L)
{
    return err_set(L->e, "%s: out of memory", L->file);
}

char *results_path(const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return strdup(rel);
    size_t a = strlen(dir), b = strlen(rel);
    while (a > 1 && dir[a - 1] == '/')
        a--;
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, rel, b + 1);
    return p;
}

/* Member key of obj with type t (JSON_NULL in allow: null accepted too).
 * *out NULL when absent: an error if required. */
static int member(loader *L, const json_value *obj, const char *key, const char *where, json_type t,
                  int required, int null_ok, const json_value **out)
{
    char w[160];
    *out = NULL;
    const json_value *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return bad(L, obj, where, "no \"%s\" member", key);
        return 0;
    }
    if (v->type == t || (null_ok && v->type == JSON_NULL)) {
        *out = v;
        return 0;
    }
    snprintf(w, sizeof w, "%s%s%s", where, where[0] ? "." : "", key);
    return bad(L, v, w, "expected %s%s, found %s", json_type_name(t), null_ok ? " or null" : "",
               json_type_name(v->type));
}

static int get_str(loader *L, const json_value *obj, const char *key, const char *where,
                   int required, char **out)
{
    const json_value *v;
    *out = NULL;
    if (member(L, obj, key, where, JSON_STRING, required, 0, &v) < 0)
        return -1;
    if (v && !(*out = strdup(v->u.string.s)))
        return oom(L);
    return 0;
}

/* A whole number 0 .. 2^53 (exact in a double). */
static int get_uint(loader *L, const json_value *obj, const char *key, const char *where,
                    int required, int64_t *out)
{
    const json_value *v;
    *out = -1;
    if (member(L, obj, key, where, JSON_NUMBER, required, 0, &v) < 0)
        return -1;
    if (!v)
        return 0;
    double d = v->u.number;
    if (!(d >= 0 && d <= 9007199254740992.0 && d == floor(d))) {
        char w[160];
        snprintf(w, sizeof w, "%s%s%s", where, where[0] ? "." : "", key);
        return bad(L, v, w, "expected a whole number >= 0, found %.17g", d);
    }
    *out = (int64_t)d;
    return 0;
}

/* A number, or null (NaN); NaN when absent and not required. */
static int get_num(loader *L, const json_value *obj, const char *key, const char *where,
                   int required, double *out)
{
    const json_value *v;
    *out = NAN;
    if (member(L, obj, key, where, JSON_NUMBER, required, 1, &v) < 0)
        return -1;
    if (v && v->type == JSON_NUMBER)
        *out = v->u.number;
    return 0;
}

/* A referenced file: resolved against the run directory and present. */
static int get_path(loader *L, const json_value *obj, const char *key, const char *where,
                    char **path, char **name)
{
    const json_value *v;
    *path = NULL;
    if (name)
        *name = NULL;
    if (member(L, obj, key, where, JSON_STRING, 0, 0, &v) < 0)
        return -1;
    if (!v)
        return 0;
    char w[160];
    snprintf(w, sizeof w, "%s%s%s", where, where[0] ? "." : "", key);
    if (v->u.string.len == 0 || strlen(v->u.string.s) != v->u.string.len)
        return bad(L, v, w, "not a file name");
    if (!(*path = results_path(L->r->dir, v->u.string.s)))
        return oom(L);
    if (name && !(*name = strdup(v->u.string.s)))
        return oom(L);
    struct stat sb;
    if (stat(*path, &sb) < 0)
        return bad(L, v, w, "%s: %s", *path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return bad(L, v, w, "%s: is a directory, not a file", *path);
    return 0;
}

static int load_models(loader *L, const json_value *root)
{
    const json_value *a;
    if (member(L, root, "models", "results", JSON_ARRAY, 1, 0, &a) < 0)
        return -1;
    run_results *r = L->r;
    r->models = calloc(a->u.array.n ? a->u.array.n : 1, sizeof *r->models);
    if (!r->models)
        return oom(L);
    for (size_t i = 0; i < a->u.array.n; i++) {
        const json_value *m = &a->u.array.items[i];
        char w[64];
        snprintf(w, sizeof w, "models[%zu]", i);
        if (m->type != JSON_OBJECT)
            return bad(L, m, w, "expected an object, found %s", json_type_name(m->type));
        rp_model *pm = &r->models[r->nmodels++];
        if (get_str(L, m, "id", w, 1, &pm->id) < 0 || get_str(L, m, "name", w, 0, &pm->name) < 0 ||
            get_str(L, m, "spec", w, 0, &pm->spec) < 0)
            return -1;
        const json_value *idv = json_object_get(m, "id");
        if (!pm->id[0] || strlen(pm->id) != idv->u.string.len)
            return bad(L, idv, w, "an empty or unprintable model id");
        for (size_t j = 0; j + 1 < r->nmodels; j++)
            if (!strcmp(r->models[j].id, pm->id))
                return bad(L, idv, w, "model id \"%s\" again (models[%zu] has it)", pm->id, j);
        if (!pm->name && !(pm->name = strdup(pm->id)))
            return oom(L);
        if (!pm->spec && !(pm->spec = strdup("")))
            return oom(L);
    }
    return 0;
}

typedef struct thr_at {
    rp_threshold t;
    const json_value *v;
} thr_at;

static int by_min_flows(const void *a, const void *b)
{
    const thr_at *x = a, *y = b;
    if (x->t.min_flows != y->t.min_flows)
        return x->t.min_flows < y->t.min_flows ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;     /* file order */
}

static int load_thresholds(loader *L, const json_value *root)
{
    const json_value *a;
    if (member(L, root, "thresholds", "results", JSON_ARRAY, 1, 0, &a) < 0)
        return -1;
    run_results *r = L->r;
    size_t n = a->u.array.n;
    thr_at *ta = calloc(n ? n : 1, sizeof *ta);
    r->thr = calloc(n ? n : 1, sizeof *r->thr);
    if (!ta || !r->thr) {
        free(ta);
        return oom(L);
    }
    for (size_t i = 0; i < n; i++) {
        const json_value *t = &a->u.array.items[i];
        char w[64];
        snprintf(w, sizeof w, "thresholds[%zu]", i);
        if (t->type != JSON_OBJECT) {
            free(ta);
            return bad(L, t, w, "expected an object, found %s", json_type_name(t->type));
        }
        int64_t mf;
        ta[i].v = t;
        if (get_uint(L, t, "min_flows", w, 1, &mf) < 0 ||
            get_uint(L, t, "classes", w, 0, &ta[i].t.classes) < 0 ||
            get_uint(L, t, "flows", w, 0, &ta[i].t.flows) < 0) {
            free(ta);
            return -1;
        }
        ta[i].t.min_flows = (uint64_t)mf;
    }
    qsort(ta, n, sizeof *ta, by_min_flows);
    for (size_t i = 0; i < n; i++) {
        if (i && ta[i].t.min_flows == ta[i - 1].t.min_flows) {
            int rc = bad(L, ta[i].v, "thresholds", "min_flows %llu is listed twice",
                         (unsigned long long)ta[i].t.min_flows);
            free(ta);
            return rc;
        }
        r->thr[r->nthr++] = ta[i].t;
    }
    free(ta);
    return 0;
}

static int load_per_class(loader *L, const json_value *cell, const char *where, rp_cell *c)
{
    const json_value *a;
    if (member(L, cell, "per_class", where, JSON_ARRAY, 0, 0, &a) < 0)
        return -1;
    if (!a || a->u.array.n == 0)
        return 0;
    c->per_class = calloc(a->u.array.n, sizeof *c->per_class);
    if (!c->per_class)
        return oom(L);
    for (size_t i = 0; i < a->u.array.n; i++) {
        const json_value *o = &a->u.array.items[i];
        char w[96];
        snprintf(w, sizeof w, "%s.per_class[%zu]", where, i);
        if (o->type != JSON_OBJECT)
            return bad(L, o, w, "expected an object, found %s", json_type_name(o->type));
        rp_class *pc = &c->per_class[c->nper_class++];
        int64_t sup;
        if (get_str(L, o, "class", w, 1, &pc->name) < 0 || get_uint(L, o, "support", w, 0, &sup) < 0 ||
            get_num(L, o, "recall", w, 1, &pc->recall) < 0 ||
            get_num(L, o, "precision", w, 0, &pc->precision) < 0 ||
            get_num(L, o, "f1", w, 0, &pc->f1) < 0)
            return -1;
        pc->support = sup < 0 ? 0 : (uint64_t)sup;
    }
    return 0;
}

static int load_cells(loader *L, const json_value *root)
{
    const json_value *a;
    if (member(L, root, "cells", "results", JSON_ARRAY, 1, 0, &a) < 0)
        return -1;
    run_results *r = L->r;
    size_t n = a->u.array.n;
    r->cells = calloc(n ? n : 1, sizeof *r->cells);
    size_t ng = r->nmodels * r->nthr;
    r->grid = malloc((ng ? ng : 1) * sizeof *r->grid);
    if (!r->cells || !r->grid)
        return oom(L);
    for (size_t i = 0; i < ng; i++)
        r->grid[i] = -1;
    for (size_t i = 0; i < n; i++) {
        const json_value *o = &a->u.array.items[i];
        char w[64];
        snprintf(w, sizeof w, "cells[%zu]", i);
        if (o->type != JSON_OBJECT)
            return bad(L, o, w, "expected an object, found %s", json_type_name(o->type));
        rp_cell *c = &r->cells[r->ncells++];
        c->accuracy = c->precision = c->recall = c->f1 = c->fit_s = c->predict_s = NAN;
        char *model = NULL;
        int64_t mf;
        if (get_str(L, o, "model", w, 1, &model) < 0)
            return -1;
        size_t m = 0;
        while (m < r->nmodels && strcmp(r->models[m].id, model))
            m++;
        free(model);
        if (m == r->nmodels) {
            const json_value *mv = json_object_get(o, "model");
            return bad(L, mv, w, "model \"%s\" is not in \"models\"", mv->u.string.s);
        }
        if (get_uint(L, o, "min_flows", w, 1, &mf) < 0)
            return -1;
        size_t t = 0;
        while (t < r->nthr && r->thr[t].min_flows != (uint64_t)mf)
            t++;
        if (t == r->nthr)
            return bad(L, json_object_get(o, "min_flows"), w,
                       "min_flows %lld is not in \"thresholds\"", (long long)mf);
        c->model = m;
        c->thr = t;
        long *g = &r->grid[m * r->nthr + t];
        if (*g >= 0)
            return bad(L, o, w, "a second cell for model %s at min_flows %lld (cells[%ld] is the first)",
                       r->models[m].id, (long long)mf, *g);
        *g = (long)i;
        if (get_str(L, o, "status", w, 0, &c->status) < 0)
            return -1;
        if (!c->status && !(c->status = strdup("done")))
            return oom(L);
        c->done = !strcmp(c->status, "done");
        /* A finished cell must carry its four numbers (null allowed: the
         * writer turns a non-finite value into null). */
        if (get_num(L, o, "accuracy", w, c->done, &c->accuracy) < 0 ||
            get_num(L, o, "macro_precision", w, c->done, &c->precision) < 0 ||
            get_num(L, o, "macro_recall", w, c->done, &c->recall) < 0 ||
            get_num(L, o, "macro_f1", w, c->done, &c->f1) < 0 ||
            get_num(L, o, "fit_seconds", w, 0, &c->fit_s) < 0 ||
            get_num(L, o, "predict_seconds", w, 0, &c->predict_s) < 0 ||
            load_per_class(L, o, w, c) < 0 || get_path(L, o, "confusion", w, &c->confusion, NULL) < 0)
            return -1;
    }
    return 0;
}

static int load_run(loader *L, const json_value *root)
{
    run_results *r = L->r;
    if (root->type != JSON_OBJECT)
        return bad(L, root, "results", "expected an object, found %s", json_type_name(root->type));
    const json_value *caps;
    if (get_str(L, root, "kind", "", 0, &r->kind) < 0 || get_str(L, root, "label", "", 0, &r->label) < 0 ||
        get_str(L, root, "tool", "", 0, &r->tool) < 0 ||
        get_str(L, root, "version", "", 0, &r->version) < 0 ||
        get_str(L, root, "options", "", 0, &r->options) < 0 ||
        get_uint(L, root, "folds", "", 0, &r->folds) < 0 ||
        get_uint(L, root, "seed", "", 0, &r->seed) < 0 ||
        member(L, root, "captures", "", JSON_ARRAY, 0, 0, &caps) < 0)
        return -1;
    if (caps && caps->u.array.n) {
        r->captures = calloc(caps->u.array.n, sizeof *r->captures);
        if (!r->captures)
            return oom(L);
        for (size_t i = 0; i < caps->u.array.n; i++) {
            const json_value *c = &caps->u.array.items[i];
            if (c->type != JSON_STRING)
                return bad(L, c, "captures", "expected a string, found %s", json_type_name(c->type));
            if (!(r->captures[r->ncaptures++] = strdup(c->u.string.s)))
                return oom(L);
        }
    }
    if (get_path(L, root, "table", "", &r->table, &r->table_name) < 0 ||
        get_path(L, root, "packets_table", "", &r->packets_table, &r->packets_table_name) < 0 ||
        get_path(L, root, "forest_model", "", &r->forest_model, &r->forest_model_name) < 0)
        return -1;
    if (load_models(L, root) < 0 || load_thresholds(L, root) < 0 || load_cells(L, root) < 0)
        return -1;
    return 0;
}

int results_load(const char *dir, run_results *r, snitch_err *e)
{
    memset(r, 0, sizeof *r);
    r->folds = r->seed = -1;
    struct stat sb;
    if (stat(dir, &sb) < 0)
        return err_set(e, "%s: %s (the run directory)", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return err_set(e, "%s: not a directory (give the run directory that holds results.json)", dir);
    if (!(r->dir = strdup(dir)) || !(r->json_path = results_path(dir, "results.json"))) {
        results_free(r);
        return err_set(e, "%s: out of memory", dir);
    }
    if (stat(r->json_path, &sb) < 0) {
        err_set(e, "%s: %s (not a run directory written by snitch experiment?)", r->json_path,
                strerror(errno));
        results_free(r);
        return -1;
    }
    json_value *root = json_parse_file(r->json_path, e);
    if (!root) {
        results_free(r);
        return -1;
    }
    loader L = {r->json_path, r, e};
    int rc = load_run(&L, root);
    json_value_free(root);
    if (rc < 0)
        results_free(r);
    return rc;
}

void results_free(run_results *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nmodels; i++) {
        free(r->models[i].id);
        free(r->models[i].name);
        free(r->models[i].spec);
    }
    free(r->models);
    free(r->thr);
    for (size_t i = 0; i < r->ncells; i++) {
        rp_cell *c = &r->cells[i];
        for (size_t k = 0; k < c->nper_class; k++)
            free(c->per_class[k].name);
        free(c->per_class);
        free(c->status);
        free(c->confusion);
    }
    free(r->cells);
    free(r->grid);
    for (size_t i = 0; i < r->ncaptures; i++)
        free(r->captures[i]);
    free(r->captures);
    free(r->dir);
    free(r->json_path);
    free(r->kind);
    free(r->label);
    free(r->tool);
    free(r->version);
    free(r->options);
    free(r->table);
    free(r->table_name);
    free(r->packets_table);
    free(r->packets_table_name);
    free(r->forest_model);
    free(r->forest_model_name);
    memset(r, 0, sizeof *r);
}

const rp_cell *results_cell(const run_results *r, size_t m, size_t t)
{
    if (m >= r->nmodels || t >= r->nthr)
        return NULL;
    long i = r->grid[m * r->nthr + t];
    return i < 0 ? NULL : &r->cells[i];
}
