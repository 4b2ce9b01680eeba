/* model.h - a trained model as snitch saves it: what it reads, what it
 * answers, and the model itself.
 *
 * Owns: model (kind, feature names in the order the model reads them,
 * class names, the labeling mode its labels came from, a description of how
 * it was trained, and the kind's own object).  The file is the modelfile
 * container with a META section (this module's layout, below) and one
 * section per kind: "FRST" for a forest, "NNET" for a network (nn/net.h),
 * "ENSM" for an ensemble.  Loading validates META fully and then hands the
 * kind's section to its own validating loader.
 *
 * META layout (little-endian, strings = u32 length + bytes):
 *   u32 kind (1 = forest, 2 = network, 3 = ensemble), str label_mode ("" if
 *   unknown), u32 nfeat, nfeat x str feature name,
 *   u32 nclasses, nclasses x str class name,
 *   u64 training rows, str description (free text: options used).
 *
 * A network reads its features as [steps][channels]: the model's feature
 * list is the sequence columns interleaved step by step (size_0, dir_0,
 * size_1, dir_1, ...).  An ensemble's feature list is the union of its
 * members' (in order of first use); each member is a complete model of its
 * own (forest or network, never an ensemble) with the same classes, and the
 * ensemble's probability is the weighted sum of the members'.
 *
 * ENSM layout: u32 members, then per member: f64 weight, u64 length, that
 * many bytes = the member's own model file image (validated the same way). */
#ifndef SNITCH_MODEL_H
#define SNITCH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "forest/forest.h"
#include "nn/net.h"
#include "util/err.h"

typedef enum model_kind {
    MODEL_FOREST = 1,
    MODEL_NET = 2,
    MODEL_ENSEMBLE = 3
} model_kind;

typedef struct model model;

struct model {
    model_kind kind;
    char *label_mode;
    size_t nfeat;
    char **feat;
    size_t nclasses;
    char **classes;
    uint64_t train_rows;
    char *description;
    forest *forest;         /* kind == MODEL_FOREST */
    nn_net *net;            /* kind == MODEL_NET */
    size_t nmembers;        /* kind == MODEL_ENSEMBLE: */
    model **members;        /*   the members (owned) */
    double *weights;        /*   their weights */
    size_t **member_cols;   /*   member feature j = this model's feature
                                 member_cols[i][j] (built by model_link) */
};

const char *model_kind_name(model_kind k);

/* Build the file image (META + the kind's section) into out. */
int model_save(const model *m, mf_buf *out, snitch_err *e);

/* Read and validate a model file.  NULL with e ("PATH: ...") on any defect. */
model *model_load(const char *path, snitch_err *e);
/* model_load with flags.  MODEL_LOAD_LEAN: for prediction only (forests,
 * members included, load lean: see FOREST_LOAD_LEAN); such a model cannot
 * be saved, and its forests have no importances or drawings. */
enum { MODEL_LOAD_LEAN = 1 };
model *model_load_flags(const char *path, int flags, snitch_err *e);
/* What model_load_flags tries first with MODEL_LOAD_LEAN: a forest model
 * file (META, then FRST, nothing else) read front to back through a window
 * (window: its first size in bytes, 0 for the default; see mf_stream),
 * never whole.  NULL, without a message, for anything else or any defect:
 * then model_load_flags reads it whole and says what is wrong. */
model *model_load_streamed(const char *path, int flags, size_t window);
/* The same in two steps, for a caller that sets up from the model's
 * description while its trees are read (snitch classify reads them in a
 * second thread while packets are read).  model_stream_begin: the model
 * with META's fields (kind, features, classes, label mode) and no forest
 * yet, in *m, or NULL (as model_load_streamed).  model_stream_end: reads
 * the forest into *m and checks the whole file: 0, or -1 (the model keeps
 * no forest, and META's fields turned out unconfirmed: free it and load
 * with model_load_flags, which says why).  Either way the stream is gone.
 * model_stream_abort: give up before the end, freeing the model too. */
typedef struct model_stream model_stream;
model_stream *model_stream_begin(const char *path, int flags, size_t window, model **m);
int model_stream_end(model_stream *ms);
void model_stream_abort(model_stream *ms);
/* The same from a file image in memory; name is used in messages. */
model *model_load_image(const uint8_t *p, size_t len, const char *name, snitch_err *e);

/* For an ensemble whose members are set: build feat as the union of the
 * members' features and the member_cols maps, and check that every member
 * has the ensemble's classes.  0 or -1 with e. */
int model_link(model *m, snitch_err *e);

/* Copy names into m (feat/classes); returns 0 or -1 on OOM. */
int model_set_names(model *m, const char *const *feat, size_t nfeat,
                    const char *const *classes, size_t nclasses);

/* Class probabilities for n rows whose features are in m->feat order:
 * proba[i * nclasses + k].  threads is the forest's (0 = one per core).
 * 0, or -1 with e (out of memory).  Not thread-safe for networks (they
 * keep work buffers in the model). */
int model_predict_proba(model *m, const float *x, size_t n, double *proba, int threads,
                        snitch_err *e);

void model_free(model *m);

#endif
