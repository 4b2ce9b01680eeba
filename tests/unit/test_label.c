/* test_label.c - unit tests for src/label: the four labeling modes, the
 * rule-file parser and its errors.
 *
 * Expected domain answers are the Python reference's (ref_extract.PSL) on
 * the Debian Public Suffix List; only long-standing ICANN entries are used so
 * list updates do not break the tests.  Rule files go to a mkdtemp dir. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "label/label.h"

static char tmpdir[256];
static int tmpcount;

/* Writes n bytes to a fresh file in tmpdir; returns its path (static
 * storage, valid until the next call). */
static const char *write_rules_n(const char *text, size_t n)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/rules%d.txt", tmpdir, tmpcount++);
    FILE *f = fopen(path, "wb");
    if (!f)
        return path;
    fwrite(text, 1, n, f);
    fclose(f);
    return path;
}

/* labeler for "rules:" + a file holding n bytes of text, or NULL (error
 * in *e). */
static labeler *rules_from_n(const char *text, size_t n, snitch_err *e)
{
    char spec[600];
    snprintf(spec, sizeof spec, "rules:%s", write_rules_n(text, n));
    return labeler_new(spec, e);
}

static labeler *rules_from(const char *text, snitch_err *e)
{
    return rules_from_n(text, strlen(text), e);
}

/* Label of a NUL-terminated SNI; the result is kept in a small ring so
 * several can appear in one CHECK. */
static const char *ap(const labeler *l, const char *sni)
{
    static char ring[8][512];
    static int k;
    char *r = labeler_apply(l, sni, strlen(sni));
    char *slot = ring[k++ % 8];
    snprintf(slot, 512, "%s", r ? r : "(null)");
    free(r);
    return slot;
}

/* The error message for a rule file of n bytes, "" when it loaded. */
static const char *rules_error_n(const char *text, size_t n)
{
    static char msg[SNITCH_ERR_MAX];
    snitch_err e = {{0}};
    labeler *l = rules_from_n(text, n, &e);
    if (l) {
        labeler_free(l);
        msg[0] = '\0';
    } else {
        snprintf(msg, sizeof msg, "%s", e.msg);
    }
    return msg;
}

static const char *rules_error(const char *text)
{
    return rules_error_n(text, strlen(text));
}

/* Does the message contain ":LINE: " and the reason text? */
static int err_has(const char *msg, int line, const char *reason)
{
    char at[32];
    snprintf(at, sizeof at, ".txt:%d: ", line);
    return strstr(msg, at) && strstr(msg, reason);
}

/* ---- spec ---- */

static void test_spec(void)
{
    snitch_err e = {{0}};
    labeler *l = labeler_new("sni", &e);
    CHECK(l && labeler_mode(l) == LABEL_SNI);
    labeler_free(l);
    l = labeler_new("clean", &e);
    CHECK(l && labeler_mode(l) == LABEL_CLEAN);
    labeler_free(l);
    l = labeler_new("domain", &e);
    CHECK(l && labeler_mode(l) == LABEL_DOMAIN);
    labeler_free(l);
    l = rules_from("a.com a\n", &e);
    CHECK(l && labeler_mode(l) == LABEL_RULES);
    labeler_free(l);

    CHECK(labeler_new("bogus", &e) == NULL);
    CHECK(strstr(e.msg, "bogus") != NULL);
    CHECK(labeler_new("rules:", &e) == NULL);
    CHECK(strstr(e.msg, "FILE") != NULL);
    CHECK(labeler_new("Domain", &e) == NULL);
    CHECK(labeler_new(NULL, &e) == NULL);
    labeler_free(NULL);
}

/* ---- no SNI, no label ---- */

static void test_empty_sni(void)
{
    snitch_err e;
    const char *specs[] = { "sni", "clean", "domain" };
    for (size_t i = 0; i < 3; i++) {
        labeler *l = labeler_new(specs[i], &e);
        CHECK(l != NULL);
        if (!l)
            continue;
        char *r = labeler_apply(l, "", 0);
        CHECK_EQ_STR(r, "");
        free(r);
        r = labeler_apply(l, "www.example.com", 0);
        CHECK_EQ_STR(r, "");
        free(r);
        labeler_free(l);
    }
    /* "~.*" matches the empty string, but there is no SNI to match. */
    labeler *l = rules_from("~.* any\n", &e);
    CHECK(l != NULL);
    if (l) {
        CHECK_EQ_STR(ap(l, ""), "");
        CHECK_EQ_STR(ap(l, "x"), "any");
        labeler_free(l);
    }
}

/* ---- sni ---- */

static void test_sni(void)
{
    snitch_err e;
    labeler *l = labeler_new("sni", &e);
    CHECK(l != NULL);
    if (!l)
        return;
    CHECK_EQ_STR(ap(l, "r3---sn-4g5e6nsz.googlevideo.com"), "r3---sn-4g5e6nsz.googlevideo.com");
    CHECK_EQ_STR(ap(l, "\xef\xbf\xbd.example"), "\xef\xbf\xbd.example");
    /* Only sni_len bytes count, even when more follow... */
    char *r = labeler_apply(l, "abcdef", 3);
    CHECK_EQ_STR(r, "abc");
    free(r);
    /* ...and an embedded NUL is copied like any byte. */
    r = labeler_apply(l, "ab\0cd", 5);
    CHECK(r && memcmp(r, "ab\0cd", 6) == 0);
    free(r);
    labeler_free(l);
}

/* ---- clean ---- */

static void test_clean(void)
{
    snitch_err e;
    labeler *l = labeler_new("clean", &e);
    CHECK(l != NULL);
    if (!l)
        return;
    /* r3---sn-4g5e6nsz: drop 3,4,5,6 and every '-': r s n g e n s z. */
    CHECK_EQ_STR(ap(l, "r3---sn-4g5e6nsz.googlevideo.com"), "rsngensz.googlevideo.com");
    CHECK_EQ_STR(ap(l, "www.youtube.com"), "www.youtube.com");
    CHECK_EQ_STR(ap(l, "a1b2.c-3.com"), "ab.c.com");
    /* A label of digits only leaves ".." behind: collapsed. */
    CHECK_EQ_STR(ap(l, "e12.1.2.akamaiedge.net"), "e.akamaiedge.net");
    CHECK_EQ_STR(ap(l, "foo..bar...baz"), "foo.bar.baz");
    /* Leading and trailing dots, also those left by removed labels. */
    CHECK_EQ_STR(ap(l, ".a."), "a");
    CHECK_EQ_STR(ap(l, "...www.example.com..."), "www.example.com");
    CHECK_EQ_STR(ap(l, "1.2.example.com.3"), "example.com");
    CHECK_EQ_STR(ap(l, "-a-.b"), "a.b");
    /* Nothing left. */
    CHECK_EQ_STR(ap(l, "123"), "");
    CHECK_EQ_STR(ap(l, "192.168.115.75"), "");
    CHECK_EQ_STR(ap(l, "..1.2.3.."), "");
    CHECK_EQ_STR(ap(l, "-.-"), "");
    CHECK_EQ_STR(ap(l, "."), "");
    /* Non-ASCII bytes are kept as they are. */
    CHECK_EQ_STR(ap(l, "caf\xc3\xa9" "1.fr"), "caf\xc3\xa9.fr");
    labeler_free(l);

    /* The bare function, with a length that stops early. */
    char out[32];
    memset(out, 'X', sizeof out);
    label_clean("a-1.b.c", 5, out);
    CHECK_EQ_STR(out, "a.b");
    label_clean("", 0, out);
    CHECK_EQ_STR(out, "");
}

/* ---- domain ---- */

static void test_domain(void)
{
    snitch_err e;
    labeler *l = labeler_new("domain", &e);
    CHECK(l != NULL);
    if (!l)
        return;
    static const char *const cases[][2] = {
        { "www.example.com", "example.com" },
        { "example.co.uk", "example.co.uk" },
        { "www.example.co.uk", "example.co.uk" },
        { "co.uk", "" },                      /* a public suffix itself */
        { "uk", "" },
        { "a.b.c.kobe.jp", "b.c.kobe.jp" },   /* *.kobe.jp */
        { "x.kobe.jp", "" },
        { "www.city.kobe.jp", "city.kobe.jp" }, /* !city.kobe.jp */
        { "city.kobe.jp", "city.kobe.jp" },
        /* Only the base of "*.kobe.jp": libpsl says public suffix, the
         * reference does not. */
        { "kobe.jp", "kobe.jp" },
        { "foo.bar.ck", "foo.bar.ck" },       /* *.ck */
        { "bar.ck", "" },
        { "www.ck", "www.ck" },               /* !www.ck */
        { "a.www.ck", "www.ck" },
        { "localhost", "" },
        { "foo.localhost", "foo.localhost" },
        { "a.b.localhost", "b.localhost" },
        { "192.168.115.75", "115.75" },       /* no IP special case */
        /* Dots: stripped at both ends; an empty label is a label. */
        { "www.example.com.", "example.com" },
        { "www.example.com..", "example.com" },
        { ".www.example.com", "example.com" },
        { "a..com", ".com" },
        { "a...com", ".com" },
        { "a..kobe.jp", "a..kobe.jp" },
        { "com.", "" },
        { "...", "" },
        /* IDN rules match in the list's UTF-8 form only, not as punycode. */
        { "foo.\xe5\x85\xac\xe5\x8f\xb8.cn", "foo.\xe5\x85\xac\xe5\x8f\xb8.cn" },
        { "bar.foo.\xe5\x85\xac\xe5\x8f\xb8.cn", "foo.\xe5\x85\xac\xe5\x8f\xb8.cn" },
        { "\xe5\x85\xac\xe5\x8f\xb8.cn", "" },
        { "xn--55qx5d.cn", "xn--55qx5d.cn" },
        { "bar.foo.xn--55qx5d.cn", "xn--55qx5d.cn" },
        { "a.b\xef\xbf\xbd.com", "b\xef\xbf\xbd.com" },
        /* Input is expected lower-cased: upper case matches no rule. */
        { "WWW.EXAMPLE.CO.UK", "CO.UK" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = ap(l, cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fprintf(stderr, "  domain(\"%s\") = \"%s\", want \"%s\"\n",
                    cases[i][0], got, cases[i][1]);
        CHECK_EQ_STR(got, cases[i][1]);
    }

    /* More labels than libpsl can count (it uses an unsigned char). */
    char big[2048] = "";
    for (int i = 0; i < 300; i++)
        strcat(big, "a.");
    strcat(big, "example.co.uk");
    CHECK_EQ_STR(ap(l, big), "example.co.uk");

    /* Embedded NUL: a byte like any other, in a label no rule matches. */
    char *r = labeler_apply(l, "a.b\0c.co.uk", 11);
    CHECK(r && memcmp(r, "b\0c.co.uk", 10) == 0);
    free(r);
    r = labeler_apply(l, "x\0y.ck", 6);       /* still under *.ck */
    CHECK_EQ_STR(r, "");
    free(r);
    labeler_free(l);
}

/* ---- rules: matching ---- */

static void test_rules_match(void)
{
    snitch_err e = {{0}};
    labeler *l = rules_from(
        "# services\n"
        "   # indented comment\n"
        "\n"
        "www.YouTube.com      youtube      # exact, compared lower-cased\n"
        "*.GoogleVideo.com    googlevideo\n"
        "*.example.com        example\n"
        "~(foo|bar)\\.test     foobar\n"
        "~[[:digit:]]+(\\.[[:digit:]]+){3}  ip\n"
        "~WWW\\.upper\\.org    upper\n"
        "~a.c                 dotany\n"
        "a.example.com        never   # shadowed by *.example.com\n"
        "\t*.a.b\tab\n"
        "~x|y                 xy\n", &e);
    CHECK(l != NULL);
    if (!l) {
        fprintf(stderr, "  %s\n", e.msg);
        return;
    }
    CHECK_EQ_STR(ap(l, "www.youtube.com"), "youtube");
    CHECK_EQ_STR(ap(l, "youtube.com"), "");
    CHECK_EQ_STR(ap(l, "m.www.youtube.com"), "");
    /* Suffix: the suffix itself and names under it, at a dot boundary. */
    CHECK_EQ_STR(ap(l, "googlevideo.com"), "googlevideo");
    CHECK_EQ_STR(ap(l, "r3---sn-4g5e6nsz.googlevideo.com"), "googlevideo");
    CHECK_EQ_STR(ap(l, "example.com"), "example");
    CHECK_EQ_STR(ap(l, "a.example.com"), "example");   /* first match wins */
    CHECK_EQ_STR(ap(l, "x.y.example.com"), "example");
    CHECK_EQ_STR(ap(l, "badexample.com"), "");
    CHECK_EQ_STR(ap(l, "example.com.evil"), "");
    CHECK_EQ_STR(ap(l, "a.b"), "ab");
    CHECK_EQ_STR(ap(l, "xa.b"), "");
    /* ERE: the whole SNI, not a part of it. */
    CHECK_EQ_STR(ap(l, "foo.test"), "foobar");
    CHECK_EQ_STR(ap(l, "bar.test"), "foobar");
    CHECK_EQ_STR(ap(l, "xfoo.test"), "");
    CHECK_EQ_STR(ap(l, "foo.testx"), "");
    CHECK_EQ_STR(ap(l, "192.168.1.1"), "ip");
    CHECK_EQ_STR(ap(l, "1.2.3"), "");
    CHECK_EQ_STR(ap(l, "abc"), "dotany");
    CHECK_EQ_STR(ap(l, "abcd"), "");
    /* "x|y" is wrapped as a whole: "^(x|y)$", not "^x|y$". */
    CHECK_EQ_STR(ap(l, "x"), "xy");
    CHECK_EQ_STR(ap(l, "y"), "xy");
    CHECK_EQ_STR(ap(l, "xz"), "");
    CHECK_EQ_STR(ap(l, "zy"), "");
    /* The ERE is used as written: no case folding. */
    CHECK_EQ_STR(ap(l, "www.upper.org"), "");
    CHECK_EQ_STR(ap(l, "nothing.here"), "");
    /* The regex runs byte-wise: '.' is one byte, not one character. */
    CHECK_EQ_STR(ap(l, "a\xc3\xa9" "c"), "");

    /* A NUL in the SNI: no regex rule can match; suffixes still do. */
    char *r = labeler_apply(l, "a\0c", 3);
    CHECK_EQ_STR(r, "");
    free(r);
    r = labeler_apply(l, "x\0y.example.com", 15);
    CHECK_EQ_STR(r, "example");
    free(r);
    /* Only sni_len bytes: "foo.testXYZ" cut to "foo.test". */
    r = labeler_apply(l, "foo.testXYZ", 8);
    CHECK_EQ_STR(r, "foobar");
    free(r);
    labeler_free(l);
}

/* The regex stays byte-wise when the program runs in a UTF-8 locale. */
static void test_rules_bytewise_locale(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8"))
        return;
    snitch_err e = {{0}};
    labeler *l = rules_from("~a.c one\n~a..c two\n~[^a]x three\n", &e);
    CHECK(l != NULL);
    if (l) {
        CHECK_EQ_STR(ap(l, "a\xc3\xa9" "c"), "two");
        CHECK_EQ_STR(ap(l, "\xc3\xa9x"), "");
        CHECK_EQ_STR(ap(l, "abc"), "one");
        labeler_free(l);
    }
    setlocale(LC_ALL, "C");
}

static void test_rules_comments_and_lines(void)
{
    snitch_err e = {{0}};
    /* '#' starts a comment anywhere (as in the reference), also right
     * after a field; CRLF and lone CR end lines too. */
    labeler *l = rules_from("a.com A#comment\r\nb.com B\rc.com C\n#x y z\nd.com D", &e);
    CHECK(l != NULL);
    if (l) {
        CHECK_EQ_STR(ap(l, "a.com"), "A");
        CHECK_EQ_STR(ap(l, "b.com"), "B");
        CHECK_EQ_STR(ap(l, "c.com"), "C");
        CHECK_EQ_STR(ap(l, "d.com"), "D");   /* no final newline */
        labeler_free(l);
    }
    /* A '#' cuts a pattern short: here the label is lost. */
    CHECK(err_has(rules_error("a.com#x A\n"), 1, "got 1 fields"));
    /* Line numbers count lone-CR lines (Python's universal newlines). */
    CHECK(err_has(rules_error("a.com A\rb.com B\rbad\n"), 3, "got 1 fields"));
    /* An empty file and a comments-only file are fine (nothing matches). */
    CHECK_EQ_STR(rules_error(""), "");
    l = rules_from("# nothing\n\n   \n", &e);
    CHECK(l != NULL);
    if (l) {
        CHECK_EQ_STR(ap(l, "a.com"), "");
        labeler_free(l);
    }
}

/* ---- rules: errors ---- */

static void test_rules_errors(void)
{
    /* Field count. */
    CHECK(err_has(rules_error("a.com x\nonly\n"), 2, "expected \"PATTERN LABEL\", got 1 fields"));
    CHECK(err_has(rules_error("\n\na b c\n"), 3, "got 3 fields"));
    /* '*' anywhere but a leading "*.". */
    CHECK(err_has(rules_error("a.com x\nfoo*.com y\n"), 2, "bad pattern 'foo*.com'"));
    CHECK(err_has(rules_error("*foo.com y\n"), 1, "bad pattern '*foo.com'"));
    CHECK(err_has(rules_error("*.a*.com y\n"), 1, "bad suffix pattern '*.a*.com'"));
    CHECK(err_has(rules_error("*.*.com y\n"), 1, "bad suffix pattern"));
    /* Empty suffix, empty ERE. */
    CHECK(err_has(rules_error("# c\n*. y\n"), 2, "bad suffix pattern '*.'"));
    CHECK(err_has(rules_error("~ y\n"), 1, "empty regular expression"));
    /* ERE that regcomp rejects. */
    CHECK(err_has(rules_error("~a( y\n"), 1, "bad regular expression 'a('"));
    CHECK(err_has(rules_error("~[z-a] y\n"), 1, "bad regular expression"));
    CHECK(err_has(rules_error("~*a y\n"), 1, "bad regular expression"));
    CHECK(err_has(rules_error("~a{x} y\n"), 1, "bad regular expression"));
    /* Non-portable constructs. */
    CHECK(err_has(rules_error("a.com x\n~\\d+ y\n"), 2, "\\d is not POSIX ERE"));
    CHECK(err_has(rules_error("~a\\w y\n"), 1, "\\w is not POSIX ERE"));
    CHECK(err_has(rules_error("~\\bx y\n"), 1, "\\b is not POSIX ERE"));
    CHECK(err_has(rules_error("~(a)\\1 y\n"), 1, "\\1 is not POSIX ERE"));
    CHECK(err_has(rules_error("~\\<a y\n"), 1, "\\< is not POSIX ERE"));
    CHECK(err_has(rules_error("~(?i)a y\n"), 1, "'(?' is not POSIX ERE"));
    CHECK(err_has(rules_error("~[[=a=]] y\n"), 1, "unsupported [=a=]"));
    CHECK(err_has(rules_error("~[[.a.]] y\n"), 1, "unsupported [.a.]"));
    CHECK(err_has(rules_error("~[[:foo:]] y\n"), 1, "unsupported [:foo:]"));
    CHECK(err_has(rules_error("~[abc y\n"), 1, "unterminated bracket expression"));
    CHECK(err_has(rules_error("~a\\ y\n"), 1, "trailing backslash"));
    CHECK(err_has(rules_error("~a) y\n"), 1, "unmatched ')'"));
    CHECK(err_has(rules_error("~a** y\n"), 1, "after a repetition operator"));
    CHECK(err_has(rules_error("~a+? y\n"), 1, "after a repetition operator"));
    CHECK(err_has(rules_error("~a{1}{2} y\n"), 1, "after a repetition operator"));
    /* ...while their portable neighbours load. */
    CHECK_EQ_STR(rules_error("~\\.\\*[\\d][]a][^]b][[:alpha:]-]x{1,2}(a*)* y\n"), "");
    /* A NUL byte in a rule line. */
    CHECK(err_has(rules_error_n("a.com x\nb\0.com y\n", 16), 2, "NUL byte"));
    /* Loading stops at the first bad line. */
    CHECK(err_has(rules_error("a b c\n~\\d y\n"), 1, "got 3 fields"));
}

static void test_rules_long_line(void)
{
    /* 65536 bytes of pattern are fine, one more is an error naming the
     * line. */
    size_t n = 65536;
    char *text = malloc(2 * n + 64);
    CHECK(text != NULL);
    if (!text)
        return;
    strcpy(text, "# long lines follow\n");
    size_t o = strlen(text);
    memset(text + o, 'a', n - 2);
    o += n - 2;
    memcpy(text + o, " x\n", 3);
    o += 3;
    CHECK_EQ_STR(rules_error_n(text, o), "");
    memset(text + o, 'b', n - 1);
    o += n - 1;
    memcpy(text + o, " y\n", 3);
    o += 3;
    CHECK(err_has(rules_error_n(text, o), 3, "longer than 65536 bytes"));
    free(text);
}

static void test_rules_unreadable(void)
{
    snitch_err e = {{0}};
    char spec[600];
    snprintf(spec, sizeof spec, "rules:%s/does-not-exist", tmpdir);
    CHECK(labeler_new(spec, &e) == NULL);
    CHECK(strstr(e.msg, "does-not-exist") != NULL);
    CHECK(strstr(e.msg, strerror(ENOENT)) != NULL);
    /* A directory opens but cannot be read. */
    snprintf(spec, sizeof spec, "rules:%s", tmpdir);
    CHECK(labeler_new(spec, &e) == NULL);
    CHECK(strstr(e.msg, tmpdir) != NULL);
    CHECK(strstr(e.msg, strerror(EISDIR)) != NULL);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_label.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_spec);
    RUN(test_empty_sni);
    RUN(test_sni);
    RUN(test_clean);
    RUN(test_domain);
    RUN(test_rules_match);
    RUN(test_rules_bytewise_locale);
    RUN(test_rules_comments_and_lines);
    RUN(test_rules_errors);
    RUN(test_rules_long_line);
    RUN(test_rules_unreadable);

    for (int i = 0; i < tmpcount; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/rules%d.txt", tmpdir, i);
        unlink(path);
    }
    rmdir(tmpdir);
    return check_summary();
}

