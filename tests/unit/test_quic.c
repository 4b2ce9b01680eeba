/* test_quic.c - QUIC Initial decryption and ClientHello reassembly.
 *
 * The RFC 9001 and RFC 9369 Appendix A vectors pin the key schedule and the
 * packet protection to the standard.  Everything else uses packets built
 * here by seal_initial(), a test-only sender (AES-128-GCM then header
 * protection, with libcrypto and the keys the vectors have checked), so the
 * flow logic can be driven through splits, coalescing, key fallback,
 * tampering and truncation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "check.h"
#include "proto/quic.h"

/* ------------------------------------------------------------ helpers */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        char tmp[3] = { s[0], s[1], 0 };
        v = (unsigned)strtoul(tmp, NULL, 16);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static int eq_hex(const uint8_t *p, size_t n, const char *hex)
{
    uint8_t want[64];
    size_t wn = unhex(hex, want, sizeof want);
    return wn == n && memcmp(p, want, n) == 0;
}

/* Collects what quic_initial_crypto_frames / quic_parse_frames report. */
typedef struct frames {
    int n;
    uint64_t off[16];
    size_t len[16];
    uint8_t data[16][2048];
} frames;

static void collect(void *ctx, uint64_t off, const uint8_t *p, size_t n)
{
    frames *f = ctx;
    if (f->n < 16) {
        f->off[f->n] = off;
        f->len[f->n] = n;
        memcpy(f->data[f->n], p, n < 2048 ? n : 2048);
    }
    f->n++;
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
    if (v < 64) {
        out[0] = (uint8_t)v;
        return 1;
    }
    if (v < 16384) {
        out[0] = (uint8_t)(0x40 | v >> 8);
        out[1] = (uint8_t)v;
        return 2;
    }
    if (v < (1u << 30)) {
        for (int i = 0; i < 4; i++)
            out[i] = (uint8_t)(v >> (24 - 8 * i));
        out[0] |= 0x80;
        return 4;
    }
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (56 - 8 * i));
    out[0] |= 0xc0;
    return 8;
}

/* A CRYPTO frame carrying data at stream offset off. */
static size_t crypto_frame(uint8_t *out, uint64_t off, const uint8_t *data,
                           size_t n)
{
    size_t k = 0;
    out[k++] = 0x06;
    k += put_varint(out + k, off);
    k += put_varint(out + k, n);
    memcpy(out + k, data, n);
    return k + n;
}

/* A minimal TLS 1.3 ClientHello handshake message (with its 4-byte
 * header) naming sni, plus a padding extension of pad bytes so tests can
 * make it as long as they like. */
static size_t build_ch(uint8_t *out, const char *sni, size_t pad)
{
    size_t k = 4;
    out[k++] = 3;
    out[k++] = 3;
    for (int i = 0; i < 32; i++)
        out[k++] = (uint8_t)(0xa0 + i);
    out[k++] = 0;                       /* session id */
    out[k++] = 0; out[k++] = 2; out[k++] = 0x13; out[k++] = 0x01;
    out[k++] = 1; out[k++] = 0;         /* compression: null */
    size_t ext_len_at = k;
    k += 2;
    size_t nl = strlen(sni);
    out[k++] = 0; out[k++] = 0;         /* server_name */
    out[k++] = (uint8_t)((nl + 5) >> 8); out[k++] = (uint8_t)(nl + 5);
    out[k++] = (uint8_t)((nl + 3) >> 8); out[k++] = (uint8_t)(nl + 3);
    out[k++] = 0;
    out[k++] = (uint8_t)(nl >> 8); out[k++] = (uint8_t)nl;
    memcpy(out + k, sni, nl);
    k += nl;
    out[k++] = 0; out[k++] = 0x15;      /* padding */
    out[k++] = (uint8_t)(pad >> 8); out[k++] = (uint8_t)pad;
    memset(out + k, 0, pad);
    k += pad;
    size_t el = k - ext_len_at - 2;
    out[ext_len_at] = (uint8_t)(el >> 8);
    out[ext_len_at + 1] = (uint8_t)el;
    size_t body = k - 4;
    out[0] = 1;
    out[1] = (uint8_t)(body >> 16);
    out[2] = (uint8_t)(body >> 8);
    out[3] = (uint8_t)body;
    return k;
}

typedef struct pkt {
    uint32_t version;
    const char *dcid;       /* hex, goes in the header */
    const char *key_dcid;   /* hex, keys derived from it; NULL: dcid */
    int type;               /* v1 type code: 0 Initial, 1 0-RTT, 2 Handshake */
    uint32_t pn;
    int pnl;                /* 1..4 */
    size_t token_len;
} pkt;

/* The test-only sender: a protected long-header packet carrying payload
 * (padded with PADDING frames to at least 20 bytes so a sample exists).
 * Returns its length. */
static size_t seal_initial(uint8_t *out, const pkt *s, const uint8_t *payload,
                           size_t plen)
{
    static const int v2_code[4] = { 1, 2, 3, 0 };
    uint8_t dcid[64], kdcid[64];
    size_t dl = unhex(s->dcid, dcid, sizeof dcid);
    size_t kdl = unhex(s->key_dcid ? s->key_dcid : s->dcid, kdcid,
                       sizeof kdcid);
    uint8_t pl[4096];
    memcpy(pl, payload, plen);
    while (plen < 20)
        pl[plen++] = 0;
    int wt = s->version == 0x6b3343cf ? v2_code[s->type] : s->type;
    size_t k = 0;
    out[k++] = (uint8_t)(0xc0 | wt << 4 | (s->pnl - 1));
    for (int i = 0; i < 4; i++)
        out[k++] = (uint8_t)(s->version >> (24 - 8 * i));
    out[k++] = (uint8_t)dl;
    memcpy(out + k, dcid, dl);
    k += dl;
    out[k++] = 3;                       /* a 3-byte SCID */
    out[k++] = 0x5c; out[k++] = 0x1d; out[k++] = 0x00;
    if (s->type == 0) {
        k += put_varint(out + k, s->token_len);
        memset(out + k, 0x7e, s->token_len);
        k += s->token_len;
    }
    size_t length = (size_t)s->pnl + plen + 16;
    out[k++] = (uint8_t)(0x40 | length >> 8);
    out[k++] = (uint8_t)length;
    size_t pn_off = k;
    for (int i = 0; i < s->pnl; i++)
        out[k++] = (uint8_t)(s->pn >> (8 * (s->pnl - 1 - i)));
    size_t hdr_len = k;

    quic_keys keys;
    uint32_t kv = s->version;
    if (quic_client_initial_keys(kv, kdcid, kdl, &keys) != 0) {
        /* unsupported version: any key will do, nobody can decrypt it */
        quic_client_initial_keys(1, kdcid, kdl, &keys);
    }
    uint8_t nonce[12];
    memcpy(nonce, keys.iv, 12);
    for (int i = 0; i < 4; i++)
        nonce[8 + i] ^= (uint8_t)(s->pn >> (24 - 8 * i));
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0;
    EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, keys.key, nonce);
    EVP_EncryptUpdate(c, NULL, &outl, out, (int)hdr_len);
    EVP_EncryptUpdate(c, out + k, &outl, pl, (int)plen);
    k += (size_t)outl;
    EVP_EncryptFinal_ex(c, out + k, &outl);
    k += (size_t)outl;
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + k);
    k += 16;
    EVP_CIPHER_CTX_free(c);

    uint8_t mask[16];
    c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, keys.hp, NULL);
    EVP_CIPHER_CTX_set_padding(c, 0);
    EVP_EncryptUpdate(c, mask, &outl, out + pn_off + 4, 16);
    EVP_CIPHER_CTX_free(c);
    out[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < s->pnl; i++)
        out[pn_off + (size_t)i] ^= mask[1 + i];
    return k;
}

/* A datagram holding one Initial whose only frame is CRYPTO(off, data). */
static size_t seal_crypto(uint8_t *out, const pkt *s, uint64_t off,
                          const uint8_t *data, size_t n)
{
    uint8_t pl[4096];
    size_t k = crypto_frame(pl, off, data, n);
    return seal_initial(out, s, pl, k);
}

static const pkt P1 = { 1, "8394c8f03e515708", NULL, 0, 0, 4, 0 };

/* ------------------------------------------------------------ RFC vectors */

/* RFC 9001 Appendix A.2: the client's first Initial, DCID 8394c8f03e515708,
 * packet number 2, one CRYPTO frame (a ClientHello for example.com) and
 * PADDING to 1162 bytes. */
static const char rfc9001_a2[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

/* RFC 9369 Appendix A.2: the same ClientHello sent as QUIC version 2. */
static const char rfc9369_a2[] =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

/* The CRYPTO data both A.2 packets carry: the first 64 bytes of the
 * ClientHello (whose length field says 0xed body bytes). */
static const char a2_ch_head[] =
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47"
    "f06a2b69484c00000413011302010000c000000010000e00000b6578616d706c";

static const uint8_t rfc_dcid[8] = {
    0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08
};

static void test_rfc9001_keys(void)
{
    quic_keys k;
    CHECK_EQ_INT(quic_client_initial_keys(1, rfc_dcid, 8, &k), 0);
    CHECK(eq_hex(k.secret, 32, "c00cf151ca5be075ed0ebfb5c80323c4"
                               "2d6b7db67881289af4008f1f6c357aea"));
    CHECK(eq_hex(k.key, 16, "1f369613dd76d5467730efcbe3b1a22d"));
    CHECK(eq_hex(k.iv, 12, "fa044b2f42a3fd3b46fb255c"));
    CHECK(eq_hex(k.hp, 16, "9f50449e04a0e810283a1e9933adedd2"));
}

static void test_rfc9369_keys(void)
{
    quic_keys k;
    CHECK_EQ_INT(quic_client_initial_keys(0x6b3343cf, rfc_dcid, 8, &k), 0);
    CHECK(eq_hex(k.secret, 32, "14ec9d6eb9fd7af83bf5a668bc17a7e2"
                               "83766aade7ecd0891f70f9ff7f4bf47b"));
    CHECK(eq_hex(k.key, 16, "8b1a0bc121284290a29e0971b5cd045d"));
    CHECK(eq_hex(k.iv, 12, "91f73e2351d8fa91660e909f"));
    CHECK(eq_hex(k.hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9"));
}

static void test_unsupported_version_keys(void)
{
    quic_keys k;
    CHECK_EQ_INT(quic_client_initial_keys(0xff00001c, rfc_dcid, 8, &k), -1);
    CHECK_EQ_INT(quic_client_initial_keys(0x1a2a3a4a, rfc_dcid, 8, &k), -1);
    CHECK_EQ_INT(quic_client_initial_keys(0, rfc_dcid, 8, &k), -1);
    CHECK_EQ_INT(quic_client_initial_keys(0xff00001d, rfc_dcid, 8, &k), 0);
    CHECK_EQ_INT(quic_client_initial_keys(0xff000020, rfc_dcid, 8, &k), 0);
    CHECK_EQ_INT(quic_client_initial_keys(0xff000021, rfc_dcid, 8, &k), -1);
}

/* Decrypt an Appendix A.2 packet both ways: the low-level walk (one
 * Initial, one CRYPTO frame at offset 0 of 241 bytes) and a flow (the
 * ClientHello names example.com). */
static void check_a2(const char *hex)
{
    static uint8_t buf[1200];
    CHECK_EQ_INT(unhex(hex, buf, sizeof buf), 1200);
    static frames f;
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(quic_initial_crypto_frames(buf, 1200, NULL, 0, collect, &f),
                 1);
    CHECK_EQ_INT(f.n, 1);
    CHECK_EQ_INT(f.off[0], 0);
    CHECK_EQ_INT(f.len[0], 241);
    CHECK(eq_hex(f.data[0], 64, a2_ch_head));
    /* the same with the DCID given explicitly */
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(quic_initial_crypto_frames(buf, 1200, rfc_dcid, 8, collect,
                                            &f), 1);
    CHECK_EQ_INT(f.n, 1);
    /* and with a wrong one: an Initial, but nothing decrypts */
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(quic_initial_crypto_frames(buf, 1200, rfc_dcid, 7, collect,
                                            &f), 1);
    CHECK_EQ_INT(f.n, 0);

    quic_flow *q = quic_flow_new();
    tls_hello h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(quic_flow_add(q, 1, buf, 1200, &h), QUIC_DONE);
    CHECK_EQ_INT(h.has_sni, 1);
    CHECK_EQ_STR(h.sni, "example.com");
    CHECK_EQ_INT(quic_flow_client_dir(q), 1);
    /* after DONE nothing more happens */
    tls_hello h2;
    memset(&h2, 0, sizeof h2);
    CHECK_EQ_INT(quic_flow_add(q, 1, buf, 1200, &h2), QUIC_DONE);
    CHECK(h2.sni == NULL);
    tls_hello_free(&h);
    quic_flow_free(q);
}

static void test_rfc9001_client_initial(void) { check_a2(rfc9001_a2); }
static void test_rfc9369_client_initial(void) { check_a2(rfc9369_a2); }

/* ------------------------------------------------------------ frames */

static void test_frame_walk(void)
{
    frames f;
    /* PADDING, PING, ACK (1 range), ACK_ECN (0 ranges + 3 counts),
     * CONNECTION_CLOSE with a 2-byte reason, CRYPTO, then an unknown
     * type (0x08 STREAM) that ends the walk before the last CRYPTO. */
    uint8_t p[] = {
        0x00, 0x01,
        0x02, 0x05, 0x00, 0x01, 0x00, 0x01, 0x02,
        0x03, 0x05, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03,
        0x1c, 0x00, 0x06, 0x02, 'h', 'i',
        0x06, 0x40, 0x10, 0x03, 'a', 'b', 'c',
        0x08, 0x00,
        0x06, 0x00, 0x01, 'x'
    };
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(quic_parse_frames(p, sizeof p, collect, &f), 1);
    CHECK_EQ_INT(f.n, 1);
    CHECK_EQ_INT(f.off[0], 16);
    CHECK_EQ_INT(f.len[0], 3);
    CHECK(memcmp(f.data[0], "abc", 3) == 0);

    /* CRYPTO data clamped to the payload */
    uint8_t c[] = { 0x06, 0x00, 0x0a, 'x', 'y' };
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(quic_parse_frames(c, sizeof c, collect, &f), 1);
    CHECK_EQ_INT(f.len[0], 2);

    /* a varint cut short keeps the frames before it */
    uint8_t t[] = { 0x06, 0x00, 0x01, 'z', 0x06, 0x80, 0x00 };
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(quic_parse_frames(t, sizeof t, collect, &f), 1);
    CHECK_EQ_INT(f.len[0], 1);

    /* an ACK claiming 2^62-1 ranges ends at the payload's end */
    uint8_t a[] = { 0x02, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0x00, 0x01, 0x01 };
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(quic_parse_frames(a, sizeof a, collect, &f), 0);

    /* every prefix of the first buffer parses without reading past it */
    for (size_t n = 0; n <= sizeof p; n++) {
        uint8_t *cp = malloc(n ? n : 1);
        memcpy(cp, p, n);
        memset(&f, 0, sizeof f);
        quic_parse_frames(cp, n, collect, &f);
        free(cp);
    }
    CHECK_EQ_INT(quic_parse_frames(NULL, 0, collect, &f), 0);
}

/* ------------------------------------------------------------ flows */

static uint8_t CH[2048];
static size_t CH_LEN;

static void make_ch(void)
{
    CH_LEN = build_ch(CH, "Split.Example.ORG", 700);
}

/* Every supported version round-trips through seal_initial; an unsupported
 * one is not an Initial datagram at all. */
static void test_versions(void)
{
    static const uint32_t ok[] = { 1, 0x6b3343cf, 0xff00001d, 0xff00001e,
                                   0xff00001f, 0xff000020 };
    static uint8_t d[4096];
    make_ch();
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        pkt s = P1;
        s.version = ok[i];
        s.pnl = 1 + (int)(i % 4);
        s.pn = 0x01020304u >> (8 * (3 - (unsigned)(i % 4)));
        size_t n = seal_crypto(d, &s, 0, CH, CH_LEN);
        quic_flow *q = quic_flow_new();
        tls_hello h;
        memset(&h, 0, sizeof h);
        CHECK_EQ_INT(quic_flow_add(q, 0, d, n, &h), QUIC_DONE);
        CHECK_EQ_STR(h.sni, "split.example.org");
        CHECK_EQ_INT(quic_flow_client_dir(q), 0);
        tls_hello_free(&h);
        quic_flow_free(q);
    }
    static const uint32_t bad[] = { 0xff00001c, 0xff000021, 0x0a0a0a0a,
                                    0x51303530 /* Q050 */, 0 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pkt s = P1;
        s.version = bad[i];
        size_t n = seal_crypto(d, &s, 0, CH, CH_LEN);
        CHECK_EQ_INT(quic_initial_crypto_frames(d, n, NULL, 0, NULL, NULL),
                     0);
        quic_flow *q = quic_flow_new();
        CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
        CHECK_EQ_INT(quic_flow_client_dir(q), -1);
        /* the flow is untouched: a real Initial from the other side
         * still makes that side the client */
        size_t m = seal_crypto(d, &P1, 0, CH, CH_LEN);
        CHECK_EQ_INT(quic_flow_add(q, 1, d, m, NULL), QUIC_DONE);
        CHECK_EQ_INT(quic_flow_client_dir(q), 1);
        quic_flow_free(q);
    }
}

static void test_token_and_pn_lengths(void)
{
    static uint8_t d[4096];
    make_ch();
    for (int pnl = 1; pnl <= 4; pnl++) {
        pkt s = P1;
        s.pnl = pnl;
        s.pn = 7;
        s.token_len = (size_t)pnl * 40;
        size_t n = seal_crypto(d, &s, 0, CH, CH_LEN);
        quic_flow *q = quic_flow_new();
        CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_DONE);
        quic_flow_free(q);
    }
}

/* A ClientHello split over two Initials in two datagrams, in order and in
 * reverse order. */
static void test_split_two_datagrams(void)
{
    static uint8_t d1[4096], d2[4096];
    make_ch();
    size_t cut = 300;
    pkt s = P1;
    size_t n1 = seal_crypto(d1, &s, 0, CH, cut);
    s.pn = 1;
    size_t n2 = seal_crypto(d2, &s, cut, CH + cut, CH_LEN - cut);

    quic_flow *q = quic_flow_new();
    tls_hello h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(quic_flow_add(q, 0, d1, n1, &h), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    CHECK_EQ_INT(quic_flow_add(q, 0, d2, n2, &h), QUIC_DONE);
    CHECK_EQ_STR(h.sni, "split.example.org");
    tls_hello_free(&h);
    quic_flow_free(q);

    q = quic_flow_new();
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(quic_flow_add(q, 1, d2, n2, &h), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), 1);
    CHECK_EQ_INT(quic_flow_add(q, 1, d1, n1, &h), QUIC_DONE);
    CHECK_EQ_STR(h.sni, "split.example.org");
    tls_hello_free(&h);
    quic_flow_free(q);
}

/* Overlapping frames and retransmissions: per offset the longer wins, the
 * contiguous prefix is what counts. */
static void test_overlap_and_retransmit(void)
{
    static uint8_t d[4096];
    make_ch();
    quic_flow *q = quic_flow_new();
    size_t n = seal_crypto(d, &P1, 0, CH, 100);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
    n = seal_crypto(d, &P1, 0, CH, 50);            /* shorter: ignored */
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
    n = seal_crypto(d, &P1, 200, CH + 200, 300);   /* a gap at 100..200 */
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
    n = seal_crypto(d, &P1, 500, CH + 500, CH_LEN - 500);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
    n = seal_crypto(d, &P1, 0, CH, 150);           /* longer: fills to 150 */
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
    n = seal_crypto(d, &P1, 90, CH + 90, 120);     /* overlaps, to 210 */
    tls_hello h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, &h), QUIC_DONE);
    CHECK_EQ_STR(h.sni, "split.example.org");
    tls_hello_free(&h);
    quic_flow_free(q);
}

/* Two Initials coalesced in one datagram, with a Handshake packet between
 * them that is skipped. */
static void test_coalesced(void)
{
    static uint8_t d[8192];
    make_ch();
    size_t n = seal_crypto(d, &P1, 0, CH, 400);
    pkt hs = P1;
    hs.type = 2;
    uint8_t junk[40] = { 0 };
    n += seal_initial(d + n, &hs, junk, sizeof junk);
    pkt s = P1;
    s.pn = 1;
    n += seal_crypto(d + n, &s, 400, CH + 400, CH_LEN - 400);

    frames *f = calloc(1, sizeof *f);
    CHECK_EQ_INT(quic_initial_crypto_frames(d, n, NULL, 0, collect, f), 2);
    CHECK_EQ_INT(f->n, 2);
    CHECK_EQ_INT(f->off[1], 400);
    free(f);

    quic_flow *q = quic_flow_new();
    tls_hello h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, &h), QUIC_DONE);
    CHECK_EQ_STR(h.sni, "split.example.org");
    tls_hello_free(&h);
    quic_flow_free(q);

    /* the same in v2, where the type codes differ */
    pkt v = P1;
    v.version = 0x6b3343cf;
    n = seal_crypto(d, &v, 0, CH, 400);
    pkt vh = v;
    vh.type = 2;
    n += seal_initial(d + n, &vh, junk, sizeof junk);
    v.pn = 1;
    n += seal_crypto(d + n, &v, 400, CH + 400, CH_LEN - 400);
    q = quic_flow_new();
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_DONE);
    quic_flow_free(q);
}

/* A second Initial whose header carries another DCID but that is protected
 * with the first Initial's keys (RFC 9001 5.2) decrypts via the fallback. */
static void test_first_dcid_fallback(void)
{
    static uint8_t d1[4096], d2[4096];
    make_ch();
    size_t n1 = seal_crypto(d1, &P1, 0, CH, 300);
    pkt s = P1;
    s.dcid = "0011223344";
    s.key_dcid = "8394c8f03e515708";
    s.pn = 1;
    size_t n2 = seal_crypto(d2, &s, 300, CH + 300, CH_LEN - 300);

    /* on its own the second packet does not decrypt... */
    frames *f = calloc(1, sizeof *f);
    CHECK_EQ_INT(quic_initial_crypto_frames(d2, n2, NULL, 0, collect, f), 1);
    CHECK_EQ_INT(f->n, 0);
    /* ...with the first DCID's keys it does */
    CHECK_EQ_INT(quic_initial_crypto_frames(d2, n2, rfc_dcid, 8, collect, f),
                 1);
    CHECK_EQ_INT(f->n, 1);
    free(f);

    quic_flow *q = quic_flow_new();
    tls_hello h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(quic_flow_add(q, 0, d1, n1, &h), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_add(q, 0, d2, n2, &h), QUIC_DONE);
    CHECK_EQ_STR(h.sni, "split.example.org");
    tls_hello_free(&h);
    quic_flow_free(q);

    /* The first DCID is the first Initial's even if that one did not
     * decrypt (its tag is broken here). */
    d1[n1 - 1] ^= 1;
    q = quic_flow_new();
    CHECK_EQ_INT(quic_flow_add(q, 0, d1, n1, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    d1[n1 - 1] ^= 1;
    CHECK_EQ_INT(quic_flow_add(q, 0, d2, n2, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_add(q, 0, d1, n1, NULL), QUIC_DONE);
    quic_flow_free(q);

    /* Seen the other way round, the "first DCID" is 0011223344 and the
     * packet protected with 8394... keys cannot be opened by it... */
    q = quic_flow_new();
    CHECK_EQ_INT(quic_flow_add(q, 0, d2, n2, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    /* ...but the first packet still opens with its own DCID; the second
     * one's frames were lost, so the ClientHello stays incomplete. */
    CHECK_EQ_INT(quic_flow_add(q, 0, d1, n1, NULL), QUIC_NEED);
    /* a retransmission now falls back to nothing new: still NEED */
    CHECK_EQ_INT(quic_flow_add(q, 0, d2, n2, NULL), QUIC_NEED);
    quic_flow_free(q);
}

static void test_tampered_tag(void)
{
    static uint8_t d[4096];
    make_ch();
    size_t n = seal_crypto(d, &P1, 0, CH, CH_LEN);
    for (size_t at = 0; at < 3; at++) {
        /* a flipped bit in the tag, the ciphertext, or the protected
         * packet-number byte */
        size_t i = at == 0 ? n - 1 : at == 1 ? n - 40 : 22;
        d[i] ^= 0x10;
        frames *f = calloc(1, sizeof *f);
        CHECK_EQ_INT(quic_initial_crypto_frames(d, n, NULL, 0, collect, f),
                     1);
        CHECK_EQ_INT(f->n, 0);
        free(f);
        quic_flow *q = quic_flow_new();
        CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
        /* an Initial was seen: like the reference, its sender is the
         * client even though nothing decrypted */
        CHECK_EQ_INT(quic_flow_client_dir(q), 0);
        d[i] ^= 0x10;
        CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_DONE);
        quic_flow_free(q);
    }
}

/* Once the client direction is known the other one is ignored, even when
 * it carries a perfectly good client Initial. */
static void test_server_direction_ignored(void)
{
    static uint8_t d1[4096], d2[4096];
    make_ch();
    size_t n1 = seal_crypto(d1, &P1, 0, CH, 300);
    size_t n2 = seal_crypto(d2, &P1, 300, CH + 300, CH_LEN - 300);
    quic_flow *q = quic_flow_new();
    /* short-header, empty and non-QUIC datagrams fix nothing */
    uint8_t shorthdr[40] = { 0x40, 1, 2, 3 };
    CHECK_EQ_INT(quic_flow_add(q, 1, shorthdr, sizeof shorthdr, NULL),
                 QUIC_NEED);
    CHECK_EQ_INT(quic_flow_add(q, 1, d1, 0, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_add(q, 1, NULL, 0, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), -1);
    CHECK_EQ_INT(quic_flow_add(q, 0, d1, n1, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    CHECK_EQ_INT(quic_flow_add(q, 1, d2, n2, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_add(q, 1, d1, n1, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_add(q, 7, d2, n2, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    tls_hello h;
    memset(&h, 0, sizeof h);
    CHECK_EQ_INT(quic_flow_add(q, 0, d2, n2, &h), QUIC_DONE);
    CHECK_EQ_STR(h.sni, "split.example.org");
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    tls_hello_free(&h);
    quic_flow_free(q);
}

/* CRYPTO data that does not start with a ClientHello: FAIL, after which
 * the flow is ignored and has no client direction. */
static void test_not_client_hello(void)
{
    static uint8_t d[4096];
    make_ch();
    uint8_t sh[64];
    memcpy(sh, CH, sizeof sh);
    sh[0] = 2;                          /* ServerHello */
    size_t n = seal_crypto(d, &P1, 0, sh, 3);
    quic_flow *q = quic_flow_new();
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED); /* < 4 bytes */
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    n = seal_crypto(d, &P1, 0, sh, sizeof sh);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_FAIL);
    CHECK_EQ_INT(quic_flow_client_dir(q), -1);
    n = seal_crypto(d, &P1, 0, CH, CH_LEN);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_FAIL);
    CHECK_EQ_INT(quic_flow_add(q, 1, d, n, NULL), QUIC_FAIL);
    CHECK_EQ_INT(quic_flow_client_dir(q), -1);
    quic_flow_free(q);
}

/* An Initial with no CRYPTO frame (only PING+PADDING) fixes the client
 * but needs more. */
static void test_no_frames(void)
{
    static uint8_t d[4096];
    uint8_t ping[30] = { 0x01 };
    size_t n = seal_initial(d, &P1, ping, sizeof ping);
    quic_flow *q = quic_flow_new();
    CHECK_EQ_INT(quic_flow_add(q, 1, d, n, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), 1);
    quic_flow_free(q);
}

/* Every truncation of a valid datagram (header, sample, ciphertext, tag):
 * never a crash or an overread (ASan), never DONE before the last byte. */
static void test_truncations(void)
{
    static uint8_t d[4096];
    make_ch();
    pkt s = P1;
    s.token_len = 70;                   /* a 2-byte token length varint */
    size_t n = seal_crypto(d, &s, 0, CH, CH_LEN);
    for (size_t len = 0; len <= n; len++) {
        uint8_t *cp = malloc(len ? len : 1);  /* exact size for ASan */
        memcpy(cp, d, len);
        quic_initial_crypto_frames(cp, len, NULL, 0, NULL, NULL);
        quic_flow *q = quic_flow_new();
        quic_state st = quic_flow_add(q, 0, cp, len, NULL);
        CHECK(len == n ? st == QUIC_DONE : st == QUIC_NEED);
        quic_flow_free(q);
        free(cp);
    }
    /* a truncated second packet after a good one keeps the first one's
     * frames */
    static uint8_t two[8192];
    size_t a = seal_crypto(two, &P1, 0, CH, CH_LEN);
    size_t b = seal_crypto(two + a, &P1, 0, CH, 10);
    for (size_t cut = a; cut <= a + b; cut++) {
        uint8_t *cp = malloc(cut);
        memcpy(cp, two, cut);
        quic_flow *q = quic_flow_new();
        CHECK_EQ_INT(quic_flow_add(q, 0, cp, cut, NULL), QUIC_DONE);
        quic_flow_free(q);
        free(cp);
    }
}

/* Hostile lengths in the header: huge token or length varints, a DCID
 * length past the end. */
static void test_hostile_header(void)
{
    uint8_t d[64];
    memset(d, 0, sizeof d);
    d[0] = 0xc3; d[1] = 0; d[2] = 0; d[3] = 0; d[4] = 1;
    d[5] = 200;                         /* DCID length past the end */
    quic_flow *q = quic_flow_new();
    CHECK_EQ_INT(quic_flow_add(q, 0, d, sizeof d, NULL), QUIC_NEED);
    CHECK_EQ_INT(quic_flow_client_dir(q), -1);
    d[5] = 0; d[6] = 0;                 /* token length 2^62-1 */
    memset(d + 7, 0xff, 8);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, sizeof d, NULL), QUIC_NEED);
    d[7] = 0;                           /* length 2^62-1 */
    memset(d + 8, 0xff, 8);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, sizeof d, NULL), QUIC_NEED);
    /* an Initial header that parsed: the sender is now the client */
    CHECK_EQ_INT(quic_flow_client_dir(q), 0);
    /* a Handshake packet with a huge length just ends the walk */
    d[0] = 0xe3;
    memset(d + 7, 0xff, 8);
    CHECK_EQ_INT(quic_initial_crypto_frames(d, sizeof d, NULL, 0, NULL,
                                            NULL), 0);
    quic_flow_free(q);
}

/* A flow that keeps sending CRYPTO data that never completes is cut off
 * at QUIC_MAX_CRYPTO_BYTES. */
static void test_memory_bound(void)
{
    static uint8_t d[4096], blob[1100];
    uint8_t head[4] = { 1, 0xff, 0xff, 0xff };  /* a 16 MiB ClientHello */
    memset(blob, 0x41, sizeof blob);
    quic_flow *q = quic_flow_new();
    size_t n = seal_crypto(d, &P1, 0, head, 4);
    CHECK_EQ_INT(quic_flow_add(q, 0, d, n, NULL), QUIC_NEED);
    quic_state st = QUIC_NEED;
    int sent = 0;
    for (uint64_t off = 4; st == QUIC_NEED && sent < 1000; sent++) {
        n = seal_crypto(d, &P1, off, blob, sizeof blob);
        st = quic_flow_add(q, 0, d, n, NULL);
        off += sizeof blob;
    }
    CHECK_EQ_INT(st, QUIC_FAIL);
    CHECK_EQ_INT(sent, (QUIC_MAX_CRYPTO_BYTES - 4) / sizeof blob + 1);
    CHECK_EQ_INT(quic_flow_client_dir(q), -1);
    quic_flow_free(q);

    /* many empty frames at distinct offsets hit the segment bound */
    q = quic_flow_new();
    uint8_t pl[1200];
    st = QUIC_NEED;
    sent = 0;
    for (uint64_t off = 1000; st == QUIC_NEED && sent < 100; sent++) {
        size_t k = 0;
        while (k + 4 <= 1100) {
            pl[k++] = 0x06;
            k += put_varint(pl + k, off++);
            pl[k++] = 0;
        }
        n = seal_initial(d, &P1, pl, k);
        st = quic_flow_add(q, 0, d, n, NULL);
    }
    CHECK_EQ_INT(st, QUIC_FAIL);
    quic_flow_free(q);
}

static void test_null_args(void)
{
    quic_flow_free(NULL);
    CHECK_EQ_INT(quic_flow_client_dir(NULL), -1);
    CHECK_EQ_INT(quic_initial_crypto_frames(NULL, 5, NULL, 0, NULL, NULL),
                 0);
}

int main(void)
{
    RUN(test_rfc9001_keys);
    RUN(test_rfc9369_keys);
    RUN(test_unsupported_version_keys);
    RUN(test_rfc9001_client_initial);
    RUN(test_rfc9369_client_initial);
    RUN(test_frame_walk);
    RUN(test_versions);
    RUN(test_token_and_pn_lengths);
    RUN(test_split_two_datagrams);
    RUN(test_overlap_and_retransmit);
    RUN(test_coalesced);
    RUN(test_first_dcid_fallback);
    RUN(test_tampered_tag);
    RUN(test_server_direction_ignored);
    RUN(test_not_client_hello);
    RUN(test_no_frames);
    RUN(test_truncations);
    RUN(test_hostile_header);
    RUN(test_memory_bound);
    RUN(test_null_args);
    return check_summary();
}
