/* bare_loop.c - the benchmark's baseline: read a capture with libpcap's
 * pcap_next_ex and touch nothing but the header.  Whatever snitch extract
 * does costs time on top of this loop; the ratio says how much. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bare_loop FILE\n");
        return 2;
    }
    char eb[PCAP_ERRBUF_SIZE];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, eb);
    if (!p) {
        fprintf(stderr, "bare_loop: %s\n", eb);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, bytes = 0;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        n++;
        bytes += h->caplen;
    }
    pcap_close(p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("packets=%llu bytes=%llu seconds=%.3f\n", n, bytes, s);
    return 0;
}
