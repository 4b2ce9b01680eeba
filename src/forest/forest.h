/* forest.h - Random Forest classifier (CART, Gini), trained in C.
 *
 * Owns: forest (its trees and parameters) and its serialized form.  The
 * model family of scikit-learn's RandomForestClassifier: each tree grows on
 * a bootstrap sample (drawn with replacement, as per-row weights), every
 * split considers a fresh random subset of max_features features (more if
 * none of them splits the node), chooses the threshold with the best
 * weighted Gini decrease, halfway between two consecutive distinct values;
 * leaves hold class distributions; the forest's probability is the mean of
 * its trees'.  Trees train in parallel threads; tree t draws from its own
 * random stream derived from (seed, t), so a seed gives the same forest for
 * any thread count. */
#ifndef SNITCH_FOREST_H
#define SNITCH_FOREST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/modelfile.h"
#include "util/err.h"

enum { FOREST_SQRT = 0, FOREST_LOG2 = -1, FOREST_ALL = -2 };

typedef struct forest_params {
    int n_trees;            /* default 200 */
    int max_depth;          /* 0 = unlimited */
    int max_features;       /* > 0: that many; or FOREST_SQRT / LOG2 / ALL */
    int min_samples_leaf;   /* default 1 */
    int balanced;           /* class_weight='balanced' */
    uint64_t seed;
    int threads;            /* 0 = one per core */
} forest_params;

void forest_default_params(forest_params *p);

typedef struct forest forest;

/* Train on n rows of f features (row-major) with classes y[i] in 0..k-1.
 * progress (may be NULL) is called from the training threads, serialized,
 * after each tree.  NULL with e on bad input (n == 0, k < 1, a label out of
 * range) or out of memory. */
forest *forest_train(const float *x, size_t n, size_t f, const int32_t *y, int k,
                     const forest_params *p,
                     void (*progress)(void *ctx, int done, int total), void *ctx,
                     snitch_err *e);

/* Class probabilities of n rows: proba[i*k + c].  threads 0 = one per core. */
void forest_predict_proba(const forest *m, const float *x, size_t n, double *proba,
                          int threads);

size_t forest_nfeatures(const forest *m);
int forest_nclasses(const forest *m);
int forest_ntrees(const forest *m);
size_t forest_nnodes(const forest *m);

/* Mean decrease in impurity per feature (normalized per tree, averaged,
 * summing to 1 like scikit-learn's feature_importances_). */
void forest_importances(const forest *m, double *out);

/* Tree t in Graphviz dot form, nodes labeled with feature and class names
 * (either may be NULL: then f3 / class 2).  Returns 0 or -1 (bad t, write
 * error). */
int forest_tree_dot(const forest *m, int t, const char *const *features,
                    const char *const *classes, FILE *out);

/* Serialize (the FRST section of a model file).  Not for a lean forest
 * (forest_is_lean), which lacks what the file holds besides the trees'
 * shape. */
void forest_save(const forest *m, mf_buf *out);

/* forest_load flags.  FOREST_LOAD_LEAN: for prediction only; every field
 * is checked as usual, but the trees keep just what prediction walks (about
 * a third of the memory, and a faster load: what snitch classify needs).
 * forest_importances then gives zeros, forest_tree_dot* fail and
 * forest_save must not be called. */
enum { FOREST_LOAD_LEAN = 1 };

/* Load and validate every node: child indices inside the tree and forward
 * (no cycles), feature index < nfeat, finite thresholds, class
 * distributions of the right size with finite non-negative values.
 * NULL with e naming the tree and node on any defect. */
forest *forest_load(const uint8_t *p, size_t len, size_t nfeat, int nclasses, int flags,
                    snitch_err *e);
/* The same from a cursor over the section (a streaming one too: see
 * mf_stream), which it leaves after the forest's last byte. */
forest *forest_load_cur(mf_cur *c, size_t nfeat, int nclasses, int flags, snitch_err *e);
int forest_is_lean(const forest *m);

void forest_free(forest *m);

/* Tree t in Graphviz dot form, limited to max_depth levels below the root
 * (0 = the whole tree): an inner node at the limit gets one "(...)" child
 * standing for the subtree left out, so a figure of a deep tree stays
 * readable.  filled: nodes coloured by their majority class, stronger the
 * purer they are.  With more than 6 classes a node shows its top class's
 * share instead of every count.  Returns 0 or -1 (bad t or max_depth,
 * out of memory, write error). */
int forest_tree_dot_limited(const forest *m, int t, const char *const *features,
                            const char *const *classes, int max_depth, int filled, FILE *out);

#endif
