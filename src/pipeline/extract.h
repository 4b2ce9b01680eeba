/* extract.h - the extraction pipeline: packets in, feature rows out.
 *
 * Owns: extract, which wires the stages together - decode, flow table,
 * ClientHello/QUIC inspection, labels, features, CSV rows - and counts what
 * happened (packets by skip reason, flows, labels) for the summary.  It
 * reads no files and prints nothing: the caller feeds packets and owns the
 * output stream.
 *
 * Rows are written as flows end, so memory stays bounded by the open flows
 * (and max_flows), except with min_flows > 1: then rows wait in a temporary
 * file until all flows are known, and only labels with enough flows are
 * copied out at the end. */
#ifndef SNITCH_EXTRACT_H
#define SNITCH_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "flow/flow.h"
#include "label/label.h"
#include "output/csv.h"
#include "util/err.h"

enum {
    EXTRACT_STATS = 1,      /* 42 statistical features */
    EXTRACT_SEQ = 2,        /* first-n sequence features */
    EXTRACT_WINDOW = 4      /* per-packet window features (alone) */
};

struct feat_view;

/* A flow as the pipeline hands it to a caller that wants records, not CSV
 * rows (snitch classify).  Valid only during the callback. */
typedef struct extract_flow {
    const flow *f;
    int client;                 /* index of the client endpoint in f */
    int has_hello;              /* a ClientHello was found */
    const char *sni;            /* "" without one; may hold NULs: sni_len */
    size_t sni_len;
    int ech;
    uint16_t tls_version;
    const char *label;          /* the SNI's label under the labeling mode */
    const struct feat_view *all, *data;   /* packets considered (all: those
                                   kept, see packets) */
    uint64_t packets;           /* how many packets the record describes */
    int64_t first_ts, last_ts;  /* the earliest and latest of their times */
    int early;                  /* decided at decide_after packets, before
                                   the flow ended */
} extract_flow;

typedef struct extract_config {
    unsigned features;      /* EXTRACT_* bits; WINDOW only alone */
    int data_only;          /* --packets data (1) or all (0) */
    int seq_n;              /* sequence length n (default 25) */
    int64_t window_ns;      /* window width (default 10 ms) */
    int64_t idle_ns;        /* idle timeout (default 120 s) */
    int64_t active_ns;      /* active timeout, 0 = off */
    size_t max_flows;       /* open-flow bound, 0 = unbounded */
    int all_flows;          /* write flows without label too */
    uint64_t min_flows;     /* keep labels with >= this many flows (0/1: all) */
    const labeler *labels;  /* borrowed; required */
    size_t first_n;         /* features over the first N packets (0 = all) */
    size_t decide_after;    /* hand a flow over when it has N packets, not at
                               its end (0 = at its end); needs on_flow */
    /* NULL: write CSV rows.  Else called once per flow (every flow, with or
     * without label) instead of writing rows. */
    void (*on_flow)(void *ctx, const extract_flow *r);
    void *ctx;
} extract_config;

typedef struct extract_stats {
    uint64_t packets;                   /* packets given */
    uint64_t decoded;                   /* TCP/UDP packets added to flows */
    uint64_t skipped[DECODE_NSTATUS];   /* by decode status (OK unused) */
    flow_table_stats flows;
    uint64_t with_sni;                  /* flows whose ClientHello had an SNI */
    uint64_t ech;                       /* flows offering ECH */
    uint64_t labeled;                   /* flows with a non-empty label */
    uint64_t written;                   /* flow rows written (window: flows) */
    uint64_t rows;                      /* CSV rows written */
    uint64_t labels;                    /* distinct labels written */
    uint64_t below_min;                 /* flows dropped by min_flows */
} extract_stats;

typedef struct extract extract;

/* out: where rows go (borrowed, not closed; NULL with on_flow).  Fails on
 * a bad config. */
extract *extract_new(const extract_config *cfg, csv_writer *out, snitch_err *e);

/* Write the CSV header line. */
void extract_write_header(extract *x);

/* Feed one captured packet.  Returns 0, or -1 (a link type the decoder
 * does not support, out of memory, a write error), with e filled. */
int extract_packet(extract *x, const capture_packet *pkt, snitch_err *e);

/* End all flows, apply min_flows, write the remaining rows.  Returns 0 or
 * -1 with e filled. */
int extract_finish(extract *x, snitch_err *e);

void extract_get_stats(const extract *x, extract_stats *out);

void extract_free(extract *x);

#endif
