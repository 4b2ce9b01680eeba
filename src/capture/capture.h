/* capture.h - packets from capture files or a live interface, via libpcap.
 *
 * Owns: capture, a source that yields packets with integer-nanosecond
 * timestamps.  Several files are read in the given order as one continuous
 * capture (rotated tcpdump files split flows across files).  libpcap reads
 * pcap (both byte orders, micro/nanosecond) and pcapng; we never parse the
 * file formats ourselves.  Errors name the file and the packet number. */
#ifndef SNITCH_CAPTURE_H
#define SNITCH_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct capture capture;

typedef struct capture_packet {
    int64_t ts_ns;          /* capture timestamp, ns since the epoch */
    int linktype;           /* DLT_* of this packet's interface */
    const uint8_t *data;    /* valid until the next capture_next() */
    uint32_t caplen;        /* bytes captured */
    uint32_t wirelen;       /* bytes on the wire */
    uint64_t number;        /* 1-based packet number within its file */
    const char *source;     /* file name or interface name */
} capture_packet;

enum {
    CAPTURE_PACKET = 1,     /* *pkt filled */
    CAPTURE_END = 0,        /* all input read */
    CAPTURE_ERROR = -1,     /* fatal: e says which file, which packet, why */
    CAPTURE_WARNING = 2     /* non-fatal (a truncated file: its complete
                               packets were delivered); e holds the text;
                               call capture_next again to go on */
};

/* Open the files (each is opened once here, so a missing or unreadable file
 * or a bad filter fails before any packet is read).  filter: BPF expression
 * or NULL. */
capture *capture_open_files(const char *const *paths, size_t npaths,
                            const char *filter, snitch_err *e);

/* Open a live interface (promiscuous, immediate mode, nanosecond
 * timestamps where the system offers them). */
capture *capture_open_live(const char *ifname, const char *filter,
                           int snaplen, snitch_err *e);

int capture_next(capture *c, capture_packet *pkt, snitch_err *e);

/* Read files ahead on a thread the capture owns (until capture_close):
 * it calls libpcap and copies each packet into blocks of block_bytes (0: a
 * default), so that the caller's thread spends its time on the packets, not
 * on reading them.  capture_next then gives the same packets, warnings,
 * errors and end, in the same order, with the same lifetime of pkt->data.
 * Call it before the first capture_next.  Returns 1: the thread reads;
 * 0: reading stays direct (a live capture, an input that is not a regular
 * file such as a pipe or standard input, no thread to be had); -1: out of
 * memory. */
int capture_read_ahead(capture *c, size_t block_bytes, snitch_err *e);

/* Ask a running capture_next to return CAPTURE_END soon (safe from a
 * signal handler: it only sets a flag and calls pcap_breakloop). */
void capture_stop(capture *c);

/* Bytes of input consumed and in total (files only; 0 total when live). */
void capture_progress(const capture *c, uint64_t *done, uint64_t *total);

/* Live statistics from libpcap: received and dropped (by the kernel and by
 * the interface).  Returns 0, or -1 when not live / not available. */
int capture_live_stats(capture *c, uint64_t *recv, uint64_t *drop,
                       uint64_t *ifdrop);

/* libpcap's name of a link type ("EN10MB", "PPP", ...), or "unknown". */
const char *capture_linktype_name(int linktype);

void capture_close(capture *c);

#endif
