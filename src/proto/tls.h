/* tls.h - TLS ClientHello: find it at the start of a client's TCP byte
 * stream and read the fields snitch records (SNI, version, ECH).
 *
 * Owns: tls_hello (the parsed result, its sni string) and tls_stream (the
 * per-direction reassembly of the first bytes of a TCP stream).  Nothing
 * here reads past the bytes it was given; malformed input gives TLS_FAIL or
 * an empty SNI, never a crash.
 *
 * Semantics follow ../shared/spec/FEATURES.md ("sni" label) and, where the
 * contract is silent, the reference extractor (ref_extract.py):
 *  - the stream starts at ISN+1 when a SYN was seen, else at the sequence
 *    number of the first data segment given; bytes before it are ignored;
 *  - segments are kept per relative offset (the longest one wins), so
 *    retransmissions and out-of-order arrival are fine; only the contiguous
 *    prefix from offset 0 is parsed;
 *  - the prefix must be TLS records of type 22 with major version 3; their
 *    bodies are concatenated until the first handshake message is complete;
 *    it must be a ClientHello (type 1), else TLS_FAIL;
 *  - more than TLS_STREAM_MAX_BYTES bytes of segments stored -> TLS_FAIL. */
#ifndef SNITCH_TLS_H
#define SNITCH_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_STREAM_MAX_BYTES (1u << 17)

typedef struct tls_hello {
    int has_sni;            /* a server_name extension with a host_name entry */
    char *sni;              /* malloc'd, NUL-terminated; "" when !has_sni.
                               ASCII letters lower-cased, invalid UTF-8 bytes
                               replaced by U+FFFD (as Python's
                               bytes.decode('utf-8', 'replace')).  May hold
                               NUL bytes: use sni_len. */
    size_t sni_len;
    uint16_t legacy_version;    /* ClientHello.legacy_version (0x0303 ...) */
    uint16_t max_version;       /* highest non-GREASE supported_versions entry,
                                   else legacy_version */
    int ech;                    /* encrypted_client_hello (0xfe0d) present */
} tls_hello;

/* Parse a ClientHello handshake body (the bytes after the 4-byte handshake
 * header).  Lenient like the reference: a body cut short yields whatever
 * was found before the cut (possibly no SNI, or a truncated host name).
 * Returns 0, or -1 only when out of memory.  On 0 the caller owns out->sni
 * and frees it with tls_hello_free(). */
int tls_parse_client_hello(const uint8_t *body, size_t len, tls_hello *out);

void tls_hello_free(tls_hello *h);

/* "tls1.3", "tls1.2", "tls1.1", "tls1.0", "ssl3.0", or "0x%04x" written into
 * buf (>= 8 bytes) for other values. */
const char *tls_version_name(uint16_t v, char *buf);

typedef enum tls_state {
    TLS_NEED = 0,   /* not enough contiguous bytes yet */
    TLS_FAIL = 1,   /* the stream does not start with a ClientHello */
    TLS_DONE = 2    /* ClientHello parsed (out filled) */
} tls_state;

typedef struct tls_stream tls_stream;

tls_stream *tls_stream_new(void);      /* NULL when out of memory */
void tls_stream_free(tls_stream *s);
tls_state tls_stream_state(const tls_stream *s);

/* Feed one TCP segment of this direction: its sequence number, whether SYN
 * is set (then the data, if any, starts at seq+1, and the stream base is
 * seq+1 if no base was set yet), and the captured payload bytes.  Returns
 * the new state; on the transition to TLS_DONE *out is filled (caller frees
 * it).  Once the state is not TLS_NEED further calls do nothing and return
 * it.  Out of memory is reported as TLS_FAIL. */
tls_state tls_stream_add(tls_stream *s, uint32_t seq, int syn,
                         const uint8_t *data, size_t len, tls_hello *out);

/* Try the contiguous bytes `data` (a client stream from its first byte) as
 * TLS records holding a ClientHello: TLS_NEED, TLS_FAIL, or TLS_DONE with
 * *out filled. */
tls_state tls_try_records(const uint8_t *data, size_t len, tls_hello *out);

#endif
