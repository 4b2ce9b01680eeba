/* capture.c - libpcap reading of files and interfaces; see capture.h.
 *
 * One pcap_t is open at a time for files: the next file is opened when the
 * previous one ends, so hundreds of rotated files do not hold hundreds of
 * descriptors.  Every file is opened once up front only to check it.  Files
 * may be read ahead by a thread of the capture's own (capture_read_ahead). */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct capture {
    pcap_t *p;
    char **paths;
    size_t npaths, cur;       /* cur: index of the open file */
    char *filter;
    int live;
    int nano;                 /* ts.tv_usec holds nanoseconds */
    int linktype;
    uint64_t number;          /* packets delivered from the current source */
    uint64_t done_before;     /* bytes of the files already finished */
    uint64_t total;
    atomic_int stop;          /* lock-free: set from signal handlers */
    int all_regular;          /* every input is a regular file */
    char *ifname;
    char *iobuf;              /* stdio buffer of the open file */
    struct readahead *ra;     /* the reader thread, when started */
};

static int set_filter(pcap_t *p, const char *filter, const char *src, snitch_err *e)
{
    struct bpf_program prog;
    if (!filter || !*filter)
        return 0;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
        return err_set(e, "%s: bad filter '%s': %s", src, filter, pcap_geterr(p));
    int r = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (r < 0)
        return err_set(e, "%s: cannot set filter: %s", src, pcap_geterr(p));
    return 0;
}

/* Files are opened here and handed to libpcap with a 64 KiB stdio buffer:
 * the default (the file system's 4 KiB block) costs a read() system call
 * every few packets.  Measured on a 1 GB capture: 64 KiB halves the system
 * time; 128 KiB and more is slower again (the buffer no longer stays in
 * the L2 cache, and malloc serves it by mmap). */
#define READ_BUFFER (1u << 16)

static pcap_t *open_file(const char *path, const char *filter, char **iobuf, snitch_err *e)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (iobuf) {
        if (!*iobuf)
            *iobuf = malloc(READ_BUFFER);
        if (*iobuf)
            setvbuf(f, *iobuf, _IOFBF, READ_BUFFER);
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, eb);
    if (!p) {
        fclose(f);
        err_set(e, "%s: %s", path, eb[0] ? eb : "cannot open");
        return NULL;
    }
    if (set_filter(p, filter, path, e) < 0) {
        pcap_close(p);
        return NULL;
    }
    return p;
}

capture *capture_open_files(const char *const *paths, size_t npaths,
                            const char *filter, snitch_err *e)
{
    if (npaths == 0) {
        err_set(e, "no input file");
        return NULL;
    }
    capture *c = calloc(1, sizeof *c);
    if (!c || !(c->paths = calloc(npaths, sizeof *c->paths))) {
        free(c);
        err_set(e, "out of memory");
        return NULL;
    }
    c->npaths = npaths;
    c->all_regular = 1;
    if (filter && !(c->filter = strdup(filter)))
        goto oom;
    for (size_t i = 0; i < npaths; i++) {
        if (!(c->paths[i] = strdup(paths[i])))
            goto oom;
        struct stat sb;
        if (!strcmp(paths[i], "-") || (stat(paths[i], &sb) == 0 && !S_ISREG(sb.st_mode))) {
            /* standard input, a pipe: reading it twice is not possible, so
             * it is only checked when its turn comes */
            c->all_regular = 0;
            if (strcmp(paths[i], "-") && access(paths[i], R_OK) != 0) {
                err_set(e, "%s: %s", paths[i], strerror(errno));
                goto fail;
            }
            continue;
        }
        pcap_t *p = open_file(paths[i], filter, NULL, e);
        if (!p)
            goto fail;
        pcap_close(p);
        if (stat(paths[i], &sb) == 0)
            c->total += (uint64_t)sb.st_size;
    }
    c->nano = 1;
    c->cur = 0;
    if (!(c->p = open_file(c->paths[0], c->filter, &c->iobuf, e)))
        goto fail;
    c->linktype = pcap_datalink(c->p);
    return c;
oom:
    err_set(e, "out of memory");
fail:
    capture_close(c);
    return NULL;
}

capture *capture_open_live(const char *ifname, const char *filter, int snaplen,
                           snitch_err *e)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    capture *c = calloc(1, sizeof *c);
    if (!c || !(c->ifname = strdup(ifname))) {
        free(c);
        err_set(e, "out of memory");
        return NULL;
    }
    c->live = 1;
    pcap_t *p = pcap_create(ifname, eb);
    if (!p) {
        err_set(e, "%s: %s", ifname, eb);
        goto fail;
    }
    c->p = p;
    pcap_set_snaplen(p, snaplen > 0 ? snaplen : 262144);
    pcap_set_promisc(p, 1);
    pcap_set_immediate_mode(p, 1);
    pcap_set_timeout(p, 100);
    c->nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int r = pcap_activate(p);
    if (r < 0) {
        err_set(e, "%s: cannot capture: %s", ifname,
                r == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(r));
        goto fail;
    }
    c->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    if (set_filter(p, filter, ifname, e) < 0)
        goto fail;
    c->linktype = pcap_datalink(p);
    return c;
fail:
    capture_close(c);
    return NULL;
}

static uint64_t file_pos(capture *c)
{
    FILE *f = c->p && !c->live ? pcap_file(c->p) : NULL;
    if (!f)
        return 0;
    long off = ftell(f);
    return off > 0 ? (uint64_t)off : 0;
}

/* Close the current file and open the next.  0: opened, 1: no more. */
static int next_file(capture *c, snitch_err *e)
{
    struct stat sb;
    if (stat(c->paths[c->cur], &sb) == 0)
        c->done_before += (uint64_t)sb.st_size;
    pcap_close(c->p);
    c->p = NULL;
    c->number = 0;
    if (++c->cur >= c->npaths)
        return 1;
    if (!(c->p = open_file(c->paths[c->cur], c->filter, &c->iobuf, e)))
        return -1;
    c->linktype = pcap_datalink(c->p);
    return 0;
}

/* One packet straight from libpcap: the whole of capture_next without a
 * reader thread, and the reader thread's source with one. */
static int read_direct(capture *c, capture_packet *pkt, snitch_err *e)
{
    for (;;) {
        if (atomic_load_explicit(&c->stop, memory_order_relaxed) || !c->p)
            return CAPTURE_END;
        struct pcap_pkthdr *h;
        const u_char *d;
        int r = pcap_next_ex(c->p, &h, &d);
        if (r == 1) {
            c->number++;
            /* pcap stores both timestamp fields as unsigned 32-bit, but
             * libpcap reads them as signed: undo the sign extension so
             * dates past 2038 and out-of-range fractions read as written. */
            int64_t sec = h->ts.tv_sec < 0 ? (int64_t)(uint32_t)h->ts.tv_sec : (int64_t)h->ts.tv_sec;
            int64_t frac = (int64_t)(uint32_t)h->ts.tv_usec;
            pkt->ts_ns = sec * 1000000000 + frac * (c->nano ? 1 : 1000);
            pkt->linktype = c->linktype;
            pkt->data = d;
            pkt->caplen = h->caplen;
            pkt->wirelen = h->len;
            pkt->number = c->number;
            pkt->source = c->live ? c->ifname : c->paths[c->cur];
            return CAPTURE_PACKET;
        }
        if (r == 0)             /* live: read timeout, nothing arrived */
            continue;
        if (r == PCAP_ERROR_BREAK && c->live)
            return CAPTURE_END;
        if (c->live) {
            err_set(e, "%s: capture failed: %s", c->ifname, pcap_geterr(c->p));
            return CAPTURE_ERROR;
        }
        const char *path = c->paths[c->cur];
        if (r == PCAP_ERROR_BREAK) {    /* end of this file */
            int n = next_file(c, e);
            if (n < 0)
                return CAPTURE_ERROR;
            continue;
        }
        /* libpcap says "truncated dump file" when a record is cut short
         * (tcpdump killed mid-write): every complete packet was delivered,
         * so this is a warning and the next file follows. */
        const char *msg = pcap_geterr(c->p);
        if (strstr(msg, "truncated")) {
            err_set(e, "%s: truncated after packet %llu (%s); its complete packets were read",
                    path, (unsigned long long)c->number, msg);
            if (next_file(c, e) < 0)
                return CAPTURE_ERROR;
            return CAPTURE_WARNING;
        }
        err_set(e, "%s: packet %llu: %s", path, (unsigned long long)c->number + 1, msg);
        return CAPTURE_ERROR;
    }
}

/* Reading ahead.  libpcap reads a file one packet at a time into a buffer it
 * reuses, so the packet loop pays for every read() and every record it
 * parses.  With capture_read_ahead a thread of the capture's own calls
 * read_direct and copies each packet, with its header, into blocks; the
 * caller's capture_next hands out packets from the oldest full block and
 * gives a block back only when it asks for the packet after the block's
 * last, so a packet's bytes stay valid until the next capture_next, as
 * without the thread.  A warning, an error or the end travels in the block
 * after the packets that came before it, so the caller sees everything in
 * the order a direct read would give. */
#define RA_BLOCKS 4
#define RA_BLOCK_BYTES (1u << 18)

typedef struct ra_rec {         /* a packet in a block; its bytes follow */
    int64_t ts_ns;
    uint64_t number;
    uint32_t caplen, wirelen;
    int32_t linktype;
    uint32_t source;            /* index into paths */
} ra_rec;

typedef struct ra_block {
    uint8_t *buf;
    size_t used, cap;
    int has_event;              /* the packets are followed by event: */
    int event;                  /* CAPTURE_END / _ERROR / _WARNING */
    char msg[SNITCH_ERR_MAX];   /* the event's text */
    uint64_t done;              /* input bytes read when the block closed */
} ra_block;

struct readahead {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ra_block blk[RA_BLOCKS];
    uint64_t head, tail;        /* blocks filled / given back, ever;
                                   blk[tail % RA_BLOCKS] is the caller's */
    int quit;                   /* capture_close: stop filling */
    /* the caller's side */
    ra_block *cur;              /* the block being handed out, or NULL */
    size_t off;
    uint64_t done;
};

#define RA_ALIGN(n) (((n) + 7) & ~(size_t)7)

/* Fill blocks until the input ends or fails, or the capture closes. */
static void *ra_main(void *arg)
{
    capture *c = arg;
    struct readahead *ra = c->ra;
    capture_packet pkt;
    snitch_err e;
    int r = 0, pending = 0;     /* pending: pkt did not fit the last block */
    for (;;) {
        pthread_mutex_lock(&ra->mu);
        while (ra->head - ra->tail == RA_BLOCKS && !ra->quit)
            pthread_cond_wait(&ra->cv, &ra->mu);
        int quit = ra->quit;
        pthread_mutex_unlock(&ra->mu);
        if (quit)
            return NULL;
        ra_block *b = &ra->blk[ra->head % RA_BLOCKS];
        b->used = 0;
        b->has_event = 0;
        for (;;) {
            if (!pending) {
                r = read_direct(c, &pkt, &e);
                if (r != CAPTURE_PACKET) {
                    b->has_event = 1;
                    b->event = r;
                    snprintf(b->msg, sizeof b->msg, "%s", r == CAPTURE_END ? "" : e.msg);
                    break;
                }
            }
            size_t need = RA_ALIGN(sizeof(ra_rec) + pkt.caplen);
            if (b->used + need > b->cap) {
                if (b->used) {          /* the next block takes it */
                    pending = 1;
                    break;
                }
                /* one packet larger than a block: grow this one */
                uint8_t *nb = realloc(b->buf, need);
                if (!nb) {
                    b->has_event = 1;
                    b->event = CAPTURE_ERROR;
                    snprintf(b->msg, sizeof b->msg, "%s: packet %llu: out of memory",
                             pkt.source, (unsigned long long)pkt.number);
                    break;
                }
                b->buf = nb;
                b->cap = need;
            }
            pending = 0;
            ra_rec *h = (ra_rec *)(b->buf + b->used);
            h->ts_ns = pkt.ts_ns;
            h->number = pkt.number;
            h->caplen = pkt.caplen;
            h->wirelen = pkt.wirelen;
            h->linktype = pkt.linktype;
            h->source = (uint32_t)c->cur;
            memcpy(h + 1, pkt.data, pkt.caplen);
            b->used += need;
        }
        b->done = c->done_before + file_pos(c);
        pthread_mutex_lock(&ra->mu);
        ra->head++;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
        if (b->has_event && b->event != CAPTURE_WARNING)
            return NULL;
    }
}

/* The reader's blocks, lock and condition (its thread joined or never
 * started). */
static void ra_free(struct readahead *ra)
{
    pthread_mutex_destroy(&ra->mu);
    pthread_cond_destroy(&ra->cv);
    for (int i = 0; i < RA_BLOCKS; i++)
        free(ra->blk[i].buf);
    free(ra);
}

int capture_read_ahead(capture *c, size_t block_bytes, snitch_err *e)
{
    if (c->live || !c->all_regular || c->ra)
        return 0;
    struct readahead *ra = calloc(1, sizeof *ra);
    if (!ra)
        return err_set(e, "out of memory");
    pthread_mutex_init(&ra->mu, NULL);
    pthread_cond_init(&ra->cv, NULL);
    if (!block_bytes)
        block_bytes = RA_BLOCK_BYTES;
    for (int i = 0; i < RA_BLOCKS; i++) {
        if (!(ra->blk[i].buf = malloc(block_bytes))) {
            ra_free(ra);
            return err_set(e, "out of memory");
        }
        ra->blk[i].cap = block_bytes;
    }
    ra->done = c->done_before + file_pos(c);
    c->ra = ra;
    /* The caller's signal handlers run on the caller's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int r = pthread_create(&ra->th, NULL, ra_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {               /* read directly then */
        c->ra = NULL;
        ra_free(ra);
        return 0;
    }
    return 1;
}

static int ra_next(capture *c, capture_packet *pkt, snitch_err *e)
{
    struct readahead *ra = c->ra;
    for (;;) {
        if (atomic_load_explicit(&c->stop, memory_order_relaxed))
            return CAPTURE_END;
        if (!ra->cur) {
            pthread_mutex_lock(&ra->mu);
            while (ra->head == ra->tail)
                pthread_cond_wait(&ra->cv, &ra->mu);
            pthread_mutex_unlock(&ra->mu);
            ra->cur = &ra->blk[ra->tail % RA_BLOCKS];
            ra->off = 0;
            ra->done = ra->cur->done;
        }
        ra_block *b = ra->cur;
        if (ra->off < b->used) {
            const ra_rec *h = (const ra_rec *)(b->buf + ra->off);
            pkt->ts_ns = h->ts_ns;
            pkt->number = h->number;
            pkt->caplen = h->caplen;
            pkt->wirelen = h->wirelen;
            pkt->linktype = h->linktype;
            pkt->source = c->paths[h->source];
            pkt->data = (const uint8_t *)(h + 1);
            ra->off += RA_ALIGN(sizeof(ra_rec) + h->caplen);
            return CAPTURE_PACKET;
        }
        if (b->has_event) {
            int ev = b->event;
            if (ev == CAPTURE_WARNING)  /* once; then on to the next block */
                b->has_event = 0;
            if (ev != CAPTURE_END)
                err_set(e, "%s", b->msg);
            return ev;
        }
        /* every packet of this block handed out: give it back */
        ra->cur = NULL;
        pthread_mutex_lock(&ra->mu);
        ra->tail++;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
    }
}

int capture_next(capture *c, capture_packet *pkt, snitch_err *e)
{
    return c->ra ? ra_next(c, pkt, e) : read_direct(c, pkt, e);
}

static void ra_stop(capture *c)
{
    struct readahead *ra = c->ra;
    pthread_mutex_lock(&ra->mu);
    ra->quit = 1;
    pthread_cond_broadcast(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
    pthread_join(ra->th, NULL);
    ra_free(ra);
    c->ra = NULL;
}

void capture_stop(capture *c)
{
    atomic_store(&c->stop, 1);
    if (c->live && c->p)        /* files: c->p may be the reader thread's */
        pcap_breakloop(c->p);
}

void capture_progress(const capture *c, uint64_t *done, uint64_t *total)
{
    if (c->ra)      /* the reader thread owns the file: where the caller is */
        *done = c->ra->done;
    else
        *done = c->live ? 0 : c->done_before + file_pos((capture *)c);
    *total = c->total;
}

int capture_live_stats(capture *c, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop)
{
    struct pcap_stat st;
    if (!c->live || !c->p || pcap_stats(c->p, &st) < 0)
        return -1;
    *recv = st.ps_recv;
    *drop = st.ps_drop;
    *ifdrop = st.ps_ifdrop;
    return 0;
}

const char *capture_linktype_name(int linktype)
{
    const char *n = pcap_datalink_val_to_name(linktype);
    return n ? n : "unknown";
}

void capture_close(capture *c)
{
    if (!c)
        return;
    if (c->ra)
        ra_stop(c);
    if (c->p)
        pcap_close(c->p);
    for (size_t i = 0; i < c->npaths; i++)
        free(c->paths[i]);
    free(c->paths);
    free(c->filter);
    free(c->ifname);
    free(c->iobuf);
    free(c);
}
