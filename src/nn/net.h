/* net.h - the sequence classifiers of seed 002, assembled from the layers,
 * with input standardization, training with early stopping, prediction
 * and (de)serialization.
 *
 * Owns: nn_net (its configuration, the per-channel standardization taken
 * from the training data, the layer chain) and the NNET section of a model
 * file.  Architectures (all 'valid' convolutions, as Keras' default):
 *   cnn_rnn  conv1d(C,200,3) bn relu conv1d(200,400,3) bn relu gru(400,200)
 *            dense(200,200) relu dropout dense(200,K)
 *   gru      gru(C,U) gru(U,U) dropout dense(U,K)      (U = 159, the paper's)
 *   cnn      conv1d(C,200,3) bn relu conv1d(200,400,3) bn relu flatten
 *            dropout dense(400*(L-4),K)
 * Input rows are [steps][channels] raw sequence values (one channel family,
 * optionally direction as a second channel).  Every channel flagged in
 * `standardize` is z-scored with the training share's mean and population
 * deviation over all positions, padding included (as the reference); the
 * direction channel is left as -1/0/1.  The numbers are kept in the model.
 *
 * Training: Adam, mini-batches (default 64) drawn in a seeded shuffled
 * order, sparse categorical cross-entropy; a stratified share of the rows
 * (default 10 %) is held out, the validation loss is computed after every
 * epoch, training stops once it has not improved for `patience` epochs,
 * and the best epoch's weights (and batchnorm statistics) are restored.
 * The same seed gives the same network.  Not thread-safe: a net keeps its
 * work buffers, so one net is used by one thread at a time. */
#ifndef SNITCH_NN_NET_H
#define SNITCH_NN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "model/modelfile.h"
#include "nn/sequential.h"
#include "util/err.h"

#define NN_NET_MAX_CHANNELS 4

typedef enum nn_arch { NN_ARCH_CNN_RNN = 1, NN_ARCH_GRU = 2, NN_ARCH_CNN = 3 } nn_arch;

const char *nn_arch_name(nn_arch a);
/* "cnn_rnn", "gru", "cnn" -> arch; 0 if unknown. */
nn_arch nn_arch_parse(const char *s);

typedef struct nn_net_config {
    nn_arch arch;
    size_t steps;               /* sequence length (>= 5 for the convolutions) */
    size_t channels;            /* 1..NN_NET_MAX_CHANNELS */
    size_t classes;             /* >= 2 */
    float dropout;              /* rate in [0, 1), 0 = no dropout layer effect */
    size_t units;               /* gru baseline hidden units (default 159) */
    uint8_t standardize[NN_NET_MAX_CHANNELS];   /* 1 = z-score this channel */
} nn_net_config;

typedef struct nn_train_params {
    int max_epochs;             /* default 50 */
    int patience;               /* epochs without a better validation loss; default 5 */
    double val_share;           /* default 0.1; 0 = no early stopping */
    size_t batch;               /* default 64 */
    float lr;                   /* default 1e-3 */
    float bn_momentum;          /* default 0.9 (PyTorch's, as the reference) */
    uint64_t seed;
} nn_train_params;

void nn_train_default_params(nn_train_params *p);

/* What one epoch did, for progress reports. */
typedef struct nn_epoch_info {
    int epoch, max_epochs;
    double train_loss, train_acc;
    double val_loss, val_acc;   /* NaN without a validation share */
    double seconds;             /* this epoch */
    int best;                   /* this epoch is the best so far */
} nn_epoch_info;

typedef void (*nn_epoch_cb)(void *ctx, const nn_epoch_info *info);

typedef struct nn_train_result {
    int epochs;                 /* epochs run */
    int best_epoch;             /* weights kept from this epoch (1-based) */
    double best_val_loss;
    double seconds;
} nn_train_result;

typedef struct nn_net {
    nn_net_config cfg;
    float mean[NN_NET_MAX_CHANNELS], sd[NN_NET_MAX_CHANNELS];
    nn_seq seq;
    nn_tensor in;               /* standardized batch */
} nn_net;

/* A fresh network with weights drawn from seed.  NULL with e on a bad
 * configuration or out of memory. */
nn_net *nn_net_new(const nn_net_config *c, uint64_t seed, snitch_err *e);

/* Train on n rows x[n][steps][channels] (raw values) with classes y in
 * 0..classes-1.  cb (may be NULL) is called after every epoch. */
int nn_net_train(nn_net *m, const float *x, const int32_t *y, size_t n,
                 const nn_train_params *p, nn_epoch_cb cb, void *ctx,
                 nn_train_result *res, snitch_err *e);

/* Class probabilities (softmax) of n raw rows: proba[i*classes + k]. */
int nn_net_predict_proba(nn_net *m, const float *x, size_t n, double *proba,
                         snitch_err *e);

/* The NNET section: configuration, standardization, every weight and the
 * batchnorm running statistics. */
void nn_net_save(const nn_net *m, mf_buf *out);
/* Validate (configuration in range, exact length for it, finite weights,
 * positive deviations, non-negative variances) and build.  NULL with e
 * naming the defect and its byte offset. */
nn_net *nn_net_load(const uint8_t *p, size_t len, snitch_err *e);

/* Trainable scalars (for messages). */
size_t nn_net_nparams(const nn_net *m);

void nn_net_free(nn_net *m);

#endif
