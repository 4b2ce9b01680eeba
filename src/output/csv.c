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

/* Make room for n more bytes in the buffer (flushing it if needed);
 * returns where to write, for the number formatters that write in place. */
static inline char *reserve(csv_writer *w, size_t n)
{
    if (w->len + n > CSV_BUF) {
        if (!w->err && w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
            w->err = errno ? errno : EIO;
        w->len = 0;
    }
    return w->buf + w->len;
}

/* A comma if needed, then room for a number of at most 40 bytes. */
static inline char *num_start(csv_writer *w)
{
    char *o = reserve(w, 41);
    if (w->need_comma)
        *o++ = ',';
    w->need_comma = 1;
    return o;
}

static inline void num_end(csv_writer *w, char *start, size_t n)
{
    size_t used = (size_t)(start - (w->buf + w->len)) + n;
    w->len += used;
    w->total += used;
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

size_t csv_format_i64(int64_t v, char *buf)
{
    if (v < 0) {
        buf[0] = '-';
        return 1 + fmt_u64((uint64_t)0 - (uint64_t)v, buf + 1);
    }
    return fmt_u64((uint64_t)v, buf);
}

void csv_i64(csv_writer *w, int64_t v)
{
    char *o = num_start(w);
    num_end(w, o, csv_format_i64(v, o));
}

void csv_u64(csv_writer *w, uint64_t v)
{
    char *o = num_start(w);
    num_end(w, o, fmt_u64(v, o));
}

/* Exact powers of ten: in double up to 1e22, in x87 long double (64-bit
 * mantissa) up to 1e27. */
static const double P10D[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static const long double P10L[28] = {
    1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L,
    1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
    1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};

/* Write p significant digits m (no leading zero) with decimal exponent
 * e10 (value = m * 10^(e10-p+1)) like Python's repr: fixed notation for
 * 1e-4 <= |v| < 1e16, else d.ddde-XX.  Trailing zeros are dropped. */
static size_t put_digits(char *buf, int neg, uint64_t m, int p, int e10)
{
    char d[24];
    int n = 0;
    while (p > 1 && m % 10 == 0) {
        m /= 10;
        p--;
    }
    for (int i = p - 1; i >= 0; i--) {
        d[i] = (char)('0' + m % 10);
        m /= 10;
    }
    n = p;
    size_t o = 0;
    if (neg)
        buf[o++] = '-';
    if (e10 >= -4 && e10 < 16) {
        if (e10 < 0) {
            buf[o++] = '0';
            buf[o++] = '.';
            for (int i = -1; i > e10; i--)
                buf[o++] = '0';
            for (int i = 0; i < n; i++)
                buf[o++] = d[i];
        } else {
            for (int i = 0; i <= e10; i++)
                buf[o++] = i < n ? d[i] : '0';
            if (n > e10 + 1) {
                buf[o++] = '.';
                for (int i = e10 + 1; i < n; i++)
                    buf[o++] = d[i];
            }
        }
        return o;
    }
    buf[o++] = d[0];
    if (n > 1) {
        buf[o++] = '.';
        for (int i = 1; i < n; i++)
            buf[o++] = d[i];
    }
    o += (size_t)snprintf(buf + o, 8, "e%c%02d", e10 < 0 ? '-' : '+', e10 < 0 ? -e10 : e10);
    return o;
}

/* Shortest round-trip digits for 1e-11 <= a < 1e15, without printf.
 * Scaling a by an exact power of ten in long double is accurate to 2^-64,
 * enough to round to 15, 16 or 17 digits; a candidate with m < 2^53 and
 * 10^k <= 1e22 is verified exactly by one IEEE division (correctly rounded,
 * so it equals what strtod would read).  At most one 15-digit decimal lies
 * within half an ulp of a double, so a 15-digit hit (zeros stripped) is the
 * shortest form; 17 digits always round-trip.  Returns 0 if out of range. */
static size_t fast_double(double v, char *buf)
{
    int neg = v < 0;
    double a = neg ? -v : v;
    if (!(a >= 1e-11 && a < 1e15))
        return 0;
    /* Decimal exponent from the binary one (log10(2) = 0.30103), then made
     * exact: 10^e10 <= a < 10^(e10+1), checked on the scaled value. */
    int e2;
    frexp(a, &e2);
    int e10 = (int)floor((e2 - 1) * 0.30102999566398120);
    long double sc17 = 0;
    for (int tries = 0;; tries++) {
        int k = 16 - e10;
        if (k < 0 || k > 27 || tries > 3)
            return 0;
        sc17 = (long double)a * P10L[k];
        if (sc17 < 1e16L)
            e10--;
        else if (sc17 >= 1e17L)
            e10++;
        else
            break;
    }
    for (int p = 15; p <= 17; p++) {
        int k = p - 1 - e10;
        if (k < 0 || k > 27)
            return 0;
        /* a * 10^k, from the 17-digit scaling (one more rounding in long
         * double, far below what decides the digit) */
        long double sc = p == 17 ? sc17 : p == 16 ? sc17 / 10.0L : sc17 / 100.0L;
        uint64_t m = (uint64_t)(sc + 0.5L);
        int e = e10;
        uint64_t lim = (uint64_t)P10D[p];
        if (m >= lim) {             /* rounding carried into a new digit */
            m /= 10;
            e++;
            k--;
        }
        if (p == 17)    /* 15 and 16 were checked and failed */
            return put_digits(buf, neg, m, p, e);
        if (k < 0 || k > 22 || m >= (1ull << 53))
            return 0;   /* cannot check exactly (k < 0: the carry above
                         * took k below zero): let printf decide */
        if ((double)m / P10D[k] == a)
            return put_digits(buf, neg, m, p, e);
    }
    return 0;
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
    if (fabs(v) < 1e15 && v == (double)(int64_t)v)
        return csv_format_i64((int64_t)v, buf);
    size_t n = fast_double(v, buf);
    if (n)
        return n;
    for (int prec = 15; prec <= 17; prec++) {
        n = (size_t)snprintf(buf, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            return n;
    }
    return 0; /* not reached */
}

void csv_double(csv_writer *w, double v)
{
    char *o = num_start(w);
    num_end(w, o, csv_format_double(v, o));
}

size_t csv_format_ts(int64_t ns, char *buf)
{
    int64_t s = ns / 1000000000, f = ns % 1000000000;
    if (f < 0) {                /* floor division, like Python's divmod */
        f += 1000000000;
        s -= 1;
    }
    size_t n = csv_format_i64(s, buf);
    buf[n++] = '.';
    for (int i = 8; i >= 0; i--) {
        buf[n + (size_t)i] = (char)('0' + f % 10);
        f /= 10;
    }
    return n + 9;
}

void csv_ts(csv_writer *w, int64_t ns)
{
    char *o = num_start(w);
    num_end(w, o, csv_format_ts(ns, o));
}

void csv_end_row(csv_writer *w)
{
    put(w, "\n", 1);
    w->need_comma = 0;
}
