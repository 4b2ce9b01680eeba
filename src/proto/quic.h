/* quic.h - QUIC Initial packets: decrypt the client's Initials and read the
 * ClientHello they carry in CRYPTO frames.
 *
 * Owns: quic_flow, the per-flow state (CRYPTO data per direction, the first
 * client Initial's DCID, which direction is the client).  Uses OpenSSL's
 * libcrypto for HKDF/HMAC-SHA256, AES-128-ECB (header protection) and
 * AES-128-GCM.  Versions: 1 (RFC 9001), 2 (RFC 9369) and drafts 29-32;
 * others give no SNI.
 *
 * Semantics follow ../shared/spec/FEATURES.md and ref_extract.py (quic(),
 * quic_initial_crypto(), quic_try()):
 *  - a datagram may hold several coalesced long-header packets; each Initial
 *    is decrypted with keys from its own DCID, and if that fails with the
 *    DCID of the flow's first client Initial;
 *  - the first direction that sends a datagram holding an Initial becomes
 *    the client; datagrams of the other direction are ignored;
 *  - CRYPTO frames are kept per offset (longest wins) and the contiguous
 *    prefix from offset 0 is parsed as a handshake message: type 1 needed
 *    (else QUIC_FAIL, after which the flow is ignored), complete length ->
 *    QUIC_DONE. */
#ifndef SNITCH_QUIC_H
#define SNITCH_QUIC_H

#include <stddef.h>
#include <stdint.h>

#include "proto/tls.h"

typedef enum quic_state {
    QUIC_NEED = 0,
    QUIC_FAIL = 1,
    QUIC_DONE = 2
} quic_state;

typedef struct quic_flow quic_flow;

quic_flow *quic_flow_new(void);     /* NULL when out of memory */
void quic_flow_free(quic_flow *q);

/* Feed one UDP payload sent in direction dir (0 or 1, relative to the
 * flow).  On QUIC_DONE *out is filled (caller frees it with
 * tls_hello_free; out may be NULL).  After QUIC_DONE or QUIC_FAIL further
 * calls return the same state and do nothing.  A dir other than 0 or 1 is
 * ignored (QUIC_NEED).  Out of memory, or stored CRYPTO data beyond the
 * bounds below, gives QUIC_FAIL. */
quic_state quic_flow_add(quic_flow *q, int dir, const uint8_t *data,
                         size_t len, tls_hello *out);

/* The client direction (the first direction that sent a client Initial),
 * or -1 if none yet or after QUIC_FAIL. */
int quic_flow_client_dir(const quic_flow *q);

/* Lower level, for tests and fuzzing: decrypt every client Initial in one
 * datagram with the keys derived from `dcid` (or each packet's own DCID when
 * dcid is NULL) and call fn(ctx, offset, bytes, len) for each CRYPTO frame.
 * Returns the number of Initial packets seen (0: not an Initial datagram of
 * a supported version), or -1 when out of memory. */
int quic_initial_crypto_frames(const uint8_t *data, size_t len,
                               const uint8_t *dcid, size_t dcid_len,
                               void (*fn)(void *ctx, uint64_t off,
                                          const uint8_t *p, size_t n),
                               void *ctx);

/* Bounds on the CRYPTO data a flow keeps (the bytes of all stored frames,
 * and the number of distinct offsets).  A flow that would go over either
 * gets QUIC_FAIL, so a hostile peer cannot make it grow without end; a real
 * ClientHello is a few KiB. */
#define QUIC_MAX_CRYPTO_BYTES (1u << 17)
#define QUIC_MAX_CRYPTO_SEGS 4096u

/* The client's Initial secrets for `version` and a Destination Connection
 * ID (RFC 9001 5.2, RFC 9369 3.3.1).  Returns 0, or -1 when the version is
 * not supported or libcrypto fails.  Exposed for tests. */
typedef struct quic_keys {
    uint8_t secret[32];     /* client_initial_secret */
    uint8_t key[16];        /* AEAD_AES_128_GCM key */
    uint8_t iv[12];
    uint8_t hp[16];         /* header-protection key (AES-128-ECB) */
} quic_keys;

int quic_client_initial_keys(uint32_t version, const uint8_t *dcid,
                             size_t dcid_len, quic_keys *out);

/* Walk the frames of one decrypted packet payload the way the flow does
 * (PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE; any other type or a frame
 * cut short ends the walk) and call fn for each CRYPTO frame, its data
 * clamped to the payload.  Returns the number of CRYPTO frames.  Exposed
 * for fuzzing the frame parser without AES-GCM in the way. */
size_t quic_parse_frames(const uint8_t *plain, size_t len,
                         void (*fn)(void *ctx, uint64_t off,
                                    const uint8_t *p, size_t n),
                         void *ctx);

#endif
