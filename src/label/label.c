/* label.c - the labeling modes of label.h: sni, clean, domain (libpsl) and
 * rules:FILE.
 *
 * Where the contract is silent this follows the Python reference
 * (../shared/ref/ref_extract.py: clean_label, PSL, Rules, ere_to_python).
 * The domain mode uses libpsl for every suffix lookup but pre- and
 * post-processes names so that the answers equal the reference's PSL class;
 * the differences it corrects are listed at labeler_domain(). */
#include "label/label.h"

#include <errno.h>
#include <libpsl.h>
#include <locale.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* The list the reference reads; the built-in/packaged DAFSA (psl_latest) is
 * only a fallback when this file cannot be loaded.  Overridable at compile
 * time so the fallback can be exercised. */
#ifndef LABEL_PSL_FILE
#define LABEL_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"
#endif

/* Longest rule line accepted; a longer one is almost certainly not a rule
 * file (or a runaway regex), so it is an error rather than a silent cut. */
#define LABEL_LINE_MAX 65536

/* Only the rightmost labels of a name can take part in a PSL match (the
 * deepest rule has a handful of labels); libpsl counts labels in an
 * unsigned char, so very long names are cut to this many labels first. */
#define LABEL_PSL_MAX_LABELS 64

/* Stands in for bytes and labels that must not match any PSL rule (see
 * labeler_domain).  ASCII, so libpsl never tries an IDNA conversion. */
#define LABEL_PSL_PLACEHOLDER '\x01'

typedef enum label_rule_kind {
    LABEL_RULE_EXACT,
    LABEL_RULE_SUFFIX,
    LABEL_RULE_REGEX
} label_rule_kind;

typedef struct label_rule {
    label_rule_kind kind;
    char *pat;          /* exact name or suffix, ASCII lower-cased */
    size_t pat_len;
    regex_t re;         /* "^(" ERE ")$", for LABEL_RULE_REGEX */
    char *label;
} label_rule;

struct labeler {
    label_mode mode;
    psl_ctx_t *psl;         /* LABEL_DOMAIN */
    label_rule *rules;      /* LABEL_RULES */
    size_t nrules, cap;
    int has_regex;
    locale_t cloc;          /* "C", for regcomp/regexec; 0 if unused */
};

/* ---- small helpers ---- */

static char *label_memdup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Whitespace as Python's str.split()/strip() sees it in the ASCII range
 * (the reference splits rule lines that way): includes \x1c-\x1f. */
static int label_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static int label_is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII only, independent of the process locale (the SNI is lower-cased the
 * same way by the TLS parser). */
static void label_ascii_lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

/* ---- clean ---- */

void label_clean(const char *sni, size_t len, char *out)
{
    /* One pass does the reference's three steps: digits and '-' go first, so
     * a dot is compared with the last byte actually kept; a dot is kept only
     * after a kept non-dot (collapses runs, drops leading dots); a final dot
     * is dropped at the end (trailing dots). */
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = sni[i];
        if ((c >= '0' && c <= '9') || c == '-')
            continue;
        if (c == '.' && (o == 0 || out[o - 1] == '.'))
            continue;
        out[o++] = c;
    }
    if (o > 0 && out[o - 1] == '.')
        o--;
    out[o] = '\0';
}

/* ---- domain ---- */

/* Is `name` a public suffix only because its parent carries a wildcard
 * rule, or is it the base of a wildcard rule?  Asked through libpsl with a
 * placeholder label in front: "<ph>.name" is public iff "*.name" is a rule
 * (no real rule contains the placeholder).  buf has room for len + 3. */
static int label_psl_has_wildcard(const psl_ctx_t *psl, const char *name, size_t len, char *buf)
{
    buf[0] = LABEL_PSL_PLACEHOLDER;
    buf[1] = '.';
    memcpy(buf + 2, name, len);
    buf[len + 2] = '\0';
    return psl_is_public_suffix(psl, buf);
}

/* The registered domain (eTLD+1) of sni as the reference's PSL class
 * computes it, using libpsl for the lookups.  Differences corrected here:
 *  - leading/trailing dots: the reference strips them; libpsl answers
 *    "com." for "www.example.com." (file) or keeps the dot;
 *  - empty labels ("a..com"): the reference counts an empty label as a
 *    label (-> ".com"); libpsl skips a leading dot while matching;
 *  - punycode labels ("xn--..."): libpsl also matches the ACE form of IDN
 *    rules, the reference only the UTF-8 form written in the list;
 *  - a name that is exactly the base of a wildcard rule ("kobe.jp" with
 *    "*.kobe.jp"): libpsl makes it a public suffix (answer ""), the
 *    reference does not (answer from the shorter suffixes: "kobe.jp");
 *  - NUL bytes: libpsl needs a C string.
 * Empty labels, NUL bytes and the first byte of "xn--" labels are replaced
 * by a placeholder that matches no rule but still counts as a label, so
 * wildcards keep working; the answer is then mapped back to the original
 * bytes by label count. */
static char *labeler_domain(const labeler *l, const char *sni, size_t len)
{
    size_t b = 0, e = len;
    while (b < e && sni[b] == '.')
        b++;
    while (e > b && sni[e - 1] == '.')
        e--;
    if (b == e)
        return label_memdup("", 0);

    /* Keep the rightmost LABEL_PSL_MAX_LABELS labels. */
    size_t nlab = 1;
    for (size_t i = e; i > b; i--) {
        if (sni[i - 1] == '.' && ++nlab > LABEL_PSL_MAX_LABELS) {
            b = i;
            break;
        }
    }
    const char *h = sni + b;
    size_t hl = e - b;

    /* Working copy: every label at least one byte long, so at most
     * 2*hl+1 bytes; plus room for the wildcard probe. */
    size_t wcap = 2 * hl + 2;
    char *buf = malloc(2 * wcap + 3);
    if (!buf)
        return NULL;
    char *w = buf, *probe = buf + wcap;
    size_t wl = 0;
    for (size_t i = 0; i <= hl; ) {
        size_t j = i;
        while (j < hl && h[j] != '.')
            j++;
        if (j == i) {
            w[wl++] = LABEL_PSL_PLACEHOLDER;
        } else {
            size_t start = wl;
            for (size_t k = i; k < j; k++)
                w[wl++] = h[k] ? h[k] : LABEL_PSL_PLACEHOLDER;
            if (j - i >= 4 && memcmp(h + i, "xn--", 4) == 0)
                w[start] = LABEL_PSL_PLACEHOLDER;
        }
        if (j < hl)
            w[wl++] = '.';
        i = j + 1;
    }
    w[wl] = '\0';

    const char *r = psl_registrable_domain(l->psl, w);
    const char *dot = memchr(w, '.', wl);
    if (!r && dot) {
        /* libpsl says w itself is a public suffix.  The reference agrees
         * when w is a rule or sits under a wildcard; when w is only a
         * wildcard's base it goes on with the shorter suffixes. */
        const char *parent = dot + 1;
        size_t plen = wl - (size_t)(parent - w);
        if (!label_psl_has_wildcard(l->psl, parent, plen, probe)
            && label_psl_has_wildcard(l->psl, w, wl, probe)) {
            r = psl_registrable_domain(l->psl, parent);
            if (!r)
                r = w;
        }
    }
    if (!r) {
        free(buf);
        return label_memdup("", 0);
    }

    /* r is a suffix of w made of whole labels; take as many labels of h. */
    size_t want = 1;
    for (const char *p = r; *p; p++)
        if (*p == '.')
            want++;
    size_t pos = hl;
    while (pos > 0) {
        if (h[pos - 1] == '.' && --want == 0)
            break;
        pos--;
    }
    free(buf);
    return label_memdup(h + pos, hl - pos);
}

/* ---- rules: ERE checks ---- */

static const char *const label_ere_classes[] = {
    "alpha", "digit", "alnum", "upper", "lower", "space", "blank", "punct",
    "xdigit", "cntrl", "print", "graph"
};

/* Length of a valid interval "{m}", "{m,}", "{m,n}" or "{,n}" at s, or 0. */
static size_t label_interval_len(const char *s, size_t n)
{
    size_t i = 1, digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < n && s[i] == ',') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }
    return (digits > 0 && i < n && s[i] == '}') ? i + 1 : 0;
}

/* Reject what POSIX leaves undefined and glibc and the reference's Python
 * translation read differently, before regcomp sees the ERE.  Same scan and
 * messages as the reference's ere_to_python, plus:
 *  - backslash before a non-ASCII byte (the reference rejects it before a
 *    non-ASCII letter) or before < > ` ' (GNU word/buffer anchors in glibc,
 *    literal characters in the reference);
 *  - stacked repetition ("a**", "a+?", "a{2}*"): undefined in POSIX; Python
 *    rejects some and reads others as lazy or possessive;
 *  - an unmatched ')': Python rejects it, and it would break the "^(...)$"
 *    wrapping used for the full match.
 * Returns NULL or a reason written into why (cap bytes). */
static const char *label_ere_check(const char *ere, size_t n, char *why, size_t cap)
{
    size_t i = 0, depth = 0;
    int after_rep = 0;
    while (i < n) {
        unsigned char c = (unsigned char)ere[i];
        if (c == '\\') {
            if (i + 1 >= n)
                return "trailing backslash";
            unsigned char d = (unsigned char)ere[i + 1];
            if (label_is_alnum(d) || d == '<' || d == '>' || d == '`' || d == '\'') {
                snprintf(why, cap, "\\%c is not POSIX ERE", d);
                return why;
            }
            if (d >= 0x80)
                return "backslash before a non-ASCII byte is not POSIX ERE";
            i += 2;
            after_rep = 0;
        } else if (c == '(') {
            if (i + 1 < n && ere[i + 1] == '?')
                return "'(?' is not POSIX ERE";
            depth++;
            i++;
            after_rep = 0;
        } else if (c == ')') {
            if (depth == 0)
                return "unmatched ')'";
            depth--;
            i++;
            after_rep = 0;
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < n && ere[j] == '^')
                j++;
            int first = 1;
            for (;;) {
                if (j >= n)
                    return "unterminated bracket expression";
                char d = ere[j];
                if (d == ']' && !first) {
                    j++;
                    break;
                }
                first = 0;
                if (d == '[' && j + 1 < n
                    && (ere[j + 1] == ':' || ere[j + 1] == '=' || ere[j + 1] == '.')) {
                    char kind = ere[j + 1];
                    size_t k = j + 2;
                    while (k + 1 < n && !(ere[k] == kind && ere[k + 1] == ']'))
                        k++;
                    if (k + 1 >= n) {
                        snprintf(why, cap, "unterminated [%c", kind);
                        return why;
                    }
                    const char *name = ere + j + 2;
                    size_t nlen = k - (j + 2);
                    int known = 0;
                    for (size_t m = 0; kind == ':' && m < sizeof label_ere_classes / sizeof *label_ere_classes; m++)
                        if (strlen(label_ere_classes[m]) == nlen
                            && memcmp(label_ere_classes[m], name, nlen) == 0)
                            known = 1;
                    if (!known) {
                        snprintf(why, cap, "unsupported [%c%.*s%c]", kind,
                                 (int)(nlen > 40 ? 40 : nlen), name, kind);
                        return why;
                    }
                    j = k + 2;
                } else {
                    j++;
                }
            }
            i = j;
            after_rep = 0;
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            size_t m = c == '{' ? label_interval_len(ere + i, n - i) : 1;
            if (m == 0) {
                /* Not an interval: regcomp decides (glibc rejects it). */
                i++;
                after_rep = 0;
                continue;
            }
            if (after_rep) {
                snprintf(why, cap, "'%.*s' after a repetition operator is not portable",
                         (int)m, ere + i);
                return why;
            }
            after_rep = 1;
            i += m;
        } else {
            i++;
            after_rep = 0;
        }
    }
    return NULL;
}

/* regcomp in the C locale, whatever the process locale is: the SNI is
 * matched byte by byte.  uselocale is per thread, so this changes no
 * shared state. */
static int label_regcomp(locale_t cloc, regex_t *re, const char *pat)
{
    locale_t old = uselocale(cloc);
    int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
    uselocale(old);
    return rc;
}

/* ---- rules: loading ---- */

/* Reads one line into buf (cap bytes); a line ends at "\n", "\r\n" or "\r"
 * (the reference opens the file in Python's universal-newline mode).
 * Returns 1 with *len set, 0 at end of file, -1 on a read error, -2 when the
 * line is longer than cap. */
static int label_read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    int c, any = 0;
    while ((c = getc(f)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (c == '\r') {
            int d = getc(f);
            if (d != '\n' && d != EOF)
                ungetc(d, f);
            break;
        }
        if (n == cap)
            return -2;
        buf[n++] = (char)c;
    }
    if (c == EOF && ferror(f))
        return -1;
    *len = n;
    return any ? 1 : 0;
}

/* Shows at most this much of a pattern in an error message. */
#define LABEL_SHOW 80

static int label_add_rule(labeler *l, const char *path, long ln,
                          char *line, size_t n, snitch_err *e)
{
    /* The reference drops everything from the first '#', then strips. */
    char *hash = memchr(line, '#', n);
    if (hash)
        n = (size_t)(hash - line);
    if (memchr(line, '\0', n))
        return err_set(e, "%s:%ld: NUL byte in rule", path, ln);

    const char *f[3];
    size_t flen[3];
    int nf = 0;
    for (size_t i = 0; i < n; ) {
        while (i < n && label_is_space((unsigned char)line[i]))
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && !label_is_space((unsigned char)line[i]))
            i++;
        if (nf < 3) {
            f[nf] = line + s;
            flen[nf] = i - s;
        }
        nf++;
    }
    if (nf == 0)
        return 0;
    if (nf != 2)
        return err_set(e, "%s:%ld: expected \"PATTERN LABEL\", got %d fields", path, ln, nf);

    const char *pat = f[0];
    size_t plen = flen[0];
    int show = (int)(plen > LABEL_SHOW ? LABEL_SHOW : plen);
    const char *more = plen > LABEL_SHOW ? "..." : "";

    if (array_grow((void **)&l->rules, &l->cap, l->nrules + 1, sizeof *l->rules) < 0)
        return err_set(e, "%s:%ld: out of memory", path, ln);
    label_rule *r = &l->rules[l->nrules];
    memset(r, 0, sizeof *r);

    if (pat[0] == '~') {
        if (plen == 1)
            return err_set(e, "%s:%ld: empty regular expression", path, ln);
        const char *ere = pat + 1;
        size_t elen = plen - 1;
        char why[128];
        const char *bad = label_ere_check(ere, elen, why, sizeof why);
        if (bad)
            return err_set(e, "%s:%ld: bad regular expression '%.*s%s': %s",
                           path, ln, show - 1, ere, more, bad);
        if (!l->cloc) {
            l->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
            if (!l->cloc)
                return err_set(e, "%s:%ld: cannot create the C locale: %s",
                               path, ln, strerror(errno));
        }
        /* Compile the ERE alone first, for the syntax check: wrapped in
         * "^(...)$" a stray ')' or '|' could change its meaning silently
         * instead of failing. */
        char *src = malloc(elen + 5);
        if (!src)
            return err_set(e, "%s:%ld: out of memory", path, ln);
        memcpy(src + 2, ere, elen);
        src[elen + 2] = '\0';
        regex_t tmp;
        int rc = label_regcomp(l->cloc, &tmp, src + 2);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &tmp, msg, sizeof msg);
            free(src);
            return err_set(e, "%s:%ld: bad regular expression '%.*s%s': %s",
                           path, ln, show - 1, ere, more, msg);
        }
        regfree(&tmp);
        src[0] = '^';
        src[1] = '(';
        memcpy(src + elen + 2, ")$", 3);
        rc = label_regcomp(l->cloc, &r->re, src);
        free(src);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &r->re, msg, sizeof msg);
            return err_set(e, "%s:%ld: bad regular expression '%.*s%s': %s",
                           path, ln, show - 1, ere, more, msg);
        }
        r->kind = LABEL_RULE_REGEX;
        l->has_regex = 1;
    } else if (plen >= 2 && pat[0] == '*' && pat[1] == '.') {
        if (plen == 2 || memchr(pat + 2, '*', plen - 2))
            return err_set(e, "%s:%ld: bad suffix pattern '%.*s%s'", path, ln, show, pat, more);
        r->kind = LABEL_RULE_SUFFIX;
        r->pat_len = plen - 2;
        r->pat = label_memdup(pat + 2, r->pat_len);
    } else if (memchr(pat, '*', plen)) {
        return err_set(e, "%s:%ld: bad pattern '%.*s%s' ('*' only as a leading '*.')",
                       path, ln, show, pat, more);
    } else {
        r->kind = LABEL_RULE_EXACT;
        r->pat_len = plen;
        r->pat = label_memdup(pat, plen);
    }
    if (r->kind != LABEL_RULE_REGEX) {
        if (!r->pat)
            return err_set(e, "%s:%ld: out of memory", path, ln);
        label_ascii_lower(r->pat, r->pat_len);
    }
    r->label = label_memdup(f[1], flen[1]);
    if (!r->label) {
        if (r->kind == LABEL_RULE_REGEX)
            regfree(&r->re);
        free(r->pat);
        return err_set(e, "%s:%ld: out of memory", path, ln);
    }
    l->nrules++;
    return 0;
}

static int label_load_rules(labeler *l, const char *path, snitch_err *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, "%s: %s", path, strerror(errno));
    char *line = malloc(LABEL_LINE_MAX);
    if (!line) {
        fclose(f);
        return err_set(e, "%s: out of memory", path);
    }
    int rc = 0;
    long ln = 0;
    for (;;) {
        size_t n;
        int got = label_read_line(f, line, LABEL_LINE_MAX, &n);
        if (got == 0)
            break;
        ln++;
        if (got == -1) {
            rc = err_set(e, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (got == -2) {
            rc = err_set(e, "%s:%ld: line longer than %d bytes", path, ln, LABEL_LINE_MAX);
            break;
        }
        if ((rc = label_add_rule(l, path, ln, line, n, e)) < 0)
            break;
    }
    free(line);
    fclose(f);
    return rc;
}

/* ---- public API ---- */

labeler *labeler_new(const char *spec, snitch_err *e)
{
    if (!spec) {
        err_set(e, "no label mode given");
        return NULL;
    }
    labeler *l = calloc(1, sizeof *l);
    if (!l) {
        err_set(e, "out of memory");
        return NULL;
    }
    if (strcmp(spec, "sni") == 0) {
        l->mode = LABEL_SNI;
    } else if (strcmp(spec, "clean") == 0) {
        l->mode = LABEL_CLEAN;
    } else if (strcmp(spec, "domain") == 0) {
        l->mode = LABEL_DOMAIN;
        /* Load once: parsing the list costs a few milliseconds. */
        l->psl = psl_load_file(LABEL_PSL_FILE);
        if (!l->psl)
            l->psl = psl_latest(NULL);
        if (!l->psl) {
            err_set(e, "cannot load the Public Suffix List (%s)", LABEL_PSL_FILE);
            labeler_free(l);
            return NULL;
        }
    } else if (strncmp(spec, "rules:", 6) == 0) {
        l->mode = LABEL_RULES;
        if (spec[6] == '\0') {
            err_set(e, "label mode 'rules:' needs a FILE");
            labeler_free(l);
            return NULL;
        }
        if (label_load_rules(l, spec + 6, e) < 0) {
            labeler_free(l);
            return NULL;
        }
    } else {
        err_set(e, "unknown label mode '%.100s' (sni, clean, domain or rules:FILE)", spec);
        labeler_free(l);
        return NULL;
    }
    return l;
}

void labeler_free(labeler *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nrules; i++) {
        if (l->rules[i].kind == LABEL_RULE_REGEX)
            regfree(&l->rules[i].re);
        free(l->rules[i].pat);
        free(l->rules[i].label);
    }
    free(l->rules);
    if (l->psl)
        psl_free(l->psl);
    if (l->cloc)
        freelocale(l->cloc);
    free(l);
}

label_mode labeler_mode(const labeler *l)
{
    return l->mode;
}

static char *labeler_rules(const labeler *l, const char *sni, size_t len)
{
    /* regexec needs a C string: copy once, and only when a regex rule is
     * there.  A SNI with a NUL byte cannot be a C string: no regex rule
     * matches it (exact and suffix rules still compare all its bytes). */
    char small[256];
    char *cstr = NULL;
    int regex_ok = l->has_regex && !memchr(sni, '\0', len);
    if (regex_ok) {
        cstr = len < sizeof small ? small : malloc(len + 1);
        if (!cstr)
            return NULL;
        memcpy(cstr, sni, len);
        cstr[len] = '\0';
    }
    const char *label = "";
    for (size_t i = 0; i < l->nrules; i++) {
        const label_rule *r = &l->rules[i];
        int hit = 0;
        switch (r->kind) {
        case LABEL_RULE_EXACT:
            hit = len == r->pat_len && memcmp(sni, r->pat, len) == 0;
            break;
        case LABEL_RULE_SUFFIX:
            /* The suffix itself, or a name under it at a dot boundary. */
            hit = (len == r->pat_len && memcmp(sni, r->pat, len) == 0)
                  || (len > r->pat_len && sni[len - r->pat_len - 1] == '.'
                      && memcmp(sni + len - r->pat_len, r->pat, r->pat_len) == 0);
            break;
        case LABEL_RULE_REGEX:
            if (regex_ok) {
                locale_t old = uselocale(l->cloc);
                hit = regexec(&r->re, cstr, 0, NULL, 0) == 0;
                uselocale(old);
            }
            break;
        }
        if (hit) {
            label = r->label;
            break;
        }
    }
    if (cstr != small)
        free(cstr);
    return label_memdup(label, strlen(label));
}

char *labeler_apply(const labeler *l, const char *sni, size_t sni_len)
{
    /* No SNI, no label, in every mode. */
    if (!sni || sni_len == 0)
        return label_memdup("", 0);
    switch (l->mode) {
    case LABEL_SNI:
        return label_memdup(sni, sni_len);
    case LABEL_CLEAN: {
        char *out = malloc(sni_len + 1);
        if (out)
            label_clean(sni, sni_len, out);
        return out;
    }
    case LABEL_DOMAIN:
        return labeler_domain(l, sni, sni_len);
    case LABEL_RULES:
        return labeler_rules(l, sni, sni_len);
    }
    return label_memdup("", 0);
}
