/* features.c - statistical, sequence and window features; see features.h.
 *
 * Why the care with arithmetic: the figures must equal the reference's
 * (numpy) to the last bits where possible.  Sums of integer sizes are kept
 * in integers and divided once; variances are two-pass in timestamp order;
 * percentiles use numpy's lerp, which switches formula at t = 0.5. */
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
    /* scratch for statistics */
    size_t dcap;
    double *d1;
    int64_t *t1;
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
    free(ws->d1);
    free(ws->t1);
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
    double *d = realloc(ws->d1, c * sizeof *d);
    if (!d)
        return -1;
    ws->d1 = d;
    int64_t *t = realloc(ws->t1, c * sizeof *t);
    if (!t)
        return -1;
    ws->t1 = t;
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

/* numpy.percentile(s, 100*q, method='linear') on sorted s, including
 * numpy's _lerp, which computes from the upper end when t >= 0.5. */
static double pct(const double *s, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    double pos = (double)(n - 1) * q;
    double lo_f = floor(pos);
    size_t lo = (size_t)lo_f;
    double t = pos - lo_f;
    if (lo >= n - 1)
        return s[n - 1];
    double a = s[lo], b = s[lo + 1], d = b - a;
    if (t >= 0.5)
        return b - d * (1.0 - t);
    return a + d * t;
}

/* Sort doubles ascending: insertion sort for short runs, otherwise a
 * quicksort with median-of-three pivots that recurses into the smaller part
 * and falls back to heapsort if it gets too deep (so no input is
 * quadratic).  Inlined comparisons make it several times faster than qsort
 * on the per-flow arrays, which is where extraction spends its sorting. */
static void insertion_sort(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void sift_down(double *v, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && v[c + 1] > v[c])
            c++;
        if (!(v[c] > v[i]))
            return;
        double t = v[c];
        v[c] = v[i];
        v[i] = t;
        i = c;
    }
}

static void heap_sort(double *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t e = n; e-- > 1;) {
        double t = v[0];
        v[0] = v[e];
        v[e] = t;
        sift_down(v, 0, e);
    }
}

static void sort_doubles_depth(double *v, size_t n, int depth)
{
    while (n > 24) {
        if (depth-- == 0) {
            heap_sort(v, n);
            return;
        }
        double a = v[0], b = v[n / 2], c = v[n - 1];
        double piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < piv)
                i++;
            while (v[j] > piv)
                j--;
            if (i >= j)
                break;
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
            i++;
            j--;
        }
        size_t left = j + 1;    /* v[0..j] <= piv <= v[j+1..n) */
        if (left < n - left) {
            sort_doubles_depth(v, left, depth);
            v += left;
            n -= left;
        } else {
            sort_doubles_depth(v + left, n - left, depth);
            n = left;
        }
    }
    insertion_sort(v, n);
}

static void sort_doubles(double *v, size_t n)
{
    int depth = 0;
    for (size_t m = n; m; m >>= 1)
        depth += 2;
    sort_doubles_depth(v, n, depth);
}

/* [num,] p25, p50, p75, max, mean, var of the values of v selected by dir
 * (dir 2: all).  which: 0 sizes, 1 payloads. */
static double *size_stats(feat_ws *ws, const feat_view *v, int dir, int which,
                          int with_num, double *out)
{
    const uint32_t *x = which ? v->pay : v->size;
    size_t m = 0;
    int64_t sum = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (dir != 2 && v->fwd[i] != dir)
            continue;
        ws->d1[m++] = x[i];
        sum += x[i];
    }
    double mean = 0.0, var = 0.0;
    if (m) {
        mean = (double)sum / (double)m;
        /* Two passes over the values in timestamp order, like the
         * reference; d1 still holds them unsorted here. */
        double acc = 0.0;
        for (size_t i = 0; i < m; i++) {
            double dlt = ws->d1[i] - mean;
            acc += dlt * dlt;
        }
        var = acc / (double)m;
    }
    sort_doubles(ws->d1, m);
    if (with_num)
        *out++ = (double)m;
    *out++ = pct(ws->d1, m, 0.25);
    *out++ = pct(ws->d1, m, 0.5);
    *out++ = pct(ws->d1, m, 0.75);
    *out++ = m ? ws->d1[m - 1] : 0.0;
    *out++ = mean;
    *out++ = var;
    return out;
}

static double *iat_stats(feat_ws *ws, const feat_view *v, int dir, double *out)
{
    size_t m = 0, k = 0;
    int64_t prev = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (dir != 2 && v->fwd[i] != dir)
            continue;
        if (k++)
            ws->d1[m++] = (double)(v->ts[i] - prev) / 1e9;
        prev = v->ts[i];
    }
    sort_doubles(ws->d1, m);
    *out++ = pct(ws->d1, m, 0.25);
    *out++ = pct(ws->d1, m, 0.5);
    *out++ = pct(ws->d1, m, 0.75);
    return out;
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
