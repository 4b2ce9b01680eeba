#!/bin/bash
# bench/neural/run.sh - snitch cv --model cnn_rnn against the reference
# CNN-RNN (../shared/ref/ref_nn.py, PyTorch on the CPU with the same number
# of threads) on the same sequence table and the same folds (snitch's, via
# --save-folds and bench/neural/ref_folds.py), in one run: accuracy and
# macro F1 of both, seconds per epoch of both (training incl. the
# validation pass, divided by the epochs run).  Then, snitch only, on the
# same folds: the forest alone against the paper's final ensemble
# (1/2 forest + 1/6 each CNN-RNN on size, payload, iat).
#
# Environment: FLOWS (default 3000), CLASSES (20), FOLDS (5), EPOCHS
# (max epochs, 20), CHANNEL (size), THREADS (2), SHARED (../shared).
set -eu
cd "$(dirname "$0")/../.."
out="${BENCH_DIR:-bench/out}/neural"
SHARED="${SHARED:-../shared}"
FLOWS="${FLOWS:-3000}"; CLASSES="${CLASSES:-20}"; FOLDS="${FOLDS:-5}"
EPOCHS="${EPOCHS:-20}"; CHANNEL="${CHANNEL:-size}"; THREADS="${THREADS:-2}"
SNITCH="${SNITCH:-./snitch}"
mkdir -p "$out"
[ "$SNITCH" = ./snitch ] && make -s snitch
if [ ! -f "$out/t.csv" ]; then
    "$SNITCH" synth -o "$out/s.pcap" --flows "$FLOWS" --classes "$CLASSES" --seed 4 --force 2>/dev/null
    "$SNITCH" extract -q -r "$out/s.pcap" --features stats,seq -o "$out/t.csv" --force
fi
common=(--folds "$FOLDS" --seed 1 --epochs "$EPOCHS" --patience 5 --batch 64 --dropout 0)
export OPENBLAS_NUM_THREADS="$THREADS"

echo "== snitch cv --model cnn_rnn/$CHANNEL"
"$SNITCH" cv "$out/t.csv" --model "cnn_rnn/$CHANNEL" "${common[@]}" --json "$out/ours.json" \
    --save-folds "$out/folds.csv" --force >"$out/ours.txt" 2>"$out/ours.err"
echo "== ref_nn.py (PyTorch) on the same folds"
/usr/bin/python3 bench/neural/ref_folds.py "$out/t.csv" "$out/folds.csv" "$out/ref.json" \
    --shared "$SHARED" --arch cnn_rnn --channel "$CHANNEL" --epochs "$EPOCHS" --patience 5 \
    --dropout 0 --seed 1 --threads "$THREADS" 2>"$out/ref.err"
echo "== snitch cv: forest alone and the paper's ensemble, same folds"
"$SNITCH" cv "$out/t.csv" --model rf --folds "$FOLDS" --seed 1 --json "$out/rf.json" --force -q >/dev/null
"$SNITCH" cv "$out/t.csv" --model ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat \
    --folds "$FOLDS" --seed 1 --epochs "$EPOCHS" --patience 5 --json "$out/ens.json" --force \
    >/dev/null 2>"$out/ens.err"

/usr/bin/python3 - "$out" <<'PY'
import json, re, sys
d = sys.argv[1]
o = json.load(open(d + '/ours.json'))['results'][0]
r = json.load(open(d + '/ref.json'))
ep = [float(m.group(1)) for m in re.finditer(r'epoch \d+/\d+: .* ([0-9.]+) s', open(d + '/ours.err').read())]
o_ep = sum(ep) / len(ep)
r_ep = r['train_s_total'] / r['epochs_total']
rf = json.load(open(d + '/rf.json'))['results'][0]
en = json.load(open(d + '/ens.json'))['results'][0]
print('table %s: %d flows, %d classes, %d folds (identical for both)' % (d + '/t.csv', o['flows'], o['classes'], len(o['per_fold'])))
print('  %-28s %9s %9s %8s %10s' % ('', 'accuracy', 'macro F1', 'epochs', 's/epoch'))
print('  %-28s %9.4f %9.4f %8d %10.2f' % ('snitch cnn_rnn', o['accuracy'], o['macro_f1'], len(ep), o_ep))
print('  %-28s %9.4f %9.4f %8d %10.2f' % ('ref_nn.py cnn_rnn (torch %s)' % r['torch'], r['accuracy'], r['macro_f1'], r['epochs_total'], r_ep))
print('  accuracy difference %+.2f points (target: within 2); epoch time ratio ref/snitch %.2fx (target >= 1)' % (
    100 * (o['accuracy'] - r['accuracy']), r_ep / o_ep))
print('  %-28s %9.4f %9.4f' % ('snitch forest (200 trees)', rf['accuracy'], rf['macro_f1']))
print('  %-28s %9.4f %9.4f' % ('snitch 1/2 rf + 1/6 cnn_rnn x3', en['accuracy'], en['macro_f1']))
print('  ensemble - forest: %+.2f points accuracy (target > 0)' % (100 * (en['accuracy'] - rf['accuracy'])))
PY
