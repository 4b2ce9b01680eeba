/* model.h - a trained model as snitch saves it: what it reads, what it
 * answers, and the model itself.
 *
 * Owns: model (kind, feature names in the order the model reads them,
 * class names, the labeling mode its labels came from, a description of how
 * it was trained, and the kind's own object).  The file is the modelfile
 * container with a META section (this module's layout, below) and one
 * section per kind ("FRST" for a forest).  Loading validates META fully and
 * then hands the kind's section to its own validating loader.
 *
 * META layout (little-endian, strings = u32 length + bytes):
 *   u32 kind (1 = forest), str label_mode ("" if unknown),
 *   u32 nfeat, nfeat x str feature name,
 *   u32 nclasses, nclasses x str class name,
 *   u64 training rows, str description (free text: options used). */
#ifndef SNITCH_MODEL_H
#define SNITCH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "forest/forest.h"
#include "util/err.h"

typedef enum model_kind {
    MODEL_FOREST = 1
} model_kind;

typedef struct model {
    model_kind kind;
    char *label_mode;
    size_t nfeat;
    char **feat;
    size_t nclasses;
    char **classes;
    uint64_t train_rows;
    char *description;
    forest *forest;         /* kind == MODEL_FOREST */
} model;

const char *model_kind_name(model_kind k);

/* Build the file image (META + the kind's section) into out. */
int model_save(const model *m, mf_buf *out, snitch_err *e);

/* Read and validate a model file.  NULL with e ("PATH: ...") on any defect. */
model *model_load(const char *path, snitch_err *e);

/* Copy names into m (feat/classes); returns 0 or -1 on OOM. */
int model_set_names(model *m, const char *const *feat, size_t nfeat,
                    const char *const *classes, size_t nclasses);

/* Class probabilities for n rows whose features are in m->feat order. */
void model_predict_proba(const model *m, const float *x, size_t n, double *proba, int threads);

void model_free(model *m);

#endif
