/* flow.h - bidirectional flows and the table that tracks them.
 *
 * Owns: flow (one TCP connection or UDP conversation: its endpoints and the
 * list of its packets) and flow_table (lookup by 5-tuple, flow lifecycle,
 * bounded memory).  Lifecycle per ../shared/spec/FEATURES.md: a flow ends at
 * RST (the RST is its last packet), after an idle gap strictly longer than
 * the idle timeout, at the active timeout, or - after FINs from both sides -
 * when a packet with SYN arrives (which starts a new flow).  UDP flows end by
 * timeouts only.  Ended flows are handed to the on_end callback at once, so
 * a long capture runs in memory bounded by its concurrent flows; when
 * max_flows flows are open, the least recently active one is evicted.
 *
 * The table knows nothing of TLS or features: on_packet lets the caller
 * inspect each packet of a flow before the flow can end on it. */
#ifndef SNITCH_FLOW_H
#define SNITCH_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "util/err.h"

/* One packet as the flow keeps it (24 bytes). */
typedef struct flow_pkt {
    int64_t ts;         /* capture time, ns */
    uint32_t size;      /* IP packet size */
    uint32_t pay;       /* transport payload size */
    uint8_t dir;        /* 0: sent by endpoint 0, 1: by endpoint 1 */
    uint8_t tcp_flags;
} flow_pkt;

typedef struct flow {
    uint64_t id;            /* 0, 1, ... in order of first packet */
    uint8_t proto;          /* 6 or 17 */
    uint8_t family;         /* 4 or 6 */
    uint8_t addr[2][16];    /* endpoint 0 = sender of the first packet */
    uint16_t port[2];
    int64_t first_seen;     /* arrival time of the first packet */
    int64_t last_seen;      /* arrival time of the latest packet */
    flow_pkt *pkts;         /* in arrival order */
    size_t npkts, cap;
    size_t nskipped;        /* packets without payload counted, not kept
                               (flow_table_config.skip_empty) */
    int64_t ts_min, ts_max; /* earliest and latest time of every packet */
    int8_t syn_dir;         /* sender of the first SYN without ACK, or -1 */
    uint8_t fin[2];         /* FIN seen from endpoint 0 / 1 */
    uint8_t fin_done;
    void *user;             /* the on_packet/on_end caller's per-flow state */
    uint8_t user_flags;     /* the caller's too (0 in a new flow), kept in
                               the flow's own cache lines: a test of it costs
                               no memory access of its own */

    /* table bookkeeping */
    int64_t lru_stamp;      /* last_seen when last put at the LRU head */
    uint64_t hash;
    struct flow *hnext;
    struct flow *lru_prev, *lru_next;
} flow;

typedef enum flow_end {
    FLOW_END_RST,       /* RST seen (it is the last packet) */
    FLOW_END_IDLE,      /* idle gap longer than the idle timeout */
    FLOW_END_ACTIVE,    /* active timeout */
    FLOW_END_REUSE,     /* SYN after FINs from both sides: tuple reused */
    FLOW_END_EVICTED,   /* table full (max_flows): least recently active */
    FLOW_END_FLUSH,     /* end of input */
    FLOW_END_NREASONS
} flow_end;

const char *flow_end_name(flow_end r);

typedef struct flow_table_config {
    int64_t idle_ns;        /* idle timeout (> 0) */
    int64_t active_ns;      /* active timeout, 0 = off */
    size_t max_flows;       /* 0 = unbounded */
    /* Called for each packet after it was added to f (dir: its sender,
     * 0 or 1), before FIN/RST handling.  May be NULL. */
    void (*on_packet)(void *ctx, flow *f, int dir, const decode_pkt *p);
    /* Called once per flow when it ends; f is freed after it returns (the
     * callee must release f->user). */
    void (*on_end)(void *ctx, flow *f, flow_end why);
    /* Called for flows still open when the table is freed without a flush
     * (error paths): release f->user, write nothing.  May be NULL. */
    void (*on_drop)(void *ctx, flow *f);
    void *ctx;
    /* Keep only packets with payload in f->pkts; the others are counted in
     * f->nskipped (and their times in ts_min/ts_max).  For users that look
     * at data packets only: ~40 % of TCP packets are bare ACKs, and not
     * keeping them saves their memory and its cache misses. */
    int skip_empty;
} flow_table_config;

typedef struct flow_table flow_table;

typedef struct flow_table_stats {
    uint64_t flows;             /* flows created */
    uint64_t open;              /* flows open now */
    uint64_t peak_open;
    uint64_t ended[FLOW_END_NREASONS];
} flow_table_stats;

flow_table *flow_table_new(const flow_table_config *cfg, snitch_err *e);

/* Add one decoded packet.  Returns 0, or -1 when out of memory. */
int flow_table_add(flow_table *t, int64_t ts, const decode_pkt *p, snitch_err *e);

/* End every open flow (FLOW_END_FLUSH), in order of their first packet. */
void flow_table_flush(flow_table *t);

void flow_table_get_stats(const flow_table *t, flow_table_stats *out);

/* Frees the table; open flows go to on_drop, not on_end (flush first). */
void flow_table_free(flow_table *t);

/* Textual address of endpoint i of f (inet_ntop), buf >= 46 bytes. */
const char *flow_addr_str(const flow *f, int i, char *buf, size_t n);
/* The same of an address kept apart from its flow (family 4 or 6). */
const char *flow_addr_fmt(int family, const uint8_t addr[16], char *buf, size_t n);

#endif
