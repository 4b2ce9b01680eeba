#!/bin/bash
# test_neural.sh - the sequence networks and ensembles as a user meets them:
# train / inspect / predict / cv / classify with cnn_rnn, gru, cnn and
# ensembles, per-epoch progress, reproducibility for a seed, and clear
# errors for wrong models, tables and damaged model files.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. tests/integration/lib.sh
"$SNITCH" synth -o "$work/s.pcap" --flows 1200 --classes 6 --seed 8 2>/dev/null
"$SNITCH" extract -q -r "$work/s.pcap" --features stats,seq -o "$work/t.csv"
"$SNITCH" extract -q -r "$work/s.pcap" --features stats -o "$work/stats.csv"
"$SNITCH" extract -q -r "$work/s.pcap" --features seq --first 10 --n 10 -o "$work/seq10.csv"
T="$work/t.csv"
NET="--epochs 3 --seed 2"

# train a CNN-RNN: one progress line per epoch with loss, accuracy, seconds
expect train-cnn-rnn 0 "$SNITCH" train "$T" --model cnn_rnn --channel size $NET -o "$work/n.snm"
has epoch-lines "$work/err" "cnn_rnn/size epoch 3/3: loss [0-9.]+ acc [0-9.]+ +val_loss [0-9.]+ val_acc [0-9.]+ +[0-9.]+ s"
has train-summary "$work/err" "cnn_rnn/size: cnn_rnn, [0-9]+ weights"
expect inspect-net 0 "$SNITCH" inspect "$work/n.snm"
has inspect-kind "$work/out" "^kind +network"
has inspect-shape "$work/out" "cnn_rnn, 25 steps x 1 channel, 645[0-9]{3} weights"
has inspect-features "$work/out" "^features +25: size_0 size_1 size_2"
has inspect-standardization "$work/out" "channel 0 standardized \(mean [0-9.]+, sd [0-9.]+\)"
expect inspect-net-no-importance 2 "$SNITCH" inspect "$work/n.snm" --importance
has inspect-net-says-why "$work/err" "need a forest"

# the same seed gives the same file; another seed another one
"$SNITCH" train "$T" --model cnn_rnn/size $NET -o "$work/n2.snm" -q
cmp -s "$work/n.snm" "$work/n2.snm" && ok "net-deterministic" || bad "net-deterministic"
"$SNITCH" train "$T" --model cnn_rnn/size --epochs 3 --seed 3 -o "$work/n3.snm" -q
cmp -s "$work/n.snm" "$work/n3.snm" && bad "net-seed-matters" || ok "net-seed-matters"

# predict with the network: every row, better than chance (6 classes)
expect predict-net 0 "$SNITCH" predict "$work/n.snm" "$T" -o "$work/p.csv"
python3 - "$T" "$work/p.csv" <<'PY' && ok "predict-net-rows-and-accuracy" || bad "predict-net-rows-and-accuracy"
import csv, sys
t = list(csv.DictReader(open(sys.argv[1])))
p = list(csv.DictReader(open(sys.argv[2])))
assert len(t) == len(p), (len(t), len(p))
col = 'predicted' if 'predicted' in p[0] else [c for c in p[0] if 'pred' in c][0]
acc = sum(a['label'] == b[col] for a, b in zip(t, p)) / len(t)
assert acc > 0.5, acc
PY
expect predict-net-needs-seq 1 "$SNITCH" predict "$work/n.snm" "$work/stats.csv" -o "$work/p2.csv"
has predict-net-names-column "$work/err" "size_0"

# the other architectures and channels
expect train-iat-dir 0 "$SNITCH" train "$T" --model cnn_rnn --channel iat --dir --epochs 1 -o "$work/i.snm" -q
"$SNITCH" inspect "$work/i.snm" >"$work/out"
has iat-dir-two-channels "$work/out" "25 steps x 2 channels"
has iat-dir-features "$work/out" "^features +50: iat_0 dir_0 iat_1 dir_1"
has iat-default-dropout "$work/out" "dropout 0.5"
expect train-gru 0 "$SNITCH" train "$T" --model gru/payload --gru-units 24 --epochs 1 -o "$work/g.snm" -q
"$SNITCH" inspect "$work/g.snm" >"$work/out"
has gru-units "$work/out" "gru, 25 steps x 1 channel, [0-9]+ weights, dropout 0, 24 GRU units"
expect train-cnn 0 "$SNITCH" train "$T" --model cnn/size --dropout 0.2 --epochs 1 -o "$work/c.snm" -q
"$SNITCH" inspect "$work/c.snm" >"$work/out"
has cnn-kind "$work/out" "cnn, 25 steps x 1 channel, [0-9]+ weights, dropout 0.2"

# cross-validation of a network and of the paper's final ensemble
expect cv-net 0 "$SNITCH" cv "$T" --model cnn_rnn --channel size --folds 3 --epochs 2 --json "$work/cv.json" -q
has cv-net-header "$work/out" "snitch cv: cnn_rnn/size"
python3 - "$work/cv.json" <<'PY' && ok "cv-net-json" || bad "cv-net-json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j['spec'] == 'cnn_rnn/size', j['spec']
r = j['results'][0]
assert r['flows'] > 1000 and r['classes'] == 6 and len(r['per_fold']) == 3
assert 0.3 < r['accuracy'] <= 1, r['accuracy']
PY
A="ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat"
expect train-ensemble 0 "$SNITCH" train "$T" --model "$A" --trees 20 --epochs 1 -o "$work/e.snm" -q
expect inspect-ensemble 0 "$SNITCH" inspect "$work/e.snm" --importance
has ensemble-kind "$work/out" "^kind +ensemble"
has ensemble-forest-half "$work/out" "member 1 +weight 0.5000, forest of 20 trees"
has ensemble-cnn-sixth "$work/out" "member 4 +weight 0.1667, cnn_rnn"
has ensemble-importance-of-member "$work/out" "^  pkt_"
expect cv-ensemble 0 "$SNITCH" cv "$T" --model "ensemble:rf+cnn_rnn/size" --weights 3,1 --trees 20 --folds 3 --epochs 1 -q
has cv-ensemble-header "$work/out" "snitch cv: ensemble:rf\+cnn_rnn/size"
expect predict-ensemble 0 "$SNITCH" predict "$work/e.snm" "$T" -o "$work/pe.csv"
[ "$(wc -l <"$work/pe.csv")" -eq "$(wc -l <"$T")" ] && ok "predict-ensemble-rows" || bad "predict-ensemble-rows"

# classify with a network and with an ensemble: one verdict per flow
expect classify-net 0 "$SNITCH" classify -m "$work/n.snm" -r "$work/s.pcap" -o "$work/v.jsonl"
has classify-net-agreement "$work/err" "the model agrees on [0-9]+"
[ "$(wc -l <"$work/v.jsonl")" -eq 1200 ] && ok "classify-net-verdicts" || bad "classify-net-verdicts ($(wc -l <"$work/v.jsonl"))"
expect classify-ensemble 0 "$SNITCH" classify -m "$work/e.snm" -r "$work/s.pcap" -o "$work/ve.jsonl"
[ "$(wc -l <"$work/ve.jsonl")" -eq 1200 ] && ok "classify-ensemble-verdicts" || bad "classify-ensemble-verdicts"
# early decisions with a network trained on the first 10 packets
expect train-first10 0 "$SNITCH" train "$work/seq10.csv" --model gru/size --gru-units 16 --epochs 1 -o "$work/g10.snm" -q
expect classify-after-10 0 "$SNITCH" classify -m "$work/g10.snm" --after 10 -r "$work/s.pcap" -o "$work/v10.jsonl"
python3 - "$work/v10.jsonl" <<'PY' && ok "classify-after-10-early" || bad "classify-after-10-early"
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])]
early = [x for x in v if x['early']]
assert len(v) == 1200 and early and all(x['packets'] == 10 for x in early)
PY

# wrong models, options and files
expect bad-model 2 "$SNITCH" train "$T" --model lstm -o "$work/x.snm"
has bad-model-says "$work/err" "unknown model 'lstm'"
expect bad-channel 2 "$SNITCH" train "$T" --model cnn_rnn --channel bytes -o "$work/x.snm"
expect channel-with-rf 2 "$SNITCH" train "$T" --channel size -o "$work/x.snm"
expect weights-need-ensemble 2 "$SNITCH" cv "$T" --model cnn_rnn/size --weights 1,2
expect weights-count 2 "$SNITCH" cv "$T" --model "ensemble:rf+cnn_rnn/size" --weights 1,2,3
has weights-count-says "$work/err" "one per member"
expect net-on-stats-table 1 "$SNITCH" train "$work/stats.csv" --model cnn_rnn/size -o "$work/x.snm"
has net-on-stats-says "$work/err" "no sequence columns"
[ ! -e "$work/x.snm" ] && ok "no-file-on-failure" || bad "no-file-on-failure"
# a NaN weight behind a valid checksum: refused, naming the weight
python3 - "$work/n.snm" "$work/nan.snm" <<'PY'
import hashlib, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
body = b[:-32]
body[len(body) - 40:len(body) - 36] = struct.pack('<f', float('nan'))
open(sys.argv[2], 'wb').write(bytes(body) + hashlib.sha256(bytes(body)).digest())
PY
expect nan-weight-refused 1 "$SNITCH" predict "$work/nan.snm" "$T" -o "$work/x.csv"
has nan-weight-says "$work/err" "nan.snm: NNET: weight [0-9]+ is not a finite number"
head -c 5000 "$work/e.snm" >"$work/trunc.snm"
expect truncated-ensemble 1 "$SNITCH" inspect "$work/trunc.snm"
has truncated-names-file "$work/err" "trunc.snm"
summary
