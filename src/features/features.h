/* features.h - per-flow and per-packet features of ../shared/spec/FEATURES.md.
 *
 * Owns: feat_ws (reusable scratch memory, so computing features allocates
 * nothing per flow once warm) and the three feature families:
 *  - statistical (42 columns, the paper's section 4.2),
 *  - sequence (first n counted packets, 4 channels, pre-padded),
 *  - per-packet window (the YouTube/Spotify classifier's 10 columns).
 * Numbers are computed as the contract says: percentiles by numpy's
 * 'linear' method (and its lerp formula), population variance, IATs from
 * integer nanosecond differences. */
#ifndef SNITCH_FEATURES_H
#define SNITCH_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

#define FEAT_NSTATS 42
#define FEAT_NWINDOW 10

/* A flow's packets as the features see them: in capture-timestamp order
 * (stable), directions relative to the client. */
typedef struct feat_view {
    size_t n;
    const int64_t *ts;
    const uint32_t *size;
    const uint32_t *pay;
    const uint8_t *fwd;     /* 1: client->server, 0: server->client */
} feat_view;

typedef struct feat_ws feat_ws;

feat_ws *feat_ws_new(void);
void feat_ws_free(feat_ws *ws);

/* Sort f's packets by timestamp (stable) into ws and describe them in *all
 * (every packet) and *data (only packets with payload > 0, or every packet
 * when data_only is 0).  client_dir: which of f's endpoints is the client.
 * The views stay valid until the next call with the same ws.  Returns 0 or
 * -1 when out of memory. */
int feat_prepare(feat_ws *ws, const flow *f, int client_dir, int data_only,
                 feat_view *all, feat_view *data);

/* The same over only the first `first` packets of the flow in timestamp
 * order (0 = all): what a flow looked like when it had that many packets,
 * for early classification (extract --first, classify --after). */
int feat_prepare_first(feat_ws *ws, const flow *f, int client_dir, int data_only, size_t first,
                       feat_view *all, feat_view *data);

/* Column names: "pkt_fwd_num", ... in contract order. */
const char *feat_stats_name(int i);
/* Window columns: "dt_prev", "size", "rx_bytes", ... */
const char *feat_window_name(int i);

/* 42 statistics of v into out.  Returns 0 or -1 when out of memory. */
int feat_stats(feat_ws *ws, const feat_view *v, double out[FEAT_NSTATS]);

/* Sequence of the first n packets of v: out holds 4*n values, channels
 * size_0..size_{n-1}, payload_*, iat_*, dir_*. */
void feat_seq(const feat_view *v, int n, double *out);

/* One row of FEAT_NWINDOW values per packet of v (out: v->n rows), window
 * of w_ns nanoseconds before each packet. */
void feat_window(const feat_view *v, int64_t w_ns, double *out);

#endif
