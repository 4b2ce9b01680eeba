/* check.h - the tiny unit-test harness every tests/unit/test_*.c uses.
 *
 * Each test file is its own program: it defines test functions, lists them
 * in main() with RUN(fn), and ends with `return check_summary();`, which
 * prints "N passed, M failed" (one line) and returns non-zero on failure.
 * tests/run.sh adds the per-program lines up into the suite's final line.
 * A test counts as failed if any CHECK in it failed. */
#ifndef SNITCH_CHECK_H
#define SNITCH_CHECK_H

#include <stdio.h>
#include <string.h>
#include <math.h>

static int check_passed_, check_failed_, check_cur_failed_;
static const char *check_cur_name_;

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "  FAIL %s (%s:%d): %s\n", check_cur_name_, __FILE__, __LINE__, #cond); \
        check_cur_failed_ = 1; \
    } } while (0)

#define CHECK_EQ_INT(a, b) do { \
    long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { \
        fprintf(stderr, "  FAIL %s (%s:%d): %s == %s (%lld != %lld)\n", \
                check_cur_name_, __FILE__, __LINE__, #a, #b, a_, b_); \
        check_cur_failed_ = 1; \
    } } while (0)

#define CHECK_EQ_STR(a, b) do { \
    const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
        fprintf(stderr, "  FAIL %s (%s:%d): %s == %s (\"%s\" != \"%s\")\n", \
                check_cur_name_, __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        check_cur_failed_ = 1; \
    } } while (0)

#define CHECK_NEAR(a, b, tol) do { \
    double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) { \
        fprintf(stderr, "  FAIL %s (%s:%d): %s ~= %s (%.17g vs %.17g)\n", \
                check_cur_name_, __FILE__, __LINE__, #a, #b, a_, b_); \
        check_cur_failed_ = 1; \
    } } while (0)

#define RUN(fn) do { \
    check_cur_name_ = #fn; check_cur_failed_ = 0; \
    fn(); \
    if (check_cur_failed_) { check_failed_++; fprintf(stderr, "not ok %s\n", #fn); } \
    else { check_passed_++; } \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
