/* test_csv.c - RFC 4180 quoting, exact number formatting, timestamps. */
#include "check.h"

#include <stdlib.h>

#include "output/csv.h"

static char *render(void (*fill)(csv_writer *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    csv_writer *w = csv_writer_new(f);
    fill(w);
    csv_writer_close(w);
    fclose(f);
    return buf;
}

static void fill_quoting(csv_writer *w)
{
    csv_cstr(w, "plain");
    csv_cstr(w, "a,b");
    csv_cstr(w, "say \"hi\"");
    csv_cstr(w, "two\nlines");
    csv_cstr(w, "");
    csv_end_row(w);
    csv_i64(w, -5);
    csv_end_row(w);
}

static void test_quoting(void)
{
    char *s = render(fill_quoting);
    CHECK_EQ_STR(s, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\n-5\n");
    free(s);
}

static void fill_embedded_nul(csv_writer *w)
{
    csv_str(w, "a\0b", 3);
    csv_end_row(w);
}

static void test_embedded_nul_kept(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    csv_writer *w = csv_writer_new(f);
    fill_embedded_nul(w);
    csv_writer_close(w);
    fclose(f);
    CHECK_EQ_INT(len, 4);
    CHECK(memcmp(buf, "a\0b\n", 4) == 0);
    free(buf);
}

static void test_doubles_round_trip(void)
{
    char b[32];
    size_t n;
    n = csv_format_double(0.1, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "0.1");
    n = csv_format_double(1466.6666666666667, b);
    b[n] = 0;
    CHECK(strtod(b, NULL) == 1466.6666666666667);
    n = csv_format_double(42.0, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "42");
    n = csv_format_double(-0.0, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "0");
    n = csv_format_double(1e300, b);
    b[n] = 0;
    CHECK(strtod(b, NULL) == 1e300);
    n = csv_format_double(2e-06, b);
    b[n] = 0;
    CHECK(strtod(b, NULL) == 2e-06);
    /* a pseudo-random sweep: every value reads back bit-exact */
    uint64_t x = 88172645463325252ull;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v = (double)(x >> 11) / (double)(1ull << 53) * 1e6 - 5e5;
        if (i % 3 == 0)
            v = log1p(v > 0 ? v : -v);
        n = csv_format_double(v, b);
        b[n] = 0;
        if (strtod(b, NULL) != v)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

/* The shortest form by brute force: the fewest %.Ng digits that read back. */
static int shortest_digits(double v)
{
    char b[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, NULL) == v)
            return p;
    }
    return 17;
}

static int sig_digits(const char *s)
{
    int n = 0, started = 0, zeros = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s != '0')
            started = 1;
        if (!started)
            continue;
        if (*s == '0') {
            zeros++;        /* trailing zeros of an integer part are not digits */
        } else {
            n += zeros + 1;
            zeros = 0;
        }
    }
    return n;
}

static void test_doubles_are_shortest(void)
{
    /* the kinds of values the tables hold: nanosecond intervals in
     * seconds, log1p of microseconds, means, tiny and huge magnitudes */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int bad = 0, longer = 0;
    char b[32];
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        switch (i % 5) {
        case 0: v = (double)(x >> 11) / (double)(1ull << 53) * 1e6; break;
        case 1: v = (double)(x % 100000000000ull) / 1e9; break;
        case 2: v = log1p((double)(x % 10000000) / 1e3); break;
        case 3: v = (double)(x % 100000) / (double)(1 + x % 97); break;
        default: v = ldexp((double)(x >> 11) / (double)(1ull << 53), (int)(x % 120) - 60);
        }
        if (i & 1)
            v = -v;
        size_t n = csv_format_double(v, b);
        b[n] = 0;
        if (strtod(b, NULL) != v)
            bad++;
        else if (v != floor(v) && sig_digits(b) > shortest_digits(v))
            longer++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(longer, 0);
    size_t n = csv_format_double(1e-9, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "1e-09");
    n = csv_format_double(0.0049997525, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "0.0049997525");
    n = csv_format_double(123456.5, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "123456.5");
    n = csv_format_double(-2.5e-05, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "-2.5e-05");
    /* rounding that carries into a new digit with no fraction digit left
     * (found by fuzz_json_read: an index below the power table) */
    const double carry[] = {999999999999999.9, 99999999999999.99, 9999999999999999.0,
                            -999999999999999.9, 0.9999999999999999};
    for (size_t i = 0; i < sizeof carry / sizeof *carry; i++) {
        n = csv_format_double(carry[i], b);
        b[n] = 0;
        CHECK(strtod(b, NULL) == carry[i]);
    }
}

static void test_timestamps(void)
{
    char b[32];
    size_t n = csv_format_ts(1700000000123456789LL, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "1700000000.123456789");
    n = csv_format_ts(5, b);
    b[n] = 0;
    CHECK_EQ_STR(b, "0.000000005");
    n = csv_format_ts(-1, b);   /* floor division like the reference */
    b[n] = 0;
    CHECK_EQ_STR(b, "-1.999999999");
}

static void fill_big(csv_writer *w)
{
    /* more than the internal buffer, and one field larger than it */
    static char big[100000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 20000; i++) {
        csv_u64(w, (uint64_t)i);
        csv_end_row(w);
    }
    csv_str(w, big, sizeof big);
    csv_end_row(w);
}

static void test_large_output(void)
{
    char *s = render(fill_big);
    CHECK(strncmp(s, "0\n1\n2\n", 6) == 0);
    CHECK(strstr(s, "\n19999\nxxxx") != NULL);
    CHECK_EQ_INT(strlen(s), 108890 + 100001);
    free(s);
}

static void test_write_error_reported(void)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f) {
        printf("SKIP test_write_error_reported: no /dev/full\n");
        return;
    }
    csv_writer *w = csv_writer_new(f);
    for (int i = 0; i < 100000; i++)
        csv_u64(w, 123456789);
    CHECK(csv_writer_close(w) < 0);
    fclose(f);
}

int main(void)
{
    RUN(test_quoting);
    RUN(test_embedded_nul_kept);
    RUN(test_doubles_round_trip);
    RUN(test_doubles_are_shortest);
    RUN(test_timestamps);
    RUN(test_large_output);
    RUN(test_write_error_reported);
    return check_summary();
}
