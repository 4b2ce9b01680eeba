/* vector.h - a model's feature vector for one flow.
 *
 * Owns: feat_map, the translation from a model's feature names (contract
 * names: the 42 statistics, size_N/payload_N/iat_N/dir_N) to the values
 * features.c computes, so a live flow can be fed to a model trained on a
 * table.  Window features describe packets, not flows: a model trained on
 * them cannot classify flows, and feat_map_build says so. */
#ifndef SNITCH_VECTOR_H
#define SNITCH_VECTOR_H

#include <stddef.h>

#include "features/features.h"
#include "util/err.h"

typedef struct feat_map {
    size_t nfeat;
    int *src;           /* index into [stats (42) | seq (4 * seq_n)] */
    int need_stats;
    int seq_n;          /* 0 when no sequence feature is used */
    double *buf;        /* scratch: 42 + 4 * seq_n values */
} feat_map;

/* Returns 0, or -1 with e naming the first name it cannot compute. */
int feat_map_build(feat_map *m, char *const *names, size_t n, snitch_err *e);

/* Fill out[nfeat] for the flow whose counted packets are `data`.  Returns
 * 0 or -1 when out of memory. */
int feat_map_vector(feat_map *m, feat_ws *ws, const feat_view *data, float *out);

void feat_map_free(feat_map *m);

#endif
