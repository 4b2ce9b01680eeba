/* json_read.c - strict JSON reader into a json_value tree; see json_read.h.
 *
 * Recursive descent over the bytes, one function per production.  Depth is
 * capped (JSON_READ_MAX_DEPTH) so that "[[[[..." cannot exhaust the stack.
 * Every failure leaves the value being built in a state json_value_free
 * can release (type set before any pointer is stored), so error paths just
 * unwind.
 *
 * Line and column are computed from byte offsets by a cursor that only
 * moves forward (positions are asked for in increasing order while
 * parsing), so locating every value costs one pass over the input in
 * total, not one pass per value; a position behind the cursor (the first
 * occurrence of a repeated key is reported from its stored place, not this
 * way) restarts it from the top. */
#include "json_read.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

typedef struct parser {
    const unsigned char *s;
    size_t n, pos;
    const char *name;
    snitch_err *e;
    int depth;
    /* position cursor: byte offset `at` is at line:col */
    size_t at;
    unsigned line, col;
} parser;

static void locate(parser *p, size_t off, unsigned *line, unsigned *col)
{
    if (off < p->at) {
        p->at = 0;
        p->line = p->col = 1;
    }
    for (; p->at < off && p->at < p->n; p->at++) {
        unsigned char b = p->s[p->at];
        if (b == '\n') {
            p->line++;
            p->col = 1;
        } else if ((b & 0xC0) != 0x80) {
            p->col++;           /* a UTF-8 continuation byte is no new character */
        }
    }
    *line = p->line;
    *col = p->col;
}

static int fail(parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser *p, size_t off, const char *fmt, ...)
{
    char msg[SNITCH_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line, col;
    locate(p, off, &line, &col);
    return err_set(p->e, "%s:%u:%u: %s", p->name, line, col, msg);
}

/* What stands at off, for "found ..." in messages. */
static const char *found(const parser *p, size_t off, char buf[32])
{
    if (off >= p->n)
        return "the end of the input";
    unsigned char c = p->s[off];
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 32, "'%c'", c);
    else
        snprintf(buf, 32, "byte 0x%02x", c);
    return buf;
}

/* A name from the input, shortened and with unprintable bytes as '?',
 * for messages. */
static const char *show_key(const char *k, size_t len, char buf[48])
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < 40; i++) {
        unsigned char c = (unsigned char)k[i];
        buf[o++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
    }
    if (o < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = 0;
    return buf;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static void free_inner(json_value *v)
{
    switch (v->type) {
    case JSON_STRING:
        free(v->u.string.s);
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->u.array.n; i++)
            free_inner(&v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->u.object.n; i++) {
            free(v->u.object.members[i].key);
            free_inner(&v->u.object.members[i].value);
        }
        free(v->u.object.members);
        break;
    default:
        break;
    }
    v->type = JSON_NULL;
}

void json_value_free(json_value *v)
{
    if (!v)
        return;
    free_inner(v);
    free(v);
}

static int parse_value(parser *p, json_value *v);

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The string starting at p->pos (on its opening quote) into a new buffer.
 * Decoded text is never longer than its source, so one allocation of the
 * source's length suffices. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    size_t open = p->pos, i = open + 1, end = i;
    while (end < p->n && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n)
        return fail(p, open, "unterminated string");
    char *buf = malloc(end - i + 1);
    if (!buf)
        return fail(p, open, "out of memory");
    size_t o = 0;
    while (i < end) {
        unsigned char c = p->s[i];
        if (c < 0x20) {
            fail(p, i, "control character (byte 0x%02x) in a string: it must be escaped", c);
            goto bad;
        }
        if (c >= 0x80) {
            size_t l = utf8_seq_len(p->s + i, end - i, NULL);
            if (!l) {
                fail(p, i, "invalid UTF-8 (byte 0x%02x) in a string", c);
                goto bad;
            }
            memcpy(buf + o, p->s + i, l);
            o += l;
            i += l;
            continue;
        }
        if (c != '\\') {
            buf[o++] = (char)c;
            i++;
            continue;
        }
        unsigned char x = p->s[i + 1];     /* i + 1 < end: the scan above */
        switch (x) {
        case '"': buf[o++] = '"'; break;
        case '\\': buf[o++] = '\\'; break;
        case '/': buf[o++] = '/'; break;
        case 'b': buf[o++] = '\b'; break;
        case 'f': buf[o++] = '\f'; break;
        case 'n': buf[o++] = '\n'; break;
        case 'r': buf[o++] = '\r'; break;
        case 't': buf[o++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (end - i < 6 || hex4(p->s + i + 2, &cp) < 0) {
                fail(p, i, "expected four hex digits after \\u");
                goto bad;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(p, i, "unpaired UTF-16 surrogate \\u%04X (a low surrogate must follow a high one)", cp);
                goto bad;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - i < 12 || p->s[i + 6] != '\\' || p->s[i + 7] != 'u' ||
                    hex4(p->s + i + 8, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    fail(p, i, "unpaired UTF-16 surrogate \\u%04X (no low surrogate after it)", cp);
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += put_utf8(buf + o, cp);
            i += 6;
            continue;
        }
        default:
            if (x >= 0x20 && x < 0x7f)
                fail(p, i, "invalid escape '\\%c' in a string", x);
            else
                fail(p, i, "invalid escape (backslash, byte 0x%02x) in a string", x);
            goto bad;
        }
        i += 2;
    }
    buf[o] = 0;
    *out = buf;
    *out_len = o;
    p->pos = end + 1;
    return 0;
bad:
    free(buf);
    return -1;
}

static int is_digit(const parser *p, size_t i)
{
    return i < p->n && p->s[i] >= '0' && p->s[i] <= '9';
}

static int parse_number(parser *p, json_value *v)
{
    char fb[32];
    size_t start = p->pos, i = start;
    if (p->s[i] == '-')
        i++;
    if (!is_digit(p, i))
        return fail(p, i, "expected a digit after '-', found %s", found(p, i, fb));
    if (p->s[i] == '0') {
        i++;
        if (is_digit(p, i))
            return fail(p, start, "leading zero in a number");
    } else {
        while (is_digit(p, i))
            i++;
    }
    if (i < p->n && p->s[i] == '.') {
        i++;
        if (!is_digit(p, i))
            return fail(p, i, "expected a digit after the decimal point, found %s", found(p, i, fb));
        while (is_digit(p, i))
            i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (!is_digit(p, i))
            return fail(p, i, "expected a digit in the exponent, found %s", found(p, i, fb));
        while (is_digit(p, i))
            i++;
    }
    /* strtod needs a NUL-terminated copy; most numbers fit the stack. */
    size_t len = i - start;
    char small[64], *num = len < sizeof small ? small : malloc(len + 1);
    if (!num)
        return fail(p, start, "out of memory");
    memcpy(num, p->s + start, len);
    num[len] = 0;
    errno = 0;
    double d = strtod(num, NULL);
    if (num != small)
        free(num);
    if (isinf(d))
        return fail(p, start, "number out of range (larger than a double holds)");
    v->type = JSON_NUMBER;
    v->u.number = d;
    p->pos = i;
    return 0;
}

static int literal(parser *p, const char *word)
{
    size_t l = strlen(word);
    return p->n - p->pos >= l && !memcmp(p->s + p->pos, word, l);
}

static int cmp_member(const void *a, const void *b)
{
    const json_member *x = *(const json_member *const *)a, *y = *(const json_member *const *)b;
    size_t l = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, l);
    if (c)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return x < y ? -1 : x > y;      /* equal keys: file order */
}

/* A repeated name makes "which one counts" a guess: refuse it, naming the
 * later occurrence and where the first one is.  Sorting member pointers
 * keeps this O(n log n) for objects with very many members. */
static int check_duplicates(parser *p, const json_value *v)
{
    size_t n = v->u.object.n;
    if (n < 2)
        return 0;
    json_member *m = v->u.object.members;
    const json_member **idx = malloc(n * sizeof *idx);
    if (!idx)
        return fail(p, p->pos, "out of memory");
    for (size_t i = 0; i < n; i++)
        idx[i] = &m[i];
    qsort(idx, n, sizeof *idx, cmp_member);
    const json_member *first = NULL, *dup = NULL;
    for (size_t i = 1; i < n; i++) {
        if (idx[i]->key_len == idx[i - 1]->key_len &&
            !memcmp(idx[i]->key, idx[i - 1]->key, idx[i]->key_len)) {
            /* report the repeat that comes first in the file */
            if (!dup || idx[i] < dup) {
                dup = idx[i];
                first = idx[i - 1];
            }
        }
    }
    free(idx);
    if (!dup)
        return 0;
    char kb[48];
    err_set(p->e, "%s:%u:%u: repeated member name \"%s\" (first at %u:%u)", p->name, dup->line,
            dup->col, show_key(dup->key, dup->key_len, kb), first->line, first->col);
    return -1;
}

static int parse_object(parser *p, json_value *v)
{
    char fb[32];
    size_t cap = 0;
    v->type = JSON_OBJECT;
    v->u.object.members = NULL;
    v->u.object.n = 0;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->n || p->s[p->pos] != '"') {
            if (p->pos < p->n && p->s[p->pos] == '}')
                return fail(p, p->pos, "trailing comma before '}'");
            return fail(p, p->pos, "expected a member name (a string in double quotes), found %s",
                        found(p, p->pos, fb));
        }
        json_member m;
        memset(&m, 0, sizeof m);
        locate(p, p->pos, &m.line, &m.col);
        if (parse_string(p, &m.key, &m.key_len) < 0)
            return -1;
        skip_ws(p);
        if (p->pos >= p->n || p->s[p->pos] != ':') {
            free(m.key);
            return fail(p, p->pos, "expected ':' after the member name, found %s",
                        found(p, p->pos, fb));
        }
        p->pos++;
        if (parse_value(p, &m.value) < 0) {
            free(m.key);
            free_inner(&m.value);
            return -1;
        }
        if (array_grow((void **)&v->u.object.members, &cap, v->u.object.n + 1,
                       sizeof *v->u.object.members) < 0) {
            free(m.key);
            free_inner(&m.value);
            return fail(p, p->pos, "out of memory");
        }
        v->u.object.members[v->u.object.n++] = m;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == '}') {
            p->pos++;
            return check_duplicates(p, v);
        }
        return fail(p, p->pos, "expected ',' or '}' after an object member, found %s",
                    found(p, p->pos, fb));
    }
}

static int parse_array(parser *p, json_value *v)
{
    char fb[32];
    size_t cap = 0;
    v->type = JSON_ARRAY;
    v->u.array.items = NULL;
    v->u.array.n = 0;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ']' && v->u.array.n > 0)
            return fail(p, p->pos, "trailing comma before ']'");
        json_value item;
        if (parse_value(p, &item) < 0) {
            free_inner(&item);
            return -1;
        }
        if (array_grow((void **)&v->u.array.items, &cap, v->u.array.n + 1,
                       sizeof *v->u.array.items) < 0) {
            free_inner(&item);
            return fail(p, p->pos, "out of memory");
        }
        v->u.array.items[v->u.array.n++] = item;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == ']') {
            p->pos++;
            return 0;
        }
        return fail(p, p->pos, "expected ',' or ']' after an array element, found %s",
                    found(p, p->pos, fb));
    }
}

static int parse_value(parser *p, json_value *v)
{
    char fb[32];
    memset(v, 0, sizeof *v);
    v->type = JSON_NULL;
    skip_ws(p);
    locate(p, p->pos, &v->line, &v->col);
    if (p->pos >= p->n)
        return fail(p, p->pos, "expected a value, found the end of the input");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[': {
        if (p->depth >= JSON_READ_MAX_DEPTH)
            return fail(p, p->pos, "nesting deeper than %d levels", JSON_READ_MAX_DEPTH);
        p->depth++;
        int r = c == '{' ? parse_object(p, v) : parse_array(p, v);
        p->depth--;
        return r;
    }
    case '"': {
        char *s;
        size_t len;
        if (parse_string(p, &s, &len) < 0)
            return -1;
        v->type = JSON_STRING;
        v->u.string.s = s;
        v->u.string.len = len;
        return 0;
    }
    case 't':
    case 'f':
    case 'n':
        if (literal(p, "true") || literal(p, "false")) {
            v->type = JSON_BOOL;
            v->u.boolean = c == 't';
            p->pos += c == 't' ? 4 : 5;
            return 0;
        }
        if (literal(p, "null")) {
            p->pos += 4;
            return 0;
        }
        return fail(p, p->pos, "invalid literal (expected true, false or null)");
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p, v);
        if (c == '\'')
            return fail(p, p->pos, "strings take double quotes, not single quotes");
        if (c == ']' || c == '}')
            return fail(p, p->pos, "expected a value, found %s", found(p, p->pos, fb));
        if (c == '/')
            return fail(p, p->pos, "comments are not allowed in JSON");
        return fail(p, p->pos, "expected a value, found %s", found(p, p->pos, fb));
    }
}

json_value *json_parse(const char *text, size_t len, const char *name, snitch_err *e)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)(text ? text : "");
    p.n = text ? len : 0;
    p.name = name ? name : "(json)";
    p.e = e;
    p.line = p.col = 1;
    if (p.n >= 3 && p.s[0] == 0xEF && p.s[1] == 0xBB && p.s[2] == 0xBF) {
        fail(&p, 0, "byte order mark at the start (JSON text has none)");
        return NULL;
    }
    skip_ws(&p);
    if (p.pos >= p.n) {
        fail(&p, p.pos, "no JSON value (the input is empty)");
        return NULL;
    }
    json_value *v = malloc(sizeof *v);
    if (!v) {
        fail(&p, 0, "out of memory");
        return NULL;
    }
    if (parse_value(&p, v) < 0) {
        json_value_free(v);
        return NULL;
    }
    skip_ws(&p);
    if (p.pos < p.n) {
        char fb[32];
        fail(&p, p.pos, "unexpected %s after the JSON value", found(&p, p.pos, fb));
        json_value_free(v);
        return NULL;
    }
    return v;
}

json_value *json_parse_file(const char *path, snitch_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (array_grow((void **)&buf, &cap, len + 65536, 1) < 0) {
            err_set(e, "%s: out of memory", path);
            goto fail;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        err_set(e, "%s: %s", path, strerror(errno ? errno : EIO));
        goto fail;
    }
    fclose(f);
    json_value *v = json_parse(buf, len, path, e);
    free(buf);
    return v;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

const json_value *json_object_get(const json_value *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT)
        return NULL;
    size_t l = strlen(key);
    for (size_t i = 0; i < v->u.object.n; i++) {
        const json_member *m = &v->u.object.members[i];
        if (m->key_len == l && !memcmp(m->key, key, l))
            return &m->value;
    }
    return NULL;
}

const char *json_type_name(json_type t)
{
    switch (t) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "a boolean";
    case JSON_NUMBER: return "a number";
    case JSON_STRING: return "a string";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    }
    return "a value";
}
