/* test_flow.c - the flow table's lifecycle rules (FEATURES.md "Packets and
 * flows"): bidirectional keys, RST, FIN+SYN reuse, idle and active
 * timeouts, eviction under max_flows, flush order. */
#include "check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

typedef struct ended {
    uint64_t id;
    size_t npkts, nskipped;
    int64_t ts_min, ts_max;
    uint32_t pay0;              /* payload of the first kept packet */
    flow_end why;
    int syn_dir;
} ended;

typedef struct rec {
    ended e[64];
    int n;
    int packets_seen;
} rec;

static void on_end(void *ctx, flow *f, flow_end why)
{
    rec *r = ctx;
    if (r->n < 64)
        r->e[r->n++] = (ended){f->id, f->npkts, f->nskipped, f->ts_min, f->ts_max,
                               f->npkts ? f->pkts[0].pay : 0, why, f->syn_dir};
}

static void on_packet(void *ctx, flow *f, int dir, const decode_pkt *p)
{
    ((rec *)ctx)->packets_seen++;
}

static decode_pkt tcp(int a_to_b, uint8_t flags, uint16_t pa, uint16_t pb)
{
    decode_pkt p;
    memset(&p, 0, sizeof p);
    p.family = 4;
    p.proto = 6;
    uint8_t A[4] = {10, 0, 0, 1}, B[4] = {10, 0, 0, 2};
    memcpy(p.src, a_to_b ? A : B, 4);
    memcpy(p.dst, a_to_b ? B : A, 4);
    p.sport = a_to_b ? pa : pb;
    p.dport = a_to_b ? pb : pa;
    p.tcp_flags = flags;
    p.ip_len = 40;
    return p;
}

static flow_table *table(rec *r, int64_t idle, int64_t active, size_t maxf)
{
    memset(r, 0, sizeof *r);
    flow_table_config c = {idle, active, maxf, on_packet, on_end, NULL, r, 0};
    return flow_table_new(&c, NULL);
}

#define S 1000000000LL

static void test_bidirectional_and_syn_dir(void)
{
    rec r;
    flow_table *t = table(&r, 120 * S, 0, 0);
    decode_pkt p = tcp(0, TCP_SYN, 5000, 443);          /* B -> A SYN */
    flow_table_add(t, 1, &p, NULL);
    p = tcp(1, TCP_SYN | TCP_ACK, 5000, 443);
    flow_table_add(t, 2, &p, NULL);
    p = tcp(0, TCP_ACK, 5000, 443);
    flow_table_add(t, 3, &p, NULL);
    flow_table_stats st;
    flow_table_get_stats(t, &st);
    CHECK_EQ_INT(st.flows, 1);
    CHECK_EQ_INT(r.packets_seen, 3);
    flow_table_flush(t);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.e[0].npkts, 3);
    CHECK_EQ_INT(r.e[0].syn_dir, 0);    /* endpoint 0 = first sender */
    CHECK_EQ_INT(r.e[0].why, FLOW_END_FLUSH);
    flow_table_free(t);
}

static void test_rst_is_last_packet(void)
{
    rec r;
    flow_table *t = table(&r, 120 * S, 0, 0);
    decode_pkt p = tcp(1, TCP_SYN, 1, 2);
    flow_table_add(t, 1, &p, NULL);
    p = tcp(0, TCP_RST | TCP_ACK, 1, 2);
    flow_table_add(t, 2, &p, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.e[0].npkts, 2);
    CHECK_EQ_INT(r.e[0].why, FLOW_END_RST);
    p = tcp(1, TCP_ACK, 1, 2);                /* later packet: new flow */
    flow_table_add(t, 3, &p, NULL);
    flow_table_flush(t);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_INT(r.e[1].id, 1);
    CHECK_EQ_INT(r.e[1].npkts, 1);
    flow_table_free(t);
}

static void test_fin_then_syn_starts_new_flow(void)
{
    rec r;
    flow_table *t = table(&r, 120 * S, 0, 0);
    decode_pkt p = tcp(1, TCP_SYN, 7, 8);
    flow_table_add(t, 1, &p, NULL);
    p = tcp(1, TCP_FIN | TCP_ACK, 7, 8);
    flow_table_add(t, 2, &p, NULL);
    p = tcp(0, TCP_FIN | TCP_ACK, 7, 8);
    flow_table_add(t, 3, &p, NULL);
    p = tcp(1, TCP_ACK, 7, 8);                /* last ACK stays */
    flow_table_add(t, 4, &p, NULL);
    CHECK_EQ_INT(r.n, 0);
    p = tcp(1, TCP_SYN, 7, 8);                /* reuse */
    flow_table_add(t, 5, &p, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.e[0].npkts, 4);
    CHECK_EQ_INT(r.e[0].why, FLOW_END_REUSE);
    /* one FIN only: a SYN does not split */
    p = tcp(1, TCP_FIN, 7, 8);
    flow_table_add(t, 6, &p, NULL);
    p = tcp(1, TCP_SYN, 7, 8);
    flow_table_add(t, 7, &p, NULL);
    CHECK_EQ_INT(r.n, 1);
    flow_table_free(t);
}

static void test_idle_timeout_strictly_greater(void)
{
    rec r;
    flow_table *t = table(&r, 10 * S, 0, 0);
    decode_pkt p = tcp(1, TCP_ACK, 1, 2);
    flow_table_add(t, 0, &p, NULL);
    flow_table_add(t, 10 * S, &p, NULL);      /* gap == timeout: same flow */
    CHECK_EQ_INT(r.n, 0);
    flow_table_add(t, 20 * S + 1, &p, NULL);  /* gap > timeout: new flow */
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.e[0].why, FLOW_END_IDLE);
    CHECK_EQ_INT(r.e[0].npkts, 2);
    flow_table_free(t);
}

static void test_idle_flows_expire_while_others_run(void)
{
    rec r;
    flow_table *t = table(&r, 10 * S, 0, 0);
    decode_pkt a = tcp(1, TCP_ACK, 1, 2), b = tcp(1, TCP_ACK, 3, 4);
    flow_table_add(t, 0, &a, NULL);
    for (int i = 1; i <= 12; i++)
        flow_table_add(t, i * S, &b, NULL);
    /* flow a ended (idle) without any packet of its own: bounded memory */
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.e[0].id, 0);
    flow_table_stats st;
    flow_table_get_stats(t, &st);
    CHECK_EQ_INT(st.open, 1);
    flow_table_free(t);
}

static void test_active_timeout(void)
{
    rec r;
    flow_table *t = table(&r, 100 * S, 5 * S, 0);
    decode_pkt p = tcp(1, TCP_ACK, 1, 2);
    for (int i = 0; i <= 6; i++)
        flow_table_add(t, i * S, &p, NULL);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.e[0].why, FLOW_END_ACTIVE);
    CHECK_EQ_INT(r.e[0].npkts, 6);
    flow_table_free(t);
}

static void test_eviction_bounds_open_flows(void)
{
    rec r;
    flow_table *t = table(&r, 1000 * S, 0, 3);
    for (int i = 0; i < 10; i++) {
        decode_pkt p = tcp(1, TCP_SYN, (uint16_t)(1000 + i), 443);
        flow_table_add(t, i, &p, NULL);
        flow_table_stats st;
        flow_table_get_stats(t, &st);
        CHECK(st.open <= 3);
    }
    flow_table_stats st;
    flow_table_get_stats(t, &st);
    CHECK_EQ_INT(st.ended[FLOW_END_EVICTED], 7);
    CHECK_EQ_INT(r.e[0].id, 0);     /* least recently active first */
    flow_table_flush(t);
    CHECK_EQ_INT(r.n, 10);
    CHECK_EQ_INT(r.e[7].id, 7);     /* flush in id order */
    CHECK_EQ_INT(r.e[9].id, 9);
    flow_table_free(t);
}

static void test_udp_and_ipv6_keys(void)
{
    rec r;
    flow_table *t = table(&r, 100 * S, 0, 0);
    decode_pkt p = tcp(1, 0, 53, 53);
    p.proto = 17;
    flow_table_add(t, 1, &p, NULL);
    decode_pkt q = tcp(1, 0, 53, 53);         /* same tuple, TCP: other flow */
    flow_table_add(t, 2, &q, NULL);
    decode_pkt v6 = p;
    v6.family = 6;
    v6.src[15] = 9;
    flow_table_add(t, 3, &v6, NULL);
    flow_table_stats st;
    flow_table_get_stats(t, &st);
    CHECK_EQ_INT(st.flows, 3);
    flow_table_flush(t);
    flow_table_free(t);
}

/* skip_empty: bare packets are counted, not kept; their times still count
 * in ts_min/ts_max (out of order here), and flow rules (SYN direction, FIN
 * and RST) still see them. */
static void test_skip_empty_counts_bare_packets(void)
{
    for (int skip = 0; skip <= 1; skip++) {
        rec r;
        memset(&r, 0, sizeof r);
        flow_table_config c = {120 * S, 0, 0, on_packet, on_end, NULL, &r, skip};
        flow_table *t = flow_table_new(&c, NULL);
        int64_t ts[] = {50, 60, 40, 70, 80, 90};     /* the ACK at 40: out of order */
        uint8_t fl[] = {TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_ACK, TCP_ACK, TCP_ACK | TCP_RST};
        uint32_t pay[] = {0, 0, 0, 517, 1200, 0};
        int dir[] = {1, 0, 1, 1, 0, 1};
        for (int i = 0; i < 6; i++) {
            decode_pkt p = tcp(dir[i], fl[i], 40000, 443);
            p.pay_len = pay[i];
            p.ip_len = 40 + pay[i];
            flow_table_add(t, ts[i], &p, NULL);
        }
        CHECK_EQ_INT(r.packets_seen, 6);
        CHECK_EQ_INT(r.n, 1);                       /* ended by the RST, kept or not */
        CHECK_EQ_INT(r.e[0].why, FLOW_END_RST);
        CHECK_EQ_INT(r.e[0].npkts, skip ? 2 : 6);
        CHECK_EQ_INT(r.e[0].nskipped, skip ? 4 : 0);
        CHECK_EQ_INT(r.e[0].npkts + r.e[0].nskipped, 6);
        CHECK_EQ_INT(r.e[0].pay0, skip ? 517 : 0);
        CHECK_EQ_INT(r.e[0].ts_min, 40);
        CHECK_EQ_INT(r.e[0].ts_max, 90);
        CHECK_EQ_INT(r.e[0].syn_dir, 0);
        flow_table_free(t);
    }
}

static void test_many_flows_grow_table(void)
{
    rec r;
    flow_table *t = table(&r, 1000 * S, 0, 0);
    for (int i = 0; i < 50000; i++) {
        decode_pkt p = tcp(1, TCP_ACK, (uint16_t)(i & 0xffff), (uint16_t)(i >> 16));
        p.src[2] = (uint8_t)(i >> 8);
        flow_table_add(t, i, &p, NULL);
        flow_table_add(t, i, &p, NULL);
    }
    flow_table_stats st;
    flow_table_get_stats(t, &st);
    CHECK_EQ_INT(st.flows, 50000);
    CHECK_EQ_INT(st.open, 50000);
    flow_table_free(t);
}

/* flow_addr_fmt writes IPv4 addresses itself: the same text as
 * inet_ntop, on every value of each byte in each place. */
static void test_addr_fmt_ipv4_as_inet_ntop(void)
{
    uint8_t a[16] = {0};
    char got[64], want[64];
    int bad = 0;
    for (int pos = 0; pos < 4; pos++)
        for (int v = 0; v < 256; v++) {
            a[0] = 10, a[1] = 200, a[2] = 3, a[3] = 99;
            a[pos] = (uint8_t)v;
            flow_addr_fmt(4, a, got, sizeof got);
            inet_ntop(AF_INET, a, want, sizeof want);
            if (strcmp(got, want)) {
                if (!bad++)
                    fprintf(stderr, "  %s, expected %s\n", got, want);
            }
        }
    CHECK_EQ_INT(bad, 0);
    memset(a, 255, 4);
    CHECK_EQ_STR(flow_addr_fmt(4, a, got, 16), "255.255.255.255");
    memset(a, 0, 4);
    CHECK_EQ_STR(flow_addr_fmt(4, a, got, 16), "0.0.0.0");
    /* IPv6 still compresses zeros (inet_ntop) */
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    CHECK_EQ_STR(flow_addr_fmt(6, b, got, sizeof got), "2001:db8::1");
}

int main(void)
{
    RUN(test_bidirectional_and_syn_dir);
    RUN(test_addr_fmt_ipv4_as_inet_ntop);
    RUN(test_rst_is_last_packet);
    RUN(test_fin_then_syn_starts_new_flow);
    RUN(test_idle_timeout_strictly_greater);
    RUN(test_idle_flows_expire_while_others_run);
    RUN(test_active_timeout);
    RUN(test_eviction_bounds_open_flows);
    RUN(test_udp_and_ipv6_keys);
    RUN(test_many_flows_grow_table);
    RUN(test_skip_empty_counts_bare_packets);
    return check_summary();
}
