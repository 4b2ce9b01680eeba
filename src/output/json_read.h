/* json_read.h - a strict JSON (RFC 8259) reader into a small tree.
 *
 * Owns: json_value trees (every string, array and member list inside is
 * the tree's own, freed by json_value_free).  Reports (snitch report) read
 * results.json with it; json.h is the writer.
 *
 * Strict on purpose: a results file that a person edited by hand, or one
 * cut short by a crash, should be refused with the exact place rather than
 * half understood.  Refused, each with "NAME:LINE:COL: reason": anything
 * but one value surrounded by whitespace, comments, trailing commas,
 * single quotes, a byte order mark, NaN/Infinity, leading zeros, "+1",
 * "1.", ".5", numbers too large for a double, control characters and
 * invalid escapes in strings, unpaired UTF-16 surrogates (\ud800), invalid
 * UTF-8 anywhere, repeated member names in one object, nesting deeper than
 * JSON_READ_MAX_DEPTH.  Lines count from 1 at each LF; columns count
 * characters (UTF-8 sequences) from 1, so an editor shows the same place.
 *
 * Strings are kept as UTF-8 with their length (an escaped \u0000 stays
 * inside), and NUL-terminated for convenience.  Members keep file order. */
#ifndef SNITCH_JSON_READ_H
#define SNITCH_JSON_READ_H

#include <stddef.h>

#include "util/err.h"

#define JSON_READ_MAX_DEPTH 512

typedef enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    unsigned line, col;         /* where the value starts, for messages */
    union {
        int boolean;
        double number;
        struct {
            char *s;            /* NUL-terminated; len excludes the NUL */
            size_t len;
        } string;
        struct {
            json_value *items;
            size_t n;
        } array;
        struct {
            json_member *members;
            size_t n;
        } object;
    } u;
};

struct json_member {
    char *key;                  /* NUL-terminated; key_len excludes it */
    size_t key_len;
    unsigned line, col;         /* where the key starts */
    json_value value;
};

/* Parse len bytes (no NUL needed).  name prefixes messages ("NAME:L:C:
 * ...").  Returns the root, or NULL with e set. */
json_value *json_parse(const char *text, size_t len, const char *name, snitch_err *e);

/* Read and parse a whole file; messages start with path. */
json_value *json_parse_file(const char *path, snitch_err *e);

void json_value_free(json_value *v);

/* The member named key of an object (first match), or NULL when v is not
 * an object or has no such member. */
const json_value *json_object_get(const json_value *v, const char *key);

/* "null", "a boolean", "a number", "a string", "an array", "an object":
 * for messages such as "expected a number, found a string". */
const char *json_type_name(json_type t);

#endif
