/* cli.h - the subcommands of the snitch binary.
 *
 * Each cmd_* parses its own options (getopt_long), owns all printing, and
 * returns the process exit status (see docs/exit-codes in README). */
#ifndef SNITCH_CLI_H
#define SNITCH_CLI_H

enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,    /* bad input data, I/O error, out of memory */
    EXIT_USAGE = 2    /* bad command line */
};

int cmd_extract(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_cv(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_classify(int argc, char **argv);

#include <stdint.h>
#include <stdio.h>

/* An output file written under a temporary name and renamed into place on
 * success, so a failed or interrupted run never leaves a half-written file
 * under the user's name, and an existing file is replaced only with
 * --force.  Path "-" is standard output. */
typedef struct outfile {
    FILE *f;
    char *path;      /* final name (NULL for stdout) */
    char *tmp;       /* temporary name */
    int direct;      /* a device or FIFO, written in place */
} outfile;

/* Returns 0, or -1 after printing "snitch CMD: ..." to stderr. */
int outfile_open(outfile *o, const char *cmd, const char *path, int force);
/* Close and rename into place: 0, or -1 after printing the error. */
int outfile_commit(outfile *o, const char *cmd);
/* Close and remove the temporary file. */
void outfile_abort(outfile *o);

/* Strict number parsing for options: the whole string must be a number in
 * range.  Return 0, or -1 after printing "snitch CMD: bad value for OPT". */
int cli_uint(const char *cmd, const char *opt, const char *s, uint64_t max, uint64_t *out);
int cli_seconds(const char *cmd, const char *opt, const char *s, int64_t *ns_out);

/* Options shared by train and cv: the forest's parameters, which rows and
 * features to use.  Option codes are >= 1000 (see model_opts.c). */
#include "forest/forest.h"
#include "table/table.h"

typedef struct model_opts {
    forest_params fp;
    uint64_t min_flows;
    unsigned families;          /* 0 = statistics if present, else window,
                                   else sequences (like the reference) */
    const char *label_mode;     /* recorded in the model, informative */
} model_opts;

#define MODEL_LONG_OPTIONS \
    {"trees", required_argument, 0, 1000}, \
    {"max-depth", required_argument, 0, 1001}, \
    {"max-features", required_argument, 0, 1002}, \
    {"min-samples-leaf", required_argument, 0, 1003}, \
    {"class-weight", required_argument, 0, 1004}, \
    {"seed", required_argument, 0, 1005}, \
    {"threads", required_argument, 0, 1006}, \
    {"min-flows", required_argument, 0, 1007}, \
    {"features", required_argument, 0, 1008}, \
    {"label-mode", required_argument, 0, 1009}

#define MODEL_OPTIONS_HELP \
    "  --trees N              trees in the forest (default 200)\n" \
    "  --max-depth D          deepest split level, 0 = unlimited (default 0)\n" \
    "  --max-features F       features tried per split: sqrt (default), log2,\n" \
    "                         all, or a number\n" \
    "  --min-samples-leaf N   rows a leaf must hold (default 1)\n" \
    "  --class-weight W       none (default) or balanced\n" \
    "  --seed S               random seed (default 1)\n" \
    "  --threads N            training threads (default: one per core)\n" \
    "  --min-flows N          keep only labels with at least N rows\n" \
    "  --features F           stats, seq, window or all; default: stats when\n" \
    "                         present, else window, else seq\n"

void model_opts_init(model_opts *o);
/* 1: the option was one of MODEL_LONG_OPTIONS and is stored, 0: not ours,
 * -1: bad value (message printed). */
int model_opts_parse(model_opts *o, int code, const char *arg, const char *cmd);

/* Read a training table: features chosen per o->families, unlabeled rows
 * dropped, --min-flows applied, at least two classes.  0, or -1 after
 * printing the error. */
int cli_load_training_table(const char *cmd, const char *path, const model_opts *o, table *t);

/* Monotonic seconds, for timing and progress lines. */
double cli_now(void);

/* Parse a size such as 1G, 500M, 64K, 1000 (bytes; powers of 1024).
 * Returns 0, or -1 if malformed. */
int cli_parse_size(const char *s, unsigned long long *out);

#endif
