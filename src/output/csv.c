/* csv.c - buffered RFC 4180 writer and exact number formatting; see csv.h.
 *
 * Why not plain "%.17g": it prints 0.1 as 0.10000000000000001, which reads
 * back right but is hard on people and file sizes.  We try 15, 16 and 17
 * significant digits and keep the first that round-trips (15 almost always
 * does for data such as sizes and nanosecond intervals).  Integral values
 * take a fast integer path, which covers most cells. */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CSV_BUF (1 << 16)

struct csv_writer {
    FILE *f;
    size_t len;
    int need_comma;
    int err;
    uint64_t total;
    char buf[CSV_BUF];
};

csv_writer *csv_writer_new(FILE *f)
{
    csv_writer *w = malloc(sizeof *w);
    if (!w)
        return NULL;
    w->f = f;
    w->len = 0;
    w->need_comma = 0;
    w->err = 0;
    w->total = 0;
    return w;
}

int csv_writer_flush(csv_writer *w)
{
    if (w->len && !w->err) {
        if (fwrite(w->buf, 1, w->len, w->f) != w->len)
            w->err = errno ? errno : EIO;
    }
    w->len = 0;
    if (!w->err && fflush(w->f) != 0)
        w->err = errno ? errno : EIO;
    return w->err ? -1 : 0;
}

int csv_writer_error(const csv_writer *w)
{
    return w->err;
}

int csv_writer_close(csv_writer *w)
{
    if (!w)
        return 0;
    int r = csv_writer_flush(w);
    int e = w->err;
    free(w);
    if (r < 0)
        errno = e;
    return r;
}

static void put(csv_writer *w, const char *s, size_t n)
{
    w->total += n;
    if (w->len + n > CSV_BUF) {
        if (!w->err && w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
            w->err = errno ? errno : EIO;
        w->len = 0;
        if (n > CSV_BUF) {
            if (!w->err && fwrite(s, 1, n, w->f) != n)
                w->err = errno ? errno : EIO;
            return;
        }
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void sep(csv_writer *w)
{
    if (w->need_comma)
        put(w, ",", 1);
    w->need_comma = 1;
}

uint64_t csv_writer_offset(const csv_writer *w)
{
    return w->total;
}

void csv_raw(csv_writer *w, const char *s, size_t n)
{
    put(w, s, n);
}

void csv_str(csv_writer *w, const char *s, size_t n)
{
    sep(w);
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        put(w, s, n);
        return;
    }
    put(w, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            put(w, s + start, i + 1 - start);
            put(w, "\"", 1);
            start = i + 1;
        }
    }
    put(w, s + start, n - start);
    put(w, "\"", 1);
}

void csv_cstr(csv_writer *w, const char *s)
{
    csv_str(w, s, strlen(s));
}

static size_t fmt_u64(uint64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static size_t fmt_i64(int64_t v, char *buf)
{
    if (v < 0) {
        buf[0] = '-';
        return 1 + fmt_u64((uint64_t)0 - (uint64_t)v, buf + 1);
    }
    return fmt_u64((uint64_t)v, buf);
}

void csv_i64(csv_writer *w, int64_t v)
{
    char b[24];
    sep(w);
    put(w, b, fmt_i64(v, b));
}

void csv_u64(csv_writer *w, uint64_t v)
{
    char b[24];
    sep(w);
    put(w, b, fmt_u64(v, b));
}

size_t csv_format_double(double v, char *buf)
{
    if (v == 0.0) {             /* also -0.0: the reference prints 0 */
        buf[0] = '0';
        return 1;
    }
    if (isnan(v)) {
        memcpy(buf, "nan", 3);
        return 3;
    }
    if (isinf(v)) {
        memcpy(buf, v > 0 ? "inf" : "-inf", v > 0 ? 3 : 4);
        return v > 0 ? 3 : 4;
    }
    if (fabs(v) < 1e15 && v == floor(v))
        return fmt_i64((int64_t)v, buf);
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(buf, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            return (size_t)n;
    }
    return 0; /* not reached */
}

void csv_double(csv_writer *w, double v)
{
    char b[32];
    sep(w);
    put(w, b, csv_format_double(v, b));
}

size_t csv_format_ts(int64_t ns, char *buf)
{
    int64_t s = ns / 1000000000, f = ns % 1000000000;
    if (f < 0) {                /* floor division, like Python's divmod */
        f += 1000000000;
        s -= 1;
    }
    size_t n = fmt_i64(s, buf);
    buf[n++] = '.';
    for (int i = 8; i >= 0; i--) {
        buf[n + (size_t)i] = (char)('0' + f % 10);
        f /= 10;
    }
    return n + 9;
}

void csv_ts(csv_writer *w, int64_t ns)
{
    char b[32];
    sep(w);
    put(w, b, csv_format_ts(ns, b));
}

void csv_end_row(csv_writer *w)
{
    put(w, "\n", 1);
    w->need_comma = 0;
}
