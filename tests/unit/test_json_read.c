/* test_json_read.c - the strict JSON reader: every kind of value, string
 * escapes and UTF-8, numbers at the edges, every refusal with its exact
 * line:column, the depth limit, repeated names, files, and round trips
 * through the writer (json.h): what the writer writes reads back equal. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "output/json.h"
#include "output/json_read.h"

static json_value *parse(const char *s, snitch_err *e)
{
    e->msg[0] = 0;
    return json_parse(s, strlen(s), "t.json", e);
}

/* The message for a document that must be refused ("" if it parsed). */
static const char *refuse(const char *s)
{
    static snitch_err e;
    json_value *v = parse(s, &e);
    if (v) {
        json_value_free(v);
        return "";
    }
    return e.msg;
}

static void test_scalars(void)
{
    snitch_err e;
    json_value *v = parse("  true ", &e);
    CHECK(v && v->type == JSON_BOOL && v->u.boolean == 1);
    CHECK_EQ_INT(v->line, 1);
    CHECK_EQ_INT(v->col, 3);
    json_value_free(v);
    v = parse("false", &e);
    CHECK(v && v->type == JSON_BOOL && v->u.boolean == 0);
    json_value_free(v);
    v = parse("\n\r\n\tnull\n", &e);
    CHECK(v && v->type == JSON_NULL);
    CHECK_EQ_INT(v->line, 3);
    CHECK_EQ_INT(v->col, 2);        /* the tab is column 1 */
    json_value_free(v);
    v = parse("\"hi\"", &e);
    CHECK(v && v->type == JSON_STRING);
    if (v) {
        CHECK_EQ_STR(v->u.string.s, "hi");
        CHECK_EQ_INT(v->u.string.len, 2);
    }
    json_value_free(v);
}

static void test_numbers(void)
{
    static const struct {
        const char *text;
        double want;
    } ok[] = {
        {"0", 0}, {"-0", -0.0}, {"1", 1}, {"-12", -12}, {"3.25", 3.25}, {"1e3", 1000},
        {"1E+3", 1000}, {"2.5e-3", 0.0025}, {"-0.0e0", -0.0}, {"9007199254740993", 9007199254740992.0},
        {"1e-400", 0}, {"0.1", 0.1}, {"1.7976931348623157e308", 1.7976931348623157e308},
        {"123456789012345678901234567890", 1.2345678901234568e29},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        snitch_err e;
        json_value *v = parse(ok[i].text, &e);
        CHECK(v && v->type == JSON_NUMBER);
        if (v) {
            CHECK(v->u.number == ok[i].want);
            CHECK(signbit(v->u.number) == signbit(ok[i].want));
        } else {
            fprintf(stderr, "    %s: %s\n", ok[i].text, e.msg);
        }
        json_value_free(v);
    }
    CHECK_EQ_STR(refuse("01"), "t.json:1:1: leading zero in a number");
    CHECK_EQ_STR(refuse("-01"), "t.json:1:1: leading zero in a number");
    CHECK_EQ_STR(refuse("+1"), "t.json:1:1: expected a value, found '+'");
    CHECK_EQ_STR(refuse("1."), "t.json:1:3: expected a digit after the decimal point, found the end of the input");
    CHECK_EQ_STR(refuse(".5"), "t.json:1:1: expected a value, found '.'");
    CHECK_EQ_STR(refuse("-"), "t.json:1:2: expected a digit after '-', found the end of the input");
    CHECK_EQ_STR(refuse("1e"), "t.json:1:3: expected a digit in the exponent, found the end of the input");
    CHECK_EQ_STR(refuse("1e+"), "t.json:1:4: expected a digit in the exponent, found the end of the input");
    CHECK_EQ_STR(refuse("1e999"), "t.json:1:1: number out of range (larger than a double holds)");
    CHECK_EQ_STR(refuse("-1e999"), "t.json:1:1: number out of range (larger than a double holds)");
    CHECK_EQ_STR(refuse("NaN"), "t.json:1:1: expected a value, found 'N'");
    CHECK_EQ_STR(refuse("Infinity"), "t.json:1:1: expected a value, found 'I'");
    CHECK_EQ_STR(refuse("0x10"), "t.json:1:2: unexpected 'x' after the JSON value");
    CHECK_EQ_STR(refuse("1 2"), "t.json:1:3: unexpected '2' after the JSON value");
}

static void test_strings(void)
{
    snitch_err e;
    json_value *v = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", &e);
    CHECK(v && v->type == JSON_STRING);
    if (v)
        CHECK_EQ_STR(v->u.string.s, "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    json_value_free(v);
    /* \u0000 stays inside, the length tells */
    v = parse("\"x\\u0000y\"", &e);
    CHECK(v && v->u.string.len == 3 && !memcmp(v->u.string.s, "x\0y", 4));
    json_value_free(v);
    /* raw UTF-8 passes through */
    v = parse("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", &e);
    CHECK(v && !strcmp(v->u.string.s, "caf\xc3\xa9 \xf0\x9f\x98\x80"));
    json_value_free(v);
    v = parse("\"\"", &e);
    CHECK(v && v->u.string.len == 0 && v->u.string.s[0] == 0);
    json_value_free(v);

    CHECK_EQ_STR(refuse("\"abc"), "t.json:1:1: unterminated string");
    CHECK_EQ_STR(refuse("\"abc\\\""), "t.json:1:1: unterminated string");
    CHECK_EQ_STR(refuse("\"ab\\"), "t.json:1:1: unterminated string");
    CHECK_EQ_STR(refuse("\"a\tb\""), "t.json:1:3: control character (byte 0x09) in a string: it must be escaped");
    CHECK_EQ_STR(refuse("\"a\nb\""), "t.json:1:3: control character (byte 0x0a) in a string: it must be escaped");
    CHECK_EQ_STR(refuse("\"a\\x\""), "t.json:1:3: invalid escape '\\x' in a string");
    CHECK_EQ_STR(refuse("\"\\u12\""), "t.json:1:2: expected four hex digits after \\u");
    CHECK_EQ_STR(refuse("\"\\u12g4\""), "t.json:1:2: expected four hex digits after \\u");
    CHECK_EQ_STR(refuse("\"\\ud800\""), "t.json:1:2: unpaired UTF-16 surrogate \\uD800 (no low surrogate after it)");
    CHECK_EQ_STR(refuse("\"\\ud800\\u0041\""), "t.json:1:2: unpaired UTF-16 surrogate \\uD800 (no low surrogate after it)");
    CHECK_EQ_STR(refuse("\"\\udc00\""), "t.json:1:2: unpaired UTF-16 surrogate \\uDC00 (a low surrogate must follow a high one)");
    /* invalid UTF-8: stray continuation, overlong, surrogate, > U+10FFFF, cut short */
    CHECK_EQ_STR(refuse("\"a\x80\""), "t.json:1:3: invalid UTF-8 (byte 0x80) in a string");
    CHECK_EQ_STR(refuse("\"\xc0\xaf\""), "t.json:1:2: invalid UTF-8 (byte 0xc0) in a string");
    CHECK_EQ_STR(refuse("\"\xed\xa0\x80\""), "t.json:1:2: invalid UTF-8 (byte 0xed) in a string");
    CHECK_EQ_STR(refuse("\"\xf4\x90\x80\x80\""), "t.json:1:2: invalid UTF-8 (byte 0xf4) in a string");
    CHECK_EQ_STR(refuse("\"\xe2\x82\""), "t.json:1:2: invalid UTF-8 (byte 0xe2) in a string");
    CHECK_EQ_STR(refuse("'x'"), "t.json:1:1: strings take double quotes, not single quotes");
}

static void test_containers(void)
{
    snitch_err e;
    const char *doc =
        "{\n"
        "  \"models\": [ {\"id\": \"A\", \"name\": \"Ensemble\"}, {\"id\": \"B\"} ],\n"
        "  \"n\": 3,\n"
        "  \"empty_a\": [], \"empty_o\": {},\n"
        "  \"nested\": [[1, [2, [3]]], {\"x\": null}]\n"
        "}\n";
    json_value *v = parse(doc, &e);
    CHECK(v && v->type == JSON_OBJECT);
    if (!v) {
        fprintf(stderr, "    %s\n", e.msg);
        return;
    }
    CHECK_EQ_INT(v->u.object.n, 5);
    CHECK_EQ_STR(v->u.object.members[0].key, "models");
    CHECK_EQ_INT(v->u.object.members[0].line, 2);
    CHECK_EQ_INT(v->u.object.members[0].col, 3);
    const json_value *m = json_object_get(v, "models");
    CHECK(m && m->type == JSON_ARRAY && m->u.array.n == 2);
    CHECK_EQ_INT(m->line, 2);
    CHECK_EQ_INT(m->col, 13);
    if (m && m->u.array.n == 2) {
        const json_value *name = json_object_get(&m->u.array.items[0], "name");
        CHECK(name && !strcmp(name->u.string.s, "Ensemble"));
        CHECK_EQ_INT(name->line, 2);
        CHECK_EQ_INT(name->col, 35);
        CHECK(json_object_get(&m->u.array.items[1], "name") == NULL);
        CHECK_EQ_INT(m->u.array.items[1].col, 48);
    }
    const json_value *n = json_object_get(v, "n");
    CHECK(n && n->type == JSON_NUMBER && n->u.number == 3);
    CHECK(json_object_get(v, "nope") == NULL);
    CHECK(json_object_get(n, "n") == NULL);         /* not an object */
    const json_value *ea = json_object_get(v, "empty_a"), *eo = json_object_get(v, "empty_o");
    CHECK(ea && ea->type == JSON_ARRAY && ea->u.array.n == 0);
    CHECK(eo && eo->type == JSON_OBJECT && eo->u.object.n == 0);
    const json_value *ne = json_object_get(v, "nested");
    CHECK(ne && ne->u.array.n == 2 && ne->u.array.items[0].u.array.items[1].u.array.items[1]
                                          .u.array.items[0].u.number == 3);
    json_value_free(v);
}

static void test_refusals(void)
{
    CHECK_EQ_STR(refuse(""), "t.json:1:1: no JSON value (the input is empty)");
    CHECK_EQ_STR(refuse(" \n "), "t.json:2:2: no JSON value (the input is empty)");
    CHECK_EQ_STR(refuse("\xef\xbb\xbf{}"), "t.json:1:1: byte order mark at the start (JSON text has none)");
    CHECK_EQ_STR(refuse("[1,]"), "t.json:1:4: trailing comma before ']'");
    CHECK_EQ_STR(refuse("{\"a\":1,}"), "t.json:1:8: trailing comma before '}'");
    CHECK_EQ_STR(refuse("[1 2]"), "t.json:1:4: expected ',' or ']' after an array element, found '2'");
    CHECK_EQ_STR(refuse("[1"), "t.json:1:3: expected ',' or ']' after an array element, found the end of the input");
    CHECK_EQ_STR(refuse("{\"a\" 1}"), "t.json:1:6: expected ':' after the member name, found '1'");
    CHECK_EQ_STR(refuse("{a:1}"), "t.json:1:2: expected a member name (a string in double quotes), found 'a'");
    CHECK_EQ_STR(refuse("{\"a\":1 \"b\":2}"), "t.json:1:8: expected ',' or '}' after an object member, found '\"'");
    CHECK_EQ_STR(refuse("{\"a\":}"), "t.json:1:6: expected a value, found '}'");
    CHECK_EQ_STR(refuse("[,1]"), "t.json:1:2: expected a value, found ','");
    CHECK_EQ_STR(refuse("tru"), "t.json:1:1: invalid literal (expected true, false or null)");
    CHECK_EQ_STR(refuse("nul"), "t.json:1:1: invalid literal (expected true, false or null)");
    CHECK_EQ_STR(refuse("True"), "t.json:1:1: expected a value, found 'T'");
    CHECK_EQ_STR(refuse("[1] // c"), "t.json:1:5: unexpected '/' after the JSON value");
    CHECK_EQ_STR(refuse("/* c */ 1"), "t.json:1:1: comments are not allowed in JSON");
    CHECK_EQ_STR(refuse("[\x01]"), "t.json:1:2: expected a value, found byte 0x01");
    CHECK_EQ_STR(refuse("\xff"), "t.json:1:1: expected a value, found byte 0xff");
    /* columns count characters: the é before the error is one column */
    CHECK_EQ_STR(refuse("[\"\xc3\xa9\", x]"), "t.json:1:7: expected a value, found 'x'");
    /* lines count LF; CRLF files give the same columns */
    CHECK_EQ_STR(refuse("{\r\n  \"a\": 1,\r\n  \"b\": ?\r\n}"), "t.json:3:8: expected a value, found '?'");
    /* repeated names: the later one, and where the first is */
    CHECK_EQ_STR(refuse("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}"), "t.json:3:2: repeated member name \"a\" (first at 1:2)");
    CHECK_EQ_STR(refuse("[{\"x\":1},{\"y\":1,\"y\":2,\"y\":3}]"), "t.json:1:17: repeated member name \"y\" (first at 1:11)");
    /* keys that differ only after a NUL are different keys */
    CHECK_EQ_STR(refuse("{\"a\\u0000b\": 1, \"a\\u0000c\": 2, \"a\": 3}"), "");
    /* a name error deep inside reports the inner place */
    CHECK_EQ_STR(refuse("{\"cells\": [\n  {\"model\": \"B\", \"accuracy\": 0.9},\n  {\"model\": \"B\" \"accuracy\": 1}\n]}"),
                 "t.json:3:17: expected ',' or '}' after an object member, found '\"'");
}

static void test_depth(void)
{
    size_t n = JSON_READ_MAX_DEPTH;
    char *s = malloc(2 * n + 2);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = 0;
    snitch_err e;
    json_value *v = parse(s, &e);
    CHECK(v != NULL);               /* exactly the limit is fine */
    json_value_free(v);
    free(s);
    s = malloc(2 * n + 4);
    memset(s, '[', n + 1);
    memset(s + n + 1, ']', n + 1);
    s[2 * n + 2] = 0;
    v = parse(s, &e);
    CHECK(v == NULL);
    char want[128];
    snprintf(want, sizeof want, "t.json:1:%zu: nesting deeper than %d levels", n + 1, JSON_READ_MAX_DEPTH);
    CHECK_EQ_STR(e.msg, want);
    free(s);
    /* a far deeper document is refused, not a stack overflow */
    n = 1000000;
    s = malloc(n + 1);
    memset(s, '[', n);
    s[n] = 0;
    v = parse(s, &e);
    CHECK(v == NULL && strstr(e.msg, "nesting deeper"));
    free(s);
}

static void test_many(void)
{
    /* large arrays and objects: growth, and the sorted repeated-name check */
    size_t n = 20000;
    char *s = malloc(n * 24 + 16), *o = s;
    *o++ = '{';
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    *o++ = '}';
    *o = 0;
    snitch_err e;
    json_value *v = parse(s, &e);
    CHECK(v && v->type == JSON_OBJECT && v->u.object.n == n);
    const json_value *k = json_object_get(v, "k19999");
    CHECK(k && k->u.number == 19999);
    json_value_free(v);
    /* the same with one repeat at the end */
    o[-1] = ',';
    strcpy(o, "\"k7\":1}");
    v = parse(s, &e);
    CHECK(v == NULL && strstr(e.msg, "repeated member name \"k7\"") && strstr(e.msg, "first at 1:"));
    free(s);
}

static void test_file(void)
{
    char dir[] = "/tmp/test_json_read.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/r.json", dir);
    snitch_err e;
    e.msg[0] = 0;
    CHECK(json_parse_file(path, &e) == NULL);
    char want[512];
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    CHECK_EQ_STR(e.msg, want);
    /* a directory */
    CHECK(json_parse_file(dir, &e) == NULL);
    snprintf(want, sizeof want, "%s: Is a directory", dir);
    CHECK_EQ_STR(e.msg, want);
    /* a file larger than one read block, cut short */
    FILE *f = fopen(path, "w");
    fputs("{\"cells\": [", f);
    for (int i = 0; i < 10000; i++)
        fprintf(f, "%s{\"model\": \"B\", \"min_flows\": %d}\n", i ? "," : "", i);
    fclose(f);
    CHECK(json_parse_file(path, &e) == NULL);
    snprintf(want, sizeof want, "%s:10001:1: expected ',' or ']' after an array element, found the end of the input", path);
    CHECK_EQ_STR(e.msg, want);
    f = fopen(path, "a");
    fputs("]}", f);
    fclose(f);
    json_value *v = json_parse_file(path, &e);
    CHECK(v != NULL);
    const json_value *c = json_object_get(v, "cells");
    CHECK(c && c->u.array.n == 10000 && c->u.array.items[9999].line == 10000);
    json_value_free(v);
    unlink(path);
    rmdir(dir);
}

/* ---- round trips through the writer ---------------------------------- */

static int equal(const json_value *a, const json_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case JSON_NULL: return 1;
    case JSON_BOOL: return a->u.boolean == b->u.boolean;
    case JSON_NUMBER:
        return a->u.number == b->u.number && signbit(a->u.number) == signbit(b->u.number);
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

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random document written by the writer (so valid by construction). */
static void random_doc(json_writer *w, int depth, int *key_id)
{
    int kind = depth > 4 ? (int)(next() % 4) : (int)(next() % 6);
    switch (kind) {
    case 0: json_null(w); break;
    case 1: json_bool(w, (int)(next() & 1)); break;
    case 2: {
        double d;
        uint64_t bits = next();
        switch (next() % 3) {
        case 0: d = (double)(int64_t)(bits % 2000001) - 1000000; break;
        case 1: memcpy(&d, &bits, sizeof d); if (!isfinite(d)) d = 1.5; break;
        default: d = (double)(bits % 1000000) / 1000.0; break;
        }
        json_double(w, d);
        break;
    }
    case 3: {
        static const char *const pieces[] = {"a", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f",
                                             "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "x.com"};
        char s[128] = "";
        int n = (int)(next() % 8);
        for (int i = 0; i < n; i++)
            strcat(s, pieces[next() % (sizeof pieces / sizeof *pieces)]);
        json_str(w, s);
        break;
    }
    case 4: {
        json_begin_array(w);
        int n = (int)(next() % 5);
        for (int i = 0; i < n; i++)
            random_doc(w, depth + 1, key_id);
        json_end_array(w);
        break;
    }
    default: {
        json_begin_object(w);
        int n = (int)(next() % 5);
        for (int i = 0; i < n; i++) {
            char k[32];
            snprintf(k, sizeof k, "k%d", (*key_id)++);
            json_key(w, k);
            random_doc(w, depth + 1, key_id);
        }
        json_end_object(w);
        break;
    }
    }
}

static void test_round_trip(void)
{
    int bad = 0;
    for (int it = 0; it < 2000; it++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        json_writer w;
        json_init(&w, f, (int)(it & 1));
        int key_id = 0;
        random_doc(&w, 0, &key_id);
        fclose(f);
        snitch_err e;
        json_value *a = json_parse(buf, len, "rt", &e);
        if (!a) {
            if (bad++ < 3)
                fprintf(stderr, "    round trip %d refused: %s\n%s\n", it, e.msg, buf);
            free(buf);
            continue;
        }
        /* write what was read, read it again: the same tree */
        char *buf2 = NULL;
        size_t len2 = 0;
        f = open_memstream(&buf2, &len2);
        json_init(&w, f, 0);
        write_value(&w, a);
        fclose(f);
        json_value *b = json_parse(buf2, len2, "rt2", &e);
        if (!b || !equal(a, b))
            bad++;
        json_value_free(a);
        json_value_free(b);
        free(buf);
        free(buf2);
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_type_names(void)
{
    CHECK_EQ_STR(json_type_name(JSON_NUMBER), "a number");
    CHECK_EQ_STR(json_type_name(JSON_OBJECT), "an object");
    CHECK_EQ_STR(json_type_name(JSON_NULL), "null");
    json_value_free(NULL);          /* harmless */
    snitch_err e;
    json_value *v = json_parse(NULL, 0, NULL, &e);
    CHECK(v == NULL);
    CHECK_EQ_STR(e.msg, "(json):1:1: no JSON value (the input is empty)");
    /* text need not be NUL-terminated: only len bytes are read */
    v = json_parse("[1]]]]", 3, "t", &e);
    CHECK(v && v->type == JSON_ARRAY && v->u.array.n == 1);
    json_value_free(v);
    v = json_parse("123", 2, "t", &e);
    CHECK(v && v->u.number == 12);
    json_value_free(v);
}

int main(void)
{
    RUN(test_scalars);
    RUN(test_numbers);
    RUN(test_strings);
    RUN(test_containers);
    RUN(test_refusals);
    RUN(test_depth);
    RUN(test_many);
    RUN(test_file);
    RUN(test_round_trip);
    RUN(test_type_names);
    return check_summary();
}
