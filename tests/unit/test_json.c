/* test_json.c - the streaming JSON writer: exact compact and pretty
 * layout, string escaping and UTF-8 repair, numbers, the depth limit, and
 * (when /usr/bin/python3 is there) that Python's json module reads the
 * documents back to the same values, doubles bit for bit. */
#include "check.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "output/json.h"

#define PYTHON "/usr/bin/python3"

static char *render(void (*fill)(json_writer *), int pretty)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_writer w;
    json_init(&w, f, pretty);
    fill(&w);
    fclose(f);
    return buf;
}

static void fill_doc(json_writer *w)
{
    json_begin_object(w);
    json_key(w, "name");
    json_str(w, "cv");
    json_key(w, "folds");
    json_i64(w, 10);
    json_key(w, "scores");
    json_begin_array(w);
    json_double(w, 0.1);
    json_double(w, 2.0);
    json_double(w, -1.5e-7);
    json_end_array(w);
    json_key(w, "empty_a");
    json_begin_array(w);
    json_end_array(w);
    json_key(w, "empty_o");
    json_begin_object(w);
    json_end_object(w);
    json_key(w, "nested");
    json_begin_object(w);
    json_key(w, "ok");
    json_bool(w, 1);
    json_key(w, "no");
    json_bool(w, 0);
    json_key(w, "nothing");
    json_null(w);
    json_end_object(w);
    json_end_object(w);
}

static void test_compact(void)
{
    char *s = render(fill_doc, 0);
    CHECK_EQ_STR(s, "{\"name\":\"cv\",\"folds\":10,\"scores\":[0.1,2,-1.5e-07],"
                    "\"empty_a\":[],\"empty_o\":{},"
                    "\"nested\":{\"ok\":true,\"no\":false,\"nothing\":null}}\n");
    free(s);
}

static void test_pretty(void)
{
    char *s = render(fill_doc, 1);
    CHECK_EQ_STR(s, "{\n"
                    "  \"name\": \"cv\",\n"
                    "  \"folds\": 10,\n"
                    "  \"scores\": [\n"
                    "    0.1,\n"
                    "    2,\n"
                    "    -1.5e-07\n"
                    "  ],\n"
                    "  \"empty_a\": [],\n"
                    "  \"empty_o\": {},\n"
                    "  \"nested\": {\n"
                    "    \"ok\": true,\n"
                    "    \"no\": false,\n"
                    "    \"nothing\": null\n"
                    "  }\n"
                    "}\n");
    free(s);
}

static void fill_numbers(json_writer *w)
{
    json_begin_array(w);
    json_double(w, NAN);
    json_double(w, INFINITY);
    json_double(w, -INFINITY);
    json_double(w, -0.0);
    json_double(w, 1e300);
    json_double(w, 123456789.0);
    json_double(w, 1.0 / 3.0);
    json_i64(w, INT64_MIN);
    json_i64(w, INT64_MAX);
    json_end_array(w);
}

static void test_numbers(void)
{
    char *s = render(fill_numbers, 0);
    CHECK_EQ_STR(s, "[null,null,null,0,1e+300,123456789,0.3333333333333333,"
                    "-9223372036854775808,9223372036854775807]\n");
    free(s);
}

static void fill_strings(json_writer *w)
{
    json_begin_array(w);
    json_str(w, "quote\" backslash\\ slash/");
    json_str(w, "\b\f\n\r\t\x01\x1f\x7f");
    json_str(w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");     /* valid: passed through */
    json_str(w, "a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe2\x82" "e\xf0\x9f\x98");
    json_str(w, "\xc3");        /* truncated at the end of the string */
    json_str(w, "");
    json_str(w, NULL);
    json_end_array(w);
}

static void test_strings(void)
{
    char *s = render(fill_strings, 0);
    CHECK_EQ_STR(s, "[\"quote\\\" backslash\\\\ slash/\","
                    "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\","
                    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
                    /* maximal-subpart replacement: FF | C0 | AF | ED | A0 | 80 |
                     * E2 82 | F0 9F 98 each become one U+FFFD */
                    "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
                    "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                    "d\xef\xbf\xbd" "e\xef\xbf\xbd\","
                    "\"\xef\xbf\xbd\",\"\",null]\n");
    free(s);
}

static void fill_keys_misuse(json_writer *w)
{
    json_begin_object(w);
    json_key(w, "a\"b");
    json_key(w, "dangling");        /* "a\"b" got no value */
    json_end_object(w);             /* nor did this one */
    json_end_object(w);             /* unbalanced: ignored */
}

static void test_keys(void)
{
    char *s = render(fill_keys_misuse, 0);
    CHECK_EQ_STR(s, "{\"a\\\"b\":null,\"dangling\":null}\n");
    free(s);
}

enum { DEEP = 100 };

static void fill_deep_only(json_writer *w)
{
    for (int i = 0; i < DEEP; i++) {
        json_begin_array(w);
        json_i64(w, i);
        if (i % 2) {
            json_begin_object(w);
            json_key(w, "k");
            json_str(w, "v");
            json_end_object(w);
        }
    }
    for (int i = 0; i < DEEP; i++)
        json_end_array(w);
}

static void fill_deep(json_writer *w)
{
    fill_deep_only(w);
    json_begin_object(w);           /* the writer is usable afterwards */
    json_end_object(w);
}

static void test_depth_limit(void)
{
    /* 64 arrays are written; the 65th becomes null, the rest is dropped */
    char *s = render(fill_deep, 0);
    char *want = malloc(4096);
    size_t o = 0;
    for (int i = 0; i < 64; i++) {
        o += (size_t)sprintf(want + o, "%s[%d", i ? "," : "", i);
        if (i % 2 && i < 63)
            o += (size_t)sprintf(want + o, ",{\"k\":\"v\"}");
        else if (i == 63)
            o += (size_t)sprintf(want + o, ",null");    /* its object at depth 65 */
    }
    o += (size_t)sprintf(want + o, ",null");            /* the 65th array */
    for (int i = 0; i < 64; i++)
        want[o++] = ']';
    strcpy(want + o, "\n{}\n");
    CHECK_EQ_STR(s, want);
    free(want);
    free(s);
}

/* --- Python round trip ---------------------------------------------- */

static uint64_t xs_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random doubles (any bit pattern, NaN and inf included) with their bits,
 * and strings of random bytes with their hex, for the checker script. */
static void write_roundtrip_doc(FILE *f, int pretty)
{
    json_writer w;
    json_init(&w, f, pretty);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    json_begin_object(&w);
    json_key(&w, "doubles");
    json_begin_array(&w);
    for (int i = 0; i < 2000; i++) {
        uint64_t bits = xs_next(&s);
        double d;
        if (i % 4 == 1)         /* ordinary magnitudes */
            bits = (bits & 0x800fffffffffffffull) | ((uint64_t)(1013 + i % 20) << 52);
        if (i % 4 == 2)         /* short decimals such as 123.456 */
            d = (double)(bits % 2000000) / 1000.0;
        else
            memcpy(&d, &bits, sizeof d);
        static const double special[] = {NAN, INFINITY, -INFINITY, -0.0, 5e-324,
                                         2.2250738585072014e-308, 1.7976931348623157e308,
                                         1e15, 1e16, 9007199254740993.0, 0.1};
        if (i < (int)(sizeof special / sizeof special[0]))
            d = special[i];
        memcpy(&bits, &d, sizeof d);
        json_begin_array(&w);
        json_i64(&w, (int64_t)bits);
        json_double(&w, d);
        json_end_array(&w);
    }
    json_end_array(&w);
    json_key(&w, "strings");
    json_begin_array(&w);
    for (int i = 0; i < 300; i++) {
        char str[40], hex[81];
        int len = (int)(xs_next(&s) % 39);
        for (int j = 0; j < len; j++) {
            unsigned b = (unsigned)(xs_next(&s) % 255) + 1;     /* no NUL */
            if (i % 3 == 0 && b >= 0x80)    /* some strings mostly ASCII */
                b = 'a' + b % 26;
            str[j] = (char)b;
            sprintf(hex + 2 * j, "%02x", b);
        }
        str[len] = 0;
        hex[2 * len] = 0;
        json_begin_array(&w);
        json_str(&w, hex);
        json_str(&w, str);
        json_end_array(&w);
    }
    json_end_array(&w);
    json_key(&w, "misc");
    json_begin_object(&w);
    json_key(&w, "t");
    json_bool(&w, 1);
    json_key(&w, "n");
    json_null(&w);
    json_key(&w, "big");
    json_i64(&w, INT64_MIN);
    json_key(&w, "\xe2\x82\xac key\n");
    json_begin_array(&w);
    json_end_array(&w);
    json_end_object(&w);
    json_end_object(&w);
}

static const char CHECKER[] =
    "import json, math, struct, sys\n"
    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "bad = 0\n"
    "for bits, v in d['doubles']:\n"
    "    x = struct.unpack('<d', struct.pack('<q', bits))[0]\n"
    "    if math.isfinite(x):\n"
    "        ok = isinstance(v, (int, float)) and float(v) == x\n"
    "    else:\n"
    "        ok = v is None\n"
    "    bad += not ok\n"
    "for hx, s in d['strings']:\n"
    "    bad += s != bytes.fromhex(hx).decode('utf-8', 'replace')\n"
    "bad += d['misc'] != {'t': True, 'n': None, 'big': -2**63, '\\u20ac key\\n': []}\n"
    "sys.exit(1 if bad else 0)\n";

static int run_checker(const char *dir, int pretty)
{
    char doc[256], py[256], cmd[600];
    snprintf(doc, sizeof doc, "%s/doc.json", dir);
    snprintf(py, sizeof py, "%s/check.py", dir);
    FILE *f = fopen(doc, "w");
    if (!f)
        return -1;
    write_roundtrip_doc(f, pretty);
    fclose(f);
    f = fopen(py, "w");
    if (!f)
        return -1;
    fputs(CHECKER, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, PYTHON " %s %s", py, doc);
    int rc = system(cmd);
    remove(doc);
    remove(py);
    return rc;
}

/* Every fixed document above must parse too (values checked by the exact
 * strings already). */
static int run_parse_only(const char *dir, void (*fill)(json_writer *), int pretty)
{
    char doc[256], cmd[600];
    snprintf(doc, sizeof doc, "%s/fixed.json", dir);
    FILE *f = fopen(doc, "w");
    if (!f)
        return -1;
    json_writer w;
    json_init(&w, f, pretty);
    fill(&w);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import json,sys; json.load(open(sys.argv[1], encoding=\"utf-8\"))' %s",
             doc);
    int rc = system(cmd);
    remove(doc);
    return rc;
}

static void test_python_roundtrip(void)
{
    if (access(PYTHON, X_OK) != 0) {
        printf("SKIP test_python_roundtrip: %s not found\n", PYTHON);
        return;
    }
    char dir[] = "/tmp/snitch_test_json_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    CHECK_EQ_INT(run_checker(dir, 0), 0);
    CHECK_EQ_INT(run_checker(dir, 1), 0);
    CHECK_EQ_INT(run_parse_only(dir, fill_doc, 0), 0);
    CHECK_EQ_INT(run_parse_only(dir, fill_doc, 1), 0);
    CHECK_EQ_INT(run_parse_only(dir, fill_numbers, 1), 0);
    CHECK_EQ_INT(run_parse_only(dir, fill_strings, 1), 0);
    CHECK_EQ_INT(run_parse_only(dir, fill_keys_misuse, 1), 0);
    CHECK_EQ_INT(run_parse_only(dir, fill_deep_only, 1), 0);
    rmdir(dir);
}

int main(void)
{
    RUN(test_compact);
    RUN(test_pretty);
    RUN(test_numbers);
    RUN(test_strings);
    RUN(test_keys);
    RUN(test_depth_limit);
    RUN(test_python_roundtrip);
    return check_summary();
}
