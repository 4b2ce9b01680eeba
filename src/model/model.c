/* model.c - META section and model-level load/save; see model.h. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/modelfile.h"

#define TAG_META MF_TAG('M', 'E', 'T', 'A')
#define TAG_FRST MF_TAG('F', 'R', 'S', 'T')
#define TAG_NNET MF_TAG('N', 'N', 'E', 'T')
#define TAG_ENSM MF_TAG('E', 'N', 'S', 'M')
#define MAX_MEMBERS 64
#define MAX_NAME 4096
#define MAX_FEAT 100000
#define MAX_CLASSES 1000000

const char *model_kind_name(model_kind k)
{
    switch (k) {
    case MODEL_FOREST: return "forest";
    case MODEL_NET: return "network";
    case MODEL_ENSEMBLE: return "ensemble";
    }
    return "unknown";
}

static void put_names(mf_buf *b, char *const *names, size_t n)
{
    mf_put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        mf_put_str(b, names[i]);
}

int model_save(const model *m, mf_buf *out, snitch_err *e)
{
    mf_buf meta = {0}, body = {0};
    mf_put_u32(&meta, (uint32_t)m->kind);
    mf_put_str(&meta, m->label_mode ? m->label_mode : "");
    put_names(&meta, m->feat, m->nfeat);
    put_names(&meta, m->classes, m->nclasses);
    mf_put_u64(&meta, m->train_rows);
    mf_put_str(&meta, m->description ? m->description : "");
    uint32_t tag = 0;
    int r = -1;
    switch (m->kind) {
    case MODEL_FOREST:
        if (forest_is_lean(m->forest)) {
            err_set(e, "a forest loaded for prediction only cannot be saved");
            goto out;
        }
        forest_save(m->forest, &body);
        tag = TAG_FRST;
        break;
    case MODEL_NET:
        nn_net_save(m->net, &body);
        tag = TAG_NNET;
        break;
    case MODEL_ENSEMBLE:
        tag = TAG_ENSM;
        mf_put_u32(&body, (uint32_t)m->nmembers);
        for (size_t i = 0; i < m->nmembers; i++) {
            mf_buf img = {0};
            if (model_save(m->members[i], &img, e) < 0) {
                mf_buf_free(&img);
                goto out;
            }
            mf_put_f64(&body, m->weights[i]);
            mf_put_u64(&body, img.len);
            mf_put_bytes(&body, img.p, img.len);
            mf_buf_free(&img);
        }
        break;
    }
    if (meta.oom || body.oom) {
        err_set(e, "out of memory");
    } else {
        mf_section s[2] = {{TAG_META, meta.p, meta.len}, {tag, body.p, body.len}};
        if (mf_build(s, 2, out) < 0)
            err_set(e, "out of memory");
        else
            r = 0;
    }
out:
    mf_buf_free(&meta);
    mf_buf_free(&body);
    return r;
}

static char **get_names(mf_cur *c, size_t n)
{
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        c->bad = 1;
        return NULL;
    }
    for (size_t i = 0; i < n && !c->bad; i++)
        v[i] = mf_get_str(c, MAX_NAME);
    return v;
}

static void free_names(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static model *load_image(const uint8_t *data, size_t len, const char *name, int depth,
                         int flags, snitch_err *e);

/* The ENSM section: members, each a full model image of its own. */
static int load_members(model *m, const mf_section *sec, const char *name, int depth,
                        int flags, snitch_err *e)
{
    mf_cur c = {.p = sec->data, .len = sec->len};
    uint32_t n = mf_get_u32(&c);
    if (c.bad || n < 1 || n > MAX_MEMBERS)
        return err_set(e, "%s: ENSM: %u members (1 to %d)", name, n, MAX_MEMBERS);
    m->members = calloc(n, sizeof *m->members);
    m->weights = calloc(n, sizeof *m->weights);
    if (!m->members || !m->weights)
        return err_set(e, "%s: out of memory", name);
    m->nmembers = n;
    for (uint32_t i = 0; i < n; i++) {
        size_t at = c.off;
        double w = mf_get_f64(&c);
        uint64_t l = mf_get_u64(&c);
        if (c.bad || !isfinite(w) || w < 0 || l > c.len - c.off)
            return err_set(e, "%s: ENSM: member %u: bad weight or length (byte %zu)", name, i + 1,
                           at);
        char sub[256];
        snprintf(sub, sizeof sub, "%s: member %u", name, i + 1);
        m->members[i] = load_image(c.p + c.off, (size_t)l, sub, depth + 1, flags, e);
        if (!m->members[i])
            return -1;
        m->weights[i] = w;
        c.off += (size_t)l;
    }
    if (c.off != c.len)
        return err_set(e, "%s: ENSM: %zu stray bytes after the members", name, c.len - c.off);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += m->weights[i];
    if (!(fabs(sum - 1.0) < 1e-9))   /* snitch saves them normalized */
        return err_set(e, "%s: ENSM: the member weights sum to %g, not 1", name, sum);
    /* The stored feature list must be exactly the union model_link builds. */
    size_t nf = m->nfeat;
    char **feat = m->feat;
    m->feat = NULL;
    m->nfeat = 0;
    int r = model_link(m, e);
    if (r == 0 && m->nfeat != nf)
        r = err_set(e, "%s: the ensemble lists %zu features, its members read %zu", name, nf,
                    m->nfeat);
    for (size_t i = 0; r == 0 && i < nf; i++)
        if (strcmp(feat[i], m->feat[i]))
            r = err_set(e, "%s: feature %zu is '%s' where the members give '%s'", name, i + 1,
                        feat[i], m->feat[i]);
    free_names(feat, nf);
    if (r < 0 && strncmp(e->msg, name, strlen(name))) {
        char tmp[sizeof e->msg];
        snprintf(tmp, sizeof tmp, "%s", e->msg);
        err_set(e, "%s: %s", name, tmp);
    }
    return r;
}

/* The META section into m (name for messages, depth > 0 inside an
 * ensemble).  0 or -1 with e. */
static int parse_meta(model *m, mf_cur *c, const char *name, int depth, snitch_err *e)
{
    uint32_t kind = mf_get_u32(c);
    m->label_mode = mf_get_str(c, MAX_NAME);
    uint32_t nf = mf_get_u32(c);
    if (c->bad || nf == 0 || nf > MAX_FEAT || (size_t)nf * 4 > c->len - c->off)
        return err_set(e, "%s: META: bad feature count", name);
    m->nfeat = nf;
    m->feat = get_names(c, nf);
    uint32_t nc = c->bad ? 0 : mf_get_u32(c);
    if (c->bad || nc == 0 || nc > MAX_CLASSES || (size_t)nc * 4 > c->len - c->off)
        return err_set(e, "%s: META: bad feature names or class count", name);
    m->nclasses = nc;
    m->classes = get_names(c, nc);
    m->train_rows = mf_get_u64(c);
    m->description = mf_get_str(c, 1 << 20);
    if (c->bad || c->off != c->len)
        return err_set(e, "%s: META section is damaged (at byte %zu of %zu)", name, c->off, c->len);
    if (kind != MODEL_FOREST && kind != MODEL_NET && kind != MODEL_ENSEMBLE)
        return err_set(e, "%s: model kind %u is not known to this snitch", name, kind);
    if (kind == MODEL_ENSEMBLE && depth > 0)
        return err_set(e, "%s: an ensemble inside an ensemble", name);
    m->kind = (model_kind)kind;
    return 0;
}

/* A model from a parsed container (consumed: freed here). */
static model *load_parsed(mf_file *fp, const char *name, int depth, int flags,
                          snitch_err *e)
{
    mf_file f = *fp;
    model *m = calloc(1, sizeof *m);
    if (!m) {
        mf_file_free(&f);
        err_set(e, "%s: out of memory", name);
        return NULL;
    }
    const mf_section *meta = mf_find(&f, TAG_META);
    if (!meta) {
        err_set(e, "%s: no META section (not a model saved by snitch train)", name);
        goto fail;
    }
    mf_cur c = {.p = meta->data, .len = meta->len};
    if (parse_meta(m, &c, name, depth, e) < 0)
        goto fail;
    uint32_t kind = (uint32_t)m->kind;
    static const uint32_t tags[] = {0, TAG_FRST, TAG_NNET, TAG_ENSM};
    static const char *const tagname[] = {"", "FRST", "NNET", "ENSM"};
    const mf_section *sec = mf_find(&f, tags[kind]);
    if (!sec) {
        err_set(e, "%s: %s model without its %s section", name, model_kind_name(m->kind),
                tagname[kind]);
        goto fail;
    }
    snitch_err fe;
    if (kind == MODEL_FOREST) {
        m->forest = forest_load(sec->data, sec->len, m->nfeat, (int)m->nclasses,
                                (flags & MODEL_LOAD_LEAN) ? FOREST_LOAD_LEAN : 0, &fe);
        if (!m->forest) {
            err_set(e, "%s: %s", name, fe.msg);
            goto fail;
        }
    } else if (kind == MODEL_NET) {
        m->net = nn_net_load(sec->data, sec->len, &fe);
        if (!m->net) {
            err_set(e, "%s: %s", name, fe.msg);
            goto fail;
        }
        if (m->net->cfg.classes != m->nclasses ||
            m->net->cfg.steps * m->net->cfg.channels != m->nfeat) {
            err_set(e, "%s: the network has %zu classes and %zu inputs, META lists %zu and %zu",
                    name, m->net->cfg.classes, m->net->cfg.steps * m->net->cfg.channels,
                    m->nclasses, m->nfeat);
            goto fail;
        }
    } else if (load_members(m, sec, name, depth, flags, e) < 0) {
        goto fail;
    }
    mf_file_free(&f);
    return m;
fail:
    mf_file_free(&f);
    model_free(m);
    return NULL;
}

static model *load_image(const uint8_t *data, size_t len, const char *name, int depth,
                         int flags, snitch_err *e)
{
    mf_file f;
    snitch_err pe;
    if (mf_parse(data, len, &f, &pe) < 0) {
        err_set(e, "%s: %s", name, pe.msg);
        return NULL;
    }
    return load_parsed(&f, name, depth, flags, e);
}

model *model_load_image(const uint8_t *p, size_t len, const char *name, snitch_err *e)
{
    return load_image(p, len, name, 0, 0, e);
}

struct model_stream {
    mf_stream *s;
    model *m;
    int flags;
};

model_stream *model_stream_begin(const char *path, int flags, size_t window, model **out)
{
    model_stream *ms = calloc(1, sizeof *ms);
    if (!ms)
        return NULL;
    ms->flags = flags;
    ms->s = mf_stream_open(path, window);
    ms->m = ms->s ? calloc(1, sizeof *ms->m) : NULL;
    snitch_err e;
    uint32_t tag;
    uint64_t len;
    mf_cur c;
    /* META first, of a forest: anything else is mf_read_path's to judge. */
    if (!ms->m || mf_stream_next(ms->s, &tag, &len) != 1 || tag != TAG_META)
        goto no;
    mf_stream_cursor(ms->s, &c);
    if (parse_meta(ms->m, &c, path, 0, &e) < 0 || ms->m->kind != MODEL_FOREST)
        goto no;
    *out = ms->m;
    return ms;
no:
    model_stream_abort(ms);
    return NULL;
}

int model_stream_end(model_stream *ms)
{
    snitch_err e;
    uint32_t tag;
    uint64_t len;
    mf_cur c;
    model *m = ms->m;
    int ok = mf_stream_next(ms->s, &tag, &len) == 1 && tag == TAG_FRST;
    if (ok) {
        mf_stream_cursor(ms->s, &c);
        m->forest = forest_load_cur(&c, m->nfeat, (int)m->nclasses,
                                    (ms->flags & MODEL_LOAD_LEAN) ? FOREST_LOAD_LEAN : 0, &e);
        ok = m->forest && mf_stream_next(ms->s, &tag, &len) == 0 && mf_stream_finish(ms->s) == 0;
    }
    if (!ok && m->forest) {     /* the file did not hold up to the end */
        forest_free(m->forest);
        m->forest = NULL;
    }
    mf_stream_close(ms->s);
    free(ms);
    return ok ? 0 : -1;
}

void model_stream_abort(model_stream *ms)
{
    if (!ms)
        return;
    model_free(ms->m);
    mf_stream_close(ms->s);
    free(ms);
}

model *model_load_streamed(const char *path, int flags, size_t window)
{
    model *m = NULL;
    model_stream *ms = model_stream_begin(path, flags, window, &m);
    if (!ms)
        return NULL;
    if (model_stream_end(ms) < 0) {
        model_free(m);
        return NULL;
    }
    return m;
}

model *model_load_flags(const char *path, int flags, snitch_err *e)
{
    /* A forest read front to back: no copy of the file in memory (tens of
     * MB for a big forest, and fresh memory is slow to come by on some
     * machines).  Any other model, and any defect, takes the path below,
     * which gives the verdict and the message. */
    if (flags & MODEL_LOAD_LEAN) {
        model *m = model_load_streamed(path, flags, 0);
        if (m)
            return m;
    }
    mf_file f;
    if (mf_read_path(path, &f, e) < 0)
        return NULL;
    return load_parsed(&f, path, 0, flags, e);
}

model *model_load(const char *path, snitch_err *e)
{
    return model_load_flags(path, 0, e);
}

int model_link(model *m, snitch_err *e)
{
    size_t cap = 0;
    for (size_t i = 0; i < m->nmembers; i++)
        cap += m->members[i]->nfeat;
    free_names(m->feat, m->nfeat);
    m->feat = calloc(cap ? cap : 1, sizeof *m->feat);
    m->nfeat = 0;
    if (m->member_cols)
        for (size_t i = 0; i < m->nmembers; i++)
            free(m->member_cols[i]);
    free(m->member_cols);
    m->member_cols = calloc(m->nmembers, sizeof *m->member_cols);
    if (!m->feat || !m->member_cols)
        return err_set(e, "out of memory");
    for (size_t i = 0; i < m->nmembers; i++) {
        model *mb = m->members[i];
        if (mb->kind == MODEL_ENSEMBLE)
            return err_set(e, "member %zu is an ensemble itself", i + 1);
        if (mb->nclasses != m->nclasses)
            return err_set(e, "member %zu has %zu classes, the ensemble %zu", i + 1, mb->nclasses,
                           m->nclasses);
        for (size_t k = 0; k < m->nclasses; k++)
            if (strcmp(mb->classes[k], m->classes[k]))
                return err_set(e, "member %zu: class %zu is '%s', the ensemble's is '%s'", i + 1,
                               k + 1, mb->classes[k], m->classes[k]);
        m->member_cols[i] = malloc((mb->nfeat ? mb->nfeat : 1) * sizeof **m->member_cols);
        if (!m->member_cols[i])
            return err_set(e, "out of memory");
        for (size_t j = 0; j < mb->nfeat; j++) {
            size_t at = m->nfeat;
            for (size_t q = 0; q < m->nfeat; q++)
                if (!strcmp(m->feat[q], mb->feat[j])) {
                    at = q;
                    break;
                }
            if (at == m->nfeat && !(m->feat[m->nfeat++] = strdup(mb->feat[j])))
                return err_set(e, "out of memory");
            m->member_cols[i][j] = at;
        }
    }
    return 0;
}

int model_set_names(model *m, const char *const *feat, size_t nfeat,
                    const char *const *classes, size_t nclasses)
{
    m->feat = calloc(nfeat ? nfeat : 1, sizeof *m->feat);
    m->classes = calloc(nclasses ? nclasses : 1, sizeof *m->classes);
    if (!m->feat || !m->classes)
        return -1;
    m->nfeat = nfeat;
    m->nclasses = nclasses;
    for (size_t i = 0; i < nfeat; i++)
        if (!(m->feat[i] = strdup(feat[i])))
            return -1;
    for (size_t i = 0; i < nclasses; i++)
        if (!(m->classes[i] = strdup(classes[i])))
            return -1;
    return 0;
}

int model_predict_proba(model *m, const float *x, size_t n, double *proba, int threads,
                        snitch_err *e)
{
    size_t k = m->nclasses;
    if (m->kind == MODEL_FOREST) {
        forest_predict_proba(m->forest, x, n, proba, threads);
        return 0;
    }
    if (m->kind == MODEL_NET)
        return nn_net_predict_proba(m->net, x, n, proba, e);
    /* ensemble: each member on its own columns, in chunks to bound memory */
    enum { CHUNK = 1024 };
    size_t maxf = 1;
    for (size_t i = 0; i < m->nmembers; i++)
        if (m->members[i]->nfeat > maxf)
            maxf = m->members[i]->nfeat;
    size_t cn = n < CHUNK ? (n ? n : 1) : CHUNK;
    float *sub = malloc(cn * maxf * sizeof *sub);
    double *part = malloc(cn * k * sizeof *part);
    if (!sub || !part) {
        free(sub);
        free(part);
        return err_set(e, "out of memory for the ensemble's predictions");
    }
    int r = 0;
    memset(proba, 0, n * k * sizeof *proba);
    for (size_t i0 = 0; i0 < n && r == 0; i0 += cn) {
        size_t b = n - i0 < cn ? n - i0 : cn;
        for (size_t mi = 0; mi < m->nmembers && r == 0; mi++) {
            model *mb = m->members[mi];
            const size_t *cols = m->member_cols[mi];
            for (size_t i = 0; i < b; i++)
                for (size_t j = 0; j < mb->nfeat; j++)
                    sub[i * mb->nfeat + j] = x[(i0 + i) * m->nfeat + cols[j]];
            r = model_predict_proba(mb, sub, b, part, threads, e);
            double w = m->weights[mi];
            for (size_t q = 0; r == 0 && q < b * k; q++)
                proba[i0 * k + q] += w * part[q];
        }
    }
    free(sub);
    free(part);
    return r;
}

void model_free(model *m)
{
    if (!m)
        return;
    free(m->label_mode);
    free_names(m->feat, m->nfeat);
    free_names(m->classes, m->nclasses);
    free(m->description);
    forest_free(m->forest);
    nn_net_free(m->net);
    for (size_t i = 0; i < m->nmembers; i++) {
        model_free(m->members ? m->members[i] : NULL);
        if (m->member_cols)
            free(m->member_cols[i]);
    }
    free(m->members);
    free(m->weights);
    free(m->member_cols);
    free(m);
}
