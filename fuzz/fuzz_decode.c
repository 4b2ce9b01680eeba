/* fuzz_decode.c - libFuzzer target for src/decode/decode.c, and through it
 * for the whole extraction pipeline (flows, TLS/QUIC inspection, labels,
 * features, CSV rows).
 *
 * Input: one selector byte, then the body.
 *   selector bits 0-3: link type, LINKS[] below (one entry unsupported);
 *   bits 4-7: pipeline options: 0x10 window features (else stats + seq),
 *   0x20 every packet counts (--packets all), 0x40 labelled flows only,
 *   0x80 min_flows 2 and an active timeout of 1 s.
 *
 * 1. The whole body is decoded as one frame; on DECODE_OK the result must
 *    lie inside the input (payload, payload_cap), family 4/6, proto 6/17,
 *    at most 8 tunnels.
 * 2. The body is also cut into records  len_hi len_lo dt frame[len]  (the
 *    last frame is clipped to what is left).  Each frame is decoded and
 *    checked the same way, then fed to an extract (max_flows 4, so flows
 *    get evicted) from an exact-size heap copy that is freed right after,
 *    so ASan sees both reads past the frame and pointers kept into it.
 *    dt advances the clock by (dt & 63) units of 1 us, 1 ms or 1 s (top
 *    bits 0, 1, 2) or moves it back by (dt & 63) ms (top bits 3).
 *    Afterwards the counters must add up.
 * Seeds: tests/unit/test_decode --write-seeds DIR. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "label/label.h"
#include "output/csv.h"
#include "pipeline/extract.h"

#define MAX_RECORDS 64

static const int LINKS[16] = {
    LINK_ETHERNET, LINK_SLL, LINK_SLL2, LINK_NULL, LINK_LOOP, LINK_RAW, LINK_RAW_BSD,
    LINK_RAW_OBSD, LINK_IPV4, LINK_IPV6, LINK_ETHERNET, LINK_ETHERNET, LINK_SLL, LINK_NULL,
    105 /* IEEE 802.11: not supported */, LINK_ETHERNET,
};

static int supported(int lt) { return lt != 105; }

/* Decode one frame and check what the decoder promises. */
static decode_status check_decode(int lt, const uint8_t *p, size_t n)
{
    decode_pkt d;
    decode_status st = decode_packet(lt, p, n, &d);
    if ((unsigned)st >= DECODE_NSTATUS)
        __builtin_trap();
    if (st == DECODE_LINKTYPE && supported(lt))
        __builtin_trap();
    if (st != DECODE_OK)
        return st;
    if (!supported(lt))
        __builtin_trap();
    if (d.payload < p || d.payload > p + n || d.payload_cap > (size_t)(p + n - d.payload))
        __builtin_trap();
    if ((d.family != 4 && d.family != 6) || (d.proto != 6 && d.proto != 17))
        __builtin_trap();
    if (d.tunnels > DECODE_MAX_TUNNELS)
        __builtin_trap();
    if (d.proto == 17 && (d.seq != 0 || d.tcp_flags != 0))
        __builtin_trap();
    if (d.family == 4)
        for (int i = 4; i < 16; i++)
            if (d.src[i] || d.dst[i])
                __builtin_trap();
    return st;
}

static const labeler *sni_labeler(void)
{
    static labeler *lab;
    if (!lab) {
        snitch_err e;
        if (!(lab = labeler_new("sni", &e)))
            __builtin_trap();
    }
    return lab;
}

static FILE *devnull(void)
{
    static FILE *f;
    if (!f && !(f = fopen("/dev/null", "w")))
        __builtin_trap();
    return f;
}

static void run_pipeline(int lt, unsigned opt, const uint8_t *body, size_t n)
{
    extract_config cfg = {
        .features = (opt & 1) ? EXTRACT_WINDOW : EXTRACT_STATS | EXTRACT_SEQ,
        .data_only = !(opt & 2),
        .seq_n = 5,
        .window_ns = 10000000,
        .idle_ns = 120 * (int64_t)1000000000,
        .active_ns = (opt & 8) ? 1000000000 : 0,
        .max_flows = 4,
        .all_flows = !(opt & 4),
        .min_flows = (opt & 8) ? 2 : 0,
        .labels = sni_labeler(),
    };
    snitch_err e;
    csv_writer *w = csv_writer_new(devnull());
    if (!w)
        __builtin_trap();
    extract *x = extract_new(&cfg, w, &e);
    if (!x)
        __builtin_trap();
    extract_write_header(x);

    int64_t ts = (int64_t)1700000000 * 1000000000;
    static const int64_t unit[4] = {1000, 1000000, 1000000000, -1000000};
    uint64_t fed = 0, refused = 0;
    size_t off = 0;
    for (int r = 0; r < MAX_RECORDS && n - off >= 3; r++) {
        size_t len = (size_t)body[off] << 8 | body[off + 1];
        unsigned dt = body[off + 2];
        off += 3;
        if (len > n - off)
            len = n - off;
        ts += (int64_t)(dt & 63) * unit[dt >> 6];
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            __builtin_trap();
        memcpy(copy, body + off, len);
        off += len;
        check_decode(lt, copy, len);
        capture_packet pkt = {
            .ts_ns = ts, .linktype = lt, .data = copy, .caplen = (uint32_t)len,
            .wirelen = (uint32_t)len + (dt & 1 ? 100 : 0), .number = fed + 1, .source = "fuzz",
        };
        int rc = extract_packet(x, &pkt, &e);
        free(copy);
        fed++;
        if (rc < 0) {
            if (supported(lt))
                __builtin_trap();
            refused++;
        }
    }
    if (extract_finish(x, &e) < 0)
        __builtin_trap();

    extract_stats st;
    extract_get_stats(x, &st);
    uint64_t skipped = 0, ended = 0;
    for (int i = 0; i < DECODE_NSTATUS; i++)
        skipped += st.skipped[i];
    for (int i = 0; i < FLOW_END_NREASONS; i++)
        ended += st.flows.ended[i];
    if (st.packets != fed || st.decoded + skipped + refused != fed)
        __builtin_trap();
    if (st.flows.open != 0 || ended != st.flows.flows || st.flows.peak_open > cfg.max_flows)
        __builtin_trap();
    if (st.flows.flows > st.decoded || st.written > st.flows.flows ||
        st.with_sni > st.flows.flows || st.labeled > st.flows.flows)
        __builtin_trap();
    extract_free(x);
    if (csv_writer_close(w) < 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int lt = LINKS[data[0] & 15];
    check_decode(lt, data + 1, size - 1);
    run_pipeline(lt, data[0] >> 4, data + 1, size - 1);
    return 0;
}
