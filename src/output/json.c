/* json.c - streaming JSON writer; see json.h.
 *
 * The writer keeps one "no comma yet" flag per open container.  Nesting
 * deeper than the 64 flags it has is not written: the container that would
 * be the 65th becomes null and everything inside it is dropped (depth keeps
 * counting so the matching ends are consumed), so the output is still valid
 * JSON and first[] is never indexed out of range.  A finished top-level
 * value is followed by a newline, so reports end as text files should.
 * Write errors are left on the FILE (ferror) for the caller to check.
 *
 * Output goes through stdio's unlocked calls: a writer makes many small
 * writes (a few per value), and taking the FILE's lock for each was a
 * good part of their cost.  So no other thread may use the FILE while a
 * writer writes to it (handing it over with a mutex is fine). */
#include "json.h"

#include <inttypes.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include "output/csv.h"
#include "util/utf8.h"

#define JSON_MAX_DEPTH ((int)(sizeof ((json_writer *)0)->first / sizeof(int)))

void json_init(json_writer *w, FILE *f, int pretty)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->pretty = pretty;
}

static void newline_indent(json_writer *w, int depth)
{
    putc_unlocked('\n', w->f);
    for (int i = 0; i < depth; i++)
        fputs_unlocked("  ", w->f);
}

/* Separator and indentation before a value or a key.  Returns 0 when the
 * value must be dropped (inside a too-deep container). */
static int before_value(json_writer *w)
{
    if (w->depth > JSON_MAX_DEPTH)
        return 0;
    if (w->after_key) {
        w->after_key = 0;
        return 1;
    }
    if (w->depth > 0) {
        int *first = &w->first[w->depth - 1];
        if (!*first)
            putc_unlocked(',', w->f);
        *first = 0;
        if (w->pretty)
            newline_indent(w, w->depth);
    }
    return 1;
}

/* A value ending at the top level completes the document. */
static void after_value(json_writer *w)
{
    if (w->depth == 0)
        putc_unlocked('\n', w->f);
}

static void put_fffd(FILE *f)
{
    fputs_unlocked("\xEF\xBF\xBD", f);
}

static void put_string(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    putc_unlocked('"', f);
    while (*s) {
        /* Runs of bytes needing no escape go out in one fwrite. */
        const unsigned char *run = s;
        while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
            s++;
        if (s > run)
            fwrite_unlocked(run, 1, (size_t)(s - run), f);
        if (!*s)
            break;
        unsigned char c = *s;
        if (c >= 0x80) {
            size_t bad = 0, len = utf8_seq_len(s, SIZE_MAX, &bad);
            if (len) {
                fwrite_unlocked(s, 1, len, f);
                s += len;
            } else {
                put_fffd(f);
                s += bad;
            }
            continue;
        }
        s++;
        switch (c) {
        case '"': fputs_unlocked("\\\"", f); break;
        case '\\': fputs_unlocked("\\\\", f); break;
        case '\b': fputs_unlocked("\\b", f); break;
        case '\f': fputs_unlocked("\\f", f); break;
        case '\n': fputs_unlocked("\\n", f); break;
        case '\r': fputs_unlocked("\\r", f); break;
        case '\t': fputs_unlocked("\\t", f); break;
        default: fprintf(f, "\\u%04x", c); break;
        }
    }
    putc_unlocked('"', f);
}

static void begin(json_writer *w, char open)
{
    if (w->depth >= JSON_MAX_DEPTH) {
        /* too deep: stand in null for it (once), then drop its contents */
        if (w->depth == JSON_MAX_DEPTH && before_value(w))
            fputs_unlocked("null", w->f);
        w->depth++;
        return;
    }
    if (!before_value(w))
        return;
    putc_unlocked(open, w->f);
    w->first[w->depth++] = 1;
}

static void end(json_writer *w, char close)
{
    if (w->depth == 0)
        return;                 /* unbalanced end: nothing open to close */
    if (w->depth > JSON_MAX_DEPTH) {
        w->depth--;
        return;
    }
    if (w->after_key) {         /* a key without a value: keep it valid */
        fputs_unlocked("null", w->f);
        w->after_key = 0;
    }
    int empty = w->first[--w->depth];
    if (w->pretty && !empty)
        newline_indent(w, w->depth);
    putc_unlocked(close, w->f);
    after_value(w);
}

void json_begin_object(json_writer *w) { begin(w, '{'); }
void json_end_object(json_writer *w) { end(w, '}'); }
void json_begin_array(json_writer *w) { begin(w, '['); }
void json_end_array(json_writer *w) { end(w, ']'); }

void json_key(json_writer *w, const char *key)
{
    if (w->after_key) {         /* previous key got no value: keep it valid */
        fputs_unlocked("null", w->f);
        w->after_key = 0;
    }
    if (!before_value(w))
        return;
    put_string(w->f, key ? key : "");
    fputs_unlocked(w->pretty ? ": " : ":", w->f);
    w->after_key = 1;
}

void json_str(json_writer *w, const char *s)
{
    if (!s) {
        json_null(w);
        return;
    }
    if (!before_value(w))
        return;
    put_string(w->f, s);
    after_value(w);
}

void json_double(json_writer *w, double v)
{
    if (!isfinite(v)) {         /* JSON has no NaN or infinities */
        json_null(w);
        return;
    }
    if (!before_value(w))
        return;
    char buf[32];
    size_t n = csv_format_double(v, buf);
    fwrite_unlocked(buf, 1, n, w->f);
    after_value(w);
}

void json_i64(json_writer *w, int64_t v)
{
    if (!before_value(w))
        return;
    /* not fprintf: its format parsing was the slowest part of a verdict */
    char buf[24];
    fwrite_unlocked(buf, 1, csv_format_i64(v, buf), w->f);
    after_value(w);
}

void json_bool(json_writer *w, int v)
{
    if (!before_value(w))
        return;
    fputs_unlocked(v ? "true" : "false", w->f);
    after_value(w);
}

void json_null(json_writer *w)
{
    if (!before_value(w))
        return;
    fputs_unlocked("null", w->f);
    after_value(w);
}
