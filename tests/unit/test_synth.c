/* test_synth.c - unit tests of the synthetic capture writer (src/synth).
 *
 * Class names (distinct, no digits or '-', stable), byte-for-byte
 * determinism, seed sensitivity, the capture read back through libpcap
 * (timestamp order, packet count = truth, exact IP/TCP lengths, the mix of
 * link/IP variants), microsecond = rounded nanosecond timestamps, the
 * --size bound, truth rows = flows, and error reporting. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "synth/synth.h"
#include "synth/synth_ex.h"

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char buf[8][128];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
    return buf[i];
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(len > 0 ? (size_t)len : 1);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    int same = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return same;
}

/* Rows (after the header) and the sum of the `packets` column (9th). */
static int read_truth(const char *path, long *rows, long long *packets,
                      long *handshakes)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    *rows = 0;
    *packets = 0;
    *handshakes = 0;
    if (!fgets(line, sizeof line, f) ||
        strcmp(line, "flow,client_ip,client_port,server_ip,server_port,proto,"
                     "sni,class,packets,handshake\n") != 0) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *field = line;
        for (int i = 0; i < 8 && field; i++) {
            field = strchr(field, ',');
            if (field)
                field++;
        }
        if (!field) {
            fclose(f);
            return -1;
        }
        long flow = strtol(line, NULL, 10);
        if (flow != *rows) {      /* rows in flow order, from 0 */
            fclose(f);
            return -1;
        }
        *packets += strtoll(field, &field, 10);
        if (*field == ',' && field[1] == '1')
            (*handshakes)++;
        (*rows)++;
    }
    fclose(f);
    return 0;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_class_names(void)
{
    enum { N = 5000 };
    char (*names)[64] = calloc(N, sizeof *names);
    CHECK(names != NULL);
    if (!names)
        return;
    int clean = 1;
    for (unsigned k = 0; k < N; k++) {
        synth_class_sni(k, names[k], sizeof names[k]);
        const char *dot1 = strchr(names[k], '.');
        const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        if (strpbrk(names[k], "0123456789-") || !dot1 || !dot2 ||
            strchr(dot2 + 1, '.'))
            clean = 0;
    }
    CHECK(clean);
    /* Distinct even after dropping the host prefix (eTLD+1 labeling). */
    int distinct = 1;
    for (unsigned a = 0; a < N && distinct; a++) {
        const char *da = strchr(names[a], '.');
        for (unsigned b = a + 1; b < N; b++) {
            if (strcmp(da, strchr(names[b], '.')) == 0) {
                fprintf(stderr, "  same domain: %s %s\n", names[a], names[b]);
                distinct = 0;
                break;
            }
        }
    }
    CHECK(distinct);
    /* Stable across versions: tests and demos name these. */
    CHECK_EQ_STR(names[0], "www.kabeto.com");
    char big[64];
    synth_class_sni(4000000000u, big, sizeof big);
    CHECK(strpbrk(big, "0123456789-") == NULL);
    char tiny[5];
    synth_class_sni(0, tiny, sizeof tiny);
    CHECK_EQ_STR(tiny, "www.");
    free(names);
}

static synth_config small_cfg(uint64_t seed)
{
    synth_config c = { .flows = 300, .classes = 7, .seed = seed };
    return c;
}

static void test_deterministic(void)
{
    snitch_err e = { "" };
    synth_config c = small_cfg(42);
    c.truth_path = tmp_path("d1.csv");
    CHECK_EQ_INT(synth_write(&c, tmp_path("d1.pcap"), &e), 0);
    c.truth_path = tmp_path("d2.csv");
    CHECK_EQ_INT(synth_write(&c, tmp_path("d2.pcap"), &e), 0);
    CHECK(same_file(tmp_path("d1.pcap"), tmp_path("d2.pcap")));
    CHECK(same_file(tmp_path("d1.csv"), tmp_path("d2.csv")));
    c.nanosecond = 1;
    c.truth_path = NULL;
    CHECK_EQ_INT(synth_write(&c, tmp_path("d3.pcap"), &e), 0);
    CHECK_EQ_INT(synth_write(&c, tmp_path("d4.pcap"), &e), 0);
    CHECK(same_file(tmp_path("d3.pcap"), tmp_path("d4.pcap")));
}

static void test_seed_differs(void)
{
    snitch_err e = { "" };
    synth_config a = small_cfg(1), b = small_cfg(2);
    CHECK_EQ_INT(synth_write(&a, tmp_path("s1.pcap"), &e), 0);
    CHECK_EQ_INT(synth_write(&b, tmp_path("s2.pcap"), &e), 0);
    CHECK(!same_file(tmp_path("s1.pcap"), tmp_path("s2.pcap")));
}

typedef struct census {
    long packets, nondecreasing_bad, len_bad, v6, vlan1, qinq, syn;
} census;

static inline unsigned rd16(const u_char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Read a capture back; check order and every length field. */
static int read_back(const char *path, int nano, census *cs, uint64_t *ts_out,
                     long ts_max)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path,
        nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, eb);
    if (!p)
        return -1;
    if (pcap_datalink(p) != DLT_EN10MB) {
        pcap_close(p);
        return -1;
    }
    memset(cs, 0, sizeof *cs);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t prev = 0;
    uint64_t scale = nano ? 1000000000u : 1000000u;
    while (pcap_next_ex(p, &h, &d) == 1) {
        uint64_t t = (uint64_t)h->ts.tv_sec * scale + (uint64_t)h->ts.tv_usec;
        if (t < prev)
            cs->nondecreasing_bad++;
        prev = t;
        if (ts_out && cs->packets < ts_max)
            ts_out[cs->packets] = t;
        cs->packets++;
        size_t off = 12;
        unsigned et = rd16(d + off);
        int tags = 0;
        while ((et == 0x8100 || et == 0x88a8) && tags < 4) {
            off += 4;
            et = rd16(d + off);
            tags++;
        }
        off += 2;
        if (tags == 1)
            cs->vlan1++;
        if (tags == 2)
            cs->qinq++;
        size_t iphl, iplen;
        if (et == 0x0800) {
            iphl = (d[off] & 15u) * 4;
            iplen = rd16(d + off + 2);
        } else if (et == 0x86dd) {
            cs->v6++;
            iphl = 40;
            iplen = 40 + rd16(d + off + 4);
        } else {
            cs->len_bad++;
            continue;
        }
        const u_char *tcp = d + off + iphl;
        size_t thl = (size_t)(tcp[12] >> 4) * 4;
        if (off + iplen != h->caplen || h->caplen != h->len ||
            thl < 20 || iphl + thl > iplen || iplen - iphl - thl > 1448)
            cs->len_bad++;
        if ((tcp[13] & 0x12) == 0x02)
            cs->syn++;
    }
    pcap_close(p);
    return 0;
}

static void test_read_back(void)
{
    snitch_err e = { "" };
    synth_config c = { .flows = 1500, .classes = 10, .seed = 5 };
    c.truth_path = tmp_path("r.csv");
    synth_stats st;
    CHECK_EQ_INT(synth_write_ex(&c, tmp_path("r.pcap"), NULL, NULL, &st, &e), 0);
    long rows, hs;
    long long pk;
    CHECK_EQ_INT(read_truth(c.truth_path, &rows, &pk, &hs), 0);
    CHECK_EQ_INT(rows, 1500);
    CHECK_EQ_INT(st.flows, 1500);
    census cs;
    CHECK_EQ_INT(read_back(tmp_path("r.pcap"), 0, &cs, NULL, 0), 0);
    CHECK_EQ_INT(cs.packets, pk);
    CHECK_EQ_INT(st.packets, pk);
    CHECK_EQ_INT(st.bytes, file_size(tmp_path("r.pcap")));
    CHECK_EQ_INT(cs.nondecreasing_bad, 0);
    CHECK_EQ_INT(cs.len_bad, 0);
    /* Handshake flows open with a SYN (reused tuples open with another). */
    CHECK_EQ_INT(cs.syn, hs);
    CHECK(hs < rows && hs > rows * 9 / 10);     /* ~3 % mid-stream */
    /* Shares of packets, loosely (flows differ in length). */
    CHECK(cs.v6 > cs.packets / 20 && cs.v6 < cs.packets * 3 / 10);
    CHECK(cs.vlan1 > cs.packets / 30 && cs.vlan1 < cs.packets / 4);
    CHECK(cs.qinq > 0 && cs.qinq < cs.packets / 10);
}

/* The microsecond file is the nanosecond one rounded to the nearest us. */
static void test_usec_rounding(void)
{
    snitch_err e = { "" };
    synth_config c = small_cfg(9);
    CHECK_EQ_INT(synth_write(&c, tmp_path("u.pcap"), &e), 0);
    c.nanosecond = 1;
    CHECK_EQ_INT(synth_write(&c, tmp_path("n.pcap"), &e), 0);
    enum { MAXP = 100000 };
    uint64_t *tu = calloc(MAXP, sizeof *tu), *tn = calloc(MAXP, sizeof *tn);
    census cu, cn;
    CHECK(tu && tn);
    if (!tu || !tn)
        goto out;
    CHECK_EQ_INT(read_back(tmp_path("u.pcap"), 0, &cu, tu, MAXP), 0);
    CHECK_EQ_INT(read_back(tmp_path("n.pcap"), 1, &cn, tn, MAXP), 0);
    CHECK_EQ_INT(cu.packets, cn.packets);
    CHECK(cu.packets <= MAXP);
    long bad = 0, subus = 0;
    for (long i = 0; i < cu.packets && i < MAXP; i++) {
        if (tu[i] != (tn[i] + 500) / 1000)
            bad++;
        if (tn[i] % 1000)
            subus++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(subus > 0);                       /* really nanosecond times */
    CHECK(tn[0] / 1000000000u == 1700000000u);
out:
    free(tu);
    free(tn);
}

static void test_size_bound(void)
{
    snitch_err e = { "" };
    synth_config c = { .flows = 0, .classes = 3, .seed = 3,
                       .target_bytes = 3u << 20 };
    c.truth_path = tmp_path("z.csv");
    synth_stats st;
    CHECK_EQ_INT(synth_write_ex(&c, tmp_path("z.pcap"), NULL, NULL, &st, &e), 0);
    long sz = file_size(tmp_path("z.pcap"));
    CHECK(sz >= (long)(3u << 20));
    CHECK(sz < (long)(6u << 20));           /* open flows finish, no more */
    long rows, hs;
    long long pk;
    CHECK_EQ_INT(read_truth(c.truth_path, &rows, &pk, &hs), 0);
    CHECK_EQ_INT(rows, st.flows);
    CHECK_EQ_INT(pk, st.packets);
    /* --flows with --size: at least that many flows. */
    c.flows = 400;
    c.target_bytes = 1000;
    CHECK_EQ_INT(synth_write_ex(&c, tmp_path("z.pcap"), NULL, NULL, &st, &e), 0);
    CHECK_EQ_INT(st.flows, 400);
    CHECK_EQ_INT(read_truth(c.truth_path, &rows, &pk, &hs), 0);
    CHECK_EQ_INT(rows, 400);
}

static int progress_calls;

static void count_progress(const synth_stats *s, void *arg)
{
    (void)s;
    (void)arg;
    progress_calls++;
}

static void test_progress(void)
{
    snitch_err e = { "" };
    synth_config c = { .flows = 0, .classes = 10, .seed = 1,
                       .target_bytes = 40u << 20 };
    synth_stats st;
    progress_calls = 0;
    CHECK_EQ_INT(synth_write_ex(&c, tmp_path("p.pcap"), count_progress, NULL,
                                &st, &e), 0);
    CHECK(progress_calls > 0);
    CHECK_EQ_INT(progress_calls, st.packets / 65536);
    unlink(tmp_path("p.pcap"));
}

static void test_errors(void)
{
    snitch_err e = { "" };
    synth_config c = small_cfg(1);
    const char *bad = tmp_path("no/such/dir.pcap");
    CHECK_EQ_INT(synth_write(&c, bad, &e), -1);
    CHECK(strstr(e.msg, "cannot write") != NULL);
    CHECK(strstr(e.msg, bad) != NULL);
    c.truth_path = tmp_path("no/such/truth.csv");
    e.msg[0] = '\0';
    CHECK_EQ_INT(synth_write(&c, tmp_path("ok.pcap"), &e), -1);
    CHECK(strstr(e.msg, "truth.csv") != NULL);
    synth_config z = small_cfg(1);
    z.classes = 0;
    CHECK_EQ_INT(synth_write(&z, tmp_path("ok.pcap"), &e), -1);
    if (access("/dev/full", W_OK) == 0) {   /* ENOSPC on every write */
        c.truth_path = NULL;
        e.msg[0] = '\0';
        CHECK_EQ_INT(synth_write(&c, "/dev/full", &e), -1);
        CHECK(strstr(e.msg, "/dev/full") != NULL);
    }
    /* No flows at all: a valid empty capture. */
    synth_config none = { .flows = 0, .classes = 1, .seed = 1 };
    CHECK_EQ_INT(synth_write(&none, tmp_path("empty.pcap"), &e), 0);
    CHECK_EQ_INT(file_size(tmp_path("empty.pcap")), 24);
}

static void cleanup(void)
{
    static const char *const files[] = {
        "d1.csv", "d2.csv", "d1.pcap", "d2.pcap", "d3.pcap", "d4.pcap",
        "s1.pcap", "s2.pcap", "r.csv", "r.pcap", "u.pcap", "n.pcap",
        "z.csv", "z.pcap", "p.pcap", "ok.pcap", "empty.pcap"
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(tmp_path(files[i]));
    rmdir(tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_synth.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_class_names);
    RUN(test_deterministic);
    RUN(test_seed_differs);
    RUN(test_read_back);
    RUN(test_usec_rounding);
    RUN(test_size_bound);
    RUN(test_progress);
    RUN(test_errors);
    cleanup();
    return check_summary();
}
