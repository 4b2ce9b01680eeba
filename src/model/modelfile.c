/* modelfile.c - the model file container and byte (de)serializers; see
 * modelfile.h and docs/model-format.md.
 *
 * A model file comes from disk and may be damaged or hostile, so nothing in
 * it is trusted before it is checked: the checksum is verified before any
 * section is walked, every length is compared with what is left of the
 * buffer by subtraction (never by adding a file-supplied u64 to an offset,
 * which could wrap), and allocations are bounded by the real input size. */
#include "modelfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/xalloc.h"

#define MF_MAGIC_LEN 8
#define MF_HASH_LEN 32
#define MF_HEADER_LEN (MF_MAGIC_LEN + 4 + 4)
#define MF_MIN_LEN (MF_HEADER_LEN + MF_HASH_LEN)
#define MF_SECHDR_LEN 12
/* A model has a handful of sections (META, FRST, ...); the bound keeps the
 * duplicate check quadratic in a small number and the section array tiny. */
#define MF_MAX_SECTIONS 64
/* Far above any real model; refusing larger files keeps a wrong path (a
 * disk image, /dev/zero) from eating the memory. */
#define MF_MAX_FILE ((uint64_t)4 << 30)

/* ---- output buffer ---- */

void mf_buf_free(mf_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void mf_put_bytes(mf_buf *b, const void *p, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (n > SIZE_MAX - b->len) {
        b->oom = 1;
        return;
    }
    size_t need = b->len + n;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len = need;
}

void mf_put_u8(mf_buf *b, uint8_t v)
{
    mf_put_bytes(b, &v, 1);
}

/* Byte by byte with shifts so the file is little-endian on any host. */
void mf_put_u32(mf_buf *b, uint32_t v)
{
    uint8_t t[4];
    for (int i = 0; i < 4; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    mf_put_bytes(b, t, sizeof t);
}

void mf_put_u64(mf_buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    mf_put_bytes(b, t, sizeof t);
}

/* Floats travel as their IEEE-754 bit patterns (memcpy, not a conversion),
 * so -0.0, NaN payloads and subnormals come back bit-identical. */
void mf_put_f32(mf_buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    mf_put_u32(b, u);
}

void mf_put_f64(mf_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    mf_put_u64(b, u);
}

void mf_put_str(mf_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT32_MAX) {
        /* cannot be represented; treat like a failed write */
        b->oom = 1;
        return;
    }
    mf_put_u32(b, (uint32_t)n);
    mf_put_bytes(b, s, n);
}

/* ---- reading cursor ---- */

/* The n bytes at the cursor, advancing past them; NULL (and bad, which
 * stays set) if fewer than n remain.  off > len cannot happen through this
 * API, but a hand-filled cursor is checked too rather than trusted. */
static int stream_fill(mf_cur *c, size_t n);

const uint8_t *mf_cur_peek(mf_cur *c, size_t n)
{
    if (c->bad || c->off > c->len || n > c->len - c->off) {
        c->bad = 1;
        return NULL;
    }
    if (!c->src)
        return c->p + c->off;
    if (c->off < c->lo || c->off > c->hi || (n > c->hi - c->off && stream_fill(c, n) < 0)) {
        c->bad = 1;
        return NULL;
    }
    return c->p + (c->off - c->lo);
}

static const uint8_t *cur_take(mf_cur *c, size_t n)
{
    const uint8_t *p = mf_cur_peek(c, n);
    if (p)
        c->off += n;
    return p;
}

uint8_t mf_get_u8(mf_cur *c)
{
    const uint8_t *p = cur_take(c, 1);
    return p ? p[0] : 0;
}

uint32_t mf_get_u32(mf_cur *c)
{
    const uint8_t *p = cur_take(c, 4);
    if (!p)
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

uint64_t mf_get_u64(mf_cur *c)
{
    const uint8_t *p = cur_take(c, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

float mf_get_f32(mf_cur *c)
{
    uint32_t u = mf_get_u32(c);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

double mf_get_f64(mf_cur *c)
{
    uint64_t u = mf_get_u64(c);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

const uint8_t *mf_get_bytes(mf_cur *c, size_t n)
{
    if (n == 0 && !c->bad && c->off <= c->len && !c->p)
        return (const uint8_t *)"";     /* zero bytes of an empty cursor */
    return cur_take(c, n);
}

char *mf_get_str(mf_cur *c, size_t max_len)
{
    /* a failed read leaves the cursor where it was, like the other getters */
    size_t start = c->off;
    uint32_t n = mf_get_u32(c);
    if (c->bad)
        return NULL;
    /* the length is checked against the data before malloc, so a hostile
     * length cannot make us allocate more than the input holds */
    const uint8_t *p = n <= max_len ? mf_get_bytes(c, n) : NULL;
    char *s = p && !memchr(p, 0, n) ? malloc((size_t)n + 1) : NULL;
    if (!s) {
        c->bad = 1;
        c->off = start;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* ---- container ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Printable ASCII (space included): tags show up in error messages and in
 * docs, so control and non-ASCII bytes are a sign of damage. */
static int tag_ok(uint32_t tag)
{
    for (int i = 0; i < 4; i++) {
        unsigned ch = (tag >> (8 * i)) & 0xff;
        if (ch < 0x20 || ch > 0x7e)
            return 0;
    }
    return 1;
}

static void tag_str(uint32_t tag, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = (char)((tag >> (8 * i)) & 0xff);
    out[4] = '\0';
}

static int sha256(const uint8_t *p, size_t n, uint8_t out[MF_HASH_LEN])
{
    unsigned olen = 0;
    if (EVP_Digest(p, n, out, &olen, EVP_sha256(), NULL) != 1 || olen != MF_HASH_LEN)
        return -1;
    return 0;
}

int mf_build(const mf_section *secs, size_t n, mf_buf *out)
{
    /* refuse to write what mf_parse would refuse to read */
    if (n > MF_MAX_SECTIONS || (n && !secs) || out->oom)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!tag_ok(secs[i].tag) || (secs[i].len && !secs[i].data))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (secs[j].tag == secs[i].tag)
                return -1;
    }
    size_t start = out->len;
    mf_put_bytes(out, MF_MAGIC, MF_MAGIC_LEN);
    mf_put_u32(out, MF_VERSION);
    mf_put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        mf_put_u32(out, secs[i].tag);
        mf_put_u64(out, (uint64_t)secs[i].len);
        mf_put_bytes(out, secs[i].data, secs[i].len);
    }
    uint8_t h[MF_HASH_LEN];
    if (out->oom || sha256(out->p + start, out->len - start, h) < 0) {
        out->len = start;
        return -1;
    }
    mf_put_bytes(out, h, sizeof h);
    if (out->oom) {
        out->len = start;
        return -1;
    }
    return 0;
}

/* Validate raw[0..len) and, on success, make out own raw (which must come
 * from malloc).  On failure raw is left to the caller. */
static int parse_owned(uint8_t *raw, size_t len, mf_file *out, snitch_err *e)
{
    memset(out, 0, sizeof *out);
    /* Magic first (as far as the file goes): a short text file is "not a
     * model file" rather than a "truncated" one. */
    size_t m = len < MF_MAGIC_LEN ? len : MF_MAGIC_LEN;
    if (memcmp(raw, MF_MAGIC, m) != 0)
        return err_set(e, "not a snitch model file (bad magic at offset 0)");
    if (len < MF_MIN_LEN)
        return err_set(e, "truncated: %zu bytes, a model file has at least %d "
                       "(header and checksum)", len, MF_MIN_LEN);
    /* The version before the checksum: a later format may checksum
     * differently, and "written by a newer snitch" is the useful message. */
    uint32_t version = rd32(raw + MF_MAGIC_LEN);
    if (version != MF_VERSION)
        return err_set(e, "model format version %" PRIu32 " (offset %d), this snitch "
                       "reads %u: the file was written by %s snitch", version,
                       MF_MAGIC_LEN, MF_VERSION, version > MF_VERSION ? "a newer" : "an older");
    size_t end = len - MF_HASH_LEN;
    uint8_t h[MF_HASH_LEN];
    if (sha256(raw, end, h) < 0)
        return err_set(e, "cannot compute SHA-256 (libcrypto failure)");
    if (memcmp(h, raw + end, MF_HASH_LEN) != 0)
        return err_set(e, "checksum mismatch (file damaged): the SHA-256 at offset %zu "
                       "does not match the %zu bytes before it", end, end);

    uint32_t nsec = rd32(raw + MF_MAGIC_LEN + 4);
    if (nsec > MF_MAX_SECTIONS)
        return err_set(e, "%" PRIu32 " sections (offset %d), at most %d allowed",
                       nsec, MF_MAGIC_LEN + 4, MF_MAX_SECTIONS);
    mf_section sec[MF_MAX_SECTIONS];
    size_t secoff[MF_MAX_SECTIONS];
    size_t off = MF_HEADER_LEN;
    for (uint32_t i = 0; i < nsec; i++) {
        if (end - off < MF_SECHDR_LEN)
            return err_set(e, "section %" PRIu32 " header at offset %zu is truncated "
                           "(%d bytes needed, %zu left before the checksum)",
                           i, off, MF_SECHDR_LEN, end - off);
        uint32_t tag = rd32(raw + off);
        if (!tag_ok(tag))
            return err_set(e, "section %" PRIu32 " at offset %zu: tag bytes "
                           "%02x %02x %02x %02x are not four printable ASCII characters",
                           i, off, raw[off], raw[off + 1], raw[off + 2], raw[off + 3]);
        char ts[5];
        tag_str(tag, ts);
        for (uint32_t j = 0; j < i; j++)
            if (sec[j].tag == tag)
                return err_set(e, "section '%s' at offset %zu duplicates the one at "
                               "offset %zu", ts, off, secoff[j]);
        uint64_t slen = rd64(raw + off + 4);
        size_t left = end - off - MF_SECHDR_LEN;
        /* compare, never add: off + slen could wrap for slen near 2^64 */
        if (slen > (uint64_t)left)
            return err_set(e, "section '%s' at offset %zu: length %" PRIu64 " overruns "
                           "the file (%zu bytes left before the checksum)",
                           ts, off, slen, left);
        sec[i].tag = tag;
        sec[i].data = raw + off + MF_SECHDR_LEN;
        sec[i].len = (size_t)slen;
        secoff[i] = off;
        off += MF_SECHDR_LEN + (size_t)slen;
    }
    if (off != end)
        return err_set(e, "%zu trailing bytes at offset %zu between the last section "
                       "and the checksum", end - off, off);

    if (nsec) {
        out->sec = malloc(nsec * sizeof *out->sec);
        if (!out->sec)
            return err_set(e, "out of memory");
        memcpy(out->sec, sec, nsec * sizeof *out->sec);
    }
    out->raw = raw;
    out->rawlen = len;
    out->version = version;
    out->nsec = nsec;
    return 0;
}

int mf_parse(const uint8_t *data, size_t len, mf_file *out, snitch_err *e)
{
    memset(out, 0, sizeof *out);
    if (!data && len)
        return err_set(e, "no data");
    /* At least one byte so an empty input still gets a real pointer. */
    uint8_t *raw = malloc(len ? len : 1);
    if (!raw)
        return err_set(e, "out of memory (%zu bytes for the model file)", len);
    if (len)
        memcpy(raw, data, len);
    if (parse_owned(raw, len, out, e) < 0) {
        free(raw);
        return -1;
    }
    return 0;
}

int mf_read_path(const char *path, mf_file *out, snitch_err *e)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int er = errno;
        close(fd);
        return err_set(e, "%s: %s", path, strerror(er));
    }
    /* open() accepts a directory for reading; say so instead of failing
     * later on read() or, worse, parsing nothing. */
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return err_set(e, "%s: %s", path, strerror(EISDIR));
    }
    uint64_t limit = MF_MAX_FILE;
    if ((uint64_t)SIZE_MAX - 1 < limit)
        limit = (uint64_t)SIZE_MAX - 1;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit) {
        close(fd);
        return err_set(e, "%s: %lld bytes, more than the %" PRIu64 " a model file may have",
                       path, (long long)st.st_size, limit);
    }
    /* The size is only a hint (the file may change, or be a pipe): read to
     * end of file, one byte of headroom so EOF needs no extra growth. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    size_t len = 0;
    uint8_t *buf = big_alloc(&cap);     /* a big file: huge pages */
    if (!buf) {
        close(fd);
        return err_set(e, "%s: out of memory", path);
    }
    for (;;) {
        if (len == cap) {
            if ((uint64_t)len > limit) {
                free(buf);
                close(fd);
                return err_set(e, "%s: more than the %" PRIu64 " bytes a model file may have",
                               path, limit);
            }
            size_t ncap = (uint64_t)cap * 2 > limit + 1 ? (size_t)limit + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                close(fd);
                return err_set(e, "%s: out of memory", path);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int er = errno;
            free(buf);
            close(fd);
            return err_set(e, "%s: %s", path, strerror(er));
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if ((uint64_t)len > limit) {
        free(buf);
        return err_set(e, "%s: more than the %" PRIu64 " bytes a model file may have",
                       path, limit);
    }
    snitch_err pe;
    if (parse_owned(buf, len, out, &pe) < 0) {
        free(buf);
        return err_set(e, "%s: %s", path, pe.msg);
    }
    return 0;
}

const mf_section *mf_find(const mf_file *f, uint32_t tag)
{
    if (!f)
        return NULL;
    for (size_t i = 0; i < f->nsec; i++)
        if (f->sec[i].tag == tag)
            return &f->sec[i];
    return NULL;
}

void mf_file_free(mf_file *f)
{
    if (!f)
        return;
    free(f->raw);
    free(f->sec);
    memset(f, 0, sizeof *f);
}

/* ---- reading front to back ---- */

struct mf_stream {
    int fd;
    EVP_MD_CTX *md;             /* SHA-256 of every byte before the checksum */
    uint8_t *buf;               /* the window of the current section's cursor */
    size_t cap;
    uint64_t size;              /* the file's size when opened */
    uint64_t pos;               /* bytes read so far */
    uint32_t nsec, seen;        /* sections in the header, announced */
    uint32_t tags[MF_MAX_SECTIONS];
    uint64_t sec_len, sec_left; /* the current section: length, bytes not yet read */
    mf_cur *active;             /* the current section's cursor */
};

/* Exactly n bytes from the file (checksummed unless hash is 0). */
static int stream_read(mf_stream *s, uint8_t *dst, size_t n, int hash)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(s->fd, dst + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    if (hash && EVP_DigestUpdate(s->md, dst, n) != 1)
        return -1;
    s->pos += n;
    return 0;
}

/* Make the cursor's window hold its n bytes from off: keep what it has not
 * read, at the front, and read from the file (never past the section). */
static int stream_fill(mf_cur *c, size_t n)
{
    mf_stream *s = c->src;
    if (s->active != c)
        return -1;
    size_t at = c->off - c->lo, keep = c->hi - c->off;
    if (n > s->cap) {
        size_t ncap = s->cap > SIZE_MAX / 2 || n > s->cap * 2 ? n : s->cap * 2;
        uint8_t *nb = realloc(s->buf, ncap);
        if (!nb)
            return -1;
        s->buf = nb;
        s->cap = ncap;
    }
    memmove(s->buf, s->buf + at, keep);
    c->p = s->buf;
    c->lo = c->off;
    c->hi = c->off + keep;
    while (c->hi - c->lo < n) {
        size_t room = s->cap - (c->hi - c->lo);
        size_t want = (uint64_t)room < s->sec_left ? room : (size_t)s->sec_left;
        if (want == 0)
            return -1;
        ssize_t r = read(s->fd, s->buf + (c->hi - c->lo), want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || EVP_DigestUpdate(s->md, s->buf + (c->hi - c->lo), (size_t)r) != 1)
            return -1;
        s->pos += (uint64_t)r;
        s->sec_left -= (uint64_t)r;
        c->hi += (size_t)r;
    }
    return 0;
}

mf_stream *mf_stream_open(const char *path, size_t window)
{
    mf_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t h[MF_HEADER_LEN];
    s->cap = window ? window : (size_t)1 << 20;
    if (s->fd < 0 || fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size < MF_MIN_LEN || (uint64_t)st.st_size > MF_MAX_FILE ||
        (uint64_t)st.st_size > SIZE_MAX || !(s->md = EVP_MD_CTX_new()) ||
        EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1 || !(s->buf = malloc(s->cap)))
        goto no;
    s->size = (uint64_t)st.st_size;
    if (stream_read(s, h, sizeof h, 1) < 0 || memcmp(h, MF_MAGIC, MF_MAGIC_LEN) != 0 ||
        rd32(h + MF_MAGIC_LEN) != MF_VERSION)
        goto no;
    s->nsec = rd32(h + MF_MAGIC_LEN + 4);
    if (s->nsec > MF_MAX_SECTIONS)
        goto no;
    return s;
no:
    mf_stream_close(s);
    return NULL;
}

/* Read (and checksum) what is left of the current section. */
static int stream_skip(mf_stream *s)
{
    s->active = NULL;
    while (s->sec_left) {
        size_t n = (uint64_t)s->cap < s->sec_left ? s->cap : (size_t)s->sec_left;
        if (stream_read(s, s->buf, n, 1) < 0)
            return -1;
        s->sec_left -= n;
    }
    return 0;
}

int mf_stream_next(mf_stream *s, uint32_t *tag, uint64_t *len)
{
    if (stream_skip(s) < 0)
        return -1;
    if (s->seen == s->nsec)
        return 0;
    /* What is left for this header, the section and the checksum, by the
     * size at open; the checksum and the end of file decide in the end. */
    uint8_t h[MF_SECHDR_LEN];
    if (s->size - s->pos < (uint64_t)MF_SECHDR_LEN + MF_HASH_LEN ||
        stream_read(s, h, sizeof h, 1) < 0)
        return -1;
    uint32_t t = rd32(h);
    uint64_t l = rd64(h + 4);
    if (!tag_ok(t) || l > s->size - s->pos - MF_HASH_LEN)
        return -1;
    for (uint32_t j = 0; j < s->seen; j++)
        if (s->tags[j] == t)
            return -1;
    s->tags[s->seen++] = t;
    s->sec_len = s->sec_left = l;
    *tag = t;
    *len = l;
    return 1;
}

void mf_stream_cursor(mf_stream *s, mf_cur *c)
{
    *c = (mf_cur){ .p = s->buf, .len = (size_t)s->sec_len, .src = s };
    s->active = c;
}

int mf_stream_finish(mf_stream *s)
{
    uint8_t want[MF_HASH_LEN], got[MF_HASH_LEN], extra;
    unsigned olen = 0;
    if (stream_skip(s) < 0 || s->seen != s->nsec || stream_read(s, got, sizeof got, 0) < 0 ||
        EVP_DigestFinal_ex(s->md, want, &olen) != 1 || olen != MF_HASH_LEN ||
        memcmp(want, got, MF_HASH_LEN) != 0)
        return -1;
    for (;;) {     /* and nothing after it */
        ssize_t r = read(s->fd, &extra, 1);
        if (r < 0 && errno == EINTR)
            continue;
        return r == 0 ? 0 : -1;
    }
}

void mf_stream_close(mf_stream *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    EVP_MD_CTX_free(s->md);
    free(s->buf);
    free(s);
}
