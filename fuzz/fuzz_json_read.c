/* fuzz_json_read.c - libFuzzer target for src/output/json_read.c.
 *
 * The input is parsed as JSON.  A refusal must say where: the message
 * starts with "fuzz.json:LINE:COL: " and LINE:COL lies inside the input
 * (at most one past its last character).  An accepted document is checked:
 *  - every string and key is valid UTF-8 of its stated length, with the
 *    NUL terminator in place; every number is finite;
 *  - each object's member names are distinct;
 *  - the positions of values never go backwards in document order;
 *  - written back with the JSON writer (json.h) and parsed again, it gives
 *    the same tree (the writer cannot carry a NUL inside a string and
 *    stops at 64 levels, so such documents skip this step).
 * Any violation aborts.  Seeds: fuzz/corpus/json_read. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/json.h"
#include "output/json_read.h"

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "violated: %s\n", #c); abort(); } } while (0)

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) { i++; continue; }
        if (b >= 0xC2 && b <= 0xDF) len = 2;
        else if (b >= 0xE0 && b <= 0xEF) { len = 3; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
        else if (b >= 0xF0 && b <= 0xF4) { len = 4; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
        else return 0;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += len;
    }
    return 1;
}

typedef struct walk {
    unsigned line, col;     /* last position seen */
    int has_nul, depth, max_depth;
} walk;

static void check_pos(walk *w, unsigned line, unsigned col)
{
    REQUIRE(line >= 1 && col >= 1);
    REQUIRE(line > w->line || (line == w->line && col >= w->col));
    w->line = line;
    w->col = col;
}

static void check(const json_value *v, walk *w)
{
    check_pos(w, v->line, v->col);
    switch (v->type) {
    case JSON_NULL:
        break;
    case JSON_BOOL:
        REQUIRE(v->u.boolean == 0 || v->u.boolean == 1);
        break;
    case JSON_NUMBER:
        REQUIRE(isfinite(v->u.number));
        break;
    case JSON_STRING:
        REQUIRE(v->u.string.s[v->u.string.len] == 0);
        REQUIRE(valid_utf8((const unsigned char *)v->u.string.s, v->u.string.len));
        if (memchr(v->u.string.s, 0, v->u.string.len))
            w->has_nul = 1;
        break;
    case JSON_ARRAY:
        if (++w->depth > w->max_depth)
            w->max_depth = w->depth;
        for (size_t i = 0; i < v->u.array.n; i++)
            check(&v->u.array.items[i], w);
        w->depth--;
        break;
    case JSON_OBJECT:
        if (++w->depth > w->max_depth)
            w->max_depth = w->depth;
        for (size_t i = 0; i < v->u.object.n; i++) {
            const json_member *m = &v->u.object.members[i];
            REQUIRE(m->key[m->key_len] == 0);
            REQUIRE(valid_utf8((const unsigned char *)m->key, m->key_len));
            if (memchr(m->key, 0, m->key_len))
                w->has_nul = 1;
            check_pos(w, m->line, m->col);
            check(&m->value, w);
            /* distinct names; quadratic, so only for small objects */
            if (v->u.object.n <= 64)
                for (size_t k = 0; k < i; k++)
                    REQUIRE(v->u.object.members[k].key_len != m->key_len ||
                            memcmp(v->u.object.members[k].key, m->key, m->key_len));
        }
        w->depth--;
        break;
    }
}

static int equal(const json_value *a, const json_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case JSON_NULL: return 1;
    case JSON_BOOL: return a->u.boolean == b->u.boolean;
    case JSON_NUMBER: return a->u.number == b->u.number;
    case JSON_STRING:
        return a->u.string.len == b->u.string.len &&
               !memcmp(a->u.string.s, b->u.string.s, a->u.string.len);
    case JSON_ARRAY:
        if (a->u.array.n != b->u.array.n)
            return 0;
        for (size_t i = 0; i < a->u.array.n; i++)
            if (!equal(&a->u.array.items[i], &b->u.array.items[i]))
                return 0;
        return 1;
    case JSON_OBJECT:
        if (a->u.object.n != b->u.object.n)
            return 0;
        for (size_t i = 0; i < a->u.object.n; i++) {
            const json_member *x = &a->u.object.members[i], *y = &b->u.object.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) ||
                !equal(&x->value, &y->value))
                return 0;
        }
        return 1;
    }
    return 0;
}

static void write_value(json_writer *w, const json_value *v)
{
    switch (v->type) {
    case JSON_NULL: json_null(w); break;
    case JSON_BOOL: json_bool(w, v->u.boolean); break;
    case JSON_NUMBER: json_double(w, v->u.number); break;
    case JSON_STRING: json_str(w, v->u.string.s); break;
    case JSON_ARRAY:
        json_begin_array(w);
        for (size_t i = 0; i < v->u.array.n; i++)
            write_value(w, &v->u.array.items[i]);
        json_end_array(w);
        break;
    case JSON_OBJECT:
        json_begin_object(w);
        for (size_t i = 0; i < v->u.object.n; i++) {
            json_key(w, v->u.object.members[i].key);
            write_value(w, &v->u.object.members[i].value);
        }
        json_end_object(w);
        break;
    }
}

/* Lines and the length in characters of the longest line, for the bound
 * on positions in messages. */
static void extent(const uint8_t *d, size_t n, unsigned *lines, unsigned *maxcol)
{
    unsigned l = 1, c = 1, mc = 1;
    for (size_t i = 0; i < n; i++) {
        if (d[i] == '\n') {
            l++;
            c = 1;
        } else if ((d[i] & 0xC0) != 0x80) {
            c++;
        }
        if (c > mc)
            mc = c;
    }
    *lines = l;
    *maxcol = mc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    snitch_err e;
    e.msg[0] = 0;
    json_value *v = json_parse((const char *)data, size, "fuzz.json", &e);
    if (!v) {
        unsigned line = 0, col = 0, lines, maxcol;
        REQUIRE(sscanf(e.msg, "fuzz.json:%u:%u: ", &line, &col) == 2);
        extent(data, size, &lines, &maxcol);
        REQUIRE(line >= 1 && line <= lines && col >= 1 && col <= maxcol);
        return 0;
    }
    walk w = {0, 0, 0, 0, 0};
    check(v, &w);
    if (!w.has_nul && w.max_depth < 60) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        REQUIRE(f);
        json_writer jw;
        json_init(&jw, f, (int)(size & 1));
        write_value(&jw, v);
        REQUIRE(fclose(f) == 0);
        json_value *b = json_parse(buf, len, "again", &e);
        REQUIRE(b != NULL);
        REQUIRE(equal(v, b));
        json_value_free(b);
        free(buf);
    }
    json_value_free(v);
    return 0;
}
