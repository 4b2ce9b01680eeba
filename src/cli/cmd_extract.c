/* cmd_extract.c - `snitch extract`: captures in, labeled feature table out.
 *
 * Owns the user-facing side of extraction: options, the output file, the
 * progress line, signals, warnings and the summary.  The work itself is
 * the library's extract pipeline. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli.h"
#include "label/label.h"
#include "output/csv.h"
#include "pipeline/extract.h"

static const char usage_text[] =
    "usage: snitch extract (-r FILE... | -i IFACE) -o OUT [options]\n"
    "\n"
    "Turn captures into a labeled feature table (CSV, one row per flow, or\n"
    "per packet with --features window).  Columns: docs/features.md.\n"
    "\n"
    "input\n"
    "  -r, --read FILE        pcap or pcapng file (- for standard input); repeat\n"
    "                         for more files, read in the given order as one\n"
    "                         continuous capture\n"
    "  -i, --interface IFACE  live capture (libpcap; Ctrl-C ends it, every open\n"
    "                         flow is written)\n"
    "  -f, --filter BPF       capture filter, e.g. 'tcp port 443'\n"
    "      --threads N        reading files: 1, or 2 to read them ahead in a\n"
    "                         second thread (default: 2 when this process may\n"
    "                         run on 2 or more cores)\n"
    "output\n"
    "  -o, --output OUT       CSV file, or - for standard output (required)\n"
    "      --force            replace OUT if it exists\n"
    "  -q, --quiet            no progress line and no summary\n"
    "features and labels\n"
    "      --features LIST    stats, seq, stats,seq (one row per flow) or window\n"
    "                         (one row per packet); default stats\n"
    "      --label MODE       sni | clean | domain | rules:FILE (default sni);\n"
    "                         rules file format: docs/rules.md\n"
    "      --packets WHICH    data (default: packets with payload) | all, for\n"
    "                         stats and seq\n"
    "      --n N              sequence length (default 25)\n"
    "      --window SECONDS   window features' width (default 0.010)\n"
    "      --first N          features of each flow's first N packets only (what\n"
    "                         snitch classify --after N sees; train on this)\n"
    "flows\n"
    "      --all-flows        also write flows without a label (default: only\n"
    "                         labeled flows, as the paper)\n"
    "      --min-flows N      keep only labels with at least N flows; rows wait\n"
    "                         in a temporary file until the input ends\n"
    "      --idle-timeout S   end a flow after S idle seconds (default 120)\n"
    "      --active-timeout S end a flow S seconds after its start (default off)\n"
    "      --max-flows N      open flows at most; beyond, the least recently\n"
    "                         active flow is ended early (default 1000000)\n"
    "\n"
    "exit status: 0 done, 1 bad input or output (message names file and packet),\n"
    "2 bad command line, 130 interrupted (no output file is left behind).\n";

static capture *volatile g_capture;     /* for the signal handler only */
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
    if (g_capture)
        capture_stop(g_capture);
}

static int parse_features(const char *s, unsigned *out)
{
    unsigned f = 0;
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        return -1;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "stats"))
            f |= EXTRACT_STATS;
        else if (!strcmp(t, "seq"))
            f |= EXTRACT_SEQ;
        else if (!strcmp(t, "window"))
            f |= EXTRACT_WINDOW;
        else {
            free(copy);
            return -1;
        }
    }
    free(copy);
    if (!f)
        return -1;
    *out = f;
    return 0;
}

static void summary(const extract *x, const extract_config *cfg, const char *label_spec,
                    capture *cap, int live, double secs)
{
    extract_stats st;
    extract_get_stats(x, &st);
    uint64_t skipped = st.packets - st.decoded;
    fprintf(stderr, "snitch extract: %.2f s, %.0f packets/s\n", secs,
            secs > 0 ? (double)st.packets / secs : 0.0);
    fprintf(stderr, "  packets  %llu read, %llu decoded, %llu skipped", (unsigned long long)st.packets,
            (unsigned long long)st.decoded, (unsigned long long)skipped);
    int first = 1;
    for (int i = 1; i < DECODE_NSTATUS; i++)
        if (st.skipped[i]) {
            fprintf(stderr, "%s%s %llu", first ? " (" : ", ", decode_status_name((decode_status)i),
                    (unsigned long long)st.skipped[i]);
            first = 0;
        }
    fprintf(stderr, "%s\n", first ? "" : ")");
    fprintf(stderr, "  flows    %llu (peak %llu open; ended by", (unsigned long long)st.flows.flows,
            (unsigned long long)st.flows.peak_open);
    for (int i = 0; i < FLOW_END_NREASONS; i++)
        fprintf(stderr, "%s %s %llu", i ? "," : "", flow_end_name((flow_end)i),
                (unsigned long long)st.flows.ended[i]);
    fprintf(stderr, ")\n");
    if (st.flows.ended[FLOW_END_EVICTED])
        fprintf(stderr, "  warning  %llu flows were ended early because %zu flows were open "
                        "(--max-flows)\n",
                (unsigned long long)st.flows.ended[FLOW_END_EVICTED], cfg->max_flows);
    fprintf(stderr, "  tls      %llu flows with SNI, %llu offering ECH\n",
            (unsigned long long)st.with_sni, (unsigned long long)st.ech);
    fprintf(stderr, "  labels   %llu labeled flows (--label %s), %llu distinct labels written",
            (unsigned long long)st.labeled, label_spec, (unsigned long long)st.labels);
    if (cfg->min_flows > 1)
        fprintf(stderr, ", %llu flows dropped below --min-flows %llu",
                (unsigned long long)st.below_min, (unsigned long long)cfg->min_flows);
    fprintf(stderr, "\n  written  %llu flows, %llu rows%s\n", (unsigned long long)st.written,
            (unsigned long long)st.rows, cfg->all_flows ? "" : " (labeled flows only; --all-flows for all)");
    uint64_t recv, drop, ifdrop;
    if (live && capture_live_stats(cap, &recv, &drop, &ifdrop) == 0)
        fprintf(stderr, "  capture  %llu received, %llu dropped by the kernel, %llu by the interface\n",
                (unsigned long long)recv, (unsigned long long)drop, (unsigned long long)ifdrop);
}

int cmd_extract(int argc, char **argv)
{
    enum { O_FEATURES = 256, O_LABEL, O_PACKETS, O_N, O_WINDOW, O_ALL, O_MIN, O_IDLE, O_ACTIVE,
           O_MAXF, O_FORCE, O_FIRST, O_THREADS };
    static const struct option opts[] = {
        {"read", required_argument, 0, 'r'},
        {"interface", required_argument, 0, 'i'},
        {"filter", required_argument, 0, 'f'},
        {"output", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {"features", required_argument, 0, O_FEATURES},
        {"label", required_argument, 0, O_LABEL},
        {"packets", required_argument, 0, O_PACKETS},
        {"n", required_argument, 0, O_N},
        {"window", required_argument, 0, O_WINDOW},
        {"all-flows", no_argument, 0, O_ALL},
        {"min-flows", required_argument, 0, O_MIN},
        {"idle-timeout", required_argument, 0, O_IDLE},
        {"active-timeout", required_argument, 0, O_ACTIVE},
        {"max-flows", required_argument, 0, O_MAXF},
        {"force", no_argument, 0, O_FORCE},
        {"first", required_argument, 0, O_FIRST},
        {"threads", required_argument, 0, O_THREADS},
        {0, 0, 0, 0},
    };
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    const char *iface = NULL, *filter = NULL, *out = NULL, *label_spec = "sni";
    int quiet = 0, force = 0, rc = EXIT_USAGE, nthreads = 0;
    uint64_t v;
    extract_config cfg = {
        .features = EXTRACT_STATS, .data_only = 1, .seq_n = 25, .window_ns = 10000000,
        .idle_ns = 120000000000LL, .active_ns = 0, .max_flows = 1000000,
    };
    if (!files) {
        fprintf(stderr, "snitch extract: out of memory\n");
        return EXIT_FAIL;
    }
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "r:i:f:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': files[nfiles++] = optarg; break;
        case 'i': iface = optarg; break;
        case 'f': filter = optarg; break;
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(usage_text, stdout);
            free(files);
            return EXIT_OK;
        case O_FEATURES:
            if (parse_features(optarg, &cfg.features) < 0) {
                fprintf(stderr, "snitch extract: --features: expected stats, seq, stats,seq or window, "
                                "got '%s'\n", optarg);
                goto done;
            }
            break;
        case O_LABEL: label_spec = optarg; break;
        case O_PACKETS:
            if (strcmp(optarg, "data") && strcmp(optarg, "all")) {
                fprintf(stderr, "snitch extract: --packets: expected data or all, got '%s'\n", optarg);
                goto done;
            }
            cfg.data_only = !strcmp(optarg, "data");
            break;
        case O_N:
            if (cli_uint("extract", "--n", optarg, 100000, &v) < 0 || v == 0) {
                if (v == 0)
                    fprintf(stderr, "snitch extract: --n must be at least 1\n");
                goto done;
            }
            cfg.seq_n = (int)v;
            break;
        case O_WINDOW:
            if (cli_seconds("extract", "--window", optarg, &cfg.window_ns) < 0)
                goto done;
            break;
        case O_ALL: cfg.all_flows = 1; break;
        case O_MIN:
            if (cli_uint("extract", "--min-flows", optarg, UINT32_MAX, &cfg.min_flows) < 0)
                goto done;
            break;
        case O_IDLE:
            if (cli_seconds("extract", "--idle-timeout", optarg, &cfg.idle_ns) < 0)
                goto done;
            if (cfg.idle_ns <= 0) {
                fprintf(stderr, "snitch extract: --idle-timeout must be positive\n");
                goto done;
            }
            break;
        case O_ACTIVE:
            if (cli_seconds("extract", "--active-timeout", optarg, &cfg.active_ns) < 0)
                goto done;
            break;
        case O_MAXF:
            if (cli_uint("extract", "--max-flows", optarg, 1ull << 40, &v) < 0)
                goto done;
            cfg.max_flows = (size_t)v;
            break;
        case O_FORCE: force = 1; break;
        case O_FIRST:
            if (cli_uint("extract", "--first", optarg, 1u << 30, &v) < 0)
                goto done;
            cfg.first_n = (size_t)v;
            break;
        case O_THREADS:
            if (cli_threads("extract", optarg, &nthreads) < 0)
                goto done;
            break;
        default:
            fprintf(stderr, "%s", usage_text);
            goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "snitch extract: unexpected argument '%s' (input files go after -r)\n",
                argv[optind]);
        goto done;
    }
    if (!nfiles == !iface) {
        fprintf(stderr, "snitch extract: give input files with -r FILE, or a live interface with "
                        "-i IFACE (not both)\n");
        goto done;
    }
    if (!out) {
        fprintf(stderr, "snitch extract: -o OUT is required (-o - writes to standard output)\n");
        goto done;
    }
    if (iface && cfg.min_flows > 1)
        fprintf(stderr, "snitch extract: note: with --min-flows rows are written only when the "
                        "capture ends\n");

    rc = EXIT_FAIL;
    snitch_err err = {""};
    labeler *lab = labeler_new(label_spec, &err);
    if (!lab) {
        fprintf(stderr, "snitch extract: --label: %s\n", err.msg);
        rc = EXIT_USAGE;
        goto done;
    }
    cfg.labels = lab;

    /* Inputs first, then the output: a bad input never creates a file, and
     * an unwritable output fails before any packet is read. */
    capture *cap = iface ? capture_open_live(iface, filter, 262144, &err)
                         : capture_open_files(files, nfiles, filter, &err);
    if (!cap) {
        fprintf(stderr, "snitch extract: %s\n", err.msg);
        labeler_free(lab);
        goto done;
    }
    outfile of;
    if (outfile_open(&of, "extract", out, force) < 0) {
        capture_close(cap);
        labeler_free(lab);
        rc = EXIT_FAIL;
        goto done;
    }
    csv_writer *w = csv_writer_new(of.f);
    extract *x = w ? extract_new(&cfg, w, &err) : NULL;
    if (!x) {
        fprintf(stderr, "snitch extract: %s\n", w ? err.msg : "out of memory");
        csv_writer_close(w);
        outfile_abort(&of);
        capture_close(cap);
        labeler_free(lab);
        rc = w ? EXIT_USAGE : EXIT_FAIL;
        goto done;
    }
    extract_write_header(x);
    if (!nthreads)
        nthreads = cli_default_threads();
    if (nthreads == 2 && capture_read_ahead(cap, 0, &err) < 0) {
        fprintf(stderr, "snitch extract: %s\n", err.msg);
        extract_free(x);
        csv_writer_close(w);
        outfile_abort(&of);
        capture_close(cap);
        labeler_free(lab);
        goto done;
    }

    g_capture = cap;
    g_interrupted = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* A progress line on a terminal, unless the rows go to that terminal too. */
    int show = !quiet && isatty(2) && !(!strcmp(out, "-") && isatty(1));
    double t0 = cli_now(), last = t0;
    uint64_t flushed = 0;
    int failed = 0;
    capture_packet pkt;
    for (;;) {
        int r = capture_next(cap, &pkt, &err);
        if (r == CAPTURE_END)
            break;
        if (r == CAPTURE_WARNING) {
            if (show)
                fprintf(stderr, "\r%60s\r", "");
            fprintf(stderr, "snitch extract: warning: %s\n", err.msg);
            continue;
        }
        if (r == CAPTURE_ERROR) {
            if (g_interrupted)      /* a read cut short by the signal */
                break;
            if (show)
                fprintf(stderr, "\r%60s\r", "");
            fprintf(stderr, "snitch extract: %s\n", err.msg);
            failed = 1;
            break;
        }
        if (extract_packet(x, &pkt, &err) < 0) {
            fprintf(stderr, "snitch extract: %s: packet %llu: %s\n", pkt.source,
                    (unsigned long long)pkt.number, err.msg);
            failed = 1;
            break;
        }
        if (iface && csv_writer_offset(w) != flushed) {
            /* Live rows go out as flows end, for pipes into other tools. */
            csv_writer_flush(w);
            flushed = csv_writer_offset(w);
        }
        if (show && (pkt.number & 0xffff) == 0) {
            double now = cli_now();
            if (now - last >= 0.5) {
                cli_progress(cap, x, t0, 0, NULL);
                last = now;
            }
        }
    }
    if (show)
        cli_progress(cap, x, t0, 1, NULL);
    int interrupted = g_interrupted && !iface;
    if (!failed && !interrupted && extract_finish(x, &err) < 0) {
        fprintf(stderr, "snitch extract: %s: %s\n", strcmp(out, "-") ? out : "standard output", err.msg);
        failed = 1;
    }
    if (iface && !failed)
        rc = EXIT_OK;
    if (!quiet)
        summary(x, &cfg, label_spec, cap, iface != NULL, cli_now() - t0);
    g_capture = NULL;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int werr = csv_writer_close(w);
    extract_free(x);
    capture_close(cap);
    labeler_free(lab);
    if (failed || interrupted || werr < 0) {
        if (werr < 0 && !failed)
            fprintf(stderr, "snitch extract: writing '%s' failed\n", out);
        if (interrupted)
            fprintf(stderr, "snitch extract: interrupted; no output written\n");
        outfile_abort(&of);
        rc = interrupted ? 130 : EXIT_FAIL;
        goto done;
    }
    rc = outfile_commit(&of, "extract") < 0 ? EXIT_FAIL : EXIT_OK;
done:
    free(files);
    return rc;
}
