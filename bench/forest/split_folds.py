#!/usr/bin/python3
"""split_folds.py TABLE.csv FOLDS.csv MIN_FLOWS OUTDIR - write OUTDIR/train_K.csv
and OUTDIR/test_K.csv for every fold K of snitch cv --save-folds, so the
reference forest (ref_rf.py --train/--test) runs on exactly snitch's folds.
Rows are selected as snitch cv selects them: non-empty label, and (with
MIN_FLOWS) labels with at least that many rows, in file order."""
import collections
import csv
import os
import sys

table, folds_path, min_flows, outdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = list(csv.reader(open(table, newline='')))
header, data = rows[0], rows[1:]
li = header.index('label')
count = collections.Counter(r[li] for r in data if r[li])
kept = [r for r in data if r[li] and count[r[li]] >= max(min_flows, 1)]
folds = list(csv.DictReader(open(folds_path, newline='')))
assert len(folds) == len(kept), (len(folds), len(kept))
k = max(int(f['fold']) for f in folds) + 1
for fo in range(k):
    with open(os.path.join(outdir, 'train_%d.csv' % fo), 'w', newline='') as tr, \
            open(os.path.join(outdir, 'test_%d.csv' % fo), 'w', newline='') as te:
        wtr, wte = csv.writer(tr, lineterminator='\n'), csv.writer(te, lineterminator='\n')
        wtr.writerow(header)
        wte.writerow(header)
        for r, f in zip(kept, folds):
            assert f['label'] == r[li]
            (wte if int(f['fold']) == fo else wtr).writerow(r)
print(k)
