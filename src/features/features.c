/* features.c - statistical, sequence and window features; see features.h.
 *
 * Why the care with arithmetic: the figures must equal the reference's
 * (numpy) to the last bits where possible.  Sums of integer sizes are kept
 * in integers and divided once; variances are two-pass in timestamp order;
 * percentiles use numpy's lerp, which switches formula at t = 0.5.
 *
 * Why the statistics sort integers: sizes are integers, and inter-arrival
 * times are integer nanosecond differences divided by 1e9, a conversion
 * that keeps their order, so sorting the integers and converting the few
 * values a percentile reads gives the very numbers sorting the doubles
 * did, without the mispredicted compares of a comparison sort (sorting was
 * the largest cost of extraction after reading).  Short arrays use
 * insertion sort, longer ones an LSD radix sort over the bytes that differ
 * between keys; the sorted sizes of all packets are the merge of the
 * forward and backward ones. */
#include "features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct feat_ws {
    size_t cap;
    size_t *order, *tmp;
    int64_t *ts;
    uint32_t *size, *pay;
    uint8_t *fwd;
    /* data-only copies */
    int64_t *dts;
    uint32_t *dsize, *dpay;
    uint8_t *dfwd;
    /* scratch for statistics: one direction's keys, in timestamp order
     * until their quartiles reorder them */
    size_t dcap;
    uint64_t *k1;
};

feat_ws *feat_ws_new(void)
{
    return calloc(1, sizeof(feat_ws));
}

void feat_ws_free(feat_ws *ws)
{
    if (!ws)
        return;
    free(ws->order);
    free(ws->tmp);
    free(ws->ts);
    free(ws->size);
    free(ws->pay);
    free(ws->fwd);
    free(ws->dts);
    free(ws->dsize);
    free(ws->dpay);
    free(ws->dfwd);
    free(ws->k1);
    free(ws);
}

static int ws_reserve(feat_ws *ws, size_t n)
{
    if (n <= ws->cap)
        return 0;
    size_t c = ws->cap ? ws->cap : 64;
    while (c < n)
        c *= 2;
#define RE(p, t) do { void *q_ = realloc(ws->p, c * sizeof(t)); if (!q_) return -1; ws->p = q_; } while (0)
    RE(order, size_t);
    RE(tmp, size_t);
    RE(ts, int64_t);
    RE(size, uint32_t);
    RE(pay, uint32_t);
    RE(fwd, uint8_t);
    RE(dts, int64_t);
    RE(dsize, uint32_t);
    RE(dpay, uint32_t);
    RE(dfwd, uint8_t);
#undef RE
    ws->cap = c;
    return 0;
}

static int ws_reserve_scratch(feat_ws *ws, size_t n)
{
    if (n <= ws->dcap)
        return 0;
    size_t c = ws->dcap ? ws->dcap : 64;
    while (c < n)
        c *= 2;
    uint64_t *q = realloc(ws->k1, c * sizeof *q);
    if (!q)
        return -1;
    ws->k1 = q;
    ws->dcap = c;
    return 0;
}

/* Stable merge sort of indices by timestamp.  Packets almost always arrive
 * in order, so check that first and skip the sort. */
static void sort_by_ts(const flow_pkt *p, size_t n, size_t *order, size_t *tmp)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++)
        if (p[i].ts < p[i - 1].ts)
            sorted = 0;
    if (sorted)
        return;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = p[order[j]].ts < p[order[i]].ts ? order[j++] : order[i++];
            while (i < mid)
                tmp[k++] = order[i++];
            while (j < hi)
                tmp[k++] = order[j++];
        }
        memcpy(order, tmp, n * sizeof *order);
    }
}

int feat_prepare(feat_ws *ws, const flow *f, int client_dir, int data_only,
                 feat_view *all, feat_view *data)
{
    return feat_prepare_first(ws, f, client_dir, data_only, 0, all, data);
}

int feat_prepare_first(feat_ws *ws, const flow *f, int client_dir, int data_only, size_t first,
                       feat_view *all, feat_view *data)
{
    size_t n = f->npkts;
    if (ws_reserve(ws, n) < 0)
        return -1;
    sort_by_ts(f->pkts, n, ws->order, ws->tmp);
    size_t nd = 0;
    if (first && first < n)
        n = first;
    for (size_t i = 0; i < n; i++) {
        const flow_pkt *p = &f->pkts[ws->order[i]];
        ws->ts[i] = p->ts;
        ws->size[i] = p->size;
        ws->pay[i] = p->pay;
        ws->fwd[i] = p->dir == client_dir;
    }
    for (size_t i = 0; i < n; i++) {
        if (data_only && ws->pay[i] == 0)
            continue;
        ws->dts[nd] = ws->ts[i];
        ws->dsize[nd] = ws->size[i];
        ws->dpay[nd] = ws->pay[i];
        ws->dfwd[nd] = ws->fwd[i];
        nd++;
    }
    *all = (feat_view){n, ws->ts, ws->size, ws->pay, ws->fwd};
    *data = (feat_view){nd, ws->dts, ws->dsize, ws->dpay, ws->dfwd};
    return 0;
}

static const char *const stat_names[FEAT_NSTATS] = {
    "pkt_fwd_num", "pkt_fwd_p25", "pkt_fwd_p50", "pkt_fwd_p75", "pkt_fwd_max", "pkt_fwd_mean", "pkt_fwd_var",
    "pkt_bwd_num", "pkt_bwd_p25", "pkt_bwd_p50", "pkt_bwd_p75", "pkt_bwd_max", "pkt_bwd_mean", "pkt_bwd_var",
    "pkt_all_num", "pkt_all_p25", "pkt_all_p50", "pkt_all_p75", "pkt_all_max", "pkt_all_mean", "pkt_all_var",
    "iat_fwd_p25", "iat_fwd_p50", "iat_fwd_p75",
    "iat_bwd_p25", "iat_bwd_p50", "iat_bwd_p75",
    "iat_all_p25", "iat_all_p50", "iat_all_p75",
    "pay_fwd_p25", "pay_fwd_p50", "pay_fwd_p75", "pay_fwd_max", "pay_fwd_mean", "pay_fwd_var",
    "pay_bwd_p25", "pay_bwd_p50", "pay_bwd_p75", "pay_bwd_max", "pay_bwd_mean", "pay_bwd_var",
};

static const char *const window_names[FEAT_NWINDOW] = {
    "dt_prev", "size", "rx_bytes", "tx_bytes", "rx_mean", "tx_mean",
    "rx_std", "tx_std", "rx_pkts", "tx_pkts",
};

const char *feat_stats_name(int i)
{
    return i >= 0 && i < FEAT_NSTATS ? stat_names[i] : NULL;
}

const char *feat_window_name(int i)
{
    return i >= 0 && i < FEAT_NWINDOW ? window_names[i] : NULL;
}

/* A size as a number. */
static double size_val(uint64_t k) { return (double)k; }

/* An inter-arrival time key (nanoseconds, offset by 2^63 so that
 * negative differences, which sorted timestamps never give, would still
 * sort first) in seconds, as the reference computes it. */
#define IAT_BIAS ((uint64_t)1 << 63)
static double iat_val(uint64_t k) { return (double)(int64_t)(k - IAT_BIAS) / 1e9; }

static void insertion_sort(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static inline void swap_keys(uint64_t *v, size_t i, size_t j)
{
    uint64_t t = v[i];
    v[i] = v[j];
    v[j] = t;
}

/* Reorder v[lo..hi) so that v[k] holds the key of rank k there, with no
 * larger key before it and no smaller one after (quickselect: Hoare
 * partitions around a median of three, which also bound the scans). */
static void select_rank(uint64_t *v, size_t lo, size_t hi, size_t k)
{
    while (hi - lo > 16) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap_keys(v, mid, lo);
        if (v[hi - 1] < v[lo])
            swap_keys(v, hi - 1, lo);
        if (v[hi - 1] < v[mid])
            swap_keys(v, hi - 1, mid);
        uint64_t p = v[mid];
        size_t i = lo, j = hi - 1;
        for (;;) {      /* v[lo] <= p <= v[hi - 1]: neither scan runs off */
            while (v[i] < p)
                i++;
            while (v[j] > p)
                j--;
            if (i >= j)
                break;
            swap_keys(v, i++, j--);
        }
        /* v[lo..j] <= p <= v[j+1..hi), with lo <= j < hi - 1 */
        if (k <= j)
            hi = j + 1;
        else
            lo = j + 1;
    }
    insertion_sort(v + lo, hi - lo);
}

static uint64_t min_keys(const uint64_t *v, size_t lo, size_t hi)
{
    uint64_t m = v[lo];
    for (size_t i = lo + 1; i < hi; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

/* numpy.percentile(v, [25, 50, 75], method='linear') of the n keys v, read
 * as numbers by val (which must keep their order), including numpy's
 * _lerp, which computes from the upper end when t >= 0.5.  Each needs the
 * keys of two adjacent ranks, found by selection rather than a sort (a
 * flow's sorts were most of its feature time); v is reordered. */
static void quartiles(uint64_t *v, size_t n, double (*val)(uint64_t), double out[3])
{
    if (n == 0) {
        out[0] = out[1] = out[2] = 0.0;
        return;
    }
    static const double qs[3] = { 0.25, 0.5, 0.75 };
    size_t k[3];
    double t[3];
    uint64_t a[3], b[3];    /* keys of ranks k and k + 1 (while k < n - 1) */
    for (int i = 0; i < 3; i++) {
        double pos = (double)(n - 1) * qs[i], lo = floor(pos);
        k[i] = (size_t)lo;
        t[i] = pos - lo;
    }
    /* The median over all; the lower quartile's ranks among the keys up to
     * it, the upper one's among those after it. */
    select_rank(v, 0, n, k[1]);
    a[1] = v[k[1]];
    b[1] = k[1] + 1 < n ? min_keys(v, k[1] + 1, n) : a[1];
    if (k[0] < k[1]) {
        select_rank(v, 0, k[1], k[0]);
        a[0] = v[k[0]];
        b[0] = min_keys(v, k[0] + 1, k[1] + 1);
    } else {
        a[0] = a[1];
        b[0] = b[1];
    }
    if (k[2] > k[1]) {
        select_rank(v, k[1] + 1, n, k[2]);
        a[2] = v[k[2]];
        b[2] = k[2] + 1 < n ? min_keys(v, k[2] + 1, n) : a[2];
    } else {
        a[2] = a[1];
        b[2] = b[1];
    }
    for (int i = 0; i < 3; i++) {
        if (k[i] >= n - 1) {
            out[i] = val(a[i]);
            continue;
        }
        double x = val(a[i]), y = val(b[i]), d = y - x;
        out[i] = t[i] >= 0.5 ? y - d * (1.0 - t[i]) : x + d * t[i];
    }
}

/* Sizes (which: 0 packet sizes, 1 payloads) of the packets of v sent in
 * direction dir (2: either), in timestamp order, into k; their count, and
 * their sum in *sum and largest in *max. */
static size_t gather_sizes(const feat_view *v, int dir, int which, uint64_t *k, int64_t *sum,
                           uint64_t *max)
{
    const uint32_t *x = which ? v->pay : v->size;
    size_t m = 0;
    int64_t s = 0;
    uint32_t mx = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (dir != 2 && v->fwd[i] != dir)
            continue;
        k[m++] = x[i];
        s += x[i];
        mx = x[i] > mx ? x[i] : mx;
    }
    *sum = s;
    *max = mx;
    return m;
}

/* [num,] p25, p50, p75, max, mean, var of the sizes of one direction (2:
 * all packets). */
static double *size_stats(feat_ws *ws, const feat_view *v, int dir, int which, int with_num,
                          double *out)
{
    int64_t sum;
    uint64_t max;
    uint64_t *k = ws->k1;
    size_t m = gather_sizes(v, dir, which, k, &sum, &max);
    double mean = 0.0, var = 0.0;
    if (m) {
        mean = (double)sum / (double)m;
        /* Two passes over the values in timestamp order, like the
         * reference. */
        double acc = 0.0;
        for (size_t i = 0; i < m; i++) {
            double dlt = (double)k[i] - mean;
            acc += dlt * dlt;
        }
        var = acc / (double)m;
    }
    if (with_num)
        *out++ = (double)m;
    quartiles(k, m, size_val, out);
    out += 3;
    *out++ = m ? (double)max : 0.0;
    *out++ = mean;
    *out++ = var;
    return out;
}

static double *iat_stats(feat_ws *ws, const feat_view *v, int dir, double *out)
{
    size_t m = 0, k = 0;
    int64_t prev = 0;
    uint64_t *d = ws->k1;
    for (size_t i = 0; i < v->n; i++) {
        if (dir != 2 && v->fwd[i] != dir)
            continue;
        if (k++)
            d[m++] = (uint64_t)(v->ts[i] - prev) + IAT_BIAS;
        prev = v->ts[i];
    }
    quartiles(d, m, iat_val, out);
    return out + 3;
}

int feat_stats(feat_ws *ws, const feat_view *v, double out[FEAT_NSTATS])
{
    if (ws_reserve_scratch(ws, v->n + 1) < 0)
        return -1;
    double *o = out;
    o = size_stats(ws, v, 1, 0, 1, o);
    o = size_stats(ws, v, 0, 0, 1, o);
    o = size_stats(ws, v, 2, 0, 1, o);
    o = iat_stats(ws, v, 1, o);
    o = iat_stats(ws, v, 0, o);
    o = iat_stats(ws, v, 2, o);
    o = size_stats(ws, v, 1, 1, 0, o);
    o = size_stats(ws, v, 0, 1, 0, o);
    return o == out + FEAT_NSTATS ? 0 : -1;
}

void feat_seq(const feat_view *v, int n, double *out)
{
    size_t k = v->n < (size_t)n ? v->n : (size_t)n;
    size_t pad = (size_t)n - k;
    double *S = out, *P = out + n, *I = out + 2 * n, *D = out + 3 * n;
    for (size_t i = 0; i < pad; i++)
        S[i] = P[i] = I[i] = D[i] = 0.0;
    for (size_t i = 0; i < k; i++) {
        S[pad + i] = v->size[i];
        P[pad + i] = v->pay[i];
        I[pad + i] = i ? log1p((double)(v->ts[i] - v->ts[i - 1]) / 1e3) : 0.0;
        D[pad + i] = v->fwd[i] ? 1.0 : -1.0;
    }
}

/* Running integer sums of one direction's sizes in the window: exact, so
 * the mean and the variance are each one rounding away from the truth. */
typedef struct win_acc {
    int64_t n, sum;
    __int128 sumsq;
} win_acc;

static void acc_add(win_acc *a, uint32_t x, int sign)
{
    a->n += sign;
    a->sum += sign * (int64_t)x;
    a->sumsq += (__int128)sign * ((__int128)x * x);
}

static void acc_stats(const win_acc *a, double *mean, double *sd)
{
    if (a->n <= 0) {
        *mean = *sd = 0.0;
        return;
    }
    *mean = (double)a->sum / (double)a->n;
    __int128 num = (__int128)a->n * a->sumsq - (__int128)a->sum * a->sum;
    double var = (double)num / ((double)a->n * (double)a->n);
    *sd = var > 0 ? sqrt(var) : 0.0;
}

void feat_window(const feat_view *v, int64_t w_ns, double *out)
{
    win_acc rx = {0, 0, 0}, tx = {0, 0, 0};
    size_t lo = 0, hi = 0;      /* window = packets [lo, hi) */
    for (size_t i = 0; i < v->n; i++) {
        int64_t t = v->ts[i];
        /* grow: packets before i strictly earlier than t */
        while (hi < i && v->ts[hi] < t) {
            acc_add(v->fwd[hi] ? &tx : &rx, v->size[hi], 1);
            hi++;
        }
        /* shrink: packets older than t - w */
        while (lo < hi && v->ts[lo] < t - w_ns) {
            acc_add(v->fwd[lo] ? &tx : &rx, v->size[lo], -1);
            lo++;
        }
        if (lo > hi)
            hi = lo;
        double *o = out + i * FEAT_NWINDOW;
        o[0] = i ? (double)(t - v->ts[i - 1]) / 1e9 : 0.0;
        o[1] = v->size[i];
        o[2] = (double)rx.sum;
        o[3] = (double)tx.sum;
        acc_stats(&rx, &o[4], &o[6]);
        acc_stats(&tx, &o[5], &o[7]);
        o[8] = (double)rx.n;
        o[9] = (double)tx.n;
    }
}
