/* table.h - a feature table read from CSV, as snitch extract writes it.
 *
 * Owns: table (the feature matrix, labels as class indices, class names,
 * and optionally each row's identity text for predictions).  Feature
 * columns are found by their contract names, never by position:
 *  - the 42 statistics (pkt_fwd_num ... pay_bwd_var),
 *  - sequence columns size_N, payload_N, iat_N, dir_N (N a number),
 *  - window columns dt_prev, size, rx_bytes, tx_bytes, rx_mean, tx_mean,
 *    rx_std, tx_std, rx_pkts, tx_pkts.
 * Every other column (flow_id, src_ip, ..., sni, label, tls_version, ech,
 * ts, dir) is identity.  The label column is "label"; an empty label is
 * class -1 (no label).  Errors name the file, the line and the column: a
 * ragged row, a non-numeric, NaN or infinite feature cell, an empty file, a
 * missing feature column, a file with no feature column. */
#ifndef SNITCH_TABLE_H
#define SNITCH_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

/* Which feature families to use (bits); 0 = every family present. */
enum { TABLE_STATS = 1, TABLE_SEQ = 2, TABLE_WINDOW = 4 };

typedef struct table_spec {
    /* Exactly these feature columns, in this order (a model's features);
     * NULL: the families below, in file order. */
    const char *const *features;
    size_t nfeatures;
    unsigned families;          /* TABLE_* bits, 0 = all present */
    int keep_identity;          /* fill id_names / id_text */
} table_spec;

typedef struct table {
    size_t nrows, nfeat;
    char **feat;                /* nfeat feature names */
    float *x;                   /* nrows x nfeat, row-major */
    int32_t *y;                 /* class of each row, -1 = empty label */
    size_t nclasses;
    char **classes;             /* class names, sorted bytewise */
    size_t nid;                 /* identity columns kept (keep_identity) */
    char **id_names;
    char **id_text;             /* per row: its identity fields as CSV text
                                   (quoted as needed), joined by ',' */
    const char *path;           /* for messages (borrowed) */
} table;

/* Read a CSV file ("-" = standard input).  Returns 0, or -1 with e naming
 * path:line and column. */
int table_read(const char *path, const table_spec *spec, table *t, snitch_err *e);

/* The same from an open stream (read to its end, not closed); name is used
 * in messages and kept as t->path (borrowed).  spec NULL = every family,
 * no identity.  On failure *t is left empty (table_free is harmless). */
int table_read_file(FILE *f, const char *name, const table_spec *spec, table *t,
                    snitch_err *e);

void table_free(table *t);

/* Is this a feature column name of the contract?  Returns its family
 * (TABLE_*) or 0. */
unsigned table_feature_family(const char *name);

/* Keep only labeled rows whose class has at least min_rows rows (min_rows
 * 0 or 1: just the labeled rows); classes are renumbered (still sorted).
 * Returns 0 or -1 when out of memory. */
int table_keep_labeled(table *t, size_t min_rows, snitch_err *e);

/* Families (TABLE_* bits) among the table's feature columns. */
unsigned table_families_present(const table *t);

/* Keep only the feature columns of the given families (compacting x and
 * feat).  -1 with e when none is left.  (select.c) */
int table_select_families(table *t, unsigned families, snitch_err *e);

/* Rows per class: counts[k] for k < nclasses (caller allocates). */
void table_class_counts(const table *t, uint64_t *counts);

#endif
