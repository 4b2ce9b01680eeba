/* child.h - run a helper program (gnuplot, Graphviz dot) as a filter:
 * bytes in on its standard input, its standard output and standard error
 * collected in memory.
 *
 * Owns: child_out (the collected bytes).  Nothing is printed and no signal
 * disposition is changed: the input goes through a socket written with
 * MSG_NOSIGNAL, so a helper that exits early cannot kill the caller with
 * SIGPIPE. */
#ifndef SNITCH_CHILD_H
#define SNITCH_CHILD_H

#include <stddef.h>

#include "util/err.h"

typedef struct child_out {
    char *out;          /* standard output, NUL-terminated */
    size_t out_len;
    char *err;          /* standard error, NUL-terminated */
    size_t err_len;
    int status;         /* exit status; 128 + signal number if killed */
} child_out;

/* Run argv[0] (looked up on PATH) with in[0..in_len) as its input.
 * Returns 0 when it ran to its end, whatever its exit status (in
 * o->status); 1 when the program is not installed (not found on PATH, or
 * not executable); -1 with e when it could not be run or did not finish
 * within timeout_ms (it is then killed).  o holds the output only on 0
 * (then free it with child_out_free); otherwise it is left empty. */
int child_run(const char *const argv[], const char *in, size_t in_len, int timeout_ms,
              child_out *o, snitch_err *e);

void child_out_free(child_out *o);

/* The telling line of the helper's standard error, for messages (at most
 * 300 bytes, in buf): gnuplot echoes the offending command first and says
 * what is wrong on a later line ("-", line 12: ...), so a line with
 * "line N:" is preferred; otherwise the first non-blank line; "" when it
 * wrote nothing. */
const char *child_error_line(const child_out *o, char buf[320]);

#endif
