/* quic.c - decrypt QUIC client Initial packets and rebuild the ClientHello
 * from their CRYPTO frames; see quic.h.
 *
 * The walk over a datagram, the frame parser and the flow logic follow
 * quic_initial_crypto(), _quic_decrypt(), quic_try() and Extractor.quic()
 * of ref_extract.py step by step, so both give the same SNI for the same
 * datagrams.  Where the reference would raise IndexError on a header that
 * runs past the datagram (it crashes), we stop parsing that datagram and
 * keep what earlier packets of it gave.  All crypto is OpenSSL libcrypto. */
#include "proto/quic.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "util/xalloc.h"

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu
#define QUIC_DRAFT_FIRST 0xff00001du    /* draft-29 */
#define QUIC_DRAFT_LAST  0xff000020u    /* draft-32 */

#define GCM_TAG_LEN 16
#define HP_SAMPLE_LEN 16

static const uint8_t salt_v1[20] = {
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a
};
static const uint8_t salt_v2[20] = {
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9
};
static const uint8_t salt_draft29[20] = {
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99
};

/* The Initial salt of a supported version, NULL for any other version
 * (the contract: 1, 2 and drafts 29-32 only). */
static const uint8_t *version_salt(uint32_t ver)
{
    if (ver == QUIC_V1)
        return salt_v1;
    if (ver == QUIC_V2)
        return salt_v2;
    if (ver >= QUIC_DRAFT_FIRST && ver <= QUIC_DRAFT_LAST)
        return salt_draft29;
    return NULL;
}

/* ------------------------------------------------------------ key schedule */

/* HMAC-SHA256 with a MAC context the caller set up once (see
 * new_hmac_sha256): one provider fetch per key derivation instead of two
 * per HMAC. */
static int hmac_sha256(EVP_MAC_CTX *m, const uint8_t *key, size_t klen,
                       const uint8_t *a, size_t alen, uint8_t out[32])
{
    size_t olen = 0;
    if (EVP_MAC_init(m, key, klen, NULL) != 1 ||
        EVP_MAC_update(m, a, alen) != 1 ||
        EVP_MAC_final(m, out, &olen, 32) != 1 || olen != 32)
        return -1;
    return 0;
}

static EVP_MAC_CTX *new_hmac_sha256(void)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return NULL;
    EVP_MAC_CTX *m = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);      /* the context keeps its own reference */
    if (m && EVP_MAC_CTX_set_params(m, params) != 1) {
        EVP_MAC_CTX_free(m);
        m = NULL;
    }
    return m;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context, for outputs of at
 * most one SHA-256 block, which is all QUIC Initial keys need. */
static int expand_label(EVP_MAC_CTX *m, const uint8_t secret[32],
                        const char *label, uint8_t *out, size_t len)
{
    uint8_t info[2 + 1 + 255 + 1 + 1];
    size_t llen = strlen(label);
    if (len > 32 || 6 + llen > 255)
        return -1;
    size_t n = 0;
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)(6 + llen);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, llen);
    n += llen;
    info[n++] = 0;          /* empty context */
    info[n++] = 1;          /* HKDF-Expand block counter T(1) */
    uint8_t t[32];
    if (hmac_sha256(m, secret, 32, info, n, t) != 0)
        return -1;
    memcpy(out, t, len);
    OPENSSL_cleanse(t, sizeof t);
    return 0;
}

int quic_client_initial_keys(uint32_t version, const uint8_t *dcid,
                             size_t dcid_len, quic_keys *out)
{
    const uint8_t *salt = version_salt(version);
    if (!salt || !out || (!dcid && dcid_len))
        return -1;
    int v2 = version == QUIC_V2;
    static const uint8_t none[1] = { 0 };
    EVP_MAC_CTX *m = new_hmac_sha256();
    uint8_t init[32];
    /* HKDF-Extract(salt, DCID) is HMAC with the salt as key. */
    int rc = m ? hmac_sha256(m, salt, 20, dcid_len ? dcid : none, dcid_len,
                             init) : -1;
    if (rc == 0)
        rc = expand_label(m, init, "client in", out->secret, 32);
    OPENSSL_cleanse(init, sizeof init);
    if (rc == 0)
        rc = expand_label(m, out->secret, v2 ? "quicv2 key" : "quic key",
                          out->key, sizeof out->key);
    if (rc == 0)
        rc = expand_label(m, out->secret, v2 ? "quicv2 iv" : "quic iv",
                          out->iv, sizeof out->iv);
    if (rc == 0)
        rc = expand_label(m, out->secret, v2 ? "quicv2 hp" : "quic hp",
                          out->hp, sizeof out->hp);
    EVP_MAC_CTX_free(m);
    return rc;
}

/* ------------------------------------------------------------ primitives */

/* A QUIC variable-length integer at *pos.  Returns 0 (leaving *pos alone)
 * when it does not fit in the buffer: the reference's IndexError. */
static int get_varint(const uint8_t *b, size_t len, uint64_t *pos,
                      uint64_t *v)
{
    if (*pos >= len)
        return 0;
    size_t p = (size_t)*pos;
    size_t n = (size_t)1 << (b[p] >> 6);
    if (len - p < n)
        return 0;
    uint64_t x = b[p] & 0x3f;
    for (size_t i = 1; i < n; i++)
        x = (x << 8) | b[p + i];
    *v = x;
    *pos += n;
    return 1;
}

/* GCM accepts int lengths only: feed longer inputs in pieces. */
static int gcm_update(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in,
                      size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        int outl = 0;
        if (EVP_DecryptUpdate(c, out, &outl, in, chunk) != 1)
            return -1;
        in += chunk;
        if (out)
            out += outl;
        len -= (size_t)chunk;
    }
    return 0;
}

/* Return codes of the decryption steps. */
enum { DEC_OK = 1, DEC_NO = 0, DEC_OOM = -1 };

/* AES-128-ECB of the sample: the header-protection mask (RFC 9001 5.4.3). */
static int hp_mask(const uint8_t hp[16], const uint8_t *sample,
                   uint8_t mask[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return DEC_OOM;
    int outl = 0, ok = 0;
    if (EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
        EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
        EVP_EncryptUpdate(c, mask, &outl, sample, HP_SAMPLE_LEN) == 1 &&
        outl == HP_SAMPLE_LEN)
        ok = 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? DEC_OK : DEC_NO;
}

/* Remove header protection from the Initial at data[pos..] (packet number
 * at pn_off, protected payload up to nxt, clamped to the datagram) and
 * AES-128-GCM-decrypt it with keys k.  The AAD is the unprotected header,
 * fed in three pieces so the datagram needs no copy.  DEC_OK: *plain
 * (malloc'd, caller frees) and *plain_len are set. */
static int open_packet(const quic_keys *k, const uint8_t *data, size_t len,
                       size_t pos, size_t pn_off, uint64_t nxt,
                       uint8_t **plain, size_t *plain_len)
{
    uint8_t mask[16];
    int rc = hp_mask(k->hp, data + pn_off + 4, mask);
    if (rc != DEC_OK)
        return rc;
    uint8_t fb = (uint8_t)(data[pos] ^ (mask[0] & 0x0f));
    size_t pnl = (size_t)(fb & 3) + 1;
    uint8_t pnb[4];
    uint8_t nonce[12];
    memcpy(nonce, k->iv, sizeof nonce);
    for (size_t i = 0; i < pnl; i++) {
        pnb[i] = (uint8_t)(data[pn_off + i] ^ mask[1 + i]);
        /* nonce = iv XOR the packet number, right-aligned */
        nonce[12 - pnl + i] ^= pnb[i];
    }
    size_t ct_off = pn_off + pnl;
    size_t ct_end = nxt < (uint64_t)len ? (size_t)nxt : len;
    if (ct_end < ct_off || ct_end - ct_off < GCM_TAG_LEN)
        return DEC_NO;
    size_t ct_len = ct_end - ct_off - GCM_TAG_LEN;
    uint8_t *pt = malloc(ct_len ? ct_len : 1);
    if (!pt)
        return DEC_OOM;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) {
        free(pt);
        return DEC_OOM;
    }
    rc = DEC_NO;
    if (EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
        EVP_DecryptInit_ex(c, NULL, NULL, k->key, nonce) == 1 &&
        gcm_update(c, NULL, &fb, 1) == 0 &&
        gcm_update(c, NULL, data + pos + 1, pn_off - pos - 1) == 0 &&
        gcm_update(c, NULL, pnb, pnl) == 0 &&
        gcm_update(c, pt, data + ct_off, ct_len) == 0 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN,
                            (void *)(data + ct_off + ct_len)) == 1) {
        int outl = 0;
        if (EVP_DecryptFinal_ex(c, pt + ct_len, &outl) == 1)
            rc = DEC_OK;        /* the tag matched */
    }
    EVP_CIPHER_CTX_free(c);
    if (rc == DEC_OK) {
        *plain = pt;
        *plain_len = ct_len;
    } else {
        free(pt);
    }
    return rc;
}

/* The reference's _quic_decrypt(): Initial keys from dcid, then
 * open_packet().  Anything that goes wrong is DEC_NO, except running out
 * of memory. */
static int decrypt_initial(const uint8_t *data, size_t len, size_t pos,
                           size_t pn_off, uint64_t nxt, uint32_t ver,
                           const uint8_t *dcid, size_t dcid_len,
                           uint8_t **plain, size_t *plain_len)
{
    /* The sample is the 16 bytes after a 4-byte packet number. */
    if (len - pn_off < 4 + HP_SAMPLE_LEN)
        return DEC_NO;
    quic_keys k;
    if (quic_client_initial_keys(ver, dcid, dcid_len, &k) != 0)
        return DEC_NO;
    int rc = open_packet(&k, data, len, pos, pn_off, nxt, plain, plain_len);
    OPENSSL_cleanse(&k, sizeof k);
    return rc;
}

/* ------------------------------------------------------------ frames */

/* Where CRYPTO frames go.  Returns 0, or -1 to stop everything (out of
 * memory, or the flow's limits). */
typedef int (*frame_sink)(void *ctx, uint64_t off, const uint8_t *p,
                          size_t n);

/* The reference's frame loop: only the frame types a client Initial can
 * carry are understood; an unknown type ends the walk, and so does a frame
 * cut short (its IndexError), keeping the frames found before it.  A CRYPTO
 * frame's data is clamped to the payload (a Python slice).  Returns the
 * number of CRYPTO frames given to sink, or -1 if sink said stop. */
static long walk_frames(const uint8_t *p, size_t n, frame_sink sink,
                        void *ctx)
{
    long found = 0;
    uint64_t q = 0, a, b, cnt;
    while (q < n) {
        uint8_t ft = p[q];
        if (ft == 0x00) {                           /* PADDING */
            while (q < n && p[q] == 0x00)   /* Initials carry runs of it */
                q++;
        } else if (ft == 0x01) {                    /* PING */
            q++;
        } else if (ft == 0x06) {                    /* CRYPTO */
            uint64_t off, ln;
            q++;
            if (!get_varint(p, n, &q, &off) || !get_varint(p, n, &q, &ln))
                break;
            uint64_t avail = n - q;             /* q <= n after a varint */
            size_t take = (size_t)(ln < avail ? ln : avail);
            if (sink(ctx, off, p + q, take) != 0)
                return -1;
            found++;
            q += ln;
        } else if (ft == 0x02 || ft == 0x03) {      /* ACK, ACK_ECN */
            q++;
            if (!get_varint(p, n, &q, &a) || !get_varint(p, n, &q, &b) ||
                !get_varint(p, n, &q, &cnt) || !get_varint(p, n, &q, &a))
                break;
            /* Each range reads at least two bytes, so a huge count ends
             * at the end of the payload. */
            int cut = 0;
            for (uint64_t i = 0; i < cnt && !cut; i++)
                if (!get_varint(p, n, &q, &a) || !get_varint(p, n, &q, &b))
                    cut = 1;
            if (!cut && ft == 0x03)
                for (int i = 0; i < 3 && !cut; i++)
                    if (!get_varint(p, n, &q, &a))
                        cut = 1;
            if (cut)
                break;
        } else if (ft == 0x1c) {                    /* CONNECTION_CLOSE */
            q++;
            if (!get_varint(p, n, &q, &a) || !get_varint(p, n, &q, &b) ||
                !get_varint(p, n, &q, &cnt))
                break;
            q += cnt;
        } else {
            break;
        }
    }
    return found;
}

struct user_sink {
    void (*fn)(void *ctx, uint64_t off, const uint8_t *p, size_t n);
    void *ctx;
};

static int call_user(void *ctx, uint64_t off, const uint8_t *p, size_t n)
{
    struct user_sink *u = ctx;
    if (u->fn)
        u->fn(u->ctx, off, p, n);
    return 0;
}

size_t quic_parse_frames(const uint8_t *plain, size_t len,
                         void (*fn)(void *ctx, uint64_t off,
                                    const uint8_t *p, size_t n),
                         void *ctx)
{
    if (!plain)
        return 0;
    struct user_sink u = { fn, ctx };
    long r = walk_frames(plain, len, call_user, &u);
    return r > 0 ? (size_t)r : 0;
}

/* ------------------------------------------------------------ flow state */

typedef struct crypto_seg {
    uint64_t off;
    uint8_t *data;          /* NULL when len == 0 */
    size_t len;
} crypto_seg;

struct quic_flow {
    quic_state state;
    int dir;                /* client direction, -1 while unknown */
    int have_dcid0;         /* dcid0 holds the first client Initial's DCID */
    size_t dcid0_len;
    uint8_t dcid0[255];     /* a DCID length is one byte */
    crypto_seg *segs;       /* sorted by offset, one per offset */
    size_t nsegs, cap;
    size_t stored;          /* bytes in segs */
};

/* How the Initials of a datagram are decrypted. */
typedef struct key_choice {
    quic_flow *flow;        /* own DCID, then the flow's first DCID */
    const uint8_t *fixed;   /* when flow is NULL: this DCID only, */
    size_t fixed_len;       /* or (fixed NULL) the packet's own DCID */
} key_choice;

/* The reference's quic_initial_crypto(): walk the coalesced long-header
 * packets of one datagram, decrypt each client Initial and hand its CRYPTO
 * frames to sink.  *nframes counts them.  Returns the number of Initials
 * of a supported version seen (0: not an Initial datagram), or -1 when out
 * of memory or sink said stop. */
static long initial_walk(const uint8_t *data, size_t len,
                         const key_choice *kc, frame_sink sink, void *ctx,
                         size_t *nframes)
{
    static const int v2_type[4] = { 3, 0, 1, 2 };  /* v2 type -> v1 type */
    long initials = 0;
    uint64_t pos = 0;
    *nframes = 0;
    while (pos + 7 < len) {
        uint8_t b0 = data[pos];
        if (!(b0 & 0x80))
            break;                              /* short header */
        uint32_t ver = (uint32_t)data[pos + 1] << 24 |
                       (uint32_t)data[pos + 2] << 16 |
                       (uint32_t)data[pos + 3] << 8 | data[pos + 4];
        int ptype = (b0 >> 4) & 3;
        if (ver == QUIC_V2)
            ptype = v2_type[ptype];
        if (!version_salt(ver))
            break;
        uint64_t p = pos + 5;
        size_t dcil = data[p];
        const uint8_t *dcid = data + p + 1;
        p += 1 + dcil;
        if (p >= len)
            break;              /* DCID or SCID length past the end */
        p += 1 + (uint64_t)data[p];
        uint64_t v;
        if (ptype == 0) {
            if (!get_varint(data, len, &p, &v))
                break;
            p += v;             /* token */
        }
        if (!get_varint(data, len, &p, &v))
            break;
        /* p <= len here, and v < 2^62: no overflow. */
        size_t pn_off = (size_t)p;
        uint64_t nxt = p + v;
        if (ptype != 0) {       /* 0-RTT, Handshake, Retry: skip */
            pos = nxt;
            continue;
        }
        if (initials < LONG_MAX)
            initials++;

        uint8_t *plain = NULL;
        size_t plain_len = 0;
        int rc;
        if (kc->flow) {
            quic_flow *q = kc->flow;
            if (!q->have_dcid0) {
                memcpy(q->dcid0, dcid, dcil);
                q->dcid0_len = dcil;
                q->have_dcid0 = 1;
            }
            rc = decrypt_initial(data, len, (size_t)pos, pn_off, nxt, ver,
                                 dcid, dcil, &plain, &plain_len);
            /* RFC 9001 5.2: a client that switched to the server's
             * connection ID keeps the keys of its first Initial. */
            if (rc == DEC_NO && (q->dcid0_len != dcil ||
                                 memcmp(q->dcid0, dcid, dcil) != 0))
                rc = decrypt_initial(data, len, (size_t)pos, pn_off, nxt,
                                     ver, q->dcid0, q->dcid0_len, &plain,
                                     &plain_len);
        } else if (kc->fixed) {
            rc = decrypt_initial(data, len, (size_t)pos, pn_off, nxt, ver,
                                 kc->fixed, kc->fixed_len, &plain,
                                 &plain_len);
        } else {
            rc = decrypt_initial(data, len, (size_t)pos, pn_off, nxt, ver,
                                 dcid, dcil, &plain, &plain_len);
        }
        if (rc == DEC_OOM)
            return -1;
        if (rc == DEC_OK) {
            long r = walk_frames(plain, plain_len, sink, ctx);
            free(plain);
            if (r < 0)
                return -1;
            *nframes += (size_t)r;
        }
        pos = nxt;
    }
    return initials;
}

int quic_initial_crypto_frames(const uint8_t *data, size_t len,
                               const uint8_t *dcid, size_t dcid_len,
                               void (*fn)(void *ctx, uint64_t off,
                                          const uint8_t *p, size_t n),
                               void *ctx)
{
    if (!data)
        return 0;
    /* dcid NULL: each packet's own DCID; else only dcid's keys. */
    key_choice kc = { NULL, dcid, dcid_len };
    struct user_sink u = { fn, ctx };
    size_t nframes;
    long r = initial_walk(data, len, &kc, call_user, &u, &nframes);
    if (r < 0)
        return -1;
    return r > INT_MAX ? INT_MAX : (int)r;
}

quic_flow *quic_flow_new(void)
{
    quic_flow *q = calloc(1, sizeof *q);
    if (q) {
        q->state = QUIC_NEED;
        q->dir = -1;
    }
    return q;
}

static void drop_segs(quic_flow *q)
{
    for (size_t i = 0; i < q->nsegs; i++)
        free(q->segs[i].data);
    free(q->segs);
    q->segs = NULL;
    q->nsegs = q->cap = 0;
    q->stored = 0;
}

void quic_flow_free(quic_flow *q)
{
    if (!q)
        return;
    drop_segs(q);
    free(q);
}

/* Keep one CRYPTO frame: per offset the longer data wins (on a tie the
 * first stays), as the reference's dict.  Over the limits -> -1. */
static int store_frame(void *ctx, uint64_t off, const uint8_t *p, size_t n)
{
    quic_flow *q = ctx;
    size_t lo = 0, hi = q->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->segs[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    crypto_seg *s = lo < q->nsegs && q->segs[lo].off == off ? &q->segs[lo]
                                                            : NULL;
    if (s && s->len >= n)
        return 0;
    size_t old = s ? s->len : 0;
    if (n - old > QUIC_MAX_CRYPTO_BYTES - q->stored ||
        (!s && q->nsegs >= QUIC_MAX_CRYPTO_SEGS))
        return -1;
    uint8_t *copy = NULL;
    if (n) {
        copy = malloc(n);
        if (!copy)
            return -1;
        memcpy(copy, p, n);
    }
    if (!s) {
        void *arr = q->segs;
        if (array_grow(&arr, &q->cap, q->nsegs + 1, sizeof *q->segs) != 0) {
            free(copy);
            return -1;
        }
        q->segs = arr;
        memmove(q->segs + lo + 1, q->segs + lo,
                (q->nsegs - lo) * sizeof *q->segs);
        q->nsegs++;
        s = &q->segs[lo];
        s->off = off;
        s->data = NULL;
        s->len = 0;
    }
    free(s->data);
    s->data = copy;
    s->len = n;
    q->stored += n - old;
    return 0;
}

/* The reference's quic_try(): the contiguous CRYPTO bytes from offset 0
 * must start with a ClientHello (type 1); once its whole length is there,
 * parse its body. */
static quic_state try_hello(quic_flow *q, tls_hello *out)
{
    uint64_t cur = 0;
    for (size_t i = 0; i < q->nsegs && q->segs[i].off <= cur; i++)
        if (q->segs[i].off + q->segs[i].len > cur)
            cur = q->segs[i].off + q->segs[i].len;
    if (cur < 4)
        return QUIC_NEED;
    /* cur <= q->stored <= QUIC_MAX_CRYPTO_BYTES */
    uint8_t *buf = malloc((size_t)cur);
    if (!buf)
        return QUIC_FAIL;
    uint64_t at = 0;
    for (size_t i = 0; i < q->nsegs && q->segs[i].off <= at; i++) {
        const crypto_seg *s = &q->segs[i];
        if (s->off + s->len > at) {
            size_t skip = (size_t)(at - s->off);
            memcpy(buf + at, s->data + skip, s->len - skip);
            at = s->off + s->len;
        }
    }
    quic_state st;
    size_t hlen = (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
    if (buf[0] != 1) {
        st = QUIC_FAIL;
    } else if (cur - 4 < hlen) {
        st = QUIC_NEED;
    } else {
        tls_hello tmp;
        tls_hello *h = out ? out : &tmp;
        memset(h, 0, sizeof *h);
        if (tls_parse_client_hello(buf + 4, hlen, h) != 0) {
            st = QUIC_FAIL;         /* out of memory */
        } else {
            st = QUIC_DONE;
            if (!out)
                tls_hello_free(&tmp);
        }
    }
    free(buf);
    return st;
}

quic_state quic_flow_add(quic_flow *q, int dir, const uint8_t *data,
                         size_t len, tls_hello *out)
{
    if (!q)
        return QUIC_FAIL;
    if (q->state != QUIC_NEED)
        return q->state;
    /* The other direction is ignored once the client is known. */
    if ((dir != 0 && dir != 1) || (q->dir >= 0 && q->dir != dir))
        return QUIC_NEED;
    if (!data || len == 0 || !(data[0] & 0x80))
        return QUIC_NEED;
    key_choice kc = { q, NULL, 0 };
    size_t nframes = 0;
    long n = initial_walk(data, len, &kc, store_frame, q, &nframes);
    if (n < 0) {
        /* out of memory, or more CRYPTO data than any ClientHello needs */
        q->state = QUIC_FAIL;
    } else if (n == 0) {
        return QUIC_NEED;           /* no Initial: nothing changes */
    } else {
        if (q->dir < 0)
            q->dir = dir;
        if (nframes == 0)
            return QUIC_NEED;
        q->state = try_hello(q, out);
    }
    if (q->state != QUIC_NEED)
        drop_segs(q);               /* never looked at again */
    return q->state;
}

int quic_flow_client_dir(const quic_flow *q)
{
    if (!q || q->state == QUIC_FAIL)
        return -1;
    return q->dir;
}
