/* fuzz_table.c - libFuzzer target for src/table/table.c.
 *
 * The input is a CSV file, read through table_read_file (fmemopen) with
 * several specs: every family with identity kept, statistics only, window
 * only, and a model's feature list (pkt_fwd_num, size_0, size_0 again: a
 * repeated name must work too).  Each table that loads is checked:
 *  - the features are the ones asked for (family, or the exact list),
 *  - every cell is a finite float, every y is -1 or a class index, the
 *    classes are sorted and each has a row,
 *  - with identity kept: "label" is among id_names and every id_text
 *    splits back into exactly nid CSV fields,
 *  - after table_keep_labeled(2): only labeled rows, every class with >= 2
 *    rows, the same row count as the counts add up to.
 * Any violation aborts.  Seeds: fuzz/corpus/table (extract outputs cut to
 * a few rows, quoting cases, broken files). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/table.h"

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "violated: %s\n", #c); abort(); } } while (0)

/* Fields in one CSV record (quotes honoured); -1 if it is not one record. */
static long count_fields(const char *s)
{
    long n = 1;
    int inq = 0, start = 1;
    for (; *s; s++) {
        if (inq) {
            if (*s == '"') {
                if (s[1] == '"')
                    s++;
                else
                    inq = 0;
            }
            continue;
        }
        if (*s == '"') {
            if (!start)
                return -1;
            inq = 1;
        } else if (*s == ',') {
            n++;
            start = 1;
            continue;
        } else if (*s == '\n' || *s == '\r') {
            return -1;
        }
        start = 0;
    }
    return inq ? -1 : n;
}

static void check_table(const table *t, const table_spec *sp, int has_nul)
{
    REQUIRE(t->nfeat > 0 && t->feat);
    for (size_t j = 0; j < t->nfeat; j++) {
        if (sp->features)
            REQUIRE(!strcmp(t->feat[j], sp->features[j]));
        else
            REQUIRE(table_feature_family(t->feat[j]) &
                    (sp->families ? sp->families : 7u));
    }
    REQUIRE(t->nrows == 0 || (t->x && t->y));
    for (size_t i = 0; i < t->nrows * t->nfeat; i++)
        REQUIRE(isfinite(t->x[i]));
    uint64_t *counts = calloc(t->nclasses + 1, sizeof *counts);
    REQUIRE(counts);
    for (size_t i = 0; i < t->nrows; i++) {
        REQUIRE(t->y[i] >= -1 && t->y[i] < (int32_t)t->nclasses);
        if (t->y[i] >= 0)
            counts[t->y[i]]++;
    }
    for (size_t k = 0; k < t->nclasses; k++) {
        REQUIRE(counts[k] > 0);
        /* Bytewise order; a NUL inside a label can make two look equal. */
        if (k)
            REQUIRE(strcmp(t->classes[k - 1], t->classes[k]) <= 0);
    }
    free(counts);
    if (sp->keep_identity) {
        int has_label = 0;
        for (size_t k = 0; k < t->nid; k++)
            has_label |= !strcmp(t->id_names[k], "label");
        REQUIRE(has_label);
        for (size_t i = 0; i < t->nrows; i++) {
            REQUIRE(t->id_text[i]);
            /* A NUL inside a field cuts the C string short. */
            if (!has_nul)
                REQUIRE(count_fields(t->id_text[i]) == (long)t->nid);
        }
    } else {
        REQUIRE(t->nid == 0 && !t->id_text);
    }
}

static void check_kept(const table *t)
{
    uint64_t *counts = calloc(t->nclasses + 1, sizeof *counts);
    REQUIRE(counts);
    table_class_counts(t, counts);
    uint64_t sum = 0;
    for (size_t k = 0; k < t->nclasses; k++) {
        REQUIRE(counts[k] >= 2);
        sum += counts[k];
    }
    REQUIRE(sum == t->nrows);
    for (size_t i = 0; i < t->nrows; i++)
        REQUIRE(t->y[i] >= 0 && t->y[i] < (int32_t)t->nclasses);
    free(counts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const model[] = { "pkt_fwd_num", "size_0", "size_0" };
    const table_spec specs[] = {
        { NULL, 0, 0, 1 },
        { NULL, 0, TABLE_STATS, 0 },
        { NULL, 0, TABLE_WINDOW, 1 },
        { NULL, 0, TABLE_SEQ | TABLE_WINDOW, 0 },
        { model, 3, 0, 1 },
    };
    long rows0 = -1;
    int has_nul = size && memchr(data, 0, size) != NULL;
    for (size_t v = 0; v < sizeof specs / sizeof *specs; v++) {
        FILE *f = fmemopen(size ? (void *)data : (void *)"", size, "r");
        if (!f)
            return 0;
        table t;
        snitch_err e;
        e.msg[0] = 0;
        int rc = table_read_file(f, "fuzz.csv", &specs[v], &t, &e);
        fclose(f);
        if (rc < 0) {
            REQUIRE(!strncmp(e.msg, "fuzz.csv", 8));
            REQUIRE(t.nrows == 0 && !t.x && !t.classes);
            table_free(&t);
            continue;
        }
        check_table(&t, &specs[v], has_nul);
        /* The rows do not depend on the features chosen, unless a chosen
         * cell is what is broken; when both read, they agree. */
        if (v == 0)
            rows0 = (long)t.nrows;
        else if (rows0 >= 0)
            REQUIRE((long)t.nrows == rows0);
        REQUIRE(table_keep_labeled(&t, 2, &e) == 0);
        check_kept(&t);
        table_free(&t);
    }
    return 0;
}
