/* cmd_synth.c - `snitch synth`: write a deterministic synthetic capture.
 *
 * Parses the options, makes sure no existing file is overwritten unless
 * --force was given, runs synth_write_ex() and prints a progress line (on a
 * terminal, for runs longer than a second) and a one-line summary.  Also
 * holds cli_parse_size(), shared with other subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "synth/synth.h"
#include "synth/synth_ex.h"

static const char USAGE[] =
    "usage: snitch synth -o FILE.pcap [--flows N] [--classes K] [--seed S]\n"
    "                    [--size SIZE] [--nano] [--truth FILE.csv] [--force]\n";

static const char HELP[] =
    "\n"
    "Write a deterministic synthetic capture (Ethernet pcap) of TLS flows:\n"
    "K service classes, one SNI each, whose packet sizes, counts and timings\n"
    "differ by class with some overlap.  IPv4/IPv6, VLAN/QinQ, split\n"
    "ClientHellos, retransmissions, out-of-order segments, flows seen\n"
    "mid-stream and reused 5-tuples are mixed in.  The same options always\n"
    "give the same bytes.\n"
    "\n"
    "  -o, --output FILE  pcap to write (required)\n"
    "      --flows N      number of flows (default 2000; with --size, at least N)\n"
    "      --classes K    number of classes, i.e. SNIs (default 10)\n"
    "      --seed S       random seed (default 1)\n"
    "      --size SIZE    add flows until the file holds SIZE bytes: 1000, 64K,\n"
    "                     500M, 1G (powers of 1024)\n"
    "      --nano         nanosecond timestamps (default: microsecond)\n"
    "      --truth FILE   also write one CSV row per flow: flow,client_ip,\n"
    "                     client_port,server_ip,server_port,proto,sni,class,\n"
    "                     packets,handshake\n"
    "      --force        overwrite FILE / the truth file if they exist\n"
    "  -h, --help         show this help\n";

int cli_parse_size(const char *s, unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;            /* no sign, no blanks, no empty string */
    unsigned long long v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    default: return -1;
    }
    if (*p != '\0' || (shift && v > (ULLONG_MAX >> shift)))
        return -1;
    *out = v << shift;
    return 0;
}

/* A plain decimal number: digits only, no overflow. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int usage_error(const char *fmt, const char *arg)
    __attribute__((format(printf, 1, 0)));

static int usage_error(const char *fmt, const char *arg)
{
    fputs("snitch synth: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    fputs(USAGE, stderr);
    fputs("Try 'snitch synth --help'.\n", stderr);
    return EXIT_USAGE;
}

/* Create path if it does not exist (O_EXCL: no race with another writer),
 * or accept an existing one only with --force.  *created tells the caller
 * whether to remove it again on failure. */
static int claim_file(const char *path, int force, int *created)
{
    *created = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
        close(fd);
        *created = 1;
        return 0;
    }
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        errno = EISDIR;
    if (errno == EEXIST) {
        if (force)
            return 0;
        fprintf(stderr, "snitch synth: '%s' exists; use --force to overwrite it\n",
                path);
        return -1;
    }
    fprintf(stderr, "snitch synth: cannot write '%s': %s\n", path, strerror(errno));
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void human(uint64_t b, char *buf, size_t n)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

typedef struct progress_state {
    double start, last;
    uint64_t target, flows;
    int shown;
} progress_state;

/* A progress line on stderr, only on a terminal and only once the run has
 * lasted a second (small outputs stay quiet), at most 4 times a second. */
static void on_progress(const synth_stats *st, void *arg)
{
    progress_state *ps = arg;
    double t = now_s();
    if (t - ps->start < 1.0 || t - ps->last < 0.25)
        return;
    ps->last = t;
    ps->shown = 1;
    char hb[32];
    human(st->bytes, hb, sizeof hb);
    double pct = ps->target ? 100.0 * (double)st->bytes / (double)ps->target
                            : 100.0 * (double)st->flows / (double)ps->flows;
    if (pct > 100)
        pct = 100;
    fprintf(stderr, "\rsnitch synth: %s, %llu flows, %llu packets (%.0f%%)\033[K",
            hb, (unsigned long long)st->flows, (unsigned long long)st->packets, pct);
    fflush(stderr);
}

enum { OPT_FLOWS = 256, OPT_CLASSES, OPT_SEED, OPT_SIZE, OPT_NANO, OPT_TRUTH,
       OPT_FORCE };

int cmd_synth(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "flows", required_argument, NULL, OPT_FLOWS },
        { "classes", required_argument, NULL, OPT_CLASSES },
        { "seed", required_argument, NULL, OPT_SEED },
        { "size", required_argument, NULL, OPT_SIZE },
        { "nano", no_argument, NULL, OPT_NANO },
        { "truth", required_argument, NULL, OPT_TRUTH },
        { "force", no_argument, NULL, OPT_FORCE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    synth_config cfg = { .flows = 2000, .classes = 10, .seed = 1 };
    const char *out = NULL;
    int force = 0, flows_given = 0;
    uint64_t v;
    unsigned long long sz;

    optind = 0;       /* glibc/musl: full rescan, whatever ran before */
    opterr = 0;       /* our own messages, with the subcommand's name */
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case OPT_FLOWS:
            if (parse_u64(optarg, UINT64_MAX, &v))
                return usage_error("bad --flows '%s' (a whole number)", optarg);
            cfg.flows = v;
            flows_given = 1;
            break;
        case OPT_CLASSES:
            if (parse_u64(optarg, UINT_MAX, &v) || v < 1)
                return usage_error("bad --classes '%s' (a whole number, at least 1)",
                                   optarg);
            cfg.classes = (unsigned)v;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, UINT64_MAX, &v))
                return usage_error("bad --seed '%s' (a whole number)", optarg);
            cfg.seed = v;
            break;
        case OPT_SIZE:
            if (cli_parse_size(optarg, &sz) || sz == 0)
                return usage_error("bad --size '%s' (e.g. 1G, 500M, 64K, 1000)", optarg);
            cfg.target_bytes = sz;
            break;
        case OPT_NANO:
            cfg.nanosecond = 1;
            break;
        case OPT_TRUTH:
            cfg.truth_path = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case 'h':
            fputs(USAGE, stdout);
            fputs(HELP, stdout);
            return EXIT_OK;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!out)
        return usage_error("%s", "no output file (-o FILE.pcap)");
    if (!*out || (cfg.truth_path && !*cfg.truth_path))
        return usage_error("%s", "empty file name");
    if (cfg.target_bytes && !flows_given)
        cfg.flows = 0;        /* --size alone: the size decides */
    if (cfg.flows == 0 && !cfg.target_bytes)
        return usage_error("%s", "--flows must be at least 1");
    if (cfg.truth_path && strcmp(cfg.truth_path, out) == 0)
        return usage_error("%s", "the truth file and the capture must differ");

    int out_created = 0, truth_created = 0;
    if (claim_file(out, force, &out_created))
        return EXIT_FAIL;
    if (cfg.truth_path && claim_file(cfg.truth_path, force, &truth_created)) {
        if (out_created)
            unlink(out);
        return EXIT_FAIL;
    }
    if (cfg.truth_path) {
        /* Two spellings of one file ("a.csv", "./a.csv") with --force. */
        struct stat a, b;
        if (stat(out, &a) == 0 && stat(cfg.truth_path, &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino && S_ISREG(a.st_mode)) {
            if (out_created)
                unlink(out);
            return usage_error("%s", "the truth file and the capture must differ");
        }
    }

    progress_state ps = { .start = now_s(), .target = cfg.target_bytes,
                          .flows = cfg.flows ? cfg.flows : 1 };
    int tty = isatty(STDERR_FILENO);
    synth_stats st;
    snitch_err e;
    int rc = synth_write_ex(&cfg, out, tty ? on_progress : NULL, &ps, &st, &e);
    if (ps.shown)
        fputs("\r\033[K", stderr);
    if (rc != 0) {
        fprintf(stderr, "snitch synth: %s\n", e.msg);
        /* Remove what we created; a file given with --force was already
         * truncated and stays as it is. */
        if (out_created)
            unlink(out);
        if (truth_created)
            unlink(cfg.truth_path);
        return EXIT_FAIL;
    }
    char hb[32];
    human(st.bytes, hb, sizeof hb);
    fprintf(stderr, "snitch synth: wrote '%s': %llu flows, %llu packets, "
            "%llu bytes (%s) in %.2f s\n", out, (unsigned long long)st.flows,
            (unsigned long long)st.packets, (unsigned long long)st.bytes, hb,
            now_s() - ps.start);
    return EXIT_OK;
}
