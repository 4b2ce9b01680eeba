/* csvin.h - the two small CSV reads of the report: a confusion matrix as
 * `snitch cv --confusion` writes it, and the header of a feature table
 * (to see which columns it has before reading any).
 *
 * Owns: confusion (class names and counts).  RFC 4180 fields (quotes,
 * doubled quotes, commas and newlines inside quotes; CRLF or LF).  Errors
 * name the file and line. */
#ifndef SNITCH_CSVIN_H
#define SNITCH_CSVIN_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct confusion {
    size_t k;
    char **classes;     /* k names: rows (true) and columns (predicted) */
    uint64_t *n;        /* k x k, row-major: n[true * k + predicted] */
} confusion;

/* Header "true\predicted,C1,...,Ck", then k rows "Ci,n1,...,nk" in the
 * header's order, counts whole numbers.  0, or -1 with e ("PATH:LINE:
 * ..."). */
int confusion_read(const char *path, confusion *c, snitch_err *e);
/* The same from memory (name for messages). */
int confusion_parse(const char *text, size_t len, const char *name, confusion *c, snitch_err *e);
void confusion_free(confusion *c);

/* The column names of a CSV file's first record.  *names (n of them) is
 * one allocation: free(*names) frees all.  0, or -1 with e. */
int csv_header(const char *path, char ***names, size_t *n, snitch_err *e);

#endif
