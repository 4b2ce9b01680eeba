#!/bin/bash
# bench/forest/run.sh - snitch cv against the reference forest
# (../shared/ref/ref_rf.py, scikit-learn RandomForestClassifier, n_jobs=-1)
# on the same tables, the same folds (snitch's, via --save-folds and
# ref_rf.py --train/--test per fold), the same trees and depth, in one run.
# Tables: a synthetic capture with 100 classes x 300 flows, and the public
# captures of ../shared/data/public (labels: registered domain, >= 3 flows).
# Prints accuracy (pooled over folds), mean per-fold macro F1, fit and
# predict seconds (summed over folds) and the ratios.
set -eu
cd "$(dirname "$0")/../.."
out="${BENCH_DIR:-bench/out}/forest"
SHARED="${SHARED:-../shared}"
TREES="${TREES:-200}"
FOLDS="${FOLDS:-10}"
mkdir -p "$out"
make -s snitch
if [ ! -f "$out/synth.csv" ]; then
    ./snitch synth -o "$out/synth.pcap" --flows 30000 --classes 100 --seed 3 --force
    ./snitch extract -q -r "$out/synth.pcap" --features stats -o "$out/synth.csv" --force
fi
tables="synth"
if [ -d "$SHARED/data/public/pcap" ]; then
    if [ ! -f "$out/public.csv" ]; then
        args=()
        for f in "$SHARED"/data/public/pcap/*; do args+=(-r "$f"); done
        # one continuous capture; files with a link type snitch does not read are left out
        ok=()
        for f in "$SHARED"/data/public/pcap/*; do
            ./snitch extract -q -r "$f" -o /dev/null 2>/dev/null && ok+=(-r "$f")
        done
        ./snitch extract -q "${ok[@]}" --features stats --label domain -o "$out/public.csv" --force
    fi
    tables="$tables public"
fi

run_table() {
    local name="$1" minf="$2"
    local t="$out/$name.csv" d="$out/$name.folds"
    rm -rf "$d"; mkdir -p "$d"
    ./snitch cv "$t" --folds "$FOLDS" --trees "$TREES" --seed 1 --min-flows "$minf" -q \
        --json "$d/ours.json" --save-folds "$d/folds.csv" --force >"$d/ours.txt"
    local k
    k=$(/usr/bin/python3 bench/forest/split_folds.py "$t" "$d/folds.csv" "$minf" "$d")
    for ((fo = 0; fo < k; fo++)); do
        /usr/bin/python3 "$SHARED/ref/ref_rf.py" --train "$d/train_$fo.csv" --test "$d/test_$fo.csv" \
            --trees "$TREES" --seed 1 --jobs -1 --json "$d/ref_$fo.json" >/dev/null 2>&1
    done
    /usr/bin/python3 - "$d" "$k" "$name" <<'PY'
import json, sys, statistics
d, k, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
o = json.load(open(d + '/ours.json'))['results'][0]
refs = [json.load(open('%s/ref_%d.json' % (d, i))) for i in range(k)]
n = sum(r['test_flows'] for r in refs)
r_acc = sum(r['accuracy'] * r['test_flows'] for r in refs) / n
r_f1 = statistics.mean(r['f1_macro'] for r in refs)
o_f1 = statistics.mean(f['macro_f1'] for f in o['per_fold'])
r_fit = sum(r['fit_s'] for r in refs); r_pred = sum(r['predict_s'] for r in refs)
print('%-8s %6d flows %4d classes %d folds' % (name, o['flows'], o['classes'], k))
print('  %-34s %9s %9s %9s %9s' % ('', 'accuracy', 'macro F1', 'fit s', 'predict s'))
print('  %-34s %9.4f %9.4f %9.2f %9.3f' % ('snitch cv (C, 2 threads)', o['accuracy'], o_f1, o['fit_seconds'], o['predict_seconds']))
print('  %-34s %9.4f %9.4f %9.2f %9.3f' % ('ref_rf.py (scikit-learn, n_jobs=-1)', r_acc, r_f1, r_fit, r_pred))
print('  accuracy difference %+.2f points; fit %.1fx faster; predict %.1fx faster' % (
    100 * (o['accuracy'] - r_acc), r_fit / o['fit_seconds'], r_pred / max(o['predict_seconds'], 1e-9)))
PY
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $TREES trees, max depth unlimited, max_features sqrt, seed 1"
for name in $tables; do
    if [ "$name" = public ]; then run_table public 3; else run_table "$name" 0; fi
done
