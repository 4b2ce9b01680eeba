/* synth.h - a deterministic synthetic capture of TLS flows.
 *
 * Owns: synth_config and the writer.  Used by `snitch synth` for the demo,
 * the tests and the benchmarks: K classes, one SNI per class (names without
 * digits or '-', so every labeling mode keeps the classes apart), whose
 * packet sizes, counts and timings differ by class with overlap.  The
 * capture mixes IPv4 and IPv6, plain, VLAN and QinQ Ethernet, ClientHellos
 * split over two TCP segments and over two TLS records, retransmitted and
 * out-of-order segments, flows seen mid-stream (no handshake) and 5-tuples
 * reused after FIN.  Flows overlap in time, and packets are written in
 * timestamp order.  The same config always gives the same bytes. */
#ifndef SNITCH_SYNTH_H
#define SNITCH_SYNTH_H

#include <stdint.h>

#include "util/err.h"

typedef struct synth_config {
    uint64_t flows;        /* number of flows; with target_bytes: at least */
    unsigned classes;      /* number of SNI classes (>= 1) */
    uint64_t seed;
    uint64_t target_bytes; /* 0, or keep adding flows until the file holds
                              at least this many bytes */
    int nanosecond;        /* write a nanosecond-resolution pcap */
    const char *truth_path;/* NULL, or write one CSV row per flow there:
                              flow,client_ip,client_port,server_ip,
                              server_port,proto,sni,class,packets,handshake */
} synth_config;

/* Write the capture to path (pcap, Ethernet link type).  Returns 0, or -1
 * with e filled (file and reason). */
int synth_write(const synth_config *cfg, const char *path, snitch_err *e);

/* Name of class k, e.g. "www.kabeto.com": stable across versions. */
void synth_class_sni(unsigned k, char *buf, unsigned bufsz);

#endif
