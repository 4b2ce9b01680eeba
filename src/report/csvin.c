/* csvin.c - CSV reads for the report; see csvin.h.
 *
 * One record parser over a buffer: fields are unescaped into a scratch
 * buffer the parser owns and handed out as NUL-terminated strings until
 * the next record.  A confusion matrix is small (k x k numbers with k in
 * the hundreds at most) and read whole; a feature table may be gigabytes,
 * so for its header only the bytes up to the end of the first record are
 * read. */
#include "csvin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef struct rec {
    const char *s;
    size_t n, pos;
    unsigned line;          /* line of the record being read */
    unsigned next_line;
    char *buf;              /* unescaped fields, NUL-separated */
    size_t buf_cap;
    size_t *off;            /* field start offsets in buf */
    size_t off_cap, nf;
} rec;

static void rec_free(rec *r)
{
    free(r->buf);
    free(r->off);
}

/* Next record into r (fields at r->buf + r->off[i]): 1, 0 at the end of
 * the input, -1 with e. */
static int rec_next(rec *r, const char *name, snitch_err *e)
{
    if (r->pos >= r->n)
        return 0;
    r->line = r->next_line;
    r->nf = 0;
    /* unescaped text is never longer than the raw record */
    size_t used = 0;
    int done = 0;
    while (!done) {
        if (array_grow((void **)&r->off, &r->off_cap, r->nf + 1, sizeof *r->off) < 0 ||
            array_grow((void **)&r->buf, &r->buf_cap, used + (r->n - r->pos) + 1, 1) < 0)
            return err_set(e, "%s: out of memory", name);
        r->off[r->nf++] = used;
        if (r->pos < r->n && r->s[r->pos] == '"') {
            r->pos++;
            for (;;) {
                if (r->pos >= r->n)
                    return err_set(e, "%s:%u: a quoted field is not closed", name, r->line);
                char c = r->s[r->pos++];
                if (c == '"') {
                    if (r->pos < r->n && r->s[r->pos] == '"') {
                        r->buf[used++] = '"';
                        r->pos++;
                        continue;
                    }
                    break;
                }
                if (c == '\n')
                    r->next_line++;
                r->buf[used++] = c;
            }
            if (r->pos < r->n && r->s[r->pos] != ',' && r->s[r->pos] != '\n' && r->s[r->pos] != '\r')
                return err_set(e, "%s:%u: text after a closing quote", name, r->line);
        } else {
            while (r->pos < r->n && r->s[r->pos] != ',' && r->s[r->pos] != '\n' &&
                   r->s[r->pos] != '\r') {
                if (r->s[r->pos] == '"')
                    return err_set(e, "%s:%u: a quote inside an unquoted field", name, r->line);
                r->buf[used++] = r->s[r->pos++];
            }
        }
        r->buf[used++] = 0;
        if (r->pos >= r->n) {
            done = 1;
        } else if (r->s[r->pos] == ',') {
            r->pos++;
        } else {
            if (r->s[r->pos] == '\r')
                r->pos++;
            if (r->pos < r->n && r->s[r->pos] == '\n')
                r->pos++;
            r->next_line++;
            done = 1;
        }
    }
    return 1;
}

static const char *field(const rec *r, size_t i)
{
    return r->buf + r->off[i];
}

void confusion_free(confusion *c)
{
    if (c->classes)
        for (size_t i = 0; i < c->k; i++)
            free(c->classes[i]);
    free(c->classes);
    free(c->n);
    memset(c, 0, sizeof *c);
}

int confusion_parse(const char *text, size_t len, const char *name, confusion *c, snitch_err *e)
{
    memset(c, 0, sizeof *c);
    rec r;
    memset(&r, 0, sizeof r);
    r.s = text;
    r.n = len;
    r.next_line = 1;
    int got = rec_next(&r, name, e);
    if (got <= 0) {
        rec_free(&r);
        return got < 0 ? -1 : err_set(e, "%s: empty file (no confusion matrix)", name);
    }
    if (r.nf < 3) {
        rec_free(&r);
        return err_set(e, "%s:1: a confusion matrix header names at least two classes", name);
    }
    size_t k = r.nf - 1;
    c->k = k;
    c->classes = calloc(k, sizeof *c->classes);
    c->n = calloc(k * k, sizeof *c->n);
    if (!c->classes || !c->n)
        goto oom;
    for (size_t i = 0; i < k; i++)
        if (!(c->classes[i] = strdup(field(&r, i + 1))))
            goto oom;
    size_t row = 0;
    while ((got = rec_next(&r, name, e)) > 0) {
        if (r.nf == 1 && !field(&r, 0)[0] && r.pos >= r.n)
            break;                  /* nothing after the last newline */
        if (row == k) {
            err_set(e, "%s:%u: more rows than the %zu classes of the header", name, r.line, k);
            goto fail;
        }
        if (r.nf != k + 1) {
            err_set(e, "%s:%u: %zu fields, the header has %zu", name, r.line, r.nf, k + 1);
            goto fail;
        }
        if (strcmp(field(&r, 0), c->classes[row])) {
            err_set(e, "%s:%u: row for class '%.60s' where the header's order has '%.60s'", name,
                    r.line, field(&r, 0), c->classes[row]);
            goto fail;
        }
        for (size_t j = 0; j < k; j++) {
            const char *f = field(&r, j + 1);
            char *end;
            errno = 0;
            unsigned long long v = strtoull(f, &end, 10);
            if (!f[0] || *end || errno || f[0] == '-' || f[0] == '+' || f[0] == ' ') {
                err_set(e, "%s:%u: column '%.60s': '%.40s' is not a count", name, r.line,
                        c->classes[j], f);
                goto fail;
            }
            c->n[row * k + j] = v;
        }
        row++;
    }
    if (got < 0)
        goto fail;
    if (row != k) {
        err_set(e, "%s: %zu rows for the %zu classes of the header", name, row, k);
        goto fail;
    }
    rec_free(&r);
    return 0;
oom:
    err_set(e, "%s: out of memory", name);
fail:
    rec_free(&r);
    confusion_free(c);
    return -1;
}

static char *read_all(const char *path, size_t *len, snitch_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (array_grow((void **)&buf, &cap, *len + 65536, 1) < 0) {
            err_set(e, "%s: out of memory", path);
            goto fail;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        err_set(e, "%s: %s", path, strerror(errno ? errno : EIO));
        goto fail;
    }
    fclose(f);
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

int confusion_read(const char *path, confusion *c, snitch_err *e)
{
    memset(c, 0, sizeof *c);
    size_t len;
    char *text = read_all(path, &len, e);
    if (!text)
        return -1;
    int rc = confusion_parse(text, len, path, c, e);
    free(text);
    return rc;
}

int csv_header(const char *path, char ***names, size_t *n, snitch_err *e)
{
    *names = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, "%s: %s", path, strerror(errno));
    /* Up to the first newline outside quotes. */
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int inq = 0, c;
    while ((c = getc(f)) != EOF) {
        if (array_grow((void **)&buf, &cap, len + 1, 1) < 0) {
            fclose(f);
            free(buf);
            return err_set(e, "%s: out of memory", path);
        }
        if (c == '"')
            inq = !inq;
        else if (c == '\n' && !inq)
            break;
        buf[len++] = (char)c;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        return err_set(e, "%s: read error", path);
    }
    if (len == 0) {
        free(buf);
        return err_set(e, "%s: empty file (no header)", path);
    }
    rec r;
    memset(&r, 0, sizeof r);
    r.s = buf;
    r.n = len;
    r.next_line = 1;
    int got = rec_next(&r, path, e);
    free(buf);
    if (got <= 0) {
        rec_free(&r);
        return -1;
    }
    /* One block: the pointer array, then the strings. */
    size_t bytes = 0;
    for (size_t i = 0; i < r.nf; i++)
        bytes += strlen(field(&r, i)) + 1;
    char **out = malloc(r.nf * sizeof *out + bytes);
    if (!out) {
        rec_free(&r);
        return err_set(e, "%s: out of memory", path);
    }
    char *p = (char *)(out + r.nf);
    for (size_t i = 0; i < r.nf; i++) {
        size_t l = strlen(field(&r, i)) + 1;
        memcpy(p, field(&r, i), l);
        out[i] = p;
        p += l;
    }
    *names = out;
    *n = r.nf;
    rec_free(&r);
    return 0;
}
