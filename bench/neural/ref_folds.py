#!/usr/bin/python3
"""ref_folds.py TABLE.csv FOLDS.csv OUT.json [--arch A] [--channel C] [--with-dir]
[--dropout R] [--epochs E] [--patience P] [--seed S] [--threads T]

The reference sequence models (../shared/ref/ref_nn.py, PyTorch) on
exactly snitch's folds (from snitch cv --save-folds): ref_nn.py draws its
own folds, so this driver imports its training function (fit_predict) and
feeds it snitch's train/test split of every fold, seeded seed + fold as
ref_nn.py does.  Writes pooled accuracy / macro metrics and, per fold, the
epochs run and training seconds."""
import argparse
import collections
import json
import os
import sys

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

ap = argparse.ArgumentParser()
ap.add_argument('table')
ap.add_argument('folds')
ap.add_argument('out')
ap.add_argument('--shared', default=os.environ.get('SHARED', '../shared'))
ap.add_argument('--arch', default='cnn_rnn')
ap.add_argument('--channel', default='size')
ap.add_argument('--with-dir', action='store_true')
ap.add_argument('--dropout', type=float, default=0.0)
ap.add_argument('--epochs', type=int, default=50)
ap.add_argument('--patience', type=int, default=5)
ap.add_argument('--batch', type=int, default=64)
ap.add_argument('--val-frac', type=float, default=0.1)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--threads', type=int, default=os.cpu_count())
a = ap.parse_args()
sys.path.insert(0, os.path.join(a.shared, 'ref'))
import ref_nn  # noqa: E402

torch.set_num_threads(a.threads)
df = pd.read_csv(a.table, dtype={'sni': str, 'label': str, 'src_ip': str, 'dst_ip': str,
                                 'first_ts': str}, keep_default_na=False)
df = df[df['label'] != ''].reset_index(drop=True)
folds = pd.read_csv(a.folds, dtype={'label': str}, keep_default_na=False)
assert len(folds) == len(df), (len(folds), len(df))
assert (folds['label'].to_numpy() == df['label'].to_numpy()).all()
labels, y = np.unique(df['label'].to_numpy(), return_inverse=True)
k = len(labels)
X = ref_nn.seq_array(df, a.channel, a.with_dir)
fold = folds['fold'].to_numpy()
pred = np.full(len(y), -1)
info = []
for fo in range(fold.max() + 1):
    tr, te = np.where(fold != fo)[0], np.where(fold == fo)[0]
    p, inf = ref_nn.fit_predict(a, X[tr], y[tr], X[te], k, a.seed + fo)
    pred[te] = p.argmax(1)
    inf['fold'] = int(fo)
    inf['accuracy'] = float(accuracy_score(y[te], pred[te]))
    info.append(inf)
    print('ref fold %d: epochs=%d train=%.1fs acc=%.4f' % (fo, inf['epochs'], inf['train_s'],
          inf['accuracy']), file=sys.stderr)
pr, rc, f1, _ = precision_recall_fscore_support(y, pred, average='macro', zero_division=0)
res = dict(tool='ref_nn.py fit_predict on snitch folds', torch=torch.__version__,
           threads=torch.get_num_threads(), arch=a.arch, channel=a.channel, with_dir=a.with_dir,
           flows=int(len(y)), classes=int(k), accuracy=float(accuracy_score(y, pred)),
           macro_precision=float(pr), macro_recall=float(rc), macro_f1=float(f1),
           epochs_total=int(sum(i['epochs'] for i in info)),
           train_s_total=float(sum(i['train_s'] for i in info)), per_fold=info)
json.dump(res, open(a.out, 'w'), indent=1)
