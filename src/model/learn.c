/* learn.c - model specs, the columns each kind reads, and training; see
 * learn.h. */
#include "model/learn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void learn_default_params(learn_params *p)
{
    memset(p, 0, sizeof *p);
    forest_default_params(&p->fp);
    p->fp.threads = 0;
    nn_train_default_params(&p->tp);
    p->tp.seed = p->fp.seed;    /* one seed for everything */
    p->dropout = -1.0f;
    p->gru_units = 159;
}

/* ---- specs ---- */

static int is_channel(const char *s)
{
    return !strcmp(s, "size") || !strcmp(s, "payload") || !strcmp(s, "iat");
}

/* Split "TOKEN*W": the weight part, if any, into *w. */
static int split_weight(char *tok, double *w, snitch_err *e)
{
    *w = -1.0;
    char *star = strchr(tok, '*');
    if (!star)
        return 0;
    *star = 0;
    char *end;
    double v = strtod(star + 1, &end);
    if (star[1] == 0 || *end || !isfinite(v) || v < 0)
        return err_set(e, "bad weight '%s' (a number >= 0)", star + 1);
    *w = v;
    return 0;
}

static int parse_member(char *tok, member_spec *m, snitch_err *e)
{
    memset(m, 0, sizeof *m);
    if (split_weight(tok, &m->weight, e) < 0)
        return -1;
    if (!strcmp(tok, "rf") || !strcmp(tok, "forest")) {
        m->kind = MODEL_FOREST;
        return 0;
    }
    char *slash = strchr(tok, '/');
    if (slash)
        *slash = 0;
    nn_arch a = nn_arch_parse(tok);
    if (!a)
        return err_set(e, "unknown model '%s' (rf, cnn_rnn, gru, cnn)", tok);
    if (!slash || !is_channel(slash + 1))
        return err_set(e, "'%s' needs a channel: %s/size, %s/payload or %s/iat", tok, tok, tok,
                       tok);
    m->kind = MODEL_NET;
    m->arch = a;
    snprintf(m->channel, sizeof m->channel, "%s", slash + 1);
    return 0;
}

int model_spec_parse(const char *s, model_spec *out, snitch_err *e)
{
    memset(out, 0, sizeof *out);
    const char *body = s;
    if (!strncmp(s, "ensemble:", 9)) {
        out->ensemble = 1;
        body = s + 9;
    }
    char *copy = strdup(body);
    if (!copy)
        return err_set(e, "out of memory");
    int r = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, "+", &save); tok && r == 0; tok = strtok_r(NULL, "+", &save)) {
        double w;
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%s", tok);
        if (split_weight(tmp, &w, e) < 0) {
            r = -1;
            break;
        }
        if (!strcmp(tmp, "dir")) {
            /* "+dir" belongs to the network before it */
            if (!out->n || out->m[out->n - 1].kind != MODEL_NET || out->m[out->n - 1].dir) {
                r = err_set(e, "'+dir' must follow a network (e.g. cnn_rnn/size+dir)");
                break;
            }
            out->m[out->n - 1].dir = 1;
            if (w >= 0)
                out->m[out->n - 1].weight = w;
            continue;
        }
        if (out->n == MODEL_SPEC_MAX) {
            r = err_set(e, "more than %d members", MODEL_SPEC_MAX);
            break;
        }
        if (parse_member(tok, &out->m[out->n], e) < 0) {
            r = -1;
            break;
        }
        out->n++;
    }
    free(copy);
    if (r < 0)
        return -1;
    if (!out->n)
        return err_set(e, "empty model spec '%s'", s);
    if (!out->ensemble && out->n > 1)
        return err_set(e, "several models in '%s': write ensemble:%s", s, s);
    if (out->ensemble) {
        /* default weights: the paper's 1/2 forest + 1/2 shared by the networks */
        size_t nf = 0, nn = 0, given = 0;
        double sum = 0;
        for (size_t i = 0; i < out->n; i++) {
            nf += out->m[i].kind == MODEL_FOREST;
            nn += out->m[i].kind == MODEL_NET;
            given += out->m[i].weight >= 0;
            sum += out->m[i].weight >= 0 ? out->m[i].weight : 0;
        }
        if (given && given != out->n)
            return err_set(e, "give a weight to every member or to none");
        if (given && !(sum > 0))
            return err_set(e, "the weights sum to 0");
        for (size_t i = 0; i < out->n; i++) {
            member_spec *m = &out->m[i];
            if (given)
                m->weight /= sum;
            else if (nf && nn)
                m->weight = 0.5 / (double)(m->kind == MODEL_FOREST ? nf : nn);
            else
                m->weight = 1.0 / (double)out->n;
        }
    } else {
        out->m[0].weight = 1.0;
    }
    return 0;
}

static void member_text(const member_spec *m, char *buf, size_t len)
{
    if (m->kind == MODEL_FOREST)
        snprintf(buf, len, "rf");
    else
        snprintf(buf, len, "%s/%s%s", nn_arch_name(m->arch), m->channel, m->dir ? "+dir" : "");
}

void model_spec_text(const model_spec *s, int i, char *buf, size_t len)
{
    if (i >= 0) {
        member_text(&s->m[i], buf, len);
        return;
    }
    size_t at = 0;
    buf[0] = 0;
    if (s->ensemble)
        at += (size_t)snprintf(buf, len, "ensemble:");
    for (size_t j = 0; j < s->n && at < len; j++) {
        char one[64];
        member_text(&s->m[j], one, sizeof one);
        at += (size_t)snprintf(buf + at, len - at, "%s%s", j ? "+" : "", one);
    }
}

int model_spec_has_net(const model_spec *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->m[i].kind == MODEL_NET)
            return 1;
    return 0;
}

/* ---- columns ---- */

static long find_col(const table *t, const char *name)
{
    for (size_t i = 0; i < t->nfeat; i++)
        if (!strcmp(t->feat[i], name))
            return (long)i;
    return -1;
}

int learn_columns(const member_spec *m, const learn_params *p, const table *t, size_t **cols,
                  const char ***names, size_t *n, snitch_err *e)
{
    *cols = malloc((t->nfeat ? t->nfeat : 1) * sizeof **cols);
    *names = malloc((t->nfeat ? t->nfeat : 1) * sizeof **names);
    *n = 0;
    if (!*cols || !*names) {
        free(*cols);
        free(*names);
        return err_set(e, "out of memory");
    }
    if (m->kind == MODEL_FOREST) {
        unsigned present = table_families_present(t), want = p->forest_families;
        if (!want)
            want = present & TABLE_STATS ? TABLE_STATS
                 : present & TABLE_WINDOW ? TABLE_WINDOW : TABLE_SEQ;
        for (size_t i = 0; i < t->nfeat; i++)
            if (table_feature_family(t->feat[i]) & want) {
                (*cols)[*n] = i;
                (*names)[(*n)++] = t->feat[i];
            }
        if (!*n)
            goto missing;
        return 0;
    }
    size_t steps = 0;
    char name[64];
    for (;; steps++) {
        snprintf(name, sizeof name, "%s_%zu", m->channel, steps);
        if (find_col(t, name) < 0)
            break;
    }
    size_t per = m->dir ? 2 : 1;
    if (!steps || steps * per > t->nfeat)
        goto missing;
    for (size_t s = 0; s < steps; s++) {
        snprintf(name, sizeof name, "%s_%zu", m->channel, s);
        long c = find_col(t, name);
        (*cols)[*n] = (size_t)c;
        (*names)[(*n)++] = t->feat[c];
        if (m->dir) {
            snprintf(name, sizeof name, "dir_%zu", s);
            c = find_col(t, name);
            if (c < 0) {
                free(*cols);
                free(*names);
                return err_set(e, "%s: no column %s for the direction channel",
                               t->path ? t->path : "table", name);
            }
            (*cols)[*n] = (size_t)c;
            (*names)[(*n)++] = t->feat[c];
        }
    }
    return 0;
missing:
    free(*cols);
    free(*names);
    if (m->kind == MODEL_FOREST)
        return err_set(e, "%s: no feature columns for the forest", t->path ? t->path : "table");
    return err_set(e, "%s: no sequence columns %s_0, %s_1, ... (snitch extract --features seq)",
                   t->path ? t->path : "table", m->channel, m->channel);
}

int learn_gather(const model *m, const table *t, const size_t *rows, size_t n, float *x,
                 snitch_err *e)
{
    size_t *map = malloc((m->nfeat ? m->nfeat : 1) * sizeof *map);
    if (!map)
        return err_set(e, "out of memory");
    for (size_t j = 0; j < m->nfeat; j++) {
        long c = find_col(t, m->feat[j]);
        if (c < 0) {
            free(map);
            return err_set(e, "%s: no column '%s', which the model reads",
                           t->path ? t->path : "table", m->feat[j]);
        }
        map[j] = (size_t)c;
    }
    for (size_t i = 0; i < n; i++) {
        const float *src = t->x + (rows ? rows[i] : i) * t->nfeat;
        float *dst = x + i * m->nfeat;
        for (size_t j = 0; j < m->nfeat; j++)
            dst[j] = src[map[j]];
    }
    free(map);
    return 0;
}

/* ---- training ---- */

typedef struct relay {
    const learn_progress *pg;
    const char *member;
} relay;

static void relay_tree(void *ctx, int done, int total)
{
    relay *r = ctx;
    r->pg->tree(r->pg->ctx, r->member, done, total);
}

static void relay_epoch(void *ctx, const nn_epoch_info *info)
{
    relay *r = ctx;
    r->pg->epoch(r->pg->ctx, r->member, info);
}

static model *train_member(const member_spec *ms, const learn_params *p, const table *t,
                           const size_t *rows, size_t n, const int32_t *y, int k,
                           char *const *classes, uint64_t seed_offset, const learn_progress *pg,
                           snitch_err *e)
{
    size_t *cols = NULL, nc = 0;
    const char **names = NULL;
    if (learn_columns(ms, p, t, &cols, &names, &nc, e) < 0)
        return NULL;
    model *m = calloc(1, sizeof *m);
    float *x = malloc((n ? n : 1) * nc * sizeof *x);
    char label[64];
    member_text(ms, label, sizeof label);
    relay rl = {pg, label};
    if (!m || !x) {
        err_set(e, "out of memory for %zu rows x %zu features", n, nc);
        goto fail;
    }
    m->kind = ms->kind;
    if (model_set_names(m, names, nc, (const char *const *)classes, (size_t)k) < 0) {
        err_set(e, "out of memory");
        goto fail;
    }
    m->train_rows = n;
    for (size_t i = 0; i < n; i++) {
        const float *src = t->x + rows[i] * t->nfeat;
        for (size_t j = 0; j < nc; j++)
            x[i * nc + j] = src[cols[j]];
    }
    if (ms->kind == MODEL_FOREST) {
        m->forest = forest_train(x, n, nc, y, k, &p->fp, pg && pg->tree ? relay_tree : NULL,
                                 &rl, e);
        if (!m->forest)
            goto fail;
    } else {
        nn_net_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.arch = ms->arch;
        cfg.channels = ms->dir ? 2 : 1;
        cfg.steps = nc / cfg.channels;
        cfg.classes = (size_t)k;
        cfg.dropout = p->dropout >= 0 ? p->dropout : !strcmp(ms->channel, "iat") ? 0.5f : 0.0f;
        cfg.units = p->gru_units;
        cfg.standardize[0] = 1;     /* the channel; dir (channel 1) stays -1/0/1 */
        nn_train_params tp = p->tp;
        tp.seed = p->tp.seed + seed_offset;
        m->net = nn_net_new(&cfg, tp.seed, e);
        if (!m->net)
            goto fail;
        nn_train_result res;
        if (nn_net_train(m->net, x, y, n, &tp, pg && pg->epoch ? relay_epoch : NULL, &rl, &res,
                         e) < 0)
            goto fail;
    }
    free(cols);
    free(names);
    free(x);
    return m;
fail:
    free(cols);
    free(names);
    free(x);
    model_free(m);
    return NULL;
}

model *model_train(const model_spec *s, const learn_params *p, const table *t,
                   const size_t *rows, size_t n, const int32_t *y, int k,
                   char *const *classes, uint64_t seed_offset, const learn_progress *pg,
                   snitch_err *e)
{
    if (!s->ensemble)
        return train_member(&s->m[0], p, t, rows, n, y, k, classes, seed_offset, pg, e);
    model *m = calloc(1, sizeof *m);
    if (!m || !(m->members = calloc(s->n, sizeof *m->members)) ||
        !(m->weights = calloc(s->n, sizeof *m->weights))) {
        model_free(m);
        err_set(e, "out of memory");
        return NULL;
    }
    m->kind = MODEL_ENSEMBLE;
    m->train_rows = n;
    m->nmembers = s->n;
    if (model_set_names(m, NULL, 0, (const char *const *)classes, (size_t)k) < 0) {
        model_free(m);
        err_set(e, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        m->weights[i] = s->m[i].weight;
        m->members[i] = train_member(&s->m[i], p, t, rows, n, y, k, classes, seed_offset, pg, e);
        if (!m->members[i]) {
            model_free(m);
            return NULL;
        }
    }
    if (model_link(m, e) < 0) {
        model_free(m);
        return NULL;
    }
    return m;
}
