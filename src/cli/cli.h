/* cli.h - the subcommands of the snitch binary.
 *
 * Each cmd_* parses its own options (getopt_long), owns all printing, and
 * returns the process exit status (see docs/exit-codes in README). */
#ifndef SNITCH_CLI_H
#define SNITCH_CLI_H

#define SNITCH_VERSION "0.1.0"

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
int cmd_experiment(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_report(int argc, char **argv);

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
/* A real number in [lo, hi]; 0, or -1 after printing the error. */
int cli_real(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
int cli_seconds(const char *cmd, const char *opt, const char *s, int64_t *ns_out);

/* Options shared by train and cv: which model (a spec, see
 * model/learn.h), its parameters, which rows and features to use.
 * Option codes are >= 1000 (see model_opts.c). */
#include "model/learn.h"
#include "table/table.h"

typedef struct model_opts {
    learn_params lp;
    uint64_t min_flows;
    unsigned families;          /* 0 = statistics if present, else window,
                                   else sequences (like the reference) */
    const char *label_mode;     /* recorded in the model, informative */
    const char *model;          /* --model text (default "rf") */
    const char *channel;        /* --channel */
    int dir;                    /* --dir */
    const char *weights;        /* --weights w1,w2,... */
    model_spec spec;            /* resolved by model_opts_finish */
    char spec_text[512];        /* canonical spec, for messages */
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
    {"label-mode", required_argument, 0, 1009}, \
    {"model", required_argument, 0, 1010}, \
    {"channel", required_argument, 0, 1011}, \
    {"dir", no_argument, 0, 1012}, \
    {"epochs", required_argument, 0, 1013}, \
    {"patience", required_argument, 0, 1014}, \
    {"val-share", required_argument, 0, 1015}, \
    {"batch", required_argument, 0, 1016}, \
    {"dropout", required_argument, 0, 1017}, \
    {"lr", required_argument, 0, 1018}, \
    {"gru-units", required_argument, 0, 1019}, \
    {"weights", required_argument, 0, 1020}

#define MODEL_OPTIONS_HELP \
    "  --model M              rf (default), cnn_rnn, gru, cnn (with --channel),\n" \
    "                         cnn_rnn/size+dir, or an ensemble such as\n" \
    "                         ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat\n" \
    "                         (the table then needs stats and seq columns)\n" \
    "  --channel C            a network's input: size (default), payload, iat\n" \
    "  --dir                  add the direction sequence as a second channel\n" \
    "  --weights W1,W2,...    ensemble weights in member order (default: 1/2\n" \
    "                         forest, 1/2 shared by the networks; else equal)\n" \
    "  --trees N              trees in the forest (default 200)\n" \
    "  --max-depth D          deepest split level, 0 = unlimited (default 0)\n" \
    "  --max-features F       features tried per split: sqrt (default), log2,\n" \
    "                         all, or a number\n" \
    "  --min-samples-leaf N   rows a leaf must hold (default 1)\n" \
    "  --class-weight W       none (default) or balanced\n" \
    "  --epochs N             most epochs of a network (default 50)\n" \
    "  --patience N           stop after N epochs without a better validation\n" \
    "                         loss (default 5)\n" \
    "  --val-share F          validation share for early stopping (default 0.1;\n" \
    "                         0 = train all epochs)\n" \
    "  --batch N              mini-batch size (default 64)\n" \
    "  --dropout R            dropout rate (default 0.5 for iat, else 0)\n" \
    "  --lr R                 Adam learning rate (default 0.001)\n" \
    "  --gru-units N          units of the baseline GRU (default 159)\n" \
    "  --seed S               random seed (default 0)\n" \
    "  --threads N            forest threads (default: one per core)\n" \
    "  --min-flows N          keep only labels with at least N rows\n" \
    "  --features F           the forest's columns: stats, seq, window or all;\n" \
    "                         default: stats when present, else window, else seq\n"

void model_opts_init(model_opts *o);
/* 1: the option was one of MODEL_LONG_OPTIONS and is stored, 0: not ours,
 * -1: bad value (message printed). */
int model_opts_parse(model_opts *o, int code, const char *arg, const char *cmd);
/* After option parsing: resolve --model/--channel/--dir/--weights into
 * o->spec.  0, or -1 after printing the error. */
int model_opts_finish(model_opts *o, const char *cmd);
/* One line per epoch of a network on stderr. */
void cli_print_epoch(const char *member, const nn_epoch_info *info);
/* The options a model was trained with, as the text kept in the model. */
void cli_describe_model(const model_opts *o, const char *table_path, char *buf, size_t len);

/* Read a training table: features chosen per o->families, unlabeled rows
 * dropped, --min-flows applied, at least two classes.  0, or -1 after
 * printing the error. */
int cli_load_training_table(const char *cmd, const char *path, const model_opts *o, table *t);

/* Writing a cross-validation result (cvout.c), the same in cv and
 * experiment: the JSON object of one threshold (min_flows, flows, classes,
 * then cli_json_cv_fields: metrics, per fold, per class), and the
 * confusion matrix as CSV (rows: true class). */
#include "eval/cv.h"
#include "output/json.h"
void cli_mean_std(const double *v, int n, double *m, double *s);
void cli_json_cv(json_writer *j, uint64_t min_flows, char *const *classes, const cv_result *r);
void cli_json_cv_fields(json_writer *j, char *const *classes, const cv_result *r);
int cli_write_confusion(FILE *f, char *const *classes, const cv_result *r);
/* The rows of labels with at least min_rows rows (0: every labeled row),
 * classes renumbered in table order: map[old class] (-1 = left out),
 * cls[new class] (names borrowed from t), y[i] and rows[i] for the *n rows.
 * Returns the number of classes kept.  counts from table_class_counts. */
size_t cli_threshold_rows(const table *t, const uint64_t *counts, uint64_t min_rows, int32_t *map,
                          char **cls, int32_t *y, size_t *rows, size_t *n);

/* Monotonic seconds, for timing and progress lines. */
double cli_now(void);

/* --threads of the commands that read files (extract, classify): 1 or 2
 * into *out, or a message and -1. */
int cli_threads(const char *cmd, const char *s, int *out);
/* Its default: 2 when this process may run on 2 or more cores (taskset,
 * cgroup cpusets), else 1. */
int cli_default_threads(void);

/* The progress line on stderr ("\r" and overwritten): share of the input
 * read (when its size is known), packets, flows, packets/s since t0, then
 * extra (may be NULL); final: clear the line instead. */
struct capture;
struct extract;
void cli_progress(struct capture *c, const struct extract *x, double t0, int final,
                  const char *extra);

/* Parse a size such as 1G, 500M, 64K, 1000 (bytes; powers of 1024).
 * Returns 0, or -1 if malformed. */
int cli_parse_size(const char *s, unsigned long long *out);

#endif
