/* cmd_classify.c - `snitch classify`: a trained model applied to traffic as
 * it flows, one verdict per flow, from a live interface or captures.
 *
 * The extraction pipeline runs as for `extract`, but hands each flow over
 * (at its end, or once it has --after N packets) instead of writing a row;
 * here it becomes a feature vector in the model's column order, a
 * prediction, and one JSON line (or CSV row).
 *
 * Reading captures, flows wait in batches for their prediction (one pass
 * of each tree over many flows is what makes a big forest fast); with
 * --threads 2 a second thread predicts and writes the batches while the
 * packet loop fills the next.  That thread first reads the forest of the
 * model file, while the packet loop starts (a big forest takes a tenth of a
 * second or more to read and check, and the loop needs only the model's
 * feature list until the first batch is full); and when the packet loop
 * finds no free slot for the next batch, it predicts waiting batches
 * itself (as at the end of a capture, where many flows end at once),
 * leaving the thread their writing, in order (see ctx).  Features
 * are computed with the prediction, from a copy of each flow's packets
 * kept with its batch, so that this work too goes to the worker.  With two
 * threads a third (the capture's, capture_read_ahead) reads the files
 * ahead: libpcap's reading is a third of the packet loop's time. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli.h"
#include "eval/eval.h"
#include "features/vector.h"
#include "label/label.h"
#include "model/model.h"
#include "output/csv.h"
#include "output/json.h"
#include "pipeline/extract.h"
#include "proto/tls.h"
#include "util/xalloc.h"

static const char usage_text[] =
    "usage: snitch classify --model MODEL.snm (-r FILE... | -i IFACE) [options]\n"
    "\n"
    "One verdict per flow: the predicted service, its probability and the top 3,\n"
    "with the flow's SNI (when it shows one) and whether the two agree.\n"
    "\n"
    "  -m, --model FILE       a model from snitch train (required)\n"
    "  -r, --read FILE        capture file (- for standard input); repeatable\n"
    "  -i, --interface IFACE  live capture; Ctrl-C or SIGTERM writes the open\n"
    "                         flows' verdicts and the summary\n"
    "  -f, --filter BPF       capture filter\n"
    "  -o, --output FILE      verdicts, - for standard output (default -)\n"
    "      --format F         jsonl (default: one JSON object a line) or csv\n"
    "      --after N          decide once a flow has N packets (train the model on\n"
    "                         snitch extract --first N); flows that end earlier\n"
    "                         are decided at their end.  Default: at flow end\n"
    "      --label MODE       labeling mode for the SNI comparison (default: the\n"
    "                         model's, recorded by train --label-mode; else sni)\n"
    "      --packets WHICH    data (default) or all: as the training table\n"
    "      --idle-timeout S   (default 120)   --max-flows N (default 1000000)\n"
    "      --threads N        reading files: 1, or 2 to predict and write verdicts\n"
    "                         in a second thread while packets are read (and a\n"
    "                         third reads the files ahead); default: 2 when this\n"
    "                         process may run on 2 or more cores\n"
    "      --batch N          reading files: flows predicted together (default 4096,\n"
    "                         fewer for models of over 256 classes)\n"
    "      --force            replace FILE if it exists\n"
    "  -q, --quiet            no progress line and no summary\n";

static capture *volatile g_cap;
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_cap)
        capture_stop(g_cap);
}

#define NSLOT 3
enum { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

/* The packets (the data view: sizes, payloads, times, directions) of a
 * batch's flows, back to back; a verdict knows where its flow's are. */
typedef struct pkstore {
    int64_t *ts;
    uint32_t *size, *pay;
    uint8_t *fwd;
    size_t len, cap;
} pkstore;

typedef struct ctx {
    model *m;
    feat_map map, wmap;             /* feature scratch: the packet loop's, the worker's */
    feat_ws *ws, *wws;
    FILE *out;
    int csv;
    json_writer j;
    csv_writer *cw;
    uint64_t verdicts, with_label, agree, early;
    uint64_t lat_pkts;              /* sum of packets at decision */
    int64_t lat_ns;                 /* sum of capture time to decision */
    int failed;
    size_t nb, cap;                 /* flows waiting in slot cur, batch size */
    int threads;                    /* for model_predict_proba */
    /* Batches live in slots, used in turn: the packet loop fills slot cur
     * (batch number filled); with a worker, a full batch is READY, then
     * predicted by whichever thread takes it first, then written by the
     * worker, in batch order (batch written next: slot written % NSLOT),
     * which frees its slot.  Three slots let the packet loop fill one
     * while the other two are predicted side by side; it predicts only
     * when no slot is free (at the end of a capture, where many flows end
     * at once, the two threads then share the batches evenly).  The slot
     * states, counters and flags marked "mu" are shared under mu;
     * everything write_verdict touches (out, the writers, the counters)
     * belongs to the worker while it runs. */
    struct verdict *bbuf[NSLOT];
    float *xbuf[NSLOT];
    int cur;
    int worker;                     /* the worker thread runs */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit;                       /* mu: no more batches will come */
    int state[NSLOT];               /* mu: SLOT_* */
    size_t handed[NSLOT];           /* mu: flows in the slot's batch */
    int pred_ok[NSLOT];             /* mu: its prediction worked (not out of memory) */
    uint64_t filled, written;       /* mu: batches handed over, written */
    int pred_failed;                /* set by write_batch */
    uint64_t decided;               /* flows handed to prediction (packet loop's) */
    double *pb[NSLOT];              /* the slot's probabilities */
    pkstore pk[NSLOT];              /* the slot's packets */
    /* The model's forest, still to be read (model_stream_end) by the
     * worker before its first batch; the stream owns m until then. */
    model_stream *ms;
    int loaded, load_failed;        /* mu: the worker read it, or failed to */
} ctx;


/* What a verdict needs of a flow, kept until its batch is predicted. */
typedef struct verdict {
    uint64_t id;
    uint8_t addr[2][16];    /* client, server (written out by the worker) */
    uint16_t sport, dport;
    uint8_t family, proto, early, has_hello, ech;
    uint16_t tls_version;
    int64_t first, decision;
    size_t packets;
    size_t pk_off, pk_n;    /* its packets in the batch's pkstore */
    char *sni;              /* NUL-terminated; may be cut at an inner NUL */
    size_t sni_len;
    char *label;            /* the SNI's label, "" for none */
} verdict;

static void write_verdict(ctx *c, const verdict *v, const double *p)
{
    int k = (int)c->m->nclasses;
    int best[3];
    eval_top3(p, k, best);
    const char *pred = c->m->classes[best[0]];
    int has_label = v->label[0] != 0;
    int agrees = has_label && !strcmp(pred, v->label);
    c->verdicts++;
    c->early += v->early;
    c->with_label += has_label;
    c->agree += agrees;
    c->lat_pkts += v->packets;
    c->lat_ns += v->decision - v->first;
    char t1[32], t2[32], vb[8], src[64], dst[64];
    flow_addr_fmt(v->family, v->addr[0], src, sizeof src);
    flow_addr_fmt(v->family, v->addr[1], dst, sizeof dst);
    t1[csv_format_ts(v->first, t1)] = 0;
    t2[csv_format_ts(v->decision, t2)] = 0;
    if (c->csv) {
        csv_writer *w = c->cw;
        csv_u64(w, v->id);
        csv_cstr(w, src);
        csv_u64(w, v->sport);
        csv_cstr(w, dst);
        csv_u64(w, v->dport);
        csv_u64(w, v->proto);
        csv_cstr(w, t1);
        csv_cstr(w, t2);
        csv_u64(w, v->packets);
        csv_u64(w, v->early);
        csv_str(w, v->sni, v->sni_len);
        csv_cstr(w, v->has_hello ? (v->ech ? "1" : "0") : "");
        for (int b = 0; b < 3; b++) {
            csv_cstr(w, best[b] >= 0 ? c->m->classes[best[b]] : "");
            if (best[b] >= 0)
                csv_double(w, p[best[b]]);
            else
                csv_cstr(w, "");
        }
        csv_cstr(w, v->label);
        csv_cstr(w, has_label ? (agrees ? "1" : "0") : "");
        csv_end_row(w);
        return;
    }
    json_writer *j = &c->j;
    json_begin_object(j);
    json_key(j, "flow_id");
    json_i64(j, (int64_t)v->id);
    json_key(j, "src_ip");
    json_str(j, src);
    json_key(j, "src_port");
    json_i64(j, v->sport);
    json_key(j, "dst_ip");
    json_str(j, dst);
    json_key(j, "dst_port");
    json_i64(j, v->dport);
    json_key(j, "proto");
    json_str(j, v->proto == 6 ? "tcp" : "udp");
    json_key(j, "first_ts");
    json_str(j, t1);
    json_key(j, "decision_ts");
    json_str(j, t2);
    json_key(j, "packets");
    json_i64(j, (int64_t)v->packets);
    json_key(j, "early");
    json_bool(j, v->early);
    json_key(j, "sni");
    if (v->has_hello && v->sni_len)
        json_str(j, v->sni);    /* JSON strings hold no NUL: up to the first */
    else
        json_null(j);
    json_key(j, "tls_version");
    if (v->has_hello)
        json_str(j, tls_version_name(v->tls_version, vb));
    else
        json_null(j);
    json_key(j, "ech");
    json_bool(j, v->ech);
    json_key(j, "label");
    json_str(j, pred);
    json_key(j, "probability");
    json_double(j, p[best[0]]);
    json_key(j, "top3");
    json_begin_array(j);
    for (int b = 0; b < 3 && best[b] >= 0; b++) {
        json_begin_object(j);
        json_key(j, "label");
        json_str(j, c->m->classes[best[b]]);
        json_key(j, "probability");
        json_double(j, p[best[b]]);
        json_end_object(j);
    }
    json_end_array(j);
    json_key(j, "sni_label");
    if (has_label)
        json_str(j, v->label);
    else
        json_null(j);
    json_key(j, "agrees");
    if (has_label)
        json_bool(j, agrees);
    else
        json_null(j);
    json_end_object(j);
}

/* The features of the n flows of batch b, then their prediction, all
 * together (one pass of each tree over the whole batch keeps the tree in
 * cache, several times faster than a flow at a time on big forests); fm
 * and ws: the calling thread's scratch.  1, or 0 when out of memory. */
static int predict_only(ctx *c, int b, size_t n, feat_map *fm, feat_ws *ws)
{
    const pkstore *ps = &c->pk[b];
    for (size_t i = 0; i < n; i++) {
        const verdict *v = &c->bbuf[b][i];
        size_t o = v->pk_off;
        feat_view d = {v->pk_n, ps->ts + o, ps->size + o, ps->pay + o, ps->fwd + o};
        if (feat_map_vector(fm, ws, &d, c->xbuf[b] + i * c->m->nfeat) < 0)
            return 0;
    }
    snitch_err e = {""};
    return model_predict_proba(c->m, c->xbuf[b], n, c->pb[b], c->threads, &e) == 0;
}

/* Keep a copy of a flow's packets (its data view) in store ps. */
static int pk_add(pkstore *ps, const feat_view *d, size_t *off)
{
    size_t need = ps->len + d->n;
    if (need > ps->cap) {
        size_t cap = ps->cap, c1 = cap, c2 = cap, c3 = cap;
        if (array_grow((void **)&ps->ts, &cap, need, sizeof *ps->ts) < 0 ||
            array_grow((void **)&ps->size, &c1, need, sizeof *ps->size) < 0 ||
            array_grow((void **)&ps->pay, &c2, need, sizeof *ps->pay) < 0 ||
            array_grow((void **)&ps->fwd, &c3, need, sizeof *ps->fwd) < 0)
            return -1;      /* the arrays grown so far keep the old cap: fine */
        ps->cap = cap;
    }
    memcpy(ps->ts + ps->len, d->ts, d->n * sizeof *ps->ts);
    memcpy(ps->size + ps->len, d->size, d->n * sizeof *ps->size);
    memcpy(ps->pay + ps->len, d->pay, d->n * sizeof *ps->pay);
    memcpy(ps->fwd + ps->len, d->fwd, d->n * sizeof *ps->fwd);
    *off = ps->len;
    ps->len = need;
    return 0;
}

static void pk_free(pkstore *ps)
{
    free(ps->ts);
    free(ps->size);
    free(ps->pay);
    free(ps->fwd);
}

/* Write the verdicts of the n flows of slot b, predicted (ok) or not (a
 * model that failed to load, or out of memory: none written, the run
 * fails), and release their strings. */
static void write_batch(ctx *c, int b, size_t n, int ok)
{
    size_t k = c->m->nclasses;
    if (!ok && !c->load_failed)
        c->pred_failed = 1;         /* only out of memory can fail here */
    for (size_t i = 0; i < n; i++) {
        if (ok)
            write_verdict(c, &c->bbuf[b][i], c->pb[b] + i * k);
        free(c->bbuf[b][i].sni);
        free(c->bbuf[b][i].label);
    }
}

/* Without a worker: predict slot b and write it. */
static void predict_batch(ctx *c, int b, size_t n)
{
    int ok = !c->load_failed && predict_only(c, b, n, &c->map, c->ws);
    write_batch(c, b, n, ok);
}

/* The oldest READY slot (mu held), or -1. */
static int ready_slot(const ctx *c)
{
    for (uint64_t q = c->written; q < c->filled; q++)
        if (c->state[q % NSLOT] == SLOT_READY)
            return (int)(q % NSLOT);
    return -1;
}

/* Predict the oldest READY slot with the calling thread's scratch (mu held
 * on entry and on return, released meanwhile): 1, or 0 with none ready.
 * The packet loop (its scratch: ws == c->ws) takes forests only: a network
 * computes in buffers of its own, one prediction at a time, so its batches
 * stay with the worker. */
static int predict_ready(ctx *c, feat_map *fm, feat_ws *ws)
{
    int b = ready_slot(c);
    if (b < 0 || !c->loaded || (ws == c->ws && c->m->kind != MODEL_FOREST))
        return 0;
    c->state[b] = SLOT_BUSY;
    size_t n = c->handed[b];
    pthread_mutex_unlock(&c->mu);
    int ok = predict_only(c, b, n, fm, ws);
    pthread_mutex_lock(&c->mu);
    c->pred_ok[b] = ok;
    c->state[b] = SLOT_DONE;
    pthread_cond_broadcast(&c->cv);
    return 1;
}

/* Read the rest of the model file (the forest): 0, or -1 (see
 * model_stream_end). */
static int finish_load(ctx *c)
{
    model_stream *ms = c->ms;
    c->ms = NULL;
    return ms ? model_stream_end(ms) : 0;
}

static void *worker_main(void *arg)
{
    ctx *c = arg;
    int r = finish_load(c);
    pthread_mutex_lock(&c->mu);
    if (r < 0)
        c->load_failed = 1;
    else
        c->loaded = 1;
    for (;;) {
        /* Writing first, in order: it frees the slot the packet loop waits for. */
        int w = (int)(c->written % NSLOT);
        if (c->written < c->filled &&
            (c->state[w] == SLOT_DONE || (c->load_failed && c->state[w] == SLOT_READY))) {
            size_t n = c->handed[w];
            int ok = c->state[w] == SLOT_DONE && c->pred_ok[w];
            pthread_mutex_unlock(&c->mu);
            write_batch(c, w, n, ok);
            pthread_mutex_lock(&c->mu);
            c->state[w] = SLOT_FREE;
            c->written++;
            pthread_cond_broadcast(&c->cv);
            continue;
        }
        if (predict_ready(c, &c->wmap, c->wws))
            continue;
        if (c->quit && c->written == c->filled)
            break;
        pthread_cond_wait(&c->cv, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Hand the waiting flows over: predicted and written here without a
 * worker; else made READY, and the packet loop goes on in the next slot,
 * once it is free, predicting READY batches meanwhile. */
static void flush_batch(ctx *c)
{
    if (!c->nb)
        return;
    if (!c->worker) {
        predict_batch(c, c->cur, c->nb);
        c->nb = 0;
        c->pk[c->cur].len = 0;
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->handed[c->cur] = c->nb;
    c->state[c->cur] = SLOT_READY;
    c->filled++;
    pthread_cond_broadcast(&c->cv);
    c->cur = (int)(c->filled % NSLOT);
    while (c->state[c->cur] != SLOT_FREE)
        if (!predict_ready(c, &c->map, c->ws))
            pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    c->nb = 0;
    c->pk[c->cur].len = 0;
}

/* The model's forest could not be read (by the worker, or before the
 * packet loop when there is none). */
static int load_failed(ctx *c)
{
    if (!c->worker)
        return c->load_failed;
    pthread_mutex_lock(&c->mu);
    int f = c->load_failed;
    pthread_mutex_unlock(&c->mu);
    return f;
}

/* Wait for the worker to finish what it was given (helping to predict it),
 * stop it, and release what it shared with the packet loop. */
static void stop_worker(ctx *c)
{
    if (!c->worker)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = 1;
    pthread_cond_broadcast(&c->cv);
    while (predict_ready(c, &c->map, c->ws))
        ;
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    c->worker = 0;
}

static void on_flow(void *arg, const extract_flow *r)
{
    ctx *c = arg;
    const flow *f = r->f;
    verdict *v = &c->bbuf[c->cur][c->nb];
    memset(v, 0, sizeof *v);
    if (pk_add(&c->pk[c->cur], r->data, &v->pk_off) < 0) {
        c->failed = 1;
        return;
    }
    v->pk_n = r->data->n;
    v->id = f->id;
    v->family = f->family;
    memcpy(v->addr[0], f->addr[r->client], 16);
    memcpy(v->addr[1], f->addr[1 - r->client], 16);
    v->sport = f->port[r->client];
    v->dport = f->port[1 - r->client];
    v->proto = f->proto;
    v->early = (uint8_t)r->early;
    v->has_hello = (uint8_t)r->has_hello;
    v->ech = (uint8_t)r->ech;
    v->tls_version = r->tls_version;
    v->first = r->first_ts;
    v->decision = r->last_ts;
    v->packets = r->packets;
    v->sni = malloc(r->sni_len + 1);
    v->label = strdup(r->label);
    if (!v->sni || !v->label) {
        free(v->sni);
        free(v->label);
        c->failed = 1;
        return;
    }
    memcpy(v->sni, r->sni, r->sni_len);
    v->sni[r->sni_len] = 0;
    v->sni_len = r->sni_len;
    c->decided++;
    if (++c->nb == c->cap)
        flush_batch(c);
}

int cmd_classify(int argc, char **argv)
{
    enum { O_FORMAT = 400, O_AFTER, O_LABEL, O_PACKETS, O_IDLE, O_MAXF, O_FORCE, O_THREADS, O_BATCH };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},
        {"read", required_argument, 0, 'r'},
        {"interface", required_argument, 0, 'i'},
        {"filter", required_argument, 0, 'f'},
        {"output", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {"format", required_argument, 0, O_FORMAT},
        {"after", required_argument, 0, O_AFTER},
        {"label", required_argument, 0, O_LABEL},
        {"packets", required_argument, 0, O_PACKETS},
        {"idle-timeout", required_argument, 0, O_IDLE},
        {"max-flows", required_argument, 0, O_MAXF},
        {"force", no_argument, 0, O_FORCE},
        {"threads", required_argument, 0, O_THREADS},
        {"batch", required_argument, 0, O_BATCH},
        {0, 0, 0, 0},
    };
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    const char *mpath = NULL, *iface = NULL, *filter = NULL, *out = "-", *label_spec = NULL;
    int quiet = 0, force = 0, use_csv = 0, c, rc = EXIT_USAGE, nthreads = 0;
    size_t batch = 0;
    uint64_t v;
    extract_config cfg = {
        .features = EXTRACT_STATS, .data_only = 1, .seq_n = 25, .window_ns = 10000000,
        .idle_ns = 120000000000LL, .max_flows = 1000000,
    };
    if (!files)
        return EXIT_FAIL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:r:i:f:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': mpath = optarg; break;
        case 'r': files[nfiles++] = optarg; break;
        case 'i': iface = optarg; break;
        case 'f': filter = optarg; break;
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); free(files); return EXIT_OK;
        case O_FORMAT:
            if (strcmp(optarg, "jsonl") && strcmp(optarg, "csv")) {
                fprintf(stderr, "snitch classify: --format: jsonl or csv, got '%s'\n", optarg);
                goto done;
            }
            use_csv = !strcmp(optarg, "csv");
            break;
        case O_AFTER:
            if (cli_uint("classify", "--after", optarg, 1u << 30, &v) < 0)
                goto done;
            cfg.decide_after = cfg.first_n = (size_t)v;
            break;
        case O_LABEL: label_spec = optarg; break;
        case O_PACKETS:
            if (strcmp(optarg, "data") && strcmp(optarg, "all")) {
                fprintf(stderr, "snitch classify: --packets: data or all\n");
                goto done;
            }
            cfg.data_only = !strcmp(optarg, "data");
            break;
        case O_IDLE:
            if (cli_seconds("classify", "--idle-timeout", optarg, &cfg.idle_ns) < 0 || cfg.idle_ns <= 0)
                goto done;
            break;
        case O_MAXF:
            if (cli_uint("classify", "--max-flows", optarg, 1ull << 40, &v) < 0)
                goto done;
            cfg.max_flows = (size_t)v;
            break;
        case O_FORCE: force = 1; break;
        case O_THREADS:
            if (cli_threads("classify", optarg, &nthreads) < 0)
                goto done;
            break;
        case O_BATCH:
            if (cli_uint("classify", "--batch", optarg, 1u << 20, &v) < 0)
                goto done;
            if (v < 1) {
                fprintf(stderr, "snitch classify: --batch: at least 1\n");
                goto done;
            }
            batch = (size_t)v;
            break;
        default: fputs(usage_text, stderr); goto done;
        }
    }
    if (optind < argc || !mpath || !nfiles == !iface) {
        fprintf(stderr, "snitch classify: give --model FILE and either -r FILE... or -i IFACE\n%s",
                usage_text);
        goto done;
    }
    rc = EXIT_FAIL;
    snitch_err e = {""};
    ctx cx;
    memset(&cx, 0, sizeof cx);
    if (!nthreads)
        nthreads = cli_default_threads();
    int nbuf = iface ? 1 : nthreads;     /* live: every verdict at once, here */
    /* With a worker, it reads a forest's trees while packets are read. */
    if (nbuf == 2)
        cx.ms = model_stream_begin(mpath, MODEL_LOAD_LEAN, 0, &cx.m);
    if (!cx.ms && !(cx.m = model_load_flags(mpath, MODEL_LOAD_LEAN, &e))) {
        fprintf(stderr, "snitch classify: %s\n", e.msg);
        goto done;
    }
    if (feat_map_build(&cx.map, cx.m->feat, cx.m->nfeat, &e) < 0 ||
        (nbuf == 2 && feat_map_build(&cx.wmap, cx.m->feat, cx.m->nfeat, &e) < 0)) {
        fprintf(stderr, "snitch classify: %s: %s\n", mpath, e.msg);
        feat_map_free(&cx.map);
        if (cx.ms)
            model_stream_abort(cx.ms);
        else
            model_free(cx.m);
        goto done;
    }
    if (!label_spec)
        label_spec = cx.m->label_mode[0] ? cx.m->label_mode : "sni";
    labeler *lab = labeler_new(label_spec, &e);
    cx.ws = feat_ws_new();
    cx.wws = nbuf == 2 ? feat_ws_new() : NULL;
    /* Files: predict up to 4096 flows at a time (a tree is brought into
     * cache once per batch: with 200 deep trees, 512 at a time took 1.5x
     * as long; 8192 gained nothing more but memory), fewer with many
     * classes so the probabilities stay within 8 MB.  Live: each flow at
     * once, the verdict must not wait for others. */
    size_t p_rows = ((size_t)1 << 20) / (cx.m->nclasses ? cx.m->nclasses : 1);
    cx.cap = iface ? 1 : batch ? batch : p_rows > 4096 ? 4096 : p_rows < 64 ? 64 : p_rows;
    cx.threads = 1;
    int nslot = nbuf == 2 ? NSLOT : 1;
    for (int b = 0; b < nslot; b++) {
        cx.bbuf[b] = calloc(cx.cap, sizeof *cx.bbuf[b]);
        cx.xbuf[b] = malloc(cx.cap * cx.m->nfeat * sizeof *cx.xbuf[b]);
        cx.pb[b] = malloc(cx.cap * cx.m->nclasses * sizeof *cx.pb[b]);
        if (!cx.bbuf[b] || !cx.xbuf[b] || !cx.pb[b])
            nbuf = -1;
    }
    capture *cap = NULL;
    outfile of;
    memset(&of, 0, sizeof of);
    extract *x = NULL;
    if (!lab) {
        fprintf(stderr, "snitch classify: --label: %s\n", e.msg);
        goto cleanup;
    }
    if (!cx.ws || (nbuf == 2 && !cx.wws) || nbuf < 0) {
        fprintf(stderr, "snitch classify: out of memory\n");
        goto cleanup;
    }
    cap = iface ? capture_open_live(iface, filter, 262144, &e) : capture_open_files(files, nfiles, filter, &e);
    if (!cap) {
        fprintf(stderr, "snitch classify: %s\n", e.msg);
        goto cleanup;
    }
    if (outfile_open(&of, "classify", out, force) < 0)
        goto cleanup;
    cx.out = of.f;
    cx.csv = use_csv;
    if (use_csv) {
        if (!(cx.cw = csv_writer_new(of.f)))
            goto cleanup;
        const char *h[] = {"flow_id", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "first_ts",
                           "decision_ts", "packets", "early", "sni", "ech", "label", "probability",
                           "second", "second_probability", "third", "third_probability", "sni_label",
                           "agrees"};
        for (size_t i = 0; i < sizeof h / sizeof *h; i++)
            csv_cstr(cx.cw, h[i]);
        csv_end_row(cx.cw);
    } else {
        json_init(&cx.j, of.f, 0);
    }
    cfg.labels = lab;
    cfg.on_flow = on_flow;
    cfg.ctx = &cx;
    cfg.all_flows = 1;
    if (!(x = extract_new(&cfg, NULL, &e))) {
        fprintf(stderr, "snitch classify: %s\n", e.msg);
        goto cleanup;
    }
    if (nbuf == 2) {
        /* Signals go to the packet loop, not to the worker. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_mutex_init(&cx.mu, NULL);
        pthread_cond_init(&cx.cv, NULL);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        cx.worker = pthread_create(&cx.th, NULL, worker_main, &cx) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!cx.worker) {   /* one thread then, as with --threads 1 */
            pthread_mutex_destroy(&cx.mu);
            pthread_cond_destroy(&cx.cv);
        }
    }
    if (!cx.worker && cx.ms && finish_load(&cx) < 0)
        cx.load_failed = 1;
    /* Two threads for files: a third reads ahead, so that the packet loop
     * spends its core on packets rather than on libpcap's reading. */
    if (nbuf == 2 && capture_read_ahead(cap, 0, &e) < 0) {
        fprintf(stderr, "snitch classify: %s\n", e.msg);
        goto cleanup;
    }
    g_cap = cap;
    g_stop = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    double t0 = cli_now(), last = t0;
    capture_packet pkt;
    int failed = 0;
    uint64_t pkt_seen = 0;
    /* A progress line on a terminal, unless the verdicts go to that terminal too. */
    int show = !quiet && isatty(2) && !(!strcmp(out, "-") && isatty(1));
    uint64_t last_v = 0;
    for (;;) {
        /* now and then: has the worker failed to read the model? */
        if ((pkt_seen++ & 0xffff) == 0 && load_failed(&cx))
            break;
        int r = capture_next(cap, &pkt, &e);
        if (r == CAPTURE_END)
            break;
        if (r == CAPTURE_WARNING) {
            if (show)
                fprintf(stderr, "\r%60s\r", "");
            fprintf(stderr, "snitch classify: warning: %s\n", e.msg);
            continue;
        }
        if (r == CAPTURE_ERROR) {
            if (g_stop)
                break;
            if (show)
                fprintf(stderr, "\r%60s\r", "");
            fprintf(stderr, "snitch classify: %s\n", e.msg);
            failed = 1;
            break;
        }
        if (extract_packet(x, &pkt, &e) < 0 || cx.failed) {
            fprintf(stderr, "snitch classify: %s: packet %llu: %s\n", pkt.source,
                    (unsigned long long)pkt.number, cx.failed ? "out of memory" : e.msg);
            failed = 1;
            break;
        }
        if (iface && cx.verdicts != last_v) {      /* live: verdicts go out at once */
            if (cx.cw)
                csv_writer_flush(cx.cw);
            fflush(of.f);
            last_v = cx.verdicts;
        }
        if (show && (pkt.number & 0xffff) == 0) {
            double now = cli_now();
            if (now - last >= 0.5) {
                char extra[48];
                snprintf(extra, sizeof extra, "  %llu decided", (unsigned long long)cx.decided);
                cli_progress(cap, x, t0, 0, extra);
                last = now;
            }
        }
    }
    if (show)
        cli_progress(cap, x, t0, 1, NULL);
    /* On a signal too: every open flow gets its verdict before the summary. */
    if (!failed && extract_finish(x, &e) < 0) {
        fprintf(stderr, "snitch classify: %s\n", e.msg);
        failed = 1;
    }
    if (!failed && !load_failed(&cx))
        flush_batch(&cx);
    stop_worker(&cx);
    if (cx.load_failed) {
        /* Read it whole to say why (or that it changed meanwhile). */
        model *again = model_load_flags(mpath, MODEL_LOAD_LEAN, &e);
        if (again)
            fprintf(stderr, "snitch classify: %s: the model file changed while it was read\n",
                    mpath);
        else
            fprintf(stderr, "snitch classify: %s\n", e.msg);
        model_free(again);
        failed = 1;
    }
    if (cx.pred_failed) {
        fprintf(stderr, "snitch classify: out of memory predicting\n");
        failed = 1;
    }
    double secs = cli_now() - t0;
    g_cap = NULL;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (cx.cw && csv_writer_close(cx.cw) < 0)
        failed = 1;
    cx.cw = NULL;
    if (!quiet) {
        extract_stats st;
        extract_get_stats(x, &st);
        fprintf(stderr, "snitch classify: %llu packets in %.2f s (%.0f packets/s), %llu flows "
                        "(peak %llu open), %llu verdicts (%llu early)\n",
                (unsigned long long)st.packets, secs, secs > 0 ? (double)st.packets / secs : 0.0,
                (unsigned long long)st.flows.flows, (unsigned long long)st.flows.peak_open,
                (unsigned long long)cx.verdicts, (unsigned long long)cx.early);
        fprintf(stderr, "  sni      %llu flows with an SNI label (--label %s); the model agrees on "
                        "%llu (%.1f%%); %llu offer ECH\n",
                (unsigned long long)cx.with_label, label_spec, (unsigned long long)cx.agree,
                cx.with_label ? 100.0 * (double)cx.agree / (double)cx.with_label : 0.0,
                (unsigned long long)st.ech);
        if (cx.verdicts)
            fprintf(stderr, "  latency  %.1f packets and %.0f us of capture time from first packet "
                            "to verdict, on average\n",
                    (double)cx.lat_pkts / (double)cx.verdicts,
                    (double)cx.lat_ns / 1e3 / (double)cx.verdicts);
        if (st.flows.ended[FLOW_END_EVICTED])
            fprintf(stderr, "  warning  %llu flows ended early: more than %zu open (--max-flows)\n",
                    (unsigned long long)st.flows.ended[FLOW_END_EVICTED], cfg.max_flows);
        uint64_t recv, drop, ifdrop;
        if (iface && capture_live_stats(cap, &recv, &drop, &ifdrop) == 0)
            fprintf(stderr, "  capture  %llu received, %llu dropped by the kernel, %llu by the "
                            "interface\n",
                    (unsigned long long)recv, (unsigned long long)drop, (unsigned long long)ifdrop);
    }
    if (failed) {
        outfile_abort(&of);
        goto cleanup;
    }
    rc = outfile_commit(&of, "classify") < 0 ? EXIT_FAIL : EXIT_OK;
cleanup:
    stop_worker(&cx);
    if (rc != EXIT_OK && of.f)
        outfile_abort(&of);
    if (cx.cw)
        csv_writer_close(cx.cw);
    extract_free(x);
    capture_close(cap);
    labeler_free(lab);
    feat_map_free(&cx.map);
    feat_map_free(&cx.wmap);
    feat_ws_free(cx.ws);
    feat_ws_free(cx.wws);
    for (size_t i = 0; cx.bbuf[cx.cur] && i < cx.nb; i++) {
        free(cx.bbuf[cx.cur][i].sni);
        free(cx.bbuf[cx.cur][i].label);
    }
    for (int b = 0; b < NSLOT; b++) {
        free(cx.bbuf[b]);
        free(cx.xbuf[b]);
        free(cx.pb[b]);
        pk_free(&cx.pk[b]);
    }
    if (cx.ms)      /* never read on: the stream still owns the model */
        model_stream_abort(cx.ms);
    else
        model_free(cx.m);
done:
    free(files);
    return rc;
}
