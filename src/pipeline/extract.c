/* extract.c - decode -> flows -> ClientHello -> label -> features -> CSV;
 * see extract.h.
 *
 * Per flow we keep an `inspect` record (flow->user): the TCP reassembly
 * state of both directions or the QUIC state, until the first ClientHello
 * is found.  Its direction picks the client when no SYN was seen. */
#include "extract.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/features.h"
#include "proto/quic.h"
#include "proto/tls.h"
#include "util/strmap.h"
#include "util/xalloc.h"

typedef struct inspect {
    tls_stream *tls[2];
    quic_flow *quic;
    tls_hello hello;
    int8_t hello_dir;       /* sender of the ClientHello, -1 */
    uint8_t done;           /* ClientHello found: the SNI is decided */
    uint8_t decided;        /* handed to on_flow early (decide_after) */
} inspect;

/* A row waiting in the temporary file for the min_flows decision. */
typedef struct pending {
    uint64_t off, len, rows;
    long label;             /* strmap id, -1 for no label */
} pending;

struct extract {
    extract_config cfg;
    csv_writer *out;        /* final destination (borrowed) */
    csv_writer *rows;       /* where rows go now: out, or tmp */
    FILE *tmpf;
    csv_writer *tmp;
    pending *pend;
    size_t npend, cappend;
    flow_table *flows;
    feat_ws *ws;
    strmap *labels;         /* label -> flows with that label */
    double *vals;           /* feature values scratch */
    size_t nvals;
    extract_stats st;
    int failed;             /* out of memory inside a callback */
};

static void inspect_free(inspect *in)
{
    if (!in)
        return;
    tls_stream_free(in->tls[0]);
    tls_stream_free(in->tls[1]);
    quic_flow_free(in->quic);
    if (in->done)
        tls_hello_free(&in->hello);
    free(in);
}

/* The ClientHello was found: keep it, drop the reassembly state. */
static void inspect_found(inspect *in, int dir, const tls_hello *h)
{
    in->hello = *h;
    in->hello_dir = (int8_t)dir;
    in->done = 1;
    tls_stream_free(in->tls[0]);
    tls_stream_free(in->tls[1]);
    in->tls[0] = in->tls[1] = NULL;
}

static void inspect_packet(extract *x, flow *f, int dir, const decode_pkt *p);
static void after_packet(extract *x, flow *f);
static int emit_record(extract *x, const flow *f, const inspect *in, int early);

/* f->user_flags: FLOW_QUIET once nothing is left to do per packet (the
 * ClientHello found, and the early decision made if one is due): the rest
 * of a flow's packets then pass without a look at its inspect record, a
 * cache miss per packet on a big table. */
#define FLOW_QUIET 1

static void on_packet(void *ctx, flow *f, int dir, const decode_pkt *p)
{
    extract *x = ctx;
    if (f->user_flags & FLOW_QUIET)
        return;
    inspect_packet(x, f, dir, p);
    after_packet(x, f);
    inspect *in = f->user;
    if (in && in->done && (!x->cfg.decide_after || !x->cfg.on_flow || in->decided))
        f->user_flags |= FLOW_QUIET;
}

static void inspect_packet(extract *x, flow *f, int dir, const decode_pkt *p)
{
    inspect *in = f->user;
    if (!in) {
        if (!(in = calloc(1, sizeof *in))) {
            x->failed = 1;
            return;
        }
        in->hello_dir = -1;
        f->user = in;
    }
    if (in->done)
        return;
    tls_hello h;
    if (p->proto == 6) {
        if (!in->tls[dir] && !(in->tls[dir] = tls_stream_new())) {
            x->failed = 1;
            return;
        }
        if (tls_stream_state(in->tls[dir]) != TLS_NEED)
            return;
        if (tls_stream_add(in->tls[dir], p->seq, (p->tcp_flags & TCP_SYN) != 0,
                           p->payload, p->payload_cap, &h) == TLS_DONE)
            inspect_found(in, dir, &h);
    } else if (p->proto == 17) {
        if (!in->quic && !(in->quic = quic_flow_new())) {
            x->failed = 1;
            return;
        }
        if (quic_flow_add(in->quic, dir, p->payload, p->payload_cap, &h) == QUIC_DONE)
            inspect_found(in, dir, &h);
    }
}

/* Early decisions (decide_after) come after inspection of the packet that
 * reached the count; see flow_table_config.on_packet. */
static void after_packet(extract *x, flow *f)
{
    inspect *in = f->user;
    if (!x->cfg.decide_after || !x->cfg.on_flow || !in || in->decided ||
        f->npkts < x->cfg.decide_after)
        return;
    in->decided = 1;
    if (emit_record(x, f, in, 1) < 0)
        x->failed = 1;
}

static int client_dir(const flow *f, const inspect *in);

/* The packets a flow's row or verdict describes, and the earliest and
 * latest of their times: from the view of the kept packets, or, when bare
 * packets were only counted (skip_empty, which is on only when every packet
 * counts: no --first), from the flow's own counts. */
static void flow_span(const flow *f, const feat_view *all, uint64_t *n, int64_t *t0, int64_t *t1)
{
    if (f->nskipped || !all->n) {
        *n = f->npkts + f->nskipped;
        *t0 = f->ts_min;
        *t1 = f->ts_max;
        return;
    }
    *n = all->n;
    *t0 = all->ts[0];
    *t1 = all->ts[all->n - 1];
}

/* Hand one flow to cfg.on_flow.  Returns 0 or -1 when out of memory. */
static int emit_record(extract *x, const flow *f, const inspect *in, int early)
{
    int c = client_dir(f, in);
    const char *sni = in && in->done ? in->hello.sni : "";
    size_t sni_len = in && in->done ? in->hello.sni_len : 0;
    char *label = labeler_apply(x->cfg.labels, sni, sni_len);
    if (!label)
        return -1;
    feat_view all, data;
    if (feat_prepare_first(x->ws, f, c, x->cfg.data_only, x->cfg.first_n, &all, &data) < 0) {
        free(label);
        return -1;
    }
    extract_flow r = {
        .f = f, .client = c, .has_hello = in && in->done, .sni = sni, .sni_len = sni_len,
        .ech = in && in->done && in->hello.ech,
        .tls_version = in && in->done ? in->hello.max_version : 0,
        .label = label, .all = &all, .data = &data, .early = early,
    };
    flow_span(f, &all, &r.packets, &r.first_ts, &r.last_ts);
    x->cfg.on_flow(x->cfg.ctx, &r);
    x->st.written++;
    if (*label)
        x->st.labeled++;
    free(label);
    return 0;
}

static int client_dir(const flow *f, const inspect *in)
{
    if (f->syn_dir >= 0)
        return f->syn_dir;
    if (in && in->done)
        return in->hello_dir;
    if (in && in->quic && quic_flow_client_dir(in->quic) >= 0)
        return quic_flow_client_dir(in->quic);
    return 0;
}

static int need_vals(extract *x, size_t n)
{
    return array_grow((void **)&x->vals, &x->nvals, n, sizeof *x->vals);
}

static void write_flow_rows(extract *x, const flow *f, const inspect *in, int c,
                            const char *label, size_t label_len,
                            const feat_view *all, const feat_view *data)
{
    csv_writer *w = x->rows;
    const extract_config *cfg = &x->cfg;
    if (cfg->features & EXTRACT_WINDOW) {
        if (need_vals(x, all->n * FEAT_NWINDOW + 1) < 0) {
            x->failed = 1;
            return;
        }
        feat_window(all, cfg->window_ns, x->vals);
        for (size_t i = 0; i < all->n; i++) {
            const double *v = x->vals + i * FEAT_NWINDOW;
            csv_u64(w, f->id);
            csv_ts(w, all->ts[i]);
            csv_i64(w, all->fwd[i] ? 1 : -1);
            csv_str(w, label, label_len);
            for (int j = 0; j < FEAT_NWINDOW; j++)
                csv_double(w, v[j]);
            csv_end_row(w);
        }
        x->st.rows += all->n;
        return;
    }
    char a[64], vb[8];
    csv_u64(w, f->id);
    csv_cstr(w, flow_addr_str(f, c, a, sizeof a));
    csv_u64(w, f->port[c]);
    csv_cstr(w, flow_addr_str(f, 1 - c, a, sizeof a));
    csv_u64(w, f->port[1 - c]);
    csv_u64(w, f->proto);
    uint64_t npk;
    int64_t t0, t1;
    flow_span(f, all, &npk, &t0, &t1);
    csv_ts(w, t0);
    csv_ts(w, t1);
    if (in && in->done)
        csv_str(w, in->hello.sni, in->hello.sni_len);
    else
        csv_str(w, "", 0);
    csv_str(w, label, label_len);
    csv_cstr(w, in && in->done ? tls_version_name(in->hello.max_version, vb) : "");
    csv_cstr(w, in && in->done ? (in->hello.ech ? "1" : "0") : "");
    if (cfg->features & EXTRACT_STATS) {
        double s[FEAT_NSTATS];
        if (feat_stats(x->ws, data, s) < 0) {
            x->failed = 1;
            return;
        }
        for (int j = 0; j < FEAT_NSTATS; j++)
            csv_double(w, s[j]);
    }
    if (cfg->features & EXTRACT_SEQ) {
        size_t n = (size_t)cfg->seq_n;
        if (need_vals(x, 4 * n) < 0) {
            x->failed = 1;
            return;
        }
        feat_seq(data, cfg->seq_n, x->vals);
        for (size_t j = 0; j < 4 * n; j++)
            csv_double(w, x->vals[j]);
    }
    csv_end_row(w);
    x->st.rows++;
}

static void on_end(void *ctx, flow *f, flow_end why)
{
    extract *x = ctx;
    inspect *in = f->user;
    f->user = NULL;
    if (in && in->done && in->hello.has_sni)
        x->st.with_sni++;
    if (in && in->done && in->hello.ech)
        x->st.ech++;
    if (x->cfg.on_flow) {
        if (!(in && in->decided) && emit_record(x, f, in, 0) < 0)
            x->failed = 1;
        inspect_free(in);
        return;
    }
    int c = client_dir(f, in);
    const char *sni = in && in->done ? in->hello.sni : "";
    size_t sni_len = in && in->done ? in->hello.sni_len : 0;
    char *label = labeler_apply(x->cfg.labels, sni, sni_len);
    if (!label) {
        x->failed = 1;
        inspect_free(in);
        return;
    }
    size_t label_len = strlen(label);
    if (label_len)
        x->st.labeled++;
    if (label_len || x->cfg.all_flows) {
        long id = -1;
        if (label_len) {
            id = strmap_intern(x->labels, label, label_len);
            if (id < 0) {
                x->failed = 1;
                goto out;
            }
            ++*strmap_count(x->labels, id);
        }
        feat_view all, data;
        if (feat_prepare_first(x->ws, f, c, x->cfg.data_only, x->cfg.first_n, &all, &data) < 0) {
            x->failed = 1;
            goto out;
        }
        uint64_t off = csv_writer_offset(x->rows), rows0 = x->st.rows;
        write_flow_rows(x, f, in, c, label, label_len, &all, &data);
        x->st.written++;
        if (x->tmp) {
            if (array_grow((void **)&x->pend, &x->cappend, x->npend + 1, sizeof *x->pend) < 0) {
                x->failed = 1;
                goto out;
            }
            x->pend[x->npend++] = (pending){off, csv_writer_offset(x->rows) - off,
                                            x->st.rows - rows0, id};
        }
    }
out:
    free(label);
    inspect_free(in);
}

static void on_drop(void *ctx, flow *f)
{
    inspect_free(f->user);
    f->user = NULL;
}

extract *extract_new(const extract_config *cfg, csv_writer *out, snitch_err *e)
{
    if (!cfg->labels) {
        err_set(e, "no labeling mode");
        return NULL;
    }
    if (!cfg->features || ((cfg->features & EXTRACT_WINDOW) && cfg->features != EXTRACT_WINDOW)) {
        err_set(e, "features: 'window' gives one row per packet and cannot be combined with 'stats' or 'seq'");
        return NULL;
    }
    if ((cfg->features & EXTRACT_SEQ) && (cfg->seq_n < 1 || cfg->seq_n > 100000)) {
        err_set(e, "sequence length n must be between 1 and 100000 (got %d)", cfg->seq_n);
        return NULL;
    }
    if (cfg->decide_after && !cfg->on_flow) {
        err_set(e, "early decisions need a flow callback");
        return NULL;
    }
    if (cfg->idle_ns <= 0) {
        err_set(e, "idle timeout must be positive");
        return NULL;
    }
    extract *x = calloc(1, sizeof *x);
    if (!x) {
        err_set(e, "out of memory");
        return NULL;
    }
    x->cfg = *cfg;
    x->out = x->rows = out;
    flow_table_config fc = {
        .idle_ns = cfg->idle_ns, .active_ns = cfg->active_ns, .max_flows = cfg->max_flows,
        .on_packet = on_packet, .on_end = on_end, .on_drop = on_drop, .ctx = x,
        /* bare packets matter only to window rows, to --first and
         * --after counts, and with --packets all */
        .skip_empty = cfg->data_only && !cfg->first_n && !cfg->decide_after &&
                      !(cfg->features & EXTRACT_WINDOW),
    };
    if (!(x->flows = flow_table_new(&fc, e)))
        goto fail;
    if (!(x->ws = feat_ws_new()) || !(x->labels = strmap_new())) {
        err_set(e, "out of memory");
        goto fail;
    }
    if (cfg->min_flows > 1 && !cfg->on_flow) {
        if (!(x->tmpf = tmpfile())) {
            err_set(e, "cannot create a temporary file for --min-flows: %s", strerror(errno));
            goto fail;
        }
        if (!(x->tmp = csv_writer_new(x->tmpf))) {
            err_set(e, "out of memory");
            goto fail;
        }
        x->rows = x->tmp;
    }
    return x;
fail:
    extract_free(x);
    return NULL;
}

void extract_write_header(extract *x)
{
    csv_writer *w = x->out;
    static const char *const id_flow[] = {
        "flow_id", "src_ip", "src_port", "dst_ip", "dst_port", "proto",
        "first_ts", "last_ts", "sni", "label", "tls_version", "ech",
    };
    char name[32];
    if (x->cfg.features & EXTRACT_WINDOW) {
        csv_cstr(w, "flow_id");
        csv_cstr(w, "ts");
        csv_cstr(w, "dir");
        csv_cstr(w, "label");
        for (int i = 0; i < FEAT_NWINDOW; i++)
            csv_cstr(w, feat_window_name(i));
        csv_end_row(w);
        return;
    }
    for (size_t i = 0; i < sizeof id_flow / sizeof *id_flow; i++)
        csv_cstr(w, id_flow[i]);
    if (x->cfg.features & EXTRACT_STATS)
        for (int i = 0; i < FEAT_NSTATS; i++)
            csv_cstr(w, feat_stats_name(i));
    if (x->cfg.features & EXTRACT_SEQ) {
        static const char *const ch[] = {"size", "payload", "iat", "dir"};
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < x->cfg.seq_n; i++) {
                snprintf(name, sizeof name, "%s_%d", ch[c], i);
                csv_cstr(w, name);
            }
    }
    csv_end_row(w);
}

static int check(extract *x, snitch_err *e)
{
    if (x->failed)
        return err_set(e, "out of memory");
    if (x->rows && csv_writer_error(x->rows))
        return err_set(e, "write failed: %s", strerror(csv_writer_error(x->rows)));
    return 0;
}

int extract_packet(extract *x, const capture_packet *pkt, snitch_err *e)
{
    decode_pkt d;
    x->st.packets++;
    decode_status s = decode_packet(pkt->linktype, pkt->data, pkt->caplen, &d);
    if (s == DECODE_LINKTYPE)
        return err_set(e, "link type %d (%s) is not supported (supported: Ethernet, Linux SLL "
                          "v1/v2, raw IP, BSD null/loopback)",
                       pkt->linktype, capture_linktype_name(pkt->linktype));
    if (s != DECODE_OK) {
        x->st.skipped[s]++;
        return 0;
    }
    x->st.decoded++;
    if (flow_table_add(x->flows, pkt->ts_ns, &d, e) < 0)
        return -1;
    return check(x, e);
}

/* Copy the waiting rows whose label has enough flows to the output. */
static int write_pending(extract *x, snitch_err *e)
{
    if (csv_writer_flush(x->tmp) < 0)
        return err_set(e, "temporary file: %s", strerror(csv_writer_error(x->tmp)));
    char *buf = NULL;
    size_t cap = 0;
    x->st.rows = x->st.written = 0;
    for (size_t i = 0; i < x->npend; i++) {
        const pending *p = &x->pend[i];
        if (p->label >= 0 && *strmap_count(x->labels, p->label) < x->cfg.min_flows) {
            x->st.below_min++;
            continue;
        }
        x->st.rows += p->rows;
        x->st.written++;
        if (array_grow((void **)&buf, &cap, p->len, 1) < 0) {
            free(buf);
            return err_set(e, "out of memory");
        }
        if (fseeko(x->tmpf, (off_t)p->off, SEEK_SET) != 0 ||
            fread(buf, 1, p->len, x->tmpf) != p->len) {
            free(buf);
            return err_set(e, "temporary file: read failed");
        }
        csv_raw(x->out, buf, p->len);
    }
    free(buf);
    return 0;
}

int extract_finish(extract *x, snitch_err *e)
{
    flow_table_flush(x->flows);
    if (check(x, e) < 0)
        return -1;
    if (x->tmp && write_pending(x, e) < 0)
        return -1;
    x->st.labels = 0;
    for (size_t i = 0; i < strmap_size(x->labels); i++)
        if (*strmap_count(x->labels, (long)i) >= (x->cfg.min_flows > 1 ? x->cfg.min_flows : 1))
            x->st.labels++;
    if (x->out && csv_writer_error(x->out))
        return err_set(e, "write failed: %s", strerror(csv_writer_error(x->out)));
    return 0;
}

void extract_get_stats(const extract *x, extract_stats *out)
{
    *out = x->st;
    flow_table_get_stats(x->flows, &out->flows);
}

void extract_free(extract *x)
{
    if (!x)
        return;
    flow_table_free(x->flows);
    feat_ws_free(x->ws);
    strmap_free(x->labels);
    free(x->vals);
    free(x->pend);
    if (x->tmp)
        csv_writer_close(x->tmp);
    if (x->tmpf)
        fclose(x->tmpf);
    free(x);
}
