/* json.h - a small streaming JSON writer for reports (cv, experiment).
 *
 * Owns nothing but its FILE*.  Keeps track of commas and nesting; strings
 * are escaped per RFC 8259 (invalid UTF-8 bytes become U+FFFD); non-finite
 * numbers are written as null; doubles in the shortest round-trip form. */
#ifndef SNITCH_JSON_H
#define SNITCH_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef struct json_writer {
    FILE *f;
    int depth;
    int first[64];          /* no comma needed yet at this depth */
    int after_key;
    int pretty;
} json_writer;

void json_init(json_writer *w, FILE *f, int pretty);
void json_begin_object(json_writer *w);
void json_end_object(json_writer *w);
void json_begin_array(json_writer *w);
void json_end_array(json_writer *w);
void json_key(json_writer *w, const char *key);
void json_str(json_writer *w, const char *s);
void json_double(json_writer *w, double v);
void json_i64(json_writer *w, int64_t v);
void json_bool(json_writer *w, int v);
void json_null(json_writer *w);

#endif
