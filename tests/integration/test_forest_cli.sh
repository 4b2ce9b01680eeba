#!/bin/bash
# test_forest_cli.sh - train / cv / predict / inspect as a user meets them:
# a model learns the synthetic classes, files are deterministic, a pipe
# from extract works, and damaged models and tables are refused clearly.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. tests/integration/lib.sh
"$SNITCH" synth -o "$work/s.pcap" --flows 1500 --classes 6 --seed 5 2>/dev/null
"$SNITCH" extract -q -r "$work/s.pcap" --features stats,seq -o "$work/t.csv"
T="$work/t.csv"

expect train 0 "$SNITCH" train "$T" -o "$work/m.snm" --trees 40 --seed 3 --label-mode sni
has train-summary "$work/err" "6 classes"
expect inspect 0 "$SNITCH" inspect "$work/m.snm" --importance --tree 0 --dot "$work/tree.dot"
has inspect-kind "$work/out" "^kind +forest"
has inspect-42-features "$work/out" "^features +42:"
has inspect-label-mode "$work/out" "^labels +sni"
n_imp=$(awk '/^importance/{f=1; next} f && NF==2' "$work/out" | wc -l)
[ "$n_imp" -eq 42 ] && ok "importance-lists-42" || bad "importance-lists-42 ($n_imp)"
head -1 "$work/tree.dot" | grep -q '^digraph' && grep -q -- '->' "$work/tree.dot" && ok "dot-tree" || bad "dot-tree"
if command -v dot >/dev/null; then
    dot -Tsvg "$work/tree.dot" -o "$work/tree.svg" && ok "dot-renders" || bad "dot-renders"
fi

# determinism: same seed -> same bytes, for 1 and 2 threads
"$SNITCH" train "$T" -o "$work/m2.snm" --trees 40 --seed 3 --label-mode sni --threads 1 -q
cmp -s "$work/m.snm" "$work/m2.snm" && ok "train-deterministic-threads" || bad "train-deterministic-threads"
"$SNITCH" train "$T" -o "$work/m3.snm" --trees 40 --seed 4 -q
cmp -s "$work/m.snm" "$work/m3.snm" && bad "seed-changes-model" || ok "seed-changes-model"

# predict: every row, labels from the model, probabilities sane
expect predict 0 "$SNITCH" predict "$work/m.snm" "$T" -o "$work/p.csv" --proba
has predict-accuracy-reported "$work/err" "accuracy on those"
python3 - "$T" "$work/p.csv" <<'PY' && ok "predict-rows-and-probabilities" || bad "predict-rows-and-probabilities"
import csv, sys
t = list(csv.DictReader(open(sys.argv[1])))
p = list(csv.DictReader(open(sys.argv[2])))
assert len(t) == len(p), (len(t), len(p))
classes = sorted({r['label'] for r in t})
right = 0
for a, b in zip(t, p):
    assert a['flow_id'] == b['flow_id'] and a['sni'] == b['sni']
    probs = [float(b['p_' + c]) for c in classes]
    assert abs(sum(probs) - 1) < 1e-9, probs
    assert b['predicted'] in classes
    assert float(b['probability']) >= float(b['second_probability']) >= float(b['third_probability'])
    assert abs(float(b['probability']) - max(probs)) < 1e-12
    right += a['label'] == b['predicted']
assert right / len(t) > 0.9, right / len(t)   # training rows
PY
"$SNITCH" predict "$work/m.snm" "$T" -o "$work/p2.csv" --proba -q
cmp -s "$work/p.csv" "$work/p2.csv" && ok "predict-deterministic" || bad "predict-deterministic"
# a pipe straight from extract
"$SNITCH" extract -q -r "$work/s.pcap" --features stats -o - | "$SNITCH" predict "$work/m.snm" - -o "$work/p3.csv" -q
[ "$(wc -l <"$work/p3.csv")" -eq "$(wc -l <"$T")" ] && ok "extract-pipe-predict" || bad "extract-pipe-predict"

# cross-validation, JSON, confusion, sweep
expect cv 0 "$SNITCH" cv "$T" --folds 5 --trees 40 --json "$work/cv.json" --confusion "$work/conf.csv" --per-class
python3 - "$work/cv.json" "$work/conf.csv" <<'PY' && ok "cv-json-and-confusion" || bad "cv-json-and-confusion"
import csv, json, sys
j = json.load(open(sys.argv[1]))
r = j['results'][0]
assert r['classes'] == 6 and len(r['per_fold']) == 5 and len(r['per_class']) == 6
assert 0.6 < r['accuracy'] <= 1, r['accuracy']
rows = list(csv.reader(open(sys.argv[2])))
assert len(rows) == 7 and len(rows[0]) == 7
total = sum(int(x) for row in rows[1:] for x in row[1:])
diag = sum(int(rows[i][i]) for i in range(1, 7))
assert total == r['flows'] and abs(diag / total - r['accuracy']) < 1e-12
PY
has cv-per-class-table "$work/out" "support precision"
# class names with a comma and a quote stay one CSV field in the confusion matrix
python3 - "$T" "$work/q.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
li = rows[0].index('label')
for r in rows[1:]:
    r[li] = 'x,"' + r[li] + '"'
csv.writer(open(sys.argv[2], 'w', newline=''), lineterminator='\n').writerows(rows)
PY
"$SNITCH" cv "$work/q.csv" --folds 3 --trees 5 --confusion "$work/qconf.csv" -q >/dev/null
python3 - "$work/qconf.csv" <<'PY' && ok "confusion-quotes-class-names" || bad "confusion-quotes-class-names"
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
assert len(r) == 7 and all(len(x) == 7 for x in r), [len(x) for x in r]
assert all(x[0].startswith('x,"') for x in r[1:]) and r[0][1] == r[1][0]
PY
expect cv-sweep 0 "$SNITCH" cv "$T" --folds 3 --trees 10 --sweep-min-flows 100,240,1000
n_rows=$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+ +0\.' "$work/out")
[ "$n_rows" -eq 2 ] && ok "sweep-rows" || bad "sweep-rows ($n_rows)"
has sweep-skips-empty "$work/err" "min flows 1000 leaves"

# damaged models: refused with a clear message, never a crash
cp "$work/m.snm" "$work/flip.snm"
printf '\x55' | dd of="$work/flip.snm" bs=1 seek=200 conv=notrunc 2>/dev/null
expect corrupt-model 1 "$SNITCH" predict "$work/flip.snm" "$T" -o "$work/x.csv"
has corrupt-model-message "$work/err" "flip.snm: .*(checksum|damaged)"
head -c 100 "$work/m.snm" >"$work/short.snm"
expect truncated-model 1 "$SNITCH" inspect "$work/short.snm"
has truncated-model-message "$work/err" "short.snm"
expect not-a-model 1 "$SNITCH" inspect "$T"
has not-a-model-message "$work/err" "not a snitch model"
[ ! -e "$work/x.csv" ] && ok "no-output-on-bad-model" || bad "no-output-on-bad-model"

# tables the model cannot read
"$SNITCH" extract -q -r "$work/s.pcap" --features window -o "$work/w.csv"
expect missing-columns 1 "$SNITCH" predict "$work/m.snm" "$work/w.csv" -o "$work/x.csv"
has missing-column-named "$work/err" "missing feature column 'pkt_fwd_num'"
{ head -3 "$T"; head -4 "$T" | tail -1 | cut -d, -f1-20; } >"$work/ragged.csv"
expect ragged-table 1 "$SNITCH" train "$work/ragged.csv" -o "$work/x.snm"
has ragged-line "$work/err" "ragged.csv:4"
# column 14 is pkt_fwd_p25 (13 identity columns and pkt_fwd_num before it)
head -20 "$T" | awk -F, -v OFS=, 'NR == 3 { $14 = "abc" } { print }' >"$work/nonnum.csv"
expect non-numeric 1 "$SNITCH" train "$work/nonnum.csv" -o "$work/x.snm"
has non-numeric-line "$work/err" "nonnum.csv:3: column 'pkt_fwd_p25'"
head -20 "$T" | awk -F, -v OFS=, 'NR == 3 { $14 = "nan" } { print }' >"$work/nan.csv"
expect nan-cell 1 "$SNITCH" train "$work/nan.csv" -o "$work/x.snm"
has nan-cell-line "$work/err" "nan.csv:3"
: >"$work/empty.csv"
expect empty-table 1 "$SNITCH" train "$work/empty.csv" -o "$work/x.snm"
{ head -1 "$T"; grep ',www\.kabeto\.com,' "$T" | head -20; } >"$work/one.csv"
expect one-class 1 "$SNITCH" train "$work/one.csv" -o "$work/x.snm"
has one-class-message "$work/err" "only one class"
[ ! -e "$work/x.snm" ] && ok "no-model-on-bad-table" || bad "no-model-on-bad-table"
expect bad-max-features 2 "$SNITCH" train "$T" -o "$work/x.snm" --max-features half

summary
