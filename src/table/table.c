/* table.c - read a feature table (RFC 4180 CSV) into a float matrix; see
 * table.h.
 *
 * The input is read in blocks of up to 1 MiB into one buffer and parsed in
 * place: first the end of the next record is found (memchr, honouring
 * quotes, so a quoted SNI may hold commas and newlines), then its fields
 * are cut out and NUL-terminated where they lie (a quoted field is
 * unescaped over its own bytes).  Past 1 MiB only a longer record makes the
 * buffer grow.  Rows go into geometrically grown arrays; there is no
 * per-cell allocation, so memory is the matrix plus a little. */
#include "table.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/strmap.h"
#include "util/xalloc.h"

/* The buffer starts small and doubles on every refill up to READ_BLOCK:
 * a small table costs little memory, and short inputs (the unit tests, the
 * fuzzer) cross refill points too, not only multi-megabyte ones. */
#define FIRST_BLOCK 256u
#define READ_BLOCK (1u << 20)

/* Longest piece of a cell or column name quoted in a message. */
#define SHOW_MAX 60

static const char *const stat_names[] = {
    "pkt_fwd_num", "pkt_fwd_p25", "pkt_fwd_p50", "pkt_fwd_p75", "pkt_fwd_max",
    "pkt_fwd_mean", "pkt_fwd_var",
    "pkt_bwd_num", "pkt_bwd_p25", "pkt_bwd_p50", "pkt_bwd_p75", "pkt_bwd_max",
    "pkt_bwd_mean", "pkt_bwd_var",
    "pkt_all_num", "pkt_all_p25", "pkt_all_p50", "pkt_all_p75", "pkt_all_max",
    "pkt_all_mean", "pkt_all_var",
    "iat_fwd_p25", "iat_fwd_p50", "iat_fwd_p75",
    "iat_bwd_p25", "iat_bwd_p50", "iat_bwd_p75",
    "iat_all_p25", "iat_all_p50", "iat_all_p75",
    "pay_fwd_p25", "pay_fwd_p50", "pay_fwd_p75", "pay_fwd_max", "pay_fwd_mean",
    "pay_fwd_var",
    "pay_bwd_p25", "pay_bwd_p50", "pay_bwd_p75", "pay_bwd_max", "pay_bwd_mean",
    "pay_bwd_var",
};

static const char *const window_names[] = {
    "dt_prev", "size", "rx_bytes", "tx_bytes", "rx_mean", "tx_mean",
    "rx_std", "tx_std", "rx_pkts", "tx_pkts",
};

static const char *const seq_prefixes[] = { "size_", "payload_", "iat_", "dir_" };

unsigned table_feature_family(const char *name)
{
    for (size_t i = 0; i < sizeof stat_names / sizeof *stat_names; i++)
        if (!strcmp(name, stat_names[i]))
            return TABLE_STATS;
    for (size_t i = 0; i < sizeof window_names / sizeof *window_names; i++)
        if (!strcmp(name, window_names[i]))
            return TABLE_WINDOW;
    for (size_t i = 0; i < sizeof seq_prefixes / sizeof *seq_prefixes; i++) {
        size_t n = strlen(seq_prefixes[i]);
        if (strncmp(name, seq_prefixes[i], n))
            continue;
        const char *d = name + n;
        if (!*d)
            return 0;
        while (*d >= '0' && *d <= '9')
            d++;
        return *d ? 0 : TABLE_SEQ;
    }
    return 0;
}

/* ---- reading records ------------------------------------------------ */

typedef struct field {
    char *s;            /* NUL-terminated in the buffer */
    size_t len;
    size_t dline;       /* newlines in the record before this field */
} field;

typedef struct reader {
    FILE *f;
    const char *name;
    char *buf;          /* cap + 1 bytes: room for a NUL after the data */
    size_t cap, len;
    size_t pos;         /* start of the current record */
    int eof;
    unsigned long long line;    /* line of the record at pos */
    /* Where the search for the record's end stands, kept across refills. */
    size_t scan;
    int inq, hadq;
    int rec_hadq;       /* the current record has a quote somewhere */
    unsigned long long next_line;
    field *fields;
    size_t nfields, fcap;
} reader;

/* Make the text printable and short for a message. */
static const char *show(const char *s, size_t n, char out[SHOW_MAX + 4])
{
    size_t k = n > SHOW_MAX ? SHOW_MAX : n;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (k < n) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = 0;
    return out;
}

/* Find the end of the record starting at r->pos, from r->scan on.  Returns
 * the offset of its '\n', or (size_t)-1 if the buffer ends first.  A quote
 * opens a quoted field only at the start of a field; a stray one elsewhere
 * is left for the field parser to report, so it cannot swallow the rest of
 * the file. */
static size_t find_end(reader *r)
{
    char *b = r->buf;
    for (;;) {
        if (r->inq) {
            char *q = memchr(b + r->scan, '"', r->len - r->scan);
            if (!q) {
                r->scan = r->len;
                return (size_t)-1;
            }
            size_t qi = (size_t)(q - b);
            if (qi + 1 == r->len && !r->eof) {
                r->scan = qi;           /* need the next byte to decide */
                return (size_t)-1;
            }
            if (qi + 1 < r->len && b[qi + 1] == '"') {
                r->scan = qi + 2;
                continue;
            }
            r->inq = 0;
            r->scan = qi + 1;
            continue;
        }
        char *nl = memchr(b + r->scan, '\n', r->len - r->scan);
        size_t lim = nl ? (size_t)(nl - b) : r->len;
        size_t from = r->scan;
        for (;;) {
            char *q = memchr(b + from, '"', lim - from);
            if (!q)
                break;
            size_t qi = (size_t)(q - b);
            r->hadq = 1;
            if (qi == r->pos || b[qi - 1] == ',') {
                r->inq = 1;
                r->scan = qi + 1;
                break;
            }
            from = qi + 1;
        }
        if (r->inq)
            continue;
        r->scan = lim;
        return nl ? lim : (size_t)-1;
    }
}

static int fill(reader *r, snitch_err *e)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->scan -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap || r->cap < READ_BLOCK) {
        /* Still growing to full size, or one record longer than it. */
        if (r->cap > (SIZE_MAX - 1) / 2)
            return err_set(e, "%s: out of memory", r->name);
        char *nb = realloc(r->buf, r->cap * 2 + 1);
        if (!nb)
            return err_set(e, "%s: out of memory", r->name);
        r->buf = nb;
        r->cap *= 2;
    }
    size_t want = r->cap - r->len;
    errno = 0;
    size_t n = fread(r->buf + r->len, 1, want, r->f);
    r->len += n;
    if (n < want) {
        if (ferror(r->f))
            return err_set(e, "%s: read error: %s", r->name,
                           errno ? strerror(errno) : "I/O error");
        r->eof = 1;
    }
    return 0;
}

/* Cut the record [s, end) into r->fields.  cols names the columns for
 * messages (NULL while reading the header). */
static int split(reader *r, char *s, char *end, char *const *cols, size_t ncols,
                 snitch_err *e)
{
    char *p = s;
    size_t dline = 0;
    char tmp[SHOW_MAX + 4];
    r->nfields = 0;
    for (;;) {
        size_t i = r->nfields;
        const char *cn = cols && i < ncols ? cols[i] : NULL;
        char *fs = p, *fe;
        size_t fdline = dline;
        if (p < end && *p == '"') {
            /* Unescape over the field's own bytes: the text only shrinks. */
            char *w = p;
            p++;
            for (;;) {
                char *q = memchr(p, '"', (size_t)(end - p));
                if (!q)
                    return err_set(e, "%s:%llu: unterminated quoted field (it starts on "
                                   "this line and runs to the end of the file)",
                                   r->name, r->line + fdline);
                for (char *c = memchr(p, '\n', (size_t)(q - p)); c;
                     c = memchr(c + 1, '\n', (size_t)(q - c - 1)))
                    dline++;
                memmove(w, p, (size_t)(q - p));
                w += q - p;
                if (q + 1 < end && q[1] == '"') {
                    *w++ = '"';
                    p = q + 2;
                    continue;
                }
                p = q + 1;
                break;
            }
            if (p < end && *p != ',') {
                if (cn)
                    return err_set(e, "%s:%llu: column '%s': text after a closing quote",
                                   r->name, r->line + dline, show(cn, strlen(cn), tmp));
                return err_set(e, "%s:%llu: field %zu: text after a closing quote",
                               r->name, r->line + dline, i + 1);
            }
            fe = w;
        } else {
            char *c = memchr(p, ',', (size_t)(end - p));
            p = c ? c : end;
            if (r->rec_hadq && memchr(fs, '"', (size_t)(p - fs))) {
                if (cn)
                    return err_set(e, "%s:%llu: column '%s': quote inside an unquoted field",
                                   r->name, r->line + dline, show(cn, strlen(cn), tmp));
                return err_set(e, "%s:%llu: field %zu: quote inside an unquoted field",
                               r->name, r->line + dline, i + 1);
            }
            fe = p;
        }
        /* p is at the separator or the end; the NUL goes at fe <= p, so
         * decide before writing it. */
        int more = p < end;
        if (r->nfields == r->fcap &&
            array_grow((void **)&r->fields, &r->fcap, r->nfields + 1, sizeof *r->fields) < 0)
            return err_set(e, "%s: out of memory", r->name);
        *fe = 0;
        r->fields[r->nfields++] = (field){ fs, (size_t)(fe - fs), fdline };
        if (!more)
            return 0;
        p++;
    }
}

/* The next record as [*rs, *re) (line end and CR cut off), with r->line its
 * first line.  Returns 1, 0 at the end of the input, or -1. */
static int next_record(reader *r, char **rs, char **re, snitch_err *e)
{
    size_t start, stop;
    r->line = r->next_line;
    for (;;) {
        size_t nl = find_end(r);
        if (nl != (size_t)-1) {
            start = r->pos;
            stop = nl;
            r->pos = nl + 1;
            break;
        }
        if (r->eof) {
            if (r->pos == r->len)
                return 0;
            /* The last record, without a final newline. */
            start = r->pos;
            stop = r->len;
            r->pos = r->len;
            break;
        }
        if (fill(r, e) < 0)
            return -1;
    }
    char *s = r->buf + start, *end = r->buf + stop;
    if (end > s && end[-1] == '\r')
        end--;
    unsigned long long lines = 1;
    if (r->hadq)        /* only quoted fields can hold newlines */
        for (char *c = memchr(s, '\n', (size_t)(end - s)); c;
             c = memchr(c + 1, '\n', (size_t)(end - c - 1)))
            lines++;
    r->next_line = r->line + lines;
    r->rec_hadq = r->hadq;
    r->scan = r->pos;
    r->inq = 0;
    r->hadq = 0;
    *rs = s;
    *re = end;
    return 1;
}

/* ---- cells -------------------------------------------------------------- */

enum { CELL_OK, CELL_EMPTY, CELL_NAN, CELL_NOTFINITE, CELL_RANGE };

/* Powers of ten that doubles hold exactly. */
static const double pow10_exact[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The double strtod gives for the plain decimals extract writes (at most
 * 15 or so digits, small exponent), without strtod's cost: a mantissa
 * below 2^53 and an exact power of ten make one correctly rounded multiply
 * or divide (Clinger's fast path).  Returns 0, or -1 to let strtod decide. */
static int fast_decimal(const char *p, const char *end, double *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    int neg = 0, any = 0, nd = 0, e10 = 0;
    uint64_t m = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        any = 1;
        if (m == 0 && *p == '0')
            continue;
        if (nd == 19)
            return -1;
        m = m * 10 + (uint64_t)(*p - '0');
        nd++;
    }
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            any = 1;
            e10--;
            if (m == 0 && *p == '0')
                continue;
            if (nd == 19)
                return -1;
            m = m * 10 + (uint64_t)(*p - '0');
            nd++;
        }
    }
    if (!any)
        return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int es = 1, ex = 0, ed = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            es = *p == '-' ? -1 : 1;
            p++;
        }
        for (; p < end && *p >= '0' && *p <= '9'; p++, ed++) {
            if (ex > 1000)
                return -1;
            ex = ex * 10 + (*p - '0');
        }
        if (!ed)
            return -1;
        e10 += es * ex;
    }
    if (p != end || m > (UINT64_C(1) << 53))
        return -1;
    double d;
    if (m == 0)
        d = 0;
    else if (e10 >= 0 && e10 <= 22)
        d = (double)m * pow10_exact[e10];
    else if (e10 < 0 && e10 >= -22)
        d = (double)m / pow10_exact[-e10];
    else
        return -1;
    *out = neg ? -d : d;
    return 0;
#else
    (void)p; (void)end; (void)out;
    return -1;
#endif
}

/* Cell text (NUL-terminated at s[n]) to float, strictly: the whole cell is
 * one number as strtod reads it, without surrounding blanks or hex, finite
 * and within float range. */
static int parse_cell(const char *s, size_t n, float *out)
{
    double d;
    if (n == 0)
        return CELL_EMPTY;
    if (fast_decimal(s, s + n, &d) < 0) {
        const char *h = s + (*s == '-' || *s == '+');
        if (isspace((unsigned char)*s) || (h[0] == '0' && (h[1] == 'x' || h[1] == 'X')))
            return CELL_NAN;
        char *ep;
        errno = 0;
        d = strtod(s, &ep);
        if (ep != s + n)
            return CELL_NAN;
        if (isnan(d))
            return CELL_NOTFINITE;
        if (isinf(d))
            return errno == ERANGE ? CELL_RANGE : CELL_NOTFINITE;
    }
    float f = (float)d;
    if (isinf(f))
        return CELL_RANGE;
    *out = f;
    return CELL_OK;
}

/* ---- the table ---------------------------------------------------------- */

typedef struct loader {
    reader r;
    const table_spec *spec;
    table t;
    char **cols;            /* header names */
    size_t ncols;
    size_t *col_of;         /* column of each feature */
    size_t *id_cols;        /* identity columns (keep_identity) */
    size_t label_col;
    strmap *labels;         /* label -> provisional class (first seen) */
    size_t xcap, ycap, icap;
    char *idbuf;            /* one row's identity text */
    size_t idcap;
} loader;

static char *dup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static int oom(loader *L, snitch_err *e)
{
    return err_set(e, "%s: out of memory", L->r.name);
}

static int read_header(loader *L, snitch_err *e)
{
    reader *r = &L->r;
    const table_spec *spec = L->spec;
    char *s, *end, tmp[SHOW_MAX + 4];
    int rc = next_record(r, &s, &end, e);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return err_set(e, "%s: empty file", r->name);
    if (split(r, s, end, NULL, 0, e) < 0)
        return -1;
    L->ncols = r->nfields;
    L->cols = calloc(L->ncols, sizeof *L->cols);
    strmap *names = strmap_new();
    if (!L->cols || !names) {
        strmap_free(names);
        return oom(L, e);
    }
    /* Names are used as C strings from here on (a NUL inside one cuts it). */
    for (size_t c = 0; c < L->ncols; c++) {
        const field *fd = &r->fields[c];
        size_t n = strlen(fd->s);
        if (strmap_find(names, fd->s, n) >= 0) {
            strmap_free(names);
            return err_set(e, "%s:%llu: duplicate column '%s'", r->name,
                           r->line + fd->dline, show(fd->s, n, tmp));
        }
        if (!(L->cols[c] = dup_str(fd->s, n)) || strmap_intern(names, fd->s, n) < 0) {
            strmap_free(names);
            return oom(L, e);
        }
    }
    long lc = strmap_find(names, "label", 5);
    if (lc < 0) {
        strmap_free(names);
        return err_set(e, "%s: no 'label' column (expected the output of snitch extract)",
                       r->name);
    }
    L->label_col = (size_t)lc;

    table *t = &L->t;
    if (spec->features) {
        if (spec->nfeatures == 0) {
            strmap_free(names);
            return err_set(e, "%s: no feature columns requested", r->name);
        }
        L->col_of = calloc(spec->nfeatures, sizeof *L->col_of);
        if (!L->col_of) {
            strmap_free(names);
            return oom(L, e);
        }
        for (size_t j = 0; j < spec->nfeatures; j++) {
            const char *fname = spec->features[j];
            long c = strmap_find(names, fname, strlen(fname));
            if (c < 0) {
                strmap_free(names);
                return err_set(e, "%s: missing feature column '%s' (the model was trained "
                               "with it)", r->name, show(fname, strlen(fname), tmp));
            }
            L->col_of[j] = (size_t)c;
        }
        t->nfeat = spec->nfeatures;
    } else {
        unsigned fams = spec->families ? spec->families
                                       : (unsigned)(TABLE_STATS | TABLE_SEQ | TABLE_WINDOW);
        L->col_of = calloc(L->ncols, sizeof *L->col_of);
        if (!L->col_of) {
            strmap_free(names);
            return oom(L, e);
        }
        for (size_t c = 0; c < L->ncols; c++)
            if (table_feature_family(L->cols[c]) & fams)
                L->col_of[t->nfeat++] = c;
        if (t->nfeat == 0) {
            strmap_free(names);
            return err_set(e, "%s: no feature columns (expected the output of snitch "
                           "extract)", r->name);
        }
    }
    strmap_free(names);
    if (t->nfeat > SIZE_MAX / sizeof(float) / 2)
        return oom(L, e);

    t->feat = calloc(t->nfeat, sizeof *t->feat);
    if (!t->feat)
        return oom(L, e);
    for (size_t j = 0; j < t->nfeat; j++) {
        const char *cn = L->cols[L->col_of[j]];
        if (!(t->feat[j] = dup_str(cn, strlen(cn))))
            return oom(L, e);
    }

    if (spec->keep_identity) {
        /* Identity = every column that is not a feature of the contract,
         * whatever was chosen: the label included, another family's
         * columns not. */
        L->id_cols = calloc(L->ncols, sizeof *L->id_cols);
        t->id_names = calloc(L->ncols, sizeof *t->id_names);
        if (!L->id_cols || !t->id_names)
            return oom(L, e);
        for (size_t c = 0; c < L->ncols; c++) {
            if (table_feature_family(L->cols[c]))
                continue;
            if (!(t->id_names[t->nid] = dup_str(L->cols[c], strlen(L->cols[c]))))
                return oom(L, e);
            L->id_cols[t->nid++] = c;
        }
    }
    return 0;
}

/* Append one field to L->idbuf at *len, quoted if it must be. */
static int put_id_field(loader *L, size_t *len, const field *fd)
{
    size_t need = *len + 1 + 2 * fd->len + 2 + 1;
    if (need < fd->len || array_grow((void **)&L->idbuf, &L->idcap, need, 1) < 0)
        return -1;
    char *o = L->idbuf + *len;
    const char *s = fd->s;
    size_t n = fd->len;
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        memcpy(o, s, n);
        o += n;
    } else {
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"')
                *o++ = '"';
            *o++ = s[i];
        }
        *o++ = '"';
    }
    *len = (size_t)(o - L->idbuf);
    return 0;
}

static int read_row(loader *L, char *s, char *end, snitch_err *e)
{
    reader *r = &L->r;
    table *t = &L->t;
    char tmp[SHOW_MAX + 4], tmp2[SHOW_MAX + 4];
    if (split(r, s, end, L->cols, L->ncols, e) < 0)
        return -1;
    if (r->nfields != L->ncols) {
        if (r->nfields == 1 && r->fields[0].len == 0)
            return err_set(e, "%s:%llu: empty line, the header has %zu fields", r->name,
                           r->line, L->ncols);
        return err_set(e, "%s:%llu: %zu fields, the header has %zu", r->name, r->line,
                       r->nfields, L->ncols);
    }
    size_t i = t->nrows;
    if (array_grow((void **)&t->x, &L->xcap, i + 1, t->nfeat * sizeof *t->x) < 0 ||
        array_grow((void **)&t->y, &L->ycap, i + 1, sizeof *t->y) < 0)
        return oom(L, e);
    float *x = t->x + i * t->nfeat;
    for (size_t j = 0; j < t->nfeat; j++) {
        const field *fd = &r->fields[L->col_of[j]];
        int rc = parse_cell(fd->s, fd->len, &x[j]);
        if (rc == CELL_OK)
            continue;
        const char *cn = L->cols[L->col_of[j]];
        unsigned long long ln = r->line + fd->dline;
        show(cn, strlen(cn), tmp);
        show(fd->s, fd->len, tmp2);
        switch (rc) {
        case CELL_EMPTY:
            return err_set(e, "%s:%llu: column '%s': empty cell", r->name, ln, tmp);
        case CELL_NOTFINITE:
            return err_set(e, "%s:%llu: column '%s': '%s' is not a finite number", r->name,
                           ln, tmp, tmp2);
        case CELL_RANGE:
            return err_set(e, "%s:%llu: column '%s': '%s' is out of float range", r->name,
                           ln, tmp, tmp2);
        default:
            return err_set(e, "%s:%llu: column '%s': '%s' is not a number", r->name, ln,
                           tmp, tmp2);
        }
    }
    const field *lf = &r->fields[L->label_col];
    if (lf->len == 0) {
        t->y[i] = -1;
    } else {
        long id = strmap_intern(L->labels, lf->s, lf->len);
        if (id < 0)
            return oom(L, e);
        if (id > INT32_MAX)
            return err_set(e, "%s:%llu: too many classes", r->name, r->line);
        t->y[i] = (int32_t)id;
    }
    if (L->spec->keep_identity) {
        if (array_grow((void **)&t->id_text, &L->icap, i + 1, sizeof *t->id_text) < 0)
            return oom(L, e);
        size_t len = 0;
        for (size_t k = 0; k < t->nid; k++) {
            if (k)
                L->idbuf[len++] = ',';
            if (put_id_field(L, &len, &r->fields[L->id_cols[k]]) < 0)
                return oom(L, e);
        }
        if (!(t->id_text[i] = dup_str(L->idbuf ? L->idbuf : "", len)))
            return oom(L, e);
    }
    t->nrows++;
    return 0;
}

typedef struct class_key {
    const char *s;
    size_t len;
    long id;
} class_key;

/* Bytewise, as strcmp (a shorter prefix first). */
static int cmp_class(const void *a, const void *b)
{
    const class_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Sort the class names, renumber y, give back the arrays' spare room. */
static int finish(loader *L, snitch_err *e)
{
    table *t = &L->t;
    size_t n = strmap_size(L->labels);
    class_key *keys = malloc((n + 1) * sizeof *keys);
    int32_t *rank = malloc((n + 1) * sizeof *rank);
    t->classes = calloc(n + 1, sizeof *t->classes);
    if (!keys || !rank || !t->classes) {
        free(keys);
        free(rank);
        return oom(L, e);
    }
    for (size_t k = 0; k < n; k++)
        keys[k] = (class_key){ strmap_key(L->labels, (long)k),
                               strmap_key_len(L->labels, (long)k), (long)k };
    qsort(keys, n, sizeof *keys, cmp_class);
    for (size_t k = 0; k < n; k++) {
        rank[keys[k].id] = (int32_t)k;
        if (!(t->classes[k] = dup_str(keys[k].s, keys[k].len))) {
            free(keys);
            free(rank);
            return oom(L, e);
        }
        t->nclasses++;
    }
    for (size_t i = 0; i < t->nrows; i++)
        if (t->y[i] >= 0)
            t->y[i] = rank[t->y[i]];
    free(keys);
    free(rank);

    if (t->nrows && t->nrows < L->xcap) {
        float *x = realloc(t->x, t->nrows * t->nfeat * sizeof *x);
        if (x)
            t->x = x;
        int32_t *y = realloc(t->y, t->nrows * sizeof *y);
        if (y)
            t->y = y;
    }
    if (t->id_text && t->nrows && t->nrows < L->icap) {
        char **it = realloc(t->id_text, t->nrows * sizeof *it);
        if (it)
            t->id_text = it;
    }
    return 0;
}

int table_read_file(FILE *f, const char *name, const table_spec *spec, table *t,
                    snitch_err *e)
{
    static const table_spec defaults = { NULL, 0, 0, 0 };
    loader L;
    memset(&L, 0, sizeof L);
    memset(t, 0, sizeof *t);
    L.spec = spec ? spec : &defaults;
    L.t.path = name;
    L.r.f = f;
    L.r.name = name;
    L.r.next_line = 1;
    L.r.cap = FIRST_BLOCK;
    L.r.buf = malloc(L.r.cap + 1);
    L.labels = strmap_new();
    int rc = -1;
    if (!L.r.buf || !L.labels) {
        oom(&L, e);
        goto done;
    }
    if (fill(&L.r, e) < 0)
        goto done;
    if (L.r.len >= 3 && !memcmp(L.r.buf, "\xEF\xBB\xBF", 3))
        L.r.pos = L.r.scan = 3;
    if (read_header(&L, e) < 0)
        goto done;
    for (;;) {
        char *s, *end;
        int got = next_record(&L.r, &s, &end, e);
        if (got < 0)
            goto done;
        if (got == 0)
            break;
        if (read_row(&L, s, end, e) < 0)
            goto done;
    }
    if (finish(&L, e) < 0)
        goto done;
    *t = L.t;
    memset(&L.t, 0, sizeof L.t);
    rc = 0;
done:
    /* On failure the half-built rows go too; id_text rows are counted by
     * nrows, so table_free frees exactly those. */
    table_free(&L.t);
    for (size_t c = 0; L.cols && c < L.ncols; c++)
        free(L.cols[c]);
    free(L.cols);
    free(L.col_of);
    free(L.id_cols);
    free(L.idbuf);
    free(L.r.buf);
    free(L.r.fields);
    strmap_free(L.labels);
    return rc;
}

int table_read(const char *path, const table_spec *spec, table *t, snitch_err *e)
{
    if (!strcmp(path, "-"))
        return table_read_file(stdin, "<stdin>", spec, t, e);
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(t, 0, sizeof *t);
        return err_set(e, "%s: %s", path, strerror(errno));
    }
    int rc = table_read_file(f, path, spec, t, e);
    fclose(f);
    return rc;
}

void table_free(table *t)
{
    if (!t)
        return;
    for (size_t j = 0; t->feat && j < t->nfeat; j++)
        free(t->feat[j]);
    free(t->feat);
    free(t->x);
    free(t->y);
    for (size_t k = 0; t->classes && k < t->nclasses; k++)
        free(t->classes[k]);
    free(t->classes);
    for (size_t k = 0; t->id_names && k < t->nid; k++)
        free(t->id_names[k]);
    free(t->id_names);
    for (size_t i = 0; t->id_text && i < t->nrows; i++)
        free(t->id_text[i]);
    free(t->id_text);
    memset(t, 0, sizeof *t);
}

void table_class_counts(const table *t, uint64_t *counts)
{
    for (size_t k = 0; k < t->nclasses; k++)
        counts[k] = 0;
    for (size_t i = 0; i < t->nrows; i++)
        if (t->y[i] >= 0 && (size_t)t->y[i] < t->nclasses)
            counts[t->y[i]]++;
}

int table_keep_labeled(table *t, size_t min_rows, snitch_err *e)
{
    size_t nc = t->nclasses;
    uint64_t *counts = malloc((nc + 1) * sizeof *counts);
    int32_t *renum = malloc((nc + 1) * sizeof *renum);
    if (!counts || !renum) {
        free(counts);
        free(renum);
        return err_set(e, "%s: out of memory", t->path ? t->path : "table");
    }
    table_class_counts(t, counts);
    if (min_rows < 1)
        min_rows = 1;
    size_t kept = 0;
    for (size_t k = 0; k < nc; k++) {
        if (counts[k] >= min_rows) {
            renum[k] = (int32_t)kept;
            t->classes[kept++] = t->classes[k];
        } else {
            renum[k] = -1;
            free(t->classes[k]);
        }
    }
    t->nclasses = kept;
    size_t j = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        int32_t y = t->y[i];
        int32_t ny = y >= 0 && (size_t)y < nc ? renum[y] : -1;
        if (ny < 0) {
            if (t->id_text)
                free(t->id_text[i]);
            continue;
        }
        if (j != i) {
            memmove(t->x + j * t->nfeat, t->x + i * t->nfeat, t->nfeat * sizeof *t->x);
            if (t->id_text)
                t->id_text[j] = t->id_text[i];
        }
        t->y[j++] = ny;
    }
    t->nrows = j;
    free(counts);
    free(renum);
    return 0;
}
