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

/* Monotonic seconds, for timing and progress lines. */
double cli_now(void);

/* Parse a size such as 1G, 500M, 64K, 1000 (bytes; powers of 1024).
 * Returns 0, or -1 if malformed. */
int cli_parse_size(const char *s, unsigned long long *out);

#endif
