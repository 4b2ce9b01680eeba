#!/bin/bash
# studies.sh - the two studies behind the README's report screenshot:
# seed 002's experiment (all models A-O, several minimum-flows thresholds)
# on a generated capture of 20 services and on the public captures of
# ../shared/data/public (labels: registered domain), each followed by
# snitch report.  Slow (about half an hour on two cores: short training,
# 3 folds); not part of the tests.
#   scripts/studies.sh [OUT_DIR]   (default study/)
set -eu
cd "$(dirname "$0")/.."
out="${1:-study}"
SHARED="${SHARED:-../shared}"
SNITCH="${SNITCH:-./snitch}"
mkdir -p "$out"
"$SNITCH" synth -o "$out/synth20.pcap" --flows 1200 --classes 20 --seed 7 --force 2>/dev/null
"$SNITCH" experiment -r "$out/synth20.pcap" -o "$out/synth20" --models all \
    --min-flows 0,60 --folds 3 --epochs 4 --trees 100 --seed 1 --force
"$SNITCH" report "$out/synth20" -o "$out/synth20/report.html" --force
if [ -d "$SHARED/data/public/pcap" ]; then
    caps=()
    for f in "$SHARED"/data/public/pcap/*; do
        # one capture list; files with a link type snitch does not read are left out
        "$SNITCH" extract -q -r "$f" -o /dev/null 2>/dev/null && caps+=(-r "$f")
    done
    "$SNITCH" experiment "${caps[@]}" --label domain -o "$out/public" --models all \
        --min-flows 3,5,10 --folds 3 --epochs 10 --trees 200 --seed 1 --force
    "$SNITCH" report "$out/public" -o "$out/public/report.html" --force
fi
