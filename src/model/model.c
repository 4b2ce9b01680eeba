/* model.c - META section and model-level load/save; see model.h. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "model/modelfile.h"

#define TAG_META MF_TAG('M', 'E', 'T', 'A')
#define TAG_FRST MF_TAG('F', 'R', 'S', 'T')
#define MAX_NAME 4096
#define MAX_FEAT 100000
#define MAX_CLASSES 1000000

const char *model_kind_name(model_kind k)
{
    return k == MODEL_FOREST ? "forest" : "unknown";
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
    if (m->kind == MODEL_FOREST) {
        forest_save(m->forest, &body);
        tag = TAG_FRST;
    }
    int r = -1;
    if (meta.oom || body.oom) {
        err_set(e, "out of memory");
    } else {
        mf_section s[2] = {{TAG_META, meta.p, meta.len}, {tag, body.p, body.len}};
        if (mf_build(s, 2, out) < 0)
            err_set(e, "out of memory");
        else
            r = 0;
    }
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

model *model_load(const char *path, snitch_err *e)
{
    mf_file f;
    if (mf_read_path(path, &f, e) < 0)
        return NULL;
    model *m = calloc(1, sizeof *m);
    if (!m) {
        mf_file_free(&f);
        err_set(e, "%s: out of memory", path);
        return NULL;
    }
    const mf_section *meta = mf_find(&f, TAG_META);
    if (!meta) {
        err_set(e, "%s: no META section (not a model saved by snitch train)", path);
        goto fail;
    }
    mf_cur c = {meta->data, meta->len, 0, 0};
    uint32_t kind = mf_get_u32(&c);
    m->label_mode = mf_get_str(&c, MAX_NAME);
    uint32_t nf = mf_get_u32(&c);
    if (c.bad || nf == 0 || nf > MAX_FEAT || (size_t)nf * 4 > c.len - c.off) {
        err_set(e, "%s: META: bad feature count", path);
        goto fail;
    }
    m->nfeat = nf;
    m->feat = get_names(&c, nf);
    uint32_t nc = c.bad ? 0 : mf_get_u32(&c);
    if (c.bad || nc == 0 || nc > MAX_CLASSES || (size_t)nc * 4 > c.len - c.off) {
        err_set(e, "%s: META: bad feature names or class count", path);
        goto fail;
    }
    m->nclasses = nc;
    m->classes = get_names(&c, nc);
    m->train_rows = mf_get_u64(&c);
    m->description = mf_get_str(&c, 1 << 20);
    if (c.bad || c.off != c.len) {
        err_set(e, "%s: META section is damaged (at byte %zu of %zu)", path, c.off, c.len);
        goto fail;
    }
    if (kind != MODEL_FOREST) {
        err_set(e, "%s: model kind %u is not known to this snitch", path, kind);
        goto fail;
    }
    m->kind = (model_kind)kind;
    const mf_section *fr = mf_find(&f, TAG_FRST);
    if (!fr) {
        err_set(e, "%s: forest model without its FRST section", path);
        goto fail;
    }
    snitch_err fe;
    m->forest = forest_load(fr->data, fr->len, m->nfeat, (int)m->nclasses, &fe);
    if (!m->forest) {
        err_set(e, "%s: %s", path, fe.msg);
        goto fail;
    }
    mf_file_free(&f);
    return m;
fail:
    mf_file_free(&f);
    model_free(m);
    return NULL;
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

void model_predict_proba(const model *m, const float *x, size_t n, double *proba, int threads)
{
    if (m->kind == MODEL_FOREST)
        forest_predict_proba(m->forest, x, n, proba, threads);
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
    free(m);
}
