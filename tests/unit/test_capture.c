/* test_capture.c - unit tests of src/capture: reading files directly and
 * through the reader thread (capture_read_ahead) must give the same
 * packets, bytes, warnings, errors and end, in the same order, whatever
 * the block size; stopping and closing a capture mid-file must not hang. */
#include "check.h"

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "capture/capture.h"

static char dir[] = "/tmp/snitch_test_capture_XXXXXX";
static char paths[4][128];

/* A capture of n packets whose sizes and bytes follow from seed; packet
 * big (1-based, 0: none) is 200,000 bytes, larger than any block. */
static void write_pcap(const char *path, int n, unsigned seed, int big)
{
    pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144,
                                                     PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = pcap_dump_open(p, path);
    static uint8_t buf[200000];
    for (int i = 1; i <= n; i++) {
        struct pcap_pkthdr h;
        uint32_t len = i == big ? (uint32_t)sizeof buf : 14 + (seed * 7u + (unsigned)i * 131u) % 1500;
        for (uint32_t k = 0; k < len; k++)
            buf[k] = (uint8_t)(seed + (unsigned)i * 31u + k);
        h.ts.tv_sec = 1700000000 + i;
        h.ts.tv_usec = (suseconds_t)((unsigned)i * 1000u + seed);
        h.caplen = len;
        h.len = len + (uint32_t)(i % 3);
        pcap_dump((u_char *)d, &h, buf);
    }
    pcap_dump_close(d);
    pcap_close(p);
}

/* Everything capture_next said, one call after another. */
typedef struct trace {
    int n;
    int r[4096];
    int64_t ts[4096];
    uint64_t number[4096];
    uint32_t caplen[4096], wirelen[4096];
    int source[4096];           /* index of the file pkt.source names */
    uint64_t sum[4096];         /* of the bytes, position-weighted */
    char msg[8][SNITCH_ERR_MAX];
    int nmsg;
    uint64_t done, total;
} trace;

static void read_all(const char *const *files, size_t nfiles, size_t block, int ahead, trace *t)
{
    snitch_err e;
    memset(t, 0, sizeof *t);
    capture *c = capture_open_files(files, nfiles, NULL, &e);
    CHECK(c != NULL);
    if (!c)
        return;
    if (ahead)
        CHECK_EQ_INT(capture_read_ahead(c, block, &e), 1);
    for (int guard = 0; t->n < 4096 && guard < 10000; guard++) {
        capture_packet pkt;
        int r = capture_next(c, &pkt, &e);
        int i = t->n++;
        t->r[i] = r;
        if (r == CAPTURE_PACKET) {
            t->ts[i] = pkt.ts_ns;
            t->number[i] = pkt.number;
            t->caplen[i] = pkt.caplen;
            t->wirelen[i] = pkt.wirelen;
            t->source[i] = -1;
            for (size_t f = 0; f < nfiles; f++)
                if (!strcmp(pkt.source, files[f]))
                    t->source[i] = (int)f;
            uint64_t s = 0;
            for (uint32_t k = 0; k < pkt.caplen; k++)
                s = s * 1000003u + pkt.data[k];
            t->sum[i] = s;
            continue;
        }
        if (r != CAPTURE_END && t->nmsg < 8)
            snprintf(t->msg[t->nmsg++], SNITCH_ERR_MAX, "%s", e.msg);
        if (r == CAPTURE_END || r == CAPTURE_ERROR)
            break;
    }
    capture_progress(c, &t->done, &t->total);
    capture_close(c);
}

static void same_trace(const trace *a, const trace *b)
{
    CHECK_EQ_INT(a->n, b->n);
    int n = a->n < b->n ? a->n : b->n, bad = 0;
    for (int i = 0; i < n && bad < 3; i++) {
        int ok = a->r[i] == b->r[i];
        if (ok && a->r[i] == CAPTURE_PACKET)
            ok = a->ts[i] == b->ts[i] && a->number[i] == b->number[i] &&
                 a->caplen[i] == b->caplen[i] && a->wirelen[i] == b->wirelen[i] &&
                 a->sum[i] == b->sum[i] && a->source[i] == b->source[i] &&
                 a->source[i] >= 0;
        if (!ok) {
            fprintf(stderr, "  call %d differs: r %d / %d, packet %llu / %llu\n", i, a->r[i],
                    b->r[i], (unsigned long long)a->number[i], (unsigned long long)b->number[i]);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(a->nmsg, b->nmsg);
    for (int i = 0; i < a->nmsg && i < b->nmsg; i++)
        CHECK_EQ_STR(a->msg[i], b->msg[i]);
    CHECK_EQ_INT(a->done, b->done);
    CHECK_EQ_INT(a->total, b->total);
}

static const size_t blocks[] = {0, 1, 100, 1600, 5000, 65536};

static void compare_all(const char *const *files, size_t nfiles, trace *direct)
{
    static trace t;
    read_all(files, nfiles, 0, 0, direct);
    for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
        read_all(files, nfiles, blocks[k], 1, &t);
        same_trace(direct, &t);
    }
}

static void test_files_read_ahead_as_read_directly(void)
{
    static trace d;
    const char *files[] = {paths[0], paths[1], paths[2]};
    compare_all(files, 3, &d);
    /* 300 + 1 + 700 packets and the end */
    CHECK_EQ_INT(d.n, 1002);
    CHECK_EQ_INT(d.r[1001], CAPTURE_END);
    CHECK_EQ_INT(d.caplen[300 + 1 + 49], 200000);   /* packet 50 of the third */
    CHECK_EQ_INT(d.number[300], 1);
    CHECK(d.done == d.total && d.total > 200000);
}

static void test_truncated_file_warns_in_place(void)
{
    /* the second file cut mid-record: its complete packets, a warning,
     * then the third file, in that order through the thread too */
    static trace d;
    char cut[160];
    snprintf(cut, sizeof cut, "%s/cut.pcap", dir);
    write_pcap(cut, 40, 9, 0);
    FILE *f = fopen(cut, "r+b");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    CHECK(truncate(cut, size - 100) == 0);
    const char *files[] = {paths[0], cut, paths[1]};
    compare_all(files, 3, &d);
    CHECK_EQ_INT(d.nmsg, 1);
    CHECK(strstr(d.msg[0], "truncated") != NULL);
    CHECK(strstr(d.msg[0], "cut.pcap") != NULL);
    CHECK_EQ_INT(d.r[300 + 39], CAPTURE_WARNING);
    CHECK_EQ_INT(d.r[300 + 39 + 1], CAPTURE_PACKET);
    CHECK_EQ_INT(d.r[d.n - 1], CAPTURE_END);
}

static void test_corrupt_record_fails_in_place(void)
{
    /* a record claiming 0x7fffffff bytes after 20 good packets */
    static trace d;
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.pcap", dir);
    write_pcap(bad, 20, 5, 0);
    FILE *f = fopen(bad, "ab");
    CHECK(f != NULL);
    uint32_t h[4] = {1700000000u, 0, 0x7fffffffu, 0x7fffffffu};
    fwrite(h, sizeof h, 1, f);
    fclose(f);
    const char *files[] = {paths[1], bad, paths[0]};
    compare_all(files, 3, &d);
    CHECK_EQ_INT(d.n, 1 + 20 + 1);
    CHECK_EQ_INT(d.r[d.n - 1], CAPTURE_ERROR);
    CHECK(strstr(d.msg[0], "bad.pcap: packet 21") != NULL);
}

static void test_stop_and_close_mid_file(void)
{
    snitch_err e;
    const char *files[] = {paths[2], paths[0]};
    for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
        capture *c = capture_open_files(files, 2, NULL, &e);
        CHECK(c != NULL);
        if (!c)
            return;
        CHECK_EQ_INT(capture_read_ahead(c, blocks[k], &e), 1);
        capture_packet pkt;
        for (int i = 0; i < 10; i++)
            CHECK_EQ_INT(capture_next(c, &pkt, &e), CAPTURE_PACKET);
        CHECK_EQ_INT(pkt.number, 10);
        capture_stop(c);
        CHECK_EQ_INT(capture_next(c, &pkt, &e), CAPTURE_END);
        CHECK_EQ_INT(capture_next(c, &pkt, &e), CAPTURE_END);
        capture_close(c);       /* joins a thread that may wait for room */
        /* and closing without reading a packet at all */
        c = capture_open_files(files, 2, NULL, &e);
        CHECK(c != NULL);
        if (c)
            CHECK_EQ_INT(capture_read_ahead(c, blocks[k], &e), 1);
        capture_close(c);
    }
}

static void test_standard_input_is_read_directly(void)
{
    /* not a regular file: no thread (it could block in read() forever);
     * capture_read_ahead says so by doing nothing, and reading works */
    snitch_err e;
    const char *files[] = {"-"};
    FILE *keep = freopen(paths[1], "rb", stdin);
    CHECK(keep != NULL);
    capture *c = capture_open_files(files, 1, NULL, &e);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_EQ_INT(capture_read_ahead(c, 0, &e), 0);
    capture_packet pkt;
    CHECK_EQ_INT(capture_next(c, &pkt, &e), CAPTURE_PACKET);
    CHECK_EQ_INT(pkt.caplen, 14 + (2 * 7u + 131u) % 1500);
    CHECK_EQ_INT(capture_next(c, &pkt, &e), CAPTURE_END);
    capture_close(c);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int i = 0; i < 3; i++)
        snprintf(paths[i], sizeof paths[i], "%s/%d.pcap", dir, i);
    write_pcap(paths[0], 300, 1, 0);
    write_pcap(paths[1], 1, 2, 0);
    write_pcap(paths[2], 700, 3, 50);
    RUN(test_files_read_ahead_as_read_directly);
    RUN(test_truncated_file_warns_in_place);
    RUN(test_corrupt_record_fails_in_place);
    RUN(test_stop_and_close_mid_file);
    RUN(test_standard_input_is_read_directly);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
