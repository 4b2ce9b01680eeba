/* test_features.c - statistical, sequence and window features against
 * values computed by the Python reference (numpy percentiles, population
 * variance) for a hand-made flow. */
#include "check.h"

#include <stdlib.h>

#include "features/features.h"

/* 7 packets; endpoint 0 is the client.  Two share a timestamp (1000 ns),
 * two more share 20000010 ns; two are pure ACKs (pay 0). */
static const int64_t TS[] = {0, 1000, 1000, 5000, 20000000, 20000010, 20000010};
static const uint8_t DIR[] = {0, 1, 1, 0, 1, 0, 1};
static const uint32_t SIZE[] = {60, 1500, 1400, 100, 52, 700, 1500};
static const uint32_t PAY[] = {0, 1448, 1348, 48, 0, 648, 1448};
#define NP 7

static flow *make_flow(const size_t *order)
{
    flow *f = calloc(1, sizeof *f);
    f->pkts = calloc(NP, sizeof *f->pkts);
    f->npkts = f->cap = NP;
    for (size_t k = 0; k < NP; k++) {
        size_t i = order ? order[k] : k;
        f->pkts[k] = (flow_pkt){TS[i], SIZE[i], PAY[i], DIR[i], 0};
    }
    return f;
}

static void free_flow(flow *f)
{
    free(f->pkts);
    free(f);
}

/* Expected values printed by ref_extract.py's stats() for this flow. */
static const double STATS[FEAT_NSTATS] = {
    2, 250, 400, 550, 700, 400, 90000,
    3, 1450, 1500, 1500, 1500, 1466.6666666666667, 2222.222222222222,
    5, 700, 1400, 1500, 1500, 1040, 310400,
    0.01999501, 0.01999501, 0.01999501,
    0.0049997525, 0.009999505, 0.014999257500000002,
    0, 2e-06, 0.0050017525,
    198, 348, 498, 648, 348, 90000,
    1398, 1448, 1448, 1448, 1414.6666666666667, 2222.222222222222,
};

static void test_stats_match_reference(void)
{
    flow *f = make_flow(NULL);
    feat_ws *ws = feat_ws_new();
    feat_view all, data;
    CHECK_EQ_INT(feat_prepare(ws, f, 0, 1, &all, &data), 0);
    CHECK_EQ_INT(all.n, 7);
    CHECK_EQ_INT(data.n, 5);
    double s[FEAT_NSTATS];
    CHECK_EQ_INT(feat_stats(ws, &data, s), 0);
    for (int i = 0; i < FEAT_NSTATS; i++) {
        double tol = 1e-12 * (STATS[i] < 0 ? -STATS[i] : STATS[i]);
        if (!(s[i] - STATS[i] <= tol && STATS[i] - s[i] <= tol)) {
            fprintf(stderr, "  column %s: %.17g != %.17g\n", feat_stats_name(i), s[i], STATS[i]);
            CHECK(0);
        }
    }
    feat_ws_free(ws);
    free_flow(f);
}

static void test_stats_names_order(void)
{
    CHECK_EQ_STR(feat_stats_name(0), "pkt_fwd_num");
    CHECK_EQ_STR(feat_stats_name(20), "pkt_all_var");
    CHECK_EQ_STR(feat_stats_name(21), "iat_fwd_p25");
    CHECK_EQ_STR(feat_stats_name(29), "iat_all_p75");
    CHECK_EQ_STR(feat_stats_name(30), "pay_fwd_p25");
    CHECK_EQ_STR(feat_stats_name(41), "pay_bwd_var");
    CHECK(feat_stats_name(42) == NULL);
    CHECK_EQ_STR(feat_window_name(0), "dt_prev");
    CHECK_EQ_STR(feat_window_name(9), "tx_pkts");
}

static void test_client_side_swaps_directions(void)
{
    flow *f = make_flow(NULL);
    feat_ws *ws = feat_ws_new();
    feat_view all, data;
    feat_prepare(ws, f, 1, 1, &all, &data);
    double s[FEAT_NSTATS];
    feat_stats(ws, &data, s);
    CHECK_EQ_INT(s[0], 3);      /* fwd now = endpoint 1's packets */
    CHECK_EQ_INT(s[7], 2);
    CHECK_NEAR(s[12], 400, 0);  /* bwd mean */
    feat_ws_free(ws);
    free_flow(f);
}

static void test_empty_sets_are_zero(void)
{
    feat_ws *ws = feat_ws_new();
    feat_view v = {0, NULL, NULL, NULL, NULL};
    double s[FEAT_NSTATS];
    for (int i = 0; i < FEAT_NSTATS; i++)
        s[i] = -1;
    CHECK_EQ_INT(feat_stats(ws, &v, s), 0);
    for (int i = 0; i < FEAT_NSTATS; i++)
        CHECK(s[i] == 0.0);
    double q[8];
    feat_seq(&v, 2, q);
    for (int i = 0; i < 8; i++)
        CHECK(q[i] == 0.0);
    feat_ws_free(ws);
}

static void test_out_of_order_capture_is_sorted_stably(void)
{
    /* Same packets, delivered in another order: features must not change
     * (the flow sorts by timestamp; equal stamps keep arrival order). */
    static const size_t order[NP] = {3, 0, 1, 2, 5, 6, 4};
    flow *f = make_flow(order);
    feat_ws *ws = feat_ws_new();
    feat_view all, data;
    feat_prepare(ws, f, 0, 1, &all, &data);
    for (size_t i = 1; i < all.n; i++)
        CHECK(all.ts[i - 1] <= all.ts[i]);
    /* ties: arrival order kept (5 before 6 at 20000010) */
    CHECK_EQ_INT(all.size[5], 700);
    CHECK_EQ_INT(all.size[6], 1500);
    double s[FEAT_NSTATS];
    feat_stats(ws, &data, s);
    for (int i = 0; i < FEAT_NSTATS; i++)
        CHECK_NEAR(s[i], STATS[i], 1e-9 * (STATS[i] > 1 ? STATS[i] : 1));
    feat_ws_free(ws);
    free_flow(f);
}

static void test_seq_prepadding_and_channels(void)
{
    flow *f = make_flow(NULL);
    feat_ws *ws = feat_ws_new();
    feat_view all, data;
    feat_prepare(ws, f, 0, 1, &all, &data);
    double q[4 * 8];
    feat_seq(&data, 8, q);      /* 5 data packets, 3 padding positions */
    const double size[8] = {0, 0, 0, 1500, 1400, 100, 700, 1500};
    const double pay[8] = {0, 0, 0, 1448, 1348, 48, 648, 1448};
    const double dir[8] = {0, 0, 0, -1, -1, 1, 1, -1};
    for (int i = 0; i < 8; i++) {
        CHECK(q[i] == size[i]);
        CHECK(q[8 + i] == pay[i]);
        CHECK(q[24 + i] == dir[i]);
    }
    CHECK(q[16 + 3] == 0.0);                        /* first real packet */
    CHECK(q[16 + 4] == 0.0);                        /* same timestamp */
    CHECK_NEAR(q[16 + 5], 1.6094379124341003, 1e-15); /* log1p(4 us) */
    CHECK_NEAR(q[16 + 6], 9.903288032633355, 1e-14);
    /* truncation to n */
    double r[4 * 2];
    feat_seq(&data, 2, r);
    CHECK(r[0] == 1500 && r[1] == 1400 && r[6] == -1 && r[7] == -1);
    /* --packets all keeps the pure ACKs */
    feat_prepare(ws, f, 0, 0, &all, &data);
    CHECK_EQ_INT(data.n, 7);
    feat_ws_free(ws);
    free_flow(f);
}

static void test_window_matches_reference(void)
{
    /* rows printed by ref_extract.py window() with w = 10 ms */
    static const double W[NP][FEAT_NWINDOW] = {
        {0, 60, 0, 0, 0, 0, 0, 0, 0, 0},
        {1e-06, 1500, 0, 60, 0, 60, 0, 0, 0, 1},
        {0, 1400, 0, 60, 0, 60, 0, 0, 0, 1},
        {4e-06, 100, 2900, 60, 1450, 60, 50, 0, 2, 1},
        {0.019995, 52, 0, 0, 0, 0, 0, 0, 0, 0},
        {1e-08, 700, 52, 0, 52, 0, 0, 0, 1, 0},
        {0, 1500, 52, 0, 52, 0, 0, 0, 1, 0},
    };
    flow *f = make_flow(NULL);
    feat_ws *ws = feat_ws_new();
    feat_view all, data;
    feat_prepare(ws, f, 0, 1, &all, &data);
    double out[NP * FEAT_NWINDOW];
    feat_window(&all, 10000000, out);
    for (int i = 0; i < NP; i++)
        for (int j = 0; j < FEAT_NWINDOW; j++)
            CHECK_NEAR(out[i * FEAT_NWINDOW + j], W[i][j], 1e-12);
    feat_ws_free(ws);
    free_flow(f);
}

static void test_window_boundary_is_inclusive(void)
{
    /* a packet exactly w before is inside (t - w <= ts), one ns more is out */
    static const int64_t ts[] = {0, 1, 10000001};
    static const uint32_t sz[] = {100, 200, 300};
    static const uint8_t fwd[] = {0, 0, 1};
    feat_view v = {3, ts, sz, sz, fwd};
    double out[3 * FEAT_NWINDOW];
    feat_window(&v, 10000000, out);
    CHECK(out[2 * FEAT_NWINDOW + 2] == 200);    /* rx_bytes: only the 2nd */
    CHECK(out[2 * FEAT_NWINDOW + 8] == 1);
    feat_window(&v, 10000001, out);
    CHECK(out[2 * FEAT_NWINDOW + 2] == 300);
    CHECK_NEAR(out[2 * FEAT_NWINDOW + 6], 50, 1e-12);  /* std of 100, 200 */
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_long_flow_percentiles(void)
{
    /* 5000 packets, many ties: the in-house sort must agree with qsort */
    enum { N = 5000 };
    flow f;
    memset(&f, 0, sizeof f);
    f.pkts = calloc(N, sizeof *f.pkts);
    f.npkts = f.cap = N;
    double *ref = malloc(N * sizeof *ref);
    uint64_t x = 7;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t sz = i % 3 ? (uint32_t)(40 + x % 1460) : 1500;
        f.pkts[i] = (flow_pkt){(int64_t)i * 1000, sz, sz, 1, 0};
        ref[i] = sz;
    }
    qsort(ref, N, sizeof *ref, cmp_d);
    feat_ws *ws = feat_ws_new();
    feat_view all, data;
    feat_prepare(ws, &f, 1, 1, &all, &data);
    double s[FEAT_NSTATS];
    feat_stats(ws, &data, s);
    double pos = (N - 1) * 0.25;
    size_t lo = (size_t)pos;
    double t = pos - (double)lo;
    CHECK_NEAR(s[1], ref[lo] + (ref[lo + 1] - ref[lo]) * t, 1e-9);
    CHECK_NEAR(s[2], ref[(N - 1) / 2] + (ref[N / 2] - ref[(N - 1) / 2]) * 0.5, 1e-9);
    CHECK(s[4] == ref[N - 1]);
    CHECK(s[0] == N);
    feat_ws_free(ws);
    free(ref);
    free(f.pkts);
}

/* numpy.percentile(..., method='linear') on ascending s, with its _lerp. */
static double ref_pct(const double *s, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    double pos = (double)(n - 1) * q, lo_f = floor(pos), t = pos - lo_f;
    size_t lo = (size_t)lo_f;
    if (lo >= n - 1)
        return s[n - 1];
    double a = s[lo], b = s[lo + 1], d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/* Quartiles of every group (sizes, payloads, gaps; each direction and all)
 * equal, to the bit, those of a full sort, for flows of 0 to 300 packets
 * and a few long ones, with heavy ties, few ties, and runs of one value. */
static void test_quartiles_equal_sorted(void)
{
    static const size_t lens[] = { 1000, 4097 };
    uint64_t x = 99;
    int bad = 0;
    double *v = malloc(5000 * sizeof *v);
    flow_pkt *pk = calloc(5000, sizeof *pk);
    feat_ws *ws = feat_ws_new();
    for (size_t it = 0; it < 303; it++) {
        size_t n = it < 301 ? it : lens[it - 301];
        int kind = (int)(it % 3);       /* 0: many ties, 1: few, 2: a long run */
        int64_t ts = 0;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint32_t sz = kind == 0 ? (uint32_t)(40 + x % 4 * 500)
                        : kind == 1 ? (uint32_t)(40 + x % 100000)
                        : i < n / 2 ? 1500 : (uint32_t)(x % 60);
            ts += (int64_t)(kind == 0 ? x % 3 * 1000 : x % 1000000007);
            pk[i] = (flow_pkt){ ts, sz, sz / 2, (uint8_t)(x >> 20 & 1), 0 };
        }
        flow f;
        memset(&f, 0, sizeof f);
        f.pkts = pk;
        f.npkts = f.cap = n;
        f.syn_dir = -1;
        feat_view all, data;
        double st[FEAT_NSTATS];
        feat_prepare(ws, &f, 0, 0, &all, &data);
        CHECK_EQ_INT(feat_stats(ws, &data, st), 0);
        /* columns: sizes fwd 1-3, bwd 8-10, all 15-17; gaps 21-29; payloads 30-32, 36-38 */
        static const struct { int col, which, dir; } g[] = {
            { 1, 0, 1 }, { 8, 0, 0 }, { 15, 0, 2 }, { 21, 2, 1 }, { 24, 2, 0 }, { 27, 2, 2 },
            { 30, 1, 1 }, { 36, 1, 0 },
        };
        for (size_t gi = 0; gi < sizeof g / sizeof *g; gi++) {
            size_t m = 0;
            int64_t prev = 0;
            int have = 0;
            for (size_t i = 0; i < data.n; i++) {
                if (g[gi].dir != 2 && data.fwd[i] != g[gi].dir)
                    continue;
                if (g[gi].which == 2) {
                    if (have)
                        v[m++] = (double)(data.ts[i] - prev) / 1e9;
                    prev = data.ts[i];
                    have = 1;
                } else {
                    v[m++] = g[gi].which ? data.pay[i] : data.size[i];
                }
            }
            qsort(v, m, sizeof *v, cmp_d);
            for (int q = 0; q < 3; q++) {
                double want = ref_pct(v, m, 0.25 * (q + 1)), got = st[g[gi].col + q];
                if (memcmp(&want, &got, sizeof want) != 0) {
                    if (bad++ < 5)
                        fprintf(stderr, "    n %zu kind %d column %d: %.17g != %.17g\n", n, kind,
                                g[gi].col + q, got, want);
                }
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    feat_ws_free(ws);
    free(pk);
    free(v);
}

int main(void)
{
    RUN(test_stats_match_reference);
    RUN(test_stats_names_order);
    RUN(test_client_side_swaps_directions);
    RUN(test_empty_sets_are_zero);
    RUN(test_out_of_order_capture_is_sorted_stably);
    RUN(test_seq_prepadding_and_channels);
    RUN(test_window_matches_reference);
    RUN(test_window_boundary_is_inclusive);
    RUN(test_long_flow_percentiles);
    RUN(test_quartiles_equal_sorted);
    return check_summary();
}
