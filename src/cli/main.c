/* main.c - the snitch binary: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* OpenBLAS starts its worker threads when the library loads, before main,
 * and they spin on sched_yield for about a tenth of a second waiting for
 * work: measured, 0.1 s of CPU taken from a two-core run of classify,
 * whose own three threads need both cores.  This is the hook OpenBLAS
 * itself calls before fork(); it stops those threads, and the first matrix
 * product starts them again (checked: a 1000 x 1000 sgemm after it still
 * runs on two threads).  Weak: a BLAS build without a thread server (the
 * serial one) lacks the symbol, and there is nothing to stop. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"extract", cmd_extract, "captures -> labeled feature table (CSV)"},
    {"train", cmd_train, "feature table -> Random Forest model file"},
    {"cv", cmd_cv, "cross-validate: accuracy, macro precision/recall/F1, Table 1 sweep"},
    {"predict", cmd_predict, "model + feature table -> predictions (CSV)"},
    {"classify", cmd_classify, "model + capture or interface -> one verdict per flow (JSON lines)"},
    {"inspect", cmd_inspect, "show a model: classes, features, importances, a tree as dot"},
    {"experiment", cmd_experiment, "the seeds' studies: every model x threshold, Table 1"},
    {"synth", cmd_synth, "write a deterministic synthetic capture of TLS flows"},
    {"report", cmd_report, "run directory -> one self-contained HTML page with the figures"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: snitch COMMAND [OPTIONS]   (snitch COMMAND --help for its options)\n\n"
               "Tells which service an encrypted flow belongs to from its shape alone.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "  %-9s %s\n", "version", "print the version");
    fprintf(f, "\nexit status: 0 success, 1 error in input or output, 2 bad command line,\n"
               "130 interrupted.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (blas_thread_shutdown_)
        blas_thread_shutdown_();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("snitch %s\n", SNITCH_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "snitch: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
