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

/* Parse a size such as 1G, 500M, 64K, 1000 (bytes; powers of 1024).
 * Returns 0, or -1 if malformed. */
int cli_parse_size(const char *s, unsigned long long *out);

#endif
