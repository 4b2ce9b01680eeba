/* err.h - error reporting for libsnitch.
 *
 * The library never prints: a function that can fail takes a snitch_err *
 * and fills it with one human-readable line (file, place, reason), then
 * returns a failure code.  The CLI decides what to print and how to exit. */
#ifndef SNITCH_ERR_H
#define SNITCH_ERR_H

#include <stddef.h>

#define SNITCH_ERR_MAX 512

typedef struct snitch_err {
    char msg[SNITCH_ERR_MAX];
} snitch_err;

/* Format a message into e (if e is not NULL).  Always returns -1 so callers
 * can write `return err_set(e, "...")`. */
int err_set(snitch_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
