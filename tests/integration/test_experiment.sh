#!/bin/bash
# test_experiment.sh - snitch experiment: the numbers in results.json are
# exactly what snitch cv gives for the same model, threshold and seed;
# table1.txt has the paper's layout; a second run resumes without redoing
# finished cells; a run directory made with other options is refused
# unless --force; --packets runs seed 000's per-packet study.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. tests/integration/lib.sh
"$SNITCH" synth -o "$work/s.pcap" --flows 500 --classes 5 --seed 12 2>/dev/null
R="$work/run"
XP=(--models B,K,F --min-flows 0,96 --folds 3 --epochs 1 --trees 25 --seed 4)

expect experiment 0 "$SNITCH" experiment -r "$work/s.pcap" -o "$R" "${XP[@]}"
for f in results.json table1.txt flows.csv forest.snm config.txt cells/B_0.json cells/K_96.json \
         cells/F_96.confusion.csv; do
    [ -s "$R/$f" ] && ok "writes-$f" || bad "writes-$f"
done
has table1-accuracy-block "$R/table1.txt" "^Accuracy"
has table1-f1-block "$R/table1.txt" "^F1-Score"
has table1-header "$R/table1.txt" "^0 / 5 +96 / 3 "
has table1-cells "$R/table1.txt" "^[0-9]+\.[0-9]% [BKF] +[0-9]+\.[0-9]% [BKF]"
has table1-legend "$R/table1.txt" "^- A: Ensemble B \+ C"

# the same numbers as snitch cv, model by model
"$SNITCH" extract -q -r "$work/s.pcap" --features stats,seq --label clean -o "$work/t.csv"
"$SNITCH" cv "$work/t.csv" --model cnn_rnn/size --min-flows 96 --folds 3 --epochs 1 --seed 4 \
    --json "$work/k.json" -q >/dev/null 2>&1
"$SNITCH" cv "$work/t.csv" --model rf --folds 3 --trees 25 --seed 4 --json "$work/b.json" -q >/dev/null
"$SNITCH" cv "$work/t.csv" --model ensemble:cnn_rnn/size+cnn_rnn/iat --min-flows 96 --folds 3 \
    --epochs 1 --seed 4 --json "$work/f.json" -q >/dev/null 2>&1
python3 - "$R/results.json" "$work" <<'PY' && ok "results-equal-cv" || bad "results-equal-cv"
import json, sys
res = json.load(open(sys.argv[1]))
cells = {(c['model'], c['min_flows']): c for c in res['cells']}
assert len(cells) == 6, sorted(cells)
for model, t, f in (('K', 96, 'k'), ('B', 0, 'b'), ('F', 96, 'f')):
    cv = json.load(open('%s/%s.json' % (sys.argv[2], f)))['results'][0]
    c = cells[(model, t)]
    for key in ('flows', 'classes', 'accuracy', 'macro_precision', 'macro_recall', 'macro_f1'):
        assert c[key] == cv[key], (model, t, key, c[key], cv[key])
    assert [p['recall'] for p in c['per_class']] == [p['recall'] for p in cv['per_class']]
assert [m['id'] for m in res['models']] == ['B', 'K', 'F']
assert res['thresholds'][0] == {'min_flows': 0, 'classes': 5, 'flows': res['thresholds'][0]['flows']}
assert res['forest_model'] == 'forest.snm' and res['kind'] == 'flows'
PY

# the report draws this run (the report's own test covers the page in depth)
if command -v gnuplot >/dev/null; then
    expect report-of-run 0 "$SNITCH" report "$R" -o "$work/report.html"
    n_svg=$(grep -o '<svg' "$work/report.html" | wc -l)
    [ "$n_svg" -ge 6 ] && ok "report-has-figures" || bad "report-has-figures ($n_svg)"
    has report-table1-model "$work/report.html" "CNN-RNN \(Packet\)"
else
    echo "SKIP report of the run: gnuplot not installed"
fi

# resume: nothing recomputed, the same results
cp "$R/results.json" "$work/first.json"
touch -d '2001-01-01' "$R/cells/K_96.json"
expect resume 0 "$SNITCH" experiment -r "$work/s.pcap" -o "$R" "${XP[@]}"
has resume-says "$work/err" "resuming in"
n_kept=$(grep -c ": kept" "$work/err")
[ "$n_kept" -eq 6 ] && ok "resume-keeps-all-cells" || bad "resume-keeps-all-cells ($n_kept)"
[ "$(stat -c %Y "$R/cells/K_96.json")" -lt 1000000000 ] && ok "resume-did-not-rewrite" || bad "resume-did-not-rewrite"
cmp -s "$R/results.json" "$work/first.json" && ok "resume-same-results" || bad "resume-same-results"
# an interrupted run: a missing cell is computed, the others kept
rm "$R/cells/F_0.json"
expect resume-missing-cell 0 "$SNITCH" experiment -r "$work/s.pcap" -o "$R" "${XP[@]}"
n_kept=$(grep -c ": kept" "$work/err")
[ "$n_kept" -eq 5 ] && [ -s "$R/cells/F_0.json" ] && ok "resume-computes-missing" || bad "resume-computes-missing ($n_kept)"

# other options into the same directory: refused, then --force starts over
cp "$R/results.json" "$work/before.json"
expect other-options-refused 1 "$SNITCH" experiment -r "$work/s.pcap" -o "$R" --models B --min-flows 0 --folds 3 --trees 10
has other-options-says "$work/err" "other options"
cmp -s "$R/results.json" "$work/before.json" && ok "refused-run-left-files" || bad "refused-run-left-files"
# the same options over a capture rewritten since: refused as well
"$SNITCH" synth -o "$work/s2.pcap" --flows 500 --classes 5 --seed 12 2>/dev/null
cp "$R/config.txt" "$work/config.before"
touch -d '2002-02-02' "$work/s.pcap"
expect changed-capture-refused 1 "$SNITCH" experiment -r "$work/s.pcap" -o "$R" "${XP[@]}"
has changed-capture-says "$work/err" "other options"
cmp -s "$R/config.txt" "$work/config.before" && ok "refused-config-kept" || bad "refused-config-kept"
expect force-starts-over 0 "$SNITCH" experiment -r "$work/s.pcap" -o "$R" --models B --min-flows 0 --folds 3 --trees 10 --force
[ ! -e "$R/cells/K_96.json" ] && ok "force-removed-old-cells" || bad "force-removed-old-cells"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert len(r['cells']) == 1" "$R/results.json" &&
    ok "force-new-results" || bad "force-new-results"

# bad options
expect bad-model-id 2 "$SNITCH" experiment -r "$work/s.pcap" -o "$work/r2" --models B,Z
expect no-output 2 "$SNITCH" experiment -r "$work/s.pcap"
expect bad-capture 1 "$SNITCH" experiment -r "$work/missing.pcap" -o "$work/r3" --models B
has bad-capture-names-file "$work/err" "missing.pcap"

# seed 000's study: per-packet window features, a forest of depth 15
"$SNITCH" synth -o "$work/two.pcap" --flows 200 --classes 2 --seed 2 2>/dev/null
expect packets 0 "$SNITCH" experiment --packets -r "$work/two.pcap" -o "$work/pk" --folds 3 --trees 20
python3 - "$work/pk/results.json" <<'PY' && ok "packets-results" || bad "packets-results"
import json, sys
r = json.load(open(sys.argv[1]))
assert r['kind'] == 'packets' and r['packets_table'] == 'packets.csv'
assert 'max_depth=15' in r['options'], r['options']
assert len(r['cells']) == 1 and r['cells'][0]['classes'] == 2
assert r['cells'][0]['flows'] > 1000          # rows are packets
assert 0.5 < r['cells'][0]['accuracy'] <= 1
PY
summary
