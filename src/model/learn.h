/* learn.h - what to train (a model spec) and training it on table rows.
 *
 * Owns: model_spec (parsed from the text users write), the choice of the
 * table columns each kind reads, and model_train, the one place that turns
 * (spec, table, rows) into a model -- used by train, cv and experiment
 * alike, so every command trains the same thing the same way.
 *
 * Spec grammar:
 *   member   = "rf" | ARCH "/" CHANNEL [ "+dir" ] [ "*" WEIGHT ]
 *   spec     = member | "ensemble:" member { "+" member }
 *   ARCH     = cnn_rnn | gru | cnn;   CHANNEL = size | payload | iat
 * e.g. "cnn_rnn/size+dir", "ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat".
 * Ensemble weights not given: with a forest and networks, the forests
 * share 1/2 and the networks the other 1/2 (the paper's final model:
 * 1/2 forest + 1/6 each CNN-RNN); otherwise equal.  Given weights are
 * normalized to sum to 1.
 *
 * Columns: a forest reads the 42 statistics when the table has them, else
 * the window features, else the sequences (as the reference), or the
 * families asked for; a network reads CHANNEL_0..CHANNEL_{n-1} (and dir_i
 * interleaved after each step with +dir). */
#ifndef SNITCH_LEARN_H
#define SNITCH_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "forest/forest.h"
#include "model/model.h"
#include "nn/net.h"
#include "table/table.h"
#include "util/err.h"

#define MODEL_SPEC_MAX 16

typedef struct member_spec {
    model_kind kind;            /* MODEL_FOREST or MODEL_NET */
    nn_arch arch;
    char channel[8];            /* size, payload, iat */
    int dir;
    double weight;              /* < 0: not given */
} member_spec;

typedef struct model_spec {
    int ensemble;
    size_t n;
    member_spec m[MODEL_SPEC_MAX];
} model_spec;

/* Parse a spec; -1 with e saying what is wrong where. */
int model_spec_parse(const char *s, model_spec *out, snitch_err *e);
/* Canonical text of a spec (or of member i when i >= 0). */
void model_spec_text(const model_spec *s, int i, char *buf, size_t len);
/* Does the spec train any network? */
int model_spec_has_net(const model_spec *s);

/* Progress of a training run (any callback may be NULL). */
typedef struct learn_progress {
    void (*tree)(void *ctx, const char *member, int done, int total);
    void (*epoch)(void *ctx, const char *member, const nn_epoch_info *info);
    void *ctx;
} learn_progress;

typedef struct learn_params {
    forest_params fp;
    unsigned forest_families;   /* TABLE_* bits; 0 = stats, else window, else seq */
    nn_train_params tp;
    float dropout;              /* < 0: 0.5 for iat (the paper), 0 otherwise */
    size_t gru_units;           /* baseline GRU; default 159 (paper's figure 4) */
} learn_params;

void learn_default_params(learn_params *p);

/* Table columns member m reads, as indices into t->feat; *names gets the
 * model's feature names (pointers into t->feat).  Both malloc'd.  -1 with
 * e naming what the table lacks. */
int learn_columns(const member_spec *m, const learn_params *p, const table *t, size_t **cols,
                  const char ***names, size_t *n, snitch_err *e);

/* Train spec on rows[0..n) of t with classes y[i] (0..k-1, already
 * remapped by the caller) named classes[0..k).  seed_offset is added to
 * the networks' seeds (cv passes the fold number, as the reference).
 * Returns the model (its label_mode, description unset) or NULL with e. */
model *model_train(const model_spec *s, const learn_params *p, const table *t,
                   const size_t *rows, size_t n, const int32_t *y, int k,
                   char *const *classes, uint64_t seed_offset, const learn_progress *pg,
                   snitch_err *e);

/* Gather rows[0..n) of t into x (n x m->nfeat) in the model's feature
 * order; -1 with e if the table lacks a column the model reads. */
int learn_gather(const model *m, const table *t, const size_t *rows, size_t n, float *x,
                 snitch_err *e);

#endif
