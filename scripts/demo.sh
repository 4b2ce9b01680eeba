#!/bin/sh
# demo.sh - the main job on generated sample data, no network: write a
# synthetic capture of TLS flows of 12 services, extract the labeled feature
# tables, cross-validate and train the forest, a CNN-RNN and the paper's
# ensemble, classify the capture, run a small experiment and draw its
# report.  Run by `make demo`.
set -e
cd "$(dirname "$0")/.."
D=demo
mkdir -p $D
echo "== 1. a synthetic capture: 3000 TLS flows of 12 services (snitch synth)"
./snitch synth -o $D/sample.pcap --flows 3000 --classes 12 --seed 1 --truth $D/truth.csv --force
echo
echo "== 2. flows -> 42 statistics + first-25-packet sequences, labeled by SNI (snitch extract)"
./snitch extract -r $D/sample.pcap --features stats,seq --label clean -o $D/flows.csv --force
echo
echo "== 3. per-packet window features, the YouTube/Spotify study's table"
./snitch extract -r $D/sample.pcap --features window --label clean -o $D/packets.csv --force -q
echo
echo "== 4. cross-validate a Random Forest on the flow statistics (snitch cv, 5 folds)"
./snitch cv $D/flows.csv --folds 5 --trees 100 --per-class --json $D/cv.json --confusion $D/confusion.csv --force -q
echo
echo "== 5. train the forest, predict, inspect (snitch train / predict / inspect)"
./snitch train $D/flows.csv -o $D/model.snm --trees 100 --label-mode clean --force
./snitch predict $D/model.snm $D/flows.csv -o $D/predictions.csv --force
./snitch inspect $D/model.snm --importance --tree 0 --dot $D/tree.dot --force | head -20
echo
echo "== 6. sequence networks (seed 002): cross-validate a CNN-RNN on packet sizes, then"
echo "      train the paper's final ensemble (1/2 forest + 1/6 each CNN-RNN) - short runs"
./snitch cv $D/flows.csv --model cnn_rnn --channel size --folds 3 --epochs 4 --json $D/cv_cnn_rnn.json --force
./snitch train $D/flows.csv --model ensemble:rf+cnn_rnn/size+cnn_rnn/payload+cnn_rnn/iat \
    --trees 100 --epochs 4 --label-mode clean -o $D/ensemble.snm --force -q
./snitch inspect $D/ensemble.snm | grep -E '^(kind|member)'
echo
echo "== 7. classify the capture with the ensemble: one verdict per flow (snitch classify)"
./snitch classify -m $D/ensemble.snm -r $D/sample.pcap -o $D/verdicts.jsonl --force
echo
echo "== 8. the paper's study in one command, then a page to look at (snitch experiment + report):"
echo "      forest B, CNN-RNN K and ensemble A at two thresholds, 3 folds, short training"
./snitch experiment -r $D/sample.pcap -o $D/run --models B,K,A --min-flows 0,240 --folds 3 \
    --epochs 3 --trees 50 --force -q
cat $D/run/table1.txt | sed -n '1,8p'
./snitch report $D/run -o $D/report.html --force
echo
echo "== results"
printf '  %-22s %8s rows  %s\n' "$D/flows.csv" "$(($(wc -l <$D/flows.csv) - 1))" "one row per flow"
printf '  %-22s %8s rows  %s\n' "$D/packets.csv" "$(($(wc -l <$D/packets.csv) - 1))" "one row per packet"
printf '  %-22s %8s rows  %s\n' "$D/predictions.csv" "$(($(wc -l <$D/predictions.csv) - 1))" "label, probability, top 3 per flow"
printf '  %-22s %8s rows  %s\n' "$D/verdicts.jsonl" "$(wc -l <$D/verdicts.jsonl)" "classify: one JSON verdict per flow"
echo "  $D/report.html (open it in a browser), $D/run/results.json, $D/run/table1.txt"
echo "  $D/cv.json, $D/cv_cnn_rnn.json, $D/confusion.csv, $D/model.snm, $D/ensemble.snm, $D/tree.dot"
echo
echo "  flows per label:"
tail -n +2 $D/flows.csv | cut -d, -f10 | sort | uniq -c | sort -rn | sed 's/^/  /'
echo
echo "  first flow (identity and a few features):"
python3 - $D/flows.csv <<'PY' 2>/dev/null || head -2 $D/flows.csv | cut -c1-200
import csv, sys
r = next(csv.DictReader(open(sys.argv[1])))
for k in ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'sni', 'label', 'tls_version', 'pkt_fwd_num',
          'pkt_bwd_num', 'pkt_bwd_mean', 'iat_all_p50', 'size_24', 'dir_24']:
    print('    %-12s %s' % (k, r[k]))
PY
