/* label.h - turn an SNI into a class label (../shared/spec/FEATURES.md,
 * "Labels").
 *
 * Owns: labeler, the compiled labeling mode: sni (identity), clean (the
 * paper's: drop digits and '-', collapse dots, trim dots), domain (eTLD+1 by
 * the Public Suffix List, through libpsl) and rules:FILE (first matching
 * rule; file format in docs/rules.md).  A flow without SNI has the empty
 * label in every mode. */
#ifndef SNITCH_LABEL_H
#define SNITCH_LABEL_H

#include <stddef.h>

#include "util/err.h"

typedef enum label_mode {
    LABEL_SNI,
    LABEL_CLEAN,
    LABEL_DOMAIN,
    LABEL_RULES
} label_mode;

typedef struct labeler labeler;

/* spec: "sni", "clean", "domain" or "rules:FILE".  A bad spec, an unreadable
 * file or a bad rule gives NULL and an error naming FILE:LINE. */
labeler *labeler_new(const char *spec, snitch_err *e);
void labeler_free(labeler *l);
label_mode labeler_mode(const labeler *l);

/* The label of one SNI (sni_len bytes, already lower-cased by the TLS
 * parser) as a malloc'd NUL-terminated string; "" when there is no label.
 * NULL only when out of memory. */
char *labeler_apply(const labeler *l, const char *sni, size_t sni_len);

/* The paper's cleaning, alone: out gets at most len+1 bytes. */
void label_clean(const char *sni, size_t len, char *out);

#endif
