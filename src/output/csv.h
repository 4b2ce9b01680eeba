/* csv.h - RFC 4180 CSV output with numbers that read back exactly.
 *
 * Owns: csv_writer, a buffered writer on a FILE*.  Fields are quoted only
 * when they contain a comma, a quote, CR or LF (quotes doubled); rows end
 * with LF.  Numbers: integral values print as integers, others in the
 * shortest form that strtod reads back to the same double (the contract's
 * "shortest form"); timestamps as seconds.nanoseconds. */
#ifndef SNITCH_CSV_H
#define SNITCH_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct csv_writer csv_writer;

csv_writer *csv_writer_new(FILE *f);     /* NULL when out of memory */
/* Flushes and frees; returns 0, or -1 if any write failed (errno set). */
int csv_writer_close(csv_writer *w);
int csv_writer_flush(csv_writer *w);
/* Non-zero once a write has failed; errno of the failure. */
int csv_writer_error(const csv_writer *w);

void csv_str(csv_writer *w, const char *s, size_t n);
void csv_cstr(csv_writer *w, const char *s);
void csv_i64(csv_writer *w, int64_t v);
void csv_u64(csv_writer *w, uint64_t v);
void csv_double(csv_writer *w, double v);
void csv_ts(csv_writer *w, int64_t ns);
void csv_end_row(csv_writer *w);

/* Bytes put so far (written or buffered). */
uint64_t csv_writer_offset(const csv_writer *w);

/* Raw bytes appended as they are (an already formatted row). */
void csv_raw(csv_writer *w, const char *s, size_t n);

/* Format v into buf (>= 32 bytes) as csv_double does; returns length. */
size_t csv_format_double(double v, char *buf);
/* Format an integer into buf (>= 24 bytes) as csv_i64 does; returns length. */
size_t csv_format_i64(int64_t v, char *buf);
/* Format a timestamp into buf (>= 32 bytes); returns length. */
size_t csv_format_ts(int64_t ns, char *buf);

#endif
