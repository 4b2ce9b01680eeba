/* fuzz_quic.c - libFuzzer target for src/proto/quic.c.
 *
 * Input: [ctl] [2 bytes per split point] [rest].  ctl bits 0-1: number of
 * datagrams - 1; bits 2-5: the direction of each datagram; bit 6: seal
 * mode; bit 7: QUIC v2 instead of v1 in seal mode.  The rest is cut into
 * the datagrams at the split points and fed to one quic_flow.
 *
 * Random bytes almost never pass AES-GCM, so in seal mode each piece is
 * taken as the plaintext payload of a client Initial and protected here
 * (AES-128-GCM, then header protection) before it goes in: that way the
 * frame parser, the CRYPTO reassembly, the ClientHello parsing and the
 * first-DCID fallback (a piece whose first byte is odd carries another
 * DCID in its header but the first DCID's keys) all see fuzzed data.  The
 * raw input also goes through quic_initial_crypto_frames() and
 * quic_parse_frames(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "proto/quic.h"

static const uint8_t dcid_a[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51,
                                   0x57, 0x08 };
static const uint8_t dcid_b[5] = { 0x0d, 0xc1, 0xd0, 0xbb, 0x01 };

static void sink(void *ctx, uint64_t off, const uint8_t *p, size_t n)
{
    /* touch every byte so ASan checks the reported range */
    volatile uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    (void)x;
    (void)off;
    (void)ctx;
}

/* Protect payload as a client Initial (packet number 1 byte, 0).  Returns
 * the packet length, 0 on failure.  out must hold plen + 64 bytes. */
static size_t seal(uint8_t *out, uint32_t version, const uint8_t *hdr_dcid,
                   size_t hdr_dcid_len, const uint8_t *payload, size_t plen)
{
    quic_keys k;
    if (quic_client_initial_keys(version, dcid_a, sizeof dcid_a, &k) != 0)
        return 0;
    size_t n = 0;
    out[n++] = version == 0x6b3343cf ? 0xd0 : 0xc0;   /* Initial, pnl 1 */
    for (int i = 0; i < 4; i++)
        out[n++] = (uint8_t)(version >> (24 - 8 * i));
    out[n++] = (uint8_t)hdr_dcid_len;
    memcpy(out + n, hdr_dcid, hdr_dcid_len);
    n += hdr_dcid_len;
    out[n++] = 0;                       /* SCID */
    out[n++] = 0;                       /* token */
    size_t length = 1 + plen + 16;
    out[n++] = (uint8_t)(0x40 | length >> 8);
    out[n++] = (uint8_t)length;
    size_t pn_off = n;
    out[n++] = 0;                       /* packet number 0 */

    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return 0;
    int outl = 0, ok =
        EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k.key, k.iv) == 1 &&
        EVP_EncryptUpdate(c, NULL, &outl, out, (int)n) == 1 &&
        EVP_EncryptUpdate(c, out + n, &outl, payload, (int)plen) == 1;
    n += (size_t)outl;
    ok = ok && EVP_EncryptFinal_ex(c, out + n, &outl) == 1;
    n += (size_t)outl;
    ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n) == 1;
    n += 16;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        return 0;

    uint8_t mask[16];
    c = EVP_CIPHER_CTX_new();
    if (!c)
        return 0;
    ok = EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k.hp, NULL) == 1 &&
         EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
         EVP_EncryptUpdate(c, mask, &outl, out + pn_off + 4, 16) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        return 0;
    out[0] ^= mask[0] & 0x0f;
    out[pn_off] ^= mask[1];
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    quic_initial_crypto_frames(data, size, NULL, 0, sink, NULL);
    quic_initial_crypto_frames(data, size, dcid_a, sizeof dcid_a, sink,
                               NULL);
    quic_parse_frames(data, size, sink, NULL);
    if (size < 1)
        return 0;

    uint8_t ctl = data[0];
    size_t ndg = (size_t)(ctl & 3) + 1;
    int sealed = (ctl & 0x40) != 0;
    uint32_t version = (ctl & 0x80) ? 0x6b3343cf : 1;
    size_t hdr = 1 + 2 * (ndg - 1);
    if (size < hdr)
        return 0;
    const uint8_t *rest = data + hdr;
    size_t rlen = size - hdr;

    /* split points, sorted so the pieces are consecutive */
    size_t cut[5];
    cut[0] = 0;
    for (size_t i = 1; i < ndg; i++) {
        size_t v = (size_t)data[1 + 2 * (i - 1)] << 8 | data[2 + 2 * (i - 1)];
        cut[i] = rlen ? v % (rlen + 1) : 0;
    }
    cut[ndg] = rlen;
    for (size_t i = 1; i < ndg; i++)
        for (size_t j = i + 1; j < ndg; j++)
            if (cut[j] < cut[i]) {
                size_t t = cut[i];
                cut[i] = cut[j];
                cut[j] = t;
            }

    quic_flow *q = quic_flow_new();
    if (!q)
        return 0;
    for (size_t i = 0; i < ndg; i++) {
        const uint8_t *p = rest + cut[i];
        size_t n = cut[i + 1] - cut[i];
        int dir = (ctl >> (2 + i)) & 1;
        /* a copy of exactly n bytes, so any overread is caught */
        uint8_t *dg;
        size_t dlen;
        if (sealed) {
            size_t plen = n < 20 ? 20 : n;  /* room for the sample */
            uint8_t *pl = calloc(1, plen);
            dg = malloc(plen + 64);
            if (!pl || !dg) {
                free(pl);
                free(dg);
                break;
            }
            memcpy(pl, p, n);
            int other = n > 0 && (p[0] & 1);
            dlen = seal(dg, version, other ? dcid_b : dcid_a,
                        other ? sizeof dcid_b : sizeof dcid_a, pl, plen);
            free(pl);
        } else {
            dg = malloc(n ? n : 1);
            if (!dg)
                break;
            memcpy(dg, p, n);
            dlen = n;
        }
        tls_hello h;
        memset(&h, 0, sizeof h);
        if (quic_flow_add(q, dir, dg, dlen, &h) == QUIC_DONE && h.sni) {
            /* once: DONE fills h only on the transition */
            tls_hello_free(&h);
        }
        int cd = quic_flow_client_dir(q);
        if (cd < -1 || cd > 1)
            abort();
        free(dg);
    }
    quic_flow_free(q);
    return 0;
}
